//! Blocking commands in the command layer (Redis's `blocked.c` and
//! `handleClientsBlockedOnKeys`): parsing a timeout, blocking a client on
//! its keys, and serving blocked clients after a command created a key
//! they wait for.
//!
//! # How a blocked client is served
//!
//! Creating a list, sorted-set or stream key that clients wait on (a push, ZADD,
//! RENAME, MOVE, COPY, SWAPDB, the destination of BLMOVE...), or adding an
//! entry to a stream (XADD), records the key as *ready* in the command's
//! lock set (see `Db::insert_entry`, `Db::signal_ready`).
//! After the command, and after a whole EXEC since EXEC is one command
//! here, [`serve_blocked_clients`] runs in the writer's own thread with the
//! command's locks still held, as Redis serves in the pusher's context:
//! for each ready key, its waiters are visited first come, first served;
//! each that wants this key's type is served (the pop happens, the reply is
//! encoded for that client and handed over) until the key is gone. So no
//! other client can take a pushed element before the clients that were
//! waiting for it, and a client that already left is never given one.
//!
//! Serving BLMOVE also needs the destination's shard; [`LockSet::lock_more`]
//! adds it without waiting when it is free, else relocks everything in
//! order (never waiting on a shard while holding a higher one), and serving
//! that key restarts from its queue. The destination push may itself make
//! that key ready: the loop goes on until no ready key is left.
//!
//! EXEC needs nothing special: it runs its queued commands under one lock
//! set and the dispatcher calls [`serve_blocked_clients`] once, after the
//! last of them, exactly where Redis serves them after a transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{CommandError, CommandResult};
use crate::num::ldouble::LongDouble;
use crate::resp::{Protocol, ReplyWriter};
use crate::state::State;
use crate::state::session::Pending;
use crate::store::waiting::{BlockedOp, Waiter};
use crate::store::{Key, LockPlan, LockSet, Mode, Value};

use super::Ctx;

/// A blocking command's timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Timeout 0: block until served.
    Forever,
    /// Give up after this long.
    After(Duration),
}

/// Parses a timeout in seconds as Redis's `getTimeoutFromObjectOrReply`
/// does: a `long double` (`strtold` rules), multiplied by 1000 and rounded
/// up to whole milliseconds in a C `long long`.
pub fn parse_timeout(arg: &[u8]) -> CommandResult<Timeout> {
    let value = LongDouble::parse(arg)
        .ok_or_else(|| CommandError::err("timeout is not a float or out of range"))?;
    // C's conversion of an out-of-range value gives LLONG_MIN on x86-64
    // (the "integer indefinite"), which Redis then calls negative.
    let ms = value.times(1000).ceil_to_i64().unwrap_or(i64::MIN);
    if ms < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(Timeout::Forever);
    }
    // Redis adds the current unix time in ms; past `i64::MAX` that wraps
    // negative, which its timeout table (keyed by the deadline as an
    // unsigned number) places after every real time: the client waits
    // until served.
    let now = crate::clock::unix_ms();
    if now.checked_add(ms).is_none() {
        return Ok(Timeout::Forever);
    }
    Ok(Timeout::After(Duration::from_millis(ms as u64)))
}

/// Blocks the client on `keys` for `op`, unless blocking is not allowed
/// (inside EXEC), which Redis treats as an immediate timeout: a null
/// array.
pub fn block_or_null(
    ctx: &mut Ctx,
    keys: &[Vec<u8>],
    timeout: Timeout,
    op: BlockedOp,
) -> CommandResult {
    if !may_block(ctx) {
        ctx.out.null_array();
        return Ok(());
    }
    block(ctx, keys, timeout, op)
}

/// False where Redis's `CLIENT_DENY_BLOCKING` applies: inside EXEC a
/// blocking command acts as if it timed out at once.
pub fn may_block(ctx: &Ctx) -> bool {
    !ctx.client.in_exec
}

