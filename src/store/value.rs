//! What a key holds. One variant per Redis type; each type's representation
//! and operations live in their own module, as Redis keeps them in `t_*.c`.
//!
//! Strings are [`StrValue`], encoded the way Redis encodes them so that
//! `OBJECT ENCODING` reports the same names: `int` for canonical integers,
//! `embstr` for short strings, `raw` for long ones and any string modified in
//! place (APPEND, SETRANGE).

use crate::num;

use super::types::hash::Hash;
use super::types::list::List;
use super::types::set::Set;
use super::types::stream::Stream;
use super::types::zset::ZSet;

/// The value stored at a key. Aggregates are boxed so that a value stays
/// 24 bytes whatever it holds.
#[derive(Debug, Clone)]
pub enum Value {
    Str(StrValue),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

impl Value {
    /// The name `TYPE` replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name `OBJECT ENCODING` replies with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding_name(),
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(s) => s.encoding_name(),
        }
    }

    /// The string, if this is a string.
    pub fn as_str_mut(&mut self) -> Option<&mut StrValue> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Approximate heap bytes owned by the value (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }

    /// True for the types blocked clients wait for (lists, sorted sets and
    /// streams): creating such a key may serve them.
    pub fn can_unblock(&self) -> bool {
        matches!(self, Value::List(_) | Value::ZSet(_) | Value::Stream(_))
    }
}

/// Strings up to this length are kept inside the value, with no allocation:
/// with the length and the variant's tag that makes a `StrValue` 24 bytes,
/// and a [`Value`] too (the other variants fit around the tag).
const INLINE: usize = 22;
/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
const EMBSTR_LIMIT: usize = 44;
/// Redis only tries the integer encoding on strings this short.
const MAX_INT_DIGITS: usize = 20;

/// A string value.
#[derive(Clone)]
pub enum StrValue {
    /// A canonical decimal integer (`OBJECT ENCODING` → `int`).
    Int(i64),
    /// A short string stored inline (`embstr`).
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A string created whole: `embstr` up to 44 bytes, `raw` beyond.
    Boxed(Box<[u8]>),
    /// A string modified in place, with room to grow (`raw`). Boxed so the
    /// common variants stay small; only APPEND and SETRANGE targets pay.
    Raw(Box<Vec<u8>>),
}

impl std::fmt::Debug for StrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StrValue({:?})", String::from_utf8_lossy(&self.bytes()))
    }
}

impl StrValue {
    /// Stores `bytes` with the encoding Redis's `tryObjectEncoding` would pick.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        if bytes.len() <= MAX_INT_DIGITS
            && let Some(n) = num::parse_i64(&bytes)
        {
            return StrValue::Int(n);
        }
        Self::from_bytes_no_int(bytes)
    }

    /// Stores `bytes` as a string even if it looks like an integer (Redis keeps
    /// some results, like INCRBYFLOAT's, as strings).
    pub fn from_bytes_no_int(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(&bytes);
            StrValue::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            }
        } else {
            StrValue::Boxed(bytes.into_boxed_slice())
        }
    }

    /// Like [`StrValue::from_bytes`], copying only when the value does not
    /// fit inline.
    pub fn from_slice(bytes: &[u8]) -> Self {
        if bytes.len() <= MAX_INT_DIGITS
            && let Some(n) = num::parse_i64(bytes)
        {
            return StrValue::Int(n);
        }
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            return StrValue::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            };
        }
        StrValue::Boxed(bytes.into())
    }

    pub fn from_i64(n: i64) -> Self {
        StrValue::Int(n)
    }

    /// The string's bytes (integers are formatted on the fly).
    pub fn bytes(&self) -> StrBytes<'_> {
        match self {
            StrValue::Int(n) => {
                let mut buf = [0u8; 20];
                let len = num::format_i64(*n, &mut buf).len();
                buf.copy_within(20 - len.., 0);
                StrBytes::Formatted(buf, len as u8)
            }
            StrValue::Inline { len, bytes } => StrBytes::Borrowed(&bytes[..*len as usize]),
            StrValue::Boxed(b) => StrBytes::Borrowed(b),
            StrValue::Raw(v) => StrBytes::Borrowed(v),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => {
                let mut buf = [0u8; 20];
                num::format_i64(*n, &mut buf).len()
            }
            StrValue::Inline { len, .. } => *len as usize,
            StrValue::Boxed(b) => b.len(),
            StrValue::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, if it is one in Redis's strict sense.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(n) => Some(*n),
            other => num::parse_i64(&other.bytes()),
        }
    }

    /// Turns the value into a growable `raw` string and gives access to it,
    /// as Redis's `dbUnshareStringValue` does before APPEND or SETRANGE.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StrValue::Raw(_)) {
            *self = StrValue::Raw(Box::new(self.bytes().to_vec()));
        }
        match self {
            StrValue::Raw(v) => v,
            _ => unreachable!("just converted to Raw"),
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Inline { .. } => "embstr",
            StrValue::Boxed(b) if b.len() <= EMBSTR_LIMIT => "embstr",
            StrValue::Boxed(_) | StrValue::Raw(_) => "raw",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            StrValue::Int(_) | StrValue::Inline { .. } => 0,
            StrValue::Boxed(b) => b.len(),
            StrValue::Raw(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
        }
    }
}

/// The bytes of a [`StrValue`]: borrowed, or formatted from an integer.
pub enum StrBytes<'a> {
    Borrowed(&'a [u8]),
    Formatted([u8; 20], u8),
}

impl std::ops::Deref for StrBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            StrBytes::Borrowed(b) => b,
            StrBytes::Formatted(buf, len) => &buf[..*len as usize],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(StrValue::from_slice(b"123").encoding_name(), "int");
        assert_eq!(
            StrValue::from_slice(b"-9223372036854775808").encoding_name(),
            "int"
        );
        assert_eq!(StrValue::from_slice(b"0123").encoding_name(), "embstr");
        assert_eq!(StrValue::from_slice(&[b'a'; 44]).encoding_name(), "embstr");
        assert_eq!(StrValue::from_slice(&[b'a'; 45]).encoding_name(), "raw");
        let mut s = StrValue::from_slice(b"ab");
        s.make_raw().push(b'c');
        assert_eq!(s.encoding_name(), "raw");
        assert_eq!(&*s.bytes(), b"abc");
        assert_eq!(&*StrValue::from_i64(-42).bytes(), b"-42");
        assert_eq!(StrValue::from_i64(i64::MIN).len(), 20);
    }

    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<StrValue>(), 24);
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }
}
