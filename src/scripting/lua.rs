//! The Lua C API as the engine uses it: thin helpers over `mlua::ffi` for
//! the few things every other module repeats (byte strings in and out,
//! raising an error, pointers kept in the registry).
//!
//! The engine speaks to Lua through its C API, as Redis does, rather than
//! through mlua's safe wrapper: Redis raises *tables* as errors
//! (`{err='...'}`), relies on where an error is raised for its position
//! prefix (`user_script:1: `), and sets count hooks; matching those byte for
//! byte needs the same calls in the same order.
//!
//! # Errors and Rust frames
//!
//! `lua_error` and the `luaL_check*` functions leave a C function by
//! `longjmp`. Every C function written in Rust here therefore raises only
//! when no value with a destructor is alive in its frame: work that
//! allocates happens in an inner function that returns, and the raise
//! comes after (see [`raise`]).

use std::ffi::{CStr, c_int, c_void};

pub use mlua::ffi;
pub use mlua::ffi::lua_State;

/// A Lua state pointer, as every C function receives it.
pub type L = *mut lua_State;

/// A C function callable from Lua.
pub type CFunction = unsafe extern "C-unwind" fn(L) -> c_int;

/// Pushes a byte string (Lua strings are binary safe).
///
/// # Safety
/// `l` is a valid state with room for one more value.
pub unsafe fn push_bytes(l: L, bytes: &[u8]) {
    unsafe { ffi::lua_pushlstring(l, bytes.as_ptr().cast(), bytes.len()) };
}

/// The string at `idx`, converting a number in place as `lua_tolstring`
/// does; `None` for any other type. The slice lives as long as the value
/// stays on the stack.
///
/// # Safety
/// `l` is a valid state and `idx` an acceptable index.
pub unsafe fn to_bytes<'a>(l: L, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let ptr = unsafe { ffi::lua_tolstring(l, idx, &mut len) };
    if ptr.is_null() {
        None
    } else {
        Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
    }
}

/// Like [`to_bytes`], but as C sees the string: up to its first NUL byte
/// (Redis passes many Lua strings on as C strings).
///
/// # Safety
/// As [`to_bytes`].
pub unsafe fn to_c_bytes<'a>(l: L, idx: c_int) -> Option<&'a [u8]> {
    let bytes = unsafe { to_bytes(l, idx) }?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Some(&bytes[..end])
}

/// The type of the value at `idx` (`ffi::LUA_T*`).
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn type_of(l: L, idx: c_int) -> c_int {
    unsafe { ffi::lua_type(l, idx) }
}

/// Raises `message` as a Lua string error, without position information.
/// The message is moved in and dropped before the `longjmp`.
///
/// # Safety
/// `l` is a valid state inside a protected call, and the calling frame
/// holds no value with a destructor.
pub unsafe fn raise(l: L, message: Vec<u8>) -> ! {
    unsafe {
        room_for_error(l);
        push_bytes(l, &message);
    }
    drop(message);
    unsafe { ffi::lua_error(l) }
}

