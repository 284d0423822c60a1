//! The link to our master, on a replica: one thread that connects, runs
//! Redis's handshake (PING, AUTH with `masterauth`, REPLCONF
//! listening-port / ip-address / capa, PSYNC), receives the RDB of a full
//! sync or continues with `+CONTINUE`, then applies the master's command
//! stream through the dispatcher as a client with the master's privileges.
//!
//! Offsets count whole commands only, and never stop inside a MULTI: the
//! bytes of a command (or of a whole transaction) are passed on to our own
//! replicas exactly as received once it has been applied, so a chain of
//! replicas keeps the master's offsets. The link acknowledges its offset
//! every second and when the master asks (`REPLCONF GETACK`). When the link
//! drops, the thread reconnects and asks to continue from where it stopped.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::persist::snapshot;
use crate::resp::{Frame, Limits, Protocol, ReplyWriter, RequestParser};
use crate::state::State;
use crate::state::replication::{LinkState, Master};
use crate::state::saving;
use crate::state::session::Session;
use crate::store::{LockPlan, Mode};

/// Runs the link until the server stops: idle while this server is a
/// master, connected (or retrying once a second) while it is a replica.
pub fn run(state: &State) {
    while !state.shutdown.is_requested() {
        let Some(master) = state.repl.wait_for_master(Duration::from_millis(500)) else {
            continue;
        };
        let generation = master.generation;
        let result = link(state, &master);
        *state.repl.link_socket.lock() = None;
        if state.shutdown.is_requested() {
            return;
        }
        let lost = state.repl.update(generation, |m| {
            // None while it was up: down from now.
            m.down_since.get_or_insert_with(Instant::now);
            m.state = LinkState::Connect;
        });
        if lost {
            match result {
                Ok(()) => state.log.notice("Connection with master lost."),
                Err(err) => state
                    .log
                    .warning(&format!("Error condition on socket for SYNC: {err}")),
            }
            state.repl.pause(generation, Duration::from_secs(1));
        }
    }
}

/// One connection to the master, from connect to disconnect.
fn link(state: &State, master: &Master) -> io::Result<()> {
    let generation = master.generation;
    state.repl.update(generation, |m| m.state = LinkState::Connecting);
    state.log.notice(&format!(
        "Connecting to MASTER {}:{}",
        master.host, master.port
    ));
    let timeout = Duration::from_secs(state.config().repl_timeout.max(1) as u64);
    let addr = (master.host.as_str(), master.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("the master's address does not resolve"))?;
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    let _ = stream.set_nodelay(true);
    *state.repl.link_socket.lock() = Some(stream.try_clone()?);
    if !state.repl.is_current(generation) {
        return Ok(());
    }
    stream.set_read_timeout(Some(timeout))?;
    state.log.notice("MASTER <-> REPLICA sync started");
    let mut reader = BufReader::with_capacity(1 << 16, stream.try_clone()?);
    let mut writer = stream.try_clone()?;
    handshake(state, &mut reader, &mut writer)?;
    let replication = state.replication();
    let (replid, offset) = if replication.status().backlog_active {
        (replication.replid(), (replication.offset() + 1) as i64)
    } else {
        ("?".to_string(), -1)
    };
    send(&mut writer, &["PSYNC", &replid, &offset.to_string()])?;
    let reply = read_line(&mut reader)?;
    match parse_psync_reply(&reply).map_err(io::Error::other)? {
        PsyncReply::Full { replid: id, offset } => {
            state
                .log
                .notice(&format!("Full resync from master: {id}:{offset}"));
            state.repl.update(generation, |m| m.state = LinkState::Sync);
            let stream_db = receive_rdb(state, generation, &mut reader)?;
            let gate = state.repl.apply_gate.write();
            if !state.repl.is_current(generation) {
                return Ok(());
            }
            replication.adopt(&id, offset);
            state
                .repl
                .link_db
                .store(stream_db.unwrap_or(0), Ordering::Release);
            drop(gate);
            // Our own replicas hold the history we just left: they must
            // sync again (Redis's `replicationAttachToNewMaster`).
            crate::state::replication::disconnect_replicas(state);
            state
                .log
                .notice("MASTER <-> REPLICA sync: Finished with success");
        }
        PsyncReply::Continue { replid } => {
            if let Some(id) = replid
                && replication.continue_with(&id)
            {
                // A new ID: our replicas learn it by reconnecting (they
                // continue from us with a partial resync).
                crate::state::replication::disconnect_replicas(state);
            }
            state.log.notice(
                "Successful partial resynchronization with master. MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
            );
        }
    }
    apply_stream(state, generation, reader, writer, stream)
}

