//! Configuration: every Redis 7.0 directive, from `redis.conf`-style files,
//! the command line and CONFIG SET, reported by CONFIG GET and written back
//! by CONFIG REWRITE.
//!
//! - [`Config`]: the values, with Redis's defaults (sedis's own port and
//!   bind address aside); [`Inert`] holds those of directives that
//!   configure nothing in sedis.
//! - `params`: the parameter table, one line per directive, and the
//!   parsers behind it; `units`: memory units and C's number readers.
//! - `load`: files, `include`, `rename-command`, `user` lines and the
//!   command line; `rewrite`: CONFIG REWRITE.

mod inert;
mod load;
#[doc(hidden)]
pub mod params;
mod rewrite;
pub mod units;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use crate::log::LogLevel;
pub use crate::persist::aof::FsyncPolicy;
pub use crate::store::evict::Policy;
pub use inert::Inert;
pub use load::ConfigError;
pub(crate) use params::{Param, lookup};

use crate::glob::Pattern;
use crate::store::types::hash::HashLimits;
use crate::store::types::zset::ZSetLimits;
use params::Choice;

/// The server's configuration, one field per directive that has an effect
/// (named after it); the rest are in [`Config::inert`].
#[derive(Debug, Clone)]
pub struct Config {
    // Network.
    /// TCP port; 0 picks a free one (Redis: no TCP at all).
    pub port: u16,
    /// Addresses to listen on; a leading `-` makes one optional (skipped if
    /// it cannot be bound).
    pub bind: Vec<String>,
    /// The listen queue's length.
    pub tcp_backlog: i64,
    /// TCP keep-alive probes every this many seconds (0: off).
    pub tcp_keepalive: i64,
    /// With no password, refuse clients that are not on loopback.
    pub protected_mode: bool,
    /// Idle seconds before a client is closed; 0 = never.
    pub timeout: u64,

    // General.
    /// Fork into the background at start-up (`sedis-server` only).
    pub daemonize: bool,
    /// Tell a supervisor (systemd, upstart) when the server is ready.
    pub supervised: Supervised,
    /// Where the process id is written (empty: nowhere unless daemonized).
    pub pidfile: String,
    /// The least severe level logged.
    pub loglevel: LogLevel,
    /// Log file; empty = standard error (nowhere once daemonized).
    pub logfile: String,
    /// Also log to syslog, as `syslog_ident`, in `syslog_facility`.
    pub syslog_enabled: bool,
    /// The name syslog lines carry.
    pub syslog_ident: String,
    /// A `LOG_*` facility code.
    pub syslog_facility: u32,
    /// How many databases SELECT can choose from.
    pub databases: usize,
    /// How many times a second the periodic task runs (instantaneous
    /// metrics, memory peak); kept within 1..=500 as Redis keeps it.
    pub hz: u32,
    /// Most keys client-side caching remembers (0: no limit); over it,
    /// random keys are invalidated early.
    pub tracking_table_max_keys: u64,
    /// Who may run DEBUG.
    pub enable_debug_command: ProtectedAction,
    /// Who may change `dir` and `dbfilename` with CONFIG SET.
    pub enable_protected_configs: ProtectedAction,
    /// What SIGINT and SIGTERM do: `SHUTDOWN_*` flags of [`params`].
    pub shutdown_on_sigint: u32,
    /// What SIGTERM does, likewise.
    pub shutdown_on_sigterm: u32,
    /// How the kernel's out-of-memory killer ranks the process.
    pub oom_score_adj: OomScoreAdj,
    /// The ranks for a master, a replica and a background child.
    pub oom_score_adj_values: [i32; 3],

