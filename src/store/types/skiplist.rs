//! `SkipList`: the order-statistic index of large sorted sets (Redis's
//! `zskiplist` in `t_zset.c`): elements ordered by (score, member), with
//! O(log n) insert, delete, rank-of-element and element-at-rank.
//!
//! # Why a skiplist with spans
//!
//! Sorted sets need three things at once: ordered iteration from any point
//! (ranges by score, by member, by rank), O(log n) updates, and O(log n)
//! *rank* arithmetic (ZRANK, ZRANGE by index, ZREMRANGEBYRANK, ZCOUNT). A
//! balanced tree with subtree counts gives that too, but a skiplist with
//! spans does it with less code and no rebalancing: each forward link at
//! each level also records how many elements it jumps over (its *span*).
//! Walking down from the top level while summing spans yields an element's
//! rank; walking while the accumulated span stays below a target rank finds
//! the element at that rank. Node heights are random (each level with
//! probability 1/4, at most 32), which keeps the expected search path
//! logarithmic whatever order elements arrive in.
//!
//! # Layout
//!
//! Nodes live in one `Vec` (an arena) and link to each other by `u32`
//! index, not by pointer: no `unsafe`, no reference counting, and the whole
//! list drops in one go. Index 0 is the header (a sentinel with the maximum
//! height); since nothing ever links *to* the header, 0 doubles as the null
//! link. Freed slots are reused, and the arena is rebuilt compactly when
//! most of it is free. Level 0 is stored inline in each node and only the
//! levels above it are boxed: three nodes in four have no upper levels and
//! so need no second allocation.
//!
//! Ties on score are ordered by member bytes, as in Redis; `-0` and `0`
//! compare equal, as C's `==` says.

use std::cmp::Ordering;

use crate::rng::Rng;
use crate::store::key::Key;

/// Most levels a node can have (Redis's `ZSKIPLIST_MAXLEVEL`).
const MAX_LEVEL: usize = 32;
/// The header's index, which also means "no node".
const NIL: u32 = 0;

#[derive(Debug, Clone, Copy, Default)]
struct Level {
    forward: u32,
    /// How many elements the forward link advances the rank by.
    span: u32,
}

#[derive(Debug, Clone)]
struct Node {
    member: Key,
    score: f64,
    /// The previous node at level 0 (`NIL` for the first).
    backward: u32,
    level0: Level,
    /// Levels 1 and up.
    upper: Box<[Level]>,
}

impl Node {
    fn new(member: Key, score: f64, height: usize) -> Self {
        Node {
            member,
            score,
            backward: NIL,
            level0: Level::default(),
            upper: vec![Level::default(); height - 1].into_boxed_slice(),
        }
    }

    fn level(&self, i: usize) -> &Level {
        if i == 0 {
            &self.level0
        } else {
            &self.upper[i - 1]
        }
    }

    fn level_mut(&mut self, i: usize) -> &mut Level {
        if i == 0 {
            &mut self.level0
        } else {
            &mut self.upper[i - 1]
        }
    }

    /// True if this node sorts before (`score`, `member`).
    fn before(&self, score: f64, member: &[u8]) -> bool {
        self.score < score || (self.score == score && self.member.as_bytes() < member)
    }
}

/// An ordered index of (score, member) pairs with rank operations. It does
/// not check for duplicate members: the sorted set's dictionary does.
#[derive(Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    /// Free arena slots.
    free: Vec<u32>,
    tail: u32,
    len: usize,
    /// The height of the tallest node (at least 1).
    level: usize,
    rng: Rng,
}

impl std::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

impl SkipList {
    pub fn new() -> Self {
        Self::with_rng(Rng::new())
    }

