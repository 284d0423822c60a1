//! The registry of connected clients: what CLIENT LIST, CLIENT KILL and INFO
//! clients see of connections owned by other threads, and how shutdown
//! reaches every socket.

use std::collections::BTreeMap;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::config::Config;

/// What other threads may read (or do) about one connection.
#[derive(Debug)]
pub struct ClientHandle {
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
    /// Fields the owner refreshes after each command.
    pub info: Mutex<ClientInfo>,
}

/// The listable state of a connection (CLIENT LIST / CLIENT INFO).
#[derive(Debug, Clone)]
pub struct ClientInfo {
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

    /// Letters in the order Redis prints them.
    const LETTERS: &[(u16, char)] = &[
        (PUBSUB, 'P'),
        (MULTI, 'x'),
        (BLOCKED, 'b'),
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

impl ClientHandle {
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
    }
}

/// All connected clients.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_id: AtomicU64,
    /// Clients accepted and not yet finished (for maxclients admission).
    /// Counted from hand-off, a little before registration.
    active: AtomicUsize,
}

impl ClientRegistry {
    /// Registers a new connection and returns its handle.
    pub fn register(&self, stream: &TcpStream) -> std::io::Result<Arc<ClientHandle>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let handle = Arc::new(ClientHandle {
            id,
            addr: stream.peer_addr()?,
            laddr: stream.local_addr()?,
            fd: raw_fd(stream),
            created: Instant::now(),
            stream: Some(stream.try_clone()?),
            killed: AtomicBool::new(false),
            info: Mutex::new(ClientInfo {
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
            }),
        });
        self.clients.lock().insert(id, handle.clone());
        Ok(handle)
    }

    /// A handle for an internal client that has no socket and is not listed
    /// (Redis's fake client that replays the append-only file).
    pub fn internal(&self) -> Arc<ClientHandle> {
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        Arc::new(ClientHandle {
            id: u64::MAX,
            addr: unspecified,
            laddr: unspecified,
            fd: -1,
            created: Instant::now(),
            stream: None,
            killed: AtomicBool::new(false),
            info: Mutex::new(ClientInfo {
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
            }),
        })
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Connected clients, in id order.
    pub fn list(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
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
    }
}
