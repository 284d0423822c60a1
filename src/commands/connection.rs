//! Connection commands (Redis's `connection` group): PING ECHO QUIT SELECT
//! HELLO AUTH RESET, and CLIENT's subcommands (those of client-side
//! caching are in [`super::tracking`]).
//!
//! CLIENT covers the connection's own settings (ID, names, reply mode,
//! library info) and the view of every connection (LIST, INFO, KILL), in
//! Redis's formats (`networking.c`). Other connections are seen through the
//! registry's [`SessionHandle`]s, whose [`SessionInfo`] each owner refreshes
//! after every command; the calling connection's own line is built from its
//! live state, as Redis shows it while the command runs (`qbuf` and
//! `argv-mem` include this command).

use std::io::Write as _;
use std::sync::atomic::Ordering;

use crate::error::{self, CommandError, CommandResult};
use crate::resp::Protocol;
use crate::state::pause::PauseKind;
use crate::state::session::READ_BUFFER;
use crate::state::session::ReplyMode;
use crate::state::session::{SessionHandle, SessionInfo, flag};

use super::Ctx;
use super::args;
use super::table::{Command, Locks, flags::*};

// ---- PING ECHO QUIT SELECT AUTH HELLO RESET ----------------------------------

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
    let mut c = args::Cursor::new(args, 2);
    while let Some(option) = c.next() {
        if args::is(option, "auth") && c.has(2) {
            let (user, password) = (c.next_bytes()?, c.next_bytes()?);
            if !credentials_ok(ctx, user, password) {
                return Err(auth_failed(ctx));
            }
            ctx.client.authenticated = true;
        } else if args::is(option, "setname") && c.has(1) {
            set_client_name(ctx, c.next_bytes()?)?;
        } else {
            let mut text = b"ERR Syntax error in HELLO option '".to_vec();
            text.extend_from_slice(error::c_str_prefix(option, usize::MAX));
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
        // A RESP3 connection can be sent pushes at any time: tracking
        // clients may redirect their invalidations to it.
        if protocol == Protocol::Resp3 {
            super::pubsub::ensure_inbox(ctx)?;
        }
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
    super::observe::stop_monitoring(ctx);
    super::tracking::disable(ctx);
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

// ---- CLIENT ----------------------------------------------------------------

/// `CLIENT <subcommand>`: the dispatcher routes every call with a
/// subcommand to it, and rejects a bare CLIENT on arity, so this only
/// answers what it could not route.
fn client_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("client", &args[1]))
}

