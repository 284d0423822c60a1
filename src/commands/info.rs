//! INFO: the server's state as `field:value` lines in titled sections, with
//! Redis 7.0's section names, field names and field order, so that
//! monitoring tools written for Redis read sedis unchanged.
//!
//! Every field Redis prints is printed. Fields about machinery sedis does not
//! have (replication, forks, Lua, active defrag...) carry the value Redis
//! shows when that machinery is idle or off; everything sedis does have is
//! measured. sedis adds one field, `sedis_version`, at the end of
//! `# Server`. It omits `used_cpu_*_main_thread` (there is no main thread
//! serving commands; Redis omits the lines too where the platform cannot
//! measure one thread).

use std::fmt::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::alloc;
use crate::error::CommandResult;
use crate::state::State;
use crate::state::session::flag;
use crate::store::keyspace::SHARDS;
use crate::store::{Db, LockPlan, Mode};

use super::Ctx;
use super::table::{Command, LockContext, Locks, acl, flags::*};

/// `INFO [section [section ...]]`: RESP3 clients get a verbatim string.
fn info(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let selection = Selection::parse(&args[1..]);
    let keyspace = if selection.wants("keyspace") {
        keyspace_lines(ctx)
    } else {
        String::new()
    };
    let text = generate(ctx.state, &selection, &keyspace);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// The keyspace section reads every database, so INFO read-locks them all
/// when it is asked for, through the command's plan like any command: a
/// handler that locked on its own could deadlock against the locks a
/// transaction already holds.
fn info_locks(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = LockPlan::new();
    if Selection::parse(&lc.args[1..]).wants("keyspace") {
        plan.add_all(lc.keyspace, Mode::Read);
    }
    plan
}

/// Sections printed by a bare INFO (Redis's default set).
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Which sections a request asked for (Redis's `genInfoSectionDict`).
#[derive(Debug, Default)]
pub struct Selection {
    /// Lowercased section names.
    names: Vec<String>,
    /// `all` or `everything`: every section.
    all: bool,
}

impl Selection {
    pub fn parse(args: &[Vec<u8>]) -> Selection {
        let mut selection = Selection::default();
        if args.is_empty() {
            selection.add_defaults();
        }
        for arg in args {
            let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
            match name.as_str() {
                "default" => selection.add_defaults(),
                "all" | "everything" => selection.all = true,
                _ => selection.add(name),
            }
        }
        selection
    }

    fn add_defaults(&mut self) {
        for name in DEFAULT_SECTIONS {
            self.add((*name).to_string());
        }
    }

    fn add(&mut self, name: String) {
        if !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    fn wants(&self, name: &str) -> bool {
        self.all || self.names.iter().any(|n| n == name)
    }
}

/// One section: its names (the first is canonical; `modules` also answers
/// to `module_list`) and what writes its lines.
struct Section {
    names: &'static [&'static str],
    title: &'static str,
    write: fn(&Sources, &mut String),
}

/// What the sections are written from.
struct Sources<'a> {
    state: &'a State,
    /// The keyspace section's lines, read under the command's locks.
    keyspace: &'a str,
}

/// Every section, in Redis's order.
const SECTIONS: &[Section] = &[
    Section {
        names: &["server"],
        title: "Server",
        write: server_section,
    },
    Section {
        names: &["clients"],
        title: "Clients",
        write: clients_section,
    },
    Section {
        names: &["memory"],
        title: "Memory",
        write: memory_section,
    },
    Section {
        names: &["persistence"],
        title: "Persistence",
        write: persistence_section,
    },
    Section {
        names: &["stats"],
        title: "Stats",
        write: stats_section,
    },
    Section {
        names: &["replication"],
        title: "Replication",
        write: replication_section,
    },
    Section {
        names: &["cpu"],
        title: "CPU",
        write: cpu_section,
    },
    Section {
        names: &["module_list", "modules"],
        title: "Modules",
        write: |_, _| {}, // no modules can be loaded
    },
    Section {
        names: &["commandstats"],
        title: "Commandstats",
        write: commandstats_section,
    },
    Section {
        names: &["errorstats"],
        title: "Errorstats",
        write: errorstats_section,
    },
    Section {
        names: &["latencystats"],
        title: "Latencystats",
        write: latencystats_section,
    },
    Section {
        names: &["cluster"],
        title: "Cluster",
        write: |_, out| field(out, "cluster_enabled", 0),
    },
    Section {
        names: &["keyspace"],
        title: "Keyspace",
        write: |src, out| out.push_str(src.keyspace),
    },
];

/// The INFO text for `selection`: the chosen sections in Redis's order,
/// separated by an empty line. Unknown names select nothing. `keyspace` is
/// the body of the keyspace section.
pub fn generate(state: &State, selection: &Selection, keyspace: &str) -> String {
    let sources = Sources { state, keyspace };
    let mut out = String::with_capacity(4096);
    let mut first = true;
    for section in SECTIONS {
        if !section.names.iter().any(|n| selection.wants(n)) {
            continue;
        }
        if !first {
            out.push_str("\r\n");
        }
        first = false;
        let _ = write!(out, "# {}\r\n", section.title);
        (section.write)(&sources, &mut out);
    }
    out
}

/// Appends `name:value\r\n`.
fn field(out: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "{name}:{value}\r\n");
}

