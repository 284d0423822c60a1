//! The keyspace: every database, split into shards, each behind its own
//! `parking_lot::RwLock`. This module owns the locking discipline and the
//! keyspace contract every command relies on (Redis's `db.c`):
//!
//! - A command's shards are locked together, up front, **in ascending shard
//!   order**, so two commands can never deadlock and a multi-key command (or a
//!   whole transaction) is atomic: nobody sees half of it.
//! - A lookup deletes an expired key and treats it as missing (lazy expiry),
//!   and moves a live key to the most-recently-used end.
//! - Writing a key marks the clients watching it dirty.
//!
//! [`LockPlan`] says which shards to lock; [`Keyspace::lock`] takes them and
//! returns a [`LockSet`]; [`Db`] is a view of one database through it.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::clock::AccessClock;
use super::expire::Reaper;
use super::key::Key;
use super::shard::{Entry, Shard, WatchFlag};
use super::value::Value;

/// Shards per database. A power of two; enough that two cores rarely contend,
/// few enough that walking a database (DBSIZE, eviction) stays cheap.
pub const SHARDS: usize = 64;
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// Counters the keyspace keeps for INFO.
#[derive(Debug, Default)]
pub struct KeyspaceStats {
    pub expired_keys: AtomicU64,
    pub evicted_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
}

impl KeyspaceStats {
    pub fn reset(&self) {
        for counter in [
            &self.expired_keys,
            &self.evicted_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// A shard and the one fact about it that is read without its lock.
struct ShardSlot {
    lock: RwLock<Shard>,
    /// The shard's earliest deadline (`i64::MAX` if none), so the reaper can
    /// skip shards with nothing due without locking them.
    next_expiry: AtomicI64,
}

/// All databases.
pub struct Keyspace {
    /// `databases * SHARDS` slots; database `d` owns `d*SHARDS..(d+1)*SHARDS`.
    slots: Box<[ShardSlot]>,
    databases: usize,
    /// Picks a key's shard (low bits) and its SCAN range (high bits). Seeded
    /// per process so clients cannot aim many keys at one shard.
    hasher: RandomState,
    pub(crate) clock: AccessClock,
    pub stats: KeyspaceStats,
    pub(crate) reaper: Reaper,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        let databases = databases.max(1);
        let slots = (0..databases * SHARDS)
            .map(|_| ShardSlot {
                lock: RwLock::new(Shard::default()),
                next_expiry: AtomicI64::new(i64::MAX),
            })
            .collect();
        Keyspace {
            slots,
            databases,
            hasher: RandomState::new(),
            clock: AccessClock::new(),
            stats: KeyspaceStats::default(),
            reaper: Reaper::default(),
        }
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot index of `key` in database `db`.
    pub fn slot_of(&self, db: usize, key: &[u8]) -> usize {
        db * SHARDS + (self.hash(key) as usize & (SHARDS - 1))
    }

    /// Locks the shards in `plan`, in ascending order.
    pub fn lock(&self, plan: &LockPlan) -> LockSet<'_> {
        let mut guards = Vec::with_capacity(plan.slots.len());
        for &(slot, mode) in &plan.slots {
            let lock = &self.slots[slot as usize].lock;
            guards.push((
                slot,
                match mode {
                    Mode::Read => Guard::Read(lock.read()),
                    Mode::Write => Guard::Write(lock.write()),
                },
            ));
        }
        LockSet {
            ks: self,
            guards,
            new_deadline: i64::MAX,
        }
    }

    /// Number of keys in database `db` (locks its shards one at a time).
    pub fn db_size(&self, db: usize) -> usize {
        self.db_slots(db).map(|s| s.lock.read().len()).sum()
    }

    /// Keys and keys-with-TTL in database `db`, for INFO keyspace.
    pub fn db_counts(&self, db: usize) -> (usize, usize) {
        self.db_slots(db).fold((0, 0), |(keys, volatile), s| {
            let shard = s.lock.read();
            (keys + shard.len(), volatile + shard.volatile_count())
        })
    }

    fn db_slots(&self, db: usize) -> impl Iterator<Item = &ShardSlot> {
        self.slots[db * SHARDS..(db + 1) * SHARDS].iter()
    }

    /// Runs active expiry on every shard with something due: deletes expired
    /// keys in bounded batches (never holding one lock for long) and returns
    /// the earliest deadline left anywhere.
    pub(crate) fn expire_due(&self, now_ms: i64, batch: usize) -> i64 {
        let mut next = i64::MAX;
        for slot in self.slots.iter() {
            if slot.next_expiry.load(Ordering::Acquire) <= now_ms {
                loop {
                    let mut shard = slot.lock.write();
                    let mut expired = 0;
                    while expired < batch {
                        let Some((key, _)) = shard.pop_expired(now_ms) else {
                            break;
                        };
                        shard.signal_modified(key.as_bytes());
                        expired += 1;
                    }
                    self.stats
                        .expired_keys
                        .fetch_add(expired as u64, Ordering::Relaxed);
                    let due = shard.next_deadline().unwrap_or(i64::MAX);
                    slot.next_expiry.store(due, Ordering::Release);
                    if expired < batch || due > now_ms {
                        break;
                    }
                }
            }
            next = next.min(slot.next_expiry.load(Ordering::Acquire));
        }
        next
    }
}

/// How a shard is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Shared: the command only reads, and does not move keys in the LRU.
    Read,
    /// Exclusive: the command writes, or touches keys (LRU order changes).
    Write,
}

/// The shards a command (or a transaction) needs, sorted, each once, with the
/// strongest mode anyone asked for.
#[derive(Debug, Clone, Default)]
pub struct LockPlan {
    slots: Vec<(u32, Mode)>,
}

impl LockPlan {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn add_slot(&mut self, slot: usize, mode: Mode) {
        let slot = slot as u32;
        match self.slots.binary_search_by_key(&slot, |&(s, _)| s) {
            Ok(i) => self.slots[i].1 = self.slots[i].1.max(mode),
            Err(i) => self.slots.insert(i, (slot, mode)),
        }
    }

