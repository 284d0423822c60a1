//! CLIENT PAUSE (Redis's `pauseClients`): for a while, commands that may
//! write (WRITE) or all commands (ALL) wait before they run. A waiting
//! command sleeps on a condition variable until the pause ends (its
//! deadline, CLIENT UNPAUSE, a shorter-lived replacement never: pauses
//! only extend), its client is killed, or the server shuts down.
//!
//! While a pause is on, keys are not expired or evicted either (see
//! [`Pause::is_paused`]), as in Redis: what a write-paused server holds
//! must not change.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Condvar, Mutex};

/// What a pause holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseKind {
    /// Commands that may write or propagate.
    Write,
    /// Every command.
    All,
}

#[derive(Debug, Default)]
pub struct Pause {
    /// The pause in force and its deadline (unix ms).
    state: Mutex<Option<(PauseKind, i64)>>,
    ended: Condvar,
    /// Mirrors "a pause is set", read before every command.
    on: AtomicBool,
}

impl Pause {
    /// Pauses until `end_ms`; over a pause in force the longer deadline
    /// and the stronger kind win, as Redis merges them. Returns the
    /// deadline now in force.
    pub fn pause(&self, kind: PauseKind, end_ms: i64) -> i64 {
        let mut state = self.state.lock();
        let merged = match *state {
            Some((k, e)) => (k.max(kind), e.max(end_ms)),
            None => (kind, end_ms),
        };
        *state = Some(merged);
        self.on.store(true, Ordering::Release);
        merged.1
    }

    /// Ends the pause (CLIENT UNPAUSE) and lets the waiting commands run.
    pub fn unpause(&self) {
        let mut state = self.state.lock();
        *state = None;
        self.on.store(false, Ordering::Release);
        self.ended.notify_all();
    }

    /// The pause in force at `now_ms`, if any; one past its deadline ends.
    pub fn current(&self, now_ms: i64) -> Option<PauseKind> {
        if !self.on.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.state.lock();
        match *state {
            Some((kind, end)) if end > now_ms => Some(kind),
            Some(_) => {
                *state = None;
                self.on.store(false, Ordering::Release);
                self.ended.notify_all();
                None
            }
            None => None,
        }
    }

    /// True while any pause is in force: expiry and eviction wait too.
    pub fn is_paused(&self) -> bool {
        self.current(crate::clock::unix_ms()).is_some()
    }

    /// Waits while a pause that `holds(kind)` is in force, until it ends or
    /// `give_up()` says the client is going away (checked whenever the
    /// waiter is woken: see [`Pause::wake_all`]).
    pub fn wait(&self, holds: impl Fn(PauseKind) -> bool, give_up: impl Fn() -> bool) {
        let mut state = self.state.lock();
        loop {
            let Some((kind, end)) = *state else {
                return;
            };
            let now = crate::clock::unix_ms();
            if end <= now {
                *state = None;
                self.on.store(false, Ordering::Release);
                self.ended.notify_all();
                return;
            }
            if !holds(kind) || give_up() {
                return;
            }
            let left = std::time::Duration::from_millis((end - now) as u64);
            self.ended.wait_for(&mut state, left);
        }
    }

    /// Wakes every waiting command to look again (a client was killed, or
    /// the server is stopping).
    pub fn wake_all(&self) {
        let _state = self.state.lock();
        self.ended.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_merge_to_the_longer_and_stronger() {
        let pause = Pause::default();
        let now = crate::clock::unix_ms();
        assert_eq!(pause.current(now), None);
        pause.pause(PauseKind::All, now + 60_000);
        pause.pause(PauseKind::Write, now + 120_000);
        assert_eq!(pause.current(now + 90_000), Some(PauseKind::All));
        assert_eq!(pause.current(now + 120_000), None);
        pause.pause(PauseKind::Write, now - 1);
        assert!(!pause.is_paused());
    }

    #[test]
    fn a_waiting_command_runs_once_unpaused() {
        let pause = std::sync::Arc::new(Pause::default());
        pause.pause(PauseKind::Write, crate::clock::unix_ms() + 600_000);
        let waiter = {
            let pause = pause.clone();
            std::thread::spawn(move || pause.wait(|_| true, || false))
        };
        // Unpausing before or after the waiter starts to wait both end it.
        pause.unpause();
        waiter.join().unwrap();
        // A pause that does not hold the command lets it through.
        pause.pause(PauseKind::Write, crate::clock::unix_ms() + 600_000);
        pause.wait(|kind| kind == PauseKind::All, || false);
    }
}
