//! MIGRATE (Redis's `cluster.c`): moves keys to another server, sedis or
//! Redis, by sending it RESTORE commands with DUMP payloads over a
//! connection kept for the next MIGRATE ([`crate::net::migrate`]), then
//! deleting the keys the target acknowledged (unless COPY).
//!
//! Redis does the network round trip with its whole server stopped. Here
//! the command holds its keys' shards, write-locked, from the lookup to
//! the deletion: nobody else sees or changes the keys in between, while
//! clients of other shards carry on. A target that is this very server,
//! needing those shards for its RESTORE, waits until MIGRATE times out, as
//! a Redis migrating to itself does.

use std::io;
use std::time::Duration;

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::net::migrate::{ConnectError, Target, TargetCache};
use crate::persist::rdb;

use super::table::{BeginSearch, Command, FindKeys, KeySpecInfo, acl, flags::*};
use super::{Ctx, args};

/// MIGRATE's options.
struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// The keys to move: the one key, or those after KEYS.
    keys: &'a [Vec<u8>],
}

/// Parses the options after the timeout, in Redis's order of checks.
fn options(args: &[Vec<u8>]) -> CommandResult<Options<'_>> {
    let mut o = Options {
        copy: false,
        replace: false,
        username: None,
        password: None,
        keys: &args[3..4],
    };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let word = &args[j];
        if args::is(word, "copy") {
            o.copy = true;
        } else if args::is(word, "replace") {
            o.replace = true;
        } else if args::is(word, "auth") {
            if more < 1 {
                return Err(error::SYNTAX);
            }
            o.password = Some(&args[j + 1]);
            j += 1;
        } else if args::is(word, "auth2") {
            if more < 2 {
                return Err(error::SYNTAX);
            }
            o.username = Some(&args[j + 1]);
            o.password = Some(&args[j + 2]);
            j += 2;
        } else if args::is(word, "keys") {
            if !args[3].is_empty() {
                return Err(CommandError::canned(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            o.keys = &args[j + 1..];
            break;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// Appends one command, as RESP, to `out`.
fn encode(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for arg in argv {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Why a round trip with the target failed: writing or reading, and
/// whether it was a timeout (which is never retried).
struct SocketError {
    writing: bool,
    timed_out: bool,
}

impl SocketError {
    fn new(writing: bool, err: &io::Error) -> SocketError {
        SocketError {
            writing,
            timed_out: matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
        }
    }

    fn reply(&self) -> CommandError {
        CommandError::from_bytes(
            format!(
                "IOERR error or timeout {} to target instance",
                if self.writing { "writing" } else { "reading" }
            )
            .into_bytes(),
        )
    }
}

/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key [key ...]]`
fn migrate(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let o = options(args)?;
    let timeout = args::int(&args[5])?;
    let dbid = args::int(&args[4])?;
    let timeout = if timeout <= 0 { 1000 } else { timeout };
    let timeout = Duration::from_millis(timeout as u64);

    // The keys present now; if none is, there is nothing to move (often a
    // key expired meanwhile), which is not an error.
    let present: Vec<&[u8]> = {
        let mut db = ctx.db();
        o.keys
            .iter()
            .filter(|key| db.lookup_read(key).is_some())
            .map(Vec::as_slice)
            .collect()
    };
    if present.is_empty() {
        ctx.out.simple("NOKEY");
        return Ok(());
    }

    let (host, port) = (&args[1], &args[2]);
    let name = TargetCache::name(host, port);
    let state = ctx.state;
    let cache = &state.migrate_targets;
    let mut may_retry = true;
    loop {
        let connected = match cache.take(&name) {
            Some(target) => Ok(target),
            None => Target::connect(host, port, timeout),
        };
        let attempt = match connected {
            Ok(mut target) => {
                let attempt = round_trip(ctx, &o, &mut target, dbid, timeout, &present, may_retry);
                if matches!(&attempt, Ok(outcome) if !outcome.socket_failed) {
                    cache.put(name.clone(), target);
                }
                // Otherwise the connection is dropped (closed): the next
                // try, or the next MIGRATE, connects afresh and selects
                // again.
                attempt
            }
            Err(ConnectError::Connecting) => {
                return Err(CommandError::canned(
                    "IOERR error or timeout connecting to the client",
                ));
            }
            Err(ConnectError::Writing) => Err(SocketError {
                writing: true,
                timed_out: false,
            }),
        };
        match attempt {
            Ok(outcome) => return outcome.reply,
            Err(failure) => {
                if !failure.timed_out && may_retry {
                    may_retry = false;
                    continue;
                }
                return Err(failure.reply());
            }
        }
    }
}

/// What one exchange with the target ended with, when it got far enough
/// to be final.
struct Outcome {
    reply: CommandResult,
    /// The connection failed after some keys were moved: it is not cached.
    socket_failed: bool,
}

/// One exchange: AUTH and SELECT if needed, one RESTORE per key still
/// alive, then their replies; each acknowledged key is deleted (unless
/// COPY). `Err` asks for a retry on a fresh connection when nothing has
/// been moved yet (and `may_retry`), or for the I/O error reply.
fn round_trip(
    ctx: &mut Ctx,
    o: &Options<'_>,
    target: &mut Target,
    dbid: i64,
    timeout: Duration,
    present: &[&[u8]],
    may_retry: bool,
) -> Result<Outcome, SocketError> {
    let mut request = Vec::new();
    if let Some(password) = o.password {
        let mut auth: Vec<&[u8]> = vec![b"AUTH"];
        auth.extend(o.username);
        auth.push(password);
        encode(&mut request, &auth);
    }
    let select = target.last_db != dbid;
    if select {
        encode(&mut request, &[b"SELECT", dbid.to_string().as_bytes()]);
    }
    let compress = ctx.state.config().rdbcompression;
    let now = ctx.now_ms;
    let mut sent = Vec::with_capacity(present.len());
    {
        let db = ctx.db();
        for &key in present {
            // A key that expired since the lookup is left out.
            let Some(entry) = db.peek(key) else { continue };
            let ttl = match db.expire_at(key) {
                Some(at) => (at - now).max(1),
                None => 0,
            };
            let payload = rdb::dump_payload(&entry.value, compress);
            let ttl = ttl.to_string();
            let mut restore: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), &payload];
            if o.replace {
                restore.push(b"REPLACE");
            }
            encode(&mut request, &restore);
            sent.push(key);
        }
    }

    let io_error = |writing| move |e: io::Error| SocketError::new(writing, &e);
    target.set_timeout(timeout).map_err(io_error(true))?;
    target.send(&request).map_err(io_error(true))?;
    let auth_reply = match o.password {
        Some(_) => Some(target.read_line().map_err(io_error(false))?),
        None => None,
    };
    let select_reply = match select {
        true => Some(target.read_line().map_err(io_error(false))?),
        false => None,
    };
    let refused = |reply: &Option<Vec<u8>>| {
        reply
            .as_ref()
            .filter(|line| line.first() == Some(&b'-'))
            .cloned()
    };

    let mut target_error: Option<CommandError> = None;
    let mut socket_error = None;
    let mut deleted: Vec<Vec<u8>> = Vec::new();
    for (j, &key) in sent.iter().enumerate() {
        let line = match target.read_line() {
            Ok(line) => line,
            Err(e) => {
                socket_error = Some((j, SocketError::new(false, &e)));
                break;
            }
        };
        let error_line = refused(&auth_reply)
            .or_else(|| refused(&select_reply))
            .or_else(|| (line.first() == Some(&b'-')).then(|| line.clone()));
        if let Some(error_line) = error_line {
            if target_error.is_none() {
                // What the target's database is now is unknown.
                target.last_db = -1;
                let mut text = b"ERR Target instance replied with error: ".to_vec();
                text.extend_from_slice(&error_line[1..]);
                target_error = Some(CommandError::from_bytes(text));
            }
        } else if !o.copy {
            ctx.db().delete(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty += 1;
            deleted.push(key.to_vec());
        }
    }
    // Nothing was acknowledged: the connection may just have been stale,
    // and a fresh one is worth a try.
    if let Some((0, failure)) = &socket_error
        && target_error.is_none()
        && may_retry
        && !failure.timed_out
    {
        return Err(SocketError {
            writing: false,
            timed_out: false,
        });
    }
    // Replicas and the append-only file see the keys that moved deleted.
    if !deleted.is_empty() {
        let mut del = vec![b"DEL".to_vec()];
        del.extend(deleted);
        ctx.propagate_as(vec![del]);
    }
    if let Some(error) = target_error {
        return Ok(Outcome {
            reply: Err(error),
            socket_failed: socket_error.is_some(),
        });
    }
    if let Some((_, failure)) = socket_error {
        // Keys may have moved: reported, never retried.
        return Ok(Outcome {
            reply: Err(failure.reply()),
            socket_failed: true,
        });
    }
    target.last_db = dbid;
    ctx.out.ok();
    Ok(Outcome {
        reply: Ok(()),
        socket_failed: false,
    })
}

/// The key arguments, as Redis's `migrateGetKeys` finds them: the key at
/// 3, or, with KEYS (and an empty key argument), every argument after it.
/// The options before KEYS are skipped with their values.
fn migrate_key_positions(args: &[Vec<u8>]) -> Vec<usize> {
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        let word = &args[i];
        if args::is(word, "keys") {
            if args[3].is_empty() {
                first = i + 1;
                num = args.len() - first;
            } else {
                num = 0;
            }
            break;
        }
        if args::is(word, "auth") {
            i += 1;
        } else if args::is(word, "auth2") {
            i += 2;
        }
        i += 1;
    }
    (first..first + num).collect()
}

/// COMMAND GETKEYS: the same keys, each to be read and deleted.
fn migrate_getkeys(args: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    migrate_key_positions(args)
        .into_iter()
        .map(|i| (i, vec!["RW", "access", "delete"]))
        .collect()
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("migrate", -6, migrate).syntax("host port:integer (key|\"\") destination-db:integer timeout:integer [COPY] [REPLACE] [[AUTH password]|[AUTH2 (username password)]] [KEYS key ...]").flags(WRITE).acl(acl::DANGEROUS).found_keys(migrate_key_positions).key_specs(&[KeySpecInfo::key(&["RW", "access", "delete"], 3), KeySpecInfo::new(&["RW", "access", "delete", "incomplete"], BeginSearch::Keyword("KEYS", -2), FindKeys::Range(-1, 1, 0))]).getkeys(migrate_getkeys).tips(&["nondeterministic_output"]).doc("generic", "2.6.0", "Atomically transfer a key from a Redis instance to another one.", "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_argv as argv;

    #[test]
    fn keys_are_found_as_redis_finds_them() {
        let keys = |a: &[&str]| migrate_key_positions(&argv(a));
        assert_eq!(keys(&["migrate", "h", "1", "k", "0", "0"]), [3]);
        assert_eq!(
            keys(&["migrate", "h", "1", "", "0", "0", "copy", "auth", "keys", "keys", "a", "b"]),
            [10, 11]
        );
        assert_eq!(
            keys(&["migrate", "h", "1", "", "0", "0", "auth2", "keys", "keys", "a", "b"]),
            [3]
        );
        assert!(keys(&["migrate", "h", "1", "x", "0", "0", "keys", "a"]).is_empty());
        assert!(keys(&["migrate", "h", "1", "", "0", "0", "keys"]).is_empty());
    }

    #[test]
    fn options_follow_redis_checks() {
        let parsed = |a: &[&str]| options(&argv(a)).map(|o| (o.copy, o.replace, o.keys.len()));
        assert_eq!(parsed(&["migrate", "h", "1", "k", "0", "0"]), Ok((false, false, 1)));
        assert_eq!(
            parsed(&["migrate", "h", "1", "", "0", "0", "COPY", "replace", "KEYS", "a", "b"]),
            Ok((true, true, 2))
        );
        assert_eq!(parsed(&["migrate", "h", "1", "k", "0", "0", "auth"]), Err(error::SYNTAX));
        assert_eq!(parsed(&["migrate", "h", "1", "k", "0", "0", "auth2", "u"]), Err(error::SYNTAX));
        assert_eq!(parsed(&["migrate", "h", "1", "k", "0", "0", "bogus"]), Err(error::SYNTAX));
        assert!(parsed(&["migrate", "h", "1", "k", "0", "0", "keys", "a"]).is_err());
    }
}
