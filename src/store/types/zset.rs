//! `ZSet`: the sorted set value (Redis's `zset` in `t_zset.c`), in one of
//! the two encodings Redis reports through `OBJECT ENCODING`:
//!
//! - `listpack`: small sets (at most `zset-max-listpack-entries` members,
//!   none longer than `zset-max-listpack-value` bytes) are one vector of
//!   (member, score) pairs kept in order. Lookups by member scan it, as
//!   Redis scans its listpack; at this size that is faster than hashing.
//! - `skiplist`: a [`Dict`] from member to score (O(1) ZSCORE, ZSCAN's
//!   cursor) plus a [`SkipList`] ordered by (score, member) for ranges and
//!   ranks in O(log n).
//!
//! Conversions happen where Redis does them, so the reported encoding is
//! always Redis's: a set grows from listpack to skiplist when an insert
//! would pass a limit, and never shrinks back, except when a command
//! builds a new set from scratch and asks for the compact form
//! ([`ZSet::shrink_if_small`], as ZUNIONSTORE and friends do).
//!
//! Everything is addressed by 0-based rank in ascending (score, member)
//! order; commands turn score and lexicographic bounds into ranks with
//! [`ZSet::count_while`] and then work on rank ranges, whichever the
//! encoding.

use std::cmp::Ordering;

use super::skiplist::{self, SkipList};
use crate::rng::Rng;
use crate::store::dict::Dict;
use crate::store::key::Key;

/// The configured limits of the listpack encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZSetLimits {
    /// `zset-max-listpack-entries`.
    pub max_entries: usize,
    /// `zset-max-listpack-value`.
    pub max_value: usize,
}

impl Default for ZSetLimits {
    fn default() -> Self {
        ZSetLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

#[derive(Clone)]
enum Repr {
    /// Sorted by (score, member).
    Listpack(Vec<(Key, f64)>),
    Skiplist(Box<Large>),
}

#[derive(Clone, Default)]
struct Large {
    dict: Dict<f64>,
    index: SkipList,
}

/// A sorted set.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

/// The score a listpack keeps for `score`. Redis writes listpack scores
/// that are whole numbers as integers (`double2ll`), and that turns `-0`
/// into `0`; a skiplist keeps `-0` as it is.
fn listpack_score(score: f64) -> f64 {
    if score == 0.0 { 0.0 } else { score }
}

/// What [`ZSet::add`] should do (ZADD's options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    /// The score changed (the new score).
    Updated(f64),
    /// The member was there with this score already.
    Unchanged(f64),
    /// NX, XX, GT or LT prevented the change.
    Skipped,
    /// The increment gave NaN (`+inf` plus `-inf`): nothing changed.
    NotANumber,
}

impl ZSet {
    /// An empty set in the listpack encoding.
    pub fn new_listpack() -> Self {
        ZSet {
            repr: Repr::Listpack(Vec::new()),
        }
    }

    /// An empty set in the skiplist encoding.
    pub fn new_skiplist() -> Self {
        ZSet {
            repr: Repr::Skiplist(Box::default()),
        }
    }

    /// An empty set in the encoding Redis creates for ZADD's first member
    /// (`member_len` bytes long): skiplist if listpacks are disabled or the
    /// member is too long for one.
    pub fn new_for(member_len: usize, limits: ZSetLimits) -> Self {
        if limits.max_entries == 0 || member_len > limits.max_value {
            Self::new_skiplist()
        } else {
            Self::new_listpack()
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Skiplist(l) => l.index.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `listpack` or `skiplist`.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Approximate heap bytes (memory accounting).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                v.capacity() * std::mem::size_of::<(Key, f64)>()
                    + v.iter().map(|(k, _)| k.heap_size()).sum::<usize>()
            }
            Repr::Skiplist(l) => {
                l.index.heap_size()
                    + l.dict.bucket_count() * 8
                    + l.dict.len() * (std::mem::size_of::<Key>() + 16)
            }
        }
    }

