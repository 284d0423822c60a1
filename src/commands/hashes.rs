//! Hash commands (Redis's `t_hash.c`).
//!
//! Small hashes keep their fields in insertion order (the `listpack`
//! encoding), which is the order HGETALL, HKEYS and HVALS reply in, as in
//! Redis; large ones are tables (see [`crate::store::types::hash`]).
//! HINCRBYFLOAT computes in `long double` like INCRBYFLOAT and is logged as
//! HSET of the result, so a replay never redoes the float formatting.

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::num::ldouble::{self, LongDouble};
use crate::store::Value;
use crate::store::types::Aggregate;
use crate::store::types::hash::{Hash, HashLimits};

use super::Ctx;
use super::args;
use super::keys::{parse_scan_cursor, reply_empty_scan, scan_options};
use super::sampling;
use super::table::{Command, flags::*};
use super::typed::{as_type, remove_elements, reply_count};

/// The listpack limits from the configuration.
fn limits(ctx: &Ctx) -> HashLimits {
    ctx.state.config().hash_limits()
}

/// Sets `pairs` (field, value, field, value...) in the hash at `key`,
/// creating it; returns how many fields are new.
fn set_pairs(ctx: &mut Ctx, key: &[u8], pairs: &[Vec<u8>]) -> CommandResult<u64> {
    let limits = limits(ctx);
    let mut db = ctx.db();
    let mut created = 0;
    match as_type::<Hash>(db.lookup_write(key))? {
        Some(hash) => {
            for pair in pairs.chunks_exact(2) {
                created += u64::from(hash.set(&pair[0], &pair[1], limits));
            }
            db.signal_modified(key);
        }
        None => {
            let mut hash = Hash::new();
            for pair in pairs.chunks_exact(2) {
                created += u64::from(hash.set(&pair[0], &pair[1], limits));
            }
            db.set(key, Value::Hash(Box::new(hash)));
        }
    }
    ctx.dirty += (pairs.len() / 2) as u64;
    ctx.notify(notify::HASH, "hset", key);
    Ok(created)
}

/// `HSET key field value [field value ...]`
fn hset(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(error::wrong_arity("hset"));
    }
    let created = set_pairs(ctx, &args[1], &args[2..])?;
    ctx.out.int(created as i64);
    Ok(())
}

/// `HMSET key field value [field value ...]`
fn hmset(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(error::wrong_arity("hmset"));
    }
    set_pairs(ctx, &args[1], &args[2..])?;
    ctx.out.ok();
    Ok(())
}

/// `HSETNX key field value`
fn hsetnx(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let exists =
        as_type::<Hash>(ctx.db().lookup_write(&args[1]))?.is_some_and(|h| h.contains(&args[2]));
    if exists {
        ctx.out.int(0);
        return Ok(());
    }
    set_pairs(ctx, &args[1], &args[2..4])?;
    ctx.out.int(1);
    Ok(())
}

/// `HGET key field`
fn hget(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    match as_type::<Hash>(db.lookup_read(&args[1]))?.and_then(|h| h.get(&args[2])) {
        Some(value) => out.bulk(value),
        None => out.null(),
    }
    Ok(())
}

/// `HMGET key field [field ...]`
fn hmget(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let hash = as_type::<Hash>(db.lookup_read(&args[1]))?;
    out.array(args.len() - 2);
    for field in &args[2..] {
        match hash.as_ref().and_then(|h| h.get(field)) {
            Some(value) => out.bulk(value),
            None => out.null(),
        }
    }
    Ok(())
}

/// `HGETALL key`: a map in RESP3, a flat array in RESP2.
fn hgetall(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_all(ctx, &args[1], Parts::Both)
}

/// `HKEYS key`
fn hkeys(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_all(ctx, &args[1], Parts::Fields)
}

/// `HVALS key`
fn hvals(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_all(ctx, &args[1], Parts::Values)
}

/// What HGETALL, HKEYS and HVALS reply with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Fields,
    Values,
    Both,
}

