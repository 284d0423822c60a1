//! Publish/subscribe: the registry of who listens to what, delivery of
//! published messages, and keyspace notifications (Redis's `pubsub.c` and
//! `notify.c`).
//!
//! The registry maps each channel, pattern and shard channel to its
//! subscribers, in subscription order; an entry disappears with its last
//! subscriber. It sits behind one `RwLock`: publishers share it, and
//! (un)subscribing takes it exclusively. Each subscriber is a
//! [`Subscriber`]: a queue of encoded frames that a publisher appends to
//! without ever blocking (see [`subscriber`]). A publish encodes each frame
//! once and hands the same bytes to every receiver.
//!
//! What a connection subscribed to is its own [`Subscriptions`], owned by
//! its worker, so the registry never has to be searched by client.
//!
//! Ordering: a subscriber's messages from one publisher arrive in the order
//! they were published (one queue per subscriber). A connection's replies
//! and its messages reach its socket in the order they were produced: the
//! connection takes its queued messages before running each command, and
//! (un)subscribing takes them while holding the registry exclusively, so a
//! message published before an UNSUBSCRIBE is sent before its reply and no
//! message follows it. A connection that publishes to itself (RESP3, or
//! keyspace events its own command causes) gets the message in its reply
//! stream at once, before the command's reply, as in Redis.

pub mod monitor;
pub mod notify;
pub mod subscriber;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::RwLock;

use crate::glob::Pattern;
use crate::resp::ReplyWriter;

pub use subscriber::{Frame, Inbox, Limits, Peer, Subscriber};

/// Global channels (SUBSCRIBE, PUBLISH) or shard channels (SSUBSCRIBE,
/// SPUBLISH). Shard channels ignore patterns and are counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Shard,
}

impl Kind {
    fn subscribe_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }

    fn message_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"message",
            Kind::Shard => b"smessage",
        }
    }
}

/// A pattern's compiled form and subscribers.
struct PatternEntry {
    pattern: Pattern,
    subscribers: Vec<Arc<Subscriber>>,
}

#[derive(Default)]
struct Registry {
    channels: HashMap<Vec<u8>, Vec<Arc<Subscriber>>>,
    patterns: HashMap<Vec<u8>, PatternEntry>,
    shard_channels: HashMap<Vec<u8>, Vec<Arc<Subscriber>>>,
}

impl Registry {
    fn channels(&self, kind: Kind) -> &HashMap<Vec<u8>, Vec<Arc<Subscriber>>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Shard => &self.shard_channels,
        }
    }

    fn channels_mut(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<Arc<Subscriber>>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard_channels,
        }
    }
}

/// Removes the subscriber `id` from a list; true if the list is now empty.
fn remove_subscriber(list: &mut Vec<Arc<Subscriber>>, id: u64) -> bool {
    if let Some(at) = list.iter().position(|s| s.client_id == id) {
        list.remove(at);
    }
    list.is_empty()
}

/// True if any subscriber in `list` is still connected: a client being
/// closed already counts as gone, as Redis frees it before anyone else
/// can ask.
fn any_live(list: &[Arc<Subscriber>]) -> bool {
    list.iter().any(|s| !s.is_closed())
}

fn live_count(list: &[Arc<Subscriber>]) -> usize {
    list.iter().filter(|s| !s.is_closed()).count()
}

/// The server's pub/sub state.
#[derive(Default)]
pub struct PubSub {
    registry: RwLock<Registry>,
    /// `client-output-buffer-limit pubsub`.
    pub limits: Limits,
    /// `notify-keyspace-events` as class bits ([`notify`]); read on every
    /// keyspace change, so an atomic rather than the configuration lock.
    notify_flags: AtomicU32,
}

/// The connection that is publishing, when it runs a command: a message
/// for itself goes straight into its replies instead of its queue.
pub struct Own<'a> {
    pub client_id: u64,
    pub out: &'a mut ReplyWriter,
}

/// What one connection is subscribed to. Redis keeps patterns in a list
/// (PUNSUBSCRIBE without arguments goes in subscription order) and
/// channels in a hash table.
#[derive(Debug, Default)]
pub struct Subscriptions {
    channels: HashSet<Vec<u8>>,
    patterns: Vec<Vec<u8>>,
    shard_channels: HashSet<Vec<u8>>,
    inbox: Option<Inbox>,
}

