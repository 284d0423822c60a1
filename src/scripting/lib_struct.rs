//! `struct`: Roberto Ierusalimschy's library for packing values into
//! binary strings, as Redis bundles it: `struct.pack(fmt, ...)`,
//! `struct.unpack(fmt, s [, pos])`, `struct.size(fmt)`, with C's sizes on
//! x86-64 Linux (`l` 8 bytes, `h` 2, `i` 4 by default, `T` 8) and its
//! quirks (integers wider than 8 bytes carry only 8 bytes of value).
//!
//! Format: `<` `>` little/big endian, `!n` alignment, `x` padding,
//! `b B h H l L T i[n] I[n]` integers (lower case signed), `f` `d` floats,
//! `c[n]` fixed strings (`c0`: length from the previous value), `s`
//! zero-terminated strings, spaces ignored.

use std::ffi::{CStr, c_int};

use super::lua::{self, CFunction, L, LuaError, ffi};

/// Registers the global `struct` table.
pub(super) unsafe extern "C-unwind" fn open(l: L) -> c_int {
    let functions: [(&CStr, CFunction); 3] =
        [(c"pack", pack), (c"unpack", unpack), (c"size", size)];
    unsafe { lua::open_library(l, c"struct", &functions) };
    1
}

/// The widest integer option (`i32`).
const MAX_INT_SIZE: usize = 32;
/// The default of `!`: the strictest alignment of a C type here (double).
const MAX_ALIGN: usize = 8;

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

impl Header {
    /// Big-endian `bytes` in the order the format chose, or stored bytes
    /// back in big-endian order: reversing (for `<`) is its own inverse,
    /// so packing and unpacking a float share it.
    fn ordered<const N: usize>(&self, mut bytes: [u8; N]) -> [u8; N] {
        if self.little {
            bytes.reverse();
        }
        bytes
    }
}

/// The `N` bytes at `pos` of `data` (the caller has checked they are there).
fn bytes_at<const N: usize>(data: &[u8], pos: usize) -> [u8; N] {
    data[pos..pos + N].try_into().unwrap_or([0; N])
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// Reads the format one option at a time.
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
}

impl<'a> Format<'a> {
    /// The format, argument 1, as the C library reads it: up to its first
    /// NUL byte.
    ///
    /// # Safety
    /// `l` is a valid state; the format lives as long as its argument.
    unsafe fn argument(l: L) -> Result<Format<'a>, LuaError> {
        let fmt = unsafe { lua::to_c_bytes(l, 1) }
            .ok_or_else(|| unsafe { lua::type_error(l, 1, "string") })?;
        Ok(Format { fmt, at: 0 })
    }

    fn next_opt(&mut self) -> Option<u8> {
        let opt = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(opt)
    }

    /// A number in the format, or `default` when none follows.
    fn number(&mut self, default: usize) -> Result<usize, LuaError> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&d) = self.fmt.get(self.at).filter(|d| d.is_ascii_digit()) {
            let d = i32::from(d - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(LuaError::Here(b"integral size overflow".to_vec()));
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a as usize)
    }

    /// The size of option `opt` (reading its count, if any).
    fn size(&mut self, opt: u8) -> Result<usize, LuaError> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(LuaError::Here(
                        format!("integral size {size} is larger than limit of {MAX_INT_SIZE}")
                            .into_bytes(),
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// `< > ! space`, and the error for anything else.
    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), LuaError> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !(a > 0 && a & (a - 1) == 0) {
                    return Err(LuaError::Here(
                        format!("alignment {} is not a power of 2", a as i32).into_bytes(),
                    ));
                }
                h.align = a;
            }
            _ => {
                let mut message = b"invalid format option '".to_vec();
                message.push(opt);
                message.push(b'\'');
                return Err(LuaError::Arg(1, message));
            }
        }
        Ok(())
    }
}

/// Padding before an option of `size` at offset `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

unsafe extern "C-unwind" fn pack(l: L) -> c_int {
    let result = unsafe { pack_into(l) };
    unsafe { lua::finish_bytes(l, result) }
}

