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
//! ## Layout
//!
//! Read it top-down; each layer talks only to the one below it.
//!
//! - [`server`]: the listener, the worker pool, one connection's read →
//!   execute → reply loop, client registry, shutdown.
//! - [`resp`]: the wire protocol: requests in (multibulk and inline), replies
//!   out (RESP2 and RESP3), and replies back into values for clients.
//! - [`commands`]: the command table and dispatcher (arity, auth,
//!   transactions, locking), then one module per command family.
//! - [`store`]: databases split into shards behind `RwLock`s, LRU-ordered
//!   keys, values, lazy and active expiry.
//! - [`persist`]: RDB and AOF in Redis's formats.
//! - [`pubsub`]: channels, patterns and shard channels, message delivery to
//!   subscribers' queues, keyspace notifications.
//! - [`config`], [`log`], [`error`]: options, Redis-format logging, the
//!   canned error replies.
//! - [`client`]: the blocking connection `sedis-cli` and `sedis-benchmark` use.
//! - [`glob`], [`num`], [`rng`], [`counter`]: Redis's glob patterns, number
//!   parsing and formatting, a small PRNG, contention-free statistics counters.
//! - [`alloc`]: the counting allocator behind INFO's `used_memory`
//!   (installed by `sedis-server`, optional for embedders).

pub mod alloc;
pub mod client;
pub mod clock;
pub mod commands;
pub mod config;
pub mod counter;
pub mod digest;
pub mod error;
pub mod glob;
pub mod log;
pub mod net;
pub mod num;
pub mod persist;
pub mod process;
pub mod pubsub;
pub mod resp;
pub mod rng;
pub mod server;
pub mod state;
pub mod store;

pub use config::Config;
pub use server::{Server, ServerHandle};

/// The Redis version sedis is compatible with; reported where Redis reports
/// its own version, so that clients that gate features on it work.
pub const REDIS_VERSION: &str = "7.0.15";

/// sedis's own version.
pub const SEDIS_VERSION: &str = env!("CARGO_PKG_VERSION");
