//! Clients blocked on keys (Redis's `blocked.c` bookkeeping): who waits,
//! for what, and the one state change that decides how each wait ends.
//!
//! A blocking command that finds nothing to pop creates a [`Waiter`] and
//! queues it on every key it names, in each key's shard (see
//! `Shard::block`): the queues live under the shard locks, so registering
//! and serving are ordered with every write to those keys and a push can
//! never slip between a client's "nothing here" and its registration.
//! Queues are FIFO, so clients blocked on a key are served first come,
//! first served.
//!
//! A waiter's [`WaitState`] moves out of `Waiting` exactly once, under its
//! own mutex: either a server (a command that created the key, in its own
//! thread and under the key's shard lock) pops the data and leaves the
//! encoded reply in it, or the blocked client gives up (timeout, CLIENT
//! UNBLOCK, disconnection). Whichever gets the mutex first wins, so an
//! element is never popped for a client that already left, nor lost to two
//! parties. Lock order: shard locks, then a waiter's mutex; the blocked
//! client's own thread takes the waiter's mutex alone.
//!
//! A served waiter may still sit in the queues of its *other* keys (the
//! server holds only the served key's shard); those entries are stale, are
//! skipped by anyone who meets them, and are removed by the client itself
//! when it wakes up.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::key::Key;
use super::types::list::End;
use super::types::stream::StreamId;

/// What a blocked command will do once data arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockedOp {
    /// BLPOP / BRPOP: one element, replied as `[key, element]`.
    ListPop { end: End },
    /// BLMPOP: up to `count` elements, replied as `[key, [elements]]`.
    ListMultiPop { end: End, count: usize },
    /// BLMOVE / BRPOPLPUSH: pop from the key, push to `destination`.
    ListMove {
        from: End,
        to: End,
        destination: Key,
    },
    /// BZPOPMIN / BZPOPMAX: `[key, member, score]`.
    ZSetPop { max: bool },
    /// BZMPOP: `[key, [[member, score]...]]`.
    ZSetMultiPop { max: bool, count: usize },
    /// XREAD BLOCK: entries after each key's id, at most `count` of them.
    /// Reading takes nothing away, so every waiter a new entry concerns is
    /// served.
    StreamRead {
        after: Vec<(Key, StreamId)>,
        count: usize,
        /// XREADGROUP: the group and consumer reading (always for `>`,
        /// the group's own last id replacing `after` when served).
        group: Option<GroupRead>,
    },
}

/// Who reads in a blocked XREADGROUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRead {
    pub group: Vec<u8>,
    pub consumer: Vec<u8>,
    pub noack: bool,
}

impl BlockedOp {
    /// The type (as `TYPE` names it) of the keys that serve this operation.
    pub fn wanted_type(&self) -> &'static str {
        match self {
            BlockedOp::ListPop { .. } | BlockedOp::ListMultiPop { .. } | BlockedOp::ListMove { .. } => {
                "list"
            }
            BlockedOp::ZSetPop { .. } | BlockedOp::ZSetMultiPop { .. } => "zset",
            BlockedOp::StreamRead { .. } => "stream",
        }
    }
}

/// How a waiter is woken, and how a server can tell its client is gone.
/// The connection layer implements it (a wake-up descriptor and the socket).
pub trait Notify: Send + Sync {
    /// Wakes the blocked client's thread.
    fn notify(&self);
    /// True if the client's connection is already closed by its peer: such
    /// a client must not be served, or the element would be lost.
    fn peer_gone(&self) -> bool;
}

/// Where a wait stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitState {
    Waiting,
    /// Served: the reply to send (encoded for the client's protocol).
    Served(Vec<u8>),
    /// The timeout passed (or CLIENT UNBLOCK ... TIMEOUT).
    TimedOut,
    /// CLIENT UNBLOCK ... ERROR.
    UnblockedWithError,
    /// The client disconnected.
    Gone,
}