/// PING, AUTH, REPLCONF: what Redis's replica sends before PSYNC, in its
/// order. A REPLCONF the master refuses is not fatal, as in Redis.
fn handshake(
    state: &State,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> io::Result<()> {
    send(writer, &["PING"])?;
    let pong = read_line(reader)?;
    // An error asking for authentication is fine: AUTH follows.
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(io::Error::other(format!(
            "Error reply to PING from master: '{pong}'"
        )));
    }
    let config = state.config().clone();
    if !config.masterauth.is_empty() {
        if config.masteruser.is_empty() {
            send(writer, &["AUTH", &config.masterauth])?;
        } else {
            send(writer, &["AUTH", &config.masteruser, &config.masterauth])?;
        }
        let reply = read_line(reader)?;
        if reply.starts_with('-') {
            return Err(io::Error::other(format!(
                "Unable to AUTH to MASTER: {reply}"
            )));
        }
    }
    let port = if config.replica_announce_port > 0 {
        config.replica_announce_port as u16
    } else {
        state.local_addr().port()
    };
    send(writer, &["REPLCONF", "listening-port", &port.to_string()])?;
    let reply = read_line(reader)?;
    if reply.starts_with('-') {
        state.log.notice(&format!(
            "(Non critical) Master does not understand REPLCONF listening-port: {reply}"
        ));
    }
    if !config.replica_announce_ip.is_empty() {
        send(writer, &["REPLCONF", "ip-address", &config.replica_announce_ip])?;
        let reply = read_line(reader)?;
        if reply.starts_with('-') {
            state.log.notice(&format!(
                "(Non critical) Master does not understand REPLCONF ip-address: {reply}"
            ));
        }
    }
    send(writer, &["REPLCONF", "capa", "eof", "capa", "psync2"])?;
    let reply = read_line(reader)?;
    if reply.starts_with('-') {
        state.log.notice(&format!(
            "(Non critical) Master does not understand REPLCONF capa: {reply}"
        ));
    }
    Ok(())
}

/// Receives the RDB (`$<length>` or the diskless `$EOF:<mark>` form),
/// writes it to the dump file as Redis does, and loads it in place of
/// everything this server held.
fn receive_rdb(
    state: &State,
    generation: u64,
    reader: &mut BufReader<TcpStream>,
) -> io::Result<Option<usize>> {
    let header = read_line(reader)?;
    let mut rdb = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    match parse_transfer_header(&header).map_err(io::Error::other)? {
        Transfer::Eof(mark) => {
            state.repl.update(generation, |m| m.transfer_size = -1);
            loop {
                let n = reader.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                rdb.extend_from_slice(&chunk[..n]);
                progress(state, generation, rdb.len());
                if strip_eof_mark(&mut rdb, &mark) {
                    break;
                }
            }
        }
        Transfer::Disk(len) => {
            state
                .repl
                .update(generation, |m| m.transfer_size = len as i64);
            state.log.notice(&format!(
                "MASTER <-> REPLICA sync: receiving {len} bytes from master to disk"
            ));
            // Read as it arrives: the length is the master's word, not
            // memory to set aside before the bytes exist.
            while (rdb.len() as u64) < len {
                let want = (len - rdb.len() as u64).min(chunk.len() as u64) as usize;
                let n = reader.read(&mut chunk[..want])?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                rdb.extend_from_slice(&chunk[..n]);
                progress(state, generation, rdb.len());
            }
        }
    }
    state
        .repl
        .net_input_bytes
        .fetch_add(rdb.len() as u64, Ordering::Relaxed);
    if !state.repl.is_current(generation) {
        return Err(io::Error::other("the master changed during the transfer"));
    }
    let path = saving::save_options(state).path;
    let temp = path.with_file_name(format!(
        "temp-{}.{}.rdb",
        crate::clock::unix_ms() / 1000,
        std::process::id()
    ));
    std::fs::write(&temp, &rdb)?;
    std::fs::rename(&temp, &path)?;
    state.log.notice("MASTER <-> REPLICA sync: Flushing old data");
    load_dump(state, &path)
}