/// Appends one `name:value\r\n` line per pair, in order: a section reads
/// as the table of fields Redis prints.
fn fields(out: &mut String, pairs: &[(&str, &dyn std::fmt::Display)]) {
    for (name, value) in pairs {
        field(out, name, value);
    }
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// `sysname release machine` from uname(2), read once.
fn os_name() -> &'static str {
    static OS: OnceLock<String> = OnceLock::new();
    OS.get_or_init(|| {
        // SAFETY: uname fills the zeroed struct we own; its fields are
        // NUL-terminated C strings afterwards.
        unsafe {
            let mut name: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut name) != 0 {
                return "unknown".into();
            }
            let text = |field: &[libc::c_char]| {
                std::ffi::CStr::from_ptr(field.as_ptr())
                    .to_string_lossy()
                    .into_owned()
            };
            format!(
                "{} {} {}",
                text(&name.sysname),
                text(&name.release),
                text(&name.machine)
            )
        }
    })
}

fn server_section(src: &Sources, out: &mut String) {
    let state = src.state;
    let config = state.config();
    let uptime = state.started.elapsed().as_secs();
    let now_us = crate::clock::unix_us();
    let executable = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let config_file = config
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    fields(
        out,
        &[
            ("redis_version", &crate::REDIS_VERSION),
            ("redis_git_sha1", &"00000000"),
            ("redis_git_dirty", &0),
            ("redis_build_id", &"0"),
            ("redis_mode", &"standalone"),
            ("os", &os_name()),
            ("arch_bits", &usize::BITS),
            // std's Instant reads CLOCK_MONOTONIC through clock_gettime.
            ("monotonic_clock", &"POSIX clock_gettime"),
            // One thread per connection, blocking I/O: no event multiplexer.
            ("multiplexing_api", &"threads"),
            ("atomicvar_api", &"rust-std"),
            // Not built by gcc.
            ("gcc_version", &"0.0.0"),
            ("process_id", &std::process::id()),
            ("process_supervised", &"no"),
            ("run_id", &state.run_id),
            ("tcp_port", &state.local_addr().port()),
            ("server_time_usec", &now_us),
            ("uptime_in_seconds", &uptime),
            ("uptime_in_days", &(uptime / (3600 * 24))),
            ("hz", &config.hz),
            ("configured_hz", &config.hz),
            // Redis's LRU clock: seconds, 24 bits.
            ("lru_clock", &((now_us / 1_000_000) & ((1 << 24) - 1))),
            ("executable", &executable),
            ("config_file", &config_file),
            ("io_threads_active", &0),
            ("sedis_version", &crate::SEDIS_VERSION),
        ],
    );
}