/// `CLIENT ID`
fn client_id(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

/// `CLIENT GETNAME`
fn client_getname(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    if ctx.client.name.is_empty() {
        ctx.out.null();
    } else {
        ctx.out.bulk(&ctx.client.name);
    }
    Ok(())
}

/// `CLIENT SETNAME connection-name`
fn client_setname(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    set_client_name(ctx, &args[2])?;
    ctx.out.ok();
    Ok(())
}

/// `CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>`: Redis 7.2's
/// command (7.0 lacks it), which client libraries send on connecting; the
/// values show in CLIENT LIST and CLIENT INFO.
fn client_setinfo(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (attr, value) = (&args[2], &args[3]);
    let lib_name = if args::is(attr, "lib-name") {
        true
    } else if args::is(attr, "lib-ver") {
        false
    } else {
        let mut text = b"ERR Unrecognized option '".to_vec();
        text.extend_from_slice(error::c_str_prefix(attr, usize::MAX));
        text.push(b'\'');
        return Err(CommandError::from_bytes(text));
    };
    if value.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        let mut text = b"ERR ".to_vec();
        text.extend_from_slice(error::c_str_prefix(attr, usize::MAX));
        text.extend_from_slice(b" cannot contain spaces, newlines or special characters.");
        return Err(CommandError::from_bytes(text));
    }
    let mut info = ctx.client.handle.info.lock();
    if lib_name {
        info.lib_name = value.clone();
    } else {
        info.lib_ver = value.clone();
    }
    drop(info);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT INFO`: the calling connection's CLIENT LIST line.
fn client_info(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut text = Vec::with_capacity(300);
    own_line(ctx, args).write_to(&mut text);
    ctx.out.verbatim(&text);
    Ok(())
}

/// `CLIENT LIST [TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id
/// [client-id ...]]`
fn client_list(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut text = Vec::new();
    if args.len() == 4 && args::is(&args[2], "type") {
        let kind = client_type(&args[3])?;
        for handle in ctx.state.sessions.list() {
            let line = line_for(ctx, args, &handle);
            if line.kind == kind {
                line.write_to(&mut text);
            }
        }
    } else if args.len() > 3 && args::is(&args[2], "id") {
        let mut ids = Vec::with_capacity(args.len() - 3);
        for arg in &args[3..] {
            ids.push(args::int_or(arg, CommandError::err("Invalid client ID"))?);
        }
        for id in ids {
            if let Some(handle) = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.state.sessions.get(id))
            {
                line_for(ctx, args, &handle).write_to(&mut text);
            }
        }
    } else if args.len() == 2 {
        for handle in ctx.state.sessions.list() {
            line_for(ctx, args, &handle).write_to(&mut text);
        }
    } else {
        return Err(error::SYNTAX);
    }
    ctx.out.verbatim(&text);
    Ok(())
}

/// Client types as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

fn client_type(name: &[u8]) -> CommandResult<ClientType> {
    let types = [
        ("normal", ClientType::Normal),
        ("slave", ClientType::Replica),
        ("replica", ClientType::Replica),
        ("pubsub", ClientType::Pubsub),
        ("master", ClientType::Master),
    ];
    args::keyword(name, &types).ok_or_else(|| {
        let mut text = b"ERR Unknown client type '".to_vec();
        text.extend_from_slice(error::c_str_prefix(name, usize::MAX));
        text.push(b'\'');
        CommandError::from_bytes(text)
    })
}

/// One CLIENT LIST line's values.
struct Line {
    id: u64,
    addr: String,
    laddr: String,
    fd: i32,
    name: Vec<u8>,
    age: u64,
    idle: u64,
    flags: u16,
    db: usize,
    sub: usize,
    psub: usize,
    ssub: usize,
    multi: i64,
    qbuf: usize,
    argv_mem: usize,
    multi_mem: usize,
    obl: usize,
    cmd: String,
    /// The tracking redirection (`redir`), -1 if not tracking.
    redir: i64,
    resp: i64,
    lib_name: Vec<u8>,
    lib_ver: Vec<u8>,
    kind: ClientType,
}

impl Line {
    /// Writes the line in Redis 7.0's field order, then 7.2's `lib-name`
    /// and `lib-ver` (the values CLIENT SETINFO sets), and a newline.
    ///
    /// sedis has no fixed-size reply buffer and no reply list: `rbs`,
    /// `rbp`, `oll` and `omem` are 0 and `obl` is the bytes of replies
    /// not written to the socket yet. Connections wait for input, never
    /// for output, so `events` is `r`.
    fn write_to(&self, out: &mut Vec<u8>) {
        let tot_mem = estimated_memory(self.qbuf, self.argv_mem, self.multi_mem, self.obl);
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name=",
            self.id, self.addr, self.laddr, self.fd
        );
        out.extend_from_slice(&self.name);
        let _ = write!(
            out,
            " age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} \
             qbuf-free={} argv-mem={} multi-mem={} rbs=0 rbp=0 obl={} oll=0 omem=0 \
             tot-mem={tot_mem} events=r cmd={} user=default redir={} resp={} lib-name=",
            self.age,
            self.idle,
            flag::letters(self.flags),
            self.db,
            self.sub,
            self.psub,
            self.ssub,
            self.multi,
            self.qbuf,
            READ_BUFFER.saturating_sub(self.qbuf),
            self.argv_mem,
            self.multi_mem,
            self.obl,
            self.cmd,
            self.redir,
            self.resp,
        );
        out.extend_from_slice(&self.lib_name);
        out.extend_from_slice(b" lib-ver=");
        out.extend_from_slice(&self.lib_ver);
        out.push(b'\n');
    }
}

