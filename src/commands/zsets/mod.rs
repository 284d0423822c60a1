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
//! One mechanism per module:
//! - [`members`]: ZADD ZINCRBY ZSCORE ZMSCORE ZCARD ZRANK ZREVRANK ZREM
//!   ZRANDMEMBER ZSCAN, commands on single members;
//! - [`spans`]: score and member bounds, and the span of ranks they select;
//! - [`range`]: ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT,
//!   ZREMRANGEBYRANK/SCORE/LEX;
//! - [`pops`]: ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP, and serving
//!   clients blocked on a sorted set;
//! - [`setops`]: ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD.
//!
//! What several of them use is here, and the command table is at the end.

mod members;
mod pops;
mod range;
mod setops;
mod spans;

pub use pops::serve_blocked;

use crate::channels::notify::{self, Events};
use crate::error::CommandResult;
use crate::resp::ReplyWriter;
use crate::store::types::zset::{ZSet, ZSetLimits};

use super::Ctx;
use super::table::{Command, KeySpecInfo, flags::*};
use super::typed::store_result;

/// ZADD's handler, for GEOADD, which Redis runs as a ZADD of the places'
/// scores.
pub fn zadd_command(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    members::zadd(ctx, args)
}

/// The listpack limits from the configuration.
fn limits(ctx: &Ctx) -> ZSetLimits {
    ctx.state.config().zset_limits()
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

/// Stores `zset` at `dst` (or deletes `dst` if it is empty) and replies
/// with its size, as the STORE commands do; `event` names the store.
fn store(ctx: &mut Ctx, dst: &[u8], zset: ZSet, event: &'static str) -> CommandResult {
    let len = zset.len();
    store_result(ctx, dst, zset, len, notify::ZSET, event)
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("zadd", -4, members::zadd).syntax("key [NX|XX] [GT|LT] [CH] [INCR] (score:double member) ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("sorted_set", "1.2.0", "Adds members to a sorted set or updates their scores, creating the set if needed.", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    Command::new("zincrby", 4, members::zincrby).syntax("key increment:double member").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).doc("sorted_set", "1.2.0", "Adds to the score of a member of a sorted set.", "O(log(N)) where N is the number of elements in the sorted set."),
    Command::new("zscore", 3, members::zscore).syntax("key member").flags(READONLY | FAST).keys(1, 1, 1).doc("sorted_set", "1.2.0", "Returns the score of a member of a sorted set.", "O(1)"),
    Command::new("zmscore", -3, members::zmscore).syntax("key member ...").flags(READONLY | FAST).keys(1, 1, 1).doc("sorted_set", "6.2.0", "Returns the scores of several members of a sorted set.", "O(N) where N is the number of members being requested."),
    Command::new("zcard", 2, members::zcard).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("sorted_set", "1.2.0", "Returns the number of members of a sorted set.", "O(1)"),
    Command::new("zcount", 4, range::zcount).syntax("key min:double max:double").flags(READONLY | FAST).keys(1, 1, 1).doc("sorted_set", "2.0.0", "Counts the members of a sorted set whose scores lie in a range.", "O(log(N)) with N being the number of elements in the sorted set."),
    Command::new("zlexcount", 4, range::zlexcount).syntax("key min max").flags(READONLY | FAST).keys(1, 1, 1).doc("sorted_set", "2.8.9", "Counts the members of a sorted set that lie in a lexicographical range.", "O(log(N)) with N being the number of elements in the sorted set."),
    Command::new("zrange", -4, range::zrange).syntax("key start stop [BYSCORE|BYLEX] [REV] [LIMIT (offset:integer count:integer)] [WITHSCORES]").flags(READONLY).keys(1, 1, 1).doc("sorted_set", "1.2.0", "Returns the members of a sorted set in a range of indexes, scores or members.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
    Command::new("zrangestore", -5, range::zrangestore).syntax("dst:key src:key min max [BYSCORE|BYLEX] [REV] [LIMIT (offset:integer count:integer)]").flags(WRITE | DENYOOM).keys(1, 2, 1).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::key(&["RO", "access"], 2)]).doc("sorted_set", "6.2.0", "Stores a range of a sorted set's members in another key.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."),
    Command::new("zrangebyscore", -4, range::zrangebyscore).syntax("key min:double max:double [WITHSCORES] [LIMIT (offset:integer count:integer)]").flags(READONLY).keys(1, 1, 1).doc("sorted_set", "1.0.5", "Returns the members of a sorted set whose scores lie in a range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    Command::new("zrevrangebyscore", -4, range::zrevrangebyscore).syntax("key max:double min:double [WITHSCORES] [LIMIT (offset:integer count:integer)]").flags(READONLY).keys(1, 1, 1).doc("sorted_set", "2.2.0", "Returns the members of a sorted set whose scores lie in a range, highest first.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    Command::new("zrangebylex", -4, range::zrangebylex).syntax("key min max [LIMIT (offset:integer count:integer)]").flags(READONLY).keys(1, 1, 1).doc("sorted_set", "2.8.9", "Returns the members of a sorted set in a lexicographical range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    Command::new("zrevrangebylex", -4, range::zrevrangebylex).syntax("key max min [LIMIT (offset:integer count:integer)]").flags(READONLY).keys(1, 1, 1).doc("sorted_set", "2.8.9", "Returns the members of a sorted set in a lexicographical range, highest first.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."),
    Command::new("zrevrange", -4, range::zrevrange).syntax("key start:integer stop:integer [WITHSCORES]").flags(READONLY).keys(1, 1, 1).doc("sorted_set", "1.2.0", "Returns the members of a sorted set in a range of indexes, highest first.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
    Command::new("zrank", 3, members::zrank).syntax("key member").flags(READONLY | FAST).keys(1, 1, 1).doc("sorted_set", "2.0.0", "Returns the index of a member in a sorted set, lowest score first.", "O(log(N))"),
    Command::new("zrevrank", 3, members::zrevrank).syntax("key member").flags(READONLY | FAST).keys(1, 1, 1).doc("sorted_set", "2.0.0", "Returns the index of a member in a sorted set, highest score first.", "O(log(N))"),
    Command::new("zrem", -3, members::zrem).syntax("key member ...").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted_set", "1.2.0", "Removes members from a sorted set.", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."),
    Command::new("zremrangebyrank", 4, range::zremrangebyrank).syntax("key start:integer stop:integer").flags(WRITE).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted_set", "2.0.0", "Removes the members of a sorted set in a range of indexes.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    Command::new("zremrangebyscore", 4, range::zremrangebyscore).syntax("key min:double max:double").flags(WRITE).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted_set", "1.2.0", "Removes the members of a sorted set whose scores lie in a range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    Command::new("zremrangebylex", 4, range::zremrangebylex).syntax("key min max").flags(WRITE).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("sorted_set", "2.8.9", "Removes the members of a sorted set in a lexicographical range.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."),
    Command::new("zpopmin", -2, pops::zpopmin).syntax("key [count:integer]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("sorted_set", "5.0.0", "Removes and returns the members with the lowest scores.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
    Command::new("zpopmax", -2, pops::zpopmax).syntax("key [count:integer]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "access", "delete"]).doc("sorted_set", "5.0.0", "Removes and returns the members with the highest scores.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
    Command::new("bzpopmin", -3, pops::bzpopmin).syntax("key ... timeout:double").flags(WRITE | NOSCRIPT | FAST | BLOCKING).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("sorted_set", "5.0.0", "Pops the lowest-scoring member of the first non-empty sorted set, blocking until there is one.", "O(log(N)) with N being the number of elements in the sorted set."),
    Command::new("bzpopmax", -3, pops::bzpopmax).syntax("key ... timeout:double").flags(WRITE | NOSCRIPT | FAST | BLOCKING).keys(1, -2, 1).key_flags(&["RW", "access", "delete"]).doc("sorted_set", "5.0.0", "Pops the highest-scoring member of the first non-empty sorted set, blocking until there is one.", "O(log(N)) with N being the number of elements in the sorted set."),
    Command::new("zmpop", -4, pops::zmpop).syntax("numkeys:integer key ... (MIN|MAX) [COUNT count:integer]").flags(WRITE).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RW", "access", "delete"], 1)]).doc("sorted_set", "7.0.0", "Pops the lowest or highest-scoring members of the first non-empty sorted set among several.", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."),
    Command::new("bzmpop", -5, pops::bzmpop).syntax("timeout:double numkeys:integer key ... (MIN|MAX) [COUNT count:integer]").flags(WRITE | BLOCKING).keys_after_count(2).key_specs(&[KeySpecInfo::counted(&["RW", "access", "delete"], 2)]).doc("sorted_set", "7.0.0", "Pops members of the first non-empty sorted set among several, blocking until one has some.", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."),
    Command::new("zrandmember", -2, members::zrandmember).syntax("key [count:integer [WITHSCORES]]").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("sorted_set", "6.2.0", "Returns random members of a sorted set.", "O(N) where N is the number of elements returned"),
    Command::new("zunion", -3, setops::zunion).syntax("numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE (SUM|MIN|MAX)] [WITHSCORES]").flags(READONLY).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RO", "access"], 1)]).doc("sorted_set", "6.2.0", "Returns the union of sorted sets.", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
    Command::new("zinter", -3, setops::zinter).syntax("numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE (SUM|MIN|MAX)] [WITHSCORES]").flags(READONLY).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RO", "access"], 1)]).doc("sorted_set", "6.2.0", "Returns the intersection of sorted sets.", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."),
    Command::new("zdiff", -3, setops::zdiff).syntax("numkeys:integer key ... [WITHSCORES]").flags(READONLY).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RO", "access"], 1)]).doc("sorted_set", "6.2.0", "Returns the members of the first sorted set that are in none of the others.", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."),
    Command::new("zunionstore", -4, setops::zunionstore).syntax("destination:key numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE (SUM|MIN|MAX)]").flags(WRITE | DENYOOM).destination_and_keys_after_count(2).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::counted(&["RO", "access"], 2)]).doc("sorted_set", "2.0.0", "Stores the union of sorted sets in a key.", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
    Command::new("zinterstore", -4, setops::zinterstore).syntax("destination:key numkeys:integer key ... [WEIGHTS weight:double ...] [AGGREGATE (SUM|MIN|MAX)]").flags(WRITE | DENYOOM).destination_and_keys_after_count(2).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::counted(&["RO", "access"], 2)]).doc("sorted_set", "2.0.0", "Stores the intersection of sorted sets in a key.", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."),
    Command::new("zdiffstore", -4, setops::zdiffstore).syntax("destination:key numkeys:integer key ...").flags(WRITE | DENYOOM).destination_and_keys_after_count(2).key_specs(&[KeySpecInfo::key(&["OW", "update"], 1), KeySpecInfo::counted(&["RO", "access"], 2)]).doc("sorted_set", "6.2.0", "Stores the difference of sorted sets in a key.", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."),
    Command::new("zintercard", -3, setops::zintercard).syntax("numkeys:integer key ... [LIMIT limit:integer]").flags(READONLY).keys_after_count(1).key_specs(&[KeySpecInfo::counted(&["RO", "access"], 1)]).doc("sorted_set", "7.0.0", "Returns the number of members in the intersection of sorted sets.", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."),
    Command::new("zscan", -3, members::zscan).syntax("key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("sorted_set", "2.8.0", "Iterates over the members and scores of a sorted set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
];