/// Figures gathered in one pass over the connected clients.
struct ClientsSummary {
    connected: usize,
    max_input_buffer: usize,
    blocked: usize,
    memory: usize,
}

fn clients_summary(state: &State) -> ClientsSummary {
    let clients = state.sessions.list();
    let mut summary = ClientsSummary {
        connected: clients.len(),
        max_input_buffer: 0,
        blocked: 0,
        memory: 0,
    };
    for client in &clients {
        let info = client.info.lock();
        summary.max_input_buffer = summary.max_input_buffer.max(info.query_buffer);
        if info.flags & flag::BLOCKED != 0 {
            summary.blocked += 1;
        }
        summary.memory +=
            super::connection::estimated_memory(info.query_buffer, 0, info.multi_mem, 0);
    }
    summary
}

fn clients_section(src: &Sources, out: &mut String) {
    let state = src.state;
    let summary = clients_summary(state);
    fields(
        out,
        &[
            ("connected_clients", &summary.connected),
            ("cluster_connections", &0),
            ("maxclients", &state.config().maxclients),
            ("client_recent_max_input_buffer", &summary.max_input_buffer),
            // Replies are written out before a worker waits for input, so no
            // output buffer outlives a request.
            ("client_recent_max_output_buffer", &0),
            ("blocked_clients", &summary.blocked),
            ("tracking_clients", &state.tracking.counts().clients),
            ("clients_in_timeout_table", &0),
        ],
    );
}

/// What the Lua engine holds, for INFO memory.
struct ScriptMemory {
    eval_vm: usize,
    functions_vm: usize,
    cached: usize,
    /// The script cache: bodies and their SHA-1s, with the table's
    /// overhead (Redis's `evalScriptsMemory`, in the same terms).
    eval_cache: usize,
    functions: usize,
    libraries: usize,
    /// The libraries' code and names.
    libraries_code: usize,
}

impl ScriptMemory {
    fn of(state: &crate::state::State) -> ScriptMemory {
        // Per cached script: a table entry and the script's record, as in
        // Redis's accounting.
        const PER_SCRIPT: usize = 24 + 16;
        const PER_LIBRARY: usize = 64;
        let engine = state.scripts.lock();
        let cached = engine.script_count();
        ScriptMemory {
            eval_vm: engine.eval_memory(),
            functions_vm: engine.functions_memory(),
            cached,
            eval_cache: engine
                .scripts()
                .map(|s| s.body.len() + 40 + PER_SCRIPT)
                .sum(),
            functions: engine.libraries().map(|l| l.functions.len()).sum(),
            libraries: engine.libraries().count(),
            libraries_code: engine
                .libraries()
                .map(|l| l.code.len() + l.name.len() + PER_LIBRARY)
                .sum(),
        }
    }
}

