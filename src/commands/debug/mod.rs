//! DEBUG: the testing aids tools and test suites rely on (Redis's
//! `debug.c`): DIGEST and DIGEST-VALUE ([`digest`]), RELOAD ([`reload`]),
//! PROTOCOL ([`protocol`]), SLEEP, SET-ACTIVE-EXPIRE, POPULATE, OBJECT,
//! ERROR, CHANGE-REPL-ID, STRINGMATCH-TEST, QUICKLIST-PACKED-THRESHOLD,
//! LISTPACK, QUICKLIST and HELP. Subcommands that crash, leak or tune the
//! allocator on purpose are left out: they answer Redis's unknown
//! subcommand error.
//!
//! As in Redis 7.0, DEBUG is a protected command: `enable-debug-command`
//! (`no` by default) decides who may run it, and the dispatcher refuses it
//! otherwise ([`protected_refusal`]) before authentication or MULTI
//! queueing are considered.

pub mod digest;
mod protocol;
mod reload;

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
/// OBJECT, LISTPACK, QUICKLIST and DIGEST-VALUE read their keys, DIGEST
/// reads every database, SLEEP stops the whole keyspace (Redis's server
/// stops entirely). RELOAD takes its own locks: saving needs none held,
/// loading takes them all. The rest touch nothing.
fn debug_locks(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = LockPlan::new();
    let sub = &lc.args[1];
    let argc = lc.args.len();
    let is = |name: &str| args::is(sub, name);
    if is("populate") {
        plan.add_db(lc.db, Mode::Write);
    } else if argc == 3 && (is("object") || is("listpack"))
        || (argc == 3 || argc == 4) && is("quicklist")
    {
        plan.add_key(lc.keyspace, lc.db, &lc.args[2], Mode::Read);
    } else if is("digest-value") {
        for key in &lc.args[2..] {
            plan.add_key(lc.keyspace, lc.db, key, Mode::Read);
        }
    } else if is("digest") {
        plan.add_all(lc.keyspace, Mode::Read);
    } else if is("sleep") {
        plan.add_all(lc.keyspace, Mode::Write);
    }
    plan
}

