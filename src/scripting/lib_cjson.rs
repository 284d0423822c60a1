//! `cjson`: Lua CJSON 2.1.0 as Redis bundles it: `cjson.encode`,
//! `cjson.decode`, `cjson.null`, the configuration functions
//! (`encode_sparse_array`, `encode_max_depth`, `decode_max_depth`,
//! `encode_number_precision`, `encode_keep_buffer`,
//! `encode_invalid_numbers`, `decode_invalid_numbers`) and `cjson.new`.
//!
//! The outputs are CJSON's: numbers as `%.14g`, `/` escaped as `\/`, an
//! empty table as `{}`, an array with holes as `null`s unless it is
//! excessively sparse (an error by default), keys in Lua's table order,
//! and the same error texts. The configuration lives in a userdata shared
//! by the module's functions (their upvalue), as in CJSON, so a script
//! that changes it changes it for later scripts too.

use std::ffi::{CStr, c_int};

use super::lua::{self, CFunction, L, LuaError, ffi};

/// CJSON's settings (the defaults are Redis's build of it).
#[derive(Clone, Copy)]
#[repr(C)]
struct Config {
    encode_sparse_convert: c_int,
    encode_sparse_ratio: c_int,
    encode_sparse_safe: c_int,
    encode_max_depth: c_int,
    decode_max_depth: c_int,
    /// 0 refuse, 1 allow, 2 encode as `null`.
    encode_invalid_numbers: c_int,
    decode_invalid_numbers: c_int,
    encode_number_precision: c_int,
    encode_keep_buffer: c_int,
}

const DEFAULT: Config = Config {
    encode_sparse_convert: 0,
    encode_sparse_ratio: 2,
    encode_sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: 1,
    encode_number_precision: 14,
    encode_keep_buffer: 1,
};

/// Registers the global `cjson` table.
pub(super) unsafe extern "C-unwind" fn open(l: L) -> c_int {
    unsafe {
        new_module(l);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cjson".as_ptr());
    }
    1
}

/// `cjson.new()`: a module table with its own configuration.
unsafe extern "C-unwind" fn new(l: L) -> c_int {
    unsafe { new_module(l) };
    1
}

unsafe fn new_module(l: L) {
    let functions: [(&CStr, CFunction); 10] = [
        (c"encode", encode),
        (c"decode", decode),
        (c"encode_sparse_array", cfg_encode_sparse_array),
        (c"encode_max_depth", cfg_encode_max_depth),
        (c"decode_max_depth", cfg_decode_max_depth),
        (c"encode_number_precision", cfg_encode_number_precision),
        (c"encode_keep_buffer", cfg_encode_keep_buffer),
        (c"encode_invalid_numbers", cfg_encode_invalid_numbers),
        (c"decode_invalid_numbers", cfg_decode_invalid_numbers),
        (c"new", new),
    ];
    unsafe {
        ffi::lua_newtable(l);
        let config = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()).cast::<Config>();
        config.write(DEFAULT);
        for (name, f) in functions {
            ffi::lua_pushvalue(l, -1);
            ffi::lua_pushcclosure(l, f, 1);
            ffi::lua_setfield(l, -3, name.as_ptr());
        }
        ffi::lua_pop(l, 1);
        ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
        ffi::lua_setfield(l, -2, c"null".as_ptr());
        lua::push_bytes(l, b"cjson");
        ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
        lua::push_bytes(l, b"2.1.0");
        ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    }
}

/// The configuration of the running function (its upvalue).
unsafe fn config<'a>(l: L) -> &'a mut Config {
    unsafe { &mut *ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast::<Config>() }
}

// --- configuration -------------------------------------------------------

/// Checks there are at most `args` arguments and pads with nils.
unsafe fn arg_init(l: L, args: c_int) -> Result<(), LuaError> {
    unsafe {
        if ffi::lua_gettop(l) > args {
            return Err(LuaError::Arg(
                args + 1,
                b"found too many arguments".to_vec(),
            ));
        }
        while ffi::lua_gettop(l) < args {
            ffi::lua_pushnil(l);
        }
    }
    Ok(())
}

/// An integer setting: read from argument `idx` unless nil, then pushed.
unsafe fn integer_option(
    l: L,
    idx: c_int,
    setting: &mut c_int,
    min: c_int,
    max: c_int,
) -> Result<(), LuaError> {
    unsafe {
        if ffi::lua_isnil(l, idx) == 0 {
            let value = lua::check_integer(l, idx)? as c_int;
            if !(min <= value && value <= max) {
                return Err(LuaError::Arg(
                    1,
                    format!("expected integer between {min} and {max}").into_bytes(),
                ));
            }
            *setting = value;
        }
        ffi::lua_pushinteger(l, ffi::lua_Integer::from(*setting));
    }
    Ok(())
}