fn progress(state: &State, generation: u64, read: usize) {
    state.repl.update(generation, |m| {
        m.transfer_read = read as u64;
        m.last_io = Instant::now();
    });
}

/// Empties the keyspace and loads `path`, under every shard's lock, so no
/// client sees it half loaded. Returns the stream's database at the
/// snapshot point, if the dump says.
fn load_dump(state: &State, path: &std::path::Path) -> io::Result<Option<usize>> {
    state.log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
    // Clients get LOADING until the load ends, however it ends.
    struct Loading<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Loading<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::Release);
        }
    }
    state.repl.loading.store(true, Ordering::Release);
    let _loading = Loading(&state.repl.loading);
    let ks = state.keyspace();
    let mut plan = LockPlan::new();
    plan.add_all(ks, Mode::Write);
    let mut locks = ks.lock(&plan);
    let now = crate::clock::unix_ms();
    for db in 0..ks.databases() {
        locks.db(db, now).flush();
    }
    state.scripts.lock().flush_functions();
    state.tracking.flushed(&state.sessions);
    let report = snapshot::load_locked(&mut locks, path, saving::load_encodings(state))
        .map_err(|err| io::Error::other(format!("Failed trying to load the MASTER synchronization DB from disk: {err}")))?
        .ok_or_else(|| io::Error::other("the received dump vanished"))?;
    let mut engine = state.scripts.lock();
    for code in &report.functions {
        if let Err(err) = engine.restore_library(code, false, &state.log) {
            state
                .log
                .warning(&format!("Failed loading a function library from the master: {err:?}"));
        }
    }
    Ok(report.stream_db)
}

/// Applies the master's stream until the link drops, the master changes or
/// the server stops.
fn apply_stream(
    state: &State,
    generation: u64,
    mut reader: BufReader<TcpStream>,
    mut writer: TcpStream,
    stream: TcpStream,
) -> io::Result<()> {
    let handle = state.sessions.register(&stream)?;
    let mut client = Session::new(state, handle.clone());
    client.is_master = true;
    client.authenticated = true;
    handle.info.lock().flags = client.list_flags();
    let id = client.id;
    let result = apply_as(state, generation, &mut client, &mut reader, &mut writer);
    crate::server::worker::abandon(state, &mut client);
    state.sessions.unregister(id);
    result
}

