//! `Dict`: the hash table behind large hashes, sets and sorted sets (Redis's
//! `dict.c`), keyed by binary strings.
//!
//! std's `HashMap` cannot do two things these types need:
//!
//! - **Cursor scans** (HSCAN, SSCAN, ZSCAN). A stateless cursor must still
//!   return every element present for the whole scan even when the table
//!   grows or shrinks between calls. Redis's answer, used here, walks bucket
//!   indexes in *reverse-binary* order: growing the table splits bucket `b`
//!   into `b` and `b + size`, which come right after each other in that
//!   order, so no bucket already visited is ever revisited with unseen
//!   elements and none is skipped.
//! - **Random elements**, uniformly, in O(1) expected time (SPOP,
//!   SRANDMEMBER, HRANDFIELD): pick a random (bucket, chain position) pair
//!   out of `buckets × longest chain` and retry when the position is past
//!   that bucket's chain. Picking a non-empty bucket and then an element of
//!   its chain would be quicker but unfair: an element sharing its bucket
//!   with two others would come up a third as often as one alone.
//!
//! Buckets hold singly linked chains; the table doubles when it holds as many
//! elements as buckets and shrinks when under a tenth full. A resize rehashes
//! everything at once: simpler than Redis's incremental rehash, at the cost of
//! one O(n) step on the key being grown (each element moves once per
//! doubling, so inserts stay O(1) amortized).

use std::sync::OnceLock;

use super::hasher::KeyHasher;
use super::key::Key;
use crate::rng::Rng;

/// One process-wide seed for every dict: cursors stay meaningful because a
/// table's hash function never changes while the server runs.
fn hasher() -> &'static KeyHasher {
    static HASHER: OnceLock<KeyHasher> = OnceLock::new();
    HASHER.get_or_init(KeyHasher::new)
}

const MIN_BUCKETS: usize = 4;

struct Node<V> {
    key: Key,
    value: V,
    next: Option<Box<Node<V>>>,
}

