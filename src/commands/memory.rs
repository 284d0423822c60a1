//! MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP (Redis's
//! `memoryCommand` in `object.c`).
//!
//! MEMORY USAGE estimates a key's footprint from sedis's own layout: the key,
//! its entry in the shard's LRU table, and the value's heap, sampling
//! `SAMPLES` elements of an aggregate and extrapolating as Redis does. The
//! figures describe sedis's structures, so they differ from Redis's.

use std::mem::size_of;

use crate::error::{self, CommandResult};
use crate::store::types::hash::Hash;
use crate::store::types::list::List;
use crate::store::types::set::Set;
use crate::store::types::zset::ZSet;
use crate::store::{Entry, Key, Mode, StrValue, Value};

use super::Ctx;
use super::args;
use super::table::{Command, Locks, flags::*};

/// `MEMORY <subcommand>`: only what the dispatcher could not route.
fn memory_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("memory", &args[1]))
}

// `MEMORY HELP`
help_command!(
    memory_help,
    [
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ]
);

/// `MEMORY USAGE key [SAMPLES count]`
fn memory_usage(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut samples = 5usize;
    let mut c = args::Cursor::new(args, 3);
    while let Some(option) = c.next() {
        if args::is(option, "samples") {
            let n = c.next_int()?;
            if n < 0 {
                return Err(error::SYNTAX);
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
        } else {
            return Err(error::SYNTAX);
        }
    }
    let (db, out) = ctx.db_and_out();
    match db.peek(&args[2]) {
        None => out.null(),
        Some(entry) => {
            let bytes = key_bytes(&args[2]) + entry_overhead() + value_bytes(entry, samples);
            out.int(bytes as i64);
        }
    }
    Ok(())
}

/// A key as the shard stores it.
fn key_bytes(key: &[u8]) -> usize {
    size_of::<Key>() + Key::new(key).heap_size()
}

/// The entry and its place in the shard's table: the LRU node's two links
/// and the hash table's slot.
fn entry_overhead() -> usize {
    size_of::<Entry>() + 3 * size_of::<usize>()
}

/// The value's own heap, aggregates sampled (`samples` elements, then
/// scaled to the whole, as Redis's `objectComputeSize` does).
fn value_bytes(entry: &Entry, samples: usize) -> usize {
    match &entry.value {
        Value::Str(s) => match s {
            StrValue::Int(_) | StrValue::Inline { .. } => 0,
            StrValue::Boxed(b) => b.len(),
            StrValue::Raw(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
        },
        Value::List(list) => list_bytes(list, samples),
        // A compact hash is one buffer: its size is exact.
        Value::Hash(hash) if hash.is_listpack() => size_of::<Hash>() + hash.heap_size(),
        Value::Hash(hash) => {
            let (mut heap, mut seen) = (0, 0);
            for (field, value) in hash.iter().take(samples) {
                heap += Key::new(field).heap_size() + Key::new(value).heap_size();
                seen += 1;
            }
            let per_field = 2 * size_of::<Key>() + 2 * size_of::<usize>();
            size_of::<Hash>() + hash.len() * per_field + extrapolate(heap, seen, hash.len())
        }
        Value::Set(set) => {
            let (mut heap, mut seen) = (0, 0);
            for member in set.iter().take(samples) {
                heap += Key::new(&member).heap_size();
                seen += 1;
            }
            let per_member = if set.is_intset() {
                size_of::<i64>()
            } else {
                size_of::<Key>() + 2 * size_of::<usize>()
            };
            size_of::<Set>() + set.len() * per_member + extrapolate(heap, seen, set.len())
        }
        Value::ZSet(zset) => zset_bytes(zset, samples),
        Value::Stream(stream) => size_of::<crate::store::types::stream::Stream>() + stream.heap_size(),
    }
}

/// Scales the heap of the first `samples` elements to `len` of them.
fn extrapolate(sampled_heap: usize, sampled: usize, len: usize) -> usize {
    if sampled == 0 {
        0
    } else {
        (sampled_heap as f64 / sampled as f64 * len as f64) as usize
    }
}

fn list_bytes(list: &List, samples: usize) -> usize {
    let (mut heap, mut seen) = (0, 0);
    for element in list.iter().take(samples) {
        heap += Key::new(element).heap_size();
        seen += 1;
    }
    size_of::<List>() + list.len() * size_of::<Key>() + extrapolate(heap, seen, list.len())
}

fn zset_bytes(zset: &ZSet, samples: usize) -> usize {
    let (mut heap, mut seen) = (0, 0);
    for (member, _) in zset.iter().take(samples) {
        heap += Key::new(member).heap_size();
        seen += 1;
    }
    // A member with its score; a skiplist adds its node links and the
    // member index's slot (about four words in all).
    let per_member = size_of::<(Key, f64)>()
        + if zset.is_listpack() {
            0
        } else {
            4 * size_of::<usize>()
        };
    size_of::<ZSet>() + zset.len() * per_member + extrapolate(heap, seen, zset.len())
}

/// `MEMORY STATS`: Redis's fields, from what sedis can measure.
fn memory_stats(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let state = ctx.state;
    let (used, peak) = state.note_memory_usage();
    let startup = state.memory_startup();
    let rss = crate::alloc::resident_set_size();
    let ks = state.keyspace();
    let dbs: Vec<(usize, usize)> = (0..ks.databases())
        .map(|db| (db, ks.db_size(db)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let keys: usize = dbs.iter().map(|(_, n)| n).sum();
    let overhead_per_key = size_of::<Key>() + entry_overhead();
    let overhead = startup + dbs.iter().map(|(_, n)| n * overhead_per_key).sum::<usize>();
    let dataset = used.saturating_sub(overhead);
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let out = &mut *ctx.out;
    out.map(25 + dbs.len());
    let int = |out: &mut crate::resp::ReplyWriter, name: &str, v: usize| {
        out.bulk(name.as_bytes());
        out.int(v as i64);
    };
    int(out, "peak.allocated", peak);
    int(out, "total.allocated", used);
    int(out, "startup.allocated", startup);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", 0);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", 0);
    for (db, n) in &dbs {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", n * overhead_per_key);
        int(out, "overhead.hashtable.expires", 0);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", overhead);
    int(out, "keys.count", keys);
    int(
        out,
        "keys.bytes-per-key",
        dataset.checked_div(keys).unwrap_or(0),
    );
    int(out, "dataset.bytes", dataset);
    out.bulk(b"dataset.percentage");
    out.double(100.0 * ratio(dataset, used.saturating_sub(startup)));
    out.bulk(b"peak.percentage");
    out.double(100.0 * ratio(used, peak));
    int(out, "allocator.allocated", used);
    int(out, "allocator.active", used);
    int(out, "allocator.resident", rss);
    // Each overhead as a ratio and in bytes. The allocator keeps no pages
    // apart from what it hands out, so its own fragmentation and the
    // resident overhead are none.
    let rss_over_used = (ratio(rss, used), rss.saturating_sub(used));
    for (name, (ratio, bytes)) in [
        ("allocator-fragmentation", (1.0, 0)),
        ("allocator-rss", rss_over_used),
        ("rss-overhead", (1.0, 0)),
    ] {
        out.bulk(format!("{name}.ratio").as_bytes());
        out.double(ratio);
        int(out, &format!("{name}.bytes"), bytes);
    }
    out.bulk(b"fragmentation");
    out.double(rss_over_used.0);
    int(out, "fragmentation.bytes", rss_over_used.1);
    Ok(())
}

/// `MEMORY DOCTOR`: Redis's verdicts for the cases sedis can judge (an
/// empty or tiny instance, or nothing wrong found).
fn memory_doctor(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let used = crate::alloc::used_memory();
    let report: &[u8] = if used < 5 * 1024 * 1024 {
        b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
    } else {
        b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
    };
    ctx.out.verbatim(report);
    Ok(())
}

/// `MEMORY MALLOC-STATS`: Redis's answer for an allocator other than
/// jemalloc.
fn memory_malloc_stats(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out
        .bulk(b"Stats not supported for the current allocator");
    Ok(())
}

/// `MEMORY PURGE`: nothing to purge with the system allocator.
fn memory_purge(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out.ok();
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// MEMORY's subcommands.
#[rustfmt::skip]
static SUBCOMMANDS: &[Command] = &[
    Command::new("doctor", 2, memory_doctor).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]).doc("server", "4.0.0", "Outputs a memory problems report.", "O(1)"),
    Command::new("help", 2, memory_help).flags(LOADING | STALE).doc("server", "4.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
    Command::new("malloc-stats", 2, memory_malloc_stats).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]).doc("server", "4.0.0", "Returns the allocator statistics.", "Depends on how much memory is allocated, could be slow"),
    Command::new("purge", 2, memory_purge).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("server", "4.0.0", "Asks the allocator to release memory.", "Depends on how much memory is allocated, could be slow"),
    Command::new("stats", 2, memory_stats).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]).doc("server", "4.0.0", "Returns details about memory usage.", "O(1)"),
    Command::new("usage", -3, memory_usage).syntax("key [SAMPLES count:integer]").flags(READONLY).keys(2, 2, 1).locks(Locks::Keys(Mode::Read)).key_flags(&["RO"]).doc("server", "4.0.0", "Estimates the memory usage of a key.", "O(N) where N is the number of samples."),
];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[Command::new("memory", -2, memory_container)
    .subcommands(SUBCOMMANDS)
    .doc(
        "server",
        "4.0.0",
        "A container for memory diagnostics commands.",
        "Depends on subcommand.",
    )];
