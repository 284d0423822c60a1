//! Persistence commands: SAVE BGSAVE BGREWRITEAOF (Redis's `rdb.c` and
//! `aof.c` commands). When and how files are written is `server::saving`'s
//! and `server::appendonly`'s; the formats are `persist`'s.

use crate::error::{self, CommandError, CommandResult};
use crate::state::saving::{self, SaveRefused};

use super::Ctx;
use super::args;
use super::table::{Command, flags::*};

/// `BGREWRITEAOF`: a new base from a snapshot, with the writes since in a
/// new incr file (also turns the AOF on, as in Redis, when it is off).
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    saving::request_rewrite(ctx.state).map_err(|SaveRefused::InProgress| {
        CommandError::err("Background append only file rewriting already in progress")
    })?;
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}

fn in_progress() -> CommandError {
    CommandError::err("Background save already in progress")
}

/// `SAVE`: writes the dump before replying. Unlike Redis, other clients are
/// served meanwhile; the dump is still a point-in-time snapshot.
fn save(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    match saving::save_now(ctx.state, false) {
        Err(SaveRefused::InProgress) => Err(in_progress()),
        Ok(Err(_)) => Err(CommandError::canned("ERR")),
        Ok(Ok(())) => {
            ctx.out.ok();
            Ok(())
        }
    }
}

/// `BGSAVE [SCHEDULE]`
fn bgsave(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 2 || (args.len() == 2 && !args::is(&args[1], "schedule")) {
        return Err(error::SYNTAX);
    }
    saving::request_bgsave(ctx.state).map_err(|SaveRefused::InProgress| in_progress())?;
    // Inside a transaction the save begins once EXEC releases its locks.
    if ctx.client.in_exec {
        ctx.out.simple("Background saving scheduled");
    } else {
        ctx.out.simple("Background saving started");
    }
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[
    Command::new("save", 1, save)
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI)
        .doc(
            "server",
            "1.0.0",
            "Synchronously saves the database(s) to disk.",
            "O(N) where N is the total number of keys in all databases",
        ),
    Command::new("bgsave", -1, bgsave)
        .syntax("[SCHEDULE]")
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING)
        .doc(
            "server",
            "1.0.0",
            "Asynchronously saves the database(s) to disk.",
            "O(1)",
        ),
    Command::new("bgrewriteaof", 1, bgrewriteaof)
        .flags(ADMIN | NOSCRIPT | NO_ASYNC_LOADING)
        .doc(
            "server",
            "1.0.0",
            "Asynchronously rewrites the append-only file to disk.",
            "O(1)",
        ),
];
