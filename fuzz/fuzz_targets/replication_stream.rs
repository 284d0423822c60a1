//! What a master sends a replica, as hostile bytes: the answer to PSYNC,
//! the line that starts the RDB transfer, the transfer's end mark found
//! across reads of any size, then the command stream. Whatever the bytes,
//! nothing panics; a complete command's bytes are counted exactly once,
//! and the stream passed on to sub-replicas (`feed_raw`) advances the
//! offset by exactly what was applied.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::persist::replication::Replication;
use sedis::internals::resp::{Limits, RequestParser};
use sedis::internals::server::from_master::{
    Transfer, parse_psync_reply, parse_transfer_header, strip_eof_mark,
};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk % 32) + 1;
    let mut lines = rest.splitn(3, |&b| b == b'\n');
    let psync = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let _ = parse_psync_reply(psync.trim_end_matches('\r'));
    let header = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let body = lines.next().unwrap_or_default();
    let stream = match parse_transfer_header(header.trim_end_matches('\r')) {
        Ok(Transfer::Eof(mark)) => {
            let mut rdb = Vec::new();
            let mut end = None;
            for (i, piece) in body.chunks(chunk).enumerate() {
                rdb.extend_from_slice(piece);
                if strip_eof_mark(&mut rdb, &mark) {
                    end = Some((i + 1) * chunk);
                    break;
                }
            }
            match end {
                Some(end) => &body[end.min(body.len())..],
                None => return,
            }
        }
        Ok(Transfer::Disk(len)) => &body[(len as usize).min(body.len())..],
        Err(_) => body,
    };
    let limits = Limits {
        max_bulk_len: 1 << 20,
        max_query_len: 1 << 20,
        unauthenticated: false,
    };
    let mut parser = RequestParser::new();
    let replication = Replication::default();
    let mut applied = 0u64;
    let mut pending = Vec::new();
    let mut consumed = 0usize;
    let mut buffer: Vec<u8> = Vec::new();
    for piece in stream.chunks(chunk) {
        buffer.extend_from_slice(piece);
        loop {
            let Ok((used, request)) = parser.advance(&buffer, &limits) else {
                return;
            };
            if used == 0 && request.is_none() {
                break;
            }
            pending.extend_from_slice(&buffer[..used]);
            buffer.drain(..used);
            consumed += used;
            if let Some(args) = request {
                replication.feed_raw(&pending, Some(0));
                applied += pending.len() as u64;
                pending.clear();
                parser.recycle(args);
            }
        }
    }
    assert_eq!(replication.offset(), applied);
    assert!(consumed <= stream.len());
});
