//! The engine: the Lua states, the script cache (EVAL / EVALSHA / SCRIPT),
//! the function libraries (FUNCTION / FCALL), and running either with KEYS
//! and ARGV for a [`Caller`](super::Caller).
//!
//! Redis 7 keeps two Lua states, and so do we: one for EVAL scripts (reset
//! by SCRIPT FLUSH) and one for functions (reset by FUNCTION FLUSH), so
//! that flushing one never touches the other and functions cannot see the
//! globals of scripts. Both are owned here, used by one thread at a time
//! (the engine sits behind the server's scripting lock).

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, c_int};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::api;
use super::context::{Function, Invocation, Library, NOSCRIPT, Reply, RunStatus, Script};
use super::convert;
use super::env::{self, Kind};
use super::flags;
use super::lua::{self, L, ffi};
use super::lua_ctx::{LoadCtx, Registered, RunCtx, StateCtx};
use super::rand48::Rand48;
use crate::error::CommandError;
use crate::log::Logger;
use crate::resp::Frame;

/// How long FUNCTION LOAD lets a library's top-level code run.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// Runs between two incremental garbage collection steps (Redis's
/// `LUA_GC_CYCLE_PERIOD`): a full collection now and then would add
/// latency.
const GC_PERIOD: u32 = 50;

/// One Lua state and the context its C functions reach.
struct State {
    l: L,
    /// Boxed: the state's registry holds its address.
    ctx: Box<StateCtx>,
    runs: u32,
}

impl State {
    fn new(kind: Kind, status: &Arc<RunStatus>, rand: &Arc<Mutex<Rand48>>) -> State {
        let mut ctx = Box::new(StateCtx {
            status: status.clone(),
            rand: rand.clone(),
            run: std::ptr::null_mut(),
            load: std::ptr::null_mut(),
        });
        // SAFETY: the context is installed before any code runs, and the
        // box outlives the state (`Drop` closes the state first).
        let l = unsafe {
            let l = env::new_state(kind);
            StateCtx::install(l, &mut *ctx);
            l
        };
        State { l, ctx, runs: 0 }
    }

    /// Memory the state uses, in bytes (Redis's `used_memory_lua`).
    fn memory(&self) -> usize {
        // SAFETY: a valid state, not running.
        let kb = unsafe { ffi::lua_gc(self.l, ffi::LUA_GCCOUNT, 0) };
        let b = unsafe { ffi::lua_gc(self.l, ffi::LUA_GCCOUNTB, 0) };
        kb.max(0) as usize * 1024 + b.max(0) as usize
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: the state is ours and nothing runs in it.
        unsafe { ffi::lua_close(self.l) };
    }
}

/// The scripting engine. See the module documentation of
/// [`scripting`](super) for how the command layer uses it.
pub struct Engine {
    eval: State,
    functions: State,
    /// The script cache, by lowercase SHA-1 hex: each script with the
    /// registry reference of its compiled function (an integer key: EVALSHA
    /// finds it without building and interning the `f_<sha>` name Redis
    /// uses, which scripts cannot see anyway).
    scripts: HashMap<String, (Script, c_int)>,
    libraries: BTreeMap<Vec<u8>, Library>,
    /// Function name in lower case (FCALL finds a function in any case,
    /// and two may not differ only in case) → library name, and the
    /// function's name as registered.
    function_index: HashMap<Vec<u8>, (Vec<u8>, Vec<u8>)>,
    status: Arc<RunStatus>,
    rand: Arc<Mutex<Rand48>>,
}