    /// The shard holding `key` in database `db`.
    pub fn add_key(&mut self, ks: &Keyspace, db: usize, key: &[u8], mode: Mode) {
        self.add_slot(ks.slot_of(db, key), mode);
    }

    /// Every shard of database `db`.
    pub fn add_db(&mut self, db: usize, mode: Mode) {
        for slot in db * SHARDS..(db + 1) * SHARDS {
            self.add_slot(slot, mode);
        }
    }

    /// Every shard of every database.
    pub fn add_all(&mut self, ks: &Keyspace, mode: Mode) {
        for db in 0..ks.databases() {
            self.add_db(db, mode);
        }
    }

    /// Merges another plan into this one (EXEC locks the union of its commands).
    pub fn merge(&mut self, other: &LockPlan) {
        for &(slot, mode) in &other.slots {
            self.add_slot(slot as usize, mode);
        }
    }
}

enum Guard<'k> {
    Read(RwLockReadGuard<'k, Shard>),
    Write(RwLockWriteGuard<'k, Shard>),
}

/// The shards a command holds. Dropping it releases them, then wakes the
/// reaper if the command set a deadline sooner than the reaper's next wake-up
/// (after the locks are gone, so the reaper never wakes only to block).
pub struct LockSet<'k> {
    ks: &'k Keyspace,
    guards: Vec<(u32, Guard<'k>)>,
    new_deadline: i64,
}

impl<'k> LockSet<'k> {
    pub fn keyspace(&self) -> &'k Keyspace {
        self.ks
    }

    /// A view of database `db` through these locks; `now_ms` is the time the
    /// command runs at (one clock reading per command, as Redis caches it).
    pub fn db(&mut self, db: usize, now_ms: i64) -> Db<'_, 'k> {
        Db {
            locks: self,
            db,
            now: now_ms,
        }
    }

    fn position(&self, slot: usize) -> usize {
        self.guards
            .binary_search_by_key(&(slot as u32), |(s, _)| *s)
            .unwrap_or_else(|_| {
                panic!("shard {slot} used without being locked: the command's key spec is wrong")
            })
    }

    fn shard(&self, slot: usize) -> &Shard {
        match &self.guards[self.position(slot)].1 {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        }
    }

    /// The shard, writable if it was write-locked.
    fn shard_mut(&mut self, slot: usize) -> Option<&mut Shard> {
        let i = self.position(slot);
        match &mut self.guards[i].1 {
            Guard::Read(_) => None,
            Guard::Write(g) => Some(g),
        }
    }

    fn write_shard(&mut self, slot: usize) -> &mut Shard {
        self.shard_mut(slot)
            .unwrap_or_else(|| panic!("shard {slot} written under a read lock"))
    }

    /// Records a deadline set on `slot`, keeping the shard's lock-free
    /// "next expiry" hint exact.
    fn note_deadline(&mut self, slot: usize, at: i64) {
        let hint = &self.ks.slots[slot].next_expiry;
        hint.fetch_min(at, Ordering::AcqRel);
        self.new_deadline = self.new_deadline.min(at);
    }
}

impl Drop for LockSet<'_> {
    fn drop(&mut self) {
        self.guards.clear();
        if self.new_deadline != i64::MAX {
            self.ks.reaper.deadline_added(self.new_deadline);
        }
    }
}

