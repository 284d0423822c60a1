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
//!
//! This file registers the module and owns the configuration;
//! [`encode`](mod@encode) and [`decode`](mod@decode) are the two conversions.

use std::ffi::{CStr, c_int};

use crate::scripting::lua::{self, CFunction, L, LuaError, ffi};

mod decode;
mod encode;

use decode::decode;
use encode::encode;

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

/// Defines CJSON's configuration functions (its `json_cfg_*`): each takes
/// at most one argument per setting it governs, in order, sets those given
/// (a nil keeps the setting), and returns every setting's value. Only the
/// list of settings differs from one function to the next.
macro_rules! config_functions {
    ($($name:ident: $($option:ident($field:ident $(, $bound:expr)*)),+;)*) => {$(
        unsafe extern "C-unwind" fn $name(l: L) -> c_int {
            unsafe fn body(l: L, cfg: &mut Config) -> Result<c_int, LuaError> {
                let count = [$(stringify!($field)),+].len() as c_int;
                let mut arg = 0;
                unsafe {
                    arg_init(l, count)?;
                    $(
                        arg += 1;
                        $option(l, arg, &mut cfg.$field $(, $bound)*)?;
                    )+
                }
                Ok(count)
            }
            let result = unsafe { body(l, config(l)) };
            unsafe { lua::finish(l, result) }
        }
    )*};
}

// `encode_keep_buffer` is only reported: the buffer is an allocation detail.
config_functions! {
    cfg_encode_sparse_array: enum_option(encode_sparse_convert, ON_OFF),
        integer_option(encode_sparse_ratio, 0, c_int::MAX),
        integer_option(encode_sparse_safe, 0, c_int::MAX);
    cfg_encode_max_depth: integer_option(encode_max_depth, 1, c_int::MAX);
    cfg_decode_max_depth: integer_option(decode_max_depth, 1, c_int::MAX);
    cfg_encode_number_precision: integer_option(encode_number_precision, 1, 14);
    cfg_encode_keep_buffer: enum_option(encode_keep_buffer, ON_OFF);
    cfg_encode_invalid_numbers: enum_option(encode_invalid_numbers, &["off", "on", "null"]);
    cfg_decode_invalid_numbers: enum_option(decode_invalid_numbers, ON_OFF);
}

#[cfg(test)]
mod tests {
    use crate::scripting::tests::check_in_order;

    #[test]
    fn strtod_prefixes() {
        use super::decode::strtod;
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
        check_in_order(cases);
    }
}
