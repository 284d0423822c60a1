//! The `redis` table a script sees (`redis.call`, `redis.pcall`,
//! `redis.log`, `redis.setresp`...), the global `pcall` Redis replaces,
//! `math.random`, and the count hook that lets another thread stop a
//! script. Each function follows its Redis counterpart in
//! `script_lua.c` / `eval.c`: same checks, same order, same error texts.

use std::ffi::c_int;

use super::convert;
use super::lua::{self, L, ffi};
use super::lua_ctx::StateCtx;
use super::rand48::RAND48_MAX;
use crate::log::LogLevel;

/// Pushes an error table `{err='CODE message'}` as Redis's
/// `luaPushErrorBuff` builds it: a leading `-` means the text carries its
/// own code (the first word), otherwise the code is `ERR`; a trailing line
/// break is trimmed.
///
/// # Safety
/// `l` is a valid state with room for three values.
pub unsafe fn push_error_table(l: L, text: &[u8]) {
    let (code, message): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(space) => (&rest[..space], &rest[space + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    // `sdstrim(msg, "\r\n")` trims both ends.
    let trim = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = message
        .iter()
        .position(|b| !trim(b))
        .unwrap_or(message.len());
    let end = message
        .iter()
        .rposition(|b| !trim(b))
        .map_or(start, |e| e + 1);
    let mut line = Vec::with_capacity(code.len() + 1 + end - start);
    line.extend_from_slice(code);
    line.push(b' ');
    line.extend_from_slice(&message[start..end]);
    // Redis stores the message with `lua_pushstring`: up to a NUL.
    let cut = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    unsafe {
        ffi::lua_createtable(l, 0, 1);
        lua::push_bytes(l, &line[..cut]);
        ffi::lua_setfield(l, -2, c"err".as_ptr());
    }
}

/// Pushes an error table and marks it as already counted in the error
/// statistics (the command that replied it counted it).
unsafe fn push_counted_error_table(l: L, text: &[u8]) {
    unsafe {
        push_error_table(l, text);
        ffi::lua_pushboolean(l, 1);
        ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
    }
}

/// The arguments of a `redis.call`, as Redis builds its argv: numbers
/// formatted `%.17g` (Lua's own conversion loses precision), strings as
/// they are, anything else refused. The arguments are popped either way.
unsafe fn take_argv(l: L) -> Result<Vec<Vec<u8>>, &'static [u8]> {
    let argc = unsafe { ffi::lua_gettop(l) };
    if argc == 0 {
        return Err(b"Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(argc as usize);
    for j in 1..=argc {
        if unsafe { lua::type_of(l, j) } == ffi::LUA_TNUMBER {
            let n = unsafe { ffi::lua_tonumber(l, j) };
            argv.push(crate::num::format_g17(n).into_bytes());
        } else {
            match unsafe { lua::to_bytes(l, j) } {
                Some(bytes) => argv.push(bytes.to_vec()),
                None => break,
            }
        }
    }
    unsafe { ffi::lua_pop(l, argc) };
    if argv.len() != argc as usize {
        return Err(b"Lua redis lib command arguments must be strings or integers");
    }
    Ok(argv)
}

/// How `redis.call`, `redis.pcall` and `redis.acl_check_cmd` (`function`)
/// start: the state's context and the command's arguments, checked in
/// Redis's order. Otherwise an error table is on the stack and the error
/// says whether to raise it: always outside a run, for bad arguments only
/// when `raise_bad_args` (`redis.pcall` returns those).
unsafe fn command_argv<'a>(
    l: L,
    function: &str,
    raise_bad_args: bool,
) -> Result<(&'a mut StateCtx, Vec<Vec<u8>>), bool> {
    let ctx = unsafe { StateCtx::get(l) };
    if ctx.run.is_null() {
        unsafe { push_error_table(l, &outside_run(function)) };
        return Err(true);
    }
    match unsafe { take_argv(l) } {
        Ok(argv) => Ok((ctx, argv)),
        Err(message) => {
            unsafe { push_error_table(l, message) };
            Err(raise_bad_args)
        }
    }
}

/// `redis.call` and `redis.pcall`: leaves the reply (or an error table) on
/// the stack; true if that is an error `redis.call` must raise.
unsafe fn call_command(l: L, raise_errors: bool) -> bool {
    let (ctx, argv) = match unsafe { command_argv(l, "redis.call/pcall", raise_errors) } {
        Ok(found) => found,
        Err(raise) => return raise,
    };
    let status = ctx.status.clone();
    let Some(run) = ctx.run() else {
        return false;
    };
    let mut wrote = false;
    let reply = run.caller.call(&argv, run.resp, &mut wrote);
    if wrote {
        status.set_written();
    }
    let resp = run.resp;
    drop(argv);
    if let crate::resp::Frame::Error(text) = &reply {
        let mut line = Vec::with_capacity(text.len() + 1);
        line.push(b'-');
        line.extend_from_slice(text);
        unsafe { push_counted_error_table(l, &line) };
        return raise_errors;
    }
    unsafe { convert::push_reply(l, &reply, resp) };
    false
}

/// `redis.call(...)`: the command's reply, or its error raised.
pub(super) unsafe extern "C-unwind" fn redis_call(l: L) -> c_int {
    unsafe { return_command(l, true) }
}

/// `redis.pcall(...)`: the command's reply, errors returned as tables.
pub(super) unsafe extern "C-unwind" fn redis_pcall(l: L) -> c_int {
    unsafe { return_command(l, false) }
}

/// The two above: runs the command, then raises where it must, once
/// [`call_command`] has dropped what it held.
unsafe fn return_command(l: L, raise_errors: bool) -> c_int {
    if unsafe { call_command(l, raise_errors) } {
        unsafe { lua::raise_top(l) }
    }
    1
}

/// The global `pcall`: Lua's, except that an error raised as a table with
/// an `err` string is returned as that string, as Lua scripts written for
/// Redis 6 (where errors were strings) expect.
pub(super) unsafe extern "C-unwind" fn pcall(l: L) -> c_int {
    unsafe {
        let argc = ffi::lua_gettop(l);
        ffi::lua_pushboolean(l, 1);
        ffi::lua_insert(l, 1);
        if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
            ffi::lua_remove(l, 1);
            if ffi::lua_istable(l, -1) != 0 {
                ffi::lua_getfield(l, -1, c"err".as_ptr());
                if ffi::lua_isstring(l, -1) != 0 {
                    ffi::lua_replace(l, -2);
                }
            }
            ffi::lua_pushboolean(l, 0);
            ffi::lua_insert(l, 1);
        }
        ffi::lua_gettop(l)
    }
}

/// Raises an error table built from `message` (Redis's
/// `luaPushError` + `luaError`).
unsafe fn raise_error_table(l: L, message: impl AsRef<[u8]>) -> ! {
    unsafe { push_error_table(l, message.as_ref()) };
    drop(message);
    unsafe { lua::raise_top(l) }
}

/// Redis's error for a function that needs a running script, called
/// outside one (while a library loads, for instance).
fn outside_run(function: &str) -> Vec<u8> {
    format!("{function} can only be called inside a script invocation").into_bytes()
}

/// `redis.acl_check_cmd(...)`: whether the user running the script may
/// run that command with those arguments.
pub(super) unsafe extern "C-unwind" fn acl_check_cmd(l: L) -> c_int {
    let allowed = unsafe { check_acl(l) };
    unsafe {
        match allowed {
            Some(allowed) => ffi::lua_pushboolean(l, c_int::from(allowed)),
            None => lua::raise_top(l),
        }
    }
    1
}

/// The body of `redis.acl_check_cmd`: `None` with an error table pushed
/// when it must raise.
unsafe fn check_acl(l: L) -> Option<bool> {
    let Ok((ctx, argv)) = (unsafe { command_argv(l, "redis.acl_check_cmd", true) }) else {
        return None;
    };
    let run = ctx.run()?;
    match run.caller.acl_check_cmd(&argv) {
        Some(allowed) => Some(allowed),
        None => {
            unsafe { push_error_table(l, b"Invalid command passed to redis.acl_check_cmd()") };
            None
        }
    }
}

/// `redis.sha1hex(s)`.
pub(super) unsafe extern "C-unwind" fn sha1hex(l: L) -> c_int {
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            raise_error_table(l, b"wrong number of arguments");
        }
        let digest = crate::digest::sha1hex(lua::to_bytes(l, 1).unwrap_or_default());
        lua::push_bytes(l, digest.as_bytes());
    }
    1
}

