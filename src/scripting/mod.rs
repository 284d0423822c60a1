//! Lua scripting, as Redis 7.0 has it: EVAL scripts and FUNCTION
//! libraries run in Lua 5.1 with Redis's environment and libraries, and
//! their results convert to replies exactly as Redis converts them.
//!
//! This layer owns the *engine*; the commands (EVAL, EVALSHA, SCRIPT,
//! FUNCTION, FCALL) live in the command layer, which gives the engine a
//! [`Caller`] to run `redis.call` through.
//!
//! - `engine`: the Lua states, the script cache, the libraries, running.
//! - `context`: the contracts with the server ([`Caller`], [`RunStatus`]).
//! - `lua_ctx`: what the C functions reach while Lua runs.
//! - `env`: the environment: libraries, `redis` table, read-only globals.
//! - `api`: the `redis.*` functions, `pcall`, `math.random`, the kill hook.
//! - `library`: the `redis.register_function` of a loading library.
//! - `convert`: Lua ↔ RESP, both ways.
//! - `flags`: shebangs and script flags (no Lua: in every build).
//! - `lib_cjson`, `lib_cmsgpack`, `lib_bit`, `lib_struct`: the
//!   four libraries Redis bundles, in Rust.
//! - `rand48`: the generator behind `math.random`. `lua`: C API helpers.
//!
//! # Use
//!
//! ```text
//! // EVAL body numkeys key... arg...
//! let sha = engine.load_script(body)?;              // compile errors, shebang errors
//! let flags = engine.script(sha.as_bytes()).unwrap().flags; // checks before running
//! let run = Invocation { keys, args, caller, now_ms, from_master: false };
//! let reply = engine.run_script(sha.as_bytes(), run)?;
//! write_frame(&reply.frame, writer);                 // + count reply.uncounted_errors
//!
//! // FUNCTION LOAD / FCALL
//! let name = engine.load_library(code, replace, &logger)?;
//! let reply = engine.call_function(b"myfunc", Invocation { .. })?;
//!
//! // SCRIPT KILL from another thread, while a script runs
//! let status = engine.status();                     // an Arc, taken beforehand
//! status.kill(true)?;                            // SCRIPT KILL: NOTBUSY, UNKILLABLE, BUSY or OK
//! ```
//!
//! # Where the engine departs from Redis, and why
//!
//! - Two Lua states, not one: Redis 7 has one for EVAL and one for
//!   functions, and SCRIPT FLUSH and FUNCTION FLUSH each reset only theirs.
//! - Read-only tables are proxies (stock Lua has no read-only flag; see
//!   `env`). Scripts see the same errors; a C library function that
//!   writes raw into a library table (only `table.insert` can, and it is
//!   wrapped) would write into the empty proxy.
//! - The reference server is 7.0.15 with the fixes for CVE-2025-46817 and
//!   -46818: no `getfenv`, `setfenv` or `newproxy`, and the string
//!   metatable is read-only. The engine follows it, not the 7.0.15 source.
//! - Where Redis crashes (an error table without `err`) or writes a broken
//!   reply (CR or LF in a script's error), the engine answers an empty
//!   message or spaces.
//! - A reply a script builds holds at most 2^24 values (a table that
//!   refers to itself twice would otherwise double at every level, and
//!   Redis never finishes it).
//! - Fields of special tables (`err`, `ok`, `double`...) are read without
//!   metamethods, so no Lua code runs while a reply is converted.
//! - No Lua debugger: `redis.breakpoint()` is false, `redis.debug()` does
//!   nothing, as in Redis outside SCRIPT DEBUG.
//!
//! # Builds without scripting
//!
//! Lua comes from the `scripting` cargo feature (on by default). Without
//! it, `Engine` is a stub with the same methods, each answering `ERR
//! scripting is not available in this build`, so the command layer
//! compiles the same either way; [`flags`] and [`context`] are always
//! there.

pub mod context;
pub mod flags;

/// Marks each item as part of a build with Lua (the `scripting` feature).
macro_rules! with_lua {
    ($($item:item)*) => {$(
        #[cfg(feature = "scripting")]
        $item
    )*};
}

with_lua! {
    pub mod api;
    pub mod convert;
    pub mod engine;
    pub mod env;
    pub mod lib_bit;
    pub mod lib_cjson;
    pub mod lib_cmsgpack;
    pub mod lib_struct;
    pub mod library;
    pub mod lua;
    pub mod lua_ctx;
    pub mod rand48;
    #[cfg(test)]
    mod tests;
    pub use engine::Engine;
}

#[cfg(not(feature = "scripting"))]
pub mod stub;
#[cfg(not(feature = "scripting"))]
pub use stub::Engine;

pub use context::{
    Caller, Function, Invocation, Library, NOSCRIPT, Reply, RunStatus, Script, write_frame,
};
pub use flags::ScriptFlags;