    // Snapshotting.
    /// Save points: save when at least `changes` writes happened in
    /// `seconds` (Redis's default: 3600 1, 300 100, 60 10000).
    pub save: Vec<(i64, i64)>,
    /// Refuse writes while the last background save failed (MISCONF).
    pub stop_writes_on_bgsave_error: bool,
    /// LZF-compress long strings in the dump.
    pub rdbcompression: bool,
    /// Commands that take at least this many microseconds go into the
    /// slow log (-1: none, 0: all).
    pub slowlog_log_slower_than: i64,
    /// The slow log keeps this many entries, the newest.
    pub slowlog_max_len: i64,
    /// Latencies of at least this many milliseconds are sampled (0: off).
    pub latency_monitor_threshold: i64,
    /// Keep a latency histogram per command (LATENCY HISTOGRAM).
    pub latency_tracking: bool,
    /// The percentiles INFO latencystats lists.
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// End the dump with a CRC-64 checksum (and check it when loading).
    pub rdbchecksum: bool,
    /// The dump's file name, in `dir`.
    pub dbfilename: String,
    /// Directory of the dump and the append-only files.
    pub dir: String,

    // Security and clients.
    /// The default user's password (`AUTH`).
    pub requirepass: String,
    /// The most clients served at once: the worker pool's size.
    pub maxclients: usize,
    /// The longest argument a client may send.
    pub proto_max_bulk_len: u64,
    /// The most a client may have sent and not yet had executed.
    pub client_query_buffer_limit: u64,
    /// Output-buffer limits per client class, indexed by [`ObufClass`].
    pub client_output_buffer_limit: [ObufLimit; 3],

    // Replication.
    /// Send full syncs straight from the snapshot to replicas that can read them (the `$EOF:` form).
    pub repl_diskless_sync: bool,
    /// How much of the replication stream is kept for partial resyncs.
    pub repl_backlog_size: i64,
    /// Seconds without replicas after which the backlog is freed (0: never).
    pub repl_backlog_ttl: i64,
    /// Seconds between the PINGs a master sends its replicas.
    pub repl_ping_replica_period: i64,
    /// Seconds of silence after which a replication link is considered down.
    pub repl_timeout: i64,
    /// The password a replica authenticates to its master with.
    pub masterauth: String,
    /// The user a replica authenticates to its master as.
    pub masteruser: String,
    /// A replica refuses writes from its clients.
    pub replica_read_only: bool,
    /// A replica whose link is down still answers (else MASTERDOWN).
    pub replica_serve_stale_data: bool,
    /// Writes are refused unless this many replicas are connected and recent.
    pub min_replicas_to_write: i64,
    /// Seconds since its last ACK within which a replica counts for `min-replicas-to-write`.
    pub min_replicas_max_lag: i64,
    /// Sentinel's preference when choosing a replica to promote (0: never).
    pub replica_priority: i64,
    /// Whether Sentinel lists this replica.
    pub replica_announced: bool,
    /// The address a replica announces to its master.
    pub replica_announce_ip: String,
    /// The port a replica announces to its master.
    pub replica_announce_port: i64,
    /// The master this server replicates at start-up.
    pub replicaof: Option<(String, u16)>,

    // Memory.
    /// Memory limit in bytes (0: none); past it, keys are evicted by
    /// `maxmemory_policy` before commands run.
    pub maxmemory: u64,
    /// Which keys go first when memory is over `maxmemory`.
    pub maxmemory_policy: Policy,
    /// How slowly an LFU counter grows with accesses.
    pub lfu_log_factor: i64,
    /// Minutes idle per point an LFU counter loses (0: never).
    pub lfu_decay_time: i64,

    // Append-only file.
    /// Log every write to the append-only file.
    pub appendonly: bool,
    /// The AOF files' base name.
    pub appendfilename: String,
    /// The directory, in `dir`, holding the AOF files.
    pub appenddirname: String,
    /// When the AOF is fsynced.
    pub appendfsync: FsyncPolicy,
    /// Skip fsyncs while a rewrite is writing its base.
    pub no_appendfsync_on_rewrite: bool,
    /// Rewrite by itself once the AOF grew this many percent past its size
    /// after the last rewrite (0: never)...
    pub auto_aof_rewrite_percentage: i64,
    /// ...and is at least this big.
    pub auto_aof_rewrite_min_size: i64,
    /// Load an AOF cut short by a crash up to its last complete command.
    pub aof_load_truncated: bool,

