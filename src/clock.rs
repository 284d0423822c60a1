//! Time: wall-clock milliseconds for expiry (Redis stores
//! absolute unix times), and the access stamps that order keys for LRU.
//!
//! An access stamp is `max(now_ms << 16, thread_last + 1, shard_last + 1)`:
//! a hybrid logical clock. Its high bits are milliseconds, so `OBJECT
//! IDLETIME` can be read back from it and stamps from different shards
//! compare in real-time order to the millisecond. Within a millisecond,
//! `thread_last` orders everything one thread (one client connection) does,
//! and `shard_last` everything done to one shard (which is locked), so any
//! single client's sequence of accesses is ordered exactly. Nothing is shared
//! between cores: a global atomic clock measurably throttled two threads.

use std::cell::Cell;
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

thread_local! {
    /// The last stamp this thread handed out.
    static THREAD_LAST: Cell<u64> = const { Cell::new(0) };
}

/// A stamp for an access at `now_ms` to a shard whose last stamp is
/// `shard_last`: later than both that and this thread's previous stamp.
pub fn stamp(now_ms: i64, shard_last: u64) -> u64 {
    THREAD_LAST.with(|last| {
        let floor = stamp_of_ms(now_ms);
        let next = floor.max(last.get() + 1).max(shard_last + 1);
        last.set(next);
        next
    })
}

/// The earliest stamp of millisecond `ms` (an access set back in time).
pub fn stamp_of_ms(ms: i64) -> u64 {
    (ms.max(0) as u64) << SEQ_BITS
}

/// Milliseconds since the access recorded in `stamp`.
pub fn idle_ms(stamp: u64, now_ms: i64) -> i64 {
    (now_ms - (stamp >> SEQ_BITS) as i64).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_order_a_thread_and_a_shard_within_one_millisecond() {
        let a = stamp(1000, 0);
        let b = stamp(1000, 0);
        let c = stamp(999, 0);
        assert!(a < b && b < c, "one thread's accesses are ordered");
        let elsewhere = std::thread::spawn(move || stamp(1000, c)).join().unwrap();
        assert!(
            elsewhere > c,
            "a shard's accesses are ordered across threads"
        );
        assert_eq!(idle_ms(a, 3000), 2000);
    }
}
