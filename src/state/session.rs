//! Sessions: each connection's own state ([`Session`], owned by the worker
//! serving it: the selected database, authentication, the open transaction,
//! watched keys, reply mode, a blocking command's wait), and the registry
//! through which other threads see and stop sessions ([`Sessions`], what
//! CLIENT LIST, CLIENT KILL and INFO clients read, and how shutdown reaches
//! every socket). A session need not have a socket: the append-only file
//! is replayed through one that has none.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::channels::{Peer, Subscriptions};
use crate::rng::Rng;
use crate::store::{Key, WatchFlag};

use super::State;
use crate::config::Config;
use crate::error::CommandError;
use crate::net::wait::Waker;
use crate::store::waiting::{Notify, Waiter};

/// An open MULTI.
#[derive(Debug, Default)]
pub struct MultiState {
    /// Commands queued for EXEC, already resolved and arity-checked: each
    /// is its command's id in the command registry, with its arguments.
    pub queue: Vec<(usize, Vec<Vec<u8>>)>,
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
pub struct Session {
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
    /// True while a script or function of this client runs (Redis's
    /// `CLIENT_SCRIPT` on the caller): XREAD refuses BLOCK, SORT ... BY
    /// nosort sorts a set so that its output replicates deterministically.
    pub in_script: bool,
    /// In MONITOR mode: fed every command the server runs.
    pub monitor: bool,
    /// Writes made inside the running EXEC, logged as one block at its end.
    pub exec_log: Vec<(usize, Vec<Vec<u8>>)>,
    /// Memory was over `maxmemory` when the current command arrived
    /// (Redis's `pre_command_oom_state`): a script's first write is then
    /// refused.
    pub pre_command_oom: bool,
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
    /// What `REPLCONF rdb-only` / `rdb-filter-only` asked of a SYNC.
    pub replica_request: ReplicaRequest,
    /// The replication offset this client's last write reached (WAIT waits
    /// for replicas to acknowledge it).
    pub repl_offset: u64,
    /// Set once SYNC or PSYNC made this connection one of our replicas.
    pub replica: Option<Arc<crate::persist::replication::Replica>>,
    /// A full sync SYNC or PSYNC asked for: the connection runs it after
    /// the command, as only it has the socket.
    pub full_sync: Option<FullSync>,
    /// This is the link to our own master: its commands are applied, never
    /// answered, and not refused on a read-only replica.
    pub is_master: bool,
    /// The master asked for an acknowledgement (`REPLCONF GETACK`).
    pub ack_requested: bool,
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
    pub handle: Arc<SessionHandle>,
    pub rng: Rng,
    /// A blocking command's wait (BLPOP...) and the wake-up descriptor.
    pub blocking: BlockState,
    /// Channels, patterns and shard channels subscribed to, and the queue
    /// their messages arrive in.
    pub pubsub: Subscriptions,
    /// CLIENT TRACKING's state for this connection.
    pub tracking: super::tracking::ClientTracking,
}

impl Session {
    pub fn new(state: &State, handle: Arc<SessionHandle>) -> Self {
        Session {
            id: handle.id,
            db: 0,
            authenticated: !state.password_set(),
            multi: None,
            in_exec: false,
            in_script: false,
            monitor: false,
            pre_command_oom: false,
            exec_log: Vec::new(),
            aof_offset: 0,
            watch_flag: WatchFlag::default(),
            watched: Vec::new(),
            close_after_reply: false,
            replica_request: ReplicaRequest::default(),
            repl_offset: 0,
            replica: None,
            full_sync: None,
            is_master: false,
            ack_requested: false,
            reply_mode: ReplyMode::On,
            name: Vec::new(),
            no_evict: false,
            query_buffer: 0,
            multi_mem_counted: Cell::new((0, 0)),
            rng: state.session_rng(handle.id),
            handle,
            blocking: Default::default(),
            pubsub: Subscriptions::default(),
            tracking: Default::default(),
        }
    }

    /// True while the connection waits for messages between commands
    /// (subscribed, monitoring, tracking keys, or a RESP3 connection that
    /// others can send invalidations to): it sleeps on its inbox as well
    /// as its socket.
    pub fn listens(&self) -> bool {
        self.monitor
            || self.replica.is_some()
            || self.pubsub.total() > 0
            || self.tracking.on
            || self.tracking.sink.as_ref().is_some_and(|s| s.resp3())
    }

