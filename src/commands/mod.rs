//! Commands: the table, the dispatcher, and one module per family.
//!
//! A request goes through [`process`], which does what Redis's
//! `processCommand` does, in the same order: look the command up, check
//! arity, authentication and transaction rules, queue it if a MULTI is open,
//! and otherwise [`call`] it: lock its shards, run its handler, count it.
//! Handlers therefore never re-check the generic conditions.
//!
//! Families (Redis's `t_*.c` files): [`strings`], [`keys`], [`connection`],
//! [`server`]; the introspection commands [`info`], [`config`], [`client`],
//! [`introspection`] (COMMAND) and [`debug`].

pub mod args;
pub mod client;
pub mod config;
pub mod connection;
pub mod debug;
pub mod info;
pub mod introspection;
pub mod keys;
pub mod registry;
pub mod server;
pub mod strings;
pub mod table;

use std::time::Instant;

use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::server::client::Client;
use crate::server::state::State;
use crate::store::{Db, Keyspace, LockPlan, LockSet};

pub use registry::{Resolved, registry};
pub use table::{Command, Handler, KeySpec, LockContext, Locks, flags};

/// Everything a handler works with while it runs.
pub struct Ctx<'c> {
    /// Server-wide state: config, keyspace, clients, stats.
    pub state: &'c State,
    /// The calling connection.
    pub client: &'c mut Client,
    /// Where the reply goes.
    pub out: &'c mut ReplyWriter,
    /// The shards this command holds (see [`Locks`]).
    pub locks: LockSet<'c>,
    /// The time the command runs at (unix ms), read once per command.
    pub now_ms: i64,
    /// Changes made to the dataset (Redis's `server.dirty` increments):
    /// drives `rdb_changes_since_last_save` and persistence.
    pub dirty: u64,
}

impl<'c> Ctx<'c> {
    /// The client's current database, through this command's locks.
    pub fn db(&mut self) -> Db<'_, 'c> {
        self.locks.db(self.client.db, self.now_ms)
    }

    /// The client's database and the reply writer together, for handlers
    /// that reply with data borrowed from the store (no copy).
    pub fn db_and_out(&mut self) -> (Db<'_, 'c>, &mut ReplyWriter) {
        (self.locks.db(self.client.db, self.now_ms), &mut *self.out)
    }

    /// Another database, through this command's locks.
    pub fn db_at(&mut self, index: usize) -> Db<'_, 'c> {
        self.locks.db(index, self.now_ms)
    }

    pub fn keyspace(&self) -> &'c Keyspace {
        self.state.keyspace()
    }
}

/// Lock plan covering the shards of every key the client watches: commands
/// that drop watches (UNWATCH, RESET, EXEC, DISCARD) include it.
pub fn watched_keys_plan(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = LockPlan::new();
    for (db, key) in &lc.client.watched {
        plan.add_key(lc.keyspace, *db, key.as_bytes(), crate::store::Mode::Write);
    }
    plan
}

/// Drops all of the client's WATCHes. The command's lock plan must include
/// [`watched_keys_plan`].
pub fn unwatch_all(ctx: &mut Ctx) {
    let watched = std::mem::take(&mut ctx.client.watched);
    let flag = ctx.client.watch_flag.clone();
    for (db, key) in &watched {
        ctx.db_at(*db).unwatch(key.as_bytes(), &flag);
    }
    flag.store(false, std::sync::atomic::Ordering::Release);
}

