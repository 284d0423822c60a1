//! The parameter table: every directive Redis 7.0 accepts, one line each,
//! in the order and with the types, ranges, defaults and aliases of Redis's
//! `config.c`. A file line, a `--flag` and CONFIG SET all end in
//! [`Param::set`], and CONFIG GET and CONFIG REWRITE read values back
//! through [`Param::get`], so a value is accepted, shown and written the
//! same way wherever it comes from.
//!
//! Parameters marked [`INERT`] configure something sedis does not have (an
//! allocator, cluster mode, TLS, replication...). They are still parsed with
//! Redis's rules, stored, reported and rewritten, so a stock `redis.conf`
//! starts sedis and tools that read them see what they expect; README lists
//! them.

use super::Config;
use super::units::{c_strtoll, format_f64_trimmed, memtoull};
use super::{ObufClass, ObufLimit, OomScoreAdj, ProtectedAction, Supervised};
use crate::log::LogLevel;
use crate::persist::aof::FsyncPolicy;
use crate::store::evict::Policy;

/// Only at start-up: CONFIG SET answers "can't set immutable config".
pub const IMMUTABLE: u8 = 1 << 0;
/// CONFIG SET only where `enable-protected-configs` allows it.
pub const PROTECTED: u8 = 1 << 1;
/// A secret (a password): never shown in logs of commands.
pub const SENSITIVE: u8 = 1 << 2;
/// Left out of CONFIG GET patterns; found by its exact name only.
pub const HIDDEN: u8 = 1 << 3;
/// A value of several words (`save 3600 1 300 100`, `bind a b`).
pub const MULTI_ARG: u8 = 1 << 4;
/// Refused while a dataset is loading (sedis loads before it serves).
pub const DENY_LOADING: u8 = 1 << 5;
/// Stored and reported, but configures nothing in sedis.
pub const INERT: u8 = 1 << 6;

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    /// The old name that still works (`slaveof` for `replicaof`).
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
}

/// How a parameter's value is parsed, stored, shown and rewritten: Redis's
/// config types.
pub enum Kind {
    /// `yes` or `no`.
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        check: Option<Check<bool>>,
    },
    /// An integer within `min..=max`. Values travel as C's `long long`;
    /// `unsigned` parameters are range-checked as C's unsigned types are,
    /// which is what makes `maxmemory` reach 2^64-1.
    Number {
        min: i128,
        max: i128,
        unsigned: bool,
        unit: Unit,
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
        check: Option<Check<i64>>,
    },
    /// One name of a list (several, OR-ed together, for [`MULTI_ARG`]
    /// parameters such as `shutdown-on-sigint save now`).
    Choice {
        names: &'static [(&'static str, u32)],
        get: fn(&Config) -> u32,
        set: fn(&mut Config, u32),
        check: Option<Check<u32>>,
    },
    /// A string. With `empty_is_none`, the empty string means "not set",
    /// and CONFIG REWRITE removes the directive instead of writing `""`.
    Text {
        empty_is_none: bool,
        get: fn(&Config) -> &str,
        set: fn(&mut Config, &str),
        check: Option<TextCheck>,
    },
    /// Its own parser, formatter and rewrite rule (`save`, `bind`, ...).
    Special {
        set: fn(&mut Config, &[&str]) -> Result<(), String>,
        get: fn(&Config) -> String,
        rewrite: fn(&Config, &mut super::rewrite::RewriteState),
    },
}

/// A validity check with Redis's error text (its `is_valid_fn`).
pub type Check<T> = fn(T) -> Result<(), &'static str>;
/// The same for a string value.
pub type TextCheck = fn(&str) -> Result<(), &'static str>;

/// How a number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Integer,
    /// Accepts `1k`, `1kb`, `1mb`...; CONFIG REWRITE writes `64mb`.
    Memory,
    /// A memory value or `N%` (stored as -N), as `maxmemory-clients`.
    MemoryOrPercent,
    /// Octal digits (`unixsocketperm 700`).
    Octal,
}

/// `setNumericType`'s inverse is a cast; these bounds are C's limits.
const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

/// `Some(f)` when a check is given, else `None`.
macro_rules! optional {
    () => {
        None
    };
    ($f:expr) => {
        Some($f)
    };
}

macro_rules! yes_no {
    ($name:literal, $alias:expr, $flags:expr, $($field:ident).+ $(, check $check:expr)?) => {
        Param { name: $name, alias: $alias, flags: $flags, kind: Kind::Bool {
            get: |c| c.$($field).+, set: |c, v| c.$($field).+ = v,
            check: optional!($($check)?),
        } }
    };
}

macro_rules! number {
    ($name:literal, $alias:expr, $flags:expr, $($field:ident).+, $sign:ident $min:expr, $max:expr, $unit:ident $(, check $check:expr)?) => {
        Param { name: $name, alias: $alias, flags: $flags, kind: Kind::Number {
            min: $min as i128, max: $max as i128, unsigned: number!(@$sign), unit: Unit::$unit,
            check: optional!($($check)?),
            get: |c| c.$($field).+ as i64, set: |c, v| c.$($field).+ = v as _,
        } }
    };
    (@Signed) => { false };
    (@Unsigned) => { true };
}

macro_rules! choice {
    ($name:literal, $alias:expr, $flags:expr, $($field:ident).+, $names:expr $(, check $check:expr)?) => {
        Param { name: $name, alias: $alias, flags: $flags, kind: Kind::Choice {
            names: $names,
            get: |c| Choice::to_config(c.$($field).+), set: |c, v| c.$($field).+ = Choice::from_config(v),
            check: optional!($($check)?),
        } }
    };
}

macro_rules! text {
    ($name:literal, $alias:expr, $flags:expr, $($field:ident).+, $empty:ident $(, check $check:expr)?) => {
        Param { name: $name, alias: $alias, flags: $flags, kind: Kind::Text {
            empty_is_none: text!(@$empty),
            get: |c| c.$($field).+.as_str(), set: |c, v| c.$($field).+ = v.to_string(),
            check: optional!($($check)?),
        } }
    };
    (@EmptyIsNone) => { true };
    (@EmptyIsValue) => { false };
}

macro_rules! special {
    ($name:literal, $alias:expr, $flags:expr, $module:ident) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Special {
                set: special::$module::set,
                get: special::$module::get,
                rewrite: special::$module::rewrite,
            },
        }
    };
}

