//! String commands (Redis's `t_string.c`): reading and writing whole values
//! (GET, SET and its variants, MGET, MSET), in-place edits (APPEND,
//! SETRANGE), counters (INCR..., INCRBYFLOAT), substrings (GETRANGE) and the
//! longest common subsequence of two values (LCS).
//!
//! Values are stored with the encoding Redis would give them (see
//! [`StrValue`]): whole values set by a client go through `from_slice`
//! (Redis's `tryObjectEncoding`), counters are integers, INCRBYFLOAT results
//! are strings, and values edited in place become `raw`.

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::num::ldouble;
use crate::store::{Db, Entry, StrValue, Value};

use super::Ctx;
use super::args;
use super::table::{Command, KeySpecInfo, flags::*};

/// The string in a looked-up entry: `Ok(None)` if missing, WRONGTYPE if the
/// key holds another type.
pub fn lookup_str(entry: Option<&mut Entry>) -> CommandResult<Option<&mut StrValue>> {
    match entry {
        None => Ok(None),
        Some(entry) => entry.value.as_str_mut().map(Some).ok_or(error::WRONGTYPE),
    }
}

/// Replies with the string at `key` or null (Redis's `getGenericCommand`).
fn reply_get(ctx: &mut Ctx, key: &[u8]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    match lookup_str(db.lookup_read(key))? {
        Some(s) => out.bulk(&s.bytes()),
        None => out.null(),
    }
    Ok(())
}

/// Redis's `checkStringLength`: a string may not grow past
/// `proto-max-bulk-len` (`max`).
fn check_string_length(max: u64, size: u64, append: u64) -> CommandResult {
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(error::STRING_TOO_LONG),
    }
}

/// The configured `proto-max-bulk-len`, the largest string a client may build.
pub(super) fn max_string_len(ctx: &Ctx) -> u64 {
    ctx.state.config().proto_max_bulk_len
}

/// `GET key`
fn get(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_get(ctx, &args[1])
}

/// When a SET-family command's key should expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireArg {
    /// EX seconds
    Ex,
    /// PX milliseconds
    Px,
    /// EXAT unix-seconds
    ExAt,
    /// PXAT unix-milliseconds
    PxAt,
}

impl ExpireArg {
    /// Absolute kinds name a moment rather than a delay.
    fn is_absolute(self) -> bool {
        matches!(self, ExpireArg::ExAt | ExpireArg::PxAt)
    }
}

/// Converts an expire argument into an absolute unix-ms deadline, with
/// Redis's checks (`getExpireMillisecondsOrReply`): positive, and no overflow.
pub fn expire_deadline(
    arg: &[u8],
    kind: ExpireArg,
    now_ms: i64,
    command: &str,
) -> CommandResult<i64> {
    let value = args::int(arg)?;
    let seconds = matches!(kind, ExpireArg::Ex | ExpireArg::ExAt);
    if value <= 0 || (seconds && value > i64::MAX / 1000) {
        return Err(error::invalid_expire(command));
    }
    let mut ms = if seconds { value * 1000 } else { value };
    if !kind.is_absolute() {
        // Redis adds in C and then sees the overflow as a negative result.
        ms = ms.checked_add(now_ms).unwrap_or(-1);
    }
    if ms <= 0 {
        return Err(error::invalid_expire(command));
    }
    Ok(ms)
}

/// Which command an option list belongs to: SET takes NX, XX, GET and
/// KEEPTTL; GETEX takes PERSIST; both take the four expire forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionsFor {
    Set,
    GetEx,
}

#[derive(Debug, Default)]
struct ExtendedOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    /// The expire kind and its value.
    expire: Option<(ExpireArg, &'a [u8])>,
}

