//! Commands: the table, the dispatcher, and one module per family.
//!
//! A request goes through [`process`], which does what Redis's
//! `processCommand` does, in the same order: look the command up, check
//! arity, authentication and transaction rules, queue it if a MULTI is open,
//! and otherwise [`call`] it: lock its shards, run its handler, count it.
//! Handlers therefore never re-check the generic conditions.
//!
//! # Where each command lives
//!
//! One module per family (Redis's `t_*.c` files and command groups); each
//! module's command table is at its end. By command name:
//!
//! | Commands | Module |
//! | --- | --- |
//! | GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SETRANGE SUBSTR LCS | [`strings`] |
//! | SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO | [`bitmaps`] |
//! | PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST | [`hyperloglog`] |
//! | LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP | [`lists`] |
//! | HSET HSETNX HMSET HGET HMGET HGETALL HKEYS HVALS HDEL HLEN HEXISTS HSTRLEN HINCRBY HINCRBYFLOAT HSCAN HRANDFIELD | [`hashes`] |
//! | SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN | [`sets`] |
//! | ZADD ZINCRBY ZSCORE ZMSCORE ZCARD ZRANK ZREVRANK ZREM ZRANDMEMBER ZSCAN | [`zsets`] (`members.rs`) |
//! | ZRANGE ZRANGESTORE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE ZCOUNT ZLEXCOUNT ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX | [`zsets`] (`range.rs`) |
//! | ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP | [`zsets`] (`pops.rs`) |
//! | ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD | [`zsets`] (`setops.rs`) |
//! | GEOADD GEOPOS GEODIST GEOHASH GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO GEOSEARCH GEOSEARCHSTORE | [`geo`] |
//! | XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID XREAD XREADGROUP | [`streams`] |
//! | XGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO | [`stream_groups`] |
//! | DEL UNLINK EXISTS TYPE TOUCH KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE SWAPDB EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL PERSIST OBJECT | [`keys`] |
//! | SORT SORT_RO | [`sort`] |
//! | DUMP RESTORE | [`dump`] |
//! | MIGRATE | [`migrate`] |
//! | MONITOR SLOWLOG LATENCY | [`observe`] |
//! | PING ECHO QUIT SELECT HELLO AUTH RESET CLIENT | [`connection`] |
//! | MULTI EXEC DISCARD WATCH UNWATCH | [`tx`] |
//! | SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH PUBSUB | [`pubsub`] |
//! | DBSIZE FLUSHDB FLUSHALL SHUTDOWN TIME LASTSAVE SAVE BGSAVE BGREWRITEAOF CONFIG | [`admin`] |
//! | INFO | [`info`] |
//! | REPLCONF SYNC PSYNC WAIT ROLE REPLICAOF SLAVEOF | [`replication`] |
//! | COMMAND | [`introspection`] |
//! | DEBUG | [`debug`] |
//! | LOLWUT | [`lolwut`] |
//! | MEMORY | [`memory`] |
//! | EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO SCRIPT FUNCTION | [`scripting`] |
//!
//! Around them: [`table`] (what a command declares),
//! [`registry`](mod@registry) (every family's table in one lookup),
//! [`syntax`] (the argument synopses COMMAND DOCS reports), [`blocking`]
//! (clients blocked on keys, served after each command), and what several
//! families share: [`args`] (argument parsing with Redis's errors),
//! [`typed`] (a key's value as the type a command expects) and
//! [`sampling`] (the random-member commands' rules).

/// A container's `HELP` subcommand: Redis's help reply (the usage line,
/// these lines, then HELP itself), as `addReplyHelp` writes it.
macro_rules! help_command {
    ($name:ident, [$($line:expr),* $(,)?]) => {
        fn $name(ctx: &mut $crate::commands::Ctx, args: &[Vec<u8>]) -> $crate::error::CommandResult {
            $crate::commands::introspection::reply_help(ctx, &args[0], &[$($line),*]);
            Ok(())
        }
    };
}

