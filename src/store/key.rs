//! `Key`: an immutable, binary-safe key. Most keys are short, so keys of up
//! to 22 bytes live inline in the 24-byte value itself and need no separate
//! allocation; longer ones are a boxed slice (no spare capacity, unlike `Vec`).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

const INLINE: usize = 22;

#[derive(Clone)]
pub enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            Key::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            }
        } else {
            Key::Heap(bytes.into())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }

    /// Heap bytes this key owns beyond its own 24 bytes.
    pub fn heap_size(&self) -> usize {
        match self {
            Key::Inline { .. } => 0,
            Key::Heap(b) => b.len(),
        }
    }
}

impl From<&[u8]> for Key {
    fn from(bytes: &[u8]) -> Self {
        Key::new(bytes)
    }
}

impl From<Vec<u8>> for Key {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            Key::new(&bytes)
        } else {
            Key::Heap(bytes.into_boxed_slice())
        }
    }
}

// Hash and equality must agree with `[u8]`'s, because maps keyed by `Key` are
// looked up with a plain `&[u8]` through `Borrow`.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn short_keys_are_inline_and_long_keys_boxed() {
        assert_eq!(std::mem::size_of::<Key>(), 24);
        assert!(matches!(
            Key::new(b"0123456789012345678901"),
            Key::Inline { .. }
        ));
        assert!(matches!(Key::new(b"01234567890123456789012"), Key::Heap(_)));
        assert_eq!(Key::new(b"").as_bytes(), b"");
    }

    #[test]
    fn lookups_by_slice_find_keys() {
        let mut map = HashMap::new();
        map.insert(Key::new(b"a\0b\r\n"), 1);
        map.insert(Key::new(&[7u8; 100]), 2);
        assert_eq!(map.get(&b"a\0b\r\n"[..]), Some(&1));
        assert_eq!(map.get(&[7u8; 100][..]), Some(&2));
    }
}
