//! One shard of one database: the keys that hash to it, in LRU order, with
//! the deadlines of those that expire. A shard is always used under its
//! `RwLock` (see [`crate::store::keyspace`]); nothing here locks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use lru::LruCache;

use super::key::Key;
use super::lfu::{self, Lfu};
use super::value::Value;
use super::waiting::Waiter;
use crate::clock;

/// A key's value and its last use, as the LRU order stores it. The deadline
/// of a key with a TTL lives in the shard's `deadlines` map instead, as
/// Redis keeps its `expires` dict beside the main one: only volatile keys
/// pay for it, and a string key's node in the LRU stays 72 bytes (key 24,
/// entry 32, links 16), which the allocator serves from an 80-byte chunk.
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// The last use: an access-clock stamp (see [`crate::clock`]) or, under
    /// an LFU policy, [`LFU_TAG`] with Redis's LFU bits (see
    /// [`crate::store::lfu`]); with [`VOLATILE`] set when the key has a
    /// deadline, so lookups of keys without one never consult the deadline
    /// map.
    access: u64,
}

/// The flag bit in [`Entry::access`]; stamps never reach it (their top bits
/// are milliseconds shifted by 16: 2^47 ms is 4,400 years).
const VOLATILE: u64 = 1 << 63;

/// Marks an access word holding LFU bits rather than a stamp (stamps stay
/// below it for 2,200 years): the unix second of the last access (bits
/// 24..55), which DEBUG OBJECT and a later switch back to LRU read, then
/// Redis's 24 bits, the minute of the last decrement (8..23) and the
/// counter (0..7).
const LFU_TAG: u64 = 1 << 62;

impl Entry {
    pub fn new(value: Value) -> Self {
        Entry { value, access: 0 }
    }

    /// The access-clock stamp of the last use. An entry keeping LFU bits
    /// knows its last use to the second only: that second's first stamp.
    pub fn access_stamp(&self) -> u64 {
        if self.access & LFU_TAG == 0 {
            return self.access & !VOLATILE;
        }
        crate::clock::stamp_of_ms(self.lfu_second() as i64 * 1000)
    }

    /// The unix second of the last access, kept beside the LFU bits.
    fn lfu_second(&self) -> u32 {
        (self.access >> 24) as u32
    }

    /// True if the key has a deadline.
    pub fn is_volatile(&self) -> bool {
        self.access & VOLATILE != 0
    }

    /// The minute of the last decrement and the counter, if this entry
    /// keeps LFU bits.
    fn lfu_bits(&self) -> Option<(u16, u8)> {
        (self.access & LFU_TAG != 0).then_some(((self.access >> 8) as u16, self.access as u8))
    }

    /// The access frequency counter as of `now_ms`, decayed (Redis's
    /// `LFUDecrAndReturn`). An entry last used under an LRU policy counts
    /// as new.
    pub fn lfu_counter(&self, lfu: Lfu, now_ms: i64) -> u8 {
        match self.lfu_bits() {
            Some((ldt, counter)) => {
                lfu::decayed(counter, ldt, lfu::minutes(now_ms), lfu.decay_time)
            }
            None => lfu::INIT,
        }
    }

    /// Sets the LFU counter, as last decremented now (RESTORE ... FREQ,
    /// an access).
    pub fn set_lfu_counter(&mut self, counter: u8, now_ms: i64) {
        let second = (now_ms.max(0) / 1000) as u32;
        let bits =
            (u64::from(second) << 24) | (u64::from(lfu::minutes(now_ms)) << 8) | u64::from(counter);
        self.access = (self.access & VOLATILE) | LFU_TAG | bits;
    }

    /// One access under an LFU policy: decay, then a logarithmic increment
    /// (Redis's `updateLFU`).
    fn touch_lfu(&mut self, lfu: Lfu, now_ms: i64) {
        let counter = lfu::log_incr(self.lfu_counter(lfu, now_ms), lfu.log_factor, lfu::draw());
        self.set_lfu_counter(counter, now_ms);
    }

