//! Active expiry: the reaper thread. Lazy expiry (on lookup) alone would keep
//! keys nobody reads forever; the reaper deletes them when they are due.
//!
//! It sleeps on a `parking_lot::Condvar` until the earliest deadline in the
//! keyspace. A command that sets a sooner deadline wakes it, after releasing
//! its shard locks, and only if the deadline really is sooner than the
//! planned wake-up: the common case costs one atomic load.
//!
//! `DEBUG SET-ACTIVE-EXPIRE 0` pauses it ([`Reaper::set_active`]): expired
//! keys then go only when looked up, which is how tests observe lazy expiry.
//! CLIENT PAUSE holds all expiry until a moment ([`Reaper::hold_until`]):
//! the reaper sleeps until then, and lookups report expired keys missing
//! without deleting them, as Redis does while clients are paused.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::keyspace::Keyspace;

/// Keys expired per lock hold before the lock is released and retaken, so
/// a mass expiry never stalls other clients on one shard.
const BATCH: usize = 64;

#[derive(Debug)]
struct State {
    /// When the reaper will next wake (unix ms). `i64::MAX` while it is
    /// sweeping: every new deadline then counts as sooner, so none is missed.
    wake_at: i64,
    shutdown: bool,
    /// False while active expiry is paused.
    active: bool,
}

/// The reaper's wake-up channel, owned by the keyspace.
#[derive(Debug)]
pub struct Reaper {
    state: Mutex<State>,
    cond: Condvar,
    /// Mirror of `state.wake_at` for the lock-free check in `deadline_added`.
    wake_at: AtomicI64,
    /// No key is deleted for expiring before this moment (unix ms).
    held_until: AtomicI64,
}

impl Default for Reaper {
    fn default() -> Self {
        Reaper {
            state: Mutex::new(State {
                wake_at: i64::MAX,
                shutdown: false,
                active: true,
            }),
            cond: Condvar::new(),
            wake_at: AtomicI64::new(i64::MAX),
            held_until: AtomicI64::new(0),
        }
    }
}

impl Reaper {
    /// Called after a command set a deadline `at`: wakes the reaper if it
    /// planned to sleep past it.
    pub fn deadline_added(&self, at: i64) {
        if at >= self.wake_at.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.state.lock();
        if at < state.wake_at {
            state.wake_at = at;
            self.wake_at.store(at, Ordering::Release);
            self.cond.notify_one();
        }
    }

    /// Pauses (`false`) or resumes (`true`) active expiry. Resuming sweeps
    /// at once for whatever fell due meanwhile.
    pub fn set_active(&self, active: bool) {
        self.state.lock().active = active;
        self.cond.notify_all();
    }

    /// Holds every expiry until `until_ms` (0: lets them go now).
    pub fn hold_until(&self, until_ms: i64) {
        let _state = self.state.lock();
        self.held_until.store(until_ms, Ordering::Release);
        self.cond.notify_all();
    }

    /// True while expired keys must stay where they are.
    #[inline]
    pub fn is_held(&self, now_ms: i64) -> bool {
        now_ms < self.held_until.load(Ordering::Acquire)
    }

    /// True unless active expiry is paused.
    pub fn is_active(&self) -> bool {
        self.state.lock().active
    }

    /// Makes the reaper look again now: the server's manual clock moved, so
    /// deadlines may have passed without any real time passing.
    pub fn clock_moved(&self) {
        let mut state = self.state.lock();
        state.wake_at = i64::MIN;
        self.wake_at.store(i64::MIN, Ordering::Release);
        self.cond.notify_all();
    }

    /// Asks the reaper loop to end.
    pub fn shutdown(&self) {
        self.state.lock().shutdown = true;
        self.cond.notify_all();
    }

    /// The reaper loop: run it on its own thread; returns after `shutdown`.
    pub fn run(keyspace: &Keyspace) {
        let reaper = &keyspace.reaper;
        let clock = &keyspace.clock;
        let unix_ms = || clock.unix_ms();
        // A manual clock moves only when told, and then says so
        // (`clock_moved`): no real time needs waiting out.
        let sleep_for = |ms: i64| {
            if clock.is_manual() || ms == i64::MAX {
                Duration::from_secs(3600)
            } else {
                Duration::from_millis(ms.max(0) as u64)
            }
        };
        loop {
            {
                let mut state = reaper.state.lock();
                // Paused: sleep until resumed. New deadlines still notify;
                // they are swept after resuming.
                while !state.active && !state.shutdown {
                    reaper.cond.wait(&mut state);
                }
                if state.shutdown {
                    return;
                }
                let held = reaper.held_until.load(Ordering::Acquire);
                if held > unix_ms() {
                    let wait = sleep_for(held - unix_ms());
                    reaper.cond.wait_until(&mut state, Instant::now() + wait);
                    continue;
                }
                state.wake_at = i64::MAX;
                reaper.wake_at.store(i64::MAX, Ordering::Release);
            }
            // No key expires while a script runs (its time stands still).
            let next = {
                let _pass = keyspace.gate.shared(0);
                keyspace.expire_due(unix_ms(), BATCH)
            };
            let mut state = reaper.state.lock();
            // Deadlines added during the sweep lowered `wake_at` below MAX.
            let target = next.min(state.wake_at);
            state.wake_at = target;
            reaper.wake_at.store(target, Ordering::Release);
            if state.shutdown {
                return;
            }
            let now = unix_ms();
            if target > now {
                let wait = sleep_for(if target == i64::MAX { target } else { target - now });
                reaper.cond.wait_until(&mut state, Instant::now() + wait);
            }
        }
    }
}
