//! What every thread shares, below the commands: the configuration, the
//! keyspace, the sessions, the pub/sub registry, statistics, persistence's
//! status, and the shutdown signal ([`State`]); and each connection's own
//! session ([`session`]). The command layer runs a command for a session;
//! it needs no socket.
//!
//! - [`session`]: one connection's state, and the registry of sessions.
//! - [`shutdown`]: the stop signal, and holding replies while it is pending.
//! - [`saving`]: when the dump is written (SAVE, BGSAVE, save points, the
//!   final save) and the saver thread. [`appendonly`]: the append-only
//!   file's rewrites and fsyncs.
//! - [`eviction`]: keeping memory within `maxmemory`.
//! - [`cron`]: the periodic task (INFO's instantaneous rates, memory peak).
//! - [`tracking`]: client-side caching, the keys clients cached and their
//!   invalidation messages.
//! - [`replication`]: the master this server follows, if any, and the sync
//!   counters.
//! - [`faults`]: errors injected on purpose (commands that fail, a full
//!   disk), for testing clients.

pub mod appendonly;
pub mod cron;
pub mod eviction;
pub mod faults;
pub mod histogram;
pub mod saving;
pub mod latency;
pub mod pause;
pub mod replication;
pub mod session;
pub mod shutdown;
pub mod slowlog;
pub mod tracking;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use crate::channels::PubSub;
use crate::clock::unix_ms;
use crate::config::{Config, SetError};
use crate::counter::Counter;
use crate::error::CommandError;
use crate::log::Logger;
use crate::store::Keyspace;

use cron::Metrics;
use session::Sessions;
use shutdown::Shutdown;

/// The command names of one server, after its `rename-command` lines: a
/// renamed command answers only to its new name, and one renamed to `""`
/// to none. Built by `commands::registry::renames`; empty (the usual case)
/// costs one check per request.
#[derive(Debug, Default)]
pub struct Renames {
    /// New name → the command's registry id.
    pub aliases: HashMap<String, usize>,
    /// Ids of commands that lost their own name.
    pub hidden: Vec<usize>,
}

impl Renames {
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty() && self.hidden.is_empty()
    }
}

/// Server-wide counters for INFO stats. Those every request bumps are
/// striped [`Counter`]s: one shared atomic bouncing between the cores cost
/// more than a GET.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: Counter,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: Counter,
    pub total_net_output_bytes: Counter,
    pub total_error_replies: AtomicU64,
    /// Reads from client sockets that returned data.
    pub total_reads_processed: Counter,
    /// Writes of replies to client sockets.
    pub total_writes_processed: Counter,
    /// Failed AUTH / HELLO AUTH attempts.
    pub acl_access_denied_auth: AtomicU64,
    /// Error replies by code (`ERR`, `WRONGTYPE`...): INFO errorstats.
    pub errors_by_code: Mutex<HashMap<String, u64>>,
}

impl ServerStats {
    pub fn count_error(&self, err: &CommandError) {
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        *self
            .errors_by_code
            .lock()
            .entry(err.code().into_owned())
            .or_default() += 1;
    }

    pub fn reset(&self) {
        for counter in [
            &self.total_connections_received,
            &self.rejected_connections,
            &self.total_error_replies,
            &self.acl_access_denied_auth,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        for counter in [
            &self.total_commands_processed,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.total_reads_processed,
            &self.total_writes_processed,
        ] {
            counter.reset();
        }
        self.errors_by_code.lock().clear();
    }
}

/// Per-command counters for INFO commandstats, and the command's latency
/// histogram (LATENCY HISTOGRAM, INFO latencystats).
#[derive(Debug, Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    pub histogram: histogram::LazyHistogram,
}