fn apply_as(
    state: &State,
    generation: u64,
    client: &mut Session,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> io::Result<()> {
    let replication = state.replication();
    // A link that continues where a dropped one stopped is in its database.
    client.db = state.repl.link_db.load(Ordering::Acquire);
    state.repl.update(generation, |m| {
        m.state = LinkState::Connected;
        m.down_since = None;
        m.last_io = Instant::now();
    });
    state
        .log
        .notice("MASTER <-> REPLICA sync: Master accepted, streaming");
    let mut parser = RequestParser::new();
    let limits = Limits {
        max_bulk_len: i64::MAX,
        max_query_len: u64::MAX,
        unauthenticated: false,
    };
    let mut out = ReplyWriter::new(Protocol::Resp2);
    // The bytes of the commands applied since the offset last moved (a
    // transaction's, until its EXEC).
    let mut unapplied: Vec<u8> = Vec::new();
    let mut last_ack = Instant::now();
    send_ack(writer, replication.offset())?;
    let timeout = Duration::from_secs(state.config().repl_timeout.max(1) as u64);
    let mut last_io = Instant::now();
    writer.set_read_timeout(Some(Duration::from_secs(1)))?;
    loop {
        if !state.repl.is_current(generation)
            || client.handle.killed.load(Ordering::SeqCst)
            || state.shutdown.is_requested()
        {
            return Ok(());
        }
        let buffered = match reader.fill_buf() {
            Ok([]) => return Ok(()),
            Ok(buffered) => buffered,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if last_io.elapsed() > timeout {
                    return Err(io::Error::other("MASTER timeout: no data nor PING received"));
                }
                send_ack(writer, replication.offset())?;
                last_ack = Instant::now();
                continue;
            }
            Err(err) => return Err(err),
        };
        last_io = Instant::now();
        let (used, request) = parser
            .advance(buffered, &limits)
            .map_err(|err| io::Error::other(format!("protocol error from master: {err}")))?;
        unapplied.extend_from_slice(&buffered[..used]);
        reader.consume(used);
        state
            .repl
            .net_input_bytes
            .fetch_add(used as u64, Ordering::Relaxed);
        let Some(args) = request else {
            continue;
        };
        let gate = state.repl.apply_gate.read();
        // Promoted meanwhile (REPLICAOF NO ONE waits for this gate): what
        // arrives now is no longer ours to apply.
        if !state.repl.is_current(generation) {
            return Ok(());
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::commands::process(state, client, &mut out, &args)
        }));
        if outcome.is_err() {
            // A bug, not the master's fault; this link cannot go on
            // consistently, so it drops and the next one resyncs.
            return Err(io::Error::other(format!(
                "applying {} from the master panicked",
                String::from_utf8_lossy(&args[0])
            )));
        }
        out.clear();
        parser.recycle(args);
        state.repl.link_db.store(client.db, Ordering::Release);
        let ack = std::mem::take(&mut client.ack_requested).then(|| replication.offset());
        if client.multi.is_none() {
            replication.feed_raw(&unapplied, Some(client.db));
            unapplied.clear();
        }
        drop(gate);
        if let Some(offset) = ack {
            send_ack(writer, offset)?;
        }
        if last_ack.elapsed() >= Duration::from_secs(1) {
            send_ack(writer, replication.offset())?;
            last_ack = Instant::now();
            state.repl.update(generation, |m| m.last_io = last_io);
        }
    }
}

/// The master's answer to PSYNC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsyncReply {
    /// `+FULLRESYNC <replid> <offset>`: an RDB follows.
    Full { replid: String, offset: u64 },
    /// `+CONTINUE [<replid>]`: the stream continues from our offset (with
    /// the master's ID, if it changed).
    Continue { replid: Option<String> },
}

/// Reads the master's answer to PSYNC; anything else (an error, an old
/// master's reply) is the reason the link fails.
pub fn parse_psync_reply(line: &str) -> Result<PsyncReply, String> {
    if let Some(rest) = line.strip_prefix("+FULLRESYNC ") {
        let mut words = rest.split(' ');
        return match (words.next(), words.next().map(str::parse::<u64>)) {
            (Some(id), Some(Ok(offset))) if id.len() == 40 => Ok(PsyncReply::Full {
                replid: id.to_string(),
                offset,
            }),
            _ => Err(format!("bad FULLRESYNC reply from master: {line}")),
        };
    }
    if let Some(rest) = line.strip_prefix("+CONTINUE") {
        let id = rest.trim();
        return match id.len() {
            0 => Ok(PsyncReply::Continue { replid: None }),
            40 => Ok(PsyncReply::Continue {
                replid: Some(id.to_string()),
            }),
            _ => Err(format!("bad CONTINUE reply from master: {line}")),
        };
    }
    Err(format!("unexpected reply to PSYNC from master: {line}"))
}

