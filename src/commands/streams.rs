//! Stream commands (Redis's `t_stream.c`): XADD, XRANGE, XREVRANGE, XLEN,
//! XDEL, XTRIM, XSETID, XREAD and XREADGROUP, blocking included (the
//! consumer groups' own commands are [`super::stream_groups`]).
//!
//! The stream itself is [`crate::store::types::stream`]. What the
//! append-only file gets follows Redis's propagation: XADD is logged with
//! the id it generated, and approximate trimming (`~`), whose outcome
//! depends on node boundaries, as exact trimming (`=`) to the length or
//! first id it produced, so a replay ends with the same stream.

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::store::types::stream::{LISTPACK_MAX_SIZE, Node, NodeEntry, Stream, StreamId, Trim};
use crate::store::waiting::{BlockedOp, GroupRead};
use crate::store::{Db, Key, Value};

use super::Ctx;
use super::args;
use super::blocking::{self, Serving, Timeout};
use super::stream_groups;
use super::table::{BeginSearch, Command, FindKeys, KeySpecInfo, flags::*};
use super::typed::{as_type, reply_count};

const INVALID_ID: CommandError =
    CommandError::canned("ERR Invalid stream ID specified as stream command argument");

/// A strict id argument (no `-` or `+`), the sequence 0 when missing.
fn strict_id(arg: &[u8]) -> CommandResult<StreamId> {
    StreamId::parse(arg, 0, true, false)
        .map(|(id, _)| id)
        .map_err(|_| INVALID_ID)
}

/// A range bound (Redis's `streamParseIntervalIDOrReply`): `(` makes it
/// exclusive (and strict), `missing_seq` completes an id without sequence.
fn interval_id(arg: &[u8], missing_seq: u64) -> CommandResult<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        let (id, _) = StreamId::parse(&arg[1..], missing_seq, true, false).map_err(|_| INVALID_ID)?;
        return Ok((id, true));
    }
    let (id, _) = StreamId::parse(arg, missing_seq, false, false).map_err(|_| INVALID_ID)?;
    Ok((id, false))
}

/// XADD's and XTRIM's options (Redis's `streamAddTrimArgs`).
struct TrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// 0: no limit.
    limit: u64,
    /// Where the threshold is (rewritten for the log after `~`).
    threshold_at: usize,
    /// XADD: where the id is, and the id (`None` for `*`).
    id_at: usize,
    id: Option<(StreamId, bool)>,
    nomkstream: bool,
}

