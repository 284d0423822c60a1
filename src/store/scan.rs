//! SCAN's cursor: a position that survives any change to the shards.

use super::keyspace::{SHARD_BITS, SHARDS};

/// A SCAN position. The cursor packs: the shard (low 6 bits), how many high
/// hash bits split that shard into ranges (next 5 bits), and the range index
/// (the rest). A key belongs to exactly one range of one shard, and ranges are
/// defined by the hash alone, so every key present for the whole scan is
/// returned exactly once in its range, however the shards change in between.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanCursor {
    pub shard: usize,
    pub range_bits: u32,
    pub range: u64,
}

impl ScanCursor {
    const MAX_RANGE_BITS: u32 = 20;

    pub fn decode(cursor: u64) -> Self {
        let shard = (cursor & (SHARDS as u64 - 1)) as usize;
        let range_bits = ((cursor >> SHARD_BITS) & 31) as u32;
        let range_bits = range_bits.min(Self::MAX_RANGE_BITS);
        let range = cursor >> (SHARD_BITS + 5);
        // A cursor we never issued: clamp rather than fail, as Redis does.
        let range = range.min((1u64 << range_bits) - 1);
        ScanCursor {
            shard,
            range_bits,
            range,
        }
    }

    pub fn encode(self) -> u64 {
        self.shard as u64
            | (u64::from(self.range_bits) << SHARD_BITS)
            | (self.range << (SHARD_BITS + 5))
    }

    /// Enough ranges that each holds about `max(count, 1000)` keys.
    pub fn bits_for(len: usize, count: usize) -> u32 {
        let target = count.max(1000);
        let mut bits = 0;
        while bits < Self::MAX_RANGE_BITS && (len >> bits) > target {
            bits += 1;
        }
        bits
    }

    pub fn contains(&self, hash: u64) -> bool {
        self.range_bits == 0 || hash >> (64 - self.range_bits) == self.range
    }

    pub fn next(self) -> Option<Self> {
        if self.range + 1 < (1u64 << self.range_bits) {
            return Some(ScanCursor {
                range: self.range + 1,
                ..self
            });
        }
        (self.shard + 1 < SHARDS).then_some(ScanCursor {
            shard: self.shard + 1,
            range_bits: 0,
            range: 0,
        })
    }
}
