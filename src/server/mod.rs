//! The server: a listener thread, a pool of worker threads, the reaper and
//! the periodic task, all inside one `crossbeam::scope`, so stopping the
//! server joins every thread it started before `run` returns.
//!
//! ```text
//!           accept()              bounded(0) hand-off          one worker per live client
//! listener ─────────► acceptor ───────────────────────► worker pool (crossbeam scope)
//!                        │ over maxclients?
//!                        └─► "-ERR max number of clients reached", close
//! ```
//!
//! - [`worker`](mod@worker): the read → execute → reply loop of one connection, and
//!   its sleep while a blocking command waits.
//! - [`load`]: loading the data at start-up (the append-only file, replayed
//!   through the dispatcher, or the dump).
//! - [`to_replica`]: a replica's connection on this master: the full sync,
//!   then the command stream.
//! - [`from_master`]: the link to our own master when this server is a
//!   replica: the handshake, the RDB, applying the stream.
//!
//! What the threads share, and the periodic tasks they run, are in
//! [`crate::state`]; the sockets in [`crate::net`].
//!
//! Workers are started on demand, up to `maxclients`, and then kept: a
//! worker that finishes a client waits for the next one on the hand-off
//! channel. The pool's size is fixed by `maxclients`; only idle memory is
//! saved by not starting threads nobody needs.

pub mod from_master;
pub mod load;
pub mod to_replica;
pub mod worker;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::config::Config;
use crate::log::Logger;
use crate::net::listener::{Accepted, Listeners, set_keepalive};
use crate::store::expire::Reaper;

use crate::process;
use crate::state::shutdown::ShutdownMode;
use crate::state::{State, appendonly, cron, saving};

/// Publishes an `expired` keyspace event for every key the keyspace
/// deletes because it expired (lazily or by the reaper).
fn install_expired_events(state: &State) {
    let pubsub = state.pubsub.clone();
    state.keyspace().add_expire_hook(Box::new(move |db, key| {
        pubsub.notify_keyspace_event(crate::channels::notify::EXPIRED, "expired", key, db, None);
    }));
    // Key creation (Redis's `dbAdd`) and read misses: `new` and `keymiss`.
    let pubsub = state.pubsub.clone();
    state
        .keyspace()
        .set_key_hook(Box::new(move |event, db, key| {
            use crate::channels::notify;
            use crate::store::keyspace::KeyEvent;
            match event {
                KeyEvent::Created => {
                    pubsub.notify_keyspace_event(notify::NEW, "new", key, db, None)
                }
                KeyEvent::Missed => {
                    pubsub.notify_keyspace_event(notify::KEY_MISS, "keymiss", key, db, None)
                }
            }
        }));
}

/// Client-side caching hears of every changed key. The hook holds the
/// state weakly (the state owns the keyspace that owns the hook), and
/// reaches it only while something is tracked: a write costs one load
/// otherwise, not a shared reference count.
fn install_tracking(state: &Arc<State>) {
    let weak = Arc::downgrade(state);
    let tracking = state.tracking.clone();
    state.keyspace().set_modified_hook(Box::new(move |key| {
        if tracking.armed()
            && let Some(state) = weak.upgrade()
        {
            tracking.key_modified(&state.sessions, key);
        }
    }));
}

/// Worker stack size. Commands are shallow; a small stack keeps the memory
/// cost of thousands of workers low (only touched pages count anyway).
const WORKER_STACK: usize = 256 * 1024;

/// A server ready to run: configuration loaded and port bound.
pub struct Server {
    state: Arc<State>,
}

/// Controls a server running on a background thread.
pub struct ServerHandle {
    state: Arc<State>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

/// What a server embedded in a program may set beyond its configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct Setup {
    /// No listening socket: the server is reached only in-process.
    pub no_listener: bool,
    /// The server's clock (the wall clock unless a test wants its own).
    pub clock: crate::clock::Clock,
    /// Seeds the random draws and the keys' placement, so they repeat.
    pub rng_seed: Option<u64>,
    /// Start empty: no dump or append-only file is read, whatever the
    /// working directory holds.
    pub skip_load: bool,
}

impl Server {
    /// Binds the configured address (port 0 picks a free port), loads the
    /// dump if there is one, and prepares the server. Nothing runs until
    /// [`Server::run`] or [`Server::spawn`]. A dump that cannot be read is an
    /// error: the server never starts empty over existing data.
    pub fn bind(config: Config) -> io::Result<Server> {
        Server::bind_with(config, Setup::default())
    }

