//! Ranges of a sorted set: score bounds (Redis's `zslParseRange`: `(` for
//! exclusive, then `strtod`), member bounds (`zslParseLexRangeItem`), and
//! the span of ranks a range selects, walked as Redis walks it, forwards
//! or backwards, whatever the encoding.

use std::cmp::Ordering;

use crate::error::{self, CommandError, CommandResult};
use crate::num::strtod::strtod_prefix;
use crate::store::types::zset::ZSet;

/// One end of a score range.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

/// Parses a score bound as Redis's `zslParseRange` does: `(` for an
/// exclusive bound, then `strtod` over the argument read as a C string;
/// NaN is refused.
fn parse_score_bound(arg: &[u8]) -> Option<ScoreBound> {
    let text = error::c_str_prefix(arg, usize::MAX);
    let (exclusive, number) = match text.first() {
        Some(b'(') => (true, &text[1..]),
        _ => (false, text),
    };
    let (value, used) = strtod_prefix(number);
    (used == number.len() && !value.is_nan()).then_some(ScoreBound { value, exclusive })
}

/// A range of elements: by score or by member.
pub(super) trait Range {
    /// The element is at or above the range's lower end.
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    /// The element is at or below the range's upper end.
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
    /// The bounds themselves leave nothing between them.
    fn is_void(&self) -> bool;
}

#[derive(Debug, Clone, Copy)]
pub(super) struct ScoreRange {
    min: ScoreBound,
    max: ScoreBound,
}

impl Range for ScoreRange {
    fn gte_min(&self, score: f64, _: &[u8]) -> bool {
        if self.min.exclusive {
            score > self.min.value
        } else {
            score >= self.min.value
        }
    }

    fn lte_max(&self, score: f64, _: &[u8]) -> bool {
        if self.max.exclusive {
            score < self.max.value
        } else {
            score <= self.max.value
        }
    }

    fn is_void(&self) -> bool {
        self.min.value > self.max.value
            || (self.min.value == self.max.value && (self.min.exclusive || self.max.exclusive))
    }
}

/// `min max` as score bounds, or Redis's error.
pub(super) fn parse_score_range(min: &[u8], max: &[u8]) -> CommandResult<ScoreRange> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err(CommandError::err("min or max is not a float")),
    }
}

/// One end of a lexicographical range (Redis's `zslParseLexRangeItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

impl LexBound {
    fn parse(arg: &[u8]) -> Option<LexBound> {
        // `+` and `-` must be alone (a C string: a NUL ends the argument).
        let alone = arg.get(1).is_none_or(|&c| c == 0);
        match arg.first()? {
            b'+' if alone => Some(LexBound::Max),
            b'-' if alone => Some(LexBound::Min),
            b'(' => Some(LexBound::Exclusive(arg[1..].to_vec())),
            b'[' => Some(LexBound::Inclusive(arg[1..].to_vec())),
            _ => None,
        }
    }