/// Blocks the client on `keys` (all locked for writing by the command):
/// queues one waiter on each key, first come first served, and leaves the
/// wait for the connection to carry out after the command. Writes no reply.
pub fn block(ctx: &mut Ctx, keys: &[Vec<u8>], timeout: Timeout, op: BlockedOp) -> CommandResult {
    let socket = ctx.client.handle.fd;
    let waker = ctx
        .client
        .blocking
        .waker(socket)
        .map_err(|e| CommandError::err(format_args!("cannot block this client: {e}")))?;
    let mut unique: Vec<Key> = Vec::with_capacity(keys.len());
    for key in keys {
        if !unique.iter().any(|k| k.as_bytes() == key.as_slice()) {
            unique.push(Key::new(key));
        }
    }
    let waiter = Arc::new(Waiter::new(
        ctx.client.id,
        ctx.client.db,
        unique,
        op,
        ctx.out.is_resp3(),
        waker,
    ));
    let deadline = match timeout {
        Timeout::Forever => None,
        // A manual clock's deadline passes when the clock is moved past
        // it (`BlockedClients::time_out_due`), not in real time.
        Timeout::After(d) if ctx.keyspace().clock.is_manual() => {
            let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            waiter.set_manual_deadline(ctx.now_ms.saturating_add(ms));
            None
        }
        Timeout::After(d) => Instant::now().checked_add(d),
    };
    let mut db = ctx.db();
    for key in &waiter.keys {
        db.block(key.as_bytes(), waiter.clone());
    }
    ctx.keyspace().blocked.register(&waiter);
    ctx.client.blocking.pending = Some(Pending { waiter, deadline });
    Ok(())
}

/// Serves the clients blocked on every key the command made ready (see
/// the module docs). The dispatcher calls it after each command; it is a
/// no-op when nothing became ready. The pops are logged to the append-only
/// file; returns the log offset the writer must see written before it
/// replies (0 when nothing was logged).
pub fn serve_blocked_clients(state: &State, locks: &mut LockSet<'_>, now_ms: i64) -> u64 {
    let mut offset = 0;
    while let Some((db, key)) = locks.pop_ready_key() {
        offset = offset.max(serve_key(state, locks, db, &key, now_ms));
    }
    offset
}

/// Serves the waiters of one ready key, in order, while it has data.
fn serve_key(state: &State, locks: &mut LockSet<'_>, db: usize, key: &Key, now_ms: i64) -> u64 {
    let ks = state.keyspace();
    let key = key.as_bytes();
    let mut offset = 0;
    'restart: loop {
        let mut plan = LockPlan::new();
        plan.add_key(ks, db, key, Mode::Write);
        locks.lock_more(&plan);
        let waiters = locks.db(db, now_ms).blocked_on(key);
        for waiter in waiters {
            if !waiter.is_waiting() {
                locks.db(db, now_ms).unblock(key, &waiter);
                continue;
            }
            let kind = match locks.db(db, now_ms).lookup_write(key) {
                None => None,
                Some(entry) => match entry.value {
                    Value::List(_) | Value::ZSet(_) | Value::Stream(_) => {
                        Some(entry.value.type_name())
                    }
                    // Nothing waits for other types.
                    _ => None,
                },
            };
            // An XREADGROUP reader whose stream went away is told so (Redis's
            // `unblockDeletedStreamReadgroupClients`); others wait on.
            let stream_gone = kind != Some("stream") && super::streams::reads_in_group(&waiter.op);
            if !stream_gone {
                if kind != Some(waiter.op.wanted_type()) {
                    continue;
                }
                // A stream serves only the readers waiting for ids before
                // its last one; the others keep waiting.
                if kind == Some("stream")
                    && !super::streams::has_entries_for(&mut locks.db(db, now_ms), key, &waiter.op)
                {
                    continue;
                }
            }
            if let BlockedOp::ListMove { destination, .. } = &waiter.op {
                let mut plan = LockPlan::new();
                plan.add_key(ks, db, destination.as_bytes(), Mode::Write);
                if !locks.lock_more(&plan) {
                    // Others may have run while the locks were retaken.
                    continue 'restart;
                }
            }
            let mut dirty = 0;
            let mut serving = Serving {
                out: ReplyWriter::new(if waiter.resp3 {
                    Protocol::Resp3
                } else {
                    Protocol::Resp2
                }),
                log: Vec::new(),
                events: Vec::new(),
            };
            waiter.try_serve(&ks.blocked, || {
                let mut view = locks.db(db, now_ms);
                let serve = match kind {
                    _ if stream_gone => super::streams::serve_stream_gone,
                    Some("list") => super::lists::serve_blocked,
                    Some("zset") => super::zsets::serve_blocked,
                    _ => super::streams::serve_blocked,
                };
                dirty = serve(&mut view, key, &waiter.op, &mut serving);
                offset = offset.max(log_served(state, db, &serving.log));
                serving.out.take()
            });
            state.add_dirty(dirty);
            // Serving is part of the command that made the key ready, as
            // in Redis: its events follow the command's own.
            for event in serving.events {
                state
                    .pubsub
                    .notify_keyspace_event(event.class, event.name, &event.key, db, None);
            }
            // Served or found gone: either way it leaves this queue.
            locks.db(db, now_ms).unblock(key, &waiter);
        }
        return offset;
    }
}