unsafe fn pack_into(l: L) -> Result<Vec<u8>, LuaError> {
    let mut f = unsafe { Format::argument(l) }?;
    let mut h = Header::default();
    let mut arg: c_int = 2;
    let mut out = Vec::new();
    while let Some(opt) = f.next_opt() {
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = unsafe { lua::check_number(l, arg) }?;
                arg += 1;
                let mut value = if n < 0.0 {
                    lua::c_double_to_i64(n) as u64
                } else {
                    lua::c_double_to_u64(n)
                };
                let mut bytes = [0u8; MAX_INT_SIZE];
                for byte in bytes[..size].iter_mut() {
                    *byte = value as u8;
                    value >>= 8;
                }
                if !h.little {
                    bytes[..size].reverse();
                }
                out.extend_from_slice(&bytes[..size]);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = unsafe { lua::check_number(l, arg) }? as f32;
                arg += 1;
                out.extend_from_slice(&h.ordered(n.to_be_bytes()));
            }
            b'd' => {
                let n = unsafe { lua::check_number(l, arg) }?;
                arg += 1;
                out.extend_from_slice(&h.ordered(n.to_be_bytes()));
            }
            b'c' | b's' => {
                let s = unsafe { lua::check_bytes(l, arg) }?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // Redis reports the argument after the string.
                    return Err(LuaError::Arg(arg, b"string too short".to_vec()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(opt, &mut h)?,
        }
    }
    Ok(out)
}

/// One value read by `unpack`.
enum Value {
    Number(f64),
    Bytes(Vec<u8>),
}

unsafe extern "C-unwind" fn unpack(l: L) -> c_int {
    let result = unsafe { unpack_values(l) };
    unsafe {
        match result {
            Ok((values, next)) => {
                if ffi::lua_checkstack(l, values.len() as c_int + 1) == 0 {
                    drop(values);
                    lua::raise_error(
                        l,
                        LuaError::Here(b"stack overflow (too many results)".to_vec()),
                    );
                }
                let n = values.len() as c_int;
                for value in &values {
                    match value {
                        Value::Number(x) => ffi::lua_pushnumber(l, *x),
                        Value::Bytes(b) => lua::push_bytes(l, b),
                    }
                }
                drop(values);
                ffi::lua_pushinteger(l, next as ffi::lua_Integer);
                n + 1
            }
            Err(error) => lua::raise_error(l, error),
        }
    }
}

/// An integer of `size` bytes at the start of `data`: only the last eight
/// bytes read count (C shifts them through a 64-bit value).
fn get_integer(data: &[u8], little: bool, signed: bool, size: usize) -> f64 {
    let mut v: u64 = 0;
    let mut take = |b: u8| v = (v << 8) | u64::from(b);
    if little {
        data[..size].iter().rev().for_each(|&b| take(b));
    } else {
        data[..size].iter().for_each(|&b| take(b));
    }
    if !signed {
        return v as f64;
    }
    // C shifts by `size*8 - 1`, which x86 takes modulo 64.
    let mask = u64::MAX << ((size as i64 * 8 - 1) & 63);
    if v & mask != 0 {
        v |= mask;
    }
    v as i64 as f64
}

unsafe fn unpack_values(l: L) -> Result<(Vec<Value>, u64), LuaError> {
    let mut f = unsafe { Format::argument(l) }?;
    let data = unsafe { lua::check_bytes(l, 2) }?;
    let pos = if unsafe { ffi::lua_isnoneornil(l, 3) } != 0 {
        1
    } else {
        unsafe { lua::check_integer(l, 3) }?
    } as u64;
    if pos == 0 {
        return Err(LuaError::Arg(3, b"offset must be 1 or greater".to_vec()));
    }
    let mut pos = (pos - 1) as usize;
    let ld = data.len();
    let too_short = || LuaError::Arg(2, b"data string too short".to_vec());
    let mut h = Header::default();
    let mut values: Vec<Value> = Vec::new();
    while let Some(opt) = f.next_opt() {
        let mut size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(too_short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                values.push(Value::Number(get_integer(
                    &data[pos..],
                    h.little,
                    signed,
                    size,
                )));
            }
            b'x' => {}
            b'f' => {
                let x = f32::from_be_bytes(h.ordered(bytes_at(data, pos)));
                values.push(Value::Number(f64::from(x)));
            }
            b'd' => {
                let x = f64::from_be_bytes(h.ordered(bytes_at(data, pos)));
                values.push(Value::Number(x));
            }
            b'c' => {
                if size == 0 {
                    size = match values.pop() {
                        Some(Value::Number(n)) => lua::c_double_to_u64(n) as usize,
                        Some(Value::Bytes(b)) => match parse_number(&b) {
                            Some(n) => lua::c_double_to_u64(n) as usize,
                            None => {
                                return Err(LuaError::Here(
                                    b"format 'c0' needs a previous size".to_vec(),
                                ));
                            }
                        },
                        None => {
                            return Err(LuaError::Here(
                                b"format 'c0' needs a previous size".to_vec(),
                            ));
                        }
                    };
                    if !(size <= ld && pos <= ld - size) {
                        return Err(too_short());
                    }
                }
                values.push(Value::Bytes(data[pos..pos + size].to_vec()));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(LuaError::Here(b"unfinished string in data".to_vec()));
                };
                size = end + 1;
                values.push(Value::Bytes(data[pos..pos + end].to_vec()));
            }
            _ => f.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    Ok((values, pos as u64 + 1))
}

/// A string Lua would take as a number (`lua_isnumber` on a string).
fn parse_number(b: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(b).ok()?.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    text.parse().ok()
}

unsafe extern "C-unwind" fn size(l: L) -> c_int {
    let result = unsafe { size_of(l) }.map(|n| {
        unsafe { ffi::lua_pushinteger(l, n as ffi::lua_Integer) };
        1
    });
    unsafe { lua::finish(l, result) }
}

unsafe fn size_of(l: L) -> Result<usize, LuaError> {
    let mut f = unsafe { Format::argument(l) }?;
    let mut h = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = f.next_opt() {
        let size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return Err(LuaError::Arg(1, b"option 's' has no fixed size".to_vec()));
        } else if opt == b'c' && size == 0 {
            return Err(LuaError::Arg(1, b"option 'c0' has no fixed size".to_vec()));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use crate::scripting::tests::{check, eval};

    #[test]
    fn pack_unpack_size_match_redis() {
        // Recorded from Redis 7.0.15.
        let cases: &[(&str, &[u8])] = &[
            ("return {struct.pack('>i', 1), struct.pack('<h', -2), struct.pack('!4 b i', 1, 2), struct.pack('c5', 'hello world'), struct.pack('s', 'ab'), struct.pack('>d', 1.5), struct.pack('<f', 0.1), struct.pack('I16', -1), struct.pack('>I3', 65536*3+2), struct.pack('L', 2^64), struct.pack('Bx>H', 1, 2), struct.size('!4 b i d'), struct.size('c10x'), struct.pack('l', -1)}", b"*14\r\n$4\r\n\x00\x00\x00\x01\r\n$2\r\n\xfe\xff\r\n$8\r\n\x01\x00\x00\x00\x02\x00\x00\x00\r\n$5\r\nhello\r\n$3\r\nab\x00\r\n$8\r\n?\xf8\x00\x00\x00\x00\x00\x00\r\n$4\r\n\xcd\xcc\xcc=\r\n$16\r\n\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\r\n$3\r\n\x03\x00\x02\r\n$8\r\n\x00\x00\x00\x00\x00\x00\x00\x00\r\n$4\r\n\x01\x00\x00\x02\r\n:16\r\n:11\r\n$8\r\n\xff\xff\xff\xff\xff\xff\xff\xff\r\n"),
            ("return {struct.unpack('>i', '\\0\\0\\1\\0')}", b"*2\r\n:256\r\n:5\r\n"),
            ("return {struct.unpack('b c0', '\\3abcdef')}", b"*2\r\n$3\r\nabc\r\n:5\r\n"),
            ("return {struct.unpack('s s', 'ab\\0cd\\0')}", b"*3\r\n$2\r\nab\r\n$2\r\ncd\r\n:7\r\n"),
            ("return {struct.unpack('<h', '\\255\\255')}", b"*2\r\n:-1\r\n:3\r\n"),
            ("return {struct.unpack('>I9', '\\255\\255\\255\\255\\255\\255\\255\\255\\255')}", b"*2\r\n:-9223372036854775808\r\n:10\r\n"),
            ("return {struct.unpack('>i9', '\\0\\0\\0\\0\\0\\0\\0\\0\\255')}", b"*2\r\n:-1\r\n:10\r\n"),
            ("return {struct.unpack('i', 'abcdabcd', 5)}", b"*2\r\n:1684234849\r\n:9\r\n"),
            ("return struct.unpack('i', 'abc')", b"-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: ec303136177146d52efe90f9a6ccc1accdbe9e9d, on @user_script:1.\r\n"),
            ("return struct.unpack('i', 'abcd', 0)", b"-ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater) script: 136d17dc2e5c23430c74865741f12a14ece019d4, on @user_script:1.\r\n"),
            ("return struct.pack('z', 1)", b"-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: b1a49a62278d772f47cfca6a679bc33c0fa64430, on @user_script:1.\r\n"),
            ("return struct.pack('i33', 1)", b"-ERR user_script:1: integral size 33 is larger than limit of 32 script: 0a76c071d82805e752befa6958961c98c39f358f, on @user_script:1.\r\n"),
            ("return struct.pack('!3i', 1)", b"-ERR user_script:1: alignment 3 is not a power of 2 script: 9c4f4d70ace09806881a064330127afb155d9415, on @user_script:1.\r\n"),
            ("return struct.pack('c5', 'ab')", b"-ERR user_script:1: bad argument #3 to 'pack' (string too short) script: cec53901ab5000b5eccda51f64e59e716bdfd4ba, on @user_script:1.\r\n"),
            ("return struct.pack('i', 'x')", b"-ERR user_script:1: bad argument #2 to 'pack' (number expected, got string) script: 72d01f23645269179316b093775c7fa64478554a, on @user_script:1.\r\n"),
            ("return struct.size('s')", b"-ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size) script: a2a0525826ab7939ccd3f54427a862205642f28f, on @user_script:1.\r\n"),
            ("return struct.size('c0')", b"-ERR user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size) script: 18f217e7d560de92703dc71e9797e043b536e0e6, on @user_script:1.\r\n"),
            ("return struct.size('z')", b":0\r\n"),
            ("return struct.unpack('c0', 'abc')", b"-ERR user_script:1: format 'c0' needs a previous size script: 6f6b6ad3f7dd0c62f022bfe2dfdbbc810ab64756, on @user_script:1.\r\n"),
            ("return struct.unpack('s', 'abc')", b"-ERR user_script:1: unfinished string in data script: 3c8c11118da3ea1fd285856434f3f28c04cc4a2a, on @user_script:1.\r\n"),
            ("return struct.pack('i99999999999', 1)", b"-ERR user_script:1: integral size overflow script: 55da9dc87c031781cab77cd7caa7180a2f334e7e, on @user_script:1.\r\n"),
            ("return {struct.unpack('>d', struct.pack('>d', 3.25))}", b"*2\r\n:3\r\n:9\r\n"),
            ("return {struct.unpack('f', struct.pack('f', 3.25))}", b"*2\r\n:3\r\n:5\r\n"),
            ("return struct.pack()", b"-ERR user_script:1: bad argument #1 to 'pack' (string expected, got no value) script: c9b8aed4f0633591e6252db264bf8b86b82828d5, on @user_script:1.\r\n"),
            ("return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2.5))}", b"*3\r\n:1\r\n:2\r\n:17\r\n"),
            ("return {struct.unpack('c3 i2', 'abc\\1\\2')}", b"*3\r\n$3\r\nabc\r\n:513\r\n:6\r\n"),
            ("return {struct.pack('>I2', 70000), struct.pack('<i', 3000000000), struct.pack('b', -1.7), struct.pack('B', 1.9)}", b"*4\r\n$2\r\n\x11p\r\n$4\r\n\x00^\xd0\xb2\r\n$1\r\n\xff\r\n$1\r\n\x01\r\n"),
        ];
        check(cases, eval);
    }
}
