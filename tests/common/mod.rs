//! Test support: an in-process server on a free port, and two ways to talk
//! to it: raw RESP bytes (when the wire format is the point) and the `redis`
//! crate (when behaviour is).
#![allow(dead_code)] // each test binary uses a different part of this

pub mod hostile;

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sedis::Frame;
use sedis::{Config, Server, ServerHandle};

/// A running server, stopped (and all its threads joined) when dropped.
pub struct TestServer {
    handle: Option<ServerHandle>,
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start() -> Self {
        Self::with_config(|_| {})
    }

    /// Starts a server on a free port after letting `tweak` adjust the config.
    pub fn with_config(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::try_with_config(tweak).expect("bind")
    }

    /// [`TestServer::with_config`], failing instead of panicking when the
    /// port `tweak` chose is taken.
    pub fn try_with_config(tweak: impl FnOnce(&mut Config)) -> std::io::Result<Self> {
        let mut config = Config {
            port: 0,
            loglevel: sedis::config::LogLevel::Nothing,
            // No save points, and a directory of no dump: a dump.rdb left
            // in the working directory must not leak keys into tests. Tests
            // that persist set their own directory.
            save: Vec::new(),
            dir: no_dump_dir(),
            ..Config::default()
        };
        tweak(&mut config);
        let handle = Server::bind(config)?.spawn().expect("spawn");
        let addr = handle.local_addr();
        Ok(TestServer {
            handle: Some(handle),
            addr,
        })
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }

    pub fn client(&self) -> redis::Connection {
        let url = format!("redis://{}/", self.addr);
        redis::Client::open(url)
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    /// Stops the server, returning once every server thread has ended.
    pub fn stop(self) {
        self.stop_result().expect("clean shutdown");
    }

    /// Stops the server and returns what `ServerHandle::shutdown` said.
    pub fn stop_result(mut self) -> std::io::Result<()> {
        match self.handle.take() {
            Some(handle) => handle.shutdown(),
            None => Ok(()),
        }
    }

    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("running")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.shutdown();
        }
    }
}

/// An empty directory under Cargo's scratch space for tests.
fn no_dump_dir() -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-dump");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir.to_string_lossy().into_owned()
}

/// A raw connection: write bytes, read replies as frames.
pub struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Sends a command as a multibulk request.
    pub fn cmd(&mut self, args: &[&str]) {
        let mut out = Vec::new();
        Frame::encode_request(args, &mut out);
        self.send(&out);
    }

    /// Sends a command and returns the raw bytes of its reply.
    pub fn call(&mut self, args: &[&str]) -> Vec<u8> {
        self.cmd(args);
        self.read_raw()
    }

    /// Reads one reply and re-encodes it: the exact bytes the server sent.
    pub fn read_raw(&mut self) -> Vec<u8> {
        let frame = self.read();
        let mut out = Vec::new();
        frame.encode(&mut out);
        out
    }

    pub fn read(&mut self) -> Frame {
        Frame::read(&mut self.reader).expect("read reply")
    }

    /// Reads until the server closes the connection; returns what came.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        let _ = self.reader.read_to_end(&mut rest);
        rest
    }

    pub fn stream(&self) -> &TcpStream {
        &self.writer
    }
}

/// Asserts that `call(args)` replies exactly `expected` (raw RESP).
#[macro_export]
macro_rules! assert_reply {
    ($conn:expr, [$($arg:expr),* $(,)?], $expected:expr) => {{
        let got = $conn.call(&[$($arg),*]);
        let expected: &[u8] = $expected;
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "reply to {:?}",
            [$($arg),*]
        );
    }};
}
