//! A blocking client connection, the one `sedis-cli` and `sedis-benchmark`
//! share: connect (with TCP_NODELAY, as hiredis does), send a command as a
//! multibulk request, read the reply back as a [`Frame`]. The handshake
//! commands (AUTH, SELECT, HELLO) are ordinary calls; each tool reports their
//! failures in its own words, so none of that policy lives here.
//!
//! [`Commands`] adds typed calls for the common commands to any client
//! with a generic `call`: this connection and the in-process
//! [`LocalClient`](crate::LocalClient) alike.
//!
//! ```
//! use sedis::client::Commands;
//!
//! let server = sedis::Embedded::builder().listen().start()?;
//! let mut conn = server.connect()?; // a TCP connection
//! conn.set("counter", "41")?;
//! assert_eq!(conn.incr("counter")?, 42);
//! assert_eq!(conn.get("counter")?, Some(b"42".to_vec()));
//! let err = conn.call(&["LPUSH", "counter", "x"])?;
//! assert!(err.is_error(), "the generic call returns error replies as frames");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::resp::Frame;

/// One connection to a server.
pub struct Connection {
    /// Replies arrive through a buffer: a reply is usually read a line at a
    /// time, and one `read` per line would cost a system call each.
    reader: BufReader<TcpStream>,
    /// Requests are written straight to the socket, one `write` per request,
    /// so nothing waits in a buffer while we block on the reply.
    writer: TcpStream,
    /// Reused for encoding requests.
    out: Vec<u8>,
}

impl Connection {
    /// Connects to `host:port`, trying each address the name resolves to.
    pub fn connect(host: &str, port: u16) -> io::Result<Connection> {
        let stream = connect_stream(host, port)?;
        Connection::from_stream(stream)
    }

    /// Wraps an already connected stream.
    pub fn from_stream(stream: TcpStream) -> io::Result<Connection> {
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            out: Vec::new(),
        })
    }

    /// Sends one command without waiting for its reply.
    pub fn send<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<()> {
        self.out.clear();
        Frame::encode_request(argv, &mut self.out);
        self.writer.write_all(&self.out)
    }

    /// Reads the next reply, blocking until it is complete. A server that
    /// closes the connection gives an `UnexpectedEof` error.
    pub fn read(&mut self) -> io::Result<Frame> {
        Frame::read(&mut self.reader)
    }

    /// Sends a command and reads its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<Frame> {
        self.send(argv)?;
        self.read()
    }

    /// The socket, e.g. to shut it down from another thread so that a read
    /// blocked on it returns.
    pub fn stream(&self) -> &TcpStream {
        &self.writer
    }

    /// Closes both directions now; pending and later reads return.
    pub fn shutdown(&self) {
        let _ = self.writer.shutdown(Shutdown::Both);
    }
}

/// Typed calls for the common commands, on top of a client's generic
/// `call`. An error reply becomes an [`io::Error`] of kind `Other` whose
/// text is the reply's (`WRONGTYPE Operation against...`), so `?` works
/// in any function returning `io::Result`.
pub trait Commands {
    /// Runs one command and returns its reply, an error reply included.
    fn call_command(&mut self, args: &[&[u8]]) -> io::Result<Frame>;

    /// PING.
    fn ping(&mut self) -> io::Result<()> {
        self.call_command(&[b"PING"]).and_then(reply).map(drop)
    }

    /// GET: the string at `key`, if any.
    fn get(&mut self, key: impl AsRef<[u8]>) -> io::Result<Option<Vec<u8>>> {
        match reply(self.call_command(&[b"GET", key.as_ref()])?)? {
            Frame::Bulk(value) => Ok(Some(value)),
            Frame::NullBulk | Frame::Null => Ok(None),
            other => Err(unexpected(other)),
        }
    }

