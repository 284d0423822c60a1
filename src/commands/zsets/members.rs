//! Commands on single members: adding them (ZADD, ZINCRBY), reading them
//! (ZSCORE, ZMSCORE, ZCARD, ZRANK, ZREVRANK, ZRANDMEMBER), removing them
//! (ZREM) and iterating them (ZSCAN).

use crate::channels::notify::{self};
use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::store::Value;
use crate::store::types::zset::{AddFlags, AddOutcome, ZSet};

use super::{limits, reply_members};
use crate::commands::Ctx;
use crate::commands::args;
use crate::commands::keys::{parse_scan_cursor, reply_empty_scan, scan_options};
use crate::commands::sampling;
use crate::commands::typed::{as_type, remove_elements, reply_count};

// ---- ZADD ZINCRBY ------------------------------------------------------------

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
pub(super) fn zadd(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zadd_generic(ctx, args, false)
}

/// `ZINCRBY key increment member`: ZADD's code with INCR, as in Redis (so
/// an increment spelled like a ZADD option shifts the arguments and fails
/// as a syntax error there too).
pub(super) fn zincrby(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx, args: &[Vec<u8>], incr_command: bool) -> CommandResult {
    let mut flags = AddFlags {
        incr: incr_command,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut at = 2;
    while at < args.len() {
        let opt = &args[at];
        if args::is_option(opt, "nx") {
            flags.nx = true;
        } else if args::is_option(opt, "xx") {
            flags.xx = true;
        } else if args::is_option(opt, "ch") {
            ch = true;
        } else if args::is_option(opt, "incr") {
            flags.incr = true;
        } else if args::is_option(opt, "gt") {
            flags.gt = true;
        } else if args::is_option(opt, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let pairs = &args[at..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    if flags.nx && flags.xx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs.len() > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let scores = pairs
        .chunks(2)
        .map(|pair| args::float(&pair[0]))
        .collect::<CommandResult<Vec<f64>>>()?;
    let limits = limits(ctx);
    let key = &args[1];
    let mut db = ctx.db();
    let mut created = None;
    let zset = match as_type::<ZSet>(db.lookup_write(key))? {
        Some(z) => z,
        None if flags.xx => {
            reply_zadd(ctx.out, flags.incr, ch, 0, 0, None);
            return Ok(());
        }
        None => created.insert(ZSet::new_for(pairs[1].len(), limits)),
    };
    let (mut added, mut updated, mut last_score) = (0u64, 0u64, None);
    let mut failure = None;
    for (pair, &score) in pairs.chunks(2).zip(&scores) {
        match zset.add(&pair[1], score, flags, limits) {
            AddOutcome::Added(s) => {
                added += 1;
                last_score = Some(s);
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                last_score = Some(s);
            }
            AddOutcome::Unchanged(s) => last_score = Some(s),
            AddOutcome::Skipped => {}
            AddOutcome::NotANumber => {
                failure = Some(CommandError::err("resulting score is not a number (NaN)"));
                break;
            }
        }
    }
    match created {
        Some(z) => db.set(key, Value::ZSet(Box::new(z))),
        None if added + updated > 0 => db.signal_modified(key),
        None => {}
    }
    ctx.dirty += added + updated;
    if added + updated > 0 {
        let event = if flags.incr { "zincr" } else { "zadd" };
        ctx.notify(notify::ZSET, event, key);
    }
    if let Some(err) = failure {
        return Err(err);
    }
    reply_zadd(ctx.out, flags.incr, ch, added, updated, last_score);
    Ok(())
}

fn reply_zadd(
    out: &mut ReplyWriter,
    incr: bool,
    ch: bool,
    added: u64,
    updated: u64,
    score: Option<f64>,
) {
    if incr {
        match score {
            Some(s) => out.double(s),
            None => out.null(),
        }
    } else {
        out.int((if ch { added + updated } else { added }) as i64);
    }
}

// ---- Reads -------------------------------------------------------------------

/// `ZSCORE key member`
pub(super) fn zscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    match as_type::<ZSet>(db.lookup_read(&args[1]))?.and_then(|z| z.score(&args[2])) {
        Some(score) => out.double(score),
        None => out.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member ...]`: a missing key acts as an empty set.
pub(super) fn zmscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let zset = as_type::<ZSet>(db.lookup_read(&args[1]))?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.as_ref().and_then(|z| z.score(member)) {
            Some(score) => out.double(score),
            None => out.null(),
        }
    }
    Ok(())
}

/// `ZCARD key`
pub(super) fn zcard(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<ZSet>(ctx, &args[1], ZSet::len)
}

/// `ZRANK key member`
pub(super) fn zrank(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    rank_generic(ctx, args, false)
}

/// `ZREVRANK key member`
pub(super) fn zrevrank(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx, args: &[Vec<u8>], reverse: bool) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        out.null();
        return Ok(());
    };
    match zset.rank(&args[2]) {
        Some(rank) if reverse => out.int((zset.len() - 1 - rank) as i64),
        Some(rank) => out.int(rank as i64),
        None => out.null(),
    }
    Ok(())
}

// ---- ZREM --------------------------------------------------------------------

/// `ZREM key member [member ...]`: the set goes when its last member does.
pub(super) fn zrem(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let remove = |z: &mut ZSet, member: &[u8]| z.remove(member).is_some();
    remove_elements(ctx, &args[1], &args[2..], remove, notify::ZSET, "zrem")
}

// ---- ZRANDMEMBER -------------------------------------------------------------

/// `ZRANDMEMBER key [count [WITHSCORES]]`
pub(super) fn zrandmember(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() == 2 {
        let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
        let zset = as_type::<ZSet>(db.lookup_read(&args[1]))?;
        let out = &mut *ctx.out;
        match zset.and_then(|z| z.random(&mut ctx.client.rng)) {
            Some((member, _)) => out.bulk(member),
            None => out.null(),
        }
        return Ok(());
    }
    let (count, withscores) = sampling::count_with(args, "withscores")?;
    let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
    let out = &mut *ctx.out;
    let rng = &mut ctx.client.rng;
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    let len = zset.len();
    let wanted = count.unsigned_abs() as usize;
    if wanted == 0 {
        out.array(0);
        return Ok(());
    }
    let ranks: Vec<usize> = if count < 0 {
        // Repeats allowed: independent draws.
        (0..wanted)
            .map(|_| rng.below(len as u64) as usize)
            .collect()
    } else if wanted >= len {
        // The whole set, in order.
        (0..len).collect()
    } else {
        // Distinct ranks (Floyd's sampling), then a random order.
        let mut chosen = std::collections::HashSet::with_capacity(wanted);
        let mut picked = Vec::with_capacity(wanted);
        for j in len - wanted..len {
            let t = rng.below(j as u64 + 1) as usize;
            let r = if chosen.insert(t) { t } else { j };
            chosen.insert(r);
            picked.push(r);
        }
        for i in (1..picked.len()).rev() {
            picked.swap(i, rng.below(i as u64 + 1) as usize);
        }
        picked
    };
    let items: Vec<(&[u8], f64)> = ranks.iter().filter_map(|&r| zset.get(r)).collect();
    reply_members(out, withscores, items.len(), items.into_iter());
    Ok(())
}

// ---- ZSCAN -------------------------------------------------------------------

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: members and scores
/// (scores as strings, in RESP3 too).
pub(super) fn zscan(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let cursor = parse_scan_cursor(&args[2])?;
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        reply_empty_scan(out);
        return Ok(());
    };
    let options = scan_options(args, 3, false)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = zset.scan(cursor, options.count, |member, score| {
        if options.matches(member) {
            found.push((member.to_vec(), score));
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (member, score) in found {
        out.bulk(&member);
        out.bulk(crate::num::format_g17(score).as_bytes());
    }
    Ok(())
}
