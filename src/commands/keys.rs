//! Keyspace commands, whatever the value's type (Redis's "generic" group:
//! the commands of `db.c` and `expire.c`, and OBJECT from `object.c`):
//! deleting and inspecting keys, renaming, copying and moving them between
//! databases, iterating the keyspace, and reading or changing time to live.
//!
//! Locking follows what each command does to the keyspace: commands that only
//! peek (EXISTS, TYPE, TTL, OBJECT) take read locks and never touch the LRU
//! order; commands that walk a database (KEYS, SCAN, RANDOMKEY) lock all of
//! its shards; commands that reach into another database (MOVE, COPY ... DB,
//! SWAPDB) compute their plan from the arguments.

use crate::channels::notify;
use crate::clock::idle_ms;
use crate::error::{self, CommandError, CommandResult};
use crate::glob::Pattern;
use crate::resp::ReplyWriter;
use crate::store::{Detached, Entry, Key, LockPlan, Mode, StrValue, Value};

use super::table::{Command, KeySpecInfo, LockContext, Locks, acl, flags::*};
use super::{Ctx, args};

// ---- Argument parsing shared by several commands -------------------------

/// A SCAN-family cursor, read as Redis reads it with C's `strtoul`: an
/// optional sign and decimal digits (a minus wraps around, as `strtoul`
/// negates in unsigned arithmetic), nothing else up to the end or to a NUL
/// byte; leading whitespace and values beyond 64 bits are
/// `ERR invalid cursor`. An empty cursor is 0.
pub fn parse_scan_cursor(arg: &[u8]) -> CommandResult<u64> {
    let text = error::c_str_prefix(arg, usize::MAX);
    if text.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match text[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(error::INVALID_CURSOR);
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(error::INVALID_CURSOR)?;
    }
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// The options after a SCAN-family cursor (Redis's `scanGenericCommand`).
pub struct ScanOptions<'a> {
    /// COUNT: how much work one call does (10 by default), not how many
    /// elements it returns.
    pub count: usize,
    /// MATCH, unless it is exactly `*`, which matches everything (the empty
    /// key included) and so filters nothing.
    pub pattern: Option<Pattern>,
    /// TYPE, SCAN's only: compared as a C string, as Redis's `strcasecmp`
    /// does.
    pub type_name: Option<&'a [u8]>,
}

impl ScanOptions<'_> {
    /// True if MATCH lets `item` through.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern.as_ref().is_none_or(|p| p.matches(item))
    }
}

