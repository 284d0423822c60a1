//! List commands (Redis's `t_list.c`), blocking ones included.
//!
//! A list key never holds an empty list: the command that removes the last
//! element deletes the key, and a missing key reads as an empty list.
//! Indexes follow Redis: negative ones count from the tail (-1 is the last
//! element), and ranges are clamped to the list.
//!
//! The blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) act at once
//! when they can; otherwise they queue the client on their keys with
//! [`blocking::block`] and the connection waits. A command that later
//! creates one of those keys serves the waiters through [`serve_blocked`],
//! in its own thread, after it completes (see [`super::blocking`]).

use crate::channels::notify::{self, Events};
use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::store::types::list::{End, List};
use crate::store::waiting::BlockedOp;
use crate::store::{Db, Key, Value};

use super::Ctx;
use super::args;
use super::blocking::{self, Serving, Timeout};
use super::table::{Command, KeySpecInfo, flags::*};
use super::typed::{as_type, delete_if_empty, reply_count};

// ---- Ends, positions, events -------------------------------------------------

/// `LEFT` or `RIGHT`, else a syntax error.
fn parse_end(arg: &[u8]) -> CommandResult<End> {
    if args::is_option(arg, "left") {
        Ok(End::Left)
    } else if args::is_option(arg, "right") {
        Ok(End::Right)
    } else {
        Err(error::SYNTAX)
    }
}

/// A Redis index (negative counts from the tail) as a position, if inside
/// a list of `len` elements.
fn position(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// The event names of pushes and pops at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// After elements were popped from `key`: the pop event, then `del` if the
/// list was emptied and deleted.
fn note_pop(events: &mut Events, key: &[u8], end: End, deleted: bool) {
    notify::note(events, notify::LIST, pop_event(end), key);
    if deleted {
        notify::note(events, notify::GENERIC, "del", key);
    }
}

// ---- Pushes ------------------------------------------------------------------

/// `LPUSH key element [element ...]`
fn lpush(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    push_generic(ctx, args, End::Left, false)
}

/// `RPUSH key element [element ...]`
fn rpush(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    push_generic(ctx, args, End::Right, false)
}

/// `LPUSHX key element [element ...]`
fn lpushx(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    push_generic(ctx, args, End::Left, true)
}

/// `RPUSHX key element [element ...]`
fn rpushx(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    push_generic(ctx, args, End::Right, true)
}

/// The push family: creates the list unless `only_existing`, pushes each
/// element in turn, replies with the new length.
fn push_generic(ctx: &mut Ctx, args: &[Vec<u8>], end: End, only_existing: bool) -> CommandResult {
    let key = &args[1];
    let elements = &args[2..];
    let mut db = ctx.db();
    let len = match as_type::<List>(db.lookup_write(key))? {
        Some(list) => {
            for element in elements {
                list.push(end, element);
            }
            let len = list.len();
            db.signal_modified(key);
            len
        }
        None if only_existing => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut list = List::new();
            for element in elements {
                list.push(end, element);
            }
            let len = list.len();
            db.set(key, Value::List(Box::new(list)));
            len
        }
    };
    ctx.dirty += elements.len() as u64;
    ctx.notify(notify::LIST, push_event(end), key);
    ctx.out.int(len as i64);
    Ok(())
}

/// `LINSERT key <BEFORE | AFTER> pivot element`
fn linsert(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let after = if args::is_option(&args[2], "after") {
        true
    } else if args::is_option(&args[2], "before") {
        false
    } else {
        return Err(error::SYNTAX);
    };
    let key = &args[1];
    let mut db = ctx.db();
    let Some(list) = as_type::<List>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(at) = list.position(&args[3]) else {
        ctx.out.int(-1);
        return Ok(());
    };
    list.insert(if after { at + 1 } else { at }, &args[4]);
    let len = list.len();
    db.signal_modified(key);
    ctx.dirty += 1;
    ctx.notify(notify::LIST, "linsert", key);
    ctx.out.int(len as i64);
    Ok(())
}

// ---- Reads -------------------------------------------------------------------

/// `LLEN key`
fn llen(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<List>(ctx, &args[1], List::len)
}