/// How the RDB of a full sync arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// `$<length>`: that many bytes.
    Disk(u64),
    /// `$EOF:<40 bytes>`: bytes until the same 40 bytes end them.
    Eof(Vec<u8>),
}

/// Reads the line that starts the RDB transfer (Redis's
/// `readSyncBulkPayload`: the mark is exactly 40 bytes).
pub fn parse_transfer_header(line: &str) -> Result<Transfer, String> {
    let Some(size) = line.strip_prefix('$') else {
        return Err(format!(
            "bad protocol from MASTER, the first byte is not '$' (we received '{line}'), are you sure the host and port are right?"
        ));
    };
    if let Some(mark) = size.strip_prefix("EOF:") {
        if mark.len() != 40 {
            return Err(format!("bad EOF mark from MASTER: {line}"));
        }
        return Ok(Transfer::Eof(mark.as_bytes().to_vec()));
    }
    size.parse::<u64>()
        .map(Transfer::Disk)
        .map_err(|_| format!("bad RDB length from MASTER: {line}"))
}

/// True once `rdb` ends with the transfer's mark, which is then cut off.
pub fn strip_eof_mark(rdb: &mut Vec<u8>, mark: &[u8]) -> bool {
    if rdb.len() >= mark.len() && rdb.ends_with(mark) {
        rdb.truncate(rdb.len() - mark.len());
        return true;
    }
    false
}

fn send_ack(writer: &mut TcpStream, offset: u64) -> io::Result<()> {
    send(writer, &["REPLCONF", "ACK", &offset.to_string()])
}

fn send(writer: &mut TcpStream, words: &[&str]) -> io::Result<()> {
    let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
    let mut bytes = Vec::new();
    Frame::encode_request(&argv, &mut bytes);
    writer.write_all(&bytes)
}

/// One reply line, without its CRLF; the empty lines a master sends to
/// keep the link alive while it prepares the RDB are skipped. A line is
/// at most 64 KiB: nothing in the handshake is longer.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<String> {
    loop {
        let mut line = Vec::new();
        let n = reader.by_ref().take(64 * 1024).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        if !line.is_empty() {
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn psync_replies() {
        assert_eq!(
            parse_psync_reply(&format!("+FULLRESYNC {ID} 42")),
            Ok(PsyncReply::Full {
                replid: ID.into(),
                offset: 42
            })
        );
        assert_eq!(
            parse_psync_reply("+CONTINUE"),
            Ok(PsyncReply::Continue { replid: None })
        );
        assert_eq!(
            parse_psync_reply(&format!("+CONTINUE {ID}")),
            Ok(PsyncReply::Continue {
                replid: Some(ID.into())
            })
        );
        for bad in ["+FULLRESYNC x 1", "+FULLRESYNC", "-ERR no", "+CONTINUE short", ""] {
            assert!(parse_psync_reply(bad).is_err(), "{bad}");
        }
        assert!(parse_psync_reply(&format!("+FULLRESYNC {ID} -1")).is_err());
    }

    #[test]
    fn transfer_headers_and_the_eof_mark() {
        assert_eq!(parse_transfer_header("$12"), Ok(Transfer::Disk(12)));
        assert_eq!(
            parse_transfer_header(&format!("$EOF:{ID}")),
            Ok(Transfer::Eof(ID.as_bytes().to_vec()))
        );
        for bad in ["12", "$-1", "$EOF:short", "$x"] {
            assert!(parse_transfer_header(bad).is_err(), "{bad}");
        }
        let mut rdb = b"REDIS".to_vec();
        assert!(!strip_eof_mark(&mut rdb, ID.as_bytes()));
        rdb.extend_from_slice(ID.as_bytes());
        assert!(strip_eof_mark(&mut rdb, ID.as_bytes()));
        assert_eq!(rdb, b"REDIS");
    }
}