/// Runs one request from a client: the generic checks, then queueing or
/// execution. The reply (or error) is written to `out`. Returns the command
/// that was found, if any (CLIENT LIST shows it as `cmd=`).
pub fn process(
    state: &State,
    client: &mut Client,
    out: &mut ReplyWriter,
    args: &[Vec<u8>],
) -> Option<Resolved> {
    if args.is_empty() {
        return None;
    }
    let resolved = match registry().resolve(args) {
        Ok(resolved) => resolved,
        Err(err) => {
            reject(state, client, out, None, &err);
            return None;
        }
    };
    let cmd = resolved.command;
    let refusal = if !cmd.arity_ok(args.len()) {
        Some(error::wrong_arity(resolved.full_name))
    } else if let Some(err) = debug::protected_refusal(state, client, cmd) {
        Some(err)
    } else if client.auth_required(state) && !cmd.has(flags::NO_AUTH) {
        Some(error::NOAUTH)
    } else if client.multi.is_some() && cmd.has(flags::NO_MULTI) {
        Some(error::NOT_ALLOWED_IN_MULTI)
    } else {
        None
    };
    if let Some(err) = refusal {
        reject(state, client, out, Some(&resolved), &err);
        return Some(resolved);
    }
    if let Some(multi) = &mut client.multi
        && !matches!(
            cmd.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        )
    {
        multi.queue.push((resolved, args.to_vec()));
        out.simple("QUEUED");
        return Some(resolved);
    }
    call(state, client, out, &resolved, args);
    Some(resolved)
}

/// Rejects a command before it runs: the error reply, the rejected-calls
/// counter, and (inside MULTI) the transaction is marked to abort at EXEC.
fn reject(
    state: &State,
    client: &mut Client,
    out: &mut ReplyWriter,
    resolved: Option<&Resolved>,
    err: &CommandError,
) {
    if let Some(multi) = &mut client.multi {
        multi.aborted = true;
    }
    if let Some(resolved) = resolved {
        state.command_stats[resolved.id].count_rejected();
    }
    state.stats.count_error(err);
    out.error(err);
}

/// The shards `cmd` must hold to run with `args` for `client`.
pub fn lock_plan(state: &State, client: &Client, cmd: &Command, args: &[Vec<u8>]) -> LockPlan {
    let ks = state.keyspace();
    let mut plan = LockPlan::new();
    match cmd.locks {
        Locks::None => {}
        Locks::Keys(mode) => {
            for i in cmd.keys.positions(args) {
                plan.add_key(ks, client.db, &args[i], mode);
            }
        }
        Locks::Db(mode) => plan.add_db(client.db, mode),
        Locks::All(mode) => plan.add_all(ks, mode),
        Locks::Custom(plan_fn) => {
            plan = plan_fn(&LockContext {
                keyspace: ks,
                client,
                args,
            })
        }
    }
    plan
}

/// Executes a command that passed the checks: locks, runs, counts. Used by
/// [`process`] and by EXEC for each queued command.
pub fn call(
    state: &State,
    client: &mut Client,
    out: &mut ReplyWriter,
    resolved: &Resolved,
    args: &[Vec<u8>],
) {
    let plan = lock_plan(state, client, resolved.command, args);
    let locks = state.keyspace().lock(&plan);
    let result = run_locked(state, client, out, locks, resolved, args);
    if let Err(err) = result {
        out.error(&err);
    }
}

/// Runs a handler under locks already taken (EXEC takes the union of its
/// commands' locks once and runs them all through here). Counts the call.
pub fn run_locked<'c>(
    state: &'c State,
    client: &'c mut Client,
    out: &'c mut ReplyWriter,
    locks: LockSet<'c>,
    resolved: &Resolved,
    args: &[Vec<u8>],
) -> CommandResult {
    let started = Instant::now();
    let mut ctx = Ctx {
        state,
        client,
        out,
        locks,
        now_ms: crate::store::clock::unix_ms(),
        dirty: 0,
    };
    let result = (resolved.command.handler)(&mut ctx, args);
    let dirty = ctx.dirty;
    drop(ctx);
    if dirty > 0 {
        state.add_dirty(dirty);
    }
    let stats = &state.command_stats[resolved.id];
    stats.count_call(started.elapsed());
    if let Err(err) = &result {
        stats.count_failed();
        state.stats.count_error(err);
    }
    result
}
