//! Persistence in Redis's own formats.
//!
//! - [`crc64`]: the RDB checksum.
//! - [`lzf`]: the RDB string compression.
//! - [`rdb`]: the RDB file format, encoder and decoder.

pub mod crc64;
pub mod lzf;
pub mod rdb;
