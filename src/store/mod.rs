//! The data: databases of sharded, LRU-ordered keys, their values, and expiry.
//!
//! - [`keyspace`]: databases split into shards, hooks, the reaper's sweep.
//! - [`locks`]: which shards a command needs and holding them, in ascending
//!   order. [`db`]: one database through a command's locks (Redis's `db.c`
//!   contract). [`scan`]: SCAN's cursor.
//! - [`shard`]: one shard's keys, deadlines and watchers.
//! - [`value`]: what a key holds (Redis's object types and encodings).
//! - [`types`]: the aggregate types' representations (lists, sorted sets).
//! - [`waiting`]: clients waiting on keys (BLPOP and friends).
//! - [`key`]: compact binary keys.
//! - [`dict`]: the hash table of the aggregate types (cursor scans, random
//!   elements).
//! - [`expire`]: the reaper thread (active expiry).
//! - [`evict`]: which key `maxmemory` evicts next, by policy.
//! - [`lfu`]: access frequency counters for the LFU policies.
//! - [`hasher`]: the keyed hash that picks a key's shard.
//! - [`gate`]: letting a script run alone (every other command waits).

pub mod db;
pub mod dict;
pub mod evict;
pub mod expire;
pub mod gate;
pub mod hasher;
pub mod key;
pub mod keyspace;
pub mod lfu;
pub mod locks;
pub mod scan;
pub mod shard;
pub mod types;
pub mod value;
pub mod waiting;

pub use db::Db;
pub use key::Key;
pub use keyspace::Keyspace;
pub use locks::{LockPlan, LockSet, Mode};
pub use shard::{Detached, Entry, WatchFlag};
pub use value::{StrValue, Value};