    // Encodings.
    /// `hash-max-listpack-entries` / `-value`: the largest hashes kept in
    /// the compact encoding.
    pub hash_max_listpack_entries: usize,
    /// The longest field or value a compact hash may hold.
    pub hash_max_listpack_value: usize,
    /// The largest integer-only sets kept as intsets.
    pub set_max_intset_entries: usize,
    /// The largest sorted sets kept in the compact encoding.
    pub zset_max_listpack_entries: usize,
    /// The longest member a compact sorted set may hold.
    pub zset_max_listpack_value: usize,
    /// `stream-node-max-entries`: entries (deleted ones included) a
    /// stream node holds before a new one starts; 0: no limit.
    pub stream_node_max_entries: i64,
    /// `stream-node-max-bytes`: the listpack size a stream node stays
    /// under; 0: Redis's 1 GB cap only.
    pub stream_node_max_bytes: u64,
    /// `hll-sparse-max-bytes`: the size (header included) past which a
    /// sparse HyperLogLog turns dense.
    pub hll_sparse_max_bytes: u64,

    /// Which keyspace events are published (class bits of
    /// [`crate::channels::notify`]); 0: none, the default.
    pub notify_keyspace_events: u32,

    /// Milliseconds a script may run before other clients are answered
    /// BUSY and SCRIPT KILL may stop it (`busy-reply-threshold`, formerly
    /// `lua-time-limit`); 0: at once.
    pub busy_reply_threshold: i64,

    /// Directives stored and reported, with no effect in sedis.
    pub inert: Inert,

    /// The configuration file the server was started with, as an absolute
    /// path: INFO shows it and CONFIG REWRITE writes to it. Not a directive.
    pub config_file: Option<PathBuf>,
    /// `rename-command old new` lines, in order (an empty new name removes
    /// the command). Only a file can rename commands.
    pub renamed_commands: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6380,
            bind: vec!["127.0.0.1".into()],
            tcp_backlog: 511,
            tcp_keepalive: 300,
            protected_mode: true,
            timeout: 0,
            daemonize: false,
            supervised: Supervised::No,
            pidfile: String::new(),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            syslog_enabled: false,
            syslog_ident: "redis".into(),
            syslog_facility: libc::LOG_LOCAL0 as u32,
            databases: 16,
            hz: 10,
            tracking_table_max_keys: 1_000_000,
            enable_debug_command: ProtectedAction::No,
            enable_protected_configs: ProtectedAction::No,
            shutdown_on_sigint: 0,
            shutdown_on_sigterm: 0,
            oom_score_adj: OomScoreAdj::No,
            oom_score_adj_values: [0, 200, 800],
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            stop_writes_on_bgsave_error: true,
            rdbcompression: true,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            rdbchecksum: true,
            dbfilename: "dump.rdb".into(),
            dir: ".".into(),
            requirepass: String::new(),
            maxclients: 10000,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            client_output_buffer_limit: DEFAULT_OBUF_LIMITS,
            repl_diskless_sync: true,
            repl_backlog_size: 1 << 20,
            repl_backlog_ttl: 60 * 60,
            repl_ping_replica_period: 10,
            repl_timeout: 60,
            masterauth: "".into(),
            masteruser: "".into(),
            replica_read_only: true,
            replica_serve_stale_data: true,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            replica_priority: 100,
            replica_announced: true,
            replica_announce_ip: "".into(),
            replica_announce_port: 0,
            replicaof: None,
            maxmemory: 0,
            maxmemory_policy: Policy::NoEviction,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            appendonly: false,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            appendfsync: FsyncPolicy::EverySec,
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            aof_load_truncated: true,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
            hll_sparse_max_bytes: 3000,
            notify_keyspace_events: 0,
            busy_reply_threshold: 5000,
            inert: Inert::default(),
            config_file: None,
            renamed_commands: Vec::new(),
        }
    }
}

