//! Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH,
//! the shard variants SSUBSCRIBE SUNSUBSCRIBE SPUBLISH, and PUBSUB's
//! introspection subcommands (Redis's `pubsub.c` commands). The registry
//! and delivery live in [`crate::channels`]; the connection loop sends the
//! queued messages (see `server::connection`).

use std::sync::Arc;

use crate::channels::{Inbox, Kind, Own};
use crate::error::{self, CommandError, CommandResult};
use crate::state::session::SubscriberPeer;

use super::Ctx;
use super::table::{Command, flags::*};

/// Gives the connection its message queue the first time it subscribes
/// (or monitors).
pub(super) fn ensure_inbox(ctx: &mut Ctx) -> CommandResult {
    if ctx.client.pubsub.inbox().is_some() {
        return Ok(());
    }
    let waker = ctx
        .client
        .blocking
        .waker(ctx.client.handle.fd)
        .map_err(|err| CommandError::err(format_args!("cannot subscribe: {err}")))?;
    let peer = SubscriberPeer::new(ctx.client.handle.clone(), waker);
    let inbox = Inbox::new(ctx.client.id, Arc::new(peer));
    // Reachable from now on by clients that redirect their tracking
    // messages here.
    let sink = ctx.state.tracking.add_sink(
        ctx.client.id,
        inbox.subscriber().clone(),
        ctx.out.is_resp3(),
        Some(ctx.client.handle.clone()),
    );
    ctx.client.tracking.sink = Some(sink);
    ctx.client.pubsub.set_inbox(inbox);
    Ok(())
}

/// Mirrors the subscription counts into what CLIENT LIST shows.
fn publish_counts(ctx: &mut Ctx) {
    let subs = &ctx.client.pubsub;
    let mut info = ctx.client.handle.info.lock();
    info.subscriptions = subs.channel_count();
    info.pattern_subscriptions = subs.pattern_count();
    info.shard_subscriptions = subs.shard_count();
}