/// `numerator / denominator`, or 0 when there is nothing to divide by.
fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn memory_section(src: &Sources, out: &mut String) {
    let state = src.state;
    let (used, peak) = state.note_memory_usage();
    let rss = alloc::resident_set_size();
    let startup = state.memory_startup();
    let clients = clients_summary(state).memory;
    let overhead = (startup + clients).min(used);
    let dataset = used - overhead;
    let net = used.saturating_sub(startup);
    let total_system = alloc::total_system_memory();
    let limit = &src.state.memory;
    let human = |n: usize| alloc::bytes_to_human(n as u64);
    let scripts = ScriptMemory::of(state);
    fields(
        out,
        &[
            ("used_memory", &used),
            ("used_memory_human", &human(used)),
            ("used_memory_rss", &rss),
            ("used_memory_rss_human", &human(rss)),
            ("used_memory_peak", &peak),
            ("used_memory_peak_human", &human(peak)),
            (
                "used_memory_peak_perc",
                &format!("{:.2}%", ratio(used * 100, peak)),
            ),
            ("used_memory_overhead", &overhead),
            ("used_memory_startup", &startup),
            ("used_memory_dataset", &dataset),
            (
                "used_memory_dataset_perc",
                &format!("{:.2}%", ratio(dataset * 100, net)),
            ),
            // The system allocator reports no active/resident split: what is
            // allocated is counted as active, and the resident figure is the RSS.
            ("allocator_allocated", &used),
            ("allocator_active", &used),
            ("allocator_resident", &rss),
            ("total_system_memory", &total_system),
            ("total_system_memory_human", &human(total_system)),
            ("used_memory_lua", &scripts.eval_vm),
            ("used_memory_vm_eval", &scripts.eval_vm),
            ("used_memory_lua_human", &human(scripts.eval_vm)),
            ("used_memory_scripts_eval", &scripts.eval_cache),
            ("number_of_cached_scripts", &scripts.cached),
            ("number_of_functions", &scripts.functions),
            ("number_of_libraries", &scripts.libraries),
            ("used_memory_vm_functions", &scripts.functions_vm),
            (
                "used_memory_vm_total",
                &(scripts.eval_vm + scripts.functions_vm),
            ),
            (
                "used_memory_vm_total_human",
                &human(scripts.eval_vm + scripts.functions_vm),
            ),
            ("used_memory_functions", &scripts.libraries_code),
            (
                "used_memory_scripts",
                &(scripts.eval_cache + scripts.libraries_code),
            ),
            (
                "used_memory_scripts_human",
                &human(scripts.eval_cache + scripts.libraries_code),
            ),
            ("maxmemory", &limit.maxmemory()),
            ("maxmemory_human", &human(limit.maxmemory() as usize)),
            ("maxmemory_policy", &limit.policy().name()),
            ("allocator_frag_ratio", &"1.00"),
            ("allocator_frag_bytes", &0),
            ("allocator_rss_ratio", &format!("{:.2}", ratio(rss, used))),
            ("allocator_rss_bytes", &(rss as i64 - used as i64)),
            ("rss_overhead_ratio", &"1.00"),
            ("rss_overhead_bytes", &0),
            (
                "mem_fragmentation_ratio",
                &format!("{:.2}", ratio(rss, used)),
            ),
            ("mem_fragmentation_bytes", &(rss as i64 - used as i64)),
            ("mem_not_counted_for_evict", &0),
            ("mem_replication_backlog", &0),
            ("mem_total_replication_buffers", &0),
            ("mem_clients_slaves", &0),
            ("mem_clients_normal", &clients),
            ("mem_cluster_links", &0),
            ("mem_aof_buffer", &0),
            ("mem_allocator", &"libc"),
            ("active_defrag_running", &0),
            ("lazyfree_pending_objects", &0),
            ("lazyfreed_objects", &0),
        ],
    );
}

