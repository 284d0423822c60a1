//! Persistence in Redis's own formats.
//!
//! - [`aof`]: the append-only file: manifest, log, reading it back.
//! - [`crc64`]: the RDB checksum.
//! - [`lzf`]: the RDB string compression.
//! - [`listpack`]: the compact blob of small sorted sets and list nodes.
//! - [`rdb`]: the RDB file format, encoder and decoder.
//! - [`ziplist`]: the older compact encodings (ziplist, zipmap) that dumps
//!   from Redis 6.2 and earlier hold.
//! - [`snapshot`]: saving the keyspace to a dump file and loading it back.
//! - [`replication`]: the replication stream a master keeps: its ID and
//!   offset, the backlog, each replica's unsent bytes.

pub mod aof;
pub mod crc64;
pub mod listpack;
pub mod lzf;
pub mod rdb;
pub mod replication;
pub mod snapshot;
pub mod ziplist;
