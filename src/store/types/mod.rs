//! The aggregate value types, one module each (Redis's `t_*.c` data
//! structures, without the commands that use them).
//!
//! - [`list`]: lists (`quicklist` in `OBJECT ENCODING`).
//! - [`hash`]: hashes (`listpack` or `hashtable`).
//! - [`set`]: sets (`intset` or `hashtable`).
//! - [`zset`]: sorted sets (`listpack` or `skiplist`).
//! - [`skiplist`]: the order-statistic index behind large sorted sets.

pub mod hash;
pub mod list;
pub mod set;
pub mod skiplist;
pub mod zset;
