//! Administration commands (Redis's `server` group, less the introspection
//! of [`super::info`], [`super::introspection`], [`super::debug`] and
//! [`super::memory`]): the keyspace as a whole (DBSIZE FLUSHDB FLUSHALL),
//! the server's lifetime and clock (SHUTDOWN TIME LASTSAVE), saving to disk
//! (SAVE BGSAVE BGREWRITEAOF, Redis's `rdb.c` and `aof.c` commands), and
//! CONFIG (`config.c`'s commands).
//!
//! When and how files are written is [`crate::state::saving`]'s and
//! [`crate::state::appendonly`]'s; the formats are [`crate::persist`]'s.
//! The configuration's parameters, their parsers and the rewrite rules
//! live in [`crate::config`].

use std::sync::atomic::Ordering;

use crate::config::SetError;
use crate::error::{self, CommandError, CommandResult};
use crate::state::saving::{self, SaveRefused};
use crate::state::shutdown::ShutdownMode;
use crate::store::Mode;

use super::Ctx;
use super::args;
use super::table::{Command, Locks, acl, flags::*};

// ---- DBSIZE FLUSHDB FLUSHALL SHUTDOWN TIME LASTSAVE --------------------------

/// `DBSIZE`
fn dbsize(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let size = ctx.db().len();
    ctx.out.int(size as i64);
    Ok(())
}

/// FLUSHDB / FLUSHALL take an optional ASYNC or SYNC; both free memory
/// before replying here (there is no background freeing), which satisfies
/// either contract.
fn flush_mode_ok(args: &[Vec<u8>]) -> CommandResult {
    let mut c = args::Cursor::new(args, 1);
    if let Some(mode) = c.next()
        && !(args::is(mode, "async") || args::is(mode, "sync"))
    {
        return Err(error::SYNTAX);
    }
    c.finish()
}

/// `FLUSHDB [ASYNC|SYNC]`
fn flushdb(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    flush_mode_ok(args)?;
    let removed = ctx.db().flush();
    ctx.state.tracking.flushed(&ctx.state.sessions);
    ctx.dirty += removed as u64;
    // Logged even when nothing was removed (Redis forces its propagation).
    ctx.propagate_as(vec![args.to_vec()]);
    ctx.out.ok();
    Ok(())
}

