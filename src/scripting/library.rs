//! `redis.register_function`, the one thing a FUNCTION library does while
//! it loads: read its arguments (positional `name, callback` or the named
//! table `{function_name=, callback=, flags=, description=}`) as Redis's
//! `function_lua.c` does, and record the function for the engine.

use std::ffi::c_int;

use super::api::push_error_table;
use super::flags::{BAD_NAME, ScriptFlags, valid_name};
use super::lua::{self, L, ffi};
use super::lua_ctx::{Registered, StateCtx};

/// `redis.register_function(...)`.
pub(super) unsafe extern "C-unwind" fn register_function(l: L) -> c_int {
    if unsafe { register(l) }.is_err() {
        unsafe { lua::raise_top(l) }
    }
    0
}

/// Reads the arguments and records the function; on error an error table
/// is on the stack.
unsafe fn register(l: L) -> Result<(), ()> {
    let ctx = unsafe { StateCtx::get(l) };
    if ctx.load.is_null() {
        return fail(
            l,
            b"redis.register_function can only be called on FUNCTION LOAD command",
        );
    }
    let function = match unsafe { ffi::lua_gettop(l) } {
        1 => unsafe { named_args(l) }?,
        2 => unsafe { positional_args(l) }?,
        _ => return fail(l, b"wrong number of arguments to redis.register_function"),
    };
    let Some(load) = ctx.load() else {
        return Err(());
    };
    let error: &[u8] = if !valid_name(&function.name) {
        BAD_NAME.as_bytes()
    } else if load.functions.iter().any(|f| f.name == function.name) {
        b"Function already exists in the library"
    } else {
        load.functions.push(function);
        return Ok(());
    };
    unsafe { ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, function.callback) };
    drop(function);
    fail(l, error)
}

fn fail<T>(l: L, message: &[u8]) -> Result<T, ()> {
    // SAFETY: called from `register` with room on the stack.
    unsafe { push_error_table(l, message) };
    Err(())
}

/// The string at `idx` as Redis's `luaGetStringSds` takes it (numbers
/// converted), or `None`.
unsafe fn string_at(l: L, idx: c_int) -> Option<Vec<u8>> {
    unsafe {
        if ffi::lua_isstring(l, idx) == 0 {
            return None;
        }
        lua::to_bytes(l, idx).map(<[u8]>::to_vec)
    }
}

unsafe fn positional_args(l: L) -> Result<Registered, ()> {
    let Some(name) = (unsafe { string_at(l, 1) }) else {
        return fail(
            l,
            b"first argument to redis.register_function must be a string",
        );
    };
    if unsafe { ffi::lua_isfunction(l, 2) } == 0 {
        drop(name);
        return fail(
            l,
            b"second argument to redis.register_function must be a function",
        );
    }
    let callback = unsafe { ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX) };
    Ok(Registered {
        name,
        description: None,
        flags: ScriptFlags::default(),
        callback,
    })
}

unsafe fn named_args(l: L) -> Result<Registered, ()> {
    if unsafe { ffi::lua_istable(l, 1) } == 0 {
        return fail(
            l,
            b"calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
        );
    }
    let mut name = None;
    let mut description = None;
    let mut callback = None;
    let mut flags = ScriptFlags::default();
    let error: &[u8] = 'read: {
        unsafe { ffi::lua_pushnil(l) };
        while unsafe { ffi::lua_next(l, 1) } != 0 {
            if unsafe { ffi::lua_isstring(l, -2) } == 0 {
                break 'read b"named argument key given to redis.register_function is not a string";
            }
            let key = unsafe { lua::to_c_bytes(l, -2) }.unwrap_or_default();
            if key.eq_ignore_ascii_case(b"function_name") {
                match unsafe { string_at(l, -1) } {
                    Some(value) => name = Some(value),
                    None => {
                        break 'read b"function_name argument given to redis.register_function must be a string";
                    }
                }
            } else if key.eq_ignore_ascii_case(b"description") {
                match unsafe { string_at(l, -1) } {
                    Some(value) => description = Some(value),
                    None => {
                        break 'read b"description argument given to redis.register_function must be a string";
                    }
                }
            } else if key.eq_ignore_ascii_case(b"callback") {
                if unsafe { ffi::lua_isfunction(l, -1) } == 0 {
                    break 'read b"callback argument given to redis.register_function must be a function";
                }
                // `luaL_ref` pops the value: no pop below.
                callback = Some(unsafe { ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX) });
                continue;
            } else if key.eq_ignore_ascii_case(b"flags") {
                if unsafe { ffi::lua_istable(l, -1) } == 0 {
                    break 'read b"flags argument to redis.register_function must be a table representing function flags";
                }
                if !unsafe { read_flags(l, &mut flags) } {
                    break 'read b"unknown flag given";
                }
            } else {
                break 'read b"unknown argument given to redis.register_function";
            }
            unsafe { ffi::lua_pop(l, 1) };
        }
        let Some(name) = name.take() else {
            break 'read b"redis.register_function must get a function name argument";
        };
        let Some(callback) = callback.take() else {
            break 'read b"redis.register_function must get a callback argument";
        };
        return Ok(Registered {
            name,
            description,
            flags,
            callback,
        });
    };
    if let Some(callback) = callback {
        unsafe { ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, callback) };
    }
    drop((name, description));
    fail(l, error)
}

/// The flag names in the table on top of the stack, read as an array.
unsafe fn read_flags(l: L, flags: &mut ScriptFlags) -> bool {
    let mut j = 1;
    loop {
        unsafe {
            ffi::lua_pushnumber(l, f64::from(j));
            ffi::lua_rawget(l, -2);
            if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                ffi::lua_pop(l, 1);
                return true;
            }
            if ffi::lua_isstring(l, -1) == 0 {
                ffi::lua_pop(l, 1);
                return false;
            }
            let known = flags.set_function_flag(lua::to_c_bytes(l, -1).unwrap_or_default());
            ffi::lua_pop(l, 1);
            if !known {
                return false;
            }
        }
        j += 1;
    }
}