pub mod admin;
pub mod args;
pub mod bitmaps;
pub mod blocking;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod info;
pub mod introspection;
pub mod keys;
pub mod lists;
pub mod lolwut;
pub mod memory;
pub mod migrate;
pub mod observe;
pub mod pubsub;
pub mod registry;
pub mod replication;
pub mod sampling;
pub mod scripting;
pub mod sort;
pub mod sets;
pub mod stream_groups;
pub mod streams;
pub mod strings;
pub mod syntax;
pub mod table;
pub mod tracking;
pub mod tx;
pub mod typed;
pub mod zsets;

use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::state::State;
use crate::state::session::{MultiState, Session};
use crate::store::{Db, Keyspace, LockPlan, LockSet};

pub use registry::{Resolved, registry};
pub use table::{Command, Handler, KeySpec, LockContext, Locks, flags};

/// Everything a handler works with while it runs. `'k` is the server's
/// lifetime (state and the shard locks borrow from it); `'c` is the
/// command's borrow of its connection. Keeping them apart lets EXEC move its
/// locks into each queued command's context and take them back.
pub struct Ctx<'c, 'k> {
    /// Server-wide state: config, keyspace, clients, stats.
    pub state: &'k State,
    /// The calling connection.
    pub client: &'c mut Session,
    /// Where the reply goes.
    pub out: &'c mut ReplyWriter,
    /// The shards this command holds (see [`Locks`]).
    pub locks: LockSet<'k>,
    /// The time the command runs at (unix ms), read once per command.
    pub now_ms: i64,
    /// Changes made to the dataset (Redis's `server.dirty` increments):
    /// drives `rdb_changes_since_last_save` and persistence.
    pub dirty: u64,
    /// What to log to the append-only file instead of the command as
    /// received (see [`Ctx::propagate_as`]).
    pub propagate: Option<Vec<Vec<Vec<u8>>>>,
}

impl<'k> Ctx<'_, 'k> {
    /// The client's current database, through this command's locks.
    pub fn db(&mut self) -> Db<'_, 'k> {
        self.locks.db(self.client.db, self.now_ms)
    }

    /// The client's database and the reply writer together, for handlers
    /// that reply with data borrowed from the store (no copy).
    pub fn db_and_out(&mut self) -> (Db<'_, 'k>, &mut ReplyWriter) {
        (self.locks.db(self.client.db, self.now_ms), &mut *self.out)
    }

    /// Another database, through this command's locks.
    pub fn db_at(&mut self, index: usize) -> Db<'_, 'k> {
        self.locks.db(index, self.now_ms)
    }

    pub fn keyspace(&self) -> &'k Keyspace {
        self.state.keyspace()
    }

    /// Reports a keyspace event on `key` in the client's database (Redis's
    /// `notifyKeyspaceEvent`): `class` is one of [`crate::channels::notify`]'s
    /// classes, `event` Redis's event name (`set`, `del`, `lpush`...). One
    /// relaxed atomic load when notifications are off.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.notify_in(db, class, event, key);
    }

    /// Publishes noted events, in order, in the client's database.
    pub fn notify_all(&mut self, events: crate::channels::notify::Events) {
        for event in events {
            self.notify(event.class, event.name, &event.key);
        }
    }

    /// [`Ctx::notify`] for a key in database `db` (MOVE, COPY ... DB).
    #[inline]
    pub fn notify_in(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        if self.state.pubsub.notifies(class) {
            self.publish_event(db, class, event, key);
        }
    }

    #[cold]
    fn publish_event(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        let own = crate::channels::Own {
            client_id: self.client.id,
            out: &mut *self.out,
        };
        self.state
            .pubsub
            .notify_keyspace_event(class, event, key, db, Some(own));
    }

    /// Logs these commands to the append-only file instead of the one that
    /// ran (Redis's `rewriteClientCommandVector`): for commands whose effect
    /// depends on the moment (relative expiries become PXAT/PEXPIREAT), on
    /// chance (SPOP becomes SREM) or on float formatting (INCRBYFLOAT becomes
    /// SET ... KEEPTTL). An empty list logs nothing. Without a call, a
    /// command that changed data is logged as received.
    pub fn propagate_as(&mut self, commands: Vec<Vec<Vec<u8>>>) {
        self.propagate = Some(commands);
    }
}

