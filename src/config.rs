//! Configuration: defaults, `redis.conf`-style files, command-line options,
//! the parameter table CONFIG GET / CONFIG SET work through, and CONFIG
//! REWRITE.
//!
//! Every option is a row in [`PARAMS`]: its name, whether it can change at
//! run time, how to parse it, how CONFIG GET shows it and how CONFIG REWRITE
//! writes it. Files, flags and CONFIG SET all go through the same parsers, so
//! a value is accepted or rejected the same way wherever it comes from, with
//! Redis's error texts.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::log::LogLevel;
use crate::resp::reader::split_args;
use crate::store::types::hash::HashLimits;
use crate::store::types::zset::ZSetLimits;

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: String,
    /// The most clients served at once: the worker pool's size.
    pub maxclients: usize,
    /// Idle seconds before a client is closed; 0 = never.
    pub timeout: u64,
    pub databases: usize,
    pub loglevel: LogLevel,
    /// Log file; empty = standard error.
    pub logfile: String,
    pub proto_max_bulk_len: u64,
    /// Memory limit in bytes (0: none); past it, keys are evicted by
    /// `maxmemory_policy` before commands run.
    pub maxmemory: u64,
    pub maxmemory_policy: crate::store::evict::Policy,
    /// Accepted for compatibility: sedis evicts in exact LRU order, so it
    /// has no sample size to tune.
    pub maxmemory_samples: u32,
    pub client_query_buffer_limit: u64,
    /// Save points: save when at least `changes` writes happened in
    /// `seconds` (Redis's default: 3600 1, 300 100, 60 10000).
    pub save: Vec<(u64, u64)>,
    pub appendonly: bool,
    /// Directory of the dump (and, later, the append-only file).
    pub dir: String,
    pub dbfilename: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// Refuse writes while the last background save failed (MISCONF).
    pub stop_writes_on_bgsave_error: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    pub appendfsync: crate::persist::aof::FsyncPolicy,
    /// Load a truncated AOF up to its last complete command (and fix it).
    pub aof_load_truncated: bool,
    /// Size of a list's quicklist nodes (negative: -1..-5 for 4..64 KB).
    /// Lists are not stored in nodes here; the value is kept and reported.
    pub list_max_listpack_size: i64,
    /// Sorted sets with more members use the skiplist encoding.
    pub zset_max_listpack_entries: usize,
    /// `hash-max-listpack-entries` / `hash-max-listpack-value`: the
    /// largest hashes kept in the compact encoding.
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`: the largest integer-only sets kept as
    /// intsets.
    pub set_max_intset_entries: usize,
    /// Sorted sets with a longer member use the skiplist encoding.
    pub zset_max_listpack_value: usize,
    /// How many times a second the server's periodic task runs (it samples
    /// the instantaneous metrics and the memory peak). Clamped to 1..=500
    /// as Redis clamps it.
    pub hz: u32,
    /// Who may run DEBUG (Redis's `enable-debug-command`).
    pub enable_debug_command: ProtectedAction,
    /// Which keyspace events are published (class bits of
    /// [`crate::pubsub::notify`]); 0: none, the default.
    pub notify_keyspace_events: u32,
    /// Output-buffer limits per client class, indexed by [`ObufClass`].
    pub client_output_buffer_limit: [ObufLimit; 3],
    /// The configuration file the server was started with, as an absolute
    /// path: INFO shows it and CONFIG REWRITE writes to it. Not a directive.
    pub config_file: Option<PathBuf>,
}

/// The client classes `client-output-buffer-limit` configures, in the
/// order CONFIG GET lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObufClass {
    Normal = 0,
    Replica = 1,
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
    pub hard_bytes: u64,
    pub soft_bytes: u64,
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

/// Parses `<class> <hard> <soft> <seconds>` groups and updates the classes
/// named, all or nothing (Redis's `updateClientOutputBufferLimit`).
fn set_obuf_limits(c: &mut Config, v: &str) -> Result<(), String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = c.client_output_buffer_limit;
    for group in words.chunks(4) {
        let class = ObufClass::parse(group[0]).ok_or_else(|| {
            "Invalid client class specified in buffer limit configuration.".to_string()
        })?;
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = parse_memory(group[1]).ok_or_else(bad)?;
        let soft = parse_memory(group[2]).ok_or_else(bad)?;
        let seconds = group[3].parse::<i64>().ok().filter(|s| *s >= 0);
        let seconds = seconds.ok_or_else(bad)?;
        limits[class as usize] = ObufLimit {
            hard_bytes: hard,
            soft_bytes: soft,
            soft_seconds: seconds as u64,
        };
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

/// Who may use a protected command (DEBUG): nobody, everybody, or only
/// clients connected through the loopback interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAction {
    No,
    Yes,
    Local,
}

impl ProtectedAction {
    const NAMES: &'static [(&'static str, ProtectedAction)] = &[
        ("no", ProtectedAction::No),
        ("yes", ProtectedAction::Yes),
        ("local", ProtectedAction::Local),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("no", |(n, _)| n)
    }

    /// True if a client connected from `peer` may run the command.
    /// Like Redis, "local" means exactly 127.0.0.1 or ::1.
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

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6380,
            bind: vec!["127.0.0.1".into()],
            protected_mode: true,
            requirepass: String::new(),
            maxclients: 10000,
            timeout: 0,
            databases: 16,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 512 * 1024 * 1024,
            maxmemory: 0,
            maxmemory_policy: crate::store::evict::Policy::NoEviction,
            maxmemory_samples: 5,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            appendonly: false,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            rdbcompression: true,
            rdbchecksum: true,
            stop_writes_on_bgsave_error: true,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            appendfsync: crate::persist::aof::FsyncPolicy::EverySec,
            aof_load_truncated: true,
            list_max_listpack_size: -2,
            zset_max_listpack_entries: 128,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_value: 64,
            hz: 10,
            enable_debug_command: ProtectedAction::No,
            notify_keyspace_events: 0,
            client_output_buffer_limit: DEFAULT_OBUF_LIMITS,
            config_file: None,
        }
    }
}

/// A configuration error, worded like Redis's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The option name as given.
    pub name: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}': {}", self.name, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// How CONFIG REWRITE writes a parameter (Redis's per-type rewrite rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// `name value` as CONFIG GET shows it (numbers, yes/no, enums, bind).
    Plain,
    /// `name "value"`, quoted and escaped (file names).
    Quoted,
    /// Like `Quoted`, but an empty value means "unset": the directive is
    /// removed from the file instead of written (requirepass).
    QuotedOrAbsent,
    /// A byte count, written with the largest exact unit (`512mb`).
    Memory,
    /// One `save <seconds> <changes>` line per save point, or `save ""`;
    /// always written, so the file never falls back to a default.
    Save,
    /// One `client-output-buffer-limit <class> <hard> <soft> <seconds>`
    /// line per client class, written where it differs from the default.
    ObufLimits,
}

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    /// False for options that can only be set at start-up.
    pub mutable: bool,
    /// Multi-word values (`save 3600 1 300 100`, `bind a b`) arrive joined by
    /// spaces.
    pub multi_word: bool,
    pub rewrite: Rewrite,
    /// Parses a value.
    pub set: fn(&mut Config, &str) -> Result<(), String>,
    /// Formats the value as CONFIG GET shows it.
    pub get: fn(&Config) -> String,
}

/// Every parameter, in the order CONFIG GET * lists them.
pub static PARAMS: &[Param] = &[
    Param {
        name: "port",
        // Redis re-binds on CONFIG SET port; sedis's acceptor owns its
        // listener for the server's lifetime.
        mutable: false,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.port = int_in(v, 0, 65535)? as u16;
            Ok(())
        },
        get: |c| c.port.to_string(),
    },
    Param {
        name: "bind",
        mutable: false,
        multi_word: true,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            let addrs: Vec<String> = v.split_whitespace().map(String::from).collect();
            if addrs.is_empty() {
                return Err("Too many bind addresses specified.".into());
            }
            c.bind = addrs;
            Ok(())
        },
        get: |c| c.bind.join(" "),
    },
    Param {
        name: "protected-mode",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.protected_mode = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.protected_mode),
    },
    Param {
        name: "requirepass",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::QuotedOrAbsent,
        set: |c, v| {
            c.requirepass = v.to_string();
            Ok(())
        },
        get: |c| c.requirepass.clone(),
    },
    Param {
        name: "maxclients",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.maxclients = int_in(v, 1, u32::MAX as i64)? as usize;
            Ok(())
        },
        get: |c| c.maxclients.to_string(),
    },
    Param {
        name: "timeout",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.timeout = int_in(v, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        get: |c| c.timeout.to_string(),
    },
    Param {
        name: "databases",
        mutable: false,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.databases = int_in(v, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
        get: |c| c.databases.to_string(),
    },
    Param {
        name: "loglevel",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            // Redis 7.0's levels; "nothing" arrived in 7.2.
            let level = LogLevel::parse(v).filter(|l| *l != LogLevel::Nothing);
            c.loglevel = level.ok_or_else(|| {
                "argument(s) must be one of the following: debug, verbose, notice, warning"
                    .to_string()
            })?;
            Ok(())
        },
        get: |c| c.loglevel.name().to_string(),
    },
    Param {
        name: "logfile",
        mutable: false,
        multi_word: false,
        rewrite: Rewrite::Quoted,
        set: |c, v| {
            c.logfile = v.to_string();
            Ok(())
        },
        get: |c| c.logfile.clone(),
    },
    Param {
        name: "proto-max-bulk-len",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Memory,
        set: |c, v| {
            c.proto_max_bulk_len = memory_in(v, 1024 * 1024, i64::MAX as u64)?;
            Ok(())
        },
        get: |c| c.proto_max_bulk_len.to_string(),
    },
    Param {
        name: "maxmemory",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Memory,
        set: |c, v| {
            c.maxmemory = memory_in(v, 0, i64::MAX as u64)?;
            Ok(())
        },
        get: |c| c.maxmemory.to_string(),
    },
    Param {
        name: "maxmemory-policy",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.maxmemory_policy = crate::store::evict::Policy::parse(v).ok_or_else(|| {
                if v.eq_ignore_ascii_case("allkeys-lfu") || v.eq_ignore_ascii_case("volatile-lfu") {
                    // Eviction follows exact LRU order; there are no
                    // access-frequency counters to evict by.
                    "LFU policies are not supported (sedis evicts in exact LRU order)".to_string()
                } else {
                    // Redis's list, so an unknown name reads the same.
                    "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
                     volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
                     noeviction"
                        .to_string()
                }
            })?;
            Ok(())
        },
        get: |c| c.maxmemory_policy.name().to_string(),
    },
    Param {
        name: "maxmemory-samples",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.maxmemory_samples = int_in(v, 1, i64::from(i32::MAX))? as u32;
            Ok(())
        },
        get: |c| c.maxmemory_samples.to_string(),
    },
    Param {
        name: "client-query-buffer-limit",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Memory,
        set: |c, v| {
            c.client_query_buffer_limit = memory_in(v, 1024 * 1024, i64::MAX as u64)?;
            Ok(())
        },
        get: |c| c.client_query_buffer_limit.to_string(),
    },
    Param {
        name: "save",
        mutable: true,
        multi_word: true,
        rewrite: Rewrite::Save,
        set: |c, v| {
            c.save = parse_save(v)?;
            Ok(())
        },
        get: |c| {
            c.save
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(" ")
        },
    },
    Param {
        name: "appendonly",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.appendonly = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.appendonly),
    },
    Param {
        name: "dir",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Quoted,
        set: |c, v| {
            if !std::path::Path::new(v).is_dir() {
                return Err("No such file or directory".into());
            }
            c.dir = v.to_string();
            Ok(())
        },
        get: |c| {
            // Redis reports the absolute working directory.
            std::fs::canonicalize(&c.dir)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| c.dir.clone())
        },
    },
    Param {
        name: "dbfilename",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Quoted,
        set: |c, v| {
            if v.contains('/') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            c.dbfilename = v.to_string();
            Ok(())
        },
        get: |c| c.dbfilename.clone(),
    },
    Param {
        name: "rdbcompression",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.rdbcompression = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.rdbcompression),
    },
    Param {
        name: "rdbchecksum",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.rdbchecksum = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.rdbchecksum),
    },
    Param {
        name: "stop-writes-on-bgsave-error",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.stop_writes_on_bgsave_error = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.stop_writes_on_bgsave_error),
    },
    Param {
        name: "appendfilename",
        mutable: false,
        multi_word: false,
        rewrite: Rewrite::Quoted,
        set: |c, v| {
            if v.is_empty() || v.contains('/') {
                return Err("appendfilename can't be a path, just a filename".into());
            }
            c.appendfilename = v.to_string();
            Ok(())
        },
        get: |c| c.appendfilename.clone(),
    },
    Param {
        name: "appenddirname",
        mutable: false,
        multi_word: false,
        rewrite: Rewrite::Quoted,
        set: |c, v| {
            if v.is_empty() || v.contains('/') {
                return Err("appenddirname can't be a path, just a dirname".into());
            }
            c.appenddirname = v.to_string();
            Ok(())
        },
        get: |c| c.appenddirname.clone(),
    },
    Param {
        name: "appendfsync",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.appendfsync = crate::persist::aof::FsyncPolicy::parse(v).ok_or_else(|| {
                "argument(s) must be one of the following: always, everysec, no".to_string()
            })?;
            Ok(())
        },
        get: |c| c.appendfsync.name().to_string(),
    },
    Param {
        name: "aof-load-truncated",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.aof_load_truncated = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.aof_load_truncated),
    },
    // The ziplist names are the aliases Redis keeps from before listpacks.
    Param {
        name: "list-max-listpack-size",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_list_max_listpack_size,
        get: |c| c.list_max_listpack_size.to_string(),
    },
    Param {
        name: "list-max-ziplist-size",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_list_max_listpack_size,
        get: |c| c.list_max_listpack_size.to_string(),
    },
    Param {
        name: "hash-max-listpack-entries",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_hash_max_listpack_entries,
        get: |c| c.hash_max_listpack_entries.to_string(),
    },
    Param {
        name: "hash-max-ziplist-entries",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_hash_max_listpack_entries,
        get: |c| c.hash_max_listpack_entries.to_string(),
    },
    Param {
        name: "hash-max-listpack-value",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_hash_max_listpack_value,
        get: |c| c.hash_max_listpack_value.to_string(),
    },
    Param {
        name: "hash-max-ziplist-value",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_hash_max_listpack_value,
        get: |c| c.hash_max_listpack_value.to_string(),
    },
    Param {
        name: "set-max-intset-entries",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.set_max_intset_entries = int_in(v, 0, i64::MAX)? as usize;
            Ok(())
        },
        get: |c| c.set_max_intset_entries.to_string(),
    },
    Param {
        name: "zset-max-listpack-entries",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_zset_max_listpack_entries,
        get: |c| c.zset_max_listpack_entries.to_string(),
    },
    Param {
        name: "zset-max-ziplist-entries",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_zset_max_listpack_entries,
        get: |c| c.zset_max_listpack_entries.to_string(),
    },
    Param {
        name: "zset-max-listpack-value",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_zset_max_listpack_value,
        get: |c| c.zset_max_listpack_value.to_string(),
    },
    Param {
        name: "zset-max-ziplist-value",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: set_zset_max_listpack_value,
        get: |c| c.zset_max_listpack_value.to_string(),
    },
    Param {
        name: "hz",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            // Accepted over Redis's whole range, then clamped like its
            // `updateHZ` does.
            c.hz = int_in(v, 0, i32::MAX as i64)?.clamp(1, 500) as u32;
            Ok(())
        },
        get: |c| c.hz.to_string(),
    },
    Param {
        name: "enable-debug-command",
        mutable: false,
        multi_word: false,
        rewrite: Rewrite::Plain,
        set: |c, v| {
            c.enable_debug_command = ProtectedAction::NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(v))
                .map(|(_, a)| *a)
                .ok_or_else(|| {
                    "argument(s) must be one of the following: no, yes, local".to_string()
                })?;
            Ok(())
        },
        get: |c| c.enable_debug_command.name().to_string(),
    },
    Param {
        name: "notify-keyspace-events",
        mutable: true,
        multi_word: false,
        rewrite: Rewrite::Quoted,
        set: |c, v| {
            c.notify_keyspace_events = crate::pubsub::notify::parse_flags(v)
                .ok_or_else(|| crate::pubsub::notify::BAD_CLASS.to_string())?;
            Ok(())
        },
        get: |c| crate::pubsub::notify::format_flags(c.notify_keyspace_events),
    },
    Param {
        name: "client-output-buffer-limit",
        mutable: true,
        multi_word: true,
        rewrite: Rewrite::ObufLimits,
        set: set_obuf_limits,
        get: |c| {
            ObufClass::ALL
                .iter()
                .map(|&class| {
                    let l = c.client_output_buffer_limit[class as usize];
                    format!(
                        "{} {} {} {}",
                        class.get_name(),
                        l.hard_bytes,
                        l.soft_bytes,
                        l.soft_seconds
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        },
    },
];

fn set_list_max_listpack_size(c: &mut Config, v: &str) -> Result<(), String> {
    c.list_max_listpack_size = int_in(v, i64::from(i32::MIN), i64::from(i32::MAX))?;
    Ok(())
}

fn set_zset_max_listpack_entries(c: &mut Config, v: &str) -> Result<(), String> {
    c.zset_max_listpack_entries = int_in(v, 0, i64::MAX)? as usize;
    Ok(())
}

fn set_hash_max_listpack_entries(c: &mut Config, v: &str) -> Result<(), String> {
    c.hash_max_listpack_entries = int_in(v, 0, i64::MAX)? as usize;
    Ok(())
}

fn set_hash_max_listpack_value(c: &mut Config, v: &str) -> Result<(), String> {
    c.hash_max_listpack_value = memory_in(v, 0, i64::MAX as u64)? as usize;
    Ok(())
}

fn set_zset_max_listpack_value(c: &mut Config, v: &str) -> Result<(), String> {
    c.zset_max_listpack_value = memory_in(v, 0, i64::MAX as u64)? as usize;
    Ok(())
}

/// Finds a parameter by name (case-insensitive).
pub fn param(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

impl Config {
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

    /// Applies one option, as from a config file line or a command-line flag.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), ConfigError> {
        let fail = |message: String| ConfigError {
            name: name.to_string(),
            message,
        };
        let param =
            param(name).ok_or_else(|| fail("Bad directive or wrong number of arguments".into()))?;
        if values.is_empty() || (values.len() > 1 && !param.multi_word) {
            return Err(fail("wrong number of arguments".into()));
        }
        (param.set)(self, &values.join(" ")).map_err(fail)
    }

    /// Applies a `redis.conf`-style text: one option per line, `#` comments,
    /// values quoted as redis-cli quotes them.
    pub fn apply_file_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at_line = |message: String| ConfigError {
                name: format!("line {}", number + 1),
                message,
            };
            let args = split_args(line.as_bytes())
                .ok_or_else(|| at_line("Unbalanced quotes in configuration line".into()))?;
            let args: Vec<String> = args
                .into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect();
            let (name, values) = args.split_first().expect("non-empty line has a word");
            self.apply(name, values)?;
        }
        Ok(())
    }

    /// Applies `--name value [value...]` options (the part of the command line
    /// after an optional config file), as redis-server accepts them.
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<(), ConfigError> {
        let mut i = 0;
        while i < flags.len() {
            let Some(name) = flags[i].strip_prefix("--") else {
                return Err(ConfigError {
                    name: flags[i].clone(),
                    message: "options must start with --".into(),
                });
            };
            let mut values = Vec::new();
            i += 1;
            while i < flags.len() && !flags[i].starts_with("--") {
                values.push(flags[i].clone());
                i += 1;
            }
            // `--save ""` (or no value at all for save) means "no save points".
            if values.is_empty() && name.eq_ignore_ascii_case("save") {
                values.push(String::new());
            }
            self.apply(name, &values)?;
        }
        Ok(())
    }

    /// Sets several parameters at once, all or nothing, as CONFIG SET does:
    /// names are checked first (unknown, immutable, repeated: the first
    /// problem wins), then the values are parsed into a copy of the
    /// configuration, which replaces this one only if every value parsed.
    ///
    /// Names and values are a client's bytes. Every value is text, so one
    /// that is not UTF-8 is refused rather than stored altered.
    pub fn set_many(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), SetError> {
        let mut params: Vec<&'static Param> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let Some(p) = std::str::from_utf8(name).ok().and_then(param) else {
                return Err(SetError::Unknown(name.to_vec()));
            };
            if !p.mutable {
                return Err(SetError::Failed {
                    name: name.to_vec(),
                    reason: "can't set immutable config".into(),
                });
            }
            if params.iter().any(|seen| std::ptr::eq(*seen, p)) {
                return Err(SetError::Failed {
                    name: name.to_vec(),
                    reason: "duplicate parameter".into(),
                });
            }
            params.push(p);
        }
        let mut next = self.clone();
        for (p, (_, value)) in params.iter().zip(pairs) {
            let fail = |reason| SetError::Failed {
                name: p.name.as_bytes().to_vec(),
                reason,
            };
            let value = std::str::from_utf8(value)
                .map_err(|_| fail("argument must be valid UTF-8".into()))?;
            (p.set)(&mut next, value).map_err(fail)?;
        }
        *self = next;
        Ok(())
    }

    /// Rewrites the configuration file at `path` so that it reproduces the
    /// current configuration, keeping its comments and layout (Redis's
    /// CONFIG REWRITE): each directive's existing lines are reused in
    /// place, directives that differ from the default and are not in the
    /// file yet are appended after a `# Generated by CONFIG REWRITE` line,
    /// surplus lines of rewritten directives are blanked, and unknown
    /// directives are kept as `# ??? ` comments. The file is replaced
    /// atomically (temporary file, fsync, rename).
    pub fn rewrite_file(&self, path: &Path) -> io::Result<()> {
        let old = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(err),
        };
        let content = self.rewritten_text(&old);
        write_atomically(path, content.as_bytes())
    }

    /// The new text of a config file whose old text is `old`.
    pub fn rewritten_text(&self, old: &str) -> String {
        let mut state = RewriteState::read(old);
        let defaults = Config::default();
        for p in PARAMS {
            let value = (p.get)(self);
            let force = value != (p.get)(&defaults);
            match p.rewrite {
                Rewrite::Plain => state.rewrite_line(p.name, format!("{} {value}", p.name), force),
                Rewrite::Quoted => {
                    state.rewrite_line(p.name, format!("{} {}", p.name, repr(&value)), force)
                }
                Rewrite::QuotedOrAbsent if value.is_empty() => state.mark_processed(p.name),
                Rewrite::QuotedOrAbsent => {
                    state.rewrite_line(p.name, format!("{} {}", p.name, repr(&value)), true)
                }
                Rewrite::Memory => {
                    let bytes = value.parse().unwrap_or(0);
                    let line = format!("{} {}", p.name, format_memory(bytes));
                    state.rewrite_line(p.name, line, force);
                }
                Rewrite::Save => {
                    if self.save.is_empty() {
                        state.rewrite_line(p.name, "save \"\"".into(), true);
                    }
                    for (seconds, changes) in &self.save {
                        state.rewrite_line(p.name, format!("save {seconds} {changes}"), true);
                    }
                    state.mark_processed(p.name);
                }
                Rewrite::ObufLimits => {
                    for class in ObufClass::ALL {
                        let limit = self.client_output_buffer_limit[class as usize];
                        let line = format!(
                            "{} {} {} {} {}",
                            p.name,
                            class.rewrite_name(),
                            format_memory(limit.hard_bytes),
                            format_memory(limit.soft_bytes),
                            limit.soft_seconds
                        );
                        let force = limit != DEFAULT_OBUF_LIMITS[class as usize];
                        state.rewrite_line(p.name, line, force);
                    }
                }
            }
        }
        state.remove_orphaned();
        state.content()
    }
}

