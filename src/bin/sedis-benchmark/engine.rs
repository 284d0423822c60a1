//! The load generator: each benchmark thread drives its share of the
//! client connections from one event loop, the way redis-benchmark does:
//! non-blocking sockets, `poll(2)` to learn which are ready, a batch of
//! `pipeline` requests written per client, the next batch sent as soon as
//! the last reply of the previous one arrived. One thread can keep dozens
//! of connections busy; a thread per connection could not (on a small
//! machine the threads would compete with the server for the cores).
//!
//! Latency is the time from writing a batch to the first bytes of its
//! replies arriving, as redis-benchmark measures it; every reply of the
//! batch counts that latency once.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sedis::internals::rng::Rng;

use crate::histogram::Histogram;

/// The placeholder replaced by a random key number.
pub const RAND_PLACEHOLDER: &[u8] = b"__rand_int__";

/// redis-benchmark's histogram range: 10 us to 3 s, in microseconds.
pub const LATENCY_MIN_US: u64 = 10;
pub const LATENCY_MAX_US: u64 = 3_000_000;

/// What one benchmark run sends, and how.
#[derive(Debug, Clone)]
pub struct Workload {
    pub addr: SocketAddr,
    /// Requests sent once on each new connection before the benchmark's
    /// own (AUTH, SELECT, HELLO 3); their replies are checked, not counted.
    pub prefix: Vec<u8>,
    pub prefix_replies: usize,
    /// One request, encoded.
    pub request: Vec<u8>,
    /// Requests per batch.
    pub pipeline: usize,
    /// Replace `__rand_int__` with a random number below this, per
    /// request (`None`: send the placeholder as it is).
    pub keyspace: Option<u64>,
    pub requests: u64,
    pub clients: usize,
    pub threads: usize,
    /// Reuse connections (otherwise reconnect after every batch).
    pub keepalive: bool,
    pub precision: u32,
}

/// Counters the threads update and the progress display reads.
#[derive(Default)]
pub struct Progress {
    /// Requests handed out to connections.
    issued: AtomicU64,
    /// Replies received.
    pub finished: AtomicU64,
    /// Sum of the latencies counted so far, in microseconds.
    pub latency_sum_us: AtomicU64,
    /// Set to make every thread stop (an error somewhere).
    stop: AtomicBool,
}

impl Progress {
    /// Claims up to `batch` requests; how many were granted (0: none left).
    fn claim(&self, batch: usize, total: u64) -> usize {
        let before = self.issued.fetch_add(batch as u64, Ordering::Relaxed);
        total.saturating_sub(before).min(batch as u64) as usize
    }
}

/// One client connection and the batch it has in flight.
struct Client {
    stream: TcpStream,
    /// The prefix (until its replies come back), then `pipeline` copies
    /// of the request.
    out: Vec<u8>,
    /// Where the requests start in `out`.
    requests_at: usize,
    /// Offsets in `out` of every `__rand_int__` (for every copy).
    placeholders: Vec<usize>,
    /// The current batch is `out[sent_from..end]`; `written` of it is out.
    sent_from: usize,
    end: usize,
    written: usize,
    /// Replies still expected for the current batch (prefix included).
    pending: usize,
    /// Prefix replies still expected.
    prefix_pending: usize,
    started: Instant,
    /// Latency of the current batch, once its first reply bytes arrived.
    latency_us: Option<u64>,
    input: InputBuffer,
}

/// Bytes received and not yet parsed.
struct InputBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl InputBuffer {
    fn new() -> InputBuffer {
        InputBuffer {
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
        }
    }

    /// Reads what the socket has; `Ok(0)` means the server closed it.
    fn fill(&mut self, stream: &mut TcpStream) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            // Make room: move the unparsed tail to the front, and grow if a
            // single reply is larger than the whole buffer.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        stream.read(&mut self.buf[self.end..])
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }
}

