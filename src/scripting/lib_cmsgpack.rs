//! `cmsgpack`: placeholder.

use std::ffi::c_int;

use super::lua::{L, ffi};

/// Registers the global `cmsgpack` table.
pub(super) unsafe extern "C-unwind" fn open(l: L) -> c_int {
    unsafe {
        ffi::lua_newtable(l);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
    }
    1
}