/// Logs what a command changed to the append-only file, while the command
/// still holds its shard locks, so the file orders writes to one key exactly
/// as they ran. Inside EXEC the commands are collected and EXEC logs them as
/// one MULTI ... EXEC block.
fn log_for_aof(ctx: &mut Ctx, args: &[Vec<u8>], changed: bool) {
    let log = &ctx.state.aof.log;
    let replaced = ctx.propagate.take();
    if !log.is_wanted() {
        return;
    }
    let commands = match replaced {
        Some(commands) => commands,
        None if changed => vec![args.to_vec()],
        None => return,
    };
    let db = ctx.client.db;
    if ctx.client.in_exec {
        ctx.client
            .exec_log
            .extend(commands.into_iter().map(|c| (db, c)));
        return;
    }
    if let Some(offset) = log.append(&logged_atomically(db, &commands)) {
        ctx.client.aof_offset = offset;
    }
    note_repl_offset(ctx);
}

/// Remembers how far the replication stream reached after this client's
/// write (Redis's `woff`): what its WAIT waits for.
fn note_repl_offset(ctx: &mut Ctx) {
    let replication = &ctx.state.aof.log.replication;
    if replication.is_active() {
        ctx.client.repl_offset = replication.offset();
    }
}

/// The commands one command propagates, for the log: several are wrapped
/// in MULTI ... EXEC so that a replay applies all or none of them (Redis's
/// `propagatePendingCommands`; XREADGROUP's XCLAIMs, for one).
fn logged_atomically(db: usize, commands: &[Vec<Vec<u8>>]) -> Vec<crate::persist::aof::Logged<'_>> {
    use crate::persist::aof::Logged;
    static MULTI: std::sync::LazyLock<[Vec<u8>; 1]> = std::sync::LazyLock::new(|| [b"MULTI".to_vec()]);
    static EXEC: std::sync::LazyLock<[Vec<u8>; 1]> = std::sync::LazyLock::new(|| [b"EXEC".to_vec()]);
    let wrap = commands.len() > 1;
    let mut logged = Vec::with_capacity(commands.len() + 2);
    if wrap {
        logged.push(Logged { db: Some(db), argv: &MULTI[..] });
    }
    logged.extend(commands.iter().map(|argv| Logged { db: Some(db), argv }));
    if wrap {
        logged.push(Logged { db: None, argv: &EXEC[..] });
    }
    logged
}

/// Logs `collected` (database, command) pairs, as one MULTI ... EXEC
/// block when `wrap`, so that a replay applies all of it or none: a
/// transaction's commands, or a script's.
pub fn log_block(ctx: &mut Ctx, collected: &[(usize, Vec<Vec<u8>>)], wrap: bool) {
    let Some(first) = collected.first() else {
        return;
    };
    let multi = vec![b"MULTI".to_vec()];
    let exec = vec![b"EXEC".to_vec()];
    let mut block = Vec::with_capacity(collected.len() + 2);
    if wrap {
        block.push(crate::persist::aof::Logged {
            db: Some(first.0),
            argv: &multi,
        });
    }
    block.extend(
        collected
            .iter()
            .map(|(db, argv)| crate::persist::aof::Logged {
                db: Some(*db),
                argv,
            }),
    );
    if wrap {
        block.push(crate::persist::aof::Logged {
            db: None,
            argv: &exec,
        });
    }
    if let Some(offset) = ctx.state.aof.log.append(&block) {
        ctx.client.aof_offset = offset;
    }
    note_repl_offset(ctx);
}

/// A command's result stored at `dest`, or, when it is empty (`None`),
/// `dest` deleted (BITOP, SORT ... STORE: Redis never stores an empty
/// value): the write counts `changes` and fires `event` of `class`, the
/// deletion one change and `del`. Both tell the key's watchers.
pub fn store_or_delete(
    ctx: &mut Ctx,
    dest: &[u8],
    value: Option<crate::store::Value>,
    changes: u64,
    (class, event): (u32, &str),
) {
    let mut db = ctx.db();
    match value {
        Some(value) => {
            db.set(dest, value);
            ctx.dirty += changes;
            ctx.notify(class, event, dest);
        }
        None if db.delete(dest) => {
            ctx.dirty += 1;
            ctx.notify(crate::channels::notify::GENERIC, "del", dest);
        }
        None => {}
    }
}

