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

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::counter::Counter;

use super::expire::Reaper;
use super::hasher::KeyHasher;
use super::key::Key;
use super::shard::{Detached, Entry, Shard, WatchFlag};
use super::value::Value;
use super::waiting::{BlockedClients, Waiter};

/// Shards per database. A power of two; enough that two cores rarely contend,
/// few enough that walking a database (DBSIZE, eviction) stays cheap.
pub const SHARDS: usize = 64;
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

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
    hasher: KeyHasher,
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
    /// Clients blocked on keys (BLPOP, BZPOPMIN...), for INFO and CLIENT
    /// UNBLOCK; the per-key queues live in the shards.
    pub blocked: BlockedClients,
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
            blocked: BlockedClients::default(),
        }
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

    fn key_event(&self, event: KeyEvent, db: usize, key: &[u8]) {
        if let Some(hook) = self.key_hook.get() {
            hook(event, db, key);
        }
    }

    fn expired(&self, db: usize, key: &[u8]) {
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

    /// Locks the shards in `plan`, in ascending order.
    pub fn lock(&self, plan: &LockPlan) -> LockSet<'_> {
        LockSet {
            ks: self,
            guards: self.take_guards(plan),
            new_deadline: i64::MAX,
            ready: VecDeque::new(),
        }
    }

    /// Takes the guards of `plan`, in ascending order, waiting as needed.
    fn take_guards(&self, plan: &LockPlan) -> Guards<'_> {
        let take = |&(slot, mode): &(u32, Mode)| {
            let guard = match mode {
                Mode::Read => Guard::Read(self.slots[slot as usize].lock.read()),
                Mode::Write => Guard::Write(self.write_slot(slot as usize)),
            };
            (slot, guard)
        };
        match plan.as_slice() {
            [] => Guards::None,
            [only] => {
                let (slot, guard) = take(only);
                Guards::One(slot, guard)
            }
            many => Guards::Many(many.iter().map(take).collect()),
        }
    }

    /// Takes one shard's lock only if that needs no waiting.
    fn try_slot(&self, slot: usize, mode: Mode) -> Option<Guard<'_>> {
        let lock = &self.slots[slot].lock;
        match mode {
            Mode::Read => lock.try_read().map(Guard::Read),
            Mode::Write => lock.try_write().map(|mut guard| {
                guard.before_write();
                Guard::Write(guard)
            }),
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

/// How a shard is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Mode {
    /// Shared: the command only reads, and does not move keys in the LRU.
    #[default]
    Read,
    /// Exclusive: the command writes, or touches keys (LRU order changes).
    Write,
}

/// Plans this small are kept inline: most commands touch one to three keys,
/// and planning runs for every command, so it should not allocate.
const INLINE_PLAN: usize = 4;

/// The shards a command (or a transaction) needs, sorted, each once, with the
/// strongest mode anyone asked for.
#[derive(Debug, Clone, Default)]
pub struct LockPlan {
    inline: [(u32, Mode); INLINE_PLAN],
    len: usize,
    /// Used instead of `inline` once the plan outgrows it.
    spilled: Vec<(u32, Mode)>,
}

impl LockPlan {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The planned shards, ascending.
    pub fn as_slice(&self) -> &[(u32, Mode)] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }

    fn add_slot(&mut self, slot: usize, mode: Mode) {
        let slot = slot as u32;
        match self.as_slice().binary_search_by_key(&slot, |&(s, _)| s) {
            Ok(i) => {
                let entry = if self.spilled.is_empty() {
                    &mut self.inline[i]
                } else {
                    &mut self.spilled[i]
                };
                entry.1 = entry.1.max(mode);
            }
            Err(i) if self.spilled.is_empty() && self.len < INLINE_PLAN => {
                self.inline.copy_within(i..self.len, i + 1);
                self.inline[i] = (slot, mode);
                self.len += 1;
            }
            Err(i) => {
                if self.spilled.is_empty() {
                    self.spilled.extend_from_slice(&self.inline[..self.len]);
                }
                self.spilled.insert(i, (slot, mode));
            }
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
        for &(slot, mode) in other.as_slice() {
            self.add_slot(slot as usize, mode);
        }
    }
}

