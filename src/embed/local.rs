//! The in-process client: a session with no socket, whose commands run in
//! the calling thread through the same dispatcher a socket's do. Its
//! replies are read back as [`Frame`]s; pub/sub messages and RESP3 pushes
//! wait in a queue for [`LocalClient::next_message`].

use std::collections::VecDeque;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::net::wait::{Event, Interest};
use crate::resp::{Frame, Protocol, ReplyWriter};
use crate::state::State;
use crate::state::session::Session;
use crate::state::tracking;
use crate::store::{LockPlan, Mode};

/// A client of an [`Embedded`](super::Embedded) server that runs its
/// commands in the calling thread: no socket, no encoding of requests, no
/// runtime. Same semantics as a TCP client (errors, MULTI/EXEC, WATCH,
/// blocking commands, pub/sub, RESP3 after `HELLO 3`), listed by CLIENT
/// LIST. Each client is one connection: use one per thread.
///
/// ```
/// use sedis::{Embedded, Frame};
///
/// let server = Embedded::start()?;
/// let mut client = server.client();
/// client.call(&["MULTI"])?;
/// client.call(&["INCR", "visits"])?;
/// client.call(&["INCR", "visits"])?;
/// assert_eq!(
///     client.call(&["EXEC"])?,
///     Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)])
/// );
/// assert_eq!(
///     client.call(&["LPUSH", "visits", "x"])?,
///     Frame::Error(b"WRONGTYPE Operation against a key holding the wrong kind of value".to_vec())
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A blocking command blocks the calling thread until another client
/// serves it or its timeout passes:
///
/// ```
/// use sedis::{Embedded, Frame};
///
/// let server = Embedded::start()?;
/// let mut producer = server.client();
/// std::thread::scope(|scope| {
///     let waiting = scope.spawn(|| server.client().call(&["BLPOP", "jobs", "0"]));
///     // Push only once the consumer waits, so that it really blocks.
///     while server.client().call(&["CLIENT", "LIST"]).unwrap()
///         .as_bytes().is_some_and(|list| !list.windows(7).any(|w| w == b"flags=b"))
///     {
///         std::thread::yield_now();
///     }
///     producer.call(&["RPUSH", "jobs", "job1"]).unwrap();
///     let reply = waiting.join().unwrap().unwrap();
///     assert_eq!(reply, Frame::Array(vec![
///         Frame::Bulk(b"jobs".to_vec()),
///         Frame::Bulk(b"job1".to_vec()),
///     ]));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct LocalClient {
    state: Arc<State>,
    session: Session,
    out: ReplyWriter,
    /// Replies past a command's first (SUBSCRIBE's one per channel),
    /// pub/sub messages and pushes, in arrival order.
    messages: VecDeque<Frame>,
    /// QUIT ran, or the server dropped this client.
    closed: bool,
}

impl std::fmt::Debug for LocalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalClient")
            .field("id", &self.session.id)
            .field("db", &self.session.db)
            .finish()
    }
}

impl LocalClient {
    pub(super) fn new(state: Arc<State>) -> LocalClient {
        let handle = state.sessions.register_local();
        let session = Session::new(&state, handle);
        state
            .stats
            .total_connections_received
            .fetch_add(1, Ordering::Relaxed);
        LocalClient {
            state,
            session,
            out: ReplyWriter::new(Protocol::Resp2),
            messages: VecDeque::new(),
            closed: false,
        }
    }

    /// This client's id (CLIENT ID).
    pub fn id(&self) -> u64 {
        self.session.id
    }

