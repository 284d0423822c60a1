//! Set commands (Redis's `t_set.c`).
//!
//! Sets of integers are kept sorted (the `intset` encoding) and reply in
//! ascending order, as in Redis; others are tables (see
//! [`crate::store::types::set`]). SINTER iterates the smallest input, as
//! Redis does, and SUNION/SDIFF build their result as a new set first, so
//! replies come in the same order Redis gives whenever Redis's own order is
//! defined. SPOP is logged as SREM of what it popped.

use std::borrow::Cow;

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::store::Value;
use crate::store::types::Aggregate;
use crate::store::types::set::Set;

use super::Ctx;
use super::args;
use super::keys::{parse_scan_cursor, reply_empty_scan, scan_options};
use super::sampling::{self, sample_distinct};
use super::table::{BeginSearch, Command, FindKeys, KeySpecInfo, flags::*};
use super::typed::{as_type, remove_elements, reply_count, store_result};

fn max_intset(ctx: &Ctx) -> usize {
    ctx.state.config().set_max_intset_entries
}

/// Replies with members as a set (RESP3 `~`, RESP2 array).
fn reply_set<'a>(
    out: &mut crate::resp::ReplyWriter,
    len: usize,
    members: impl Iterator<Item = Cow<'a, [u8]>>,
) {
    out.set(len);
    for m in members {
        out.bulk(&m);
    }
}

/// `SADD key member [member ...]`
fn sadd(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let max = max_intset(ctx);
    let mut db = ctx.db();
    let mut added = 0;
    match as_type::<Set>(db.lookup_write(key))? {
        Some(set) => {
            for member in &args[2..] {
                added += u64::from(set.add(member, max));
            }
            if added > 0 {
                db.signal_modified(key);
            }
        }
        None => {
            let mut set = Set::new_for(&args[2]);
            for member in &args[2..] {
                added += u64::from(set.add(member, max));
            }
            db.set(key, Value::Set(Box::new(set)));
        }
    }
    if added > 0 {
        ctx.dirty += added;
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.out.int(added as i64);
    Ok(())
}

/// `SREM key member [member ...]`: the set goes when its last member does.
fn srem(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    remove_elements(ctx, &args[1], &args[2..], Set::remove, notify::SET, "srem")
}

/// `SMEMBERS key`
fn smembers(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    match as_type::<Set>(db.lookup_read(&args[1]))? {
        Some(set) => reply_set(out, set.len(), set.iter()),
        None => out.set(0),
    }
    Ok(())
}

/// `SISMEMBER key member`
fn sismember(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<Set>(ctx, &args[1], |s| usize::from(s.contains(&args[2])))
}

/// `SMISMEMBER key member [member ...]`
fn smismember(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let set = as_type::<Set>(db.lookup_read(&args[1]))?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        out.int(i64::from(set.as_ref().is_some_and(|s| s.contains(member))));
    }
    Ok(())
}

/// `SCARD key`
fn scard(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<Set>(ctx, &args[1], Set::len)
}

