//! `maxmemory` enforcement (Redis's `performEvictions`): before each
//! command, if memory in use is over the limit, keys are evicted by the
//! configured policy until it is not; the dispatcher refuses commands that
//! may grow memory when that fails.
//!
//! Memory in use is the counting allocator's figure (see [`crate::alloc`]).
//! A program embedding sedis without that allocator gets the resident set
//! size instead, sampled by the periodic task, so the limit is then only
//! as precise as RSS and that sampling.
//!
//! Evicted keys are logged to the append-only file as DELs, with their
//! shard still locked, as Redis propagates them.

use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

use super::State;
use crate::rng::Rng;
use crate::store::evict::Policy;

/// The limit and policy, mirrored out of the configuration so the check
/// before every command reads two atomics, not the config lock.
#[derive(Debug, Default)]
pub struct MemoryLimit {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    /// The resident set size, sampled by the periodic task, for when no
    /// counting allocator is installed.
    sampled_rss: AtomicUsize,
}

impl MemoryLimit {
    /// Mirrors the configuration (called whenever it changes).
    pub fn update(&self, maxmemory: u64, policy: Policy) {
        let index = Policy::ALL.iter().position(|p| *p == policy).unwrap_or(0);
        self.policy.store(index as u8, Ordering::Relaxed);
        self.maxmemory.store(maxmemory, Ordering::Release);
        // Without the counting allocator a limit set now must not wait for
        // the periodic task's first sample (until then memory reads 0).
        self.sample_rss();
    }

    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Acquire)
    }

    pub fn policy(&self) -> Policy {
        Policy::ALL[self.policy.load(Ordering::Relaxed) as usize % Policy::ALL.len()]
    }

    /// The periodic task's sample (used only without the allocator).
    pub fn sample_rss(&self) {
        if crate::alloc::allocated().is_none() {
            let rss = crate::alloc::resident_set_size();
            self.sampled_rss.store(rss, Ordering::Relaxed);
        }
    }

    /// Memory in use, as eviction counts it.
    pub fn used(&self) -> usize {
        crate::alloc::allocated().unwrap_or_else(|| self.sampled_rss.load(Ordering::Relaxed))
    }
}

/// Evicts until memory in use is within `maxmemory`. Returns false if it
/// stays over the limit (the policy is noeviction, or nothing is left that
/// the policy may evict): commands that may grow memory are then refused.
/// Cheap when no limit is set or memory is within it.
pub fn perform_evictions(state: &State, rng: &mut Rng) -> bool {
    let limit = &state.memory;
    let max = limit.maxmemory();
    if max == 0 {
        return true;
    }
    let over = || limit.used() as u64 > max;
    // Nothing is evicted while clients are paused, and nothing refused
    // for memory either (Redis's `performEvictions` answers EVICT_OK).
    if !over() || state.pause.is_paused() {
        return true;
    }
    let policy = limit.policy();
    if policy == Policy::NoEviction {
        return false;
    }
    let log = &state.aof.log;
    while over() {
        let evicted = state.keyspace().evict_round(policy, rng, over, |db, key| {
            let argv = [b"DEL".to_vec(), key.to_vec()];
            let logged = crate::persist::aof::Logged {
                db: Some(db),
                argv: &argv,
            };
            log.append(&[logged]);
            state.pubsub.notify_keyspace_event(
                crate::channels::notify::EVICTED,
                "evicted",
                key,
                db,
                None,
            );
        });
        if evicted == 0 {
            // Nothing the policy may evict is left, or nothing needed to
            // go: other threads free memory too, and the count may have
            // fallen within the limit since it was last read.
            return !over();
        }
    }
    true
}
