//! The slow log (Redis's `slowlog.c`): the most recent commands that took
//! at least `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` of them, each with its arguments trimmed as Redis
//! trims them (32 arguments, 128 bytes each).
//!
//! The threshold is mirrored in an atomic, so the check after every command
//! costs one relaxed load; only a command that qualifies takes the lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

/// Arguments kept per entry (the last of them says how many were left out).
const MAX_ARGS: usize = 32;
/// Bytes kept per argument.
const MAX_ARG_BYTES: usize = 128;

/// One logged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowEntry {
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: i64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    /// The client's `ip:port` (`?:0` for a script's commands).
    pub peer: String,
    pub client_name: Vec<u8>,
}

/// The log and its settings.
#[derive(Debug)]
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowEntry>>,
    next_id: AtomicU64,
    /// `slowlog-log-slower-than` (-1: log nothing).
    threshold_us: AtomicI64,
    max_len: AtomicUsize,
}

impl Default for SlowLog {
    fn default() -> Self {
        SlowLog {
            entries: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(0),
            threshold_us: AtomicI64::new(10_000),
            max_len: AtomicUsize::new(128),
        }
    }
}

impl SlowLog {
    /// Mirrors the configuration; a shorter log drops its oldest entries
    /// at the next push, as in Redis.
    pub fn configure(&self, threshold_us: i64, max_len: i64) {
        self.threshold_us.store(threshold_us, Ordering::Relaxed);
        self.max_len
            .store(usize::try_from(max_len).unwrap_or(0), Ordering::Relaxed);
    }

    /// True if a command that took `duration_us` is to be logged.
    #[inline]
    pub fn wants(&self, duration_us: u64) -> bool {
        let threshold = self.threshold_us.load(Ordering::Relaxed);
        threshold >= 0 && duration_us >= threshold as u64
    }

    /// Logs a command (whose [`SlowLog::wants`] said yes).
    pub fn push(&self, args: &[&[u8]], duration_us: u64, peer: String, client_name: &[u8], now_s: i64) {
        let entry = SlowEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time: now_s,
            duration_us,
            args: trimmed(args),
            peer,
            client_name: client_name.to_vec(),
        };
        let max_len = self.max_len.load(Ordering::Relaxed);
        let mut entries = self.entries.lock();
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    /// The newest `count` entries (all of them for `None`).
    pub fn newest(&self, count: Option<usize>) -> Vec<SlowEntry> {
        let entries = self.entries.lock();
        let count = count.unwrap_or(entries.len());
        entries.iter().take(count).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}

/// The arguments as an entry keeps them (Redis's `slowlogCreateEntry`): at
/// most [`MAX_ARGS`], the last of which then counts the rest, and each cut
/// to [`MAX_ARG_BYTES`] with a note of how many bytes were dropped.
fn trimmed(args: &[&[u8]]) -> Vec<Vec<u8>> {
    let kept = args.len().min(MAX_ARGS);
    (0..kept)
        .map(|i| {
            if kept < args.len() && i == kept - 1 {
                return format!("... ({} more arguments)", args.len() - kept + 1).into_bytes();
            }
            let arg = args[i];
            if arg.len() > MAX_ARG_BYTES {
                let mut cut = arg[..MAX_ARG_BYTES].to_vec();
                cut.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes(),
                );
                cut
            } else {
                arg.to_vec()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commands_are_trimmed_as_redis_trims_them() {
        let long = vec![b'x'; 130];
        let args: Vec<&[u8]> = std::iter::once(long.as_slice())
            .chain(std::iter::repeat_n(&b"a"[..], 39))
            .collect();
        let kept = trimmed(&args);
        assert_eq!(kept.len(), 32);
        assert_eq!(kept[0], [&[b'x'; 128][..], b"... (2 more bytes)"].concat());
        assert_eq!(kept[30], b"a");
        assert_eq!(kept[31], b"... (9 more arguments)");
        assert_eq!(trimmed(&[b"get", b"k"]), [b"get".to_vec(), b"k".to_vec()]);
    }

    #[test]
    fn the_log_keeps_the_newest_entries_up_to_its_length() {
        let log = SlowLog::default();
        log.configure(0, 2);
        assert!(log.wants(0));
        for name in [&b"a"[..], b"b", b"c"] {
            log.push(&[name], 5, "?:0".into(), b"", 1);
        }
        let ids: Vec<u64> = log.newest(None).iter().map(|e| e.id).collect();
        assert_eq!(ids, [2, 1]);
        assert_eq!(log.newest(Some(1))[0].args, [b"c".to_vec()]);
        log.configure(-1, 2);
        assert!(!log.wants(u64::MAX));
        log.reset();
        assert!(log.is_empty());
    }
}