    /// True if the idle timeout does not apply (subscribers and monitors
    /// wait for messages, as in Redis; a tracking client still times out).
    pub fn exempt_from_timeout(&self) -> bool {
        // A replica's link is watched by `repl-timeout` instead.
        self.monitor || self.pubsub.total() > 0 || self.replica.is_some()
    }

    /// True if this client must authenticate before running most commands.
    pub fn auth_required(&self, state: &State) -> bool {
        !self.authenticated && state.password_set()
    }

    /// This client's CLIENT LIST flags ([`flag`] bits).
    pub fn list_flags(&self) -> u16 {
        let mut bits = 0;
        if self.monitor {
            bits |= flag::MONITOR;
        }
        if self.replica.is_some() {
            bits |= flag::REPLICA;
        }
        if self.is_master {
            bits |= flag::MASTER;
        }
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
        if self.tracking.on {
            bits |= flag::TRACKING;
            if self
                .tracking
                .sink
                .as_ref()
                .is_some_and(|s| s.broken_redirect())
            {
                bits |= flag::BROKEN_REDIRECT;
            }
            if self.tracking.bcast {
                bits |= flag::BCAST;
            }
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
    /// That command, for the slow log and its latency histogram once it is
    /// served (see [`crate::commands::observe::blocked_call_served`]).
    pub call: Option<BlockedCall>,
}

/// A blocking command that blocked: what its call was.
#[derive(Debug)]
pub struct BlockedCall {
    /// Its registry id.
    pub id: usize,
    pub args: Vec<Vec<u8>>,
    /// How long the call took, the wait not included (µs).
    pub took_us: u64,
}

/// A full synchronization to run for a new replica.
#[derive(Debug, Clone, Copy)]
pub struct FullSync {
    /// PSYNC (answered `+FULLRESYNC <replid> <offset>` first), not SYNC.
    pub psync: bool,
}

/// What a connection that will send SYNC asked for with REPLCONF.
#[derive(Debug, Default, Clone)]
pub struct ReplicaRequest {
    /// `listening-port`: where the replica accepts connections.
    pub listening_port: u16,
    /// `ip-address`: the address the replica announces.
    pub ip_address: Option<String>,
    /// `capa eof`: it can read the diskless transfer's `$EOF:` form.
    pub capa_eof: bool,
    /// `capa psync2`: it understands `+CONTINUE <new replid>`.
    pub capa_psync2: bool,
    /// The RDB only, no command stream after it (`rdb-only 1`).
    pub rdb_only: bool,
    /// Leave the keys out (`rdb-filter-only`, with or without
    /// `functions`).
    pub exclude_data: bool,
    /// Leave the functions out (`rdb-filter-only` without `functions`).
    pub exclude_functions: bool,
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

    pub fn waker_ref(&self) -> Option<&Arc<Waker>> {
        self.waker.as_ref()
    }
}

/// The waiter registry wakes a blocked session through its waker.
impl Notify for Waker {
    fn notify(&self) {
        self.wake();
    }

    fn peer_gone(&self) -> bool {
        Waker::peer_gone(self)
    }
}

/// Size of the read buffer (Redis's `PROTO_IOBUF_LEN`).
pub const READ_BUFFER: usize = 16 * 1024;

/// A subscribed connection as publishers reach it: its wake-up descriptor
/// (the worker waits on it together with the socket) and its handle (to
/// close it when its messages overflow the output-buffer limit).
pub struct SubscriberPeer {
    handle: Arc<SessionHandle>,
    waker: Arc<Waker>,
}

impl SubscriberPeer {
    pub fn new(handle: Arc<SessionHandle>, waker: Arc<Waker>) -> Self {
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
fn queued_bytes(counted: &Cell<(usize, usize)>, queue: &[(usize, Vec<Vec<u8>>)]) -> usize {
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

/// What other threads may read (or do) about one connection.
#[derive(Debug)]
pub struct SessionHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i32,
    pub created: Instant,
    /// A clone of the socket, so another thread can shut it down: the
    /// owning worker's blocked read then returns and the connection ends.
    /// `None` for internal clients (loading the append-only file).
    stream: Option<TcpStream>,
    /// Set by CLIENT KILL; the owner closes the connection when it sees it.
    pub killed: AtomicBool,
    /// A client with no socket (in-process) has nothing for a kill to
    /// shut down: its waker, once it has one, is woken instead.
    pub local_waker: std::sync::OnceLock<Arc<Waker>>,
    /// Fields the owner refreshes after each command.
    pub info: Mutex<SessionInfo>,
}

/// The listable state of a connection (CLIENT LIST / CLIENT INFO).
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub name: Vec<u8>,
    pub db: usize,
    /// Full name of the last command (`client|list`).
    pub last_command: &'static str,
    pub last_interaction: Instant,
    /// Commands queued in MULTI, or -1 outside a transaction.
    pub multi: i64,
    pub resp: i64,
    pub lib_name: Vec<u8>,
    pub lib_ver: Vec<u8>,
    /// Bytes received and not executed yet: the rest of a pipeline, or a
    /// partly received request.
    pub query_buffer: usize,
    /// Memory held by commands queued in MULTI (Redis's `multi-mem`).
    pub multi_mem: usize,
    pub subscriptions: usize,
    pub pattern_subscriptions: usize,
    pub shard_subscriptions: usize,
    /// CLIENT LIST flags, a set of [`flag`] bits.
    pub flags: u16,
    /// CLIENT LIST's `redir`: the tracking redirection, -1 if not tracking.
    pub redirect: i64,
}

impl Default for SessionInfo {
    /// A connection that has not run a command yet.
    fn default() -> Self {
        SessionInfo {
            name: Vec::new(),
            db: 0,
            last_command: "NULL",
            last_interaction: Instant::now(),
            multi: -1,
            resp: 2,
            lib_name: Vec::new(),
            lib_ver: Vec::new(),
            query_buffer: 0,
            multi_mem: 0,
            subscriptions: 0,
            pattern_subscriptions: 0,
            shard_subscriptions: 0,
            flags: 0,
            redirect: -1,
        }
    }
}

/// The CLIENT LIST `flags=` letters sedis can show, as bits.
pub mod flag {
    /// `P`: subscribed to channels or patterns.
    pub const PUBSUB: u16 = 1 << 0;
    /// `x`: inside MULTI.
    pub const MULTI: u16 = 1 << 1;
    /// `b`: blocked in a blocking command.
    pub const BLOCKED: u16 = 1 << 2;
    /// `d`: a watched key changed; EXEC will fail.
    pub const DIRTY_CAS: u16 = 1 << 3;
    /// `c`: the connection closes after the pending replies.
    pub const CLOSE_AFTER_REPLY: u16 = 1 << 4;
    /// `e`: excluded from client eviction (CLIENT NO-EVICT ON).
    pub const NO_EVICT: u16 = 1 << 5;
    /// `O`: in MONITOR mode.
    pub const MONITOR: u16 = 1 << 6;
    /// `t`: CLIENT TRACKING is on.
    pub const TRACKING: u16 = 1 << 7;
    /// `R`: the tracking redirection's client is gone.
    pub const BROKEN_REDIRECT: u16 = 1 << 8;
    /// `B`: tracking in BCAST mode.
    pub const BCAST: u16 = 1 << 9;
    /// One of our replicas (`S`).
    pub const REPLICA: u16 = 1 << 10;
    /// The link to our master (`M`).
    pub const MASTER: u16 = 1 << 11;

    /// Letters in the order Redis prints them.
    const LETTERS: &[(u16, char)] = &[
        (MONITOR, 'O'),
        (REPLICA, 'S'),
        (MASTER, 'M'),
        (PUBSUB, 'P'),
        (MULTI, 'x'),
        (BLOCKED, 'b'),
        (TRACKING, 't'),
        (BROKEN_REDIRECT, 'R'),
        (BCAST, 'B'),
        (DIRTY_CAS, 'd'),
        (CLOSE_AFTER_REPLY, 'c'),
        (NO_EVICT, 'e'),
    ];

    /// The `flags=` value: the letters, or `N` for none.
    pub fn letters(bits: u16) -> String {
        let s: String = LETTERS
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, c)| *c)
            .collect();
        if s.is_empty() { "N".into() } else { s }
    }
}

/// Protected mode (Redis's `clientAcceptHandler`): when it is on and no
/// password is set, only clients connecting from 127.0.0.1 or ::1 are
/// served; everyone else gets the DENIED reply and is disconnected.
pub fn protected_mode_denies(config: &Config, peer: IpAddr) -> bool {
    config.protected_mode && config.requirepass.is_empty() && !crate::config::is_local_address(peer)
}

impl SessionHandle {
    /// A handle for a session with no socket, at `addr`.
    fn socketless(id: u64, addr: SocketAddr) -> Arc<SessionHandle> {
        Arc::new(SessionHandle {
            id,
            addr,
            laddr: addr,
            fd: -1,
            created: Instant::now(),
            stream: None,
            killed: AtomicBool::new(false),
            local_waker: std::sync::OnceLock::new(),
            info: Mutex::new(SessionInfo::default()),
        })
    }