    /// The member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|(k, _)| k.as_bytes() == member).map(|e| e.1),
            Repr::Skiplist(l) => l.dict.get(member).copied(),
        }
    }

    /// Converts to the skiplist encoding (no-op if already there).
    pub fn convert_to_skiplist(&mut self) {
        if let Repr::Listpack(v) = &mut self.repr {
            let entries = std::mem::take(v);
            let mut large = Large {
                dict: Dict::with_capacity(entries.len()),
                index: SkipList::new(),
            };
            for (member, score) in entries {
                large.dict.insert(member.as_bytes(), score);
                large.index.insert(score, member);
            }
            self.repr = Repr::Skiplist(Box::new(large));
        }
    }

    /// Converts a skiplist-encoded set to a listpack if it is within the
    /// limits (Redis's `zsetConvertToListpackIfNeeded`, used on sets a
    /// command built from scratch).
    pub fn shrink_if_small(&mut self, limits: ZSetLimits) {
        let Repr::Skiplist(large) = &self.repr else {
            return;
        };
        let longest = large.index.iter().map(|(k, _)| k.as_bytes().len()).max();
        if large.index.len() <= limits.max_entries && longest.unwrap_or(0) <= limits.max_value {
            let entries = large
                .index
                .iter()
                .map(|(k, s)| (k.clone(), listpack_score(s)))
                .collect();
            self.repr = Repr::Listpack(entries);
        }
    }

    /// Inserts a member known to be absent, converting to skiplist first
    /// if the listpack would pass a limit.
    fn insert_new(&mut self, member: &[u8], score: f64, limits: ZSetLimits) {
        if let Repr::Listpack(v) = &self.repr
            && (v.len() + 1 > limits.max_entries || member.len() > limits.max_value)
        {
            self.convert_to_skiplist();
        }
        match &mut self.repr {
            Repr::Listpack(v) => {
                let score = listpack_score(score);
                let at = v.partition_point(|(k, s)| {
                    skiplist::compare(*s, k.as_bytes(), score, member) == Ordering::Less
                });
                v.insert(at, (Key::new(member), score));
            }
            Repr::Skiplist(l) => {
                l.dict.insert(member, score);
                l.index.insert(score, Key::new(member));
            }
        }
    }

    /// Changes the score of a member known to be present with `current`.
    fn change_score(&mut self, member: &[u8], current: f64, new: f64) {
        match &mut self.repr {
            Repr::Listpack(v) => {
                let from = v
                    .iter()
                    .position(|(k, _)| k.as_bytes() == member)
                    .expect("member present");
                let (key, _) = v.remove(from);
                let new = listpack_score(new);
                let at = v.partition_point(|(k, s)| {
                    skiplist::compare(*s, k.as_bytes(), new, member) == Ordering::Less
                });
                v.insert(at, (key, new));
            }
            Repr::Skiplist(l) => {
                l.index.update_score(current, member, new);
                if let Some(slot) = l.dict.get_mut(member) {
                    *slot = new;
                }
            }
        }
    }

    /// Adds a member or updates its score under ZADD's rules (Redis's
    /// `zsetAdd`). `score` must not be NaN (ZADD rejects NaN while parsing).
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: ZSetLimits,
    ) -> AddOutcome {
        match self.score(member) {
            Some(current) => {
                if flags.nx {
                    return AddOutcome::Skipped;
                }
                let new = if flags.incr { score + current } else { score };
                if new.is_nan() {
                    return AddOutcome::NotANumber;
                }
                if (flags.lt && new >= current) || (flags.gt && new <= current) {
                    return AddOutcome::Skipped;
                }
                // `-0 == 0`: such a "change" keeps the stored score, as in Redis.
                if new == current {
                    return AddOutcome::Unchanged(new);
                }
                self.change_score(member, current, new);
                AddOutcome::Updated(new)
            }
            None if flags.xx => AddOutcome::Skipped,
            None => {
                self.insert_new(member, score, limits);
                AddOutcome::Added(score)
            }
        }
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.repr {
            Repr::Listpack(v) => {
                let at = v.iter().position(|(k, _)| k.as_bytes() == member)?;
                Some(v.remove(at).1)
            }
            Repr::Skiplist(l) => {
                let score = l.dict.remove(member)?;
                l.index.remove(score, member);
                Some(score)
            }
        }
    }

    /// The member's 0-based rank in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().position(|(k, _)| k.as_bytes() == member),
            Repr::Skiplist(l) => {
                let score = *l.dict.get(member)?;
                l.index.rank(score, member)
            }
        }
    }

    /// The element at 0-based `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Listpack(v) => v.get(rank).map(|(k, s)| (k.as_bytes(), *s)),
            Repr::Skiplist(l) => l.index.get(rank).map(|(k, s)| (k.as_bytes(), s)),
        }
    }

    /// How many elements, from the lowest, satisfy `before` (a predicate
    /// that holds for a prefix of the order): the rank of the first
    /// element that does not. O(log n) for skiplists.
    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.partition_point(|(k, s)| before(*s, k.as_bytes())),
            Repr::Skiplist(l) => l.index.count_while(before),
        }
    }

    /// Iterates from 0-based rank `start` upwards (or downwards if
    /// `reverse`). Starting past the end yields nothing.
    pub fn iter_from(&self, start: usize, reverse: bool) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(v) => {
                let slice = if start >= v.len() {
                    &v[..0]
                } else if reverse {
                    &v[..=start]
                } else {
                    &v[start..]
                };
                Iter::Listpack {
                    slice: slice.iter(),
                    reverse,
                }
            }
            Repr::Skiplist(l) => {
                if start >= l.index.len() {
                    Iter::Empty
                } else {
                    Iter::Skiplist(l.index.iter_from(start, reverse))
                }
            }
        }
    }

    /// Every element in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Removes the elements at ranks `start..=end` (clamped to the set);
    /// returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        if start > end || start >= self.len() {
            return 0;
        }
        let end = end.min(self.len() - 1);
        match &mut self.repr {
            Repr::Listpack(v) => v.drain(start..=end).count(),
            Repr::Skiplist(l) => {
                let dict = &mut l.dict;
                l.index.remove_rank_range(start, end, |k, _| {
                    dict.remove(k.as_bytes());
                })
            }
        }
    }

    /// Removes and returns the lowest (or, if `max`, the highest) element.
    pub fn pop(&mut self, max: bool) -> Option<(Key, f64)> {
        let rank = if max { self.len().checked_sub(1)? } else { 0 };
        match &mut self.repr {
            Repr::Listpack(v) => {
                if v.is_empty() {
                    None
                } else {
                    Some(v.remove(rank))
                }
            }
            Repr::Skiplist(l) => {
                let mut popped = None;
                let dict = &mut l.dict;
                l.index.remove_rank_range(rank, rank, |k, s| {
                    dict.remove(k.as_bytes());
                    popped = Some((k, s));
                });
                popped
            }
        }
    }

    /// A uniformly random element (ZRANDMEMBER).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        self.get(rng.below(self.len() as u64) as usize)
    }

    /// One step of ZSCAN: calls `f` for some elements and returns the next
    /// cursor (0 when done). A listpack is returned whole in one step, as
    /// Redis does; a skiplist set walks its dictionary's buckets with
    /// Redis's reverse-binary cursor until it has `count` elements or has
    /// visited `20 * count` buckets (Redis's bound for sparse tables).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Listpack(v) => {
                for (k, s) in v {
                    f(k.as_bytes(), *s);
                }
                0
            }
            Repr::Skiplist(l) => {
                let mut cursor = cursor;
                let mut visits = count.saturating_mul(20);
                let mut found = 0;
                loop {
                    cursor = l.dict.scan(cursor, |k, s| {
                        f(k.as_bytes(), *s);
                        found += 1;
                    });
                    if cursor == 0 || visits == 0 || found >= count {
                        return cursor;
                    }
                    visits -= 1;
                }
            }
        }
    }
}

