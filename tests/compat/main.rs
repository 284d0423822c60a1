//! Side by side with Redis: every script under `tests/compat/` is sent to
//! Debian's `redis-server` 7.0.15 and to an in-process sedis, and each reply
//! is compared byte for byte.
//!
//! The comparing tests are `#[ignore]`d, so a plain `cargo test` needs only
//! Rust; run them with
//! `cargo test --release --test compat -- --include-ignored`. Without
//! `redis-server` they fail (never pass quietly) and say how to install it.
//! The tests that are not ignored check that every script parses.
//!
//! # Scripts
//!
//! One command per line, quoted like `redis-cli` input: words split on
//! spaces; `"..."` understands `\n \r \t \b \a \\ \" \xHH`; `'...'` is
//! literal except for `\'`. Blank lines and lines starting with `#` are
//! skipped. A line may start with directives (bare words beginning with `@`;
//! a quoted `"@x"` is an ordinary argument):
//!
//! | Directive | Meaning |
//! | --- | --- |
//! | `@conn2 CMD...`, `@conn3 CMD...` | run on the second / third connection (default: the first) |
//! | `@hello 2`, `@hello 3` | send `HELLO 2` / `HELLO 3` on the connection and compare its reply |
//! | `@sleep MS` | wait, for expiry |
//! | `@block CMD...` | send a command that must block on both servers, without reading its reply (waits until both report one more blocked client) |
//! | `@noreply CMD...` | send a command that gets no reply (CLIENT REPLY OFF or SKIP silences it), reading nothing; a reply one server sent anyway is what the connection's next read finds, so follow it with a command that replies |
//! | `@reply` | read and compare the reply of the connection's earlier `@block` |
//! | `@read` | read and compare one more frame sent to the connection (pub/sub messages, SUBSCRIBE's later replies) |
//! | `@sorted CMD...` | the reply is an array in no defined order: compare its elements sorted |
//! | `@shape CMD...` | the reply is random: compare only its type and length (errors exactly) |
//! | `@approx N CMD...` | an integer reply may differ by up to N (e.g. PTTL) |
//! | `@scan CMD...` | SCAN, SSCAN, HSCAN, ZSCAN: iterate to cursor 0 on each server, compare the sorted union |
//!
//! Every script runs twice, each time on fresh connections after FLUSHALL on
//! both servers: once in RESP2, once in RESP3 (every connection sends
//! `HELLO 3` first, compared too).
//!
//! # Normalisation
//!
//! Apart from the per-line directives above, the only replies not compared
//! byte for byte are those in the `NORMALISED` table (`compare.rs`): values
//! that name the server or depend on the clock or on chance. Error replies are always compared
//! exactly.
//!
//! # Layout
//!
//! This file holds one test per script, the check that every script
//! parses, and the hostile-input table against redis-server. Beside it:
//!
//! - `script`: the script language above, parsed into steps.
//! - `redis`: redis-server as a child process.
//! - `conn`: connections that record each reply's bytes as it is decoded.
//! - `servers`: the two servers under comparison.
//! - `run`: a script run on both servers, differences collected.
//! - `compare` and `show`: when two replies agree, and how a difference is
//!   shown.
//! - `persistence`: dumps and append-only files moving between the servers.
//! - `commands`: COMMAND INFO and COMMAND DOCS against Redis's.
//! - `fuzz`: random commands, compared reply by reply.
//! - `config`: CONFIG against Redis's, and config files moving between the
//!   servers.
//! - `migrate`: MIGRATE between the servers, and its replies against
//!   Redis's.
//! - `replication`: each server replicating the other, chains, partial
//!   resyncs, WAIT.

#[path = "../common/mod.rs"]
mod common;

mod commands;
mod compare;
mod config;
mod conn;
mod fuzz;
mod migrate;
mod observe;
mod persistence;
mod redis;
mod replication;
mod run;
mod script;
mod servers;
mod show;

// As in sedis-server: memory in use is what the allocator counts, so
// maxmemory and the OOM rule behave as they do in the real binary.
#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

use redis::RedisServer;
use run::run_script;
use script::{load_script, scripts_dir};

macro_rules! scripts {
    ($($name:ident),* $(,)?) => {
        /// Every script, by file name (without `.txt`).
        const SCRIPTS: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            #[ignore = "needs redis-server 7.0.15 (apt-get install -y redis-server)"]
            fn $name() {
                run_script(stringify!($name));
            }
        )*
    };
}

scripts!(
    strings,
    keys,
    expire,
    tx,
    connection,
    lists,
    zsets,
    blocking,
    memory,
    pubsub,
    hashes,
    sets,
    introspection,
    scripting,
    streams,
    bitmaps,
    sort,
    dump,
    slowlog,
    hyperloglog,
    geo,
    stream_groups,
    lfu,
    debug,
    tracking
);

/// The hostile-input table of `tests/hostile.rs` (exact replies and close
/// behaviour, which sedis must match) holds for redis-server itself: the
/// recordings are Redis's.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn hostile_inputs_get_the_recorded_replies_from_redis() {
    let redis = RedisServer::start();
    for case in common::hostile::table() {
        common::hostile::run(redis.addr(), &case);
    }
}

#[test]
fn every_script_parses_and_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(scripts_dir())
        .expect("tests/compat")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = SCRIPTS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "each tests/compat/*.txt needs a line in scripts!()"
    );
    for name in SCRIPTS {
        assert!(!load_script(name).is_empty(), "{name}.txt is empty");
    }
}
