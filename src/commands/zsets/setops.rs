//! Set operations over sorted sets: ZUNION, ZINTER, ZDIFF, their STORE
//! forms, and ZINTERCARD. They take sorted sets; [`input_of`] is where
//! other types become inputs (Redis also accepts plain sets, every member
//! scoring 1).

use crate::error::{self, CommandError, CommandResult};
use crate::store::Value;
use crate::store::types::Aggregate;
use crate::store::types::set::Set;
use crate::store::types::skiplist;
use crate::store::types::zset::{AddFlags, ZSet};

use super::{limits, reply_members, store};
use crate::commands::Ctx;
use crate::commands::args;

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
pub(super) fn zunion(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Union, false)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]`
pub(super) fn zinter(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Inter, false)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub(super) fn zdiff(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, None, SetOp::Diff, false)
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>]`
pub(super) fn zunionstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, Some(&args[1]), SetOp::Union, false)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE <SUM | MIN | MAX>]`
pub(super) fn zinterstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, Some(&args[1]), SetOp::Inter, false)
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub(super) fn zdiffstore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_op_command(ctx, args, Some(&args[1]), SetOp::Diff, false)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub(super) fn zintercard(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
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
            let which = error::c_str_prefix(c.next_bytes()?, usize::MAX);
            let aggregates = [
                ("sum", ScoreAggregate::Sum),
                ("min", ScoreAggregate::Min),
                ("max", ScoreAggregate::Max),
            ];
            parsed.aggregate = args::keyword(which, &aggregates).ok_or(error::SYNTAX)?;
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