    /// [`Server::bind`], set up as `setup` says.
    pub(crate) fn bind_with(config: Config, setup: Setup) -> io::Result<Server> {
        let renames = crate::commands::registry::renames(&config.renamed_commands)
            .map_err(io::Error::other)?;
        let mut log = Logger::new(config.loglevel, &config.logfile)?;
        if config.syslog_enabled {
            log.enable_syslog(&config.syslog_ident, config.syslog_facility);
        }
        let listeners = if setup.no_listener {
            Listeners::none()?
        } else {
            Listeners::bind(&config.binding(), &log)?
        };
        let commands = crate::commands::registry().len();
        let mut state = State::new(config, listeners, log, commands);
        state.renames = renames;
        state.rng_seed = setup.rng_seed;
        state.keyspace_mut().set_clock(setup.clock);
        if let Some(seed) = setup.rng_seed {
            state.keyspace_mut().set_hasher_seed(seed);
        }
        let state = Arc::new(state);
        appendonly::install_expire_hook(&state);
        install_expired_events(&state);
        install_tracking(&state);
        // The AOF, when enabled, wins over the dump, as in Redis.
        if !setup.skip_load {
            load::load_at_startup(&state)?;
        }
        let master = state.config().replicaof.clone();
        if let Some((host, port)) = master {
            crate::state::replication::follow(&state, host, port);
        }
        Ok(Server { state })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.state.local_addr()
    }

    /// The shared state (for embedding programs that inspect the server).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Serves clients on the calling thread until shutdown is requested, then
    /// stops every thread and returns.
    pub fn run(self) -> io::Result<()> {
        let Server { state } = self;
        let pidfile = process::pidfile(&state.config());
        if let Some(path) = &pidfile {
            process::write_pidfile(path, &state.log);
        }
        if let Err(err) = state.oom_score.apply(&state.config()) {
            state.log.warning(&format!(
                "Unable to write oom_score_adj: {}",
                crate::error::strerror(&err)
            ));
        }
        state.log.notice(&format!(
            "Ready to accept connections tcp (port {})",
            state.local_addr().port()
        ));
        process::notify_ready(&state.config(), &state.log);
        let state = &*state;
        let result = crossbeam_utils::thread::scope(|scope| {
            scope
                .builder()
                .name("sedis-reaper".into())
                .spawn(|_| Reaper::run(state.keyspace()))
                .expect("spawn reaper");
            scope
                .builder()
                .name("sedis-saver".into())
                .spawn(|_| saving::run_saver(state))
                .expect("spawn saver");
            scope
                .builder()
                .name("sedis-replication".into())
                .spawn(|_| from_master::run(state))
                .expect("spawn replication link");
            scope
                .builder()
                .name("sedis-cron".into())
                .spawn(|_| cron::run(state))
                .expect("spawn cron");
            // A server with no socket (embedded, in-process only) needs
            // no acceptor.
            let listening = state.listeners.local_addr().is_some();
            let acceptor = listening.then(|| {
                scope
                    .builder()
                    .name("sedis-acceptor".into())
                    .spawn(|scope| accept_loop(scope, state))
                    .expect("spawn acceptor")
            });
            while !final_save(state) {
                state.shutdown.call_off();
            }
            state.shutdown.confirm();
            state.listeners.wake();
            // Once the acceptor returns, no new client can register, so
            // closing the registered ones releases every worker.
            if let Some(acceptor) = acceptor {
                let _ = acceptor.join();
            }
            state.listeners.close();
            state.sessions.close_all();
            // Commands waiting out a CLIENT PAUSE see the shutdown.
            state.pause.wake_all();
            state.repl.wake_link();
            state.keyspace().reaper.shutdown();
            saving::stop_saver(state);
            appendonly::flush_at_exit(state);
        });
        if let Some(path) = &pidfile {
            let _ = std::fs::remove_file(path);
        }
        state.log.warning("sedis is now ready to exit, bye bye...");
        result.map_err(|_| io::Error::other("a server thread panicked"))
    }

    /// Runs the server on a background thread and returns a handle to it.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let state = self.state.clone();
        let thread = std::thread::Builder::new()
            .name("sedis-server".into())
            .spawn(move || self.run())?;
        Ok(ServerHandle {
            state,
            thread: Some(thread),
        })
    }
}

impl ServerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.state.local_addr()
    }

    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Stops the server and waits until every thread it started has ended.
    /// With save points configured it saves first, as SIGTERM does; if that
    /// save fails the server is stopped anyway (an embedding program gets its
    /// thread back) and the error is returned.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop()
    }

    /// Waits for the server to stop by itself (SHUTDOWN, signals).
    pub fn join(mut self) -> io::Result<()> {
        self.join_inner()
    }

    fn stop(&mut self) -> io::Result<()> {
        let shutdown = &self.state.shutdown;
        shutdown.request(ShutdownMode::Default);
        let saved = !shutdown.may_reply();
        if !saved {
            // The final save failed and the server resumed: force the stop.
            shutdown.request_with(ShutdownMode::NoSave, true);
        }
        self.join_inner()?;
        if saved {
            Ok(())
        } else {
            Err(io::Error::other(
                "the final save failed (see the log); the server was stopped without it",
            ))
        }
    }

    fn join_inner(&mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("server thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop();
        }
    }
}

