//! The aggregate value types, one module each (Redis's `t_*.c` data
//! structures, without the commands that use them).
//!
//! - [`list`]: lists (`quicklist` in `OBJECT ENCODING`).
//! - [`hash`]: hashes (`listpack` or `hashtable`).
//! - [`set`]: sets (`intset` or `hashtable`).
//! - [`zset`]: sorted sets (`listpack` or `skiplist`).
//! - [`skiplist`]: the order-statistic index behind large sorted sets.
//! - [`stream`]: streams (`stream`), their nodes and consumer groups.
//!
//! [`Aggregate`] maps each of them to its [`Value`] variant.

pub mod hash;
pub mod list;
pub mod set;
pub mod skiplist;
pub mod stream;
pub mod zset;

use super::Value;

/// An aggregate type as a [`Value`] variant holds it: what lets commands
/// take a key's value as the type they expect, or see that it is another.
pub trait Aggregate: Sized {
    /// The value as this type, if it is one.
    fn of(value: &Value) -> Option<&Self>;
    /// The value as this type, if it is one, to change.
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    /// True when no element is left (Redis never keeps such a key).
    fn is_empty(&self) -> bool;
    /// The value holding it.
    fn into_value(self) -> Value;
}

/// `Aggregate` for a type held boxed in one `Value` variant.
macro_rules! aggregate {
    ($type:ty, $variant:ident) => {
        impl Aggregate for $type {
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }

            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }

            fn is_empty(&self) -> bool {
                <$type>::is_empty(self)
            }

            fn into_value(self) -> Value {
                Value::$variant(Box::new(self))
            }
        }
    };
}

aggregate!(list::List, List);
aggregate!(hash::Hash, Hash);
aggregate!(set::Set, Set);
aggregate!(zset::ZSet, ZSet);

// A stream is never deleted for having no entries left: Redis keeps an
// empty stream (its last id and groups still matter), so its `is_empty`
// here is always false.
impl Aggregate for stream::Stream {
    fn of(value: &Value) -> Option<&Self> {
        match value {
            Value::Stream(v) => Some(v),
            _ => None,
        }
    }

    fn of_mut(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Stream(v) => Some(v),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        false
    }

    fn into_value(self) -> Value {
        Value::Stream(Box::new(self))
    }
}

/// Appends `s` to a buffer of packed strings: its length as a base-128
/// varint (low bits first), then its bytes. The compact hash and the
/// stream's entries keep their strings so.
pub(crate) fn pack_str(out: &mut Vec<u8>, s: &[u8]) {
    let mut len = s.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(s);
}
