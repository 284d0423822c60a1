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
//!
//! Only one shard is ever locked at a time, so eviction can run before any
//! command, holding no other lock, without deadlocks.

use super::Key;
use super::keyspace::{Keyspace, SHARDS};
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
}

impl Policy {
    /// The names, in the order Redis lists them in its errors, with the
    /// policy's discriminant. The LFU policies are named (a configuration
    /// may mention them) but map to [`Policy::LFU`], which is refused.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("volatile-lru", Policy::VolatileLru as u32),
        ("volatile-lfu", Policy::LFU),
        ("volatile-random", Policy::VolatileRandom as u32),
        ("volatile-ttl", Policy::VolatileTtl as u32),
        ("allkeys-lru", Policy::AllKeysLru as u32),
        ("allkeys-lfu", Policy::LFU),
        ("allkeys-random", Policy::AllKeysRandom as u32),
        ("noeviction", Policy::NoEviction as u32),
    ];

    /// What the LFU names stand for: no policy of sedis's (it evicts in
    /// exact LRU order and keeps no access frequencies).
    pub const LFU: u32 = u32::MAX;

    /// Every policy, in discriminant order.
    pub const ALL: [Policy; 6] = [
        Policy::NoEviction,
        Policy::AllKeysLru,
        Policy::VolatileLru,
        Policy::AllKeysRandom,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, p)| *p == self as u32)
            .map_or("noeviction", |(n, _)| n)
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru | Policy::VolatileRandom | Policy::VolatileTtl
        )
    }
}

/// How many of a shard's least recently used keys volatile-lru looks at for
/// one with a TTL before it treats the shard as having none this round. A
/// shard whose oldest keys all lack a TTL is thus passed over (it is
/// looked at in full only when no shard has a candidate within the bound),
/// so one eviction never walks millions of persistent keys.
const VOLATILE_WALK: usize = 256;

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
        // A chosen shard can turn out to hold nothing to evict only when
        // its deadline heap led with stale entries (volatile-ttl); those
        // are dropped on the way, so choosing again makes progress.
        for _ in 0..=self.slot_count() {
            let chosen = match policy {
                Policy::NoEviction => return 0,
                Policy::AllKeysLru | Policy::VolatileLru => self.oldest_two(policy),
                Policy::VolatileTtl => self.soonest_two(),
                Policy::AllKeysRandom | Policy::VolatileRandom => self.random_slot(policy, rng),
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
        let total: usize = sizes.iter().sum();
        if total == 0 {
            return None;
        }
        let mut pick = rng.below(total as u64) as usize;
        for (slot, size) in sizes.into_iter().enumerate() {
            if pick < size {
                return Some((slot, u64::MAX));
            }
            pick -= size;
        }
        None
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
