//! `cjson.encode`: a Lua value as JSON text, as CJSON writes it.

use std::ffi::c_int;

use super::{Config, config};
use crate::scripting::lua::{self, L, LuaError, ffi};

pub(super) unsafe extern "C-unwind" fn encode(l: L) -> c_int {
    let result = unsafe { encode_value(l) };
    unsafe { lua::finish_bytes(l, result) }
}

unsafe fn encode_value(l: L) -> Result<Vec<u8>, LuaError> {
    let cfg = *unsafe { config(l) };
    if unsafe { ffi::lua_gettop(l) } != 1 {
        return Err(LuaError::Arg(1, b"expected 1 argument".to_vec()));
    }
    let mut encoder = Encoder {
        cfg,
        json: Vec::new(),
    };
    unsafe { encoder.value(l, 0) }?;
    Ok(encoder.json)
}

/// `Cannot serialise <type>: <reason>` for the value at `idx`.
unsafe fn cannot_serialise(l: L, idx: c_int, reason: &str) -> LuaError {
    let type_name = unsafe { lua::type_name(l, idx) };
    LuaError::Here(format!("Cannot serialise {type_name}: {reason}").into_bytes())
}

/// Appends a Lua string as a JSON string.
fn append_string(json: &mut Vec<u8>, s: &[u8]) {
    json.reserve(s.len() + 2);
    json.push(b'"');
    for &c in s {
        match c {
            b'"' => json.extend_from_slice(b"\\\""),
            b'\\' => json.extend_from_slice(b"\\\\"),
            b'/' => json.extend_from_slice(b"\\/"),
            0x08 => json.extend_from_slice(b"\\b"),
            b'\t' => json.extend_from_slice(b"\\t"),
            b'\n' => json.extend_from_slice(b"\\n"),
            0x0c => json.extend_from_slice(b"\\f"),
            b'\r' => json.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => json.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => json.push(c),
        }
    }
    json.push(b'"');
}

unsafe fn append_number(
    l: L,
    cfg: &Config,
    json: &mut Vec<u8>,
    idx: c_int,
) -> Result<(), LuaError> {
    let n = unsafe { ffi::lua_tonumber(l, idx) };
    match cfg.encode_invalid_numbers {
        0 if !n.is_finite() => {
            return Err(unsafe { cannot_serialise(l, idx, "must not be NaN or Inf") });
        }
        1 if n.is_nan() => {
            json.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if !n.is_finite() => {
            json.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    json.extend_from_slice(
        crate::num::format_g(n, cfg.encode_number_precision as usize).as_bytes(),
    );
    Ok(())
}

/// The length of the table on top if it is an array (positive integer
/// keys only), `None` for an object; an excessively sparse array is an
/// error unless configured to become an object.
unsafe fn array_length(l: L, cfg: &Config) -> Result<Option<c_int>, LuaError> {
    let mut max: c_int = 0;
    let mut items: c_int = 0;
    unsafe {
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            let k = ffi::lua_tonumber(l, -2);
            if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER && k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > f64::from(max) {
                    // C's double → int conversion (x86: out of range is INT_MIN).
                    max = if k < 2_147_483_648.0 {
                        k as c_int
                    } else {
                        c_int::MIN
                    };
                }
                items = items.wrapping_add(1);
                ffi::lua_pop(l, 1);
                continue;
            }
            ffi::lua_pop(l, 2);
            return Ok(None);
        }
    }
    if cfg.encode_sparse_ratio > 0
        && i64::from(max) > i64::from(items.wrapping_mul(cfg.encode_sparse_ratio))
        && max > cfg.encode_sparse_safe
    {
        if cfg.encode_sparse_convert == 0 {
            return Err(unsafe { cannot_serialise(l, -1, "excessively sparse array") });
        }
        return Ok(None);
    }
    Ok(Some(max))
}

/// An encoding in progress: the configuration it follows and the text so
/// far, carried down the nested tables.
struct Encoder {
    cfg: Config,
    json: Vec<u8>,
}

impl Encoder {
    /// Appends the value on the top of the stack, `depth` tables down.
    unsafe fn value(&mut self, l: L, depth: c_int) -> Result<(), LuaError> {
        unsafe {
            match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => {
                    append_string(&mut self.json, lua::to_bytes(l, -1).unwrap_or_default())
                }
                ffi::LUA_TNUMBER => append_number(l, &self.cfg, &mut self.json, -1)?,
                ffi::LUA_TBOOLEAN => {
                    self.json
                        .extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
                            b"true"
                        } else {
                            b"false"
                        })
                }
                ffi::LUA_TTABLE => {
                    let depth = depth + 1;
                    if depth > self.cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                        return Err(LuaError::Here(
                            format!("Cannot serialise, excessive nesting ({depth})").into_bytes(),
                        ));
                    }
                    match array_length(l, &self.cfg)? {
                        Some(len) if len > 0 => {
                            self.json.push(b'[');
                            for i in 1..=len {
                                if i > 1 {
                                    self.json.push(b',');
                                }
                                ffi::lua_rawgeti(l, -1, ffi::lua_Integer::from(i));
                                self.value(l, depth)?;
                                ffi::lua_pop(l, 1);
                            }
                            self.json.push(b']');
                        }
                        _ => self.object(l, depth)?,
                    }
                }
                ffi::LUA_TNIL => self.json.extend_from_slice(b"null"),
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                    self.json.extend_from_slice(b"null")
                }
                _ => return Err(cannot_serialise(l, -1, "type not supported")),
            }
        }
        Ok(())
    }

    /// Appends the table on the top of the stack as a JSON object.
    unsafe fn object(&mut self, l: L, depth: c_int) -> Result<(), LuaError> {
        self.json.push(b'{');
        let mut comma = false;
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                if comma {
                    self.json.push(b',');
                }
                comma = true;
                match ffi::lua_type(l, -2) {
                    ffi::LUA_TNUMBER => {
                        self.json.push(b'"');
                        append_number(l, &self.cfg, &mut self.json, -2)?;
                        self.json.extend_from_slice(b"\":");
                    }
                    ffi::LUA_TSTRING => {
                        append_string(&mut self.json, lua::to_bytes(l, -2).unwrap_or_default());
                        self.json.push(b':');
                    }
                    _ => {
                        return Err(cannot_serialise(
                            l,
                            -2,
                            "table key must be a number or string",
                        ));
                    }
                }
                self.value(l, depth)?;
                ffi::lua_pop(l, 1);
            }
        }
        self.json.push(b'}');
        Ok(())
    }
}