/// Every parameter, in Redis's table order (CONFIG GET * lists them in this
/// order; Redis lists them in its hash table's order).
#[rustfmt::skip]
pub static PARAMS: &[Param] = &[
    yes_no!("rdbchecksum", None, IMMUTABLE, rdbchecksum),
    yes_no!("daemonize", None, IMMUTABLE, daemonize),
    yes_no!("io-threads-do-reads", None, IMMUTABLE | INERT, inert.io_threads_do_reads),
    yes_no!("always-show-logo", None, IMMUTABLE | INERT, inert.always_show_logo),
    yes_no!("protected-mode", None, 0, protected_mode),
    yes_no!("rdbcompression", None, 0, rdbcompression),
    yes_no!("rdb-del-sync-files", None, INERT, inert.rdb_del_sync_files),
    yes_no!("activerehashing", None, INERT, inert.activerehashing),
    yes_no!("stop-writes-on-bgsave-error", None, 0, stop_writes_on_bgsave_error),
    yes_no!("set-proc-title", None, IMMUTABLE | INERT, inert.set_proc_title),
    yes_no!("dynamic-hz", None, INERT, inert.dynamic_hz),
    yes_no!("lazyfree-lazy-eviction", None, INERT, inert.lazyfree_lazy_eviction),
    yes_no!("lazyfree-lazy-expire", None, INERT, inert.lazyfree_lazy_expire),
    yes_no!("lazyfree-lazy-server-del", None, INERT, inert.lazyfree_lazy_server_del),
    yes_no!("lazyfree-lazy-user-del", None, INERT, inert.lazyfree_lazy_user_del),
    yes_no!("lazyfree-lazy-user-flush", None, INERT, inert.lazyfree_lazy_user_flush),
    yes_no!("repl-disable-tcp-nodelay", None, INERT, inert.repl_disable_tcp_nodelay),
    yes_no!("repl-diskless-sync", None, 0, repl_diskless_sync),
    yes_no!("aof-rewrite-incremental-fsync", None, INERT, inert.aof_rewrite_incremental_fsync),
    yes_no!("no-appendfsync-on-rewrite", None, 0, no_appendfsync_on_rewrite),
    yes_no!("cluster-require-full-coverage", None, INERT, inert.cluster_require_full_coverage),
    yes_no!("rdb-save-incremental-fsync", None, INERT, inert.rdb_save_incremental_fsync),
    yes_no!("aof-load-truncated", None, 0, aof_load_truncated),
    yes_no!("aof-use-rdb-preamble", None, INERT, inert.aof_use_rdb_preamble),
    yes_no!("aof-timestamp-enabled", None, INERT, inert.aof_timestamp_enabled),
    yes_no!("cluster-replica-no-failover", Some("cluster-slave-no-failover"), INERT, inert.cluster_replica_no_failover),
    yes_no!("replica-lazy-flush", Some("slave-lazy-flush"), INERT, inert.replica_lazy_flush),
    yes_no!("replica-serve-stale-data", Some("slave-serve-stale-data"), 0, replica_serve_stale_data),
    yes_no!("replica-read-only", Some("slave-read-only"), 0, replica_read_only),
    yes_no!("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), INERT, inert.replica_ignore_maxmemory),
    yes_no!("jemalloc-bg-thread", None, INERT, inert.jemalloc_bg_thread),
    yes_no!("activedefrag", None, INERT, inert.activedefrag, check check::active_defrag),
    yes_no!("syslog-enabled", None, IMMUTABLE, syslog_enabled),
    yes_no!("cluster-enabled", None, IMMUTABLE | INERT, inert.cluster_enabled),
    yes_no!("appendonly", None, DENY_LOADING, appendonly),
    yes_no!("cluster-allow-reads-when-down", None, INERT, inert.cluster_allow_reads_when_down),
    yes_no!("cluster-allow-pubsubshard-when-down", None, INERT, inert.cluster_allow_pubsubshard_when_down),
    yes_no!("crash-log-enabled", None, INERT, inert.crash_log_enabled),
    yes_no!("crash-memcheck-enabled", None, INERT, inert.crash_memcheck_enabled),
    yes_no!("use-exit-on-panic", None, HIDDEN | INERT, inert.use_exit_on_panic),
    yes_no!("disable-thp", None, IMMUTABLE | INERT, inert.disable_thp),
    yes_no!("cluster-allow-replica-migration", None, INERT, inert.cluster_allow_replica_migration),
    yes_no!("replica-announced", None, 0, replica_announced),
    yes_no!("latency-tracking", None, 0, latency_tracking),
    yes_no!("aof-disable-auto-gc", None, INERT, inert.aof_disable_auto_gc),
    yes_no!("replica-ignore-disk-write-errors", None, INERT, inert.replica_ignore_disk_write_errors),

    text!("aclfile", None, IMMUTABLE | INERT, inert.aclfile, EmptyIsValue),
    text!("unixsocket", None, IMMUTABLE | INERT, inert.unixsocket, EmptyIsNone),
    text!("pidfile", None, IMMUTABLE, pidfile, EmptyIsNone),
    text!("replica-announce-ip", Some("slave-announce-ip"), 0, replica_announce_ip, EmptyIsNone),
    text!("masteruser", None, SENSITIVE, masteruser, EmptyIsNone),
    text!("cluster-announce-ip", None, INERT, inert.cluster_announce_ip, EmptyIsNone),
    text!("cluster-config-file", None, IMMUTABLE | INERT, inert.cluster_config_file, EmptyIsValue),
    text!("cluster-announce-hostname", None, INERT, inert.cluster_announce_hostname, EmptyIsNone, check check::announced_hostname),
    text!("syslog-ident", None, IMMUTABLE, syslog_ident, EmptyIsValue),
    text!("dbfilename", None, PROTECTED, dbfilename, EmptyIsValue, check check::dbfilename),
    text!("appendfilename", None, IMMUTABLE, appendfilename, EmptyIsValue, check check::appendfilename),
    text!("appenddirname", None, IMMUTABLE, appenddirname, EmptyIsValue, check check::appenddirname),
    text!("server_cpulist", None, IMMUTABLE | INERT, inert.server_cpulist, EmptyIsNone),
    text!("bio_cpulist", None, IMMUTABLE | INERT, inert.bio_cpulist, EmptyIsNone),
    text!("aof_rewrite_cpulist", None, IMMUTABLE | INERT, inert.aof_rewrite_cpulist, EmptyIsNone),
    text!("bgsave_cpulist", None, IMMUTABLE | INERT, inert.bgsave_cpulist, EmptyIsNone),
    text!("ignore-warnings", None, INERT, inert.ignore_warnings, EmptyIsValue),
    text!("proc-title-template", None, INERT, inert.proc_title_template, EmptyIsValue, check check::proc_title_template),
    text!("bind-source-addr", None, INERT, inert.bind_source_addr, EmptyIsNone),
    text!("logfile", None, IMMUTABLE, logfile, EmptyIsValue),
    text!("masterauth", None, SENSITIVE, masterauth, EmptyIsNone),
    text!("requirepass", None, SENSITIVE, requirepass, EmptyIsNone),

    choice!("supervised", None, IMMUTABLE, supervised, Supervised::NAMES),
    choice!("syslog-facility", None, IMMUTABLE, syslog_facility, SYSLOG_FACILITIES),
    choice!("repl-diskless-load", None, DENY_LOADING | INERT, inert.repl_diskless_load, REPL_DISKLESS_LOAD),
    choice!("loglevel", None, 0, loglevel, LogLevel::NAMES),
    choice!("maxmemory-policy", None, 0, maxmemory_policy, Policy::NAMES),
    choice!("appendfsync", None, 0, appendfsync, FsyncPolicy::NAMES),
    choice!("oom-score-adj", None, 0, oom_score_adj, OomScoreAdj::NAMES),
    choice!("acl-pubsub-default", None, INERT, inert.acl_pubsub_default, ACL_PUBSUB_DEFAULT),
    choice!("sanitize-dump-payload", None, INERT, inert.sanitize_dump_payload, SANITIZE_DUMP_PAYLOAD),
    choice!("enable-protected-configs", None, IMMUTABLE, enable_protected_configs, ProtectedAction::NAMES),
    choice!("enable-debug-command", None, IMMUTABLE, enable_debug_command, ProtectedAction::NAMES),
    choice!("enable-module-command", None, IMMUTABLE | INERT, inert.enable_module_command, ProtectedAction::NAMES),
    choice!("cluster-preferred-endpoint-type", None, INERT, inert.cluster_preferred_endpoint_type, CLUSTER_ENDPOINT_TYPES),
    choice!("propagation-error-behavior", None, INERT, inert.propagation_error_behavior, PROPAGATION_ERROR_BEHAVIORS),
    choice!("shutdown-on-sigint", None, MULTI_ARG, shutdown_on_sigint, SHUTDOWN_ON_SIGNAL, check check::shutdown_flags),
    choice!("shutdown-on-sigterm", None, MULTI_ARG, shutdown_on_sigterm, SHUTDOWN_ON_SIGNAL, check check::shutdown_flags),

    number!("databases", None, IMMUTABLE, databases, Signed 1, INT_MAX, Integer),
    number!("port", None, 0, port, Signed 0, 65535, Integer),
    number!("io-threads", None, IMMUTABLE | INERT, inert.io_threads, Signed 1, 128, Integer),
    number!("auto-aof-rewrite-percentage", None, 0, auto_aof_rewrite_percentage, Signed 0, INT_MAX, Integer),
    number!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), INERT, inert.cluster_replica_validity_factor, Signed 0, INT_MAX, Integer),
    number!("list-max-listpack-size", Some("list-max-ziplist-size"), INERT, inert.list_max_listpack_size, Signed INT_MIN, INT_MAX, Integer),
    number!("tcp-keepalive", None, 0, tcp_keepalive, Signed 0, INT_MAX, Integer),
    number!("cluster-migration-barrier", None, INERT, inert.cluster_migration_barrier, Signed 0, INT_MAX, Integer),
    number!("active-defrag-cycle-min", None, INERT, inert.active_defrag_cycle_min, Signed 1, 99, Integer),
    number!("active-defrag-cycle-max", None, INERT, inert.active_defrag_cycle_max, Signed 1, 99, Integer),
    number!("active-defrag-threshold-lower", None, INERT, inert.active_defrag_threshold_lower, Signed 0, 1000, Integer),
    number!("active-defrag-threshold-upper", None, INERT, inert.active_defrag_threshold_upper, Signed 0, 1000, Integer),
    number!("lfu-log-factor", None, 0, lfu_log_factor, Signed 0, INT_MAX, Integer),
    number!("lfu-decay-time", None, 0, lfu_decay_time, Signed 0, INT_MAX, Integer),
    number!("replica-priority", Some("slave-priority"), 0, replica_priority, Signed 0, INT_MAX, Integer),
    number!("repl-diskless-sync-delay", None, INERT, inert.repl_diskless_sync_delay, Signed 0, INT_MAX, Integer),
    number!("maxmemory-samples", None, INERT, inert.maxmemory_samples, Signed 1, INT_MAX, Integer),
    number!("maxmemory-eviction-tenacity", None, INERT, inert.maxmemory_eviction_tenacity, Signed 0, 100, Integer),
    number!("timeout", None, 0, timeout, Signed 0, INT_MAX, Integer),
    number!("replica-announce-port", Some("slave-announce-port"), 0, replica_announce_port, Signed 0, 65535, Integer),
    number!("tcp-backlog", None, IMMUTABLE, tcp_backlog, Signed 0, INT_MAX, Integer),
    number!("cluster-port", None, IMMUTABLE | INERT, inert.cluster_port, Signed 0, 65535, Integer),
    number!("cluster-announce-bus-port", None, INERT, inert.cluster_announce_bus_port, Signed 0, 65535, Integer),
    number!("cluster-announce-port", None, INERT, inert.cluster_announce_port, Signed 0, 65535, Integer),
    number!("cluster-announce-tls-port", None, INERT, inert.cluster_announce_tls_port, Signed 0, 65535, Integer),
    number!("repl-timeout", None, 0, repl_timeout, Signed 1, INT_MAX, Integer),
    number!("repl-ping-replica-period", Some("repl-ping-slave-period"), 0, repl_ping_replica_period, Signed 1, INT_MAX, Integer),
    number!("list-compress-depth", None, INERT, inert.list_compress_depth, Signed 0, INT_MAX, Integer),
    number!("rdb-key-save-delay", None, HIDDEN | INERT, inert.rdb_key_save_delay, Signed INT_MIN, INT_MAX, Integer),
    number!("key-load-delay", None, HIDDEN | INERT, inert.key_load_delay, Signed INT_MIN, INT_MAX, Integer),
    number!("active-expire-effort", None, INERT, inert.active_expire_effort, Signed 1, 10, Integer),
    number!("hz", None, 0, hz, Signed 0, INT_MAX, Integer),
    number!("min-replicas-to-write", Some("min-slaves-to-write"), 0, min_replicas_to_write, Signed 0, INT_MAX, Integer),
    number!("min-replicas-max-lag", Some("min-slaves-max-lag"), 0, min_replicas_max_lag, Signed 0, INT_MAX, Integer),
    number!("watchdog-period", None, HIDDEN | INERT, inert.watchdog_period, Signed 0, INT_MAX, Integer),
    number!("shutdown-timeout", None, INERT, inert.shutdown_timeout, Signed 0, INT_MAX, Integer),
    number!("repl-diskless-sync-max-replicas", None, INERT, inert.repl_diskless_sync_max_replicas, Signed 0, INT_MAX, Integer),
    number!("maxclients", None, 0, maxclients, Unsigned 1, UINT_MAX, Integer),
    number!("unixsocketperm", None, IMMUTABLE | INERT, inert.unixsocketperm, Unsigned 0, 0o777, Octal),
    number!("socket-mark-id", None, IMMUTABLE | INERT, inert.socket_mark_id, Unsigned 0, UINT_MAX, Integer),
    number!("active-defrag-max-scan-fields", None, INERT, inert.active_defrag_max_scan_fields, Signed 1, LONG_MAX, Integer),
    number!("slowlog-max-len", None, 0, slowlog_max_len, Signed 0, LONG_MAX, Integer),
    number!("acllog-max-len", None, INERT, inert.acllog_max_len, Signed 0, LONG_MAX, Integer),
    number!("busy-reply-threshold", Some("lua-time-limit"), 0, busy_reply_threshold, Signed 0, LONG_MAX, Integer),
    number!("cluster-node-timeout", None, INERT, inert.cluster_node_timeout, Signed 0, LONG_MAX, Integer),
    number!("slowlog-log-slower-than", None, 0, slowlog_log_slower_than, Signed -1, LONG_MAX, Integer),
    number!("latency-monitor-threshold", None, 0, latency_monitor_threshold, Signed 0, LONG_MAX, Integer),
    number!("proto-max-bulk-len", None, 0, proto_max_bulk_len, Signed 1024 * 1024, LONG_MAX, Memory),
    number!("stream-node-max-entries", None, 0, stream_node_max_entries, Signed 0, LONG_MAX, Integer),
    number!("repl-backlog-size", None, 0, repl_backlog_size, Signed 1, LONG_MAX, Memory),
    number!("maxmemory", None, 0, maxmemory, Unsigned 0, ULLONG_MAX, Memory),
    number!("cluster-link-sendbuf-limit", None, INERT, inert.cluster_link_sendbuf_limit, Unsigned 0, ULLONG_MAX, Memory),
    number!("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), 0, hash_max_listpack_entries, Unsigned 0, LONG_MAX, Integer),
    number!("set-max-intset-entries", None, 0, set_max_intset_entries, Unsigned 0, LONG_MAX, Integer),
    number!("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), 0, zset_max_listpack_entries, Unsigned 0, LONG_MAX, Integer),
    number!("active-defrag-ignore-bytes", None, INERT, inert.active_defrag_ignore_bytes, Unsigned 1, LONG_MAX, Memory),
    number!("hash-max-listpack-value", Some("hash-max-ziplist-value"), 0, hash_max_listpack_value, Unsigned 0, LONG_MAX, Memory),
    number!("stream-node-max-bytes", None, 0, stream_node_max_bytes, Unsigned 0, LONG_MAX, Memory),
    number!("zset-max-listpack-value", Some("zset-max-ziplist-value"), 0, zset_max_listpack_value, Unsigned 0, LONG_MAX, Memory),
    number!("hll-sparse-max-bytes", None, 0, hll_sparse_max_bytes, Unsigned 0, LONG_MAX, Memory),
    number!("tracking-table-max-keys", None, 0, tracking_table_max_keys, Unsigned 0, LONG_MAX, Integer),
    number!("client-query-buffer-limit", None, 0, client_query_buffer_limit, Unsigned 1024 * 1024, LONG_MAX, Memory),
    number!("maxmemory-clients", None, INERT, inert.maxmemory_clients, Signed -100, LONG_MAX, MemoryOrPercent),
    number!("repl-backlog-ttl", None, 0, repl_backlog_ttl, Signed 0, LONG_MAX, Integer),
    number!("auto-aof-rewrite-min-size", None, 0, auto_aof_rewrite_min_size, Signed 0, LONG_MAX, Memory),
    number!("loading-process-events-interval-bytes", None, HIDDEN | INERT, inert.loading_process_events_interval_bytes, Signed 1024, INT_MAX, Integer),

    number!("tls-port", None, INERT, inert.tls_port, Signed 0, 65535, Integer, check check::no_tls_port),
    number!("tls-session-cache-size", None, INERT, inert.tls_session_cache_size, Signed 0, INT_MAX, Integer),
    number!("tls-session-cache-timeout", None, INERT, inert.tls_session_cache_timeout, Signed 0, INT_MAX, Integer),
    yes_no!("tls-cluster", None, INERT, inert.tls_cluster, check check::no_tls),
    yes_no!("tls-replication", None, INERT, inert.tls_replication, check check::no_tls),
    choice!("tls-auth-clients", None, INERT, inert.tls_auth_clients, TLS_AUTH_CLIENTS),
    yes_no!("tls-prefer-server-ciphers", None, INERT, inert.tls_prefer_server_ciphers),
    yes_no!("tls-session-caching", None, INERT, inert.tls_session_caching),
    text!("tls-cert-file", None, INERT, inert.tls_cert_file, EmptyIsNone),
    text!("tls-key-file", None, INERT, inert.tls_key_file, EmptyIsNone),
    text!("tls-key-file-pass", None, INERT, inert.tls_key_file_pass, EmptyIsNone),
    text!("tls-client-cert-file", None, INERT, inert.tls_client_cert_file, EmptyIsNone),
    text!("tls-client-key-file", None, INERT, inert.tls_client_key_file, EmptyIsNone),
    text!("tls-client-key-file-pass", None, INERT, inert.tls_client_key_file_pass, EmptyIsNone),
    text!("tls-dh-params-file", None, INERT, inert.tls_dh_params_file, EmptyIsNone),
    text!("tls-ca-cert-file", None, INERT, inert.tls_ca_cert_file, EmptyIsNone),
    text!("tls-ca-cert-dir", None, INERT, inert.tls_ca_cert_dir, EmptyIsNone),
    text!("tls-protocols", None, INERT, inert.tls_protocols, EmptyIsNone),
    text!("tls-ciphers", None, INERT, inert.tls_ciphers, EmptyIsNone),
    text!("tls-ciphersuites", None, INERT, inert.tls_ciphersuites, EmptyIsNone),

    special!("dir", None, PROTECTED | DENY_LOADING, dir),
    special!("save", None, MULTI_ARG, save),
    special!("client-output-buffer-limit", None, MULTI_ARG, obuf_limits),
    special!("oom-score-adj-values", None, MULTI_ARG, oom_score_adj_values),
    special!("notify-keyspace-events", None, 0, notify_keyspace_events),
    special!("bind", None, MULTI_ARG, bind),
    special!("replicaof", Some("slaveof"), IMMUTABLE | MULTI_ARG, replicaof),
    special!("latency-tracking-info-percentiles", None, MULTI_ARG, latency_percentiles),
];

/// A value stored as one of a list of names: the list's `u32` is the
/// type's own discriminant (for bit flags, a set of them).
pub trait Choice: Copy {
    fn to_config(self) -> u32;
    fn from_config(value: u32) -> Self;
}

/// Parameters sedis only stores keep the value itself.
impl Choice for u32 {
    fn to_config(self) -> u32 {
        self
    }
    fn from_config(value: u32) -> Self {
        value
    }
}

/// `syslog-facility`: the names map to the system's facility codes.
const SYSLOG_FACILITIES: &[(&str, u32)] = &[
    ("user", libc::LOG_USER as u32),
    ("local0", libc::LOG_LOCAL0 as u32),
    ("local1", libc::LOG_LOCAL1 as u32),
    ("local2", libc::LOG_LOCAL2 as u32),
    ("local3", libc::LOG_LOCAL3 as u32),
    ("local4", libc::LOG_LOCAL4 as u32),
    ("local5", libc::LOG_LOCAL5 as u32),
    ("local6", libc::LOG_LOCAL6 as u32),
    ("local7", libc::LOG_LOCAL7 as u32),
];

const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const CLUSTER_ENDPOINT_TYPES: &[(&str, u32)] =
    &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIORS: &[(&str, u32)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flags (SHUTDOWN's own
/// options): any combination, `default` being none.
pub const SHUTDOWN_SAVE: u32 = 1;
pub const SHUTDOWN_NOSAVE: u32 = 2;
pub const SHUTDOWN_NOW: u32 = 4;
pub const SHUTDOWN_FORCE: u32 = 8;
const SHUTDOWN_ON_SIGNAL: &[(&str, u32)] = &[
    ("default", 0),
    ("save", SHUTDOWN_SAVE),
    ("nosave", SHUTDOWN_NOSAVE),
    ("now", SHUTDOWN_NOW),
    ("force", SHUTDOWN_FORCE),
];

/// Redis's validity checks, with its error texts.
mod check {
    use super::*;

    pub fn active_defrag(on: bool) -> Result<(), &'static str> {
        // sedis has no fragmentation to undo (no jemalloc of its own), and
        // this is the answer of a Redis built without it.
        if on {
            return Err(
                "Active defragmentation cannot be enabled: it requires a Redis server \
                        compiled with a modified Jemalloc like the one shipped by default with \
                        the Redis source distribution",
            );
        }
        Ok(())
    }

    /// sedis has no TLS: what Redis answers when it cannot set TLS up.
    const NO_TLS: &str = "Unable to update TLS configuration. Check server logs.";

    pub fn no_tls_port(port: i64) -> Result<(), &'static str> {
        if port != 0 {
            return Err(NO_TLS);
        }
        Ok(())
    }

    pub fn no_tls(on: bool) -> Result<(), &'static str> {
        if on {
            return Err(NO_TLS);
        }
        Ok(())
    }

    pub fn shutdown_flags(flags: u32) -> Result<(), &'static str> {
        if flags & SHUTDOWN_SAVE != 0 && flags & SHUTDOWN_NOSAVE != 0 {
            return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
        }
        Ok(())
    }

    /// A file name without a directory (`pathIsBaseName`).
    fn is_base_name(name: &str) -> bool {
        !name.contains('/')
    }

    pub fn dbfilename(name: &str) -> Result<(), &'static str> {
        if !is_base_name(name) {
            return Err("dbfilename can't be a path, just a filename");
        }
        Ok(())
    }

    pub fn appendfilename(name: &str) -> Result<(), &'static str> {
        aof_name(
            name,
            "appendfilename can't be empty",
            "appendfilename can't be a path, just a filename",
        )
    }

    pub fn appenddirname(name: &str) -> Result<(), &'static str> {
        aof_name(
            name,
            "appenddirname can't be empty",
            "appenddirname can't be a path, just a dirname",
        )
    }

    /// The AOF's names: not empty, and no directory in them.
    fn aof_name(name: &str, empty: &'static str, path: &'static str) -> Result<(), &'static str> {
        match name {
            "" => Err(empty),
            _ if !is_base_name(name) => Err(path),
            _ => Ok(()),
        }
    }

    pub fn announced_hostname(name: &str) -> Result<(), &'static str> {
        if name.len() >= 256 {
            return Err("Hostnames must be less than 256 characters");
        }
        if !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        {
            return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
        }
        Ok(())
    }

    /// The template must expand (known `{variables}`, `{{` for a brace) to
    /// something other than spaces when the title itself is empty.
    pub fn proc_title_template(template: &str) -> Result<(), &'static str> {
        const INVALID: &str = "template format is invalid or contains unknown variables";
        let mut expanded = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            expanded.push_str(&rest[..open]);
            rest = &rest[open + 1..];
            if rest.is_empty() {
                return Err(INVALID);
            }
            if let Some(after) = rest.strip_prefix('{') {
                expanded.push('{');
                rest = after;
                continue;
            }
            let close = rest.find('}').ok_or(INVALID)?;
            match &rest[..close] {
                "title" | "server-mode" | "unixsocket" => {}
                "listen-addr" | "config-file" | "port" | "tls-port" => expanded.push('x'),
                _ => return Err(INVALID),
            }
            rest = &rest[close + 1..];
        }
        expanded.push_str(rest);
        if expanded.trim_matches(' ').is_empty() {
            return Err(INVALID);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Param {
    /// Parameters are statics: the same one is the same address.
    fn eq(&self, other: &Param) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Param {
    pub fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Sets the value from its words: one for most parameters, any number
    /// for [`MULTI_ARG`] ones. The error is Redis's text.
    pub fn set(&self, config: &mut Config, args: &[&str]) -> Result<(), String> {
        // Single-word kinds always get exactly one word from the callers.
        let first = args.first().copied().unwrap_or_default();
        match &self.kind {
            Kind::Bool { set, check, .. } => {
                let value = match first.to_ascii_lowercase().as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err("argument must be 'yes' or 'no'".into()),
                };
                if let Some(check) = check {
                    check(value)?;
                }
                set(config, value);
            }
            Kind::Number {
                min,
                max,
                unsigned,
                unit,
                set,
                check,
                ..
            } => {
                let value = parse_number(first, *unit)?;
                check_bounds(value, *min, *max, *unsigned, *unit)?;
                if let Some(check) = check {
                    check(value)?;
                }
                set(config, value);
            }
            Kind::Choice {
                names, set, check, ..
            } => {
                let value = parse_choice(names, args, self.is(MULTI_ARG))?;
                if let Some(check) = check {
                    check(value)?;
                }
                set(config, value);
            }
            Kind::Text { set, check, .. } => {
                if let Some(check) = check {
                    check(first)?;
                }
                set(config, first);
            }
            Kind::Special { set, .. } => set(config, args)?,
        }
        Ok(())
    }

    /// The value as CONFIG GET shows it.
    pub fn get(&self, config: &Config) -> String {
        match &self.kind {
            Kind::Bool { get, .. } => yes_no(get(config)).into(),
            Kind::Number { get, unit, .. } => format_number(get(config), *unit),
            Kind::Choice { names, get, .. } => choice_names(names, get(config), self.is(MULTI_ARG)),
            Kind::Text { get, .. } => get(config).to_string(),
            Kind::Special { get, .. } => get(config),
        }
    }
}

pub fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Redis's `numericParseString`: a memory value, a percentage, an octal
/// number or a plain integer, each only where the unit allows it. The
/// value is C's `long long`: a memory value past 2^63 wraps, as in Redis.
fn parse_number(text: &str, unit: Unit) -> Result<i64, String> {
    if matches!(unit, Unit::Memory | Unit::MemoryOrPercent)
        && let Some(bytes) = memtoull(text)
    {
        return Ok(bytes as i64);
    }
    if unit == Unit::MemoryOrPercent
        && let Some(digits) = text.strip_suffix('%')
        && let Some(percent) = crate::num::parse_i64(digits.as_bytes())
        && percent >= 0
    {
        // Stored negative, as Redis stores percentages.
        return Ok(-percent);
    }
    if unit == Unit::Octal
        && let Some(value) = c_strtoll(text, 8)
    {
        return Ok(value);
    }
    if unit == Unit::Integer
        && let Some(value) = crate::num::parse_i64(text.as_bytes())
    {
        return Ok(value);
    }
    Err(match unit {
        Unit::MemoryOrPercent => "argument must be a memory or percent value",
        Unit::Memory => "argument must be a memory value",
        Unit::Octal => "argument couldn't be parsed as an octal number",
        Unit::Integer => "argument couldn't be parsed into an integer",
    }
    .into())
}

/// Redis's `numericBoundaryCheck`, unsigned types compared as unsigned.
fn check_bounds(
    value: i64,
    min: i128,
    max: i128,
    unsigned: bool,
    unit: Unit,
) -> Result<(), String> {
    if unsigned {
        let value = i128::from(value as u64);
        if value < min || value > max {
            return Err(if unit == Unit::Octal {
                format!("argument must be between {min:o} and {max:o} inclusive")
            } else {
                format!("argument must be between {min} and {max} inclusive")
            });
        }
        return Ok(());
    }
    if unit == Unit::MemoryOrPercent && value < 0 {
        if i128::from(value) < min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -min
            ));
        }
        return Ok(());
    }
    let value = i128::from(value);
    if value < min || value > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(())
}