/// Iterator over (member, score) pairs from some rank.
pub enum Iter<'a> {
    Empty,
    Listpack {
        slice: std::slice::Iter<'a, (Key, f64)>,
        reverse: bool,
    },
    Skiplist(skiplist::Iter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Empty => None,
            Iter::Listpack { slice, reverse } => {
                let (k, s) = if *reverse {
                    slice.next_back()?
                } else {
                    slice.next()?
                };
                Some((k.as_bytes(), *s))
            }
            Iter::Skiplist(it) => it.next().map(|(k, s)| (k.as_bytes(), s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const SMALL: ZSetLimits = ZSetLimits {
        max_entries: 8,
        max_value: 4,
    };

    /// Compares every query of `z` against a naive model.
    fn check(z: &ZSet, model: &BTreeMap<Vec<u8>, f64>) {
        let mut sorted: Vec<(f64, Vec<u8>)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
        sorted.sort_by(|a, b| skiplist::compare(a.0, &a.1, b.0, &b.1));
        assert_eq!(z.len(), sorted.len());
        let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
        assert_eq!(got, sorted);
        for (rank, (score, member)) in sorted.iter().enumerate() {
            assert_eq!(z.score(member), Some(*score));
            assert_eq!(z.rank(member), Some(rank));
            assert_eq!(z.get(rank), Some((member.as_slice(), *score)));
        }
        if let Some((score, _)) = sorted.get(sorted.len() / 2) {
            let below = sorted.iter().filter(|(s, _)| s < score).count();
            assert_eq!(z.count_while(|s, _| s < *score), below);
        }
    }

    #[test]
    fn both_encodings_agree_with_a_model_and_convert_at_the_limits() {
        let mut rng = Rng::with_seed(5);
        let mut z = ZSet::new_listpack();
        let mut model = BTreeMap::new();
        let mut converted = false;
        for step in 0..6000 {
            let member = format!("{}", rng.below(if step < 3000 { 8 } else { 40 })).into_bytes();
            let score = rng.below(9) as f64 - 4.0;
            match rng.below(6) {
                0..=2 => {
                    let flags = AddFlags {
                        incr: rng.below(4) == 0,
                        ..AddFlags::default()
                    };
                    let expect_new = model
                        .get(&member)
                        .map_or(score, |c| if flags.incr { c + score } else { score });
                    match z.add(&member, score, flags, SMALL) {
                        AddOutcome::Added(s)
                        | AddOutcome::Updated(s)
                        | AddOutcome::Unchanged(s) => {
                            assert_eq!(s, expect_new);
                            model.insert(member, s);
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                3 => assert_eq!(z.remove(&member), model.remove(&member)),
                4 => {
                    if let Some((m, s)) = z.pop(rng.below(2) == 0) {
                        assert_eq!(model.remove(m.as_bytes()), Some(s));
                    }
                }
                _ => {
                    let a = rng.below(10) as usize;
                    let b = a + rng.below(3) as usize;
                    let mut sorted: Vec<(f64, Vec<u8>)> =
                        model.iter().map(|(m, s)| (*s, m.clone())).collect();
                    sorted.sort_by(|x, y| skiplist::compare(x.0, &x.1, y.0, &y.1));
                    let expect = sorted.len().saturating_sub(a).min(b - a + 1);
                    assert_eq!(
                        z.remove_rank_range(a, b),
                        if a < sorted.len() { expect } else { 0 }
                    );
                    for (_, m) in sorted.iter().skip(a).take(b - a + 1) {
                        model.remove(m);
                    }
                }
            }
            if model.len() > SMALL.max_entries {
                converted = true;
            }
            if converted {
                assert_eq!(z.encoding_name(), "skiplist", "never converts back");
            }
            check(&z, &model);
        }
        assert!(converted);
    }

    #[test]
    fn zadd_flags_follow_redis() {
        let limits = ZSetLimits::default();
        let mut z = ZSet::new_listpack();
        let nx = AddFlags {
            nx: true,
            ..AddFlags::default()
        };
        let xx = AddFlags {
            xx: true,
            ..AddFlags::default()
        };
        let gt = AddFlags {
            gt: true,
            ..AddFlags::default()
        };
        let lt_incr = AddFlags {
            lt: true,
            incr: true,
            ..AddFlags::default()
        };
        assert_eq!(z.add(b"a", 1.0, xx, limits), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 1.0, nx, limits), AddOutcome::Added(1.0));
        assert_eq!(z.add(b"a", 2.0, nx, limits), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 0.5, gt, limits), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", 3.0, gt, limits), AddOutcome::Updated(3.0));
        assert_eq!(z.add(b"a", 1.0, lt_incr, limits), AddOutcome::Skipped);
        assert_eq!(z.add(b"a", -1.0, lt_incr, limits), AddOutcome::Updated(2.0));
        let incr = AddFlags {
            incr: true,
            ..AddFlags::default()
        };
        assert_eq!(
            z.add(b"b", f64::INFINITY, incr, limits),
            AddOutcome::Added(f64::INFINITY)
        );
        assert_eq!(
            z.add(b"b", f64::NEG_INFINITY, incr, limits),
            AddOutcome::NotANumber
        );
        assert_eq!(
            z.add(b"c", -0.0, AddFlags::default(), limits),
            AddOutcome::Added(-0.0)
        );
        assert!(
            z.score(b"c").unwrap().is_sign_positive(),
            "a listpack stores -0 as 0"
        );
        let mut big = ZSet::new_skiplist();
        big.add(b"c", -0.0, AddFlags::default(), limits);
        assert_eq!(
            big.add(b"c", 0.0, AddFlags::default(), limits),
            AddOutcome::Unchanged(0.0)
        );
        assert!(
            big.score(b"c").unwrap().is_sign_negative(),
            "a skiplist keeps -0"
        );
        big.shrink_if_small(limits);
        assert!(big.score(b"c").unwrap().is_sign_positive());
    }

    #[test]
    fn new_sets_pick_the_encoding_of_their_first_member() {
        let limits = ZSetLimits::default();
        assert_eq!(ZSet::new_for(64, limits).encoding_name(), "listpack");
        assert_eq!(ZSet::new_for(65, limits).encoding_name(), "skiplist");
        let off = ZSetLimits {
            max_entries: 0,
            ..limits
        };
        assert_eq!(ZSet::new_for(1, off).encoding_name(), "skiplist");
        let mut z = ZSet::new_skiplist();
        z.add(b"x", 1.0, AddFlags::default(), limits);
        z.shrink_if_small(limits);
        assert_eq!(z.encoding_name(), "listpack");
    }

    #[test]
    fn scan_visits_every_member_of_a_large_set() {
        let mut z = ZSet::new_skiplist();
        for i in 0..1000 {
            z.add(
                format!("m{i}").as_bytes(),
                i as f64,
                AddFlags::default(),
                ZSetLimits::default(),
            );
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, 10, |m, s| {
                assert_eq!(z.score(m), Some(s));
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
