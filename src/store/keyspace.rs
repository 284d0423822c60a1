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
//! returns a [`LockSet`](super::LockSet) (both in [`super::locks`]); [`Db`](super::Db) (in
//! [`super::db`]) is a view of one database through it.

use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::{RwLock, RwLockWriteGuard};

use crate::counter::Counter;

use super::expire::Reaper;
use super::hasher::KeyHasher;
use super::key::Key;
use super::locks::{LockPlan, Mode};
use super::shard::{Detached, Shard};
use super::waiting::BlockedClients;

/// Shards per database. A power of two; enough that two cores rarely contend,
/// few enough that walking a database (DBSIZE, eviction) stays cheap.
pub const SHARDS: usize = 64;
pub const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// Counters the keyspace keeps for INFO.
#[derive(Debug, Default)]
pub struct KeyspaceStats {
    pub expired_keys: Counter,
    pub evicted_keys: Counter,
    pub keyspace_hits: Counter,
    pub keyspace_misses: Counter,
}

impl KeyspaceStats {
    pub fn reset(&self) {
        for counter in [
            &self.expired_keys,
            &self.evicted_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
        ] {
            counter.reset();
        }
    }
}

/// A shard and the one fact about it that is read without its lock.
pub(super) struct ShardSlot {
    pub(super) lock: RwLock<Shard>,
    /// The shard's earliest deadline (`i64::MAX` if none), so the reaper can
    /// skip shards with nothing due without locking them.
    pub(super) next_expiry: AtomicI64,
}

/// All databases.
pub struct Keyspace {
    /// `databases * SHARDS` slots; database `d` owns `d*SHARDS..(d+1)*SHARDS`.
    pub(super) slots: Box<[ShardSlot]>,
    databases: usize,
    /// Picks a key's shard (low bits) and its SCAN range (high bits). Seeded
    /// per process so clients cannot aim many keys at one shard.
    pub(super) hasher: KeyHasher,
    pub stats: KeyspaceStats,
    pub(crate) reaper: Reaper,
    /// Told about every key deleted because it expired (database, key),
    /// while its shard is still locked: the append-only file logs a DEL,
    /// pub/sub publishes an `expired` event. Registered at start-up.
    expire_hooks: RwLock<Vec<ExpireHook>>,
    /// Told about every key created and every read lookup that missed
    /// (database, key), with the shard locked: pub/sub publishes `new` and
    /// `keymiss` events. Set once at start-up; a `OnceLock` so the hot
    /// paths cost one load when nobody listens.
    key_hook: std::sync::OnceLock<KeyHook>,
    /// Told about every key written, deleted, expired or evicted (the
    /// key; tracking is by name, not database), with the shard locked:
    /// client-side caching sends invalidations. Set once at start-up.
    modified_hook: std::sync::OnceLock<ModifiedHook>,
    /// Clients blocked on keys (BLPOP, BZPOPMIN...), for INFO and CLIENT
    /// UNBLOCK; the per-key queues live in the shards.
    pub blocked: BlockedClients,
    /// Shared by every command and the reaper, exclusive for a script.
    pub gate: super::gate::Gate,
    /// Whether lookups keep LRU stamps or LFU counters (the eviction
    /// policy's choice).
    pub access: super::lfu::AccessMode,
    /// The access count LFU eviction currently evicts at (see
    /// [`Keyspace::evict_lfu`]).
    pub(super) lfu_level: std::sync::atomic::AtomicU8,
    /// The server's clock: commands, the reaper and loading read their
    /// time from it (see [`crate::clock::Clock`]).
    pub clock: crate::clock::Clock,
}

/// See [`Keyspace::add_expire_hook`].
pub type ExpireHook = Box<dyn Fn(usize, &[u8]) + Send + Sync>;

/// What [`Keyspace::set_key_hook`]'s function is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEvent {
    /// A key was created (Redis's `dbAdd`).
    Created,
    /// A read lookup found no key (Redis's `keymiss`).
    Missed,
}

/// See [`Keyspace::set_modified_hook`].
pub type ModifiedHook = Box<dyn Fn(&[u8]) + Send + Sync>;

