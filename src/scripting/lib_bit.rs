//! `bit`: the LuaBitOp library Redis bundles (32-bit operations on Lua
//! numbers): `tobit`, `tohex`, `bnot`, `band`, `bor`, `bxor`, `lshift`,
//! `rshift`, `arshift`, `rol`, `ror`, `bswap`. Results are signed 32-bit
//! integers, as LuaBitOp returns them.

use std::ffi::{CStr, c_int};

use super::lua::{self, CFunction, L, ffi};

/// Registers the global `bit` table.
pub(super) unsafe extern "C-unwind" fn open(l: L) -> c_int {
    let functions: [(&CStr, CFunction); 12] = [
        (c"tobit", tobit),
        (c"bnot", bnot),
        (c"band", band),
        (c"bor", bor),
        (c"bxor", bxor),
        (c"lshift", lshift),
        (c"rshift", rshift),
        (c"arshift", arshift),
        (c"rol", rol),
        (c"ror", ror),
        (c"bswap", bswap),
        (c"tohex", tohex),
    ];
    unsafe { lua::open_library(l, c"bit", &functions) };
    1
}

/// The low 32 bits of a number, as LuaBitOp computes them: adding 2^52 +
/// 2^51 puts the integer part in the low bits of the double's mantissa
/// (rounding to nearest, even on ties).
pub fn to_bits(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// Argument `idx` as 32 bits; a non-number is an argument error.
unsafe fn arg(l: L, idx: c_int) -> u32 {
    unsafe {
        let b = to_bits(ffi::lua_tonumber(l, idx));
        if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
            ffi::luaL_typerror(l, idx, c"number".as_ptr());
        }
        b
    }
}

unsafe fn ret(l: L, b: u32) -> c_int {
    unsafe { ffi::lua_pushnumber(l, f64::from(b as i32)) };
    1
}

unsafe extern "C-unwind" fn tobit(l: L) -> c_int {
    unsafe { ret(l, arg(l, 1)) }
}

unsafe extern "C-unwind" fn bnot(l: L) -> c_int {
    unsafe { ret(l, !arg(l, 1)) }
}

/// `band`, `bor`, `bxor`: folds every argument from the last to the second
/// into the first, as LuaBitOp does (the order decides which bad argument
/// is reported first).
unsafe fn fold(l: L, op: fn(u32, u32) -> u32) -> c_int {
    unsafe {
        let mut b = arg(l, 1);
        let mut i = ffi::lua_gettop(l);
        while i > 1 {
            b = op(b, arg(l, i));
            i -= 1;
        }
        ret(l, b)
    }
}

unsafe extern "C-unwind" fn band(l: L) -> c_int {
    unsafe { fold(l, |a, b| a & b) }
}

unsafe extern "C-unwind" fn bor(l: L) -> c_int {
    unsafe { fold(l, |a, b| a | b) }
}

unsafe extern "C-unwind" fn bxor(l: L) -> c_int {
    unsafe { fold(l, |a, b| a ^ b) }
}

unsafe fn shift(l: L, op: fn(u32, u32) -> u32) -> c_int {
    unsafe {
        let b = arg(l, 1);
        let n = arg(l, 2) & 31;
        ret(l, op(b, n))
    }
}

unsafe extern "C-unwind" fn lshift(l: L) -> c_int {
    unsafe { shift(l, |b, n| b << n) }
}

unsafe extern "C-unwind" fn rshift(l: L) -> c_int {
    unsafe { shift(l, |b, n| b >> n) }
}

unsafe extern "C-unwind" fn arshift(l: L) -> c_int {
    unsafe { shift(l, |b, n| ((b as i32) >> n) as u32) }
}

unsafe extern "C-unwind" fn rol(l: L) -> c_int {
    unsafe { shift(l, u32::rotate_left) }
}

unsafe extern "C-unwind" fn ror(l: L) -> c_int {
    unsafe { shift(l, u32::rotate_right) }
}

unsafe extern "C-unwind" fn bswap(l: L) -> c_int {
    unsafe { ret(l, arg(l, 1).swap_bytes()) }
}

/// `tohex(x [, n])`: `n` hex digits (8 by default), upper case when `n` is
/// negative, at most 8.
unsafe extern "C-unwind" fn tohex(l: L) -> c_int {
    unsafe {
        let mut b = arg(l, 1);
        let mut n = if ffi::lua_isnone(l, 2) != 0 {
            8
        } else {
            arg(l, 2) as i32
        };
        let digits: &[u8; 16] = if n < 0 {
            n = n.saturating_neg();
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let n = n.min(8) as usize;
        let mut buf = [0u8; 8];
        for slot in buf[..n].iter_mut().rev() {
            *slot = digits[(b & 15) as usize];
            b >>= 4;
        }
        lua::push_bytes(l, &buf[..n]);
    }
    1
}

#[cfg(test)]
mod tests {
    use crate::scripting::tests::{eval, s, script_err};

    #[test]
    fn operations_match_redis() {
        // Recorded from Redis 7.0.15.
        assert_eq!(
            s(&eval(
                "return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.tohex(255), bit.tohex(-1, -4), \
                 bit.tohex(65535, 2), bit.tohex(1, 0), bit.tohex(1,20), bit.bnot(0), bit.band(0xff, 0x0f, 0x3), \
                 bit.bor(1,2,4), bit.bxor(7,2), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4), \
                 bit.rol(0x80000000, 1), bit.ror(1, 1), bit.bswap(0x12345678), bit.tobit(1.5), bit.tobit(2.5), \
                 bit.tobit(-1.5), bit.tobit('12')}"
            )),
            "*21\r\n:-1\r\n:5\r\n$8\r\n000000ff\r\n$4\r\nFFFF\r\n$2\r\nff\r\n$0\r\n\r\n$8\r\n00000001\r\n:-1\r\n\
             :3\r\n:7\r\n:5\r\n:2\r\n:15\r\n:-16\r\n:1\r\n:-2147483648\r\n:2018915346\r\n:2\r\n:2\r\n:-2\r\n:12\r\n"
        );
    }

    #[test]
    fn argument_errors_match_redis() {
        for (body, message) in [
            (
                "return bit.tobit('x')",
                "bad argument #1 to 'tobit' (number expected, got string)",
            ),
            (
                "return bit.band(1, {})",
                "bad argument #2 to 'band' (number expected, got table)",
            ),
            (
                "return bit.tobit()",
                "bad argument #1 to 'tobit' (number expected, got no value)",
            ),
            (
                "return bit.tohex(1, 'a')",
                "bad argument #2 to 'tohex' (number expected, got string)",
            ),
        ] {
            let message = format!("ERR user_script:1: {message}");
            assert_eq!(s(&eval(body)), s(&script_err(&message, body, 1)));
        }
    }
}