/// `FLUSHALL [ASYNC|SYNC]`
fn flushall(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    flush_mode_ok(args)?;
    let mut removed = 0;
    for db in 0..ctx.keyspace().databases() {
        removed += ctx.db_at(db).flush();
    }
    ctx.state.tracking.flushed(&ctx.state.sessions);
    ctx.dirty += removed as u64;
    ctx.propagate_as(vec![args.to_vec()]);
    ctx.out.ok();
    Ok(())
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. On success the server
/// stops and the client gets no reply: its connection closes.
fn shutdown(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut nosave, mut save, mut force, mut abort) = (false, false, false, false);
    for arg in &args[1..] {
        if args::is(arg, "nosave") {
            nosave = true;
        } else if args::is(arg, "save") {
            save = true;
        } else if args::is(arg, "now") {
            // There are no replicas to wait for: every shutdown is "now".
        } else if args::is(arg, "force") {
            force = true;
        } else if args::is(arg, "abort") {
            abort = true;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if (abort && args.len() > 2) || (nosave && save) {
        return Err(error::SYNTAX);
    }
    if abort {
        // A shutdown here never waits for replicas, so none is ever pending.
        return Err(crate::error::CommandError::err("No shutdown in progress."));
    }
    // Running at all, this command runs beside a script that is past
    // busy-reply-threshold: only NOSAVE may stop the server then, and it
    // stops the script too.
    let script = &ctx.state.script_status;
    if script.is_running() {
        if !nosave {
            return Err(script.busy_error());
        }
        script.abort();
    }
    let mode = match (nosave, save) {
        (true, _) => ShutdownMode::NoSave,
        (_, true) => ShutdownMode::Save,
        _ => ShutdownMode::Default,
    };
    ctx.state.shutdown.request_with(mode, force);
    // Wait for the final save's outcome: on success the server stops and
    // this client gets no reply (its connection closes), as with Redis.
    if ctx.state.shutdown.may_reply() {
        return Err(crate::error::CommandError::err(
            "Errors trying to SHUTDOWN. Check logs.",
        ));
    }
    ctx.client.close_after_reply = true;
    Ok(())
}

/// `TIME`: unix seconds and microseconds, as two bulk strings, by the
/// server's clock (a manual one included).
fn time(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let us = ctx.keyspace().clock.unix_us();
    ctx.out.array(2);
    ctx.out.bulk_int(us / 1_000_000);
    ctx.out.bulk_int(us % 1_000_000);
    Ok(())
}

/// `LASTSAVE`: unix seconds of the last successful save (the start time
/// until something saves).
fn lastsave(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out.int(ctx.state.lastsave.load(Ordering::Relaxed));
    Ok(())
}

// ---- SAVE BGSAVE BGREWRITEAOF ------------------------------------------------

/// `BGREWRITEAOF`: a new base from a snapshot, with the writes since in a
/// new incr file (also turns the AOF on, as in Redis, when it is off).
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    saving::request_rewrite(ctx.state).map_err(|SaveRefused::InProgress| {
        CommandError::err("Background append only file rewriting already in progress")
    })?;
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}

fn in_progress() -> CommandError {
    CommandError::err("Background save already in progress")
}

/// `SAVE`: writes the dump before replying. Unlike Redis, other clients are
/// served meanwhile; the dump is still a point-in-time snapshot.
fn save(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    match saving::save_now(ctx.state, false) {
        Err(SaveRefused::InProgress) => Err(in_progress()),
        Ok(Err(_)) => Err(CommandError::canned("ERR")),
        Ok(Ok(())) => {
            ctx.out.ok();
            Ok(())
        }
    }
}

/// `BGSAVE [SCHEDULE]`
fn bgsave(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut c = args::Cursor::new(args, 1);
    if c.next().is_some_and(|option| !args::is(option, "schedule")) {
        return Err(error::SYNTAX);
    }
    c.finish()?;
    saving::request_bgsave(ctx.state).map_err(|SaveRefused::InProgress| in_progress())?;
    // Inside a transaction the save begins once EXEC releases its locks.
    if ctx.client.in_exec {
        ctx.out.simple("Background saving scheduled");
    } else {
        ctx.out.simple("Background saving started");
    }
    Ok(())
}

// ---- CONFIG ------------------------------------------------------------------

/// `CONFIG <subcommand>`: every call with a known subcommand is routed to
/// it and a bare CONFIG fails on arity, so this only answers the rest.
fn config_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("config", &args[1]))
}

/// `CONFIG GET parameter [parameter ...]`: a map (a flat array in RESP2) of
/// the matching parameters ([`crate::config::Config::get_matching`]).
fn config_get(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let found = ctx.state.config().get_matching(&args[2..]);
    ctx.out.map(found.len());
    for (name, value) in found {
        ctx.out.bulk(&name);
        ctx.out.bulk(value.as_bytes());
    }
    Ok(())
}

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing,
/// with Redis 7.0's errors. Existing connections keep their
/// authentication when `requirepass` changes; new ones must AUTH.
fn config_set(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..]
        .chunks(2)
        .map(|pair| (pair[0].as_slice(), pair[1].as_slice()))
        .collect();
    let protected_allowed = ctx
        .state
        .config()
        .enable_protected_configs
        .allows(ctx.client.handle.addr.ip());
    let text = match ctx.state.set_config(&pairs, protected_allowed) {
        Ok(()) => {
            ctx.out.ok();
            return Ok(());
        }
        Err(SetError::Unknown(name)) => [
            b"ERR Unknown option or number of arguments for CONFIG SET - '".as_slice(),
            error::c_str_prefix(&name, usize::MAX),
            b"'",
        ]
        .concat(),
        Err(SetError::Failed { name, reason }) => [
            b"ERR CONFIG SET failed (possibly related to argument '".as_slice(),
            error::c_str_prefix(&name, usize::MAX),
            b"') - ",
            reason.as_bytes(),
        ]
        .concat(),
    };
    Err(CommandError::from_bytes(text))
}

/// `CONFIG RESETSTAT`: zeroes INFO's statistics and command statistics.
fn config_resetstat(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.state.reset_stats();
    ctx.out.ok();
    Ok(())
}

