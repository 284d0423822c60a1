//! Sorted set commands (Redis's `t_zset.c`), blocking pops included.
//!
//! Every range command turns its bounds (indexes, scores, or member
//! strings) into a span of ranks and then reads or removes that span, so
//! the work is O(log n) plus the elements touched whatever the encoding
//! (see [`crate::store::types::zset`]). Scores are parsed and printed the
//! way Redis does: `strtod` for range bounds (`(` for exclusive, `inf`,
//! hexadecimal, leading blanks), Redis's stricter float parser for ZADD's
//! scores, and `%.17g` (RESP2 bulk strings, RESP3 doubles) in replies.
//!
//! ZUNION, ZINTER and ZDIFF (and their STORE forms, and ZINTERCARD) take
//! sorted sets; `input_of` is where other types become inputs (Redis
//! also accepts plain sets, every member scoring 1).

use std::cmp::Ordering;

use crate::channels::notify::{self, Events};
use crate::error::{self, CommandError, CommandResult};
use crate::num::strtod::strtod_prefix;
use crate::resp::ReplyWriter;
use crate::store::types::Aggregate;
use crate::store::types::set::Set;
use crate::store::types::skiplist;
use crate::store::types::zset::{AddFlags, AddOutcome, ZSet, ZSetLimits};
use crate::store::waiting::BlockedOp;
use crate::store::{Db, Value};

use super::Ctx;
use super::args;
use super::blocking;
use super::keys::{parse_scan_cursor, reply_empty_scan, scan_options};
use super::table::{Command, KeySpecInfo, flags::*};
use super::typed::{as_type, delete_if_empty};

// ---- Key specs, lookups, limits ------------------------------------------------

/// The listpack limits from the configuration.
fn limits(ctx: &Ctx) -> ZSetLimits {
    ctx.state.config().zset_limits()
}

fn pop_event(max: bool) -> &'static str {
    if max { "zpopmax" } else { "zpopmin" }
}

/// After members were removed from `key` by `event`: the event, then
/// `del` if the set was emptied and deleted.
fn note_removal(events: &mut Events, key: &[u8], event: &'static str, deleted: bool) {
    notify::note(events, notify::ZSET, event, key);
    if deleted {
        notify::note(events, notify::GENERIC, "del", key);
    }
}

/// Writes (member, score) pairs: with scores, a flat array in RESP2 and
/// an array of pairs in RESP3, as Redis replies to ZRANGE WITHSCORES.
fn reply_members<'a>(
    out: &mut ReplyWriter,
    withscores: bool,
    len: usize,
    items: impl Iterator<Item = (&'a [u8], f64)>,
) {
    let nested = withscores && out.is_resp3();
    out.array(if withscores && !nested { 2 * len } else { len });
    for (member, score) in items {
        if nested {
            out.array(2);
        }
        out.bulk(member);
        if withscores {
            out.double(score);
        }
    }
}

// ---- Parsing scores and ranges ----------------------------------------------

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
trait Range {
    /// The element is at or above the range's lower end.
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    /// The element is at or below the range's upper end.
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
    /// The bounds themselves leave nothing between them.
    fn is_void(&self) -> bool;
}

