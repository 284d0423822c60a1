//! Time for the store: wall-clock milliseconds for expiry (Redis stores
//! absolute unix times), and the access clock that orders keys for LRU.
//!
//! The access clock is a hybrid logical clock: each stamp is
//! `max(now_ms << 16, previous + 1)`. Stamps are unique and strictly
//! increasing across all threads, so comparing two keys' stamps says exactly
//! which was used last even when they live in different shards; and the high
//! bits are still milliseconds, so `OBJECT IDLETIME` can be read back from them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the unix epoch.
pub fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

const SEQ_BITS: u32 = 16;

/// The shared access clock.
#[derive(Debug, Default)]
pub struct AccessClock {
    last: AtomicU64,
}

impl AccessClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh stamp, later than every stamp handed out before.
    pub fn stamp(&self, now_ms: i64) -> u64 {
        let floor = (now_ms.max(0) as u64) << SEQ_BITS;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = floor.max(last + 1);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

/// Milliseconds since the access recorded in `stamp`.
pub fn idle_ms(stamp: u64, now_ms: i64) -> i64 {
    (now_ms - (stamp >> SEQ_BITS) as i64).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_increase_even_within_one_millisecond() {
        let clock = AccessClock::new();
        let a = clock.stamp(1000);
        let b = clock.stamp(1000);
        let c = clock.stamp(999);
        assert!(a < b && b < c);
        assert_eq!(idle_ms(a, 3000), 2000);
    }
}
