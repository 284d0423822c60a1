//! DEBUG: the testing aids tools and test suites rely on (Redis's
//! `debug.c`): SLEEP, SET-ACTIVE-EXPIRE, POPULATE, OBJECT, HELP.
//!
//! As in Redis 7.0, DEBUG is a protected command: `enable-debug-command`
//! (`no` by default) decides who may run it, and the dispatcher refuses it
//! otherwise ([`protected_refusal`]) before authentication or MULTI
//! queueing are considered.

use crate::clock::idle_ms;
use crate::config::ProtectedAction;
use crate::error::{self, CommandError, CommandResult};
use crate::state::State;
use crate::state::session::Session;
use crate::store::{LockPlan, Mode, StrValue, Value};

use super::Ctx;
use super::args;
use super::table::{Command, LockContext, Locks, flags::*};

/// The refusal for a protected command the configuration does not allow
/// this client to run (Redis checks this right after arity).
pub fn protected_refusal(state: &State, client: &Session, cmd: &Command) -> Option<CommandError> {
    if !cmd.has(PROTECTED) {
        return None;
    }
    let allowed = state.config().enable_debug_command;
    if allowed == ProtectedAction::Yes || allowed.allows(client.handle.addr.ip()) {
        return None;
    }
    Some(CommandError::canned(
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
    ))
}

/// What each subcommand touches: POPULATE writes the client's database,
/// OBJECT reads one key, SLEEP stops the whole keyspace (Redis's server
/// stops entirely), the rest touch nothing.
fn debug_locks(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = LockPlan::new();
    let sub = &lc.args[1];
    if args::is(sub, "populate") {
        plan.add_db(lc.client.db, Mode::Write);
    } else if args::is(sub, "object") && lc.args.len() == 3 {
        plan.add_key(lc.keyspace, lc.client.db, &lc.args[2], Mode::Read);
    } else if args::is(sub, "sleep") {
        plan.add_all(lc.keyspace, Mode::Write);
    }
    plan
}

/// `DEBUG <subcommand> [arg ...]`
fn debug(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let sub = &args[1];
    match args.len() {
        2 if args::is(sub, "help") => debug_help(ctx),
        3 if args::is(sub, "sleep") => debug_sleep(ctx, &args[2]),
        3 if args::is(sub, "set-active-expire") => {
            // C's atoi: anything that does not start with a non-zero
            // number means 0.
            let on = leading_int(&args[2]) != 0;
            ctx.keyspace().reaper.set_active(on);
            ctx.out.ok();
            Ok(())
        }
        3 if args::is(sub, "object") => debug_object(ctx, &args[2]),
        3..=5 if args::is(sub, "populate") => debug_populate(ctx, args),
        _ => Err(error::subcommand_syntax(&args[0], sub)),
    }
}