impl Config {
    /// The defaults, built once (CONFIG REWRITE compares against them).
    pub fn defaults() -> &'static Config {
        static DEFAULTS: OnceLock<Config> = OnceLock::new();
        DEFAULTS.get_or_init(Config::default)
    }

    /// The listpack limits of hashes (`hash-max-listpack-*`).
    pub fn hash_limits(&self) -> HashLimits {
        HashLimits {
            max_entries: self.hash_max_listpack_entries,
            max_value: self.hash_max_listpack_value,
        }
    }

    /// The listpack limits of sorted sets (`zset-max-listpack-*`).
    pub fn zset_limits(&self) -> ZSetLimits {
        ZSetLimits {
            max_entries: self.zset_max_listpack_entries,
            max_value: self.zset_max_listpack_value,
        }
    }

    /// When a stream's node is full (`stream-node-max-*`).
    pub fn stream_limits(&self) -> crate::store::types::stream::StreamLimits {
        crate::store::types::stream::StreamLimits {
            max_bytes: self.stream_node_max_bytes,
            max_entries: self.stream_node_max_entries,
        }
    }

    /// The encoding limits a loaded dump's values follow.
    pub fn encodings(&self) -> crate::persist::rdb::Encodings {
        crate::persist::rdb::Encodings {
            hash: self.hash_limits(),
            zset: self.zset_limits(),
            set_max_intset_entries: self.set_max_intset_entries,
        }
    }

    /// The listening sockets this configuration asks for.
    pub fn binding(&self) -> crate::net::listener::Binding {
        crate::net::listener::Binding {
            addresses: self.bind.clone(),
            port: self.port,
            backlog: self.tcp_backlog.clamp(0, i64::from(i32::MAX)) as i32,
        }
    }

    /// `dir` as an absolute path, as Redis reports its working directory.
    pub fn dir_absolute(&self) -> String {
        std::fs::canonicalize(&self.dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| self.dir.clone())
    }

    /// What Redis's apply step does to values after they are set: `hz` is
    /// a hint, kept within what the periodic task can do.
    fn normalize(&mut self) {
        self.hz = self.hz.clamp(1, 500);
    }

    /// CONFIG SET: sets several parameters at once, all or nothing, as
    /// Redis 7.0 does. Names are checked first (unknown, immutable,
    /// protected, repeated: the first problem wins); then the values are
    /// set one by one into a copy, which replaces this configuration only
    /// if every value was accepted. `protected_allowed` says whether the
    /// client may change [`params::PROTECTED`] parameters.
    ///
    /// Returns the parameters whose value changed, for the caller to apply
    /// (rebind the port, start the AOF...).
    ///
    /// Names and values are a client's bytes. Every value is text, so one
    /// that is not UTF-8 is refused rather than stored altered.
    pub fn set_many(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        protected_allowed: bool,
    ) -> Result<Vec<&'static Param>, SetError> {
        let mut params: Vec<&'static Param> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let Some(p) = std::str::from_utf8(name).ok().and_then(lookup) else {
                return Err(SetError::Unknown(name.to_vec()));
            };
            let refused = |reason: &str| SetError::Failed {
                name: name.to_vec(),
                reason: reason.into(),
            };
            if p.is(params::IMMUTABLE) {
                return Err(refused("can't set immutable config"));
            }
            if p.is(params::PROTECTED) && !protected_allowed {
                return Err(refused("can't set protected config"));
            }
            if params.iter().any(|seen| std::ptr::eq(*seen, p)) {
                return Err(refused("duplicate parameter"));
            }
            params.push(p);
        }
        let mut next = self.clone();
        let mut changed = Vec::new();
        for (p, (typed, value)) in params.iter().zip(pairs) {
            // A value problem names the parameter as registered: its own
            // name, or the alias the client used (in lowercase).
            let registered = match p.alias {
                Some(alias) if alias.as_bytes().eq_ignore_ascii_case(typed) => alias,
                _ => p.name,
            };
            let fail = |reason| SetError::Failed {
                name: registered.as_bytes().to_vec(),
                reason,
            };
            let value = std::str::from_utf8(value)
                .map_err(|_| fail("argument must be valid UTF-8".into()))?;
            let before = p.get(&next);
            // Several words are split on single spaces, as Redis splits
            // them: `save "60  1"` has an empty word and is refused.
            let args: Vec<&str> = if !p.is(params::MULTI_ARG) {
                vec![value]
            } else if value.is_empty() {
                Vec::new()
            } else {
                value.split(' ').collect()
            };
            p.set(&mut next, &args).map_err(fail)?;
            if p.get(&next) != before {
                changed.push(*p);
            }
            if p.name == "repl-backlog-size" {
                // Redis's apply step resizes the backlog, never below its
                // minimum (at start-up the value is kept as given).
                next.repl_backlog_size = next.repl_backlog_size.max(16 * 1024);
            }
        }
        next.normalize();
        *self = next;
        Ok(changed)
    }

    /// CONFIG GET: the parameters that match any of `patterns`, as (name
    /// shown, value) pairs. A name without glob characters is looked up
    /// directly (hidden parameters too) and shown as typed; a pattern
    /// matches names and aliases, ignoring case. Each name appears once,
    /// compared without case, as in Redis.
    pub fn get_matching(&self, patterns: &[Vec<u8>]) -> Vec<(Vec<u8>, String)> {
        let mut found: Vec<(Vec<u8>, &'static Param)> = Vec::new();
        let seen = |found: &Vec<(Vec<u8>, &'static Param)>, name: &[u8]| {
            found.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        for arg in patterns {
            if !arg.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
                if let Some(p) = std::str::from_utf8(arg).ok().and_then(lookup)
                    && !seen(&found, arg)
                {
                    found.push((arg.clone(), p));
                }
                continue;
            }
            let pattern = Pattern::new(arg, true);
            for (name, p) in params::listed_names() {
                if !seen(&found, name.as_bytes()) && pattern.matches(name.as_bytes()) {
                    found.push((name.as_bytes().to_vec(), p));
                }
            }
        }
        found
            .into_iter()
            .map(|(name, p)| {
                let value = p.get(self);
                (name, value)
            })
            .collect()
    }
}