    /// Runs one command and returns its reply; an error reply is
    /// `Ok(Frame::Error(..))`, as a socket client would read it. Fails
    /// only if the client is closed (QUIT, CLIENT KILL,
    /// [`Embedded::disconnect_all`](super::Embedded::disconnect_all)) or
    /// the server has stopped.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Frame> {
        self.ensure_open()?;
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_ref().to_vec()).collect();
        if args.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an empty command",
            ));
        }
        // Messages that arrived before the command come before its reply.
        self.collect_messages()?;
        let previous = tracking::set_current(self.session.id);
        let (state, session, out) = (&*self.state, &mut self.session, &mut self.out);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            crate::commands::process(state, session, out, &args)
        }));
        tracking::set_current(previous);
        let command = match outcome {
            Ok(command) => command,
            Err(_) => {
                // A bug, not the caller's fault: answered as a socket
                // client would be, and the client closed.
                self.out.clear();
                self.out.error(&crate::error::CommandError::err(
                    "internal error while executing the command",
                ));
                self.session.close_after_reply = true;
                None
            }
        };
        self.after_tracking(command.map(|c| c.full_name));
        // Once the client has a waker (it blocked or subscribed), a kill
        // wakes it there, as a socket's hang-up would.
        if let Some(waker) = self.session.blocking.waker_ref() {
            let _ = self.session.handle.local_waker.set(waker.clone());
        }
        let name = command.map_or("NULL", |c| c.full_name);
        // Others see this client (CLIENT LIST, INFO's blocked_clients)
        // as of its last command, a wait included.
        self.publish_info(name);
        if self.session.blocking.pending.is_some() {
            if !crate::server::worker::wait_until_unblocked(
                &self.state,
                &mut self.session,
                &mut self.out,
            ) {
                self.closed = true;
            }
            self.publish_info(name);
        }
        self.state.stats.total_commands_processed.incr();
        if self.session.close_after_reply {
            self.closed = true;
        }
        // BCAST invalidations go out at the end of a batch, after its
        // replies: here every call is a batch.
        let mut own = tracking::Own {
            client_id: self.session.id,
            out: &mut self.out,
        };
        self.state
            .tracking
            .broadcast(&self.state.sessions, Some(&mut own));
        // A write is acknowledged only once the append-only file holds it,
        // as for a socket client: if the file cannot take it, the client
        // gets no reply and is closed.
        if let Err(err) = crate::state::appendonly::sync_for_reply(&self.state, &self.session) {
            self.out.clear();
            self.closed = true;
            return Err(err);
        }
        let frames = parse_all(self.out.buffer());
        self.out.clear();
        let mut frames = frames?.into_iter();
        let reply = loop {
            match frames.next() {
                // RESP3 pushes (invalidations) are messages, not the reply.
                Some(push @ Frame::Push(_)) => self.messages.push_back(push),
                Some(reply) => break Some(reply),
                None => break None,
            }
        };
        self.messages.extend(frames);
        if self.is_killed() {
            self.closed = true;
            return Err(closed());
        }
        reply.ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no reply"))
    }

    /// The next pub/sub message or push (or a reply past a command's
    /// first, such as SUBSCRIBE's confirmation for its second channel):
    /// waits up to `timeout` for one (`None`: until one arrives, which
    /// only makes sense while subscribed). `Ok(None)` if none came.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sedis::{Embedded, Frame};
    ///
    /// let server = Embedded::start()?;
    /// let mut subscriber = server.client();
    /// subscriber.call(&["SUBSCRIBE", "news"])?;
    /// server.client().call(&["PUBLISH", "news", "hello"])?;
    /// let message = subscriber.next_message(Some(Duration::from_secs(5)))?;
    /// assert_eq!(message, Some(Frame::Array(vec![
    ///     Frame::Bulk(b"message".to_vec()),
    ///     Frame::Bulk(b"news".to_vec()),
    ///     Frame::Bulk(b"hello".to_vec()),
    /// ])));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_message(&mut self, timeout: Option<Duration>) -> io::Result<Option<Frame>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(message) = self.messages.pop_front() {
                return Ok(Some(message));
            }
            self.ensure_open()?;
            self.collect_messages()?;
            if !self.messages.is_empty() {
                continue;
            }
            // Publishers wake the client's waker (created when it
            // subscribed); it has no socket, so only they can.
            let Some(waker) = self.session.blocking.waker_ref() else {
                return Ok(None);
            };
            match waker.wait(Interest::Readable, deadline)? {
                Event::TimedOut => return Ok(None),
                Event::Woken | Event::Readable | Event::Hangup => {}
            }
        }
    }

    /// Client-side caching after a command (see
    /// [`tracking::after_client_command`]).
    fn after_tracking(&mut self, command: Option<&str>) {
        tracking::after_client_command(&self.state, &mut self.session, &mut self.out, command);
    }

    /// Mirrors what CLIENT LIST shows into the shared handle, as a socket
    /// connection does after each batch of commands.
    fn publish_info(&self, last_command: &'static str) {
        let client = &self.session;
        let mut info = client.handle.info.lock();
        info.last_command = last_command;
        info.last_interaction = Instant::now();
        info.db = client.db;
        info.resp = self.out.protocol().version();
        info.multi = client.multi.as_ref().map_or(-1, |m| m.queue.len() as i64);
        if info.name != client.name {
            info.name = client.name.clone();
        }
        info.flags = client.list_flags();
        info.redirect = if client.tracking.on {
            client.tracking.redirect as i64
        } else {
            -1
        };
        info.multi_mem = client.multi_mem();
    }

    /// Moves what the pub/sub inbox holds into the message queue.
    fn collect_messages(&mut self) -> io::Result<()> {
        if let Some(inbox) = self.session.pubsub.inbox() {
            let mut out = ReplyWriter::new(self.out.protocol());
            inbox.drain_into(&mut out, usize::MAX);
            self.messages.extend(parse_all(&out.take())?);
        }
        Ok(())
    }

    fn is_killed(&self) -> bool {
        self.session.handle.killed.load(Ordering::SeqCst)
    }

    fn ensure_open(&mut self) -> io::Result<()> {
        if self.is_killed() || self.state.shutdown.is_requested() {
            self.closed = true;
        }
        if self.closed { Err(closed()) } else { Ok(()) }
    }
}

impl crate::client::Commands for LocalClient {
    fn call_command(&mut self, args: &[&[u8]]) -> io::Result<Frame> {
        self.call(args)
    }
}

impl Drop for LocalClient {
    /// Leaves as a disconnecting socket client does: its wait, tracking,
    /// MONITOR, subscriptions and watched keys go with it.
    fn drop(&mut self) {
        let state = &*self.state;
        let client = &mut self.session;
        crate::server::worker::abandon(state, client);
        if client.tracking.sink.is_some() {
            state.tracking.remove_client(client.id);
        }
        if client.monitor {
            state.monitors.remove(client.id);
        }
        state.pubsub.unsubscribe_all(&mut client.pubsub, None);
        if !client.watched.is_empty() {
            let keyspace = state.keyspace();
            let mut plan = LockPlan::new();
            for (db, key) in &client.watched {
                plan.add_key(keyspace, *db, key.as_bytes(), Mode::Write);
            }
            let mut locks = keyspace.lock(&plan);
            for (db, key) in std::mem::take(&mut client.watched) {
                locks.db(db, 0).unwatch(key.as_bytes(), &client.watch_flag);
            }
        }
        state.sessions.unregister(client.id);
    }
}

/// The error a closed client's calls return.
fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "the connection is closed")
}

/// Every complete reply in `bytes`, in order.
fn parse_all(mut bytes: &[u8]) -> io::Result<Vec<Frame>> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        match Frame::parse(bytes)? {
            Some((frame, used)) => {
                frames.push(frame);
                bytes = &bytes[used..];
            }
            None => break,
        }
    }
    Ok(frames)
}