    /// Marks the entry as last used `idle_ms` before `now_ms` (RESTORE ...
    /// IDLETIME), as OBJECT IDLETIME then reports. Its place in the LRU
    /// order stays that of a fresh write.
    pub fn set_idle(&mut self, idle_ms: i64, now_ms: i64) {
        self.set_stamp(crate::clock::stamp_of_ms(now_ms.saturating_sub(idle_ms)));
    }

    fn set_stamp(&mut self, stamp: u64) {
        self.access = (self.access & VOLATILE) | (stamp & !(VOLATILE | LFU_TAG));
    }

    fn set_volatile(&mut self, volatile: bool) {
        if volatile {
            self.access |= VOLATILE;
        } else {
            self.access &= !VOLATILE;
        }
    }
}

/// A key's value with its deadline, out of the store: what RENAME and MOVE
/// carry from one key to another, what a snapshot saves and a load inserts.
#[derive(Debug, Clone)]
pub struct Detached {
    pub value: Value,
    /// Absolute expiry in unix milliseconds. Redis stores absolute times
    /// too, so a TTL never drifts with load.
    pub expire_at: Option<i64>,
}

impl Detached {
    pub fn new(value: Value, expire_at: Option<i64>) -> Self {
        Detached { value, expire_at }
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expire_at.is_some_and(|at| at <= now_ms)
    }
}

/// A client's "my watched keys changed" flag (see WATCH). Writers set it;
/// the watching client reads it at EXEC.
pub type WatchFlag = Arc<AtomicBool>;

/// One client's WATCH on one key.
#[derive(Debug)]
struct Watcher {
    flag: WatchFlag,
    /// The key existed but had already expired when it was watched. Its
    /// deletion then is no logical change (Redis's `watchedKey.expired`).
    expired: bool,
}

/// A shard's part in a snapshot being saved (BGSAVE).
#[derive(Default)]
enum SnapshotState {
    /// No snapshot in progress, or this shard was already handed over.
    #[default]
    None,
    /// A snapshot was marked and this shard is unchanged since: the saver
    /// may read it directly.
    Pending,
    /// A writer copied the shard before changing it; the copy is what the
    /// snapshot holds.
    Copied(Vec<(Key, Detached)>),
}

/// The keys, their deadlines and their watchers.
#[derive(Default)]
pub struct Shard {
    pub(crate) data: ShardData,
    snapshot: SnapshotState,
    /// The latest access stamp handed out in this shard (see
    /// [`crate::clock`]).
    last_stamp: u64,
    /// Clients watching keys of this shard. Kept apart from `data` because
    /// SWAPDB moves data between databases but watchers stay with their db.
    watched: HashMap<Key, Vec<Watcher>>,
    /// Clients blocked on keys of this shard, first come first (see
    /// [`crate::store::waiting`]). Like watchers, they stay with the db.
    blocking: HashMap<Key, VecDeque<Arc<Waiter>>>,
}

/// What SWAPDB swaps: the keyspace contents of the shard.
pub struct ShardData {
    /// Every key, least recently used last. Unbounded: eviction decides
    /// what to drop, across shards, not the cache.
    pub(crate) entries: LruCache<Key, Entry>,
    /// The deadline of every key with a TTL (its entry is flagged
    /// volatile). Its length is INFO keyspace's `expires=`.
    deadlines: HashMap<Key, i64>,
    /// Deadlines, soonest first, for the reaper. Entries go stale when a key
    /// is deleted or its TTL changes; they are checked against `deadlines`
    /// when popped, and the heap is rebuilt when stale entries outnumber
    /// live ones.
    expires: BinaryHeap<Reverse<(i64, Key)>>,
}

impl Default for ShardData {
    fn default() -> Self {
        ShardData {
            entries: LruCache::unbounded(),
            deadlines: HashMap::new(),
            expires: BinaryHeap::new(),
        }
    }
}

