//! One subscribed connection as publishers see it: a queue of encoded
//! messages, its byte count against `client-output-buffer-limit pubsub`,
//! and how to wake or disconnect the connection.
//!
//! A publisher never blocks on a subscriber: it appends an already-encoded
//! frame to the subscriber's queue (a crossbeam channel: pushing never
//! waits), adds its size to the subscriber's pending bytes, and wakes the
//! subscriber's worker if it is not already awake. A subscriber whose
//! pending bytes reach the hard limit, or stay over the soft limit for
//! longer than its seconds, is disconnected on the spot, as Redis closes a
//! client that overcomes its output-buffer limits; the other subscribers
//! keep receiving.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::resp::ReplyWriter;

/// An encoded message frame (`message`, `pmessage` or `smessage`), shared by
/// every subscriber it goes to. Its first byte is a placeholder for the
/// aggregate's type: each connection writes `*` (RESP2) or `>` (RESP3
/// push) there when it sends the frame, so one encoding serves both
/// protocols. A MONITOR line is a status reply (`+...`) and goes out as it
/// is in both.
pub type Frame = Arc<[u8]>;

/// What the pub/sub layer needs from the connection a subscriber belongs
/// to; the server implements it with the connection's wake-up descriptor
/// and its client handle.
pub trait Peer: Send + Sync {
    /// Messages are waiting: wake the connection's worker.
    fn wake(&self);
    /// Close the connection: it overcame its output-buffer limit.
    fn disconnect(&self);
    /// True once the connection is being closed (killed, over its limit):
    /// it is no longer counted as a receiver and gets nothing more.
    fn is_closed(&self) -> bool;
}

/// `client-output-buffer-limit pubsub <hard> <soft> <seconds>`, mirrored in
/// atomics because every delivery reads it.
#[derive(Debug)]
pub struct Limits {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_seconds: AtomicU64,
}

impl Default for Limits {
    /// Redis's defaults: 32mb hard, 8mb soft for 60 seconds.
    fn default() -> Self {
        Limits {
            hard: AtomicU64::new(32 * 1024 * 1024),
            soft: AtomicU64::new(8 * 1024 * 1024),
            soft_seconds: AtomicU64::new(60),
        }
    }
}

impl Limits {
    pub fn set(&self, hard: u64, soft: u64, soft_seconds: u64) {
        self.hard.store(hard, Ordering::Relaxed);
        self.soft.store(soft, Ordering::Relaxed);
        self.soft_seconds.store(soft_seconds, Ordering::Relaxed);
    }
}

/// The shared half of a subscribed connection: what the registry holds.
pub struct Subscriber {
    /// The connection's client id (a publisher recognises itself by it).
    pub client_id: u64,
    peer: Arc<dyn Peer>,
    queue: Sender<Frame>,
    /// Bytes queued and not yet taken by the connection: the output buffer
    /// the limits apply to.
    pending: AtomicUsize,
    /// Set by the publisher that wakes the worker, cleared by the worker
    /// before it drains: one wake-up per batch of messages, not per message.
    woken: AtomicBool,
    /// Unix seconds since when the soft limit has been exceeded; 0: it
    /// is not (Redis's `obuf_soft_limit_reached_time`).
    soft_since: AtomicI64,
    /// Set when the limits closed the connection, so that it can log why.
    overflowed: AtomicBool,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("client_id", &self.client_id)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Subscriber {
    pub fn is_closed(&self) -> bool {
        self.peer.is_closed()
    }

    /// Queues `frame` for this subscriber, applying the output-buffer
    /// limits. `now_s` is the current unix time in seconds.
    pub fn deliver(&self, frame: &Frame, limits: &Limits, now_s: i64) {
        let len = frame.len();
        let pending = self.pending.fetch_add(len, Ordering::AcqRel) + len;
        if self.over_limits(pending as u64, limits, now_s) {
            self.overflowed.store(true, Ordering::Release);
            self.peer.disconnect();
            return;
        }
        // Sending only fails once the connection dropped its inbox; it is
        // then gone and the frame does not matter.
        let _ = self.queue.send(frame.clone());
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.peer.wake();
        }
    }

    /// Redis's `checkClientOutputBufferLimits`: the hard limit at once, the
    /// soft one once it has been exceeded for more than its seconds.
    fn over_limits(&self, pending: u64, limits: &Limits, now_s: i64) -> bool {
        let hard = limits.hard.load(Ordering::Relaxed);
        if hard > 0 && pending >= hard {
            return true;
        }
        let soft = limits.soft.load(Ordering::Relaxed);
        if soft == 0 || pending < soft {
            self.soft_since.store(0, Ordering::Relaxed);
            return false;
        }
        let since = self.soft_since.load(Ordering::Relaxed);
        if since == 0 {
            self.soft_since.store(now_s, Ordering::Relaxed);
            return false;
        }
        let seconds = limits.soft_seconds.load(Ordering::Relaxed);
        (now_s - since) > seconds as i64
    }
}

/// The connection's half: where its messages arrive. Created the first
/// time the connection subscribes and kept for its life.
pub struct Inbox {
    subscriber: Arc<Subscriber>,
    queue: Receiver<Frame>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.subscriber.fmt(f)
    }
}

