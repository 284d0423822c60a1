//! CONFIG: reading and changing the configuration at run time, resetting
//! the statistics, and writing the configuration back to its file (Redis's
//! `config.c` commands). The parameters themselves, their parsers and the
//! rewrite rules live in [`crate::config`].

use crate::config::SetError;
use crate::error::{self, CommandError, CommandResult};

use super::Ctx;
use super::table::{Command, flags::*};

/// `CONFIG <subcommand>`: every call with a known subcommand is routed to
/// it and a bare CONFIG fails on arity, so this only answers the rest.
fn config_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("config", &args[1]))
}

/// `CONFIG GET parameter [parameter ...]`: a map (a flat array in RESP2) of
/// the matching parameters ([`crate::config::Config::get_matching`]).
fn config_get(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let found = ctx.state.config().get_matching(&args[2..]);
    ctx.out.map(found.len());
    for (name, value) in found {
        ctx.out.bulk(&name);
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
    let protected_allowed = ctx
        .state
        .config()
        .enable_protected_configs
        .allows(ctx.client.handle.addr.ip());
    let text = match ctx.state.set_config(&pairs, protected_allowed) {
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
            let reason = crate::error::strerror(&err);
            ctx.state
                .log
                .warning(&format!("CONFIG REWRITE failed: {reason}"));
            Err(CommandError::err(format_args!(
                "Rewriting config file: {reason}"
            )))
        }
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

// ---- Command table -----------------------------------------------------------

/// CONFIG's subcommands.
static SUBCOMMANDS: &[Command] = &[
    Command::new("get", -3, config_get)
        .syntax("(parameter) ...")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .doc(
            "server",
            "2.0.0",
            "Returns the effective values of configuration parameters.",
            "O(N) when N is the number of configuration parameters provided",
        ),
    Command::new("help", 2, config_help)
        .flags(LOADING | STALE)
        .doc(
            "server",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    Command::new("resetstat", 2, config_resetstat)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .doc("server", "2.0.0", "Resets the server's statistics.", "O(1)"),
    Command::new("rewrite", 2, config_rewrite)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .doc(
            "server",
            "2.8.0",
            "Persists the effective configuration to file.",
            "O(1)",
        ),
    Command::new("set", -4, config_set)
        .syntax("(parameter value) ...")
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "server",
            "2.0.0",
            "Sets configuration parameters in-flight.",
            "O(N) when N is the number of configuration parameters provided",
        ),
];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[Command::new("config", -2, config_container)
    .subcommands(SUBCOMMANDS)
    .doc(
        "server",
        "2.0.0",
        "A container for server configuration commands.",
        "Depends on subcommand.",
    )];