/// `DEBUG <subcommand> [arg ...]`
fn debug(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let sub = &args[1];
    let is = |name: &str| args::is(sub, name);
    match args.len() {
        2 if is("help") => debug_help(ctx),
        _ if is("reload") => reload::debug_reload(ctx, &args[2..]),
        3 if is("object") => debug_object(ctx, &args[2]),
        3 if is("listpack") => debug_encoding_dump(ctx, &args[2], "listpack"),
        3 | 4 if is("quicklist") => debug_encoding_dump(ctx, &args[2], "quicklist"),
        3..=5 if is("populate") => debug_populate(ctx, args),
        2 if is("digest") => debug_digest(ctx),
        _ if is("digest-value") => debug_digest_value(ctx, &args[2..]),
        3 if is("protocol") => protocol::debug_protocol(ctx, &args[2]),
        3 if is("sleep") => debug_sleep(ctx, &args[2]),
        3 if is("set-active-expire") => {
            // C's atoi: anything that does not start with a non-zero
            // number means 0.
            let on = crate::num::c_atoi(&args[2]) != 0;
            ctx.keyspace().reaper.set_active(on);
            ctx.out.ok();
            Ok(())
        }
        3 if is("quicklist-packed-threshold") => debug_packed_threshold(ctx, &args[2]),
        3 if is("error") => {
            // The argument is the whole error line, code included; line
            // breaks become spaces so it stays one line.
            ctx.out.error(&CommandError::from_bytes(args[2].clone()));
            Ok(())
        }
        2 if is("change-repl-id") => {
            ctx.state
                .log
                .warning("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.state.change_replid();
            ctx.out.ok();
            Ok(())
        }
        2 if is("stringmatch-test") => {
            stringmatch_test();
            ctx.out.simple("Apparently Redis did not crash: test passed");
            Ok(())
        }
        _ => Err(error::subcommand_syntax(&args[0], sub)),
    }
}

/// `DEBUG DIGEST`: the whole dataset's digest, 40 zeros when it is empty.
fn debug_digest(ctx: &mut Ctx) -> CommandResult {
    let mut total = digest::Digest::default();
    for index in 0..ctx.keyspace().databases() {
        let db = ctx.db_at(index);
        let mut keys = Vec::new();
        db.for_each_stored(|key, entry| keys.push(digest::key_value(key.as_bytes(), entry)));
        if !keys.is_empty() {
            digest::add_database(&mut total, index, keys);
        }
    }
    ctx.out.simple(&total.hex());
    Ok(())
}

/// `DEBUG DIGEST-VALUE [key ...]`: each value's digest (without its key's
/// name), 40 zeros for a missing key. Keys past their deadline but not yet
/// removed still count, as in Redis.
fn debug_digest_value(ctx: &mut Ctx, keys: &[Vec<u8>]) -> CommandResult {
    let (db, out) = ctx.db_and_out();
    out.array(keys.len());
    for key in keys {
        let mut value = digest::Digest::default();
        if let Some(entry) = db.peek_stored(key) {
            digest::add_value(&mut value, entry);
        }
        out.simple(&value.hex());
    }
    Ok(())
}

/// `DEBUG LISTPACK key` and `DEBUG QUICKLIST key [0|1]`: Redis prints the
/// encoding's internal layout on its standard output and replies with a
/// status line. sedis's layout is its own, so nothing is printed; the
/// replies, errors included, are Redis's.
fn debug_encoding_dump(ctx: &mut Ctx, key: &[u8], encoding: &str) -> CommandResult {
    let db = ctx.db();
    let found = db.peek(key).ok_or(error::NO_SUCH_KEY)?.value.encoding_name();
    if found != encoding {
        return Err(CommandError::err(format!("Not a {encoding} encoded object.")));
    }
    let title = if encoding == "listpack" { "Listpack" } else { "Quicklist" };
    ctx.out.simple(&format!("{title} structure printed on stdout"));
    Ok(())
}

/// `DEBUG QUICKLIST-PACKED-THRESHOLD size`: the element size from which
/// Redis stores a list element in a node of its own. sedis's lists have no
/// such nodes, so only the argument is checked, with Redis's limits (a
/// memory value up to 4 GB less 1 MB; 0 restores the default).
fn debug_packed_threshold(ctx: &mut Ctx, size: &[u8]) -> CommandResult {
    let size = std::str::from_utf8(size)
        .ok()
        .and_then(crate::config::units::memtoull);
    match size {
        Some(size) if size <= (1 << 32) - (1 << 20) => {
            ctx.out.ok();
            Ok(())
        }
        _ => Err(CommandError::canned(
            "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
        )),
    }
}

/// `DEBUG STRINGMATCH-TEST`: Redis fuzzes its glob matcher with random
/// patterns and strings, to show it neither crashes nor runs away. Ours is
/// fuzzed the same way.
fn stringmatch_test() {
    let mut rng = crate::rng::Rng::new();
    let alphabet = b"ab*?[]^-\\x";
    let random = |rng: &mut crate::rng::Rng| -> Vec<u8> {
        let len = rng.below(32) as usize;
        (0..len)
            .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
            .collect()
    };
    for _ in 0..1000 {
        let pattern = random(&mut rng);
        let text = random(&mut rng);
        let nocase = rng.below(2) == 1;
        let _ = crate::glob::matches(&pattern, &text, nocase);
    }
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

/// `DEBUG HELP`: the subcommands sedis serves, in Redis's words and order.
fn debug_help(ctx: &mut Ctx) -> CommandResult {
    super::introspection::reply_help(
        ctx,
        b"DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "RELOAD [option ...]",
            "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
            "    * MERGE: conflicting keys will be loaded from RDB.",
            "    * NOFLUSH: the existing database will not be removed before load, but",
            "      conflicting keys will generate an exception and kill the server.",
            "    * NOSAVE: the database will be loaded from an existing RDB file.",
            "    Examples:",
            "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
            "      the database.",
            "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
            "      existing RDB file.",
            "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
            "      file to the database.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "STRINGMATCH-TEST",
            "    Run a fuzz tester against the stringmatchlen() function.",
            "LISTPACK <key>",
            "    Show low level info about the listpack encoding of <key>.",
            "QUICKLIST <key> [<0|1>]",
            "    Show low level info about the quicklist encoding of <key>.",
            "    The optional argument (0 by default) sets the level of detail",
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
        assert_eq!(crate::num::c_atoi(b"1"), 1);
        assert_eq!(crate::num::c_atoi(b"  -12abc"), -12);
        assert_eq!(crate::num::c_atoi(b"abc"), 0);
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
