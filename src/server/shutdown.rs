//! The shutdown signal. Whoever asks for shutdown (the SHUTDOWN command, a
//! signal, or the embedding program) sets the flag and wakes the acceptor,
//! which is blocked in `accept()`, by connecting to the listening socket.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// How a shutdown was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Save if save points are configured (SHUTDOWN, SIGTERM).
    Default,
    /// SHUTDOWN SAVE.
    Save,
    /// SHUTDOWN NOSAVE.
    NoSave,
}

pub struct Shutdown {
    requested: AtomicBool,
    mode: Mutex<Option<ShutdownMode>>,
    /// Signalled when shutdown is requested, for whoever waits on it.
    cond: Condvar,
    /// The listener's address, to wake `accept()`.
    wake_addr: SocketAddr,
}

impl Shutdown {
    pub fn new(wake_addr: SocketAddr) -> Self {
        Shutdown {
            requested: AtomicBool::new(false),
            mode: Mutex::new(None),
            cond: Condvar::new(),
            wake_addr,
        }
    }

    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Asks the server to stop. The first request's mode wins.
    pub fn request(&self, mode: ShutdownMode) {
        {
            let mut current = self.mode.lock();
            if current.is_none() {
                *current = Some(mode);
            }
            self.requested.store(true, Ordering::SeqCst);
            self.cond.notify_all();
        }
        // Wake the acceptor. If the connection fails the listener is already
        // gone, which is what we want anyway.
        let addr = wake_target(self.wake_addr);
        let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    }

    /// Waits up to `timeout` for shutdown to be requested; returns true if
    /// it was. Periodic work and sleeping commands wait through this so
    /// that a shutdown never waits for them.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut mode = self.mode.lock();
        while mode.is_none() {
            if self.cond.wait_until(&mut mode, deadline).timed_out() {
                break;
            }
        }
        mode.is_some()
    }

    /// Blocks until shutdown is requested; returns its mode.
    pub fn wait(&self) -> ShutdownMode {
        let mut mode = self.mode.lock();
        while mode.is_none() {
            self.cond.wait(&mut mode);
        }
        mode.unwrap_or(ShutdownMode::Default)
    }
}

/// A listener bound to 0.0.0.0 / [::] is reached through loopback.
fn wake_target(addr: SocketAddr) -> SocketAddr {
    let mut target = addr;
    if target.ip().is_unspecified() {
        target.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    target
}