fn persistence_section(src: &Sources, out: &mut String) {
    use std::sync::atomic::{AtomicBool, AtomicI64};
    let state = src.state;
    let aof = state.config().appendonly;
    let (rdb, log) = (&state.rdb, &state.aof);
    let flag = |b: &AtomicBool| u8::from(b.load(Ordering::Relaxed));
    let status = |b: &AtomicBool| {
        if b.load(Ordering::Relaxed) {
            "ok"
        } else {
            "err"
        }
    };
    let secs = |a: &AtomicI64| a.load(Ordering::Relaxed);
    // Seconds since a start time in unix ms, or -1 if nothing is running.
    let running = |started: &AtomicI64| match started.load(Ordering::Relaxed) {
        ms if ms < 0 => -1,
        ms => (crate::clock::unix_ms() - ms) / 1000,
    };
    let write_failed = log.log.write_failed.load(Ordering::Relaxed);
    fields(
        out,
        &[
            ("loading", &(state.repl.loading.load(Ordering::Acquire) as u8)),
            ("async_loading", &0),
            ("current_cow_peak", &0),
            ("current_cow_size", &0),
            ("current_cow_size_age", &0),
            ("current_fork_perc", &"0.00"),
            ("current_save_keys_processed", &0),
            ("current_save_keys_total", &0),
            ("rdb_changes_since_last_save", &state.dirty()),
            ("rdb_bgsave_in_progress", &flag(&rdb.bgsave_in_progress)),
            ("rdb_last_save_time", &secs(&state.lastsave)),
            ("rdb_last_bgsave_status", &status(&rdb.last_bgsave_ok)),
            ("rdb_last_bgsave_time_sec", &secs(&rdb.last_bgsave_secs)),
            (
                "rdb_current_bgsave_time_sec",
                &running(&rdb.bgsave_started_ms),
            ),
            ("rdb_saves", &load(&rdb.saves)),
            ("rdb_last_cow_size", &0),
            ("rdb_last_load_keys_expired", &load(&rdb.last_load_expired)),
            ("rdb_last_load_keys_loaded", &load(&rdb.last_load_keys)),
            ("aof_enabled", &u8::from(aof)),
            ("aof_rewrite_in_progress", &flag(&log.rewrite_in_progress)),
            ("aof_rewrite_scheduled", &flag(&log.rewrite_requested)),
            ("aof_last_rewrite_time_sec", &secs(&log.last_rewrite_secs)),
            (
                "aof_current_rewrite_time_sec",
                &running(&log.rewrite_started_ms),
            ),
            ("aof_last_bgrewrite_status", &status(&log.last_rewrite_ok)),
            ("aof_rewrites", &load(&log.rewrites)),
            (
                "aof_rewrites_consecutive_failures",
                &load(&log.rewrite_failures),
            ),
            (
                "aof_last_write_status",
                &if write_failed { "err" } else { "ok" },
            ),
            ("aof_last_cow_size", &0),
            ("module_fork_in_progress", &0),
            ("module_fork_last_cow_size", &0),
        ],
    );
    if aof {
        fields(
            out,
            &[
                ("aof_current_size", &log.current_size()),
                ("aof_base_size", &log.base_size.load(Ordering::Relaxed)),
                ("aof_pending_rewrite", &flag(&log.rewrite_requested)),
                ("aof_buffer_length", &0),
                ("aof_pending_bio_fsync", &0),
                ("aof_delayed_fsync", &0),
            ],
        );
    }
}

