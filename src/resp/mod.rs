//! RESP, the Redis serialization protocol, in both directions.
//!
//! - [`reader`]: requests from clients (multibulk and inline), resumable across
//!   partial reads, with Redis's limits and exact protocol errors.
//! - [`writer`]: replies to clients, in RESP2 or RESP3 as the client chose
//!   with `HELLO`.
//! - [`frame`]: a complete reply parsed back into a tree, for our own client
//!   tools and tests.

pub mod frame;
pub mod reader;
pub mod writer;

pub use frame::Frame;
pub use reader::{Limits, ProtocolError, RequestParser};
pub use writer::{Protocol, ReplyWriter};