    fn is_exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }

    /// Redis's `sdscmplex`: a member compared with a bound.
    fn compare_member(member: &[u8], bound: &LexBound) -> Ordering {
        match bound {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Inclusive(v) | LexBound::Exclusive(v) => member.cmp(v),
        }
    }

    /// `sdscmplex` of two bounds (the two infinities equal themselves).
    fn compare(a: &LexBound, b: &LexBound) -> Ordering {
        match (a, b) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (x, y) => {
                let value = |b: &LexBound| match b {
                    LexBound::Inclusive(v) | LexBound::Exclusive(v) => v.clone(),
                    _ => Vec::new(),
                };
                value(x).cmp(&value(y))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl Range for LexRange {
    fn gte_min(&self, _: f64, member: &[u8]) -> bool {
        let c = LexBound::compare_member(member, &self.min);
        if self.min.is_exclusive() {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    fn lte_max(&self, _: f64, member: &[u8]) -> bool {
        let c = LexBound::compare_member(member, &self.max);
        if self.max.is_exclusive() {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    fn is_void(&self) -> bool {
        let c = LexBound::compare(&self.min, &self.max);
        c == Ordering::Greater
            || (c == Ordering::Equal && (self.min.is_exclusive() || self.max.is_exclusive()))
    }
}

pub(super) fn parse_lex_range(min: &[u8], max: &[u8]) -> CommandResult<LexRange> {
    match (LexBound::parse(min), LexBound::parse(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CommandError::err("min or max not valid string range item")),
    }
}

/// True if some element may lie in the range (Redis's `zslIsInRange`:
/// the bounds leave room, the highest element is not below the minimum,
/// the lowest not above the maximum).
fn may_intersect(z: &ZSet, r: &impl Range) -> bool {
    if r.is_void() || z.is_empty() {
        return false;
    }
    let (last, last_score) = z.get(z.len() - 1).expect("non-empty");
    let (first, first_score) = z.get(0).expect("non-empty");
    r.gte_min(last_score, last) && r.lte_max(first_score, first)
}

/// The ranks `first..=last` of the elements in range, found as Redis walks
/// it forwards: the first element at or above the minimum, then on while
/// at or below the maximum.
pub(super) fn span_forward(z: &ZSet, r: &impl Range) -> Option<(usize, usize)> {
    if !may_intersect(z, r) {
        return None;
    }
    let first = if z.is_listpack() {
        z.iter().position(|(m, s)| r.gte_min(s, m))?
    } else {
        z.count_while(|s, m| !r.gte_min(s, m))
    };
    let (m, s) = z.get(first)?;
    if !r.lte_max(s, m) {
        return None;
    }
    let last = if z.is_listpack() {
        first
            + z.iter_from(first, false)
                .take_while(|(m, s)| r.lte_max(*s, m))
                .count()
            - 1
    } else {
        z.count_while(|s, m| r.lte_max(s, m))
            .saturating_sub(1)
            .max(first)
    };
    Some((first, last))
}

/// The ranks `last..=first` (downwards) of the elements in range, found as
/// Redis walks it backwards: the last element at or below the maximum,
/// then down while at or above the minimum.
pub(super) fn span_backward(z: &ZSet, r: &impl Range) -> Option<(usize, usize)> {
    if !may_intersect(z, r) {
        return None;
    }
    let last = if z.is_listpack() {
        z.len()
            - 1
            - z.iter_from(z.len() - 1, true)
                .position(|(m, s)| r.lte_max(s, m))?
    } else {
        z.count_while(|s, m| r.lte_max(s, m)).checked_sub(1)?
    };
    let (m, s) = z.get(last)?;
    if !r.gte_min(s, m) {
        return None;
    }
    let lowest = if z.is_listpack() {
        last + 1
            - z.iter_from(last, true)
                .take_while(|(m, s)| r.gte_min(*s, m))
                .count()
    } else {
        z.count_while(|s, m| !r.gte_min(s, m)).min(last)
    };
    Some((last, lowest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::types::zset::{AddFlags, ZSetLimits};

    #[test]
    fn score_bounds_follow_zslparserange() {
        let b = |s: &[u8]| parse_score_bound(s);
        assert_eq!(
            b(b"1"),
            Some(ScoreBound {
                value: 1.0,
                exclusive: false
            })
        );
        assert_eq!(
            b(b"(1"),
            Some(ScoreBound {
                value: 1.0,
                exclusive: true
            })
        );
        assert_eq!(
            b(b""),
            Some(ScoreBound {
                value: 0.0,
                exclusive: false
            })
        );
        assert_eq!(
            b(b"("),
            Some(ScoreBound {
                value: 0.0,
                exclusive: true
            })
        );
        assert_eq!(
            b(b"1\0junk"),
            Some(ScoreBound {
                value: 1.0,
                exclusive: false
            })
        );
        assert_eq!(b(b"1 "), None);
        assert_eq!(b(b"nan"), None);
        assert_eq!(b(b"((1"), None);
    }

    #[test]
    fn lex_bounds_follow_zslparselexrangeitem() {
        assert_eq!(LexBound::parse(b"-"), Some(LexBound::Min));
        assert_eq!(LexBound::parse(b"+\0x"), Some(LexBound::Max));
        assert_eq!(LexBound::parse(b"-x"), None);
        assert_eq!(LexBound::parse(b""), None);
        assert_eq!(
            LexBound::parse(b"[a\0b"),
            Some(LexBound::Inclusive(b"a\0b".to_vec()))
        );
        assert_eq!(LexBound::parse(b"("), Some(LexBound::Exclusive(Vec::new())));
        let r = |a: &[u8], b: &[u8]| parse_lex_range(a, b).unwrap().is_void();
        assert!(!r(b"-", b"+"));
        assert!(r(b"+", b"-"));
        assert!(r(b"-", b"-"));
        assert!(r(b"(a", b"[a"));
        assert!(!r(b"[a", b"[a"));
        assert!(r(b"[b", b"[a"));
    }

    #[test]
    fn spans_match_a_linear_filter_in_both_encodings() {
        let mut rng = crate::rng::Rng::with_seed(9);
        for encoding in ["listpack", "skiplist"] {
            let mut z = if encoding == "listpack" {
                ZSet::new_listpack()
            } else {
                ZSet::new_skiplist()
            };
            let limits = ZSetLimits {
                max_entries: 1000,
                max_value: 64,
            };
            for i in 0..200 {
                let score = rng.below(20) as f64;
                z.add(
                    format!("m{i:03}").as_bytes(),
                    score,
                    AddFlags::default(),
                    limits,
                );
            }
            assert_eq!(z.encoding_name(), encoding);
            for _ in 0..500 {
                let lo = rng.below(24) as f64 - 2.0;
                let hi = rng.below(24) as f64 - 2.0;
                let range = ScoreRange {
                    min: ScoreBound {
                        value: lo,
                        exclusive: rng.below(2) == 0,
                    },
                    max: ScoreBound {
                        value: hi,
                        exclusive: rng.below(2) == 0,
                    },
                };
                let expect: Vec<usize> = z
                    .iter()
                    .enumerate()
                    .filter(|(_, (m, s))| range.gte_min(*s, m) && range.lte_max(*s, m))
                    .map(|(i, _)| i)
                    .collect();
                let fwd = span_forward(&z, &range);
                let back = span_backward(&z, &range);
                match (expect.first(), expect.last()) {
                    (Some(&a), Some(&b)) => {
                        assert_eq!(fwd, Some((a, b)));
                        assert_eq!(back, Some((b, a)));
                    }
                    _ => {
                        assert_eq!(fwd, None);
                        assert_eq!(back, None);
                    }
                }
            }
        }
    }
}
