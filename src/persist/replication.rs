//! The replication stream as a master keeps it: the replication ID and
//! offset, the backlog (the stream's tail, from which a replica that lost
//! its link continues with `+CONTINUE`), and, for every replica connected,
//! the bytes not sent to it yet.
//!
//! Every write reaches the stream through the call that appends it to the
//! AOF ([`super::aof::AofLog::append`]), while the writer still holds its
//! shard locks, encoded as Redis encodes it for replicas: the stream keeps
//! its own SELECTs, and after a full sync starts it selects again, so a new
//! replica never depends on a SELECT it did not receive. Until the first
//! replica connects there is no backlog and nothing is fed: the offset
//! stands still, as in Redis.
//!
//! A replica that is itself a master's replica feeds its own replicas the
//! exact bytes of its master's stream ([`Replication::feed_raw`]), so that
//! offsets agree along a chain.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::aof::Logged;
use crate::net::wait::Waker;
use crate::resp::Frame;

/// Redis's `CONFIG_DEFAULT_REPL_BACKLOG_SIZE`.
pub const DEFAULT_BACKLOG_SIZE: usize = 1024 * 1024;

/// The replication stream's state: one per server.
pub struct Replication {
    /// True while a backlog exists: only then are writes fed.
    active: AtomicBool,
    /// This server replicates a master: its own writes (a writable
    /// replica's) are not propagated, only its master's stream
    /// ([`Replication::feed_raw`]).
    replica: AtomicBool,
    /// `master_repl_offset`, readable without the lock (WAIT's target).
    offset: AtomicU64,
    inner: Mutex<Inner>,
}

struct Inner {
    /// `master_replid`: the history this server's data belongs to.
    replid: String,
    /// `master_replid2`: the history it belonged to before a promotion
    /// (or forty zeros), valid up to `second_offset`.
    replid2: String,
    second_offset: i64,
    /// `master_repl_offset`: bytes of stream ever produced.
    offset: u64,
    backlog: Option<Backlog>,
    /// `repl-backlog-size`.
    backlog_size: usize,
    /// The database the stream last selected (`slaveseldb`).
    db: Option<usize>,
    replicas: Vec<Arc<Replica>>,
    /// Unix ms at which the last replica left (for `repl-backlog-ttl`).
    no_replicas_since: Option<i64>,
    /// Encoding scratch space, kept to avoid an allocation per write.
    scratch: Vec<u8>,
}

/// The last `capacity` bytes of the stream.
struct Backlog {
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl Backlog {
    fn push(&mut self, data: &[u8]) {
        if data.len() >= self.capacity {
            self.bytes.clear();
            self.bytes
                .extend(&data[data.len() - self.capacity..]);
            return;
        }
        let overflow = (self.bytes.len() + data.len()).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.bytes.extend(data);
    }

    fn resize(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        let overflow = self.bytes.len().saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
    }
}

/// Where a replica stands (INFO's `slaveN:state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ReplicaState {
    /// Waiting for its snapshot (`wait_bgsave`).
    WaitSnapshot = 0,
    /// Receiving the RDB (`send_bulk`).
    SendBulk = 1,
    /// Receiving the command stream (`online`).
    Online = 2,
}

