//! The keyed hash that places keys in shards and SCAN ranges.
//!
//! It runs for every key of every command, so it is a fast multiply-fold
//! hash over 8-byte words rather than SipHash. It is seeded randomly per
//! process, so clients cannot predict which keys share a shard; and a shard
//! only decides lock granularity, each shard's own table having its own
//! seeded hash, so a crafted key set can at worst make one lock busier.

use std::hash::{BuildHasher, RandomState};

/// A seeded hash function for byte strings.
#[derive(Debug, Clone)]
pub struct KeyHasher {
    seed: u64,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
const MUL2: u64 = 0xD6E8_FEB8_6659_FD93;

/// The high and low halves of a 128-bit product, xored: a cheap, strong mix.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

impl KeyHasher {
    /// A hasher with a random per-process seed.
    pub fn new() -> Self {
        KeyHasher {
            seed: RandomState::new().hash_one(0x5ED15u64) | 1,
        }
    }

    pub fn with_seed(seed: u64) -> Self {
        KeyHasher { seed: seed | 1 }
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        let mut h = self.seed ^ (key.len() as u64).wrapping_mul(MUL);
        let mut chunks = key.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            h = fold_mul(h ^ word, MUL2);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut tail = [0u8; 8];
            tail[..rest.len()].copy_from_slice(rest);
            h = fold_mul(h ^ u64::from_le_bytes(tail), MUL2);
        }
        // Final avalanche so both the low bits (shard) and the high bits
        // (SCAN range) depend on every input bit.
        fold_mul(h ^ self.seed.rotate_left(32), MUL)
    }
}

impl Default for KeyHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguishes_lengths_and_spreads_low_and_high_bits() {
        let h = KeyHasher::with_seed(42);
        assert_ne!(h.hash(b""), h.hash(b"\0"));
        assert_ne!(h.hash(b"a"), h.hash(b"a\0"));
        let mut low = [0usize; 64];
        let mut high = [0usize; 64];
        for i in 0..64_000 {
            let x = h.hash(format!("key:{i}").as_bytes());
            low[(x & 63) as usize] += 1;
            high[(x >> 58) as usize] += 1;
        }
        for bucket in low.iter().chain(high.iter()) {
            assert!((800..1200).contains(bucket), "{low:?} {high:?}");
        }
    }

    #[test]
    fn seeds_change_the_hash() {
        assert_ne!(
            KeyHasher::with_seed(1).hash(b"key"),
            KeyHasher::with_seed(2).hash(b"key")
        );
    }
}
