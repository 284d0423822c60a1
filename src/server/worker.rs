//! Serving one connection: read requests, execute them, write replies.
//!
//! The worker reads with blocking I/O through a `BufReader`. Every complete
//! request already buffered is executed before anything is written, and the
//! replies go out in one write once no complete request is left (pipelining
//! costs one syscall per batch, not per command). A request that is only
//! partly buffered never holds replies back: they are flushed before the
//! worker blocks for more input.
//!
//! A subscribed connection does not block in `read`: it sleeps until its
//! socket is readable or a publisher wakes it, sends the messages queued
//! for it, and goes back to sleep (see `wait_subscribed`). Before each
//! command it sends what is queued, so replies and messages leave in the
//! order they were produced.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::commands;
use super::to_replica;
use crate::error::CommandError;
use crate::resp::{Limits, Protocol, ReplyWriter, RequestParser};
use crate::store::{LockPlan, Mode};

use crate::net::wait::{Event, Interest};
use crate::state::State;
use crate::state::tracking;
use crate::state::session::{Pending, READ_BUFFER, ReplyMode, Session, UNBLOCKED};
use crate::store::waiting::{WaitState, Waiter};

/// Replies are written early if a pipeline produces more than this, so one
/// long pipeline cannot buffer unbounded output.
const FLUSH_THRESHOLD: usize = 64 * 1024;
/// Large arguments are read straight into their buffer in chunks of this.
const DIRECT_READ_CHUNK: usize = 1024 * 1024;

/// Serves `stream` until the client leaves, is killed, or the server stops.
pub fn serve(state: &State, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let handle = match state.sessions.register(&stream) {
        Ok(handle) => handle,
        Err(_) => return, // the peer is already gone
    };
    // Registered first, then the flag: a shutdown that started before we
    // registered is seen here; one that starts after will close our socket.
    if state.shutdown.is_stopped() {
        state.sessions.unregister(handle.id);
        return;
    }
    state
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let mut conn = Connection {
        state,
        client: Session::new(state, handle),
        out: ReplyWriter::new(Protocol::Resp2),
        parser: RequestParser::new(),
        partial_request: 0,
        request_len: 0,
        last_command: "NULL",
        info_stale: false,
        settings: Settings::read(state, true),
    };
    let reader = match stream.try_clone() {
        Ok(clone) => BufReader::with_capacity(READ_BUFFER, clone),
        Err(_) => return conn.finish(),
    };
    let result = conn.run(reader, stream);
    if let Err(err) = result {
        state
            .log
            .debug(&format!("Client id={} closed: {err}", conn.client.id));
    }
    conn.finish();
}

struct Connection<'s> {
    state: &'s State,
    client: Session,
    out: ReplyWriter,
    parser: RequestParser,
    /// Bytes of the request being received, while it is incomplete.
    partial_request: usize,
    /// Bytes of the request being executed (for CLIENT LIST's `qbuf`).
    request_len: usize,
    /// The last command run, for CLIENT LIST's `cmd`.
    last_command: &'static str,
    /// True once a command has run since the shared handle was updated.
    info_stale: bool,
    settings: Settings,
}

/// The configuration a connection consults per request, copied.
struct Settings {
    /// The configuration epoch the copy was taken at.
    epoch: u64,
    limits: Limits,
    /// The `timeout` option.
    idle_seconds: u64,
}

impl Settings {
    fn read(state: &State, unauthenticated: bool) -> Settings {
        // The epoch first: a change made while we read bumps it again.
        let epoch = state.config_epoch();
        let config = state.config();
        Settings {
            epoch,
            limits: Limits {
                max_bulk_len: config.proto_max_bulk_len as i64,
                max_query_len: config.client_query_buffer_limit,
                unauthenticated,
            },
            idle_seconds: config.timeout,
        }
    }
}