/// The length of the complete reply at the start of `buf`, `None` if it
/// has not all arrived. Nothing is allocated: the benchmark only needs to
/// count replies (and to see errors). A single counter of the elements
/// still expected replaces recursion: an aggregate adds its elements.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>, String> {
    let mut pos = 0;
    let mut expected: u64 = 1;
    while expected > 0 {
        let Some(kind) = buf.get(pos).copied() else {
            return Ok(None);
        };
        // Lines end with CRLF; '\n' is searched (a single byte is cheaper
        // to look for) and the '\r' before it dropped.
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = &buf[pos + 1..(pos + nl).saturating_sub(1).max(pos + 1)];
        pos += nl + 1;
        let number = || -> Result<i64, String> {
            std::str::from_utf8(line)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    format!(
                        "Protocol error, bad length {:?}",
                        String::from_utf8_lossy(line)
                    )
                })
        };
        match kind {
            b'+' | b'-' | b':' | b',' | b'(' | b'_' | b'#' => expected -= 1,
            b'$' | b'=' | b'!' => {
                let len = number()?;
                if len >= 0 {
                    let len = len as usize;
                    if buf.len() < pos + len + 2 {
                        return Ok(None);
                    }
                    pos += len + 2;
                }
                expected -= 1;
            }
            b'*' | b'~' | b'>' | b'%' => {
                let len = number()?;
                expected -= 1;
                if len > 0 {
                    let per = if kind == b'%' { 2 } else { 1 };
                    expected += len as u64 * per;
                }
            }
            // Attributes precede the reply they describe.
            b'|' => expected += number()?.max(0) as u64 * 2,
            other => {
                return Err(format!(
                    "Protocol error, got {:?} as reply type byte",
                    char::from(other)
                ));
            }
        }
    }
    Ok(Some(pos))
}

/// How a thread's run ended badly: the message to print.
pub type Failure = String;

impl Client {
    fn connect(work: &Workload) -> Result<Client, Failure> {
        let stream = TcpStream::connect(work.addr).map_err(|err| {
            format!(
                "Could not connect to Redis at {}:{}: {}",
                work.addr.ip(),
                work.addr.port(),
                sedis::client::error_text(&err)
            )
        })?;
        stream
            .set_nodelay(true)
            .and_then(|()| stream.set_nonblocking(true))
            .map_err(|err| format!("Error: {}", sedis::client::error_text(&err)))?;
        let mut out = work.prefix.clone();
        let requests_at = out.len();
        let mut placeholders = Vec::new();
        for _ in 0..work.pipeline {
            if work.keyspace.is_some() {
                let base = out.len();
                let mut from = 0;
                while let Some(at) = find(&work.request[from..], RAND_PLACEHOLDER) {
                    placeholders.push(base + from + at);
                    from += at + RAND_PLACEHOLDER.len();
                }
            }
            out.extend_from_slice(&work.request);
        }
        Ok(Client {
            stream,
            out,
            requests_at,
            placeholders,
            sent_from: 0,
            end: 0,
            written: 0,
            pending: 0,
            prefix_pending: work.prefix_replies,
            started: Instant::now(),
            latency_us: None,
            input: InputBuffer::new(),
        })
    }

    /// True while a batch is being written or its replies awaited.
    fn busy(&self) -> bool {
        self.pending > 0
    }

    fn wants_write(&self) -> bool {
        self.sent_from + self.written < self.end
    }

    /// Starts the next batch if requests are left: randomizes its keys and
    /// writes as much of it as the socket takes. False when none are left.
    fn start_batch(
        &mut self,
        work: &Workload,
        progress: &Progress,
        rng: &mut Rng,
    ) -> Result<bool, Failure> {
        let granted = progress.claim(work.pipeline, work.requests);
        if granted == 0 {
            return Ok(false);
        }
        // The prefix goes out with the first batch only.
        self.sent_from = if self.prefix_pending > 0 {
            0
        } else {
            self.requests_at
        };
        self.end = self.requests_at + granted * work.request.len();
        self.written = 0;
        self.pending = granted + self.prefix_pending;
        if let Some(keyspace) = work.keyspace {
            for &at in &self.placeholders {
                if at >= self.end {
                    break;
                }
                let number = if keyspace == 0 {
                    0
                } else {
                    rng.below(keyspace)
                };
                write_digits(&mut self.out[at..at + RAND_PLACEHOLDER.len()], number);
            }
        }
        self.started = Instant::now();
        self.latency_us = None;
        self.write()?;
        Ok(true)
    }