/// Raises `message` prefixed with the position of the Lua code that called
/// the running C function, as `luaL_error` does (`user_script:3: ...`).
///
/// # Safety
/// As [`raise`].
pub unsafe fn raise_here(l: L, message: Vec<u8>) -> ! {
    unsafe {
        room_for_error(l);
        ffi::luaL_where(l, 1);
        push_bytes(l, &message);
        drop(message);
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
}

/// Makes room for the few values an error message needs. A function that
/// fails because the stack is full (deep nesting) gives up its own values:
/// it is leaving anyway.
unsafe fn room_for_error(l: L) {
    unsafe {
        if ffi::lua_checkstack(l, 8) == 0 {
            ffi::lua_settop(l, 0);
            ffi::lua_checkstack(l, 8);
        }
    }
}

/// Raises whatever value is on the top of the stack.
///
/// # Safety
/// As [`raise`].
pub unsafe fn raise_top(l: L) -> ! {
    unsafe { ffi::lua_error(l) }
}

/// Stores a pointer in the registry under `key` (null stores nil).
///
/// # Safety
/// `l` is a valid state with room for two values.
pub unsafe fn set_registry_ptr(l: L, key: &CStr, ptr: *mut c_void) {
    unsafe {
        if ptr.is_null() {
            ffi::lua_pushnil(l);
        } else {
            ffi::lua_pushlightuserdata(l, ptr);
        }
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
    }
}

/// The pointer stored under `key` by [`set_registry_ptr`], or null.
///
/// # Safety
/// `l` is a valid state with room for one value.
pub unsafe fn registry_ptr(l: L, key: &CStr) -> *mut c_void {
    unsafe {
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
        let ptr = ffi::lua_touserdata(l, -1);
        ffi::lua_pop(l, 1);
        ptr
    }
}

/// Sets `t[name] = f` on the table at the top of the stack.
///
/// # Safety
/// A table is on the top of the stack, with room for two more values.
pub unsafe fn set_function(l: L, name: &CStr, f: CFunction) {
    unsafe {
        ffi::lua_pushcfunction(l, f);
        ffi::lua_setfield(l, -2, name.as_ptr());
    }
}

/// Sets `t[name] = n` on the table at the top of the stack.
///
/// # Safety
/// As [`set_function`].
pub unsafe fn set_number(l: L, name: &CStr, n: f64) {
    unsafe {
        ffi::lua_pushnumber(l, n);
        ffi::lua_setfield(l, -2, name.as_ptr());
    }
}

/// Reads `t[name]` with `rawget` from the table at `idx` and leaves it on
/// the stack, returning its type.
///
/// # Safety
/// `idx` is a table; room for one more value.
pub unsafe fn raw_field(l: L, idx: c_int, name: &[u8]) -> c_int {
    unsafe {
        let idx = ffi::lua_absindex(l, idx);
        push_bytes(l, name);
        ffi::lua_rawget(l, idx);
        ffi::lua_type(l, -1)
    }
}

/// Loads `code` as a chunk named `name` (`@user_script`...). On failure the
/// compiler's message is returned and nothing is left on the stack.
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn load(l: L, code: &[u8], name: &CStr) -> Result<(), Vec<u8>> {
    let status =
        unsafe { ffi::luaL_loadbuffer(l, code.as_ptr().cast(), code.len(), name.as_ptr()) };
    if status == 0 {
        return Ok(());
    }
    let message = unsafe { to_bytes(l, -1) }.unwrap_or_default().to_vec();
    unsafe { ffi::lua_pop(l, 1) };
    Err(message)
}

/// A Lua error decided by Rust code, raised once the code has returned and
/// dropped what it held (see [`raise_error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LuaError {
    /// `luaL_error`: the message after the caller's position.
    Here(Vec<u8>),
    /// `luaL_argerror`: `bad argument #n to 'f' (message)`.
    Arg(c_int, Vec<u8>),
    /// `lua_error` with the message as it is.
    Plain(Vec<u8>),
}

/// Raises `error` as the Lua library function it stands for would.
///
/// # Safety
/// As [`raise`].
pub unsafe fn raise_error(l: L, error: LuaError) -> ! {
    unsafe {
        match error {
            LuaError::Here(message) => raise_here(l, message),
            LuaError::Plain(message) => raise(l, message),
            LuaError::Arg(narg, message) => {
                room_for_error(l);
                // The message lives on the Lua stack while argerror formats it.
                let mut message = message;
                message.retain(|&b| b != 0);
                push_bytes(l, &message);
                drop(message);
                let text = ffi::lua_tostring(l, -1);
                ffi::luaL_argerror(l, narg, text);
                unreachable!("luaL_argerror returned")
            }
        }
    }
}

