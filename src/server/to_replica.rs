//! A replica's connection, on the master: the full sync a SYNC or PSYNC
//! asked for, then the command stream.
//!
//! The full sync marks a point-in-time snapshot and, at that very point,
//! registers the replica with the stream, so it receives every write made
//! after the snapshot and none before. The RDB goes out in Redis's disk
//! form (`$<length>` then the bytes, built in memory first) or, to a
//! replica that sent `capa eof` when `repl-diskless-sync` is on, in the
//! diskless form (`$EOF:<40 bytes>`, the RDB streamed straight from the
//! snapshot, the same 40 bytes after it). After a diskless transfer the
//! stream waits for the replica's first `REPLCONF ACK`: until then it is
//! loading and must not receive anything.
//!
//! Afterwards the connection lives like a subscriber's (see the worker):
//! it sleeps until the replica sends something (its ACKs, read as
//! commands) or the stream has bytes for it, and sends them.

use std::io::{self, BufWriter, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::persist::replication::{Replica, ReplicaState};
use crate::persist::snapshot;
use crate::state::State;
use crate::state::saving;
use crate::state::session::{FullSync, Session};

/// Runs the full sync `sync` for the replica on `client`'s connection.
pub fn full_sync(
    state: &State,
    client: &Session,
    sync: FullSync,
    writer: &mut TcpStream,
) -> io::Result<()> {
    let Some(replica) = client.replica.clone() else {
        return Ok(());
    };
    let peer = format!("{}:{}", replica.ip, replica.port);
    state
        .log
        .notice(&format!("Replica {peer} asks for synchronization"));
    let diskless = state.config().repl_diskless_sync && client.replica_request.capa_eof;
    let request = &client.replica_request;
    let mut opts = saving::save_options(state);
    if request.exclude_functions {
        opts.functions.clear();
    }
    let with_data = !request.exclude_data;
    let started = Instant::now();
    // One snapshot at a time: this waits for a BGSAVE in progress.
    let saving = state.rdb.saving_lock();
    let mut ids = None;
    // On a replica, not between applying a command of its master and
    // passing its bytes on.
    let gate = state.repl.apply_gate.write();
    let marked = snapshot::mark(state.keyspace(), || {
        ids = Some(state.replication().start_full_sync(replica.clone()));
        // A master selects again after the mark; a replica passes its
        // master's stream on as it is, in the database it has selected.
        opts.stream_db = Some(if state.replication().is_replica() {
            state.repl.link_db.load(Ordering::Acquire)
        } else {
            0
        });
    });
    drop(gate);
    let (replid, offset) = ids.expect("the mark registers the replica");
    state.log.notice(&format!(
        "Starting BGSAVE for SYNC with target: {}",
        if diskless { "replicas sockets" } else { "disk" }
    ));
    if sync.psync {
        writer.write_all(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes())?;
    }
    let sent = if diskless {
        let mark = crate::persist::replication::new_replid();
        writer.write_all(format!("$EOF:{mark}\r\n").as_bytes())?;
        let out = BufWriter::with_capacity(64 * 1024, Counting::new(&*writer));
        let (mut out, _) = marked.write_to(&opts, out, with_data)?;
        out.write_all(mark.as_bytes())?;
        out.flush()?;
        let sent = out.get_ref().bytes;
        drop(saving);
        // Loading: the stream waits for the first ACK.
        sent
    } else {
        let (rdb, _) = marked.write_to(&opts, Vec::new(), with_data)?;
        drop(saving);
        writer.write_all(format!("${}\r\n", rdb.len()).as_bytes())?;
        writer.write_all(&rdb)?;
        replica.set_state(ReplicaState::Online);
        rdb.len() as u64
    };
    state
        .repl
        .net_output_bytes
        .fetch_add(sent, Ordering::Relaxed);
    state.log.notice(&format!(
        "Synchronization with replica {peer} succeeded ({sent} bytes in {} ms)",
        started.elapsed().as_millis()
    ));
    Ok(())
}

/// Sends what the stream queued for `replica`, if it is online. Returns
/// false if the replica fell too far behind (its output limit): it must
/// be disconnected.
pub fn send_stream(
    state: &State,
    replica: &Replica,
    buffer: &mut Vec<u8>,
    writer: &mut TcpStream,
) -> io::Result<bool> {
    if replica.state() != ReplicaState::Online {
        return Ok(true);
    }
    if !replica.drain_into(buffer) {
        state.log.warning(&format!(
            "Client id={} addr={}:{} closed for overcoming of output buffer limits.",
            replica.client_id, replica.ip, replica.port
        ));
        return Ok(false);
    }
    if !buffer.is_empty() {
        writer.write_all(buffer)?;
        state
            .repl
            .net_output_bytes
            .fetch_add(buffer.len() as u64, Ordering::Relaxed);
        buffer.clear();
    }
    Ok(true)
}

/// A writer that counts what passes through it.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W> Counting<W> {
    fn new(inner: W) -> Self {
        Counting { inner, bytes: 0 }
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