/// An enumerated setting (`off`/`on`, or `options`), booleans allowed.
unsafe fn enum_option(
    l: L,
    idx: c_int,
    setting: &mut c_int,
    options: &[&str],
) -> Result<(), LuaError> {
    unsafe {
        if ffi::lua_isnil(l, idx) == 0 {
            if ffi::lua_isboolean(l, idx) != 0 {
                *setting = ffi::lua_toboolean(l, idx);
            } else {
                let name = lua::check_bytes(l, idx)?;
                match options.iter().position(|o| o.as_bytes() == name) {
                    Some(at) => *setting = at as c_int,
                    None => {
                        let mut message = b"invalid option '".to_vec();
                        message.extend_from_slice(name);
                        message.push(b'\'');
                        return Err(LuaError::Arg(idx, message));
                    }
                }
            }
        }
        if *setting == 0 || *setting == 1 {
            ffi::lua_pushboolean(l, *setting);
        } else {
            lua::push_bytes(l, options[*setting as usize].as_bytes());
        }
    }
    Ok(())
}

const ON_OFF: &[&str] = &["off", "on"];

/// Runs a configuration function body and raises its error, if any.
unsafe fn configure(l: L, body: unsafe fn(L, &mut Config) -> Result<c_int, LuaError>) -> c_int {
    let result = unsafe { body(l, config(l)) };
    match result {
        Ok(n) => n,
        Err(error) => unsafe { lua::raise_error(l, error) },
    }
}

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: L) -> c_int {
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 3)?;
            enum_option(l, 1, &mut cfg.encode_sparse_convert, ON_OFF)?;
            integer_option(l, 2, &mut cfg.encode_sparse_ratio, 0, c_int::MAX)?;
            integer_option(l, 3, &mut cfg.encode_sparse_safe, 0, c_int::MAX)?;
        }
        Ok(3)
    }
    unsafe { configure(l, body) }
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: L) -> c_int {
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 1)?;
            integer_option(l, 1, &mut cfg.encode_max_depth, 1, c_int::MAX)?;
        }
        Ok(1)
    }
    unsafe { configure(l, body) }
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: L) -> c_int {
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 1)?;
            integer_option(l, 1, &mut cfg.decode_max_depth, 1, c_int::MAX)?;
        }
        Ok(1)
    }
    unsafe { configure(l, body) }
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: L) -> c_int {
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 1)?;
            integer_option(l, 1, &mut cfg.encode_number_precision, 1, 14)?;
        }
        Ok(1)
    }
    unsafe { configure(l, body) }
}

unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: L) -> c_int {
    // The buffer is an allocation detail; the setting is only reported.
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 1)?;
            enum_option(l, 1, &mut cfg.encode_keep_buffer, ON_OFF)?;
        }
        Ok(1)
    }
    unsafe { configure(l, body) }
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: L) -> c_int {
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 1)?;
            enum_option(
                l,
                1,
                &mut cfg.encode_invalid_numbers,
                &["off", "on", "null"],
            )?;
        }
        Ok(1)
    }
    unsafe { configure(l, body) }
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: L) -> c_int {
    unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
        unsafe {
            arg_init(l, 1)?;
            enum_option(l, 1, &mut cfg.decode_invalid_numbers, ON_OFF)?;
        }
        Ok(1)
    }
    unsafe { configure(l, body) }
}

// --- encoding ------------------------------------------------------------

unsafe extern "C-unwind" fn encode(l: L) -> c_int {
    let result = unsafe { encode_value(l) };
    unsafe {
        match result {
            Ok(json) => lua::push_bytes(l, &json),
            Err(error) => lua::raise_error(l, error),
        }
    }
    1
}

