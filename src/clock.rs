//! Time: wall-clock milliseconds for expiry (Redis stores
//! absolute unix times), each server's [`Clock`] (the wall clock, or a
//! manual one that a test moves forward), and the access stamps that order
//! keys for LRU.
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
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
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

/// Where one server's time comes from: the wall clock (the default), or a
/// manual clock that stands still until it is moved. Commands read it once
/// each, and expiry, the reaper and blocking timeouts read the same one.
///
/// An `Option` rather than a trait object: the wall clock's path, taken by
/// every command, costs one null check on top of the system call.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<ManualTime>>,
}

/// The manual clock's reading, shared by the server and whoever moves it.
#[derive(Debug)]
struct ManualTime {
    now_us: AtomicI64,
}

impl Clock {
    /// The wall clock.
    pub fn wall() -> Clock {
        Clock::default()
    }

    /// A manual clock that reads `start_us` (unix µs) until moved.
    pub fn manual(start_us: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(ManualTime {
                now_us: AtomicI64::new(start_us),
            })),
        }
    }

    /// True for a manual clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Milliseconds since the unix epoch, by this clock.
    #[inline]
    pub fn unix_ms(&self) -> i64 {
        self.unix_us().div_euclid(1000)
    }

    /// Microseconds since the unix epoch, by this clock.
    #[inline]
    pub fn unix_us(&self) -> i64 {
        match &self.manual {
            None => unix_us(),
            Some(manual) => manual.now_us.load(Ordering::Acquire),
        }
    }

    /// This clock's time (µs) for a command whose start was read from the
    /// wall clock as `wall_us`: the same reading when this is the wall
    /// clock, so a command pays for one clock read, not two.
    #[inline]
    pub fn command_us(&self, wall_us: i64) -> i64 {
        match &self.manual {
            None => wall_us,
            Some(manual) => manual.now_us.load(Ordering::Acquire),
        }
    }

    /// Moves a manual clock by `us` (forward, or back if negative) and
    /// returns its new reading; the wall clock cannot be moved (`None`).
    pub fn advance_us(&self, us: i64) -> Option<i64> {
        let manual = self.manual.as_ref()?;
        Some(manual.now_us.fetch_add(us, Ordering::AcqRel).saturating_add(us))
    }

    /// Sets a manual clock to `us` (unix µs); `None` for the wall clock.
    pub fn set_us(&self, us: i64) -> Option<i64> {
        let manual = self.manual.as_ref()?;
        manual.now_us.store(us, Ordering::Release);
        Some(us)
    }
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

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let clock = Clock::manual(5_000_000);
        assert_eq!(clock.unix_ms(), 5000);
        assert_eq!(clock.command_us(1), 5_000_000, "the wall reading is ignored");
        assert_eq!(clock.advance_us(1500), Some(5_001_500));
        assert_eq!(clock.clone().unix_ms(), 5001, "clones share the reading");
        let wall = Clock::wall();
        assert_eq!(wall.command_us(42), 42);
        assert_eq!(wall.advance_us(1), None);
        assert!(wall.unix_ms() > 1_700_000_000_000);
    }
}