/// Why CONFIG SET refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// No such parameter (Redis: `Unknown option or number of arguments`).
    Unknown(Vec<u8>),
    /// The parameter (named as the client typed it for name problems, by
    /// its own name for value problems) could not be set.
    Failed {
        /// The parameter's name.
        name: Vec<u8>,
        /// Redis's reason text.
        reason: String,
    },
}

/// The client classes `client-output-buffer-limit` configures, in the
/// order CONFIG GET lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObufClass {
    /// Ordinary clients.
    Normal = 0,
    /// Replicas (Redis's `slave`).
    Replica = 1,
    /// Clients subscribed to channels.
    Pubsub = 2,
}

impl ObufClass {
    /// Redis's `getClientTypeByName` (any case); `master` is a class
    /// there but cannot be limited.
    fn parse(name: &str) -> Option<ObufClass> {
        match name.to_ascii_lowercase().as_str() {
            "normal" => Some(ObufClass::Normal),
            "slave" | "replica" => Some(ObufClass::Replica),
            "pubsub" => Some(ObufClass::Pubsub),
            _ => None,
        }
    }

    /// The name CONFIG GET shows (Redis still says `slave`).
    fn get_name(self) -> &'static str {
        ["normal", "slave", "pubsub"][self as usize]
    }

    /// The name CONFIG REWRITE writes.
    fn rewrite_name(self) -> &'static str {
        ["normal", "replica", "pubsub"][self as usize]
    }

    const ALL: [ObufClass; 3] = [ObufClass::Normal, ObufClass::Replica, ObufClass::Pubsub];
}

/// One class's output-buffer limit: disconnect at `hard_bytes` pending, or
/// after more than `soft_seconds` over `soft_bytes` (0 bytes: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObufLimit {
    /// Disconnect as soon as this much is pending (0: never).
    pub hard_bytes: u64,
    /// Disconnect when this much stays pending for `soft_seconds`.
    pub soft_bytes: u64,
    /// How long `soft_bytes` may be exceeded.
    pub soft_seconds: u64,
}