/// Builds an argument vector from string-like parts.
pub fn argv<const N: usize>(parts: [&[u8]; N]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// An argument vector from strings, for tests.
#[cfg(test)]
pub fn test_argv(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
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
    client: &mut Session,
    out: &mut ReplyWriter,
    args: &[Vec<u8>],
) -> Option<Resolved> {
    if args.is_empty() {
        return None;
    }
    let resolved = match registry().resolve_renamed(args, &state.renames) {
        Ok(resolved) => resolved,
        Err(err) => {
            reject(state, client, out, None, &err);
            return None;
        }
    };
    let cmd = resolved.command;
    if !cmd.arity_ok(args.len()) {
        reject(
            state,
            client,
            out,
            Some(&resolved),
            &error::wrong_arity(resolved.full_name),
        );
        return Some(resolved);
    }
    // A fault injected on purpose answers in the command's place; the
    // server's own internal client (u64::MAX) is never failed.
    if client.id != u64::MAX
        && let Some(err) = state.faults.take(cmd.name)
    {
        reject(state, client, out, Some(&resolved), &err);
        return Some(resolved);
    }
    // Held to the end of the command: see `pass_gate`.
    let mut _pass = match pass_gate(state, client, cmd) {
        Ok(pass) => pass,
        Err(busy) => {
            reject(state, client, out, Some(&resolved), &busy);
            return Some(resolved);
        }
    };
    let cmd_flags = scripting::effective_flags(state, cmd, args);
    let refusal = if let Some(err) = debug::protected_refusal(state, client, cmd) {
        Some(err)
    } else if client.auth_required(state) && !cmd.has(flags::NO_AUTH) {
        Some(error::NOAUTH)
    } else if client.multi.is_some() && cmd.has(flags::NO_MULTI) {
        Some(error::NOT_ALLOWED_IN_MULTI)
    } else if {
        // A replica leaves eviction to its master (whose DELs it gets),
        // as Redis does with `replica-ignore-maxmemory yes`.
        client.pre_command_oom = !state.replication().is_replica()
            && !crate::state::eviction::perform_evictions(state, &mut client.rng);
        client.pre_command_oom
    } && refused_when_out_of_memory(cmd_flags, client)
    {
        Some(error::OOM)
    } else if let Some(err) = (may_write(cmd_flags, client) && !client.is_master)
        .then(|| crate::state::saving::writes_refused(state))
        .flatten()
    {
        Some(err)
    } else if let Some(err) = has_or_queued(cmd_flags, client, flags::WRITE)
        .then(|| crate::state::replication::write_refusal(state, client))
    .flatten()
    {
        Some(err)
    } else if let Some(err) = (!cmd.has(flags::STALE) && !client.is_master)
        .then(|| crate::state::replication::stale_refusal(state))
        .flatten()
    {
        Some(err)
    } else if let Some(err) = (!cmd.has(flags::LOADING) && !client.is_master)
        .then(|| crate::state::replication::loading_refusal(state))
        .flatten()
    {
        Some(err)
    } else if client.pubsub.total() > 0 && !out.is_resp3() && !cmd.has(flags::ALLOW_SUBSCRIBED) {
        Some(CommandError::err(format_args!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            resolved.full_name
        )))
    } else {
        None
    };
    // Keys eviction just removed are invalidated for this client before
    // its reply, as Redis sends them right after `performEvictions`.
    if state.tracking.active() {
        let mut own = crate::state::tracking::Own {
            client_id: client.id,
            out: &mut *out,
        };
        state.tracking.after_command(&state.sessions, &mut own);
    }
    if let Some(err) = refusal {
        reject(state, client, out, Some(&resolved), &err);
        return Some(resolved);
    }
    // Client-side caching keeps its table within bounds before each
    // command, as Redis's `processCommand` does; what it invalidates for
    // this client also comes before the reply.
    if state.tracking.active() {
        let max_keys = state.config().tracking_table_max_keys;
        let mut own = crate::state::tracking::Own {
            client_id: client.id,
            out: &mut *out,
        };
        state
            .tracking
            .limit_keys(&state.sessions, max_keys, Some(&mut own));
    }
    if state.pause.current(crate::clock::unix_ms()).is_some() {
        // Waited out away from the gate, which a paused command must not
        // hold against a script.
        drop(_pass);
        if !wait_out_pause(state, client, cmd, cmd_flags) {
            return Some(resolved);
        }
        _pass = match pass_gate(state, client, cmd) {
            Ok(pass) => pass,
            Err(busy) => {
                reject(state, client, out, Some(&resolved), &busy);
                return Some(resolved);
            }
        };
    }
    if let Some(multi) = &mut client.multi
        && !cmd.has(flags::NOT_QUEUED)
    {
        multi.queue.push((resolved.id, args.to_vec()));
        out.simple("QUEUED");
        return Some(resolved);
    }
    call(state, client, out, &resolved, args);
    Some(resolved)
}

