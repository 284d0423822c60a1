//! # sedis
//!
//! A Redis-compatible, in-memory key-value server built on the standard
//! library's threads: no async runtime. It speaks RESP2 and RESP3, answers
//! byte for byte as Redis 7.0.15 does, and can run inside your program:
//!
//! ```
//! use sedis::{Config, Server};
//! use std::io::{Read, Write};
//!
//! let config = Config {
//!     port: 0,          // any free port
//!     save: Vec::new(), // no dump file: an in-memory server
//!     ..Config::default()
//! };
//! let server = Server::bind(config)?.spawn()?;
//!
//! let mut conn = std::net::TcpStream::connect(server.local_addr())?;
//! conn.write_all(b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n")?;
//! let mut reply = [0u8; 5];
//! conn.read_exact(&mut reply)?;
//! assert_eq!(&reply, b"+OK\r\n");
//!
//! server.shutdown()?; // stops and joins every thread it started
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Inside a test or a program that wants no socket at all, [`embed`] is
//! the easier door: a server in one line, clients that run commands in the
//! calling thread, a clock the test moves, direct access to the data, and
//! faults on demand:
//!
//! ```
//! use std::time::Duration;
//! use sedis::{Embedded, Frame};
//!
//! let server = Embedded::builder().manual_clock().start()?;
//! let mut client = server.client();
//! client.call(&["SET", "token", "t0k3n", "EX", "60"])?;
//! server.advance(Duration::from_secs(60));
//! assert_eq!(client.call(&["GET", "token"])?, Frame::NullBulk);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The public API is small: [`Server`] and its [`ServerHandle`], its
//! [`Config`] (and the [`config`] types its fields use), the protocol's
//! [`Frame`], [`embed`]'s [`Embedded`] server and [`LocalClient`], a
//! blocking [`client`] (and its typed [`client::Commands`]), and the
//! counting allocator ([`alloc`]) behind INFO's `used_memory`.
//!
//! ## Layout
//!
//! Bottom to top; each layer uses only the layers below it
//! (`tests/layers.rs` checks every `crate::` path against this list):
//!
//! ```text
//!  6  server (listener, worker pool, connection loop, start-up loading)   client   embed
//!  5  commands (table, dispatcher, one module per command family)
//!  4  state (what all threads share, sessions, persistence's upkeep)   scripting
//!  3  process, config, channels (pub/sub registry, keyspace notifications)
//!  2  persist (RDB and AOF formats, snapshots)
//!  1  resp (wire protocol)   net (sockets)   store (keyspace, types, expiry)
//!  0  num, rng, clock, glob, counter, digest, quote, error, log, alloc
//! ```
//!
//! - `server`: the listener, the worker pool, one connection's read →
//!   execute → reply loop, loading the data at start-up, and replication's
//!   connections (a replica's on the master, the link to a master).
//! - `embed`: sedis inside a program or test: a server started in one
//!   line, in-process clients on the same dispatcher, a manual clock,
//!   direct access to the data, injected faults (see [`embed`]).
//! - `commands`: the command table and dispatcher (arity, auth,
//!   transactions, locking), then one module per command family. A command
//!   runs for a session; it needs no socket.
//! - `state`: what every thread shares (configuration, keyspace, sessions,
//!   statistics, the shutdown signal, when files are written, client-side
//!   caching's tables) and each connection's session.
//! - `scripting`: the Lua engine behind EVAL and FUNCTION (Redis's
//!   environment and libraries, Lua ↔ RESP), beside `state`: it uses only
//!   the layers below, and the commands drive it.
//! - `config`: every Redis 7.0 directive, files, CONFIG SET and REWRITE.
//!   `channels`: subscribers, message delivery, keyspace notifications.
//!   `process`: daemonizing, the pid file, supervisors, the OOM score.
//! - `persist`: RDB and AOF in Redis's formats, point-in-time snapshots,
//!   the replication stream and its backlog.
//! - `resp`: requests in (multibulk and inline), replies out (RESP2 and
//!   RESP3). `net`: listening sockets, waiting on a socket or a wake-up,
//!   MIGRATE's connections to its targets.
//!   `store`: databases split into shards behind `RwLock`s, LRU-ordered
//!   keys, values, lazy and active expiry, clients waiting on keys.
//! - `num`, `rng`, `clock`, `glob`, `counter`, `digest`, `quote`, `error`,
//!   `log`: Redis's number parsing and formatting, a small PRNG, time, glob
//!   patterns, contention-free counters, SHA-256, Redis's quoting, the
//!   canned error replies, Redis-format logging.

#![warn(missing_docs)]

pub mod alloc;
pub mod client;
pub mod config;
pub mod embed;

/// Declares the inner modules: private, so `missing_docs` is for the
/// public API only, and documented for readers of
/// `--document-private-items`, whose links may point at private items.
macro_rules! inner_modules {
    ($($name:ident),* $(,)?) => {$(
        #[allow(missing_docs, rustdoc::private_intra_doc_links)]
        mod $name;
    )*};
}

inner_modules!(
    channels, clock, commands, counter, digest, error, glob, log, net, num, persist, process,
    quote, resp, rng, scripting, server, state, store
);

pub use config::Config;
pub use embed::{Embedded, LocalClient};
pub use resp::Frame;
pub use server::{Server, ServerHandle};

/// The Redis version sedis is compatible with; reported where Redis reports
/// its own version, so that clients that gate features on it work.
pub const REDIS_VERSION: &str = "7.0.15";

/// sedis's own version.
pub const SEDIS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Not part of the API: the crate's inner modules, for its own tests,
/// benchmarks, fuzz targets and tools. Nothing here is stable.
#[doc(hidden)]
pub mod internals {
    #![allow(missing_docs)]
    macro_rules! expose {
        ($($name:ident),* $(,)?) => {
            $(pub mod $name {
                pub use crate::$name::*;
            })*
        };
    }
    expose!(
        channels, clock, commands, counter, digest, error, glob, log, net, num, persist, process,
        quote, resp, rng, scripting, server, state, store,
    );
}