/// The end of a C function whose work an inner function did (see the
/// module notes on Rust frames): the number of values that function
/// pushed, or its error raised now that nothing else is alive.
///
/// # Safety
/// As [`raise`].
pub unsafe fn finish(l: L, result: Result<c_int, LuaError>) -> c_int {
    match result {
        Ok(pushed) => pushed,
        Err(error) => unsafe { raise_error(l, error) },
    }
}

/// As [`finish`], for a function that returns one byte string (what
/// `cjson.encode`, `cmsgpack.pack` and `struct.pack` build).
///
/// # Safety
/// As [`raise`].
pub unsafe fn finish_bytes(l: L, result: Result<Vec<u8>, LuaError>) -> c_int {
    let pushed = result.map(|bytes| {
        unsafe { push_bytes(l, &bytes) };
        1
    });
    unsafe { finish(l, pushed) }
}

/// Creates the global table `name` of a bundled library with its
/// `functions`, and leaves it on the stack (what a `luaopen_*` returns).
///
/// # Safety
/// `l` is a valid state with room for three more values.
pub unsafe fn open_library(l: L, name: &CStr, functions: &[(&CStr, CFunction)]) {
    unsafe {
        ffi::lua_createtable(l, 0, functions.len() as c_int);
        for &(field, f) in functions {
            set_function(l, field, f);
        }
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
    }
}

/// `luaL_typename`: the type name of argument `idx` (`no value` past the
/// last argument).
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn type_name(l: L, idx: c_int) -> &'static str {
    match unsafe { ffi::lua_type(l, idx) } {
        ffi::LUA_TNONE => "no value",
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA | ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "thread",
        _ => "?",
    }
}

/// `luaL_typerror`'s message for argument `idx`.
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn type_error(l: L, idx: c_int, expected: &str) -> LuaError {
    let got = unsafe { type_name(l, idx) };
    LuaError::Arg(idx, format!("{expected} expected, got {got}").into_bytes())
}

/// `luaL_checknumber` without the jump.
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn check_number(l: L, idx: c_int) -> Result<f64, LuaError> {
    unsafe { numeric_arg(l, idx, ffi::lua_tonumber(l, idx)) }
}

/// `luaL_checklstring` without the jump (a number is converted in place).
///
/// # Safety
/// As [`to_bytes`].
pub unsafe fn check_bytes<'a>(l: L, idx: c_int) -> Result<&'a [u8], LuaError> {
    unsafe { to_bytes(l, idx).ok_or_else(|| type_error(l, idx, "string")) }
}

/// `luaL_checkinteger` without the jump: Lua 5.1's truncating conversion.
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn check_integer(l: L, idx: c_int) -> Result<i64, LuaError> {
    unsafe { numeric_arg(l, idx, ffi::lua_tointeger(l, idx)) }
}

/// `value`, what `lua_tonumber` or `lua_tointeger` read at `idx`, unless
/// the argument is no number: both answer zero then, so only a zero needs
/// the (slower) `lua_isnumber` check, as in `luaL_checknumber`.
///
/// # Safety
/// `l` is a valid state.
unsafe fn numeric_arg<T: Default + PartialEq>(l: L, idx: c_int, value: T) -> Result<T, LuaError> {
    if value == T::default() && unsafe { ffi::lua_isnumber(l, idx) } == 0 {
        return Err(unsafe { type_error(l, idx, "number") });
    }
    Ok(value)
}

/// C's conversion of a double to a signed 64-bit integer on x86-64
/// (`cvttsd2si`): truncation, and `i64::MIN` for NaN or out of range.
pub fn c_double_to_i64(n: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// C's conversion of a double to an unsigned 64-bit integer as gcc emits
/// it on x86-64: below 2^63 a signed conversion, above it a conversion of
/// `n - 2^63` with the top bit flipped.
pub fn c_double_to_u64(n: f64) -> u64 {
    const HALF: f64 = 9_223_372_036_854_775_808.0;
    if n < HALF {
        c_double_to_i64(n) as u64
    } else {
        (c_double_to_i64(n - HALF) as u64) ^ (1 << 63)
    }
}
