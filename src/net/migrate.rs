//! The connections MIGRATE keeps open to its targets (Redis's
//! `migrate_cached_sockets`): one per `host:port`, with the database last
//! selected on it, reused by the next MIGRATE to the same target and
//! closed after 10 seconds unused (or when 64 are open and another is
//! needed). INFO reports how many are open.
//!
//! A connection is taken out of the cache while a MIGRATE uses it and put
//! back when it is still sound, so the cache's lock is never held across
//! network I/O.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// At most this many connections are cached (Redis's
/// `MIGRATE_SOCKET_CACHE_ITEMS`).
const MAX_CACHED: usize = 64;
/// Connections unused this long are closed (`MIGRATE_SOCKET_CACHE_TTL`,
/// 10 seconds, checked by the periodic task).
pub const IDLE_LIMIT: Duration = Duration::from_secs(10);
/// The longest reply line read from a target; longer ones are cut, as
/// Redis reads them into a 1024-byte buffer.
const MAX_LINE: usize = 1023;

/// How connecting failed, as MIGRATE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// No address, or no answer within the timeout.
    Connecting,
    /// Refused (or reset): reported as a failure to write the request.
    Writing,
}

/// One connection to a target.
pub struct Target {
    reader: BufReader<TcpStream>,
    /// The database selected on it; -1 before the first SELECT and after
    /// an error (which may have left it unknown). As in Redis, -1 is also
    /// a database number a client may ask for, which then sends no SELECT.
    pub last_db: i64,
    last_use: Instant,
}

impl Target {
    /// Connects to `host:port` within `timeout`. Redis reads the port as
    /// `atoi` does.
    ///
    /// Redis connects without blocking and only waits for the socket to
    /// become writable, which a refused connection also makes it: such a
    /// failure only shows when the request is written. So a host that
    /// cannot be resolved, or no answer in time, is
    /// [`ConnectError::Connecting`]; a refusal is [`ConnectError::Writing`].
    pub fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<Target, ConnectError> {
        let host = std::str::from_utf8(host).map_err(|_| ConnectError::Connecting)?;
        let port = atoi_port(port);
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|_| ConnectError::Connecting)?;
        let mut last_error = ConnectError::Connecting;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream
                        .set_nodelay(true)
                        .map_err(|_| ConnectError::Writing)?;
                    return Ok(Target {
                        reader: BufReader::new(stream),
                        last_db: -1,
                        last_use: Instant::now(),
                    });
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                    last_error = ConnectError::Connecting;
                }
                Err(_) => last_error = ConnectError::Writing,
            }
        }
        Err(last_error)
    }

    /// Sets the time each read and write may take.
    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        let stream = self.reader.get_ref();
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))
    }

    /// Sends `bytes` whole.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut stream = self.reader.get_ref();
        stream.write_all(bytes)?;
        stream.flush()
    }

    /// Reads one reply line, without its CRLF. A line longer than Redis's
    /// buffer is cut there (the rest is read as the next line, as in
    /// Redis). End of stream before any byte is an error.
    pub fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.len() < MAX_LINE {
            if self.reader.read(&mut byte)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if byte[0] == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            line.push(byte[0]);
        }
        Ok(line)
    }
}

/// C's `atoi` on a port argument; out-of-range values wrap as a `u16`
/// would in the socket address.
fn atoi_port(port: &[u8]) -> u16 {
    crate::num::c_atoi(port) as u16
}

/// The cached connections, by `host:port` as the client wrote them.
#[derive(Default)]
pub struct TargetCache {
    targets: Mutex<HashMap<Vec<u8>, Target>>,
}

impl TargetCache {
    /// The cache key: host and port as given.
    pub fn name(host: &[u8], port: &[u8]) -> Vec<u8> {
        let mut name = host.to_vec();
        name.push(b':');
        name.extend_from_slice(port);
        name
    }

    /// Takes the cached connection to `name`, if there is one.
    pub fn take(&self, name: &[u8]) -> Option<Target> {
        self.targets.lock().remove(name)
    }

    /// Caches `target` under `name` as just used. When the cache is full,
    /// an arbitrary other connection is closed to make room, as Redis
    /// drops a random one.
    pub fn put(&self, name: Vec<u8>, mut target: Target) {
        target.last_use = Instant::now();
        let mut targets = self.targets.lock();
        if targets.len() >= MAX_CACHED && !targets.contains_key(&name) {
            let victim = targets.keys().next().cloned();
            if let Some(victim) = victim {
                targets.remove(&victim);
            }
        }
        targets.insert(name, target);
    }

    /// Closes the connections unused for [`IDLE_LIMIT`] or more.
    pub fn close_idle(&self, now: Instant) {
        self.targets
            .lock()
            .retain(|_, t| now.duration_since(t.last_use) < IDLE_LIMIT);
    }

    /// How many connections are cached (INFO's `migrate_cached_sockets`).
    pub fn len(&self) -> usize {
        self.targets.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_read_as_atoi() {
        assert_eq!(atoi_port(b"6379"), 6379);
        assert_eq!(atoi_port(b" 80x"), 80);
        assert_eq!(atoi_port(b"x"), 0);
        assert_eq!(atoi_port(b"65537"), 1);
    }

    #[test]
    fn lines_are_read_to_crlf_and_cut_at_the_buffer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let port = addr.port().to_string();
        let mut target =
            Target::connect(b"127.0.0.1", port.as_bytes(), Duration::from_secs(5)).ok().unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let long = vec![b'x'; 2000];
        peer.write_all(b"+OK\r\n-ERR no\r\n").unwrap();
        peer.write_all(&long).unwrap();
        peer.write_all(b"\r\n").unwrap();
        assert_eq!(target.read_line().unwrap(), b"+OK");
        assert_eq!(target.read_line().unwrap(), b"-ERR no");
        assert_eq!(target.read_line().unwrap().len(), MAX_LINE);
        assert_eq!(target.read_line().unwrap().len(), 2000 - MAX_LINE);
        drop(peer);
        assert!(target.read_line().is_err());
    }

    #[test]
    fn idle_connections_are_closed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let cache = TargetCache::default();
        let target =
            Target::connect(b"127.0.0.1", port.as_bytes(), Duration::from_secs(5)).ok().unwrap();
        cache.put(TargetCache::name(b"127.0.0.1", port.as_bytes()), target);
        assert_eq!(cache.len(), 1);
        cache.close_idle(Instant::now());
        assert_eq!(cache.len(), 1);
        cache.close_idle(Instant::now() + IDLE_LIMIT);
        assert!(cache.is_empty());
    }
}
