//! Sockets below the protocol: the listening sockets the acceptor polls
//! ([`listener`]), sleeping on "a socket or a wake-up" ([`wait`]), which
//! blocked clients, subscribers and the acceptor all do, and the outgoing
//! connections MIGRATE keeps to its targets ([`migrate`]).

pub mod listener;
pub mod migrate;
pub mod wait;
