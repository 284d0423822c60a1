//! The Lua environment, built as Redis 7.0 builds it: the base, table,
//! string and math libraries plus `cjson`, `struct`, `cmsgpack` and `bit`;
//! no `os`, `io`, `print`, `loadfile` or `dofile`; the `redis` table; and
//! every table reachable from the globals read-only.
//!
//! Redis makes tables read-only with a flag its patched Lua checks on every
//! write. Stock Lua has no such flag, so each protected table is replaced
//! by an empty *proxy* whose metatable reads from the real table and
//! refuses writes (`__newindex`), and the few built-ins that write or read
//! a table directly (`rawset`, `rawget`, `next`, `pairs`, `setmetatable`,
//! `getmetatable`, `table.insert`) learn to see through proxies. The
//! errors are Redis's: `Attempt to modify a readonly table` and `Script
//! attempted to access nonexistent global variable 'x'`.

use std::ffi::{CStr, c_int};

use super::api;
use super::lua::{self, CFunction, L, ffi};
use super::{lib_bit, lib_cjson, lib_cmsgpack, lib_struct};

/// Registry key of the table mapping each proxy to the table it guards.
const PROXIES: &CStr = c"__sedis_proxies__";
/// Registry key of the table mapping protected metatables to the proxies
/// `getmetatable` returns for them.
const METATABLE_PROXIES: &CStr = c"__sedis_metatable_proxies__";
/// Registry key of the error handler every run passes to `lua_pcall`.
pub const ERROR_HANDLER: &CStr = c"__sedis_error_handler__";
/// Registry key of the real globals (behind the proxy scripts see).
pub const GLOBALS: &CStr = c"__sedis_globals__";
/// Registry key of the globals a FUNCTION library sees while it loads.
pub const LIBRARY_API: &CStr = c"__sedis_library_api__";
/// Registry key of the metatable of a function state's globals, whose
/// `__index` switches between [`GLOBALS`] and [`LIBRARY_API`].
pub const FUNCTION_GLOBALS_META: &CStr = c"__sedis_function_globals_meta__";

/// Which of Redis's two environments a state is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// EVAL scripts: KEYS and ARGV are globals; `redis.breakpoint`,
    /// `redis.debug` and `redis.replicate_commands` exist.
    Eval,
    /// FUNCTION libraries: globals are read-only even to the library, and
    /// a library sees only `redis.register_function`, `redis.log` and the
    /// version while it loads.
    Function,
}

/// The error handler every run uses: it turns the error into a table and
/// adds where it happened (the caller of a C function, which is where the
/// script's author looks). Redis defines the same one in Lua.
const ERROR_HANDLER_CODE: &[u8] = b"\
local getinfo = debug.getinfo
return function(err)
  local at = getinfo(2, 'nSl')
  if at and at.what == 'C' then at = getinfo(3, 'nSl') end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if at then
    err['source'] = at.source
    err['line'] = at.currentline
  end
  return err
end
";

/// A new Lua state of the given kind, its globals locked.
///
/// # Safety
/// The caller installs the state's context (`StateCtx::install`) before
/// running any code in it, and closes it with `lua_close`.
pub unsafe fn new_state(kind: Kind) -> L {
    unsafe {
        let l = ffi::luaL_newstate();
        assert!(!l.is_null(), "out of memory creating the Lua state");
        ffi::lua_newtable(l);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
        ffi::lua_newtable(l);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, METATABLE_PROXIES.as_ptr());

        open_libraries(l);
        register_redis_api(l, kind);
        install_error_handler(l, kind);
        // `debug` goes once the error handler holds `debug.getinfo`; the
        // others Redis never lets scripts have (the last three since the
        // fixes for CVE-2025-46817/46818, which the reference 7.0.15 has).
        for name in [
            c"debug",
            c"print",
            c"dofile",
            c"loadfile",
            c"getfenv",
            c"setfenv",
            c"newproxy",
        ] {
            ffi::lua_pushnil(l);
            ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, name.as_ptr());
        }
        replace_builtins(l);

        match kind {
            Kind::Eval => lock_globals(l),
            Kind::Function => {
                build_library_api(l);
                lock_globals(l);
                isolate_function_globals(l);
            }
        }
        ffi::lua_settop(l, 0);
        l
    }
}