impl Inbox {
    pub fn new(client_id: u64, peer: Arc<dyn Peer>) -> Self {
        let (sender, queue) = crossbeam_channel::unbounded();
        Inbox {
            subscriber: Arc::new(Subscriber {
                client_id,
                peer,
                queue: sender,
                pending: AtomicUsize::new(0),
                woken: AtomicBool::new(false),
                soft_since: AtomicI64::new(0),
                overflowed: AtomicBool::new(false),
            }),
            queue,
        }
    }

    pub fn subscriber(&self) -> &Arc<Subscriber> {
        &self.subscriber
    }

    /// Bytes waiting (CLIENT LIST's `omem` for a subscriber).
    pub fn pending_bytes(&self) -> usize {
        self.subscriber.pending.load(Ordering::Acquire)
    }

    /// True if the output-buffer limits closed this connection.
    pub fn overflowed(&self) -> bool {
        self.subscriber.overflowed.load(Ordering::Acquire)
    }

    /// Moves waiting messages into `out`, framed for its protocol, until
    /// the queue is empty or `out` holds more than `max_out` bytes.
    /// Returns true if messages are left.
    pub fn drain_into(&self, out: &mut ReplyWriter, max_out: usize) -> bool {
        // Cleared before looking, so a message queued after the last look
        // wakes the worker again.
        self.subscriber.woken.store(false, Ordering::Release);
        let mut taken = 0;
        let more = loop {
            if out.len() > max_out {
                break !self.queue.is_empty();
            }
            match self.queue.try_recv() {
                Ok(frame) => {
                    taken += frame.len();
                    out.push_frame(&frame);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break false,
            }
        };
        if taken > 0 {
            self.subscriber.pending.fetch_sub(taken, Ordering::AcqRel);
        }
        more
    }
}

/// Encodes a `message` / `smessage` frame (`pattern` = None) or a
/// `pmessage` frame, with the placeholder type byte (see [`Frame`]).
pub fn encode(kind: &[u8], pattern: Option<&[u8]>, channel: &[u8], message: &[u8]) -> Frame {
    let parts: &[&[u8]] = match pattern {
        Some(pattern) => &[kind, pattern, channel, message],
        None => &[kind, channel, message],
    };
    let mut out = ReplyWriter::new(crate::resp::Protocol::Resp2);
    out.array(parts.len());
    for part in parts {
        out.bulk(part);
    }
    out.take().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::Protocol;
    use std::sync::atomic::AtomicUsize;

    #[derive(Default)]
    struct TestPeer {
        wakes: AtomicUsize,
        closed: AtomicBool,
    }

    impl Peer for TestPeer {
        fn wake(&self) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
        }
        fn disconnect(&self) {
            self.closed.store(true, Ordering::SeqCst);
        }
        fn is_closed(&self) -> bool {
            self.closed.load(Ordering::SeqCst)
        }
    }

    fn inbox() -> (Inbox, Arc<TestPeer>) {
        let peer = Arc::new(TestPeer::default());
        (Inbox::new(7, peer.clone()), peer)
    }

    #[test]
    fn frames_take_the_connection_protocol() {
        let (inbox, peer) = inbox();
        let frame = encode(b"message", None, b"ch", b"hi");
        let limits = Limits::default();
        inbox.subscriber().deliver(&frame, &limits, 0);
        inbox.subscriber().deliver(&frame, &limits, 0);
        assert_eq!(peer.wakes.load(Ordering::SeqCst), 1, "one wake per batch");
        assert_eq!(inbox.pending_bytes(), 2 * frame.len());
        let mut out = ReplyWriter::new(Protocol::Resp3);
        assert!(!inbox.drain_into(&mut out, usize::MAX));
        let one = b"3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n";
        assert_eq!(out.take(), [b">", &one[..], b">", &one[..]].concat());
        assert_eq!(inbox.pending_bytes(), 0);
        inbox.subscriber().deliver(&frame, &limits, 0);
        assert_eq!(peer.wakes.load(Ordering::SeqCst), 2);
        let mut out = ReplyWriter::new(Protocol::Resp2);
        inbox.drain_into(&mut out, 0);
        assert_eq!(out.take(), [b"*", &one[..]].concat());
    }

    #[test]
    fn the_hard_limit_disconnects() {
        let (inbox, peer) = inbox();
        let limits = Limits::default();
        limits.set(100, 0, 0);
        let frame = encode(b"message", None, b"ch", &[b'x'; 40]);
        inbox.subscriber().deliver(&frame, &limits, 0);
        assert!(!peer.is_closed());
        inbox.subscriber().deliver(&frame, &limits, 0);
        assert!(peer.is_closed());
        assert!(inbox.overflowed());
    }

    #[test]
    fn the_soft_limit_needs_its_seconds() {
        let (inbox, peer) = inbox();
        let limits = Limits::default();
        limits.set(0, 10, 2);
        let frame = encode(b"message", None, b"ch", b"m");
        inbox.subscriber().deliver(&frame, &limits, 100);
        inbox.subscriber().deliver(&frame, &limits, 102);
        assert!(!peer.is_closed(), "2 seconds over is not more than 2");
        inbox.subscriber().deliver(&frame, &limits, 103);
        assert!(peer.is_closed());
    }
}