fn stats_section(src: &Sources, out: &mut String) {
    let state = src.state;
    let s = &state.stats;
    let ks = &state.keyspace().stats;
    let pubsub = &state.pubsub;
    let tracking = state.tracking.counts();
    let kbps = |per_sec: u64| format!("{:.2}", per_sec as f32 / 1024.0);
    fields(
        out,
        &[
            (
                "total_connections_received",
                &load(&s.total_connections_received),
            ),
            (
                "total_commands_processed",
                &s.total_commands_processed.get(),
            ),
            ("instantaneous_ops_per_sec", &state.metrics.ops.per_sec()),
            ("total_net_input_bytes", &s.total_net_input_bytes.get()),
            ("total_net_output_bytes", &s.total_net_output_bytes.get()),
            ("total_net_repl_input_bytes", &load(&state.repl.net_input_bytes)),
            ("total_net_repl_output_bytes", &load(&state.repl.net_output_bytes)),
            (
                "instantaneous_input_kbps",
                &kbps(state.metrics.net_input.per_sec()),
            ),
            (
                "instantaneous_output_kbps",
                &kbps(state.metrics.net_output.per_sec()),
            ),
            ("instantaneous_input_repl_kbps", &"0.00"),
            ("instantaneous_output_repl_kbps", &"0.00"),
            ("rejected_connections", &load(&s.rejected_connections)),
            ("sync_full", &load(&state.repl.sync_full)),
            ("sync_partial_ok", &load(&state.repl.sync_partial_ok)),
            ("sync_partial_err", &load(&state.repl.sync_partial_err)),
            ("expired_keys", &ks.expired_keys.get()),
            ("expired_stale_perc", &"0.00"),
            ("expired_time_cap_reached_count", &0),
            ("expire_cycle_cpu_milliseconds", &0),
            ("evicted_keys", &ks.evicted_keys.get()),
            ("evicted_clients", &0),
            ("total_eviction_exceeded_time", &0),
            ("current_eviction_exceeded_time", &0),
            ("keyspace_hits", &ks.keyspace_hits.get()),
            ("keyspace_misses", &ks.keyspace_misses.get()),
            (
                "pubsub_channels",
                &pubsub.channel_count(crate::channels::Kind::Channel),
            ),
            ("pubsub_patterns", &pubsub.pattern_count()),
            (
                "pubsubshard_channels",
                &pubsub.channel_count(crate::channels::Kind::Shard),
            ),
            ("latest_fork_usec", &0),
            ("total_forks", &0),
            ("migrate_cached_sockets", &state.migrate_targets.len()),
            ("slave_expires_tracked_keys", &0),
            ("active_defrag_hits", &0),
            ("active_defrag_misses", &0),
            ("active_defrag_key_hits", &0),
            ("active_defrag_key_misses", &0),
            ("total_active_defrag_time", &0),
            ("current_active_defrag_time", &0),
            ("tracking_total_keys", &tracking.keys),
            ("tracking_total_items", &tracking.items),
            ("tracking_total_prefixes", &tracking.prefixes),
            ("unexpected_error_replies", &0),
            ("total_error_replies", &load(&s.total_error_replies)),
            ("dump_payload_sanitizations", &0),
            ("total_reads_processed", &s.total_reads_processed.get()),
            ("total_writes_processed", &s.total_writes_processed.get()),
            ("io_threaded_reads_processed", &0),
            ("io_threaded_writes_processed", &0),
            ("reply_buffer_shrinks", &0),
            ("reply_buffer_expands", &0),
            // Redis 7.2's ACL counters; only password failures can happen here.
            ("acl_access_denied_auth", &load(&s.acl_access_denied_auth)),
            ("acl_access_denied_cmd", &0),
            ("acl_access_denied_key", &0),
            ("acl_access_denied_channel", &0),
        ],
    );
}

fn replication_section(src: &Sources, out: &mut String) {
    use crate::persist::replication::ReplicaState;
    use crate::state::replication::LinkState;
    let state = src.state;
    let config = state.config();
    let stream = state.replication().status();
    let replicas = state.replication().replicas();
    let master = state.repl.master();
    field(out, "role", if master.is_some() { "slave" } else { "master" });
    if let Some(master) = &master {
        let up = master.state == LinkState::Connected;
        fields(
            out,
            &[
                ("master_host", &master.host),
                ("master_port", &master.port),
                ("master_link_status", &if up { "up" } else { "down" }),
                (
                    "master_last_io_seconds_ago",
                    &if up {
                        master.last_io.elapsed().as_secs() as i64
                    } else {
                        -1
                    },
                ),
                ("master_sync_in_progress", &((master.state == LinkState::Sync) as u8)),
                ("slave_read_repl_offset", &stream.offset),
                ("slave_repl_offset", &stream.offset),
            ],
        );
        if master.state == LinkState::Sync {
            let total = master.transfer_size;
            let read = master.transfer_read as i64;
            let perc = if total > 0 {
                read as f64 / total as f64 * 100.0
            } else {
                0.0
            };
            fields(
                out,
                &[
                    ("master_sync_total_bytes", &total),
                    ("master_sync_read_bytes", &read),
                    ("master_sync_left_bytes", &(total - read)),
                    ("master_sync_perc", &format!("{perc:.2}")),
                    ("master_sync_last_io_seconds_ago", &master.last_io.elapsed().as_secs()),
                ],
            );
        }
        if !up {
            let down = master
                .down_since
                .map_or(-1, |since| since.elapsed().as_secs() as i64);
            field(out, "master_link_down_since_seconds", down);
        }
        fields(
            out,
            &[
                ("slave_priority", &config.replica_priority),
                ("slave_read_only", &(config.replica_read_only as u8)),
                ("replica_announced", &(config.replica_announced as u8)),
            ],
        );
    }
    field(out, "connected_slaves", replicas.len());
    if config.min_replicas_to_write > 0 && config.min_replicas_max_lag > 0 {
        field(
            out,
            "min_slaves_good_slaves",
            crate::state::replication::good_replicas(state, &config),
        );
    }
    let now_s = crate::clock::unix_ms() / 1000;
    for (n, replica) in replicas.iter().enumerate() {
        let replica_state = replica.state();
        let lag = if replica_state == ReplicaState::Online {
            now_s - replica.ack_at_ms.load(Ordering::Acquire) / 1000
        } else {
            0
        };
        field(
            out,
            &format!("slave{n}"),
            format!(
                "ip={},port={},state={},offset={},lag={lag}",
                replica.ip,
                replica.port,
                replica_state.name(),
                replica.ack_offset.load(Ordering::Acquire),
            ),
        );
    }
    fields(
        out,
        &[
            ("master_failover_state", &"no-failover"),
            ("master_replid", &stream.replid),
            ("master_replid2", &stream.replid2),
            ("master_repl_offset", &stream.offset),
            ("second_repl_offset", &stream.second_offset),
            ("repl_backlog_active", &(stream.backlog_active as u8)),
            ("repl_backlog_size", &stream.backlog_size),
            ("repl_backlog_first_byte_offset", &stream.backlog_first_byte),
            ("repl_backlog_histlen", &stream.backlog_histlen),
        ],
    );
}

