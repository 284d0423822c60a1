//! Eviction under `maxmemory`: which key goes next, for each of Redis's
//! policies, and removing it.
//!
//! Redis approximates LRU by sampling a few keys (`maxmemory-samples`) and
//! evicting the oldest of the sample. sedis keeps every shard in exact
//! recency order (the `lru` crate), and access stamps compare across shards
//! (see [`crate::clock`]), so it can evict in true LRU order: each round
//! reads every shard's oldest candidate under a shared lock, picks the
//! oldest of all, then write-locks that one shard and evicts from it for as
//! long as its next candidate is still older than every other shard's.
//! The LFU policies evict keys whose access frequency is at the lowest
//! level seen, found by a clock hand in shards drawn at random (see
//! [`Keyspace::evict_lfu`]).
//!
//! Only one shard is ever locked at a time, so eviction can run before any
//! command, holding no other lock, without deadlocks.

use super::Key;
use super::keyspace::{Keyspace, SHARDS};
use std::sync::atomic::Ordering;

use super::lfu::Lfu;
use super::shard::Shard;
use crate::rng::Rng;

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Never evict: commands that may grow memory get an OOM error.
    #[default]
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysRandom,
    VolatileRandom,
    /// Keys with a TTL, the soonest to expire first.
    VolatileTtl,
    /// The least frequently used (see [`crate::store::lfu`]).
    AllKeysLfu,
    VolatileLfu,
}

impl Policy {
    /// The names, in the order Redis lists them in its errors, with the
    /// policy's discriminant.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("volatile-lru", Policy::VolatileLru as u32),
        ("volatile-lfu", Policy::VolatileLfu as u32),
        ("volatile-random", Policy::VolatileRandom as u32),
        ("volatile-ttl", Policy::VolatileTtl as u32),
        ("allkeys-lru", Policy::AllKeysLru as u32),
        ("allkeys-lfu", Policy::AllKeysLfu as u32),
        ("allkeys-random", Policy::AllKeysRandom as u32),
        ("noeviction", Policy::NoEviction as u32),
    ];

    /// Every policy, in discriminant order.
    pub const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::AllKeysLru,
        Policy::VolatileLru,
        Policy::AllKeysRandom,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysLfu,
        Policy::VolatileLfu,
    ];

    /// True for the policies that keep access frequencies.
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, p)| *p == self as u32)
            .map_or("noeviction", |(n, _)| n)
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl
        )
    }
}

/// How many of a shard's least recently used keys volatile-lru looks at for
/// one with a TTL before it treats the shard as having none this round. A
/// shard whose oldest keys all lack a TTL is thus passed over (it is
/// looked at in full only when no shard has a candidate within the bound),
/// so one eviction never walks millions of persistent keys.
const VOLATILE_WALK: usize = 256;

/// How many keys of a shard an LFU eviction looks at, at most.
const LFU_WALK: usize = 64;

/// How many shards an LFU eviction tries before raising its level.
const LFU_TRIES: usize = 8;

/// Redis's defaults, for a keyspace whose access mode was never set.
const DEFAULT_LFU: Lfu = Lfu {
    log_factor: 10,
    decay_time: 1,
};

/// The most keys one round evicts from its shard before looking at all
/// shards again (the caller re-checks memory between keys anyway).
const ROUND: usize = 64;

impl Keyspace {
    /// Evicts keys by `policy` while `more()` says memory is still over the
    /// limit, at most one round (one shard). `evicted(db, key)` is told of
    /// each key removed, with its shard still locked (the append-only file
    /// logs a DEL). Returns how many keys went: 0 means nothing can be
    /// evicted under this policy.
    pub fn evict_round(
        &self,
        policy: Policy,
        rng: &mut Rng,
        mut more: impl FnMut() -> bool,
        mut evicted: impl FnMut(usize, &[u8]),
    ) -> usize {
        if policy.is_lfu() {
            let count = self.evict_lfu(policy, rng, &mut evicted);
            self.stats.evicted_keys.add(count as u64);
            return count;
        }
        // A chosen shard can turn out to hold nothing to evict only when
        // its deadline heap led with stale entries (volatile-ttl); those
        // are dropped on the way, so choosing again makes progress.
        for _ in 0..=self.slot_count() {
            let chosen = match policy {
                Policy::NoEviction => return 0,
                Policy::AllKeysLru | Policy::VolatileLru => self.oldest_two(policy),
                Policy::VolatileTtl => self.soonest_two(),
                Policy::AllKeysRandom
                | Policy::VolatileRandom
                | Policy::AllKeysLfu
                | Policy::VolatileLfu => self.random_slot(policy, rng),
            };
            let Some((slot, bound)) = chosen else {
                return 0;
            };
            let count = self.evict_from(slot, bound, policy, rng, &mut more, &mut evicted);
            if count > 0 {
                self.stats.evicted_keys.add(count as u64);
                return count;
            }
        }
        0
    }

