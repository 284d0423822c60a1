//! `Hash`: the hash value (Redis's `t_hash.c` data structure), in one of
//! the two encodings Redis reports through `OBJECT ENCODING`:
//!
//! - `listpack`: small hashes (at most `hash-max-listpack-entries` fields, 512 by default,
//!   no field or value longer than `hash-max-listpack-value` bytes) are one
//!   byte buffer of length-prefixed fields and values in insertion order,
//!   which is the order Redis replies in: about two bytes of overhead per
//!   string, as Redis's listpack. Lookups scan it, which is as fast as
//!   hashing at these sizes.
//! - `hashtable`: past either limit the hash becomes a [`Dict`] for good
//!   (Redis never converts back), with SCAN's guarantee under resizing.

use crate::rng::Rng;
use crate::store::dict::Dict;
use crate::store::key::Key;

/// The configured limits of the listpack encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// `hash-max-listpack-entries`.
    pub max_entries: usize,
    /// `hash-max-listpack-value`.
    pub max_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            max_entries: 512,
            max_value: 64,
        }
    }
}

#[derive(Clone)]
enum Repr {
    Listpack(Packed),
    Table(Dict<Key>),
}

/// Field/value pairs in one buffer: each string is its length (LEB128) and
/// its bytes, field then value, in insertion order.
#[derive(Clone, Default)]
struct Packed {
    buf: Vec<u8>,
    pairs: usize,
}

/// Reads the string at `at`: (bytes, where the next one starts).
fn read_at(buf: &[u8], at: usize) -> (&[u8], usize) {
    let (mut len, mut shift, mut i) = (0usize, 0, at);
    loop {
        let b = buf[i];
        len |= usize::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (&buf[i..i + len], i + len)
}

use super::pack_str as write_str;

impl Packed {
    fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.buf.len() {
                return None;
            }
            let (field, next) = read_at(&self.buf, at);
            let (value, end) = read_at(&self.buf, next);
            at = end;
            Some((field, value))
        })
    }

    /// Where the pair of `field` is: (its start, its value's start, its end).
    fn find(&self, field: &[u8]) -> Option<(usize, usize, usize)> {
        let mut at = 0;
        while at < self.buf.len() {
            let (f, next) = read_at(&self.buf, at);
            let (_, end) = read_at(&self.buf, next);
            if f == field {
                return Some((at, next, end));
            }
            at = end;
        }
        None
    }

    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|(_, v, _)| read_at(&self.buf, v).0)
    }

    /// Sets a field; true if it is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some((_, v, end)) => {
                let mut encoded = Vec::with_capacity(value.len() + 2);
                write_str(&mut encoded, value);
                self.buf.splice(v..end, encoded);
                false
            }
            None => {
                // Exact growth: a compact hash keeps no spare capacity.
                self.buf.reserve_exact(field.len() + value.len() + 4);
                write_str(&mut self.buf, field);
                write_str(&mut self.buf, value);
                self.pairs += 1;
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some((start, _, end)) => {
                self.buf.drain(start..end);
                self.pairs -= 1;
                true
            }
            None => false,
        }
    }
}

/// A hash.
#[derive(Clone)]
pub struct Hash {
    repr: Repr,
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Hash {
    pub fn new() -> Self {
        Hash {
            repr: Repr::Listpack(Packed::default()),
        }
    }

    /// A hash already in the `hashtable` encoding (loaded as one).
    pub fn new_table() -> Self {
        Hash {
            repr: Repr::Table(Dict::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.pairs,
            Repr::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    pub fn encoding_name(&self) -> &'static str {
        if self.is_listpack() {
            "listpack"
        } else {
            "hashtable"
        }
    }

    /// Heap bytes owned (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.buf.capacity(),
            Repr::Table(d) => {
                d.bucket_count() * 8
                    + d.iter()
                        .map(|(f, x)| 56 + f.heap_size() + x.heap_size())
                        .sum::<usize>()
            }
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(p) => p.get(field),
            Repr::Table(d) => d.get(field).map(Key::as_bytes),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets a field; returns true if it is new. Converts to `hashtable`
    /// when the field or value is too long for a listpack, or the count
    /// passes the limit.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if self.is_listpack() && (field.len() > limits.max_value || value.len() > limits.max_value)
        {
            self.convert();
        }
        let new = match &mut self.repr {
            Repr::Listpack(p) => p.set(field, value),
            Repr::Table(d) => d.insert(field, Key::new(value)).is_none(),
        };
        if self.is_listpack() && self.len() > limits.max_entries {
            self.convert();
        }
        new
    }

    /// Removes a field; returns true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(p) => p.remove(field),
            Repr::Table(d) => d.remove(field).is_some(),
        }
    }