/// (system, user) CPU time of `who`, as Redis prints it: `seconds.micros`.
fn cpu_times(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    };
    let time = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (time(usage.ru_stime), time(usage.ru_utime))
}

fn cpu_section(_: &Sources, out: &mut String) {
    let (sys, user) = cpu_times(libc::RUSAGE_SELF);
    let (sys_children, user_children) = cpu_times(libc::RUSAGE_CHILDREN);
    fields(
        out,
        &[
            ("used_cpu_sys", &sys),
            ("used_cpu_user", &user),
            ("used_cpu_sys_children", &sys_children),
            ("used_cpu_user_children", &user_children),
        ],
    );
}

fn commandstats_section(src: &Sources, out: &mut String) {
    let state = src.state;
    for (id, entry) in super::registry().entries().iter().enumerate() {
        let stats = &state.command_stats[id];
        let calls = load(&stats.calls);
        let failed = load(&stats.failed_calls);
        let rejected = load(&stats.rejected_calls);
        if calls == 0 && failed == 0 && rejected == 0 {
            continue;
        }
        let usec = load(&stats.usec);
        // Redis divides in single precision.
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f32 / calls as f32
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            entry.full_name
        );
    }
}

/// Each called command's latency percentiles (`latency-tracking`), in µs
/// with three decimals, the percentiles named as Redis prints them.
fn latencystats_section(src: &Sources, out: &mut String) {
    let state = src.state;
    if !state.latency.tracking() {
        return;
    }
    let percentiles = state.config().latency_tracking_info_percentiles.clone();
    for (id, entry) in super::registry().entries().iter().enumerate() {
        let Some(histogram) = state.command_stats[id].histogram.snapshot() else {
            continue;
        };
        let _ = write!(out, "latency_percentiles_usec_{}:", entry.full_name);
        for (i, &p) in percentiles.iter().enumerate() {
            let value = histogram.value_at_percentile(p) as f64 / 1000.0;
            let sep = if i + 1 == percentiles.len() { "" } else { "," };
            let name = crate::config::units::format_f64_trimmed(p);
            let _ = write!(out, "p{name}={value:.3}{sep}");
        }
        out.push_str("\r\n");
    }
}

fn errorstats_section(src: &Sources, out: &mut String) {
    let state = src.state;
    let mut errors: Vec<(String, u64)> = state
        .stats
        .errors_by_code
        .lock()
        .iter()
        .map(|(code, count)| (code.clone(), *count))
        .collect();
    errors.sort();
    for (code, count) in errors {
        let _ = write!(
            out,
            "errorstat_{}:count={count}\r\n",
            safe_info_string(&code)
        );
    }
}