/// Every field and/or value of the hash at `key` (Redis's
/// `genericHgetallCommand`): pairs as a map, one part as an array; empty
/// for a missing key.
fn reply_all(ctx: &mut Ctx, key: &[u8], parts: Parts) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let hash = as_type::<Hash>(db.lookup_read(key))?;
    let len = hash.as_ref().map_or(0, |h| h.len());
    if parts == Parts::Both {
        out.map(len);
    } else {
        out.array(len);
    }
    for (field, value) in hash.iter().flat_map(|h| h.iter()) {
        if parts != Parts::Values {
            out.bulk(field);
        }
        if parts != Parts::Fields {
            out.bulk(value);
        }
    }
    Ok(())
}

/// `HDEL key field [field ...]`: the hash goes when its last field does.
fn hdel(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    remove_elements(
        ctx,
        &args[1],
        &args[2..],
        Hash::remove,
        notify::HASH,
        "hdel",
    )
}

/// `HLEN key`
fn hlen(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<Hash>(ctx, &args[1], Hash::len)
}

/// `HEXISTS key field`
fn hexists(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<Hash>(ctx, &args[1], |h| usize::from(h.contains(&args[2])))
}

/// `HSTRLEN key field`
fn hstrlen(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<Hash>(ctx, &args[1], |h| h.get(&args[2]).map_or(0, <[u8]>::len))
}

/// `HINCRBY key field increment`
fn hincrby(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, field) = (&args[1], &args[2]);
    let incr = args::int(&args[3])?;
    let current = {
        let mut db = ctx.db();
        match as_type::<Hash>(db.lookup_write(key))?.and_then(|h| h.get(field)) {
            Some(v) => crate::num::parse_i64(v)
                .ok_or_else(|| CommandError::err("hash value is not an integer"))?,
            None => 0,
        }
    };
    let value = current.checked_add(incr).ok_or(error::OVERFLOW)?;
    let text = value.to_string();
    set_field(ctx, key, field, text.as_bytes(), "hincrby");
    ctx.out.int(value);
    Ok(())
}

/// `HINCRBYFLOAT key field increment`
fn hincrbyfloat(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, field) = (&args[1], &args[2]);
    let incr = LongDouble::parse(&args[3]).ok_or(error::NOT_FLOAT)?;
    if !incr.is_finite() {
        return Err(CommandError::err("value is NaN or Infinity"));
    }
    let current = {
        let mut db = ctx.db();
        match as_type::<Hash>(db.lookup_write(key))?.and_then(|h| h.get(field)) {
            Some(v) => LongDouble::parse(v)
                .ok_or_else(|| CommandError::err("hash value is not a float"))?,
            None => LongDouble::ZERO,
        }
    };
    let sum = ldouble::add_and_format(current, incr)?;
    set_field(ctx, key, field, &sum, "hincrbyfloat");
    // The float formatting must not be redone on replay: log the result.
    ctx.propagate_as(vec![super::argv([b"HSET", key, field, &sum])]);
    ctx.out.bulk(&sum);
    Ok(())
}

