//! Watching the server work: MONITOR (every command as it runs), SLOWLOG
//! (the commands that took longest) and LATENCY (the worst latency of
//! each second, its DOCTOR report and GRAPH, and each command's latency
//! HISTOGRAM), fed by [`after_call`] once each command has run, as
//! Redis's `call` feeds them.
//!
//! Both show a command's arguments with secrets replaced by `(redacted)`
//! (AUTH's, HELLO ... AUTH's), as Redis does. Administrative commands, and
//! those flagged `skip_monitor`, never reach a monitor; a script's
//! commands reach it as `[db lua]` after the EVAL or FCALL that ran them,
//! which feeds itself before running (see [`feed_monitors`]).

use std::borrow::Cow;

use crate::error::{self, CommandError, CommandResult};

use super::Ctx;
use crate::state::State;
use crate::state::session::Session;
use super::table::{Command, flags::*};

/// What a secret argument shows as.
const REDACTED: &[u8] = b"(redacted)";

/// The arguments as MONITOR and SLOWLOG show them: AUTH's, HELLO's and
/// MIGRATE's credentials redacted.
fn shown_args(args: &[Vec<u8>]) -> Vec<Cow<'_, [u8]>> {
    let mut shown: Vec<Cow<[u8]>> = args.iter().map(|a| Cow::Borrowed(a.as_slice())).collect();
    if super::args::is(&args[0], "auth") {
        shown[1..].fill(Cow::Borrowed(REDACTED));
    } else if super::args::is(&args[0], "migrate") {
        // The passwords after AUTH and AUTH2 (and AUTH2's user name).
        let mut i = 6;
        while i < args.len() && !super::args::is(&args[i], "keys") {
            let secrets = if super::args::is(&args[i], "auth") {
                1
            } else if super::args::is(&args[i], "auth2") {
                2
            } else {
                0
            };
            let end = (i + 1 + secrets).min(shown.len());
            shown[i + 1..end].fill(Cow::Borrowed(REDACTED));
            i += 1 + secrets;
        }
    } else if super::args::is(&args[0], "hello")
        && let Some(at) = args.iter().position(|a| super::args::is(a, "auth"))
    {
        let end = (at + 3).min(shown.len());
        shown[at + 1..end].fill(Cow::Borrowed(REDACTED));
    }
    shown
}

/// Feeds `args` to the monitors, if any (Redis's
/// `replicationFeedMonitors`): `+<unix seconds.micros> [<db> <client>]
/// "arg" ...`, the client being `lua` for a script's commands.
pub fn feed_monitors(ctx: &Ctx, args: &[Vec<u8>]) {
    let monitors = &ctx.state.monitors;
    if monitors.is_empty() {
        return;
    }
    let now_us = crate::clock::unix_us();
    let source = if ctx.client.in_script {
        "lua".to_string()
    } else {
        ctx.client.handle.addr.to_string()
    };
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now_us / 1_000_000,
        now_us % 1_000_000,
        ctx.client.db,
        source
    )
    .into_bytes();
    for arg in shown_args(args) {
        line.push(b' ');
        crate::quote::repr_into(&arg, &mut line);
    }
    line.extend_from_slice(b"\r\n");
    monitors.feed(&line.into(), now_us / 1_000_000);
}

/// After a command ran (inside EXEC and scripts too, as Redis's `call`):
/// the monitors see it, unless it is administrative or feeds them itself,
/// and the slow log takes it if it took `took_us` or more, unless it is
/// flagged `skip_slowlog` or blocked (Redis logs a blocked command when it
/// is served, which sedis does not).
pub fn after_call(ctx: &Ctx, cmd: &Command, args: &[Vec<u8>], took_us: u64) {
    let event = if cmd.has(FAST) { "fast-command" } else { "command" };
    ctx.state
        .latency
        .add_if_needed(event, took_us / 1000, ctx.now_ms / 1000);
    if !cmd.has(SKIP_MONITOR | ADMIN) {
        feed_monitors(ctx, args);
    }
    let slowlog = &ctx.state.slowlog;
    if slowlog.wants(took_us) && !cmd.has(SKIP_SLOWLOG) && ctx.client.blocking.pending.is_none() {
        let shown = shown_args(args);
        let shown: Vec<&[u8]> = shown.iter().map(|a| a.as_ref()).collect();
        let (peer, name) = if ctx.client.in_script {
            // Redis's script client has no socket, nor a name.
            ("?:0".to_string(), &[][..])
        } else {
            (ctx.client.handle.addr.to_string(), ctx.client.name.as_slice())
        };
        slowlog.push(&shown, took_us, peer, name, ctx.now_ms / 1000);
    }
}