    /// Converts to `hashtable` (one way, as in Redis).
    pub fn convert(&mut self) {
        if let Repr::Listpack(p) = &self.repr {
            let mut d = Dict::with_capacity(p.pairs);
            for (f, x) in p.iter() {
                d.insert(f, Key::new(x));
            }
            self.repr = Repr::Table(d);
        }
    }

    /// Every (field, value): insertion order for a listpack, table order
    /// otherwise.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.repr {
            Repr::Listpack(p) => Box::new(p.iter()),
            Repr::Table(d) => Box::new(d.iter().map(|(f, x)| (f.as_bytes(), x.as_bytes()))),
        }
    }

    /// One HSCAN step: a listpack is returned whole with cursor 0, as Redis
    /// does; a table one bucket position at a time (see [`Dict::scan`]).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Listpack(p) => {
                for (k, x) in p.iter() {
                    f(k, x);
                }
                0
            }
            Repr::Table(d) => {
                let mut cursor = cursor;
                // Redis visits up to 10 * COUNT buckets for COUNT elements.
                let mut buckets = count.saturating_mul(10).max(1);
                let mut seen = 0;
                loop {
                    cursor = d.scan(cursor, |k, x| {
                        seen += 1;
                        f(k.as_bytes(), x.as_bytes())
                    });
                    buckets -= 1;
                    if cursor == 0 || seen >= count || buckets == 0 {
                        return cursor;
                    }
                }
            }
        }
    }

    /// A field chosen at random, with its value.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(p) => {
                if p.pairs == 0 {
                    return None;
                }
                p.iter().nth(rng.below(p.pairs as u64) as usize)
            }
            Repr::Table(d) => d.random(rng).map(|(f, x)| (f.as_bytes(), x.as_bytes())),
        }
    }

    /// Every pair, collected (for sampling without repeats).
    pub fn pairs(&self) -> Vec<(&[u8], &[u8])> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_at_the_limits_and_keeps_insertion_order_until_then() {
        let limits = HashLimits {
            max_entries: 3,
            max_value: 4,
        };
        let mut h = Hash::new();
        assert!(h.set(b"b", b"1", limits));
        assert!(h.set(b"a", b"2", limits));
        assert!(!h.set(b"b", b"3", limits));
        let order: Vec<_> = h.iter().map(|(f, _)| f.to_vec()).collect();
        assert_eq!(order, [b"b".to_vec(), b"a".to_vec()]);
        assert!(h.is_listpack());
        h.set(b"c", b"3", limits);
        assert!(h.is_listpack());
        h.set(b"d", b"4", limits);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b"b"), Some(&b"3"[..]));
        assert_eq!(h.len(), 4);

        let mut long = Hash::new();
        long.set(b"f", b"12345", limits);
        assert_eq!(long.encoding_name(), "hashtable");
        assert!(long.remove(b"f"));
        assert!(long.is_empty());
    }

    #[test]
    fn the_packed_form_keeps_long_and_binary_strings_and_replaces_in_place() {
        let limits = HashLimits {
            max_entries: 512,
            max_value: 100_000,
        };
        let mut h = Hash::new();
        let long = vec![7u8; 300]; // a two-byte length
        h.set(b"a", b"1", limits);
        h.set(b"\x00\xff", &long, limits);
        h.set(b"c", b"", limits);
        assert!(h.is_listpack());
        assert_eq!(h.get(b"\x00\xff"), Some(&long[..]));
        assert!(!h.set(b"a", &long, limits));
        assert!(!h.set(b"\x00\xff", b"short", limits));
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            pairs,
            [
                (b"a".to_vec(), long.clone()),
                (b"\x00\xff".to_vec(), b"short".to_vec()),
                (b"c".to_vec(), Vec::new()),
            ]
        );
        assert!(h.remove(b"a"));
        assert_eq!(h.len(), 2);
        assert_eq!(h.get(b"c"), Some(&b""[..]));
    }

    #[test]
    fn scan_visits_every_field_of_a_large_hash() {
        let limits = HashLimits::default();
        let mut h = Hash::new();
        for i in 0..1000 {
            h.set(format!("f{i}").as_bytes(), b"v", limits);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = h.scan(cursor, 10, |f, _| {
                seen.insert(f.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