    /// Writes what the socket accepts of the current batch.
    fn write(&mut self) -> Result<(), Failure> {
        while self.wants_write() {
            let from = self.sent_from + self.written;
            match self.stream.write(&self.out[from..self.end]) {
                Ok(n) => self.written += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    return Err(format!(
                        "Error writing to the server: {}",
                        sedis::client::error_text(&err)
                    ));
                }
            }
        }
        Ok(())
    }

    /// Reads and counts replies. Returns true once the batch is complete.
    fn read(&mut self, histogram: &mut Histogram, progress: &Progress) -> Result<bool, Failure> {
        if self.latency_us.is_none() {
            self.latency_us = Some(self.started.elapsed().as_micros() as u64);
        }
        match self.input.fill(&mut self.stream) {
            Ok(0) => return Err("Error: Server closed the connection".to_string()),
            Ok(n) => self.input.end += n,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(format!("Error: {}", sedis::client::error_text(&err))),
        }
        let latency = self.latency_us.unwrap_or_default();
        let mut counted = 0;
        while self.pending > 0 {
            let data = self.input.pending();
            let Some(len) = reply_len(data).map_err(|e| format!("Error: {e}"))? else {
                break;
            };
            if data[0] == b'-' || data[0] == b'!' {
                let text = error_text_of(&data[..len]);
                return Err(format!("Error from server: {text}"));
            }
            self.input.start += len;
            self.pending -= 1;
            if self.prefix_pending > 0 {
                self.prefix_pending -= 1;
            } else {
                counted += 1;
            }
        }
        if counted > 0 {
            histogram.record_n(latency, counted);
            progress.finished.fetch_add(counted, Ordering::Relaxed);
            progress
                .latency_sum_us
                .fetch_add(latency.min(LATENCY_MAX_US) * counted, Ordering::Relaxed);
        }
        Ok(self.pending == 0)
    }
}

/// The text of an error reply (`-ERR ...` or RESP3's `!len\r\n...`).
fn error_text_of(reply: &[u8]) -> String {
    let body = &reply[..reply.len() - 2];
    let text = if reply[0] == b'!' {
        match body.iter().position(|&b| b == b'\n') {
            Some(nl) => &body[nl + 1..],
            None => body,
        }
    } else {
        &body[1..]
    };
    String::from_utf8_lossy(text).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `number`'s last 12 decimal digits, zero-padded, into `slot`, as
/// redis-benchmark fills `__rand_int__`.
pub fn write_digits(slot: &mut [u8], mut number: u64) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (number % 10) as u8;
        number /= 10;
    }
}

/// One thread's share of the clients: connects them, waits at `connected`
/// until every thread has (the clock starts then), and runs them until no
/// requests are left and every batch is answered. Returns its latencies.
pub fn run_thread(
    work: &Workload,
    count: usize,
    progress: &Progress,
    seed: u64,
    connected: &Barrier,
) -> Result<Histogram, Failure> {
    let clients: Result<Vec<Client>, Failure> = (0..count).map(|_| Client::connect(work)).collect();
    connected.wait();
    let mut histogram = Histogram::new(LATENCY_MIN_US, LATENCY_MAX_US, work.precision);
    let result = clients.and_then(|clients| drive(work, clients, progress, seed, &mut histogram));
    if result.is_err() {
        progress.stop.store(true, Ordering::Relaxed);
    }
    result.map(|()| histogram)
}

