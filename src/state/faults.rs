//! Faults injected on purpose, for testing how clients handle failure: the
//! next N commands (or every command, or every call of one command) answer
//! a given error instead of running, and persistence can act as if the
//! disk were full. Off, the dispatcher pays one relaxed atomic load per
//! command.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::error::CommandError;

/// The faults armed on one server.
#[derive(Debug, Default)]
pub struct Faults {
    /// True while any command fault is armed: the one check the
    /// dispatcher makes per command.
    armed: AtomicBool,
    rules: Mutex<Vec<Rule>>,
    /// Dump writes fail with ENOSPC ("No space left on device").
    disk_full: AtomicBool,
}

/// One armed command fault.
#[derive(Debug, Clone)]
struct Rule {
    /// The command it applies to (lower case), or every command.
    command: Option<String>,
    /// How many more commands it fails; `None`: until cleared.
    remaining: Option<u64>,
    error: CommandError,
}

impl Faults {
    /// Fails the next `count` commands (any command) with `error`.
    pub fn fail_next(&self, count: u64, error: CommandError) {
        self.add(Rule {
            command: None,
            remaining: Some(count),
            error,
        });
    }

    /// Fails every command with `error` until cleared.
    pub fn fail_all(&self, error: CommandError) {
        self.add(Rule {
            command: None,
            remaining: None,
            error,
        });
    }

    /// Fails every call of `command` (its name, any case) with `error`
    /// until cleared.
    pub fn fail_command(&self, command: &str, error: CommandError) {
        self.add(Rule {
            command: Some(command.to_ascii_lowercase()),
            remaining: None,
            error,
        });
    }

    fn add(&self, rule: Rule) {
        let mut rules = self.rules.lock();
        rules.push(rule);
        self.armed.store(true, Ordering::Release);
    }

    /// Disarms every command fault.
    pub fn clear(&self) {
        let mut rules = self.rules.lock();
        rules.clear();
        self.armed.store(false, Ordering::Release);
    }

    /// The error command `name` (lower case, as the table names it) must
    /// answer instead of running, if a fault applies; counts it against
    /// that fault. Rules apply in the order they were armed.
    #[inline]
    pub fn take(&self, name: &str) -> Option<CommandError> {
        if !self.armed.load(Ordering::Relaxed) {
            return None;
        }
        self.take_slow(name)
    }

    #[cold]
    fn take_slow(&self, name: &str) -> Option<CommandError> {
        let mut rules = self.rules.lock();
        let at = rules
            .iter()
            .position(|r| r.command.as_deref().is_none_or(|c| c == name))?;
        let error = rules[at].error.clone();
        if let Some(remaining) = &mut rules[at].remaining {
            *remaining -= 1;
            if *remaining == 0 {
                rules.remove(at);
            }
        }
        if rules.is_empty() {
            self.armed.store(false, Ordering::Release);
        }
        Some(error)
    }

    /// Makes dump writes fail as on a full disk (`true`), or succeed again.
    pub fn set_disk_full(&self, full: bool) {
        self.disk_full.store(full, Ordering::Release);
    }

    /// The error a dump write meets now, if the disk is "full".
    pub fn disk_error(&self) -> Option<std::io::Error> {
        self.disk_full
            .load(Ordering::Acquire)
            .then(|| std::io::Error::from_raw_os_error(libc::ENOSPC))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_run_out_and_named_ones_stay() {
        let faults = Faults::default();
        assert!(faults.take("get").is_none());
        faults.fail_next(2, CommandError::err("boom"));
        assert_eq!(faults.take("get").unwrap().text(), "ERR boom");
        assert!(faults.take("set").is_some());
        assert!(faults.take("get").is_none(), "two, then none");
        faults.fail_command("GET", CommandError::canned("READONLY no"));
        assert!(faults.take("set").is_none());
        assert_eq!(faults.take("get").unwrap().text(), "READONLY no");
        assert!(faults.take("get").is_some());
        faults.clear();
        assert!(faults.take("get").is_none());
        faults.set_disk_full(true);
        assert_eq!(faults.disk_error().unwrap().raw_os_error(), Some(libc::ENOSPC));
    }
}