/// A blocked command was served (or unblocked with an error): as Redis's
/// `updateStatsOnUnblock`, it goes into its latency histogram and, if slow
/// enough, the slow log, with the time its call took (the wait is not
/// counted). A command that timed out is not logged, as in Redis 7.0.
pub fn blocked_call_served(state: &State, client: &mut Session, failed: bool) {
    let Some(call) = client.blocking.call.take() else {
        return;
    };
    let stats = &state.command_stats[call.id];
    if failed {
        stats.count_failed();
    }
    if state.latency.tracking() {
        stats.histogram.record(call.took_us as i64 * 1000);
    }
    let command = super::registry().resolved(call.id).command;
    if state.slowlog.wants(call.took_us) && !command.has(SKIP_SLOWLOG) {
        let shown = shown_args(&call.args);
        let shown: Vec<&[u8]> = shown.iter().map(|a| a.as_ref()).collect();
        let peer = client.handle.addr.to_string();
        let now_s = crate::clock::unix_ms() / 1000;
        state
            .slowlog
            .push(&shown, call.took_us, peer, client.name.as_slice(), now_s);
    }
}

/// `MONITOR`
fn monitor(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    if ctx.client.monitor {
        // Already monitoring: Redis ignores it, without a reply.
        return Ok(());
    }
    if ctx.client.in_exec {
        return Err(CommandError::err("MONITOR isn't allowed for DENY BLOCKING client"));
    }
    super::pubsub::ensure_inbox(ctx)?;
    let Some(inbox) = ctx.client.pubsub.inbox() else {
        return Ok(());
    };
    ctx.state.monitors.add(inbox.subscriber().clone());
    ctx.client.monitor = true;
    ctx.out.ok();
    Ok(())
}

/// Stops monitoring (RESET).
pub fn stop_monitoring(ctx: &mut Ctx) {
    if std::mem::take(&mut ctx.client.monitor) {
        ctx.state.monitors.remove(ctx.client.id);
    }
}

/// `SLOWLOG <subcommand>`: the dispatcher routes every call with a
/// subcommand to it, and rejects a bare SLOWLOG on arity.
fn slowlog_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("slowlog", &args[1]))
}

/// `SLOWLOG GET [count]`
fn slowlog_get(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::subcommand_syntax(&args[0], &args[1]));
    }
    let count = match args.get(2) {
        None => Some(10),
        Some(arg) => {
            let range = || CommandError::err("count should be greater than or equal to -1");
            match crate::num::parse_i64(arg).ok_or_else(range)? {
                -1 => None,
                n if n < -1 => return Err(range()),
                n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            }
        }
    };
    let entries = ctx.state.slowlog.newest(count);
    let out = &mut *ctx.out;
    out.array(entries.len());
    for entry in entries {
        out.array(6);
        out.int(entry.id as i64);
        out.int(entry.time);
        out.int(entry.duration_us as i64);
        out.bulk_array(entry.args.iter().map(Vec::as_slice).collect::<Vec<_>>());
        out.bulk(entry.peer.as_bytes());
        out.bulk(&entry.client_name);
    }
    Ok(())
}

/// `SLOWLOG LEN`
fn slowlog_len(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out.int(ctx.state.slowlog.len() as i64);
    Ok(())
}

/// `SLOWLOG RESET`
fn slowlog_reset(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.state.slowlog.reset();
    ctx.out.ok();
    Ok(())
}

help_command!(
    slowlog_help,
    [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ]
);

/// `LATENCY <subcommand>`: the dispatcher routes every call with a
/// subcommand to it, and rejects a bare LATENCY on arity.
fn latency_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("latency", &args[1]))
}

