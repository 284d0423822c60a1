//! The master side of Redis replication, as far as sedis serves it: the
//! REPLCONF handshake and SYNC / PSYNC for a client that asked for the RDB
//! alone (`REPLCONF rdb-only 1`, as `redis-cli --rdb` and
//! `--functions-rdb` do). The transfer is Redis's disk form, `$<length>`
//! then the RDB bytes, taken as a point-in-time snapshot while writes go
//! on; the connection closes after it, as Redis closes an RDB-only
//! replica's. A replica wanting the command stream too is refused.

use crate::error::{CommandError, CommandResult};
use crate::persist::snapshot;
use crate::state::saving;

use super::Ctx;
use super::args;
use super::table::{Command, flags::*};

/// `REPLCONF option value [option value ...]`
fn replconf(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(crate::error::SYNTAX);
    }
    let mut request = ctx.client.replica_request;
    for pair in args[1..].chunks(2) {
        let (option, value) = (&pair[0], &pair[1]);
        if args::is(option, "listening-port") {
            args::int(value)?;
        } else if args::is(option, "ip-address") {
            // NET_HOST_STR_LEN: an address of 256 bytes or more.
            if value.len() >= 256 {
                return Err(CommandError::err(format!(
                    "REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    value.len()
                )));
            }
        } else if args::is(option, "capa") {
            // Capabilities this master does not use are ignored.
        } else if args::is(option, "ack") || args::is(option, "getack") {
            // Sent by and to replicas of a stream sedis does not serve:
            // Redis ignores them from other clients, without a reply.
            return Ok(());
        } else if args::is(option, "rdb-only") {
            let on = args::int(value)?;
            if !(0..=1).contains(&on) {
                return Err(CommandError::err("value is out of range, value must between 0 and 1"));
            }
            request.rdb_only = on == 1;
        } else if args::is(option, "rdb-filter-only") {
            request.exclude_data = true;
            request.exclude_functions = true;
            let text = String::from_utf8_lossy(value);
            for filter in text.split_ascii_whitespace() {
                if filter.eq_ignore_ascii_case("functions") {
                    request.exclude_functions = false;
                } else {
                    return Err(CommandError::err(format!(
                        "Unsupported rdb-filter-only option: {filter}"
                    )));
                }
            }
        } else {
            return Err(CommandError::err(format!(
                "Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(option)
            )));
        }
    }
    ctx.client.replica_request = request;
    ctx.out.ok();
    Ok(())
}

/// `SYNC`, and `PSYNC replicationid offset` (always a full resync, the
/// `+FULLRESYNC <replid> <offset>` line first).
fn sync(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let request = ctx.client.replica_request;
    if !request.rdb_only {
        return Err(CommandError::canned(
            "ERR sedis serves replicas only the RDB (REPLCONF rdb-only 1), not the command stream",
        ));
    }
    let state = ctx.state;
    let mut opts = saving::save_options(state);
    if request.exclude_functions {
        opts.functions.clear();
    }
    let rdb = {
        // One snapshot at a time: this waits for a BGSAVE in progress.
        let _saving = state.rdb.saving_lock();
        snapshot::save_to_bytes(state.keyspace(), &opts, !request.exclude_data)
    }
    .map_err(|err| CommandError::err(format!("Failed to produce the RDB: {err}")))?;
    if args::is(&args[0], "psync") {
        ctx.out.simple(&format!("FULLRESYNC {} 0", state.replid()));
    }
    ctx.out.raw(format!("${}\r\n", rdb.len()).as_bytes());
    ctx.out.raw(&rdb);
    ctx.client.close_after_reply = true;
    Ok(())
}

#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("replconf", -1, replconf).flags(ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY).doc("server", "3.0.0", "An internal command for configuring the replication stream", "O(1)"),
    Command::new("sync", 1, sync).flags(NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT).doc("server", "1.0.0", "Internal command used for replication", ""),
    Command::new("psync", -3, sync).syntax("replicationid offset:integer").flags(NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT).doc("server", "2.8.0", "Internal command used for replication", ""),
];
