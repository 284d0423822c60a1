//! CONFIG: reading and changing the configuration at run time, resetting
//! the statistics, and writing the configuration back to its file (Redis's
//! `config.c` commands). The parameters themselves, their parsers and the
//! rewrite rules live in [`crate::config`].

use crate::config::{PARAMS, Param, SetError, param};
use crate::error::{self, CommandError, CommandResult};
use crate::glob::Pattern;

use super::Ctx;
use super::table::{Command, flags::*};

static SUBCOMMANDS: &[Command] = &[
    Command::new("get", -3, config_get)
        .syntax("(parameter) ...")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(&["@admin", "@slow", "@dangerous"])
        .doc(
            "server",
            "2.0.0",
            "Returns the effective values of configuration parameters.",
            "O(N) when N is the number of configuration parameters provided",
        ),
    Command::new("help", 2, config_help)
        .flags(LOADING | STALE)
        .acl(&["@slow"])
        .doc(
            "server",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    Command::new("resetstat", 2, config_resetstat)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(&["@admin", "@slow", "@dangerous"])
        .doc("server", "2.0.0", "Resets the server's statistics.", "O(1)"),
    Command::new("rewrite", 2, config_rewrite)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(&["@admin", "@slow", "@dangerous"])
        .doc(
            "server",
            "2.8.0",
            "Persists the effective configuration to file.",
            "O(1)",
        ),
    Command::new("set", -4, config_set)
        .syntax("(parameter value) ...")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(&["@admin", "@slow", "@dangerous"])
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "2.0.0",
            "Sets configuration parameters in-flight.",
            "O(N) when N is the number of configuration parameters provided",
        ),
];

pub static COMMANDS: &[Command] = &[Command::new("config", -2, config_container)
    .acl(&["@slow"])
    .subcommands(SUBCOMMANDS)
    .doc(
        "server",
        "2.0.0",
        "A container for server configuration commands.",
        "Depends on subcommand.",
    )];

/// `CONFIG <subcommand>`: every call with a known subcommand is routed to
/// it and a bare CONFIG fails on arity, so this only answers the rest.
fn config_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("config", &args[1]))
}

/// `CONFIG GET parameter [parameter ...]`: a map (a flat array in RESP2) of
/// the matching parameters. A name without glob characters is looked up
/// directly and answered under the name as given; a pattern matches the
/// parameters' own names, ignoring case. Each parameter appears once.
fn config_get(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    // (name as shown, parameter)
    let mut found: Vec<(&[u8], &'static Param)> = Vec::new();
    fn add<'a>(found: &mut Vec<(&'a [u8], &'static Param)>, shown: &'a [u8], p: &'static Param) {
        if !found.iter().any(|(_, seen)| std::ptr::eq(*seen, p)) {
            found.push((shown, p));
        }
    }
    for arg in &args[2..] {
        if !arg.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            if let Some(p) = std::str::from_utf8(arg).ok().and_then(param) {
                add(&mut found, arg, p);
            }
            continue;
        }
        let pattern = Pattern::new(arg, true);
        for p in PARAMS {
            if pattern.matches(p.name.as_bytes()) {
                add(&mut found, p.name.as_bytes(), p);
            }
        }
    }
    let values: Vec<String> = {
        let config = ctx.state.config();
        found.iter().map(|(_, p)| (p.get)(&config)).collect()
    };
    ctx.out.map(found.len());
    for ((shown, _), value) in found.iter().zip(values) {
        ctx.out.bulk(shown);
        ctx.out.bulk(value.as_bytes());
    }
    Ok(())
}

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing,
/// with Redis 7.0's errors. Existing connections keep their
/// authentication when `requirepass` changes; new ones must AUTH.
fn config_set(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(error::SYNTAX);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..]
        .chunks(2)
        .map(|pair| (pair[0].as_slice(), pair[1].as_slice()))
        .collect();
    let result = ctx.state.update_config(|config| config.set_many(&pairs));
    let text = match result {
        Ok(()) => {
            ctx.out.ok();
            return Ok(());
        }
        Err(SetError::Unknown(name)) => [
            b"ERR Unknown option or number of arguments for CONFIG SET - '".as_slice(),
            error::c_str_prefix(&name, usize::MAX),
            b"'",
        ]
        .concat(),
        Err(SetError::Failed { name, reason }) => [
            b"ERR CONFIG SET failed (possibly related to argument '".as_slice(),
            error::c_str_prefix(&name, usize::MAX),
            b"') - ",
            reason.as_bytes(),
        ]
        .concat(),
    };
    Err(CommandError::from_bytes(text))
}

/// `CONFIG RESETSTAT`: zeroes INFO's statistics and command statistics.
fn config_resetstat(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.state.reset_stats();
    ctx.out.ok();
    Ok(())
}

/// `CONFIG REWRITE`: writes the running configuration into the file the
/// server was started with.
fn config_rewrite(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let config = ctx.state.config().clone();
    let Some(path) = &config.config_file else {
        return Err(CommandError::err(
            "The server is running without a config file",
        ));
    };
    match config.rewrite_file(path) {
        Ok(()) => {
            ctx.state
                .log
                .warning("CONFIG REWRITE executed with success.");
            ctx.out.ok();
            Ok(())
        }
        Err(err) => {
            let reason = strerror(&err);
            ctx.state
                .log
                .warning(&format!("CONFIG REWRITE failed: {reason}"));
            Err(CommandError::err(format_args!(
                "Rewriting config file: {reason}"
            )))
        }
    }
}

/// An I/O error as C's `strerror` words it (std appends " (os error N)").
fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// `CONFIG HELP`
fn config_help(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    super::introspection::reply_help(
        ctx,
        &args[0],
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}
