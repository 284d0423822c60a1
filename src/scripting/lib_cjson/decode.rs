//! `cjson.decode`: JSON text as a Lua value, with CJSON's tokenizer (and
//! its leniency: `strtod` numbers, a NUL ending the text) and its errors.

use std::ffi::c_int;

use super::{Config, config};
use crate::scripting::lua::{self, L, LuaError, ffi};

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

    /// Opens an object or array: a new table, and the token of its first
    /// element, or `None` when `end` closes it at once.
    unsafe fn open(&mut self, l: L, slots: c_int, end: Kind) -> Result<Option<Token>, LuaError> {
        unsafe {
            self.descend(l, slots)?;
            ffi::lua_newtable(l);
        }
        let token = self.next_token();
        Ok(self.unless_end(token, end))
    }

    /// What follows an element of an object or array: the token of the
    /// next element after a comma, `None` at `end`, and for anything else
    /// CJSON's error naming what it `expected`.
    fn next_element(&mut self, end: Kind, expected: &str) -> Result<Option<Token>, LuaError> {
        let token = self.next_token();
        match self.unless_end(token, end) {
            None => Ok(None),
            Some(comma) if comma.kind == Kind::Comma => Ok(Some(self.next_token())),
            Some(other) => Err(self.parse_error(expected, &other)),
        }
    }

    /// `token`, unless it is `end`, which closes the innermost container.
    fn unless_end(&mut self, token: Token, end: Kind) -> Option<Token> {
        if token.kind == end {
            self.depth -= 1;
            return None;
        }
        Some(token)
    }

    unsafe fn object(&mut self, l: L) -> Result<(), LuaError> {
        let mut next = unsafe { self.open(l, 3, Kind::ObjEnd) }?;
        while let Some(token) = next {
            if token.kind != Kind::String {
                return Err(self.parse_error("object key string", &token));
            }
            unsafe { lua::push_bytes(l, &self.string) };
            let token = self.next_token();
            if token.kind != Kind::Colon {
                return Err(self.parse_error("colon", &token));
            }
            let token = self.next_token();
            unsafe {
                self.value(l, &token)?;
                ffi::lua_rawset(l, -3);
            }
            next = self.next_element(Kind::ObjEnd, "comma or object end")?;
        }
        Ok(())
    }

    unsafe fn array(&mut self, l: L) -> Result<(), LuaError> {
        let mut next = unsafe { self.open(l, 2, Kind::ArrEnd) }?;
        let mut i: ffi::lua_Integer = 1;
        while let Some(token) = next {
            unsafe {
                self.value(l, &token)?;
                ffi::lua_rawseti(l, -2, i);
            }
            i += 1;
            next = self.next_element(Kind::ArrEnd, "comma or array end")?;
        }
        Ok(())
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

pub(super) unsafe extern "C-unwind" fn decode(l: L) -> c_int {
    let result = unsafe { decode_value(l) }.map(|()| 1);
    unsafe { lua::finish(l, result) }
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
