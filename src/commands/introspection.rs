//! COMMAND: what the server can do, in Redis 7's shapes (`server.c`'s
//! `commandCommand` family). Everything comes from the command table
//! ([`super::registry()`]), so a command added to any family is described
//! here without further work.
//!
//! The table records less than Redis's JSON files, so some parts are
//! derived or left out, always in a well-formed way:
//! - key specs: those a command declares (several specs, `keyword` and
//!   `keynum` searches, notes), from which the legacy key range and
//!   `movablekeys` follow as in Redis; otherwise one derived spec, a
//!   `(first, last, step)` range becoming an `index` + `range` spec and keys
//!   found by a function an `unknown` one (flagged `movablekeys`), with the
//!   command's key flags or, by default, `RW access update` for writes and
//!   `RO access` otherwise. COMMAND INFO is Redis's, byte for byte, for
//!   every command (`tests/compat/`);
//! - history and doc flags are absent.

use crate::error::{self, CommandError, CommandResult};
use crate::glob::Pattern;
use crate::resp::ReplyWriter;

use super::Ctx;
use super::args;
use super::registry::{Registered, registry};
use super::syntax::{self, Arg, Kind};
use super::table::{BeginSearch, Command, FindKeys, KeySpec, KeySpecInfo, acl, flags, flags::*};