/// `SUBSCRIBE channel [channel ...]`
fn subscribe(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    join(ctx, args, Some(Kind::Channel))
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]`
fn ssubscribe(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    // Inside EXEC a client must get one reply per command (Redis's
    // CLIENT_DENY_BLOCKING); unlike SUBSCRIBE, SSUBSCRIBE has no exception
    // for transactions.
    if ctx.client.in_exec {
        return Err(CommandError::err(
            "SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    join(ctx, args, Some(Kind::Shard))
}

/// `PSUBSCRIBE pattern [pattern ...]`
fn psubscribe(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    join(ctx, args, None)
}

/// Joins the channels of `kind` (patterns for `None`) named after the
/// command, confirming each.
fn join(ctx: &mut Ctx, args: &[Vec<u8>], kind: Option<Kind>) -> CommandResult {
    ensure_inbox(ctx)?;
    let state = ctx.state;
    let subs = &mut ctx.client.pubsub;
    match kind {
        Some(kind) => state.pubsub.subscribe(subs, kind, &args[1..], ctx.out),
        None => state.pubsub.psubscribe(subs, &args[1..], ctx.out),
    }
    publish_counts(ctx);
    Ok(())
}

/// The channels named after the command, or `None` for "all of them".
fn named(args: &[Vec<u8>]) -> Option<&[Vec<u8>]> {
    (args.len() > 1).then(|| &args[1..])
}

/// `UNSUBSCRIBE [channel [channel ...]]`
fn unsubscribe(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    leave(ctx, args, Some(Kind::Channel))
}

/// `SUNSUBSCRIBE [shardchannel [shardchannel ...]]`
fn sunsubscribe(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    leave(ctx, args, Some(Kind::Shard))
}

/// `PUNSUBSCRIBE [pattern [pattern ...]]`
fn punsubscribe(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    leave(ctx, args, None)
}

/// Leaves the channels of `kind` (patterns for `None`) named after the
/// command, or all of them when none is named, confirming each.
fn leave(ctx: &mut Ctx, args: &[Vec<u8>], kind: Option<Kind>) -> CommandResult {
    let state = ctx.state;
    let subs = &mut ctx.client.pubsub;
    match kind {
        Some(kind) => state.pubsub.unsubscribe(subs, kind, named(args), ctx.out),
        None => state.pubsub.punsubscribe(subs, named(args), ctx.out),
    }
    publish_counts(ctx);
    Ok(())
}

/// Leaves every channel, pattern and shard channel without confirmations
/// (RESET); messages already queued are sent first.
pub fn unsubscribe_all(ctx: &mut Ctx) {
    let state = ctx.state;
    state
        .pubsub
        .unsubscribe_all(&mut ctx.client.pubsub, Some(ctx.out));
    publish_counts(ctx);
}

/// `PUBLISH channel message`: replies with the number of receivers.
fn publish(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    publish_kind(ctx, Kind::Channel, args)
}

/// `SPUBLISH shardchannel message`
fn spublish(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    publish_kind(ctx, Kind::Shard, args)
}

fn publish_kind(ctx: &mut Ctx, kind: Kind, args: &[Vec<u8>]) -> CommandResult {
    let own = Own {
        client_id: ctx.client.id,
        out: &mut *ctx.out,
    };
    let receivers = ctx
        .state
        .pubsub
        .publish(kind, &args[1], &args[2], Some(own));
    // Replicas get published messages too (their own subscribers hear
    // them), as in Redis; the append-only file does not.
    let replication = ctx.state.replication();
    if replication.is_active() {
        let logged = crate::persist::aof::Logged {
            db: Some(ctx.client.db),
            argv: args,
        };
        if let Some(offset) = replication.feed(&[logged]) {
            ctx.client.repl_offset = offset;
        }
    }
    ctx.out.int(receivers as i64);
    Ok(())
}

/// `PUBSUB <subcommand>`: known subcommands are routed to their handlers
/// and a bare PUBSUB fails on arity, so this only answers the rest.
fn pubsub_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("pubsub", &args[1]))
}

/// `PUBSUB CHANNELS [pattern]`
fn pubsub_channels(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    list_channels(ctx, Kind::Channel, args)
}

/// `PUBSUB SHARDCHANNELS [pattern]`
fn pubsub_shardchannels(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    list_channels(ctx, Kind::Shard, args)
}

fn list_channels(ctx: &mut Ctx, kind: Kind, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::subcommand_syntax(&args[0], &args[1]));
    }
    let names = ctx
        .state
        .pubsub
        .channel_names(kind, args.get(2).map(Vec::as_slice));
    ctx.out.bulk_array(names);
    Ok(())
}

/// `PUBSUB NUMSUB [channel [channel ...]]`
fn pubsub_numsub(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    count_subscribers(ctx, Kind::Channel, args)
}

/// `PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]`
fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    count_subscribers(ctx, Kind::Shard, args)
}

/// A flat array of channel, count pairs (an array even in RESP3, as Redis
/// sends it).
fn count_subscribers(ctx: &mut Ctx, kind: Kind, args: &[Vec<u8>]) -> CommandResult {
    ctx.out.array(2 * (args.len() - 2));
    for channel in &args[2..] {
        let count = ctx.state.pubsub.subscriber_count(kind, channel);
        ctx.out.bulk(channel);
        ctx.out.int(count as i64);
    }
    Ok(())
}

/// `PUBSUB NUMPAT`
fn pubsub_numpat(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let count = ctx.state.pubsub.pattern_count();
    ctx.out.int(count as i64);
    Ok(())
}

// `PUBSUB HELP`
help_command!(
    pubsub_help,
    [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ]
);

// ---- Command table -----------------------------------------------------------

/// PUBSUB's subcommands.
#[rustfmt::skip]
static PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::new("channels", -2, pubsub_channels).syntax("[pattern:pattern]").flags(PUBSUB | LOADING | STALE).doc("pubsub", "2.8.0", "List active channels", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)"),
    Command::new("help", 2, pubsub_help).flags(LOADING | STALE).doc("pubsub", "6.2.0", "Show helpful text about the different subcommands", "O(1)"),
    Command::new("numpat", 2, pubsub_numpat).flags(PUBSUB | LOADING | STALE).doc("pubsub", "2.8.0", "Get the count of unique patterns pattern subscriptions", "O(1)"),
    Command::new("numsub", -2, pubsub_numsub).syntax("[channel ...]").flags(PUBSUB | LOADING | STALE).doc("pubsub", "2.8.0", "Get the count of subscribers for channels", "O(N) for the NUMSUB subcommand, where N is the number of requested channels"),
    Command::new("shardchannels", -2, pubsub_shardchannels).syntax("[pattern:pattern]").flags(PUBSUB | LOADING | STALE).doc("pubsub", "7.0.0", "List active shard channels", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."),
    Command::new("shardnumsub", -2, pubsub_shardnumsub).syntax("[shardchannel ...]").flags(PUBSUB | LOADING | STALE).doc("pubsub", "7.0.0", "Get the count of subscribers for shard channels", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"),
];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("subscribe", -2, subscribe).syntax("channel ...").flags(PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL | ALLOW_SUBSCRIBED).doc("pubsub", "2.0.0", "Listen for messages published to the given channels", "O(N) where N is the number of channels to subscribe to."),
    Command::new("unsubscribe", -1, unsubscribe).syntax("[channel ...]").flags(PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL | ALLOW_SUBSCRIBED).doc("pubsub", "2.0.0", "Stop listening for messages posted to the given channels", "O(N) where N is the number of clients already subscribed to a channel."),
    Command::new("psubscribe", -2, psubscribe).syntax("(pattern:pattern) ...").flags(PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL | ALLOW_SUBSCRIBED).doc("pubsub", "2.0.0", "Listen for messages published to channels matching the given patterns", "O(N) where N is the number of patterns the client is already subscribed to."),
    Command::new("punsubscribe", -1, punsubscribe).syntax("[pattern:pattern ...]").flags(PUBSUB | NOSCRIPT | LOADING | STALE | SENTINEL | ALLOW_SUBSCRIBED).doc("pubsub", "2.0.0", "Stop listening for messages posted to channels matching the given patterns", "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client)."),
    Command::new("publish", 3, publish).syntax("channel message").flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL).doc("pubsub", "2.0.0", "Post a message to a channel", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client)."),
    Command::new("pubsub", -2, pubsub_container).subcommands(PUBSUB_SUBCOMMANDS).doc("pubsub", "2.8.0", "A container for Pub/Sub commands", "Depends on subcommand."), // The shard commands name channels where key specs go (for cluster // routing); they lock nothing.,
    Command::new("ssubscribe", -2, ssubscribe).syntax("shardchannel ...").flags(PUBSUB | NOSCRIPT | LOADING | STALE | CHANNEL_KEYS | ALLOW_SUBSCRIBED).keys(1, -1, 1).locks(super::Locks::None).doc("pubsub", "7.0.0", "Listen for messages published to the given shard channels", "O(N) where N is the number of shard channels to subscribe to."),
    Command::new("sunsubscribe", -1, sunsubscribe).syntax("[shardchannel ...]").flags(PUBSUB | NOSCRIPT | LOADING | STALE | CHANNEL_KEYS | ALLOW_SUBSCRIBED).keys(1, -1, 1).locks(super::Locks::None).doc("pubsub", "7.0.0", "Stop listening for messages posted to the given shard channels", "O(N) where N is the number of clients already subscribed to a shard channel."),
    Command::new("spublish", 3, spublish).syntax("shardchannel message").flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | CHANNEL_KEYS).keys(1, 1, 1).locks(super::Locks::None).doc("pubsub", "7.0.0", "Post a message to a shard channel", "O(N) where N is the number of clients subscribed to the receiving shard channel."),
];