/// `LATENCY LATEST`: each event's newest sample and its worst.
fn latency_latest(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let events = ctx.state.latency.snapshot();
    ctx.out.array(events.len());
    for (name, series) in events {
        let latest = series.latest();
        ctx.out.array(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(latest.time);
        ctx.out.int(latest.latency_ms as i64);
        ctx.out.int(series.max_ms as i64);
    }
    Ok(())
}

/// `LATENCY HISTORY event`: its samples, oldest first.
fn latency_history(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let samples: Vec<_> = ctx
        .state
        .latency
        .series(&args[2])
        .map(|series| series.history().collect())
        .unwrap_or_default();
    ctx.out.array(samples.len());
    for sample in samples {
        ctx.out.array(2);
        ctx.out.int(sample.time);
        ctx.out.int(sample.latency_ms as i64);
    }
    Ok(())
}

/// `LATENCY DOCTOR`: a report on the events recorded, with advice.
fn latency_doctor(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let events = ctx.state.latency.snapshot();
    let cx = {
        let config = ctx.state.config();
        crate::state::latency::DoctorContext {
            threshold_ms: ctx.state.latency.threshold_ms(),
            slowlog_log_slower_than: config.slowlog_log_slower_than,
            hz: i64::from(config.hz),
            anon_huge_pages: anon_huge_pages(),
            now_s: ctx.now_ms / 1000,
        }
    };
    let report = crate::state::latency::doctor(&events, &cx);
    ctx.out.verbatim(report.as_bytes());
    Ok(())
}

/// Anonymous huge pages mapped by this process (`AnonHugePages` summed
/// over `/proc/self/smaps`), which LATENCY DOCTOR warns about as Redis
/// does; 0 where that file cannot be read.
fn anon_huge_pages() -> u64 {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    smaps
        .lines()
        .filter_map(|line| line.strip_prefix("AnonHugePages:"))
        .filter_map(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// `LATENCY GRAPH event`: an ASCII plot of its samples.
fn latency_graph(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let event = &args[2];
    let Some(series) = ctx.state.latency.series(event) else {
        return Err(CommandError::err(format!(
            "No samples available for event '{}'",
            String::from_utf8_lossy(event)
        )));
    };
    let name = String::from_utf8_lossy(event);
    let graph = crate::state::latency::graph(&name, &series, ctx.now_ms / 1000);
    ctx.out.verbatim(graph.as_bytes());
    Ok(())
}

/// `LATENCY HISTOGRAM [command ...]`: each command's calls and cumulative
/// latency distribution (µs), for the named commands (a container names
/// its subcommands too; unknown names are skipped) or every command called.
fn latency_histogram(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let registry = super::registry();
    let mut ids = Vec::new();
    if args.len() == 2 {
        ids.extend(0..registry.len());
    } else {
        for name in &args[2..] {
            let Some(found) = registry.find_full(name) else {
                continue;
            };
            ids.push(found.id);
            ids.extend(
                registry
                    .entries()
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.parent == Some(found.id))
                    .map(|(id, _)| id),
            );
        }
    }
    let stats = &ctx.state.command_stats;
    let found: Vec<_> = ids
        .into_iter()
        .filter_map(|id| Some((registry.entries()[id].full_name, stats[id].histogram.snapshot()?)))
        .collect();
    ctx.out.map(found.len());
    for (name, histogram) in found {
        ctx.out.bulk(name.as_bytes());
        ctx.out.map(2);
        ctx.out.bulk(b"calls");
        ctx.out.int(histogram.total() as i64);
        ctx.out.bulk(b"histogram_usec");
        let cdf = histogram.cdf();
        ctx.out.map(cdf.len());
        for (micros, count) in cdf {
            ctx.out.int(micros);
            ctx.out.int(count as i64);
        }
    }
    Ok(())
}

/// `LATENCY RESET [event ...]`: how many events were forgotten.
fn latency_reset(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let latency = &ctx.state.latency;
    let reset = if args.len() == 2 {
        latency.reset(None)
    } else {
        args[2..].iter().map(|e| latency.reset(Some(e))).sum()
    };
    ctx.out.int(reset as i64);
    Ok(())
}

help_command!(
    latency_help,
    [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ]
);

// ---- Command table -----------------------------------------------------------

#[rustfmt::skip]
static LATENCY_SUBCOMMANDS: &[Command] = &[
    Command::new("doctor", 2, latency_doctor).flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]).doc("server", "2.8.13", "Return a human readable latency analysis report.", "O(1)"),
    Command::new("graph", 3, latency_graph).syntax("event").flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]).doc("server", "2.8.13", "Return a latency graph for the event.", "O(1)"),
    Command::new("histogram", -2, latency_histogram).syntax("[command ...]").flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]).doc("server", "7.0.0", "Return the cumulative distribution of latencies of a subset of commands or all.", "O(N) where N is the number of commands with latency information being retrieved."),
    Command::new("history", 3, latency_history).syntax("event").flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]).doc("server", "2.8.13", "Return timestamp-latency samples for the event.", "O(1)"),
    Command::new("latest", 2, latency_latest).flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]).doc("server", "2.8.13", "Return the latest latency samples for all events.", "O(1)"),
    Command::new("reset", -2, latency_reset).syntax("[event ...]").flags(ADMIN | NOSCRIPT | LOADING | STALE).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("server", "2.8.13", "Reset latency data for one or more events.", "O(1)"),
    Command::new("help", 2, latency_help).flags(LOADING | STALE).doc("server", "2.8.13", "Show helpful text about the different subcommands.", "O(1)"),
];

