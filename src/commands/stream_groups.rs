//! Consumer groups (the group half of Redis's `t_stream.c`): XGROUP, XACK,
//! XPENDING, XCLAIM, XAUTOCLAIM, XINFO, and what XREADGROUP does to a
//! group (its reading lives with XREAD in [`super::streams`]).
//!
//! The groups themselves are data of [`Stream`]. What reaches the
//! append-only file follows Redis's propagation, which makes every change
//! to a group's pending entries idempotent: each entry delivered or
//! claimed is logged as `XCLAIM key group consumer 0 id TIME ms
//! RETRYCOUNT n FORCE JUSTID LASTID id`, a last delivered id moved without
//! pending entries (NOACK, XCLAIM's LASTID) as `XGROUP SETID ...
//! ENTRIESREAD n`, and a consumer NOACK created as `XGROUP
//! CREATECONSUMER`.

use crate::channels::notify::{self, Events};
use crate::error::{self, CommandError, CommandResult};
use crate::resp::ReplyWriter;
use crate::store::Value;
use crate::store::types::stream::{Consumer, Delivered, Group, PendingEntry, Stream, StreamId};
use crate::store::waiting::GroupRead;

use super::Ctx;
use super::args;
use super::table::{Command, flags::*};
use super::typed::as_type;

/// What a group operation changed beyond its reply: the commands to log,
/// the keyspace events, the dirty count.
#[derive(Default)]
pub struct Effects {
    pub log: Vec<Vec<Vec<u8>>>,
    pub events: Events,
    pub dirty: u64,
}

impl Effects {
    /// Hands the effects to the command that ran: logged instead of it
    /// (nothing when empty), events published, changes counted.
    pub fn apply(self, ctx: &mut Ctx) {
        ctx.dirty += self.dirty;
        ctx.notify_all(self.events);
        ctx.propagate_as(self.log);
    }
}

/// An error naming a key and a group, as Redis's `%s` prints them.
fn named_error(parts: &[&[u8]]) -> CommandError {
    let mut text = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            text.extend_from_slice(part);
        } else {
            text.extend_from_slice(error::c_str_prefix(part, usize::MAX));
        }
    }
    CommandError::from_bytes(text)
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
pub fn no_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> CommandError {
    named_error(&[
        b"NOGROUP No such key '",
        key,
        b"' or consumer group '",
        group,
        format!("'{suffix}").as_bytes(),
    ])
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
fn no_group_for_key(group: &[u8], key: &[u8]) -> CommandError {
    named_error(&[
        b"NOGROUP No such consumer group '",
        group,
        b"' for key name '",
        key,
        b"'",
    ])
}

/// A strict id argument (Redis's `streamParseStrictIDOrReply`).
fn strict_id(arg: &[u8]) -> Option<StreamId> {
    StreamId::parse(arg, 0, true, false).ok().map(|(id, _)| id)
}

fn invalid_id() -> CommandError {
    CommandError::canned("ERR Invalid stream ID specified as stream command argument")
}

/// Looks a consumer up, refreshing its seen time, or creates it (Redis's
/// `streamLookupConsumer` then `streamCreateConsumer`, which notifies and
/// counts a change). Returns true if it was created.
pub fn touch_consumer(
    group: &mut Group,
    name: &[u8],
    now_ms: i64,
    key: &[u8],
    effects: &mut Effects,
) -> bool {
    if let Some(consumer) = group.consumers.get_mut(name) {
        consumer.seen_time = now_ms;
        return false;
    }
    group.consumers.insert(
        name.to_vec(),
        Consumer {
            seen_time: now_ms,
            ..Consumer::default()
        },
    );
    effects.dirty += 1;
    notify::note(&mut effects.events, notify::STREAM, "xgroup-createconsumer", key);
    true
}

/// The XCLAIM Redis propagates for a pending entry (`streamPropagateXCLAIM`).
fn xclaim_argv(
    key: &[u8],
    group: &[u8],
    id: &[u8],
    nack: &PendingEntry,
    last_id: StreamId,
) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer.clone(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_bytes(),
    ]
}

/// The XGROUP SETID Redis propagates for a moved last delivered id
/// (`streamPropagateGroupID`).
fn setid_argv(key: &[u8], name: &[u8], group: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        name.to_vec(),
        group.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        group.entries_read.to_string().into_bytes(),
    ]
}