#[derive(Debug, Clone, Copy)]
struct ScoreRange {
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
fn parse_score_range(min: &[u8], max: &[u8]) -> CommandResult<ScoreRange> {
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
struct LexRange {
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

fn parse_lex_range(min: &[u8], max: &[u8]) -> CommandResult<LexRange> {
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
fn span_forward(z: &ZSet, r: &impl Range) -> Option<(usize, usize)> {
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
fn span_backward(z: &ZSet, r: &impl Range) -> Option<(usize, usize)> {
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

/// Clamps a Redis index range to `len` elements; `None` if empty.
fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

// ---- ZADD ZINCRBY --------------------------------------------------------------

/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
fn zadd(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zadd_generic(ctx, args, false)
}

/// `ZINCRBY key increment member`: ZADD's code with INCR, as in Redis (so
/// an increment spelled like a ZADD option shifts the arguments and fails
/// as a syntax error there too).
fn zincrby(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx, args: &[Vec<u8>], incr_command: bool) -> CommandResult {
    let mut flags = AddFlags {
        incr: incr_command,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut at = 2;
    while at < args.len() {
        let opt = &args[at];
        if args::is_option(opt, "nx") {
            flags.nx = true;
        } else if args::is_option(opt, "xx") {
            flags.xx = true;
        } else if args::is_option(opt, "ch") {
            ch = true;
        } else if args::is_option(opt, "incr") {
            flags.incr = true;
        } else if args::is_option(opt, "gt") {
            flags.gt = true;
        } else if args::is_option(opt, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        at += 1;
    }
    let pairs = &args[at..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    if flags.nx && flags.xx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs.len() > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let scores = pairs
        .chunks(2)
        .map(|pair| args::float(&pair[0]))
        .collect::<CommandResult<Vec<f64>>>()?;
    let limits = limits(ctx);
    let key = &args[1];
    let mut db = ctx.db();
    let mut created = None;
    let zset = match as_type::<ZSet>(db.lookup_write(key))? {
        Some(z) => z,
        None if flags.xx => {
            reply_zadd(ctx.out, flags.incr, ch, 0, 0, None);
            return Ok(());
        }
        None => created.insert(ZSet::new_for(pairs[1].len(), limits)),
    };
    let (mut added, mut updated, mut last_score) = (0u64, 0u64, None);
    let mut failure = None;
    for (pair, &score) in pairs.chunks(2).zip(&scores) {
        match zset.add(&pair[1], score, flags, limits) {
            AddOutcome::Added(s) => {
                added += 1;
                last_score = Some(s);
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                last_score = Some(s);
            }
            AddOutcome::Unchanged(s) => last_score = Some(s),
            AddOutcome::Skipped => {}
            AddOutcome::NotANumber => {
                failure = Some(CommandError::err("resulting score is not a number (NaN)"));
                break;
            }
        }
    }
    match created {
        Some(z) => db.set(key, Value::ZSet(Box::new(z))),
        None if added + updated > 0 => db.signal_modified(key),
        None => {}
    }
    ctx.dirty += added + updated;
    if added + updated > 0 {
        let event = if flags.incr { "zincr" } else { "zadd" };
        ctx.notify(notify::ZSET, event, key);
    }
    if let Some(err) = failure {
        return Err(err);
    }
    reply_zadd(ctx.out, flags.incr, ch, added, updated, last_score);
    Ok(())
}

fn reply_zadd(
    out: &mut ReplyWriter,
    incr: bool,
    ch: bool,
    added: u64,
    updated: u64,
    score: Option<f64>,
) {
    if incr {
        match score {
            Some(s) => out.double(s),
            None => out.null(),
        }
    } else {
        out.int((if ch { added + updated } else { added }) as i64);
    }
}

// ---- Reads -----------------------------------------------------------------------

/// `ZSCORE key member`
fn zscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    match as_type::<ZSet>(db.lookup_read(&args[1]))?.and_then(|z| z.score(&args[2])) {
        Some(score) => out.double(score),
        None => out.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member ...]`: a missing key acts as an empty set.
fn zmscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let zset = as_type::<ZSet>(db.lookup_read(&args[1]))?;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.as_ref().and_then(|z| z.score(member)) {
            Some(score) => out.double(score),
            None => out.null(),
        }
    }
    Ok(())
}

/// `ZCARD key`
fn zcard(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut db = ctx.db();
    let len = as_type::<ZSet>(db.lookup_read(&args[1]))?.map_or(0, |z| z.len());
    ctx.out.int(len as i64);
    Ok(())
}

/// `ZCOUNT key min max`
fn zcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    count_in(ctx, &args[1], &range)
}

/// `ZLEXCOUNT key min max`
fn zlexcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    count_in(ctx, &args[1], &range)
}

fn count_in(ctx: &mut Ctx, key: &[u8], range: &impl Range) -> CommandResult {
    let mut db = ctx.db();
    let count = as_type::<ZSet>(db.lookup_read(key))?
        .and_then(|z| span_forward(z, range))
        .map_or(0, |(first, last)| last - first + 1);
    ctx.out.int(count as i64);
    Ok(())
}

/// `ZRANK key member`
fn zrank(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    rank_generic(ctx, args, false)
}

/// `ZREVRANK key member`
fn zrevrank(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx, args: &[Vec<u8>], reverse: bool) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        out.null();
        return Ok(());
    };
    match zset.rank(&args[2]) {
        Some(rank) if reverse => out.int((zset.len() - 1 - rank) as i64),
        Some(rank) => out.int(rank as i64),
        None => out.null(),
    }
    Ok(())
}

// ---- The ZRANGE family ---------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family request.
struct RangeQuery {
    kind: RangeKind,
    reverse: bool,
    withscores: bool,
    /// LIMIT offset count (count < 0: no limit).
    limit: Option<(i64, i64)>,
    /// The bound arguments, in the order the command takes them.
    min: usize,
    max: usize,
}

/// Parses the ZRANGE family's options, as Redis's `zrangeGenericCommand`:
/// the arguments after `<src> <min> <max>`. `kind` and `reverse` are fixed
/// by the older commands (their keywords are then syntax errors); `store`
/// refuses WITHSCORES.
fn parse_range_query(
    args: &[Vec<u8>],
    src: usize,
    store: bool,
    kind: Option<RangeKind>,
    reverse: Option<bool>,
) -> CommandResult<RangeQuery> {
    // Each keyword may be given once; the older commands fix both.
    let (mut kind_opt, mut reverse_opt) = (kind, reverse);
    let mut withscores = false;
    let mut limit = None;
    let mut c = args::Cursor::new(args, src + 3);
    while let Some(arg) = c.next() {
        if !store && args::is_option(arg, "withscores") {
            withscores = true;
        } else if args::is_option(arg, "limit") && c.has(2) {
            let offset = c.next_int()?;
            let count = c.next_int()?;
            limit = Some((offset, count));
        } else if reverse_opt.is_none() && args::is_option(arg, "rev") {
            reverse_opt = Some(true);
        } else if kind_opt.is_none() && args::is_option(arg, "bylex") {
            kind_opt = Some(RangeKind::Lex);
        } else if kind_opt.is_none() && args::is_option(arg, "byscore") {
            kind_opt = Some(RangeKind::Score);
        } else {
            return Err(error::SYNTAX);
        }
    }
    let kind = kind_opt.unwrap_or(RangeKind::Rank);
    let reverse = reverse_opt.unwrap_or(false);
    if kind == RangeKind::Rank {
        match limit {
            // A count of -1 is Redis's own "no LIMIT" default, so it passes.
            Some((_, -1)) => limit = None,
            Some(_) => {
                return Err(CommandError::err(
                    "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
                ));
            }
            None => {}
        }
    }
    if withscores && kind == RangeKind::Lex {
        return Err(CommandError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // Reversed score and member ranges are given as `max min`.
    let (min, max) = if reverse && kind != RangeKind::Rank {
        (src + 2, src + 1)
    } else {
        (src + 1, src + 2)
    };
    Ok(RangeQuery {
        kind,
        reverse,
        withscores,
        limit,
        min,
        max,
    })
}

/// The parsed bounds of a query.
enum Bounds {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

fn parse_bounds(args: &[Vec<u8>], q: &RangeQuery) -> CommandResult<Bounds> {
    let (min, max) = (&args[q.min], &args[q.max]);
    Ok(match q.kind {
        RangeKind::Rank => Bounds::Rank(args::int(min)?, args::int(max)?),
        RangeKind::Score => Bounds::Score(parse_score_range(min, max)?),
        RangeKind::Lex => Bounds::Lex(parse_lex_range(min, max)?),
    })
}

/// Where the selected elements start (a rank), how many there are, and in
/// which direction they run.
fn select(z: &ZSet, q: &RangeQuery, bounds: &Bounds) -> (usize, usize) {
    let len = z.len();
    let span = match bounds {
        Bounds::Rank(start, end) => {
            return match clamp_ranks(*start, *end, len) {
                Some((a, b)) if q.reverse => (len - 1 - a, b - a + 1),
                Some((a, b)) => (a, b - a + 1),
                None => (0, 0),
            };
        }
        Bounds::Score(r) if q.reverse => span_backward(z, r),
        Bounds::Score(r) => span_forward(z, r),
        Bounds::Lex(r) if q.reverse => span_backward(z, r),
        Bounds::Lex(r) => span_forward(z, r),
    };
    // (start, other end) in walking order.
    let Some((start, stop)) = span else {
        return (0, 0);
    };
    let available = start.abs_diff(stop) + 1;
    let (offset, count) = q.limit.unwrap_or((0, -1));
    // A negative offset walks off the end in Redis: nothing is returned.
    if offset < 0 || offset as u64 >= available as u64 {
        return (0, 0);
    }
    let offset = offset as usize;
    let left = available - offset;
    let take = if count < 0 {
        left
    } else {
        left.min(usize::try_from(count).unwrap_or(usize::MAX))
    };
    let first = if q.reverse {
        start - offset
    } else {
        start + offset
    };
    (first, take)
}

/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
fn zrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, None, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]`
fn zrevrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Rank), Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
fn zrangebyscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Score), Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
fn zrevrangebyscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Score), Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
fn zrangebylex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Lex), Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
fn zrevrangebylex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Lex), Some(true))
}

fn range_command(
    ctx: &mut Ctx,
    args: &[Vec<u8>],
    kind: Option<RangeKind>,
    reverse: Option<bool>,
) -> CommandResult {
    let q = parse_range_query(args, 1, false, kind, reverse)?;
    let bounds = parse_bounds(args, &q)?;
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    let (first, count) = select(zset, &q, &bounds);
    let items = zset.iter_from(first, q.reverse).take(count);
    reply_members(out, q.withscores, count, items);
    Ok(())
}

/// `ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]`
fn zrangestore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let q = parse_range_query(args, 2, true, None, None)?;
    let bounds = parse_bounds(args, &q)?;
    let limits = limits(ctx);
    let mut db = ctx.db();
    // Built as Redis builds it: a listpack that converts once the count or
    // a member passes a limit. The source is read in full before the
    // destination is written: they may be the same key.
    let mut result = ZSet::new_listpack();
    if let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[2]))? {
        let (first, count) = select(zset, &q, &bounds);
        for (member, score) in zset.iter_from(first, q.reverse).take(count) {
            result.add(member, score, AddFlags::default(), limits);
        }
    }
    store(ctx, &args[1], result, "zrangestore")
}

