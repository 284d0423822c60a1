//! `Set`: the set value (Redis's `t_set.c` data structure), in one of the
//! two encodings Redis 7.0 reports through `OBJECT ENCODING`:
//!
//! - `intset`: a set of integers only (each member a canonical decimal
//!   `i64`), at most `set-max-intset-entries` of them, kept sorted; Redis
//!   replies with them in ascending order.
//! - `hashtable`: anything else, a [`Dict`] for good (Redis never converts
//!   back), with SCAN's guarantee under resizing.

use std::borrow::Cow;

use crate::num;
use crate::rng::Rng;
use crate::store::dict::Dict;
use crate::store::key::Key;

#[derive(Clone)]
enum Repr {
    Intset(Vec<i64>),
    Table(Dict<()>),
}

/// A set.
#[derive(Clone)]
pub struct Set {
    repr: Repr,
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(
                self.iter()
                    .map(|m| String::from_utf8_lossy(&m).into_owned()),
            )
            .finish()
    }
}

/// The integer a member stands for, if it is one an intset can hold.
fn as_int(member: &[u8]) -> Option<i64> {
    if member.len() > 20 {
        return None;
    }
    num::parse_i64(member)
}

fn int_bytes(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

impl Set {
    /// An empty set in the encoding Redis picks for its first member
    /// (`setTypeCreate`).
    pub fn new_for(first: &[u8]) -> Self {
        if as_int(first).is_some() {
            Set {
                repr: Repr::Intset(Vec::new()),
            }
        } else {
            Self::new_table()
        }
    }

    pub fn new_intset() -> Self {
        Set {
            repr: Repr::Intset(Vec::new()),
        }
    }

    pub fn new_table() -> Self {
        Set {
            repr: Repr::Table(Dict::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.len(),
            Repr::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Intset(_))
    }

    pub fn encoding_name(&self) -> &'static str {
        if self.is_intset() {
            "intset"
        } else {
            "hashtable"
        }
    }

    /// Heap bytes owned (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.capacity() * 8,
            Repr::Table(d) => {
                d.bucket_count() * 8 + d.keys().map(|k| 40 + k.heap_size()).sum::<usize>()
            }
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Intset(v) => as_int(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Table(d) => d.contains(member),
        }
    }

    /// Adds a member; returns true if it is new. An intset becomes a table
    /// when the member is not an integer or the count passes
    /// `max_intset_entries`.
    pub fn add(&mut self, member: &[u8], max_intset_entries: usize) -> bool {
        if let Repr::Intset(v) = &mut self.repr {
            match as_int(member) {
                Some(n) => {
                    let Err(at) = v.binary_search(&n) else {
                        return false;
                    };
                    v.insert(at, n);
                    if v.len() > max_intset_entries {
                        self.convert();
                    }
                    return true;
                }
                None => self.convert(),
            }
        }
        match &mut self.repr {
            Repr::Table(d) => d.insert(member, ()).is_none(),
            Repr::Intset(_) => unreachable!("converted above"),
        }
    }

    /// Removes a member; returns true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Intset(v) => match as_int(member).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Repr::Table(d) => d.remove(member).is_some(),
        }
    }

    /// Converts to `hashtable`.
    pub fn convert(&mut self) {
        if let Repr::Intset(v) = &self.repr {
            let mut d = Dict::with_capacity(v.len());
            for n in v {
                d.insert(&int_bytes(*n), ());
            }
            self.repr = Repr::Table(d);
        }
    }

    /// Every member: ascending for an intset, table order otherwise.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        match &self.repr {
            Repr::Intset(v) => Box::new(v.iter().map(|n| Cow::Owned(int_bytes(*n)))),
            Repr::Table(d) => Box::new(d.keys().map(|k| Cow::Borrowed(k.as_bytes()))),
        }
    }

    /// One SSCAN step: an intset is returned whole with cursor 0, as Redis
    /// does; a table one bucket position at a time.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8])) -> u64 {
        match &self.repr {
            Repr::Intset(v) => {
                for n in v {
                    f(&int_bytes(*n));
                }
                0
            }
            Repr::Table(d) => {
                let mut cursor = cursor;
                let mut buckets = count.saturating_mul(10).max(1);
                let mut seen = 0;
                loop {
                    cursor = d.scan(cursor, |k, _| {
                        seen += 1;
                        f(k.as_bytes())
                    });
                    buckets -= 1;
                    if cursor == 0 || seen >= count || buckets == 0 {
                        return cursor;
                    }
                }
            }
        }
    }

    /// A member chosen at random.
    pub fn random(&self, rng: &mut Rng) -> Option<Cow<'_, [u8]>> {
        match &self.repr {
            Repr::Intset(v) => {
                if v.is_empty() {
                    return None;
                }
                let n = v[rng.below(v.len() as u64) as usize];
                Some(Cow::Owned(int_bytes(n)))
            }
            Repr::Table(d) => d.random(rng).map(|(k, _)| Cow::Borrowed(k.as_bytes())),
        }
    }

    /// Removes and returns a member chosen at random.
    pub fn pop(&mut self, rng: &mut Rng) -> Option<Vec<u8>> {
        let member = self.random(rng)?.into_owned();
        self.remove(&member);
        Some(member)
    }

    /// The member as this set stores it, for the table form (a `Key`).
    pub fn keys(&self) -> Vec<Key> {
        self.iter().map(|m| Key::new(&m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intsets_stay_sorted_and_convert_for_strings_or_size() {
        let mut s = Set::new_for(b"3");
        assert!(s.add(b"3", 4));
        assert!(s.add(b"-1", 4));
        assert!(!s.add(b"3", 4));
        assert!(s.add(b"10", 4));
        let members: Vec<_> = s.iter().map(|m| m.into_owned()).collect();
        assert_eq!(members, [b"-1".to_vec(), b"3".to_vec(), b"10".to_vec()]);
        assert_eq!(s.encoding_name(), "intset");
        // "007" is not canonical: it is a string member.
        assert!(s.add(b"007", 4));
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"10") && s.contains(b"007") && !s.contains(b"7"));

        let mut big = Set::new_intset();
        for i in 0..5 {
            big.add(i.to_string().as_bytes(), 4);
        }
        assert_eq!(big.encoding_name(), "hashtable");
        assert_eq!(big.len(), 5);
        assert!(big.remove(b"4") && !big.remove(b"4"));
    }
}
