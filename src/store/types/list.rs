//! `List`: the list value (Redis's `t_list.c` over `quicklist.c`).
//!
//! Redis 7.0 stores every list as a quicklist (a linked list of listpack
//! nodes) and `OBJECT ENCODING` always says `quicklist`, however short the
//! list (the `listpack` list encoding only arrived in Redis 7.2). sedis keeps
//! a ring buffer of compact byte strings instead: [`Key`] stores elements of
//! up to 22 bytes inline, so a typical element costs 24 bytes and no
//! allocation, and pushes and pops at both ends are O(1) while LINDEX and
//! LSET are O(1) too (Redis's are O(n)). Inserting or removing in the
//! middle moves the shorter side, O(n) as in Redis.
//!
//! Indexes here are plain `usize` positions from the head; the commands
//! turn Redis's negative indexes into them.

use std::collections::VecDeque;

use crate::store::key::Key;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (`LEFT`, index 0).
    Left,
    /// The tail (`RIGHT`, index -1).
    Right,
}

impl End {
    /// The keyword Redis uses for this end (`LMOVE ... LEFT|RIGHT`).
    pub fn name(self) -> &'static str {
        match self {
            End::Left => "left",
            End::Right => "right",
        }
    }
}

/// A list of binary strings.
#[derive(Debug, Clone, Default)]
pub struct List {
    items: VecDeque<Key>,
}

impl List {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// What `OBJECT ENCODING` reports: always `quicklist` in Redis 7.0.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes (memory accounting).
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Key>()
            + self.items.iter().map(Key::heap_size).sum::<usize>()
    }

    pub fn push(&mut self, end: End, element: &[u8]) {
        self.push_key(end, Key::new(element));
    }

    pub fn push_key(&mut self, end: End, element: Key) {
        match end {
            End::Left => self.items.push_front(element),
            End::Right => self.items.push_back(element),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Key> {
        let popped = match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        };
        self.release_spare();
        popped
    }

    /// The element at `index` from the head.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(Key::as_bytes)
    }

    /// Replaces the element at `index`; false if out of range.
    pub fn set(&mut self, index: usize, element: &[u8]) -> bool {
        match self.items.get_mut(index) {
            Some(slot) => {
                *slot = Key::new(element);
                true
            }
            None => false,
        }
    }

    /// Inserts `element` so that it ends up at `index` (0..=len).
    pub fn insert(&mut self, index: usize, element: &[u8]) {
        self.items.insert(index, Key::new(element));
    }

    /// The elements at positions `start..=end` (clamped to the list),
    /// head to tail; `.rev()` walks them tail to head.
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &[u8]> {
        let end = end.saturating_add(1).min(self.items.len());
        let start = start.min(end);
        self.items.range(start..end).map(Key::as_bytes)
    }

    /// Every element, head to tail.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.items.iter().map(Key::as_bytes)
    }

    /// The position of the first element equal to `element`.
    pub fn position(&self, element: &[u8]) -> Option<usize> {
        self.items.iter().position(|e| e.as_bytes() == element)
    }

    /// Removes up to `limit` elements equal to `element` (all of them if
    /// `limit` is 0), scanning from the tail if `from_tail`. Returns how
    /// many were removed.
    pub fn remove_matching(&mut self, element: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let limit = if limit == 0 { usize::MAX } else { limit };
        if from_tail {
            let mut i = self.items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if self.items[i].as_bytes() == element {
                    self.items.remove(i);
                    removed += 1;
                }
            }
        } else {
            // One pass that keeps order: retain until the limit is reached.
            self.items.retain(|e| {
                if removed < limit && e.as_bytes() == element {
                    removed += 1;
                    false
                } else {
                    true
                }
            });
        }
        self.release_spare();
        removed
    }

    /// Removes `head` elements from the head and `tail` from the tail.
    pub fn trim(&mut self, head: usize, tail: usize) {
        let head = head.min(self.items.len());
        self.items.drain(..head);
        let keep = self.items.len().saturating_sub(tail);
        self.items.truncate(keep);
        self.release_spare();
    }

    /// Removes up to `count` elements from `end` and returns them in the
    /// order they were popped.
    pub fn pop_many(&mut self, end: End, count: usize) -> Vec<Key> {
        let n = count.min(self.items.len());
        let popped: Vec<Key> = match end {
            End::Left => self.items.drain(..n).collect(),
            End::Right => {
                let start = self.items.len() - n;
                self.items.drain(start..).rev().collect()
            }
        };
        self.release_spare();
        popped
    }

    /// Gives memory back after a list shrank to a quarter of its buffer.
    fn release_spare(&mut self) {
        let cap = self.items.capacity();
        if cap > 64 && self.items.len() * 4 < cap {
            self.items.shrink_to(self.items.len() * 2);
        }
    }
}

impl FromIterator<Key> for List {
    fn from_iter<I: IntoIterator<Item = Key>>(iter: I) -> Self {
        List {
            items: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        items.iter().map(|s| Key::new(s.as_bytes())).collect()
    }

    fn contents(l: &List) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    #[test]
    fn pushes_pops_and_indexes() {
        let mut l = List::new();
        l.push(End::Right, b"b");
        l.push(End::Left, b"a");
        l.push(End::Right, b"c");
        assert_eq!(contents(&l), ["a", "b", "c"]);
        assert_eq!(l.get(1), Some(&b"b"[..]));
        assert!(l.set(2, b"C"));
        assert!(!l.set(3, b"x"));
        l.insert(1, b"ab");
        assert_eq!(contents(&l), ["a", "ab", "b", "C"]);
        assert_eq!(
            l.pop(End::Right).map(|k| k.as_bytes().to_vec()),
            Some(b"C".to_vec())
        );
        let popped: Vec<_> = l
            .pop_many(End::Right, 5)
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        assert_eq!(popped, [b"b".to_vec(), b"ab".to_vec(), b"a".to_vec()]);
        assert!(l.is_empty());
    }

    #[test]
    fn ranges_clamp_and_reverse() {
        let l = list(&["a", "b", "c", "d"]);
        let fwd: Vec<&[u8]> = l.range(1, 9).collect();
        assert_eq!(fwd, [&b"b"[..], b"c", b"d"]);
        let back: Vec<&[u8]> = l.range(0, 2).rev().collect();
        assert_eq!(back, [&b"c"[..], b"b", b"a"]);
        assert_eq!(l.range(9, 12).count(), 0);
    }

    #[test]
    fn removes_matches_from_either_end() {
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove_matching(b"x", 2, true), 2);
        assert_eq!(contents(&l), ["x", "a", "b"]);
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove_matching(b"x", 2, false), 2);
        assert_eq!(contents(&l), ["a", "b", "x"]);
        assert_eq!(l.remove_matching(b"x", 0, false), 1);
        assert_eq!(contents(&l), ["a", "b"]);
    }

    #[test]
    fn trims_both_ends() {
        let mut l = list(&["a", "b", "c", "d", "e"]);
        l.trim(1, 2);
        assert_eq!(contents(&l), ["b", "c"]);
        l.trim(5, 5);
        assert!(l.is_empty());
    }
}
