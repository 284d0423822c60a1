//! The engine in a build without Lua (`--no-default-features`): the same
//! interface as the real one, every operation refused with one error, so
//! the command layer needs no conditional code. The types the interface
//! takes and gives are the real ones, from [`context`](super::context).

use std::sync::Arc;

use super::context::{Function, Invocation, Library, Reply, RunStatus, Script};
use crate::error::CommandError;
use crate::log::Logger;

/// The one answer of this build.
pub const UNAVAILABLE: CommandError =
    CommandError::canned("ERR scripting is not available in this build");

/// Writes the engine's methods that would load or run code: here each
/// takes the real one's arguments and answers [`UNAVAILABLE`].
macro_rules! unavailable {
    ($($name:ident($($arg:ty),*) -> $ok:ty;)*) => {$(
        pub fn $name(&mut self, $(_: $arg),*) -> Result<$ok, CommandError> {
            Err(UNAVAILABLE)
        }
    )*};
}

/// An engine that has nothing and runs nothing.
#[derive(Default)]
pub struct Engine {
    status: Arc<RunStatus>,
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    pub fn status(&self) -> Arc<RunStatus> {
        self.status.clone()
    }

    unavailable! {
        load_script(&[u8]) -> String;
        run_script(&[u8], Invocation<'_>) -> Reply;
        load_library(&[u8], bool, &Logger) -> Vec<u8>;
        restore_library(&[u8], bool, &Logger) -> Vec<u8>;
        call_function(&[u8], Invocation<'_>) -> Reply;
    }

    pub fn script(&self, _sha: &[u8]) -> Option<&Script> {
        None
    }

    pub fn script_count(&self) -> usize {
        0
    }

    pub fn scripts(&self) -> impl Iterator<Item = &Script> {
        std::iter::empty()
    }

    pub fn flush_scripts(&mut self) {}

    pub fn eval_memory(&self) -> usize {
        0
    }

    pub fn delete_library(&mut self, _name: &[u8]) -> Result<(), CommandError> {
        Err(CommandError::err("Library not found"))
    }

    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        std::iter::empty()
    }

    pub fn function(&self, _name: &[u8]) -> Option<(&Library, &Function)> {
        None
    }

    pub fn flush_functions(&mut self) {}

    pub fn functions_memory(&self) -> usize {
        0
    }
}
