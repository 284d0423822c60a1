//! Persistence in Redis's own formats.
//!
//! - [`crc64`]: the RDB checksum.
//! - [`lzf`]: the RDB string compression.

pub mod crc64;
pub mod lzf;