// SAFETY: the Lua states are reached only through `&mut self` (one thread
// at a time) and hold no thread-local data; the raw pointers they contain
// point into memory this engine owns.
unsafe impl Send for Engine {}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Engine {
        let status = Arc::new(RunStatus::default());
        let rand = Arc::new(Mutex::new(Rand48::default()));
        Engine {
            eval: State::new(Kind::Eval, &status, &rand),
            functions: State::new(Kind::Function, &status, &rand),
            scripts: HashMap::new(),
            libraries: BTreeMap::new(),
            function_index: HashMap::new(),
            status,
            rand,
        }
    }

    /// What other threads watch and use to stop a running script.
    pub fn status(&self) -> Arc<RunStatus> {
        self.status.clone()
    }

    // --- EVAL scripts ---------------------------------------------------

    /// Compiles `body` into the cache (EVAL, SCRIPT LOAD) and returns its
    /// SHA-1; a script already cached is not compiled again.
    pub fn load_script(&mut self, body: &[u8]) -> Result<String, CommandError> {
        let sha = crate::digest::sha1hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = flags::parse_eval_shebang(body).map_err(CommandError::err)?;
        let l = self.eval.l;
        // SAFETY: the eval state, not running; the compiled function goes
        // to the registry, under a reference the cache keeps.
        let function = unsafe {
            lua::load(l, &body[shebang_len..], c"@user_script").map_err(|message| {
                let mut text = b"ERR Error compiling script (new function): ".to_vec();
                text.extend_from_slice(&message);
                CommandError::from_bytes(text)
            })?;
            ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX)
        };
        let script = Script {
            body: body.to_vec(),
            flags,
        };
        self.scripts.insert(sha.clone(), (script, function));
        Ok(sha)
    }

    /// The cached script with this SHA-1 (any case), if any.
    pub fn script(&self, sha: &[u8]) -> Option<&Script> {
        self.cached(sha).map(|(_, (script, _))| script)
    }

    /// The cache's entry for this SHA-1 (any case): its key, the script and
    /// its function's reference. No allocation: EVALSHA looks up on every
    /// call.
    fn cached(&self, sha: &[u8]) -> Option<(&String, &(Script, c_int))> {
        let sha: [u8; 40] = sha.try_into().ok()?;
        let lower = sha.map(|b| b.to_ascii_lowercase());
        self.scripts.get_key_value(std::str::from_utf8(&lower).ok()?)
    }

    /// How many scripts are cached.
    pub fn script_count(&self) -> usize {
        self.scripts.len()
    }

    /// The cached scripts, in no order.
    pub fn scripts(&self) -> impl Iterator<Item = &Script> {
        self.scripts.values().map(|(script, _)| script)
    }

    /// Runs a cached script (EVALSHA, or EVAL after [`Engine::load_script`]).
    pub fn run_script(&mut self, sha: &[u8], run: Invocation<'_>) -> Result<Reply, CommandError> {
        let Some((key, &(_, function))) = self.cached(sha) else {
            return Err(NOSCRIPT);
        };
        let mut name = [0u8; 40];
        name.copy_from_slice(key.as_bytes());
        let l = self.eval.l;
        // SAFETY: the eval state, not running; the reference was taken by
        // `load_script` in this state.
        unsafe {
            ffi::lua_settop(l, 0);
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, env::ERROR_HANDLER.as_ptr());
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(function));
            // KEYS and ARGV are globals of an EVAL script.
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, env::GLOBALS.as_ptr());
            push_array(l, run.keys);
            ffi::lua_setfield(l, -2, c"KEYS".as_ptr());
            push_array(l, run.args);
            ffi::lua_setfield(l, -2, c"ARGV".as_ptr());
            ffi::lua_pop(l, 1);
        }
        let name = std::str::from_utf8(&name).unwrap_or_default();
        Ok(call(&mut self.eval, name, true, run, 0))
    }

    /// Empties the script cache and starts a new EVAL state (SCRIPT FLUSH).
    pub fn flush_scripts(&mut self) {
        self.scripts.clear();
        self.eval = State::new(Kind::Eval, &self.status, &self.rand);
    }

    /// Memory used by the EVAL state, in bytes.
    pub fn eval_memory(&self) -> usize {
        self.eval.memory()
    }

    // --- FUNCTION libraries ---------------------------------------------

    /// FUNCTION LOAD (REPLACE when `replace`): runs the library's code so it registers
    /// its functions, then adds it. Returns the library's name.
    pub fn load_library(
        &mut self,
        payload: &[u8],
        replace: bool,
        logger: &Logger,
    ) -> Result<Vec<u8>, CommandError> {
        self.load_library_with(payload, replace, logger, Some(LOAD_TIMEOUT))
    }

    /// Like [`Engine::load_library`] with no time limit: loading the
    /// libraries of an RDB or AOF file at start-up.
    pub fn restore_library(
        &mut self,
        payload: &[u8],
        replace: bool,
        logger: &Logger,
    ) -> Result<Vec<u8>, CommandError> {
        self.load_library_with(payload, replace, logger, None)
    }

    fn load_library_with(
        &mut self,
        payload: &[u8],
        replace: bool,
        logger: &Logger,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, CommandError> {
        let meta = flags::parse_library_meta(payload).map_err(CommandError::err)?;
        if !flags::valid_name(&meta.name) {
            return Err(CommandError::err(flags::BAD_NAME));
        }
        if !meta.engine.eq_ignore_ascii_case(b"lua") {
            let mut text = b"ERR Engine '".to_vec();
            text.extend_from_slice(&meta.engine);
            text.extend_from_slice(b"' not found");
            return Err(CommandError::from_bytes(text));
        }
        if self.libraries.contains_key(&meta.name) && !replace {
            let mut text = b"ERR Library '".to_vec();
            text.extend_from_slice(&meta.name);
            text.extend_from_slice(b"' already exists");
            return Err(CommandError::from_bytes(text));
        }
        let registered = self.run_library_code(meta.code, logger, timeout)?;
        let fail = |engine: &mut Engine, error: CommandError| {
            engine.release(&registered);
            Err(error)
        };
        if registered.is_empty() {
            return fail(self, CommandError::err("No functions registered"));
        }
        for function in &registered {
            if let Some((owner, _)) = self.function_index.get(&function.name.to_ascii_lowercase())
                && *owner != meta.name
            {
                let mut text = b"ERR Function ".to_vec();
                text.extend_from_slice(&function.name);
                text.extend_from_slice(b" already exists");
                return fail(self, CommandError::from_bytes(text));
            }
        }
        let name = meta.name.clone();
        if let Some(old) = self.remove_library(&name) {
            let callbacks: Vec<c_int> = old.functions.values().map(|f| f.callback).collect();
            self.unref(&callbacks);
        }
        let mut library = Library {
            name: name.clone(),
            engine: "LUA",
            code: payload.to_vec(),
            functions: BTreeMap::new(),
        };
        for function in registered {
            self.function_index.insert(
                function.name.to_ascii_lowercase(),
                (name.clone(), function.name.clone()),
            );
            library.functions.insert(
                function.name.clone(),
                Function {
                    name: function.name,
                    description: function.description,
                    flags: function.flags,
                    callback: function.callback,
                },
            );
        }
        self.libraries.insert(name.clone(), library);
        Ok(name)
    }

    /// Runs a library's top-level code with the library API as its
    /// globals, and returns what it registered.
    fn run_library_code(
        &mut self,
        code: &[u8],
        logger: &Logger,
        timeout: Option<Duration>,
    ) -> Result<Vec<Registered>, CommandError> {
        let l = self.functions.l;
        let mut load = LoadCtx {
            functions: Vec::new(),
            logger: Some(logger as *const Logger),
            deadline: timeout.map(|t| Instant::now() + t),
        };
        // SAFETY: the function state, not running; `load` outlives the
        // pcall and is unhooked before it is dropped.
        let result = unsafe {
            ffi::lua_settop(l, 0);
            set_function_globals(l, env::LIBRARY_API);
            let result = match lua::load(l, code, c"@user_function") {
                Err(message) => {
                    let mut text = b"ERR Error compiling function: ".to_vec();
                    text.extend_from_slice(&message);
                    Err(CommandError::from_bytes(text))
                }
                Ok(()) => {
                    self.functions.ctx.load = &mut load;
                    ffi::lua_sethook(
                        l,
                        Some(api::count_hook),
                        ffi::LUA_MASKCOUNT,
                        api::HOOK_PERIOD,
                    );
                    let status = ffi::lua_pcall(l, 0, 0, 0);
                    ffi::lua_sethook(l, None, 0, 0);
                    self.functions.ctx.load = std::ptr::null_mut();
                    if status == 0 {
                        Ok(())
                    } else {
                        let info = error_info(l);
                        let mut text = b"ERR Error registering functions: ".to_vec();
                        text.extend_from_slice(&info.message);
                        Err(CommandError::from_bytes(text))
                    }
                }
            };
            set_function_globals(l, env::GLOBALS);
            ffi::lua_settop(l, 0);
            result
        };
        match result {
            Ok(()) => Ok(load.functions),
            Err(error) => {
                self.release(&load.functions);
                Err(error)
            }
        }
    }

    fn release(&mut self, registered: &[Registered]) {
        let callbacks: Vec<c_int> = registered.iter().map(|f| f.callback).collect();
        self.unref(&callbacks);
    }

    fn unref(&mut self, callbacks: &[c_int]) {
        for &callback in callbacks {
            // SAFETY: a reference this state's registry handed out.
            unsafe { ffi::luaL_unref(self.functions.l, ffi::LUA_REGISTRYINDEX, callback) };
        }
    }

    fn remove_library(&mut self, name: &[u8]) -> Option<Library> {
        let library = self.libraries.remove(name)?;
        for function in library.functions.keys() {
            self.function_index.remove(&function.to_ascii_lowercase());
        }
        Some(library)
    }

    /// FUNCTION DELETE.
    pub fn delete_library(&mut self, name: &[u8]) -> Result<(), CommandError> {
        let Some(library) = self.remove_library(name) else {
            return Err(CommandError::err("Library not found"));
        };
        let callbacks: Vec<c_int> = library.functions.values().map(|f| f.callback).collect();
        self.unref(&callbacks);
        Ok(())
    }

    /// The loaded libraries, by name.
    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    /// A function and its library, by the function's name (any case, as
    /// in Redis).
    pub fn function(&self, name: &[u8]) -> Option<(&Library, &Function)> {
        let (library, exact) = self.function_index.get(&name.to_ascii_lowercase())?;
        let library = self.libraries.get(library)?;
        Some((library, library.functions.get(exact)?))
    }

    /// FCALL: runs a function.
    pub fn call_function(
        &mut self,
        name: &[u8],
        run: Invocation<'_>,
    ) -> Result<Reply, CommandError> {
        let Some((_, function)) = self.function(name) else {
            return Err(CommandError::err("Function not found"));
        };
        let callback = function.callback;
        let l = self.functions.l;
        // SAFETY: the function state, not running; KEYS and ARGV are the
        // callback's two arguments.
        unsafe {
            ffi::lua_settop(l, 0);
            ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, env::ERROR_HANDLER.as_ptr());
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, ffi::lua_Integer::from(callback));
            push_array(l, run.keys);
            push_array(l, run.args);
        }
        let name = String::from_utf8_lossy(name).into_owned();
        Ok(call(&mut self.functions, &name, false, run, 2))
    }

    /// Removes every library and starts a new function state (FUNCTION
    /// FLUSH).
    pub fn flush_functions(&mut self) {
        self.libraries.clear();
        self.function_index.clear();
        self.functions = State::new(Kind::Function, &self.status, &self.rand);
    }

    /// Memory used by the function state, in bytes.
    pub fn functions_memory(&self) -> usize {
        self.functions.memory()
    }
}