/// A number as CONFIG GET shows it: memory values unsigned, percentages
/// with `%`, octal in octal.
pub fn format_number(value: i64, unit: Unit) -> String {
    match unit {
        Unit::MemoryOrPercent if value < 0 => format!("{}%", -i128::from(value)),
        Unit::Memory | Unit::MemoryOrPercent => (value as u64).to_string(),
        Unit::Octal => format!("{value:o}"),
        Unit::Integer => value.to_string(),
    }
}

/// Redis's `configEnumGetValue`: one name, or for bit flags several OR-ed.
fn parse_choice(names: &[(&str, u32)], args: &[&str], bit_flags: bool) -> Result<u32, String> {
    let invalid = || {
        let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!(
            "argument(s) must be one of the following: {}",
            list.join(", ")
        )
    };
    if args.is_empty() || (!bit_flags && args.len() != 1) {
        return Err(invalid());
    }
    let mut value = 0;
    for arg in args {
        let mut matched = false;
        for (name, v) in names {
            if name.eq_ignore_ascii_case(arg) {
                value |= v;
                matched = true;
            }
        }
        if !matched {
            return Err(invalid());
        }
    }
    Ok(value)
}

/// Redis's `configEnumGetName`: the first name with exactly this value;
/// for bit flags, the names that make it up, or `unknown`.
pub fn choice_names(names: &[(&str, u32)], value: u32, bit_flags: bool) -> String {
    if let Some((name, _)) = names.iter().find(|(_, v)| *v == value) {
        return name.to_string();
    }
    let mut unmatched = value;
    let mut out: Vec<&str> = Vec::new();
    if bit_flags {
        for (name, v) in names {
            if *v != 0 && v & unmatched == *v {
                out.push(name);
                unmatched &= !v;
            }
        }
    }
    if out.is_empty() || unmatched != 0 {
        return "unknown".into();
    }
    out.join(" ")
}