/// A connection's memory as CLIENT LIST's `tot-mem` and INFO's
/// `mem_clients_normal` estimate it: its read buffer, the request bytes it
/// holds, queued MULTI commands, pending replies, and its own structures.
pub fn estimated_memory(qbuf: usize, argv_mem: usize, multi_mem: usize, obl: usize) -> usize {
    READ_BUFFER
        + qbuf
        + argv_mem
        + multi_mem
        + obl
        + std::mem::size_of::<crate::state::session::Session>()
        + std::mem::size_of::<SessionHandle>()
}

fn kind_of(flags: u16) -> ClientType {
    if flags & flag::MASTER != 0 {
        ClientType::Master
    } else if flags & flag::REPLICA != 0 {
        ClientType::Replica
    } else if flags & flag::PUBSUB != 0 {
        ClientType::Pubsub
    } else {
        ClientType::Normal
    }
}

/// The line for `handle`: live values if it is the caller.
fn line_for(ctx: &Ctx, args: &[Vec<u8>], handle: &SessionHandle) -> Line {
    if handle.id == ctx.client.id {
        own_line(ctx, args)
    } else {
        other_line(handle)
    }
}

fn other_line(handle: &SessionHandle) -> Line {
    let info: SessionInfo = handle.info.lock().clone();
    Line {
        id: handle.id,
        addr: handle.addr.to_string(),
        laddr: handle.laddr.to_string(),
        fd: handle.fd,
        name: info.name,
        age: handle.created.elapsed().as_secs(),
        idle: info.last_interaction.elapsed().as_secs(),
        flags: info.flags,
        db: info.db,
        sub: info.subscriptions,
        psub: info.pattern_subscriptions,
        ssub: info.shard_subscriptions,
        multi: info.multi,
        qbuf: info.query_buffer,
        // Arguments are freed once a command has run.
        argv_mem: 0,
        multi_mem: info.multi_mem,
        // Replies are written before a connection waits for input.
        obl: 0,
        cmd: info.last_command.to_string(),
        redir: info.redirect,
        resp: info.resp,
        lib_name: info.lib_name,
        lib_ver: info.lib_ver,
        kind: kind_of(info.flags),
    }
}

/// The caller's line, from its live state while `args` runs.
fn own_line(ctx: &Ctx, args: &[Vec<u8>]) -> Line {
    let client = &*ctx.client;
    let handle = &client.handle;
    let info = handle.info.lock();
    let flags = client.list_flags() | (info.flags & flag::PUBSUB);
    Line {
        id: client.id,
        addr: handle.addr.to_string(),
        laddr: handle.laddr.to_string(),
        fd: handle.fd,
        name: client.name.clone(),
        age: handle.created.elapsed().as_secs(),
        idle: 0,
        flags,
        db: client.db,
        sub: info.subscriptions,
        psub: info.pattern_subscriptions,
        ssub: info.shard_subscriptions,
        multi: client.multi.as_ref().map_or(-1, |m| m.queue.len() as i64),
        qbuf: client.query_buffer,
        argv_mem: args.iter().map(Vec::len).sum(),
        multi_mem: client.multi_mem(),
        obl: ctx.out.len(),
        cmd: format!(
            "client|{}",
            String::from_utf8_lossy(&args[1]).to_ascii_lowercase()
        ),
        redir: if client.tracking.on {
            client.tracking.redirect as i64
        } else {
            -1
        },
        resp: ctx.out.protocol().version(),
        lib_name: info.lib_name.clone(),
        lib_ver: info.lib_ver.clone(),
        kind: kind_of(flags),
    }
}

/// What CLIENT KILL's filters select (Redis's `clientKillArgs`).
#[derive(Default)]
struct KillFilter<'a> {
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    id: Option<u64>,
    kind: Option<ClientType>,
    /// Kill only clients connected longer than this many seconds.
    max_age: Option<u64>,
    skip_me: bool,
}

