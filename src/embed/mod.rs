//! sedis inside a Rust program or test: a real server started in one line,
//! reached without a socket, with time, randomness and failures under the
//! program's control.
//!
//! - [`Embedded`]: a running server and everything done to it from
//!   outside the protocol: its clock, its data, its faults, its stop.
//! - [`Builder`]: how it starts (listening or not, which clock, which seed).
//! - [`LocalClient`]: a client in the calling thread, through the same
//!   dispatcher as a socket's, returning replies as [`Frame`]s.
//! - [`Db`]: one database's keys, read and written in one line each.
//!
//! Nothing here needs an async runtime: commands run in the calling
//! thread, and the server's own threads (the reaper, the saver, the
//! periodic task, and an acceptor if it listens) are joined when it stops.
//!
//! ```
//! use sedis::{Embedded, Frame};
//!
//! let server = Embedded::start()?; // in memory, no socket, quiet
//! let mut client = server.client();
//! assert_eq!(client.call(&["SET", "greeting", "hello"])?, Frame::Simple(b"OK".to_vec()));
//! assert_eq!(server.db(0).get("greeting")?, Some(b"hello".to_vec()));
//! server.shutdown()?; // or drop it: either joins every thread it started
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod data;
mod local;

pub use data::{Db, ReplyError};
pub use local::LocalClient;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::clock::Clock;
use crate::config::{Config, LogLevel};
use crate::error::CommandError;
use crate::resp::{Frame, Protocol, ReplyWriter};
use crate::server::{Server, ServerHandle, Setup};
use crate::state::State;
use crate::state::session::Session;

/// How an embedded server starts. [`Builder::new`] gives an in-memory
/// server for tests: no listening socket, no dump read or written, no log
/// output, the wall clock.
///
/// ```
/// use std::time::Duration;
/// use sedis::Embedded;
///
/// let server = Embedded::builder()
///     .listen()          // also on 127.0.0.1, at a free port
///     .manual_clock()    // time moves only when told
///     .seed(7)           // SPOP, RANDOMKEY... repeat from run to run
///     .start()?;
/// assert!(server.addr().is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
    setup: Setup,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// An in-memory server: no socket, no save points, no dump loaded,
    /// log level `nothing`, the wall clock. DEBUG is allowed from local
    /// connections (in-process clients are local), for tests that need
    /// DEBUG SLEEP, RELOAD or SET-ACTIVE-EXPIRE.
    pub fn new() -> Builder {
        let config = Config {
            port: 0,
            save: Vec::new(),
            loglevel: LogLevel::Nothing,
            enable_debug_command: crate::config::ProtectedAction::Local,
            ..Config::default()
        };
        let setup = Setup {
            no_listener: true,
            skip_load: true,
            ..Setup::default()
        };
        Builder { config, setup }
    }

    /// Also listens on TCP, on the configured address (127.0.0.1) at a
    /// free port: see [`Embedded::addr`].
    pub fn listen(mut self) -> Builder {
        self.setup.no_listener = false;
        self
    }

    /// Listens on TCP at `port` (0: any free port).
    pub fn port(mut self, port: u16) -> Builder {
        self.config.port = port;
        self.listen()
    }

    /// Changes any configuration directive before the start, as a
    /// configuration file would.
    ///
    /// ```
    /// let server = sedis::Embedded::builder()
    ///     .configure(|config| config.databases = 2)
    ///     .start()?;
    /// assert!(server.client().call(&["SELECT", "2"])?.is_error());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn configure(mut self, change: impl FnOnce(&mut Config)) -> Builder {
        change(&mut self.config);
        self
    }

    /// A manual clock, reading the current time until moved with
    /// [`Embedded::advance`] or [`Embedded::set_time`].
    pub fn manual_clock(self) -> Builder {
        self.manual_clock_at(SystemTime::now())
    }

    /// A manual clock reading `start` until moved.
    pub fn manual_clock_at(mut self, start: SystemTime) -> Builder {
        self.setup.clock = Clock::manual(unix_us(start));
        self
    }

    /// Seeds every random choice commands make (SPOP, SRANDMEMBER,
    /// HRANDFIELD, ZRANDMEMBER, RANDOMKEY), and where keys are placed, so
    /// the same commands draw the same results in every run.
    ///
    /// Each client's draws depend on the seed and its client id (ids are
    /// handed out in connection order). Collections past their compact
    /// encodings' limits (128 elements by default) are hash tables whose
    /// order depends on a per-process hash seed: draws from those repeat
    /// within a process, not across processes.
    ///
    /// ```
    /// let draw = || -> std::io::Result<sedis::Frame> {
    ///     let server = sedis::Embedded::builder().seed(2024).start()?;
    ///     server.db(0).sadd("deck", ["ace", "king", "queen", "jack", "ten"])?;
    ///     server.client().call(&["SRANDMEMBER", "deck", "2"])
    /// };
    /// assert_eq!(draw()?, draw()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.setup.rng_seed = Some(seed);
        self
    }

    /// Starts the server: it serves as soon as this returns.
    pub fn start(mut self) -> io::Result<Embedded> {
        // Asked for an append-only file: it is opened (and loaded, if one
        // is there) as at a server's start; only the dump is left unread.
        if self.config.appendonly {
            self.setup.skip_load = false;
        }
        let server = Server::bind_with(self.config, self.setup)?;
        let state = server.state().clone();
        let handle = server.spawn()?;
        let mut session = Session::new(&state, state.sessions.internal());
        session.authenticated = true;
        Ok(Embedded {
            state,
            handle: Some(handle),
            seeder: Mutex::new(Seeder {
                session,
                out: ReplyWriter::new(Protocol::Resp2),
            }),
        })
    }
}