impl Subscriptions {
    /// Channels plus patterns (Redis's `clientSubscriptionsCount`: what
    /// (P)SUBSCRIBE replies report).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    pub fn shard_count(&self) -> usize {
        self.shard_channels.len()
    }

    /// Everything: while it is not zero the connection is in pub/sub mode.
    pub fn total(&self) -> usize {
        self.count() + self.shard_count()
    }

    fn kind_count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Channel => self.count(),
            Kind::Shard => self.shard_count(),
        }
    }

    fn set_mut(&mut self, kind: Kind) -> &mut HashSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// The connection's client id, once it has an inbox (0 before: then
    /// it is in no registry list either).
    fn client_id(&self) -> u64 {
        self.inbox
            .as_ref()
            .map_or(0, |inbox| inbox.subscriber().client_id)
    }

    pub fn inbox(&self) -> Option<&Inbox> {
        self.inbox.as_ref()
    }

    /// Installs the connection's inbox (the first time it subscribes).
    pub fn set_inbox(&mut self, inbox: Inbox) {
        self.inbox = Some(inbox);
    }

    /// Moves queued messages into `out` (see [`Inbox::drain_into`]).
    fn drain_all(&self, out: &mut ReplyWriter) {
        if let Some(inbox) = &self.inbox {
            inbox.drain_into(out, usize::MAX);
        }
    }
}

/// Writes a (un)subscribe confirmation: `[kind, name or nil, count]`. It
/// is a push, as in Redis: CLIENT REPLY OFF or SKIP does not hold it back,
/// so a client that silenced its replies still sees its subscriptions.
fn confirm(out: &mut ReplyWriter, kind: &[u8], name: Option<&[u8]>, count: usize) {
    out.pushing(|out| {
        out.push(3);
        out.bulk(kind);
        match name {
            Some(name) => out.bulk(name),
            None => out.null(),
        }
        out.int(count as i64);
    });
}

/// Removes `subs` from `channels` (all of its channels of `kind` if
/// `None`), confirming each into `out` if given.
fn leave_channels(
    registry: &mut Registry,
    subs: &mut Subscriptions,
    kind: Kind,
    channels: Option<&[Vec<u8>]>,
    out: Option<&mut ReplyWriter>,
) {
    let id = subs.client_id();
    let all: Vec<Vec<u8>> = match channels {
        Some(_) => Vec::new(),
        None => subs.set_mut(kind).iter().cloned().collect(),
    };
    let leaving = Leaving {
        names: channels.unwrap_or(&all),
        reply: kind.unsubscribe_name(),
        count: |subs: &Subscriptions| subs.kind_count(kind),
    };
    leaving.leave(subs, out, |subs, name| {
        if subs.set_mut(kind).remove(name) {
            let map = registry.channels_mut(kind);
            if let Some(list) = map.get_mut(name)
                && remove_subscriber(list, id)
            {
                map.remove(name);
            }
        }
    });
}

/// Removes `subs` from `patterns` (all of its patterns, in subscription
/// order, if `None`), confirming each into `out` if given.
fn leave_patterns(
    registry: &mut Registry,
    subs: &mut Subscriptions,
    patterns: Option<&[Vec<u8>]>,
    out: Option<&mut ReplyWriter>,
) {
    let id = subs.client_id();
    let all = match patterns {
        Some(_) => Vec::new(),
        None => subs.patterns.clone(),
    };
    let leaving = Leaving {
        names: patterns.unwrap_or(&all),
        reply: b"punsubscribe",
        count: Subscriptions::count,
    };
    leaving.leave(subs, out, |subs, name| {
        if let Some(at) = subs.patterns.iter().position(|p| p == name) {
            subs.patterns.remove(at);
            if let Some(entry) = registry.patterns.get_mut(name)
                && remove_subscriber(&mut entry.subscribers, id)
            {
                registry.patterns.remove(name);
            }
        }
    });
}

/// An unsubscription in progress: the names to leave, the reply that
/// confirms each, and the count each confirmation carries.
struct Leaving<'a, C> {
    names: &'a [Vec<u8>],
    reply: &'static [u8],
    count: C,
}