unsafe fn open_libraries(l: L) {
    let libs: [(&CStr, CFunction); 9] = [
        (c"", ffi::luaopen_base),
        (c"table", ffi::luaopen_table),
        (c"string", ffi::luaopen_string),
        (c"math", ffi::luaopen_math),
        (c"debug", ffi::luaopen_debug),
        (c"cjson", lib_cjson::open),
        (c"struct", lib_struct::open),
        (c"cmsgpack", lib_cmsgpack::open),
        (c"bit", lib_bit::open),
    ];
    for (name, open) in libs {
        unsafe {
            ffi::lua_pushcfunction(l, open);
            ffi::lua_pushstring(l, name.as_ptr());
            ffi::lua_call(l, 1, 0);
        }
    }
}

/// `redis.log`, the `LOG_*` levels and the version fields: shared by the
/// `redis` table and the one a loading library sees.
unsafe fn register_log_and_version(l: L) {
    unsafe {
        lua::set_function(l, c"log", api::log);
        lua::set_number(l, c"LOG_DEBUG", 0.0);
        lua::set_number(l, c"LOG_VERBOSE", 1.0);
        lua::set_number(l, c"LOG_NOTICE", 2.0);
        lua::set_number(l, c"LOG_WARNING", 3.0);
        // 7.0.15 as Redis encodes it: 0x07000f.
        lua::set_number(l, c"REDIS_VERSION_NUM", f64::from(0x07_00_0f));
        lua::push_bytes(l, crate::REDIS_VERSION.as_bytes());
        ffi::lua_setfield(l, -2, c"REDIS_VERSION".as_ptr());
    }
}

unsafe fn register_redis_api(l: L, kind: Kind) {
    unsafe {
        ffi::lua_pushcfunction(l, api::pcall);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"pcall".as_ptr());

        ffi::lua_newtable(l);
        lua::set_function(l, c"call", api::redis_call);
        lua::set_function(l, c"pcall", api::redis_pcall);
        register_log_and_version(l);
        lua::set_function(l, c"setresp", api::setresp);
        lua::set_function(l, c"sha1hex", api::sha1hex);
        lua::set_function(l, c"error_reply", api::error_reply);
        lua::set_function(l, c"status_reply", api::status_reply);
        lua::set_function(l, c"set_repl", api::set_repl);
        lua::set_number(l, c"REPL_NONE", 0.0);
        lua::set_number(l, c"REPL_AOF", 1.0);
        lua::set_number(l, c"REPL_SLAVE", 2.0);
        lua::set_number(l, c"REPL_REPLICA", 2.0);
        lua::set_number(l, c"REPL_ALL", 3.0);
        lua::set_function(l, c"acl_check_cmd", api::acl_check_cmd);
        if kind == Kind::Eval {
            lua::set_function(l, c"breakpoint", api::breakpoint);
            lua::set_function(l, c"debug", api::debug);
            lua::set_function(l, c"replicate_commands", api::replicate_commands);
        }
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"redis".as_ptr());

        ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"math".as_ptr());
        lua::set_function(l, c"random", api::math_random);
        lua::set_function(l, c"randomseed", api::math_randomseed);
        ffi::lua_pop(l, 1);
    }
}

unsafe fn install_error_handler(l: L, kind: Kind) {
    unsafe {
        let loaded = lua::load(l, ERROR_HANDLER_CODE, c"@err_handler_def");
        debug_assert!(loaded.is_ok());
        ffi::lua_call(l, 0, 1);
        if kind == Kind::Eval {
            // Scripts see it as a global, as Redis defines it.
            ffi::lua_pushvalue(l, -1);
            ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"__redis__err__handler".as_ptr());
        }
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, ERROR_HANDLER.as_ptr());
    }
}