/// The parameters with their own parser, formatter and rewrite rule.
mod special {
    use super::super::rewrite::RewriteState;
    use super::super::units::{format_memory, repr};
    use super::*;

    /// A word of a multi-word line, as Redis writes it (bare), quoted only
    /// when it would not read back as one word otherwise (Redis writes it
    /// bare anyway, and then cannot read its own file).
    fn word(text: &str) -> String {
        let plain = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
        if plain { text.to_string() } else { repr(text) }
    }

    pub mod dir {
        use super::*;

        /// Redis changes its working directory; sedis (which may be one
        /// part of a bigger program) keeps the absolute path instead, and
        /// resolves a relative one against the previous `dir`, as a chdir
        /// would.
        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            let [path] = args else {
                return Err("wrong number of arguments".into());
            };
            let path = std::path::Path::new(&c.dir).join(path);
            let meta = std::fs::metadata(&path).map_err(|e| crate::error::strerror(&e))?;
            if !meta.is_dir() {
                return Err("Not a directory".into());
            }
            let resolved = std::fs::canonicalize(&path).map_err(|e| crate::error::strerror(&e))?;
            c.dir = resolved.display().to_string();
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            c.dir_absolute()
        }

        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            state.rewrite_line("dir", format!("dir {}", repr(&c.dir_absolute())), true);
        }
    }

    pub mod save {
        use super::*;

        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            c.save = parse(args)?;
            Ok(())
        }

        /// Save points from `seconds changes` pairs; `""` alone is none.
        /// Seconds must be at least 1, changes at least 0, each read as
        /// `strtoll` reads it. (Redis then keeps the changes in an `int`, so
        /// past 2^31 it shows a negative count and CONFIG REWRITE writes a
        /// file it refuses to load; sedis keeps the number.)
        pub fn parse(args: &[&str]) -> Result<Vec<(i64, i64)>, String> {
            const INVALID: &str = "Invalid save parameters";
            let args = if args == [""] { &[][..] } else { args };
            if !args.len().is_multiple_of(2) {
                return Err(INVALID.into());
            }
            args.chunks(2)
                .map(|pair| {
                    let seconds = c_strtoll(pair[0], 10).filter(|s| *s >= 1);
                    let changes = c_strtoll(pair[1], 10).filter(|c| *c >= 0);
                    match (seconds, changes) {
                        (Some(s), Some(n)) => Ok((s, n)),
                        _ => Err(INVALID.into()),
                    }
                })
                .collect()
        }

        pub fn get(c: &Config) -> String {
            let points: Vec<String> = c.save.iter().map(|(s, n)| format!("{s} {n}")).collect();
            points.join(" ")
        }

        /// Always written, so the file never falls back to the defaults.
        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            if c.save.is_empty() {
                state.rewrite_line("save", "save \"\"".into(), true);
            }
            for (seconds, changes) in &c.save {
                state.rewrite_line("save", format!("save {seconds} {changes}"), true);
            }
            state.mark_processed("save");
        }
    }

    pub mod obuf_limits {
        use super::*;

        /// `<class> <hard> <soft> <seconds>` groups, all or nothing
        /// (Redis's `updateClientOutputBufferLimit`).
        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            if !args.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = c.client_output_buffer_limit;
            for group in args.chunks(4) {
                let class = ObufClass::parse(group[0])
                    .ok_or("Invalid client class specified in buffer limit configuration.")?;
                let bad =
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
                let hard = memtoull(group[1]).ok_or(bad)?;
                let soft = memtoull(group[2]).ok_or(bad)?;
                // Kept in an int, as Redis keeps it.
                let seconds = c_strtoll(group[3], 10)
                    .map(|s| s as i32)
                    .filter(|s| *s >= 0);
                let seconds = seconds.ok_or(bad)?;
                limits[class as usize] = ObufLimit {
                    hard_bytes: hard,
                    soft_bytes: soft,
                    soft_seconds: seconds as u64,
                };
            }
            c.client_output_buffer_limit = limits;
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            let groups: Vec<String> = ObufClass::ALL
                .iter()
                .map(|&class| {
                    let l = c.client_output_buffer_limit[class as usize];
                    let name = class.get_name();
                    format!(
                        "{name} {} {} {}",
                        l.hard_bytes, l.soft_bytes, l.soft_seconds
                    )
                })
                .collect();
            groups.join(" ")
        }

        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            let name = "client-output-buffer-limit";
            for class in ObufClass::ALL {
                let l = c.client_output_buffer_limit[class as usize];
                let line = format!(
                    "{name} {} {} {} {}",
                    class.rewrite_name(),
                    format_memory(l.hard_bytes),
                    format_memory(l.soft_bytes),
                    l.soft_seconds
                );
                let force = l != super::super::super::DEFAULT_OBUF_LIMITS[class as usize];
                state.rewrite_line(name, line, force);
            }
        }
    }

    pub mod oom_score_adj_values {
        use super::*;

        pub const DEFAULT: [i32; 3] = [0, 200, 800];

        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut values = [0; 3];
            for (value, arg) in values.iter_mut().zip(args) {
                *value = c_strtoll(arg, 10)
                    .filter(|v| (-2000..=2000).contains(v))
                    .ok_or(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
                    )? as i32;
            }
            c.oom_score_adj_values = values;
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            let [a, b, d] = c.oom_score_adj_values;
            format!("{a} {b} {d}")
        }

        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            let force = c.oom_score_adj_values != DEFAULT;
            let line = format!("oom-score-adj-values {}", get(c));
            state.rewrite_line("oom-score-adj-values", line, force);
        }
    }

    pub mod notify_keyspace_events {
        use super::*;
        use crate::channels::notify;

        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            let [classes] = args else {
                return Err("wrong number of arguments".into());
            };
            c.notify_keyspace_events =
                notify::parse_flags(classes).ok_or_else(|| notify::BAD_CLASS.to_string())?;
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            notify::format_flags(c.notify_keyspace_events)
        }

        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            let name = "notify-keyspace-events";
            let line = format!("{name} {}", repr(&get(c)));
            state.rewrite_line(name, line, c.notify_keyspace_events != 0);
        }
    }

    pub mod bind {
        use super::*;

        /// The most addresses Redis listens on.
        const MAX: usize = 16;

        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            if args.len() > MAX {
                return Err("Too many bind addresses specified.".into());
            }
            let args = if args == [""] { &[][..] } else { args };
            c.bind = args.iter().map(|a| a.to_string()).collect();
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            c.bind.join(" ")
        }

        /// Always written: sedis's default is not Redis's (which Redis
        /// removes from the file instead).
        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            let addresses = match c.bind.as_slice() {
                [] => "\"\"".to_string(),
                // A lone word of a multi-word directive is split once more
                // when read: one needing quotes is quoted twice.
                [one] if word(one) != *one => repr(&word(one)),
                all => all.iter().map(|a| word(a)).collect::<Vec<_>>().join(" "),
            };
            state.rewrite_line("bind", format!("bind {addresses}"), true);
        }
    }

    pub mod replicaof {
        use super::*;

        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            let [host, port] = args else {
                return Err("wrong number of arguments".into());
            };
            c.replicaof = None;
            if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
                return Ok(());
            }
            let port = c_strtoll(port, 10)
                .filter(|p| (0..=65535).contains(p))
                .ok_or("Invalid master port")?;
            c.replicaof = Some((host.to_string(), port as u16));
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            match &c.replicaof {
                Some((host, port)) => format!("{host} {port}"),
                None => String::new(),
            }
        }

        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            match &c.replicaof {
                Some((host, port)) => {
                    let line = format!("replicaof {} {port}", word(host));
                    state.rewrite_line("replicaof", line, true)
                }
                None => state.mark_processed("replicaof"),
            }
        }
    }

    pub mod latency_percentiles {
        use super::*;

        pub fn set(c: &mut Config, args: &[&str]) -> Result<(), String> {
            let args = if args == [""] { &[][..] } else { args };
            let mut percentiles = Vec::with_capacity(args.len());
            for arg in args {
                let p = crate::num::parse_f64(arg.as_bytes())
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                            .into(),
                    );
                }
                percentiles.push(p);
            }
            c.latency_tracking_info_percentiles = percentiles;
            Ok(())
        }

        pub fn get(c: &Config) -> String {
            let values: Vec<String> = c
                .latency_tracking_info_percentiles
                .iter()
                .map(|p| format_f64_trimmed(*p))
                .collect();
            values.join(" ")
        }

        /// Always written (`""` for none), like `save`.
        pub fn rewrite(c: &Config, state: &mut RewriteState) {
            let name = "latency-tracking-info-percentiles";
            let values = if c.latency_tracking_info_percentiles.is_empty() {
                "\"\"".to_string()
            } else {
                get(c)
            };
            state.rewrite_line(name, format!("{name} {values}"), true);
        }
    }
}