impl Connection<'_> {
    /// Re-reads the settings the connection keeps copies of, if the
    /// configuration or the client's authentication changed since: taking
    /// the configuration's lock per command would have every core write its
    /// cache line.
    fn refresh_settings(&mut self) {
        let unauthenticated = self.client.auth_required(self.state);
        if self.state.config_epoch() != self.settings.epoch
            || unauthenticated != self.settings.limits.unauthenticated
        {
            self.settings = Settings::read(self.state, unauthenticated);
        }
    }

    fn run(&mut self, mut reader: BufReader<TcpStream>, mut writer: TcpStream) -> io::Result<()> {
        // The client may not need to authenticate after all.
        self.refresh_settings();
        let mut timeout = None;
        loop {
            // Execute every complete request already buffered.
            loop {
                let buffered = reader.buffer();
                if buffered.is_empty() {
                    break;
                }
                let (used, request) = match self.parser.advance(buffered, &self.settings.limits) {
                    Ok(step) => step,
                    Err(err) => {
                        if let Some(text) = err.reply_text() {
                            self.out.error(&CommandError::from_bytes(text.into_bytes()));
                        }
                        self.state.log.verbose(&format!(
                            "Protocol error ({err}) from client id={}",
                            self.client.id
                        ));
                        self.flush(&mut writer)?;
                        return Ok(());
                    }
                };
                reader.consume(used);
                self.count_input(used);
                let Some(args) = request else {
                    self.partial_request += used;
                    break;
                };
                self.request_len = self.partial_request + used;
                self.partial_request = 0;
                self.client.query_buffer = self.request_len + reader.buffer().len();
                // Messages that arrived before this command go out before
                // its reply.
                if let Some(inbox) = self.client.pubsub.inbox() {
                    inbox.drain_into(&mut self.out, usize::MAX);
                }
                self.execute(&args);
                self.parser.recycle(args);
                // SYNC or PSYNC made this connection a replica needing a
                // full sync: the replies so far go first, then the RDB.
                if let Some(sync) = self.client.full_sync.take() {
                    self.flush(&mut writer)?;
                    to_replica::full_sync(self.state, &self.client, sync, &mut writer)?;
                }
                // A blocking command with nothing to pop: send what earlier
                // commands replied, then sleep until it is served or gives up.
                if self.client.blocking.pending.is_some() {
                    self.flush(&mut writer)?;
                    if !wait_until_unblocked(self.state, &mut self.client, &mut self.out) {
                        return Ok(());
                    }
                    self.end_skip();
                    self.client.handle.info.lock().flags = self.client.list_flags();
                }
                if self.client.close_after_reply {
                    // Leave the channels first: once the client has its
                    // last reply, nobody counts it as a subscriber.
                    self.state
                        .pubsub
                        .unsubscribe_all(&mut self.client.pubsub, None);
                    self.flush(&mut writer)?;
                    return Ok(());
                }
                if self.out.len() > FLUSH_THRESHOLD {
                    self.flush(&mut writer)?;
                }
                // AUTH or CONFIG SET may have changed the limits.
                self.refresh_settings();
            }
            self.flush(&mut writer)?;
            if self.client.handle.killed.load(Ordering::SeqCst)
                || self.state.shutdown.is_requested()
            {
                return Ok(());
            }
            if self.partial_request > 0 {
                // Let CLIENT LIST see a request that is still arriving.
                self.client.handle.info.lock().query_buffer = self.partial_request;
            }
            // A large argument in progress: read it straight into place.
            if let Some(pending) = self.parser.pending_bulk()
                && pending > READ_BUFFER
                && reader.buffer().is_empty()
            {
                self.read_bulk_directly(reader.get_mut(), pending)?;
                continue;
            }
            if self.client.listens() && !self.wait_subscribed(&mut writer)? {
                return Ok(());
            }
            let wanted = self.idle_timeout();
            if wanted != timeout {
                reader.get_ref().set_read_timeout(wanted)?;
                timeout = wanted;
            }
            match reader.fill_buf() {
                Ok([]) => return Ok(()), // the client closed the connection
                Ok(_) => self.count_read(),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.state.log.verbose("Closing idle client");
                    return Ok(());
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The `timeout` option: idle clients are closed after that many
    /// seconds. Subscribers and monitors are exempt, as in Redis: they wait
    /// for messages.
    fn idle_timeout(&mut self) -> Option<Duration> {
        if self.client.exempt_from_timeout() {
            return None;
        }
        self.refresh_settings();
        let seconds = self.settings.idle_seconds;
        (seconds > 0).then(|| Duration::from_secs(seconds))
    }

    /// A subscriber between commands: sends its messages as they arrive
    /// and returns once the socket has something to read (true) or the
    /// connection must close (false). It sleeps on its waker, which
    /// publishers wake, and the socket together: no polling interval.
    fn wait_subscribed(&mut self, writer: &mut TcpStream) -> io::Result<bool> {
        let waker = self.client.blocking.waker(self.client.handle.fd)?;
        let mut stream = Vec::new();
        loop {
            if let Some(replica) = self.client.replica.clone() {
                self.flush(writer)?;
                if !to_replica::send_stream(self.state, &replica, &mut stream, writer)? {
                    return Ok(false);
                }
            }
            if let Some(inbox) = self.client.pubsub.inbox() {
                let more = inbox.drain_into(&mut self.out, FLUSH_THRESHOLD);
                self.flush(writer)?;
                if more {
                    continue;
                }
            }
            if self.client.handle.killed.load(Ordering::SeqCst)
                || self.state.shutdown.is_requested()
            {
                return Ok(false);
            }
            // A tracking client that is not subscribed still times out
            // when idle; messages sent to it count as activity.
            let deadline = self.idle_timeout().map(|idle| Instant::now() + idle);
            match waker.wait(Interest::Readable, deadline)? {
                // A busy stream wakes a replica's connection all the time:
                // its ACKs must still be read.
                Event::Woken if self.client.replica.is_some() && waker.readable_now() => {
                    return Ok(true);
                }
                Event::Woken => continue,
                // A hang-up may still leave bytes to read: the read says.
                Event::Readable | Event::Hangup => return Ok(true),
                Event::TimedOut if deadline.is_some() => {
                    self.state.log.verbose("Closing idle client");
                    return Ok(false);
                }
                Event::TimedOut => continue,
            }
        }
    }

    fn read_bulk_directly(&mut self, stream: &mut TcpStream, pending: usize) -> io::Result<()> {
        let want = pending.min(DIRECT_READ_CHUNK);
        let buf = self.parser.bulk_buffer(want);
        let start = buf.len();
        buf.resize(start + want, 0);
        let n = match stream.read(&mut buf[start..]) {
            Ok(n) => n,
            Err(err) => {
                buf.truncate(start);
                return Err(err);
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.parser.bulk_filled(n);
        self.count_input(n);
        self.count_read();
        self.partial_request += n;
        Ok(())
    }

    fn count_read(&self) {
        self.state.stats.total_reads_processed.incr();
    }

    fn count_input(&self, n: usize) {
        self.state.stats.total_net_input_bytes.add(n as u64);
    }

    fn flush(&mut self, writer: &mut TcpStream) -> io::Result<()> {
        // BCAST invalidations wait for the end of a batch, as Redis sends
        // them before its event loop sleeps: this connection's follow its
        // replies.
        let mut own = tracking::Own {
            client_id: self.client.id,
            out: &mut self.out,
        };
        self.state
            .tracking
            .broadcast(&self.state.sessions, Some(&mut own));
        // Other clients see this one as of its last batch: what it is doing
        // can change only while they cannot look (the replies are unsent).
        if self.info_stale {
            self.publish_info();
        }
        if self.out.is_empty() {
            return Ok(());
        }
        // During a shutdown's final save, replies wait for its outcome; if
        // the server stops, they are never sent (see `Shutdown`).
        if !self.state.shutdown.may_reply() {
            self.out.clear();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "server stopping",
            ));
        }
        // A write is acknowledged only once the append-only file holds it;
        // if the file cannot take it, the client gets no acknowledgement.
        if let Err(err) = crate::state::appendonly::sync_for_reply(self.state, &self.client) {
            self.state
                .log
                .warning(&format!("Error writing to the AOF file: {err}"));
            self.out.clear();
            return Err(err);
        }
        let result = writer.write_all(self.out.buffer());
        let stats = &self.state.stats;
        stats.total_net_output_bytes.add(self.out.len() as u64);
        stats.total_writes_processed.incr();
        self.out.clear();
        result
    }

    /// Runs one request, honouring CLIENT REPLY (the writer drops what it
    /// silences, pushes aside), and records it.
    fn execute(&mut self, args: &[Vec<u8>]) {
        if args.is_empty() {
            return;
        }
        // Redis drops connections that look like HTTP/SMTP cross-protocol
        // attacks ("POST", "Host:") without a reply.
        if args[0].eq_ignore_ascii_case(b"post") || args[0].eq_ignore_ascii_case(b"host:") {
            self.state.log.warning(
                "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.",
            );
            self.client.close_after_reply = true;
            return;
        }
        if self.client.reply_mode == ReplyMode::SkipNext {
            self.client.reply_mode = ReplyMode::Skip;
        }
        // A replica's connection carries the stream: nothing it sends is
        // answered.
        self.out
            .set_silenced(self.client.reply_mode.silences() || self.client.replica.is_some());
        let reply_start = self.out.len();
        let (state, client, out) = (self.state, &mut self.client, &mut self.out);
        let previous = tracking::set_current(client.id);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            commands::process(state, client, out, args)
        }));
        tracking::set_current(previous);
        let command = outcome.as_ref().ok().copied().flatten();
        self.after_tracking(command.map(|c| c.full_name));
        if outcome.is_err() {
            // A bug, not the client's fault: answer, drop this connection,
            // keep the server.
            self.out.truncate(reply_start);
            self.out.error(&CommandError::err(
                "internal error while executing the command",
            ));
            self.client.close_after_reply = true;
            self.state.log.warning(&format!(
                "Command '{}' panicked; closing client id={}",
                String::from_utf8_lossy(&args[0]),
                self.client.id
            ));
        }
        // A blocked command has not replied yet: SKIP lasts until it does.
        if self.client.blocking.pending.is_none() {
            self.end_skip();
        }
        self.state.stats.total_commands_processed.incr();
        self.last_command = command.map_or("NULL", |c| c.full_name);
        self.info_stale = true;
    }

    /// Client-side caching after a command (see
    /// [`tracking::after_client_command`]).
    fn after_tracking(&mut self, command: Option<&str>) {
        tracking::after_client_command(self.state, &mut self.client, &mut self.out, command);
    }

    /// The command CLIENT REPLY SKIP silenced has replied: replies are on
    /// again (OFF, or a SKIP for the next command, stays as it is).
    fn end_skip(&mut self) {
        if self.client.reply_mode == ReplyMode::Skip {
            self.client.reply_mode = ReplyMode::On;
        }
        self.out.set_silenced(self.client.reply_mode.silences());
    }

    /// Mirrors what CLIENT LIST shows into the shared handle: once per
    /// batch of requests, as the lock and the clock read cost more than a
    /// GET if paid per command.
    fn publish_info(&mut self) {
        self.info_stale = false;
        let mut info = self.client.handle.info.lock();
        info.last_command = self.last_command;
        info.last_interaction = Instant::now();
        info.db = self.client.db;
        info.resp = self.out.protocol().version();
        info.multi = self
            .client
            .multi
            .as_ref()
            .map_or(-1, |m| m.queue.len() as i64);
        if info.name != self.client.name {
            info.name = self.client.name.clone();
        }
        info.flags = self.client.list_flags();
        info.redirect = if self.client.tracking.on {
            self.client.tracking.redirect as i64
        } else {
            -1
        };
        info.multi_mem = self.client.multi_mem();
        info.query_buffer = self.client.query_buffer.saturating_sub(self.request_len);
    }

    /// Releases everything the connection held.
    fn finish(&mut self) {
        abandon(self.state, &mut self.client);
        if self.client.replica.is_some() {
            self.state
                .replication()
                .remove(self.client.id, crate::clock::unix_ms());
            self.state
                .log
                .notice(&format!("Connection with replica {} lost.", self.client.handle.addr));
        }
        if self.client.tracking.sink.is_some() {
            self.state.tracking.remove_client(self.client.id);
        }
        if self.client.monitor {
            self.state.monitors.remove(self.client.id);
        }
        self.state
            .pubsub
            .unsubscribe_all(&mut self.client.pubsub, None);
        if self.client.pubsub.inbox().is_some_and(|i| i.overflowed()) {
            let handle = &self.client.handle;
            self.state.log.warning(&format!(
                "Client id={} addr={} closed for overcoming of output buffer limits.",
                handle.id, handle.addr
            ));
        }
        if !self.client.watched.is_empty() {
            let ks = self.state.keyspace();
            let mut plan = LockPlan::new();
            for (db, key) in &self.client.watched {
                plan.add_key(ks, *db, key.as_bytes(), crate::store::Mode::Write);
            }
            let mut locks = ks.lock(&plan);
            for (db, key) in std::mem::take(&mut self.client.watched) {
                locks
                    .db(db, 0)
                    .unwatch(key.as_bytes(), &self.client.watch_flag);
            }
        }
        self.state.sessions.unregister(self.client.id);
    }
}