/// Waits while CLIENT PAUSE holds this command back (Redis's
/// `BLOCKED_POSTPONE`): ALL holds every command, WRITE those that may
/// write or propagate (a script's by its flags, EXEC by what it queued).
/// Returns false if the client was killed or the server is stopping
/// meanwhile: the command then does not run.
fn wait_out_pause(state: &State, client: &Session, cmd: &Command, cmd_flags: u32) -> bool {
    use crate::state::pause::PauseKind;
    let writes = flags::WRITE | flags::MAY_REPLICATE;
    let may_write = cmd_flags & writes != 0
        || (cmd.has(flags::RUNS_QUEUE) && client.multi.as_ref().is_some_and(|m| queued_have(m, writes)));
    let gone = || {
        client.handle.killed.load(std::sync::atomic::Ordering::SeqCst) || state.shutdown.is_requested()
    };
    let holds = |kind| kind == PauseKind::All || may_write;
    if !state.pause.current(crate::clock::unix_ms()).is_some_and(holds) {
        return true;
    }
    // Counted as blocked meanwhile (INFO's blocked_clients, CLIENT LIST's
    // `b`), as Redis counts a postponed client.
    let blocked = |on: bool| {
        let mut info = client.handle.info.lock();
        info.flags = if on {
            info.flags | crate::state::session::flag::BLOCKED
        } else {
            info.flags & !crate::state::session::flag::BLOCKED
        };
    };
    blocked(true);
    state.pause.wait(holds, gone);
    blocked(false);
    !gone()
}

/// How a command passes the keyspace gate (see [`crate::store::gate`]).
enum Pass<'a> {
    /// Any command but a script's: others may run beside it.
    Shared(#[allow(dead_code)] parking_lot::RwLockReadGuard<'a, ()>),
    /// A script, or EXEC of a transaction holding one: alone.
    Exclusive(#[allow(dead_code)] crate::store::gate::Exclusive<'a>),
    /// A command allowed beside a script that has run past
    /// `busy-reply-threshold` (SCRIPT KILL, SHUTDOWN NOSAVE...).
    BesideBusyScript,
}

/// How long a waiting command sleeps between looks at a running script.
const BUSY_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Waits at the keyspace gate: commands pass together, a script alone.
/// While a script runs past `busy-reply-threshold`, a command still
/// waiting is answered BUSY instead, unless it is allowed beside a busy
/// script (Redis's `CMD_ALLOW_BUSY`).
fn pass_gate<'a>(state: &'a State, client: &Session, cmd: &Command) -> CommandResult<Pass<'a>> {
    if cmd.has(flags::UNGATED) {
        return Ok(Pass::BesideBusyScript);
    }
    let gate = &state.keyspace().gate;
    let alone = cmd.has(flags::RUNS_SCRIPT)
        || (cmd.has(flags::RUNS_QUEUE)
            && client
                .multi
                .as_ref()
                .is_some_and(|m| queued_have(m, flags::RUNS_SCRIPT)));
    loop {
        let pass = if alone {
            gate.try_exclusive_for(BUSY_POLL).map(Pass::Exclusive)
        } else {
            gate.try_shared_for(client.id, BUSY_POLL).map(Pass::Shared)
        };
        if let Some(pass) = pass {
            return Ok(pass);
        }
        let status = &state.script_status;
        let threshold = state.config().busy_reply_threshold;
        // The script's start was read from the server's clock.
        let ran_for = state.keyspace().clock.unix_ms() - status.started_ms() as i64;
        if status.is_running() && ran_for >= threshold {
            if cmd.has(flags::ALLOW_BUSY) {
                return Ok(Pass::BesideBusyScript);
            }
            return Err(status.busy_error());
        }
    }
}

