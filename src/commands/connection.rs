//! Connection commands: PING ECHO QUIT SELECT HELLO AUTH RESET.

use std::sync::atomic::Ordering;

use crate::error::{self, CommandError, CommandResult};
use crate::resp::Protocol;

use super::Ctx;
use super::args;
use super::table::{Command, Locks, flags::*};

/// `PING [message]`
fn ping(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 2 {
        return Err(error::wrong_arity("ping"));
    }
    // A RESP2 subscriber cannot tell a reply from a message unless the
    // reply looks like one: Redis answers `["pong", message]` there.
    if ctx.client.pubsub.total() > 0 && !ctx.out.is_resp3() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).map_or(&b""[..], Vec::as_slice));
        return Ok(());
    }
    match args.get(1) {
        Some(message) => ctx.out.bulk(message),
        None => ctx.out.simple("PONG"),
    }
    Ok(())
}

/// `ECHO message`
fn echo(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ctx.out.bulk(&args[1]);
    Ok(())
}

/// `QUIT`: replies OK, then the connection closes.
fn quit(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// `SELECT index`
fn select(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let databases = ctx.keyspace().databases();
    ctx.client.db = args::db_index(&args[1], databases)?;
    ctx.out.ok();
    Ok(())
}

/// Checks a password for `user` the way Redis checks the default user with
/// `requirepass`: only "default" exists, and with no password set any
/// password is accepted. The comparison takes the same time wherever the
/// first difference is.
fn credentials_ok(ctx: &Ctx, user: &[u8], password: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let config = ctx.state.config();
    config.requirepass.is_empty() || constant_time_eq(config.requirepass.as_bytes(), password)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Compare over the longer length so timing does not reveal a prefix
    // match; the length difference is folded into the result.
    let len = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// Records a failed authentication (INFO stats `acl_access_denied_auth`).
fn auth_failed(ctx: &Ctx) -> CommandError {
    ctx.state
        .stats
        .acl_access_denied_auth
        .fetch_add(1, Ordering::Relaxed);
    error::WRONGPASS
}

/// `AUTH [username] password`
fn auth(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let (user, password): (&[u8], &[u8]) = if args.len() == 2 {
        if !ctx.state.password_set() {
            return Err(error::NO_PASSWORD_SET);
        }
        (b"default", &args[1])
    } else {
        (&args[1], &args[2])
    };
    if !credentials_ok(ctx, user, password) {
        return Err(auth_failed(ctx));
    }
    ctx.client.authenticated = true;
    ctx.out.ok();
    Ok(())
}

/// Validates and sets a client name (CLIENT SETNAME, HELLO SETNAME): no
/// spaces, newlines or other characters outside `!`..`~`; empty clears it.
pub fn set_client_name(ctx: &mut Ctx, name: &[u8]) -> CommandResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.name = name.to_vec();
    Ok(())
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
fn hello(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut protocol = None;
    if let Some(version) = args.get(1) {
        let version = args::int_or(
            version,
            CommandError::err("Protocol version is not an integer or out of range"),
        )?;
        protocol = Some(match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => {
                return Err(CommandError::canned("NOPROTO unsupported protocol version"));
            }
        });
    }
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args::is(&args[j], "auth") && more >= 2 {
            if !credentials_ok(ctx, &args[j + 1], &args[j + 2]) {
                return Err(auth_failed(ctx));
            }
            ctx.client.authenticated = true;
            j += 3;
        } else if args::is(&args[j], "setname") && more >= 1 {
            set_client_name(ctx, &args[j + 1])?;
            j += 2;
        } else {
            let mut text = b"ERR Syntax error in HELLO option '".to_vec();
            text.extend_from_slice(error::c_str_prefix(&args[j], usize::MAX));
            text.push(b'\'');
            return Err(CommandError::from_bytes(text));
        }
    }
    if ctx.client.auth_required(ctx.state) {
        return Err(CommandError::canned(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(protocol) = protocol {
        ctx.out.set_protocol(protocol);
    }
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(out.protocol().version());
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// `RESET`: back to a fresh connection's state (keeping authentication
/// only if no password is required).
fn reset(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.client.multi = None;
    super::unwatch_all(ctx);
    super::pubsub::unsubscribe_all(ctx);
    ctx.client.db = 0;
    ctx.client.name.clear();
    ctx.client.reply_mode = Default::default();
    ctx.client.authenticated = !ctx.state.password_set();
    ctx.out.set_protocol(Protocol::Resp2);
    // Replies are back on before RESET answers, as in Redis.
    ctx.out.set_silenced(false);
    ctx.out.simple("RESET");
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
pub static COMMANDS: &[Command] = &[
    Command::new("ping", -1, ping)
        .syntax("[message]")
        .flags(FAST | SENTINEL | ALLOW_SUBSCRIBED | REFUSED_ON_MISCONF)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            "connection",
            "1.0.0",
            "Returns the server's liveliness response.",
            "O(1)",
        ),
    Command::new("echo", 2, echo)
        .syntax("message")
        .flags(LOADING | STALE | FAST)
        .doc("connection", "1.0.0", "Returns the given string.", "O(1)"),
    Command::new("quit", -1, quit)
        .flags(
            ALLOW_BUSY
                | NOSCRIPT
                | LOADING
                | STALE
                | FAST
                | NO_AUTH
                | NOT_QUEUED
                | ENDS_MULTI
                | ALLOW_SUBSCRIBED,
        )
        .doc("connection", "1.0.0", "Closes the connection.", "O(1)"),
    Command::new("select", 2, select)
        .syntax("index:integer")
        .flags(LOADING | STALE | FAST | SELECTS_DB)
        .doc(
            "connection",
            "2.0.0",
            "Changes the selected database.",
            "O(1)",
        ),
    Command::new("hello", -1, hello)
        .syntax("[protover:integer [AUTH (username password)] [SETNAME clientname]]")
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY)
        .doc(
            "connection",
            "6.0.0",
            "Handshakes with the Redis server.",
            "O(1)",
        ),
    Command::new("auth", -2, auth)
        .syntax("[username] password")
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY)
        .doc(
            "connection",
            "1.0.0",
            "Authenticates the connection.",
            "O(N) where N is the number of passwords defined for the user",
        ),
    Command::new("reset", 1, reset)
        .flags(
            NOSCRIPT
                | LOADING
                | STALE
                | FAST
                | NO_AUTH
                | ALLOW_BUSY
                | NOT_QUEUED
                | ENDS_MULTI
                | ALLOW_SUBSCRIBED,
        )
        .locks(Locks::Custom(super::watched_keys_plan))
        .doc("connection", "6.2.0", "Resets the connection.", "O(1)"),
];

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