impl<C: Fn(&Subscriptions) -> usize> Leaving<'_, C> {
    /// Removes each name with `remove`, confirming it into `out` if given;
    /// with no names at all, one confirmation with a null name says so, as
    /// in Redis.
    fn leave(
        self,
        subs: &mut Subscriptions,
        mut out: Option<&mut ReplyWriter>,
        mut remove: impl FnMut(&mut Subscriptions, &[u8]),
    ) {
        for name in self.names {
            remove(subs, name);
            if let Some(out) = out.as_deref_mut() {
                confirm(out, self.reply, Some(name), (self.count)(subs));
            }
        }
        if self.names.is_empty()
            && let Some(out) = out
        {
            confirm(out, self.reply, None, (self.count)(subs));
        }
    }
}

impl PubSub {
    /// `notify-keyspace-events` changed.
    pub fn set_notify_flags(&self, flags: u32) {
        self.notify_flags.store(flags, Ordering::Relaxed);
    }

    /// True if events of `class` are published: the cheap test every
    /// keyspace change makes.
    #[inline]
    pub fn notifies(&self, class: u32) -> bool {
        self.notify_flags.load(Ordering::Relaxed) & class != 0
    }

    /// SUBSCRIBE / SSUBSCRIBE: subscribes `subs` (whose inbox must exist) to
    /// each channel, writing one confirmation per channel into `out`.
    pub fn subscribe(
        &self,
        subs: &mut Subscriptions,
        kind: Kind,
        channels: &[Vec<u8>],
        out: &mut ReplyWriter,
    ) {
        let mut registry = self.registry.write();
        subs.drain_all(out);
        let subscriber = subs.inbox.as_ref().map(|i| i.subscriber().clone());
        for channel in channels {
            if let Some(subscriber) = &subscriber
                && subs.set_mut(kind).insert(channel.clone())
            {
                registry
                    .channels_mut(kind)
                    .entry(channel.clone())
                    .or_default()
                    .push(subscriber.clone());
            }
            confirm(
                out,
                kind.subscribe_name(),
                Some(channel),
                subs.kind_count(kind),
            );
        }
    }

    /// UNSUBSCRIBE / SUNSUBSCRIBE: from `channels`, or from every channel
    /// if none are given, writing a confirmation per channel into `out`
    /// (one with a nil channel if there was nothing to leave).
    pub fn unsubscribe(
        &self,
        subs: &mut Subscriptions,
        kind: Kind,
        channels: Option<&[Vec<u8>]>,
        out: &mut ReplyWriter,
    ) {
        let mut registry = self.registry.write();
        subs.drain_all(out);
        leave_channels(&mut registry, subs, kind, channels, Some(out));
    }

    /// PSUBSCRIBE: like [`PubSub::subscribe`] for patterns.
    pub fn psubscribe(
        &self,
        subs: &mut Subscriptions,
        patterns: &[Vec<u8>],
        out: &mut ReplyWriter,
    ) {
        let mut registry = self.registry.write();
        subs.drain_all(out);
        let subscriber = subs.inbox.as_ref().map(|i| i.subscriber().clone());
        for pattern in patterns {
            if let Some(subscriber) = &subscriber
                && !subs.patterns.contains(pattern)
            {
                subs.patterns.push(pattern.clone());
                registry
                    .patterns
                    .entry(pattern.clone())
                    .or_insert_with(|| PatternEntry {
                        pattern: Pattern::new(pattern, false),
                        subscribers: Vec::new(),
                    })
                    .subscribers
                    .push(subscriber.clone());
            }
            confirm(out, b"psubscribe", Some(pattern), subs.count());
        }
    }

    /// PUNSUBSCRIBE: like [`PubSub::unsubscribe`] for patterns; without
    /// arguments, in subscription order.
    pub fn punsubscribe(
        &self,
        subs: &mut Subscriptions,
        patterns: Option<&[Vec<u8>]>,
        out: &mut ReplyWriter,
    ) {
        let mut registry = self.registry.write();
        subs.drain_all(out);
        leave_patterns(&mut registry, subs, patterns, Some(out));
    }

    /// Leaves everything without confirmations (RESET, QUIT, a closing
    /// connection). Messages still queued go into `out` (they were
    /// published before) or, without it, are dropped.
    pub fn unsubscribe_all(&self, subs: &mut Subscriptions, out: Option<&mut ReplyWriter>) {
        if subs.total() == 0 {
            return;
        }
        let mut registry = self.registry.write();
        leave_channels(&mut registry, subs, Kind::Channel, None, None);
        leave_channels(&mut registry, subs, Kind::Shard, None, None);
        leave_patterns(&mut registry, subs, None, None);
        match out {
            Some(out) => subs.drain_all(out),
            None => subs.drain_all(&mut ReplyWriter::default()),
        }
    }

