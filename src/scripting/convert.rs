//! Values between Lua and RESP, both ways, as Redis converts them:
//!
//! - a command's reply → a Lua value, for `redis.call` (Redis's
//!   `redisProtocolToLuaType`): integers → numbers, bulk → strings, null →
//!   `false` (RESP2) or `nil` (RESP3), status → `{ok=...}`, error →
//!   `{err=...}`, and after `redis.setresp(3)` maps → `{map={...}}`, sets →
//!   `{set={...}}`, doubles → `{double=n}`, big numbers →
//!   `{big_number=s}`, verbatim → `{verbatim_string={format=, string=}}`;
//! - a script's result → a reply (Redis's `luaReplyToRedisReply`): numbers
//!   truncated to integers, `false` → null, `true` → 1 (RESP3: a boolean),
//!   tables by their `err`/`ok`/`double`/`big_number`/`verbatim_string`/
//!   `map`/`set` field or else as an array up to the first nil.
//!
//! The reply is a [`Frame`] in RESP3 terms; [`write_frame`](super::write_frame) writes it for a
//! client of either protocol, as Redis's reply functions would.

use std::ffi::c_int;

use super::api::push_error_table;
use super::context::Reply;
use super::lua::{self, L, ffi};
use crate::resp::Frame;

/// Pushes a command's reply as the Lua value a script receives.
/// `resp` is the protocol the reply was produced in: in RESP2 a RESP3-only
/// type arrives as its RESP2 form would (a map as a flat array, a double as
/// a bulk string...).
///
/// # Safety
/// `l` is a valid state.
pub unsafe fn push_reply(l: L, frame: &Frame, resp: u8) {
    // Redis stops the server when the stack cannot grow; a reply deeper
    // than Lua's stack allows becomes an error value here instead.
    if unsafe { ffi::lua_checkstack(l, 5) } == 0 {
        unsafe { push_error_table(l, b"reached lua stack limit") };
        return;
    }
    let resp3 = resp == 3;
    unsafe {
        match frame {
            Frame::Integer(n) => ffi::lua_pushnumber(l, *n as f64),
            Frame::Bulk(b) => lua::push_bytes(l, b),
            Frame::NullBulk | Frame::NullArray => ffi::lua_pushboolean(l, 0),
            Frame::Null if resp3 => ffi::lua_pushnil(l),
            Frame::Null => ffi::lua_pushboolean(l, 0),
            Frame::Simple(s) => {
                ffi::lua_createtable(l, 0, 1);
                lua::push_bytes(l, s);
                ffi::lua_setfield(l, -2, c"ok".as_ptr());
            }
            Frame::Error(e) => {
                let mut line = Vec::with_capacity(e.len() + 1);
                line.push(b'-');
                line.extend_from_slice(e);
                push_error_table(l, &line);
                ffi::lua_pushboolean(l, 1);
                ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
            }
            Frame::Array(items) | Frame::Push(items) => push_array(l, items, resp),
            Frame::Set(items) if !resp3 => push_array(l, items, resp),
            Frame::Set(items) => {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, items.len().min(1 << 16) as c_int);
                for item in items {
                    push_reply(l, item, resp);
                    ffi::lua_pushboolean(l, 1);
                    settable_if_key(l);
                }
                ffi::lua_setfield(l, -2, c"set".as_ptr());
            }
            Frame::Map(pairs) if !resp3 => {
                ffi::lua_createtable(l, (pairs.len() * 2).min(1 << 16) as c_int, 0);
                for (i, (key, value)) in pairs.iter().enumerate() {
                    ffi::lua_pushnumber(l, (2 * i + 1) as f64);
                    push_reply(l, key, resp);
                    ffi::lua_settable(l, -3);
                    ffi::lua_pushnumber(l, (2 * i + 2) as f64);
                    push_reply(l, value, resp);
                    ffi::lua_settable(l, -3);
                }
            }
            Frame::Map(pairs) => {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, pairs.len().min(1 << 16) as c_int);
                for (key, value) in pairs {
                    push_reply(l, key, resp);
                    push_reply(l, value, resp);
                    settable_if_key(l);
                }
                ffi::lua_setfield(l, -2, c"map".as_ptr());
            }
            Frame::Double(text) if !resp3 => lua::push_bytes(l, text),
            Frame::Double(text) => {
                let value = crate::num::parse_f64(text).unwrap_or(f64::NAN);
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_pushnumber(l, value);
                ffi::lua_setfield(l, -2, c"double".as_ptr());
            }
            Frame::Boolean(b) if !resp3 => ffi::lua_pushnumber(l, f64::from(u8::from(*b))),
            Frame::Boolean(b) => ffi::lua_pushboolean(l, c_int::from(*b)),
            Frame::BigNumber(n) if !resp3 => lua::push_bytes(l, n),
            Frame::BigNumber(n) => {
                ffi::lua_createtable(l, 0, 1);
                lua::push_bytes(l, n);
                ffi::lua_setfield(l, -2, c"big_number".as_ptr());
            }
            Frame::Verbatim { text, .. } if !resp3 => lua::push_bytes(l, text),
            Frame::Verbatim { format, text } => {
                ffi::lua_createtable(l, 0, 1);
                ffi::lua_createtable(l, 0, 2);
                lua::push_bytes(l, text);
                ffi::lua_setfield(l, -2, c"string".as_ptr());
                lua::push_bytes(l, &format[..format.len().min(3)]);
                ffi::lua_setfield(l, -2, c"format".as_ptr());
                ffi::lua_setfield(l, -2, c"verbatim_string".as_ptr());
            }
            // Attributes are not shown to scripts: only the reply they
            // describe.
            Frame::Attribute(_, reply) => push_reply(l, reply, resp),
        }
    }
}