    /// Closes the socket from outside the owning thread.
    pub fn close(&self) {
        if let Some(stream) = &self.stream {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Marks the client killed and closes its socket.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.close();
        if let Some(waker) = self.local_waker.get() {
            waker.wake();
        }
    }
}

/// All connected clients.
#[derive(Debug, Default)]
pub struct Sessions {
    clients: Mutex<BTreeMap<u64, Arc<SessionHandle>>>,
    next_id: AtomicU64,
    /// Clients accepted and not yet finished (for maxclients admission).
    /// Counted from hand-off, a little before registration.
    active: AtomicUsize,
}

impl Sessions {
    /// Registers a new connection and returns its handle.
    pub fn register(&self, stream: &TcpStream) -> std::io::Result<Arc<SessionHandle>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(SessionHandle {
            id,
            addr: stream.peer_addr()?,
            laddr: stream.local_addr()?,
            fd: raw_fd(stream),
            created: Instant::now(),
            stream: Some(stream.try_clone()?),
            killed: AtomicBool::new(false),
            local_waker: std::sync::OnceLock::new(),
            info: Mutex::new(SessionInfo::default()),
        });
        self.clients.lock().insert(id, handle.clone());
        Ok(handle)
    }

    /// Registers a client that runs in the server's own process, with no
    /// socket (an embedding program's in-process client): listed, killed
    /// and counted like any other, and local (127.0.0.1, port 0) for the
    /// checks that trust local clients, as a Unix socket's are.
    pub fn register_local(&self) -> Arc<SessionHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = SessionHandle::socketless(id, SocketAddr::from(([127, 0, 0, 1], 0)));
        self.clients.lock().insert(id, handle.clone());
        handle
    }