/// See [`Keyspace::set_key_hook`].
pub type KeyHook = Box<dyn Fn(KeyEvent, usize, &[u8]) + Send + Sync>;

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
            hasher: KeyHasher::new(),
            stats: KeyspaceStats::default(),
            reaper: Reaper::default(),
            expire_hooks: RwLock::new(Vec::new()),
            key_hook: std::sync::OnceLock::new(),
            modified_hook: std::sync::OnceLock::new(),
            blocked: BlockedClients::default(),
            gate: super::gate::Gate::default(),
            access: super::lfu::AccessMode::default(),
            lfu_level: std::sync::atomic::AtomicU8::new(super::lfu::INIT),
            clock: crate::clock::Clock::wall(),
        }
    }

    /// Uses `clock` instead of the wall clock (before the server starts).
    pub fn set_clock(&mut self, clock: crate::clock::Clock) {
        self.clock = clock;
    }

    /// Places keys in shards by `seed` instead of a random per-process
    /// seed (before any key exists), so that RANDOMKEY's draws repeat from
    /// one run to the next.
    pub fn set_hasher_seed(&mut self, seed: u64) {
        self.hasher = KeyHasher::with_seed(seed);
    }

    /// Adds a function told about every key that expires (lazily or by
    /// the reaper), called with the key's shard still locked, after those
    /// added before it. A hook must not lock shards.
    pub fn add_expire_hook(&self, hook: ExpireHook) {
        self.expire_hooks.write().push(hook);
    }

    /// Sets the function told about every key created and every read
    /// lookup that missed (once; later calls are ignored). It must not lock
    /// shards.
    pub fn set_key_hook(&self, hook: KeyHook) {
        let _ = self.key_hook.set(hook);
    }

    /// Sets the function told about every key that changed, wherever it
    /// changed (Redis's `signalModifiedKey`, and the key deletions of
    /// expiry and eviction); once, later calls are ignored. It must not
    /// lock shards.
    pub fn set_modified_hook(&self, hook: ModifiedHook) {
        let _ = self.modified_hook.set(hook);
    }

    /// `key` changed: see [`Keyspace::set_modified_hook`]. Every place
    /// that tells a shard's watchers (`Shard::signal_modified`) calls it.
    pub(super) fn modified(&self, key: &[u8]) {
        if let Some(hook) = self.modified_hook.get() {
            hook(key);
        }
    }

    pub(super) fn key_event(&self, event: KeyEvent, db: usize, key: &[u8]) {
        if let Some(hook) = self.key_hook.get() {
            hook(event, db, key);
        }
    }

    pub(super) fn expired(&self, db: usize, key: &[u8]) {
        for hook in self.expire_hooks.read().iter() {
            hook(db, key);
        }
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash(key)
    }

    /// The slot index of `key` in database `db`.
    pub fn slot_of(&self, db: usize, key: &[u8]) -> usize {
        db * SHARDS + (self.hash(key) as usize & (SHARDS - 1))
    }

    /// Write-locks one shard. Every write lock is taken through here, so a
    /// snapshot in progress always gets its copy before the first change.
    /// One shard, write-locked on its own (the reaper, eviction): copies
    /// it first if a snapshot still needs it as it was.
    pub(super) fn write_slot(&self, slot: usize) -> RwLockWriteGuard<'_, Shard> {
        let mut guard = self.slots[slot].lock.write();
        guard.before_write();
        guard
    }

    /// One shard, read-locked on its own.
    pub(super) fn read_slot(&self, slot: usize) -> parking_lot::RwLockReadGuard<'_, Shard> {
        self.slots[slot].lock.read()
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

    /// Marks a point-in-time snapshot of every database (for SAVE and
    /// BGSAVE) and returns each database's key and volatile-key counts at
    /// that point. All shards are locked together, in order, for the mark,
    /// so a transaction is entirely before it or entirely after it. The
    /// caller must then collect every shard with [`Keyspace::take_snapshot`]
    /// (or [`Keyspace::cancel_snapshot`]); only one snapshot may be in
    /// progress at a time.
    pub fn begin_snapshot(&self) -> Vec<(usize, usize)> {
        self.begin_snapshot_with(|| {})
    }

    /// [`Keyspace::begin_snapshot`], running `at_mark` while every shard is
    /// locked: an AOF rewrite switches to its new file there, so each write
    /// lands in exactly one of the snapshot or the new file.
    pub fn begin_snapshot_with(&self, at_mark: impl FnOnce()) -> Vec<(usize, usize)> {
        let mut plan = LockPlan::new();
        plan.add_all(self, Mode::Write);
        let mut locks = self.lock(&plan);
        at_mark();
        let mut counts = vec![(0, 0); self.databases];
        for (db, count) in counts.iter_mut().enumerate() {
            for slot in db * SHARDS..(db + 1) * SHARDS {
                let shard = locks.write_shard(slot);
                shard.mark_for_snapshot();
                count.0 += shard.len();
                count.1 += shard.volatile_count();
            }
        }
        counts
    }

    /// The snapshot's content for one shard (see [`Keyspace::begin_snapshot`]).
    pub fn take_snapshot(&self, slot: usize) -> Vec<(Key, Detached)> {
        // Not through `write_slot`: handing over must not copy first.
        self.slots[slot].lock.write().take_snapshot()
    }

    /// Abandons a snapshot: shards not yet taken stop copying.
    pub fn cancel_snapshot(&self) {
        for slot in &self.slots {
            slot.lock.write().cancel_snapshot();
        }
    }

    /// Number of shard slots (`databases * SHARDS`); slot `s` belongs to
    /// database `s / SHARDS`.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Runs active expiry on every shard with something due: deletes expired
    /// keys in bounded batches (never holding one lock for long) and returns
    /// the earliest deadline left anywhere.
    pub(crate) fn expire_due(&self, now_ms: i64, batch: usize) -> i64 {
        let mut next = i64::MAX;
        for (index, slot) in self.slots.iter().enumerate() {
            if slot.next_expiry.load(Ordering::Acquire) <= now_ms {
                loop {
                    let mut shard = self.write_slot(index);
                    let mut expired = 0;
                    while expired < batch {
                        let Some((key, _)) = shard.pop_expired(now_ms) else {
                            break;
                        };
                        shard.signal_modified(key.as_bytes());
                        self.modified(key.as_bytes());
                        self.expired(index / SHARDS, key.as_bytes());
                        expired += 1;
                    }
                    self.stats.expired_keys.add(expired as u64);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::value::StrValue;
    use crate::store::{Entry, LockPlan, Mode, Value};
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
        assert_eq!(plan.as_slice(), [(2, Mode::Write), (5, Mode::Write)]);
        for slot in (0..10).rev() {
            plan.add_slot(slot, Mode::Read);
        }
        let slots: Vec<u32> = plan.as_slice().iter().map(|&(s, _)| s).collect();
        assert_eq!(
            slots,
            (0..10).collect::<Vec<_>>(),
            "spilled plans stay sorted"
        );
        assert_eq!(
            plan.as_slice()[2],
            (2, Mode::Write),
            "modes survive the spill"
        );
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
        assert_eq!(ks.stats.expired_keys.get(), 1);
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
        let mut db = locks.db(0, 0);
        for cursor in [1, u64::MAX, 12345678901234, 1 << 40] {
            db.scan(cursor, 10, |_, _| {});
        }
    }

    #[test]
    fn random_live_key_reaps_expired_draws_until_it_finds_a_live_key() {
        let ks = Keyspace::new(1);
        let mut rng = crate::rng::Rng::with_seed(7);
        let mut locks = ks.lock(&plan_all(&ks));
        assert!(locks.db(0, 1000).random_live_key(&mut rng).is_none());
        let mut db = locks.db(0, 1000);
        for i in 0..2000 {
            db.set_with_expire(format!("old{i}").as_bytes(), s("v"), Some(1500));
        }
        db.set(b"live", s("v"));
        let mut db = locks.db(0, 2000);
        assert_eq!(db.random_live_key(&mut rng), Some(Key::new(b"live")));
        let reaped = ks.stats.expired_keys.get();
        assert_eq!(db.len() as u64, 2001 - reaped, "draws were deleted");
        db.delete(b"live");
        assert!(db.random_live_key(&mut rng).is_none());
        assert_eq!(db.len(), 0, "every expired key was drawn and deleted");
    }

    #[test]
    fn peek_read_counts_hits_and_misses_without_touching() {
        let ks = Keyspace::new(1);
        let mut locks = ks.lock(&plan_all(&ks));
        let mut db = locks.db(0, 1000);
        db.set(b"k", s("v"));
        let stamp = db.peek(b"k").map(Entry::access_stamp);
        let mut db = locks.db(0, 5000);
        assert!(db.peek_read(b"k").is_some());
        assert!(db.peek_read(b"missing").is_none());
        assert_eq!(db.peek(b"k").map(Entry::access_stamp), stamp);
        assert_eq!(ks.stats.keyspace_hits.get(), 1);
        assert_eq!(ks.stats.keyspace_misses.get(), 1);
    }

    #[test]
    fn non_touching_lookups_and_scans_delete_expired_keys_under_write_locks() {
        let ks = Keyspace::new(1);
        let mut locks = ks.lock(&plan_all(&ks));
        let mut db = locks.db(0, 1000);
        db.set_with_expire(b"a", s("1"), Some(1500));
        db.set_with_expire(b"b", s("2"), Some(1500));
        db.set(b"c", s("3"));
        drop(locks);
        let mut read_plan = LockPlan::new();
        read_plan.add_db(0, Mode::Read);
        let mut locks = ks.lock(&read_plan);
        let mut db = locks.db(0, 2000);
        assert!(db.peek_read(b"a").is_none());
        assert_eq!(db.len(), 3, "a read lock cannot delete");
        drop(locks);
        let mut locks = ks.lock(&plan_all(&ks));
        let mut db = locks.db(0, 2000);
        assert!(db.peek_read(b"a").is_none());
        assert_eq!(db.len(), 2, "EXISTS/TYPE/TTL-style lookups delete");
        let mut seen = Vec::new();
        assert_eq!(db.scan(0, 100, |k, _| seen.push(k.clone())), 0);
        assert_eq!(seen, vec![Key::new(b"c")]);
        assert_eq!(db.len(), 1, "SCAN deletes the expired keys it meets");
    }

    #[test]
    fn snapshots_are_point_in_time_while_writes_continue() {
        let ks = Keyspace::new(2);
        {
            let mut locks = ks.lock(&plan_all(&ks));
            let mut db = locks.db(0, 0);
            for i in 0..1000 {
                db.set(format!("k{i}").as_bytes(), s("old"));
            }
        }
        let counts = ks.begin_snapshot();
        assert_eq!(counts[0], (1000, 0));
        // Writes after the mark, through ordinary commands' locks.
        for i in 0..1000 {
            let mut plan = LockPlan::new();
            plan.add_key(&ks, 0, format!("k{i}").as_bytes(), Mode::Write);
            plan.add_key(&ks, 0, format!("extra{i}").as_bytes(), Mode::Write);
            let mut locks = ks.lock(&plan);
            let mut db = locks.db(0, 0);
            if i % 2 == 0 {
                db.set(format!("k{i}").as_bytes(), s("new"));
            } else {
                db.delete(format!("k{i}").as_bytes());
            }
            db.set(format!("extra{i}").as_bytes(), s("new"));
        }
        let mut seen = 0;
        for slot in 0..ks.slot_count() {
            for (key, entry) in ks.take_snapshot(slot) {
                assert!(
                    key.as_bytes().starts_with(b"k"),
                    "{key:?} was added after the mark"
                );
                let Value::Str(v) = &entry.value else {
                    panic!("only strings were stored")
                };
                assert_eq!(&*v.bytes(), b"old");
                seen += 1;
            }
        }
        assert_eq!(seen, 1000);
        assert_eq!(ks.db_size(0), 1500, "the live data moved on");
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