unsafe fn encode_value(l: L) -> Result<Vec<u8>, LuaError> {
    let cfg = *unsafe { config(l) };
    if unsafe { ffi::lua_gettop(l) } != 1 {
        return Err(LuaError::Arg(1, b"expected 1 argument".to_vec()));
    }
    let mut json = Vec::new();
    unsafe { append_data(l, &cfg, 0, &mut json) }?;
    Ok(json)
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

unsafe fn append_data(
    l: L,
    cfg: &Config,
    depth: c_int,
    json: &mut Vec<u8>,
) -> Result<(), LuaError> {
    unsafe {
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => append_string(json, lua::to_bytes(l, -1).unwrap_or_default()),
            ffi::LUA_TNUMBER => append_number(l, cfg, json, -1)?,
            ffi::LUA_TBOOLEAN => json.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
                b"true"
            } else {
                b"false"
            }),
            ffi::LUA_TTABLE => {
                let depth = depth + 1;
                if depth > cfg.encode_max_depth || ffi::lua_checkstack(l, 3) == 0 {
                    return Err(LuaError::Here(
                        format!("Cannot serialise, excessive nesting ({depth})").into_bytes(),
                    ));
                }
                match array_length(l, cfg)? {
                    Some(len) if len > 0 => {
                        json.push(b'[');
                        for i in 1..=len {
                            if i > 1 {
                                json.push(b',');
                            }
                            ffi::lua_rawgeti(l, -1, ffi::lua_Integer::from(i));
                            append_data(l, cfg, depth, json)?;
                            ffi::lua_pop(l, 1);
                        }
                        json.push(b']');
                    }
                    _ => append_object(l, cfg, depth, json)?,
                }
            }
            ffi::LUA_TNIL => json.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                json.extend_from_slice(b"null")
            }
            _ => return Err(cannot_serialise(l, -1, "type not supported")),
        }
    }
    Ok(())
}

unsafe fn append_object(
    l: L,
    cfg: &Config,
    depth: c_int,
    json: &mut Vec<u8>,
) -> Result<(), LuaError> {
    json.push(b'{');
    let mut comma = false;
    unsafe {
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            if comma {
                json.push(b',');
            }
            comma = true;
            match ffi::lua_type(l, -2) {
                ffi::LUA_TNUMBER => {
                    json.push(b'"');
                    append_number(l, cfg, json, -2)?;
                    json.extend_from_slice(b"\":");
                }
                ffi::LUA_TSTRING => {
                    append_string(json, lua::to_bytes(l, -2).unwrap_or_default());
                    json.push(b':');
                }
                _ => {
                    return Err(cannot_serialise(
                        l,
                        -2,
                        "table key must be a number or string",
                    ));
                }
            }
            append_data(l, cfg, depth, json)?;
            ffi::lua_pop(l, 1);
        }
    }
    json.push(b'}');
    Ok(())
}

// --- decoding ------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::String => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Kind,
    /// Where the token starts (where the error is, for an error).
    index: usize,
    number: f64,
    boolean: bool,
    /// For an error: what went wrong.
    error: &'static str,
}

struct Parser<'a> {
    /// The text up to its first NUL (C stops there).
    data: &'a [u8],
    at: usize,
    depth: c_int,
    cfg: Config,
    /// The value of the last string token.
    string: Vec<u8>,
}