    /// A handle for an internal client that has no socket and is not listed
    /// (Redis's fake client that replays the append-only file).
    pub fn internal(&self) -> Arc<SessionHandle> {
        SessionHandle::socketless(u64::MAX, SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Connected clients, in id order.
    pub fn list(&self) -> Vec<Arc<SessionHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<SessionHandle>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Number of registered clients.
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes every client's socket (shutdown).
    pub fn close_all(&self) {
        for client in self.clients.lock().values() {
            client.close();
        }
    }

    /// Admission: counts a client in if fewer than `max` are active.
    pub fn try_admit(&self, max: usize) -> bool {
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// A client admitted by `try_admit` has finished.
    pub fn release(&self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }
}

#[cfg(unix)]
fn raw_fd(stream: &TcpStream) -> i32 {
    use std::os::fd::AsRawFd;
    stream.as_raw_fd()
}

#[cfg(not(unix))]
fn raw_fd(_: &TcpStream) -> i32 {
    -1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_bytes_count_incrementally() {
        let set = 0; // any command id: only the arguments count
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

    #[test]
    fn protected_mode_admits_only_loopback_without_a_password() {
        let mut config = Config::default();
        let remote: IpAddr = "192.168.1.10".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(protected_mode_denies(&config, remote));
        assert!(!protected_mode_denies(&config, local));
        assert!(!protected_mode_denies(&config, "::1".parse().unwrap()));
        // Redis compares the address text: other 127/8 addresses are remote.
        assert!(protected_mode_denies(&config, "127.0.0.2".parse().unwrap()));
        config.requirepass = "secret".into();
        assert!(!protected_mode_denies(&config, remote));
        config.requirepass.clear();
        config.protected_mode = false;
        assert!(!protected_mode_denies(&config, remote));
    }

    #[test]
    fn flag_letters_follow_redis_order() {
        assert_eq!(flag::letters(0), "N");
        assert_eq!(flag::letters(flag::NO_EVICT | flag::MULTI), "xe");
        assert_eq!(flag::letters(flag::DIRTY_CAS | flag::MULTI), "xd");
        let tracking = flag::TRACKING | flag::BROKEN_REDIRECT | flag::BCAST;
        assert_eq!(flag::letters(tracking | flag::BLOCKED | flag::DIRTY_CAS), "btRBd");
    }
}