/// `CONFIG REWRITE`: writes the running configuration into the file the
/// server was started with.
fn config_rewrite(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let config = ctx.state.config().clone();
    let Some(path) = &config.config_file else {
        return Err(CommandError::err(
            "The server is running without a config file",
        ));
    };
    match config.rewrite_file(path) {
        Ok(()) => {
            ctx.state
                .log
                .warning("CONFIG REWRITE executed with success.");
            ctx.out.ok();
            Ok(())
        }
        Err(err) => {
            let reason = crate::error::strerror(&err);
            ctx.state
                .log
                .warning(&format!("CONFIG REWRITE failed: {reason}"));
            Err(CommandError::err(format_args!(
                "Rewriting config file: {reason}"
            )))
        }
    }
}

// `CONFIG HELP`
help_command!(
    config_help,
    [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ]
);

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("dbsize", 1, dbsize).flags(READONLY | FAST).acl(acl::KEYSPACE).locks(Locks::Db(Mode::Read)).tips(&["request_policy:all_shards", "response_policy:agg_sum"]).doc("server", "1.0.0", "Returns the number of keys in the database.", "O(1)"),
    Command::new("flushdb", -1, flushdb).syntax("[ASYNC|SYNC]").flags(WRITE).acl(acl::KEYSPACE | acl::DANGEROUS).locks(Locks::Db(Mode::Write)).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("server", "1.0.0", "Remove all keys from the current database.", "O(N) where N is the number of keys in the selected database"),
    Command::new("flushall", -1, flushall).syntax("[ASYNC|SYNC]").flags(WRITE).acl(acl::KEYSPACE | acl::DANGEROUS).locks(Locks::All(Mode::Write)).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("server", "1.0.0", "Removes all keys from all databases.", "O(N) where N is the total number of keys in all databases"),
    Command::new("shutdown", -1, shutdown).syntax("[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]").flags(ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY).doc("server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    Command::new("time", 1, time).flags(LOADING | STALE | FAST).tips(&["nondeterministic_output"]).doc("server", "2.6.0", "Returns the server time.", "O(1)"),
    Command::new("lastsave", 1, lastsave).flags(LOADING | STALE | FAST).acl(acl::ADMIN | acl::DANGEROUS).tips(&["nondeterministic_output"]).doc("server", "1.0.0", "Returns the Unix timestamp of the last successful save to disk.", "O(1)"),
    Command::new("save", 1, save).flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI).doc("server", "1.0.0", "Synchronously saves the database(s) to disk.", "O(N) where N is the total number of keys in all databases"),
    Command::new("bgsave", -1, bgsave).syntax("[SCHEDULE]").flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING).doc("server", "1.0.0", "Asynchronously saves the database(s) to disk.", "O(1)"),
    Command::new("bgrewriteaof", 1, bgrewriteaof).flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING).doc("server", "1.0.0", "Asynchronously rewrites the append-only file to disk.", "O(1)"),
    Command::new("config", -2, config_container).subcommands(CONFIG_SUBCOMMANDS).doc("server", "2.0.0", "A container for server configuration commands.", "Depends on subcommand."),
];

/// CONFIG's subcommands.
#[rustfmt::skip]
static CONFIG_SUBCOMMANDS: &[Command] = &[
    Command::new("get", -3, config_get).syntax("(parameter) ...").flags(ADMIN | NOSCRIPT | LOADING | STALE).doc("server", "2.0.0", "Returns the effective values of configuration parameters.", "O(N) when N is the number of configuration parameters provided"),
    Command::new("help", 2, config_help).flags(LOADING | STALE).doc("server", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
    Command::new("resetstat", 2, config_resetstat).flags(ADMIN | NOSCRIPT | LOADING | STALE).doc("server", "2.0.0", "Resets the server's statistics.", "O(1)"),
    Command::new("rewrite", 2, config_rewrite).flags(ADMIN | NOSCRIPT | LOADING | STALE).doc("server", "2.8.0", "Persists the effective configuration to file.", "O(1)"),
    Command::new("set", -4, config_set).syntax("(parameter value) ...").flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("server", "2.0.0", "Sets configuration parameters in-flight.", "O(N) when N is the number of configuration parameters provided"),
];