    /// Evicts from one shard while its candidates are no worse than
    /// `bound` (the best any other shard offers).
    fn evict_from(
        &self,
        slot: usize,
        bound: u64,
        policy: Policy,
        rng: &mut Rng,
        more: &mut impl FnMut() -> bool,
        evicted: &mut impl FnMut(usize, &[u8]),
    ) -> usize {
        let db = slot / SHARDS;
        let mut shard = self.write_slot(slot);
        let mut count = 0;
        while count < ROUND && more() {
            let victim = match policy {
                Policy::AllKeysLru | Policy::VolatileLru => {
                    lru_candidate(&shard, policy, usize::MAX)
                        .filter(|(stamp, _)| *stamp <= bound)
                        .map(|(_, key)| key)
                }
                // Never past the bound, not even the first key: a shard
                // chosen by a stale deadline (one of a key already deleted)
                // has just dropped it, and the next choice sees its live
                // one, so the soonest key anywhere still goes first.
                Policy::VolatileTtl => shard
                    .soonest_deadline()
                    .filter(|(at, _)| (*at as u64) <= bound)
                    .map(|(_, key)| key),
                _ if count == 0 => random_key(&shard, policy.volatile_only(), rng),
                // A random policy evicts one key per round, so the next
                // is drawn from the whole keyspace again.
                _ => None,
            };
            let Some(key) = victim else { break };
            shard.remove(key.as_bytes());
            shard.signal_modified(key.as_bytes());
            self.modified(key.as_bytes());
            evicted(db, key.as_bytes());
            count += 1;
        }
        count
    }

    /// Evicts one key under an LFU policy: the first key at or below the
    /// keyspace's frequency level that a shard's clock hand (see
    /// [`lfu_victim`]) finds, trying shards drawn at random by size. When
    /// [`LFU_TRIES`] shards hold nothing that low, the level rises to the
    /// lowest count they did hold; each key found lowers it to its count.
    /// The level thus follows the least used keys anywhere, as Redis's
    /// sampling pool does, without comparing every shard per eviction.
    fn evict_lfu(&self, policy: Policy, rng: &mut Rng, evicted: &mut impl FnMut(usize, &[u8])) -> usize {
        let lfu = self.access.lfu().unwrap_or(DEFAULT_LFU);
        let now_ms = crate::clock::unix_ms();
        let volatile = policy.volatile_only();
        let Some(sizes) = self.candidate_sizes(policy) else {
            return 0;
        };
        let mut level = self.lfu_level.load(Ordering::Relaxed);
        // The level can rise twice: to the lowest count seen, then (if the
        // shards drawn changed meanwhile) to anything.
        for _ in 0..3 {
            let mut lowest = u8::MAX;
            for _ in 0..LFU_TRIES {
                let slot = sizes.draw(rng);
                let mut shard = self.write_slot(slot);
                match lfu_victim(&mut shard, volatile, lfu, now_ms, level) {
                    Ok((counter, key)) => {
                        self.lfu_level.store(counter, Ordering::Relaxed);
                        shard.remove(key.as_bytes());
                        shard.signal_modified(key.as_bytes());
                        evicted(slot / SHARDS, key.as_bytes());
                        return 1;
                    }
                    Err(Some(min)) => lowest = lowest.min(min),
                    Err(None) => {}
                }
            }
            level = if lowest > level { lowest } else { u8::MAX };
        }
        0
    }

    /// The slot whose least recently used candidate is the oldest anywhere,
    /// and the runner-up's stamp (how far that slot may go).
    fn oldest_two(&self, policy: Policy) -> Option<(usize, u64)> {
        let pick = |walk: usize| {
            let (mut best, mut second) = (None::<(u64, usize)>, u64::MAX);
            for slot in 0..self.slot_count() {
                let shard = self.read_slot(slot);
                let Some((stamp, _)) = lru_candidate(&shard, policy, walk) else {
                    continue;
                };
                match best {
                    Some((b, _)) if stamp >= b => second = second.min(stamp),
                    _ => {
                        if let Some((b, _)) = best {
                            second = second.min(b);
                        }
                        best = Some((stamp, slot));
                    }
                }
            }
            best.map(|(_, slot)| (slot, second))
        };
        let walk = if policy == Policy::VolatileLru {
            VOLATILE_WALK
        } else {
            usize::MAX
        };
        pick(walk).or_else(|| (walk != usize::MAX).then(|| pick(usize::MAX)).flatten())
    }

