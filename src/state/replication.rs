//! Replication as the whole server sees it: whether it follows a master
//! (and how its link to it stands), the sync counters INFO reports, and the
//! signal WAIT sleeps on. The stream itself (ID, offset, backlog, each
//! replica's unsent bytes) is [`crate::persist::replication`]'s; the link to
//! a master is run by the server layer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// How the link to our master stands (ROLE's and INFO's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected; will try (`connect`).
    Connect,
    /// Connecting or in the handshake (`connecting`, `handshake`).
    Connecting,
    /// Receiving the RDB (`sync`).
    Sync,
    /// Applying the stream (`connected`).
    Connected,
}

impl LinkState {
    /// ROLE's word for it.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// The master this server replicates, and its link.
#[derive(Debug, Clone)]
pub struct Master {
    pub host: String,
    pub port: u16,
    /// Bumped by every REPLICAOF: a link thread whose generation is no
    /// longer current stops.
    pub generation: u64,
    pub state: LinkState,
    /// When the link went down (None while it is up, or before the first).
    pub down_since: Option<Instant>,
    /// When something last arrived from the master.
    pub last_io: Instant,
    /// The RDB transfer in progress: bytes expected (-1: EOF form) and read.
    pub transfer_size: i64,
    pub transfer_read: u64,
}

/// Server-wide replication state.
#[derive(Default)]
pub struct ReplicationState {
    /// `None` while this server is a master.
    pub master: Mutex<Option<Master>>,
    generation: AtomicU64,
    /// INFO stats: full syncs served, partial resyncs accepted and refused.
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
    /// `min-replicas-to-write` when `min-replicas-max-lag` is set too (0:
    /// off), and `replica-read-only`, mirrored for the check before every
    /// write.
    pub min_replicas: AtomicU64,
    /// The link to our master is up (mirrors `Master::state`, for the
    /// MASTERDOWN check before every command).
    pub link_up: std::sync::atomic::AtomicBool,
    /// A replica is loading its master's RDB: commands not flagged
    /// `loading` get LOADING meanwhile.
    pub loading: std::sync::atomic::AtomicBool,
    /// `replica-serve-stale-data no`, mirrored.
    pub refuse_stale: std::sync::atomic::AtomicBool,
    /// `replica-read-only no` (false, the default, reads as "yes").
    pub writable: std::sync::atomic::AtomicBool,
    /// The database our master's stream has selected, as far as applied:
    /// kept across a dropped link (a `+CONTINUE` selects nothing again) and
    /// written into the RDB of a full sync this replica serves.
    pub link_db: std::sync::atomic::AtomicUsize,
    /// Bytes read from our master and written to our replicas.
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Signalled on every replica acknowledgement (WAIT sleeps on it).
    acks: Mutex<u64>,
    acked: Condvar,
    /// Signalled when the master changes (the link thread sleeps on it).
    changed: Condvar,
    /// Held (shared) by the link while it applies one of its master's
    /// commands and passes its bytes on, and (exclusive) by a sub-replica's
    /// full sync at its snapshot point: so the snapshot never holds a
    /// command whose bytes the sub-replica will receive again.
    pub apply_gate: parking_lot::RwLock<()>,
    /// The socket of the link to the master, so that REPLICAOF and CLIENT
    /// KILL can cut a link blocked in a read.
    pub link_socket: Mutex<Option<std::net::TcpStream>>,
}

impl ReplicationState {
    /// Refreshes the mirrors of the configuration.
    pub fn sync_config(&self, config: &crate::config::Config) {
        let min = if config.min_replicas_max_lag > 0 {
            config.min_replicas_to_write.max(0) as u64
        } else {
            0
        };
        self.min_replicas.store(min, Ordering::Release);
        self.writable
            .store(!config.replica_read_only, Ordering::Release);
        self.refuse_stale
            .store(!config.replica_serve_stale_data, Ordering::Release);
    }

    /// True if this server replicates a master.
    pub fn is_replica(&self) -> bool {
        self.master.lock().is_some()
    }

    /// A snapshot of the master link, if any.
    pub fn master(&self) -> Option<Master> {
        self.master.lock().clone()
    }