/// `redis.error_reply(text)`: `{err=text}`, with `ERR` added when the text
/// has no `-CODE`.
pub(super) unsafe extern "C-unwind" fn error_reply(l: L) -> c_int {
    unsafe {
        if ffi::lua_gettop(l) != 1 || lua::type_of(l, -1) != ffi::LUA_TSTRING {
            push_error_table(l, b"wrong number or type of arguments");
            return 1;
        }
        let text = lua::to_c_bytes(l, -1).unwrap_or_default();
        let mut line = Vec::with_capacity(text.len() + 1);
        if !text.starts_with(b"-") {
            line.push(b'-');
        }
        line.extend_from_slice(text);
        push_error_table(l, &line);
    }
    1
}

/// `redis.status_reply(text)`: `{ok=text}`.
pub(super) unsafe extern "C-unwind" fn status_reply(l: L) -> c_int {
    unsafe {
        if ffi::lua_gettop(l) != 1 || lua::type_of(l, -1) != ffi::LUA_TSTRING {
            push_error_table(l, b"wrong number or type of arguments");
            return 1;
        }
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushvalue(l, -2);
        ffi::lua_setfield(l, -2, c"ok".as_ptr());
    }
    1
}

/// `redis.set_repl(flags)`.
pub(super) unsafe extern "C-unwind" fn set_repl(l: L) -> c_int {
    unsafe {
        let ctx = StateCtx::get(l);
        if ctx.run.is_null() {
            raise_error_table(l, outside_run("redis.set_repl"));
        }
        if ffi::lua_gettop(l) != 1 {
            raise_error_table(l, b"redis.set_repl() requires two arguments.");
        }
        let flags = ffi::lua_tonumber(l, -1) as c_int;
        if flags & !3 != 0 {
            raise_error_table(
                l,
                b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
            );
        }
        if let Some(run) = ctx.run() {
            run.caller.set_repl(flags as u8);
        }
    }
    0
}

