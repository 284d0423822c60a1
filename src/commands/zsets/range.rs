//! Commands on a range of members: the ZRANGE family (and the older
//! ZRANGEBYSCORE, ZREVRANGE... it subsumes), ZRANGESTORE, ZCOUNT,
//! ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX. Each turns its bounds into a
//! span of ranks ([`super::spans`]), then reads or removes that span.

use crate::channels::notify::Events;
use crate::error::{self, CommandError, CommandResult};
use crate::store::types::zset::{AddFlags, ZSet};

use super::spans::{
    LexRange, Range, ScoreRange, parse_lex_range, parse_score_range, span_backward, span_forward,
};
use super::{limits, note_removal, reply_members, store};
use crate::commands::Ctx;
use crate::commands::args;
use crate::commands::typed::{as_type, delete_if_empty};

// ---- The ZRANGE family -------------------------------------------------------

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
            return match args::index_range(*start, *end, len) {
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
pub(super) fn zrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, None, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]`
pub(super) fn zrevrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Rank), Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub(super) fn zrangebyscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Score), Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub(super) fn zrevrangebyscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Score), Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub(super) fn zrangebylex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, Some(RangeKind::Lex), Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub(super) fn zrevrangebylex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
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
pub(super) fn zrangestore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
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

// ---- ZCOUNT ZLEXCOUNT --------------------------------------------------------

/// `ZCOUNT key min max`
pub(super) fn zcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    count_in(ctx, &args[1], &range)
}

/// `ZLEXCOUNT key min max`
pub(super) fn zlexcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
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

// ---- ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX -------------------------

/// `ZREMRANGEBYRANK key start stop`
pub(super) fn zremrangebyrank(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let start = args::int(&args[2])?;
    let stop = args::int(&args[3])?;
    remove_span(ctx, &args[1], "zremrangebyrank", |z| {
        args::index_range(start, stop, z.len())
    })
}

/// `ZREMRANGEBYSCORE key min max`
pub(super) fn zremrangebyscore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let range = parse_score_range(&args[2], &args[3])?;
    remove_span(ctx, &args[1], "zremrangebyscore", |z| {
        span_forward(z, &range)
    })
}

/// `ZREMRANGEBYLEX key min max`
pub(super) fn zremrangebylex(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
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