/// Writes one entry as `[id, [field, value, ...]]`; false if there is no
/// such live entry (nothing written).
pub fn reply_entry(out: &mut ReplyWriter, stream: &Stream, id: StreamId) -> bool {
    let Some((node, entry)) = stream.entry(id) else {
        return false;
    };
    super::streams::write_entry(out, node, entry);
    true
}

/// Serves one stream of an XREADGROUP for `read` (the group exists):
/// with `history`, the consumer's own pending entries after `after`;
/// otherwise the entries after `after` (the group's last delivered id),
/// delivered to the consumer. Writes the entries array; `count` 0 is no
/// limit.
#[allow(clippy::too_many_arguments)]
pub fn read_group(
    out: &mut ReplyWriter,
    stream: &mut Stream,
    key: &[u8],
    read: &GroupRead,
    after: StreamId,
    history: bool,
    count: usize,
    now_ms: i64,
    effects: &mut Effects,
) {
    let Some(group) = stream.groups.get_mut(&read.group) else {
        out.array(0);
        return;
    };
    if touch_consumer(group, &read.consumer, now_ms, key, effects) && read.noack {
        effects.log.push(vec![
            b"XGROUP".to_vec(),
            b"CREATECONSUMER".to_vec(),
            key.to_vec(),
            read.group.clone(),
            read.consumer.clone(),
        ]);
    }
    let Some(start) = after.next() else {
        out.array(0);
        return;
    };
    if history {
        let ids: Vec<StreamId> = {
            let pending = group
                .consumers
                .get(&read.consumer)
                .map(|c| c.pending.range(start..));
            let limit = if count == 0 { usize::MAX } else { count };
            pending.into_iter().flatten().take(limit).copied().collect()
        };
        out.array(ids.len());
        for id in ids {
            if reply_entry(out, stream, id) {
                if let Some(nack) = stream
                    .groups
                    .get_mut(&read.group)
                    .and_then(|g| g.pending.get_mut(&id))
                {
                    nack.delivery_time = now_ms;
                    nack.delivery_count += 1;
                }
            } else {
                // Deleted since it was delivered: the id with no fields.
                out.array(2);
                out.bulk(&id.to_bytes());
                out.null_array();
            }
        }
        return;
    }
    let delivered = stream.deliver(&read.group, &read.consumer, start, count, read.noack, now_ms);
    out.array(delivered.len());
    for d in &delivered {
        reply_entry(out, stream, d.id);
    }
    if read.noack {
        if delivered.iter().any(|d| d.group_last_id == d.id)
            && let Some(group) = stream.groups.get(&read.group)
        {
            effects.log.push(setid_argv(key, &read.group, group));
        }
        return;
    }
    for &Delivered {
        id,
        group_last_id,
        delivery_time,
        delivery_count,
    } in &delivered
    {
        let nack = PendingEntry {
            delivery_time,
            delivery_count,
            consumer: read.consumer.clone(),
        };
        effects.log.push(xclaim_argv(
            key,
            &read.group,
            &id.to_bytes(),
            &nack,
            group_last_id,
        ));
    }
}

// ---- XGROUP ------------------------------------------------------------------

/// `XGROUP` and `XINFO`: every call with a known subcommand is routed to it.
fn xgroup_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("xgroup", &args[1]))
}
fn xinfo_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("xinfo", &args[1]))
}

