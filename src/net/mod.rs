//! Sockets below the protocol: the listening sockets the acceptor polls
//! ([`listener`]), and sleeping on "a socket or a wake-up" ([`wait`]), which
//! blocked clients, subscribers and the acceptor all do.

pub mod listener;
pub mod wait;