/// `t[k] = v` for the key and value on top of the stack, dropping both
/// instead when the key is nil (a RESP3 null key, which Lua refuses).
unsafe fn settable_if_key(l: L) {
    unsafe {
        if ffi::lua_type(l, -2) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 2);
        } else {
            ffi::lua_settable(l, -3);
        }
    }
}

unsafe fn push_array(l: L, items: &[Frame], resp: u8) {
    unsafe {
        ffi::lua_createtable(l, items.len().min(1 << 16) as c_int, 0);
        for (i, item) in items.iter().enumerate() {
            ffi::lua_pushnumber(l, (i + 1) as f64);
            push_reply(l, item, resp);
            ffi::lua_settable(l, -3);
        }
    }
}


/// Converts the value on top of the stack into a reply and pops it.
/// `resp` is the script's protocol (`redis.setresp`): it decides how
/// booleans are returned.
///
/// # Safety
/// `l` is a valid state with a value on the stack, not inside a C function
/// that a Lua error could unwind (no metamethod is ever called here).
pub unsafe fn pop_reply(l: L, resp: u8) -> Reply {
    unsafe { pop_reply_limited(l, resp, MAX_REPLY_ELEMENTS) }
}

/// [`pop_reply`] with at most `limit` values converted.
///
/// # Safety
/// As [`pop_reply`].
pub unsafe fn pop_reply_limited(l: L, resp: u8, limit: usize) -> Reply {
    let mut errors = Vec::new();
    let frame = unsafe { to_frame(l, resp, &mut errors, limit) };
    Reply {
        frame,
        uncounted_errors: errors,
    }
}

/// C's `(long long)` cast of a double, as x86-64 performs it: truncation
/// toward zero, and the "integer indefinite" value for NaN and anything
/// out of range.
pub fn lua_number_to_i64(n: f64) -> i64 {
    // 2^63 is the first double past i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// A table being converted: its elements so far, and what comes next.
enum Open {
    /// An array; `j` is the index of the element being converted.
    Array { items: Vec<Frame>, j: u32 },
    /// A `{map=...}` table; `key` is set while its value is converted.
    Map {
        pairs: Vec<(Frame, Frame)>,
        key: Option<Frame>,
    },
    /// A `{set=...}` table.
    Set { items: Vec<Frame> },
}

/// The value on top of the stack as a reply, popping it. This follows
/// `luaReplyToRedisReply` push for push and pop for pop, so that Lua's
/// stack limit ends a cyclic table at exactly the depth where Redis's
/// ends; the nesting lives in `open` rather than in Rust's stack.
unsafe fn to_frame(l: L, resp: u8, errors: &mut Vec<Vec<u8>>, limit: usize) -> Frame {
    let mut open: Vec<Open> = Vec::new();
    let mut budget = limit;
    loop {
        // Convert the value on top: a leaf, or a table that opens.
        let entered = if budget == 0 {
            unsafe { ffi::lua_pop(l, 1) };
            Entered::Leaf(Frame::Error(TOO_LARGE.to_vec()))
        } else {
            budget -= 1;
            if budget == 0 {
                errors.push(TOO_LARGE.to_vec());
            }
            unsafe { enter(l, resp, errors) }
        };
        let mut done = match entered {
            Entered::Leaf(frame) => frame,
            Entered::Open(table) => {
                open.push(table);
                continue;
            }
        };
        // Hand the finished value to the tables waiting for it.
        loop {
            let Some(top) = open.last_mut() else {
                return done;
            };
            match unsafe { deliver(l, top, done) } {
                Next::Child => break,
                Next::Closed => {
                    done = match open.pop() {
                        Some(Open::Array { items, .. }) => Frame::Array(items),
                        Some(Open::Map { pairs, .. }) => Frame::Map(pairs),
                        Some(Open::Set { items }) => Frame::Set(items),
                        None => return Frame::Null,
                    };
                }
            }
        }
    }
}

/// The most values one reply may hold. Redis has no such limit, but a
/// table that refers to itself twice (`t[1] = t; t[2] = t`) unfolds into a
/// reply that doubles with every level until Lua's stack limit: Redis never
/// finishes writing it. Past this many values, the rest become errors.
const MAX_REPLY_ELEMENTS: usize = 1 << 24;

/// What stands for the values past [`MAX_REPLY_ELEMENTS`].
const TOO_LARGE: &[u8] = b"ERR reply from script too large";

enum Entered {
    Leaf(Frame),
    Open(Open),
}

enum Next {
    /// The next element is on top of the stack.
    Child,
    /// The table is complete and popped.
    Closed,
}

/// Starts converting the value on top of the stack.
unsafe fn enter(l: L, resp: u8, errors: &mut Vec<Vec<u8>>) -> Entered {
    unsafe {
        if ffi::lua_checkstack(l, 4) == 0 {
            ffi::lua_pop(l, 1);
            let line = b"ERR reached lua stack limit".to_vec();
            errors.push(line.clone());
            return Entered::Leaf(Frame::Error(line));
        }
        let frame = match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => Frame::Bulk(lua::to_bytes(l, -1).unwrap_or_default().to_vec()),
            ffi::LUA_TBOOLEAN => {
                let b = ffi::lua_toboolean(l, -1) != 0;
                match (resp, b) {
                    (2, true) => Frame::Integer(1),
                    (2, false) => Frame::Null,
                    _ => Frame::Boolean(b),
                }
            }
            ffi::LUA_TNUMBER => Frame::Integer(lua_number_to_i64(ffi::lua_tonumber(l, -1))),
            ffi::LUA_TTABLE => return enter_table(l, errors),
            _ => Frame::Null,
        };
        ffi::lua_pop(l, 1);
        Entered::Leaf(frame)
    }
}

