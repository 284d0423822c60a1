//! Access frequency for the LFU eviction policies: Redis's logarithmic
//! counter with decay (`lfu-log-factor`, `lfu-decay-time`), and the switch
//! that says whether lookups keep it.
//!
//! A key's access word holds either its LRU stamp or, under an LFU policy,
//! Redis's 24 LFU bits: the minute of the last decrement (16 bits, wrapping)
//! and an 8-bit counter that grows logarithmically with accesses (new keys
//! start at [`INIT`]) and loses one per `lfu-decay-time` minutes idle. Like
//! Redis, sedis keeps one or the other, never both: a policy switched at run
//! time reads what the other left until keys are used again.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::rng::Rng;

/// The counter of a new key (Redis's `LFU_INIT_VAL`): high enough that a
/// key gets a few accesses in before it is a candidate for eviction.
pub const INIT: u8 = 5;

/// The LFU parameters while an LFU policy is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lfu {
    /// `lfu-log-factor`: how slowly the counter grows (10: about a million
    /// accesses to reach 255).
    pub log_factor: u32,
    /// `lfu-decay-time`: minutes idle per point lost (0: never decays).
    pub decay_time: u32,
}

/// Whether lookups keep LFU counters or LRU stamps, read on every lookup
/// (one relaxed load), set when the configuration changes.
#[derive(Debug, Default)]
pub struct AccessMode {
    /// 0: LRU stamps. Otherwise bit 63 set, the log factor in bits 32..62
    /// and the decay time in bits 0..31.
    word: AtomicU64,
}

const LFU_ON: u64 = 1 << 63;

impl AccessMode {
    /// Mirrors the configuration: `Some` while an LFU policy is selected.
    pub fn set(&self, lfu: Option<Lfu>) {
        let word = lfu.map_or(0, |l| {
            LFU_ON | (u64::from(l.log_factor & 0x7fff_ffff) << 32) | u64::from(l.decay_time)
        });
        self.word.store(word, Ordering::Relaxed);
    }

    /// The LFU parameters, or `None` when keys keep LRU stamps.
    pub fn lfu(&self) -> Option<Lfu> {
        let word = self.word.load(Ordering::Relaxed);
        (word & LFU_ON != 0).then_some(Lfu {
            log_factor: ((word >> 32) & 0x7fff_ffff) as u32,
            decay_time: word as u32,
        })
    }
}

/// Redis's LFU clock: unix minutes, 16 bits, wrapping.
pub fn minutes(now_ms: i64) -> u16 {
    ((now_ms.max(0) / 60_000) & 0xffff) as u16
}

/// Minutes from `ldt` to `now`, taking the 16-bit clock to have wrapped at
/// most once (Redis's `LFUTimeElapsed`, including its 65535 modulus).
pub fn elapsed(ldt: u16, now: u16) -> u32 {
    if now >= ldt {
        u32::from(now - ldt)
    } else {
        65_535 - u32::from(ldt) + u32::from(now)
    }
}

/// The counter after the decay due since `ldt` (Redis's `LFUDecrAndReturn`).
pub fn decayed(counter: u8, ldt: u16, now: u16, decay_time: u32) -> u8 {
    if decay_time == 0 {
        return counter;
    }
    let periods = elapsed(ldt, now) / decay_time;
    counter.saturating_sub(periods.min(255) as u8)
}

/// One access: the counter grows with probability `1 / ((c - INIT) *
/// log_factor + 1)`, so it counts roughly the logarithm of the accesses;
/// `r` is uniform in `[0, 1)` (Redis's `LFULogIncr`).
pub fn log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = f64::from(counter.saturating_sub(INIT));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p { counter + 1 } else { counter }
}

thread_local! {
    /// Each thread's draws for [`log_incr`], so an access shares nothing
    /// between cores.
    static DRAWS: RefCell<Rng> = RefCell::new(Rng::new());
}

/// A uniform draw in `[0, 1)` from this thread's generator.
pub fn draw() -> f64 {
    DRAWS.with(|rng| (rng.borrow_mut().next_u64() >> 11) as f64 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_round_trips_parameters() {
        let mode = AccessMode::default();
        assert_eq!(mode.lfu(), None);
        let lfu = Lfu {
            log_factor: 10,
            decay_time: 1,
        };
        mode.set(Some(lfu));
        assert_eq!(mode.lfu(), Some(lfu));
        let big = Lfu {
            log_factor: i32::MAX as u32,
            decay_time: i32::MAX as u32,
        };
        mode.set(Some(big));
        assert_eq!(mode.lfu(), Some(big));
        mode.set(None);
        assert_eq!(mode.lfu(), None);
    }

    #[test]
    fn elapsed_wraps_once() {
        assert_eq!(elapsed(10, 15), 5);
        assert_eq!(elapsed(65_530, 4), 9);
        assert_eq!(minutes(60_000 * 65_536 + 120_000), 2);
    }

    #[test]
    fn decay_takes_one_point_per_period() {
        assert_eq!(decayed(20, 100, 105, 1), 15);
        assert_eq!(decayed(20, 100, 105, 2), 18);
        assert_eq!(decayed(3, 100, 200, 1), 0);
        assert_eq!(decayed(20, 100, 200, 0), 20);
    }

    #[test]
    fn increments_get_rarer_as_the_counter_grows() {
        // At or below INIT every access counts.
        assert_eq!(log_incr(0, 10, 0.999), 1);
        assert_eq!(log_incr(INIT, 10, 0.999), INIT + 1);
        // Ten above INIT with factor 10: probability 1/101.
        assert_eq!(log_incr(15, 10, 0.0098), 16);
        assert_eq!(log_incr(15, 10, 0.0100), 15);
        assert_eq!(log_incr(255, 0, 0.0), 255);
        // redis.conf's table: 100 accesses with factor 1 reach about 18.
        let mut c = INIT;
        for _ in 0..100 {
            c = log_incr(c, 1, draw());
        }
        assert!((12..=24).contains(&c), "counter {c}");
    }
}