/// Stores `zset` at `dst` (or deletes `dst` if it is empty) and replies
/// with its size, as the STORE commands do; `event` names the store.
fn store(ctx: &mut Ctx, dst: &[u8], zset: ZSet, event: &'static str) -> CommandResult {
    let mut db = ctx.db();
    let len = zset.len();
    if len == 0 {
        if db.delete(dst) {
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", dst);
        }
    } else {
        db.set(dst, Value::ZSet(Box::new(zset)));
        ctx.dirty += 1;
        ctx.notify(notify::ZSET, event, dst);
    }
    ctx.out.int(len as i64);
    Ok(())
}

// ---- Removal -------------------------------------------------------------------

/// `ZREM key member [member ...]`
fn zrem(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let mut db = ctx.db();
    let Some(zset) = as_type::<ZSet>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for member in &args[2..] {
        if zset.remove(member).is_some() {
            removed += 1;
        }
        if zset.is_empty() {
            break;
        }
    }
    let deleted = removed > 0 && {
        db.signal_modified(key);
        delete_if_empty::<ZSet>(&mut db, key)
    };
    ctx.dirty += removed;
    if removed > 0 {
        let mut events = Events::new();
        note_removal(&mut events, key, "zrem", deleted);
        ctx.notify_all(events);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

/// `ZREMRANGEBYRANK key start stop`
fn zremrangebyrank(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let start = args::int(&args[2])?;
    let stop = args::int(&args[3])?;
    remove_span(ctx, &args[1], "zremrangebyrank", |z| {
        clamp_ranks(start, stop, z.len())
    })
}

/// `ZREMRANGEBYSCORE key min max`
fn zremrangebyscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    remove_span(ctx, &args[1], "zremrangebyscore", |z| {
        span_forward(z, &range)
    })
}

/// `ZREMRANGEBYLEX key min max`
fn zremrangebylex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    remove_span(ctx, &args[1], "zremrangebylex", |z| span_forward(z, &range))
}