/// Replies a HELP text the way every Redis container does (Redis's
/// `addReplyHelp`): a header naming the command as it was typed
/// (upper-cased), the lines, then HELP itself, all as status replies.
pub fn reply_help(ctx: &mut Ctx, name: &[u8], lines: &[&str]) {
    let out = &mut *ctx.out;
    out.array(lines.len() + 3);
    let mut header = name.to_ascii_uppercase();
    header.extend_from_slice(b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    out.simple_bytes(&header);
    for line in lines {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// `COMMAND`: every top-level command's details.
fn command(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 1 {
        // Routed to a subcommand by the dispatcher whenever one exists.
        return Err(error::unknown_subcommand("command", &args[1]));
    }
    all_infos(ctx.out);
    Ok(())
}

fn all_infos(out: &mut ReplyWriter) {
    let top: Vec<&Registered> = registry().top_level().map(|(_, e)| e).collect();
    out.array(top.len());
    for entry in top {
        write_info(out, entry.command, entry.full_name);
    }
}

/// `COMMAND COUNT`
fn command_count(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out.int(registry().top_level().count() as i64);
    Ok(())
}

/// `COMMAND INFO [command-name [command-name ...]]`: unknown names get a
/// null in their place.
fn command_info(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() == 2 {
        all_infos(ctx.out);
        return Ok(());
    }
    ctx.out.array(args.len() - 2);
    for name in &args[2..] {
        match registry().find_full(name) {
            Some(found) => write_info(ctx.out, found.command, found.full_name),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `COMMAND DOCS [command-name [command-name ...]]`: a map from name to
/// documentation; unknown names are left out.
fn command_docs(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let out = &mut *ctx.out;
    if args.len() == 2 {
        let top: Vec<&Registered> = registry().top_level().map(|(_, e)| e).collect();
        out.map(top.len());
        for entry in top {
            out.bulk(entry.full_name.as_bytes());
            write_docs(out, entry.command, entry.full_name);
        }
        return Ok(());
    }
    let found: Vec<_> = args[2..]
        .iter()
        .filter_map(|name| registry().find_full(name))
        .collect();
    out.map(found.len());
    for cmd in found {
        out.bulk(cmd.full_name.as_bytes());
        write_docs(out, cmd.command, cmd.full_name);
    }
    Ok(())
}

/// `COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN
/// pattern>]`: full names of commands and subcommands.
fn command_list(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    enum Filter {
        All,
        /// No module commands exist, so this matches nothing.
        Module,
        AclCat(Option<u32>),
        Pattern(Pattern),
    }
    let mut filter = Filter::All;
    let mut c = args::Cursor::new(args, 2);
    while let Some(option) = c.next() {
        // FILTERBY and its two values must be the last arguments.
        if !(args::is(option, "filterby") && c.has(2) && !c.has(3)) {
            return Err(error::SYNTAX);
        }
        let (kind, arg) = (c.next_bytes()?, c.next_bytes()?);
        filter = if args::is(kind, "module") {
            Filter::Module
        } else if args::is(kind, "aclcat") {
            Filter::AclCat(acl::named(arg))
        } else if args::is(kind, "pattern") {
            Filter::Pattern(Pattern::new(arg, true))
        } else {
            return Err(error::SYNTAX);
        };
    }
    let names: Vec<&str> = registry()
        .entries()
        .iter()
        .filter(|e| match &filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(bit) => bit.is_some_and(|b| e.command.acl_categories() & b != 0),
            Filter::Pattern(p) => p.matches(e.full_name.as_bytes()),
        })
        .map(|e| e.full_name)
        .collect();
    ctx.out.bulk_array(names.iter().map(|n| n.as_bytes()));
    Ok(())
}

/// The command a `COMMAND GETKEYS` request describes, and its arguments.
fn getkeys_target(args: &[Vec<u8>]) -> CommandResult<Vec<(usize, Vec<&'static str>)>> {
    let full = &args[2..];
    let cmd = registry()
        .resolve(full)
        .map_err(|_| CommandError::err("Invalid command specified"))?
        .command;
    if matches!(cmd.keys, KeySpec::None) || cmd.has(CHANNEL_KEYS) {
        return Err(CommandError::err("The command has no key arguments"));
    }
    if !cmd.arity_ok(full.len()) {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let keys = if cmd.key_specs.is_empty() {
        let flags = key_flags(cmd);
        cmd.keys
            .positions(full)
            .into_iter()
            .map(|i| (i, flags.clone()))
            .collect()
    } else {
        keys_by_specs(cmd, full)
    };
    if keys.is_empty() && !cmd.has(NO_MANDATORY_KEYS) {
        return Err(CommandError::err("Invalid arguments specified for command"));
    }
    Ok(keys)
}

/// The positions of `argv`'s keys as Redis's `getKeysFromCommand` finds
/// them: what COMMAND GETKEYS answers, without its checks. Client-side
/// caching remembers these keys for a read-only command.
pub fn key_positions(cmd: &Command, argv: &[Vec<u8>]) -> Vec<usize> {
    if matches!(cmd.keys, KeySpec::None) {
        Vec::new()
    } else if cmd.key_specs.is_empty() {
        cmd.keys.positions(argv)
    } else {
        keys_by_specs(cmd, argv).into_iter().map(|(i, _)| i).collect()
    }
}

/// `COMMAND GETKEYS command [arg [arg ...]]`
fn command_getkeys(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let keys = getkeys_target(args)?;
    ctx.out.array(keys.len());
    for (i, _) in keys {
        ctx.out.bulk(&args[2 + i]);
    }
    Ok(())
}

/// `COMMAND GETKEYSANDFLAGS command [arg [arg ...]]`
fn command_getkeysandflags(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let keys = getkeys_target(args)?;
    ctx.out.array(keys.len());
    for (i, flags) in keys {
        ctx.out.array(2);
        ctx.out.bulk(&args[2 + i]);
        write_status_set(ctx.out, flags);
    }
    Ok(())
}

/// The keys of `argv` (the command name at 0) with their flags, as Redis's
/// `getKeysFromCommandWithSpecs` finds them for a command with declared key
/// specs: by the command's own rule if it has one, else each spec's keys
/// in turn, when every spec finds its keys within
/// the arguments. Otherwise (a key count that is no number, or counts more
/// keys than there are) Redis falls back to the command's own rule,
/// `genericGetKeys`: the count read as `atoi` reads it, no keys if it is out
/// of range, the keys, then the destination, all without flags.
fn keys_by_specs(cmd: &Command, argv: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    if let Some(getkeys) = cmd.getkeys {
        return getkeys(argv);
    }
    let mut keys = Vec::new();
    for spec in cmd.key_specs {
        let Some(found) = spec_keys(spec, argv) else {
            return keys_by_count(cmd, argv);
        };
        keys.extend(found.into_iter().map(|i| (i, spec.flags.to_vec())));
    }
    keys
}

/// Redis's `genericGetKeys` for a command whose keys follow a count: the
/// count at the `keynum` spec, and the destination of a single-key spec
/// before it, if any.
fn keys_by_count(cmd: &Command, argv: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    let mut destination = None;
    for spec in cmd.key_specs {
        match (spec.begin, spec.find) {
            (BeginSearch::Index(pos), FindKeys::Range(0, _, _)) => destination = Some(pos as usize),
            (BeginSearch::Index(pos), FindKeys::Keynum(count_at, first, step)) => {
                let (first, step) = ((pos + first) as usize, step.max(1) as usize);
                let count = argv
                    .get((pos + count_at) as usize)
                    .map_or(0, |count| crate::num::c_atoi(count));
                if count < 1 || count as usize > argv.len().saturating_sub(first) / step {
                    return Vec::new();
                }
                let keys = (0..count as usize).map(|i| first + i * step);
                return keys.chain(destination).map(|i| (i, Vec::new())).collect();
            }
            _ => {}
        }
    }
    Vec::new()
}

/// The argument indexes of the keys a key spec finds in `argv` (the command
/// name at 0), as Redis's `getKeysUsingKeySpecs` walks it; `None` where
/// the spec is invalid for these arguments (a key count that is no number,
/// keys past the end).
fn spec_keys(spec: &KeySpecInfo, argv: &[Vec<u8>]) -> Option<Vec<usize>> {
    let argc = argv.len() as i64;
    let first = match spec.begin {
        BeginSearch::Index(pos) => i64::from(pos),
        // Searched up to the last argument but one, as Redis does: a
        // keyword at the very end has no keys after it. A keyword that is
        // not there finds no keys (GEORADIUS without STORE), which is no
        // error.
        BeginSearch::Keyword(keyword, from) => {
            let from = i64::from(from);
            let start = if from > 0 { from } else { argc + from };
            let Some(found) =
                (start.max(1)..argc - 1).find(|&i| args::is(&argv[i as usize], keyword))
            else {
                return Some(Vec::new());
            };
            found + 1
        }
        BeginSearch::Unknown => return None,
    };
    let (first, last, step) = match spec.find {
        FindKeys::Range(lastkey, step, limit) => {
            let lastkey = i64::from(lastkey);
            let last = if lastkey >= 0 {
                first + lastkey
            } else if limit <= 1 {
                argc + lastkey
            } else {
                first + (argc - first) / i64::from(limit) + lastkey
            };
            (first, last, step)
        }
        FindKeys::Keynum(index, firstkey, step) => {
            let count = argv.get(usize::try_from(first + i64::from(index)).ok()?)?;
            let count = crate::num::parse_i64(count).filter(|&n| n >= 0)?;
            // Redis adds the count as an `int`: cut to 32 bits.
            let count = i64::from(count as i32);
            let first = first + i64::from(firstkey);
            (first, first + count - 1, step)
        }
        FindKeys::Unknown => return None,
    };
    if first < 1 || first >= argc || last >= argc || last < first || step < 1 {
        return None;
    }
    Some(
        (first..=last)
            .step_by(step as usize)
            .map(|i| i as usize)
            .collect(),
    )
}

// `COMMAND HELP`
help_command!(
    command_help,
    [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ]
);

/// The flags COMMAND INFO reports, in Redis's order, with `movablekeys`
/// derived from the key specs.
fn reported_flags(cmd: &Command) -> Vec<&'static str> {
    let mut bits = cmd.flags;
    if legacy_range(cmd).1 {
        bits |= MOVABLE_KEYS;
    }
    flags::REPORTED
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Key-spec access flags, derived from the command's flags.
fn key_flags(cmd: &Command) -> Vec<&'static str> {
    if !cmd.key_flags.is_empty() {
        cmd.key_flags.to_vec()
    } else if cmd.has(CHANNEL_KEYS) {
        vec!["not_key"]
    } else if cmd.has(WRITE) {
        vec!["RW", "access", "update"]
    } else {
        vec!["RO", "access"]
    }
}

/// A set of simple strings (flags and categories are status replies).
fn write_status_set(out: &mut ReplyWriter, items: Vec<&str>) {
    out.set(items.len());
    for item in items {
        out.simple(item);
    }
}

/// The legacy `(first, last, step)` COMMAND INFO reports, and whether the
/// command's keys are movable (not all within that range). With declared
/// key specs both come from them as in Redis's
/// `populateCommandLegacyRangeSpec`: the range spans the plain range specs
/// (step 1) that each start right after the previous one's last key; a spec
/// that is not one of those is skipped and makes the keys movable.
fn legacy_range(cmd: &Command) -> ((i32, i32, i32), bool) {
    if cmd.key_specs.is_empty() {
        return (
            cmd.keys.legacy_range(),
            matches!(cmd.keys, KeySpec::Counted { .. } | KeySpec::Found(_)),
        );
    }
    let incomplete = |spec: &KeySpecInfo| spec.flags.contains(&"incomplete");
    let absolute = |pos: i32, lastkey: i32| if lastkey < 0 { lastkey } else { pos + lastkey };
    if let [spec] = cmd.key_specs
        && let (BeginSearch::Index(pos), FindKeys::Range(lastkey, step, _)) =
            (spec.begin, spec.find)
    {
        return ((pos, absolute(pos, lastkey), step), incomplete(spec));
    }
    let mut movable = false;
    let (mut first, mut last) = (i32::MAX, 0);
    for spec in cmd.key_specs {
        let (BeginSearch::Index(pos), FindKeys::Range(lastkey, step, _)) = (spec.begin, spec.find)
        else {
            movable = true;
            continue;
        };
        if step != 1 || (last != 0 && last != pos - 1) {
            movable = true;
            continue;
        }
        movable |= incomplete(spec);
        first = first.min(pos);
        // Compared as unsigned, as Redis does: a last key counted from the
        // end (negative) outranks any absolute one.
        let end = absolute(pos, lastkey);
        if end as u32 > last as u32 {
            last = end;
        }
    }
    if first == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first, last, 1), movable)
}

/// One command's COMMAND INFO entry (Redis's `addReplyCommandInfo`).
fn write_info(out: &mut ReplyWriter, cmd: &Command, full_name: &str) {
    let ((first, last, step), _) = legacy_range(cmd);
    out.array(10);
    out.bulk(full_name.as_bytes());
    out.int(i64::from(cmd.arity));
    write_status_set(out, reported_flags(cmd));
    out.int(i64::from(first));
    out.int(i64::from(last));
    out.int(i64::from(step));
    let categories: Vec<String> = acl::names(cmd.acl_categories())
        .map(|c| format!("@{c}"))
        .collect();
    write_status_set(out, categories.iter().map(String::as_str).collect());
    out.set(cmd.tips.len());
    for tip in cmd.tips {
        out.bulk(tip.as_bytes());
    }
    write_key_specs(out, cmd);
    if cmd.is_container() {
        out.array(cmd.subcommands.len());
        for sub in cmd.subcommands {
            write_info(out, sub, &format!("{full_name}|{}", sub.name));
        }
    } else {
        out.set(0);
    }
}

fn write_key_specs(out: &mut ReplyWriter, cmd: &Command) {
    if !cmd.key_specs.is_empty() {
        out.set(cmd.key_specs.len());
        for spec in cmd.key_specs {
            write_key_spec(out, spec, spec.flags.to_vec());
        }
        return;
    }
    // The one spec the table's key positions imply.
    let derived = match cmd.keys {
        KeySpec::None => return out.set(0),
        KeySpec::Range { first, last, step } => {
            // Key specs count the last key from the first one.
            let lastkey = if last < 0 { last } else { last - first };
            KeySpecInfo::new(
                &[],
                BeginSearch::Index(first),
                FindKeys::Range(lastkey, step, 0),
            )
        }
        KeySpec::Counted { .. } | KeySpec::Found(_) => {
            KeySpecInfo::new(&[], BeginSearch::Unknown, FindKeys::Unknown)
        }
    };
    out.set(1);
    write_key_spec(out, &derived, key_flags(cmd));
}

/// One key spec, with its flags (Redis's `addReplyCommandKeySpecs`).
fn write_key_spec(out: &mut ReplyWriter, spec: &KeySpecInfo, flags: Vec<&str>) {
    // A `type` + `spec` map whose spec is a map of integers.
    let part = |out: &mut ReplyWriter, kind: &str, fields: &[(&str, i32)]| {
        out.map(2);
        out.bulk(b"type");
        out.bulk(kind.as_bytes());
        out.bulk(b"spec");
        out.map(fields.len());
        for (name, value) in fields {
            out.bulk(name.as_bytes());
            out.int(i64::from(*value));
        }
    };
    out.map(3 + usize::from(!spec.notes.is_empty()));
    if !spec.notes.is_empty() {
        out.bulk(b"notes");
        out.bulk(spec.notes.as_bytes());
    }
    out.bulk(b"flags");
    write_status_set(out, flags);
    out.bulk(b"begin_search");
    match spec.begin {
        BeginSearch::Index(index) => part(out, "index", &[("index", index)]),
        BeginSearch::Keyword(keyword, startfrom) => {
            out.map(2);
            out.bulk(b"type");
            out.bulk(b"keyword");
            out.bulk(b"spec");
            out.map(2);
            out.bulk(b"keyword");
            out.bulk(keyword.as_bytes());
            out.bulk(b"startfrom");
            out.int(i64::from(startfrom));
        }
        BeginSearch::Unknown => part(out, "unknown", &[]),
    }
    out.bulk(b"find_keys");
    match spec.find {
        FindKeys::Range(lastkey, keystep, limit) => part(
            out,
            "range",
            &[("lastkey", lastkey), ("keystep", keystep), ("limit", limit)],
        ),
        FindKeys::Keynum(keynumidx, firstkey, keystep) => part(
            out,
            "keynum",
            &[
                ("keynumidx", keynumidx),
                ("firstkey", firstkey),
                ("keystep", keystep),
            ],
        ),
        FindKeys::Unknown => part(out, "unknown", &[]),
    }
}

/// One command's COMMAND DOCS entry (Redis's `addReplyCommandDocs`).
fn write_docs(out: &mut ReplyWriter, cmd: &Command, full_name: &str) {
    let doc = &cmd.doc;
    let fields: Vec<(&str, &str)> = [
        ("summary", doc.summary),
        ("since", doc.since),
        ("group", doc.group),
        ("complexity", doc.complexity),
    ]
    .into_iter()
    // The group is always there; the others only when known.
    .filter(|(name, value)| *name == "group" || !value.is_empty())
    .collect();
    // The table's own unit test proves every synopsis parses.
    let arguments = syntax::parse(doc.syntax).unwrap_or_default();
    out.map(fields.len() + usize::from(!arguments.is_empty()) + usize::from(cmd.is_container()));
    for (name, value) in fields {
        out.bulk(name.as_bytes());
        out.bulk(value.as_bytes());
    }
    if !arguments.is_empty() {
        out.bulk(b"arguments");
        write_arguments(out, &arguments);
    }
    if cmd.is_container() {
        out.bulk(b"subcommands");
        out.map(cmd.subcommands.len());
        for sub in cmd.subcommands {
            let sub_name = format!("{full_name}|{}", sub.name);
            out.bulk(sub_name.as_bytes());
            write_docs(out, sub, &sub_name);
        }
    }
}

/// An argument tree (Redis's `addReplyCommandArgList`).
fn write_arguments(out: &mut ReplyWriter, args: &[Arg]) {
    out.array(args.len());
    for arg in args {
        let flags: Vec<&str> = [
            (arg.optional, "optional"),
            (arg.multiple, "multiple"),
            (arg.multiple_token, "multiple_token"),
        ]
        .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect();
        let nested = matches!(arg.kind, Kind::OneOf | Kind::Block);
        out.map(
            2 + usize::from(arg.token.is_some())
                + usize::from(!flags.is_empty())
                + usize::from(nested),
        );
        out.bulk(b"name");
        out.bulk(arg.name.as_bytes());
        out.bulk(b"type");
        out.bulk(arg.kind.name().as_bytes());
        if let Some(token) = arg.token {
            out.bulk(b"token");
            out.bulk(token.as_bytes());
        }
        if !flags.is_empty() {
            out.bulk(b"flags");
            write_status_set(out, flags);
        }
        if nested {
            out.bulk(b"arguments");
            write_arguments(out, &arg.children);
        }
    }
}

// ---- Command table -----------------------------------------------------------

/// COMMAND's subcommands.
#[rustfmt::skip]
static SUBCOMMANDS: &[Command] = &[
    Command::new("count", 2, command_count).flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).doc("server", "2.8.13", "Returns a count of commands.", "O(1)"),
    Command::new("docs", -2, command_docs).syntax("[command-name ...]").flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).tips(&["nondeterministic_output_order"]).doc("server", "7.0.0", "Returns documentary information about one, multiple or all commands.", "O(N) where N is the number of commands to look up"),
    Command::new("getkeys", -4, command_getkeys).flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).doc("server", "2.8.13", "Extracts the key names from an arbitrary command.", "O(N) where N is the number of arguments to the command"),
    Command::new("getkeysandflags", -4, command_getkeysandflags).flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).doc("server", "7.0.0", "Extracts the key names and access flags for an arbitrary command.", "O(N) where N is the number of arguments to the command"),
    Command::new("help", 2, command_help).flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).doc("server", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
    Command::new("info", -2, command_info).syntax("[command-name ...]").flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).tips(&["nondeterministic_output_order"]).doc("server", "2.8.13", "Returns information about one, multiple or all commands.", "O(N) where N is the number of commands to look up"),
    Command::new("list", -2, command_list).syntax("[FILTERBY (MODULE module-name|ACLCAT category|PATTERN pattern:pattern)]").flags(LOADING | STALE | SENTINEL).acl(acl::CONNECTION).tips(&["nondeterministic_output_order"]).doc("server", "7.0.0", "Returns a list of command names.", "O(N) where N is the total number of Redis commands"),
];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[Command::new("command", -1, command)
    .flags(LOADING | STALE | SENTINEL)
    .acl(acl::CONNECTION)
    .subcommands(SUBCOMMANDS)
    .tips(&["nondeterministic_output_order"])
    .doc(
        "server",
        "2.8.13",
        "Returns detailed information about all commands.",
        "O(N) where N is the total number of Redis commands",
    )];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_categories_add_the_implied_ones() {
        let get = registry().find(b"get").unwrap().command;
        let names: Vec<&str> = acl::names(get.acl_categories()).collect();
        assert_eq!(names, ["read", "string", "fast"]);
        let kill = registry().find_full(b"client|kill").unwrap().command;
        let names: Vec<&str> = acl::names(kill.acl_categories()).collect();
        assert_eq!(names, ["admin", "slow", "dangerous", "connection"]);
        // A container's own entry gets no group category.
        let client = registry().find(b"client").unwrap().command;
        let names: Vec<&str> = acl::names(client.acl_categories()).collect();
        assert_eq!(names, ["slow"]);
    }

    #[test]
    fn reported_flags_hide_what_redis_hides() {
        let shutdown = registry().find(b"shutdown").unwrap().command;
        let flags = reported_flags(shutdown);
        assert!(!flags.contains(&"sentinel"));
        assert_eq!(
            flags,
            [
                "admin",
                "noscript",
                "loading",
                "stale",
                "no_multi",
                "allow_busy"
            ]
        );
    }

    #[test]
    fn key_counts_read_as_c_atoi_reads_them() {
        for (text, n) in [
            ("2", 2),
            (" 1", 1),
            ("1x", 1),
            ("+3", 3),
            ("\x0b\t1", 1),
            ("-2", -2),
            ("x", 0),
            ("", 0),
            ("99999999999", 1_215_752_191),
        ] {
            assert_eq!(crate::num::c_atoi(text.as_bytes()), n, "{text:?}");
        }
    }

    /// COMMAND GETKEYS takes any arguments from a client: every command's
    /// key finding copes with every short argument list (of a valid arity)
    /// of awkward values
    /// (counts that are zero, negative, huge or no number) and only names
    /// arguments that exist.
    #[test]
    fn keys_found_by_specs_stay_within_the_arguments() {
        const VALUES: [&str; 7] = ["0", "1", "2", "-1", "x", "99999999999", "get"];
        for entry in registry().entries() {
            let cmd = entry.command;
            if cmd.key_specs.is_empty() {
                continue;
            }
            for argc in 1..=5u32 {
                for combo in 0..VALUES.len().pow(argc - 1) {
                    let mut argv = vec![cmd.name.as_bytes().to_vec()];
                    let mut rest = combo;
                    for _ in 1..argc {
                        argv.push(VALUES[rest % VALUES.len()].as_bytes().to_vec());
                        rest /= VALUES.len();
                    }
                    // As COMMAND GETKEYS does, check the arity first.
                    if !cmd.arity_ok(argv.len()) {
                        continue;
                    }
                    for (i, _) in keys_by_specs(cmd, &argv) {
                        assert!(
                            i >= 1 && i < argv.len(),
                            "{} {argv:?}: key at {i}",
                            cmd.name
                        );
                    }
                }
            }
        }
    }
}