    /// Starts following `host:port` (the caller starts the link's thread
    /// with the returned generation).
    pub fn follow(&self, host: String, port: u16) -> u64 {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let mut master = self.master.lock();
        *master = Some(Master {
            host,
            port,
            generation,
            state: LinkState::Connect,
            down_since: None,
            last_io: Instant::now(),
            transfer_size: 0,
            transfer_read: 0,
        });
        drop(master);
        self.link_up.store(false, Ordering::Release);
        self.cut_link();
        self.changed.notify_all();
        generation
    }

    /// Stops following any master; returns whether it was following one.
    pub fn unfollow(&self) -> bool {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let was = self.master.lock().take().is_some();
        self.link_up.store(false, Ordering::Release);
        self.cut_link();
        self.changed.notify_all();
        was
    }

    /// Closes the link to the master, if one is open: its thread notices.
    pub fn cut_link(&self) {
        if let Some(socket) = self.link_socket.lock().take() {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Wakes the link thread (the server is stopping).
    pub fn wake_link(&self) {
        self.cut_link();
        let _guard = self.master.lock();
        self.changed.notify_all();
    }

    /// The link thread's sleep: until a master is set (returning it), or
    /// `limit` passes, or a wake-up.
    pub fn wait_for_master(&self, limit: Duration) -> Option<Master> {
        let mut master = self.master.lock();
        if master.is_none() {
            let _ = self.changed.wait_for(&mut master, limit);
        }
        master.clone()
    }

    /// Sleeps up to `limit` unless the master changes meanwhile (the pause
    /// between two connection attempts).
    pub fn pause(&self, generation: u64, limit: Duration) {
        let mut master = self.master.lock();
        if master.as_ref().is_some_and(|m| m.generation == generation) {
            let _ = self.changed.wait_for(&mut master, limit);
        }
    }

    /// True while `generation` is the link the server wants.
    pub fn is_current(&self, generation: u64) -> bool {
        self.master
            .lock()
            .as_ref()
            .is_some_and(|m| m.generation == generation)
    }

    /// Updates the link of `generation`, if it is still current.
    pub fn update(&self, generation: u64, change: impl FnOnce(&mut Master)) -> bool {
        let mut master = self.master.lock();
        match master.as_mut() {
            Some(m) if m.generation == generation => {
                change(m);
                self.link_up
                    .store(m.state == LinkState::Connected, Ordering::Release);
                true
            }
            _ => false,
        }
    }

    /// A replica acknowledged an offset: WAIT's sleepers look again.
    pub fn acked(&self) {
        *self.acks.lock() += 1;
        self.acked.notify_all();
    }

    /// Sleeps until an acknowledgement arrives or `limit` passes.
    pub fn wait_for_ack(&self, limit: Duration) {
        let mut acks = self.acks.lock();
        let seen = *acks;
        let deadline = Instant::now() + limit;
        while *acks == seen {
            if self.acked.wait_until(&mut acks, deadline).timed_out() {
                return;
            }
        }
    }
}

/// Starts following `host:port` (REPLICAOF host port): the link thread
/// connects. Our own replicas are disconnected, as in Redis: they will
/// reconnect and learn the new history (a partial resync when possible).
pub fn follow(state: &super::State, host: String, port: u16) {
    // CONFIG REWRITE writes the master this server follows now.
    state.update_config(|c| c.replicaof = Some((host.clone(), port)));
    state.repl.follow(host, port);
    state.repl.link_db.store(0, Ordering::Release);
    state.replication().set_replica(true);
    state.log.set_replica(true);
    // A replica's keys expire by its master's DELs, not by its own reaper.
    state.keyspace().reaper.set_active(false);
    disconnect_replicas(state);
}

/// Becomes a master again (REPLICAOF NO ONE): the data stays, the history
/// gets a new ID with the old one kept as the second, so that replicas of
/// the old master continue from here with a partial resync.
pub fn promote(state: &super::State) {
    state.update_config(|c| c.replicaof = None);
    let replication = state.replication();
    // Not while the link is between applying a command and passing it on.
    let gate = state.repl.apply_gate.write();
    replication.shift_replid();
    replication.set_replica(false);
    drop(gate);
    state.log.set_replica(false);
    state.keyspace().reaper.set_active(true);
    disconnect_replicas(state);
}

/// Closes every replica's connection.
pub fn disconnect_replicas(state: &super::State) {
    for replica in state.replication().take_replicas() {
        if let Some(handle) = state.sessions.get(replica.client_id) {
            handle.kill();
        }
    }
}

/// Replicas online whose last acknowledgement is at most
/// `min-replicas-max-lag` seconds old (Redis's `repl_good_slaves_count`).
pub fn good_replicas(state: &super::State, config: &crate::config::Config) -> usize {
    use crate::persist::replication::ReplicaState;
    let now_ms = crate::clock::unix_ms();
    state
        .replication()
        .replicas()
        .iter()
        .filter(|r| {
            r.state() == ReplicaState::Online
                && (now_ms - r.ack_at_ms.load(Ordering::Acquire)) / 1000 <= config.min_replicas_max_lag
        })
        .count()
}

/// Replication's share of the periodic task, once a second (Redis's
/// `replicationCron`): a master PINGs its replicas every
/// `repl-ping-replica-period` seconds (so they can tell a dead link from a
/// quiet one), drops replicas silent for `repl-timeout`, and frees the
/// backlog after `repl-backlog-ttl` seconds without replicas.
pub fn cron(state: &super::State, seconds: i64) {
    let config = state.config();
    let (period, timeout, ttl, size) = (
        config.repl_ping_replica_period.max(1),
        config.repl_timeout,
        config.repl_backlog_ttl,
        config.repl_backlog_size,
    );
    drop(config);
    let replication = state.replication();
    replication.set_backlog_size(size.max(1) as usize);
    let is_replica = state.repl.is_replica();
    let now_ms = crate::clock::unix_ms();
    if !is_replica && seconds % period == 0 {
        replication.ping();
    }
    for replica in replication.replicas() {
        let silent_ms = now_ms - replica.ack_at_ms.load(Ordering::Acquire);
        if replica.state() == crate::persist::replication::ReplicaState::Online
            && silent_ms > timeout * 1000
        {
            state.log.warning(&format!(
                "Disconnecting timedout replica (streaming sync): {}:{}",
                replica.ip, replica.port
            ));
            if let Some(handle) = state.sessions.get(replica.client_id) {
                handle.kill();
            }
        }
    }
    replication.expire_backlog(ttl, now_ms, is_replica);
}

/// Redis's refusals of a write on replication's grounds: NOREPLICAS on a
/// master without enough good replicas, READONLY on a read-only replica
/// (its master's own commands pass).
pub fn write_refusal(
    state: &super::State,
    client: &super::session::Session,
) -> Option<crate::error::CommandError> {
    if client.is_master {
        return None;
    }
    if state.replication().is_replica() {
        let read_only = !state.repl.writable.load(Ordering::Acquire);
        return read_only.then(|| {
            crate::error::CommandError::canned("READONLY You can't write against a read only replica.")
        });
    }
    let min = state.repl.min_replicas.load(Ordering::Acquire);
    if min > 0 && (good_replicas(state, &state.config()) as u64) < min {
        return Some(crate::error::CommandError::canned(
            "NOREPLICAS Not enough good replicas to write.",
        ));
    }
    None
}

/// `MASTERDOWN` for a command that needs up-to-date data, on a replica
/// whose link is down with `replica-serve-stale-data no`.
pub fn stale_refusal(state: &super::State) -> Option<crate::error::CommandError> {
    (state.repl.refuse_stale.load(Ordering::Acquire)
        && state.replication().is_replica()
        && !state.repl.link_up.load(Ordering::Acquire))
    .then(|| {
        crate::error::CommandError::canned(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        )
    })
}

/// `LOADING` for a command that cannot run while a replica loads its
/// master's RDB.
pub fn loading_refusal(state: &super::State) -> Option<crate::error::CommandError> {
    state
        .repl
        .loading
        .load(Ordering::Acquire)
        .then(|| crate::error::CommandError::canned("LOADING Redis is loading the dataset in memory"))
}