/// Finds a parameter by its name or alias, in any case.
pub fn lookup(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name) || p.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Every name CONFIG GET can match with a pattern: each parameter's name
/// and alias, hidden ones left out.
pub fn listed_names() -> impl Iterator<Item = (&'static str, &'static Param)> {
    PARAMS
        .iter()
        .filter(|p| !p.is(HIDDEN))
        .flat_map(|p| std::iter::once(p.name).chain(p.alias).map(move |n| (n, p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for p in PARAMS {
            for name in std::iter::once(p.name).chain(p.alias) {
                assert_eq!(name, name.to_ascii_lowercase());
                assert!(seen.insert(name), "{name} declared twice");
            }
        }
        // Redis 7.0.15 (built with TLS) lists 192 names for CONFIG GET *.
        assert_eq!(listed_names().count(), 192);
    }

    #[test]
    fn numbers_parse_and_check_like_redis() {
        let p = lookup("maxmemory").unwrap();
        let mut c = Config::default();
        p.set(&mut c, &["18446744073709551615"]).unwrap();
        assert_eq!(p.get(&c), "18446744073709551615");
        // strtoull saturates and the unit multiplies without a check.
        p.set(&mut c, &["99999999999999999999"]).unwrap();
        assert_eq!(p.get(&c), "18446744073709551615");
        assert_eq!(
            p.set(&mut c, &["-1"]).unwrap_err(),
            "argument must be a memory value"
        );
        let p = lookup("maxclients").unwrap();
        assert_eq!(
            p.set(&mut c, &["-1"]).unwrap_err(),
            "argument must be between 1 and 4294967295 inclusive"
        );
        let p = lookup("maxmemory-clients").unwrap();
        p.set(&mut c, &["5%"]).unwrap();
        assert_eq!(p.get(&c), "5%");
        assert_eq!(
            p.set(&mut c, &["101%"]).unwrap_err(),
            "percentage argument must be less or equal to 100"
        );
        assert_eq!(
            p.set(&mut c, &["-5"]).unwrap_err(),
            "argument must be a memory or percent value"
        );
        let p = lookup("unixsocketperm").unwrap();
        p.set(&mut c, &["700"]).unwrap();
        assert_eq!(p.get(&c), "700");
        assert_eq!(
            p.set(&mut c, &["1000"]).unwrap_err(),
            "argument must be between 0 and 777 inclusive"
        );
        assert_eq!(
            p.set(&mut c, &["9"]).unwrap_err(),
            "argument couldn't be parsed as an octal number"
        );
    }

    #[test]
    fn choices_take_aliases_and_flags() {
        let mut c = Config::default();
        let p = lookup("oom-score-adj").unwrap();
        p.set(&mut c, &["RELATIVE"]).unwrap();
        assert_eq!(p.get(&c), "yes");
        let p = lookup("shutdown-on-sigint").unwrap();
        p.set(&mut c, &["save", "now"]).unwrap();
        assert_eq!(p.get(&c), "save now");
        assert_eq!(
            p.set(&mut c, &["nosave", "save"]).unwrap_err(),
            "shutdown options SAVE and NOSAVE can't be used simultaneously"
        );
        let p = lookup("appendfsync").unwrap();
        assert_eq!(
            p.set(&mut c, &["sometimes"]).unwrap_err(),
            "argument(s) must be one of the following: everysec, always, no"
        );
    }

    #[test]
    fn proc_title_templates_are_checked() {
        assert!(check::proc_title_template("{title} {listen-addr} {server-mode}").is_ok());
        assert!(check::proc_title_template("{title}").is_err());
        assert!(check::proc_title_template("x {{").is_ok());
        assert!(check::proc_title_template("{nope}").is_err());
        assert!(check::proc_title_template("{title").is_err());
    }
}
