//! Replication's commands. The master side: the REPLCONF handshake, SYNC
//! and PSYNC (a full sync, which the connection then runs, or `+CONTINUE`
//! from the backlog), WAIT for replicas' acknowledgements. The replica
//! side: REPLICAOF / SLAVEOF, which the link to the master (in the server
//! layer) acts on. And ROLE for both.
//!
//! A client asking for the RDB alone (`REPLCONF rdb-only 1`, as
//! `redis-cli --rdb` and `--functions-rdb` do) gets it in Redis's disk form
//! from a point-in-time snapshot, and the connection closes after it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::{CommandError, CommandResult};
use crate::persist::replication::{Replica, ReplicaState, Resync};
use crate::persist::snapshot;
use crate::state::saving;
use crate::state::session::FullSync;

use super::Ctx;
use super::args;
use super::table::{Command, acl, flags::*};

/// `REPLCONF option value [option value ...]`
fn replconf(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(crate::error::SYNTAX);
    }
    let mut request = ctx.client.replica_request.clone();
    for pair in args[1..].chunks(2) {
        let (option, value) = (&pair[0], &pair[1]);
        if args::is(option, "listening-port") {
            request.listening_port = args::int(value)? as u16;
        } else if args::is(option, "ip-address") {
            // NET_HOST_STR_LEN: an address of 256 bytes or more.
            if value.len() >= 256 {
                return Err(CommandError::err(format!(
                    "REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    value.len()
                )));
            }
            request.ip_address = Some(String::from_utf8_lossy(value).into_owned());
        } else if args::is(option, "capa") {
            // Capabilities this master does not use are ignored.
            if args::is(value, "eof") {
                request.capa_eof = true;
            } else if args::is(value, "psync2") {
                request.capa_psync2 = true;
            }
        } else if args::is(option, "ack") {
            // A replica's acknowledgement; from anyone else it is ignored.
            // Never answered.
            if let Some(replica) = &ctx.client.replica
                && let Some(offset) = crate::num::parse_i64(value)
            {
                replica.acknowledge(offset.max(0) as u64, crate::clock::unix_ms());
                // A diskless transfer's stream starts with the first ACK:
                // the replica has loaded the RDB.
                replica.set_state(ReplicaState::Online);
                ctx.state.repl.acked();
            }
            return Ok(());
        } else if args::is(option, "getack") {
            // From our master: the link sends the acknowledgement.
            if ctx.client.is_master {
                ctx.client.ack_requested = true;
            }
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

/// `SYNC`, and `PSYNC replicationid offset`: `+CONTINUE` and the backlog
/// from `offset` if this server holds that history, else a full sync
/// (`+FULLRESYNC <replid> <offset>` for PSYNC, then the RDB), which the
/// connection runs once the command returns.
fn sync(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    // A replica asking again is ignored, as in Redis.
    if ctx.client.replica.is_some() {
        return Ok(());
    }
    if let Some(master) = ctx.state.repl.master()
        && master.state != crate::state::replication::LinkState::Connected
    {
        return Err(CommandError::canned(
            "NOMASTERLINK Can't SYNC while not connected with my master",
        ));
    }
    let request = ctx.client.replica_request.clone();
    if request.rdb_only {
        return send_rdb_only(ctx, args, &request);
    }
    let psync = args::is(&args[0], "psync");
    let state = ctx.state;
    let handle = &ctx.client.handle;
    let ip = request
        .ip_address
        .clone()
        .unwrap_or_else(|| handle.addr.ip().to_string());
    let limit = state.config().client_output_buffer_limit[1].hard_bytes as usize;
    let waker = ctx
        .client
        .blocking
        .waker(handle.fd)
        .map_err(|err| CommandError::err(format!("Can't set up the replica link: {err}")))?;
    let replica = Arc::new(Replica::new(
        ctx.client.id,
        ip,
        request.listening_port,
        limit,
        waker,
    ));
    if psync {
        let offset = args::int(&args[2])?;
        let replication = state.replication();
        match replication.try_partial(&args[1], offset, replica.clone()) {
            Resync::Continue { replid, backlog } => {
                state.repl.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
                if request.capa_psync2 {
                    ctx.out.simple(&format!("CONTINUE {replid}"));
                } else {
                    ctx.out.simple("CONTINUE");
                }
                ctx.out.raw(&backlog);
                ctx.client.replica = Some(replica);
                state.log.notice(&format!(
                    "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {offset}.",
                    ctx.client.handle.addr,
                    backlog.len()
                ));
                return Ok(());
            }
            Resync::Full => {
                if args[1].as_slice() != b"?" {
                    state.repl.sync_partial_err.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    state.repl.sync_full.fetch_add(1, Ordering::Relaxed);
    ctx.client.replica = Some(replica);
    ctx.client.full_sync = Some(FullSync { psync });
    Ok(())
}

/// The RDB alone, for `REPLCONF rdb-only 1`; the connection then closes.
fn send_rdb_only(
    ctx: &mut Ctx,
    args: &[Vec<u8>],
    request: &crate::state::session::ReplicaRequest,
) -> CommandResult {
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
        ctx.out.simple(&format!(
            "FULLRESYNC {} {}",
            state.replid(),
            state.replication().offset()
        ));
    }
    ctx.out.raw(format!("${}\r\n", rdb.len()).as_bytes());
    ctx.out.raw(&rdb);
    ctx.client.close_after_reply = true;
    Ok(())
}

/// How many replicas acknowledged `offset` or more.
fn acked(ctx: &Ctx, offset: u64) -> i64 {
    ctx.state
        .replication()
        .replicas()
        .iter()
        .filter(|r| r.state() == ReplicaState::Online && r.ack_offset.load(Ordering::Acquire) >= offset)
        .count() as i64
}

/// `WAIT numreplicas timeout`: blocks until that many replicas acknowledged
/// this client's last write, or the timeout (ms; 0 waits forever) passes;
/// answers how many did.
fn wait(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if ctx.state.repl.is_replica() {
        return Err(CommandError::err(
            "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let wanted = args::int(&args[1])?;
    let timeout = args::int_or(&args[2], CommandError::err("timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    let offset = ctx.client.repl_offset;
    let mut count = acked(ctx, offset);
    if count >= wanted || ctx.client.in_exec || ctx.client.in_script {
        ctx.out.int(count);
        return Ok(());
    }
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    let state = ctx.state;
    state.replication().request_acks();
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d)
            || ctx.client.handle.killed.load(Ordering::SeqCst)
            || state.shutdown.is_requested()
        {
            break;
        }
        // Woken by every acknowledgement; at the latest each 100 ms, to
        // notice a disconnection or a shutdown.
        let step = deadline.map_or(Duration::from_millis(100), |d| {
            (d - now).min(Duration::from_millis(100))
        });
        state.repl.wait_for_ack(step);
        count = acked(ctx, offset);
        if count >= wanted {
            break;
        }
    }
    ctx.out.int(count);
    Ok(())
}

/// `ROLE`
fn role(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let state = ctx.state;
    match state.repl.master() {
        None => {
            let online: Vec<_> = state
                .replication()
                .replicas()
                .into_iter()
                .filter(|r| r.state() == ReplicaState::Online)
                .collect();
            ctx.out.array(3);
            ctx.out.bulk(b"master");
            ctx.out.int(state.replication().offset() as i64);
            ctx.out.array(online.len());
            for replica in online {
                ctx.out.array(3);
                ctx.out.bulk(replica.ip.as_bytes());
                ctx.out.bulk_int(replica.port as i64);
                ctx.out.bulk_int(replica.ack_offset.load(Ordering::Acquire) as i64);
            }
        }
        Some(master) => {
            use crate::state::replication::LinkState;
            ctx.out.array(5);
            ctx.out.bulk(b"slave");
            ctx.out.bulk(master.host.as_bytes());
            ctx.out.int(master.port as i64);
            ctx.out.bulk(master.state.role_name().as_bytes());
            let offset = if master.state == LinkState::Connected {
                state.replication().offset() as i64
            } else {
                -1
            };
            ctx.out.int(offset);
        }
    }
    Ok(())
}

/// `REPLICAOF host port | NO ONE` (and its old name SLAVEOF).
fn replicaof(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let state = ctx.state;
    if args::is(&args[1], "no") && args::is(&args[2], "one") {
        if state.repl.unfollow() {
            crate::state::replication::promote(state);
            state.log.notice(&format!(
                "MASTER MODE enabled (user request from 'id={} addr={}')",
                ctx.client.id, ctx.client.handle.addr
            ));
        }
        ctx.out.ok();
        return Ok(());
    }
    if ctx.client.replica.is_some() {
        return Err(CommandError::err(
            "Command is not valid when client is a replica.",
        ));
    }
    let port = args::int_in_range(&args[2], 0, 65535, Some("Invalid master port"))? as u16;
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    if let Some(master) = state.repl.master()
        && master.host.eq_ignore_ascii_case(&host)
        && master.port == port
    {
        state.log.notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        ctx.out.simple("OK Already connected to specified master");
        return Ok(());
    }
    crate::state::replication::follow(state, host.clone(), port);
    state.log.notice(&format!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.client.id, ctx.client.handle.addr
    ));
    ctx.out.ok();
    Ok(())
}

#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("replconf", -1, replconf).flags(ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY).doc("server", "3.0.0", "An internal command for configuring the replication stream", "O(1)"),
    Command::new("sync", 1, sync).flags(NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT).doc("server", "1.0.0", "Internal command used for replication", ""),
    Command::new("psync", -3, sync).syntax("replicationid offset:integer").flags(NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT).doc("server", "2.8.0", "Internal command used for replication", ""),
    Command::new("wait", 3, wait).syntax("numreplicas:integer timeout:integer").flags(NOSCRIPT | UNGATED).acl(acl::CONNECTION | acl::NOT_GROUP).tips(&["request_policy:all_shards", "response_policy:agg_min"]).doc("generic", "3.0.0", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", "O(1)"),
    Command::new("role", 1, role).flags(NOSCRIPT | LOADING | STALE | FAST).acl(acl::ADMIN | acl::DANGEROUS).doc("server", "2.8.12", "Return the role of the instance in the context of replication", "O(1)"),
    Command::new("replicaof", 3, replicaof).syntax("(host port:integer|NO ONE)").flags(ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING).doc("server", "5.0.0", "Make the server a replica of another instance, or promote it as master.", "O(1)"),
    Command::new("slaveof", 3, replicaof).syntax("(host port:integer|NO ONE)").flags(ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING).doc("server", "1.0.0", "Make the server a replica of another instance, or promote it as master. Deprecated starting with Redis 5. Use REPLICAOF instead.", "O(1)"),
];
