//! Client-side caching (Redis's `tracking.c`): which clients cached which
//! keys, and the invalidation messages they get when those keys change.
//!
//! Two modes, as in Redis:
//!
//! - **Default**: every key a tracking client reads (the keys of a
//!   read-only command) is remembered in one table, key → client ids,
//!   shared by all databases (Redis tracks key names, not databases). A
//!   change to the key sends each of those clients one `invalidate`
//!   message and forgets the key until someone reads it again. The table
//!   is bounded by `tracking-table-max-keys`: over it, random keys are
//!   invalidated early.
//! - **BCAST**: a client names prefixes; every changed key under one is
//!   noted with the client that changed it, and the notes are sent in one
//!   message per prefix when the writing connection has finished its batch
//!   of commands (Redis sends them before the event loop sleeps).
//!
//! A message goes to the client itself when it speaks RESP3 (a push), or
//! to the client it redirects to: a push if that one speaks RESP3, a
//! `message` on `__redis__:invalidate` if it is a RESP2 subscriber. Every
//! client that can receive messages has a [`Sink`] here (its pub/sub
//! queue and what a sender must know about it), so a sender on any thread
//! reaches it without blocking.
//!
//! Ordering: an invalidation for the client whose command caused it (its
//! own write, or a key its read found expired) is held until that
//! command's reply is written ([`Tracking::after_command`]), as Redis
//! holds it in `tracking_pending_keys`. The keyspace reports changes
//! through a hook, on the thread that made them; a thread-local says which
//! client that thread is serving.
//!
//! Lock order: a shard lock (the hook is called under it), then this
//! module's mutex, then the sessions registry's. Nothing here locks shards.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::channels::{PubSub, Subscriber};
use crate::resp::ReplyWriter;
use crate::rng::Rng;

use super::session::{SessionHandle, Sessions, flag};

thread_local! {
    /// The client whose command this thread is running (0: none, as on
    /// the reaper's thread).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// The client BCAST notes as a key's writer, for NOLOOP: the current
    /// client, except inside a script, whose writes Redis attributes to
    /// the script's own client.
    static WRITER: Cell<u64> = const { Cell::new(0) };
    /// Invalidations for [`CURRENT`] held back until its reply is written:
    /// a key, or `None` for a flush.
    static HELD: RefCell<Vec<Option<Vec<u8>>>> = const { RefCell::new(Vec::new()) };
}

/// Marks this thread as running commands for `client_id` (0: none) and
/// returns the previous value, to restore.
pub fn set_current(client_id: u64) -> u64 {
    WRITER.with(|w| w.set(client_id));
    CURRENT.with(|c| c.replace(client_id))
}

/// A script starts (`true`) or ends: its writes are nobody's for BCAST's
/// NOLOOP, as Redis makes them through the script's client.
pub fn set_in_script(in_script: bool) {
    let writer = if in_script { 0 } else { CURRENT.with(Cell::get) };
    WRITER.with(|w| w.set(writer));
}

/// A client's CLIENT TRACKING options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// The client that receives the messages (0: the client itself).
    pub redirect: u64,
    /// BCAST prefixes, in byte order (as Redis's radix tree lists them).
    pub prefixes: BTreeSet<Vec<u8>>,
}

/// A connection's own side of tracking, kept by its worker: what its
/// commands consult without taking the tables' lock.
#[derive(Debug, Default)]
pub struct ClientTracking {
    /// CLIENT TRACKING is on; the flags below are its options.
    pub on: bool,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    /// The client its messages go to (0: itself).
    pub redirect: u64,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) applies to the next
    /// command (or the next transaction).
    pub caching: bool,
    /// Where messages reach this connection, once it has a queue.
    pub sink: Option<Arc<Sink>>,
    /// The keys the running script declared: a read the script makes
    /// remembers them, not the keys of the command it called (Redis
    /// remembers the caller's keys).
    pub script_keys: Vec<Vec<u8>>,
}

