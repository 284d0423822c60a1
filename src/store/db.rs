//! One database seen through a command's locks ([`Db`]): every keyspace
//! operation a command performs — lookups with lazy expiry and LRU touches,
//! writes that mark watchers, deletes, SCAN steps, blocked clients — goes
//! through it (Redis's `db.c` contract).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::LockSet;
use super::key::Key;
use super::keyspace::{KeyEvent, KeyspaceStats, SHARDS};
use super::scan::ScanCursor;
use super::shard::{Detached, Entry, WatchFlag};
use super::value::Value;
use super::waiting::Waiter;

/// One database seen through a command's locks. Every keyspace operation a
/// command performs goes through here.
pub struct Db<'a, 'k> {
    pub(super) locks: &'a mut LockSet<'k>,
    pub(super) db: usize,
    pub(super) now: i64,
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
        // Held (CLIENT PAUSE): reported missing, deleted later.
        if self.locks.ks.reaper.is_held(now) {
            return true;
        }
        // Under a read lock the key stays until a writer or the reaper removes
        // it; it is still reported missing (as Redis does on replicas).
        if let Some(shard) = self.locks.shard_mut(slot) {
            let gone = shard.remove(key);
            shard.signal_modified(key);
            self.locks.ks.modified(key);
            self.stats().expired_keys.incr();
            self.locks.ks.expired(self.db, key);
            self.signal_stream_gone(slot, key, gone.as_ref().map(|e| &e.value));
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
        let lfu = self.locks.ks.access.lfu();
        self.locks.write_shard(slot).touch(key, self.now, lfu)
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

    /// Adds `key`, which must not exist (Redis's `dbAdd`): unlike
    /// [`Db::set`] it does not tell the clients watching the key, which a
    /// command that then changes the value does itself. (A BITFIELD whose
    /// writes all fail creates its key and leaves a WATCH on it intact.)
    pub fn add(&mut self, key: &[u8], value: Value) {
        self.store_signalling(key, value, None, false);
    }

    fn store(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.store_signalling(key, value, expire_at, true);
    }

    fn store_signalling(&mut self, key: &[u8], value: Value, expire_at: Option<i64>, signal: bool) {
        let slot = self.slot(key);
        let wakes = value.can_unblock();
        let now = self.now;
        let ks = self.locks.ks;
        let shard = self.locks.write_shard(slot);
        let old = shard.insert(Key::new(key), value, expire_at, now, ks.access.lfu());
        if signal {
            shard.signal_modified(key);
            ks.modified(key);
        }
        let replaced_stream = old.as_ref().is_some_and(|o| matches!(o.value, Value::Stream(_)));
        if old.as_ref().is_none_or(|o| o.is_expired(now)) {
            ks.key_event(KeyEvent::Created, self.db, key);
        }
        // A key created where clients wait (a push, RENAME, MOVE, COPY...)
        // may serve them, as Redis's `dbAdd` signals.
        let blocked = shard.is_blocked_on(key);
        if blocked && (replaced_stream || (wakes && old.is_none_or(|o| o.is_expired(now)))) {
            self.locks.signal_ready(self.db, key);
        }
        if let Some(at) = expire_at {
            self.locks.note_deadline(slot, at);
        }
    }

    /// Inserts a whole entry (value and deadline) under `key`, e.g. the entry
    /// RENAME or MOVE took from elsewhere. Replaces what was there.
    pub fn insert_entry(&mut self, key: &[u8], entry: Detached) {
        self.store_signalling(key, entry.value, entry.expire_at, true);
    }

    /// The key's access frequency under an LFU policy, without counting an
    /// access; `None` under the other policies or for a missing key.
    pub fn lfu_counter(&self, key: &[u8]) -> Option<u8> {
        let lfu = self.locks.ks.access.lfu()?;
        self.peek(key).map(|entry| entry.lfu_counter(lfu, self.now))
    }

    /// Sets a key's access frequency (RENAME and MOVE carry it with the
    /// value, as Redis moves the object with its LFU bits).
    pub fn set_lfu_counter(&mut self, key: &[u8], counter: u8) {
        let (slot, now) = (self.slot(key), self.now);
        if let Some(entry) = self.locks.write_shard(slot).peek_mut(key) {
            entry.set_lfu_counter(counter, now);
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
        self.locks.ks.modified(key);
        self.signal_stream_gone(slot, key, Some(&entry.value));
        Some(entry)
    }

    /// A stream that clients wait on went away (deleted, expired,
    /// overwritten): its XREADGROUP readers must be told, as Redis's
    /// `dbGenericDelete` signals the key ready for them.
    fn signal_stream_gone(&mut self, slot: usize, key: &[u8], gone: Option<&Value>) {
        if matches!(gone, Some(Value::Stream(_))) && self.locks.shard(slot).is_blocked_on(key) {
            self.locks.signal_ready(self.db, key);
        }
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
        self.locks.ks.modified(key);
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
        self.locks.ks.modified(key);
        true
    }

    /// Tells the clients watching `key` that it changed. Commands that modify
    /// a value in place (through [`Db::lookup_write`]) call this; `set`,
    /// `delete` and the TTL methods do it themselves.
    pub fn signal_modified(&mut self, key: &[u8]) {
        let slot = self.slot(key);
        self.locks.write_shard(slot).signal_modified(key);
        self.locks.ks.modified(key);
    }

    /// Records `key` as ready for the clients blocked on it, if any: for a
    /// value that gained data without being created (XADD to an existing
    /// stream, as Redis's `signalKeyAsReady`).
    pub fn signal_ready(&mut self, key: &[u8]) {
        let slot = self.slot(key);
        if self.locks.shard(slot).is_blocked_on(key) {
            self.locks.signal_ready(self.db, key);
        }
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

    /// Calls `f` for every key held, expired ones not yet removed included,
    /// with its deadline if it has one: DEBUG DIGEST sees the dictionary as
    /// it is, as Redis's does.
    pub fn for_each_stored(&self, mut f: impl FnMut(&Key, &Entry)) {
        for slot in self.all_slots() {
            for (key, entry) in self.locks.shard(slot).iter() {
                f(key, entry);
            }
        }
    }

    /// The entry as stored, even past its deadline (DEBUG DIGEST-VALUE).
    pub fn peek_stored(&self, key: &[u8]) -> Option<&Entry> {
        self.locks.shard(self.slot(key)).peek(key)
    }

    /// Deletes every key (FLUSHDB). Returns how many there were.
    pub fn flush(&mut self) -> usize {
        let mut removed = 0;
        for slot in self.all_slots() {
            let shard = self.locks.write_shard(slot);
            shard.signal_all_watched(None, self.now);
            let streams = shard.blocked_stream_keys();
            removed += shard.clear();
            for key in streams {
                self.locks.signal_ready(self.db, key.as_bytes());
            }
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
            // Streams swapped away end their XREADGROUP readers.
            let (streams_a, streams_b) = (x.blocked_stream_keys(), y.blocked_stream_keys());
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
            for key in streams_a {
                self.locks.signal_ready(self.db, key.as_bytes());
            }
            for key in streams_b {
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
            self.locks.ks.modified(key.as_bytes());
            self.stats().expired_keys.incr();
            sizes[i] -= 1;
            total -= 1;
        }
        None
    }
}