impl ReplicaState {
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitSnapshot => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// One replica connected to this master: what it told us in REPLCONF, what
/// it acknowledged, and the stream bytes waiting for its connection.
pub struct Replica {
    /// The connection's client id.
    pub client_id: u64,
    /// The address INFO shows (`REPLCONF ip-address`, else the peer's).
    pub ip: String,
    /// `REPLCONF listening-port` (0 if never sent).
    pub port: u16,
    /// Disconnect beyond this many pending bytes
    /// (`client-output-buffer-limit replica`'s hard limit; 0: none).
    limit: usize,
    waker: Arc<Waker>,
    queue: Mutex<Queue>,
    state: AtomicU8,
    /// The offset it last acknowledged (`REPLCONF ACK`), and when (unix ms).
    pub ack_offset: AtomicU64,
    pub ack_at_ms: AtomicI64,
}

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl Replica {
    pub fn new(client_id: u64, ip: String, port: u16, limit: usize, waker: Arc<Waker>) -> Self {
        Replica {
            client_id,
            ip,
            port,
            limit,
            waker,
            queue: Mutex::new(Queue::default()),
            state: AtomicU8::new(ReplicaState::WaitSnapshot as u8),
            ack_offset: AtomicU64::new(0),
            ack_at_ms: AtomicI64::new(crate::clock::unix_ms()),
        }
    }

    pub fn state(&self) -> ReplicaState {
        match self.state.load(Ordering::Acquire) {
            0 => ReplicaState::WaitSnapshot,
            1 => ReplicaState::SendBulk,
            _ => ReplicaState::Online,
        }
    }

    pub fn set_state(&self, state: ReplicaState) {
        if state == ReplicaState::Online {
            // The silence before (a long snapshot, a load) is no timeout.
            self.ack_at_ms
                .fetch_max(crate::clock::unix_ms(), Ordering::AcqRel);
        }
        self.state.store(state as u8, Ordering::Release);
    }

    /// Queues stream bytes for the connection; wakes it if the queue was
    /// empty (it drains everything each time it wakes, so one wake-up per
    /// batch is enough).
    fn push(&self, data: &[u8]) {
        let mut queue = self.queue.lock();
        if queue.overflowed {
            return;
        }
        if self.limit > 0 && queue.bytes.len() + data.len() > self.limit {
            queue.overflowed = true;
            queue.bytes = Vec::new();
            drop(queue);
            self.waker.wake();
            return;
        }
        let was_empty = queue.bytes.is_empty();
        queue.bytes.extend_from_slice(data);
        drop(queue);
        if was_empty {
            self.waker.wake();
        }
    }

    /// Takes the queued bytes (appending them to `out`). Returns false if
    /// the queue outgrew its limit: the replica must be disconnected.
    pub fn drain_into(&self, out: &mut Vec<u8>) -> bool {
        let mut queue = self.queue.lock();
        if queue.overflowed {
            return false;
        }
        if out.is_empty() {
            std::mem::swap(out, &mut queue.bytes);
        } else {
            out.append(&mut queue.bytes);
        }
        true
    }

    /// Bytes waiting to be sent (CLIENT LIST's `omem` for a replica).
    pub fn pending(&self) -> usize {
        self.queue.lock().bytes.len()
    }

    /// Records `REPLCONF ACK offset`.
    pub fn acknowledge(&self, offset: u64, now_ms: i64) {
        self.ack_offset.fetch_max(offset, Ordering::AcqRel);
        self.ack_at_ms.store(now_ms, Ordering::Release);
    }
}

/// What INFO replication shows of the stream.
#[derive(Debug, Clone)]
pub struct Status {
    pub replid: String,
    pub replid2: String,
    pub offset: u64,
    pub second_offset: i64,
    pub backlog_active: bool,
    pub backlog_size: usize,
    pub backlog_first_byte: u64,
    pub backlog_histlen: usize,
}

/// How a PSYNC is answered.
pub enum Resync {
    /// `+CONTINUE`: the replica is registered, and gets these backlog bytes
    /// first.
    Continue { replid: String, backlog: Vec<u8> },
    /// A full resynchronization is needed.
    Full,
}

impl Default for Replication {
    fn default() -> Self {
        Replication::new(new_replid())
    }
}

impl Replication {
    pub fn new(replid: String) -> Self {
        Replication {
            active: AtomicBool::new(false),
            replica: AtomicBool::new(false),
            offset: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                replid,
                replid2: "0".repeat(40),
                second_offset: -1,
                offset: 0,
                backlog: None,
                backlog_size: DEFAULT_BACKLOG_SIZE,
                db: None,
                replicas: Vec::new(),
                no_replicas_since: None,
                scratch: Vec::new(),
            }),
        }
    }

    /// True while writes are fed to the stream (a backlog exists).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Feeds commands to the backlog and every replica (Redis's
    /// `replicationFeedSlaves`), selecting their databases as needed.
    /// Returns the offset after them, or `None` when nothing is fed.
    pub fn feed(&self, commands: &[Logged<'_>]) -> Option<u64> {
        if !self.is_active() || self.replica.load(Ordering::Acquire) {
            return None;
        }
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        inner.backlog.as_ref()?;
        let mut scratch = std::mem::take(&mut inner.scratch);
        scratch.clear();
        for cmd in commands {
            if let Some(db) = cmd.db
                && inner.db != Some(db)
            {
                Frame::encode_request(&[b"SELECT".to_vec(), db.to_string().into_bytes()], &mut scratch);
                inner.db = Some(db);
            }
            Frame::encode_request(cmd.argv, &mut scratch);
        }
        self.append(inner, &scratch);
        inner.scratch = scratch;
        Some(inner.offset)
    }

    /// Feeds bytes as they are: a replica passing its master's stream on to
    /// its own replicas. `db` is the database the stream has selected after
    /// them, as far as the caller knows.
    pub fn feed_raw(&self, bytes: &[u8], db: Option<usize>) {
        let mut inner = self.inner.lock();
        if inner.backlog.is_none() {
            // A replica keeps a backlog from its first sync on, so that it
            // can itself serve partial resyncs once promoted. Offsets still
            // advance, in step with its master's.
            inner.offset += bytes.len() as u64;
            self.offset.store(inner.offset, Ordering::Release);
            return;
        }
        self.append(&mut inner, bytes);
        inner.db = db;
    }

    /// `PING` to every replica, every `repl-ping-replica-period` seconds:
    /// counted in the offset, without a SELECT.
    pub fn ping(&self) {
        self.to_replicas(&[b"PING"]);
    }

    /// `REPLCONF GETACK *` into the stream (WAIT asks every replica where
    /// it stands).
    pub fn request_acks(&self) {
        self.to_replicas(&[b"REPLCONF", b"GETACK", b"*"]);
    }

    /// A master's own command to its replicas, not a write: only while it
    /// has some, and never in any database.
    fn to_replicas(&self, argv: &[&[u8]]) {
        if !self.is_active() || self.replica.load(Ordering::Acquire) {
            return;
        }
        let mut inner = self.inner.lock();
        if inner.replicas.is_empty() {
            return;
        }
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        let mut bytes = Vec::new();
        Frame::encode_request(&argv, &mut bytes);
        self.append(&mut inner, &bytes);
    }

    /// The snapshot point of a full sync, called with every shard locked:
    /// creates the backlog if this is the first replica (with a new
    /// replication ID, as Redis does: no history precedes it), registers
    /// `replica` so it receives everything written from now on, and has
    /// the next command select its database again. Returns the ID and
    /// offset for `+FULLRESYNC`.
    pub fn start_full_sync(&self, replica: Arc<Replica>) -> (String, u64) {
        let mut inner = self.inner.lock();
        if inner.backlog.is_none() {
            if inner.replicas.is_empty() {
                inner.replid = new_replid();
                inner.replid2 = "0".repeat(40);
                inner.second_offset = -1;
            }
            inner.create_backlog();
            self.active.store(true, Ordering::Release);
        }
        inner.db = None;
        replica.set_state(ReplicaState::SendBulk);
        inner.replicas.push(replica);
        inner.no_replicas_since = None;
        (inner.replid.clone(), inner.offset)
    }

    /// Redis's `masterTryPartialResynchronization`: continues the stream
    /// from `psync_offset` (the first byte the replica lacks) if the
    /// replica's history is ours and the backlog still holds that byte.
    pub fn try_partial(&self, replid: &[u8], psync_offset: i64, replica: Arc<Replica>) -> Resync {
        let mut inner = self.inner.lock();
        let ours = replid == inner.replid.as_bytes();
        let previous = replid == inner.replid2.as_bytes() && psync_offset <= inner.second_offset;
        if !ours && !previous {
            return Resync::Full;
        }
        let Some(backlog) = &inner.backlog else {
            return Resync::Full;
        };
        let first = inner.offset + 1 - backlog.bytes.len() as u64;
        if psync_offset < first as i64 || psync_offset > (inner.offset + 1) as i64 {
            return Resync::Full;
        }
        let skip = (psync_offset as u64 - first) as usize;
        let tail: Vec<u8> = backlog.bytes.range(skip..).copied().collect();
        replica.set_state(ReplicaState::Online);
        replica.ack_offset.store(psync_offset as u64 - 1, Ordering::Release);
        inner.replicas.push(replica);
        inner.no_replicas_since = None;
        Resync::Continue {
            replid: inner.replid.clone(),
            backlog: tail,
        }
    }

    /// Forgets a replica whose connection closed.
    pub fn remove(&self, client_id: u64, now_ms: i64) {
        let mut inner = self.inner.lock();
        inner.replicas.retain(|r| r.client_id != client_id);
        if inner.replicas.is_empty() && inner.no_replicas_since.is_none() {
            inner.no_replicas_since = Some(now_ms);
        }
    }

    pub fn replicas(&self) -> Vec<Arc<Replica>> {
        self.inner.lock().replicas.clone()
    }

    /// True if this server replicates a master.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::Acquire)
    }

    /// Marks this server as a replica (its own writes are then not fed)
    /// or a master.
    pub fn set_replica(&self, replica: bool) {
        self.replica.store(replica, Ordering::Release);
    }

    /// `master_repl_offset`.
    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::Acquire)
    }

    fn append(&self, inner: &mut Inner, bytes: &[u8]) {
        inner.append(bytes);
        self.offset.store(inner.offset, Ordering::Release);
    }

    pub fn replid(&self) -> String {
        self.inner.lock().replid.clone()
    }

    pub fn status(&self) -> Status {
        let inner = self.inner.lock();
        let histlen = inner.backlog.as_ref().map_or(0, |b| b.bytes.len());
        Status {
            replid: inner.replid.clone(),
            replid2: inner.replid2.clone(),
            offset: inner.offset,
            second_offset: inner.second_offset,
            backlog_active: inner.backlog.is_some(),
            backlog_size: inner.backlog_size,
            backlog_first_byte: if inner.backlog.is_some() {
                inner.offset + 1 - histlen as u64
            } else {
                0
            },
            backlog_histlen: histlen,
        }
    }

    /// `repl-backlog-size`.
    pub fn set_backlog_size(&self, size: usize) {
        let mut inner = self.inner.lock();
        inner.backlog_size = size.max(1);
        let size = inner.backlog_size;
        if let Some(backlog) = &mut inner.backlog {
            backlog.resize(size);
        }
    }

    /// Frees the backlog once no replica has been connected for `ttl`
    /// seconds (`repl-backlog-ttl`; 0 keeps it forever). A replica keeps
    /// its backlog: it may be promoted.
    pub fn expire_backlog(&self, ttl_s: i64, now_ms: i64, is_replica: bool) {
        let mut inner = self.inner.lock();
        if ttl_s == 0 || is_replica || inner.backlog.is_none() {
            return;
        }
        if let Some(since) = inner.no_replicas_since
            && now_ms - since >= ttl_s * 1000
        {
            // Nobody can continue from this history any more: Redis
            // changes the ID so that a replica cannot claim it.
            inner.backlog = None;
            inner.replid = new_replid();
            inner.replid2 = "0".repeat(40);
            inner.second_offset = -1;
            inner.no_replicas_since = None;
            self.active.store(false, Ordering::Release);
        }
    }

    /// A new replication ID, the history cut (DEBUG CHANGE-REPL-ID).
    pub fn change_replid(&self) {
        self.inner.lock().replid = new_replid();
    }

    /// A replica that just loaded its master's RDB takes on the master's
    /// history: its ID and offset, and a fresh backlog from there (Redis's
    /// `replicationCreateMasterClient` after a full sync).
    pub fn adopt(&self, replid: &str, offset: u64) {
        let mut inner = self.inner.lock();
        inner.replid = replid.to_string();
        inner.replid2 = "0".repeat(40);
        inner.second_offset = -1;
        inner.offset = offset;
        self.offset.store(offset, Ordering::Release);
        inner.create_backlog();
        inner.db = None;
        self.active.store(true, Ordering::Release);
    }

    /// A partial resync told us the master's (possibly new) ID: if it
    /// changed, our old one becomes the second ID, valid up to here.
    /// Returns whether the ID changed.
    pub fn continue_with(&self, replid: &str) -> bool {
        let mut inner = self.inner.lock();
        let changed = inner.replid != replid;
        if changed {
            inner.replid2 = std::mem::replace(&mut inner.replid, replid.to_string());
            inner.second_offset = inner.offset as i64 + 1;
        }
        if inner.backlog.is_none() {
            inner.create_backlog();
            self.active.store(true, Ordering::Release);
        }
        changed
    }

    /// Promotion (REPLICAOF NO ONE) or a lost master: a new ID, the old one
    /// kept as the second, so replicas of the same master continue from
    /// us with a partial resync (Redis's `shiftReplicationId`).
    pub fn shift_replid(&self) {
        let mut inner = self.inner.lock();
        inner.replid2 = std::mem::replace(&mut inner.replid, new_replid());
        inner.second_offset = inner.offset as i64 + 1;
        inner.db = None;
    }

    /// The replicas connected to this server lose their history when it
    /// starts following another master with a full sync: they are dropped
    /// by the caller. This returns and forgets them.
    pub fn take_replicas(&self) -> Vec<Arc<Replica>> {
        std::mem::take(&mut self.inner.lock().replicas)
    }
}