impl ClientTracking {
    /// True if the keys this client's read command touches are to be
    /// remembered (Redis's checks in `call` and `trackingRememberKeys`).
    pub fn remembers_reads(&self) -> bool {
        self.on && !self.bcast && !((self.optin && !self.caching) || (self.optout && self.caching))
    }

    /// Back to off, keeping the sink.
    pub fn reset(&mut self) {
        let sink = self.sink.take();
        *self = ClientTracking {
            sink,
            ..Default::default()
        };
    }
}

/// A client that can receive messages, as senders on other threads see
/// it. Its owner keeps `resp3` and `subscribed` current after each
/// command.
pub struct Sink {
    pub id: u64,
    subscriber: Arc<Subscriber>,
    resp3: AtomicBool,
    subscribed: AtomicBool,
    /// Its redirection target was gone when a message was sent (CLIENT
    /// LIST's `R`, TRACKINGINFO's `broken_redirect`).
    broken_redirect: AtomicBool,
    /// What other clients' CLIENT LIST reads: the `R` flag shows there at
    /// once, not after the connection's next command.
    handle: Option<Arc<SessionHandle>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Sink {
    /// Records the connection's protocol and whether it is subscribed.
    pub fn update(&self, resp3: bool, subscribed: bool) {
        self.resp3.store(resp3, Ordering::Relaxed);
        self.subscribed.store(subscribed, Ordering::Relaxed);
    }

    /// The connection speaks RESP3 (as of its last command).
    pub fn resp3(&self) -> bool {
        self.resp3.load(Ordering::Relaxed)
    }

    pub fn broken_redirect(&self) -> bool {
        self.broken_redirect.load(Ordering::Relaxed)
    }
}

/// A tracking client.
struct Member {
    options: Options,
    sink: Arc<Sink>,
}

/// One BCAST prefix: the keys under it changed since the last broadcast
/// (with the client that changed each last, 0 for none, for NOLOOP), and
/// the clients that asked for it.
#[derive(Default)]
struct Prefix {
    keys: BTreeMap<Vec<u8>, u64>,
    clients: BTreeSet<u64>,
}

/// The default mode's table: key → ids of the clients that read it. Keys
/// are also kept in a vector so a random one is found in O(1) when the
/// table is over its limit.
#[derive(Default)]
pub struct KeyTable {
    index: HashMap<Vec<u8>, usize>,
    entries: Vec<(Vec<u8>, BTreeSet<u64>)>,
    /// Client ids over all keys (INFO's `tracking_total_items`).
    items: usize,
}

impl KeyTable {
    /// Remembers that `id` read `key`.
    pub fn remember(&mut self, key: &[u8], id: u64) {
        let at = match self.index.get(key) {
            Some(&at) => at,
            None => {
                self.index.insert(key.to_vec(), self.entries.len());
                self.entries.push((key.to_vec(), BTreeSet::new()));
                self.entries.len() - 1
            }
        };
        if self.entries[at].1.insert(id) {
            self.items += 1;
        }
    }

    /// Forgets `key`, returning the ids that read it.
    pub fn take(&mut self, key: &[u8]) -> Option<BTreeSet<u64>> {
        let at = self.index.remove(key)?;
        let (_, ids) = self.entries.swap_remove(at);
        if let Some((moved, _)) = self.entries.get(at) {
            self.index.insert(moved.clone(), at);
        }
        self.items -= ids.len();
        Some(ids)
    }