/// Removes the ranks `span` picks and replies with how many went.
fn remove_span(
    ctx: &mut Ctx,
    key: &[u8],
    event: &'static str,
    span: impl FnOnce(&ZSet) -> Option<(usize, usize)>,
) -> CommandResult {
    let mut db = ctx.db();
    let Some(zset) = as_type::<ZSet>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let removed = match span(zset) {
        Some((first, last)) => zset.remove_rank_range(first, last),
        None => 0,
    };
    let deleted = removed > 0 && {
        db.signal_modified(key);
        delete_if_empty::<ZSet>(&mut db, key)
    };
    ctx.dirty += removed as u64;
    if removed > 0 {
        let mut events = Events::new();
        note_removal(&mut events, key, event, deleted);
        ctx.notify_all(events);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

// ---- Pops ------------------------------------------------------------------------

/// How a pop replies (Redis's `genericZpopCommand` flags).
#[derive(Debug, Clone, Copy)]
struct PopShape {
    /// Name the key (BZPOP*, ZMPOP).
    with_key: bool,
    /// Pairs as nested arrays (RESP3 counts, ZMPOP).
    nested: bool,
}

/// Pops up to `count` members from `key` (known to hold a non-empty set)
/// and replies in `shape`. Returns how many were popped.
fn pop_reply(
    zset: &mut ZSet,
    key: &[u8],
    max: bool,
    count: usize,
    shape: PopShape,
    out: &mut ReplyWriter,
) -> usize {
    let n = count.min(zset.len());
    match (shape.with_key, shape.nested) {
        (false, false) => out.array(2 * n),
        (false, true) => out.array(n),
        (true, false) => {
            out.array(2 * n + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for _ in 0..n {
        let Some((member, score)) = zset.pop(max) else {
            break;
        };
        if shape.nested {
            out.array(2);
        }
        out.bulk(member.as_bytes());
        out.double(score);
    }
    n
}

/// `ZPOPMIN key [count]`
fn zpopmin(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zpop(ctx, args, false)
}

/// `ZPOPMAX key [count]`
fn zpopmax(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    zpop(ctx, args, true)
}

fn zpop(ctx: &mut Ctx, args: &[Vec<u8>], max: bool) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match args.get(2) {
        Some(arg) => Some(args::non_negative(arg, None)? as usize),
        None => None,
    };
    let shape = PopShape {
        with_key: false,
        nested: ctx.out.is_resp3() && count.is_some(),
    };
    let key = &args[1];
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_write(key))? else {
        out.array(0);
        return Ok(());
    };
    if count == Some(0) {
        out.array(0);
        return Ok(());
    }
    let popped = pop_reply(zset, key, max, count.unwrap_or(1), shape, out);
    db.signal_modified(key);
    let deleted = delete_if_empty::<ZSet>(&mut db, key);
    ctx.dirty += popped as u64;
    let mut events = Events::new();
    note_removal(&mut events, key, pop_event(max), deleted);
    ctx.notify_all(events);
    Ok(())
}

/// Pops from the first existing sorted set among `keys` (a key of another
/// type met first is WRONGTYPE). `Ok(false)` if none exists.
/// It is logged as the plain ZPOPMIN/ZPOPMAX it was, with the number popped
/// when `shape` is nested (ZMPOP, BZMPOP), as Redis propagates them.
fn pop_first(
    ctx: &mut Ctx,
    keys: &[Vec<u8>],
    max: bool,
    count: usize,
    shape: PopShape,
) -> CommandResult<bool> {
    let (mut db, out) = ctx.db_and_out();
    for key in keys {
        let Some(zset) = as_type::<ZSet>(db.lookup_write(key))? else {
            continue;
        };
        let popped = pop_reply(zset, key, max, count, shape, out);
        db.signal_modified(key);
        let deleted = delete_if_empty::<ZSet>(&mut db, key);
        ctx.dirty += popped as u64;
        let mut events = Events::new();
        note_removal(&mut events, key, pop_event(max), deleted);
        ctx.notify_all(events);
        let logged = pop_command(key, max, shape.nested.then_some(popped));
        ctx.propagate_as(vec![logged]);
        return Ok(true);
    }
    Ok(false)
}

/// `MIN` or `MAX` (true for MAX), else a syntax error.
fn parse_min_max(arg: &[u8]) -> CommandResult<bool> {
    if args::is_option(arg, "min") {
        Ok(false)
    } else if args::is_option(arg, "max") {
        Ok(true)
    } else {
        Err(error::SYNTAX)
    }
}

/// `ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]`
fn zmpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (keys, max, count) = args::mpop(args, 1, parse_min_max)?;
    let shape = PopShape {
        with_key: true,
        nested: true,
    };
    if !pop_first(ctx, keys, max, count, shape)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// `BZPOPMIN key [key ...] timeout`
fn bzpopmin(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    blocking_pop(ctx, args, false)
}

/// `BZPOPMAX key [key ...] timeout`
fn bzpopmax(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    blocking_pop(ctx, args, true)
}

fn blocking_pop(ctx: &mut Ctx, args: &[Vec<u8>], max: bool) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    let shape = PopShape {
        with_key: true,
        nested: false,
    };
    if pop_first(ctx, keys, max, 1, shape)? {
        return Ok(());
    }
    blocking::block_or_null(ctx, keys, timeout, BlockedOp::ZSetPop { max })
}

/// `BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count]`
fn bzmpop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (keys, max, count) = args::mpop(args, 2, parse_min_max)?;
    let timeout = blocking::parse_timeout(&args[1])?;
    let shape = PopShape {
        with_key: true,
        nested: true,
    };
    if pop_first(ctx, keys, max, count, shape)? {
        return Ok(());
    }
    blocking::block_or_null(ctx, keys, timeout, BlockedOp::ZSetMultiPop { max, count })
}

/// `ZPOPMIN key [n]` (or ZPOPMAX), as the blocking and multi-key pops are
/// logged.
fn pop_command(key: &[u8], max: bool, count: Option<usize>) -> Vec<Vec<u8>> {
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    match count {
        Some(n) => super::argv([name, key, n.to_string().as_bytes()]),
        None => super::argv([name, key]),
    }
}

/// Serves a client blocked on the sorted set at `key` (Redis's
/// `serveClientsBlockedOnSortedSetKey`): pops as `op` asks, writes the
/// client's reply, and records the pop in `log` as the append-only file
/// logs it. Returns the changes to count as dirty.
pub fn serve_blocked(
    db: &mut Db,
    key: &[u8],
    op: &BlockedOp,
    out: &mut ReplyWriter,
    log: &mut Vec<Vec<Vec<u8>>>,
    events: &mut Events,
) -> u64 {
    let (max, count, shape) = match *op {
        BlockedOp::ZSetPop { max } => (
            max,
            1,
            PopShape {
                with_key: true,
                nested: false,
            },
        ),
        BlockedOp::ZSetMultiPop { max, count } => (
            max,
            count,
            PopShape {
                with_key: true,
                nested: true,
            },
        ),
        _ => return 0,
    };
    let popped = match as_type::<ZSet>(db.lookup_write(key)) {
        Ok(Some(zset)) => pop_reply(zset, key, max, count, shape, out),
        _ => return 0,
    };
    log.push(pop_command(key, max, shape.nested.then_some(popped)));
    db.signal_modified(key);
    let deleted = delete_if_empty::<ZSet>(db, key);
    note_removal(events, key, pop_event(max), deleted);
    popped as u64
}

// ---- ZRANDMEMBER ---------------------------------------------------------------

/// Largest `|count|` ZRANDMEMBER serves: Redis would try to build any reply
/// asked for, however large; sedis refuses one that could not fit in memory.
const RANDMEMBER_MAX: u64 = 1 << 27;

/// `ZRANDMEMBER key [count [WITHSCORES]]`
fn zrandmember(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() == 2 {
        let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
        let zset = as_type::<ZSet>(db.lookup_read(&args[1]))?;
        let out = &mut *ctx.out;
        match zset.and_then(|z| z.random(&mut ctx.client.rng)) {
            Some((member, _)) => out.bulk(member),
            None => out.null(),
        }
        return Ok(());
    }
    let count = args::int_in_range(&args[2], -i64::MAX, i64::MAX, None)?;
    let withscores = match args.get(3) {
        None => false,
        Some(arg) if args.len() == 4 && args::is_option(arg, "withscores") => true,
        Some(_) => return Err(error::SYNTAX),
    };
    if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::err("value is out of range"));
    }
    if count.unsigned_abs() > RANDMEMBER_MAX {
        return Err(CommandError::err("value is out of range"));
    }
    let mut db = ctx.locks.db(ctx.client.db, ctx.now_ms);
    let out = &mut *ctx.out;
    let rng = &mut ctx.client.rng;
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    let len = zset.len();
    let wanted = count.unsigned_abs() as usize;
    if wanted == 0 {
        out.array(0);
        return Ok(());
    }
    let ranks: Vec<usize> = if count < 0 {
        // Repeats allowed: independent draws.
        (0..wanted)
            .map(|_| rng.below(len as u64) as usize)
            .collect()
    } else if wanted >= len {
        // The whole set, in order.
        (0..len).collect()
    } else {
        // Distinct ranks (Floyd's sampling), then a random order.
        let mut chosen = std::collections::HashSet::with_capacity(wanted);
        let mut picked = Vec::with_capacity(wanted);
        for j in len - wanted..len {
            let t = rng.below(j as u64 + 1) as usize;
            let r = if chosen.insert(t) { t } else { j };
            chosen.insert(r);
            picked.push(r);
        }
        for i in (1..picked.len()).rev() {
            picked.swap(i, rng.below(i as u64 + 1) as usize);
        }
        picked
    };
    let items: Vec<(&[u8], f64)> = ranks.iter().filter_map(|&r| zset.get(r)).collect();
    reply_members(out, withscores, items.len(), items.into_iter());
    Ok(())
}