    /// The slot with the soonest deadline, and the runner-up's deadline.
    fn soonest_two(&self) -> Option<(usize, u64)> {
        let (mut best, mut second) = (None::<(i64, usize)>, i64::MAX);
        for slot in 0..self.slot_count() {
            let Some(at) = self.read_slot(slot).next_deadline() else {
                continue;
            };
            match best {
                Some((b, _)) if at >= b => second = second.min(at),
                _ => {
                    if let Some((b, _)) = best {
                        second = second.min(b);
                    }
                    best = Some((at, slot));
                }
            }
        }
        best.map(|(_, slot)| (slot, second.max(0) as u64))
    }

    /// A slot chosen with probability proportional to its candidates, so
    /// every candidate key is equally likely.
    fn random_slot(&self, policy: Policy, rng: &mut Rng) -> Option<(usize, u64)> {
        Some((self.candidate_sizes(policy)?.draw(rng), u64::MAX))
    }

    /// How many keys each slot holds that `policy` may evict; `None` if
    /// there are none.
    fn candidate_sizes(&self, policy: Policy) -> Option<SlotSizes> {
        let sizes: Vec<usize> = (0..self.slot_count())
            .map(|slot| {
                let shard = self.read_slot(slot);
                if policy.volatile_only() {
                    shard.volatile_count()
                } else {
                    shard.len()
                }
            })
            .collect();
        let total = sizes.iter().sum();
        (total > 0).then_some(SlotSizes { sizes, total })
    }
}

/// Slots' candidate counts, to draw slots in proportion.
struct SlotSizes {
    sizes: Vec<usize>,
    total: usize,
}

impl SlotSizes {
    fn draw(&self, rng: &mut Rng) -> usize {
        let mut pick = rng.below(self.total as u64) as usize;
        for (slot, &size) in self.sizes.iter().enumerate() {
            if pick < size {
                return slot;
            }
            pick -= size;
        }
        self.sizes.len() - 1
    }
}

/// The shard's least recently used key that `policy` may evict (for
/// volatile-lru, the oldest with a TTL among the `walk` oldest), with its
/// access stamp.
fn lru_candidate(shard: &Shard, policy: Policy, walk: usize) -> Option<(u64, Key)> {
    if policy == Policy::AllKeysLru {
        return shard
            .peek_lru()
            .map(|(key, entry)| (entry.access_stamp(), key.clone()));
    }
    shard
        .iter_lru_first()
        .take(walk)
        .find(|(_, entry)| entry.is_volatile())
        .map(|(key, entry)| (entry.access_stamp(), key.clone()))
}

/// The key an LFU policy evicts from this shard: the first, from the old
/// end of the recency order, whose counter is at most `level` (keys with a
/// TTL only if `volatile`), looking at [`LFU_WALK`] keys at most; `Err`
/// with the lowest counter seen if none is that low.
///
/// Every key looked at and passed over moves to the new end, so the next
/// look starts at others: the old end is a clock hand that comes round to
/// every key in turn, and a key used often long ago is weighed by its
/// (decaying) count, not kept or evicted for its recency. Redis samples
/// `maxmemory-samples` random keys per database into a pool of 16; a
/// shard of sedis's has no random access, and the hand gives every key its
/// turn as random samples would.
fn lfu_victim(
    shard: &mut Shard,
    volatile: bool,
    lfu: Lfu,
    now_ms: i64,
    level: u8,
) -> Result<(u8, Key), Option<u8>> {
    let mut passed = Vec::new();
    let mut lowest = None::<u8>;
    let mut found = None;
    for (key, entry) in shard.iter_lru_first().take(LFU_WALK) {
        if !volatile || entry.is_volatile() {
            let counter = entry.lfu_counter(lfu, now_ms);
            if counter <= level {
                found = Some((counter, key.clone()));
                break;
            }
            lowest = Some(lowest.map_or(counter, |l| l.min(counter)));
        }
        passed.push(key.clone());
    }
    for key in passed {
        shard.promote(key.as_bytes());
    }
    found.ok_or(lowest)
}

/// A key of the shard chosen uniformly (only keys with a TTL if
/// `volatile`).
fn random_key(shard: &Shard, volatile: bool, rng: &mut Rng) -> Option<Key> {
    let count = if volatile {
        shard.volatile_count()
    } else {
        shard.len()
    };
    if count == 0 {
        return None;
    }
    let pick = rng.below(count as u64) as usize;
    shard
        .iter()
        .filter(|(_, entry)| !volatile || entry.is_volatile())
        .nth(pick)
        .map(|(key, _)| key.clone())
}