/// One blocked client.
pub struct Waiter {
    pub client_id: u64,
    /// The database the keys are in.
    pub db: usize,
    /// The keys, in the order the command named them, without repeats.
    pub keys: Vec<Key>,
    pub op: BlockedOp,
    /// The client speaks RESP3: the reply a server produces is encoded for
    /// it by the command layer.
    pub resp3: bool,
    state: Mutex<WaitState>,
    notify: Arc<dyn Notify>,
    /// When the wait times out by the server's manual clock (unix ms;
    /// `i64::MAX`: never, or the wall clock's own timer applies). Moving
    /// that clock times out every waiter it passes
    /// ([`BlockedClients::time_out_due`]).
    manual_deadline: AtomicI64,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("client_id", &self.client_id)
            .field("db", &self.db)
            .field("keys", &self.keys)
            .field("op", &self.op)
            .field("state", &*self.state.lock())
            .finish()
    }
}

impl Waiter {
    pub fn new(
        client_id: u64,
        db: usize,
        keys: Vec<Key>,
        op: BlockedOp,
        resp3: bool,
        notify: Arc<dyn Notify>,
    ) -> Self {
        Waiter {
            client_id,
            db,
            keys,
            op,
            resp3,
            state: Mutex::new(WaitState::Waiting),
            notify,
            manual_deadline: AtomicI64::new(i64::MAX),
        }
    }

    /// Times the wait out at `at_ms` by the server's manual clock.
    pub fn set_manual_deadline(&self, at_ms: i64) {
        self.manual_deadline.store(at_ms, Ordering::Release);
    }

    pub fn is_waiting(&self) -> bool {
        *self.state.lock() == WaitState::Waiting
    }