    /// SET `key` `value`.
    fn set(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> io::Result<()> {
        self.call_command(&[b"SET", key.as_ref(), value.as_ref()])
            .and_then(reply)
            .map(drop)
    }

    /// SET `key` `value` PX `ttl`.
    fn set_with_ttl(
        &mut self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        ttl: Duration,
    ) -> io::Result<()> {
        let ms = ttl.as_millis().to_string();
        self.call_command(&[b"SET", key.as_ref(), value.as_ref(), b"PX", ms.as_bytes()])
            .and_then(reply)
            .map(drop)
    }

    /// DEL: true if `key` existed.
    fn del(&mut self, key: impl AsRef<[u8]>) -> io::Result<bool> {
        integer(self.call_command(&[b"DEL", key.as_ref()])?).map(|n| n > 0)
    }

    /// EXISTS `key`.
    fn exists(&mut self, key: impl AsRef<[u8]>) -> io::Result<bool> {
        integer(self.call_command(&[b"EXISTS", key.as_ref()])?).map(|n| n > 0)
    }

    /// INCR: the new value.
    fn incr(&mut self, key: impl AsRef<[u8]>) -> io::Result<i64> {
        integer(self.call_command(&[b"INCR", key.as_ref()])?)
    }

    /// PEXPIRE: false if `key` does not exist.
    fn expire(&mut self, key: impl AsRef<[u8]>, ttl: Duration) -> io::Result<bool> {
        let ms = ttl.as_millis().to_string();
        integer(self.call_command(&[b"PEXPIRE", key.as_ref(), ms.as_bytes()])?).map(|n| n == 1)
    }

    /// PTTL: `None` if `key` has no TTL or does not exist.
    fn ttl(&mut self, key: impl AsRef<[u8]>) -> io::Result<Option<Duration>> {
        let ms = integer(self.call_command(&[b"PTTL", key.as_ref()])?)?;
        Ok((ms >= 0).then(|| Duration::from_millis(ms as u64)))
    }

    /// HSET one field.
    fn hset(
        &mut self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> io::Result<()> {
        integer(self.call_command(&[b"HSET", key.as_ref(), field.as_ref(), value.as_ref()])?)
            .map(drop)
    }

    /// HGET one field.
    fn hget(
        &mut self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
    ) -> io::Result<Option<Vec<u8>>> {
        match reply(self.call_command(&[b"HGET", key.as_ref(), field.as_ref()])?)? {
            Frame::Bulk(value) => Ok(Some(value)),
            Frame::NullBulk | Frame::Null => Ok(None),
            other => Err(unexpected(other)),
        }
    }

    /// RPUSH one value: the list's new length.
    fn rpush(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> io::Result<i64> {
        integer(self.call_command(&[b"RPUSH", key.as_ref(), value.as_ref()])?)
    }

    /// PUBLISH: how many subscribers received the message.
    fn publish(&mut self, channel: impl AsRef<[u8]>, message: impl AsRef<[u8]>) -> io::Result<i64> {
        integer(self.call_command(&[b"PUBLISH", channel.as_ref(), message.as_ref()])?)
    }
}

impl Commands for Connection {
    fn call_command(&mut self, args: &[&[u8]]) -> io::Result<Frame> {
        self.call(args)
    }
}

/// The reply, or its error as an [`io::Error`].
fn reply(frame: Frame) -> io::Result<Frame> {
    match frame {
        Frame::Error(text) => Err(io::Error::other(
            String::from_utf8_lossy(&text).into_owned(),
        )),
        frame => Ok(frame),
    }
}

fn integer(frame: Frame) -> io::Result<i64> {
    match reply(frame)? {
        Frame::Integer(n) => Ok(n),
        other => Err(unexpected(other)),
    }
}

fn unexpected(frame: Frame) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected reply: {frame:?}"),
    )
}

/// Opens a TCP connection to the first address of `host:port` that accepts.
pub fn connect_stream(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last_error = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect(addr) {
            Ok(stream) => return Ok(stream),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "Name or service not known")))
}

/// An I/O error as the C tools word it: the bare `strerror` text
/// ("Connection refused"), without Rust's " (os error 111)" suffix, and
/// "Server closed the connection" for an unexpected end of stream, as hiredis
/// says it.
pub fn error_text(err: &io::Error) -> String {
    if err.kind() == io::ErrorKind::UnexpectedEof {
        return "Server closed the connection".to_string();
    }
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    };
    // Name lookups fail with "failed to lookup address information: ...";
    // the tools print only the resolver's reason.
    match text.strip_prefix("failed to lookup address information: ") {
        Some(reason) => reason.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn call_sends_multibulk_and_reads_the_reply() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut got = vec![0u8; 22];
            sock.read_exact(&mut got).unwrap();
            sock.write_all(b"$2\r\nhi\r\n").unwrap();
            got
        });
        let mut conn = Connection::connect("127.0.0.1", port).unwrap();
        assert_eq!(
            conn.call(&["ECHO", "hi"]).unwrap(),
            Frame::Bulk(b"hi".to_vec())
        );
        assert_eq!(server.join().unwrap(), b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
        let err = conn.read().unwrap_err();
        assert_eq!(error_text(&err), "Server closed the connection");
    }

    #[test]
    fn error_text_drops_the_os_error_suffix() {
        let err = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(error_text(&err), "Connection refused");
    }
}