    /// A list whose node heights come from `rng` (tests fix the seed).
    pub fn with_rng(rng: Rng) -> Self {
        SkipList {
            nodes: vec![Node::new(Key::new(b""), 0.0, MAX_LEVEL)],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            rng,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Approximate heap bytes (memory accounting).
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self
                .nodes
                .iter()
                .map(|n| n.upper.len() * std::mem::size_of::<Level>() + n.member.heap_size())
                .sum::<usize>()
    }

    fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    fn node_mut(&mut self, i: u32) -> &mut Node {
        &mut self.nodes[i as usize]
    }

    fn forward(&self, i: u32, level: usize) -> u32 {
        self.node(i).level(level).forward
    }

    fn span(&self, i: u32, level: usize) -> u32 {
        self.node(i).level(level).span
    }

    /// A random height: each level above the first with probability 1/4.
    fn random_height(&mut self) -> usize {
        // Two zero bits per extra level: P(height > h) = 4^-h.
        let bits = self.rng.next_u64();
        (1 + bits.trailing_zeros() as usize / 2).min(MAX_LEVEL)
    }

    fn alloc(&mut self, node: Node) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                let i = u32::try_from(self.nodes.len()).expect("skiplist arena overflow");
                self.nodes.push(node);
                i
            }
        }
    }

    /// For each level, the last node before (`score`, `member`), and (if
    /// `ranks`) the rank of that node.
    fn find_update(
        &self,
        score: f64,
        member: &[u8],
        ranks: Option<&mut [usize; MAX_LEVEL]>,
    ) -> [u32; MAX_LEVEL] {
        let mut update = [NIL; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = NIL;
        for i in (0..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let next = self.forward(x, i);
                if next == NIL || !self.node(next).before(score, member) {
                    break;
                }
                rank[i] += self.span(x, i) as usize;
                x = next;
            }
            update[i] = x;
        }
        if let Some(out) = ranks {
            *out = rank;
        }
        update
    }

    /// Inserts a member that is not in the list yet.
    pub fn insert(&mut self, score: f64, member: Key) {
        debug_assert!(!score.is_nan(), "NaN scores never reach the index");
        let mut rank = [0usize; MAX_LEVEL];
        let mut update = self.find_update(score, member.as_bytes(), Some(&mut rank));
        let height = self.random_height();
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = NIL;
                self.node_mut(NIL).level_mut(i).span = self.len as u32;
            }
            self.level = height;
        }
        let x = self.alloc(Node::new(member, score, height));
        for i in 0..height {
            let prev = update[i];
            let prev_level = *self.node(prev).level(i);
            let jumped = (rank[0] - rank[i]) as u32;
            *self.node_mut(x).level_mut(i) = Level {
                forward: prev_level.forward,
                span: prev_level.span - jumped,
            };
            *self.node_mut(prev).level_mut(i) = Level {
                forward: x,
                span: jumped + 1,
            };
        }
        // Levels above the new node now jump over one more element.
        for (i, &prev) in update.iter().enumerate().take(self.level).skip(height) {
            self.node_mut(prev).level_mut(i).span += 1;
        }
        self.node_mut(x).backward = update[0];
        match self.forward(x, 0) {
            NIL => self.tail = x,
            next => self.node_mut(next).backward = x,
        }
        self.len += 1;
    }

    /// Unlinks node `x`, whose predecessors at each level are `update`, and
    /// returns its member and score.
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) -> (Key, f64) {
        for (i, &prev) in update.iter().enumerate().take(self.level) {
            if self.forward(prev, i) == x {
                let removed = *self.node(x).level(i);
                let level = self.node_mut(prev).level_mut(i);
                level.span += removed.span;
                level.span -= 1;
                level.forward = removed.forward;
            } else {
                self.node_mut(prev).level_mut(i).span -= 1;
            }
        }
        let backward = self.node(x).backward;
        match self.forward(x, 0) {
            NIL => self.tail = backward,
            next => self.node_mut(next).backward = backward,
        }
        while self.level > 1 && self.forward(NIL, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        let node = std::mem::replace(self.node_mut(x), Node::new(Key::new(b""), 0.0, 1));
        self.free.push(x);
        (node.member, node.score)
    }

    /// Removes (`score`, `member`); returns the member if it was there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<Key> {
        let update = self.find_update(score, member, None);
        let x = self.forward(update[0], 0);
        if x == NIL || self.node(x).score != score || self.node(x).member.as_bytes() != member {
            return None;
        }
        let (key, _) = self.delete_node(x, &update);
        self.maybe_compact();
        Some(key)
    }

    /// Changes the score of a member known to be in the list with score
    /// `current`. When the element keeps its position, the score is
    /// changed in place (Redis's `zslUpdateScore` shortcut).
    pub fn update_score(&mut self, current: f64, member: &[u8], new: f64) {
        let update = self.find_update(current, member, None);
        let x = self.forward(update[0], 0);
        assert!(
            x != NIL && self.node(x).score == current && self.node(x).member.as_bytes() == member,
            "update_score of a member not in the index"
        );
        let backward = self.node(x).backward;
        let next = self.forward(x, 0);
        let fits_after = backward == NIL || self.node(backward).score < new;
        let fits_before = next == NIL || self.node(next).score > new;
        if fits_after && fits_before {
            self.node_mut(x).score = new;
            return;
        }
        let (key, _) = self.delete_node(x, &update);
        self.insert(new, key);
    }

    /// The 0-based rank of (`score`, `member`), if present: the elements
    /// up to and including it are counted, and the last of them must be it.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let through = self.count_while(|s, m| s < score || (s == score && m <= member));
        let last = through.checked_sub(1)?;
        let (key, found) = self.get(last)?;
        (found == score && key.as_bytes() == member).then_some(last)
    }

    /// The node at 0-based `rank`.
    fn node_at(&self, rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let target = rank + 1;
        let mut x = NIL;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL || traversed + self.span(x, i) as usize > target {
                    break;
                }
                traversed += self.span(x, i) as usize;
                x = next;
            }
            if traversed == target {
                return Some(x);
            }
        }
        None
    }

    /// The element at 0-based `rank`.
    pub fn get(&self, rank: usize) -> Option<(&Key, f64)> {
        let n = self.node(self.node_at(rank)?);
        Some((&n.member, n.score))
    }

    /// How many elements satisfy `before`, which must hold for a prefix of
    /// the order and not after it (e.g. "score < min"). That count is also
    /// the rank of the first element not satisfying it. O(log n).
    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut x = NIL;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL {
                    break;
                }
                let n = self.node(next);
                if !before(n.score, n.member.as_bytes()) {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
        }
        rank
    }

    /// Iterates from 0-based rank `start` towards the end (or, if
    /// `reverse`, towards the start).
    pub fn iter_from(&self, start: usize, reverse: bool) -> Iter<'_> {
        let node = if reverse && start + 1 == self.len {
            self.tail
        } else if !reverse && start == 0 {
            self.forward(NIL, 0)
        } else {
            self.node_at(start).unwrap_or(NIL)
        };
        Iter {
            list: self,
            node,
            reverse,
        }
    }

    /// Every element in order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Removes the elements at 0-based ranks `start..=end`, in order,
    /// handing each to `removed`. O(log n + removed).
    pub fn remove_rank_range(
        &mut self,
        start: usize,
        end: usize,
        mut removed: impl FnMut(Key, f64),
    ) -> usize {
        if start > end || start >= self.len {
            return 0;
        }
        let end = end.min(self.len - 1);
        // Ranks are 1-based in the walk: find the node before `start + 1`.
        let first = start + 1;
        let mut update = [NIL; MAX_LEVEL];
        let mut x = NIL;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.forward(x, i);
                if next == NIL || traversed + self.span(x, i) as usize >= first {
                    break;
                }
                traversed += self.span(x, i) as usize;
                x = next;
            }
            update[i] = x;
        }
        let mut x = self.forward(x, 0);
        let mut count = 0;
        while x != NIL && start + count <= end {
            let next = self.forward(x, 0);
            let (key, score) = self.delete_node(x, &update);
            removed(key, score);
            count += 1;
            x = next;
        }
        self.maybe_compact();
        count
    }

    /// Rebuilds the arena when most of it is free, so a set that shrank
    /// gives memory back. Each element is moved once per halving, which
    /// keeps removal O(log n) amortized.
    fn maybe_compact(&mut self) {
        if self.free.len() < 64 || self.free.len() < 2 * self.len {
            return;
        }
        let mut rebuilt = SkipList::with_rng(self.rng.clone());
        let old = std::mem::take(&mut self.nodes);
        let mut x = old[NIL as usize].level0.forward;
        let mut order = Vec::with_capacity(self.len);
        while x != NIL {
            order.push(x);
            x = old[x as usize].level0.forward;
        }
        let mut old = old;
        for i in order {
            let node = std::mem::replace(&mut old[i as usize], Node::new(Key::new(b""), 0.0, 1));
            rebuilt.push_back(node.score, node.member);
        }
        *self = rebuilt;
    }

    /// Appends an element known to sort after every other one.
    fn push_back(&mut self, score: f64, member: Key) {
        // Inserting after the tail never needs a search beyond the tail's
        // predecessors, but the general path is simple and still O(log n).
        self.insert(score, member);
    }
}

