//! A blocking client connection, the one `sedis-cli` and `sedis-benchmark`
//! share: connect (with TCP_NODELAY, as hiredis does), send a command as a
//! multibulk request, read the reply back as a [`Frame`]. The handshake
//! commands (AUTH, SELECT, HELLO) are ordinary calls; each tool reports their
//! failures in its own words, so none of that policy lives here.

use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};

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