/// A hash table from binary keys to `V`.
pub struct Dict<V> {
    /// Always a power of two in length, or empty when the dict is empty.
    buckets: Box<[Option<Box<Node<V>>>]>,
    len: usize,
    /// At least the length of the longest chain: exact after a resize,
    /// raised by inserts, left alone by removals (keeping it exact would
    /// need a walk of every chain). [`Dict::random`] draws chain positions
    /// below it, so it must never be too small; too large only costs tries.
    max_chain: usize,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let mut copy = Dict::with_capacity(self.len);
        for (k, v) in self.iter() {
            copy.insert(k.as_bytes(), v.clone());
        }
        copy
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Dict {
            buckets: Box::new([]),
            len: 0,
            max_chain: 0,
        }
    }

    /// A dict with room for `n` elements before it grows.
    pub fn with_capacity(n: usize) -> Self {
        let mut dict = Self::new();
        if n > 0 {
            dict.resize(n.next_power_of_two().max(MIN_BUCKETS));
        }
        dict
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets (for memory accounting).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn bucket_of(&self, key: &[u8]) -> usize {
        (hasher().hash(key) as usize) & (self.buckets.len() - 1)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let mut node = self.buckets[self.bucket_of(key)].as_deref();
        while let Some(n) = node {
            if n.key.as_bytes() == key {
                return Some(&n.value);
            }
            node = n.next.as_deref();
        }
        None
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let b = self.bucket_of(key);
        let mut node = self.buckets[b].as_deref_mut();
        while let Some(n) = node {
            if n.key.as_bytes() == key {
                return Some(&mut n.value);
            }
            node = n.next.as_deref_mut();
        }
        None
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; returns the value that was there.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(key) {
            return Some(std::mem::replace(slot, value));
        }
        if self.len >= self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        let b = self.bucket_of(key);
        let next = self.buckets[b].take();
        let chain = 1 + chain_len(next.as_deref());
        self.buckets[b] = Some(Box::new(Node {
            key: Key::new(key),
            value,
            next,
        }));
        self.len += 1;
        self.max_chain = self.max_chain.max(chain);
        None
    }

    /// Removes a key; returns its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes a key; returns it and its value.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(Key, V)> {
        if self.len == 0 {
            return None;
        }
        let b = self.bucket_of(key);
        let mut link = &mut self.buckets[b];
        loop {
            match link {
                None => return None,
                Some(node) if node.key.as_bytes() == key => {
                    let mut node = link.take().expect("matched Some");
                    *link = node.next.take();
                    self.len -= 1;
                    self.shrink_if_sparse();
                    return Some((node.key, node.value));
                }
                Some(node) => link = &mut node.next,
            }
        }
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    fn shrink_if_sparse(&mut self) {
        if self.len == 0 {
            self.buckets = Box::new([]);
            self.max_chain = 0;
        } else if self.buckets.len() > MIN_BUCKETS && self.len * 10 < self.buckets.len() {
            self.resize(self.len.next_power_of_two().max(MIN_BUCKETS));
        }
    }

    /// Rehashes every element into `size` buckets (a power of two).
    fn resize(&mut self, size: usize) {
        debug_assert!(size.is_power_of_two());
        let mut buckets: Box<[Option<Box<Node<V>>>]> = (0..size).map(|_| None).collect();
        let old = std::mem::take(&mut self.buckets);
        for mut chain in old.into_vec() {
            while let Some(mut node) = chain {
                chain = node.next.take();
                let b = (hasher().hash(node.key.as_bytes()) as usize) & (size - 1);
                node.next = buckets[b].take();
                buckets[b] = Some(node);
            }
        }
        self.max_chain = buckets
            .iter()
            .map(|chain| chain_len(chain.as_deref()))
            .max()
            .unwrap_or(0);
        self.buckets = buckets;
    }

    /// Every element, in bucket order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            buckets: &self.buckets,
            index: 0,
            node: None,
            left: self.len,
        }
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.iter().map(|(k, _)| k)
    }

    /// Visits the elements of one bucket position of a scan and returns the
    /// next cursor (0 when the scan is complete). Call repeatedly, starting
    /// from 0, until it returns 0; see the module docs for the guarantee.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&Key, &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut node = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(n) = node {
            f(&n.key, &n.value);
            node = n.next.as_deref();
        }
        // Increment the cursor's masked bits in reverse-binary order.
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A random element, every element equally likely. `None` when empty.
    ///
    /// Each try draws one of `buckets × max_chain` equally likely slots,
    /// each element holding exactly one, and retries on an empty slot:
    /// `buckets × max_chain / len` tries are expected. Chains stay short (a
    /// handful of elements even in a table of millions) and the table is at
    /// least a tenth full, so that is a few tries at the usual load and some
    /// tens in a table about to shrink.
    pub fn random(&self, rng: &mut Rng) -> Option<(&Key, &V)> {
        if self.len == 0 {
            return None;
        }
        loop {
            let b = rng.below(self.buckets.len() as u64) as usize;
            // Every position of an empty bucket is empty: no need to draw one.
            let Some(first) = self.buckets[b].as_deref() else {
                continue;
            };
            let mut position = rng.below(self.max_chain as u64);
            let mut node = Some(first);
            while let Some(n) = node {
                if position == 0 {
                    return Some((&n.key, &n.value));
                }
                position -= 1;
                node = n.next.as_deref();
            }
        }
    }
}

/// The number of nodes in a chain.
fn chain_len<V>(mut node: Option<&Node<V>>) -> usize {
    let mut len = 0;
    while let Some(n) = node {
        len += 1;
        node = n.next.as_deref();
    }
    len
}

/// Iterator over a [`Dict`].
pub struct Iter<'a, V> {
    buckets: &'a [Option<Box<Node<V>>>],
    index: usize,
    node: Option<&'a Node<V>>,
    left: usize,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a Key, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.node {
                self.node = n.next.as_deref();
                self.left -= 1;
                return Some((&n.key, &n.value));
            }
            let bucket = self.buckets.get(self.index)?;
            self.index += 1;
            self.node = bucket.as_deref();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}