#[rustfmt::skip]
static SLOWLOG_SUBCOMMANDS: &[Command] = &[
    Command::new("get", -2, slowlog_get).syntax("[count:integer]").flags(ADMIN | LOADING | STALE).tips(&["request_policy:all_nodes", "nondeterministic_output"]).doc("server", "2.2.12", "Get the slow log's entries", "O(N) where N is the number of entries returned"),
    Command::new("len", 2, slowlog_len).flags(ADMIN | LOADING | STALE).tips(&["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]).doc("server", "2.2.12", "Get the slow log's length", "O(1)"),
    Command::new("reset", 2, slowlog_reset).flags(ADMIN | LOADING | STALE).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("server", "2.2.12", "Clear all entries from the slow log", "O(N) where N is the number of entries in the slowlog"),
    Command::new("help", 2, slowlog_help).flags(LOADING | STALE).doc("server", "6.2.0", "Show helpful text about the different subcommands", "O(1)"),
];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("monitor", 1, monitor).flags(ADMIN | NOSCRIPT | LOADING | STALE).doc("server", "1.0.0", "Listen for all requests received by the server in real time", ""),
    Command::new("latency", -2, latency_container).subcommands(LATENCY_SUBCOMMANDS).doc("server", "2.8.13", "A container for latency diagnostics commands", "Depends on subcommand."),
    Command::new("slowlog", -2, slowlog_container).subcommands(SLOWLOG_SUBCOMMANDS).doc("server", "2.2.12", "A container for slow log commands", "Depends on subcommand."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_argv;

    #[test]
    fn credentials_are_redacted() {
        let shown = |words: &[&str]| {
            shown_args(&test_argv(words))
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&["AUTH", "user", "pw"]), ["AUTH", "(redacted)", "(redacted)"]);
        assert_eq!(
            shown(&["HELLO", "3", "auth", "u", "p", "SETNAME", "n"]),
            ["HELLO", "3", "auth", "(redacted)", "(redacted)", "SETNAME", "n"]
        );
        assert_eq!(shown(&["HELLO", "3", "AUTH"]), ["HELLO", "3", "AUTH"]);
        assert_eq!(shown(&["GET", "k"]), ["GET", "k"]);
        assert_eq!(
            shown(&["MIGRATE", "h", "1", "", "0", "0", "AUTH2", "u", "p", "KEYS", "auth", "k"]),
            ["MIGRATE", "h", "1", "", "0", "0", "AUTH2", "(redacted)", "(redacted)", "KEYS", "auth", "k"]
        );
    }
}