/// `redis.setresp(2|3)`: the protocol later `redis.call` replies come in.
pub(super) unsafe extern "C-unwind" fn setresp(l: L) -> c_int {
    unsafe {
        let ctx = StateCtx::get(l);
        if ctx.run.is_null() {
            raise_error_table(l, outside_run("redis.setresp"));
        }
        let argc = ffi::lua_gettop(l);
        if argc != 1 {
            raise_error_table(l, b"redis.setresp() requires one argument.");
        }
        let resp = ffi::lua_tonumber(l, -argc) as c_int;
        if resp != 2 && resp != 3 {
            raise_error_table(l, b"RESP version must be 2 or 3.");
        }
        if let Some(run) = ctx.run() {
            run.resp = resp as u8;
        }
    }
    0
}

/// `redis.log(level, ...)`: the arguments joined by spaces, written to the
/// server's log at that level.
pub(super) unsafe extern "C-unwind" fn log(l: L) -> c_int {
    unsafe {
        let argc = ffi::lua_gettop(l);
        if argc < 2 {
            raise_error_table(l, b"redis.log() requires two arguments or more.");
        }
        if ffi::lua_isnumber(l, -argc) == 0 {
            raise_error_table(l, b"First argument must be a number (log level).");
        }
        let level = ffi::lua_tonumber(l, -argc) as c_int;
        if !(0..=3).contains(&level) {
            raise_error_table(l, b"Invalid debug level.");
        }
        write_log(l, argc, LogLevel::from_u8(level as u8));
    }
    0
}