/// Sets one field (creating the hash), counts it and publishes `event`.
fn set_field(ctx: &mut Ctx, key: &[u8], field: &[u8], value: &[u8], event: &'static str) {
    let limits = limits(ctx);
    let mut db = ctx.db();
    match db
        .lookup_write(key)
        .and_then(|e| Hash::of_mut(&mut e.value))
    {
        Some(hash) => {
            hash.set(field, value, limits);
            db.signal_modified(key);
        }
        None => {
            let mut hash = Hash::new();
            hash.set(field, value, limits);
            db.set(key, Value::Hash(Box::new(hash)));
        }
    }
    ctx.dirty += 1;
    ctx.notify(notify::HASH, event, key);
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
fn hscan(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let cursor = parse_scan_cursor(&args[2])?;
    let (mut db, out) = ctx.db_and_out();
    let Some(hash) = as_type::<Hash>(db.lookup_read(&args[1]))? else {
        reply_empty_scan(out);
        return Ok(());
    };
    let options = scan_options(args, 3, false)?;
    let mut found: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let next = hash.scan(cursor, options.count, |field, value| {
        if options.matches(field) {
            found.push((field.to_vec(), value.to_vec()));
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (field, value) in found {
        out.bulk(&field);
        out.bulk(&value);
    }
    Ok(())
}

/// `HRANDFIELD key [count [WITHVALUES]]`
fn hrandfield(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() == 2 {
        let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
        let hash = as_type::<Hash>(db.lookup_read(&args[1]))?;
        match hash.and_then(|h| h.random(&mut ctx.client.rng)) {
            Some((field, _)) => ctx.out.bulk(field),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let (count, withvalues) = sampling::count_with(args, "withvalues")?;
    let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
    let out = &mut *ctx.out;
    let rng = &mut ctx.client.rng;
    let Some(hash) = as_type::<Hash>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    let wanted = count.unsigned_abs() as usize;
    if wanted == 0 {
        out.array(0);
        return Ok(());
    }
    let picked: Vec<(&[u8], &[u8])> = if count < 0 {
        // Repeats allowed: independent draws.
        (0..wanted).filter_map(|_| hash.random(rng)).collect()
    } else if wanted >= hash.len() {
        hash.pairs()
    } else {
        sampling::sample_distinct(hash.pairs(), wanted, rng)
    };
    reply_pairs(out, withvalues, &picked);
    Ok(())
}

/// Fields, or with values as pairs (nested in RESP3, flat in RESP2), as
/// HRANDFIELD replies.
fn reply_pairs(out: &mut crate::resp::ReplyWriter, withvalues: bool, pairs: &[(&[u8], &[u8])]) {
    if !withvalues {
        out.bulk_array(pairs.iter().map(|(f, _)| *f));
        return;
    }
    if out.is_resp3() {
        out.array(pairs.len());
        for (f, v) in pairs {
            out.array(2);
            out.bulk(f);
            out.bulk(v);
        }
    } else {
        out.array(pairs.len() * 2);
        for (f, v) in pairs {
            out.bulk(f);
            out.bulk(v);
        }
    }
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("hset", -4, hset).syntax("key (field value) ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("hash", "2.0.0", "Creates or modifies the value of a field in a hash.", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."),
    Command::new("hsetnx", 4, hsetnx).syntax("key field value").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)"),
    Command::new("hmset", -4, hmset).syntax("key (field value) ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("hash", "2.0.0", "Sets the values of multiple fields.", "O(N) where N is the number of fields being set."),
    Command::new("hget", 3, hget).syntax("key field").flags(READONLY | FAST).keys(1, 1, 1).doc("hash", "2.0.0", "Returns the value of a field in a hash.", "O(1)"),
    Command::new("hmget", -3, hmget).syntax("key field ...").flags(READONLY | FAST).keys(1, 1, 1).doc("hash", "2.0.0", "Returns the values of all fields in a hash.", "O(N) where N is the number of fields being requested."),
    Command::new("hgetall", 2, hgetall).syntax("key").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("hash", "2.0.0", "Returns all fields and values in a hash.", "O(N) where N is the size of the hash."),
    Command::new("hkeys", 2, hkeys).syntax("key").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("hash", "2.0.0", "Returns all fields in a hash.", "O(N) where N is the size of the hash."),
    Command::new("hvals", 2, hvals).syntax("key").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output_order"]).doc("hash", "2.0.0", "Returns all values in a hash.", "O(N) where N is the size of the hash."),
    Command::new("hdel", -3, hdel).syntax("key field ...").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "O(N) where N is the number of fields to be removed."),
    Command::new("hlen", 2, hlen).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("hash", "2.0.0", "Returns the number of fields in a hash.", "O(1)"),
    Command::new("hexists", 3, hexists).syntax("key field").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("hash", "2.0.0", "Determines whether a field exists in a hash.", "O(1)"),
    Command::new("hstrlen", 3, hstrlen).syntax("key field").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("hash", "3.2.0", "Returns the length of the value of a field.", "O(1)"),
    Command::new("hincrby", 4, hincrby).syntax("key field increment:integer").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
    Command::new("hincrbyfloat", 4, hincrbyfloat).syntax("key field increment:double").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
    Command::new("hscan", -3, hscan).syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("hash", "2.8.0", "Iterates over fields and values of a hash.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
    Command::new("hrandfield", -2, hrandfield).syntax("key [count:integer [WITHVALUES]]").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("hash", "6.2.0", "Returns one or more random fields from a hash.", "O(N) where N is the number of fields returned"),
];