    /// PUBLISH / SPUBLISH: delivers `message` to the channel's subscribers
    /// and (for global channels) to every subscriber of a matching
    /// pattern. Returns how many received it, counting a client once per
    /// subscription that matched, as Redis does.
    pub fn publish(&self, kind: Kind, channel: &[u8], message: &[u8], own: Option<Own>) -> usize {
        let mut own = own;
        let registry = self.registry.read();
        let now_s = crate::clock::unix_ms() / 1000;
        let mut receivers = 0;
        if let Some(list) = registry.channels(kind).get(channel) {
            let frame = subscriber::encode(kind.message_name(), None, channel, message);
            receivers += self.deliver_all(list, &frame, &mut own, now_s);
        }
        if kind == Kind::Channel {
            for (pattern, entry) in &registry.patterns {
                if entry.pattern.matches(channel) {
                    let frame = subscriber::encode(b"pmessage", Some(pattern), channel, message);
                    receivers += self.deliver_all(&entry.subscribers, &frame, &mut own, now_s);
                }
            }
        }
        receivers
    }

    fn deliver_all(
        &self,
        list: &[Arc<Subscriber>],
        frame: &Frame,
        own: &mut Option<Own>,
        now_s: i64,
    ) -> usize {
        let mut receivers = 0;
        for subscriber in list {
            if subscriber.is_closed() {
                continue;
            }
            receivers += 1;
            match own {
                Some(own) if own.client_id == subscriber.client_id => own.out.push_frame(frame),
                _ => subscriber.deliver(frame, &self.limits, now_s),
            }
        }
        receivers
    }

    /// Publishes a keyspace event (Redis's `notifyKeyspaceEvent`): `event`
    /// on `__keyspace@<db>__:<key>` and `key` on
    /// `__keyevent@<db>__:<event>`, as the `K` and `E` flags ask. Does
    /// nothing unless `class` is enabled.
    pub fn notify_keyspace_event(
        &self,
        class: u32,
        event: &str,
        key: &[u8],
        db: usize,
        mut own: Option<Own>,
    ) {
        let flags = self.notify_flags.load(Ordering::Relaxed);
        if flags & class == 0 {
            return;
        }
        if flags & notify::KEYSPACE != 0 {
            let channel = notify::channel(b"__keyspace@", db, key);
            let own = own.as_mut().map(|o| Own {
                client_id: o.client_id,
                out: &mut *o.out,
            });
            self.publish(Kind::Channel, &channel, event.as_bytes(), own);
        }
        if flags & notify::KEYEVENT != 0 {
            let channel = notify::channel(b"__keyevent@", db, event.as_bytes());
            self.publish(Kind::Channel, &channel, key, own);
        }
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active channels matching `pattern`
    /// (all of them without one).
    pub fn channel_names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let pattern = pattern.map(|p| Pattern::new(p, false));
        let registry = self.registry.read();
        registry
            .channels(kind)
            .iter()
            .filter(|(name, list)| {
                any_live(list) && pattern.as_ref().is_none_or(|p| p.matches(name))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: subscribers of `channel` (patterns not
    /// counted).
    pub fn subscriber_count(&self, kind: Kind, channel: &[u8]) -> usize {
        let registry = self.registry.read();
        registry
            .channels(kind)
            .get(channel)
            .map_or(0, |list| live_count(list))
    }

    /// Active channels of a kind (INFO `pubsub_channels`,
    /// `pubsubshard_channels`).
    pub fn channel_count(&self, kind: Kind) -> usize {
        let registry = self.registry.read();
        registry
            .channels(kind)
            .values()
            .filter(|list| any_live(list))
            .count()
    }

    /// Distinct patterns subscribed to (PUBSUB NUMPAT, INFO
    /// `pubsub_patterns`).
    pub fn pattern_count(&self) -> usize {
        let registry = self.registry.read();
        registry
            .patterns
            .values()
            .filter(|entry| any_live(&entry.subscribers))
            .count()
    }
}