/// Points the function state's globals at the table stored under `key`.
unsafe fn set_function_globals(l: L, key: &CStr) {
    unsafe {
        ffi::lua_getfield(
            l,
            ffi::LUA_REGISTRYINDEX,
            env::FUNCTION_GLOBALS_META.as_ptr(),
        );
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
        ffi::lua_setfield(l, -2, c"__index".as_ptr());
        ffi::lua_pop(l, 1);
    }
}

unsafe fn push_array(l: L, items: &[Vec<u8>]) {
    unsafe {
        ffi::lua_createtable(l, items.len().min(1 << 20) as c_int, 0);
        for (i, item) in items.iter().enumerate() {
            lua::push_bytes(l, item);
            ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
        }
    }
}

/// What Redis reads from an error value: its message, and where it was
/// raised when the error handler could tell.
struct ErrorInfo {
    message: Vec<u8>,
    source: Option<Vec<u8>>,
    line: Option<Vec<u8>>,
    counted: bool,
}

/// Reads the error on top of the stack (Redis's
/// `luaExtractErrorInformation`) and pops it.
unsafe fn error_info(l: L) -> ErrorInfo {
    unsafe {
        let mut info = ErrorInfo {
            message: Vec::new(),
            source: None,
            line: None,
            counted: false,
        };
        if ffi::lua_isstring(l, -1) != 0 {
            info.message = b"ERR ".to_vec();
            info.message
                .extend_from_slice(lua::to_c_bytes(l, -1).unwrap_or_default());
        } else if ffi::lua_istable(l, -1) != 0 {
            let field = |name: &[u8]| {
                lua::raw_field(l, -1, name);
                let value = if ffi::lua_isstring(l, -1) != 0 {
                    lua::to_c_bytes(l, -1).map(<[u8]>::to_vec)
                } else {
                    None
                };
                ffi::lua_pop(l, 1);
                value
            };
            // Redis crashes on an error table without `err`; an empty
            // message is the safe reading.
            info.message = field(b"err").unwrap_or_default();
            info.source = field(b"source");
            info.line = field(b"line");
            lua::raw_field(l, -1, b"ignore_error_stats_update");
            info.counted = ffi::lua_toboolean(l, -1) != 0;
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
        info
    }
}

/// Runs the function on the stack (below it the error handler, above it
/// `nargs` arguments) and converts its result: Redis's `luaCallFunction`.
fn call(state: &mut State, name: &str, eval: bool, run: Invocation<'_>, nargs: c_int) -> Reply {
    let l = state.l;
    let status = state.ctx.status.clone();
    let mut ctx = RunCtx {
        caller: run.caller,
        resp: 2,
    };
    status.begin(eval, run.from_master, run.now_ms);
    // SAFETY: `ctx` outlives the pcall and is unset before it is dropped;
    // the stack holds the handler, the function and its arguments.
    let reply = unsafe {
        state.ctx.run = (&mut ctx as *mut RunCtx<'_>).cast::<RunCtx<'static>>();
        ffi::lua_sethook(
            l,
            Some(api::count_hook),
            ffi::LUA_MASKCOUNT,
            api::HOOK_PERIOD,
        );
        let err = ffi::lua_pcall(l, nargs, 1, -(nargs + 2));
        state.runs += 1;
        if state.runs == GC_PERIOD {
            ffi::lua_gc(l, ffi::LUA_GCSTEP, GC_PERIOD as c_int);
            state.runs = 0;
        }
        let reply = if err != 0 {
            script_error(l, name)
        } else {
            convert::pop_reply(l, ctx.resp)
        };
        ffi::lua_sethook(l, None, 0, 0);
        state.ctx.run = std::ptr::null_mut();
        ffi::lua_settop(l, 0);
        reply
    };
    status.end();
    reply
}

/// The reply to a script that raised an error: the message, then where,
/// `ERR user_script:1: boom script: <sha>, on @user_script:1.`
unsafe fn script_error(l: L, name: &str) -> Reply {
    unsafe {
        if ffi::lua_istable(l, -1) == 0 {
            // Only an error inside the error handler gets here.
            let message = lua::to_c_bytes(l, -1).unwrap_or(b"execution failure");
            let message = &message[..message.len().min(100)];
            let mut text = format!("ERR Error running script {name}, ").into_bytes();
            text.extend_from_slice(message);
            ffi::lua_pop(l, 1);
            let error = CommandError::from_bytes(text);
            let line = error.bytes().trim_ascii_end().to_vec();
            return Reply {
                frame: Frame::Error(line.clone()),
                uncounted_errors: vec![line],
            };
        }
        let info = error_info(l);
        let mut text = info.message;
        if let (Some(source), Some(line)) = (info.source, info.line) {
            text.extend_from_slice(format!(" script: {name}, on ").as_bytes());
            text.extend_from_slice(&source);
            text.push(b':');
            text.extend_from_slice(&line);
            text.push(b'.');
        }
        let line = CommandError::from_bytes(text).bytes().to_vec();
        Reply {
            uncounted_errors: if info.counted {
                Vec::new()
            } else {
                vec![line.clone()]
            },
            frame: Frame::Error(line),
        }
    }
}