impl Parser<'_> {
    fn byte(&self, at: usize) -> u8 {
        self.data.get(at).copied().unwrap_or(0)
    }

    fn token(&self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            number: 0.0,
            boolean: false,
            error: "",
        }
    }

    fn error(&self, what: &'static str) -> Token {
        Token {
            error: what,
            ..self.token(Kind::Error, self.at)
        }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.byte(self.at), b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
        let index = self.at;
        let ch = self.byte(self.at);
        let single = match ch {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            0 => return self.token(Kind::End, index),
            _ => None,
        };
        if let Some(kind) = single {
            self.at += 1;
            return self.token(kind, index);
        }
        if !matches!(
            ch,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9'
        ) {
            return self.error("invalid token");
        }
        let rest = &self.data[self.at..];
        if ch == b'"' {
            return self.string_token(index);
        }
        if ch == b'-' || ch.is_ascii_digit() {
            if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                return self.error("invalid number");
            }
            return self.number_token(index);
        }
        if rest.starts_with(b"true") || rest.starts_with(b"false") {
            let value = rest.starts_with(b"true");
            self.at += if value { 4 } else { 5 };
            return Token {
                boolean: value,
                ..self.token(Kind::Boolean, index)
            };
        }
        if rest.starts_with(b"null") {
            self.at += 4;
            return self.token(Kind::Null, index);
        }
        if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
            return self.number_token(index);
        }
        self.error("invalid token")
    }

    /// Numbers strict JSON refuses but `strtod` reads: `+1`, `0x10`,
    /// `012`, `inf`, `nan`.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.at;
        if self.byte(p) == b'+' {
            return true;
        }
        if self.byte(p) == b'-' {
            p += 1;
        }
        let c = self.byte(p);
        if c == b'0' {
            let c2 = self.byte(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let word =
            |w: &[u8]| self.data.len() >= p + 3 && self.data[p..p + 3].eq_ignore_ascii_case(w);
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self, index: usize) -> Token {
        match strtod(&self.data[self.at..]) {
            None => self.error("invalid number"),
            Some((value, used)) => {
                self.at += used;
                Token {
                    number: value,
                    ..self.token(Kind::Number, index)
                }
            }
        }
    }

    fn string_token(&mut self, index: usize) -> Token {
        self.at += 1;
        self.string.clear();
        loop {
            let ch = self.byte(self.at);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error("unexpected end of string");
            }
            if ch == b'\\' {
                let translated = match self.byte(self.at + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                self.string.push(translated);
                self.at += 2;
                continue;
            }
            self.string.push(ch);
            self.at += 1;
        }
        self.at += 1;
        self.token(Kind::String, index)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            let d = (self.byte(at + i) as char).to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(v)
    }

    /// `\uXXXX` (or a surrogate pair of them) as UTF-8.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut codepoint) = self.hex4(self.at + 2) else {
            return false;
        };
        let mut len = 6;
        if codepoint & 0xF800 == 0xD800 {
            if codepoint & 0x400 != 0 {
                return false;
            }
            if self.byte(self.at + 6) != b'\\' || self.byte(self.at + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.at + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        let utf8: &[u8] = match codepoint {
            0..=0x7F => {
                buf[0] = codepoint as u8;
                &buf[..1]
            }
            0x80..=0x7FF => {
                buf[0] = (codepoint >> 6) as u8 | 0xC0;
                buf[1] = (codepoint & 0x3F) as u8 | 0x80;
                &buf[..2]
            }
            0x800..=0xFFFF => {
                buf[0] = (codepoint >> 12) as u8 | 0xE0;
                buf[1] = ((codepoint >> 6) & 0x3F) as u8 | 0x80;
                buf[2] = (codepoint & 0x3F) as u8 | 0x80;
                &buf[..3]
            }
            _ => {
                buf[0] = (codepoint >> 18) as u8 | 0xF0;
                buf[1] = ((codepoint >> 12) & 0x3F) as u8 | 0x80;
                buf[2] = ((codepoint >> 6) & 0x3F) as u8 | 0x80;
                buf[3] = (codepoint & 0x3F) as u8 | 0x80;
                &buf[..4]
            }
        };
        self.string.extend_from_slice(utf8);
        self.at += len;
        true
    }

    fn parse_error(&self, expected: &str, token: &Token) -> LuaError {
        let found = if token.kind == Kind::Error {
            token.error
        } else {
            token.kind.name()
        };
        LuaError::Here(
            format!(
                "Expected {expected} but found {found} at character {}",
                token.index + 1
            )
            .into_bytes(),
        )
    }

    unsafe fn descend(&mut self, l: L, slots: c_int) -> Result<(), LuaError> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && unsafe { ffi::lua_checkstack(l, slots) } != 0
        {
            return Ok(());
        }
        Err(LuaError::Here(
            format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.at
            )
            .into_bytes(),
        ))
    }

    unsafe fn object(&mut self, l: L) -> Result<(), LuaError> {
        unsafe {
            self.descend(l, 3)?;
            ffi::lua_newtable(l);
            let mut token = self.next_token();
            if token.kind == Kind::ObjEnd {
                self.depth -= 1;
                return Ok(());
            }
            loop {
                if token.kind != Kind::String {
                    return Err(self.parse_error("object key string", &token));
                }
                lua::push_bytes(l, &self.string);
                token = self.next_token();
                if token.kind != Kind::Colon {
                    return Err(self.parse_error("colon", &token));
                }
                token = self.next_token();
                self.value(l, &token)?;
                ffi::lua_rawset(l, -3);
                token = self.next_token();
                if token.kind == Kind::ObjEnd {
                    self.depth -= 1;
                    return Ok(());
                }
                if token.kind != Kind::Comma {
                    return Err(self.parse_error("comma or object end", &token));
                }
                token = self.next_token();
            }
        }
    }

    unsafe fn array(&mut self, l: L) -> Result<(), LuaError> {
        unsafe {
            self.descend(l, 2)?;
            ffi::lua_newtable(l);
            let mut token = self.next_token();
            if token.kind == Kind::ArrEnd {
                self.depth -= 1;
                return Ok(());
            }
            let mut i: ffi::lua_Integer = 1;
            loop {
                self.value(l, &token)?;
                ffi::lua_rawseti(l, -2, i);
                i += 1;
                token = self.next_token();
                if token.kind == Kind::ArrEnd {
                    self.depth -= 1;
                    return Ok(());
                }
                if token.kind != Kind::Comma {
                    return Err(self.parse_error("comma or array end", &token));
                }
                token = self.next_token();
            }
        }
    }

    unsafe fn value(&mut self, l: L, token: &Token) -> Result<(), LuaError> {
        unsafe {
            match token.kind {
                Kind::String => lua::push_bytes(l, &self.string),
                Kind::Number => ffi::lua_pushnumber(l, token.number),
                Kind::Boolean => ffi::lua_pushboolean(l, c_int::from(token.boolean)),
                Kind::ObjBegin => self.object(l)?,
                Kind::ArrBegin => self.array(l)?,
                // `nil` would delete a table entry: `cjson.null` instead.
                Kind::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
                _ => return Err(self.parse_error("value", token)),
            }
        }
        Ok(())
    }
}