/// `LINDEX key index`: the key is looked up before the index is parsed, as
/// in Redis (a missing key replies null whatever the index).
fn lindex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let Some(list) = as_type::<List>(db.lookup_read(&args[1]))? else {
        out.null();
        return Ok(());
    };
    let index = args::int(&args[2])?;
    match position(index, list.len()).and_then(|i| list.get(i)) {
        Some(element) => out.bulk(element),
        None => out.null(),
    }
    Ok(())
}

/// `LRANGE key start stop`
fn lrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let start = args::int(&args[2])?;
    let stop = args::int(&args[3])?;
    let (mut db, out) = ctx.db_and_out();
    let Some(list) = as_type::<List>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    match args::index_range(start, stop, list.len()) {
        Some((from, to)) => out.bulk_array(list.range(from, to).collect::<Vec<_>>()),
        None => out.array(0),
    }
    Ok(())
}

/// Options of LPOS.
struct LposOptions {
    rank: i64,
    /// `None`: COUNT not given (reply with one index, not an array).
    count: Option<usize>,
    maxlen: usize,
}

fn lpos_options(args: &[Vec<u8>]) -> CommandResult<LposOptions> {
    let mut o = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut c = args::Cursor::new(args, 3);
    while let Some(option) = c.next() {
        if args::is_option(option, "rank") {
            o.rank = c.next_int()?;
            if o.rank == 0 {
                return Err(CommandError::err(
                    "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if args::is_option(option, "count") {
            o.count = Some(
                args::non_negative(c.next_bytes()?, Some("COUNT can't be negative"))? as usize,
            );
        } else if args::is_option(option, "maxlen") {
            o.maxlen =
                args::non_negative(c.next_bytes()?, Some("MAXLEN can't be negative"))? as usize;
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok(o)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
fn lpos(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let o = lpos_options(args)?;
    let (mut db, out) = ctx.db_and_out();
    let Some(list) = as_type::<List>(db.lookup_read(&args[1]))? else {
        match o.count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let len = list.len();
    let from_tail = o.rank < 0;
    // Redis negates a negative rank in a C `long`: -LONG_MIN stays
    // negative, so that rank matches from the first hit (from the tail).
    let skip = match o.rank.checked_abs() {
        Some(rank) => rank as u64 - 1,
        None => 0,
    };
    let scan = if o.maxlen == 0 {
        len
    } else {
        o.maxlen.min(len)
    };
    let wanted = match o.count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let element = args[2].as_slice();
    let hits = |(i, e): (usize, &[u8])| (e == element).then_some(i);
    let found: Vec<usize> = if from_tail {
        list.range(0, len.saturating_sub(1))
            .rev()
            .take(scan)
            .enumerate()
            .filter_map(hits)
            .map(|i| len - 1 - i)
            .skip(skip.min(usize::MAX as u64) as usize)
            .take(wanted)
            .collect()
    } else {
        list.range(0, len.saturating_sub(1))
            .take(scan)
            .enumerate()
            .filter_map(hits)
            .skip(skip.min(usize::MAX as u64) as usize)
            .take(wanted)
            .collect()
    };
    match o.count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
    }
    Ok(())
}

// ---- Changes -----------------------------------------------------------------

/// `LSET key index element`
fn lset(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let mut db = ctx.db();
    let list = as_type::<List>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
    let index = args::int(&args[2])?;
    let replaced = position(index, list.len()).is_some_and(|i| list.set(i, &args[3]));
    if !replaced {
        return Err(error::OUT_OF_RANGE);
    }
    db.signal_modified(key);
    ctx.dirty += 1;
    ctx.notify(notify::LIST, "lset", key);
    ctx.out.ok();
    Ok(())
}

/// `LREM key count element`: count > 0 removes from the head, < 0 from the
/// tail, 0 all.
fn lrem(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let count = args::int(&args[2])?;
    let key = &args[1];
    let mut db = ctx.db();
    let Some(list) = as_type::<List>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_matching(&args[3], limit, count < 0);
    if removed > 0 {
        db.signal_modified(key);
    }
    let deleted = delete_if_empty::<List>(&mut db, key);
    ctx.dirty += removed as u64;
    if removed > 0 {
        ctx.notify(notify::LIST, "lrem", key);
    }
    if deleted {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

/// `LTRIM key start stop`
fn ltrim(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let start = args::int(&args[2])?;
    let stop = args::int(&args[3])?;
    let key = &args[1];
    let mut db = ctx.db();
    let Some(list) = as_type::<List>(db.lookup_write(key))? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = list.len();
    let (head, tail) = match args::index_range(start, stop, len) {
        Some((from, to)) => (from, len - 1 - to),
        None => (len, 0),
    };
    list.trim(head, tail);
    db.signal_modified(key);
    let deleted = delete_if_empty::<List>(&mut db, key);
    ctx.dirty += (head + tail) as u64;
    ctx.notify(notify::LIST, "ltrim", key);
    if deleted {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.ok();
    Ok(())
}

// ---- Pops ----------------------------------------------------------------------

/// `LPOP key [count]`
fn lpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    pop_generic(ctx, args, End::Left)
}

/// `RPOP key [count]`
fn rpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    pop_generic(ctx, args, End::Right)
}

/// LPOP and RPOP: without a count, one element as a bulk string (null if
/// the key is missing); with one, an array (null array if missing).
fn pop_generic(ctx: &mut Ctx, args: &[Vec<u8>], end: End) -> CommandResult {
    if args.len() > 3 {
        return Err(error::wrong_arity(if end == End::Left {
            "lpop"
        } else {
            "rpop"
        }));
    }
    let count = match args.get(2) {
        Some(arg) => Some(args::non_negative(arg, None)? as usize),
        None => None,
    };
    let key = &args[1];
    let (mut db, out) = ctx.db_and_out();
    let Some(list) = as_type::<List>(db.lookup_write(key))? else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    let popped = match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        Some(n) => {
            let popped = list.pop_many(end, n);
            out.bulk_array(popped.iter().map(Key::as_bytes));
            popped.len()
        }
        None => {
            let element = list.pop(end).ok_or(error::NO_SUCH_KEY)?;
            out.bulk(element.as_bytes());
            1
        }
    };
    db.signal_modified(key);
    let deleted = delete_if_empty::<List>(&mut db, key);
    ctx.dirty += popped as u64;
    let mut events = Events::new();
    note_pop(&mut events, key, end, deleted);
    ctx.notify_all(events);
    Ok(())
}

/// Pops up to `count` elements from the first non-empty list among `keys`
/// and replies `[key, [elements]]`; `Ok(false)` if every key is missing.
/// A key of another type met before any list fails with WRONGTYPE.
fn multi_pop(ctx: &mut Ctx, keys: &[Vec<u8>], end: End, count: usize) -> CommandResult<bool> {
    let (mut db, out) = ctx.db_and_out();
    for key in keys {
        let Some(list) = as_type::<List>(db.lookup_write(key))? else {
            continue;
        };
        let popped = list.pop_many(end, count);
        out.array(2);
        out.bulk(key);
        out.bulk_array(popped.iter().map(Key::as_bytes));
        db.signal_modified(key);
        let deleted = delete_if_empty::<List>(&mut db, key);
        ctx.dirty += popped.len() as u64;
        let mut events = Events::new();
        note_pop(&mut events, key, end, deleted);
        ctx.notify_all(events);
        // Logged as the plain pop it was: `LPOP key n`.
        let n = popped.len().to_string();
        ctx.propagate_as(vec![super::argv([pop_command(end), key, n.as_bytes()])]);
        return Ok(true);
    }
    Ok(false)
}

/// `LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]`
fn lmpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (keys, end, count) = args::mpop(args, 1, parse_end)?;
    if !multi_pop(ctx, keys, end, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

// ---- Moves -----------------------------------------------------------------

/// Moves one element from `src`'s `from` end to `dst`'s `to` end (Redis's
/// `lmoveGenericCommand`) and replies with it; null if `src` is missing.
/// The destination's type is checked before anything is popped.
fn move_element(
    db: &mut Db,
    out: &mut ReplyWriter,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    events: &mut Events,
) -> CommandResult<bool> {
    if as_type::<List>(db.lookup_write(src))?.is_none() {
        out.null();
        return Ok(false);
    }
    as_type::<List>(db.lookup_write(dst))?;
    let Some(list) = as_type::<List>(db.lookup_write(src))? else {
        out.null();
        return Ok(false);
    };
    let element = list.pop(from).ok_or(error::NO_SUCH_KEY)?;
    out.bulk(element.as_bytes());
    if src == dst {
        list.push_key(to, element);
        db.signal_modified(src);
        // Redis names the push, then the pop.
        notify::note(events, notify::LIST, push_event(to), dst);
        note_pop(events, src, from, false);
        return Ok(true);
    }
    db.signal_modified(src);
    let deleted = delete_if_empty::<List>(db, src);
    notify::note(events, notify::LIST, push_event(to), dst);
    note_pop(events, src, from, deleted);
    match as_type::<List>(db.lookup_write(dst))? {
        Some(target) => {
            target.push_key(to, element);
            db.signal_modified(dst);
        }
        None => {
            let mut target = List::new();
            target.push_key(to, element);
            db.set(dst, Value::List(Box::new(target)));
        }
    }
    Ok(true)
}

/// `LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>`
fn lmove(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    lmove_generic(ctx, &args[1], &args[2], from, to)
}

/// `RPOPLPUSH source destination`
fn rpoplpush(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    lmove_generic(ctx, &args[1], &args[2], End::Right, End::Left)
}

fn lmove_generic(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let mut events = Events::new();
    if move_element(&mut db, out, src, dst, from, to, &mut events)? {
        ctx.dirty += 1;
    }
    ctx.notify_all(events);
    Ok(())
}

// ---- Blocking commands ---------------------------------------------------------

/// `BLPOP key [key ...] timeout`
fn blpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    blocking_pop(ctx, args, End::Left)
}

/// `BRPOP key [key ...] timeout`
fn brpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    blocking_pop(ctx, args, End::Right)
}

/// BLPOP and BRPOP: pop from the first non-empty list, replying
/// `[key, element]`, or block on all the keys.
fn blocking_pop(ctx: &mut Ctx, args: &[Vec<u8>], end: End) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    {
        let (mut db, out) = ctx.db_and_out();
        for key in keys {
            let Some(list) = as_type::<List>(db.lookup_write(key))? else {
                continue;
            };
            let element = list.pop(end).ok_or(error::NO_SUCH_KEY)?;
            out.array(2);
            out.bulk(key);
            out.bulk(element.as_bytes());
            db.signal_modified(key);
            let deleted = delete_if_empty::<List>(&mut db, key);
            ctx.dirty += 1;
            ctx.propagate_as(vec![super::argv([pop_command(end), key])]);
            let mut events = Events::new();
            note_pop(&mut events, key, end, deleted);
            ctx.notify_all(events);
            return Ok(());
        }
    }
    blocking::block_or_null(ctx, keys, timeout, BlockedOp::ListPop { end })
}

/// `BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout`
fn blmove(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    let timeout = blocking::parse_timeout(&args[5])?;
    blmove_generic(ctx, args, from, to, timeout)
}

/// `BRPOPLPUSH source destination timeout`
fn brpoplpush(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[3])?;
    blmove_generic(ctx, args, End::Right, End::Left, timeout)
}

fn blmove_generic(
    ctx: &mut Ctx,
    args: &[Vec<u8>],
    from: End,
    to: End,
    timeout: Timeout,
) -> CommandResult {
    let (src, dst) = (&args[1], &args[2]);
    if as_type::<List>(ctx.db().lookup_write(src))?.is_some() {
        lmove_generic(ctx, src, dst, from, to)?;
        // Logged as the non-blocking move it was.
        let logged = if args.len() == 4 {
            super::argv([b"RPOPLPUSH", src, dst])
        } else {
            move_command(src, dst, from, to)
        };
        ctx.propagate_as(vec![logged]);
        return Ok(());
    }
    if !blocking::may_block(ctx) {
        // Redis replies a plain null here, not a null array.
        ctx.out.null();
        return Ok(());
    }
    let op = BlockedOp::ListMove {
        from,
        to,
        destination: Key::new(dst),
    };
    blocking::block(ctx, std::slice::from_ref(src), timeout, op)
}

/// `BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]`
fn blmpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (keys, end, count) = args::mpop(args, 2, parse_end)?;
    let timeout = blocking::parse_timeout(&args[1])?;
    if multi_pop(ctx, keys, end, count)? {
        return Ok(());
    }
    blocking::block_or_null(ctx, keys, timeout, BlockedOp::ListMultiPop { end, count })
}

/// The pop command a blocking or multi-key pop is logged as.
fn pop_command(end: End) -> &'static [u8] {
    match end {
        End::Left => b"LPOP",
        End::Right => b"RPOP",
    }
}

/// `LMOVE src dst FROM TO`, as a blocking move is logged.
fn move_command(src: &[u8], dst: &[u8], from: End, to: End) -> Vec<Vec<u8>> {
    let from = from.name().to_ascii_uppercase();
    let to = to.name().to_ascii_uppercase();
    super::argv([b"LMOVE", src, dst, from.as_bytes(), to.as_bytes()])
}

/// Serves a client blocked on the list at `key` (in `db`), as Redis's
/// `serveClientBlockedOnList` does: pops what `op` asks for into `serving`.
/// Returns the changes to count as dirty (as Redis counts them: only
/// BLMPOP's pops). A BLMOVE whose destination holds another type gets
/// WRONGTYPE and nothing moves.
pub fn serve_blocked(db: &mut Db, key: &[u8], op: &BlockedOp, serving: &mut Serving) -> u64 {
    let Serving { out, log, events } = serving;
    let result = match op {
        BlockedOp::ListPop { end } => (|| {
            let Some(list) = as_type::<List>(db.lookup_write(key))? else {
                return Ok(0);
            };
            let element = list.pop(*end).ok_or(error::NO_SUCH_KEY)?;
            out.array(2);
            out.bulk(key);
            out.bulk(element.as_bytes());
            log.push(super::argv([pop_command(*end), key]));
            notify::note(events, notify::LIST, pop_event(*end), key);
            Ok(0)
        })(),
        BlockedOp::ListMultiPop { end, count } => (|| {
            let Some(list) = as_type::<List>(db.lookup_write(key))? else {
                return Ok(0);
            };
            let popped = list.pop_many(*end, *count);
            out.array(2);
            out.bulk(key);
            out.bulk_array(popped.iter().map(Key::as_bytes));
            let n = popped.len().to_string();
            log.push(super::argv([pop_command(*end), key, n.as_bytes()]));
            notify::note(events, notify::LIST, pop_event(*end), key);
            Ok(popped.len() as u64)
        })(),
        BlockedOp::ListMove {
            from,
            to,
            destination,
        } => {
            let dst = destination.as_bytes();
            move_element(db, out, key, dst, *from, *to, events).map(|moved| {
                if moved {
                    log.push(move_command(key, dst, *from, *to));
                }
                0
            })
        }
        BlockedOp::ZSetPop { .. }
        | BlockedOp::ZSetMultiPop { .. }
        | BlockedOp::StreamRead { .. } => Ok(0),
    };
    db.signal_modified(key);
    if delete_if_empty::<List>(db, key) && !matches!(op, BlockedOp::ListMove { .. }) {
        notify::note(events, notify::GENERIC, "del", key);
    }
    match result {
        Ok(dirty) => dirty,
        Err(err) => {
            out.error(&err);
            0
        }
    }
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("lpush", -3, lpush).syntax("key element ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "1.0.0", "Prepends elements to a list, creating it if needed.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    Command::new("rpush", -3, rpush).syntax("key element ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "1.0.0", "Appends elements to a list, creating it if needed.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    Command::new("lpushx", -3, lpushx).syntax("key element ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "2.2.0", "Prepends elements to a list only if the list already exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    Command::new("rpushx", -3, rpushx).syntax("key element ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "2.2.0", "Appends elements to a list only if the list already exists.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
    Command::new("lpop", -2, lpop).syntax("key [count:integer]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("list", "1.0.0", "Removes and returns the first elements of a list.", "O(N) where N is the number of elements returned"),
    Command::new("rpop", -2, rpop).syntax("key [count:integer]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("list", "1.0.0", "Removes and returns the last elements of a list.", "O(N) where N is the number of elements returned"),
    Command::new("llen", 2, llen).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("list", "1.0.0", "Returns the length of a list.", "O(1)"),
    Command::new("lrange", 4, lrange).syntax("key start:integer stop:integer").flags(READONLY).keys(1, 1, 1).doc("list", "1.0.0", "Returns the elements of a list between two indexes.", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."),
    Command::new("lindex", 3, lindex).syntax("key index:integer").flags(READONLY).keys(1, 1, 1).doc("list", "1.0.0", "Returns the element of a list at an index.", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."),
    Command::new("lset", 4, lset).syntax("key index:integer element").flags(WRITE | DENYOOM).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("list", "1.0.0", "Replaces the element of a list at an index.", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."),
    Command::new("linsert", 5, linsert).syntax("key (BEFORE|AFTER) pivot element").flags(WRITE | DENYOOM).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("list", "2.2.0", "Inserts an element before or after the first occurrence of a pivot element.", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."),
    Command::new("lrem", 4, lrem).syntax("key count:integer element").flags(WRITE).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("list", "1.0.0", "Removes occurrences of an element from a list.", "O(N+M) where N is the length of the list and M is the number of elements removed."),
    Command::new("ltrim", 4, ltrim).syntax("key start:integer stop:integer").flags(WRITE).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("list", "1.0.0", "Keeps only the elements of a list between two indexes.", "O(N) where N is the number of elements to be removed by the operation."),
    Command::new("lpos", -3, lpos).syntax("key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]").flags(READONLY).keys(1, 1, 1).doc("list", "6.0.6", "Returns the indexes of the elements of a list equal to a value.", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."),
    Command::new("lmove", 5, lmove).syntax("source:key destination:key (LEFT|RIGHT) (LEFT|RIGHT)").flags(WRITE | DENYOOM).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["RW", "insert"], 2)]).doc("list", "6.2.0", "Moves an element from one end of a list to an end of another list.", "O(1)"),
    Command::new("rpoplpush", 3, rpoplpush).syntax("source:key destination:key").flags(WRITE | DENYOOM).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["RW", "insert"], 2)]).doc("list", "1.2.0", "Moves the last element of a list to the head of another list.", "O(1)"),
    Command::new("lmpop", -4, lmpop).syntax("numkeys:integer key ... (LEFT|RIGHT) [COUNT count:integer]").flags(WRITE).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RW", "access", "delete"], 1)]).doc("list", "7.0.0", "Pops elements from the first non-empty list among several.", "O(N+M) where N is the number of provided keys and M is the number of elements returned."),
    Command::new("blpop", -3, blpop).syntax("key ... timeout:double").flags(WRITE | NOSCRIPT | BLOCKING).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("list", "2.0.0", "Pops the first element of the first non-empty list, blocking until one is available.", "O(N) where N is the number of provided keys."),
    Command::new("brpop", -3, brpop).syntax("key ... timeout:double").flags(WRITE | NOSCRIPT | BLOCKING).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("list", "2.0.0", "Pops the last element of the first non-empty list, blocking until one is available.", "O(N) where N is the number of provided keys."),
    Command::new("blmove", 6, blmove).syntax("source:key destination:key (LEFT|RIGHT) (LEFT|RIGHT) timeout:double").flags(WRITE | DENYOOM | NOSCRIPT | BLOCKING).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["RW", "insert"], 2)]).doc("list", "6.2.0", "Moves an element between lists, blocking until the source has one.", "O(1)"),
    Command::new("brpoplpush", 4, brpoplpush).syntax("source:key destination:key timeout:double").flags(WRITE | DENYOOM | NOSCRIPT | BLOCKING).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["RW", "insert"], 2)]).doc("list", "2.2.0", "Moves the last element of a list to the head of another, blocking until there is one.", "O(1)"),
    Command::new("blmpop", -5, blmpop).syntax("timeout:double numkeys:integer key ... (LEFT|RIGHT) [COUNT count:integer]").flags(WRITE | BLOCKING).keys_after_count(2).key_specs(&[KeySpecInfo::counted(&["RW", "access", "delete"], 2)]).doc("list", "7.0.0", "Pops elements from the first non-empty list among several, blocking until one has some.", "O(N+M) where N is the number of provided keys and M is the number of elements returned."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_from_either_end() {
        assert_eq!(position(-1, 3), Some(2));
        assert_eq!(position(3, 3), None);
        assert_eq!(position(-4, 3), None);
    }
}