/// Why CONFIG SET refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// No such parameter (Redis: `Unknown option or number of arguments`).
    Unknown(Vec<u8>),
    /// The parameter (named as the client typed it for name problems, by
    /// its own name for value problems) could not be set.
    Failed { name: Vec<u8>, reason: String },
}

const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// The old file's lines and, per directive, which lines hold it.
struct RewriteState {
    lines: Vec<String>,
    /// Directive → indexes of its lines not reused yet, in file order.
    option_lines: Vec<(&'static str, Vec<usize>)>,
    /// Directives the rewrite has dealt with.
    processed: Vec<&'static str>,
    needs_signature: bool,
}

impl RewriteState {
    fn read(old: &str) -> RewriteState {
        let mut state = RewriteState {
            lines: Vec::new(),
            option_lines: Vec::new(),
            processed: Vec::new(),
            needs_signature: true,
        };
        for raw in old.split('\n') {
            let line = raw.trim_matches(|c| matches!(c, '\r' | '\n' | '\t' | ' '));
            if line.is_empty() || line.starts_with('#') {
                if line == REWRITE_SIGNATURE {
                    state.needs_signature = false;
                }
                state.lines.push(line.to_string());
                continue;
            }
            let known = split_args(line.as_bytes())
                .and_then(|args| args.into_iter().next())
                .and_then(|name| param(&String::from_utf8_lossy(&name)));
            match known {
                Some(p) => {
                    let index = state.lines.len();
                    state.lines.push(line.to_string());
                    match state.option_lines.iter_mut().find(|(n, _)| *n == p.name) {
                        Some((_, at)) => at.push(index),
                        None => state.option_lines.push((p.name, vec![index])),
                    }
                }
                None => state.lines.push(format!("# ??? {line}")),
            }
        }
        // A file ending in a newline splits into a last empty piece.
        if state.lines.last().is_some_and(String::is_empty) {
            state.lines.pop();
        }
        state
    }