impl Inner {
    fn create_backlog(&mut self) {
        self.backlog = Some(Backlog {
            bytes: VecDeque::new(),
            capacity: self.backlog_size,
        });
    }

    fn append(&mut self, bytes: &[u8]) {
        self.offset += bytes.len() as u64;
        if let Some(backlog) = &mut self.backlog {
            backlog.push(bytes);
        }
        for replica in &self.replicas {
            replica.push(bytes);
        }
    }
}

/// 40 random hex characters, as Redis's `getRandomHexChars`.
pub fn new_replid() -> String {
    let mut rng = crate::rng::Rng::new();
    (0..40)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waker() -> Arc<Waker> {
        Arc::new(Waker::new(-1).unwrap())
    }

    fn set(key: &str) -> Vec<Vec<u8>> {
        vec![b"SET".to_vec(), key.as_bytes().to_vec(), b"v".to_vec()]
    }

    #[test]
    fn nothing_is_fed_before_the_first_replica() {
        let repl = Replication::default();
        let argv = set("a");
        assert_eq!(repl.feed(&[Logged { db: Some(0), argv: &argv }]), None);
        assert_eq!(repl.offset(), 0);
    }

    #[test]
    fn a_full_sync_selects_again_and_a_partial_one_continues_from_the_backlog() {
        let repl = Replication::default();
        let first = Arc::new(Replica::new(1, "127.0.0.1".into(), 1, 0, waker()));
        let (id, offset) = repl.start_full_sync(first.clone());
        assert_eq!(offset, 0);
        let argv = set("a");
        let end = repl.feed(&[Logged { db: Some(0), argv: &argv }]).unwrap();
        let mut sent = Vec::new();
        assert!(first.drain_into(&mut sent));
        assert_eq!(
            sent,
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nv\r\n"
        );
        assert_eq!(end, sent.len() as u64);
        // Same database again: no SELECT.
        repl.feed(&[Logged { db: Some(0), argv: &argv }]);
        let second = Arc::new(Replica::new(2, "127.0.0.1".into(), 2, 0, waker()));
        let Resync::Continue { replid, backlog } = repl.try_partial(id.as_bytes(), end as i64 + 1, second)
        else {
            panic!("expected a partial resync");
        };
        assert_eq!(replid, id);
        assert_eq!(backlog, b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nv\r\n");
        let third = Arc::new(Replica::new(3, "127.0.0.1".into(), 3, 0, waker()));
        assert!(matches!(repl.try_partial(b"other", 1, third.clone()), Resync::Full));
        assert!(matches!(
            repl.try_partial(id.as_bytes(), repl.offset() as i64 + 2, third),
            Resync::Full
        ));
    }

    #[test]
    fn the_backlog_keeps_only_its_size_and_a_promotion_keeps_the_old_id() {
        let repl = Replication::default();
        repl.set_backlog_size(16);
        let replica = Arc::new(Replica::new(1, "h".into(), 1, 0, waker()));
        let (id, _) = repl.start_full_sync(replica);
        repl.feed_raw(&[b'x'; 40], None);
        let status = repl.status();
        assert_eq!((status.offset, status.backlog_histlen, status.backlog_first_byte), (40, 16, 25));
        repl.shift_replid();
        let status = repl.status();
        assert_eq!(status.replid2, id);
        assert_eq!(status.second_offset, 41);
        let sibling = Arc::new(Replica::new(2, "h".into(), 2, 0, waker()));
        assert!(matches!(repl.try_partial(id.as_bytes(), 41, sibling), Resync::Continue { .. }));
    }

    #[test]
    fn a_replica_past_its_limit_is_cut_off() {
        let repl = Replication::default();
        let replica = Arc::new(Replica::new(1, "h".into(), 1, 10, waker()));
        repl.start_full_sync(replica.clone());
        repl.feed_raw(&[b'x'; 11], None);
        assert!(!replica.drain_into(&mut Vec::new()));
    }
}