/// Sets the "nonexistent global" metatable on the table on top of the
/// stack (Redis's `luaSetErrorMetatable`).
unsafe fn set_error_metatable(l: L) {
    unsafe {
        ffi::lua_newtable(l);
        lua::set_function(l, c"__index", missing_global);
        ffi::lua_setmetatable(l, -2);
    }
}

/// The table a FUNCTION library sees as its globals while it loads:
/// `redis` with `register_function`, `log` and the version, nothing else.
unsafe fn build_library_api(l: L) {
    unsafe {
        ffi::lua_settop(l, 0);
        ffi::lua_newtable(l); // 1: the globals of a loading library
        ffi::lua_newtable(l); // 2: its `redis`
        lua::set_function(l, c"register_function", super::library::register_function);
        register_log_and_version(l);
        set_error_metatable(l);
        protect(l, 2);
        ffi::lua_setfield(l, 1, c"redis".as_ptr());
        ffi::lua_settop(l, 1);
        set_error_metatable(l);
        protect(l, 1);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, LIBRARY_API.as_ptr());
        ffi::lua_settop(l, 0);
    }
}

/// Locks the globals: every table reachable from them becomes a proxy,
/// reads of missing globals fail, and scripts get the proxy as globals.
unsafe fn lock_globals(l: L) {
    unsafe {
        ffi::lua_pushvalue(l, ffi::LUA_GLOBALSINDEX);
        let globals = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, globals);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
        // Library tables first (one level: none of them holds a table).
        let mut names = Vec::new();
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, globals) != 0 {
            if ffi::lua_istable(l, -1) != 0 && ffi::lua_type(l, -2) == ffi::LUA_TSTRING {
                names.push(lua::to_bytes(l, -2).unwrap_or_default().to_vec());
            }
            ffi::lua_pop(l, 1);
        }
        for name in &names {
            if name.as_slice() == b"_G" {
                continue;
            }
            lua::push_bytes(l, name);
            ffi::lua_rawget(l, globals);
            let proxy = protect(l, -1);
            lua::push_bytes(l, name);
            ffi::lua_pushvalue(l, proxy);
            ffi::lua_rawset(l, globals);
            ffi::lua_settop(l, globals);
        }
        set_error_metatable(l);
        protect_metatable(l, globals);
        // Strings find their methods through the `string` scripts see, and
        // their metatable is read-only too.
        lua::push_bytes(l, b"");
        if ffi::lua_getmetatable(l, -1) != 0 {
            ffi::lua_getfield(l, globals, c"string".as_ptr());
            ffi::lua_setfield(l, -2, c"__index".as_ptr());
            ffi::lua_pop(l, 1);
            protect_metatable(l, -1);
        }
        ffi::lua_settop(l, globals);
        let proxy = protect(l, globals);
        ffi::lua_pushvalue(l, proxy);
        ffi::lua_setfield(l, globals, c"_G".as_ptr());
        ffi::lua_pushvalue(l, proxy);
        ffi::lua_replace(l, ffi::LUA_GLOBALSINDEX);
        ffi::lua_settop(l, 0);
    }
}

/// A function state's globals: an empty table that reads through to the
/// locked globals (or, while a library loads, to the library API) and
/// refuses every write, so that functions cannot share state through
/// globals.
unsafe fn isolate_function_globals(l: L) {
    unsafe {
        ffi::lua_newtable(l);
        let table = ffi::lua_gettop(l);
        ffi::lua_newtable(l);
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
        ffi::lua_setfield(l, -2, c"__index".as_ptr());
        lua::set_function(l, c"__newindex", readonly_write);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, FUNCTION_GLOBALS_META.as_ptr());
        ffi::lua_setmetatable(l, table);
        // Registered as its own proxy: reads see it empty, writes fail.
        map_in_registry(l, PROXIES, table, table);
        ffi::lua_replace(l, ffi::LUA_GLOBALSINDEX);
    }
}

/// Sets `registry[map][key] = value` (`key` and `value` absolute stack
/// indexes): how proxies and the tables they guard are recorded.
unsafe fn map_in_registry(l: L, map: &CStr, key: c_int, value: c_int) {
    unsafe {
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, map.as_ptr());
        ffi::lua_pushvalue(l, key);
        ffi::lua_pushvalue(l, value);
        ffi::lua_rawset(l, -3);
        ffi::lua_pop(l, 1);
    }
}