/// What serving one blocked client produces: the client's reply, the
/// commands the append-only file records for it (`LPOP key`, `LMOVE ...`,
/// `ZPOPMIN key n`) and the keyspace events it raises.
pub struct Serving {
    pub out: ReplyWriter,
    pub log: Vec<Vec<Vec<u8>>>,
    pub events: crate::channels::notify::Events,
}

/// Logs what serving a blocked client did and, before the served client can
/// see its reply, waits until the log holds it as the fsync policy demands
/// (the served client's own connection knows nothing of the log offset).
fn log_served(state: &State, db: usize, commands: &[Vec<Vec<u8>>]) -> u64 {
    let log = &state.aof.log;
    let logged = super::logged_atomically(db, commands);
    let Some(offset) = log.append(&logged) else {
        return 0;
    };
    if let Err(err) = log.sync_for_reply(offset) {
        state.log.warning(&format!("Error writing the AOF: {err}"));
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> CommandResult<Timeout> {
        Err(CommandError::err(text))
    }

    #[test]
    fn timeouts_parse_like_redis() {
        let ok = |s: &str| parse_timeout(s.as_bytes());
        assert_eq!(ok("0"), Ok(Timeout::Forever));
        assert_eq!(ok("-0"), Ok(Timeout::Forever));
        assert_eq!(ok("-0.0001"), Ok(Timeout::Forever), "ceil(-0.1) is 0");
        assert_eq!(ok("0.1"), Ok(Timeout::After(Duration::from_millis(100))));
        assert_eq!(ok("0.0001"), Ok(Timeout::After(Duration::from_millis(1))));
        assert_eq!(ok("1e-400"), Ok(Timeout::After(Duration::from_millis(1))));
        assert_eq!(ok("0x1p-20"), Ok(Timeout::After(Duration::from_millis(1))));
        assert_eq!(ok("2"), Ok(Timeout::After(Duration::from_secs(2))));
        assert!(matches!(ok("9e15"), Ok(Timeout::After(_))));
        // Exact long double arithmetic, as checked against redis-server:
        // -0.001 * 1000 rounds to just above -1, so ceill gives 0; the
        // largest representable deadline is 2^63-1 ms.
        assert_eq!(ok("-0.001"), Ok(Timeout::Forever));
        assert!(ok("9223372036854775.807").is_ok());
        let negative = err("timeout is negative");
        for bad in [
            "-1",
            "inf",
            "1e300",
            "9.3e15",
            "-inf",
            "9223372036854775.808",
        ] {
            assert_eq!(ok(bad), negative, "{bad}");
        }
        let not_float = err("timeout is not a float or out of range");
        for bad in ["", " 1", "1 ", "nan", "abc", "1\0"] {
            assert_eq!(ok(bad), not_float, "{bad:?}");
        }
    }
}