/// `SPOP key [count]`: logged as SREM of the popped members.
fn spop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match args.get(2) {
        Some(arg) => Some(args::int_in_range(
            arg,
            0,
            i64::MAX,
            Some("value is out of range, must be positive"),
        )? as usize),
        None => None,
    };
    let key = &args[1];
    let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
    let rng = &mut ctx.client.rng;
    let Some(set) = as_type::<Set>(db.lookup_write(key))? else {
        match count {
            Some(_) => ctx.out.set(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let popped: Vec<Vec<u8>> = match count {
        Some(0) => {
            ctx.out.set(0);
            return Ok(());
        }
        Some(n) if n >= set.len() => {
            let all: Vec<Vec<u8>> = set.iter().map(Cow::into_owned).collect();
            for m in &all {
                set.remove(m);
            }
            all
        }
        Some(n) => (0..n).filter_map(|_| set.pop(rng)).collect(),
        None => set.pop(rng).into_iter().collect(),
    };
    let emptied = set.is_empty();
    db.signal_modified(key);
    if emptied {
        db.delete(key);
    }
    ctx.dirty += popped.len() as u64;
    ctx.notify(notify::SET, "spop", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    let mut logged = super::argv([b"SREM", key]);
    logged.extend(popped.iter().cloned());
    ctx.propagate_as(vec![logged]);
    match count {
        Some(_) => reply_set(
            ctx.out,
            popped.len(),
            popped.iter().map(|m| Cow::Borrowed(m.as_slice())),
        ),
        None => ctx.out.bulk(&popped[0]),
    }
    Ok(())
}

/// `SRANDMEMBER key [count]`
fn srandmember(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
    let out = &mut *ctx.out;
    let rng = &mut ctx.client.rng;
    let Some(arg) = args.get(2) else {
        match as_type::<Set>(db.lookup_read(&args[1]))?.and_then(|s| s.random(rng)) {
            Some(member) => out.bulk(&member),
            None => out.null(),
        }
        return Ok(());
    };
    let count = sampling::count(arg)?;
    let Some(set) = as_type::<Set>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    let wanted = count.unsigned_abs() as usize;
    let picked: Vec<Cow<[u8]>> = if count < 0 || wanted == 1 {
        (0..wanted).filter_map(|_| set.random(rng)).collect()
    } else if wanted >= set.len() {
        set.iter().collect()
    } else {
        sample_distinct(set.iter().collect(), wanted, rng)
    };
    out.bulk_array(picked.iter().map(|m| m.as_ref()));
    Ok(())
}

/// `SMOVE source destination member`
fn smove(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    let max = max_intset(ctx);
    let mut db = ctx.db();
    if db.lookup_write(src).is_none() {
        // Redis looks the destination up too (it may be expired) before
        // answering for a missing source.
        db.lookup_write(dst);
        ctx.out.int(0);
        return Ok(());
    }
    as_type::<Set>(db.lookup_write(src))?;
    as_type::<Set>(db.lookup_write(dst))?;
    if src == dst {
        let found = as_type::<Set>(db.lookup_write(src))?.is_some_and(|s| s.contains(member));
        ctx.out.int(i64::from(found));
        return Ok(());
    }
    let source = as_type::<Set>(db.lookup_write(src))?.expect("checked above");
    if !source.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    let emptied = source.is_empty();
    if emptied {
        db.delete(src);
    }
    db.signal_modified(src);
    let added = match as_type::<Set>(db.lookup_write(dst))? {
        Some(target) => {
            let added = target.add(member, max);
            if added {
                db.signal_modified(dst);
            }
            added
        }
        None => {
            let mut target = Set::new_for(member);
            target.add(member, max);
            db.set(dst, Value::Set(Box::new(target)));
            true
        }
    };
    ctx.dirty += 1 + u64::from(added);
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    if added {
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

/// What a set operation computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

/// Reads `keys` as sets (missing keys are empty; another type fails with
/// WRONGTYPE) and computes `op` into a new set, built as Redis builds it
/// (an intset while the members allow). With `card_only`, an intersection
/// is only counted, stopping at the limit (SINTERCARD; 0 for none).
fn compute(
    ctx: &mut Ctx,
    keys: &[Vec<u8>],
    op: SetOp,
    card_only: Option<usize>,
) -> CommandResult<(Set, usize)> {
    let max = max_intset(ctx);
    let mut db = ctx.db();
    // Lookups first (expiry, hit/miss counts, type checks), then the sets
    // are read in place.
    for key in keys {
        as_type::<Set>(db.lookup_read(key))?;
    }
    let inputs: Vec<Option<&Set>> = keys
        .iter()
        .map(|key| db.peek(key).and_then(|e| Set::of(&e.value)))
        .collect();
    let mut result = Set::new_intset();
    let mut count = 0;
    match op {
        SetOp::Inter => {
            if inputs.iter().any(Option::is_none) {
                return Ok((result, 0));
            }
            let mut sets: Vec<&Set> = inputs.iter().flatten().copied().collect();
            // The smallest first, as Redis orders them (a stable sort keeps
            // equal sizes in argument order).
            sets.sort_by_key(|s| s.len());
            for member in sets[0].iter() {
                if sets[1..].iter().all(|s| s.contains(&member)) {
                    count += 1;
                    match card_only {
                        None => {
                            result.add(&member, max);
                        }
                        Some(limit) if limit > 0 && count >= limit => break,
                        Some(_) => {}
                    }
                }
            }
        }
        SetOp::Union => {
            for set in inputs.iter().flatten() {
                for member in set.iter() {
                    result.add(&member, max);
                }
            }
            count = result.len();
        }
        SetOp::Diff => {
            if let Some(Some(first)) = inputs.first() {
                for member in first.iter() {
                    if !inputs[1..].iter().flatten().any(|s| s.contains(&member)) {
                        result.add(&member, max);
                    }
                }
            }
            count = result.len();
        }
    }
    Ok((result, count))
}

fn reply_op(ctx: &mut Ctx, keys: &[Vec<u8>], op: SetOp) -> CommandResult {
    let (result, _) = compute(ctx, keys, op, None)?;
    reply_set(ctx.out, result.len(), result.iter());
    Ok(())
}

fn store_op(ctx: &mut Ctx, dst: &[u8], keys: &[Vec<u8>], op: SetOp) -> CommandResult {
    let (result, _) = compute(ctx, keys, op, None)?;
    let len = result.len();
    let event = match op {
        SetOp::Inter => "sinterstore",
        SetOp::Union => "sunionstore",
        SetOp::Diff => "sdiffstore",
    };
    store_result(ctx, dst, result, len, notify::SET, event)
}

/// `SINTER key [key ...]`
fn sinter(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_op(ctx, &args[1..], SetOp::Inter)
}

/// `SUNION key [key ...]`
fn sunion(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_op(ctx, &args[1..], SetOp::Union)
}

/// `SDIFF key [key ...]`
fn sdiff(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_op(ctx, &args[1..], SetOp::Diff)
}

/// `SINTERSTORE destination key [key ...]`
fn sinterstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    store_op(ctx, &args[1], &args[2..], SetOp::Inter)
}

/// `SUNIONSTORE destination key [key ...]`
fn sunionstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    store_op(ctx, &args[1], &args[2..], SetOp::Union)
}

/// `SDIFFSTORE destination key [key ...]`
fn sdiffstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    store_op(ctx, &args[1], &args[2..], SetOp::Diff)
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
fn sintercard(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let numkeys = args::int_in_range(
        &args[1],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )?;
    if numkeys as u64 > (args.len() - 2) as u64 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut c = args::Cursor::new(args, 2 + numkeys);
    while let Some(option) = c.next() {
        if args::is_option(option, "limit") {
            limit = args::int_in_range(
                c.next_bytes()?,
                0,
                i64::MAX,
                Some("LIMIT can't be negative"),
            )? as usize;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let (_, count) = compute(ctx, &args[2..2 + numkeys], SetOp::Inter, Some(limit))?;
    ctx.out.int(count as i64);
    Ok(())
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
fn sscan(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let cursor = parse_scan_cursor(&args[2])?;
    let (mut db, out) = ctx.db_and_out();
    let Some(set) = as_type::<Set>(db.lookup_read(&args[1]))? else {
        reply_empty_scan(out);
        return Ok(());
    };
    let options = scan_options(args, 3, false)?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = set.scan(cursor, options.count, |member| {
        if options.matches(member) {
            found.push(member.to_vec());
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.bulk_array(found.iter().map(Vec::as_slice));
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("sadd", -3, sadd).syntax("key member ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    Command::new("srem", -3, srem).syntax("key member ...").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.", "O(N) where N is the number of members to be removed."),
    Command::new("smembers", 2, smembers).syntax("key").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "Returns all members of a set.", "O(N) where N is the set cardinality."),
    Command::new("sismember", 3, sismember).syntax("key member").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("set", "1.0.0", "Determines whether a member belongs to a set.", "O(1)"),
    Command::new("smismember", -3, smismember).syntax("key member ...").flags(READONLY | FAST).keys(1, 1, 1).doc("set", "6.2.0", "Determines whether multiple members belong to a set.", "O(N) where N is the number of elements being checked for membership"),
    Command::new("scard", 2, scard).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("set", "1.0.0", "Returns the number of members in a set.", "O(1)"),
    Command::new("spop", -2, spop).syntax("key [count:integer]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).tips(&["nondeterministic_output"]).doc("set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."),
    Command::new("srandmember", -2, srandmember).syntax("key [count:integer]").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("set", "1.0.0", "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."),
    Command::new("smove", 4, smove).syntax("source:key destination:key member").flags(WRITE | FAST).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["RW", "insert"], 2)]).doc("set", "1.0.0", "Moves a member from one set to another.", "O(1)"),
    Command::new("sinter", -2, sinter).syntax("key ...").flags(READONLY).keys(1, -1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "Returns the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    Command::new("sintercard", -3, sintercard).syntax("numkeys:integer key ... [LIMIT limit:integer]").flags(READONLY).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RO", "access"], 1)]).doc("set", "7.0.0", "Returns the number of members of the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    Command::new("sinterstore", -3, sinterstore).syntax("destination:key key ...").flags(WRITE | DENYOOM).keys(1, -1, 1).key_specs(&[KeySpecInfo::key(&["RW", "update"], 1), KeySpecInfo::new(&["RO", "access"], BeginSearch::Index(2), FindKeys::Range(-1, 1, 0))]).doc("set", "1.0.0", "Stores the intersect of multiple sets in a key.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."),
    Command::new("sunion", -2, sunion).syntax("key ...").flags(READONLY).keys(1, -1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "Returns the union of multiple sets.", "O(N) where N is the total number of elements in all given sets."),
    Command::new("sunionstore", -3, sunionstore).syntax("destination:key key ...").flags(WRITE | DENYOOM).keys(1, -1, 1).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::new(&["RO", "access"], BeginSearch::Index(2), FindKeys::Range(-1, 1, 0))]).doc("set", "1.0.0", "Stores the union of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets."),
    Command::new("sdiff", -2, sdiff).syntax("key ...").flags(READONLY).keys(1, -1, 1).tips(&["nondeterministic_output_order"]).doc("set", "1.0.0", "Returns the difference of multiple sets.", "O(N) where N is the total number of elements in all given sets."),
    Command::new("sdiffstore", -3, sdiffstore).syntax("destination:key key ...").flags(WRITE | DENYOOM).keys(1, -1, 1).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::new(&["RO", "access"], BeginSearch::Index(2), FindKeys::Range(-1, 1, 0))]).doc("set", "1.0.0", "Stores the difference of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets."),
    Command::new("sscan", -3, sscan).syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("set", "2.8.0", "Iterates over members of a set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
];