fn drive(
    work: &Workload,
    mut clients: Vec<Client>,
    progress: &Progress,
    seed: u64,
    histogram: &mut Histogram,
) -> Result<(), Failure> {
    let mut rng = Rng::with_seed(seed);
    for client in &mut clients {
        client.start_batch(work, progress, &mut rng)?;
    }
    let mut fds: Vec<libc::pollfd> = clients
        .iter()
        .map(|c| libc::pollfd {
            fd: c.stream.as_raw_fd(),
            events: 0,
            revents: 0,
        })
        .collect();
    loop {
        if progress.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut busy = 0;
        for (fd, client) in fds.iter_mut().zip(&clients) {
            fd.revents = 0;
            fd.events = if client.wants_write() {
                libc::POLLOUT
            } else if client.busy() {
                libc::POLLIN
            } else {
                0
            };
            // A negative descriptor is skipped by poll.
            fd.fd = if fd.events == 0 {
                -1
            } else {
                client.stream.as_raw_fd()
            };
            busy += usize::from(fd.events != 0);
        }
        if busy == 0 {
            return Ok(());
        }
        // The timeout only bounds how late a stop request is noticed.
        // SAFETY: fds is a valid array of pollfd of the given length.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("Error: poll failed: {err}"));
        }
        for (fd, client) in fds.iter().zip(clients.iter_mut()) {
            if fd.revents == 0 {
                continue;
            }
            if client.wants_write() {
                client.write()?;
                continue;
            }
            if client.read(histogram, progress)? {
                if !work.keepalive {
                    // A new connection per batch (its prefix goes out again).
                    *client = Client::connect(work)?;
                }
                client.start_batch(work, progress, &mut rng)?;
            }
        }
    }
}

/// Splits `clients` connections over `threads` threads as evenly as can be.
pub fn share(clients: usize, threads: usize, thread: usize) -> usize {
    clients / threads + usize::from(thread < clients % threads)
}

/// A seed per thread, so threads do not draw the same keys.
pub fn seed(thread: usize) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos() as u64;
    nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ (thread as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_len_counts_whole_replies_only() {
        let wire: &[u8] = b"*2\r\n$3\r\nfoo\r\n%1\r\n+a\r\n*2\r\n:1\r\n_\r\n$-1\r\n";
        let first = b"*2\r\n$3\r\nfoo\r\n%1\r\n+a\r\n*2\r\n:1\r\n_\r\n".len();
        for cut in 0..first {
            assert_eq!(reply_len(&wire[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(reply_len(wire), Ok(Some(first)));
        assert_eq!(reply_len(&wire[first..]), Ok(Some(5)));
        assert_eq!(reply_len(b"*0\r\n"), Ok(Some(4)));
        assert_eq!(reply_len(b"*-1\r\n+x"), Ok(Some(5)));
        assert_eq!(reply_len(b"|1\r\n+k\r\n+v\r\n:7\r\n"), Ok(Some(16)));
        assert!(reply_len(b"?\r\n").is_err());
        assert!(reply_len(b"$x\r\n").is_err());
    }

    #[test]
    fn error_replies_give_their_text() {
        assert_eq!(error_text_of(b"-ERR no\r\n"), "ERR no");
        assert_eq!(error_text_of(b"!6\r\nERR no\r\n"), "ERR no");
    }

    #[test]
    fn placeholders_become_twelve_digits() {
        let mut slot = *b"__rand_int__";
        write_digits(&mut slot, 42);
        assert_eq!(&slot, b"000000000042");
        write_digits(&mut slot, 1_234_567_890_123_456);
        assert_eq!(&slot, b"567890123456");
    }

    #[test]
    fn clients_are_shared_evenly() {
        let shares: Vec<usize> = (0..3).map(|t| share(50, 3, t)).collect();
        assert_eq!(shares, [17, 17, 16]);
        assert_eq!(share(1, 4, 3), 0);
    }
}