/// Parses SCAN's options from `args[from]` on, with Redis's errors; TYPE is
/// an option only where `with_type` (SCAN, not HSCAN, SSCAN or ZSCAN).
pub fn scan_options(
    args: &[Vec<u8>],
    from: usize,
    with_type: bool,
) -> CommandResult<ScanOptions<'_>> {
    let mut options = ScanOptions {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut c = args::Cursor::new(args, from);
    while let Some(option) = c.next() {
        // Every option takes a value: without one the keyword is no option.
        if !c.has(1) {
            return Err(error::SYNTAX);
        }
        if args::is_option(option, "count") {
            let count = c.next_int()?;
            if count < 1 {
                return Err(error::SYNTAX);
            }
            options.count = count as usize;
        } else if args::is_option(option, "match") {
            options.pattern =
                Some(Pattern::new(c.next_bytes()?, false)).filter(|p| !p.is_match_all());
        } else if with_type && args::is_option(option, "type") {
            options.type_name = Some(error::c_str_prefix(c.next_bytes()?, usize::MAX));
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok(options)
}

/// The reply to HSCAN, SSCAN or ZSCAN on a missing key: cursor 0, nothing
/// found.
pub fn reply_empty_scan(out: &mut ReplyWriter) {
    out.array(2);
    out.bulk(b"0");
    out.array(0);
}

// ---- DEL UNLINK EXISTS TYPE TOUCH ------------------------------------------

/// `DEL key [key ...]` and `UNLINK key [key ...]`: values are freed before
/// the reply in both cases (there is no background freeing).
fn del(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut db = ctx.db();
    let deleted: Vec<&Vec<u8>> = args[1..].iter().filter(|key| db.delete(key)).collect();
    ctx.dirty += deleted.len() as u64;
    for key in &deleted {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.out.int(deleted.len() as i64);
    Ok(())
}

/// `EXISTS key [key ...]`: counts repeated keys each time.
fn exists(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    count_keys(ctx, &args[1..], |db, key| db.peek_read(key).is_some())
}

/// Replies with how many of `keys` pass `found` (a key named twice counts
/// twice, as in Redis).
fn count_keys(
    ctx: &mut Ctx,
    keys: &[Vec<u8>],
    mut found: impl FnMut(&mut crate::store::Db, &[u8]) -> bool,
) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let n = keys.iter().filter(|key| found(&mut db, key)).count();
    out.int(n as i64);
    Ok(())
}

/// `TYPE key`: the type name as a status reply, `none` if missing.
fn type_command(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let name = db
        .peek_read(&args[1])
        .map_or("none", |entry| entry.value.type_name());
    out.simple(name);
    Ok(())
}

/// `TOUCH key [key ...]`: looks each key up as a read would (LRU touch,
/// hit/miss counters) and counts those that exist.
fn touch(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    count_keys(ctx, &args[1..], |db, key| db.lookup_read(key).is_some())
}

// ---- KEYS SCAN RANDOMKEY ---------------------------------------------------

/// `KEYS pattern`. A bare `*` returns every key, the empty key included
/// (Redis skips matching for it, and `*` alone does not match "").
fn keys(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let pattern = Pattern::new(&args[1], false);
    let all = pattern.is_match_all();
    let (db, out) = ctx.db_and_out();
    let header = out.deferred_array();
    let mut found = 0;
    db.for_each_key(|key, _| {
        if all || pattern.matches(key.as_bytes()) {
            out.bulk(key.as_bytes());
            found += 1;
        }
    });
    out.set_deferred_len(header, found);
    Ok(())
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
///
/// The cursor is sedis's own (see `Db::scan`), but the contract is Redis's:
/// a full iteration returns every key that exists from its start to its end,
/// whatever else is added or removed meanwhile, and COUNT is a hint of how
/// much work one call does, not how many keys it returns.
fn scan(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let cursor = parse_scan_cursor(&args[1])?;
    let options = scan_options(args, 2, true)?;
    let (mut db, out) = ctx.db_and_out();
    let mut candidates: Vec<Key> = Vec::new();
    let next = db.scan(cursor, options.count, |key, _| {
        if options.matches(key.as_bytes()) {
            candidates.push(key.clone());
        }
    });
    if let Some(wanted) = options.type_name {
        // Redis looks each candidate up to learn its type, which counts as
        // a keyspace hit; `peek_read` keeps INFO's counters the same.
        candidates.retain(|key| {
            db.peek_read(key.as_bytes())
                .is_some_and(|e| e.value.type_name().as_bytes().eq_ignore_ascii_case(wanted))
        });
    }
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.bulk_array(candidates.iter().map(Key::as_bytes));
    Ok(())
}

/// `RANDOMKEY`: a random live key, or null when the database is empty.
fn randomkey(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    // The database view and the client's generator are disjoint fields.
    let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
    match db.random_live_key(&mut ctx.client.rng) {
        Some(key) => ctx.out.bulk(key.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

// ---- RENAME RENAMENX COPY MOVE SWAPDB --------------------------------------

/// `RENAME key newkey`
fn rename(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey`
fn renamenx(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    rename_generic(ctx, args, true)
}

/// RENAME and RENAMENX: the value moves with its TTL; a missing source is an
/// error even when both names are the same, and renaming a key to itself
/// changes nothing.
fn rename_generic(ctx: &mut Ctx, args: &[Vec<u8>], nx: bool) -> CommandResult {
    let (src, dst) = (&args[1], &args[2]);
    let mut db = ctx.db();
    if db.lookup_write(src).is_none() {
        return Err(error::NO_SUCH_KEY);
    }
    // Nothing to do for the same name, or (RENAMENX) a taken destination.
    // The destination is looked up either way so that, as in Redis, an
    // expired one is reaped (and counted) before being replaced.
    let blocked = src == dst || (db.lookup_write(dst).is_some() && nx);
    let done = !blocked;
    if done {
        let counter = db.lfu_counter(src);
        let entry = db.take(src).ok_or(error::NO_SUCH_KEY)?;
        // Replaces (and signals) whatever `dst` held.
        db.insert_entry(dst, entry);
        if let Some(counter) = counter {
            db.set_lfu_counter(dst, counter);
        }
    }
    ctx.dirty += u64::from(done);
    if done {
        ctx.notify(notify::GENERIC, "rename_from", src);
        ctx.notify(notify::GENERIC, "rename_to", dst);
    }
    match (nx, done) {
        (true, done) => ctx.out.int(i64::from(done)),
        (false, _) => ctx.out.ok(),
    }
    Ok(())
}

/// COPY's options: the target database (last DB wins) and REPLACE.
struct CopyOptions {
    db: Option<usize>,
    replace: bool,
}

/// Parses `[DB destination-db] [REPLACE]` in Redis's order: each error is
/// reported where it is met, left to right.
fn copy_options(args: &[Vec<u8>], databases: usize) -> CommandResult<CopyOptions> {
    let mut options = CopyOptions {
        db: None,
        replace: false,
    };
    let mut c = args::Cursor::new(args, 3);
    while let Some(option) = c.next() {
        if args::is(option, "replace") {
            options.replace = true;
        } else if args::is(option, "db") {
            options.db = Some(args::db_index(c.next_bytes()?, databases)?);
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok(options)
}

/// COPY locks the source in the client's database and the destination in
/// the target one. With options that fail to parse the handler errors
/// before touching anything, so any valid plan will do.
fn copy_plan(lc: &LockContext<'_>) -> LockPlan {
    let (ks, db) = (lc.keyspace, lc.db);
    let mut plan = LockPlan::new();
    let (Some(src), Some(dst)) = (lc.args.get(1), lc.args.get(2)) else {
        return plan;
    };
    let target = copy_options(lc.args, ks.databases())
        .ok()
        .and_then(|o| o.db)
        .unwrap_or(db);
    plan.add_key(ks, db, src, Mode::Write);
    plan.add_key(ks, target, dst, Mode::Write);
    plan
}

/// `COPY source destination [DB destination-db] [REPLACE]`: the copy keeps
/// the source's TTL.
fn copy(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let options = copy_options(args, ctx.keyspace().databases())?;
    let (src, dst) = (&args[1], &args[2]);
    let src_db = ctx.client.db;
    let dst_db = options.db.unwrap_or(src_db);
    if src_db == dst_db && src == dst {
        return Err(error::SAME_OBJECT);
    }
    let mut source = ctx.db();
    let Some(value) = source.lookup_read(src).map(|e| e.value.clone()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let entry = Detached::new(value, source.expire_at(src));
    let mut target = ctx.db_at(dst_db);
    if target.lookup_write(dst).is_some() && !options.replace {
        ctx.out.int(0);
        return Ok(());
    }
    target.insert_entry(dst, entry);
    ctx.dirty += 1;
    ctx.notify_in(dst_db, notify::GENERIC, "copy_to", dst);
    ctx.out.int(1);
    Ok(())
}

/// MOVE locks the key in the client's database and, if the index names a
/// database, in that one too.
fn move_plan(lc: &LockContext<'_>) -> LockPlan {
    let (ks, db) = (lc.keyspace, lc.db);
    let mut plan = LockPlan::new();
    let (Some(key), Some(index)) = (lc.args.get(1), lc.args.get(2)) else {
        return plan;
    };
    plan.add_key(ks, db, key, Mode::Write);
    if let Ok(target) = args::db_index(index, ks.databases()) {
        plan.add_key(ks, target, key, Mode::Write);
    }
    plan
}

/// `MOVE key db`: 0 if the key is missing here or already exists there.
fn move_command(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let target = args::db_index(&args[2], ctx.keyspace().databases())?;
    if target == ctx.client.db {
        return Err(error::SAME_OBJECT);
    }
    if ctx.db().lookup_write(key).is_none() || ctx.db_at(target).lookup_write(key).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let counter = ctx.db().lfu_counter(key);
    let Some(entry) = ctx.db().take(key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut moved = ctx.db_at(target);
    moved.insert_entry(key, entry);
    if let Some(counter) = counter {
        moved.set_lfu_counter(key, counter);
    }
    ctx.dirty += 1;
    let source = ctx.client.db;
    ctx.notify_in(source, notify::GENERIC, "move_from", key);
    ctx.notify_in(target, notify::GENERIC, "move_to", key);
    ctx.out.int(1);
    Ok(())
}

/// SWAPDB's two indexes, with Redis's messages: each must be an `int`
/// (`invalid first/second DB index`), then both must exist.
fn swapdb_indexes(args: &[Vec<u8>], databases: usize) -> CommandResult<(usize, usize)> {
    let parse =
        |arg: &[u8], which: &'static str| args::int32(arg).map_err(|_| CommandError::canned(which));
    let a = parse(&args[1], "ERR invalid first DB index")?;
    let b = parse(&args[2], "ERR invalid second DB index")?;
    let valid = |i: i64| i >= 0 && (i as usize) < databases;
    if !valid(a) || !valid(b) {
        return Err(error::DB_INDEX_OUT_OF_RANGE);
    }
    Ok((a as usize, b as usize))
}

/// SWAPDB write-locks every shard of both databases (nothing if the
/// indexes are invalid: the handler then only replies the error).
fn swapdb_plan(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = LockPlan::new();
    if lc.args.len() < 3 {
        return plan;
    }
    if let Ok((a, b)) = swapdb_indexes(lc.args, lc.keyspace.databases()) {
        plan.add_db(a, Mode::Write);
        plan.add_db(b, Mode::Write);
    }
    plan
}

/// `SWAPDB index1 index2`: clients stay on their database number and see
/// the other's data; watchers of keys in either are marked dirty.
fn swapdb(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (a, b) = swapdb_indexes(args, ctx.keyspace().databases())?;
    ctx.db_at(a).swap_with(b);
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

// ---- EXPIRE family, TTL family, PERSIST ------------------------------------

/// EXPIRE's `[NX | XX | GT | LT]` conditions.
#[derive(Debug, Default, Clone, Copy)]
struct ExpireConditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Parses the conditions after the time, with Redis's errors: an unknown
/// word first, then the incompatible combinations.
fn expire_conditions(args: &[Vec<u8>]) -> CommandResult<ExpireConditions> {
    type Set = fn(&mut ExpireConditions);
    const WORDS: &[(&str, Set)] = &[
        ("nx", |c| c.nx = true),
        ("xx", |c| c.xx = true),
        ("gt", |c| c.gt = true),
        ("lt", |c| c.lt = true),
    ];
    let mut c = ExpireConditions::default();
    for opt in &args[3..] {
        let Some(set) = args::keyword(opt, WORDS) else {
            let mut text = b"ERR Unsupported option ".to_vec();
            text.extend_from_slice(error::c_str_prefix(opt, usize::MAX));
            return Err(CommandError::from_bytes(text));
        };
        set(&mut c);
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(CommandError::canned(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(CommandError::canned(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(c)
}

/// `EXPIRE key seconds [NX | XX | GT | LT]`
fn expire(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let now = ctx.now_ms;
    expire_generic(ctx, args, now, true, "expire")
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]`
fn pexpire(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let now = ctx.now_ms;
    expire_generic(ctx, args, now, false, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]`
fn expireat(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    expire_generic(ctx, args, 0, true, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]`
fn pexpireat(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    expire_generic(ctx, args, 0, false, "pexpireat")
}

/// The EXPIRE family (Redis's `expireGenericCommand`): the time becomes an
/// absolute unix-ms deadline (`base` is now for relative forms, 0 for the
/// `AT` forms). Negative times are allowed; only overflow is an error. A
/// deadline already past deletes the key, and that still replies 1.
fn expire_generic(
    ctx: &mut Ctx,
    args: &[Vec<u8>],
    base: i64,
    seconds: bool,
    name: &str,
) -> CommandResult {
    let conditions = expire_conditions(args)?;
    let mut when = args::int(&args[2])?;
    if seconds {
        when = when
            .checked_mul(1000)
            .ok_or_else(|| error::invalid_expire(name))?;
    }
    let when = when
        .checked_add(base)
        .ok_or_else(|| error::invalid_expire(name))?;

    let key = &args[1];
    let now = ctx.now_ms;
    let mut db = ctx.db();
    if db.lookup_write(key).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let current = db.expire_at(key);
    // A key without a TTL counts as expiring never: GT always fails on it,
    // LT always passes.
    let refused = (conditions.nx && current.is_some())
        || (conditions.xx && current.is_none())
        || (conditions.gt && current.is_none_or(|at| when <= at))
        || (conditions.lt && current.is_some_and(|at| when >= at));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    // Logged as DEL or as PEXPIREAT with the absolute deadline (any
    // NX/XX/GT/LT kept), so a replay ends where this ran, not later.
    let (logged, event) = if when <= now {
        db.delete(key);
        (super::argv([b"DEL", key]), "del")
    } else {
        db.set_expire(key, when);
        let mut logged = super::argv([b"PEXPIREAT", key, when.to_string().as_bytes()]);
        logged.extend(args[3..].iter().cloned());
        (logged, "expire")
    };
    ctx.dirty += 1;
    ctx.propagate_as(vec![logged]);
    ctx.notify(notify::GENERIC, event, key);
    ctx.out.int(1);
    Ok(())
}

/// `TTL key`
fn ttl(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ttl_generic(ctx, &args[1], false, false)
}

/// `PTTL key`
fn pttl(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ttl_generic(ctx, &args[1], true, false)
}

/// `EXPIRETIME key`
fn expiretime(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ttl_generic(ctx, &args[1], false, true)
}

/// `PEXPIRETIME key`
fn pexpiretime(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ttl_generic(ctx, &args[1], true, true)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for one
/// without TTL; a remaining time is never negative. Second values round to
/// nearest as Redis's `(ms + 500) / 1000` does (computed wide, so a deadline
/// near `i64::MAX` gives the exact quotient Redis prints).
fn ttl_generic(ctx: &mut Ctx, key: &[u8], millis: bool, absolute: bool) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let reply = match db.peek_read(key) {
        None => -2,
        Some(_) => match db.expire_at(key) {
            None => -1,
            Some(at) => {
                let ms = if absolute { at } else { at - db.now_ms() }.max(0);
                if millis {
                    ms
                } else {
                    ((i128::from(ms) + 500) / 1000) as i64
                }
            }
        },
    };
    out.int(reply);
    Ok(())
}

/// `PERSIST key`: 1 if a TTL was removed.
fn persist(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let mut db = ctx.db();
    let removed = db.lookup_write(key).is_some() && db.persist(key);
    if removed {
        ctx.dirty += 1;
        ctx.notify(notify::GENERIC, "persist", key);
    }
    ctx.out.int(i64::from(removed));
    Ok(())
}

// ---- OBJECT ------------------------------------------------------------------

/// `OBJECT <subcommand> ...`: the registry resolves the subcommand before
/// any handler runs, so this only answers a name it could not resolve.
fn object(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand(
        "object",
        args.get(1).map_or(&b""[..], Vec::as_slice),
    ))
}

/// Replies with the entry OBJECT's subcommands inspect, or null if the key
/// is missing; `f` writes the reply for an existing key.
fn object_inspect(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&Entry, i64, &mut crate::resp::ReplyWriter) -> CommandResult,
) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let now = db.now_ms();
    match db.peek_read_quiet(key) {
        Some(entry) => f(entry, now, out),
        None => {
            out.null();
            Ok(())
        }
    }
}

/// `OBJECT ENCODING key`
fn object_encoding(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    object_inspect(ctx, &args[2], |entry, _, out| {
        out.bulk(entry.value.encoding_name().as_bytes());
        Ok(())
    })
}

/// `OBJECT IDLETIME key`: whole seconds since the last access. Under an
/// LFU policy keys keep a frequency instead, and Redis refuses.
fn object_idletime(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let lfu = ctx.keyspace().access.lfu();
    object_inspect(ctx, &args[2], |entry, now, out| {
        if lfu.is_some() {
            return Err(CommandError::canned(
                "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        }
        out.int(idle_ms(entry.access_stamp(), now) / 1000);
        Ok(())
    })
}

/// Redis's `OBJ_SHARED_REFCOUNT`: what OBJECT REFCOUNT reports for a shared
/// object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Integers Redis keeps as shared objects (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: std::ops::Range<i64> = 0..10_000;

/// `OBJECT REFCOUNT key`. sedis shares no values, but Redis stores the
/// integers 0..9999 as shared objects (with no maxmemory policy, which sedis
/// does not have yet), and clients see that in this count; every other value
/// has one reference.
fn object_refcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    object_inspect(ctx, &args[2], |entry, _, out| {
        let refcount = match &entry.value {
            Value::Str(StrValue::Int(n)) if SHARED_INTEGERS.contains(n) => SHARED_REFCOUNT,
            _ => 1,
        };
        out.int(refcount);
        Ok(())
    })
}

/// `OBJECT FREQ key`: the key's decayed access counter (no access counted
/// for asking). Tracked only under an LFU policy; otherwise an existing key
/// gets Redis's "not selected" error (a missing one gets null first).
fn object_freq(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let lfu = ctx.keyspace().access.lfu();
    object_inspect(ctx, &args[2], |entry, now, out| {
        let Some(lfu) = lfu else {
            return Err(CommandError::canned(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        };
        out.int(i64::from(entry.lfu_counter(lfu, now)));
        Ok(())
    })
}

// `OBJECT HELP`
help_command!(
    object_help,
    [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ]
);

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("del", -2, del).syntax("key ...").flags(WRITE).keys(1, -1, 1).key_flags(&["RM", "delete"]).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).doc("generic", "1.0.0", "Deletes one or more keys.", "O(N) where N is the number of keys that will be removed."),
    Command::new("unlink", -2, del).syntax("key ...").flags(WRITE | FAST).keys(1, -1, 1).key_flags(&["RM", "delete"]).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).doc("generic", "4.0.0", "Asynchronously deletes one or more keys.", "O(1) for each key removed regardless of its size."),
    Command::new("exists", -2, exists).syntax("key ...").flags(READONLY | FAST).keys(1, -1, 1).key_flags(&["RO"]).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).doc("generic", "1.0.0", "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check."),
    Command::new("type", 2, type_command).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("generic", "1.0.0", "Returns the type of the value stored at a key.", "O(1)"),
    Command::new("keys", 2, keys).syntax("pattern:pattern").flags(READONLY).acl(acl::DANGEROUS).locks(Locks::Db(Mode::Read)).tips(&["request_policy:all_shards", "nondeterministic_output_order"]).doc("generic", "1.0.0", "Returns all key names that match a pattern.", "O(N) with N being the number of keys in the database."), // A write lock: SCAN deletes the expired keys it meets, as Redis does.,
    Command::new("scan", -2, scan).syntax("cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]").flags(READONLY).locks(Locks::Db(Mode::Write)).tips(&["nondeterministic_output", "request_policy:special"]).doc("generic", "2.8.0", "Iterates over the key names in the database.", "O(1) for every call. O(N) for a complete iteration."), // Write locks: expired keys it draws are deleted on the spot (see // `Db::random_live_key`), which is what lets it always find a live key.,
    Command::new("randomkey", 1, randomkey).flags(READONLY).locks(Locks::Db(Mode::Write)).tips(&["request_policy:all_shards", "nondeterministic_output"]).doc("generic", "1.0.0", "Returns a random key name from the database.", "O(1)"),
    Command::new("rename", 3, rename).syntax("key newkey:key").flags(WRITE).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["OW", "update"], 2)]).doc("generic", "1.0.0", "Renames a key, overwriting the destination.", "O(1)"),
    Command::new("renamenx", 3, renamenx).syntax("key newkey:key").flags(WRITE | FAST).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 1), KeySpecInfo::key(&["OW", "insert"], 2)]).doc("generic", "1.0.0", "Renames a key only when the destination does not exist.", "O(1)"),
    Command::new("copy", -3, copy).syntax("source:key destination:key [DB destination-db:integer] [REPLACE]").flags(WRITE | DENYOOM).keys(1, 2, 1).locks(Locks::Custom(copy_plan)).key_specs(&[KeySpecInfo::key(&["RO", "access"], 1), KeySpecInfo::key(&["OW", "update"], 2)]).doc("generic", "6.2.0", "Copies the value of a key to a new key, possibly in another database.", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."),
    Command::new("move", 3, move_command).syntax("key db:integer").flags(WRITE | FAST).keys(1, 1, 1).locks(Locks::Custom(move_plan)).doc("generic", "1.0.0", "Moves a key to another database.", "O(1)"),
    Command::new("swapdb", 3, swapdb).syntax("index1:integer index2:integer").flags(WRITE | FAST).acl(acl::KEYSPACE | acl::DANGEROUS).locks(Locks::Custom(swapdb_plan)).doc("server", "4.0.0", "Swaps the contents of two databases.", "O(N) where N is the count of clients watching or blocking on keys from both databases."),
    Command::new("expire", -3, expire).syntax("key seconds:integer [NX|XX|GT|LT]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "1.0.0", "Sets a key's time to live in seconds.", "O(1)"),
    Command::new("pexpire", -3, pexpire).syntax("key milliseconds:integer [NX|XX|GT|LT]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "2.6.0", "Sets a key's time to live in milliseconds.", "O(1)"),
    Command::new("expireat", -3, expireat).syntax("key unix-time-seconds:unix-time [NX|XX|GT|LT]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "1.2.0", "Sets the expiration time of a key to a unix timestamp in seconds.", "O(1)"),
    Command::new("pexpireat", -3, pexpireat).syntax("key unix-time-milliseconds:unix-time [NX|XX|GT|LT]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "2.6.0", "Sets the expiration time of a key to a unix timestamp in milliseconds.", "O(1)"),
    Command::new("ttl", 2, ttl).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("generic", "1.0.0", "Returns a key's remaining time to live in seconds.", "O(1)"),
    Command::new("pttl", 2, pttl).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("generic", "2.6.0", "Returns a key's remaining time to live in milliseconds.", "O(1)"),
    Command::new("expiretime", 2, expiretime).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).doc("generic", "7.0.0", "Returns a key's expiration time as a unix timestamp in seconds.", "O(1)"),
    Command::new("pexpiretime", 2, pexpiretime).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).doc("generic", "7.0.0", "Returns a key's expiration time as a unix timestamp in milliseconds.", "O(1)"),
    Command::new("persist", 2, persist).syntax("key").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("generic", "2.2.0", "Removes a key's time to live.", "O(1)"), // Write locks although READONLY: touching moves keys in the LRU order.,
    Command::new("touch", -2, touch).syntax("key ...").flags(READONLY | FAST).keys(1, -1, 1).key_flags(&["RO"]).tips(&["request_policy:multi_shard", "response_policy:agg_sum"]).doc("generic", "3.2.1", "Updates the last access time of keys; returns how many exist.", "O(N) where N is the number of keys that will be touched."),
    Command::new("object", -2, object).doc("generic", "2.2.3", "A container for object introspection commands.", "Depends on subcommand.").subcommands(OBJECT_SUBCOMMANDS),
];

/// OBJECT's subcommands.
#[rustfmt::skip]
static OBJECT_SUBCOMMANDS: &[Command] = &[
    Command::new("encoding", 3, object_encoding).syntax("key").flags(READONLY).keys(2, 2, 1).key_flags(&["RO"]).tips(&["nondeterministic_output"]).doc("generic", "2.2.3", "Returns the internal encoding of a key's value.", "O(1)"),
    Command::new("freq", 3, object_freq).syntax("key").flags(READONLY).keys(2, 2, 1).key_flags(&["RO"]).tips(&["nondeterministic_output"]).doc("generic", "4.0.0", "Returns the logarithmic access frequency counter of a key's value.", "O(1)"),
    Command::new("help", 2, object_help).flags(LOADING | STALE).doc("generic", "6.2.0", "Returns helpful text about the OBJECT subcommands.", "O(1)"),
    Command::new("idletime", 3, object_idletime).syntax("key").flags(READONLY).keys(2, 2, 1).key_flags(&["RO"]).tips(&["nondeterministic_output"]).doc("generic", "2.2.3", "Returns the seconds since a key was last accessed.", "O(1)"),
    Command::new("refcount", 3, object_refcount).syntax("key").flags(READONLY).keys(2, 2, 1).key_flags(&["RO"]).tips(&["nondeterministic_output"]).doc("generic", "2.2.3", "Returns the reference count of a key's value.", "O(1)"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursors_parse_like_strtoul() {
        assert_eq!(parse_scan_cursor(b"0"), Ok(0));
        assert_eq!(parse_scan_cursor(b""), Ok(0));
        assert_eq!(parse_scan_cursor(b"+7"), Ok(7));
        assert_eq!(parse_scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_scan_cursor(b"-18446744073709551615"), Ok(1));
        assert_eq!(parse_scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_scan_cursor(b"12\0junk"), Ok(12));
        for bad in [
            &b"18446744073709551616"[..],
            b" 0",
            b"0 ",
            b"abc",
            b"0x10",
            b"-",
            b"+",
            b"1.5",
        ] {
            assert_eq!(
                parse_scan_cursor(bad),
                Err(error::INVALID_CURSOR),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn db_indexes_are_ints_first() {
        assert_eq!(args::db_index(b"3", 16), Ok(3));
        assert_eq!(args::db_index(b"abc", 16), Err(error::NOT_INTEGER));
        assert_eq!(args::db_index(b"16", 16), Err(error::DB_INDEX_OUT_OF_RANGE));
        assert_eq!(args::db_index(b"-1", 16), Err(error::DB_INDEX_OUT_OF_RANGE));
        assert_eq!(
            args::db_index(b"2147483648", 16).unwrap_err().text(),
            "ERR value is out of range, value must between -2147483648 and 2147483647"
        );
    }
}
