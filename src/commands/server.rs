//! Server commands: DBSIZE FLUSHDB FLUSHALL SHUTDOWN TIME LASTSAVE.
//!
//! The introspection commands have their own modules: [`super::info`],
//! [`super::config`], [`super::client`], [`super::introspection`]
//! (COMMAND) and [`super::debug`].

use std::sync::atomic::Ordering;

use crate::error::{self, CommandResult};
use crate::state::shutdown::ShutdownMode;
use crate::store::Mode;

use super::Ctx;
use super::args;
use super::table::{Command, Locks, acl, flags::*};

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
    match args.get(1) {
        None => Ok(()),
        Some(mode) if args.len() == 2 && (args::is(mode, "async") || args::is(mode, "sync")) => {
            Ok(())
        }
        Some(_) => Err(error::SYNTAX),
    }
}

/// `FLUSHDB [ASYNC|SYNC]`
fn flushdb(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    flush_mode_ok(args)?;
    let removed = ctx.db().flush();
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

/// `TIME`: unix seconds and microseconds, as two bulk strings.
fn time(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let us = crate::clock::unix_us();
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

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[
    Command::new("dbsize", 1, dbsize)
        .flags(READONLY | FAST)
        .acl(acl::KEYSPACE)
        .locks(Locks::Db(Mode::Read))
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
        .doc("server", "1.0.0", "Returns the number of keys in the database.", "O(1)"),
    Command::new("flushdb", -1, flushdb)
        .syntax("[ASYNC|SYNC]")
        .flags(WRITE)
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .locks(Locks::Db(Mode::Write))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc("server", "1.0.0", "Remove all keys from the current database.", "O(N) where N is the number of keys in the selected database"),
    Command::new("flushall", -1, flushall)
        .syntax("[ASYNC|SYNC]")
        .flags(WRITE)
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .locks(Locks::All(Mode::Write))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc("server", "1.0.0", "Removes all keys from all databases.", "O(N) where N is the total number of keys in all databases"),
    Command::new("shutdown", -1, shutdown)
        .syntax("[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY)
        .doc("server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server.", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
    Command::new("time", 1, time)
        .flags(LOADING | STALE | FAST)
        .tips(&["nondeterministic_output"])
        .doc("server", "2.6.0", "Returns the server time.", "O(1)"),
    Command::new("lastsave", 1, lastsave)
        .flags(LOADING | STALE | FAST)
        .acl(acl::ADMIN | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .doc(
            "server",
            "1.0.0",
            "Returns the Unix timestamp of the last successful save to disk.",
            "O(1)",
        ),
];