/// C's `strtod` on the start of `text`: the value and how many bytes it
/// used, or `None` when no number starts there.
pub fn strtod(text: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while matches!(at(i), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let start = i;
    let negative = at(i) == b'-';
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = &text[i.min(text.len())..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return Some((sign * f64::INFINITY, i + 8));
    }
    if starts(b"inf") {
        return Some((sign * f64::INFINITY, i + 3));
    }
    if starts(b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((f64::NAN, end));
    }
    if at(i) == b'0' && at(i + 1) | 0x20 == b'x' {
        if let Some((value, used)) = hex_prefix(&text[i + 2..]) {
            return Some((sign * value, i + 2 + used));
        }
        // "0x" with no hex digits: the "0" alone.
        return Some((0.0 * sign, i + 1));
    }
    let digits_from = |mut j: usize| {
        while at(j).is_ascii_digit() {
            j += 1;
        }
        j
    };
    let int_end = digits_from(i);
    let mut end = int_end;
    let mut any = int_end > i;
    if at(end) == b'.' {
        let frac_end = digits_from(end + 1);
        any |= frac_end > end + 1;
        end = frac_end;
    }
    if !any {
        return None;
    }
    if at(end) | 0x20 == b'e' {
        let mut j = end + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        let exp_end = digits_from(j);
        if exp_end > j {
            end = exp_end;
        }
    }
    let literal = std::str::from_utf8(&text[start..end]).ok()?;
    let literal = literal.strip_prefix('+').unwrap_or(literal);
    Some((literal.parse().ok()?, end))
}

/// Hex digits (with an optional fraction and binary exponent) after `0x`.
fn hex_prefix(text: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut mantissa = 0f64;
    let mut exp: i32 = 0;
    let mut i = 0;
    let mut any = false;
    while let Some(d) = (at(i) as char).to_digit(16) {
        mantissa = mantissa * 16.0 + f64::from(d);
        any = true;
        i += 1;
    }
    if at(i) == b'.' {
        let mut j = i + 1;
        while let Some(d) = (at(j) as char).to_digit(16) {
            mantissa = mantissa * 16.0 + f64::from(d);
            exp -= 4;
            any = true;
            j += 1;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if at(i) | 0x20 == b'p' {
        let mut j = i + 1;
        let negative = at(j) == b'-';
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        let mut e: i32 = 0;
        let digits = j;
        while at(j).is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add(i32::from(at(j) - b'0'));
            j += 1;
        }
        if j > digits {
            exp = exp.saturating_add(if negative { -e } else { e });
            i = j;
        }
    }
    Some((mantissa * 2f64.powi(exp), i))
}

unsafe extern "C-unwind" fn decode(l: L) -> c_int {
    let result = unsafe { decode_value(l) };
    if let Err(error) = result {
        unsafe { lua::raise_error(l, error) }
    }
    1
}

unsafe fn decode_value(l: L) -> Result<(), LuaError> {
    unsafe {
        if ffi::lua_gettop(l) != 1 {
            return Err(LuaError::Arg(1, b"expected 1 argument".to_vec()));
        }
        let cfg = *config(l);
        let data = lua::check_bytes(l, 1)?;
        if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
            return Err(LuaError::Here(
                b"JSON parser does not support UTF-16 or UTF-32".to_vec(),
            ));
        }
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        let mut parser = Parser {
            data: &data[..end],
            at: 0,
            depth: 0,
            cfg,
            string: Vec::new(),
        };
        let token = parser.next_token();
        parser.value(l, &token)?;
        let token = parser.next_token();
        if token.kind != Kind::End {
            return Err(parser.parse_error("the end", &token));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::resp::Protocol;
    use crate::scripting::Engine;
    use crate::scripting::tests::eval_with;

    #[test]
    fn strtod_prefixes() {
        use super::strtod;
        assert_eq!(strtod(b"1.5abc"), Some((1.5, 3)));
        assert_eq!(strtod(b"0x10"), Some((16.0, 4)));
        assert_eq!(strtod(b"-0x"), Some((-0.0, 2)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b"-Infinity"), Some((f64::NEG_INFINITY, 9)));
    }

    /// Run in order on one engine, as on the server they were recorded
    /// from: the configuration functions change what later scripts see.
    #[test]
    fn encode_decode_and_config_match_redis() {
        // Recorded from Redis 7.0.15.
        let cases: &[(&str, &[u8])] = &[
            ("return cjson.encode({1,2,{a=1.5}})", b"$15\r\n[1,2,{\"a\":1.5}]\r\n"),
            ("return cjson.encode({})", b"$2\r\n{}\r\n"),
            ("return cjson.encode({[1]=1,[2]=2,[4]=4})", b"$12\r\n[1,2,null,4]\r\n"),
            ("return cjson.encode({[1]=1,[20]=2})", b"-ERR user_script:1: Cannot serialise table: excessively sparse array script: 17303987ac6a57263cac31c74212431dce49e99c, on @user_script:1.\r\n"),
            ("return cjson.encode({[1]=1,[3]=3, [5]=5, [11]=11, [12]=12, [13]=13})", b"-ERR user_script:1: Cannot serialise table: excessively sparse array script: bd96f5397a3b1e2f1873c1f48d6db86eac91999d, on @user_script:1.\r\n"),
            ("return cjson.encode({[0]=1})", b"$7\r\n{\"0\":1}\r\n"),
            ("return cjson.encode({[1.5]=1})", b"$9\r\n{\"1.5\":1}\r\n"),
            ("return cjson.encode({[-1]=1})", b"$8\r\n{\"-1\":1}\r\n"),
            ("return cjson.encode('a/b\"c\\\\d\\n\\r\\t\\b\\f\\1\\127\\200')", b"$35\r\n\"a\\/b\\\"c\\\\d\\n\\r\\t\\b\\f\\u0001\\u007f\xc8\"\r\n"),
            ("return cjson.encode(1/3)", b"$16\r\n0.33333333333333\r\n"),
            ("return cjson.encode(1e15)", b"$5\r\n1e+15\r\n"),
            ("return cjson.encode(123456789012345678)", b"$19\r\n1.2345678901235e+17\r\n"),
            ("return cjson.encode(-0.0)", b"$2\r\n-0\r\n"),
            ("return cjson.encode(0.1)", b"$3\r\n0.1\r\n"),
            ("return cjson.encode(1/0)", b"-ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: 08ffdaa5e7f117332da21c3b5222c2ede9492c60, on @user_script:1.\r\n"),
            ("return cjson.encode(0/0)", b"-ERR user_script:1: Cannot serialise number: must not be NaN or Inf script: d3f8d4e745d6587b04e9dd216e0d4631f0a306d9, on @user_script:1.\r\n"),
            ("return cjson.encode(cjson.null)", b"$4\r\nnull\r\n"),
            ("return cjson.encode({a=cjson.null})", b"$10\r\n{\"a\":null}\r\n"),
            ("return cjson.encode(true)", b"$4\r\ntrue\r\n"),
            ("return cjson.encode(function() end)", b"-ERR user_script:1: Cannot serialise function: type not supported script: c6600573aa08cdf0af5da6e0ef682db69a3acc00, on @user_script:1.\r\n"),
            ("return cjson.encode({[true]=1})", b"-ERR user_script:1: Cannot serialise boolean: table key must be a number or string script: 376a640005c8509c694166527ca834359bf69aa8, on @user_script:1.\r\n"),
            ("return cjson.encode()", b"-ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument) script: fc593ea31f478c7ed65c77495cc63edeb9153530, on @user_script:1.\r\n"),
            ("return cjson.encode(1, 2)", b"-ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument) script: e3a38cd8c1bb7de419304607b05108c80af53cbc, on @user_script:1.\r\n"),
            ("local t = {} t[1] = t return cjson.encode(t)", b"-ERR user_script:1: Cannot serialise, excessive nesting (1001) script: 576653f0096d47f87063058b9abe9085cdcd4f41, on @user_script:1.\r\n"),
            ("return cjson.encode({['a b']={1,{x={}}}})", b"$20\r\n{\"a b\":[1,{\"x\":{}}]}\r\n"),
            ("return cjson.encode({nil, 2})", b"$8\r\n[null,2]\r\n"),
            ("return cjson.encode({1, nil, 3})", b"$10\r\n[1,null,3]\r\n"),
            ("return cjson.encode({[2]=1})", b"$8\r\n[null,1]\r\n"),
            ("return cjson.encode({[5]=1, x=2})", b"$13\r\n{\"5\":1,\"x\":2}\r\n"),
            ("return cjson.decode('[1,2,3]')", b"*3\r\n:1\r\n:2\r\n:3\r\n"),
            ("return cjson.decode('{\"a\":1}').a", b":1\r\n"),
            ("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\\\\/\\\\n\"')", b"$8\r\n\xc3\xa9\xf0\x9f\x98\x80/\n\r\n"),
            ("return cjson.decode('  [true, false, null] ')[1]", b":1\r\n"),
            ("return type(cjson.decode('null'))", b"$8\r\nuserdata\r\n"),
            ("return cjson.decode('[1,2')", b"-ERR user_script:1: Expected comma or array end but found T_END at character 5 script: c107001b5ba2ff860ee2557f64da37c4767ef4bd, on @user_script:1.\r\n"),
            ("return cjson.decode('{\"a\" 1}')", b"-ERR user_script:1: Expected colon but found T_NUMBER at character 6 script: 3486ee24bfdfc100c738c73355e99954ef01d92f, on @user_script:1.\r\n"),
            ("return cjson.decode('{1:2}')", b"-ERR user_script:1: Expected object key string but found T_NUMBER at character 2 script: b7dfc51e0d5bf164c246fe708a2e33743e899be6, on @user_script:1.\r\n"),
            ("return cjson.decode('[1,]')", b"-ERR user_script:1: Expected value but found T_ARR_END at character 4 script: d31ab1dd313d99d4ad3dac6e48cdff283bea270c, on @user_script:1.\r\n"),
            ("return cjson.decode('')", b"-ERR user_script:1: Expected value but found T_END at character 1 script: 7ff8cf86abed928f4d61a01dcc9713f0117b180a, on @user_script:1.\r\n"),
            ("return cjson.decode('x')", b"-ERR user_script:1: Expected value but found invalid token at character 1 script: 5f58dd5cefb3eb0313af3534f36be4b83e79ae80, on @user_script:1.\r\n"),
            ("return cjson.decode('\"abc')", b"-ERR user_script:1: Expected value but found unexpected end of string at character 5 script: 30d67c6fb8e066eef4796bfcc59cee500c381744, on @user_script:1.\r\n"),
            ("return cjson.decode('\"\\\\x\"')", b"-ERR user_script:1: Expected value but found invalid escape code at character 2 script: e15fa517a0e30bc5ba472a9403d98fe6c88ca8e5, on @user_script:1.\r\n"),
            ("return cjson.decode('\"\\\\u12\"')", b"-ERR user_script:1: Expected value but found invalid unicode escape code at character 2 script: abf3d7a6907669d8b3a294456e4dca885645512f, on @user_script:1.\r\n"),
            ("return cjson.decode('\"\\\\udc00\"')", b"-ERR user_script:1: Expected value but found invalid unicode escape code at character 2 script: a551f20265e3eab757862642d41b385fa7b03fa1, on @user_script:1.\r\n"),
            ("return cjson.decode('[1] 2')", b"-ERR user_script:1: Expected the end but found T_NUMBER at character 5 script: fd9607da28a2f82880ef8913e9e5e7250804b693, on @user_script:1.\r\n"),
            ("return cjson.decode('1.5e3')", b":1500\r\n"),
            ("return cjson.decode('-0')", b":0\r\n"),
            ("return tostring(cjson.decode('nan'))", b"$3\r\nnan\r\n"),
            ("return tostring(cjson.decode('-Infinity'))", b"$4\r\n-inf\r\n"),
            ("return cjson.decode('0x10')", b":16\r\n"),
            ("return cjson.decode('+5')", b":5\r\n"),
            ("return cjson.decode('012')", b":12\r\n"),
            ("return cjson.decode('1.5abc')", b"-ERR user_script:1: Expected the end but found invalid token at character 4 script: c57e359dd6f4b872ea140a4316da1c2eed030699, on @user_script:1.\r\n"),
            ("return cjson.decode('trux')", b"-ERR user_script:1: Expected value but found invalid token at character 1 script: 1865d16defa09fa0c4f14c35c8041d134154781e, on @user_script:1.\r\n"),
            ("return cjson.decode('a\\0')", b"-ERR user_script:1: JSON parser does not support UTF-16 or UTF-32 script: 69f6bbb096a19f47ab62fd7adb63b632dfb2a6e4, on @user_script:1.\r\n"),
            ("return cjson.decode('1\\0x')", b"-ERR user_script:1: JSON parser does not support UTF-16 or UTF-32 script: f357e5afece48f5aaef8c380e890f8b2d3501327, on @user_script:1.\r\n"),
            ("return cjson.decode(string.rep('[', 1001))", b"-ERR user_script:1: Found too many nested data structures (1001) at character 1001 script: 2ddae80deeddb6a86c3c4e3c22b92b4350e40b1f, on @user_script:1.\r\n"),
            ("return cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) and 1", b":1\r\n"),
            ("return cjson.decode()", b"-ERR user_script:1: bad argument #1 to 'decode' (expected 1 argument) script: 5378278d59343caf5c3375a655dfea5e69ab8a74, on @user_script:1.\r\n"),
            ("return cjson.decode({})", b"-ERR user_script:1: bad argument #1 to 'decode' (string expected, got table) script: 10c706d54b3ae7d2bcc169d647405abd961145fa, on @user_script:1.\r\n"),
            ("return cjson.decode(5)", b":5\r\n"),
            ("return {cjson.encode_sparse_array()}", b"*3\r\n$-1\r\n:2\r\n:10\r\n"),
            ("return {cjson.encode_sparse_array(true, 3, 5)}", b"*3\r\n:1\r\n:3\r\n:5\r\n"),
            ("return cjson.encode_max_depth(0)", b"-ERR user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647) script: f40da52b0819d675b8802812b1c4504462426d31, on @user_script:1.\r\n"),
            ("return cjson.encode_max_depth()", b":1000\r\n"),
            ("return cjson.encode_number_precision(3)", b":3\r\n"),
            ("return {cjson.encode_invalid_numbers('null'), cjson.encode_invalid_numbers()}", b"*2\r\n$4\r\nnull\r\n$4\r\nnull\r\n"),
            ("return cjson.encode_invalid_numbers('maybe')", b"-ERR user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe') script: cc274de9dcb4191ad96cc35d6cd9de848bc40414, on @user_script:1.\r\n"),
            ("return cjson.encode_keep_buffer(1, 2)", b"-ERR user_script:1: bad argument #2 to 'encode_keep_buffer' (found too many arguments) script: 6bed118614348e0bd626cdfce42679b5db60b5a9, on @user_script:1.\r\n"),
            ("return {cjson._NAME, cjson._VERSION}", b"*2\r\n$5\r\ncjson\r\n$5\r\n2.1.0\r\n"),
            ("local c = cjson.new() c.encode_number_precision(3) return {c.encode(1/3), cjson.encode(1/3)}", b"*2\r\n$5\r\n0.333\r\n$5\r\n0.333\r\n"),
            ("local c = cjson.new() c.encode_invalid_numbers(true) return {c.encode(1/0), c.encode(0/0), c.encode(-1/0)}", b"*3\r\n$3\r\ninf\r\n$3\r\nnan\r\n$4\r\n-inf\r\n"),
            ("local c = cjson.new() c.encode_sparse_array(true) return c.encode({[1]=1,[20]=2})", b"$14\r\n{\"1\":1,\"20\":2}\r\n"),
            ("local c = cjson.new() c.encode_max_depth(2) return c.encode({{{1}}})", b"-ERR user_script:1: Cannot serialise, excessive nesting (3) script: 10f4e78efa4c788934b929d6acb3d690be533e17, on @user_script:1.\r\n"),
            ("local c = cjson.new() c.decode_max_depth(2) return c.decode('[[[1]]]')", b"-ERR user_script:1: Found too many nested data structures (3) at character 3 script: b2f73dafadc8ac47956f7d6605d7497ae651cbdb, on @user_script:1.\r\n"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('nan')", b"-ERR user_script:1: Expected value but found invalid token at character 1 script: 57de8fa9753515a24936af4a9f9eb774c780622d, on @user_script:1.\r\n"),
            ("local c = cjson.new() c.decode_invalid_numbers(false) return c.decode('-0x1')", b"-ERR user_script:1: Expected value but found invalid number at character 1 script: f4b809a3062db29027c94d5b8d46f97dda68bacc, on @user_script:1.\r\n"),
            ("return cjson.encode({a={b={c={d=1}}}, [1]=2})", b"$31\r\n{\"a\":{\"b\":{\"c\":{\"d\":1}}},\"1\":2}\r\n"),
            ("return cjson.encode({1, 'two', {three=3}, true, cjson.null})", b"$31\r\n[1,\"two\",{\"three\":3},true,null]\r\n"),
        ];
        let mut engine = Engine::new();
        for (body, expected) in cases {
            assert_eq!(
                String::from_utf8_lossy(&eval_with(&mut engine, body, &[], &[], Protocol::Resp2)),
                String::from_utf8_lossy(expected),
                "{body}"
            );
        }
    }
}