/// True for commands refused while persistence is failing: writes, EXEC of
/// a transaction holding writes, and PING (see
/// [`flags::REFUSED_ON_MISCONF`]). `flags` are the command's, as a script
/// it runs may change them.
fn may_write(bits: u32, client: &Session) -> bool {
    bits & flags::REFUSED_ON_MISCONF != 0 || has_or_queued(bits, client, flags::WRITE)
}

/// True if the command (flags `bits`) has `flag`, or is EXEC of a
/// transaction that queued a command with it.
fn has_or_queued(bits: u32, client: &Session, flag: u32) -> bool {
    bits & flag != 0
        || (bits & flags::RUNS_QUEUE != 0
            && client.multi.as_ref().is_some_and(|m| queued_have(m, flag)))
}

/// True if any command queued in `multi` has `flag`.
fn queued_have(multi: &MultiState, flag: u32) -> bool {
    let registry = registry();
    multi
        .queue
        .iter()
        .any(|(id, _)| registry.resolved(*id).command.has(flag))
}

/// Redis's rule for commands refused while memory stays over `maxmemory`:
/// those that may grow it (`denyoom`), EXEC of a transaction holding one,
/// and anything inside MULTI (a queue can grow without bound) except what
/// ends the transaction.
fn refused_when_out_of_memory(bits: u32, client: &Session) -> bool {
    if bits & flags::DENYOOM != 0 {
        return true;
    }
    match &client.multi {
        None => false,
        Some(multi) if bits & flags::RUNS_QUEUE != 0 => queued_have(multi, flags::DENYOOM),
        Some(_) => bits & flags::ENDS_MULTI == 0,
    }
}

/// Rejects a command before it runs: the error reply, the rejected-calls
/// counter, and (inside MULTI) the transaction is marked to abort at EXEC.
/// A rejected EXEC itself discards the transaction and answers EXECABORT
/// instead (see [`tx::abort`]); errorstats count what the client is sent.
fn reject(
    state: &State,
    client: &mut Session,
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
    let aborted;
    let err = if resolved.is_some_and(|r| r.command.has(flags::RUNS_QUEUE)) {
        aborted = tx::abort(state, client, out, err);
        &aborted
    } else {
        err
    };
    state.stats.count_error(err);
    out.error(err);
}

/// The shards `cmd` must hold to run with `args` for `client` in database `db`.
pub fn lock_plan(
    ks: &Keyspace,
    client: &Session,
    db: usize,
    cmd: &Command,
    args: &[Vec<u8>],
) -> LockPlan {
    let mut plan = LockPlan::new();
    match cmd.locks {
        Locks::None => {}
        Locks::Keys(mode) => {
            for i in cmd.keys.positions(args) {
                plan.add_key(ks, db, &args[i], mode);
            }
        }
        Locks::Db(mode) => plan.add_db(db, mode),
        Locks::All(mode) => plan.add_all(ks, mode),
        Locks::Custom(plan_fn) => {
            plan = plan_fn(&LockContext {
                keyspace: ks,
                client,
                db,
                args,
            })
        }
    }
    plan
}

