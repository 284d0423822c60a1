//! The shutdown signal, and the guarantee that nothing acknowledged is lost.
//!
//! Whoever asks for shutdown (the SHUTDOWN command, a signal, the embedding
//! program) calls [`Shutdown::request`]. The server's main thread then saves
//! the final snapshot if persistence asks for one, and either stops for good
//! or, if that save failed, resumes (as Redis does: a server that cannot
//! persist keeps running rather than lose data).
//!
//! While the outcome is pending, workers still execute commands but hold
//! their replies ([`Shutdown::may_reply`] blocks): a write is only
//! acknowledged if it happened before the snapshot was taken, or if the
//! server goes on running. Once stopped, the acceptor is woken (see
//! [`crate::net::listener`]) and every client socket is closed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// How a shutdown was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Save if save points are configured (SHUTDOWN, SIGTERM, SIGINT).
    Default,
    /// SHUTDOWN SAVE: save even without save points.
    Save,
    /// SHUTDOWN NOSAVE.
    NoSave,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Requested; the final save (if any) is in progress. `force`: stop even
    /// if that save fails (SHUTDOWN FORCE).
    Stopping {
        mode: ShutdownMode,
        force: bool,
    },
    Stopped,
}

pub struct Shutdown {
    phase: Mutex<Phase>,
    cond: Condvar,
    /// `phase != Running`, readable without the mutex on hot paths.
    requested: AtomicBool,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown {
            phase: Mutex::new(Phase::Running),
            cond: Condvar::new(),
            requested: AtomicBool::new(false),
        }
    }

    /// True once a shutdown was requested (it may still be called off).
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// True once the server is definitely stopping.
    pub fn is_stopped(&self) -> bool {
        *self.phase.lock() == Phase::Stopped
    }

    /// Asks the server to stop. A request while one is pending is ignored.
    pub fn request(&self, mode: ShutdownMode) {
        self.request_with(mode, false);
    }

    /// Asks the server to stop; with `force`, even if the final save fails.
    pub fn request_with(&self, mode: ShutdownMode, force: bool) {
        let mut phase = self.phase.lock();
        if *phase == Phase::Running {
            *phase = Phase::Stopping { mode, force };
            self.requested.store(true, Ordering::SeqCst);
            self.cond.notify_all();
        }
    }

    /// The main thread: blocks until a shutdown is requested; returns its
    /// mode and whether it is forced.
    pub fn wait_request(&self) -> (ShutdownMode, bool) {
        let mut phase = self.phase.lock();
        loop {
            match *phase {
                Phase::Stopping { mode, force } => return (mode, force),
                Phase::Stopped => return (ShutdownMode::NoSave, true),
                Phase::Running => self.cond.wait(&mut phase),
            }
        }
    }

    /// The main thread: the final save is done (or not needed); stop.
    pub fn confirm(&self) {
        *self.phase.lock() = Phase::Stopped;
        self.cond.notify_all();
    }

    /// The main thread: the final save failed; keep serving.
    pub fn call_off(&self) {
        *self.phase.lock() = Phase::Running;
        self.requested.store(false, Ordering::SeqCst);
        self.cond.notify_all();
    }

    /// Workers, before sending replies: returns false if the server is
    /// stopping (the replies must not be sent), waiting first while a
    /// pending shutdown's outcome is unknown.
    pub fn may_reply(&self) -> bool {
        if !self.is_requested() {
            return true;
        }
        let mut phase = self.phase.lock();
        loop {
            match *phase {
                Phase::Running => return true,
                Phase::Stopped => return false,
                Phase::Stopping { .. } => self.cond.wait(&mut phase),
            }
        }
    }

    /// Waits up to `timeout` for the server to stop for good; returns true
    /// if it did. Periodic work and sleeping commands wait through this so
    /// that a shutdown never waits for them.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut phase = self.phase.lock();
        while *phase != Phase::Stopped {
            if self.cond.wait_until(&mut phase, deadline).timed_out() {
                break;
            }
        }
        *phase == Phase::Stopped
    }
}