    fn mark_processed(&mut self, name: &'static str) {
        if !self.processed.contains(&name) {
            self.processed.push(name);
        }
    }

    /// Puts `line` in place of the directive's next old line, or appends it
    /// if there is none and `force` says it must be written.
    fn rewrite_line(&mut self, name: &'static str, line: String, force: bool) {
        self.mark_processed(name);
        let reuse = self
            .option_lines
            .iter_mut()
            .find(|(n, _)| *n == name)
            .filter(|(_, at)| !at.is_empty())
            .map(|(_, at)| at.remove(0));
        match reuse {
            Some(index) => self.lines[index] = line,
            None if force => {
                if self.needs_signature {
                    self.lines.push(REWRITE_SIGNATURE.to_string());
                    self.needs_signature = false;
                }
                self.lines.push(line);
            }
            None => {}
        }
    }

    /// Blanks the old lines of rewritten directives that were not reused
    /// (a second `save` line, a duplicated directive...).
    fn remove_orphaned(&mut self) {
        for (name, at) in &mut self.option_lines {
            if self.processed.contains(name) {
                for index in at.drain(..) {
                    self.lines[index].clear();
                }
            }
        }
    }

    /// The lines joined, each run of empty lines reduced to one.
    fn content(&self) -> String {
        let mut out = String::new();
        let mut was_empty = false;
        for line in &self.lines {
            if line.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Quotes a value the way Redis's `sdscatrepr` does, so that the config
/// parser reads it back unchanged.
pub fn repr(value: &str) -> String {
    let mut out = String::from("\"");
    for &b in value.as_bytes() {
        match b {
            b'\\' | b'"' => {
                out.push('\\');
                out.push(b as char);
            }
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b' '..=b'~' => out.push(b as char),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out.push('"');
    out
}

/// A byte count with the largest unit that divides it exactly, as CONFIG
/// REWRITE writes memory options (`1gb`, `512mb`, `3kb`, `1000`).
pub fn format_memory(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    const GB: u64 = 1024 * MB;
    match bytes {
        0 => "0".into(),
        b if b % GB == 0 => format!("{}gb", b / GB),
        b if b % MB == 0 => format!("{}mb", b / MB),
        b if b % KB == 0 => format!("{}kb", b / KB),
        b => b.to_string(),
    }
}

/// Replaces `path` with `content` so that a crash leaves either the old
/// file or the new one, never a torn one.
fn write_atomically(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable.
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn yes_no_str(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn int_in(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = crate::num::parse_i64(v.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

fn memory_in(v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory(v).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Parses a size with Redis's units: `1k` = 1000, `1kb` = 1024, and so on
/// for m/mb and g/gb, case-insensitive (Redis's `memtoull`).
pub fn parse_memory(v: &str) -> Option<u64> {
    let lower = v.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.is_empty() {
        // `strtoull` reads no digits as 0 without an error: Redis takes
        // `CONFIG SET maxmemory ""` as 0.
        return Some(0);
    }
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Parses save points: `""` (none) or pairs of "seconds changes".
pub fn parse_save(v: &str) -> Result<Vec<(u64, u64)>, String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    words
        .chunks(2)
        .map(|pair| {
            let seconds = pair[0].parse().map_err(|_| "Invalid save parameters")?;
            let changes = pair[1].parse().map_err(|_| "Invalid save parameters")?;
            Ok((seconds, changes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("2mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("1g"), Some(1_000_000_000));
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("1tb"), None);
        // No digits read as 0, as strtoull does (Redis accepts `maxmemory kb`).
        assert_eq!(parse_memory("kb"), Some(0));
        assert_eq!(parse_memory(""), Some(0));
        assert_eq!(format_memory(512 * 1024 * 1024), "512mb");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3 * 1024), "3kb");
        assert_eq!(format_memory(1000), "1000");
    }

    #[test]
    fn files_and_flags_parse() {
        let mut c = Config::default();
        c.apply_file_text("# comment\nport 7000\n  requirepass \"a b\"\nloglevel warning\n")
            .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.requirepass, "a b");
        c.apply_flags(&["--port".into(), "7001".into(), "--save".into(), "".into()])
            .unwrap();
        assert_eq!(c.port, 7001);
        let err = c.apply_flags(&["--port".into(), "x".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'port': argument couldn't be parsed into an integer"
        );
        let err = c.apply_flags(&["--nosuch".into(), "1".into()]).unwrap_err();
        assert_eq!(err.name, "nosuch");
    }

    #[test]
    fn set_many_is_all_or_nothing() {
        let mut c = Config::default();
        let err = c
            .set_many(&[(b"timeout", b"5"), (b"maxclients", b"0")])
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
        let err = c.set_many(&[(b"Port", b"1")]).unwrap_err();
        assert_eq!(
            err,
            SetError::Failed {
                name: b"Port".to_vec(),
                reason: "can't set immutable config".into()
            }
        );
        let err = c
            .set_many(&[(b"timeout", b"1"), (b"TIMEOUT", b"2")])
            .unwrap_err();
        assert!(matches!(err, SetError::Failed { reason, .. } if reason == "duplicate parameter"));
        assert_eq!(
            c.set_many(&[(b"nosuch", b"1"), (b"port", b"1")]),
            Err(SetError::Unknown(b"nosuch".to_vec()))
        );
        let err = c.set_many(&[(b"requirepass", b"\xff")]).unwrap_err();
        assert!(matches!(err, SetError::Failed { reason, .. } if reason.contains("UTF-8")));
        c.set_many(&[(b"timeout", b"5"), (b"hz", b"1000")]).unwrap();
        assert_eq!((c.timeout, c.hz), (5, 500));
    }

    #[test]
    fn loglevel_accepts_redis_7_0_levels_only() {
        let mut c = Config::default();
        let err = c.set_many(&[(b"loglevel", b"nothing")]).unwrap_err();
        assert_eq!(
            err,
            SetError::Failed {
                name: b"loglevel".to_vec(),
                reason: "argument(s) must be one of the following: debug, verbose, notice, warning"
                    .into()
            }
        );
        c.set_many(&[(b"loglevel", b"WARNING")]).unwrap();
        assert_eq!(c.loglevel, LogLevel::Warning);
    }

    #[test]
    fn rewrite_keeps_layout_reuses_lines_and_appends_the_rest() {
        let old = "# my server\nport 7000\n\n\nsave 60 1\nsave 300 10\nfoo bar\ntimeout 5\n";
        let mut c = Config::default();
        c.apply_file_text(
            "port 7000\nrequirepass \"p w\"\nproto-max-bulk-len 1gb\nhz 20\ntimeout 5\nsave \"\"\n",
        )
        .unwrap();
        let text = c.rewritten_text(old);
        assert_eq!(
            text,
            "# my server\nport 7000\n\nsave \"\"\n\n# ??? foo bar\ntimeout 5\n\
             # Generated by CONFIG REWRITE\nrequirepass \"p w\"\n\
             proto-max-bulk-len 1gb\nhz 20\n"
        );
        // The result reads back to the same configuration.
        let mut again = Config::default();
        again
            .apply_file_text(&text.replace("# ??? foo bar\n", ""))
            .unwrap();
        assert_eq!(again.requirepass, "p w");
        assert_eq!(again.proto_max_bulk_len, 1 << 30);
        assert_eq!(again.hz, 20);
        // A rewrite of a rewritten file changes nothing.
        assert_eq!(c.rewritten_text(&text), text);
    }

    #[test]
    fn repr_escapes_like_redis() {
        assert_eq!(repr("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\x01\"");
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