/// Iterator over a [`SkipList`] from some rank, in either direction.
pub struct Iter<'a> {
    list: &'a SkipList,
    node: u32,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Key, f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.node == NIL {
            return None;
        }
        let n = self.list.node(self.node);
        self.node = if self.reverse {
            n.backward
        } else {
            n.level0.forward
        };
        Some((&n.member, n.score))
    }
}

/// Total order of (score, member) pairs as the index sorts them.
pub fn compare(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(other) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive model: a sorted vector.
    #[derive(Default)]
    struct Model(Vec<(f64, Vec<u8>)>);

    impl Model {
        fn position(&self, score: f64, member: &[u8]) -> usize {
            self.0
                .partition_point(|(s, m)| compare(*s, m, score, member) == Ordering::Less)
        }
        fn insert(&mut self, score: f64, member: &[u8]) {
            let at = self.position(score, member);
            self.0.insert(at, (score, member.to_vec()));
        }
        fn find(&self, member: &[u8]) -> Option<usize> {
            self.0.iter().position(|(_, m)| m == member)
        }
    }

    fn check(list: &SkipList, model: &Model) {
        assert_eq!(list.len(), model.0.len());
        let all: Vec<(f64, Vec<u8>)> = list
            .iter()
            .map(|(k, s)| (s, k.as_bytes().to_vec()))
            .collect();
        assert_eq!(all, model.0);
        let back: Vec<(f64, Vec<u8>)> = list
            .iter_from(list.len().saturating_sub(1), true)
            .map(|(k, s)| (s, k.as_bytes().to_vec()))
            .collect();
        let mut reversed = model.0.clone();
        reversed.reverse();
        if !list.is_empty() {
            assert_eq!(back, reversed);
        }
    }

    #[test]
    fn random_operations_agree_with_a_sorted_vector() {
        let mut rng = Rng::with_seed(11);
        let mut list = SkipList::with_rng(Rng::with_seed(3));
        let mut model = Model::default();
        for step in 0..40_000 {
            let member = format!("m{}", rng.below(700)).into_bytes();
            // Few distinct scores, so ties (ordered by member) are common.
            let score = (rng.below(50) as f64 - 25.0) / 2.0;
            match rng.below(10) {
                0..=3 => {
                    if model.find(&member).is_none() {
                        list.insert(score, Key::new(&member));
                        model.insert(score, &member);
                    }
                }
                4 | 5 => {
                    if let Some(i) = model.find(&member) {
                        let (old, _) = model.0.remove(i);
                        assert_eq!(list.remove(old, &member), Some(Key::new(&member)));
                    } else {
                        assert_eq!(list.remove(score, &member), None);
                    }
                }
                6 => {
                    if let Some(i) = model.find(&member) {
                        let (old, _) = model.0.remove(i);
                        list.update_score(old, &member, score);
                        model.insert(score, &member);
                    }
                }
                7 => {
                    if !model.0.is_empty() {
                        let a = rng.below(model.0.len() as u64) as usize;
                        let b = (a + rng.below(5) as usize).min(model.0.len() + 3);
                        let mut gone = Vec::new();
                        let n = list
                            .remove_rank_range(a, b, |k, s| gone.push((s, k.as_bytes().to_vec())));
                        let expect: Vec<_> = model.0.drain(a..=b.min(model.0.len() - 1)).collect();
                        assert_eq!(n, expect.len());
                        assert_eq!(gone, expect);
                    }
                }
                _ => {
                    // Queries: rank, element at rank, counts by score.
                    for (r, (s, m)) in model.0.iter().enumerate().step_by(7) {
                        assert_eq!(list.rank(*s, m), Some(r));
                        let (k, got) = list.get(r).expect("in range");
                        assert_eq!((k.as_bytes(), got), (m.as_slice(), *s));
                    }
                    assert_eq!(
                        list.rank(score, &member),
                        model.find(&member).filter(|&i| model.0[i].0 == score)
                    );
                    assert!(list.get(model.0.len()).is_none());
                    let below = model.0.iter().filter(|(s, _)| *s < score).count();
                    assert_eq!(list.count_while(|s, _| s < score), below);
                    let at_most = model.0.iter().filter(|(s, _)| *s <= score).count();
                    assert_eq!(list.count_while(|s, _| s <= score), at_most);
                    let start = rng.below(model.0.len() as u64 + 1) as usize;
                    let got: Vec<f64> = list.iter_from(start, false).map(|(_, s)| s).collect();
                    let want: Vec<f64> = model.0.iter().skip(start).map(|(s, _)| *s).collect();
                    if start < model.0.len() {
                        assert_eq!(got, want);
                        let got: Vec<f64> = list.iter_from(start, true).map(|(_, s)| s).collect();
                        let want: Vec<f64> =
                            model.0[..=start].iter().rev().map(|(s, _)| *s).collect();
                        assert_eq!(got, want);
                    }
                }
            }
            if step % 997 == 0 {
                check(&list, &model);
            }
        }
        check(&list, &model);
    }

    #[test]
    fn shrinking_compacts_the_arena() {
        let mut list = SkipList::with_rng(Rng::with_seed(1));
        for i in 0..10_000 {
            list.insert(i as f64, Key::new(format!("{i}").as_bytes()));
        }
        let removed = list.remove_rank_range(0, 9_899, |_, _| {});
        assert_eq!(removed, 9_900);
        assert_eq!(list.len(), 100);
        assert!(
            list.nodes.len() < 1000,
            "arena rebuilt: {}",
            list.nodes.len()
        );
        assert_eq!(
            list.get(0).map(|(k, _)| k.as_bytes().to_vec()),
            Some(b"9900".to_vec())
        );
        assert_eq!(list.rank(9999.0, b"9999"), Some(99));
    }

    #[test]
    fn zero_and_negative_zero_tie_on_member() {
        let mut list = SkipList::new();
        list.insert(0.0, Key::new(b"b"));
        list.insert(-0.0, Key::new(b"a"));
        let order: Vec<&[u8]> = list.iter().map(|(k, _)| k.as_bytes()).collect();
        assert_eq!(order, [&b"a"[..], b"b"]);
        assert_eq!(list.rank(0.0, b"a"), Some(0));
    }
}
