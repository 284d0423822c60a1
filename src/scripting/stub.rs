//! The engine in a build without Lua (`--no-default-features`): the same
//! interface as the real one, every operation refused with one error, so
//! the command layer needs no conditional code.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::context::{Caller, RunStatus};
use super::flags::ScriptFlags;
use crate::error::CommandError;
use crate::log::Logger;
use crate::resp::Frame;

/// `NOSCRIPT`, as in the real engine.
pub const NOSCRIPT: CommandError =
    CommandError::canned("NOSCRIPT No matching script. Please use EVAL.");

/// The one answer of this build.
pub const UNAVAILABLE: CommandError =
    CommandError::canned("ERR scripting is not available in this build");

/// As in the real engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub frame: Frame,
    pub uncounted_errors: Vec<Vec<u8>>,
}

/// As in the real engine.
#[derive(Debug, Clone)]
pub struct Script {
    pub body: Vec<u8>,
    pub flags: ScriptFlags,
}

/// As in the real engine.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: Vec<u8>,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
}

/// As in the real engine.
#[derive(Debug, Clone)]
pub struct Library {
    pub name: Vec<u8>,
    pub engine: &'static str,
    pub code: Vec<u8>,
    pub functions: BTreeMap<Vec<u8>, Function>,
}

/// As in the real engine.
pub struct Invocation<'a> {
    pub keys: &'a [Vec<u8>],
    pub args: &'a [Vec<u8>],
    pub caller: &'a mut dyn Caller,
    pub now_ms: u64,
    /// The master sent it (replication): SCRIPT KILL may not stop it.
    pub from_master: bool,
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

    pub fn load_script(&mut self, _body: &[u8]) -> Result<String, CommandError> {
        Err(UNAVAILABLE)
    }

    pub fn script(&self, _sha: &[u8]) -> Option<&Script> {
        None
    }

    pub fn script_count(&self) -> usize {
        0
    }

    pub fn run_script(&mut self, _sha: &[u8], _run: Invocation<'_>) -> Result<Reply, CommandError> {
        Err(UNAVAILABLE)
    }

    pub fn flush_scripts(&mut self) {}

    pub fn eval_memory(&self) -> usize {
        0
    }

    pub fn load_library(
        &mut self,
        _payload: &[u8],
        _replace: bool,
        _logger: &Logger,
    ) -> Result<Vec<u8>, CommandError> {
        Err(UNAVAILABLE)
    }

    pub fn restore_library(
        &mut self,
        _payload: &[u8],
        _replace: bool,
        _logger: &Logger,
    ) -> Result<Vec<u8>, CommandError> {
        Err(UNAVAILABLE)
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

    pub fn call_function(
        &mut self,
        _name: &[u8],
        _run: Invocation<'_>,
    ) -> Result<Reply, CommandError> {
        Err(UNAVAILABLE)
    }

    pub fn flush_functions(&mut self) {}

    pub fn functions_memory(&self) -> usize {
        0
    }
}
