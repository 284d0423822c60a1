//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it: `cmsgpack.pack(...)`
//! and `cmsgpack.unpack(s)`, `unpack_one(s [, offset])`,
//! `unpack_limit(s, limit [, offset])`.
//!
//! Packing picks the smallest MessagePack encoding of each value: integers
//! (fixnum, 8/16/32/64-bit, signed or not), a float when the number
//! survives a round trip through `f32`, else a double; strings as fixstr /
//! str8/16/32; tables as arrays when their keys are exactly 1..n, else as
//! maps; anything else as nil, and tables nested 16 deep as nil too.
//! Unpacking reads every type except bin and ext, which are "Bad data
//! format". Quirks kept: a uint64 above 2^63 comes back negative.

use std::ffi::{CStr, c_int};

use super::lua::{self, CFunction, L, LuaError, ffi};

/// Tables nested deeper than this are packed as nil.
const MAX_NESTING: c_int = 16;

/// Registers the global `cmsgpack` table.
pub(super) unsafe extern "C-unwind" fn open(l: L) -> c_int {
    let functions: [(&CStr, CFunction); 4] = [
        (c"pack", pack),
        (c"unpack", unpack),
        (c"unpack_one", unpack_one),
        (c"unpack_limit", unpack_limit),
    ];
    let fields: [(&CStr, &[u8]); 4] = [
        (c"_NAME", b"cmsgpack"),
        (c"_VERSION", b"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", b"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", b"MessagePack C implementation for Lua"),
    ];
    unsafe {
        ffi::lua_newtable(l);
        for (name, f) in functions {
            lua::set_function(l, name, f);
        }
        for (name, value) in fields {
            lua::push_bytes(l, value);
            ffi::lua_setfield(l, -2, name.as_ptr());
        }
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setfield(l, ffi::LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
    }
    1
}

// --- packing ---------------------------------------------------------------

/// A MessagePack type byte and what follows it (a big-endian number, or a
/// length): the shape of every encoding but the one-byte "fix" ones.
fn put(buf: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    buf.push(marker);
    buf.extend_from_slice(payload);
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        put(buf, 0xd9, &[len as u8]);
    } else if len <= 0xffff {
        put(buf, 0xda, &(len as u16).to_be_bytes());
    } else {
        put(buf, 0xdb, &(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f64::from(f) {
        put(buf, 0xca, &f.to_be_bytes());
    } else {
        put(buf, 0xcb, &d.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            put(buf, 0xcc, &[n as u8]);
        } else if n <= 0xffff {
            put(buf, 0xcd, &(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            put(buf, 0xce, &(n as u32).to_be_bytes());
        } else {
            put(buf, 0xcf, &(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        put(buf, 0xd0, &[n as u8]);
    } else if n >= -32768 {
        put(buf, 0xd1, &(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        put(buf, 0xd2, &(n as i32).to_be_bytes());
    } else {
        put(buf, 0xd3, &n.to_be_bytes());
    }
}

/// An array or map header of `n` elements (`base` is 0x90 or 0x80).
fn encode_header(buf: &mut Vec<u8>, n: usize, fix: u8, sixteen: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 65535 {
        put(buf, sixteen, &(n as u16).to_be_bytes());
    } else {
        put(buf, sixteen + 1, &(n as u32).to_be_bytes());
    }
}

/// True if the table on top has exactly the keys 1..n.
unsafe fn is_array(l: L) -> bool {
    let (mut count, mut max): (c_int, c_int) = (0, 0);
    unsafe {
        let top = ffi::lua_gettop(l);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            let n = ffi::lua_tonumber(l, -1);
            // C: positive and equal to its conversion to int.
            let as_int = if (-2_147_483_648.0..2_147_483_648.0).contains(&n) {
                n as c_int
            } else {
                c_int::MIN
            };
            if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER
                || n <= 0.0
                || n.is_infinite()
                || f64::from(as_int) != n
            {
                ffi::lua_settop(l, top);
                return false;
            }
            max = max.max(as_int);
            count += 1;
        }
        ffi::lua_settop(l, top);
    }
    max == count
}

/// Packs the value on top of the stack and pops it.
unsafe fn encode_value(l: L, buf: &mut Vec<u8>, level: c_int) -> Result<(), LuaError> {
    unsafe {
        let mut t = ffi::lua_type(l, -1);
        if t == ffi::LUA_TTABLE && level == MAX_NESTING {
            t = ffi::LUA_TNIL;
        }
        match t {
            ffi::LUA_TSTRING => encode_bytes(buf, lua::to_bytes(l, -1).unwrap_or_default()),
            ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 {
                0xc3
            } else {
                0xc2
            }),
            ffi::LUA_TNUMBER => {
                let n = ffi::lua_tonumber(l, -1);
                if !n.is_infinite() && lua::c_double_to_i64(n) as f64 == n {
                    encode_int(buf, ffi::lua_tointeger(l, -1));
                } else {
                    encode_double(buf, n);
                }
            }
            ffi::LUA_TTABLE => {
                if ffi::lua_checkstack(l, 3) == 0 {
                    return Err(LuaError::Here(
                        b"stack overflow (in function mp_encode_lua_table_as_map)".to_vec(),
                    ));
                }
                if is_array(l) {
                    let len = ffi::lua_objlen(l, -1);
                    encode_header(buf, len, 0x90, 0xdc);
                    for j in 1..=len {
                        ffi::lua_rawgeti(l, -1, j as ffi::lua_Integer);
                        encode_value(l, buf, level + 1)?;
                    }
                } else {
                    let mut len = 0;
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        ffi::lua_pop(l, 1);
                        len += 1;
                    }
                    encode_header(buf, len, 0x80, 0xde);
                    ffi::lua_pushnil(l);
                    while ffi::lua_next(l, -2) != 0 {
                        ffi::lua_pushvalue(l, -2);
                        encode_value(l, buf, level + 1)?;
                        encode_value(l, buf, level + 1)?;
                    }
                }
            }
            _ => buf.push(0xc0),
        }
        ffi::lua_pop(l, 1);
    }
    Ok(())
}

unsafe extern "C-unwind" fn pack(l: L) -> c_int {
    let result = unsafe { pack_all(l) };
    unsafe { lua::finish_bytes(l, result) }
}

unsafe fn pack_all(l: L) -> Result<Vec<u8>, LuaError> {
    let nargs = unsafe { ffi::lua_gettop(l) };
    if nargs == 0 {
        return Err(LuaError::Arg(0, b"MessagePack pack needs input.".to_vec()));
    }
    if unsafe { ffi::lua_checkstack(l, nargs) } == 0 {
        return Err(LuaError::Arg(
            0,
            b"Too many arguments for MessagePack pack.".to_vec(),
        ));
    }
    let mut buf = Vec::new();
    for i in 1..=nargs {
        unsafe {
            ffi::lua_pushvalue(l, i);
            encode_value(l, &mut buf, 0)?;
        }
    }
    Ok(buf)
}

// --- unpacking -------------------------------------------------------------

/// Why decoding stopped.
enum Stop {
    /// The input ends inside a value.
    Eof,
    /// A byte that starts no value we read.
    BadFormat,
    /// A Lua error (a nil or NaN map key, a full stack).
    Lua(LuaError),
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.at
    }

    fn need(&self, n: usize) -> Result<&[u8], Stop> {
        if self.left() < n {
            return Err(Stop::Eof);
        }
        Ok(&self.data[self.at..self.at + n])
    }

    fn be(&self, from: usize, n: usize) -> Result<u64, Stop> {
        let bytes = self.need(from + n)?;
        Ok(bytes[from..]
            .iter()
            .fold(0, |v, &b| (v << 8) | u64::from(b)))
    }
}

/// What reading the start of a value left on the stack.
enum Started {
    /// A whole value.
    Scalar,
    /// A new table, whose `n` elements come next.
    Array(usize),
    Map(usize),
}

/// A table being filled, and where it is.
enum Open {
    Array { left: usize, index: usize },
    Map { left: usize, phase: MapPhase },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MapPhase {
    Begin,
    AfterKey,
    AfterValue,
}

/// Decodes one value and pushes it. Nested tables are filled from a list
/// of open ones rather than by recursion (input can nest thousands deep);
/// the Lua stack sees the pushes lua-cmsgpack makes, so it overflows where
/// lua-cmsgpack's does.
unsafe fn decode_value(l: L, c: &mut Cursor<'_>) -> Result<(), Stop> {
    let mut open: Vec<Open> = Vec::new();
    'value: loop {
        match unsafe { start_value(l, c) }? {
            Started::Scalar => {}
            Started::Array(left) => open.push(Open::Array { left, index: 0 }),
            Started::Map(left) => open.push(Open::Map {
                left,
                phase: MapPhase::Begin,
            }),
        }
        // Hand the finished value to the innermost open table.
        loop {
            let Some(top) = open.last_mut() else {
                return Ok(());
            };
            match top {
                Open::Array { left, index } => {
                    if *index > 0 {
                        unsafe { ffi::lua_settable(l, -3) };
                        *left -= 1;
                    }
                    if *left == 0 {
                        open.pop();
                        continue;
                    }
                    *index += 1;
                    unsafe { ffi::lua_pushnumber(l, *index as f64) };
                    continue 'value;
                }
                Open::Map { left, phase } => {
                    match *phase {
                        MapPhase::Begin => {}
                        MapPhase::AfterKey => {
                            *phase = MapPhase::AfterValue;
                            continue 'value;
                        }
                        MapPhase::AfterValue => {
                            unsafe { set_pair(l) }?;
                            *left -= 1;
                        }
                    }
                    if *left == 0 {
                        open.pop();
                        continue;
                    }
                    *phase = MapPhase::AfterKey;
                    continue 'value;
                }
            }
        }
    }
}

/// `t[k] = v` for the key and value on top, refusing the keys Lua refuses
/// with Lua's own errors.
unsafe fn set_pair(l: L) -> Result<(), Stop> {
    unsafe {
        if ffi::lua_isnil(l, -2) != 0 {
            return Err(Stop::Lua(LuaError::Plain(b"table index is nil".to_vec())));
        }
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER && ffi::lua_tonumber(l, -2).is_nan() {
            return Err(Stop::Lua(LuaError::Plain(b"table index is NaN".to_vec())));
        }
        ffi::lua_settable(l, -3);
    }
    Ok(())
}

/// Reads the start of one value: pushes a scalar whole, or a new table.
unsafe fn start_value(l: L, c: &mut Cursor<'_>) -> Result<Started, Stop> {
    let first = c.need(1)?[0];
    if unsafe { ffi::lua_checkstack(l, 1) } == 0 {
        return Err(Stop::Lua(LuaError::Here(
            b"stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
                .to_vec(),
        )));
    }
    // lua-cmsgpack pushes unsigned values as lua_Integer: a uint64 above
    // 2^63 wraps negative.
    let int = |v: i64| unsafe { ffi::lua_pushnumber(l, v as f64) };
    let len = match first {
        0xcc => {
            int(c.be(1, 1)? as i64);
            2
        }
        0xd0 => {
            int(i64::from(c.be(1, 1)? as u8 as i8));
            2
        }
        0xcd => {
            int(c.be(1, 2)? as i64);
            3
        }
        0xd1 => {
            int(i64::from(c.be(1, 2)? as u16 as i16));
            3
        }
        0xce => {
            int(c.be(1, 4)? as i64);
            5
        }
        0xd2 => {
            int(i64::from(c.be(1, 4)? as u32 as i32));
            5
        }
        0xcf | 0xd3 => {
            int(c.be(1, 8)? as i64);
            9
        }
        0xc0 => {
            unsafe { ffi::lua_pushnil(l) };
            1
        }
        0xc3 | 0xc2 => {
            unsafe { ffi::lua_pushboolean(l, c_int::from(first == 0xc3)) };
            1
        }
        0xca => {
            let f = f32::from_bits(c.be(1, 4)? as u32);
            unsafe { ffi::lua_pushnumber(l, f64::from(f)) };
            5
        }
        0xcb => {
            let d = f64::from_bits(c.be(1, 8)?);
            unsafe { ffi::lua_pushnumber(l, d) };
            9
        }
        0xd9..=0xdb => {
            let width = match first {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            let n = c.be(1, width)? as usize;
            let bytes = c.need((1 + width).saturating_add(n))?;
            unsafe { lua::push_bytes(l, &bytes[1 + width..]) };
            (1 + width).saturating_add(n)
        }
        0xdc..=0xdf => {
            let width = if first & 1 == 0 { 2 } else { 4 };
            let n = c.be(1, width)? as usize;
            c.at += 1 + width;
            return unsafe { new_table(l, n, first < 0xde) };
        }
        b if b & 0x80 == 0 => {
            int(i64::from(b));
            1
        }
        b if b & 0xe0 == 0xe0 => {
            int(i64::from(b as i8));
            1
        }
        b if b & 0xe0 == 0xa0 => {
            let n = usize::from(b & 0x1f);
            let bytes = c.need(1 + n)?;
            unsafe { lua::push_bytes(l, &bytes[1..]) };
            1 + n
        }
        b if b & 0xe0 == 0x80 => {
            c.at += 1;
            return unsafe { new_table(l, usize::from(b & 0xf), b & 0xf0 == 0x90) };
        }
        _ => return Err(Stop::BadFormat),
    };
    c.at += len;
    Ok(Started::Scalar)
}

/// Pushes the table an array or map header starts.
unsafe fn new_table(l: L, n: usize, array: bool) -> Result<Started, Stop> {
    unsafe {
        ffi::lua_newtable(l);
        if !array {
            return Ok(Started::Map(n));
        }
        if ffi::lua_checkstack(l, 1) == 0 {
            return Err(Stop::Lua(LuaError::Here(
                b"stack overflow (in function mp_decode_to_lua_array)".to_vec(),
            )));
        }
    }
    Ok(Started::Array(n))
}

/// Decodes up to `limit` values from `offset` (both 0: every value, and no
/// offset returned). Returns how many results are on the stack.
unsafe fn unpack_full(l: L, limit: i64, offset: i64) -> Result<c_int, LuaError> {
    let data = unsafe { lua::check_bytes(l, 1) }?;
    let len = data.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // lua-cmsgpack prints the input length where the limit belongs.
        return Err(LuaError::Here(
            format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as c_int, len as c_int
            )
            .into_bytes(),
        ));
    }
    if offset as u64 > len as u64 {
        return Err(LuaError::Here(
            format!(
                "Start offset {} greater than input length {}.",
                offset as c_int, len as c_int
            )
            .into_bytes(),
        ));
    }
    let limit = if decode_all {
        i64::from(c_int::MAX)
    } else {
        limit
    };
    let mut c = Cursor {
        data: &data[offset as usize..],
        at: 0,
    };
    let mut count: c_int = 0;
    while c.left() > 0 && i64::from(count) < limit {
        match unsafe { decode_value(l, &mut c) } {
            Ok(()) => count += 1,
            Err(Stop::Eof) => return Err(LuaError::Here(b"Missing bytes in input.".to_vec())),
            Err(Stop::BadFormat) => {
                return Err(LuaError::Here(b"Bad data format in input.".to_vec()));
            }
            Err(Stop::Lua(error)) => return Err(error),
        }
    }
    if !decode_all {
        let next = if c.left() == 0 {
            -1
        } else {
            (len - c.left()) as ffi::lua_Integer
        };
        unsafe {
            if ffi::lua_checkstack(l, 1) == 0 {
                return Err(LuaError::Here(
                    b"stack overflow (in function mp_unpack_full)".to_vec(),
                ));
            }
            ffi::lua_pushinteger(l, next);
            ffi::lua_insert(l, 2);
        }
        count += 1;
    }
    Ok(count)
}

unsafe extern "C-unwind" fn unpack(l: L) -> c_int {
    unsafe { lua::finish(l, unpack_full(l, 0, 0)) }
}

unsafe extern "C-unwind" fn unpack_one(l: L) -> c_int {
    let result = unsafe { opt_integer(l, 2, 0) }.and_then(|offset| unsafe {
        ffi::lua_settop(l, 1);
        unpack_full(l, 1, offset)
    });
    unsafe { lua::finish(l, result) }
}

unsafe extern "C-unwind" fn unpack_limit(l: L) -> c_int {
    let result = unsafe { lua::check_integer(l, 2) }.and_then(|limit| unsafe {
        let offset = opt_integer(l, 3, 0)?;
        ffi::lua_settop(l, 1);
        unpack_full(l, limit, offset)
    });
    unsafe { lua::finish(l, result) }
}

/// `luaL_optinteger` without the jump.
unsafe fn opt_integer(l: L, idx: c_int, default: i64) -> Result<i64, LuaError> {
    unsafe {
        if ffi::lua_isnoneornil(l, idx) != 0 {
            Ok(default)
        } else {
            lua::check_integer(l, idx)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scripting::tests::{check, eval};

    #[test]
    fn pack_and_unpack_match_redis() {
        // Recorded from Redis 7.0.15.
        let cases: &[(&str, &[u8])] = &[
            ("return cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53)", b"$41\r\n\x00\x01\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00\xce\xff\xff\xff\xff\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xcf\x00 \x00\x00\x00\x00\x00\x00\r\n"),
            ("return cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -2^53)", b"$40\r\n\xff\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\x7f\xff\xff\xff\xd3\xff\xe0\x00\x00\x00\x00\x00\x00\r\n"),
            ("return cmsgpack.pack(1.5, 0.1, 1/0, -1/0, 2^63, -2^63, 1e300)", b"$47\r\n\xca?\xc0\x00\x00\xcb?\xb9\x99\x99\x99\x99\x99\x9a\xca\x7f\x80\x00\x00\xca\xff\x80\x00\x00\xca_\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00\x00\x00\xcb~7\xe4<\x88\x00u\x9c\r\n"),
            ("return cmsgpack.pack('', 'abc', string.rep('x', 31), string.rep('y', 32), string.rep('z', 256), string.rep('w', 65536):sub(1, 10))", b"$341\r\n\xa0\xa3abc\xbfxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xd9 yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\xda\x01\x00zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\xaawwwwwwwwww\r\n"),
            ("return #cmsgpack.pack(string.rep('w', 65536))", b":65541\r\n"),
            ("return cmsgpack.pack(true, false, nil, {}, {1,2,3}, {a=1}, {[1]=1, [3]=3}, {1, 2, x=3})", b"$25\r\n\xc3\xc2\xc0\x90\x93\x01\x02\x03\x81\xa1a\x01\x82\x01\x01\x03\x03\x83\x01\x01\x02\x02\xa1x\x03\r\n"),
            ("return cmsgpack.pack(function() end, cmsgpack.pack)", b"$2\r\n\xc0\xc0\r\n"),
            ("local t = {} t[1] = t return cmsgpack.pack(t)", b"$17\r\n\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0\r\n"),
            ("local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t)", b"$19\r\n\xdc\x00\x10\x01\x02\x03\x04\x05\x06\x07\x08\x09\n\x0b\x0c\r\x0e\x0f\x10\r\n"),
            ("local t = {} for i = 1, 70000 do t[i] = 0 end return #cmsgpack.pack(t)", b":70005\r\n"),
            ("return cmsgpack.pack()", b"-ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.) script: 6bc235afa55de88253e203cc5fe5844792e25209, on @user_script:1.\r\n"),
            ("return {cmsgpack.unpack(cmsgpack.pack(1, -1, 'a', 1.5, true, {1, 2, {3}}, 2^40, -2^40, 0.25))}", b"*9\r\n:1\r\n:-1\r\n$1\r\na\r\n:1\r\n:1\r\n*3\r\n:1\r\n:2\r\n*1\r\n:3\r\n:1099511627776\r\n:-1099511627776\r\n:0\r\n"),
            ("return {cmsgpack.unpack(cmsgpack.pack({a=1, b={c='d'}}))}", b"*1\r\n*0\r\n"),
            ("return cmsgpack.unpack(cmsgpack.pack({a=1, b={c='d'}})).b.c", b"$1\r\nd\r\n"),
            ("return {cmsgpack.unpack('')}", b"*0\r\n"),
            ("return cmsgpack.unpack('\\205\\1')", b"-ERR user_script:1: Missing bytes in input. script: 4679240a23ff9735759d614fd4b677cab6fb1b9a, on @user_script:1.\r\n"),
            ("return cmsgpack.unpack('\\193')", b"-ERR user_script:1: Bad data format in input. script: dc135bd7bc2955014f03280e151acf74360378e7, on @user_script:1.\r\n"),
            ("return cmsgpack.unpack('\\196\\1a')", b"-ERR user_script:1: Bad data format in input. script: 6f8b916f0f73238529184461236248e68f5e450b, on @user_script:1.\r\n"),
            ("return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}", b"*1\r\n:-1\r\n"),
            ("return {cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0')}", b"*1\r\n:-9223372036854775808\r\n"),
            ("return {cmsgpack.unpack('\\208\\255\\209\\255\\254\\210\\255\\255\\255\\253\\204\\200\\206\\255\\255\\255\\255')}", b"*5\r\n:-1\r\n:-2\r\n:-3\r\n:200\r\n:4294967295\r\n"),
            ("return {cmsgpack.unpack('\\202\\63\\192\\0\\0')}", b"*1\r\n:1\r\n"),
            ("return {cmsgpack.unpack('\\217\\3abc\\218\\0\\2de\\219\\0\\0\\0\\1f')}", b"*3\r\n$3\r\nabc\r\n$2\r\nde\r\n$1\r\nf\r\n"),
            ("return {cmsgpack.unpack('\\220\\0\\2\\1\\2\\221\\0\\0\\0\\1\\3')}", b"*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n:3\r\n"),
            ("return cmsgpack.unpack('\\129\\192\\1')", b"-ERR table index is nil script: fc5ecea28c7c4519bafde8e9710d8f45499f865b, on @user_script:1.\r\n"),
            ("return {cmsgpack.unpack('\\192\\195\\194')}", b"*0\r\n"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}", b"*2\r\n:1\r\n:1\r\n"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}", b"*2\r\n:-1\r\n:3\r\n"),
            ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}", b"*1\r\n:-1\r\n"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", b"*3\r\n:2\r\n:1\r\n:2\r\n"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}", b"*3\r\n:-1\r\n:2\r\n:3\r\n"),
            ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}", b"*1\r\n:1\r\n"),
            ("return cmsgpack.unpack_one(cmsgpack.pack(1), 5)", b"-ERR user_script:1: Start offset 5 greater than input length 1. script: 7e7c05f6aed315cc77ac2f3bf6f705d51b5b9fec, on @user_script:1.\r\n"),
            ("return cmsgpack.unpack_one(cmsgpack.pack(1), -1)", b"-ERR user_script:1: Invalid request to unpack with offset of -1 and limit of 1. script: e8ac1fcb41e705a28d6cc2422e794e9bfccadc10, on @user_script:1.\r\n"),
            ("return cmsgpack.unpack_limit('a')", b"-ERR user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value) script: 322919891a19a9d580a3cd7db27baf0031842e1d, on @user_script:1.\r\n"),
            ("return cmsgpack.unpack({})", b"-ERR user_script:1: bad argument #1 to 'unpack' (string expected, got table) script: 1bf8d78c3e2298775df6934cb05254905d2c8ddc, on @user_script:1.\r\n"),
            ("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}", b"*4\r\n$8\r\ncmsgpack\r\n$18\r\nlua-cmsgpack 0.4.0\r\n$40\r\nCopyright (C) 2012, Salvatore Sanfilippo\r\n$36\r\nMessagePack C implementation for Lua\r\n"),
            ("return cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')", b"-ERR user_script:1: stack overflow (in function mp_decode_to_lua_array) script: a68862545ca8d37e0415f8f995a9ae92ce59ab99, on @user_script:1.\r\n"),
            ("return cmsgpack.pack(0/0)", b"$9\r\n\xcb\xff\xf8\x00\x00\x00\x00\x00\x00\r\n"),
            ("return {cmsgpack.unpack(cmsgpack.pack(0/0))}", b"*1\r\n:-9223372036854775808\r\n"),
            ("return cmsgpack.pack({[1.5]=1, [-1]=2})", b"$9\r\n\x82\xca?\xc0\x00\x00\x01\xff\x02\r\n"),
        ];
        check(cases, eval);
    }
}
