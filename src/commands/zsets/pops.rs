//! Popping the lowest or highest members: ZPOPMIN, ZPOPMAX, ZMPOP, their
//! blocking forms BZPOPMIN, BZPOPMAX, BZMPOP, and serving a client blocked
//! on a sorted set once a member arrives ([`serve_blocked`]).

use crate::channels::notify::Events;
use crate::error::{self, CommandResult};
use crate::resp::ReplyWriter;
use crate::store::Db;
use crate::store::types::zset::ZSet;
use crate::store::waiting::BlockedOp;

use super::note_removal;
use crate::commands::Ctx;
use crate::commands::args;
use crate::commands::blocking::{self, Serving};
use crate::commands::typed::{as_type, delete_if_empty};

fn pop_event(max: bool) -> &'static str {
    if max { "zpopmax" } else { "zpopmin" }
}

/// How a pop replies (Redis's `genericZpopCommand` flags).
#[derive(Debug, Clone, Copy)]
struct PopShape {
    /// Name the key (BZPOP*, ZMPOP).
    with_key: bool,
    /// Pairs as nested arrays (RESP3 counts, ZMPOP).
    nested: bool,
}

/// Pops up to `count` members from `key` (known to hold a non-empty set)
/// and replies in `shape`. Returns how many were popped.
fn pop_reply(
    zset: &mut ZSet,
    key: &[u8],
    max: bool,
    count: usize,
    shape: PopShape,
    out: &mut ReplyWriter,
) -> usize {
    let n = count.min(zset.len());
    match (shape.with_key, shape.nested) {
        (false, false) => out.array(2 * n),
        (false, true) => out.array(n),
        (true, false) => {
            out.array(2 * n + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        let Some((member, score)) = zset.pop(max) else {
            break;
        };
        if shape.nested {
            out.array(2);
        }
        out.bulk(member.as_bytes());
        out.double(score);
    }
    n
}

/// `ZPOPMIN key [count]`
pub(super) fn zpopmin(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zpop(ctx, args, false)
}

/// `ZPOPMAX key [count]`
pub(super) fn zpopmax(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zpop(ctx, args, true)
}

fn zpop(ctx: &mut Ctx, args: &[Vec<u8>], max: bool) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match args.get(2) {
        Some(arg) => Some(args::non_negative(arg, None)? as usize),
        None => None,
    };
    let shape = PopShape {
        with_key: false,
        nested: ctx.out.is_resp3() && count.is_some(),
    };
    let key = &args[1];
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_write(key))? else {
        out.array(0);
        return Ok(());
    };
    if count == Some(0) {
        out.array(0);
        return Ok(());
    }
    let popped = pop_reply(zset, key, max, count.unwrap_or(1), shape, out);
    note_pop(ctx, key, max, popped);
    Ok(())
}

/// After `popped` members left the set at `key`: watchers are told, the
/// key goes if it was emptied, and the pops are counted and notified.
fn note_pop(ctx: &mut Ctx, key: &[u8], max: bool, popped: usize) {
    let mut db = ctx.db();
    db.signal_modified(key);
    let deleted = delete_if_empty::<ZSet>(&mut db, key);
    ctx.dirty += popped as u64;
    let mut events = Events::new();
    note_removal(&mut events, key, pop_event(max), deleted);
    ctx.notify_all(events);
}

/// Pops from the first existing sorted set among `keys` (a key of another
/// type met first is WRONGTYPE). `Ok(false)` if none exists.
/// It is logged as the plain ZPOPMIN/ZPOPMAX it was, with the number popped
/// when `shape` is nested (ZMPOP, BZMPOP), as Redis propagates them.
fn pop_first(
    ctx: &mut Ctx,
    keys: &[Vec<u8>],
    max: bool,
    count: usize,
    shape: PopShape,
) -> CommandResult<bool> {
    let (mut db, out) = ctx.db_and_out();
    for key in keys {
        let Some(zset) = as_type::<ZSet>(db.lookup_write(key))? else {
            continue;
        };
        let popped = pop_reply(zset, key, max, count, shape, out);
        note_pop(ctx, key, max, popped);
        let logged = pop_command(key, max, shape.nested.then_some(popped));
        ctx.propagate_as(vec![logged]);
        return Ok(true);
    }
    Ok(false)
}

/// `MIN` or `MAX` (true for MAX), else a syntax error.
fn parse_min_max(arg: &[u8]) -> CommandResult<bool> {
    args::either(arg, "min", "max")
}

/// `ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]`
pub(super) fn zmpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (keys, max, count) = args::mpop(args, 1, parse_min_max)?;
    let shape = PopShape {
        with_key: true,
        nested: true,
    };
    if !pop_first(ctx, keys, max, count, shape)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// `BZPOPMIN key [key ...] timeout`
pub(super) fn bzpopmin(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    blocking_pop(ctx, args, false)
}

/// `BZPOPMAX key [key ...] timeout`
pub(super) fn bzpopmax(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    blocking_pop(ctx, args, true)
}

fn blocking_pop(ctx: &mut Ctx, args: &[Vec<u8>], max: bool) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let shape = PopShape {
        with_key: true,
        nested: false,
    };
    if pop_first(ctx, keys, max, 1, shape)? {
        return Ok(());
    }
    blocking::block_or_null(ctx, keys, timeout, BlockedOp::ZSetPop { max })
}

/// `BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count]`
pub(super) fn bzmpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (keys, max, count) = args::mpop(args, 2, parse_min_max)?;
    let timeout = blocking::parse_timeout(&args[1])?;
    let shape = PopShape {
        with_key: true,
        nested: true,
    };
    if pop_first(ctx, keys, max, count, shape)? {
        return Ok(());
    }
    blocking::block_or_null(ctx, keys, timeout, BlockedOp::ZSetMultiPop { max, count })
}

/// `ZPOPMIN key [n]` (or ZPOPMAX), as the blocking and multi-key pops are
/// logged.
fn pop_command(key: &[u8], max: bool, count: Option<usize>) -> Vec<Vec<u8>> {
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    match count {
        Some(n) => crate::commands::argv([name, key, n.to_string().as_bytes()]),
        None => crate::commands::argv([name, key]),
    }
}

/// Serves a client blocked on the sorted set at `key` (Redis's
/// `serveClientsBlockedOnSortedSetKey`): pops as `op` asks into
/// `serving`. Returns the changes to count as dirty.
pub fn serve_blocked(db: &mut Db, key: &[u8], op: &BlockedOp, serving: &mut Serving) -> u64 {
    let Serving { out, log, events } = serving;
    let (max, count, shape) = match *op {
        BlockedOp::ZSetPop { max } => (
            max,
            1,
            PopShape {
                with_key: true,
                nested: false,
            },
        ),
        BlockedOp::ZSetMultiPop { max, count } => (
            max,
            count,
            PopShape {
                with_key: true,
                nested: true,
            },
        ),
        _ => return 0,
    };
    let popped = match as_type::<ZSet>(db.lookup_write(key)) {
        Ok(Some(zset)) => pop_reply(zset, key, max, count, shape, out),
        _ => return 0,
    };
    log.push(pop_command(key, max, shape.nested.then_some(popped)));
    db.signal_modified(key);
    let deleted = delete_if_empty::<ZSet>(db, key);
    note_removal(events, key, pop_event(max), deleted);
    popped as u64
}