/// Parses SET's or GETEX's options with Redis's exact acceptance rules
/// (`parseExtendedStringArgumentsOrReply`): an option may repeat, but
/// conflicting ones (NX/XX, KEEPTTL or PERSIST with an expire, two different
/// expire kinds) are a syntax error, as is an expire keyword with no value.
fn parse_extended_options(
    args: &[Vec<u8>],
    command: OptionsFor,
) -> CommandResult<ExtendedOptions<'_>> {
    let set = command == OptionsFor::Set;
    let mut o = ExtendedOptions::default();
    let mut c = args::Cursor::new(args, if set { 3 } else { 2 });
    while let Some(opt) = c.next() {
        let expire_kind = o.expire.map(|(k, _)| k);
        if args::is_option(opt, "nx") && !o.xx && set {
            o.nx = true;
        } else if args::is_option(opt, "xx") && !o.nx && set {
            o.xx = true;
        } else if args::is_option(opt, "get") && set {
            o.get = true;
        } else if args::is_option(opt, "keepttl") && !o.persist && expire_kind.is_none() && set {
            o.keep_ttl = true;
        } else if args::is_option(opt, "persist") && !set && expire_kind.is_none() && !o.keep_ttl {
            o.persist = true;
        } else if let Some(kind) = [
            ("ex", ExpireArg::Ex),
            ("px", ExpireArg::Px),
            ("exat", ExpireArg::ExAt),
            ("pxat", ExpireArg::PxAt),
        ]
        .iter()
        .find(|(name, _)| args::is_option(opt, name))
        .map(|&(_, kind)| kind)
        // The same kind may repeat (the last value wins); a different one
        // may not.
        .filter(|&kind| !o.keep_ttl && !o.persist && expire_kind.is_none_or(|e| e == kind))
        {
            o.expire = Some((kind, c.next_bytes()?));
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok(o)
}

/// SET's key and its flags (Redis's `setGetKeys`): with GET it reads the old
/// value, otherwise it overwrites whatever was there.
fn set_getkeys(argv: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    // Compared as C strings, as Redis does: up to a NUL byte.
    let get = argv.iter().skip(3).any(|arg| args::is_option(arg, "get"));
    let flags = if get {
        vec!["RW", "access", "update"]
    } else {
        vec!["OW", "update"]
    };
    vec![(1, flags)]
}

/// Stores `value` at `key` (Redis's `setKey`), keeping or replacing the TTL.
pub fn store_string(
    db: &mut Db,
    key: &[u8],
    value: StrValue,
    keep_ttl: bool,
    expire_at: Option<i64>,
) {
    let value = Value::Str(value);
    match (expire_at, keep_ttl) {
        (Some(at), _) => db.set_with_expire(key, value, Some(at)),
        (None, true) => db.set_keep_ttl(key, value),
        (None, false) => db.set(key, value),
    }
}

/// What a SET-family command replies when it sets, or declines to set the
/// key because of NX/XX.
#[derive(Clone, Copy)]
enum SetReplies {
    /// `+OK` or null (SET, SETEX, PSETEX).
    OkOrNull,
    /// `:1` or `:0` (SETNX).
    OneOrZero,
}

/// Redis's `setGenericCommand`: validate the expire, reply the old value for
/// GET, apply NX/XX, then store.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    options: &ExtendedOptions,
    command: &str,
    replies: SetReplies,
) -> CommandResult {
    let expire_at = match options.expire {
        Some((kind, arg)) => Some(expire_deadline(arg, kind, ctx.now_ms, command)?),
        None => None,
    };
    if options.get {
        reply_get(ctx, key)?;
    }
    let mut db = ctx.db();
    let found = db.lookup_write(key).is_some();
    if (options.nx && found) || (options.xx && !found) {
        if !options.get {
            match replies {
                SetReplies::OkOrNull => ctx.out.null(),
                SetReplies::OneOrZero => ctx.out.int(0),
            }
        }
        return Ok(());
    }
    store_string(
        &mut db,
        key,
        StrValue::from_slice(value),
        options.keep_ttl,
        expire_at,
    );
    ctx.dirty += 1;
    ctx.notify(notify::STRING, "set", key);
    if expire_at.is_some() {
        ctx.notify(notify::GENERIC, "expire", key);
    }
    // A relative expiry would restart on replay: log the absolute one.
    if let Some(at) = expire_at {
        let at = at.to_string();
        ctx.propagate_as(vec![super::argv([
            b"SET",
            key,
            value,
            b"PXAT",
            at.as_bytes(),
        ])]);
    }
    if !options.get {
        match replies {
            SetReplies::OkOrNull => ctx.out.ok(),
            SetReplies::OneOrZero => ctx.out.int(1),
        }
    }
    Ok(())
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]`
fn set(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let options = parse_extended_options(args, OptionsFor::Set)?;
    let dirty = ctx.dirty;
    set_generic(
        ctx,
        &args[1],
        &args[2],
        &options,
        "set",
        SetReplies::OkOrNull,
    )?;
    // SET ... GET is logged without its GETs (an expiry was rewritten above).
    if options.get && options.expire.is_none() && ctx.dirty > dirty {
        let logged = args
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !args::is_option(a, "get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.propagate_as(vec![logged]);
    }
    Ok(())
}

/// `SETNX key value`
fn setnx(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let options = ExtendedOptions {
        nx: true,
        ..ExtendedOptions::default()
    };
    set_generic(
        ctx,
        &args[1],
        &args[2],
        &options,
        "setnx",
        SetReplies::OneOrZero,
    )
}

/// `SETEX key seconds value`
fn setex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_expiring(ctx, args, ExpireArg::Ex, "setex")
}

/// `PSETEX key milliseconds value`
fn psetex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_expiring(ctx, args, ExpireArg::Px, "psetex")
}

/// SETEX and PSETEX: `key <time> value`, the time of `kind`.
fn set_expiring(ctx: &mut Ctx, args: &[Vec<u8>], kind: ExpireArg, command: &str) -> CommandResult {
    let options = ExtendedOptions {
        expire: Some((kind, &args[2])),
        ..ExtendedOptions::default()
    };
    set_generic(
        ctx,
        &args[1],
        &args[3],
        &options,
        command,
        SetReplies::OkOrNull,
    )
}

/// `GETSET key value`
fn getset(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_get(ctx, &args[1])?;
    ctx.db()
        .set(&args[1], Value::Str(StrValue::from_slice(&args[2])));
    ctx.dirty += 1;
    ctx.notify(notify::STRING, "set", &args[1]);
    ctx.propagate_as(vec![super::argv([b"SET", &args[1], &args[2]])]);
    Ok(())
}

/// `GETDEL key`
fn getdel(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_get(ctx, &args[1])?;
    if ctx.db().delete(&args[1]) {
        ctx.dirty += 1;
        ctx.notify(notify::GENERIC, "del", &args[1]);
        ctx.propagate_as(vec![super::argv([b"DEL", &args[1]])]);
    }
    Ok(())
}

/// `GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]`
fn getex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let options = parse_extended_options(args, OptionsFor::GetEx)?;
    let key = &args[1];
    let now = ctx.now_ms;
    let (mut db, out) = ctx.db_and_out();
    let Some(value) = lookup_str(db.lookup_read(key))? else {
        // A missing key is null before the expire value is even looked at.
        out.null();
        return Ok(());
    };
    let deadline = match options.expire {
        Some((kind, value)) => Some((kind, expire_deadline(value, kind, now, "getex")?)),
        None => None,
    };
    out.bulk(&value.bytes());
    // GETEX is never logged as itself: as DEL, PEXPIREAT or PERSIST.
    let (logged, event) = match deadline {
        // An absolute time already past deletes the key, as EXPIREAT does.
        Some((kind, at)) if kind.is_absolute() && at <= now => {
            (db.delete(key).then(|| super::argv([b"DEL", key])), "del")
        }
        Some((_, at)) => (
            db.set_expire(key, at)
                .then(|| super::argv([b"PEXPIREAT", key, at.to_string().as_bytes()])),
            "expire",
        ),
        None => (
            (options.persist && db.persist(key)).then(|| super::argv([b"PERSIST", key])),
            "persist",
        ),
    };
    if let Some(logged) = logged {
        ctx.dirty += 1;
        ctx.propagate_as(vec![logged]);
        ctx.notify(notify::GENERIC, event, key);
    }
    Ok(())
}

/// `MGET key [key ...]`
fn mget(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    out.array(args.len() - 1);
    for key in &args[1..] {
        // A key of another type reads as null here, not as an error.
        match db.lookup_read(key).and_then(|e| e.value.as_str_mut()) {
            Some(s) => out.bulk(&s.bytes()),
            None => out.null(),
        }
    }
    Ok(())
}

/// Redis's `msetGenericCommand`: key/value pairs, all set or (for MSETNX
/// when any key exists) none. Atomic because the dispatcher holds every
/// key's shard for the whole command.
fn mset_generic(ctx: &mut Ctx, args: &[Vec<u8>], nx: bool) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(error::wrong_arity(if nx { "msetnx" } else { "mset" }));
    }
    let mut db = ctx.db();
    if nx
        && args[1..]
            .iter()
            .step_by(2)
            .any(|k| db.lookup_write(k).is_some())
    {
        ctx.out.int(0);
        return Ok(());
    }
    // Each key's events (`new` from creating it, then `set`) before the
    // next key's, as Redis sends them.
    for pair in args[1..].chunks_exact(2) {
        ctx.db()
            .set(&pair[0], Value::Str(StrValue::from_slice(&pair[1])));
        ctx.notify(notify::STRING, "set", &pair[0]);
    }
    ctx.dirty += (args.len() as u64 - 1) / 2;
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// `MSET key value [key value ...]`
fn mset(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    mset_generic(ctx, args, false)
}

/// `MSETNX key value [key value ...]`
fn msetnx(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    mset_generic(ctx, args, true)
}

/// `APPEND key value`
fn append(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, tail) = (&args[1], &args[2]);
    let max = max_string_len(ctx);
    let mut db = ctx.db();
    let total = match lookup_str(db.lookup_write(key))? {
        None => {
            // A new key holds the argument as SET would store it (an
            // integer stays `int`), even when it is empty.
            db.set(key, Value::Str(StrValue::from_slice(tail)));
            tail.len()
        }
        Some(s) => {
            check_string_length(max, s.len() as u64, tail.len() as u64)?;
            let raw = s.make_raw();
            raw.extend_from_slice(tail);
            let total = raw.len();
            db.signal_modified(key);
            total
        }
    };
    ctx.dirty += 1;
    ctx.notify(notify::STRING, "append", key);
    ctx.out.int(total as i64);
    Ok(())
}

/// `STRLEN key`
fn strlen(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let len = lookup_str(db.lookup_read(&args[1]))?.map_or(0, |s| s.len());
    out.int(len as i64);
    Ok(())
}

/// Redis's `incrDecrCommand`: add `incr` to the integer at `key` (0 if
/// missing), refusing non-integers and overflow. An existing value is
/// replaced in place, so the key keeps its TTL (as `dbOverwrite` does).
fn incr_decr(ctx: &mut Ctx, key: &[u8], incr: i64) -> CommandResult {
    let mut db = ctx.db();
    let value = match lookup_str(db.lookup_write(key))? {
        Some(s) => {
            let current = s.as_i64().ok_or(error::NOT_INTEGER)?;
            let value = current.checked_add(incr).ok_or(error::OVERFLOW)?;
            *s = StrValue::from_i64(value);
            db.signal_modified(key);
            value
        }
        None => {
            db.set(key, Value::Str(StrValue::from_i64(incr)));
            incr
        }
    };
    ctx.dirty += 1;
    ctx.notify(notify::STRING, "incrby", key);
    ctx.out.int(value);
    Ok(())
}

/// `INCR key`
fn incr(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    incr_decr(ctx, &args[1], 1)
}

/// `DECR key`
fn decr(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    incr_decr(ctx, &args[1], -1)
}

/// `INCRBY key increment`
fn incrby(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let incr = args::int(&args[2])?;
    incr_decr(ctx, &args[1], incr)
}

/// `DECRBY key decrement`
fn decrby(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let decr = args::int(&args[2])?;
    // Negating i64::MIN overflows before any addition happens.
    if decr == i64::MIN {
        return Err(CommandError::err("decrement would overflow"));
    }
    incr_decr(ctx, &args[1], -decr)
}

/// `INCRBYFLOAT key increment`
fn incrbyfloat(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, incr) = (&args[1], &args[2]);
    let mut db = ctx.db();
    // Redis computes in `long double` (see `num::ldouble`) and stores the
    // formatted sum as a string, never as `int`. An existing value is
    // replaced in place, keeping its TTL.
    let sum = match lookup_str(db.lookup_write(key))? {
        Some(s) => {
            let sum = ldouble::incr_by_float(&s.bytes(), incr)?;
            *s = StrValue::from_bytes_no_int(sum.clone());
            db.signal_modified(key);
            sum
        }
        None => {
            let sum = ldouble::incr_by_float(b"0", incr)?;
            db.set(key, Value::Str(StrValue::from_bytes_no_int(sum.clone())));
            sum
        }
    };
    ctx.dirty += 1;
    ctx.notify(notify::STRING, "incrbyfloat", key);
    // The float formatting must not be redone on replay: log the result.
    ctx.propagate_as(vec![super::argv([b"SET", key, &sum, b"KEEPTTL"])]);
    ctx.out.bulk(&sum);
    Ok(())
}

/// The byte range GETRANGE returns for a string of `len` bytes, with Redis's
/// index rules: negative indexes count from the end, both ends are clamped,
/// and an inverted range is empty.
fn substring_range(len: usize, start: i64, end: i64) -> Option<std::ops::Range<usize>> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return None;
    }
    Some(start as usize..end as usize + 1)
}

/// `GETRANGE key start end` (and the deprecated `SUBSTR key start end`)
fn getrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let start = args::int(&args[2])?;
    let end = args::int(&args[3])?;
    let (mut db, out) = ctx.db_and_out();
    match lookup_str(db.lookup_read(&args[1]))? {
        None => out.bulk(b""),
        Some(s) => {
            let bytes = s.bytes();
            match substring_range(bytes.len(), start, end) {
                Some(range) => out.bulk(&bytes[range]),
                None => out.bulk(b""),
            }
        }
    }
    Ok(())
}

/// `SETRANGE key offset value`
fn setrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, value) = (&args[1], &args[3]);
    let offset = args::int(&args[2])?;
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let max = max_string_len(ctx);
    let needed = offset as u64 + value.len() as u64;
    let mut db = ctx.db();
    let total = match lookup_str(db.lookup_write(key))? {
        // Nothing to write: report the length, create nothing.
        None if value.is_empty() => 0,
        Some(s) if value.is_empty() => s.len(),
        None => {
            check_string_length(max, offset as u64, value.len() as u64)?;
            // A new key made by SETRANGE is `raw`, however short.
            let mut bytes = zeroed(needed as usize)?;
            bytes[offset as usize..].copy_from_slice(value);
            db.set(key, Value::Str(StrValue::Raw(Box::new(bytes))));
            ctx.dirty += 1;
            ctx.notify(notify::STRING, "setrange", key);
            needed as usize
        }
        Some(s) => {
            check_string_length(max, offset as u64, value.len() as u64)?;
            let (offset, needed) = (offset as usize, needed as usize);
            let raw = s.make_raw();
            if raw.len() < needed {
                raw.try_reserve_exact(needed - raw.len())
                    .map_err(|_| STRING_ALLOC_FAILED)?;
                raw.resize(needed, 0);
            }
            raw[offset..needed].copy_from_slice(value);
            let total = raw.len();
            db.signal_modified(key);
            ctx.dirty += 1;
            ctx.notify(notify::STRING, "setrange", key);
            total
        }
    };
    ctx.out.int(total as i64);
    Ok(())
}

/// Replied when memory for a string the client asked for (within
/// `proto-max-bulk-len`) cannot be had. Redis would abort on out-of-memory
/// instead; a server that keeps running is the better failure here.
pub(super) const STRING_ALLOC_FAILED: CommandError =
    CommandError::canned("ERR Insufficient memory, failed allocating memory for the string");

/// `len` zero bytes, or an error reply if the memory is not available.
pub(super) fn zeroed(len: usize) -> CommandResult<Vec<u8>> {
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len)
        .map_err(|_| STRING_ALLOC_FAILED)?;
    bytes.resize(len, 0);
    Ok(bytes)
}

/// What LCS should reply.
#[derive(Debug, Default)]
struct LcsOptions {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]`
fn lcs(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    // Both values, copied: the table below is far larger anyway.
    let (a, b) = {
        let mut db = ctx.db();
        let mut read = |key: &[u8]| match db.lookup_read(key) {
            None => Ok(Vec::new()),
            Some(entry) => match entry.value.as_str_mut() {
                Some(s) => Ok(s.bytes().to_vec()),
                None => Err(CommandError::err(
                    "The specified keys must contain string values",
                )),
            },
        };
        let a = read(&args[1]);
        let b = read(&args[2]);
        (a?, b?)
    };
    let mut o = LcsOptions::default();
    let mut c = args::Cursor::new(args, 3);
    while let Some(opt) = c.next() {
        if args::is_option(opt, "idx") {
            o.idx = true;
        } else if args::is_option(opt, "len") {
            o.len = true;
        } else if args::is_option(opt, "withmatchlen") {
            o.with_match_len = true;
        } else if args::is_option(opt, "minmatchlen") {
            o.min_match_len = c.next_int()?.max(0) as u64;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if o.len && o.idx {
        return Err(CommandError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    // Redis indexes its table with 32-bit lengths.
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CommandError::err("String too long for LCS"));
    }
    // The table has (|a|+1)·(|b|+1) 32-bit cells; Redis refuses to allocate
    // more than proto-max-bulk-len for it.
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    let bytes = cells.checked_mul(4).ok_or(LCS_ALLOC_FAILED)?;
    if bytes > max_string_len(ctx) {
        return Err(CommandError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    if o.len {
        // Only the length: two rows of the table give the same number.
        ctx.out.int(i64::from(lcs_length(&a, &b)));
        return Ok(());
    }
    let table = LcsTable::build(&a, &b)?;
    let walk = table.walk(&a, &b, o.min_match_len);
    if o.idx {
        let out = &mut *ctx.out;
        out.map(2);
        out.bulk(b"matches");
        out.array(walk.matches.len());
        for m in &walk.matches {
            out.array(2 + usize::from(o.with_match_len));
            out.array(2);
            out.int(i64::from(m.a_start));
            out.int(i64::from(m.a_end));
            out.array(2);
            out.int(i64::from(m.b_start));
            out.int(i64::from(m.b_end));
            if o.with_match_len {
                out.int(i64::from(m.len()));
            }
        }
        out.bulk(b"len");
        out.int(i64::from(table.length()));
    } else {
        ctx.out.bulk(&walk.common);
    }
    Ok(())
}

const LCS_ALLOC_FAILED: CommandError =
    CommandError::canned("ERR Insufficient memory, failed allocating transient memory for LCS");

/// The length of the longest common subsequence, in linear memory.
fn lcs_length(a: &[u8], b: &[u8]) -> u32 {
    let mut previous = vec![0u32; b.len() + 1];
    let mut row = vec![0u32; b.len() + 1];
    for &ca in a {
        for (j, &cb) in b.iter().enumerate() {
            row[j + 1] = if ca == cb {
                previous[j] + 1
            } else {
                previous[j + 1].max(row[j])
            };
        }
        std::mem::swap(&mut previous, &mut row);
    }
    previous[b.len()]
}

/// The dynamic-programming table: cell (i, j) holds the LCS length of
/// `a[..i]` and `b[..j]`. The whole table is kept because the walk back
/// from the corner decides which common subsequence (and which match
/// ranges) is reported, and it must choose exactly as Redis does.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

/// One run of consecutive matching bytes: `a[a_start..=a_end]` equals
/// `b[b_start..=b_end]`.
struct LcsMatch {
    a_start: u32,
    a_end: u32,
    b_start: u32,
    b_end: u32,
}

impl LcsMatch {
    fn len(&self) -> u32 {
        self.a_end - self.a_start + 1
    }
}

/// What the walk back through the table finds.
struct LcsWalk {
    /// The common subsequence itself.
    common: Vec<u8>,
    /// The match ranges, last ones first (as Redis reports them), without
    /// those shorter than MINMATCHLEN.
    matches: Vec<LcsMatch>,
}

impl LcsTable {
    fn build(a: &[u8], b: &[u8]) -> CommandResult<LcsTable> {
        let width = b.len() + 1;
        let size = (a.len() + 1) * width;
        let mut cells = Vec::new();
        cells
            .try_reserve_exact(size)
            .map_err(|_| LCS_ALLOC_FAILED)?;
        cells.resize(size, 0);
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Ok(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    fn length(&self) -> u32 {
        *self.cells.last().unwrap_or(&0)
    }

    /// Walks back from the bottom-right corner as Redis does: on equal bytes
    /// take the byte and go diagonally, otherwise step towards the larger
    /// neighbour (left on a tie), closing a match range whenever the run of
    /// diagonal steps breaks or reaches the start of either string.
    fn walk(&self, a: &[u8], b: &[u8], min_match_len: u64) -> LcsWalk {
        let mut common = vec![0u8; self.length() as usize];
        let mut remaining = common.len();
        let mut matches = Vec::new();
        let mut current: Option<LcsMatch> = None;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                common[remaining - 1] = a[i - 1];
                remaining -= 1;
                let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
                match &mut current {
                    None => {
                        current = Some(LcsMatch {
                            a_start: ai,
                            a_end: ai,
                            b_start: bj,
                            b_end: bj,
                        })
                    }
                    // Contiguous with the range so far: extend it backwards.
                    Some(m) if m.a_start == ai + 1 && m.b_start == bj + 1 => {
                        m.a_start = ai;
                        m.b_start = bj;
                    }
                    Some(_) => emit = true,
                }
                if let Some(m) = &current
                    && (m.a_start == 0 || m.b_start == 0)
                {
                    emit = true;
                }
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit |= current.is_some();
            }
            // A closed range is reported only if long enough.
            if emit
                && let Some(m) = current.take()
                && (min_match_len == 0 || u64::from(m.len()) >= min_match_len)
            {
                matches.push(m);
            }
        }
        LcsWalk { common, matches }
    }
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("get", 2, get).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    Command::new("set", -3, set).syntax("key value [NX|XX] [GET] [EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|KEEPTTL]").flags(WRITE | DENYOOM).keys(1, 1, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "update", "variable_flags"], 1).notes("RW and ACCESS due to the optional `GET` argument")]).getkeys(set_getkeys).doc("string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)"),
    Command::new("setnx", 3, setnx).syntax("key value").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["OW", "insert"]).doc("string", "1.0.0", "Sets the string value of a key only if the key doesn't exist.", "O(1)"),
    Command::new("setex", 4, setex).syntax("key seconds:integer value").flags(WRITE | DENYOOM).keys(1, 1, 1).key_flags(&["OW", "update"]).doc("string", "2.0.0", "Sets the string value and expiration time in seconds of a key.", "O(1)"),
    Command::new("psetex", 4, psetex).syntax("key milliseconds:integer value").flags(WRITE | DENYOOM).keys(1, 1, 1).key_flags(&["OW", "update"]).doc("string", "2.6.0", "Sets the string value and expiration time in milliseconds of a key.", "O(1)"),
    Command::new("getset", 3, getset).syntax("key value").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("string", "1.0.0", "Returns the previous string value of a key after setting it to a new value.", "O(1)"),
    Command::new("getdel", 2, getdel).syntax("key").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("string", "6.2.0", "Returns the string value of a key after deleting the key.", "O(1)"),
    Command::new("getex", -2, getex).syntax("key [EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|PERSIST]").flags(WRITE | FAST).keys(1, 1, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "update"], 1).notes("RW and UPDATE because it changes the TTL")]).doc("string", "6.2.0", "Returns the string value of a key after setting its expiration time.", "O(1)"),
    Command::new("mget", -2, mget).syntax("key ...").flags(READONLY | FAST).keys(1, -1, 1).tips(&["request_policy:multi_shard"]).doc("string", "1.0.0", "Atomically returns the string values of one or more keys.", "O(N) where N is the number of keys to retrieve."),
    Command::new("mset", -3, mset).syntax("(key value) ...").flags(WRITE | DENYOOM).keys(1, -1, 2).key_flags(&["OW", "update"]).tips(&["request_policy:multi_shard", "response_policy:all_succeeded"]).doc("string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", "O(N) where N is the number of keys to set."),
    Command::new("msetnx", -3, msetnx).syntax("(key value) ...").flags(WRITE | DENYOOM).keys(1, -1, 2).key_flags(&["OW", "insert"]).tips(&["request_policy:multi_shard", "response_policy:agg_min"]).doc("string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "O(N) where N is the number of keys to set."),
    Command::new("append", 3, append).syntax("key value").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation."),
    Command::new("strlen", 2, strlen).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("string", "2.2.0", "Returns the length of a string value.", "O(1)"),
    Command::new("incr", 2, incr).syntax("key").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("decr", 2, decr).syntax("key").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("incrby", 3, incrby).syntax("key increment:integer").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("decrby", 3, decrby).syntax("key decrement:integer").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("incrbyfloat", 3, incrbyfloat).syntax("key increment:double").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("string", "2.6.0", "Increments the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("getrange", 4, getrange).syntax("key start:integer end:integer").flags(READONLY).keys(1, 1, 1).doc("string", "2.4.0", "Returns a substring of the string stored at a key.", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings."),
    Command::new("setrange", 4, setrange).syntax("key offset:integer value").flags(WRITE | DENYOOM).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument."),
    Command::new("substr", 4, getrange).syntax("key start:integer end:integer").flags(READONLY).keys(1, 1, 1).doc("string", "1.0.0", "Returns a substring from a string value (deprecated: use GETRANGE).", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings."),
    Command::new("lcs", -3, lcs).syntax("key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]").flags(READONLY).keys(1, 2, 1).doc("string", "7.0.0", "Finds the longest common subsequence of two string values.", "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_ranges_follow_redis() {
        // "hello": the cases observed on Redis 7.0.15.
        assert_eq!(substring_range(5, -3, -1), Some(2..5));
        assert_eq!(substring_range(5, -1, -3), None);
        assert_eq!(substring_range(5, 0, 100), Some(0..5));
        assert_eq!(substring_range(5, 5, 10), None);
        assert_eq!(substring_range(5, -100, -50), Some(0..1));
        assert_eq!(substring_range(5, 3, 2), None);
        assert_eq!(substring_range(5, i64::MIN, i64::MAX), Some(0..5));
        assert_eq!(substring_range(0, 0, -1), None);
        assert_eq!(substring_range(0, -1, 0), None);
    }

    #[test]
    fn lcs_length_agrees_with_the_table() {
        for (a, b) in [
            ("ohmytext", "mynewtext"),
            ("", "abc"),
            ("abc", "abc"),
            ("abcbdab", "bdcaba"),
        ] {
            let table = LcsTable::build(a.as_bytes(), b.as_bytes()).unwrap();
            assert_eq!(lcs_length(a.as_bytes(), b.as_bytes()), table.length());
        }
    }
}