    /// A key chosen at random.
    pub fn random_key(&self, rng: &mut Rng) -> Option<Vec<u8>> {
        if self.entries.is_empty() {
            return None;
        }
        let at = rng.below(self.entries.len() as u64) as usize;
        Some(self.entries[at].0.clone())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn items(&self) -> usize {
        self.items
    }

    pub fn clear(&mut self) {
        *self = KeyTable::default();
    }
}

#[derive(Default)]
struct Tables {
    keys: KeyTable,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    members: HashMap<u64, Member>,
    sinks: HashMap<u64, Arc<Sink>>,
    /// Calls of [`Tracking::limit_keys`] in a row that could not get under
    /// the limit: each tries harder (Redis's `timeout_counter`).
    rounds_over_limit: u32,
    rng: Rng,
}

/// The connection whose command is running, when the caller has its reply
/// writer at hand: a message for it is written there, after the reply.
pub struct Own<'a> {
    pub client_id: u64,
    pub out: &'a mut ReplyWriter,
}

/// The server's tracking state.
pub struct Tracking {
    tables: Mutex<Tables>,
    /// True while the key table or the prefix table holds anything: a
    /// write checks this before taking the mutex, so keyspace changes cost
    /// one load while nobody tracks.
    armed: AtomicBool,
    /// Changed keys are waiting to be broadcast.
    bcast_pending: AtomicBool,
    /// Clients with tracking on (INFO's `tracking_clients`).
    clients: AtomicUsize,
    /// Pub/sub, whose `client-output-buffer-limit pubsub` applies to
    /// these messages too.
    pubsub: Arc<PubSub>,
}

/// What INFO shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub clients: usize,
    pub keys: usize,
    pub items: usize,
    pub prefixes: usize,
}

/// Why CLIENT TRACKING ON was refused because of prefixes; both carry
/// (new prefix, the one it overlaps).
#[derive(Debug, PartialEq, Eq)]
pub enum Overlap {
    /// With one the client already has.
    Existing(Vec<u8>, Vec<u8>),
    /// With a later one in the same command: Redis reports it, and unless
    /// it was the first prefix, still enables tracking (and replies OK).
    Given {
        first: bool,
        prefix: Vec<u8>,
        other: Vec<u8>,
    },
}

/// Redis's `stringCheckPrefix`: one is a prefix of the other.
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Redis's `checkPrefixCollisionsOrReply`, in its order.
pub fn check_prefixes(existing: &BTreeSet<Vec<u8>>, given: &[Vec<u8>]) -> Option<Overlap> {
    for (i, prefix) in given.iter().enumerate() {
        if let Some(old) = existing.iter().find(|old| overlaps(old, prefix)) {
            return Some(Overlap::Existing(prefix.clone(), old.clone()));
        }
        if let Some(other) = given[i + 1..].iter().find(|other| overlaps(prefix, other)) {
            return Some(Overlap::Given {
                first: i == 0,
                prefix: prefix.clone(),
                other: other.clone(),
            });
        }
    }
    None
}

/// `*N` and the keys as bulk strings: the value of an `invalidate`.
fn key_array<'a>(keys: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = ReplyWriter::new(crate::resp::Protocol::Resp2);
    out.array(keys.len());
    for key in keys {
        out.bulk(key);
    }
    out.take()
}

/// A flush's value: a null in the tracking client's protocol (Redis uses
/// the tracking client's, even when the message goes to another).
fn null_for(resp3: bool) -> &'static [u8] {
    if resp3 { b"_\r\n" } else { b"$-1\r\n" }
}

/// The frames, each with a placeholder first byte that becomes `>` or
/// `*` for the receiving connection (see [`crate::channels::Frame`]).
fn invalidate_frame(value: &[u8]) -> Vec<u8> {
    [&b"*2\r\n$10\r\ninvalidate\r\n"[..], value].concat()
}

fn message_frame(value: &[u8]) -> Vec<u8> {
    [
        &b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"[..],
        value,
    ]
    .concat()
}

fn broken_frame(redirect: u64) -> Vec<u8> {
    format!("*2\r\n$21\r\ntracking-redir-broken\r\n:{redirect}\r\n").into_bytes()
}

impl Tracking {
    pub fn new(pubsub: Arc<PubSub>) -> Self {
        Tracking {
            tables: Mutex::default(),
            armed: AtomicBool::new(false),
            bcast_pending: AtomicBool::new(false),
            clients: AtomicUsize::new(0),
            pubsub,
        }
    }

    fn rearm(&self, t: &Tables) {
        let armed = !t.keys.is_empty() || !t.prefixes.is_empty();
        self.armed.store(armed, Ordering::Release);
    }

