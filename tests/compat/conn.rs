//! Connections that keep every reply twice: the bytes exactly as the server
//! sent them (recorded while `Frame` decodes them), and their meaning.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sedis::Frame;

/// How long to wait for any one reply before declaring the server stuck.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads through a `BufReader`, keeping every byte consumed: the reply
/// exactly as the server sent it, while `Frame` decodes it.
struct Recorder<'a> {
    inner: &'a mut BufReader<TcpStream>,
    taken: Vec<u8>,
}

impl Read for Recorder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.inner.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Recorder<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.taken.extend_from_slice(&self.inner.buffer()[..n]);
        self.inner.consume(n);
    }
}

/// One reply: the bytes on the wire and their meaning.
pub type Reply = (Vec<u8>, Frame);

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    pub fn send(&mut self, argv: &[Vec<u8>]) -> io::Result<()> {
        let mut out = Vec::new();
        Frame::encode_request(argv, &mut out);
        self.writer.write_all(&out)
    }

    pub fn read(&mut self) -> io::Result<Reply> {
        let mut recorder = Recorder {
            inner: &mut self.reader,
            taken: Vec::new(),
        };
        let frame = Frame::read(&mut recorder)?;
        Ok((recorder.taken, frame))
    }

    pub fn call(&mut self, argv: &[Vec<u8>]) -> io::Result<Reply> {
        self.send(argv)?;
        self.read()
    }

    /// True if reply bytes have arrived (without waiting for them).
    pub fn has_data(&mut self) -> bool {
        if !self.reader.buffer().is_empty() {
            return true;
        }
        let mut byte = [0u8; 1];
        let _ = self.writer.set_nonblocking(true);
        let ready = matches!(self.writer.peek(&mut byte), Ok(n) if n > 0);
        let _ = self.writer.set_nonblocking(false);
        ready
    }
}

/// What one server said: a reply, or what went wrong reading it.
pub type Outcome = Result<Reply, String>;
