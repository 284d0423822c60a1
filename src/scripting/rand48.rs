//! The random numbers behind a script's `math.random`: Redis replaces Lua's
//! (which calls libc's `rand()`) with its own `drand48`-style generator so
//! that a seed gives the same sequence on every platform. Redis 7 keeps one
//! generator for the whole server and never reseeds it between scripts
//! (only `math.randomseed` does), so its state belongs to the engine.

/// The 48-bit linear congruential generator of `lrand48`:
/// `x = (0x5DEECE66D * x + 0xB) mod 2^48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rand48 {
    x: u64,
}

/// What `redisLrand48` returns at most: the result is `x`'s top 31 bits.
pub const RAND48_MAX: i32 = i32::MAX;

const MASK: u64 = (1 << 48) - 1;

impl Default for Rand48 {
    /// The state before any seeding: `lrand48`'s constant `0x1234ABCD330E`.
    fn default() -> Self {
        Rand48 {
            x: 0x1234_ABCD_330E,
        }
    }
}

impl Rand48 {
    /// `srand48(seed)`: the seed's 32 bits above the constant low 16.
    pub fn seed(&mut self, seed: i32) {
        self.x = (u64::from(seed as u32) << 16) | 0x330E;
    }

    /// The next value in `0..=RAND48_MAX`.
    pub fn next_value(&mut self) -> i32 {
        self.x = (0x5_DEEC_E66D_u64.wrapping_mul(self.x).wrapping_add(0xB)) & MASK;
        (self.x >> 17) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_sequences() {
        // Recorded from Redis 7.0.15 on a fresh server:
        // `EVAL "return tostring(math.random())" 0` twice, then
        // `EVAL "math.randomseed(1); return math.random(10)" 0`.
        let mut r = Rand48::default();
        let first = f64::from(r.next_value() % RAND48_MAX) / f64::from(RAND48_MAX);
        assert_eq!(crate::num::format_g(first, 14), "0.39646477363839");
        let second = f64::from(r.next_value() % RAND48_MAX) / f64::from(RAND48_MAX);
        assert_eq!(crate::num::format_g(second, 14), "0.84048536971234");
        r.seed(1);
        let v = f64::from(r.next_value() % RAND48_MAX) / f64::from(RAND48_MAX);
        assert_eq!((v * 10.0).floor() + 1.0, 1.0);
    }
}