/// Waits out the client's pending blocking command and writes its reply
/// into `out`. Returns false if the client disconnected (or was killed, or
/// the server is stopping): the connection must then close.
pub fn wait_until_unblocked(state: &State, client: &mut Session, out: &mut ReplyWriter) -> bool {
    let Some(Pending { waiter, deadline }) = client.blocking.pending.take() else {
        return true;
    };
    let blocked = &state.keyspace().blocked;
    let outcome = match client.blocking.waker_ref() {
        None => waiter.finish(blocked, WaitState::Gone),
        Some(waker) => loop {
            let event = waker.wait(Interest::Hangup, deadline);
            let outcome = match event {
                // A wake-up left over from an earlier wait: keep waiting.
                Ok(Event::Woken) if waiter.is_waiting() => continue,
                Ok(Event::Woken) => waiter.finish(blocked, WaitState::TimedOut),
                Ok(Event::TimedOut) => waiter.finish(blocked, WaitState::TimedOut),
                Ok(Event::Hangup | Event::Readable) | Err(_) => {
                    waiter.finish(blocked, WaitState::Gone)
                }
            };
            break outcome;
        },
    };
    forget(state, &waiter);
    let call_served = |client: &mut Session, failed| {
        crate::commands::observe::blocked_call_served(state, client, failed);
    };
    match outcome {
        WaitState::Served(reply) => {
            // A served wait may end in an error (XREADGROUP's group or
            // stream gone): counted as Redis counts any error reply.
            let error = reply
                .strip_prefix(b"-")
                .map(|line| CommandError::from_bytes(line.strip_suffix(b"\r\n").unwrap_or(line).to_vec()));
            if let Some(err) = &error {
                state.stats.count_error(err);
            }
            out.raw(&reply);
            call_served(client, error.is_some());
        }
        WaitState::TimedOut => {
            client.blocking.call = None;
            out.null_array();
        }
        WaitState::UnblockedWithError => {
            out.error(&UNBLOCKED);
            state.stats.count_error(&UNBLOCKED);
            call_served(client, true);
        }
        WaitState::Gone | WaitState::Waiting => return false,
    }
    true
}

/// Takes a finished waiter off every key it was queued on (a server only
/// removed it from the key it served) and out of the registry.
fn forget(state: &State, waiter: &Arc<Waiter>) {
    let ks = state.keyspace();
    let mut plan = LockPlan::new();
    for key in &waiter.keys {
        plan.add_key(ks, waiter.db, key.as_bytes(), Mode::Write);
    }
    let mut locks = ks.lock(&plan);
    let mut db = locks.db(waiter.db, crate::clock::unix_ms());
    for key in &waiter.keys {
        db.unblock(key.as_bytes(), waiter);
    }
    drop(locks);
    ks.blocked.unregister(waiter);
}

/// Ends a wait that never started sleeping (the connection is closing with
/// a pending wait, e.g. the command was the last thing it sent).
pub fn abandon(state: &State, client: &mut Session) {
    if let Some(Pending { waiter, .. }) = client.blocking.pending.take() {
        waiter.finish(&state.keyspace().blocked, WaitState::Gone);
        forget(state, &waiter);
    }
}