enum Guard<'k> {
    Read(RwLockReadGuard<'k, Shard>),
    Write(RwLockWriteGuard<'k, Shard>),
}

/// The guards a command holds, sorted by slot. One shard is by far the
/// common case and needs no allocation.
enum Guards<'k> {
    None,
    One(u32, Guard<'k>),
    Many(Vec<(u32, Guard<'k>)>),
}

/// The shards a command holds. Dropping it releases them, then wakes the
/// reaper if the command set a deadline sooner than the reaper's next wake-up
/// (after the locks are gone, so the reaper never wakes only to block).
pub struct LockSet<'k> {
    ks: &'k Keyspace,
    guards: Guards<'k>,
    new_deadline: i64,
    /// Keys created while clients were blocked on them, in order, each once
    /// (Redis's `server.ready_keys`): after the command (or the whole
    /// transaction) the dispatcher serves their waiters through these locks.
    ready: VecDeque<(usize, Key)>,
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

    /// True if the command holds no shard at all.
    pub fn is_empty(&self) -> bool {
        matches!(self.guards, Guards::None)
    }

    /// Records that `key` in `db` was created while clients were blocked on
    /// it (kept once, in order).
    fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if !self
            .ready
            .iter()
            .any(|(d, k)| *d == db && k.as_bytes() == key)
        {
            self.ready.push_back((db, Key::new(key)));
        }
    }

    /// True if some key's blocked clients may be servable now.
    pub fn has_ready_keys(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next key whose blocked clients may be servable, oldest first.
    pub fn pop_ready_key(&mut self) -> Option<(usize, Key)> {
        self.ready.pop_front()
    }

    /// The mode this set holds `slot` in, if any.
    fn held(&self, slot: usize) -> Option<Mode> {
        let mode = |g: &Guard<'k>| match g {
            Guard::Read(_) => Mode::Read,
            Guard::Write(_) => Mode::Write,
        };
        match &self.guards {
            Guards::None => None,
            Guards::One(s, g) => (*s as usize == slot).then(|| mode(g)),
            Guards::Many(guards) => guards
                .binary_search_by_key(&(slot as u32), |(s, _)| *s)
                .ok()
                .map(|i| mode(&guards[i].1)),
        }
    }

    /// The shards held now, as a plan.
    fn held_plan(&self) -> LockPlan {
        let mut plan = LockPlan::new();
        let mut add = |slot: u32, g: &Guard<'k>| {
            let mode = match g {
                Guard::Read(_) => Mode::Read,
                Guard::Write(_) => Mode::Write,
            };
            plan.add_slot(slot as usize, mode);
        };
        match &self.guards {
            Guards::None => {}
            Guards::One(s, g) => add(*s, g),
            Guards::Many(guards) => guards.iter().for_each(|(s, g)| add(*s, g)),
        }
        plan
    }

    /// Extends the set with the shards of `plan` (serving a blocked client
    /// can need shards the command did not lock, e.g. BLMOVE's
    /// destination). Shards that are free are taken at once: a `try_lock`
    /// never waits, so it cannot deadlock whatever the order. If one is busy
    /// (or a held read lock must become a write lock), every held shard is
    /// released and the union is locked again in ascending order. Returns
    /// false in that case: others may have run in between, so the caller
    /// must re-check what it read.
    pub fn lock_more(&mut self, plan: &LockPlan) -> bool {
        let missing: Vec<(u32, Mode)> = plan
            .as_slice()
            .iter()
            .filter(|&&(slot, mode)| self.held(slot as usize).is_none_or(|m| m < mode))
            .copied()
            .collect();
        if missing.is_empty() {
            return true;
        }
        let mut taken = Vec::with_capacity(missing.len());
        let all_free = missing.iter().all(|&(slot, mode)| {
            if self.held(slot as usize).is_some() {
                return false; // an upgrade: only a full relock can do it
            }
            match self.ks.try_slot(slot as usize, mode) {
                Some(guard) => {
                    taken.push((slot, guard));
                    true
                }
                None => false,
            }
        });
        if all_free {
            let mut guards = match std::mem::replace(&mut self.guards, Guards::None) {
                Guards::None => Vec::new(),
                Guards::One(s, g) => vec![(s, g)],
                Guards::Many(guards) => guards,
            };
            guards.extend(taken);
            guards.sort_by_key(|(s, _)| *s);
            self.guards = Guards::Many(guards);
            return true;
        }
        drop(taken);
        let mut union = self.held_plan();
        union.merge(plan);
        self.guards = Guards::None;
        self.guards = self.ks.take_guards(&union);
        false
    }

    fn not_locked(slot: usize) -> ! {
        panic!("shard {slot} used without being locked: the command's key spec is wrong")
    }

    fn guard(&self, slot: usize) -> &Guard<'k> {
        match &self.guards {
            Guards::One(s, guard) if *s as usize == slot => guard,
            Guards::Many(guards) => {
                match guards.binary_search_by_key(&(slot as u32), |(s, _)| *s) {
                    Ok(i) => &guards[i].1,
                    Err(_) => Self::not_locked(slot),
                }
            }
            _ => Self::not_locked(slot),
        }
    }

    fn guard_mut(&mut self, slot: usize) -> &mut Guard<'k> {
        match &mut self.guards {
            Guards::One(s, guard) if *s as usize == slot => guard,
            Guards::Many(guards) => {
                match guards.binary_search_by_key(&(slot as u32), |(s, _)| *s) {
                    Ok(i) => &mut guards[i].1,
                    Err(_) => Self::not_locked(slot),
                }
            }
            _ => Self::not_locked(slot),
        }
    }

    fn shard(&self, slot: usize) -> &Shard {
        match self.guard(slot) {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        }
    }

    /// The shard, writable if it was write-locked.
    fn shard_mut(&mut self, slot: usize) -> Option<&mut Shard> {
        match self.guard_mut(slot) {
            Guard::Read(_) => None,
            Guard::Write(g) => Some(g),
        }
    }

    /// Two different write-locked shards at once (SWAPDB).
    fn shard_pair_mut(&mut self, a: usize, b: usize) -> (&mut Shard, &mut Shard) {
        let Guards::Many(guards) = &mut self.guards else {
            panic!("two shards need a multi-shard plan");
        };
        let find = |slot: usize| {
            guards
                .binary_search_by_key(&(slot as u32), |(s, _)| *s)
                .unwrap_or_else(|_| Self::not_locked(slot))
        };
        let (pa, pb) = (find(a), find(b));
        assert_ne!(pa, pb, "two different shards");
        let (lo, hi) = (pa.min(pb), pa.max(pb));
        let (left, right) = guards.split_at_mut(hi);
        let (Guard::Write(x), Guard::Write(y)) = (&mut left[lo].1, &mut right[0].1) else {
            panic!("both shards must be write-locked");
        };
        if pa < pb { (x, y) } else { (y, x) }
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
        self.guards = Guards::None;
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
        let shard = self.locks.shard(slot);
        let expired = match shard.peek(key) {
            None => return true,
            Some(e) => shard.entry_expired(key, e, now),
        };
        if !expired {
            return false;
        }
        // Under a read lock the key stays until a writer or the reaper removes
        // it; it is still reported missing (as Redis does on replicas).
        if let Some(shard) = self.locks.shard_mut(slot) {
            shard.remove(key);
            shard.signal_modified(key);
            self.stats().expired_keys.incr();
            self.locks.ks.expired(self.db, key);
        }
        true
    }

    /// Looks a key up for reading (Redis's `lookupKeyRead`): lazy expiry, LRU
    /// touch, and the keyspace hit/miss counters.
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (ks, db) = (self.locks.ks, self.db);
        let found = self.lookup(key);
        if found.is_some() {
            ks.stats.keyspace_hits.incr();
        } else {
            ks.stats.keyspace_misses.incr();
            ks.key_event(KeyEvent::Missed, db, key);
        }
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
        // Touching reorders the LRU, so lookups need the write lock; commands
        // that hold only read locks use `peek`.
        self.locks.write_shard(slot).touch(key, self.now)
    }

    /// The entry without touching it (EXISTS, TYPE, TTL, OBJECT). Expired
    /// keys are reported missing.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        let shard = self.locks.shard(self.slot(key));
        let entry = shard.peek(key)?;
        (!shard.entry_expired(key, entry, self.now)).then_some(entry)
    }

    /// The key's deadline (unix ms), if it exists, is live and has one.
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        self.peek(key)?;
        self.locks.shard(self.slot(key)).expire_at(key)
    }

    /// True if the key exists (and has not expired).
    pub fn exists(&self, key: &[u8]) -> bool {
        self.peek(key).is_some()
    }

    /// [`Db::peek`] that counts a keyspace hit or miss, as Redis's
    /// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)` does for EXISTS, TYPE, TTL
    /// and OBJECT: no LRU touch, so it works under read locks, but the
    /// lookup still shows in INFO's `keyspace_hits` / `keyspace_misses`.
    ///
    /// An expired key is deleted if the shard is write-locked (as Redis's
    /// lookups do), else only reported missing.
    pub fn peek_read(&mut self, key: &[u8]) -> Option<&Entry> {
        let (ks, db) = (self.locks.ks, self.db);
        let found = self.peek_read_quiet(key);
        if found.is_none() {
            ks.key_event(KeyEvent::Missed, db, key);
        }
        found
    }

    /// [`Db::peek_read`] without the `keymiss` event (OBJECT, as Redis's
    /// `LOOKUP_NONOTIFY`).
    pub fn peek_read_quiet(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        let found = self.peek(key);
        let stats = self.stats();
        let counter = if found.is_some() {
            &stats.keyspace_hits
        } else {
            &stats.keyspace_misses
        };
        counter.incr();
        found
    }

    /// Sets a key to a new value, clearing any TTL (Redis's `setKey`).
    pub fn set(&mut self, key: &[u8], value: Value) {
        self.store(key, value, None);
    }

    /// Sets a key to a new value, keeping its TTL if it has one (SET KEEPTTL).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value) {
        let ttl = self.expire_at(key);
        self.store(key, value, ttl);
    }

    /// Sets a key with an absolute deadline (`None`: no TTL).
    pub fn set_with_expire(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.store(key, value, expire_at);
    }

    fn store(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        let slot = self.slot(key);
        let wakes = value.can_unblock();
        let now = self.now;
        let ks = self.locks.ks;
        let shard = self.locks.write_shard(slot);
        let old = shard.insert(Key::new(key), value, expire_at, now);
        shard.signal_modified(key);
        if old.as_ref().is_none_or(|o| o.is_expired(now)) {
            ks.key_event(KeyEvent::Created, self.db, key);
        }
        if wakes && old.is_none_or(|o| o.is_expired(now)) && shard.is_blocked_on(key) {
            self.locks.signal_ready(self.db, key);
        }
        if let Some(at) = expire_at {
            self.locks.note_deadline(slot, at);
        }
    }

    /// Inserts a whole entry (value and deadline) under `key`, e.g. the entry
    /// RENAME or MOVE took from elsewhere. Replaces what was there.
    pub fn insert_entry(&mut self, key: &[u8], entry: Detached) {
        let slot = self.slot(key);
        let at = entry.expire_at;
        let wakes = entry.value.can_unblock();
        let now = self.now;
        let ks = self.locks.ks;
        let shard = self.locks.write_shard(slot);
        let old = shard.insert(Key::new(key), entry.value, at, now);
        shard.signal_modified(key);
        if old.as_ref().is_none_or(|o| o.is_expired(now)) {
            ks.key_event(KeyEvent::Created, self.db, key);
        }
        // A key created where clients wait (RENAME, MOVE, COPY...) may
        // serve them, as Redis's `dbAdd` signals.
        if wakes && old.is_none_or(|o| o.is_expired(now)) && shard.is_blocked_on(key) {
            self.locks.signal_ready(self.db, key);
        }
        if let Some(at) = at {
            self.locks.note_deadline(slot, at);
        }
    }

    /// Deletes a key. Returns true if it existed (expired keys do not count).
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.take(key).is_some()
    }

    /// Removes a key and returns its value and deadline (RENAME, MOVE,
    /// GETDEL).
    pub fn take(&mut self, key: &[u8]) -> Option<Detached> {
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
        if self.expire_at(key).is_none() {
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
        self.locks.write_shard(slot).signal_modified(key);
    }

    /// Queues a blocked client on `key` (the shard must be write-locked).
    pub fn block(&mut self, key: &[u8], waiter: Arc<Waiter>) {
        let slot = self.slot(key);
        self.locks.write_shard(slot).block(key, waiter);
    }

    /// Takes a blocked client off `key`'s queue.
    pub fn unblock(&mut self, key: &[u8], waiter: &Arc<Waiter>) {
        let slot = self.slot(key);
        self.locks.write_shard(slot).unblock(key, waiter);
    }

    /// The clients blocked on `key`, first come first.
    pub fn blocked_on(&self, key: &[u8]) -> Vec<Arc<Waiter>> {
        self.locks.shard(self.slot(key)).blocked_on(key)
    }

    /// Registers a WATCH on `key` for the client owning `flag`.
    pub fn watch(&mut self, key: &[u8], flag: &WatchFlag) {
        let slot = self.slot(key);
        let now = self.now;
        self.locks.write_shard(slot).watch(key, flag, now);
    }

    /// True if this client's WATCH on `key` saw a live key that has expired
    /// since (EXEC must then fail).
    pub fn watched_key_expired_since(&self, key: &[u8], flag: &WatchFlag) -> bool {
        self.locks
            .shard(self.slot(key))
            .watched_key_expired_since(key, flag, self.now)
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
            let shard = self.locks.shard(slot);
            for (key, entry) in shard.iter() {
                if !shard.entry_expired(key.as_bytes(), entry, self.now) {
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
            shard.signal_all_watched(None, self.now);
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
            let (x, y) = self.locks.shard_pair_mut(a, b);
            x.signal_all_watched(Some(y), self.now);
            y.signal_all_watched(Some(x), self.now);
            x.swap_data(y);
            // Clients stay with their database number: those blocked on a
            // key the swap brought in may be served (Redis's
            // `scanDatabaseForReadyKeys`).
            let ready_a = x.blocked_keys_with_data();
            let ready_b = y.blocked_keys_with_data();
            for key in ready_a {
                self.locks.signal_ready(self.db, key.as_bytes());
            }
            for key in ready_b {
                self.locks.signal_ready(other, key.as_bytes());
            }
            let hints = &self.locks.ks.slots;
            let (ha, hb) = (&hints[a].next_expiry, &hints[b].next_expiry);
            let (va, vb) = (ha.load(Ordering::Acquire), hb.load(Ordering::Acquire));
            ha.store(vb, Ordering::Release);
            hb.store(va, Ordering::Release);
        }
    }

    /// One step of SCAN (see `ScanCursor`): calls `f` for the live keys of
    /// the next part of the keyspace and returns the cursor to continue from
    /// (0 when the scan is complete). Stops once `count` keys were offered.
    pub fn scan(&mut self, cursor: u64, count: usize, mut f: impl FnMut(&Key, &Entry)) -> u64 {
        let hasher = &self.locks.ks.hasher;
        let mut pos = ScanCursor::decode(cursor);
        let mut offered = 0;
        let mut expired = Vec::new();
        let next = loop {
            let shard = self.locks.shard(self.db * SHARDS + pos.shard);
            if pos.range_bits == 0 && pos.range == 0 {
                // First visit: split a large shard into hash ranges so one
                // step returns a manageable number of keys.
                pos.range_bits = ScanCursor::bits_for(shard.len(), count);
            }
            for (key, entry) in shard.iter() {
                let h = hasher.hash(key.as_bytes());
                if !pos.contains(h) {
                    continue;
                }
                if shard.entry_expired(key.as_bytes(), entry, self.now) {
                    expired.push(key.clone());
                    continue;
                }
                f(key, entry);
                offered += 1;
            }
            match pos.next() {
                None => break 0,
                Some(next) => pos = next,
            }
            if offered >= count {
                break pos.encode();
            }
        };
        // Like Redis, a scan deletes the expired keys it met (when it holds
        // write locks; under read locks they are only skipped).
        for key in expired {
            self.expire_if_needed(key.as_bytes());
        }
        next
    }

    /// A live key chosen at random (RANDOMKEY). Expired keys drawn on the
    /// way are deleted, as Redis's `dbRandomKey` does, so a live key is
    /// found whenever one exists however many expired keys the reaper has
    /// not reached yet: each draw either returns or removes a key. The plan
    /// must write-lock every shard of the database.
    pub fn random_live_key(&mut self, rng: &mut crate::rng::Rng) -> Option<Key> {
        let mut sizes: Vec<usize> = self
            .all_slots()
            .map(|s| self.locks.shard(s).len())
            .collect();
        let mut total: usize = sizes.iter().sum();
        while total > 0 {
            let mut pick = rng.below(total as u64) as usize;
            let i = sizes.iter().position(|&size| {
                if pick < size {
                    return true;
                }
                pick -= size;
                false
            })?;
            let slot = self.db * SHARDS + i;
            let (key, expired) = {
                let shard = self.locks.shard(slot);
                let (key, entry) = shard.iter().nth(pick)?;
                (
                    key.clone(),
                    shard.entry_expired(key.as_bytes(), entry, self.now),
                )
            };
            if !expired {
                return Some(key);
            }
            let shard = self.locks.write_shard(slot);
            shard.remove(key.as_bytes());
            shard.signal_modified(key.as_bytes());
            self.stats().expired_keys.incr();
            sizes[i] -= 1;
            total -= 1;
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