impl<V> Drop for Dict<V> {
    /// Frees chains iteratively: the default recursive drop of a long linked
    /// chain could overflow a worker's small stack.
    fn drop(&mut self) {
        for bucket in self.buckets.iter_mut() {
            let mut chain = bucket.take();
            while let Some(mut node) = chain {
                chain = node.next.take();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn behaves_like_a_map() {
        let mut dict = Dict::new();
        let mut model = HashMap::new();
        let mut rng = Rng::with_seed(7);
        for _ in 0..20_000 {
            let key = format!("k{}", rng.below(3000)).into_bytes();
            match rng.below(3) {
                0 | 1 => {
                    let v = rng.next_u64();
                    assert_eq!(dict.insert(&key, v), model.insert(key.clone(), v));
                }
                _ => assert_eq!(dict.remove(&key), model.remove(&key)),
            }
            assert_eq!(dict.len(), model.len());
        }
        for (k, v) in &model {
            assert_eq!(dict.get(k), Some(v));
        }
        assert_eq!(dict.iter().count(), model.len());
        assert!(dict.bucket_count() <= (model.len() * 10).next_power_of_two().max(MIN_BUCKETS));
    }

    #[test]
    fn scan_returns_every_stable_element_across_resizes() {
        let mut dict = Dict::new();
        for i in 0..5000 {
            dict.insert(format!("stable:{i}").as_bytes(), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0u64;
        loop {
            cursor = dict.scan(cursor, |k, _| {
                seen.insert(k.clone());
            });
            // Grow and shrink the table between steps.
            if step % 50 < 25 {
                for j in 0..200 {
                    dict.insert(format!("churn:{step}:{j}").as_bytes(), ());
                }
            } else {
                let churn: Vec<Key> = dict
                    .keys()
                    .filter(|k| k.as_bytes().starts_with(b"churn"))
                    .cloned()
                    .collect();
                for k in churn {
                    dict.remove(k.as_bytes());
                }
            }
            step += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(
                seen.contains(&Key::new(format!("stable:{i}").as_bytes())),
                "missed {i}"
            );
        }
    }

    #[test]
    fn random_reaches_every_element() {
        let mut dict = Dict::new();
        for i in 0..50 {
            dict.insert(format!("m{i}").as_bytes(), i);
        }
        let mut rng = Rng::with_seed(1);
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            let (_, v) = dict.random(&mut rng).expect("non-empty");
            seen.insert(*v);
        }
        assert_eq!(seen.len(), 50);
        assert!(Dict::<()>::new().random(&mut rng).is_none());
    }

    /// A chain node holding `i`, in front of `next`.
    fn node(i: u32, next: Option<Box<Node<u32>>>) -> Option<Box<Node<u32>>> {
        Some(Box::new(Node {
            key: Key::new(&i.to_le_bytes()),
            value: i,
            next,
        }))
    }

    #[test]
    fn random_is_fair_to_elements_that_share_a_bucket() {
        // Built by hand so the layout is known: three elements chained in
        // one bucket, one alone in another, two buckets empty. Picking a
        // bucket and then a chain member would return the lone element half
        // the time.
        let mut dict: Dict<u32> = Dict::new();
        dict.buckets =
            vec![node(0, node(1, node(2, None))), node(3, None), None, None].into_boxed_slice();
        dict.len = 4;
        dict.max_chain = 3;
        let mut rng = Rng::with_seed(3);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            let (_, v) = dict.random(&mut rng).expect("non-empty");
            counts[*v as usize] += 1;
        }
        assert!(
            counts.iter().all(|c| (9_000..11_000).contains(c)),
            "{counts:?}"
        );
    }

    #[test]
    fn max_chain_bounds_every_chain_through_inserts_removals_and_resizes() {
        let mut dict = Dict::new();
        let mut rng = Rng::with_seed(5);
        for _ in 0..20_000 {
            let key = format!("k{}", rng.below(2000)).into_bytes();
            if rng.below(3) < 2 {
                dict.insert(&key, ());
            } else {
                dict.remove(&key);
            }
            let longest = dict
                .buckets
                .iter()
                .map(|c| chain_len(c.as_deref()))
                .max()
                .unwrap_or(0);
            assert!(dict.max_chain >= longest);
        }
    }

    #[test]
    fn long_chains_drop_without_recursion() {
        // Force one huge chain by filling a table that is never resized:
        // a dict of one bucket built by hand.
        let mut dict: Dict<()> = Dict::new();
        dict.buckets = vec![None].into_boxed_slice();
        let mut chain = None;
        for i in 0..200_000u32 {
            chain = Some(Box::new(Node {
                key: Key::new(&i.to_le_bytes()),
                value: (),
                next: chain,
            }));
        }
        dict.buckets[0] = chain;
        dict.len = 200_000;
        dict.max_chain = 200_000;
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || drop(dict))
            .unwrap()
            .join()
            .expect("dropped on a small stack");
    }
}