/// Gives a converted element to its table and moves to the next element,
/// or closes the table.
unsafe fn deliver(l: L, table: &mut Open, value: Frame) -> Next {
    unsafe {
        match table {
            Open::Array { items, j } => {
                items.push(value);
                *j += 1;
                array_next(l, *j)
            }
            Open::Map { pairs, key } => match key.take() {
                // The value is now on top of the stack.
                None => {
                    *key = Some(value);
                    Next::Child
                }
                Some(k) => {
                    pairs.push((k, value));
                    map_next(l)
                }
            },
            Open::Set { items } => {
                items.push(value);
                set_next(l)
            }
        }
    }
}

/// Pushes element `j` of the array on top; closes it at the first nil.
unsafe fn array_next(l: L, j: u32) -> Next {
    unsafe {
        ffi::lua_pushnumber(l, f64::from(j));
        ffi::lua_rawget(l, -2);
        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 2);
            return Next::Closed;
        }
        Next::Child
    }
}

/// Stack: table, map, previous key. Pushes the next key (copied) with its
/// value below it, or pops table and map.
unsafe fn map_next(l: L) -> Next {
    unsafe {
        if ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            return Next::Child;
        }
        ffi::lua_pop(l, 2);
        Next::Closed
    }
}

/// Stack: table, set, previous key. Pushes the next member (copied), or
/// pops table and set.
unsafe fn set_next(l: L) -> Next {
    unsafe {
        if ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            ffi::lua_pushvalue(l, -1);
            return Next::Child;
        }
        ffi::lua_pop(l, 2);
        Next::Closed
    }
}

