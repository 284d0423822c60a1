//! What a Lua state's C functions reach while Lua runs: the run in
//! progress (its [`Caller`] and RESP version), the library being
//! loaded, the shared [`RunStatus`] and the `math.random` generator.
//!
//! Each Lua state keeps a pointer to its [`StateCtx`] in its registry, as
//! Redis keeps its run context there; the context outlives the state.

use std::ffi::{CStr, c_void};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use super::context::{Caller, RunStatus};
use super::flags::ScriptFlags;
use super::lua::{self, L};
use super::rand48::Rand48;
use crate::log::Logger;

/// One run of a script or function.
pub struct RunCtx<'a> {
    pub caller: &'a mut dyn Caller,
    /// The protocol `redis.call` replies are produced in: 2 until the
    /// script calls `redis.setresp(3)`.
    pub resp: u8,
}

/// A function registered by `redis.register_function` during a load.
#[derive(Debug)]
pub struct Registered {
    pub name: Vec<u8>,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
    /// The callback's reference in the Lua registry (`luaL_ref`).
    pub callback: i32,
}

/// A FUNCTION LOAD in progress: what the library registered so far.
#[derive(Debug, Default)]
pub struct LoadCtx {
    pub functions: Vec<Registered>,
    /// Where `redis.log` writes during the load.
    pub logger: Option<*const Logger>,
    /// When a FUNCTION LOAD gives up (Redis allows 500 ms: a library
    /// should only register functions); `None` when loading from a file.
    pub deadline: Option<Instant>,
}

impl LoadCtx {
    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() > d)
    }
}

/// Everything a Lua state's C functions can reach. Boxed by the engine so
/// its address is stable; the state's registry holds that address.
pub struct StateCtx {
    pub status: Arc<RunStatus>,
    /// The generator behind `math.random`, shared by the engine's states.
    pub rand: Arc<Mutex<Rand48>>,
    /// The run in progress (null between runs), lifetime erased: it is set
    /// for the duration of one run and cleared before the run returns.
    pub run: *mut RunCtx<'static>,
    /// The library load in progress (null otherwise).
    pub load: *mut LoadCtx,
}

/// Where each state keeps its [`StateCtx`] pointer.
const CTX_KEY: &CStr = c"__sedis_ctx__";

impl StateCtx {
    /// Makes `ctx` reachable from `l`'s C functions.
    ///
    /// # Safety
    /// `ctx` outlives `l`.
    pub unsafe fn install(l: L, ctx: *mut StateCtx) {
        unsafe { lua::set_registry_ptr(l, CTX_KEY, ctx.cast::<c_void>()) };
    }

    /// The context of the state running a C function.
    ///
    /// # Safety
    /// Called from a C function of a state set up by [`StateCtx::install`],
    /// and the reference is not kept past that call.
    pub unsafe fn get<'a>(l: L) -> &'a mut StateCtx {
        unsafe { &mut *lua::registry_ptr(l, CTX_KEY).cast::<StateCtx>() }
    }

    /// The run in progress, if any.
    pub fn run(&mut self) -> Option<&mut RunCtx<'static>> {
        // SAFETY: `run` is either null or points to the RunCtx of the run
        // in progress, which outlives every C function it calls.
        unsafe { self.run.as_mut() }
    }

    /// The load in progress, if any.
    pub fn load(&mut self) -> Option<&mut LoadCtx> {
        // SAFETY: as for `run`.
        unsafe { self.load.as_mut() }
    }
}
