//! A blocked connection's side of BLPOP and friends: waiting until it is
//! served, times out, is unblocked, or its peer goes away, then cleaning
//! up and writing the reply.
//!
//! A blocking command's handler that finds nothing to pop queues a waiter
//! on its keys (see `commands::blocking::block`) and leaves it in the
//! client's [`BlockState::pending`]; it writes no reply. The connection
//! loop sees the pending wait after the command, sends the replies of
//! earlier pipelined commands, and calls [`wait_until_unblocked`]: the
//! worker sleeps on its [`Waker`] (the socket and a wake-up pipe, no
//! polling loop) with the command's deadline. Bytes the client pipelines
//! meanwhile stay unread, as Redis leaves a blocked client's input alone.

use std::sync::Arc;
use std::time::Instant;

use crate::error::CommandError;
use crate::resp::ReplyWriter;
use crate::store::blocking::{WaitState, Waiter};
use crate::store::{LockPlan, Mode};

use super::client::Client;
use super::state::State;
use super::wait::{Event, Interest, Waker};

/// The reply to a client unblocked by `CLIENT UNBLOCK <id> ERROR`.
pub const UNBLOCKED: CommandError =
    CommandError::canned("UNBLOCKED client unblocked via CLIENT UNBLOCK");

/// A connection's blocking state.
#[derive(Debug, Default)]
pub struct BlockState {
    /// Created the first time the connection blocks, then reused.
    waker: Option<Arc<Waker>>,
    /// The wait a blocking command just started, if any.
    pub pending: Option<Pending>,
}

/// A wait in progress.
#[derive(Debug)]
pub struct Pending {
    pub waiter: Arc<Waiter>,
    /// When it times out; `None` waits forever (timeout 0).
    pub deadline: Option<Instant>,
}

impl BlockState {
    /// The connection's waker (its socket is `socket`), created on first use.
    pub fn waker(&mut self, socket: i32) -> std::io::Result<Arc<Waker>> {
        if let Some(waker) = &self.waker {
            return Ok(waker.clone());
        }
        let waker = Arc::new(Waker::new(socket)?);
        self.waker = Some(waker.clone());
        Ok(waker)
    }

    fn waker_ref(&self) -> Option<&Arc<Waker>> {
        self.waker.as_ref()
    }
}

/// Waits out the client's pending blocking command and writes its reply
/// into `out`. Returns false if the client disconnected (or was killed, or
/// the server is stopping): the connection must then close.
pub fn wait_until_unblocked(state: &State, client: &mut Client, out: &mut ReplyWriter) -> bool {
    let Some(Pending { waiter, deadline }) = client.blocking.pending.take() else {
        return true;
    };
    let blocked = &state.keyspace().blocked;
    let outcome = match client.blocking.waker_ref() {
        None => waiter.finish(blocked, WaitState::Gone),
        Some(waker) => loop {
            let event = waker.wait(Interest::Hangup, deadline);
            let outcome = match event {
                // A wake-up left over from an earlier wait: keep waiting.
                Ok(Event::Woken) if waiter.is_waiting() => continue,
                Ok(Event::Woken) => waiter.finish(blocked, WaitState::TimedOut),
                Ok(Event::TimedOut) => waiter.finish(blocked, WaitState::TimedOut),
                Ok(Event::Hangup | Event::Readable) | Err(_) => {
                    waiter.finish(blocked, WaitState::Gone)
                }
            };
            break outcome;
        },
    };
    forget(state, &waiter);
    match outcome {
        WaitState::Served(reply) => out.raw(&reply),
        WaitState::TimedOut => out.null_array(),
        WaitState::UnblockedWithError => out.error(&UNBLOCKED),
        WaitState::Gone | WaitState::Waiting => return false,
    }
    true
}

/// Takes a finished waiter off every key it was queued on (a server only
/// removed it from the key it served) and out of the registry.
fn forget(state: &State, waiter: &Arc<Waiter>) {
    let ks = state.keyspace();
    let mut plan = LockPlan::new();
    for key in &waiter.keys {
        plan.add_key(ks, waiter.db, key.as_bytes(), Mode::Write);
    }
    let mut locks = ks.lock(&plan);
    let mut db = locks.db(waiter.db, crate::store::clock::unix_ms());
    for key in &waiter.keys {
        db.unblock(key.as_bytes(), waiter);
    }
    drop(locks);
    ks.blocked.unregister(waiter);
}

/// Ends a wait that never started sleeping (the connection is closing with
/// a pending wait, e.g. the command was the last thing it sent).
pub fn abandon(state: &State, client: &mut Client) {
    if let Some(Pending { waiter, .. }) = client.blocking.pending.take() {
        waiter.finish(&state.keyspace().blocked, WaitState::Gone);
        forget(state, &waiter);
    }
}
