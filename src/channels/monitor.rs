//! MONITOR's audience (Redis's `replicationFeedMonitors`): the connections
//! that asked to see every command the server runs, each as one status
//! line. A monitor is a [`Subscriber`] like a pub/sub connection: feeding
//! it appends to its queue and never waits, and one that falls behind past
//! `client-output-buffer-limit normal` is disconnected, so a slow monitor
//! never slows the server for others.
//!
//! With no monitor the check before feeding is one relaxed load.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;

use super::subscriber::{Frame, Limits, Subscriber};

#[derive(Debug, Default)]
pub struct Monitors {
    list: RwLock<Vec<Arc<Subscriber>>>,
    count: AtomicUsize,
    /// `client-output-buffer-limit normal`: monitors are normal clients.
    pub limits: Limits,
}

impl Monitors {
    /// True if nobody monitors (the common case, checked per command).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Relaxed) == 0
    }

    pub fn add(&self, monitor: Arc<Subscriber>) {
        let mut list = self.list.write();
        list.push(monitor);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Stops feeding the client `client_id` (RESET, or it left).
    pub fn remove(&self, client_id: u64) {
        let mut list = self.list.write();
        list.retain(|m| m.client_id != client_id);
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Sends `line` (a whole `+...\r\n` frame) to every monitor.
    pub fn feed(&self, line: &Frame, now_s: i64) {
        for monitor in self.list.read().iter() {
            if !monitor.is_closed() {
                monitor.deliver(line, &self.limits, now_s);
            }
        }
    }
}