impl KillFilter<'_> {
    fn matches(&self, handle: &SessionHandle, my_id: u64) -> bool {
        if self
            .addr
            .is_some_and(|a| a != handle.addr.to_string().as_bytes())
            || self
                .laddr
                .is_some_and(|a| a != handle.laddr.to_string().as_bytes())
            || self.id.is_some_and(|id| id != handle.id)
            || self
                .max_age
                .is_some_and(|max| handle.created.elapsed().as_secs() <= max)
        {
            return false;
        }
        if let Some(kind) = self.kind
            && kind != kind_of(handle.info.lock().flags)
        {
            return false;
        }
        !(self.skip_me && handle.id == my_id)
    }
}

/// `CLIENT KILL <ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER |
/// SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR
/// ip:port] | [SKIPME <YES | NO>] | [MAXAGE maxage]> [...]>`. The old form
/// (one address) may kill the caller and replies OK or an error; the filter
/// form skips the caller unless SKIPME NO and replies the number killed.
/// MAXAGE is Redis 7.4's filter.
fn client_kill(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let old_form = args.len() == 3;
    let mut filter = KillFilter {
        skip_me: !old_form,
        ..KillFilter::default()
    };
    if old_form {
        filter.addr = Some(&args[2]);
    } else {
        let mut c = args::Cursor::new(args, 2);
        while let Some(option) = c.next() {
            let value = c.next_bytes()?;
            if args::is(option, "id") {
                let id = args::int(value)
                    .ok()
                    .filter(|&id| id >= 1)
                    .ok_or_else(|| CommandError::err("client-id should be greater than 0"))?;
                filter.id = Some(id as u64);
            } else if args::is(option, "type") {
                filter.kind = Some(client_type(value)?);
            } else if args::is(option, "addr") {
                filter.addr = Some(value);
            } else if args::is(option, "laddr") {
                filter.laddr = Some(value);
            } else if args::is(option, "user") {
                // Only the default user exists, and every client is it.
                if value != b"default" {
                    let mut text = b"ERR No such user '".to_vec();
                    text.extend_from_slice(error::c_str_prefix(value, usize::MAX));
                    text.push(b'\'');
                    return Err(CommandError::from_bytes(text));
                }
            } else if args::is(option, "skipme") {
                filter.skip_me = if args::is(value, "yes") {
                    true
                } else if args::is(value, "no") {
                    false
                } else {
                    return Err(error::SYNTAX);
                };
            } else if args::is(option, "maxage") {
                let age = args::int(value)?;
                if age <= 0 {
                    return Err(CommandError::err("maxage should be greater than 0"));
                }
                filter.max_age = Some(age as u64);
            } else {
                return Err(error::SYNTAX);
            }
        }
    }
    let my_id = ctx.client.id;
    let mut killed = 0;
    for handle in ctx.state.sessions.list() {
        if !filter.matches(&handle, my_id) {
            continue;
        }
        if handle.id == my_id {
            // The reply still goes out, then the connection closes.
            ctx.client.close_after_reply = true;
        } else {
            handle.kill();
            if handle.fd < 0 {
                // An in-process client has no socket whose hang-up would
                // end its wait: ends it as CLIENT UNBLOCK ... ERROR does.
                ctx.keyspace().blocked.unblock(handle.id, true);
            }
        }
        killed += 1;
    }
    // A killed client waiting out a CLIENT PAUSE leaves at once.
    ctx.state.pause.wake_all();
    if !old_form {
        ctx.out.int(killed);
    } else if killed == 0 {
        return Err(CommandError::err("No such client"));
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// `CLIENT REPLY <ON | OFF | SKIP>`: OFF and SKIP are not answered
/// themselves. ON and OFF take effect at once, as in Redis: ON's own `+OK`
/// goes out and nothing after OFF does. SKIP silences the next command
/// (the connection loop silences the writer when that command starts).
fn client_reply(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mode = &args[2];
    if args::is(mode, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.set_silenced(false);
        ctx.out.ok();
    } else if args::is(mode, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
        ctx.out.set_silenced(true);
    } else if args::is(mode, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(error::SYNTAX);
    }
    Ok(())
}

/// `CLIENT NO-EVICT <ON | OFF>`
fn client_no_evict(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ctx.client.no_evict = if args::is(&args[2], "on") {
        true
    } else if args::is(&args[2], "off") {
        false
    } else {
        return Err(error::SYNTAX);
    };
    ctx.out.ok();
    Ok(())
}

/// `CLIENT UNBLOCK client-id [TIMEOUT | ERROR]`: ends another client's
/// blocking command as if it timed out (a null reply) or with the UNBLOCKED
/// error. Replies 1 if that client was blocked, else 0.
fn client_unblock(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 4 {
        // Redis's handler only takes 3 or 4 arguments; more fall through
        // to its generic subcommand error.
        let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        text.extend_from_slice(error::c_str_prefix(&args[1], 128));
        text.extend_from_slice(b"'. Try CLIENT HELP.");
        return Err(CommandError::from_bytes(text));
    }
    let with_error = match args.get(3) {
        None => false,
        Some(reason) if args::is(reason, "timeout") => false,
        Some(reason) if args::is(reason, "error") => true,
        Some(_) => {
            return Err(CommandError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
    };
    let id = args::int(&args[2])?;
    let unblocked =
        u64::try_from(id).is_ok_and(|id| ctx.keyspace().blocked.unblock(id, with_error));
    ctx.out.int(i64::from(unblocked));
    Ok(())
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`
fn client_pause(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 4 {
        return Err(error::subcommand_syntax(&args[0], &args[1]));
    }
    let kind = match args.get(3) {
        None => PauseKind::All,
        Some(mode) => args::keyword(mode, &[("write", PauseKind::Write), ("all", PauseKind::All)])
            .ok_or_else(|| CommandError::err("CLIENT PAUSE mode must be WRITE or ALL"))?,
    };
    let timeout = crate::num::parse_i64(&args[2])
        .ok_or_else(|| CommandError::err("timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    // As C computes it: a timeout past the clock's range wraps into the
    // past, and the pause is over at once.
    let end = if timeout > 0 { timeout.wrapping_add(ctx.now_ms) } else { 0 };
    let until = ctx.state.pause.pause(kind, end);
    // Keys stop expiring too, as in Redis.
    ctx.keyspace().reaper.hold_until(until);
    ctx.out.ok();
    Ok(())
}

/// `CLIENT UNPAUSE`
fn client_unpause(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.state.pause.unpause();
    ctx.keyspace().reaper.hold_until(0);
    ctx.out.ok();
    Ok(())
}

// `CLIENT HELP`: the subcommands sedis serves, in Redis's words.
help_command!(
    client_help,
    [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
    ]
);

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("ping", -1, ping).syntax("[message]").flags(FAST | SENTINEL | ALLOW_SUBSCRIBED | REFUSED_ON_MISCONF).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("connection", "1.0.0", "Returns the server's liveliness response.", "O(1)"),
    Command::new("echo", 2, echo).syntax("message").flags(LOADING | STALE | FAST).doc("connection", "1.0.0", "Returns the given string.", "O(1)"),
    Command::new("quit", -1, quit).flags(ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | NOT_QUEUED | ENDS_MULTI | ALLOW_SUBSCRIBED).doc("connection", "1.0.0", "Closes the connection.", "O(1)"),
    Command::new("select", 2, select).syntax("index:integer").flags(LOADING | STALE | FAST | SELECTS_DB).doc("connection", "2.0.0", "Changes the selected database.", "O(1)"),
    Command::new("hello", -1, hello).syntax("[protover:integer [AUTH (username password)] [SETNAME clientname]]").flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY).doc("connection", "6.0.0", "Handshakes with the Redis server.", "O(1)"),
    Command::new("auth", -2, auth).syntax("[username] password").flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY).doc("connection", "1.0.0", "Authenticates the connection.", "O(N) where N is the number of passwords defined for the user"),
    Command::new("reset", 1, reset).flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | NOT_QUEUED | ENDS_MULTI | ALLOW_SUBSCRIBED).locks(Locks::Custom(super::watched_keys_plan)).doc("connection", "6.2.0", "Resets the connection.", "O(1)"),
    Command::new("client", -2, client_container).subcommands(CLIENT_SUBCOMMANDS).doc("connection", "2.4.0", "A container for client connection commands.", "Depends on subcommand."),
];

/// CLIENT's subcommands.
#[rustfmt::skip]
static CLIENT_SUBCOMMANDS: &[Command] = &[
    Command::new("caching", 3, super::tracking::client_caching).syntax("(YES|NO)").flags(NOSCRIPT | LOADING | STALE).doc("connection", "6.0.0", "Instruct the server about tracking or not keys in the next request", "O(1)"),
    Command::new("getname", 2, client_getname).flags(NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "2.6.9", "Returns the name of the connection.", "O(1)"),
    Command::new("getredir", 2, super::tracking::client_getredir).flags(NOSCRIPT | LOADING | STALE).doc("connection", "6.0.0", "Get tracking notifications redirection client ID if any", "O(1)"),
    Command::new("help", 2, client_help).flags(LOADING | STALE | SENTINEL).doc("connection", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
    Command::new("id", 2, client_id).flags(NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "5.0.0", "Returns the unique client ID of the connection.", "O(1)"),
    Command::new("info", 2, client_info).flags(NOSCRIPT | LOADING | STALE | SENTINEL).tips(&["nondeterministic_output"]).doc("connection", "6.2.0", "Returns information about the connection.", "O(1)"),
    Command::new("kill", -3, client_kill).syntax("(ip:port|([ID client-id:integer]|[TYPE (NORMAL|MASTER|SLAVE|REPLICA|PUBSUB)]|[USER username]|[ADDR ip:port]|[LADDR ip:port]|[SKIPME yes/no]) ...)").flags(ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "2.4.0", "Terminates open connections.", "O(N) where N is the number of client connections"),
    Command::new("list", -2, client_list).syntax("[TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID (client-id:integer ...)]").flags(ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL).tips(&["nondeterministic_output"]).doc("connection", "2.4.0", "Lists open connections.", "O(N) where N is the number of client connections"),
    Command::new("no-evict", 3, client_no_evict).syntax("(ON|OFF)").flags(ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "7.0.0", "Sets the client eviction mode of the connection.", "O(1)"),
    Command::new("pause", -3, client_pause).syntax("timeout:integer [WRITE|ALL]").flags(ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "2.9.50", "Stop processing commands from clients for some time", "O(1)"),
    Command::new("reply", 3, client_reply).syntax("(ON|OFF|SKIP)").flags(NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "3.2.0", "Instructs the server whether to reply to commands.", "O(1)"),
    Command::new("setinfo", 4, client_setinfo).syntax("(LIB-NAME libname|LIB-VER libver)").flags(NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "7.2.0", "Sets information specific to the client or connection.", "O(1)"),
    Command::new("setname", 3, client_setname).syntax("connection-name").flags(NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "2.6.9", "Sets the connection name.", "O(1)"),
    Command::new("tracking", -3, super::tracking::client_tracking).syntax("(ON|OFF) [REDIRECT client-id:integer] [(PREFIX prefix) ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]").flags(NOSCRIPT | LOADING | STALE).doc("connection", "6.0.0", "Enable or disable server assisted client side caching support", "O(1). Some options may introduce additional complexity."),
    Command::new("trackinginfo", 2, super::tracking::client_trackinginfo).flags(NOSCRIPT | LOADING | STALE).doc("connection", "6.2.0", "Return information about server assisted client side caching for the current connection", "O(1)"),
    Command::new("unblock", -3, client_unblock).syntax("client-id:integer [TIMEOUT|ERROR]").flags(ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "5.0.0", "Unblocks a client blocked by a blocking command from a different connection.", "O(log N) where N is the number of client connections"),
    Command::new("unpause", 2, client_unpause).flags(ADMIN | NOSCRIPT | LOADING | STALE | SENTINEL).doc("connection", "6.2.0", "Resume processing of clients that were paused", "O(N) Where N is the number of paused clients"),
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