/// A running embedded server. Dropping it stops the server and joins
/// every thread it started, as [`Embedded::shutdown`] does; many may run
/// in one process at once (one per test).
pub struct Embedded {
    state: Arc<State>,
    handle: Option<ServerHandle>,
    /// The server's own client for [`Db`]'s reads and writes: never
    /// listed, never failed by injected faults.
    seeder: Mutex<Seeder>,
}

/// The internal client behind [`Db`].
struct Seeder {
    session: Session,
    out: ReplyWriter,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("addr", &self.addr())
            .field("manual_clock", &self.state.keyspace().clock.is_manual())
            .finish()
    }
}

impl Embedded {
    /// Starts an in-memory server with no socket: [`Builder::new`]'s.
    pub fn start() -> io::Result<Embedded> {
        Builder::new().start()
    }

    /// How to start one otherwise.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// The TCP address to connect to, if the server listens.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.state.listeners.local_addr()
    }

    /// A new in-process client: a connection without a socket, listed by
    /// CLIENT LIST like any other.
    pub fn client(&self) -> LocalClient {
        LocalClient::new(self.state.clone())
    }

    /// A new blocking TCP connection (the server must listen: see
    /// [`Builder::listen`]).
    pub fn connect(&self) -> io::Result<crate::client::Connection> {
        let addr = self.addr().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotConnected, "the server does not listen")
        })?;
        crate::client::Connection::from_stream(std::net::TcpStream::connect(addr)?)
    }

    /// Database `index`, to read and write keys directly.
    pub fn db(&self, index: usize) -> Db<'_> {
        Db::new(self, index)
    }

    /// Empties every database (FLUSHALL).
    pub fn flush_all(&self) -> Result<(), ReplyError> {
        data::expect_ok(self.run(0, &[b"FLUSHALL"]))
    }

    /// Runs one command for the internal client in database `db`.
    fn run(&self, db: usize, args: &[&[u8]]) -> Frame {
        let mut seeder = self.seeder.lock();
        let Seeder { session, out } = &mut *seeder;
        session.db = db;
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        crate::commands::process(&self.state, session, out, &args);
        if session.blocking.pending.is_some() {
            // This client never waits: a blocking command with nothing to
            // take answers as if its timeout had passed, as inside MULTI.
            crate::server::worker::abandon(&self.state, session);
            out.null_array();
        }
        let reply = Frame::parse(out.buffer())
            .ok()
            .flatten()
            .map(|(frame, _)| frame);
        out.clear();
        reply.unwrap_or_else(|| Frame::Error(b"ERR no reply".to_vec()))
    }

    /// The server's time now.
    pub fn now(&self) -> SystemTime {
        let us = self.state.keyspace().clock.unix_us();
        UNIX_EPOCH + Duration::from_micros(us.max(0) as u64)
    }

    /// Moves a manual clock forward by `by`. Everything that reads the
    /// server's time follows at once: keys whose TTL passes are gone
    /// before this returns (with their `expired` events), TTL and PTTL
    /// count from the new time, and blocking commands whose timeout
    /// passes answer as timed out.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = sedis::Embedded::builder().manual_clock().start()?;
    /// let db = server.db(0);
    /// db.set_with_ttl("session", "abc", Duration::from_secs(60))?;
    /// server.advance(Duration::from_secs(59));
    /// assert_eq!(db.ttl("session")?, Some(Duration::from_secs(1)));
    /// server.advance(Duration::from_secs(1));
    /// assert_eq!(db.get("session")?, None);
    /// assert_eq!(db.dbsize()?, 0, "gone, not merely hidden");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If the server runs on the wall clock (see
    /// [`Builder::manual_clock`]).
    pub fn advance(&self, by: Duration) {
        let us = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        let clock = &self.state.keyspace().clock;
        clock
            .advance_us(us)
            .expect("advance: the server runs on the wall clock");
        self.clock_moved();
    }

    /// Sets a manual clock to `at` (backwards too: keys then live longer).
    ///
    /// # Panics
    ///
    /// If the server runs on the wall clock.
    pub fn set_time(&self, at: SystemTime) {
        let clock = &self.state.keyspace().clock;
        clock
            .set_us(unix_us(at))
            .expect("set_time: the server runs on the wall clock");
        self.clock_moved();
    }

    /// What a move of the manual clock sets off: the expiry the reaper
    /// would do, in this thread so it is done when the move returns
    /// (unless active expiry is paused or held, as then it would not
    /// run), the reaper's next wake-up, and blocking commands' timeouts.
    fn clock_moved(&self) {
        let keyspace = self.state.keyspace();
        let now = keyspace.clock.unix_ms();
        if keyspace.reaper.is_active() && !keyspace.reaper.is_held(now) {
            let _pass = keyspace.gate.shared(0);
            keyspace.expire_due(now, 64);
        }
        keyspace.reaper.clock_moved();
        keyspace.blocked.time_out_due(now);
    }

    /// Replaces the dataset with the dump at `path` (RDB, any version
    /// Redis 7.0 reads); returns the number of keys loaded.
    pub fn load_rdb(&self, path: impl AsRef<Path>) -> io::Result<usize> {
        self.load_rdb_bytes(&std::fs::read(path)?)
    }

    /// Replaces the dataset with a dump held in memory; returns the number
    /// of keys loaded. Keys already expired by the server's clock are
    /// skipped, as Redis skips them.
    ///
    /// ```
    /// let a = sedis::Embedded::start()?;
    /// a.db(3).push("queue", ["job1", "job2"])?;
    /// let dump = a.dump_rdb()?;
    ///
    /// let b = sedis::Embedded::start()?;
    /// assert_eq!(b.load_rdb_bytes(&dump)?, 1);
    /// assert_eq!(b.db(3).list("queue")?, vec![b"job1".to_vec(), b"job2".to_vec()]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_rdb_bytes(&self, dump: &[u8]) -> io::Result<usize> {
        use crate::persist::snapshot;
        use crate::state::saving;
        use crate::store::{LockPlan, Mode};
        let state = &*self.state;
        let keyspace = state.keyspace();
        let _pass = keyspace.gate.shared(0);
        let mut plan = LockPlan::new();
        plan.add_all(keyspace, Mode::Write);
        let mut locks = keyspace.lock(&plan);
        let now = keyspace.clock.unix_ms();
        for db in 0..keyspace.databases() {
            locks.db(db, now).flush();
        }
        state.tracking.flushed(&state.sessions);
        let report = snapshot::load_bytes_locked(&mut locks, dump, saving::load_encodings(state))
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
        drop(locks);
        state.scripts.lock().flush_functions();
        saving::restore_functions(state, &report.functions)?;
        Ok(report.keys)
    }

    /// The whole dataset (and FUNCTION libraries) as an RDB file's bytes,
    /// as SAVE would write them.
    pub fn dump_rdb(&self) -> io::Result<Vec<u8>> {
        use crate::persist::snapshot;
        use crate::state::saving;
        let state = &*self.state;
        let _one_snapshot_at_a_time = state.rdb.saving_lock();
        snapshot::save_to_bytes(state.keyspace(), &saving::save_options(state), true)
    }

    /// Makes the next `count` commands, whatever they are and from whichever
    /// client, fail with `error` (the whole error line, code first:
    /// `"ERR injected"`, `"READONLY ..."`) instead of running. Inside MULTI
    /// the failed command aborts the transaction, as a rejected one does.
    ///
    /// ```
    /// use sedis::Frame;
    ///
    /// let server = sedis::Embedded::start()?;
    /// let mut client = server.client();
    /// server.fail_next(1, "LOADING Redis is loading the dataset in memory");
    /// assert_eq!(
    ///     client.call(&["GET", "k"])?,
    ///     Frame::Error(b"LOADING Redis is loading the dataset in memory".to_vec())
    /// );
    /// assert_eq!(client.call(&["GET", "k"])?, Frame::NullBulk, "only once");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fail_next(&self, count: u64, error: &str) {
        self.state.faults.fail_next(count, injected(error));
    }

    /// Makes every command fail with `error` until [`Embedded::clear_faults`].
    pub fn fail_all(&self, error: &str) {
        self.state.faults.fail_all(injected(error));
    }

    /// Makes every call of `command` (by name, any case: `"get"`,
    /// `"EVALSHA"`) fail with `error` until [`Embedded::clear_faults`].
    pub fn fail_command(&self, command: &str, error: &str) {
        self.state.faults.fail_command(command, injected(error));
    }

    /// Disarms every injected command failure.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Makes persistence fail as on a full disk ("No space left on
    /// device"), until called with `false`: writing the dump (SAVE, BGSAVE,
    /// save points) and appending to the append-only file, whose writers
    /// then get no acknowledgement and later writes MISCONF, as in Redis.
    ///
    /// ```
    /// let server = sedis::Embedded::builder()
    ///     .configure(|c| c.dir = std::env::temp_dir().display().to_string())
    ///     .start()?;
    /// server.set_disk_full(true);
    /// assert!(server.client().call(&["SAVE"])?.is_error());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_disk_full(&self, full: bool) {
        self.state.faults.set_disk_full(full);
        self.state
            .aof
            .log
            .disk_full
            .store(full, std::sync::atomic::Ordering::Release);
    }

    /// Drops every client connection, TCP and in-process, as CLIENT KILL
    /// would: their next call fails (an in-process client blocked in a
    /// command gets the UNBLOCKED error first). Returns how many there were.
    ///
    /// ```
    /// let server = sedis::Embedded::builder().listen().start()?;
    /// let mut tcp = server.connect()?;
    /// tcp.call(&["PING"])?; // answered: the server has registered it
    /// let mut local = server.client();
    /// assert_eq!(server.disconnect_all(), 2);
    /// assert!(tcp.call(&["PING"]).is_err());
    /// assert!(local.call(&["PING"]).is_err());
    /// assert!(server.client().call(&["PING"]).is_ok(), "new clients are served");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn disconnect_all(&self) -> usize {
        let clients = self.state.sessions.list();
        for client in &clients {
            client.kill();
            if client.fd < 0 {
                // No socket to shut: end its wait by hand, as CLIENT KILL does.
                self.state.keyspace().blocked.unblock(client.id, true);
            }
        }
        clients.len()
    }

    /// Stops the server and waits for every thread it started. In-process
    /// clients still around fail their next call.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<()> {
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        // In-process clients blocked in a command have no socket for the
        // shutdown to close.
        for client in self.state.sessions.list() {
            if client.fd < 0 {
                client.kill();
                self.state.keyspace().blocked.unblock(client.id, true);
            }
        }
        handle.shutdown()
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// An injected error reply from its text.
fn injected(error: &str) -> CommandError {
    CommandError::from_bytes(error.as_bytes().to_vec())
}

/// Microseconds since the unix epoch (negative before it).
fn unix_us(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    }
}