/// Parses the options from argument 2 on, as Redis's
/// `streamParseAddOrTrimArgsOrReply` does, with its errors in its order.
fn parse_trim_args(ctx: &Ctx, args: &[Vec<u8>], xadd: bool) -> CommandResult<TrimArgs> {
    let mut parsed = TrimArgs {
        trim: None,
        approx: false,
        limit: 0,
        threshold_at: 0,
        id_at: 0,
        id: None,
        nomkstream: false,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i];
        if xadd && opt.as_slice() == b"*" {
            break;
        } else if (args::is(opt, "maxlen") || args::is(opt, "minid")) && more > 0 {
            if parsed.trim.is_some() {
                return Err(CommandError::err(
                    "syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            parsed.approx = false;
            let next = args[i + 1].as_slice();
            if more >= 2 && next == b"~" {
                parsed.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let threshold = &args[i + 1];
            parsed.trim = Some(if args::is(opt, "maxlen") {
                let max = args::int(threshold)?;
                if max < 0 {
                    return Err(CommandError::err("The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(max as u64)
            } else {
                Trim::MinId(strict_id(threshold)?)
            });
            i += 1;
            parsed.threshold_at = i;
        } else if args::is(opt, "limit") && more > 0 {
            let limit = args::int(&args[i + 1])?;
            if limit < 0 {
                return Err(CommandError::err("The LIMIT argument must be >= 0."));
            }
            parsed.limit = limit as u64;
            limit_given = true;
            i += 1;
        } else if xadd && args::is(opt, "nomkstream") {
            parsed.nomkstream = true;
        } else if xadd {
            let (id, seq_given) = StreamId::parse(opt, 0, true, true).map_err(|_| INVALID_ID)?;
            parsed.id = Some((id, seq_given));
            break;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    parsed.id_at = i;
    if parsed.limit != 0 && parsed.trim.is_none() {
        return Err(CommandError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && parsed.trim.is_none() {
        return Err(CommandError::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !parsed.approx {
            return Err(CommandError::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if parsed.approx {
        // Redis bounds the work of an approximate trim to 100 nodes.
        let entries = ctx.state.config().stream_limits().max_entries;
        let limit = entries.saturating_mul(100);
        parsed.limit = if limit <= 0 { 10_000 } else { limit.min(1_000_000) } as u64;
    }
    Ok(parsed)
}

/// Rewrites an approximate trim for the log as an exact one to where the
/// stream now stands (Redis's `streamRewriteTrimArgument`).
fn exact_trim_args(args: &mut [Vec<u8>], parsed: &TrimArgs, stream: &Stream) {
    args[parsed.threshold_at - 1] = b"=".to_vec();
    args[parsed.threshold_at] = match parsed.trim {
        Some(Trim::MaxLen(_)) => stream.len().to_string().into_bytes(),
        _ => stream.edge_id(true, false).to_bytes(),
    };
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...`
fn xadd(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let parsed = parse_trim_args(ctx, args, true)?;
    let field_at = parsed.id_at + 1;
    let fields = args.len().saturating_sub(field_at);
    if fields < 2 || fields % 2 == 1 {
        return Err(error::wrong_arity("xadd"));
    }
    if parsed.id == Some((StreamId::MIN, true)) {
        return Err(CommandError::err("The ID specified in XADD must be greater than 0-0"));
    }
    let key = &args[1];
    let limits = ctx.state.config().stream_limits();
    let now = ctx.now_ms.max(0) as u64;
    let pairs: Vec<&[u8]> = args[field_at..].iter().map(Vec::as_slice).collect();
    let (mut db, out) = ctx.db_and_out();
    let existing = as_type::<Stream>(db.lookup_write(key))?;
    let exists = existing.is_some();
    if !exists && parsed.nomkstream {
        out.null();
        return Ok(());
    }
    let mut fresh = Stream::new();
    let stream = match existing {
        Some(s) => s,
        None => &mut fresh,
    };
    if stream.last_id == StreamId::MAX {
        return Err(CommandError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let Some(id) = stream.next_id(parsed.id, now) else {
        return Err(CommandError::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        ));
    };
    if pairs.iter().map(|p| p.len() as u64).sum::<u64>() > LISTPACK_MAX_SIZE {
        return Err(CommandError::err("Elements are too large to be stored"));
    }
    stream.append(id, &pairs, limits);
    let trimmed = match parsed.trim {
        Some(trim) => stream.trim(trim, parsed.approx, parsed.limit),
        None => 0,
    };
    let mut logged = args.to_vec();
    if parsed.trim.is_some() && parsed.approx {
        exact_trim_args(&mut logged, &parsed, stream);
    }
    if !matches!(parsed.id, Some((_, true))) {
        logged[parsed.id_at] = id.to_bytes();
    }
    if exists {
        db.signal_modified(key);
        db.signal_ready(key);
    } else {
        db.set(key, Value::Stream(Box::new(fresh)));
    }
    ctx.out.bulk(&id.to_bytes());
    ctx.dirty += 1;
    ctx.notify(notify::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    ctx.propagate_as(vec![logged]);
    Ok(())
}

/// Writes entries as Redis replies them: `[id, [field, value, ...]]` each.
fn reply_entries<'a>(
    out: &mut ReplyWriter,
    entries: impl Iterator<Item = (&'a Node, &'a NodeEntry)>,
) {
    let entries: Vec<_> = entries.collect();
    out.array(entries.len());
    for (node, entry) in entries {
        write_entry(out, node, entry);
    }
}

/// Writes one entry as Redis replies it: `[id, [field, value, ...]]`.
pub fn write_entry(out: &mut ReplyWriter, node: &Node, entry: &NodeEntry) {
    out.array(2);
    out.bulk(&entry.id.to_bytes());
    out.array(node.field_count(entry) * 2);
    for (field, value) in node.pairs(entry) {
        out.bulk(field);
        out.bulk(value);
    }
}

/// XRANGE and XREVRANGE.
fn range_command(ctx: &mut Ctx, args: &[Vec<u8>], rev: bool) -> CommandResult {
    let (start_arg, end_arg) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let (mut start, start_ex) = interval_id(start_arg, 0)?;
    if start_ex {
        start = start
            .next()
            .ok_or_else(|| CommandError::err("invalid start ID for the interval"))?;
    }
    let (mut end, end_ex) = interval_id(end_arg, u64::MAX)?;
    if end_ex {
        end = end
            .prev()
            .ok_or_else(|| CommandError::err("invalid end ID for the interval"))?;
    }
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < args.len() {
        if args::is(&args[j], "count") && j + 1 < args.len() {
            count = Some(args::int(&args[j + 1])?.max(0) as usize);
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let (mut db, out) = ctx.db_and_out();
    let Some(stream) = as_type::<Stream>(db.lookup_read(&args[1]))? else {
        out.array(0);
        return Ok(());
    };
    match count {
        Some(0) => out.null_array(),
        Some(n) => reply_entries(out, stream.range(start, end, rev).take(n)),
        None => reply_entries(out, stream.range(start, end, rev)),
    }
    Ok(())
}

/// `XRANGE key start end [COUNT count]`
fn xrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, false)
}

/// `XREVRANGE key end start [COUNT count]`
fn xrevrange(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    range_command(ctx, args, true)
}

/// `XLEN key`
fn xlen(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_count::<Stream>(ctx, &args[1], |s| s.len() as usize)
}

/// `XDEL key id [id ...]`
fn xdel(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let mut db = ctx.db();
    let Some(stream) = as_type::<Stream>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    // Every id is checked before any is deleted, as Redis does.
    let ids = args[2..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<CommandResult<Vec<_>>>()?;
    let mut deleted = 0u64;
    let mut first_deleted = false;
    for id in ids {
        if stream.delete(id) {
            first_deleted |= id == stream.first_id;
            if id > stream.max_deleted_id {
                stream.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if stream.is_empty() {
            stream.first_id = StreamId::MIN;
        } else if first_deleted {
            stream.first_id = stream.edge_id(true, true);
        }
        db.signal_modified(key);
        ctx.notify(notify::STREAM, "xdel", key);
        ctx.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`
fn xtrim(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let parsed = parse_trim_args(ctx, args, false)?;
    let key = &args[1];
    let mut db = ctx.db();
    let Some(stream) = as_type::<Stream>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(trim) = parsed.trim else {
        return Err(error::SYNTAX);
    };
    let deleted = stream.trim(trim, parsed.approx, parsed.limit);
    if deleted > 0 {
        let logged = parsed.approx.then(|| {
            let mut logged = args.to_vec();
            exact_trim_args(&mut logged, &parsed, stream);
            logged
        });
        db.signal_modified(key);
            if let Some(logged) = logged {
            ctx.propagate_as(vec![logged]);
        }
        ctx.notify(notify::STREAM, "xtrim", key);
        ctx.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
fn xsetid(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let id = strict_id(&args[2])?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if args::is(&args[i], "entriesadded") && more > 0 {
            let n = args::int(&args[i + 1])?;
            if n < 0 {
                return Err(CommandError::err("entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if args::is(&args[i], "maxdeletedid") && more > 0 {
            max_deleted = strict_id(&args[i + 1])?;
            if id < max_deleted {
                return Err(CommandError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    let key = &args[1];
    let mut db = ctx.db();
    let stream = as_type::<Stream>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
    if !stream.is_empty() {
        if id < stream.last_valid_id() {
            return Err(CommandError::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added.is_some_and(|n| stream.len() > n) {
            return Err(CommandError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    stream.last_id = id;
    if let Some(n) = entries_added {
        stream.entries_added = n;
    }
    if max_deleted != StreamId::MIN {
        stream.max_deleted_id = max_deleted;
    }
    // Redis's XSETID leaves WATCH alone (it never signals the key).
    ctx.notify(notify::STREAM, "xsetid", key);
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// XREAD's and XREADGROUP's options as their key rule and handler both
/// read them: where the keys start and how many there are, `None` where
/// the arguments are not well formed (the handler then reports why).
fn xread_streams(args: &[Vec<u8>]) -> Option<(usize, usize)> {
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        if (args::is(&args[i], "block") || args::is(&args[i], "count")) && more > 0 {
            i += 2;
        } else if args::is(&args[i], "group") && more >= 2 {
            i += 3;
        } else if args::is(&args[i], "noack") {
            i += 1;
        } else if args::is(&args[i], "streams") && more > 0 {
            let rest = args.len() - i - 1;
            return rest.is_multiple_of(2).then_some((i + 1, rest / 2));
        } else {
            return None;
        }
    }
    None
}

/// XREAD's and XREADGROUP's keys, for locking.
fn xread_keys(args: &[Vec<u8>]) -> Vec<usize> {
    xread_streams(args).map_or_else(Vec::new, |(start, n)| (start..start + n).collect())
}

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key ... id ...`
fn xread(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    read_command(ctx, args, false)
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds]
/// [NOACK] STREAMS key ... id ...`
fn xreadgroup(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    read_command(ctx, args, true)
}

/// XREAD and XREADGROUP, as Redis's one `xreadCommand`: `>` (a group's
/// new entries) is carried as the maximal id, as Redis does.
fn read_command(ctx: &mut Ctx, args: &[Vec<u8>], in_group: bool) -> CommandResult {
    let mut timeout: Option<Timeout> = None;
    let mut count = 0usize;
    let mut streams: Option<(usize, usize)> = None;
    let mut group: Option<GroupRead> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let opt = &args[i];
        if args::is(opt, "block") && more > 0 {
            if ctx.client.in_script {
                return Err(CommandError::err(format_args!(
                    "{} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(&args[0])
                )));
            }
            i += 1;
            let ms = args::int_or(
                &args[i],
                CommandError::canned("ERR timeout is not an integer or out of range"),
            )?;
            if ms < 0 {
                return Err(error::NEGATIVE_TIMEOUT);
            }
            timeout = Some(if ms == 0 || crate::clock::unix_ms().checked_add(ms).is_none() {
                Timeout::Forever
            } else {
                Timeout::After(std::time::Duration::from_millis(ms as u64))
            });
        } else if args::is(opt, "count") && more > 0 {
            i += 1;
            count = args::int(&args[i])?.max(0) as usize;
        } else if args::is(opt, "streams") && more > 0 {
            let rest = args.len() - i - 1;
            if !rest.is_multiple_of(2) {
                return Err(CommandError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams = Some((i + 1, rest / 2));
            break;
        } else if args::is(opt, "group") && more >= 2 {
            if !in_group {
                return Err(CommandError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some(GroupRead {
                group: args[i + 1].clone(),
                consumer: args[i + 2].clone(),
                noack: false,
            });
            i += 2;
        } else if args::is(opt, "noack") {
            if !in_group {
                return Err(CommandError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    let Some((first, n)) = streams else {
        return Err(error::SYNTAX);
    };
    if in_group && group.is_none() {
        return Err(CommandError::err("Missing GROUP option for XREADGROUP"));
    }
    if let Some(read) = &mut group {
        read.noack = noack;
    }
    let keys = &args[first..first + n];
    let mut after = Vec::with_capacity(n);
    {
        let mut db = ctx.db();
        for (key, arg) in keys.iter().zip(&args[first + n..]) {
            let stream = as_type::<Stream>(db.lookup_read(key))?;
            if let Some(read) = &group
                && stream.as_ref().is_none_or(|s| !s.groups.contains_key(&read.group))
            {
                return Err(stream_groups::no_key_or_group(
                    key,
                    &read.group,
                    " in XREADGROUP with GROUP option",
                ));
            }
            let id = if arg.as_slice() == b"$" {
                if in_group {
                    return Err(CommandError::err(
                        "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                    ));
                }
                stream.map_or(StreamId::MIN, |s| s.last_id)
            } else if arg.as_slice() == b">" {
                if !in_group {
                    return Err(CommandError::err(
                        "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                    ));
                }
                StreamId::MAX
            } else {
                strict_id(arg)?
            };
            after.push(id);
        }
    }
    let now = ctx.now_ms;
    let mut effects = stream_groups::Effects::default();
    let (mut db, out) = ctx.db_and_out();
    // Which streams have something now, and after which id.
    let mut served: Vec<(usize, StreamId, bool)> = Vec::new();
    for (index, (key, id)) in keys.iter().zip(&after).enumerate() {
        let Some(stream) = as_type::<Stream>(db.lookup_read(key))? else {
            continue;
        };
        match &group {
            // An explicit id reads the consumer's own history.
            Some(_) if *id != StreamId::MAX => served.push((index, *id, true)),
            Some(read) => {
                let last = stream.groups.get(&read.group).map_or(StreamId::MAX, |g| g.last_id);
                if !stream.is_empty() && stream.last_valid_id() > last {
                    served.push((index, last, false));
                }
            }
            None => {
                if !stream.is_empty() && stream.last_valid_id() > *id {
                    served.push((index, *id, false));
                }
            }
        }
    }
    if !served.is_empty() {
        if out.is_resp3() {
            out.map(served.len());
        } else {
            out.array(served.len());
        }
        for (index, id, history) in served {
            let key = &keys[index];
            let stream = as_type::<Stream>(db.lookup_read(key))?.ok_or(error::NO_SUCH_KEY)?;
            match &group {
                Some(read) => {
                    if !out.is_resp3() {
                        out.array(2);
                    }
                    out.bulk(key);
                    stream_groups::read_group(
                        out, stream, key, read, id, history, count, now, &mut effects,
                    );
                    effects.dirty += 1;
                }
                None => reply_stream(out, key, stream, id, count, false),
            }
        }
        if group.is_some() {
            effects.apply(ctx);
        }
        return Ok(());
    }
    if group.is_some() {
        // Nothing read: nothing to log.
        ctx.propagate_as(Vec::new());
    }
    let Some(timeout) = timeout else {
        ctx.out.null_array();
        return Ok(());
    };
    let op = BlockedOp::StreamRead {
        after: keys.iter().map(|k| Key::new(k)).zip(after).collect(),
        // Without COUNT a blocked reader gets at most 1000 entries, as in
        // Redis, so an old id cannot make one reply huge.
        count: if count == 0 { 1000 } else { count },
        group,
    };
    blocking::block_or_null(ctx, keys, timeout, op)
}

/// One stream of an XREAD reply: `[key, entries]` (in RESP3 the key and
/// entries of a map, unless `single` wraps it as a one-key map).
fn reply_stream(
    out: &mut ReplyWriter,
    key: &[u8],
    stream: &Stream,
    after: StreamId,
    count: usize,
    single: bool,
) {
    if single {
        if out.is_resp3() {
            out.map(1);
        } else {
            out.array(1);
        }
    }
    if !out.is_resp3() {
        out.array(2);
    }
    out.bulk(key);
    let Some(start) = after.next() else {
        out.array(0);
        return;
    };
    let entries = stream.range(start, StreamId::MAX, false);
    if count == 0 {
        reply_entries(out, entries);
    } else {
        reply_entries(out, entries.take(count));
    }
}

/// The id a blocked XREAD waits after on `key`.
fn waited_id(op: &BlockedOp, key: &[u8]) -> Option<StreamId> {
    let BlockedOp::StreamRead { after, .. } = op else {
        return None;
    };
    after
        .iter()
        .find(|(k, _)| k.as_bytes() == key)
        .map(|(_, id)| *id)
}

/// True for a blocked XREADGROUP, which its stream's deletion ends.
pub fn reads_in_group(op: &BlockedOp) -> bool {
    matches!(op, BlockedOp::StreamRead { group: Some(_), .. })
}

/// True if the stream at `key` has entries past what `op` waits after
/// (Redis compares with the stream's last id, deleted or not; a group
/// reader with the group's last delivered id, and a reader whose group
/// is gone is served its error).
pub fn has_entries_for(db: &mut Db, key: &[u8], op: &BlockedOp) -> bool {
    let (Some(after), BlockedOp::StreamRead { group, .. }) = (waited_id(op, key), op) else {
        return false;
    };
    let Ok(Some(stream)) = as_type::<Stream>(db.lookup_write(key)) else {
        return false;
    };
    match group {
        Some(read) => stream
            .groups
            .get(&read.group)
            .is_none_or(|g| stream.last_id > g.last_id),
        None => stream.last_id > after,
    }
}

/// Serves a client blocked in XREAD with the entries after its id, or in
/// XREADGROUP with the group's new entries (see [`super::blocking`]).
/// Plain reading changes nothing, so nothing is logged; a group read logs
/// what it delivered.
pub fn serve_blocked(db: &mut Db, key: &[u8], op: &BlockedOp, serving: &mut Serving) -> u64 {
    let (Some(after), BlockedOp::StreamRead { count, group, .. }) = (waited_id(op, key), op) else {
        return 0;
    };
    let now = db.now_ms();
    let Ok(Some(stream)) = as_type::<Stream>(db.lookup_write(key)) else {
        return 0;
    };
    let Some(read) = group else {
        reply_stream(&mut serving.out, key, stream, after, *count, true);
        return 0;
    };
    let Some(last) = stream.groups.get(&read.group).map(|g| g.last_id) else {
        serving.out.error(&CommandError::canned(
            "NOGROUP the consumer group this client was blocked on no longer exists",
        ));
        return 0;
    };
    let out = &mut serving.out;
    if out.is_resp3() {
        out.map(1);
    } else {
        out.array(1);
        out.array(2);
    }
    out.bulk(key);
    let mut effects = stream_groups::Effects::default();
    stream_groups::read_group(out, stream, key, read, last, false, *count, now, &mut effects);
    serving.log.extend(effects.log);
    serving.events.extend(effects.events);
    effects.dirty
}

/// Ends a blocked XREADGROUP whose stream was deleted or replaced (Redis's
/// `unblockDeletedStreamReadgroupClients`).
pub fn serve_stream_gone(_db: &mut Db, _key: &[u8], _op: &BlockedOp, serving: &mut Serving) -> u64 {
    serving.out.error(&CommandError::canned(
        "UNBLOCKED the stream key no longer exists",
    ));
    0
}

// ---- Command table -----------------------------------------------------------

/// XREAD's key spec: the keys after STREAMS, half of what follows.
const XREAD_KEYS: &[KeySpecInfo] = &[KeySpecInfo::new(
    &["RO", "access"],
    BeginSearch::Keyword("STREAMS", 1),
    FindKeys::Range(-1, 1, 2),
)];

/// XREADGROUP's key spec: as XREAD's, the keyword searched from argument 4.
const XREADGROUP_KEYS: &[KeySpecInfo] = &[KeySpecInfo::new(
    &["RO", "access"],
    BeginSearch::Keyword("STREAMS", 4),
    FindKeys::Range(-1, 1, 2),
)];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("xadd", -5, xadd).syntax("key [NOMKSTREAM] [(MAXLEN|MINID) [=|~] threshold [LIMIT count:integer]] (*|id) (field value) ...").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_specs(&[KeySpecInfo::key(&["RW", "update"], 1).notes("UPDATE instead of INSERT because of the optional trimming feature")]).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "Appends a new entry to a stream", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."),
    Command::new("xrange", -4, xrange).syntax("key start end [COUNT count:integer]").flags(READONLY).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    Command::new("xrevrange", -4, xrevrange).syntax("key end start [COUNT count:integer]").flags(READONLY).keys(1, 1, 1).key_flags(&["RO", "access"]).doc("stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
    Command::new("xlen", 2, xlen).syntax("key").flags(READONLY | FAST).keys(1, 1, 1).key_flags(&["RO"]).doc("stream", "5.0.0", "Return the number of entries in a stream", "O(1)"),
    Command::new("xdel", -3, xdel).syntax("key id ...").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "delete"]).doc("stream", "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", "O(1) for each single item to delete in the stream, regardless of the stream size."),
    Command::new("xtrim", -4, xtrim).syntax("key (MAXLEN|MINID) [=|~] threshold [LIMIT count:integer]").flags(WRITE).keys(1, 1, 1).key_flags(&["RW", "delete"]).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation."),
    Command::new("xsetid", -3, xsetid).syntax("key last-id [ENTRIESADDED entries_added:integer] [MAXDELETEDID max_deleted_entry_id]").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("stream", "5.0.0", "An internal command for replicating stream values", "O(1)"),
    Command::new("xreadgroup", -7, xreadgroup).syntax("GROUP (group consumer) [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] STREAMS (key ... id ...)").flags(WRITE | BLOCKING).found_keys(xread_keys).key_specs(XREADGROUP_KEYS).doc("stream", "5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."),
    Command::new("xread", -4, xread).syntax("[COUNT count:integer] [BLOCK milliseconds:integer] STREAMS (key ... id ...)").flags(READONLY | BLOCKING).found_keys(xread_keys).key_specs(XREAD_KEYS).doc("stream", "5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data."),
];