/// A table: one of the special single-field forms (a leaf, popped), or a
/// map, set or array to convert element by element.
unsafe fn enter_table(l: L, errors: &mut Vec<Vec<u8>>) -> Entered {
    let leaf = |frame| Entered::Leaf(frame);
    unsafe {
        if lua::raw_field(l, -1, b"err") == ffi::LUA_TSTRING {
            ffi::lua_pop(l, 1);
            let (line, counted) = error_info(l);
            ffi::lua_pop(l, 1);
            let line = c_line(&line);
            if !counted {
                errors.push(line.clone());
            }
            return leaf(Frame::Error(line));
        }
        ffi::lua_pop(l, 1);

        if lua::raw_field(l, -1, b"ok") == ffi::LUA_TSTRING {
            let ok = c_line(lua::to_bytes(l, -1).unwrap_or_default());
            ffi::lua_pop(l, 2);
            return leaf(Frame::Simple(ok));
        }
        ffi::lua_pop(l, 1);

        if lua::raw_field(l, -1, b"double") == ffi::LUA_TNUMBER {
            let value = ffi::lua_tonumber(l, -1);
            ffi::lua_pop(l, 2);
            return leaf(Frame::Double(crate::num::format_g17(value).into_bytes()));
        }
        ffi::lua_pop(l, 1);

        if lua::raw_field(l, -1, b"big_number") == ffi::LUA_TSTRING {
            let mut n = lua::to_bytes(l, -1).unwrap_or_default().to_vec();
            for b in &mut n {
                if matches!(*b, b'\r' | b'\n') {
                    *b = b' ';
                }
            }
            ffi::lua_pop(l, 2);
            return leaf(Frame::BigNumber(n));
        }
        ffi::lua_pop(l, 1);

        if lua::raw_field(l, -1, b"verbatim_string") == ffi::LUA_TTABLE {
            if lua::raw_field(l, -1, b"format") == ffi::LUA_TSTRING {
                if lua::raw_field(l, -2, b"string") == ffi::LUA_TSTRING {
                    let text = lua::to_bytes(l, -1).unwrap_or_default().to_vec();
                    // Exactly three bytes of format, padded with spaces.
                    let given = lua::to_c_bytes(l, -2).unwrap_or_default();
                    let mut format = given[..given.len().min(3)].to_vec();
                    format.resize(3, b' ');
                    ffi::lua_pop(l, 4);
                    return leaf(Frame::Verbatim { format, text });
                }
                ffi::lua_pop(l, 1);
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);

        if lua::raw_field(l, -1, b"map") == ffi::LUA_TTABLE {
            ffi::lua_pushnil(l);
            return match map_next(l) {
                Next::Child => Entered::Open(Open::Map {
                    pairs: Vec::new(),
                    key: None,
                }),
                Next::Closed => leaf(Frame::Map(Vec::new())),
            };
        }
        ffi::lua_pop(l, 1);

        if lua::raw_field(l, -1, b"set") == ffi::LUA_TTABLE {
            ffi::lua_pushnil(l);
            return match set_next(l) {
                Next::Child => Entered::Open(Open::Set { items: Vec::new() }),
                Next::Closed => leaf(Frame::Set(Vec::new())),
            };
        }
        ffi::lua_pop(l, 1);

        match array_next(l, 1) {
            Next::Child => Entered::Open(Open::Array {
                items: Vec::new(),
                j: 1,
            }),
            Next::Closed => leaf(Frame::Array(Vec::new())),
        }
    }
}

/// An error table's message, then whether the error statistics already
/// counted it (`ignore_error_stats_update`), as Redis's
/// `luaExtractErrorInformation` reads them from the table on top.
///
/// # Safety
/// A table is on the top of the stack.
pub unsafe fn error_info(l: L) -> (Vec<u8>, bool) {
    unsafe {
        let message =
            if lua::raw_field(l, -1, b"err") == ffi::LUA_TSTRING || ffi::lua_isstring(l, -1) != 0 {
                lua::to_c_bytes(l, -1).unwrap_or_default().to_vec()
            } else {
                Vec::new()
            };
        ffi::lua_pop(l, 1);
        let counted = lua::raw_field(l, -1, b"ignore_error_stats_update") == ffi::LUA_TBOOLEAN
            && ffi::lua_toboolean(l, -1) != 0;
        ffi::lua_pop(l, 1);
        (message, counted)
    }
}

/// Text as a C string up to its NUL, with CR and LF as spaces: the form
/// Redis gives to status and error lines it formats.
fn c_line(text: &[u8]) -> Vec<u8> {
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    text[..end]
        .iter()
        .map(|&b| if matches!(b, b'\r' | b'\n') { b' ' } else { b })
        .collect()
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::env::{Kind, new_state};

    #[test]
    fn a_doubly_cyclic_table_ends_at_the_limit() {
        // Redis never finishes this reply: it doubles at every level.
        unsafe {
            let l = new_state(Kind::Eval);
            let code = b"local t = {} t[1] = t t[2] = t return t";
            lua::load(l, code, c"@user_script").unwrap();
            assert_eq!(ffi::lua_pcall(l, 0, 1, 0), 0);
            let reply = pop_reply_limited(l, 2, 5);
            let error = || Frame::Error(TOO_LARGE.to_vec());
            // Five values (the table five times, nested), then errors for
            // every value still waiting in an open table.
            let mut expected = Frame::Array(vec![error(), error()]);
            for _ in 1..5 {
                expected = Frame::Array(vec![expected, error()]);
            }
            assert_eq!(reply.frame, expected);
            assert_eq!(reply.uncounted_errors, vec![TOO_LARGE.to_vec()]);
            assert_eq!(ffi::lua_gettop(l), 0);
            ffi::lua_close(l);
        }
    }
}
