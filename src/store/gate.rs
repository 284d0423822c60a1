//! The gate that lets one command run alone: a Lua script (or a
//! transaction holding one) must see no other command between its own, in
//! any database, as in single-threaded Redis. Every other command passes
//! the gate *shared* while it runs; a script passes it *exclusively*.
//!
//! Shared passes are what every request pays, so the gate is striped like
//! [`crate::counter::Counter`]: a command takes one stripe (picked by its
//! connection), and only the rare exclusive pass takes them all, in order.
//! One shared stripe costs one uncontended atomic on a cache line that
//! stays with its core; one global lock would bounce between the cores on
//! every command.
//!
//! The rule that keeps it free of deadlock: a thread holds either one
//! stripe shared or every stripe exclusively, never one and then another;
//! exclusive passes take their turn first, then the stripes in order.

use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many stripes: enough that the worker threads of a busy server
/// rarely share one.
const STRIPES: usize = 16;

/// See the module documentation.
pub struct Gate {
    stripes: Box<[CachePadded<RwLock<()>>]>,
    /// Taken before the stripes by an exclusive pass: scripts queue here,
    /// one waking per script, instead of all contending for each stripe.
    turn: Mutex<()>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            stripes: (0..STRIPES)
                .map(|_| CachePadded::new(RwLock::new(())))
                .collect(),
            turn: Mutex::new(()),
        }
    }
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate")
    }
}

/// An exclusive pass: every stripe, held until dropped.
pub struct Exclusive<'a> {
    // Dropped in order: the stripes, then the turn.
    _stripes: Vec<RwLockWriteGuard<'a, ()>>,
    _turn: MutexGuard<'a, ()>,
}

impl Gate {
    /// A shared pass on the stripe `key` picks (a connection id): waits
    /// while a script runs.
    pub fn shared(&self, key: u64) -> RwLockReadGuard<'_, ()> {
        self.stripe(key).read()
    }

    /// A shared pass, or `None` if a script still holds the gate after
    /// `wait`.
    pub fn try_shared_for(&self, key: u64, wait: Duration) -> Option<RwLockReadGuard<'_, ()>> {
        self.stripe(key).try_read_for(wait)
    }

    /// The exclusive pass, or `None` if it could not be had within `wait`
    /// (another script holds it); nothing is held then.
    pub fn try_exclusive_for(&self, wait: Duration) -> Option<Exclusive<'_>> {
        let deadline = Instant::now() + wait;
        let turn = self.turn.try_lock_until(deadline)?;
        let mut held = Vec::with_capacity(self.stripes.len());
        for stripe in self.stripes.iter() {
            held.push(stripe.try_write_until(deadline)?);
        }
        Some(Exclusive {
            _stripes: held,
            _turn: turn,
        })
    }

    fn stripe(&self, key: u64) -> &RwLock<()> {
        &self.stripes[key as usize % STRIPES]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_pass_waits_for_every_shared_one_and_shuts_them_out() {
        let gate = Gate::default();
        let shared = gate.shared(3);
        assert!(gate.try_exclusive_for(Duration::from_millis(10)).is_none());
        // A failed exclusive attempt leaves nothing held.
        assert!(gate.try_shared_for(4, Duration::ZERO).is_some());
        drop(shared);
        let exclusive = gate.try_exclusive_for(Duration::from_millis(10));
        assert!(exclusive.is_some());
        for key in 0..STRIPES as u64 {
            assert!(gate.try_shared_for(key, Duration::ZERO).is_none());
        }
        drop(exclusive);
        assert!(gate.try_shared_for(7, Duration::ZERO).is_some());
    }
}