    /// True while a changed key may concern someone (see `armed`).
    pub fn armed(&self) -> bool {
        self.armed.load(Ordering::Acquire)
    }

    /// Clients with tracking on: while there are none, nothing needs
    /// remembering and the table limit cannot be exceeded by new reads.
    pub fn active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) > 0
    }

    /// INFO's counts.
    pub fn counts(&self) -> Counts {
        let t = self.tables.lock();
        Counts {
            clients: self.clients.load(Ordering::Relaxed),
            keys: t.keys.len(),
            items: t.keys.items(),
            prefixes: t.prefixes.len(),
        }
    }

    /// Registers a connection that can now receive messages (it has a
    /// pub/sub queue), so that others can redirect to it.
    pub fn add_sink(
        &self,
        id: u64,
        subscriber: Arc<Subscriber>,
        resp3: bool,
        handle: Option<Arc<SessionHandle>>,
    ) -> Arc<Sink> {
        let sink = Arc::new(Sink {
            id,
            subscriber,
            resp3: AtomicBool::new(resp3),
            subscribed: AtomicBool::new(false),
            broken_redirect: AtomicBool::new(false),
            handle,
        });
        self.tables.lock().sinks.insert(id, sink.clone());
        sink
    }

    /// A closing connection: tracking off, and no longer reachable.
    pub fn remove_client(&self, id: u64) {
        self.disable(id);
        self.tables.lock().sinks.remove(&id);
    }

    /// The client's options, if it tracks.
    pub fn options(&self, id: u64) -> Option<Options> {
        self.tables.lock().members.get(&id).map(|m| m.options.clone())
    }

    /// Redis's `enableTracking`: `options` replace the flags and the
    /// redirection; BCAST prefixes are added to those the client has (the
    /// empty prefix if none is given).
    pub fn enable(&self, sink: &Arc<Sink>, mut options: Options, prefixes: &[Vec<u8>]) {
        let mut t = self.tables.lock();
        let t = &mut *t;
        let id = sink.id;
        let old = t.members.remove(&id);
        if old.is_none() {
            self.clients.fetch_add(1, Ordering::Relaxed);
        }
        sink.broken_redirect.store(false, Ordering::Relaxed);
        options.prefixes = old.map(|m| m.options.prefixes).unwrap_or_default();
        if options.bcast {
            let empty = [Vec::new()];
            let given = if prefixes.is_empty() { &empty[..] } else { prefixes };
            for prefix in given {
                let entry = t.prefixes.entry(prefix.clone()).or_default();
                if entry.clients.insert(id) {
                    options.prefixes.insert(prefix.clone());
                }
            }
        }
        t.members.insert(
            id,
            Member {
                options,
                sink: sink.clone(),
            },
        );
        self.rearm(t);
    }

    /// Redis's `disableTracking`. Keys the client read stay in the table
    /// until they change, as in Redis.
    pub fn disable(&self, id: u64) {
        let mut t = self.tables.lock();
        let t = &mut *t;
        let Some(member) = t.members.remove(&id) else {
            return;
        };
        self.clients.fetch_sub(1, Ordering::Relaxed);
        member.sink.broken_redirect.store(false, Ordering::Relaxed);
        for prefix in &member.options.prefixes {
            if let Some(entry) = t.prefixes.get_mut(prefix) {
                entry.clients.remove(&id);
                if entry.clients.is_empty() {
                    t.prefixes.remove(prefix);
                }
            }
        }
        self.rearm(t);
    }

    /// Redis's `trackingRememberKeys`: `id` read `keys`.
    pub fn remember<'a>(&self, id: u64, keys: impl Iterator<Item = &'a [u8]>) {
        let mut t = self.tables.lock();
        for key in keys {
            t.keys.remember(key, id);
        }
        self.rearm(&t);
    }

    /// The keyspace's hook (Redis's `trackingInvalidateKey` from
    /// `signalModifiedKey`): `key` changed, on this thread.
    pub fn key_modified(&self, sessions: &Sessions, key: &[u8]) {
        if !self.armed.load(Ordering::Acquire) {
            return;
        }
        let mut t = self.tables.lock();
        let current = CURRENT.with(Cell::get);
        if !t.prefixes.is_empty() {
            let writer = WRITER.with(Cell::get);
            let mut noted = false;
            for (prefix, entry) in t.prefixes.iter_mut() {
                if key.starts_with(prefix) {
                    entry.keys.insert(key.to_vec(), writer);
                    noted = true;
                }
            }
            if noted {
                self.bcast_pending.store(true, Ordering::Release);
            }
        }
        self.invalidate(&mut t, sessions, key, current, None);
        // No connection's batch will end on this thread (the reaper,
        // eviction outside a command): send now.
        if current == 0 && self.bcast_pending.load(Ordering::Acquire) {
            self.broadcast_locked(&mut t, sessions, None);
        }
        self.rearm(&t);
    }

    /// Sends the invalidation of `key` to the clients that read it and
    /// forgets it. `current` is the client running the command (0: none):
    /// its message is held for after its reply, unless `own` takes it now.
    fn invalidate(
        &self,
        t: &mut Tables,
        sessions: &Sessions,
        key: &[u8],
        current: u64,
        mut own: Option<&mut Own>,
    ) {
        let Some(ids) = t.keys.take(key) else {
            return;
        };
        let mut value = None;
        for id in ids {
            let Some(member) = t.members.get(&id) else {
                continue;
            };
            // A client that switched to BCAST gets no messages for keys it
            // read before.
            if member.options.bcast || (member.options.noloop && id == current) {
                continue;
            }
            if id == current && own.is_none() {
                HELD.with(|h| h.borrow_mut().push(Some(key.to_vec())));
            } else {
                let value = value.get_or_insert_with(|| key_array(std::iter::once(key)));
                self.send(t, sessions, id, value, own.as_deref_mut());
            }
        }
    }

    /// Redis's `sendTrackingMessage`: `value` (an array of keys, or a
    /// null) to tracking client `id`, or to the client it redirects to.
    fn send(&self, t: &Tables, sessions: &Sessions, id: u64, value: &[u8], own: Option<&mut Own>) {
        let Some(member) = t.members.get(&id) else {
            return;
        };
        let client = &member.sink;
        let redirect = member.options.redirect;
        let (to, frame) = if redirect != 0 {
            match t.sinks.get(&redirect) {
                Some(to) if to.resp3.load(Ordering::Relaxed) => (to, invalidate_frame(value)),
                Some(to) if to.subscribed.load(Ordering::Relaxed) => (to, message_frame(value)),
                // A RESP2 client that is not subscribed cannot take it.
                Some(_) => return,
                // Connected, but neither subscribed nor RESP3 ever: it
                // could not take the message.
                None if sessions.get(redirect).is_some() => return,
                None => {
                    client.broken_redirect.store(true, Ordering::Relaxed);
                    if let Some(handle) = &client.handle {
                        handle.info.lock().flags |= flag::BROKEN_REDIRECT;
                    }
                    if client.resp3.load(Ordering::Relaxed) {
                        self.deliver(client, &broken_frame(redirect), own);
                    }
                    return;
                }
            }
        } else if client.resp3.load(Ordering::Relaxed) {
            (client, invalidate_frame(value))
        } else {
            // RESP2 without a redirection: no way to tell it.
            return;
        };
        self.deliver(to, &frame, own);
    }

    fn deliver(&self, to: &Sink, frame: &[u8], own: Option<&mut Own>) {
        match own {
            Some(own) if own.client_id == to.id => own.out.push_frame(frame),
            _ => {
                let now_s = crate::clock::unix_ms() / 1000;
                to.subscriber
                    .deliver(&Arc::from(frame), &self.pubsub.limits, now_s);
            }
        }
    }

    /// Sends the invalidations held for the client whose command just
    /// ended, after its reply (Redis's `trackingHandlePendingKeyInvalidations`);
    /// also called once eviction has run, before the command.
    pub fn after_command(&self, sessions: &Sessions, own: &mut Own) {
        let held = HELD.with(|h| std::mem::take(&mut *h.borrow_mut()));
        if held.is_empty() {
            return;
        }
        let t = self.tables.lock();
        let resp3 = t
            .members
            .get(&own.client_id)
            .is_some_and(|m| m.sink.resp3.load(Ordering::Relaxed));
        for key in held {
            let value = match &key {
                Some(key) => key_array(std::iter::once(key.as_slice())),
                None => null_for(resp3).to_vec(),
            };
            self.send(&t, sessions, own.client_id, &value, Some(&mut *own));
        }
    }

    /// FLUSHALL / FLUSHDB (Redis's `trackingInvalidateKeysOnFlush`): every
    /// tracking client, BCAST ones too, is told with a null, and the key
    /// table is emptied.
    pub fn flushed(&self, sessions: &Sessions) {
        let mut t = self.tables.lock();
        let current = CURRENT.with(Cell::get);
        let ids: Vec<u64> = t.members.keys().copied().collect();
        for id in ids {
            if id == current {
                HELD.with(|h| h.borrow_mut().push(None));
            } else if let Some(member) = t.members.get(&id) {
                let value = null_for(member.sink.resp3.load(Ordering::Relaxed));
                self.send(&t, sessions, id, value, None);
            }
        }
        t.keys.clear();
        self.rearm(&t);
    }

    /// Sends what BCAST clients are owed, if anything: a connection calls
    /// it once its batch of commands is done, before writing the replies
    /// (its own messages then follow them).
    pub fn broadcast(&self, sessions: &Sessions, own: Option<&mut Own>) {
        if !self.bcast_pending.load(Ordering::Acquire) {
            return;
        }
        let mut t = self.tables.lock();
        self.broadcast_locked(&mut t, sessions, own);
    }

    /// Redis's `trackingBroadcastInvalidationMessages`: per prefix, one
    /// message with every key noted, to each of its clients; a NOLOOP
    /// client gets its own list without the keys it changed itself, or
    /// nothing if none is left.
    fn broadcast_locked(&self, t: &mut Tables, sessions: &Sessions, mut own: Option<&mut Own>) {
        self.bcast_pending.store(false, Ordering::Release);
        let prefixes = std::mem::take(&mut t.prefixes);
        for entry in prefixes.values() {
            if entry.keys.is_empty() {
                continue;
            }
            let common = key_array(entry.keys.keys().map(Vec::as_slice));
            for &id in &entry.clients {
                let Some(member) = t.members.get(&id) else {
                    continue;
                };
                if member.options.noloop {
                    let keys: Vec<&[u8]> = entry
                        .keys
                        .iter()
                        .filter(|&(_, &by)| by != id)
                        .map(|(k, _)| k.as_slice())
                        .collect();
                    if !keys.is_empty() {
                        let value = key_array(keys.into_iter());
                        self.send(t, sessions, id, &value, own.as_deref_mut());
                    }
                } else {
                    self.send(t, sessions, id, &common, own.as_deref_mut());
                }
            }
        }
        t.prefixes = prefixes;
        for entry in t.prefixes.values_mut() {
            entry.keys.clear();
        }
    }

    /// Redis's `trackingLimitUsedSlots`: while the table holds more than
    /// `max_keys` keys (0: no limit), invalidate random ones, trying
    /// harder each time a call ends still over the limit. Before a
    /// command, `own` is the client about to run it: its messages go out
    /// at once, before the reply.
    pub fn limit_keys(&self, sessions: &Sessions, max_keys: u64, mut own: Option<&mut Own>) {
        if max_keys == 0 || !self.armed.load(Ordering::Acquire) {
            return;
        }
        let mut t = self.tables.lock();
        let t = &mut *t;
        if t.keys.len() as u64 <= max_keys {
            t.rounds_over_limit = 0;
            return;
        }
        let current = CURRENT.with(Cell::get);
        let mut effort = 100 * (u64::from(t.rounds_over_limit) + 1);
        while effort > 0 {
            effort -= 1;
            let Some(key) = t.keys.random_key(&mut t.rng) else {
                break;
            };
            self.invalidate(t, sessions, &key, current, own.as_deref_mut());
            if t.keys.len() as u64 <= max_keys {
                t.rounds_over_limit = 0;
                self.rearm(t);
                return;
            }
        }
        t.rounds_over_limit += 1;
        self.rearm(t);
    }
}