impl Shard {
    pub fn len(&self) -> usize {
        self.data.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.entries.is_empty()
    }

    /// Keys with a TTL.
    pub fn volatile_count(&self) -> usize {
        self.data.deadlines.len()
    }

    /// The entry, without touching its LRU position.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.data.entries.peek(key)
    }

    /// The entry, mutable, without touching its LRU position.
    pub fn peek_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.data.entries.peek_mut(key)
    }

    /// The key's deadline (unix ms), if it exists and has one.
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        self.data.deadlines.get(key).copied()
    }

    /// True if `entry`, stored under `key` in this shard, is past its
    /// deadline at `now_ms`. Cheap for keys without a TTL.
    pub fn entry_expired(&self, key: &[u8], entry: &Entry, now_ms: i64) -> bool {
        entry.is_volatile() && self.expire_at(key).is_some_and(|at| at <= now_ms)
    }

    /// True if `key` exists here and is past its deadline at `now_ms`.
    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        self.peek(key)
            .is_some_and(|e| self.entry_expired(key, e, now_ms))
    }

    /// An access stamp for a use of this shard at `now_ms`.
    fn next_stamp(&mut self, now_ms: i64) -> u64 {
        self.last_stamp = clock::stamp(now_ms, self.last_stamp);
        self.last_stamp
    }

    /// The entry, moved to the most-recently-used end and stamped, or
    /// under an LFU policy (`lfu`), counted.
    pub fn touch(&mut self, key: &[u8], now_ms: i64, lfu: Option<Lfu>) -> Option<&mut Entry> {
        let Some(lfu) = lfu else {
            let stamp = self.next_stamp(now_ms);
            let entry = self.data.entries.get_mut(key)?;
            entry.set_stamp(stamp);
            return Some(entry);
        };
        let entry = self.data.entries.get_mut(key)?;
        entry.touch_lfu(lfu, now_ms);
        Some(entry)
    }

    /// Inserts or replaces a key with `deadline` (unix ms, `None`: no TTL),
    /// stamping it as used at `now_ms`. Under an LFU policy (`lfu`) a new
    /// key starts at [`lfu::INIT`] and a replaced one keeps its count, as
    /// Redis's `dbSetValue` keeps the old object's LFU bits. Returns what
    /// was there.
    pub fn insert(
        &mut self,
        key: Key,
        value: Value,
        deadline: Option<i64>,
        now_ms: i64,
        lfu: Option<Lfu>,
    ) -> Option<Detached> {
        let mut entry = Entry::new(value);
        match lfu {
            None => entry.set_stamp(self.next_stamp(now_ms)),
            Some(lfu) => {
                let counter = self.data.entries.peek(key.as_bytes()).map_or(lfu::INIT, |old| {
                    old.lfu_counter(lfu, now_ms)
                });
                entry.set_lfu_counter(counter, now_ms);
            }
        }
        entry.set_volatile(deadline.is_some());
        let old_deadline = match deadline {
            Some(at) => {
                self.data.expires.push(Reverse((at, key.clone())));
                self.data.deadlines.insert(key.clone(), at)
            }
            None => self.data.deadlines.remove(key.as_bytes()),
        };
        let old = self.data.entries.put(key, entry)?;
        Some(Detached::new(old.value, old_deadline))
    }

    /// Removes a key, returning its value and deadline.
    pub fn remove(&mut self, key: &[u8]) -> Option<Detached> {
        let old = self.data.entries.pop(key)?;
        let deadline = if old.is_volatile() {
            let at = self.data.deadlines.remove(key);
            self.compact_expires();
            at
        } else {
            None
        };
        Some(Detached::new(old.value, deadline))
    }

    /// Sets (`Some`) or clears (`None`) a key's deadline. Returns false if the
    /// key does not exist.
    pub fn set_expire(&mut self, key: &[u8], deadline: Option<i64>) -> bool {
        let Some(entry) = self.data.entries.peek_mut(key) else {
            return false;
        };
        entry.set_volatile(deadline.is_some());
        match deadline {
            Some(at) => {
                let key = Key::new(key);
                self.data.expires.push(Reverse((at, key.clone())));
                self.data.deadlines.insert(key, at);
            }
            None => {
                self.data.deadlines.remove(key);
            }
        }
        self.compact_expires();
        true
    }

    /// The earliest registered deadline (possibly stale; never too late).
    pub fn next_deadline(&self) -> Option<i64> {
        self.data.expires.peek().map(|Reverse((at, _))| *at)
    }

    /// True if the heap entry `(at, key)` is the key's current deadline.
    fn is_live_deadline(&self, at: i64, key: &Key) -> bool {
        self.expire_at(key.as_bytes()) == Some(at)
    }

    /// Pops the next key whose deadline has passed, if it still has that
    /// deadline. Stale heap entries met on the way are discarded. Returns the
    /// removed key with its value.
    pub fn pop_expired(&mut self, now_ms: i64) -> Option<(Key, Detached)> {
        while let Some(Reverse((at, _))) = self.data.expires.peek() {
            if *at > now_ms {
                return None;
            }
            let Reverse((at, key)) = self.data.expires.pop().expect("peeked");
            if self.is_live_deadline(at, &key) {
                let entry = self.data.entries.pop(key.as_bytes()).expect("checked live");
                self.data.deadlines.remove(key.as_bytes());
                return Some((key, Detached::new(entry.value, Some(at))));
            }
        }
        None
    }

    /// The live key with the soonest deadline (volatile-ttl eviction);
    /// stale heap entries met on the way are dropped.
    pub fn soonest_deadline(&mut self) -> Option<(i64, Key)> {
        while let Some(Reverse((at, key))) = self.data.expires.peek() {
            if self.is_live_deadline(*at, key) {
                return Some((*at, key.clone()));
            }
            self.data.expires.pop();
        }
        None
    }

    /// Rebuilds the deadline heap when most of it is stale, so rewriting TTLs
    /// over and over cannot grow it without bound.
    fn compact_expires(&mut self) {
        let heap_len = self.data.expires.len();
        if heap_len > 64 && heap_len > 2 * self.data.deadlines.len() {
            let live: Vec<_> = self
                .data
                .deadlines
                .iter()
                .map(|(k, at)| Reverse((*at, k.clone())))
                .collect();
            self.data.expires = BinaryHeap::from(live);
        }
    }

    /// Iterates entries from least to most recently used.
    pub fn iter_lru_first(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.data.entries.iter().rev()
    }

    /// Iterates entries in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.data.entries.iter()
    }

    /// Moves a key to the most recently used end without counting a use
    /// (LFU eviction passing over it).
    pub fn promote(&mut self, key: &[u8]) {
        self.data.entries.promote(key);
    }

    /// The least recently used entry.
    pub fn peek_lru(&self) -> Option<(&Key, &Entry)> {
        self.data.entries.peek_lru()
    }

    /// Removes every key; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.len();
        self.data = ShardData::default();
        n
    }

    /// Swaps contents (not watchers) with another shard: SWAPDB.
    pub fn swap_data(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.data, &mut other.data);
    }

    /// Joins a snapshot being marked: from now on the first writer copies
    /// the shard before changing it.
    pub(crate) fn mark_for_snapshot(&mut self) {
        self.snapshot = SnapshotState::Pending;
    }

    /// Called whenever the shard is write-locked: if a snapshot still needs
    /// this shard as it was, copy it first (copy-on-write, once per shard
    /// per snapshot).
    pub(crate) fn before_write(&mut self) {
        if matches!(self.snapshot, SnapshotState::Pending) {
            self.snapshot = SnapshotState::Copied(self.clone_entries());
        }
    }

    /// Hands this shard's snapshot content to the saver: the copy a writer
    /// made, or the live data if nobody wrote since the mark.
    pub(crate) fn take_snapshot(&mut self) -> Vec<(Key, Detached)> {
        match std::mem::take(&mut self.snapshot) {
            SnapshotState::None => Vec::new(),
            SnapshotState::Pending => self.clone_entries(),
            SnapshotState::Copied(entries) => entries,
        }
    }

    /// Drops this shard out of an abandoned snapshot.
    pub(crate) fn cancel_snapshot(&mut self) {
        self.snapshot = SnapshotState::None;
    }

    fn clone_entries(&self) -> Vec<(Key, Detached)> {
        self.data
            .entries
            .iter()
            .map(|(k, e)| {
                let deadline = e.is_volatile().then(|| self.expire_at(k.as_bytes()));
                (
                    k.clone(),
                    Detached::new(e.value.clone(), deadline.flatten()),
                )
            })
            .collect()
    }

    /// Registers a client's watch on a key, remembering whether the key was
    /// already expired (present but past its deadline) at `now_ms`.
    pub fn watch(&mut self, key: &[u8], flag: &WatchFlag, now_ms: i64) {
        let expired = self.is_expired(key, now_ms);
        let watchers = self.watched.entry(Key::new(key)).or_default();
        if !watchers.iter().any(|w| Arc::ptr_eq(&w.flag, flag)) {
            watchers.push(Watcher {
                flag: flag.clone(),
                expired,
            });
        }
    }

    /// Removes a client's watch on a key.
    pub fn unwatch(&mut self, key: &[u8], flag: &WatchFlag) {
        if let Some(watchers) = self.watched.get_mut(key) {
            watchers.retain(|w| !Arc::ptr_eq(&w.flag, flag));
            if watchers.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// True if the client's watch on `key` was placed on a live key that
    /// has expired since (EXEC then fails, as in Redis).
    pub fn watched_key_expired_since(&self, key: &[u8], flag: &WatchFlag, now_ms: i64) -> bool {
        let Some(watchers) = self.watched.get(key) else {
            return false;
        };
        watchers
            .iter()
            .any(|w| Arc::ptr_eq(&w.flag, flag) && !w.expired)
            && self.is_expired(key, now_ms)
    }

    /// Marks every client watching `key` dirty (Redis's `signalModifiedKey`),
    /// except watchers of an already-expired key that is now gone: deleting
    /// an expired key changes nothing logically.
    pub fn signal_modified(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        let exists = self.data.entries.contains(key);
        if let Some(watchers) = self.watched.get_mut(key) {
            for w in watchers {
                if w.expired && !exists {
                    w.expired = false;
                } else {
                    w.flag.store(true, Ordering::Release);
                }
            }
        }
    }

    /// FLUSHDB and SWAPDB (Redis's `touchAllWatchedKeysInDb`): marks dirty
    /// the watchers of keys present in this shard (before it is emptied or
    /// swapped), or in `replacement` (the other database's shard, for
    /// SWAPDB), with Redis's exceptions for keys that were, or will be,
    /// expired.
    pub fn signal_all_watched(&mut self, replacement: Option<&Shard>, now_ms: i64) {
        let entries = &self.data.entries;
        for (key, watchers) in self.watched.iter_mut() {
            let here = entries.contains(key.as_bytes());
            let there = replacement.and_then(|r| r.peek(key.as_bytes()));
            if !here && there.is_none() {
                continue;
            }
            let there_expired = replacement.is_some_and(|r| r.is_expired(key.as_bytes(), now_ms));
            for w in watchers.iter_mut() {
                if w.expired {
                    if there.is_none() {
                        w.expired = false; // an expired key deleted: no change
                        continue;
                    } else if there_expired {
                        continue; // expired before, expired after
                    }
                } else if !here && there_expired {
                    // A missing key replaced by an expired one.
                    w.expired = true;
                    continue;
                }
                w.flag.store(true, Ordering::Release);
            }
        }
    }

    /// True if any client watches a key in this shard.
    pub fn has_watchers(&self) -> bool {
        !self.watched.is_empty()
    }

    /// Queues a blocked client on `key` (after any already waiting).
    pub fn block(&mut self, key: &[u8], waiter: Arc<Waiter>) {
        self.blocking
            .entry(Key::new(key))
            .or_default()
            .push_back(waiter);
    }

    /// Removes a blocked client from `key`'s queue.
    pub fn unblock(&mut self, key: &[u8], waiter: &Arc<Waiter>) {
        if let Some(queue) = self.blocking.get_mut(key) {
            queue.retain(|w| !Arc::ptr_eq(w, waiter));
            if queue.is_empty() {
                self.blocking.remove(key);
            }
        }
    }

    /// True if any client is blocked on `key`.
    pub fn is_blocked_on(&self, key: &[u8]) -> bool {
        !self.blocking.is_empty() && self.blocking.contains_key(key)
    }

    /// The clients blocked on `key`, in the order they blocked.
    pub fn blocked_on(&self, key: &[u8]) -> Vec<Arc<Waiter>> {
        self.blocking
            .get(key)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The keys of this shard that clients are blocked on and that hold a
    /// stream: FLUSHDB and SWAPDB must tell their XREADGROUP readers when
    /// the stream goes (Redis's `scanDatabaseForDeletedStreams`).
    pub fn blocked_stream_keys(&self) -> Vec<Key> {
        self.blocking
            .keys()
            .filter(|k| matches!(self.peek(k.as_bytes()), Some(e) if matches!(e.value, Value::Stream(_))))
            .cloned()
            .collect()
    }

    /// The keys of this shard that clients are blocked on and that hold a
    /// value now (SWAPDB must offer them to their waiters).
    pub fn blocked_keys_with_data(&self) -> Vec<Key> {
        self.blocking
            .keys()
            .filter(|k| self.data.entries.contains(k.as_bytes()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::value::StrValue;

    #[test]
    fn an_lru_node_fits_an_80_byte_allocation() {
        // Key, entry and the list's two links; glibc adds an 8-byte header
        // and rounds to 16, so 72 bytes take an 80-byte chunk.
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        let node = std::mem::size_of::<Key>() + std::mem::size_of::<Entry>() + 16;
        assert_eq!(node, 72);
    }

    #[test]
    fn lfu_bits_share_the_access_word_with_the_ttl_flag() {
        let lfu = Lfu {
            log_factor: 0,
            decay_time: 1,
        };
        let mut shard = Shard::default();
        let at = 1_765_000_000_000; // ms
        shard.insert(Key::new(b"k"), value("v"), deadline(at + 10_000), at, Some(lfu));
        let entry = shard.peek(b"k").unwrap();
        assert!(entry.is_volatile());
        assert_eq!(entry.lfu_counter(lfu, at), lfu::INIT);
        // Factor 0: every access counts; the TTL flag stays.
        shard.touch(b"k", at, Some(lfu));
        shard.touch(b"k", at + 1500, Some(lfu));
        let entry = shard.peek(b"k").unwrap();
        assert!(entry.is_volatile());
        assert_eq!(entry.lfu_counter(lfu, at + 1500), lfu::INIT + 2);
        assert_eq!(entry.access_stamp(), crate::clock::stamp_of_ms(at + 1000));
        // One point lost per idle minute.
        assert_eq!(entry.lfu_counter(lfu, at + 1500 + 180_000), lfu::INIT - 1);
        // A replaced value keeps its count; a stamp under LRU clears the tag.
        shard.insert(Key::new(b"k"), value("w"), None, at, Some(lfu));
        let entry = shard.peek(b"k").unwrap();
        assert!(!entry.is_volatile());
        assert_eq!(entry.lfu_counter(lfu, at), lfu::INIT + 2);
        shard.touch(b"k", at, None);
        assert_eq!(shard.peek(b"k").unwrap().lfu_counter(lfu, at), lfu::INIT);
    }

    fn value(s: &str) -> Value {
        Value::Str(StrValue::from_slice(s.as_bytes()))
    }

    fn deadline(at: i64) -> Option<i64> {
        (at != 0).then_some(at)
    }

    #[test]
    fn expired_keys_pop_in_deadline_order_and_stale_deadlines_are_skipped() {
        let mut shard = Shard::default();
        shard.insert(Key::new(b"a"), value("1"), deadline(300), 0, None);
        shard.insert(Key::new(b"b"), value("2"), deadline(100), 0, None);
        shard.insert(Key::new(b"c"), value("3"), deadline(200), 0, None);
        shard.set_expire(b"c", Some(1000)); // the 200 deadline goes stale
        shard.remove(b"a");
        assert_eq!(shard.volatile_count(), 2);
        assert_eq!(shard.pop_expired(500).map(|(k, _)| k), Some(Key::new(b"b")));
        assert!(shard.pop_expired(500).is_none());
        assert_eq!(
            shard.pop_expired(1000).map(|(k, _)| k),
            Some(Key::new(b"c"))
        );
        assert_eq!(shard.volatile_count(), 0);
        assert!(shard.is_empty());
    }

    #[test]
    fn rewriting_ttls_does_not_grow_the_heap_without_bound() {
        let mut shard = Shard::default();
        shard.insert(Key::new(b"k"), value("v"), deadline(10), 0, None);
        for i in 0..10_000 {
            shard.set_expire(b"k", Some(100 + i));
        }
        assert!(shard.data.expires.len() <= 130);
    }

    #[test]
    fn a_snapshot_sees_the_shard_as_it_was_when_marked() {
        let mut shard = Shard::default();
        shard.insert(Key::new(b"a"), value("1"), deadline(0), 0, None);
        shard.mark_for_snapshot();
        shard.before_write();
        shard.insert(Key::new(b"b"), value("2"), deadline(0), 0, None);
        shard.before_write(); // a second write copies nothing more
        shard.remove(b"a");
        let snap = shard.take_snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].0, Key::new(b"a"));
        assert!(shard.take_snapshot().is_empty(), "handed over once");
        // Untouched shards are read live at hand-over time.
        shard.mark_for_snapshot();
        assert_eq!(shard.take_snapshot().len(), 1);
    }

    #[test]
    fn watchers_are_signalled() {
        let mut shard = Shard::default();
        let flag = WatchFlag::default();
        shard.watch(b"k", &flag, 0);
        shard.signal_modified(b"other");
        assert!(!flag.load(Ordering::Acquire));
        shard.signal_modified(b"k");
        assert!(flag.load(Ordering::Acquire));
        shard.unwatch(b"k", &flag);
        assert!(!shard.has_watchers());
    }

    #[test]
    fn deleting_a_key_that_was_expired_when_watched_is_no_change() {
        let mut shard = Shard::default();
        shard.insert(Key::new(b"k"), value("v"), deadline(100), 0, None);
        let flag = WatchFlag::default();
        shard.watch(b"k", &flag, 200); // already expired
        assert!(!shard.watched_key_expired_since(b"k", &flag, 300));
        shard.remove(b"k");
        shard.signal_modified(b"k");
        assert!(
            !flag.load(Ordering::Acquire),
            "expired key deleted: no change"
        );
        shard.insert(Key::new(b"k"), value("new"), deadline(0), 0, None);
        shard.signal_modified(b"k");
        assert!(flag.load(Ordering::Acquire), "recreated: a change");
    }

    #[test]
    fn a_live_watched_key_that_expires_is_reported() {
        let mut shard = Shard::default();
        shard.insert(Key::new(b"k"), value("v"), deadline(500), 0, None);
        let flag = WatchFlag::default();
        shard.watch(b"k", &flag, 100);
        assert!(!shard.watched_key_expired_since(b"k", &flag, 400));
        assert!(shard.watched_key_expired_since(b"k", &flag, 600));
    }
}
