//! One connection's state, owned by the worker serving it: the selected
//! database, authentication, the open transaction, watched keys, reply mode.
//! What other threads need to see of it is mirrored into its
//! [`super::clients::ClientHandle`].

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::commands::Resolved;
use crate::pubsub::{Peer, Subscriptions};
use crate::rng::Rng;
use crate::store::{Key, WatchFlag};

use super::clients::{ClientHandle, flag};
use super::state::State;
use super::wait::Waker;

/// An open MULTI.
#[derive(Debug, Default)]
pub struct MultiState {
    /// Commands queued for EXEC, already resolved and arity-checked.
    pub queue: Vec<(Resolved, Vec<Vec<u8>>)>,
    /// A command was rejected while queueing: EXEC must fail with EXECABORT.
    pub aborted: bool,
}

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping this command's reply (set from `SkipNext` when it starts).
    Skip,
}

impl ReplyMode {
    /// True if the mode silences the replies written now (pushes still go
    /// out: see [`crate::resp::ReplyWriter::set_silenced`]).
    pub fn silences(self) -> bool {
        matches!(self, ReplyMode::Off | ReplyMode::Skip)
    }
}

/// The connection's own state.
pub struct Client {
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// False while a password is required and AUTH has not succeeded. Like
    /// Redis, a client that connected while no password was set stays
    /// authenticated when one is set later.
    pub authenticated: bool,
    pub multi: Option<MultiState>,
    /// True while EXEC runs the queued commands: blocking commands then
    /// behave as non-blocking, as Redis's CLIENT_DENY_BLOCKING does.
    pub in_exec: bool,
    /// Writes made inside the running EXEC, logged as one block at its end.
    pub exec_log: Vec<(usize, Vec<Vec<u8>>)>,
    /// The append-only file offset this client's last write reached: its
    /// replies wait until the file holds it.
    pub aof_offset: u64,
    /// Set by any write to a watched key; EXEC fails if it is set.
    pub watch_flag: WatchFlag,
    /// The keys this client watches, with their databases.
    pub watched: Vec<(usize, Key)>,
    /// Close the connection once the pending replies are written (QUIT,
    /// protocol errors).
    pub close_after_reply: bool,
    pub reply_mode: ReplyMode,
    pub name: Vec<u8>,
    /// CLIENT NO-EVICT: exempt from client eviction (shown as flag `e`).
    pub no_evict: bool,
    /// Bytes received and not executed yet, including the command running
    /// now (CLIENT LIST's `qbuf` for the calling client, as in Redis).
    pub query_buffer: usize,
    /// How many queued MULTI commands `multi-mem` has counted, and their
    /// bytes: kept so that publishing it after every command does not
    /// re-walk the whole queue.
    multi_mem_counted: Cell<(usize, usize)>,
    pub handle: Arc<ClientHandle>,
    pub rng: Rng,
    /// A blocking command's wait (BLPOP...) and the wake-up descriptor.
    pub blocking: super::blocking::BlockState,
    /// Channels, patterns and shard channels subscribed to, and the queue
    /// their messages arrive in.
    pub pubsub: Subscriptions,
}

impl Client {
    pub fn new(state: &State, handle: Arc<ClientHandle>) -> Self {
        Client {
            id: handle.id,
            db: 0,
            authenticated: !state.password_set(),
            multi: None,
            in_exec: false,
            exec_log: Vec::new(),
            aof_offset: 0,
            watch_flag: WatchFlag::default(),
            watched: Vec::new(),
            close_after_reply: false,
            reply_mode: ReplyMode::On,
            name: Vec::new(),
            no_evict: false,
            query_buffer: 0,
            multi_mem_counted: Cell::new((0, 0)),
            handle,
            rng: Rng::new(),
            blocking: Default::default(),
            pubsub: Subscriptions::default(),
        }
    }

    /// True if this client must authenticate before running most commands.
    pub fn auth_required(&self, state: &State) -> bool {
        !self.authenticated && state.password_set()
    }

    /// This client's CLIENT LIST flags ([`flag`] bits).
    pub fn list_flags(&self) -> u16 {
        let mut bits = 0;
        if self.pubsub.total() > 0 {
            bits |= flag::PUBSUB;
        }
        if self.multi.is_some() {
            bits |= flag::MULTI;
        }
        if !self.watched.is_empty() && self.watch_flag.load(Ordering::Acquire) {
            bits |= flag::DIRTY_CAS;
        }
        if self.close_after_reply {
            bits |= flag::CLOSE_AFTER_REPLY;
        }
        if self.no_evict {
            bits |= flag::NO_EVICT;
        }
        if self.blocking.pending.is_some() {
            bits |= flag::BLOCKED;
        }
        bits
    }

    /// CLIENT LIST's `multi-mem`: the bytes the commands queued in MULTI
    /// hold.
    pub fn multi_mem(&self) -> usize {
        match &self.multi {
            Some(multi) => queued_bytes(&self.multi_mem_counted, &multi.queue),
            None => {
                self.multi_mem_counted.set((0, 0));
                0
            }
        }
    }
}

/// A subscribed connection as publishers reach it: its wake-up descriptor
/// (the worker waits on it together with the socket) and its handle (to
/// close it when its messages overflow the output-buffer limit).
pub struct SubscriberPeer {
    handle: Arc<ClientHandle>,
    waker: Arc<Waker>,
}

impl SubscriberPeer {
    pub fn new(handle: Arc<ClientHandle>, waker: Arc<Waker>) -> Self {
        SubscriberPeer { handle, waker }
    }
}

impl Peer for SubscriberPeer {
    fn wake(&self) {
        self.waker.wake();
    }

    fn disconnect(&self) {
        self.handle.kill();
    }

    fn is_closed(&self) -> bool {
        self.handle.killed.load(Ordering::Relaxed)
    }
}

/// The bytes of queued commands, counted as Redis counts `multi-mem` (the
/// arguments' bytes plus one pointer per argument). `counted` remembers
/// (commands counted, their bytes) so each call only adds the commands
/// queued since the last one.
fn queued_bytes(counted: &Cell<(usize, usize)>, queue: &[(Resolved, Vec<Vec<u8>>)]) -> usize {
    let (mut covered, mut bytes) = counted.get();
    if covered > queue.len() {
        (covered, bytes) = (0, 0); // a new, shorter queue
    }
    for (_, args) in &queue[covered..] {
        bytes +=
            args.iter().map(Vec::len).sum::<usize>() + args.len() * std::mem::size_of::<usize>();
    }
    counted.set((queue.len(), bytes));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_bytes_count_incrementally() {
        let set = crate::commands::registry().find(b"set").unwrap();
        let argv = |items: &[&str]| items.iter().map(|s| s.as_bytes().to_vec()).collect();
        let cache = Cell::new((0, 0));
        let mut queue = vec![(set, argv(&["SET", "a", "b"]))];
        // Redis reports multi-mem=29 for a queued "SET a b".
        assert_eq!(queued_bytes(&cache, &queue), 29);
        queue.push((set, argv(&["SET", "key", "value"])));
        assert_eq!(queued_bytes(&cache, &queue), 29 + 11 + 24);
        queue.clear();
        queue.push((set, argv(&["SET", "k", "v"])));
        assert_eq!(queued_bytes(&cache, &queue), 29);
    }
}