    /// Serves the waiter if it still waits: `serve` runs under the
    /// waiter's mutex (the caller holds the shard locks it needs), performs
    /// the pop and returns the reply. A client whose peer has already hung
    /// up is marked gone instead, and `serve` never runs. Returns true if
    /// the waiter was served.
    pub fn try_serve(&self, blocked: &BlockedClients, serve: impl FnOnce() -> Vec<u8>) -> bool {
        let mut state = self.state.lock();
        if *state != WaitState::Waiting {
            return false;
        }
        if self.notify.peer_gone() {
            *state = WaitState::Gone;
            blocked.waiting.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        *state = WaitState::Served(serve());
        blocked.waiting.fetch_sub(1, Ordering::AcqRel);
        drop(state);
        self.notify.notify();
        true
    }

    /// Ends the wait from the client's side with `outcome` unless a server
    /// got there first; returns how the wait really ended (a `Served`
    /// state's reply is taken out, leaving `Gone`).
    pub fn finish(&self, blocked: &BlockedClients, outcome: WaitState) -> WaitState {
        let mut state = self.state.lock();
        if *state == WaitState::Waiting {
            *state = outcome;
            blocked.waiting.fetch_sub(1, Ordering::AcqRel);
        }
        match &*state {
            WaitState::Served(_) => std::mem::replace(&mut *state, WaitState::Gone),
            other => other.clone(),
        }
    }

    /// Ends the wait on behalf of CLIENT UNBLOCK (if it still waits) and
    /// wakes the client. Returns true if it was waiting.
    fn unblock(&self, blocked: &BlockedClients, with_error: bool) -> bool {
        let mut state = self.state.lock();
        if *state != WaitState::Waiting {
            return false;
        }
        *state = if with_error {
            WaitState::UnblockedWithError
        } else {
            WaitState::TimedOut
        };
        blocked.waiting.fetch_sub(1, Ordering::AcqRel);
        drop(state);
        self.notify.notify();
        true
    }
}

/// Every blocked client, by id: INFO's `blocked_clients` and the target of
/// CLIENT UNBLOCK.
#[derive(Debug, Default)]
pub struct BlockedClients {
    /// Waiters still in the `Waiting` state.
    waiting: AtomicUsize,
    by_id: Mutex<HashMap<u64, Arc<Waiter>>>,
}

impl BlockedClients {
    /// Clients blocked right now (INFO clients `blocked_clients`).
    pub fn count(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Records a new waiter (already queued on its keys).
    pub fn register(&self, waiter: &Arc<Waiter>) {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        self.by_id.lock().insert(waiter.client_id, waiter.clone());
    }

    /// Forgets a waiter whose wait has ended.
    pub fn unregister(&self, waiter: &Arc<Waiter>) {
        let mut by_id = self.by_id.lock();
        if by_id
            .get(&waiter.client_id)
            .is_some_and(|w| Arc::ptr_eq(w, waiter))
        {
            by_id.remove(&waiter.client_id);
        }
    }

    /// CLIENT UNBLOCK: ends client `id`'s wait as a timeout (null reply)
    /// or, with `with_error`, with the UNBLOCKED error. Returns false if the
    /// client is not blocked.
    pub fn unblock(&self, id: u64, with_error: bool) -> bool {
        let waiter = self.by_id.lock().get(&id).cloned();
        waiter.is_some_and(|w| w.unblock(self, with_error))
    }

    /// The server's manual clock reads `now_ms`: every wait whose deadline
    /// that passes times out (null reply), as the wall clock's timer would
    /// have done. Returns how many did.
    pub fn time_out_due(&self, now_ms: i64) -> usize {
        let due: Vec<Arc<Waiter>> = self
            .by_id
            .lock()
            .values()
            .filter(|w| w.manual_deadline.load(Ordering::Acquire) <= now_ms)
            .cloned()
            .collect();
        due.iter().filter(|w| w.unblock(self, false)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[derive(Default)]
    struct Flag {
        woken: AtomicBool,
        gone: AtomicBool,
    }

    impl Notify for Flag {
        fn notify(&self) {
            self.woken.store(true, Ordering::SeqCst);
        }
        fn peer_gone(&self) -> bool {
            self.gone.load(Ordering::SeqCst)
        }
    }

    fn waiter(id: u64, flag: &Arc<Flag>) -> Arc<Waiter> {
        Arc::new(Waiter::new(
            id,
            0,
            vec![Key::new(b"k")],
            BlockedOp::ListPop { end: End::Left },
            false,
            flag.clone(),
        ))
    }

    #[test]
    fn the_first_to_end_a_wait_wins() {
        let blocked = BlockedClients::default();
        let flag = Arc::new(Flag::default());
        let w = waiter(1, &flag);
        blocked.register(&w);
        assert_eq!(blocked.count(), 1);
        assert!(w.try_serve(&blocked, || b"reply".to_vec()));
        assert!(flag.woken.load(Ordering::SeqCst));
        assert_eq!(blocked.count(), 0);
        assert!(!w.try_serve(&blocked, || unreachable!("served twice")));
        assert_eq!(
            w.finish(&blocked, WaitState::TimedOut),
            WaitState::Served(b"reply".to_vec())
        );
        blocked.unregister(&w);
        assert!(!blocked.unblock(1, false));
    }

    #[test]
    fn gone_clients_are_never_served() {
        let blocked = BlockedClients::default();
        let flag = Arc::new(Flag::default());
        let w = waiter(2, &flag);
        blocked.register(&w);
        flag.gone.store(true, Ordering::SeqCst);
        assert!(!w.try_serve(&blocked, || unreachable!("served a gone client")));
        assert_eq!(blocked.count(), 0);
        assert_eq!(w.finish(&blocked, WaitState::TimedOut), WaitState::Gone);
    }

    #[test]
    fn unblock_ends_a_wait_once() {
        let blocked = BlockedClients::default();
        let flag = Arc::new(Flag::default());
        let w = waiter(3, &flag);
        blocked.register(&w);
        assert!(blocked.unblock(3, true));
        assert!(!blocked.unblock(3, false));
        assert_eq!(blocked.count(), 0);
        assert_eq!(
            w.finish(&blocked, WaitState::TimedOut),
            WaitState::UnblockedWithError
        );
    }
}