/// One database seen through a command's locks. Every keyspace operation a
/// command performs goes through here.
pub struct Db<'a, 'k> {
    locks: &'a mut LockSet<'k>,
    db: usize,
    now: i64,
}

impl<'k> Db<'_, 'k> {
    pub fn index(&self) -> usize {
        self.db
    }

    /// The time this command runs at, in unix ms.
    pub fn now_ms(&self) -> i64 {
        self.now
    }

    fn slot(&self, key: &[u8]) -> usize {
        self.locks.ks.slot_of(self.db, key)
    }

    fn stats(&self) -> &'k KeyspaceStats {
        &self.locks.ks.stats
    }

    /// Deletes `key` if it has expired, as a lookup would. Returns true if
    /// the key is (now) absent.
    fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let slot = self.slot(key);
        let now = self.now;
        let expired = match self.locks.shard(slot).peek(key) {
            None => return true,
            Some(e) => e.is_expired(now),
        };
        if !expired {
            return false;
        }
        // Under a read lock the key stays until a writer or the reaper removes
        // it; it is still reported missing (as Redis does on replicas).
        if let Some(shard) = self.locks.shard_mut(slot) {
            shard.remove(key);
            shard.signal_modified(key);
            self.stats().expired_keys.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// Looks a key up for reading (Redis's `lookupKeyRead`): lazy expiry, LRU
    /// touch, and the keyspace hit/miss counters.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let stats = self.stats();
        let found = self.lookup(key);
        let counter = if found.is_some() {
            &stats.keyspace_hits
        } else {
            &stats.keyspace_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Looks a key up for writing (`lookupKeyWrite`): lazy expiry and LRU
    /// touch, no hit/miss counting. The caller must call
    /// [`Db::signal_modified`] if it changes the value in place.
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key)
    }

    fn lookup(&mut self, key: &[u8]) -> Option<&mut Entry> {
        if self.expire_if_needed(key) {
            return None;
        }
        let slot = self.slot(key);
        let stamp = self.locks.ks.clock.stamp(self.now);
        // Touching reorders the LRU, so lookups need the write lock; commands
        // that hold only read locks use `peek`.
        self.locks.write_shard(slot).touch(key, stamp)
    }

    /// The entry without touching it (EXISTS, TYPE, TTL, OBJECT). Expired
    /// keys are reported missing.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        let entry = self.locks.shard(self.slot(key)).peek(key)?;
        (!entry.is_expired(self.now)).then_some(entry)
    }

    /// True if the key exists (and has not expired).
    pub fn exists(&self, key: &[u8]) -> bool {
        self.peek(key).is_some()
    }

    /// Sets a key to a new value, clearing any TTL (Redis's `setKey`).
    pub fn set(&mut self, key: &[u8], value: Value) {
        self.store(key, value, None);
    }

    /// Sets a key to a new value, keeping its TTL if it has one (SET KEEPTTL).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value) {
        let ttl = self.peek(key).and_then(Entry::expire_at);
        self.store(key, value, ttl);
    }

    /// Sets a key with an absolute deadline (`None`: no TTL).
    pub fn set_with_expire(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.store(key, value, expire_at);
    }

    fn store(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        let slot = self.slot(key);
        let stamp = self.locks.ks.clock.stamp(self.now);
        let entry = Entry {
            value,
            expire_at: expire_at.unwrap_or(0),
            access: stamp,
        };
        let shard = self.locks.write_shard(slot);
        shard.insert(Key::new(key), entry);
        shard.signal_modified(key);
        if let Some(at) = expire_at {
            self.locks.note_deadline(slot, at);
        }
    }

    /// Inserts a whole entry (value and deadline) under `key`, e.g. the entry
    /// RENAME or MOVE took from elsewhere. Replaces what was there.
    pub fn insert_entry(&mut self, key: &[u8], mut entry: Entry) {
        let slot = self.slot(key);
        entry.access = self.locks.ks.clock.stamp(self.now);
        let at = entry.expire_at;
        let shard = self.locks.write_shard(slot);
        shard.insert(Key::new(key), entry);
        shard.signal_modified(key);
        if at != 0 {
            self.locks.note_deadline(slot, at);
        }
    }

    /// Deletes a key. Returns true if it existed (expired keys do not count).
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.take(key).is_some()
    }

    /// Removes a key and returns its entry (RENAME, MOVE, GETDEL).
    pub fn take(&mut self, key: &[u8]) -> Option<Entry> {
        if self.expire_if_needed(key) {
            return None;
        }
        let slot = self.slot(key);
        let shard = self.locks.write_shard(slot);
        let entry = shard.remove(key)?;
        shard.signal_modified(key);
        Some(entry)
    }

    /// Sets an absolute deadline on an existing key. Returns false if the key
    /// does not exist. A deadline in the past is the caller's to handle (Redis
    /// deletes the key instead).
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        if self.expire_if_needed(key) {
            return false;
        }
        let slot = self.slot(key);
        let shard = self.locks.write_shard(slot);
        if !shard.set_expire(key, Some(at_ms)) {
            return false;
        }
        shard.signal_modified(key);
        self.locks.note_deadline(slot, at_ms);
        true
    }

    /// Removes a key's TTL. Returns true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        if self.peek(key).and_then(Entry::expire_at).is_none() {
            return false;
        }
        let slot = self.slot(key);
        let shard = self.locks.write_shard(slot);
        shard.set_expire(key, None);
        shard.signal_modified(key);
        true
    }

    /// Tells the clients watching `key` that it changed. Commands that modify
    /// a value in place (through [`Db::lookup_write`]) call this; `set`,
    /// `delete` and the TTL methods do it themselves.
    pub fn signal_modified(&mut self, key: &[u8]) {
        let slot = self.slot(key);
        self.locks.shard(slot).signal_modified(key);
    }

    /// Registers a WATCH on `key` for the client owning `flag`.
    pub fn watch(&mut self, key: &[u8], flag: &WatchFlag) {
        let slot = self.slot(key);
        self.locks.write_shard(slot).watch(key, flag);
    }

    /// Removes a WATCH.
    pub fn unwatch(&mut self, key: &[u8], flag: &WatchFlag) {
        let slot = self.slot(key);
        self.locks.write_shard(slot).unwatch(key, flag);
    }

    // ---- Whole-database operations: the plan must hold every shard of the db.

    fn all_slots(&self) -> std::ops::Range<usize> {
        self.db * SHARDS..(self.db + 1) * SHARDS
    }

    /// Number of keys (DBSIZE), counting expired keys not yet reaped, as
    /// Redis does.
    pub fn len(&self) -> usize {
        self.all_slots().map(|s| self.locks.shard(s).len()).sum()
    }

    /// Number of keys with a TTL (INFO keyspace's `expires=`), counted like
    /// [`Db::len`].
    pub fn volatile_len(&self) -> usize {
        self.all_slots()
            .map(|s| self.locks.shard(s).volatile_count())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` for every live key.
    pub fn for_each_key(&self, mut f: impl FnMut(&Key, &Entry)) {
        for slot in self.all_slots() {
            for (key, entry) in self.locks.shard(slot).iter() {
                if !entry.is_expired(self.now) {
                    f(key, entry);
                }
            }
        }
    }

    /// Deletes every key (FLUSHDB). Returns how many there were.
    pub fn flush(&mut self) -> usize {
        let mut removed = 0;
        for slot in self.all_slots() {
            let shard = self.locks.write_shard(slot);
            shard.signal_all_watched(|_| false);
            removed += shard.clear();
            self.locks.ks.slots[slot]
                .next_expiry
                .store(i64::MAX, Ordering::Release);
        }
        removed
    }

    /// Exchanges the contents of this database and `other` (SWAPDB). The plan
    /// must hold every shard of both. Watchers of keys present in either
    /// database are marked dirty.
    pub fn swap_with(&mut self, other: usize) {
        if other == self.db {
            return;
        }
        for i in 0..SHARDS {
            let (a, b) = (self.db * SHARDS + i, other * SHARDS + i);
            let (pa, pb) = (self.locks.position(a), self.locks.position(b));
            let (lo, hi) = (pa.min(pb), pa.max(pb));
            let (left, right) = self.locks.guards.split_at_mut(hi);
            let (Guard::Write(x), Guard::Write(y)) = (&mut left[lo].1, &mut right[0].1) else {
                panic!("SWAPDB needs write locks on both databases");
            };
            x.signal_all_watched(|k| y.peek(k).is_some());
            y.signal_all_watched(|k| x.peek(k).is_some());
            x.swap_data(y);
            let hints = &self.locks.ks.slots;
            let (ha, hb) = (&hints[a].next_expiry, &hints[b].next_expiry);
            let (va, vb) = (ha.load(Ordering::Acquire), hb.load(Ordering::Acquire));
            ha.store(vb, Ordering::Release);
            hb.store(va, Ordering::Release);
        }
    }

    /// One step of SCAN (see [`ScanCursor`]): calls `f` for the live keys of
    /// the next part of the keyspace and returns the cursor to continue from
    /// (0 when the scan is complete). Stops once `count` keys were offered.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&Key, &Entry)) -> u64 {
        let hasher = &self.locks.ks.hasher;
        let mut pos = ScanCursor::decode(cursor);
        let mut offered = 0;
        loop {
            let shard = self.locks.shard(self.db * SHARDS + pos.shard);
            if pos.range_bits == 0 && pos.range == 0 {
                // First visit: split a large shard into hash ranges so one
                // step returns a manageable number of keys.
                pos.range_bits = ScanCursor::bits_for(shard.len(), count);
            }
            for (key, entry) in shard.iter() {
                if entry.is_expired(self.now) {
                    continue;
                }
                let h = hasher.hash_one(key.as_bytes());
                if pos.contains(h) {
                    f(key, entry);
                    offered += 1;
                }
            }
            match pos.next() {
                None => return 0,
                Some(next) => pos = next,
            }
            if offered >= count {
                return pos.encode();
            }
        }
    }

    /// A key chosen at random (RANDOMKEY), skipping expired ones.
    pub fn random_key(&self, rng: &mut crate::rng::Rng) -> Option<Key> {
        let sizes: Vec<usize> = self
            .all_slots()
            .map(|s| self.locks.shard(s).len())
            .collect();
        let total: usize = sizes.iter().sum();
        if total == 0 {
            return None;
        }
        // Expired keys may be drawn; retry a bounded number of times as Redis does.
        for _ in 0..100 {
            let mut pick = rng.below(total as u64) as usize;
            for (i, &size) in sizes.iter().enumerate() {
                if pick < size {
                    let shard = self.locks.shard(self.db * SHARDS + i);
                    let (key, entry) = shard.iter().nth(pick)?;
                    if !entry.is_expired(self.now) {
                        return Some(key.clone());
                    }
                    break;
                }
                pick -= size;
            }
        }
        None
    }
}

/// A SCAN position. The cursor packs: the shard (low 6 bits), how many high
/// hash bits split that shard into ranges (next 5 bits), and the range index
/// (the rest). A key belongs to exactly one range of one shard, and ranges are
/// defined by the hash alone, so every key present for the whole scan is
/// returned exactly once in its range, however the shards change in between.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ScanCursor {
    shard: usize,
    range_bits: u32,
    range: u64,
}

impl ScanCursor {
    const MAX_RANGE_BITS: u32 = 20;

    fn decode(cursor: u64) -> Self {
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

    fn encode(self) -> u64 {
        self.shard as u64
            | (u64::from(self.range_bits) << SHARD_BITS)
            | (self.range << (SHARD_BITS + 5))
    }

    /// Enough ranges that each holds about `max(count, 1000)` keys.
    fn bits_for(len: usize, count: usize) -> u32 {
        let target = count.max(1000);
        let mut bits = 0;
        while bits < Self::MAX_RANGE_BITS && (len >> bits) > target {
            bits += 1;
        }
        bits
    }

    fn contains(&self, hash: u64) -> bool {
        self.range_bits == 0 || hash >> (64 - self.range_bits) == self.range
    }

    fn next(self) -> Option<Self> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::value::StrValue;
    use std::collections::HashSet;

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_slice(v.as_bytes()))
    }

    fn plan_all(ks: &Keyspace) -> LockPlan {
        let mut plan = LockPlan::new();
        plan.add_all(ks, Mode::Write);
        plan
    }

    #[test]
    fn lock_plans_are_sorted_and_merged() {
        let mut plan = LockPlan::new();
        plan.add_slot(5, Mode::Read);
        plan.add_slot(2, Mode::Write);
        plan.add_slot(5, Mode::Write);
        plan.add_slot(2, Mode::Read);
        assert_eq!(plan.slots, vec![(2, Mode::Write), (5, Mode::Write)]);
    }

    #[test]
    fn lazy_expiry_hides_and_deletes() {
        let ks = Keyspace::new(1);
        let mut locks = ks.lock(&plan_all(&ks));
        let mut db = locks.db(0, 1000);
        db.set_with_expire(b"k", s("v"), Some(1500));
        assert!(db.exists(b"k"));
        drop(locks);
        let mut locks = ks.lock(&plan_all(&ks));
        let mut db = locks.db(0, 2000);
        assert!(!db.exists(b"k"));
        assert_eq!(db.len(), 1, "not reaped yet");
        assert!(db.lookup_read(b"k").is_none());
        assert_eq!(db.len(), 0, "lookup deleted it");
        assert_eq!(ks.stats.expired_keys.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn active_expiry_removes_due_keys_only() {
        let ks = Keyspace::new(2);
        {
            let mut locks = ks.lock(&plan_all(&ks));
            let mut db = locks.db(1, 1000);
            for i in 0..500 {
                db.set_with_expire(format!("k{i}").as_bytes(), s("v"), Some(1100 + i));
            }
            db.set(b"forever", s("v"));
        }
        let next = ks.expire_due(1349, 16);
        assert_eq!(next, 1350);
        assert_eq!(ks.db_size(1), 251);
        assert_eq!(ks.expire_due(5000, 16), i64::MAX);
        assert_eq!(ks.db_size(1), 1);
    }

    #[test]
    fn scan_returns_every_stable_key_while_the_keyspace_changes() {
        let ks = Keyspace::new(1);
        let plan = plan_all(&ks);
        {
            let mut locks = ks.lock(&plan);
            let mut db = locks.db(0, 0);
            for i in 0..100_000 {
                db.set(format!("stable:{i}").as_bytes(), s("v"));
            }
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            let mut locks = ks.lock(&plan);
            let mut db = locks.db(0, 0);
            cursor = db.scan(cursor, 10, |k, _| {
                seen.insert(k.clone());
            });
            // Churn between steps: add and remove other keys.
            for j in 0..50 {
                db.set(format!("churn:{steps}:{j}").as_bytes(), s("v"));
                db.delete(format!("churn:{}:{j}", steps.max(1) - 1).as_bytes());
            }
            steps += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100_000 {
            assert!(
                seen.contains(&Key::new(format!("stable:{i}").as_bytes())),
                "missed {i}"
            );
        }
        assert!(steps > 64, "large shards are split into several steps");
    }

    #[test]
    fn arbitrary_cursors_do_not_panic() {
        let ks = Keyspace::new(1);
        let mut locks = ks.lock(&plan_all(&ks));
        let db = locks.db(0, 0);
        for cursor in [1, u64::MAX, 12345678901234, 1 << 40] {
            db.scan(cursor, 10, |_, _| {});
        }
    }

    #[test]
    fn swapdb_swaps_contents_and_deadlines() {
        let ks = Keyspace::new(2);
        let mut locks = ks.lock(&plan_all(&ks));
        locks.db(0, 0).set_with_expire(b"a", s("1"), Some(100));
        locks.db(1, 0).set(b"b", s("2"));
        locks.db(0, 0).swap_with(1);
        assert!(locks.db(0, 0).exists(b"b"));
        assert!(locks.db(1, 0).exists(b"a"));
        drop(locks);
        assert_eq!(ks.expire_due(200, 16), i64::MAX);
        assert_eq!(ks.db_size(1), 0);
    }
}