impl CommandStats {
    pub fn count_call(&self, micros: u64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.usec.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn count_rejected(&self) {
        self.rejected_calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_failed(&self) {
        self.failed_calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn reset(&self) {
        for counter in [
            &self.calls,
            &self.usec,
            &self.rejected_calls,
            &self.failed_calls,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.histogram.reset();
    }
}

/// Everything the server's threads share.
pub struct State {
    config: RwLock<Config>,
    /// Serialises CONFIG SETs: each works on a copy of the configuration
    /// and may rebind the listeners before the copy replaces it.
    config_set: Mutex<()>,
    keyspace: Keyspace,
    pub stats: ServerStats,
    /// Indexed by the registry's command ids.
    pub command_stats: Box<[CommandStats]>,
    pub sessions: Sessions,
    /// Channels, patterns and their subscribers; shared with the keyspace's
    /// expiry hook, which publishes `expired` events.
    pub pubsub: Arc<PubSub>,
    /// Client-side caching: who cached which keys (CLIENT TRACKING).
    pub tracking: Arc<tracking::Tracking>,
    /// Connections in MONITOR mode.
    pub monitors: crate::channels::monitor::Monitors,
    /// SLOWLOG's entries.
    pub slowlog: slowlog::SlowLog,
    /// CLIENT PAUSE.
    pub pause: pause::Pause,
    /// LATENCY's samples.
    pub latency: latency::LatencyMonitor,
    pub shutdown: Shutdown,
    pub log: Logger,
    /// Changes ever made, and how many of them completed saves include:
    /// `rdb_changes_since_last_save` is the difference. Every write bumps
    /// the first, so it is striped; only saves touch the second.
    changes: Counter,
    saved_changes: AtomicU64,
    /// Bumped by every configuration change, so that hot paths can keep
    /// copies of settings and notice when to refresh them.
    config_epoch: AtomicU64,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: AtomicI64,
    /// Background saves and their outcome.
    pub rdb: saving::RdbStatus,
    /// The append-only file.
    pub aof: appendonly::AofState,
    /// The master this server follows, and the sync counters.
    pub repl: replication::ReplicationState,
    /// `maxmemory` and its policy, mirrored for the check before every
    /// command.
    pub memory: eviction::MemoryLimit,
    /// Mirrors "requirepass is set", read on every command.
    password_set: AtomicBool,
    /// The listening sockets (CONFIG SET port / bind rebinds them).
    pub listeners: crate::net::listener::Listeners,
    /// The process's out-of-memory score (`oom-score-adj`).
    pub oom_score: super::process::OomScore,
    /// Commands renamed by `rename-command` lines.
    pub renames: Renames,
    pub started: Instant,
    pub started_unix_ms: i64,
    /// 40 hex characters, new each start (INFO's `run_id`).
    pub run_id: String,
    /// The connections MIGRATE keeps to its targets.
    pub migrate_targets: crate::net::migrate::TargetCache,
    /// Rates sampled by the periodic task (INFO's `instantaneous_*`).
    pub metrics: Metrics,
    /// The most memory seen in use (INFO's `used_memory_peak`).
    memory_peak: AtomicUsize,
    /// Memory in use once the server was set up (`used_memory_startup`).
    memory_startup: AtomicUsize,
    /// The Lua engine: EVAL's script cache and FUNCTION's libraries. Held
    /// by the command that uses it, a script for its whole run.
    pub scripts: Mutex<crate::scripting::Engine>,
    /// The engine's run status, reachable while a script holds the engine:
    /// BUSY replies and SCRIPT KILL read it.
    pub script_status: Arc<crate::scripting::RunStatus>,
    /// The function running now (FUNCTION STATS shows it while the engine
    /// is busy).
    pub running_script: Mutex<Option<RunningScript>>,
    /// Errors injected on purpose (see [`faults`]).
    pub faults: faults::Faults,
    /// Seeds every session's random generator (SPOP, SRANDMEMBER,
    /// RANDOMKEY...) when set, so that the draws repeat from run to run;
    /// `None` seeds each from the process's randomness.
    pub rng_seed: Option<u64>,
}

/// A function in progress, as FUNCTION STATS reports it.
#[derive(Debug, Clone)]
pub struct RunningScript {
    /// The function's name.
    pub name: Vec<u8>,
    /// The command that runs it, as sent.
    pub command: Vec<Vec<u8>>,
    /// When it started (unix ms).
    pub started_ms: i64,
    /// The engine's library and function counts when it started (they
    /// cannot change while it runs; the engine is busy).
    pub libraries: usize,
    pub functions: usize,
}

impl State {
    /// The state of a server whose command table has `commands` commands
    /// and subcommands (the size of its statistics).
    pub fn new(
        config: Config,
        listeners: crate::net::listener::Listeners,
        log: Logger,
        commands: usize,
    ) -> Self {
        let stats = (0..commands).map(|_| CommandStats::default()).collect();
        let password_set = !config.requirepass.is_empty();
        let pubsub = Arc::new(PubSub::default());
        sync_pubsub_config(&pubsub, &config);
        let monitors = crate::channels::monitor::Monitors::default();
        let slowlog = slowlog::SlowLog::default();
        let latency = latency::LatencyMonitor::default();
        sync_observers(&monitors, &slowlog, &latency, &config);
        let memory = eviction::MemoryLimit::default();
        memory.update(config.maxmemory, config.maxmemory_policy);
        let scripts = crate::scripting::Engine::new();
        let script_status = scripts.status();
        let repl = replication::ReplicationState::default();
        repl.sync_config(&config);
        let aof = appendonly::AofState::default();
        aof.log
            .replication
            .set_backlog_size(config.repl_backlog_size.max(1) as usize);
        State {
            keyspace: {
                let keyspace = Keyspace::new(config.databases);
                sync_access_mode(&keyspace, &config);
                keyspace
            },
            config: RwLock::new(config),
            config_set: Mutex::new(()),
            stats: ServerStats::default(),
            command_stats: stats,
            sessions: Sessions::default(),
            tracking: Arc::new(tracking::Tracking::new(pubsub.clone())),
            pubsub,
            monitors,
            slowlog,
            pause: Default::default(),
            latency,
            shutdown: Shutdown::new(),
            log,
            changes: Counter::new(),
            saved_changes: AtomicU64::new(0),
            config_epoch: AtomicU64::new(0),
            lastsave: AtomicI64::new(unix_ms() / 1000),
            rdb: Default::default(),
            aof,
            repl,
            memory,
            password_set: AtomicBool::new(password_set),
            listeners,
            oom_score: Default::default(),
            renames: Default::default(),
            started: Instant::now(),
            started_unix_ms: unix_ms(),
            run_id: new_run_id(),
            migrate_targets: Default::default(),
            metrics: Metrics::default(),
            memory_peak: AtomicUsize::new(0),
            memory_startup: AtomicUsize::new(crate::alloc::used_memory()),
            scripts: Mutex::new(scripts),
            script_status,
            running_script: Mutex::new(None),
            faults: Default::default(),
            rng_seed: None,
        }
    }

    /// The random generator for session `id`: seeded from
    /// [`State::rng_seed`] and the id when a seed is set.
    pub fn session_rng(&self, id: u64) -> crate::rng::Rng {
        match self.rng_seed {
            None => crate::rng::Rng::new(),
            Some(seed) => crate::rng::Rng::with_seed(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        }
    }

    /// The keyspace, to change before the server starts (its clock, its
    /// hash seed).
    pub fn keyspace_mut(&mut self) -> &mut Keyspace {
        &mut self.keyspace
    }

    /// The replication ID (INFO's `master_replid`).
    pub fn replid(&self) -> String {
        self.replication().replid()
    }

    /// The replication stream: what replicas receive.
    pub fn replication(&self) -> &crate::persist::replication::Replication {
        &self.aof.log.replication
    }

    /// A new replication ID (DEBUG CHANGE-REPL-ID).
    pub fn change_replid(&self) {
        self.replication().change_replid();
    }

    pub fn keyspace(&self) -> &Keyspace {
        &self.keyspace
    }

    /// Reads the configuration (a shared lock: keep it short).
    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config.read()
    }

    /// CONFIG SET: sets `pairs` all or nothing ([`Config::set_many`]), then
    /// applies what needs more than a new value, as Redis's apply functions
    /// do: a new `port` or `bind` rebinds the listening sockets, and if that
    /// fails the old configuration stays (with the old sockets back).
    pub fn set_config(
        &self,
        pairs: &[(&[u8], &[u8])],
        protected_allowed: bool,
    ) -> Result<(), SetError> {
        let _one_at_a_time = self.config_set.lock();
        let old = self.config().clone();
        let mut next = old.clone();
        let changed = next.set_many(pairs, protected_allowed)?;
        if let Some(p) = changed
            .iter()
            .find(|p| matches!(p.name, "oom-score-adj" | "oom-score-adj-values"))
        {
            self.oom_score.apply(&next).map_err(|err| {
                self.log.warning(&format!(
                    "Unable to write oom_score_adj: {}",
                    crate::error::strerror(&err)
                ));
                SetError::Failed {
                    name: p.name.as_bytes().to_vec(),
                    reason: "Failed to set current oom_score_adj. Check server logs.".into(),
                }
            })?;
        }
        if let Some(p) = changed.iter().find(|p| matches!(p.name, "port" | "bind")) {
            let reason = match p.name {
                "port" => "Unable to listen on this port. Check server logs.",
                _ => "Failed to bind to specified addresses.",
            };
            let mut binding = next.binding();
            if binding.port == 0 && old.port == 0 {
                // Port 0 picked a free port at start; a new bind keeps it.
                binding.port = self.listeners.port();
            }
            if self.listeners.rebind(&binding, &self.log).is_err() {
                // Undo what was applied before, as Redis's restore does.
                let _ = self.oom_score.apply(&old);
                return Err(SetError::Failed {
                    name: p.name.as_bytes().to_vec(),
                    reason: reason.into(),
                });
            }
        }
        self.update_config(|config| *config = next);
        Ok(())
    }

    /// Changes the configuration through `f`, then refreshes the mirrors that
    /// hot paths read without locking.
    pub fn update_config<R>(&self, f: impl FnOnce(&mut Config) -> R) -> R {
        let mut config = self.config.write();
        let (was_appendonly, was_policy) = (config.appendonly, config.appendfsync);
        let was_maxmemory = config.maxmemory;
        let result = f(&mut config);
        self.config_epoch.fetch_add(1, Ordering::Release);
        self.password_set
            .store(!config.requirepass.is_empty(), Ordering::Release);
        self.log.set_level(config.loglevel);
        sync_pubsub_config(&self.pubsub, &config);
        sync_observers(&self.monitors, &self.slowlog, &self.latency, &config);
        let (appendonly, policy) = (config.appendonly, config.appendfsync);
        let maxmemory = config.maxmemory;
        self.memory.update(maxmemory, config.maxmemory_policy);
        sync_access_mode(&self.keyspace, &config);
        self.repl.sync_config(&config);
        self.aof
            .log
            .replication
            .set_backlog_size(config.repl_backlog_size.max(1) as usize);
        drop(config);
        if maxmemory != was_maxmemory && maxmemory > 0 {
            // As Redis does: a lower limit takes effect at once.
            let used = self.memory.used() as u64;
            if used > maxmemory {
                self.log.warning(&format!(
                    "WARNING: the new maxmemory value set via CONFIG SET ({maxmemory}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
                ));
            }
            eviction::perform_evictions(self, &mut crate::rng::Rng::new());
        }
        // Turning the AOF on writes a base first (on the saver thread);
        // turning it off stops logging. Both as Redis does.
        if appendonly != was_appendonly {
            if appendonly {
                let _ = saving::request_rewrite(self);
            } else if let Err(err) = appendonly::disable(self) {
                self.log.warning(&format!("Error flushing the AOF: {err}"));
            }
        }
        if policy != was_policy {
            self.aof.log.set_policy(policy);
        }
        result
    }

    /// True if clients must authenticate (requirepass is set).
    pub fn password_set(&self) -> bool {
        self.password_set.load(Ordering::Acquire)
    }

    /// The address to connect to (the first listening socket's).
    pub fn local_addr(&self) -> SocketAddr {
        self.listeners
            .local_addr()
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn add_dirty(&self, n: u64) {
        self.changes.add(n);
    }

    /// Removes the changes a completed save included (changes made while it
    /// ran stay counted, as in Redis).
    pub fn subtract_dirty(&self, n: u64) {
        self.saved_changes.fetch_add(n, Ordering::Relaxed);
    }

    pub fn dirty(&self) -> u64 {
        self.changes
            .get()
            .saturating_sub(self.saved_changes.load(Ordering::Relaxed))
    }

    /// Changes whenever the configuration does.
    pub fn config_epoch(&self) -> u64 {
        self.config_epoch.load(Ordering::Acquire)
    }

    /// Reads the memory in use and raises the recorded peak if needed;
    /// returns (used, peak).
    pub fn note_memory_usage(&self) -> (usize, usize) {
        let used = crate::alloc::used_memory();
        let peak = self
            .memory_peak
            .fetch_max(used, Ordering::Relaxed)
            .max(used);
        (used, peak)
    }

    /// Memory in use when the server had just been set up.
    pub fn memory_startup(&self) -> usize {
        self.memory_startup.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT: zeroes the server, command, error and keyspace
    /// statistics and the instantaneous metrics, as Redis's
    /// `resetServerStats` and friends do.
    pub fn reset_stats(&self) {
        self.stats.reset();
        for stats in self.command_stats.iter() {
            stats.reset();
        }
        self.keyspace.stats.reset();
        self.metrics.ops.reset(0);
        self.metrics.net_input.reset(0);
        self.metrics.net_output.reset(0);
    }
}

/// Mirrors the pub/sub options into the atomics publishers read.
fn sync_pubsub_config(pubsub: &PubSub, config: &Config) {
    pubsub.set_notify_flags(config.notify_keyspace_events);
    let limit = config.client_output_buffer_limit[crate::config::ObufClass::Pubsub as usize];
    pubsub
        .limits
        .set(limit.hard_bytes, limit.soft_bytes, limit.soft_seconds);
}

/// Whether lookups count accesses for LFU or stamp them for LRU.
fn sync_access_mode(keyspace: &Keyspace, config: &Config) {
    let lfu = config.maxmemory_policy.is_lfu().then(|| crate::store::lfu::Lfu {
        log_factor: config.lfu_log_factor.clamp(0, i64::from(i32::MAX)) as u32,
        decay_time: config.lfu_decay_time.clamp(0, i64::from(i32::MAX)) as u32,
    });
    keyspace.access.set(lfu);
}

/// The settings MONITOR, SLOWLOG and LATENCY read on every command.
fn sync_observers(
    monitors: &crate::channels::monitor::Monitors,
    slowlog: &slowlog::SlowLog,
    latency: &latency::LatencyMonitor,
    config: &Config,
) {
    latency.configure(config.latency_monitor_threshold, config.latency_tracking);
    let limit = config.client_output_buffer_limit[crate::config::ObufClass::Normal as usize];
    monitors
        .limits
        .set(limit.hard_bytes, limit.soft_bytes, limit.soft_seconds);
    slowlog.configure(config.slowlog_log_slower_than, config.slowlog_max_len);
}

fn new_run_id() -> String {
    crate::persist::replication::new_replid()
}
