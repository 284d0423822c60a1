//! One connection's state, owned by the worker serving it: the selected
//! database, authentication, the open transaction, watched keys, reply mode.
//! What other threads need to see of it is mirrored into its
//! [`ClientHandle`](super::clients::ClientHandle).

use std::sync::Arc;

use crate::commands::Resolved;
use crate::rng::Rng;
use crate::store::{Key, WatchFlag};

use super::clients::ClientHandle;
use super::state::State;

/// An open MULTI.
#[derive(Debug, Default)]
pub struct MultiState {
    /// Commands queued for EXEC, already resolved and arity-checked.
    pub queue: Vec<(Resolved, Vec<Vec<u8>>)>,
    /// A command was rejected while queueing: EXEC must fail with EXECABORT.
    pub aborted: bool,
}

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping this command's reply (set from `SkipNext` when it starts).
    Skip,
}

/// The connection's own state.
pub struct Client {
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// False while a password is required and AUTH has not succeeded. Like
    /// Redis, a client that connected while no password was set stays
    /// authenticated when one is set later.
    pub authenticated: bool,
    pub multi: Option<MultiState>,
    /// True while EXEC runs the queued commands: blocking commands then
    /// behave as non-blocking, as Redis's CLIENT_DENY_BLOCKING does.
    pub in_exec: bool,
    /// Writes made inside the running EXEC, logged as one block at its end.
    pub exec_log: Vec<(usize, Vec<Vec<u8>>)>,
    /// The append-only file offset this client's last write reached: its
    /// replies wait until the file holds it.
    pub aof_offset: u64,
    /// Set by any write to a watched key; EXEC fails if it is set.
    pub watch_flag: WatchFlag,
    /// The keys this client watches, with their databases.
    pub watched: Vec<(usize, Key)>,
    /// Close the connection once the pending replies are written (QUIT,
    /// protocol errors).
    pub close_after_reply: bool,
    pub reply_mode: ReplyMode,
    pub name: Vec<u8>,
    pub handle: Arc<ClientHandle>,
    pub rng: Rng,
    /// A blocking command's wait (BLPOP...) and the wake-up descriptor.
    pub blocking: super::blocking::BlockState,
}

impl Client {
    pub fn new(state: &State, handle: Arc<ClientHandle>) -> Self {
        Client {
            id: handle.id,
            db: 0,
            authenticated: !state.password_set(),
            multi: None,
            in_exec: false,
            exec_log: Vec::new(),
            aof_offset: 0,
            watch_flag: WatchFlag::default(),
            watched: Vec::new(),
            close_after_reply: false,
            reply_mode: ReplyMode::On,
            name: Vec::new(),
            handle,
            rng: Rng::new(),
            blocking: Default::default(),
        }
    }

    /// True if this client must authenticate before running most commands.
    pub fn auth_required(&self, state: &State) -> bool {
        !self.authenticated && state.password_set()
    }
}