/// Pushes a read-only proxy for the table at `idx` and returns its index.
unsafe fn protect(l: L, idx: c_int) -> c_int {
    unsafe {
        let target = ffi::lua_absindex(l, idx);
        ffi::lua_newtable(l);
        let proxy = ffi::lua_gettop(l);
        ffi::lua_createtable(l, 0, 2);
        ffi::lua_pushvalue(l, target);
        ffi::lua_setfield(l, -2, c"__index".as_ptr());
        lua::set_function(l, c"__newindex", readonly_write);
        ffi::lua_setmetatable(l, proxy);
        map_in_registry(l, PROXIES, proxy, target);
        proxy
    }
}

/// Makes the metatable of the value at `idx` read-only: `getmetatable`
/// returns a proxy of it.
unsafe fn protect_metatable(l: L, idx: c_int) {
    unsafe {
        let idx = ffi::lua_absindex(l, idx);
        if ffi::lua_getmetatable(l, idx) == 0 {
            return;
        }
        let mt = ffi::lua_gettop(l);
        let proxy = protect(l, mt);
        map_in_registry(l, METATABLE_PROXIES, mt, proxy);
        ffi::lua_settop(l, mt - 1);
    }
}

/// If the value at `idx` is a proxy, replaces it with the table it guards;
/// true if it was one.
unsafe fn unproxy(l: L, idx: c_int) -> bool {
    unsafe {
        if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
            return false;
        }
        let idx = ffi::lua_absindex(l, idx);
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
        ffi::lua_pushvalue(l, idx);
        ffi::lua_rawget(l, -2);
        if ffi::lua_isnil(l, -1) != 0 {
            ffi::lua_pop(l, 2);
            return false;
        }
        ffi::lua_replace(l, idx);
        ffi::lua_pop(l, 1);
        true
    }
}

/// True if the value at `idx` is a protected table.
unsafe fn is_protected(l: L, idx: c_int) -> bool {
    unsafe {
        let idx = ffi::lua_absindex(l, idx);
        ffi::lua_pushvalue(l, idx);
        let protected = unproxy(l, -1);
        ffi::lua_pop(l, 1);
        protected
    }
}

const READONLY: &[u8] = b"Attempt to modify a readonly table";

/// The check of the functions that write to a table with no metamethod
/// (`rawset`, `setmetatable`, `table.insert`): a protected table refuses,
/// with no position in the message, as in Redis.
unsafe fn refuse_protected(l: L, idx: c_int) {
    if unsafe { is_protected(l, idx) } {
        unsafe { lua::raise(l, READONLY.to_vec()) }
    }
}

/// `__newindex` of every proxy: the write fails where the script made it.
unsafe extern "C-unwind" fn readonly_write(l: L) -> c_int {
    unsafe { lua::raise_here(l, READONLY.to_vec()) }
}

/// `__index` of the globals: reading an undefined global is an error.
unsafe extern "C-unwind" fn missing_global(l: L) -> c_int {
    unsafe {
        if ffi::lua_gettop(l) != 2 {
            lua::raise_here(
                l,
                b"Wrong number of arguments to luaProtectedTableError".to_vec(),
            );
        }
        if ffi::lua_isstring(l, -1) == 0 {
            lua::raise_here(
                l,
                b"Second argument to luaProtectedTableError must be a string or number".to_vec(),
            );
        }
        let name = lua::to_c_bytes(l, -1).unwrap_or_default();
        let mut message = b"Script attempted to access nonexistent global variable '".to_vec();
        message.extend_from_slice(name);
        message.push(b'\'');
        lua::raise_here(l, message)
    }
}

