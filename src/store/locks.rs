//! Locking the keyspace: which shards a command needs ([`LockPlan`]) and
//! holding them while it runs ([`LockSet`]). Shards are always taken in
//! ascending order, so two commands never deadlock and a multi-key command,
//! or a whole transaction, is atomic.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use parking_lot::{RwLockReadGuard, RwLockWriteGuard};

use super::Db;
use super::key::Key;
use super::keyspace::{Keyspace, SHARDS};
use super::shard::Shard;

impl Keyspace {
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

    pub(super) fn add_slot(&mut self, slot: usize, mode: Mode) {
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

pub(super) enum Guard<'k> {
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
    pub(super) ks: &'k Keyspace,
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
    pub(super) fn signal_ready(&mut self, db: usize, key: &[u8]) {
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

    pub(super) fn guard_mut(&mut self, slot: usize) -> &mut Guard<'k> {
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

    pub(super) fn shard(&self, slot: usize) -> &Shard {
        match self.guard(slot) {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        }
    }

    /// The shard, writable if it was write-locked.
    pub(super) fn shard_mut(&mut self, slot: usize) -> Option<&mut Shard> {
        match self.guard_mut(slot) {
            Guard::Read(_) => None,
            Guard::Write(g) => Some(g),
        }
    }

    /// Two different write-locked shards at once (SWAPDB).
    pub(super) fn shard_pair_mut(&mut self, a: usize, b: usize) -> (&mut Shard, &mut Shard) {
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

    pub(super) fn write_shard(&mut self, slot: usize) -> &mut Shard {
        self.shard_mut(slot)
            .unwrap_or_else(|| panic!("shard {slot} written under a read lock"))
    }

    /// Records a deadline set on `slot`, keeping the shard's lock-free
    /// "next expiry" hint exact.
    pub(super) fn note_deadline(&mut self, slot: usize, at: i64) {
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