/// Client-side caching after one of a client's commands (a connection's or
/// an in-process client's): CLIENT CACHING lasts for one command (or one
/// transaction), CLIENT commands aside, as in Redis's `resetClient`; the
/// invalidations held for the client follow its reply; and senders learn
/// its protocol.
pub fn after_client_command(
    state: &super::State,
    session: &mut super::session::Session,
    out: &mut crate::resp::ReplyWriter,
    command: Option<&str>,
) {
    let tracking = &mut session.tracking;
    let client_command = command.is_some_and(|name| name == "client" || name.starts_with("client|"));
    if tracking.caching && session.multi.is_none() && !client_command {
        tracking.caching = false;
    }
    if let Some(sink) = &tracking.sink {
        sink.update(out.is_resp3(), session.pubsub.total() > 0);
        let mut own = Own {
            client_id: session.id,
            out,
        };
        state.tracking.after_command(&state.sessions, &mut own);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_table_counts_keys_and_items() {
        let mut table = KeyTable::default();
        table.remember(b"a", 1);
        table.remember(b"a", 1);
        table.remember(b"a", 2);
        table.remember(b"b", 1);
        assert_eq!((table.len(), table.items()), (2, 3));
        assert_eq!(table.take(b"a"), Some(BTreeSet::from([1, 2])));
        assert_eq!((table.len(), table.items()), (1, 1));
        assert_eq!(table.take(b"a"), None);
        // The moved entry is still found after a swap-remove.
        table.remember(b"c", 3);
        table.remember(b"d", 4);
        assert_eq!(table.take(b"b"), Some(BTreeSet::from([1])));
        assert_eq!(table.take(b"d"), Some(BTreeSet::from([4])));
        assert_eq!(table.take(b"c"), Some(BTreeSet::from([3])));
        assert!(table.is_empty());
        assert_eq!(table.items(), 0);
    }

    #[test]
    fn random_keys_come_from_the_table() {
        let mut table = KeyTable::default();
        let mut rng = Rng::with_seed(1);
        assert_eq!(table.random_key(&mut rng), None);
        for i in 0..10u8 {
            table.remember(&[i], 1);
        }
        for _ in 0..100 {
            let key = table.random_key(&mut rng).unwrap();
            assert!(key[0] < 10);
        }
    }

    #[test]
    fn prefix_overlaps_are_found_in_redis_order() {
        let v = |s: &str| s.as_bytes().to_vec();
        let existing = BTreeSet::from([v("x")]);
        assert_eq!(
            check_prefixes(&existing, &[v("a"), v("xy")]),
            Some(Overlap::Existing(v("xy"), v("x")))
        );
        assert_eq!(
            check_prefixes(&BTreeSet::new(), &[v("ab"), v("a")]),
            Some(Overlap::Given {
                first: true,
                prefix: v("ab"),
                other: v("a")
            })
        );
        assert_eq!(
            check_prefixes(&BTreeSet::new(), &[v("a"), v("b"), v("bc")]),
            Some(Overlap::Given {
                first: false,
                prefix: v("b"),
                other: v("bc")
            })
        );
        assert_eq!(check_prefixes(&existing, &[v("a"), v("b")]), None);
        // The empty prefix overlaps everything.
        assert!(check_prefixes(&BTreeSet::from([v("")]), &[v("a")]).is_some());
    }

    /// A connection as the tables see it: no socket, its queue drained by
    /// hand.
    struct NoPeer;

    impl crate::channels::Peer for NoPeer {
        fn wake(&self) {}
        fn disconnect(&self) {}
        fn is_closed(&self) -> bool {
            false
        }
    }

    fn connection(tracking: &Tracking, id: u64) -> (crate::channels::Inbox, Arc<Sink>) {
        let inbox = crate::channels::Inbox::new(id, Arc::new(NoPeer));
        let sink = tracking.add_sink(id, inbox.subscriber().clone(), true, None);
        (inbox, sink)
    }

    fn received(inbox: &crate::channels::Inbox) -> Vec<u8> {
        let mut out = ReplyWriter::new(crate::resp::Protocol::Resp3);
        inbox.drain_into(&mut out, usize::MAX);
        out.take()
    }

    #[test]
    fn a_changed_key_is_sent_once_to_each_reader_and_forgotten() {
        let tracking = Tracking::new(Arc::new(PubSub::default()));
        let sessions = Sessions::default();
        let (inbox_a, a) = connection(&tracking, 1);
        let (inbox_b, b) = connection(&tracking, 2);
        tracking.enable(&a, Options::default(), &[]);
        tracking.enable(&b, Options::default(), &[]);
        tracking.remember(1, [&b"k"[..], b"x"].into_iter());
        tracking.remember(2, [&b"k"[..]].into_iter());
        assert_eq!(tracking.counts().items, 3);
        tracking.key_modified(&sessions, b"k");
        let push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
        assert_eq!(received(&inbox_a), push);
        assert_eq!(received(&inbox_b), push);
        tracking.key_modified(&sessions, b"k");
        assert_eq!(received(&inbox_a), b"", "forgotten until read again");
        assert_eq!(tracking.counts().keys, 1);
        // The client's own command: held until after its reply.
        let previous = set_current(1);
        tracking.key_modified(&sessions, b"x");
        set_current(previous);
        assert_eq!(received(&inbox_a), b"");
        let mut out = ReplyWriter::new(crate::resp::Protocol::Resp3);
        out.ok();
        let mut own = Own {
            client_id: 1,
            out: &mut out,
        };
        tracking.after_command(&sessions, &mut own);
        assert_eq!(
            out.take(),
            b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nx\r\n"
        );
        assert!(!tracking.armed(), "nothing is remembered any more");
        tracking.remove_client(1);
        tracking.remove_client(2);
        assert_eq!(tracking.counts().clients, 0);
    }

    #[test]
    fn bcast_sends_one_message_per_prefix_and_noloop_leaves_out_own_writes() {
        let tracking = Tracking::new(Arc::new(PubSub::default()));
        let sessions = Sessions::default();
        let (inbox_a, a) = connection(&tracking, 1);
        let (inbox_b, b) = connection(&tracking, 2);
        let bcast = Options {
            bcast: true,
            ..Options::default()
        };
        let noloop = Options {
            noloop: true,
            ..bcast.clone()
        };
        tracking.enable(&a, bcast, &[b"p".to_vec()]);
        tracking.enable(&b, noloop, &[b"p".to_vec(), b"q".to_vec()]);
        assert_eq!(tracking.counts().prefixes, 2);
        let previous = set_current(2);
        tracking.key_modified(&sessions, b"p1");
        tracking.key_modified(&sessions, b"other");
        set_current(previous);
        tracking.key_modified(&sessions, b"p2");
        // Off any connection, a change is broadcast at once; p1 was noted
        // before and goes with it.
        assert_eq!(
            received(&inbox_a),
            b">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\np1\r\n$2\r\np2\r\n"
        );
        assert_eq!(
            received(&inbox_b),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\np2\r\n"
        );
        tracking.disable(2);
        assert_eq!(tracking.counts().prefixes, 1, "q had only client 2");
    }

    #[test]
    fn messages_are_framed_as_redis_sends_them() {
        let value = key_array([&b"foo"[..]].into_iter());
        assert_eq!(value, b"*1\r\n$3\r\nfoo\r\n");
        assert_eq!(
            invalidate_frame(&value),
            b"*2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nfoo\r\n"
        );
        assert_eq!(
            message_frame(null_for(false)),
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
        );
        assert_eq!(
            broken_frame(42),
            b"*2\r\n$21\r\ntracking-redir-broken\r\n:42\r\n"
        );
    }
}