/// Redis's defaults: `normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60`.
pub const DEFAULT_OBUF_LIMITS: [ObufLimit; 3] = [
    ObufLimit {
        hard_bytes: 0,
        soft_bytes: 0,
        soft_seconds: 0,
    },
    ObufLimit {
        hard_bytes: 256 << 20,
        soft_bytes: 64 << 20,
        soft_seconds: 60,
    },
    ObufLimit {
        hard_bytes: 32 << 20,
        soft_bytes: 8 << 20,
        soft_seconds: 60,
    },
];

/// Who may use a protected command (DEBUG) or change a protected
/// parameter: nobody, everybody, or only clients on the loopback interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAction {
    /// Nobody.
    No,
    /// Every client.
    Yes,
    /// Clients connected from 127.0.0.1 or ::1.
    Local,
}

impl ProtectedAction {
    /// The names a configuration uses, with each value's discriminant.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("no", ProtectedAction::No as u32),
        ("yes", ProtectedAction::Yes as u32),
        ("local", ProtectedAction::Local as u32),
    ];

    /// True if a client connected from `peer` may do it.
    pub fn allows(self, peer: std::net::IpAddr) -> bool {
        match self {
            ProtectedAction::No => false,
            ProtectedAction::Yes => true,
            ProtectedAction::Local => is_local_address(peer),
        }
    }
}

/// Redis's `islocalClient` for TCP: the textual address is "127.0.0.1" or
/// "::1" (so 127.0.0.2 is not local, unlike `IpAddr::is_loopback`).
pub fn is_local_address(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        std::net::IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// `supervised`: which supervisor to tell that the server is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supervised {
    /// No supervisor.
    No,
    /// Upstart: the server stops itself (SIGSTOP) when ready.
    Upstart,
    /// systemd: `READY=1` on `$NOTIFY_SOCKET`.
    Systemd,
    /// Upstart or systemd, whichever the environment shows.
    Auto,
}

impl Supervised {
    /// The names a configuration uses, with each value's discriminant.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("upstart", Supervised::Upstart as u32),
        ("systemd", Supervised::Systemd as u32),
        ("auto", Supervised::Auto as u32),
        ("no", Supervised::No as u32),
    ];
}

/// `oom-score-adj`: leave the out-of-memory score alone, set it relative
/// to the score the server started with, or set it outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomScoreAdj {
    /// Leave the score as the process started with it.
    No,
    /// The score it started with plus the configured value.
    Relative,
    /// The configured value.
    Absolute,
}

impl OomScoreAdj {
    /// `yes` is the old name of `relative` (CONFIG GET shows `yes`).
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("no", OomScoreAdj::No as u32),
        ("yes", OomScoreAdj::Relative as u32),
        ("relative", OomScoreAdj::Relative as u32),
        ("absolute", OomScoreAdj::Absolute as u32),
    ];
}

/// The enumerated parameters' types, stored in the parameter table by
/// their discriminant (each list is the type's variants in discriminant
/// order).
macro_rules! choice_for {
    ($($ty:ty: $all:expr;)*) => {
        $(impl Choice for $ty {
            fn to_config(self) -> u32 {
                self as u32
            }
            fn from_config(value: u32) -> Self {
                let all: &[$ty] = &$all;
                all[value as usize % all.len()]
            }
        })*
    };
}