/// Waits for a shutdown request and performs the final save it calls for.
/// Returns false if that save failed: the server then keeps running, as
/// Redis does, rather than exit with data it could not persist.
fn final_save(state: &State) -> bool {
    let (mode, force) = state.shutdown.wait_request();
    state.log.warning("User requested shutdown...");
    let wanted = match mode {
        ShutdownMode::NoSave => false,
        ShutdownMode::Save => true,
        ShutdownMode::Default => !state.config().save.is_empty(),
    };
    if !wanted {
        return true;
    }
    state
        .log
        .notice("Saving the final RDB snapshot before exiting.");
    match saving::save_now(state, true) {
        Ok(Ok(())) => true,
        _ if force => {
            state
                .log
                .warning("Error trying to save the DB. Exit anyway.");
            true
        }
        _ => {
            state
                .log
                .warning("Error trying to save the DB, can't exit.");
            false
        }
    }
}

/// The pool: a rendezvous channel to idle workers, and a count of started ones.
struct Pool<'s> {
    state: &'s State,
    handoff: Sender<TcpStream>,
    queue: Receiver<TcpStream>,
    started: AtomicUsize,
}

fn accept_loop<'env>(scope: &crossbeam_utils::thread::Scope<'env>, state: &'env State) {
    let (handoff, queue) = crossbeam_channel::bounded::<TcpStream>(0);
    let pool = Pool {
        state,
        handoff,
        queue,
        started: AtomicUsize::new(0),
    };
    loop {
        let streams = match state.listeners.accept() {
            Ok(Accepted::Streams(streams)) => streams,
            Ok(Accepted::Woken) if state.shutdown.is_stopped() => {
                // Those who connected before the stop are served (and then
                // closed with the others), not reset.
                for stream in state.listeners.accept_pending() {
                    admit(scope, &pool, stream);
                }
                break;
            }
            // Woken by a rebind: wait on the new sockets.
            Ok(Accepted::Woken) => continue,
            Err(err) => {
                state
                    .log
                    .warning(&format!("Accepting client connection: {err}"));
                // EMFILE and friends: don't spin at full speed.
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        let keepalive = state.config().tcp_keepalive;
        for stream in streams {
            set_keepalive(&stream, keepalive);
            admit(scope, &pool, stream);
        }
    }
    // Dropping `pool` drops the last sender: idle workers' recv() fails and
    // they exit; busy ones exit when their client's socket is closed.
}

fn admit<'env>(scope: &crossbeam_utils::thread::Scope<'env>, pool: &Pool<'env>, stream: TcpStream) {
    let state = pool.state;
    if let Some(reason) = deny_reason(state, &stream) {
        state
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = (&stream).write_all(reason.as_bytes());
        return;
    }
    let maxclients = state.config().maxclients;
    if !state.sessions.try_admit(maxclients) {
        state
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = (&stream).write_all(b"-ERR max number of clients reached\r\n");
        return;
    }
    // An idle worker takes it at once...
    let stream = match pool.handoff.try_send(stream) {
        Ok(()) => return,
        Err(TrySendError::Full(stream)) => stream,
        Err(TrySendError::Disconnected(_)) => return state.sessions.release(),
    };
    // ...else start a worker, if the pool is not at its size yet...
    if pool.started.load(Ordering::Relaxed) < maxclients {
        pool.started.fetch_add(1, Ordering::Relaxed);
        let queue = pool.queue.clone();
        let spawned = scope
            .builder()
            .name("sedis-worker".into())
            .stack_size(WORKER_STACK)
            .spawn(move |_| worker(state, Some(stream), queue));
        if spawned.is_err() {
            pool.started.fetch_sub(1, Ordering::Relaxed);
            state.sessions.release();
        }
        return;
    }
    // ...else every worker exists and, since this client was admitted, one of
    // them is between clients: wait for it.
    if pool.handoff.send(stream).is_err() {
        state.sessions.release();
    }
}

/// Puts the calling worker thread in Linux's `SCHED_BATCH` class.
///
/// With one thread per client, every request wakes a thread. Under the
/// default policy a woken worker preempts whatever runs on that CPU, often
/// the client program itself in the middle of sending its next requests, and
/// the two ping-pong. Batch threads still get their fair share of CPU but
/// never preempt on wakeup, so clients and workers each run in longer slices:
/// on a 2-core machine this measured ~15% more throughput with 50 clients
/// and lower median latency with 500. Failure is harmless (the thread keeps
/// the default policy).
#[cfg(target_os = "linux")]
fn prefer_throughput_scheduling() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain syscall on the calling thread (pid 0) with a valid,
    // initialised parameter struct.
    unsafe {
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    }
}

#[cfg(not(target_os = "linux"))]
fn prefer_throughput_scheduling() {}

/// Protected mode: with no password set, only loopback clients are served
/// (Redis's DENIED reply explains how to change that).
fn deny_reason(state: &State, stream: &TcpStream) -> Option<&'static str> {
    let peer = stream.peer_addr().ok()?;
    crate::state::session::protected_mode_denies(&state.config(), peer.ip())
        .then_some(crate::error::DENIED_PROTECTED_MODE)
}

fn worker(state: &State, first: Option<TcpStream>, queue: Receiver<TcpStream>) {
    prefer_throughput_scheduling();
    if let Some(stream) = first {
        worker::serve(state, stream);
        state.sessions.release();
    }
    while let Ok(stream) = queue.recv() {
        worker::serve(state, stream);
        state.sessions.release();
    }
}