/// C's `atoi`: optional blanks and sign, then digits up to the first
/// non-digit; 0 if there are none.
fn leading_int(arg: &[u8]) -> i64 {
    let s = std::str::from_utf8(arg).unwrap_or("").trim_start();
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

/// C's `strtod` on a prefix: the longest leading float, 0 if none.
fn leading_float(arg: &[u8]) -> f64 {
    let s = std::str::from_utf8(arg).unwrap_or("").trim_start();
    (1..=s.len())
        .rev()
        .filter(|&end| s.is_char_boundary(end))
        .find_map(|end| s[..end].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// `DEBUG SLEEP seconds`: decimals allowed; a value that is not a number
/// sleeps 0. While it sleeps, every database is locked, so the keyspace
/// stands still as a Redis server does; a shutdown ends the sleep early.
fn debug_sleep(ctx: &mut Ctx, seconds: &[u8]) -> CommandResult {
    let seconds = leading_float(seconds);
    if seconds.is_finite() && seconds > 0.0 {
        let duration = std::time::Duration::from_secs_f64(seconds.min(1e9));
        ctx.state.shutdown.wait_timeout(duration);
    }
    ctx.out.ok();
    Ok(())
}

/// `DEBUG POPULATE count [prefix] [size]`: creates string keys
/// `<prefix>:<n>` (prefix `key` by default) holding `value:<n>`, cut or
/// zero-padded to `size` bytes when a size is given. Existing keys are left
/// alone. Like Redis, this is not counted as changes to the dataset.
fn debug_populate(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let count = positive(&args[2])?;
    let size = match args.get(4) {
        Some(size) => Some(positive(size)? as usize),
        None => None,
    };
    let prefix: &[u8] = args.get(3).map_or(b"key", Vec::as_slice);
    let prefix = error::c_str_prefix(prefix, usize::MAX).to_vec();
    let mut db = ctx.db();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for n in 0..count {
        key.clear();
        key.extend_from_slice(&prefix);
        key.push(b':');
        key.extend_from_slice(n.to_string().as_bytes());
        if db.lookup_write(&key).is_some() {
            continue;
        }
        let mut value = format!("value:{n}").into_bytes();
        if let Some(size) = size {
            value.resize(size, 0);
        }
        db.set(&key, Value::Str(StrValue::from_bytes_no_int(value)));
    }
    ctx.out.ok();
    Ok(())
}

/// A count or size argument (Redis's `getPositiveLongFromObjectOrReply`).
fn positive(arg: &[u8]) -> CommandResult<i64> {
    let n = args::int(arg)?;
    if n < 0 {
        return Err(error::MUST_BE_POSITIVE);
    }
    Ok(n)
}

/// `DEBUG OBJECT key`: Redis's one-line summary of the value. sedis never
/// shares values, so `refcount` is 1; `serializedlength` is the length the
/// value takes in an RDB file without compression; `lru` is the LRU clock
/// (seconds, 24 bits) at the last access.
fn debug_object(ctx: &mut Ctx, key: &[u8]) -> CommandResult {
    let now = ctx.now_ms;
    let (db, out) = ctx.db_and_out();
    let entry = db.peek(key).ok_or(error::NO_SUCH_KEY)?;
    let stamp = entry.access_stamp();
    let idle = idle_ms(stamp, now);
    let last_access_secs = (now - idle) / 1000;
    let line = format!(
        "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &entry.value,
        entry.value.encoding_name(),
        serialized_length(&entry.value),
        last_access_secs & ((1 << 24) - 1),
        idle / 1000
    );
    out.simple(&line);
    Ok(())
}

/// The bytes RDB uses for `value` without compression: integers that fit
/// 8, 16 or 32 bits take a one-byte header and the integer, everything
/// else a length header (1, 2, 5 or 9 bytes) and the string.
fn serialized_length(value: &Value) -> usize {
    match value {
        Value::Str(s) => {
            let bytes = s.bytes();
            // RDB stores strings of up to 11 bytes that read back as the
            // same integer in the integer encoding.
            let as_int = (bytes.len() <= 11)
                .then(|| crate::num::parse_i64(&bytes))
                .flatten();
            match as_int {
                Some(n) if i8::try_from(n).is_ok() => 2,
                Some(n) if i16::try_from(n).is_ok() => 3,
                Some(n) if i32::try_from(n).is_ok() => 5,
                _ => length_header(bytes.len()) + bytes.len(),
            }
        }
        other => {
            // The RDB encoder's own output, less the type byte, the empty
            // key's length byte and the end marker with its checksum.
            let mut encoder = crate::persist::rdb::Encoder::new(Vec::new(), false, false);
            let written = encoder
                .key_value(b"", other, None)
                .and_then(|()| encoder.finish());
            written.map_or(0, |bytes| bytes.len().saturating_sub(1 + 1 + 9))
        }
    }
}

/// RDB's length encoding size.
fn length_header(len: usize) -> usize {
    match len {
        0..64 => 1,
        64..16384 => 2,
        _ if len <= u32::MAX as usize => 5,
        _ => 9,
    }
}

/// `DEBUG HELP`: the subcommands sedis serves, in Redis's words.
fn debug_help(ctx: &mut Ctx) -> CommandResult {
    super::introspection::reply_help(
        ctx,
        b"DEBUG",
        &[
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    );
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[Command::new("debug", -2, debug)
    .flags(ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED)
    .locks(Locks::Custom(debug_locks))
    .doc(
        "server",
        "1.0.0",
        "A container for debugging commands.",
        "Depends on subcommand.",
    )];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_prefixes() {
        assert_eq!(leading_int(b"1"), 1);
        assert_eq!(leading_int(b"  -12abc"), -12);
        assert_eq!(leading_int(b"abc"), 0);
        assert_eq!(leading_float(b"0.25"), 0.25);
        assert_eq!(leading_float(b"1.5s"), 1.5);
        assert_eq!(leading_float(b"x"), 0.0);
    }

    #[test]
    fn serialized_lengths_follow_rdb() {
        let s = |v: &str| Value::Str(StrValue::from_slice(v.as_bytes()));
        assert_eq!(serialized_length(&s("12")), 2);
        assert_eq!(serialized_length(&s("1000")), 3);
        assert_eq!(serialized_length(&s("100000")), 5);
        assert_eq!(serialized_length(&s("12345678901")), 12);
        assert_eq!(serialized_length(&s("value:1")), 8);
        assert_eq!(serialized_length(&s(&"x".repeat(100))), 102);
    }
}