choice_for! {
    ProtectedAction: [ProtectedAction::No, ProtectedAction::Yes, ProtectedAction::Local];
    Supervised: [Supervised::No, Supervised::Upstart, Supervised::Systemd, Supervised::Auto];
    OomScoreAdj: [OomScoreAdj::No, OomScoreAdj::Relative, OomScoreAdj::Absolute];
    LogLevel: [LogLevel::Debug, LogLevel::Verbose, LogLevel::Notice, LogLevel::Warning, LogLevel::Nothing];
    Policy: Policy::ALL;
    FsyncPolicy: FsyncPolicy::ALL;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_many_is_all_or_nothing() {
        let mut c = Config::default();
        let err = c
            .set_many(&[(b"timeout", b"5"), (b"maxclients", b"0")], false)
            .unwrap_err();
        assert_eq!(
            err,
            SetError::Failed {
                name: b"maxclients".to_vec(),
                reason: "argument must be between 1 and 4294967295 inclusive".into()
            }
        );
        assert_eq!(c.timeout, 0, "the valid half was not applied");
        // Name problems are reported with the name as typed.
        let err = c.set_many(&[(b"Daemonize", b"yes")], false).unwrap_err();
        assert_eq!(
            err,
            SetError::Failed {
                name: b"Daemonize".to_vec(),
                reason: "can't set immutable config".into()
            }
        );
        let err = c.set_many(&[(b"dir", b"/")], false).unwrap_err();
        assert!(
            matches!(err, SetError::Failed { reason, .. } if reason == "can't set protected config")
        );
        let err = c
            .set_many(&[(b"timeout", b"1"), (b"TIMEOUT", b"2")], false)
            .unwrap_err();
        assert!(matches!(err, SetError::Failed { reason, .. } if reason == "duplicate parameter"));
        // An alias is the same parameter.
        let err = c
            .set_many(
                &[(b"slave-read-only", b"no"), (b"replica-read-only", b"no")],
                false,
            )
            .unwrap_err();
        assert!(matches!(err, SetError::Failed { reason, .. } if reason == "duplicate parameter"));
        assert_eq!(
            c.set_many(&[(b"nosuch", b"1"), (b"port", b"1")], false),
            Err(SetError::Unknown(b"nosuch".to_vec()))
        );
        let err = c.set_many(&[(b"requirepass", b"\xff")], false).unwrap_err();
        assert!(matches!(err, SetError::Failed { reason, .. } if reason.contains("UTF-8")));
        let changed = c
            .set_many(
                &[(b"timeout", b"5"), (b"hz", b"1000"), (b"port", b"6380")],
                false,
            )
            .unwrap();
        assert_eq!((c.timeout, c.hz), (5, 500));
        let names: Vec<&str> = changed.iter().map(|p| p.name).collect();
        assert_eq!(names, ["timeout", "hz"], "port kept its value");
    }

    #[test]
    fn multi_word_values_split_on_single_spaces() {
        let mut c = Config::default();
        c.set_many(&[(b"save", b"10 1 20 2")], false).unwrap();
        assert_eq!(c.save, [(10, 1), (20, 2)]);
        let err = c.set_many(&[(b"save", b"10 1  20 2")], false).unwrap_err();
        assert!(
            matches!(err, SetError::Failed { reason, .. } if reason == "Invalid save parameters")
        );
        c.set_many(&[(b"save", b"")], false).unwrap();
        assert!(c.save.is_empty());
    }

    #[test]
    fn get_matches_names_and_aliases_once() {
        let c = Config::default();
        let shown = |patterns: &[&str]| -> Vec<String> {
            let patterns: Vec<Vec<u8>> = patterns.iter().map(|p| p.as_bytes().to_vec()).collect();
            c.get_matching(&patterns)
                .into_iter()
                .map(|(n, _)| String::from_utf8(n).unwrap())
                .collect()
        };
        assert_eq!(shown(&["PORT", "por?"]), ["PORT"]);
        assert_eq!(
            shown(&["slave-read-only", "replica-read-only", "repl*-only"]),
            ["slave-read-only", "replica-read-only"]
        );
        // Hidden parameters answer to their exact name only.
        assert_eq!(shown(&["key-load-delay"]), ["key-load-delay"]);
        assert!(shown(&["key-load-*"]).is_empty());
        assert_eq!(shown(&["*"]).len(), 192);
    }

    #[test]
    fn local_means_exactly_the_loopback_addresses() {
        assert!(is_local_address("127.0.0.1".parse().unwrap()));
        assert!(is_local_address("::1".parse().unwrap()));
        assert!(!is_local_address("127.0.0.2".parse().unwrap()));
        assert!(!is_local_address("10.0.0.1".parse().unwrap()));
        assert!(ProtectedAction::Local.allows("::1".parse().unwrap()));
        assert!(!ProtectedAction::No.allows("::1".parse().unwrap()));
        assert!(ProtectedAction::Yes.allows("10.0.0.1".parse().unwrap()));
    }
}
