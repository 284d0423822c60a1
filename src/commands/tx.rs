//! Transactions (Redis's `multi.c`): MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! Queueing happens in the dispatcher (`commands::process`): inside MULTI,
//! every command not flagged `NOT_QUEUED` (EXEC, DISCARD, MULTI, WATCH,
//! QUIT, RESET) is checked
//! (existence, arity, auth) and queued; a rejected one makes EXEC fail with
//! EXECABORT. EXEC rejected itself by those checks (memory over `maxmemory`
//! since the queueing, say) discards the transaction with an EXECABORT that
//! says why ([`abort`]).
//!
//! EXEC is atomic because its lock plan is the union of the shards every
//! queued command needs (following any SELECT queued before them) plus the
//! watched keys: the whole transaction runs under one set of locks, taken in
//! ascending order, so no other client sees part of it.
//!
//! WATCH registers the client's dirty flag on each key's shard; any write to
//! the key sets it (see `Shard::signal_modified`), and EXEC then replies with
//! a null array instead of running anything.

use std::sync::atomic::Ordering;

use crate::clock;
use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::state::State;
use crate::state::session::Session;
use crate::store::{Key, LockPlan};

use super::registry::registry;
use super::table::{Command, LockContext, Locks, flags::*};
use super::{Ctx, lock_plan, run, unwatch_all, watched_keys_plan};

/// `MULTI`
fn multi(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Default::default());
    ctx.out.ok();
    Ok(())
}

/// `DISCARD`
fn discard(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    if ctx.client.multi.take().is_none() {
        return Err(CommandError::err("DISCARD without MULTI"));
    }
    unwatch_all(ctx);
    ctx.out.ok();
    Ok(())
}

/// `WATCH key [key ...]`
fn watch(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("WATCH inside MULTI is not allowed"));
    }
    // Already dirty: EXEC will fail whatever else is watched.
    if !ctx.client.watch_flag.load(Ordering::Acquire) {
        let flag = ctx.client.watch_flag.clone();
        let db = ctx.client.db;
        for key in &args[1..] {
            let already = ctx
                .client
                .watched
                .iter()
                .any(|(d, k)| *d == db && k.as_bytes() == key.as_slice());
            if !already {
                ctx.db().watch(key, &flag);
                ctx.client.watched.push((db, Key::new(key)));
            }
        }
    }
    ctx.out.ok();
    Ok(())
}

/// `UNWATCH`
fn unwatch(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    unwatch_all(ctx);
    ctx.out.ok();
    Ok(())
}

/// EXEC's locks: the watched keys, and every shard each queued command needs
/// in the database it will run in (a queued SELECT moves the following
/// commands to its database).
fn exec_plan(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = watched_keys_plan(lc);
    let Some(multi) = &lc.client.multi else {
        return plan;
    };
    let mut db = lc.db;
    for (id, args) in &multi.queue {
        let resolved = registry().resolved(*id);
        plan.merge(&lock_plan(
            lc.keyspace,
            lc.client,
            db,
            resolved.command,
            args,
        ));
        if resolved.command.has(SELECTS_DB)
            && let Ok(index) = super::args::db_index(&args[1], lc.keyspace.databases())
        {
            db = index;
        }
    }
    plan
}

/// Logs the writes EXEC's commands collected as one MULTI ... EXEC block,
/// still under EXEC's locks, so a replay applies all of it or none.
fn log_transaction(ctx: &mut Ctx) {
    let collected = std::mem::take(&mut ctx.client.exec_log);
    super::log_block(ctx, &collected, true);
}

/// EXEC refused before it could run (OOM, MISCONF, NOAUTH, a wrong argument
/// count, RESP2 subscribed mode...), as Redis's `execCommandAbort` handles
/// it: the transaction is discarded, whether or not one was open, and every
/// key is unwatched, so a client retrying starts afresh rather than queueing
/// onto a transaction it believes gone. Returns the EXECABORT error quoting
/// `refusal`, for the caller to send and count. Nothing was run, so nothing
/// reaches the append-only file.
pub fn abort(
    state: &State,
    client: &mut Session,
    out: &mut ReplyWriter,
    refusal: &CommandError,
) -> CommandError {
    client.multi = None;
    let ks = state.keyspace();
    let plan = watched_keys_plan(&LockContext {
        keyspace: ks,
        client,
        db: client.db,
        args: &[],
    });
    let mut ctx = Ctx {
        state,
        client,
        out,
        locks: ks.lock(&plan),
        now_ms: clock::unix_ms(),
        dirty: 0,
        propagate: None,
    };
    unwatch_all(&mut ctx);
    error::exec_abort(refusal)
}

/// `EXEC`
fn exec(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::err("EXEC without MULTI"));
    };
    let flag = ctx.client.watch_flag.clone();
    let watched = ctx.client.watched.clone();
    let touched = flag.load(Ordering::Acquire)
        || watched.iter().any(|(db, key)| {
            ctx.db_at(*db)
                .watched_key_expired_since(key.as_bytes(), &flag)
        });
    unwatch_all(ctx);
    if multi.aborted {
        return Err(CommandError::canned(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    if touched {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.out.array(multi.queue.len());
    ctx.client.in_exec = true;
    let ks = ctx.keyspace();
    for (id, args) in &multi.queue {
        let resolved = &registry().resolved(*id);
        // Each queued command runs in its own context, under the locks EXEC
        // took for all of them.
        let locks = std::mem::replace(&mut ctx.locks, ks.lock(&LockPlan::new()));
        let mut inner = Ctx {
            state: ctx.state,
            client: &mut *ctx.client,
            out: &mut *ctx.out,
            locks,
            now_ms: ctx.now_ms,
            dirty: 0,
            propagate: None,
        };
        if let Err(err) = run(&mut inner, resolved, args, clock::unix_us()) {
            inner.out.error(&err);
        }
        let Ctx { locks, .. } = inner;
        ctx.locks = locks;
    }
    ctx.client.in_exec = false;
    log_transaction(ctx);
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("multi", 1, multi).flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NOT_QUEUED).doc("transactions", "1.2.0", "Starts a transaction.", "O(1)"),
    Command::new("exec", 1, exec).flags(NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | NOT_QUEUED | ENDS_MULTI | RUNS_QUEUE).locks(Locks::Custom(exec_plan)).doc("transactions", "1.2.0", "Executes all commands in a transaction.", "Depends on commands in the transaction"),
    Command::new("discard", 1, discard).flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NOT_QUEUED | ENDS_MULTI).locks(Locks::Custom(watched_keys_plan)).doc("transactions", "2.0.0", "Discards a transaction.", "O(N), when N is the number of queued commands"),
    Command::new("watch", -2, watch).syntax("key ...").flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NOT_QUEUED).keys(1, -1, 1).key_flags(&["RO"]).doc("transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction.", "O(1) for every key."),
    Command::new("unwatch", 1, unwatch).flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY).locks(Locks::Custom(watched_keys_plan)).doc("transactions", "2.2.0", "Forgets about watched keys of a transaction.", "O(1)"),
];
