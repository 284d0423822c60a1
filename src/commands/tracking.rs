//! CLIENT's client-side caching subcommands: TRACKING, CACHING, GETREDIR
//! and TRACKINGINFO (Redis's `clientCommand` in `networking.c`), with
//! Redis's checks in its order and its error texts. The tables and the
//! messages live in [`crate::state::tracking`]; remembering what a command
//! read is the dispatcher's (see `remember_reads`).

use crate::error::{self, CommandError, CommandResult};
use crate::state::tracking::{Options, Overlap, check_prefixes};

use super::Ctx;
use super::args;

/// `CLIENT TRACKING (ON|OFF) [REDIRECT client-id] [PREFIX prefix ...]
/// [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`
pub(super) fn client_tracking(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut options = Options::default();
    let mut redirect: i64 = 0;
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let arg = &args[j];
        if args::is(arg, "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Err(CommandError::err(
                    "A client can only redirect to a single other client",
                ));
            }
            redirect = args::int(&args[j])?;
            // Required to exist now, though it may leave later (then the
            // redirection is broken).
            if u64::try_from(redirect)
                .ok()
                .and_then(|id| ctx.state.sessions.get(id))
                .is_none()
            {
                return Err(CommandError::err(
                    "The client ID you want redirect to does not exist",
                ));
            }
        } else if args::is(arg, "bcast") {
            options.bcast = true;
        } else if args::is(arg, "optin") {
            options.optin = true;
        } else if args::is(arg, "optout") {
            options.optout = true;
        } else if args::is(arg, "noloop") {
            options.noloop = true;
        } else if args::is(arg, "prefix") && more {
            j += 1;
            prefixes.push(args[j].clone());
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    options.redirect = redirect as u64;
    if args::is(&args[2], "on") {
        enable(ctx, options, &prefixes)?;
    } else if args::is(&args[2], "off") {
        disable(ctx);
    } else {
        return Err(error::SYNTAX);
    }
    ctx.out.ok();
    Ok(())
}

/// The ON half: Redis's compatibility checks, then `enableTracking`.
fn enable(ctx: &mut Ctx, options: Options, prefixes: &[Vec<u8>]) -> CommandResult {
    let mine = &ctx.client.tracking;
    if !options.bcast && !prefixes.is_empty() {
        return Err(CommandError::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if mine.on && mine.bcast != options.bcast {
        return Err(CommandError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if options.bcast && (options.optin || options.optout) {
        return Err(CommandError::err(
            "OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if options.optin && options.optout {
        return Err(CommandError::err(
            "You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (options.optin && mine.optout) || (options.optout && mine.optin) {
        return Err(CommandError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if options.bcast {
        let existing = ctx
            .state
            .tracking
            .options(ctx.client.id)
            .map(|o| o.prefixes)
            .unwrap_or_default();
        match check_prefixes(&existing, prefixes) {
            None => {}
            Some(Overlap::Existing(prefix, old)) => {
                return Err(overlap_error(&prefix, b"an existing", &old));
            }
            // Redis reports an overlap between two given prefixes, and
            // unless the first one was involved goes on to enable
            // tracking and reply OK as well: two replies to one command.
            Some(Overlap::Given {
                first,
                prefix,
                other,
            }) => {
                let err = overlap_error(&prefix, b"another provided", &other);
                if first {
                    return Err(err);
                }
                ctx.state.stats.count_error(&err);
                ctx.out.error(&err);
            }
        }
    }
    super::pubsub::ensure_inbox(ctx)?;
    let Some(sink) = ctx.client.tracking.sink.clone() else {
        return Err(CommandError::err("cannot enable tracking"));
    };
    sink.update(ctx.out.is_resp3(), ctx.client.pubsub.total() > 0);
    let mine = &mut ctx.client.tracking;
    mine.on = true;
    mine.bcast = options.bcast;
    mine.optin = options.optin;
    mine.optout = options.optout;
    mine.redirect = options.redirect;
    ctx.state.tracking.enable(&sink, options, prefixes);
    Ok(())
}

/// `Prefix 'p' overlaps with <which> prefix 'q'. ...`, the prefixes cut at
/// a NUL as Redis's `%s` cuts them.
fn overlap_error(prefix: &[u8], which: &[u8], other: &[u8]) -> CommandError {
    let mut text = b"ERR Prefix '".to_vec();
    text.extend_from_slice(error::c_str_prefix(prefix, usize::MAX));
    text.extend_from_slice(b"' overlaps with ");
    text.extend_from_slice(which);
    text.extend_from_slice(b" prefix '");
    text.extend_from_slice(error::c_str_prefix(other, usize::MAX));
    text.extend_from_slice(b"'. Prefixes for a single client must not overlap.");
    CommandError::from_bytes(text)
}

/// Tracking off (CLIENT TRACKING OFF, RESET): Redis's `disableTracking`.
pub(super) fn disable(ctx: &mut Ctx) {
    if ctx.client.tracking.on {
        ctx.state.tracking.disable(ctx.client.id);
    }
    ctx.client.tracking.reset();
}

/// `CLIENT CACHING (YES|NO)`
pub(super) fn client_caching(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mine = &mut ctx.client.tracking;
    if !mine.on {
        return Err(CommandError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    }
    if args::is(&args[2], "yes") {
        if !mine.optin {
            return Err(CommandError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if args::is(&args[2], "no") {
        if !mine.optout {
            return Err(CommandError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(error::SYNTAX);
    }
    mine.caching = true;
    ctx.out.ok();
    Ok(())
}

/// `CLIENT GETREDIR`: the redirection, 0 for none, -1 when not tracking.
pub(super) fn client_getredir(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let mine = &ctx.client.tracking;
    let id = if mine.on { mine.redirect as i64 } else { -1 };
    ctx.out.int(id);
    Ok(())
}

/// `CLIENT TRACKINGINFO`: a map of `flags` (a set), `redirect` and
/// `prefixes`, as Redis lists them.
pub(super) fn client_trackinginfo(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let mine = &ctx.client.tracking;
    let options = if mine.on {
        ctx.state.tracking.options(ctx.client.id)
    } else {
        None
    };
    let broken = mine.sink.as_ref().is_some_and(|s| s.broken_redirect());
    let mut flags: Vec<&[u8]> = vec![if mine.on { b"on" } else { b"off" }];
    if mine.on {
        if mine.bcast {
            flags.push(b"bcast");
        }
        if mine.optin {
            flags.push(b"optin");
            if mine.caching {
                flags.push(b"caching-yes");
            }
        }
        if mine.optout {
            flags.push(b"optout");
            if mine.caching {
                flags.push(b"caching-no");
            }
        }
        if options.as_ref().is_some_and(|o| o.noloop) {
            flags.push(b"noloop");
        }
        if broken {
            flags.push(b"broken_redirect");
        }
    }
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for flag in flags {
        out.bulk(flag);
    }
    out.bulk(b"redirect");
    out.int(if mine.on { mine.redirect as i64 } else { -1 });
    out.bulk(b"prefixes");
    let prefixes = options.map(|o| o.prefixes).unwrap_or_default();
    out.array(prefixes.len());
    for prefix in &prefixes {
        out.bulk(prefix);
    }
    Ok(())
}