/// Executes a command that passed the checks: locks its shards, runs it,
/// counts it, and writes its error reply if it failed.
pub fn call(
    state: &State,
    client: &mut Session,
    out: &mut ReplyWriter,
    resolved: &Resolved,
    args: &[Vec<u8>],
) {
    let plan = lock_plan(state.keyspace(), client, client.db, resolved.command, args);
    let locks = state.keyspace().lock(&plan);
    // One clock read serves as the command's time and its start, as in
    // Redis's `call`; a manual clock gives the time, the wall the start.
    let started_us = crate::clock::unix_us();
    let mut ctx = Ctx {
        state,
        client,
        out,
        locks,
        now_ms: state.keyspace().clock.command_us(started_us) / 1000,
        dirty: 0,
        propagate: None,
    };
    if let Err(err) = run(&mut ctx, resolved, args, started_us) {
        ctx.out.error(&err);
    }
    // Keys the command (or a whole EXEC) created for blocked clients are
    // served now, under the same locks: Redis's `handleClientsBlockedOnKeys`.
    if ctx.locks.has_ready_keys() {
        let offset = blocking::serve_blocked_clients(state, &mut ctx.locks, ctx.now_ms);
        ctx.client.aof_offset = ctx.client.aof_offset.max(offset);
    }
}

/// Runs a handler in a context whose locks are already held, and counts
/// the call: time since `started_us` (unix µs), failure, changes. EXEC runs
/// each queued command through here inside its own context.
pub fn run(ctx: &mut Ctx, resolved: &Resolved, args: &[Vec<u8>], started_us: i64) -> CommandResult {
    let dirty_before = ctx.dirty;
    let result = (resolved.command.handler)(ctx, args);
    let state = ctx.state;
    let changes = ctx.dirty - dirty_before;
    if changes > 0 {
        state.add_dirty(changes);
    }
    log_for_aof(ctx, args, changes > 0);
    if resolved.command.has(flags::READONLY) && ctx.client.tracking.remembers_reads() {
        remember_reads(ctx, resolved.command, args);
    }
    let stats = &state.command_stats[resolved.id];
    // Wall-clock time, like Redis's `ustime`: a clock stepped back
    // mid-command counts as no time at all.
    let took = u64::try_from(crate::clock::unix_us().saturating_sub(started_us)).unwrap_or(0);
    stats.count_call(took);
    if ctx.client.blocking.pending.is_some() {
        // Its slow log entry and latency sample wait until it is served.
        ctx.client.blocking.call = Some(crate::state::session::BlockedCall {
            id: resolved.id,
            args: args.to_vec(),
            took_us: took,
        });
    } else if state.latency.tracking() {
        // Redis records its microsecond figure in nanoseconds.
        stats.histogram.record(took as i64 * 1000);
    }
    observe::after_call(ctx, resolved.command, args, took);
    if let Err(err) = &result {
        stats.count_failed();
        state.stats.count_error(err);
    }
    result
}

/// Client-side caching: a tracking client's read-only command remembers
/// the keys it read (Redis's `trackingRememberKeys` from `call`). Inside a
/// script the keys are the script's declared ones; the `_RO` script
/// commands themselves remember nothing, and nor do pub/sub commands,
/// whose keys are channels.
fn remember_reads(ctx: &mut Ctx, cmd: &Command, args: &[Vec<u8>]) {
    if matches!(cmd.name, "eval_ro" | "evalsha_ro" | "fcall_ro") || cmd.has(flags::PUBSUB) {
        return;
    }
    let tracking = &ctx.state.tracking;
    if ctx.client.in_script {
        let keys = &ctx.client.tracking.script_keys;
        tracking.remember(ctx.client.id, keys.iter().map(Vec::as_slice));
    } else {
        let positions = introspection::key_positions(cmd, args);
        tracking.remember(ctx.client.id, positions.iter().map(|&i| args[i].as_slice()));
    }
}

#[cfg(test)]
mod tests {
    /// The index in this module's documentation names every command, so a
    /// newcomer finds any command's module from its name.
    #[test]
    fn the_index_names_every_command() {
        let doc = include_str!("mod.rs");
        let index: Vec<&str> = doc
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .filter(|line| line.starts_with("//! | "))
            .flat_map(|line| line.split([' ', '|']))
            .collect();
        for (_, entry) in super::registry().top_level() {
            let name = entry.command.name.to_uppercase();
            assert!(index.contains(&name.as_str()), "{name} is not in the index");
        }
    }
}