/// Every XGROUP subcommand, as Redis's one `xgroupCommand`: options, then
/// the key and group, then each subcommand's own argument count.
fn xgroup(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let sub = &args[1];
    let syntax = || error::subcommand_syntax(&args[0], sub);
    let create = args::is(sub, "create");
    let setid = args::is(sub, "setid");
    let mut mkstream = false;
    let mut entries_read = -1i64;
    let mut i = 5;
    while i < args.len() {
        if create && args::is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && args::is(&args[i], "entriesread") && i + 1 < args.len() {
            entries_read = args::int(&args[i + 1])?;
            if entries_read < 0 && entries_read != -1 {
                return Err(CommandError::err(
                    "value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(syntax());
        }
    }
    let key = &args[2];
    let name = &args[3];
    let now = ctx.now_ms;
    let (mut db, out) = ctx.db_and_out();
    let exists = as_type::<Stream>(db.lookup_write(key))?.is_some();
    if !mkstream {
        let Some(stream) = as_type::<Stream>(db.lookup_write(key))? else {
            return Err(CommandError::err(
                "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
            ));
        };
        let needs_group = setid || args::is(sub, "createconsumer") || args::is(sub, "delconsumer");
        if needs_group && !stream.groups.contains_key(name.as_slice()) {
            return Err(no_group_for_key(name, key));
        }
    }
    let mut effects = Effects::default();
    if create && (5..=8).contains(&args.len()) {
        let id = if args[4].as_slice() == b"$" {
            as_type::<Stream>(db.lookup_write(key))?.map_or(StreamId::MIN, |s| s.last_id)
        } else {
            strict_id(&args[4]).ok_or_else(invalid_id)?
        };
        if !exists {
            db.set(key, Value::Stream(Box::default()));
        }
        let stream = as_type::<Stream>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
        if !stream.create_group(name, id, entries_read) {
            return Err(CommandError::canned(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
        out.ok();
        effects.dirty += 1;
        notify::note(&mut effects.events, notify::STREAM, "xgroup-create", key);
    } else if setid && (args.len() == 5 || args.len() == 7) {
        let stream = as_type::<Stream>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
        let id = if args[4].as_slice() == b"$" {
            stream.last_id
        } else {
            StreamId::parse(&args[4], 0, false, false)
                .map_err(|_| invalid_id())?
                .0
        };
        let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        group.last_id = id;
        group.entries_read = entries_read;
        out.ok();
        effects.dirty += 1;
        notify::note(&mut effects.events, notify::STREAM, "xgroup-setid", key);
    } else if args::is(sub, "destroy") && args.len() == 4 {
        let stream = as_type::<Stream>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
        if stream.groups.remove(name.as_slice()).is_some() {
                // Its blocked readers learn the group is gone.
            db.signal_ready(key);
            out.int(1);
            effects.dirty += 1;
            notify::note(&mut effects.events, notify::STREAM, "xgroup-destroy", key);
        } else {
            out.int(0);
        }
    } else if args::is(sub, "createconsumer") && args.len() == 5 {
        let stream = as_type::<Stream>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
        let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        let created = !group.consumers.contains_key(args[4].as_slice())
            && touch_consumer(group, &args[4], now, key, &mut effects);
        out.int(i64::from(created));
    } else if args::is(sub, "delconsumer") && args.len() == 5 {
        let stream = as_type::<Stream>(db.lookup_write(key))?.ok_or(error::NO_SUCH_KEY)?;
        let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        let pending = group.delete_consumer(&args[4]);
        if pending.is_some() {
                effects.dirty += 1;
            notify::note(&mut effects.events, notify::STREAM, "xgroup-delconsumer", key);
        }
        out.int(pending.unwrap_or(0) as i64);
    } else {
        return Err(syntax());
    }
    ctx.dirty += effects.dirty;
    ctx.notify_all(effects.events);
    Ok(())
}

// `XGROUP HELP`
help_command!(
    xgroup_help,
    [
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
    ]
);

// ---- XACK, XPENDING ----------------------------------------------------------

/// `XACK key group id [id ...]`
fn xack(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let mut db = ctx.db();
    let group = match as_type::<Stream>(db.lookup_read(key))? {
        Some(stream) => stream.groups.get_mut(args[2].as_slice()),
        None => None,
    };
    let Some(group) = group else {
        ctx.out.int(0);
        return Ok(());
    };
    // All or nothing: every id is checked before any is acknowledged.
    let ids = args[3..]
        .iter()
        .map(|a| strict_id(a).ok_or_else(invalid_id))
        .collect::<CommandResult<Vec<_>>>()?;
    let acknowledged = ids
        .into_iter()
        .filter(|&id| group.remove_pending(id).is_some())
        .count();
    ctx.dirty += acknowledged as u64;
    ctx.out.int(acknowledged as i64);
    Ok(())
}

/// A range bound of XPENDING and XAUTOCLAIM (Redis's
/// `streamParseIntervalIDOrReply` and the `(` handling around it).
fn interval_bound(arg: &[u8], missing_seq: u64, start: bool) -> CommandResult<StreamId> {
    let exclusive = arg.len() > 1 && arg[0] == b'(';
    let (id, _) = if exclusive {
        StreamId::parse(&arg[1..], missing_seq, true, false)
    } else {
        StreamId::parse(arg, missing_seq, false, false)
    }
    .map_err(|_| invalid_id())?;
    if !exclusive {
        return Ok(id);
    }
    if start {
        id.next()
            .ok_or_else(|| CommandError::err("invalid start ID for the interval"))
    } else {
        id.prev()
            .ok_or_else(|| CommandError::err("invalid end ID for the interval"))
    }
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
fn xpending(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let summary = args.len() == 3;
    if !summary && !(6..=9).contains(&args.len()) {
        return Err(error::SYNTAX);
    }
    let mut range = (StreamId::MIN, StreamId::MAX);
    let mut count = 0i64;
    let mut min_idle = 0i64;
    let mut consumer: Option<&[u8]> = None;
    if !summary {
        let mut at = 3;
        if args::is(&args[3], "idle") {
            min_idle = args::int(&args[4])?;
            if args.len() < 8 {
                return Err(error::SYNTAX);
            }
            at += 2;
        }
        count = args::int(&args[at + 2])?.max(0);
        range.0 = interval_bound(&args[at], 0, true)?;
        range.1 = interval_bound(&args[at + 1], u64::MAX, false)?;
        consumer = args.get(at + 3).map(Vec::as_slice);
    }
    let (key, name) = (&args[1], &args[2]);
    let now = ctx.now_ms;
    let (mut db, out) = ctx.db_and_out();
    let group = match as_type::<Stream>(db.lookup_read(key))? {
        Some(stream) => stream.groups.get(name.as_slice()),
        None => None,
    };
    let group = group.ok_or_else(|| no_key_or_group(key, name, ""))?;
    if summary {
        out.array(4);
        out.int(group.pending.len() as i64);
        let (Some(first), Some(last)) = (group.pending.keys().next(), group.pending.keys().next_back())
        else {
            out.null();
            out.null();
            out.null_array();
            return Ok(());
        };
        out.bulk(&first.to_bytes());
        out.bulk(&last.to_bytes());
        let owners: Vec<_> = group
            .consumers
            .iter()
            .filter(|(_, c)| !c.pending.is_empty())
            .collect();
        out.array(owners.len());
        for (name, c) in owners {
            out.array(2);
            out.bulk(name);
            out.bulk(c.pending.len().to_string().as_bytes());
        }
        return Ok(());
    }
    let ids: Box<dyn Iterator<Item = &StreamId>> = match consumer {
        Some(name) => match group.consumers.get(name) {
            Some(c) => Box::new(c.pending.iter()),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => Box::new(group.pending.keys()),
    };
    let mut rows = Vec::new();
    if range.0 <= range.1 {
        for id in ids.skip_while(|id| **id < range.0) {
            if rows.len() as i64 >= count || *id > range.1 {
                break;
            }
            let Some(nack) = group.pending.get(id) else {
                continue;
            };
            if min_idle != 0 && now - nack.delivery_time < min_idle {
                continue;
            }
            rows.push((*id, nack));
        }
    }
    out.array(rows.len());
    for (id, nack) in rows {
        out.array(4);
        out.bulk(&id.to_bytes());
        out.bulk(&nack.consumer);
        out.int((now - nack.delivery_time).max(0));
        out.int(nack.delivery_count as i64);
    }
    Ok(())
}

// ---- XCLAIM, XAUTOCLAIM ------------------------------------------------------

/// The stream and group a claim works on, with Redis's NOGROUP error.
fn claimed_group<'a>(
    stream: Option<&'a mut Stream>,
    key: &[u8],
    name: &[u8],
) -> CommandResult<&'a mut Stream> {
    match stream {
        Some(stream) if stream.groups.contains_key(name) => Ok(stream),
        _ => Err(no_key_or_group(key, name, "")),
    }
}

/// Makes the pending entry `id` the consumer's (creating the consumer on
/// the first claim, `touched` remembering it) with the delivery time and
/// count given; returns the entry as it now is.
#[allow(clippy::too_many_arguments)]
fn claim(
    group: &mut Group,
    id: StreamId,
    consumer: &[u8],
    touched: &mut bool,
    delivery_time: i64,
    delivery_count: u64,
    now_ms: i64,
    key: &[u8],
    effects: &mut Effects,
) -> PendingEntry {
    if !*touched {
        touch_consumer(group, consumer, now_ms, key, effects);
        *touched = true;
    }
    let nack = group.assign(id, consumer);
    nack.delivery_time = delivery_time;
    nack.delivery_count = delivery_count;
    nack.clone()
}

/// Writes what a claim took: the ids with JUSTID, else the entries.
fn reply_claimed(out: &mut ReplyWriter, stream: &Stream, claimed: &[StreamId], justid: bool) {
    out.array(claimed.len());
    for &id in claimed {
        if justid {
            out.bulk(&id.to_bytes());
        } else {
            reply_entry(out, stream, id);
        }
    }
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID]
/// [LASTID id]`
fn xclaim(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, name, consumer) = (&args[1], &args[2], &args[3]);
    let now = ctx.now_ms;
    let (mut db, out) = ctx.db_and_out();
    let stream = claimed_group(as_type::<Stream>(db.lookup_read(key))?, key, name)?;
    let min_idle = args::int_or(
        &args[4],
        CommandError::canned("ERR Invalid min-idle-time argument for XCLAIM"),
    )?
    .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        let Some(id) = strict_id(&args[j]) else {
            break;
        };
        ids.push(id);
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retry_count: Option<i64> = None;
    let mut delivery_time: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j];
        let int_option = |arg: &[u8], what: &'static str| {
            args::int_or(arg, CommandError::canned(what))
        };
        if args::is(opt, "force") {
            force = true;
        } else if args::is(opt, "justid") {
            justid = true;
        } else if args::is(opt, "idle") && more > 0 {
            j += 1;
            let idle = int_option(&args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            delivery_time = Some(now.wrapping_sub(idle));
        } else if args::is(opt, "time") && more > 0 {
            j += 1;
            delivery_time = Some(int_option(&args[j], "ERR Invalid TIME option argument for XCLAIM")?);
        } else if args::is(opt, "retrycount") && more > 0 {
            j += 1;
            retry_count = Some(int_option(
                &args[j],
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?);
        } else if args::is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(&args[j]).ok_or_else(invalid_id)?;
        } else {
            return Err(named_error(&[b"ERR Unrecognized XCLAIM option '", opt, b"'"]));
        }
        j += 1;
    }
    let mut effects = Effects::default();
    let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
    let mut propagate_last_id = false;
    if last_id > group.last_id {
        group.last_id = last_id;
        propagate_last_id = true;
    }
    // A bogus time (negative, or in the future) is now.
    let delivery_time = delivery_time.filter(|t| (0..=now).contains(t)).unwrap_or(now);
    let mut claimed = Vec::new();
    let mut touched = false;
    for (id, arg) in ids.into_iter().zip(&args[5..]) {
        let stream_has = stream.entry_exists(id);
        let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        if !stream_has {
            // Pending for an entry that is gone: dropped, and so logged.
            if let Some(nack) = group.pending.get(&id) {
                effects.log.push(xclaim_argv(key, name, arg, nack, group.last_id));
                propagate_last_id = false;
                effects.dirty += 1;
                group.remove_pending(id);
            }
            continue;
        }
        let existing = group.pending.get(&id).map(|n| (n.delivery_time, n.delivery_count));
        let count = match existing {
            Some((time, count)) => {
                if min_idle != 0 && now - time < min_idle {
                    continue;
                }
                count
            }
            // FORCE makes the entry pending, as first delivered now.
            None if force => 1,
            None => continue,
        };
        let count = match retry_count {
            Some(n) if n >= 0 => n as u64,
            _ if justid => count,
            _ => count + 1,
        };
        let nack = claim(
            group,
            id,
            consumer,
            &mut touched,
            delivery_time,
            count,
            now,
            key,
            &mut effects,
        );
        effects.log.push(xclaim_argv(key, name, arg, &nack, group.last_id));
        propagate_last_id = false;
        effects.dirty += 1;
        claimed.push(id);
    }
    if propagate_last_id {
        let group = stream.groups.get(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        effects.log.push(setid_argv(key, name, group));
        effects.dirty += 1;
    }
    reply_claimed(out, stream, &claimed, justid);
    effects.apply(ctx);
    Ok(())
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`
fn xautoclaim(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (key, name, consumer) = (&args[1], &args[2], &args[3]);
    let min_idle = args::int_or(
        &args[4],
        CommandError::canned("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    )?
    .max(0);
    let start = interval_bound(&args[5], 0, true)?;
    let mut count = 100i64;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args::is(&args[j], "count") && more > 0 {
            count = args::int_in_range(&args[j + 1], 1, i64::MAX / 16, Some("COUNT must be > 0"))?;
            j += 1;
        } else if args::is(&args[j], "justid") {
            justid = true;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let now = ctx.now_ms;
    let (mut db, out) = ctx.db_and_out();
    let stream = claimed_group(as_type::<Stream>(db.lookup_read(key))?, key, name)?;
    // Redis allocates room for `count` deleted ids up front and gives up
    // when it cannot.
    if count >= 1 << 43 {
        return Err(CommandError::err(
            "Insufficient memory, failed allocating transient memory, COUNT too high.",
        ));
    }
    let mut effects = Effects::default();
    let mut attempts = count * 10;
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut touched = false;
    // The first pending id not yet looked at; `None` past the last id.
    let mut from = Some(start);
    loop {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        let Some(id) = from.and_then(|f| group.pending.range(f..).next().map(|(id, _)| *id)) else {
            from = None;
            break;
        };
        from = id.next();
        let exists = stream.entry_exists(id);
        let group = stream.groups.get_mut(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
        if !exists {
            if let Some(nack) = group.pending.get(&id) {
                effects.log.push(xclaim_argv(key, name, &id.to_bytes(), nack, group.last_id));
            }
            effects.dirty += 1;
            group.remove_pending(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        let Some(nack) = group.pending.get(&id) else {
            continue;
        };
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let delivery_count = nack.delivery_count + u64::from(!justid);
        let nack = claim(
            group,
            id,
            consumer,
            &mut touched,
            now,
            delivery_count,
            now,
            key,
            &mut effects,
        );
        effects.log.push(xclaim_argv(key, name, &id.to_bytes(), &nack, group.last_id));
        effects.dirty += 1;
        claimed.push(id);
        count -= 1;
    }
    let group = stream.groups.get(name.as_slice()).ok_or(error::NO_SUCH_KEY)?;
    let cursor = from
        .and_then(|f| group.pending.range(f..).next().map(|(id, _)| *id))
        .unwrap_or(StreamId::MIN);
    out.array(3);
    out.bulk(&cursor.to_bytes());
    reply_claimed(out, stream, &claimed, justid);
    out.array(deleted.len());
    for id in deleted {
        out.bulk(&id.to_bytes());
    }
    effects.apply(ctx);
    Ok(())
}

// ---- XINFO -------------------------------------------------------------------

/// The stream XINFO's subcommands describe (Redis's
/// `lookupKeyReadOrReply` with "no such key").
fn info_stream<'a>(db: &'a mut crate::store::Db, key: &[u8]) -> CommandResult<&'a mut Stream> {
    as_type::<Stream>(db.lookup_read(key))?.ok_or(error::NO_SUCH_KEY)
}

/// A value of an XINFO map.
enum Field<'a> {
    Int(i64),
    Bulk(&'a [u8]),
    /// An integer, or null where it cannot be told.
    Known(Option<i64>),
}

/// Writes the name of an XINFO field and its value.
fn reply_field(out: &mut ReplyWriter, name: &str, value: Field) {
    out.bulk(name.as_bytes());
    match value {
        Field::Int(n) | Field::Known(Some(n)) => out.int(n),
        Field::Bulk(bytes) => out.bulk(bytes),
        Field::Known(None) => out.null(),
    }
}

/// Writes an XINFO map of these fields.
fn reply_fields(out: &mut ReplyWriter, fields: Vec<(&str, Field)>) {
    out.map(fields.len());
    for (name, value) in fields {
        reply_field(out, name, value);
    }
}

/// A group's read counter, unless unknown (-1).
fn entries_read(group: &Group) -> Field<'static> {
    Field::Known((group.entries_read != -1).then_some(group.entries_read))
}

/// `XINFO STREAM key [FULL [COUNT count]]`
fn xinfo_stream(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    // The key is looked up before the options are read, as in Redis.
    let stream = info_stream(&mut db, &args[2])?;
    let options = &args[3..];
    let mut count = 10i64;
    let full = !options.is_empty();
    if full {
        let syntax = || error::subcommand_syntax(&args[0], &args[1]);
        if !matches!(options.len(), 1 | 3) || !args::is(&options[0], "full") {
            return Err(syntax());
        }
        if options.len() == 3 {
            if !args::is(&options[1], "count") {
                return Err(syntax());
            }
            count = args::int(&options[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    out.map(if full { 9 } else { 10 });
    let ids = [stream.last_id, stream.max_deleted_id, stream.first_id].map(StreamId::to_bytes);
    for (name, value) in [
        ("length", Field::Int(stream.len() as i64)),
        ("radix-tree-keys", Field::Int(stream.nodes().count() as i64)),
        ("radix-tree-nodes", Field::Int(stream.radix_tree_nodes() as i64)),
        ("last-generated-id", Field::Bulk(&ids[0])),
        ("max-deleted-entry-id", Field::Bulk(&ids[1])),
        ("entries-added", Field::Int(stream.entries_added as i64)),
        ("recorded-first-entry-id", Field::Bulk(&ids[2])),
    ] {
        reply_field(out, name, value);
    }
    if !full {
        reply_field(out, "groups", Field::Int(stream.groups.len() as i64));
        for (label, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(label);
            match stream.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some((_, entry)) => {
                    reply_entry(out, stream, entry.id);
                }
                None => out.null(),
            }
        }
        return Ok(());
    }
    out.bulk(b"entries");
    let ids: Vec<StreamId> = stream
        .range(StreamId::MIN, StreamId::MAX, false)
        .take(limit)
        .map(|(_, e)| e.id)
        .collect();
    out.array(ids.len());
    for id in ids {
        reply_entry(out, stream, id);
    }
    out.bulk(b"groups");
    out.array(stream.groups.len());
    for (name, group) in &stream.groups {
        out.map(7);
        let last_id = group.last_id.to_bytes();
        for (field, value) in [
            ("name", Field::Bulk(name)),
            ("last-delivered-id", Field::Bulk(&last_id)),
            ("entries-read", entries_read(group)),
            ("lag", Field::Known(stream.group_lag(group))),
            ("pel-count", Field::Int(group.pending.len() as i64)),
        ] {
            reply_field(out, field, value);
        }
        out.bulk(b"pending");
        let pending: Vec<_> = group.pending.iter().take(limit).collect();
        out.array(pending.len());
        for (id, nack) in pending {
            out.array(4);
            out.bulk(&id.to_bytes());
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(group.consumers.len());
        for (name, consumer) in &group.consumers {
            out.map(4);
            reply_field(out, "name", Field::Bulk(name));
            reply_field(out, "seen-time", Field::Int(consumer.seen_time));
            reply_field(out, "pel-count", Field::Int(consumer.pending.len() as i64));
            out.bulk(b"pending");
            let pending: Vec<_> = consumer.pending.iter().take(limit).collect();
            out.array(pending.len());
            for id in pending {
                let nack = group.pending.get(id);
                out.array(3);
                out.bulk(&id.to_bytes());
                out.int(nack.map_or(0, |n| n.delivery_time));
                out.int(nack.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

/// `XINFO GROUPS key`
fn xinfo_groups(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let stream = info_stream(&mut db, &args[2])?;
    out.array(stream.groups.len());
    for (name, group) in &stream.groups {
        let last_id = group.last_id.to_bytes();
        reply_fields(
            out,
            vec![
                ("name", Field::Bulk(name)),
                ("consumers", Field::Int(group.consumers.len() as i64)),
                ("pending", Field::Int(group.pending.len() as i64)),
                ("last-delivered-id", Field::Bulk(&last_id)),
                ("entries-read", entries_read(group)),
                ("lag", Field::Known(stream.group_lag(group))),
            ],
        );
    }
    Ok(())
}

/// `XINFO CONSUMERS key group`
fn xinfo_consumers(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let now = ctx.now_ms;
    let (key, name) = (&args[2], &args[3]);
    let (mut db, out) = ctx.db_and_out();
    let stream = info_stream(&mut db, key)?;
    let group = stream
        .groups
        .get(name.as_slice())
        .ok_or_else(|| no_group_for_key(name, key))?;
    out.array(group.consumers.len());
    for (name, consumer) in &group.consumers {
        let idle = (now - consumer.seen_time).max(0);
        reply_fields(
            out,
            vec![
                ("name", Field::Bulk(name)),
                ("pending", Field::Int(consumer.pending.len() as i64)),
                ("idle", Field::Int(idle)),
            ],
        );
    }
    Ok(())
}

// `XINFO HELP`
help_command!(
    xinfo_help,
    [
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
    ]
);

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("xgroup", -2, xgroup_container).subcommands(XGROUP_SUBCOMMANDS).doc("stream", "5.0.0", "A container for consumer groups commands", "Depends on subcommand."),
    Command::new("xack", -4, xack).syntax("key group id ...").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).doc("stream", "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", "O(1) for each message ID processed."),
    Command::new("xpending", -3, xpending).syntax("key group [[IDLE min-idle-time:integer] start end count:integer [consumer]]").flags(READONLY).keys(1, 1, 1).key_flags(&["RO", "access"]).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer."),
    Command::new("xclaim", -6, xclaim).syntax("key group consumer min-idle-time id ... [IDLE ms:integer] [TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID id]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "update"]).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", "O(log N) with N being the number of messages in the PEL of the consumer group."),
    Command::new("xautoclaim", -6, xautoclaim).syntax("key group consumer min-idle-time start [COUNT count:integer] [JUSTID]").flags(WRITE | FAST).keys(1, 1, 1).key_flags(&["RW", "delete"]).tips(&["nondeterministic_output"]).doc("stream", "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", "O(1) if COUNT is small."),
    Command::new("xinfo", -2, xinfo_container).subcommands(XINFO_SUBCOMMANDS).doc("stream", "5.0.0", "A container for stream introspection commands", "Depends on subcommand."),
];

/// XGROUP's subcommands.
#[rustfmt::skip]
static XGROUP_SUBCOMMANDS: &[Command] = &[
    Command::new("create", -5, xgroup).syntax("key groupname (id|$) [MKSTREAM] [ENTRIESREAD entries_read:integer]").flags(WRITE | DENYOOM).keys(2, 2, 1).key_flags(&["RW", "insert"]).doc("stream", "5.0.0", "Create a consumer group.", "O(1)"),
    Command::new("createconsumer", 5, xgroup).syntax("key groupname consumername").flags(WRITE | DENYOOM).keys(2, 2, 1).key_flags(&["RW", "insert"]).doc("stream", "6.2.0", "Create a consumer in a consumer group.", "O(1)"),
    Command::new("delconsumer", 5, xgroup).syntax("key groupname consumername").flags(WRITE).keys(2, 2, 1).key_flags(&["RW", "delete"]).doc("stream", "5.0.0", "Delete a consumer from a consumer group.", "O(1)"),
    Command::new("destroy", 4, xgroup).syntax("key groupname").flags(WRITE).keys(2, 2, 1).key_flags(&["RW", "delete"]).doc("stream", "5.0.0", "Destroy a consumer group.", "O(N) where N is the number of entries in the group's pending entries list (PEL)."),
    Command::new("help", 2, xgroup_help).flags(LOADING | STALE).doc("stream", "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    Command::new("setid", -5, xgroup).syntax("key groupname (id|$) [ENTRIESREAD entries_read:integer]").flags(WRITE).keys(2, 2, 1).key_flags(&["RW", "update"]).doc("stream", "5.0.0", "Set a consumer group to an arbitrary last delivered ID value.", "O(1)"),
];

/// XINFO's subcommands.
#[rustfmt::skip]
static XINFO_SUBCOMMANDS: &[Command] = &[
    Command::new("consumers", 4, xinfo_consumers).syntax("key groupname").flags(READONLY).keys(2, 2, 1).key_flags(&["RO", "access"]).tips(&["nondeterministic_output"]).doc("stream", "5.0.0", "List the consumers in a consumer group", "O(1)"),
    Command::new("groups", 3, xinfo_groups).syntax("key").flags(READONLY).keys(2, 2, 1).key_flags(&["RO", "access"]).doc("stream", "5.0.0", "List the consumer groups of a stream", "O(1)"),
    Command::new("help", 2, xinfo_help).flags(LOADING | STALE).doc("stream", "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    Command::new("stream", -3, xinfo_stream).syntax("key [FULL [COUNT count:integer]]").flags(READONLY).keys(2, 2, 1).key_flags(&["RO", "access"]).doc("stream", "5.0.0", "Get information about a stream", "O(1)"),
];