/// The body of `redis.log` once its arguments are checked.
unsafe fn write_log(l: L, argc: c_int, level: LogLevel) {
    let ctx = unsafe { StateCtx::get(l) };
    let logger = if let Some(run) = ctx.run() {
        run.caller.logger() as *const crate::log::Logger
    } else {
        match ctx.load().and_then(|load| load.logger) {
            Some(logger) => logger,
            None => return,
        }
    };
    // SAFETY: the logger belongs to the run or load in progress.
    let logger = unsafe { &*logger };
    if !logger.enabled(level) {
        return;
    }
    let mut line = Vec::new();
    for j in 1..argc {
        // Non-strings are skipped, but the separator still counts them.
        if let Some(part) = unsafe { lua::to_bytes(l, -argc + j) } {
            if j != 1 {
                line.push(b' ');
            }
            line.extend_from_slice(part);
        }
    }
    logger.log(level, &String::from_utf8_lossy(&line));
}

/// `redis.replicate_commands()`: always true since Redis 7 (effects are
/// always what is replicated).
pub(super) unsafe extern "C-unwind" fn replicate_commands(l: L) -> c_int {
    unsafe { ffi::lua_pushboolean(l, 1) };
    1
}

/// `redis.breakpoint()`: false, as outside the Lua debugger (which sedis
/// does not have).
pub(super) unsafe extern "C-unwind" fn breakpoint(l: L) -> c_int {
    unsafe { ffi::lua_pushboolean(l, 0) };
    1
}

/// `redis.debug(...)`: nothing, as outside the Lua debugger.
pub(super) unsafe extern "C-unwind" fn debug(_l: L) -> c_int {
    0
}

/// `math.random([m [, n]])`, Lua 5.1's algorithm on Redis's generator.
pub(super) unsafe extern "C-unwind" fn math_random(l: L) -> c_int {
    unsafe {
        let ctx = StateCtx::get(l);
        if ctx.run.is_null() {
            lua::raise_here(l, outside_run("math.random"));
        }
        let next = ctx.rand.lock().next_value();
        let r = f64::from(next % RAND48_MAX) / f64::from(RAND48_MAX);
        match ffi::lua_gettop(l) {
            0 => ffi::lua_pushnumber(l, r),
            1 => {
                let u = ffi::luaL_checkinteger(l, 1) as c_int;
                ffi::luaL_argcheck(l, (1 <= u) as c_int, 1, c"interval is empty".as_ptr());
                ffi::lua_pushnumber(l, (r * f64::from(u)).floor() + 1.0);
            }
            2 => {
                let lo = ffi::luaL_checkinteger(l, 1) as c_int;
                let hi = ffi::luaL_checkinteger(l, 2) as c_int;
                ffi::luaL_argcheck(l, (lo <= hi) as c_int, 2, c"interval is empty".as_ptr());
                let span = f64::from(hi) - f64::from(lo) + 1.0;
                ffi::lua_pushnumber(l, (r * span).floor() + f64::from(lo));
            }
            _ => lua::raise_here(l, b"wrong number of arguments".to_vec()),
        }
    }
    1
}

/// `math.randomseed(n)`.
pub(super) unsafe extern "C-unwind" fn math_randomseed(l: L) -> c_int {
    unsafe {
        let ctx = StateCtx::get(l);
        if ctx.run.is_null() {
            lua::raise_here(l, outside_run("math.randomseed"));
        }
        let seed = ffi::luaL_checkinteger(l, 1) as i32;
        ctx.rand.lock().seed(seed);
    }
    0
}

/// How many instructions run between two looks at the kill flag (Redis's
/// count hook period).
pub const HOOK_PERIOD: c_int = 100_000;

/// The count hook: stops the script once another thread asked for it, or a
/// library load that has run past its deadline.
pub(super) unsafe extern "C-unwind" fn count_hook(l: L, _ar: *mut ffi::lua_Debug) {
    let ctx = unsafe { StateCtx::get(l) };
    let message: &[u8] = if !ctx.run.is_null() && ctx.status.kill_requested() {
        if let Some(run) = ctx.run() {
            run.caller
                .logger()
                .warning("Lua script killed by user with SCRIPT KILL.");
        }
        b"Script killed by user with SCRIPT KILL..."
    } else if ctx.load().is_some_and(|load| load.past_deadline()) {
        b"FUNCTION LOAD timeout"
    } else {
        return;
    };
    unsafe {
        // From now on the hook runs on every line, so that a script that
        // catches the error with pcall is stopped again at once.
        ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKLINE, 0);
        raise_error_table(l, message);
    }
}