/// An error code as INFO can show it: characters that would break the
/// `name:value` line format become `_`, as Redis's `getSafeInfoString`
/// does.
fn safe_info_string(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, ':' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The keyspace section's lines: `db<n>:keys=..,expires=..,avg_ttl=..`
/// for every database that holds keys. Needs every database's shards in
/// the command's locks ([`info_locks`]).
fn keyspace_lines(ctx: &mut Ctx) -> String {
    let mut out = String::new();
    for index in 0..ctx.keyspace().databases() {
        let mut db = ctx.db_at(index);
        let (keys, expires) = (db.len(), db.volatile_len());
        if keys == 0 && expires == 0 {
            continue;
        }
        let avg_ttl = if expires > 0 {
            sample_avg_ttl(&mut db)
        } else {
            0
        };
        let _ = write!(
            out,
            "db{index}:keys={keys},expires={expires},avg_ttl={avg_ttl}\r\n"
        );
    }
    out
}

/// Keys with a TTL `avg_ttl` is estimated from, and the most keys looked
/// at to find them.
const TTL_SAMPLE: usize = 64;
const TTL_LOOK_AT: usize = 4096;

/// An estimate of the average remaining TTL (ms) of the keys with one in
/// `db`, from a sample, as Redis's is (it averages the TTLs its expiry
/// cycle samples). The sample starts at a random shard and walks on with
/// SCAN until it holds enough keys with a TTL or has looked at enough keys,
/// so a small database is measured exactly and a large one at bounded cost.
fn sample_avg_ttl(view: &mut Db<'_, '_>) -> i64 {
    let now = view.now_ms();
    // A SCAN cursor's low bits are the shard.
    let start = crate::rng::Rng::new().below(SHARDS as u64);
    let (mut sum, mut with_ttl, mut looked_at) = (0i128, 0usize, 0usize);
    let mut cursor = start;
    let mut wrapped = false;
    while with_ttl < TTL_SAMPLE && looked_at < TTL_LOOK_AT {
        let mut volatile = Vec::new();
        cursor = view.scan(cursor, TTL_SAMPLE, |key, entry| {
            looked_at += 1;
            if entry.is_volatile() {
                volatile.push(key.clone());
            }
        });
        for key in volatile {
            if let Some(at) = view.expire_at(key.as_bytes()) {
                sum += i128::from((at - now).max(0));
                with_ttl += 1;
            }
        }
        if cursor == 0 {
            if wrapped || start == 0 {
                break;
            }
            wrapped = true;
        }
        if wrapped && cursor % SHARDS as u64 >= start {
            break;
        }
    }
    if with_ttl == 0 {
        0
    } else {
        (sum / with_ttl as i128) as i64
    }
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[Command::new("info", -1, info)
    .syntax("[section ...]")
    .flags(LOADING | STALE | SENTINEL)
    .acl(acl::DANGEROUS)
    .locks(Locks::Custom(info_locks))
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ])
    .doc(
        "server",
        "1.0.0",
        "Returns information and statistics about the server.",
        "O(1)",
    )];

#[cfg(test)]
mod tests {
    use super::*;

    use crate::commands::test_argv as argv;

    #[test]
    fn selection_follows_redis() {
        let s = Selection::parse(&[]);
        assert!(s.wants("server") && s.wants("module_list") && !s.wants("commandstats"));
        let s = Selection::parse(&argv(&["CPU", "Keyspace"]));
        assert!(s.wants("cpu") && s.wants("keyspace") && !s.wants("server"));
        let s = Selection::parse(&argv(&["everything"]));
        assert!(s.wants("commandstats") && s.wants("latencystats"));
        let s = Selection::parse(&argv(&["default", "commandstats"]));
        assert!(s.wants("server") && s.wants("commandstats"));
    }

    #[test]
    fn error_codes_are_made_safe() {
        assert_eq!(safe_info_string("A:B\r\n"), "A_B__");
    }
}