/// Replaces the built-ins that bypass metatables with versions that see
/// through proxies (reads) or refuse them (writes).
unsafe fn replace_builtins(l: L) {
    unsafe {
        let g = ffi::LUA_GLOBALSINDEX;
        for (name, f) in [
            (c"rawset", rawset as CFunction),
            (c"rawget", rawget),
            (c"next", next),
            (c"getmetatable", getmetatable),
            (c"setmetatable", setmetatable),
        ] {
            ffi::lua_pushcfunction(l, f);
            ffi::lua_setfield(l, g, name.as_ptr());
        }
        // `pairs` returns our `next`, kept as its upvalue.
        ffi::lua_pushcfunction(l, next);
        ffi::lua_pushcclosure(l, pairs, 1);
        ffi::lua_setfield(l, g, c"pairs".as_ptr());
        // `table.insert` keeps Lua's as an upvalue for unprotected tables.
        ffi::lua_getfield(l, g, c"table".as_ptr());
        ffi::lua_getfield(l, -1, c"insert".as_ptr());
        ffi::lua_pushcclosure(l, table_insert, 1);
        ffi::lua_setfield(l, -2, c"insert".as_ptr());
        ffi::lua_pop(l, 1);
    }
}

/// The arguments of `rawget` (2) and `rawset` (3), checked as Lua checks
/// them (a table, then values), and no more of them.
unsafe fn raw_access_args(l: L, count: c_int) {
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        for idx in 2..=count {
            ffi::luaL_checkany(l, idx);
        }
        ffi::lua_settop(l, count);
    }
}

unsafe extern "C-unwind" fn rawset(l: L) -> c_int {
    unsafe {
        raw_access_args(l, 3);
        refuse_protected(l, 1);
        ffi::lua_rawset(l, 1);
    }
    1
}

unsafe extern "C-unwind" fn rawget(l: L) -> c_int {
    unsafe {
        raw_access_args(l, 2);
        unproxy(l, 1);
        ffi::lua_rawget(l, 1);
    }
    1
}

unsafe extern "C-unwind" fn next(l: L) -> c_int {
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        unproxy(l, 1);
        ffi::lua_settop(l, 2);
        if ffi::lua_next(l, 1) != 0 {
            2
        } else {
            ffi::lua_pushnil(l);
            1
        }
    }
}

unsafe extern "C-unwind" fn pairs(l: L) -> c_int {
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_pushvalue(l, 1);
        ffi::lua_pushnil(l);
    }
    3
}

unsafe extern "C-unwind" fn getmetatable(l: L) -> c_int {
    unsafe {
        ffi::luaL_checkany(l, 1);
        unproxy(l, 1);
        if ffi::lua_getmetatable(l, 1) == 0 {
            ffi::lua_pushnil(l);
            return 1;
        }
        ffi::luaL_getmetafield(l, 1, c"__metatable".as_ptr());
        // A protected metatable is shown through its proxy.
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, METATABLE_PROXIES.as_ptr());
        ffi::lua_pushvalue(l, -2);
        ffi::lua_rawget(l, -2);
        if ffi::lua_isnil(l, -1) == 0 {
            return 1;
        }
        ffi::lua_pop(l, 2);
    }
    1
}

unsafe extern "C-unwind" fn setmetatable(l: L) -> c_int {
    unsafe {
        let t = ffi::lua_type(l, 2);
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        ffi::luaL_argcheck(
            l,
            c_int::from(t == ffi::LUA_TNIL || t == ffi::LUA_TTABLE),
            2,
            c"nil or table expected".as_ptr(),
        );
        if ffi::luaL_getmetafield(l, 1, c"__metatable".as_ptr()) != 0 {
            lua::raise_here(l, b"cannot change a protected metatable".to_vec());
        }
        refuse_protected(l, 1);
        ffi::lua_settop(l, 2);
        ffi::lua_setmetatable(l, 1);
    }
    1
}

unsafe extern "C-unwind" fn table_insert(l: L) -> c_int {
    unsafe {
        ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
        let argc = ffi::lua_gettop(l);
        if argc != 2 && argc != 3 {
            lua::raise_here(l, b"wrong number of arguments to 'insert'".to_vec());
        }
        if argc == 3 {
            ffi::luaL_checkinteger(l, 2);
        }
        refuse_protected(l, 1);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, argc, 0);
    }
    0
}