// ---- ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD --------------------

/// One input of a set operation.
#[derive(Clone, Copy)]
enum Input<'a> {
    /// A missing key: an empty set.
    Missing,
    ZSet(&'a ZSet),
}

impl<'a> Input<'a> {
    fn len(&self) -> usize {
        match self {
            Input::Missing => 0,
            Input::ZSet(z) => z.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::Missing => None,
            Input::ZSet(z) => z.score(member),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&'a [u8], f64)) {
        if let Input::ZSet(z) = self {
            for (m, s) in z.iter() {
                f(m, s);
            }
        }
    }

    /// True if both are the same stored value (a key named twice).
    fn same(&self, other: &Input) -> bool {
        match (self, other) {
            (Input::ZSet(a), Input::ZSet(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// What a value gives as an input: sorted sets as they are. This is where
/// plain sets join (each member with score 1), as Redis accepts them.
fn input_of(value: &Value) -> CommandResult<Input<'_>> {
    match value {
        Value::ZSet(z) => Ok(Input::ZSet(z)),
        // Converted by the caller (see `set_op_command`).
        Value::Set(_) => Ok(Input::Missing),
        _ => Err(error::WRONGTYPE),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

/// How a set operation combines the weighted scores a member has in
/// several inputs (its `AGGREGATE <SUM | MIN | MAX>` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScoreAggregate {
    Sum,
    Min,
    Max,
}

impl ScoreAggregate {
    /// Redis's `zunionInterAggregate`: a sum of `inf` and `-inf` is 0.
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            ScoreAggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            ScoreAggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            ScoreAggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// The parsed options of a set operation.
struct SetOpArgs {
    weights: Vec<f64>,
    aggregate: ScoreAggregate,
    withscores: bool,
    limit: usize,
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]`
fn zunion(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Union, false)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]`
fn zinter(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Inter, false)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
fn zdiff(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Diff, false)
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>]`
fn zunionstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, Some(&args[1]), SetOp::Union, false)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>]`
fn zinterstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, Some(&args[1]), SetOp::Inter, false)
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
fn zdiffstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, Some(&args[1]), SetOp::Diff, false)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
fn zintercard(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Inter, true)
}

/// Redis's `zunionInterDiffGenericCommand`: numkeys, then the keys are
/// looked up (WRONGTYPE comes before any option error), then the options.
fn set_op_command(
    ctx: &mut Ctx,
    args: &[Vec<u8>],
    dst: Option<&Vec<u8>>,
    op: SetOp,
    cardinality_only: bool,
) -> CommandResult {
    let numkeys_at = if dst.is_some() { 2 } else { 1 };
    let numkeys = args::int(&args[numkeys_at])?;
    if numkeys < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        return Err(CommandError::err(format_args!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    if numkeys as u64 > (args.len() - numkeys_at - 1) as u64 {
        return Err(error::SYNTAX);
    }
    let keys = &args[numkeys_at + 1..numkeys_at + 1 + numkeys as usize];
    let mut db = ctx.db();
    for key in keys {
        if let Some(entry) = db.lookup_read(key) {
            input_of(&entry.value)?;
        }
    }
    let parsed = parse_set_op_options(args, keys, numkeys_at, op, dst.is_some(), cardinality_only)?;
    let limits = limits(ctx);
    let (db, out) = ctx.db_and_out();
    // Plain sets take part with every member scoring 1, as in Redis: they
    // are read as sorted sets first.
    let as_zsets: Vec<Option<ZSet>> = keys
        .iter()
        .map(|k| {
            let set = db.peek(k).and_then(|e| Set::of(&e.value))?;
            let mut z = ZSet::new_skiplist();
            for member in set.iter() {
                z.add(&member, 1.0, AddFlags::default(), limits);
            }
            Some(z)
        })
        .collect();
    let inputs: Vec<Input> = keys
        .iter()
        .zip(&as_zsets)
        .map(|(k, converted)| match (db.peek(k), converted) {
            (_, Some(z)) => Input::ZSet(z),
            (Some(entry), None) => input_of(&entry.value).unwrap_or(Input::Missing),
            (None, None) => Input::Missing,
        })
        .collect();
    if cardinality_only {
        let card = intersect(&inputs, &parsed.weights, parsed.aggregate, parsed.limit).len();
        out.int(card as i64);
        return Ok(());
    }
    let mut result: Vec<(&[u8], f64)> = match op {
        SetOp::Union => union(&inputs, &parsed.weights, parsed.aggregate),
        SetOp::Inter => intersect(&inputs, &parsed.weights, parsed.aggregate, 0),
        SetOp::Diff => difference(&inputs),
    };
    let Some(dst) = dst else {
        result.sort_by(|a, b| skiplist::compare(a.1, a.0, b.1, b.0));
        reply_members(out, parsed.withscores, result.len(), result.into_iter());
        return Ok(());
    };
    // Built in full, then made compact if small enough (Redis's
    // `zsetConvertToListpackIfNeeded`).
    let mut zset = ZSet::new_skiplist();
    for (member, score) in result {
        zset.add(member, score, AddFlags::default(), limits);
    }
    zset.shrink_if_small(limits);
    let event = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    store(ctx, dst, zset, event)
}

fn parse_set_op_options(
    args: &[Vec<u8>],
    keys: &[Vec<u8>],
    numkeys_at: usize,
    op: SetOp,
    store: bool,
    cardinality_only: bool,
) -> CommandResult<SetOpArgs> {
    let mut parsed = SetOpArgs {
        weights: vec![1.0; keys.len()],
        aggregate: ScoreAggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let weighted = op != SetOp::Diff && !cardinality_only;
    let mut c = args::Cursor::new(args, numkeys_at + 1 + keys.len());
    while let Some(arg) = c.next() {
        if weighted && c.has(keys.len()) && args::is_option(arg, "weights") {
            for weight in parsed.weights.iter_mut() {
                *weight = crate::num::parse_f64(c.next_bytes()?)
                    .ok_or_else(|| CommandError::err("weight value is not a float"))?;
            }
        } else if weighted && c.has(1) && args::is_option(arg, "aggregate") {
            let which = c.next_bytes()?;
            parsed.aggregate = if args::is_option(which, "sum") {
                ScoreAggregate::Sum
            } else if args::is_option(which, "min") {
                ScoreAggregate::Min
            } else if args::is_option(which, "max") {
                ScoreAggregate::Max
            } else {
                return Err(error::SYNTAX);
            };
        } else if !store && !cardinality_only && args::is_option(arg, "withscores") {
            parsed.withscores = true;
        } else if cardinality_only && c.has(1) && args::is_option(arg, "limit") {
            parsed.limit =
                args::non_negative(c.next_bytes()?, Some("LIMIT can't be negative"))? as usize;
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok(parsed)
}

/// Inputs with their weights, smallest first (stable, as Redis's sort).
fn by_size<'a>(inputs: &[Input<'a>], weights: &[f64]) -> Vec<(Input<'a>, f64)> {
    let mut sorted: Vec<(Input, f64)> = inputs
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    sorted.sort_by_key(|(input, _)| input.len());
    sorted
}

/// ZUNION: every member of any input, scores weighted then aggregated in
/// input order (smallest input first).
fn union<'a>(inputs: &[Input<'a>], weights: &[f64], agg: ScoreAggregate) -> Vec<(&'a [u8], f64)> {
    let mut acc: std::collections::HashMap<&'a [u8], f64> = std::collections::HashMap::new();
    let mut order: Vec<&'a [u8]> = Vec::new();
    for (input, weight) in by_size(inputs, weights) {
        input.for_each(|member, score| {
            let mut value = weight * score;
            if value.is_nan() {
                value = 0.0;
            }
            match acc.get_mut(member) {
                Some(existing) => agg.apply(existing, value),
                None => {
                    acc.insert(member, value);
                    order.push(member);
                }
            }
        });
    }
    order.into_iter().map(|m| (m, acc[m])).collect()
}

/// ZINTER: members of every input; stops after `limit` (0: no limit) for
/// ZINTERCARD.
fn intersect<'a>(
    inputs: &[Input<'a>],
    weights: &[f64],
    agg: ScoreAggregate,
    limit: usize,
) -> Vec<(&'a [u8], f64)> {
    let sorted = by_size(inputs, weights);
    let mut out = Vec::new();
    let Some(&(first, first_weight)) = sorted.first() else {
        return out;
    };
    let mut done = false;
    first.for_each(|member, score| {
        if done {
            return;
        }
        let mut value = first_weight * score;
        if value.is_nan() {
            value = 0.0;
        }
        for (other, weight) in &sorted[1..] {
            let found = if other.same(&first) {
                Some(score)
            } else {
                other.score(member)
            };
            match found {
                Some(s) => agg.apply(&mut value, s * weight),
                None => return,
            }
        }
        out.push((member, value));
        if limit > 0 && out.len() >= limit {
            done = true;
        }
    });
    out
}

/// ZDIFF: members of the first input in none of the others, with the
/// first input's scores.
fn difference<'a>(inputs: &[Input<'a>]) -> Vec<(&'a [u8], f64)> {
    let mut out = Vec::new();
    let Some(first) = inputs.first() else {
        return out;
    };
    if inputs[1..].iter().any(|other| other.same(first)) {
        return out;
    }
    first.for_each(|member, score| {
        if inputs[1..]
            .iter()
            .all(|other| other.score(member).is_none())
        {
            out.push((member, score));
        }
    });
    out
}

// ---- ZSCAN -------------------------------------------------------------------

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: members and scores
/// (scores as strings, in RESP3 too).
fn zscan(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let cursor = parse_scan_cursor(&args[2])?;
    let (mut db, out) = ctx.db_and_out();
    let Some(zset) = as_type::<ZSet>(db.lookup_read(&args[1]))? else {
        reply_empty_scan(out);
        return Ok(());
    };
    let options = scan_options(args, 3, false)?;
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = zset.scan(cursor, options.count, |member, score| {
        if options.matches(member) {
            found.push((member.to_vec(), score));
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (member, score) in found {
        out.bulk(&member);
        out.bulk(crate::num::format_g17(score).as_bytes());
    }
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[
    Command::new("zadd", -4, zadd)
        .syntax("key [NX|XX] [GT|LT] [CH] [INCR] (score:double member) ...")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1)
        .key_flags(&["RW", "update"])
        .doc(
            "sorted_set",
            "1.2.0",
            "Adds members to a sorted set or updates their scores, creating the set if needed.",
            "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ),
    Command::new("zincrby", 4, zincrby)
        .syntax("key increment:double member")
        .flags(WRITE | DENYOOM | FAST)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "1.2.0",
            "Adds to the score of a member of a sorted set.",
            "O(log(N)) where N is the number of elements in the sorted set.",
        ),
    Command::new("zscore", 3, zscore)
        .syntax("key member")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .doc("sorted_set", "1.2.0", "Returns the score of a member of a sorted set.", "O(1)"),
    Command::new("zmscore", -3, zmscore)
        .syntax("key member ...")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "6.2.0",
            "Returns the scores of several members of a sorted set.",
            "O(N) where N is the number of members being requested.",
        ),
    Command::new("zcard", 2, zcard)
        .syntax("key")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .key_flags(&["RO"])
        .doc("sorted_set", "1.2.0", "Returns the number of members of a sorted set.", "O(1)"),
    Command::new("zcount", 4, zcount)
        .syntax("key min:double max:double")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "2.0.0",
            "Counts the members of a sorted set whose scores lie in a range.",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    Command::new("zlexcount", 4, zlexcount)
        .syntax("key min max")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "2.8.9",
            "Counts the members of a sorted set that lie in a lexicographical range.",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    Command::new("zrange", -4, zrange)
        .syntax("key start stop [BYSCORE|BYLEX] [REV] [LIMIT (offset:integer count:integer)] \
             [WITHSCORES]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "1.2.0",
            "Returns the members of a sorted set in a range of indexes, scores or members.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ),
    Command::new("zrangestore", -5, zrangestore)
        .syntax("dst:key src:key min max [BYSCORE|BYLEX] [REV] [LIMIT (offset:integer \
             count:integer)]")
        .flags(WRITE | DENYOOM)
        .keys(1, 2, 1)
        .key_specs(&[
            KeySpecInfo::key(&["OW", "update"], 1),
            KeySpecInfo::key(&["RO", "access"], 2),
        ])
        .doc(
            "sorted_set",
            "6.2.0",
            "Stores a range of a sorted set's members in another key.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        ),
    Command::new("zrangebyscore", -4, zrangebyscore)
        .syntax("key min:double max:double [WITHSCORES] [LIMIT (offset:integer count:integer)]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "1.0.5",
            "Returns the members of a sorted set whose scores lie in a range.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    Command::new("zrevrangebyscore", -4, zrevrangebyscore)
        .syntax("key max:double min:double [WITHSCORES] [LIMIT (offset:integer count:integer)]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "2.2.0",
            "Returns the members of a sorted set whose scores lie in a range, highest first.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    Command::new("zrangebylex", -4, zrangebylex)
        .syntax("key min max [LIMIT (offset:integer count:integer)]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "2.8.9",
            "Returns the members of a sorted set in a lexicographical range.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    Command::new("zrevrangebylex", -4, zrevrangebylex)
        .syntax("key max min [LIMIT (offset:integer count:integer)]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "2.8.9",
            "Returns the members of a sorted set in a lexicographical range, highest first.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ),
    Command::new("zrevrange", -4, zrevrange)
        .syntax("key start:integer stop:integer [WITHSCORES]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .doc(
            "sorted_set",
            "1.2.0",
            "Returns the members of a sorted set in a range of indexes, highest first.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ),
    Command::new("zrank", 3, zrank)
        .syntax("key member")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .doc("sorted_set", "2.0.0", "Returns the index of a member in a sorted set, lowest score first.", "O(log(N))"),
    Command::new("zrevrank", 3, zrevrank)
        .syntax("key member")
        .flags(READONLY | FAST)
        .keys(1, 1, 1)
        .doc("sorted_set", "2.0.0", "Returns the index of a member in a sorted set, highest score first.", "O(log(N))"),
    Command::new("zrem", -3, zrem)
        .syntax("key member ...")
        .flags(WRITE | FAST)
        .keys(1, 1, 1)
        .key_flags(&["RW", "delete"])
        .doc(
            "sorted_set",
            "1.2.0",
            "Removes members from a sorted set.",
            "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        ),
    Command::new("zremrangebyrank", 4, zremrangebyrank)
        .syntax("key start:integer stop:integer")
        .flags(WRITE)
        .keys(1, 1, 1)
        .key_flags(&["RW", "delete"])
        .doc(
            "sorted_set",
            "2.0.0",
            "Removes the members of a sorted set in a range of indexes.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ),
    Command::new("zremrangebyscore", 4, zremrangebyscore)
        .syntax("key min:double max:double")
        .flags(WRITE)
        .keys(1, 1, 1)
        .key_flags(&["RW", "delete"])
        .doc(
            "sorted_set",
            "1.2.0",
            "Removes the members of a sorted set whose scores lie in a range.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ),
    Command::new("zremrangebylex", 4, zremrangebylex)
        .syntax("key min max")
        .flags(WRITE)
        .keys(1, 1, 1)
        .key_flags(&["RW", "delete"])
        .doc(
            "sorted_set",
            "2.8.9",
            "Removes the members of a sorted set in a lexicographical range.",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ),
    Command::new("zpopmin", -2, zpopmin)
        .syntax("key [count:integer]")
        .flags(WRITE | FAST)
        .keys(1, 1, 1)
        .key_flags(&["RW", "access", "delete"])
        .doc(
            "sorted_set",
            "5.0.0",
            "Removes and returns the members with the lowest scores.",
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    Command::new("zpopmax", -2, zpopmax)
        .syntax("key [count:integer]")
        .flags(WRITE | FAST)
        .keys(1, 1, 1)
        .key_flags(&["RW", "access", "delete"])
        .doc(
            "sorted_set",
            "5.0.0",
            "Removes and returns the members with the highest scores.",
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    Command::new("bzpopmin", -3, bzpopmin)
        .syntax("key ... timeout:double")
        .flags(WRITE | NOSCRIPT | FAST | BLOCKING)
        .keys(1, -2, 1)
        .key_flags(&["RW", "access", "delete"])
        .doc(
            "sorted_set",
            "5.0.0",
            "Pops the lowest-scoring member of the first non-empty sorted set, blocking until there is one.",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    Command::new("bzpopmax", -3, bzpopmax)
        .syntax("key ... timeout:double")
        .flags(WRITE | NOSCRIPT | FAST | BLOCKING)
        .keys(1, -2, 1)
        .key_flags(&["RW", "access", "delete"])
        .doc(
            "sorted_set",
            "5.0.0",
            "Pops the highest-scoring member of the first non-empty sorted set, blocking until there is one.",
            "O(log(N)) with N being the number of elements in the sorted set.",
        ),
    Command::new("zmpop", -4, zmpop)
        .syntax("numkeys:integer key ... (MIN|MAX) [COUNT count:integer]")
        .flags(WRITE)
        .keys_after_count(1)
        .key_specs(&[
            KeySpecInfo::counted(&["RW", "access", "delete"], 1),
        ])
        .doc(
            "sorted_set",
            "7.0.0",
            "Pops the lowest or highest-scoring members of the first non-empty sorted set among several.",
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    Command::new("bzmpop", -5, bzmpop)
        .syntax("timeout:double numkeys:integer key ... (MIN|MAX) [COUNT count:integer]")
        .flags(WRITE | BLOCKING)
        .keys_after_count(2)
        .key_specs(&[
            KeySpecInfo::counted(&["RW", "access", "delete"], 2),
        ])
        .doc(
            "sorted_set",
            "7.0.0",
            "Pops members of the first non-empty sorted set among several, blocking until one has some.",
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        ),
    Command::new("zrandmember", -2, zrandmember)
        .syntax("key [count:integer [WITHSCORES]]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .tips(&["nondeterministic_output"])
        .doc(
            "sorted_set",
            "6.2.0",
            "Returns random members of a sorted set.",
            "O(N) where N is the number of elements returned",
        ),
    Command::new("zunion", -3, zunion)
        .syntax("numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE (SUM|MIN|MAX)] \
             [WITHSCORES]")
        .flags(READONLY)
        .keys_after_count(1)
        .key_specs(&[
            KeySpecInfo::counted(&["RO", "access"], 1),
        ])
        .doc(
            "sorted_set",
            "6.2.0",
            "Returns the union of sorted sets.",
            "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        ),
    Command::new("zinter", -3, zinter)
        .syntax("numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE (SUM|MIN|MAX)] \
             [WITHSCORES]")
        .flags(READONLY)
        .keys_after_count(1)
        .key_specs(&[
            KeySpecInfo::counted(&["RO", "access"], 1),
        ])
        .doc(
            "sorted_set",
            "6.2.0",
            "Returns the intersection of sorted sets.",
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        ),
    Command::new("zdiff", -3, zdiff)
        .syntax("numkeys:integer key ... [WITHSCORES]")
        .flags(READONLY)
        .keys_after_count(1)
        .key_specs(&[
            KeySpecInfo::counted(&["RO", "access"], 1),
        ])
        .doc(
            "sorted_set",
            "6.2.0",
            "Returns the members of the first sorted set that are in none of the others.",
            "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        ),
    Command::new("zunionstore", -4, zunionstore)
        .syntax("destination:key numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE \
             (SUM|MIN|MAX)]")
        .flags(WRITE | DENYOOM)
        .destination_and_keys_after_count(2)
        .key_specs(&[
            KeySpecInfo::key(&["OW", "update"], 1),
            KeySpecInfo::counted(&["RO", "access"], 2),
        ])
        .doc(
            "sorted_set",
            "2.0.0",
            "Stores the union of sorted sets in a key.",
            "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        ),
    Command::new("zinterstore", -4, zinterstore)
        .syntax("destination:key numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE \
             (SUM|MIN|MAX)]")
        .flags(WRITE | DENYOOM)
        .destination_and_keys_after_count(2)
        .key_specs(&[
            KeySpecInfo::key(&["OW", "update"], 1),
            KeySpecInfo::counted(&["RO", "access"], 2),
        ])
        .doc(
            "sorted_set",
            "2.0.0",
            "Stores the intersection of sorted sets in a key.",
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        ),
    Command::new("zdiffstore", -4, zdiffstore)
        .syntax("destination:key numkeys:integer key ...")
        .flags(WRITE | DENYOOM)
        .destination_and_keys_after_count(2)
        .key_specs(&[
            KeySpecInfo::key(&["OW", "update"], 1),
            KeySpecInfo::counted(&["RO", "access"], 2),
        ])
        .doc(
            "sorted_set",
            "6.2.0",
            "Stores the difference of sorted sets in a key.",
            "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        ),
    Command::new("zintercard", -3, zintercard)
        .syntax("numkeys:integer key ... [LIMIT limit:integer]")
        .flags(READONLY)
        .keys_after_count(1)
        .key_specs(&[
            KeySpecInfo::counted(&["RO", "access"], 1),
        ])
        .doc(
            "sorted_set",
            "7.0.0",
            "Returns the number of members in the intersection of sorted sets.",
            "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        ),
    Command::new("zscan", -3, zscan)
        .syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]")
        .flags(READONLY)
        .keys(1, 1, 1)
        .tips(&["nondeterministic_output"])
        .doc(
            "sorted_set",
            "2.8.0",
            "Iterates over the members and scores of a sorted set.",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        ),
];

#[cfg(test)]
mod tests {
    use super::*;

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
