//! Test support: an in-process server on a port of its own, and two ways to
//! talk to it: raw RESP bytes (when the wire format is the point) and the
//! `redis` crate (when behaviour is). Besides: waiting for what the server
//! does on its own threads, scratch directories, INFO fields, and (in the
//! submodules) `sedis-server` as a process, ports held for a test, and the
//! hostile-input table.
#![allow(dead_code)] // each test binary uses a different part of this

pub mod hostile;
pub mod ports;
pub mod process;

use std::collections::HashSet;
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

    /// The server's count of changes (Redis's `server.dirty`).
    pub fn dirty(&self) -> u64 {
        self.handle().state().dirty()
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

    /// This end's address: the client address the server reports.
    pub fn local_addr(&self) -> SocketAddr {
        self.writer.local_addr().expect("a connected socket")
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Sends a command as a multibulk request.
    pub fn cmd(&mut self, args: &[&str]) {
        self.cmd_bin(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>());
    }

    /// [`Raw::cmd`] with arguments that may be any bytes.
    pub fn cmd_bin(&mut self, args: &[&[u8]]) {
        let mut out = Vec::new();
        Frame::encode_request(args, &mut out);
        self.send(&out);
    }

    /// Sends a command and returns the raw bytes of its reply.
    pub fn call(&mut self, args: &[&str]) -> Vec<u8> {
        self.cmd(args);
        self.read_raw()
    }

    /// [`Raw::call`] with arguments that may be any bytes.
    pub fn call_bin(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.cmd_bin(args);
        self.read_raw()
    }

    /// Sends a command and returns its reply as a frame.
    pub fn frame(&mut self, args: &[&str]) -> Frame {
        self.cmd(args);
        self.read()
    }

    /// [`Raw::frame`] with arguments that may be any bytes.
    pub fn frame_bin(&mut self, args: &[&[u8]]) -> Frame {
        self.cmd_bin(args);
        self.read()
    }

    /// This connection's id (CLIENT ID).
    pub fn client_id(&mut self) -> i64 {
        match self.frame(&["CLIENT", "ID"]) {
            Frame::Integer(id) => id,
            other => panic!("CLIENT ID replied {other:?}"),
        }
    }

    /// INFO for `sections` (all the default ones if none).
    pub fn info(&mut self, sections: &[&str]) -> Info {
        let mut args = vec!["INFO"];
        args.extend_from_slice(sections);
        Info(text(self.frame(&args)))
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

/// A bulk or simple string reply as text.
pub fn text(frame: Frame) -> String {
    String::from_utf8(frame.as_bytes().expect("a text reply").to_vec()).expect("UTF-8 text")
}

/// INFO's text: `# Section` titles and `field:value` lines. It reads as
/// the text itself (`contains`, `lines`, `{}`), and by field.
#[derive(Debug, PartialEq)]
pub struct Info(pub String);

impl std::ops::Deref for Info {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Info {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for Info {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Info {
    /// One field's value; panics (showing the text) if it is missing.
    pub fn field(&self, name: &str) -> &str {
        self.0
            .split("\r\n")
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {name} in {}", self.0))
    }

    /// One field's value as a number.
    pub fn number(&self, name: &str) -> u64 {
        let value = self.field(name);
        value
            .parse()
            .unwrap_or_else(|e| panic!("{name}:{value} is not a number: {e}"))
    }
}

/// Polls `condition` until it holds, failing after ten seconds: the server
/// reacts to a closed socket, a deadline or a background job on its own
/// threads, and nothing tells a client when it has.
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A new, empty directory for one test, named after `name` and unique to
/// this process and call. Tests remove it when they pass; a failing test
/// leaves it to be looked at.
pub fn temp_dir(name: &str) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sedis-{name}-{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// A [`temp_dir`] whose `dump.rdb` is a copy of `tests/data/{dump}`.
pub fn dir_with_dump(name: &str, dump: &str) -> PathBuf {
    let dir = temp_dir(name);
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dump);
    std::fs::copy(&data, dir.join("dump.rdb"))
        .unwrap_or_else(|e| panic!("copying {}: {e}", data.display()));
    dir
}

/// The commands in the current incr file of the append-only directory in
/// `dir`, each as its words joined by spaces.
pub fn aof_commands(dir: &Path) -> Vec<String> {
    use sedis::internals::persist::aof::{AofPaths, read_commands};
    let paths = AofPaths {
        dir: dir.join("appendonlydir"),
        filename: "appendonly.aof".into(),
    };
    let manifest = paths.read_manifest().unwrap().expect("manifest");
    let incr = manifest.incrs.last().expect("an incr file");
    read_commands(&paths.file(&incr.name))
        .unwrap()
        .commands
        .iter()
        .map(|c| String::from_utf8_lossy(&c.join(&b' ')).into_owned())
        .collect()
}

/// A config tweak for [`TestServer::with_config`]: the server's files (its
/// dump, its append-only directory) go in `dir`.
pub fn with_dir(dir: &Path) -> impl FnOnce(&mut Config) + '_ {
    move |c: &mut Config| c.dir = dir.to_str().expect("a UTF-8 path").to_string()
}

/// Iterates `command` (SSCAN, HSCAN, ZSCAN) over `key` to cursor 0 with
/// COUNT `count`, calling `between` with the round's number after every
/// call (to change the collection mid-scan); returns the members seen, for
/// HSCAN and ZSCAN every second item (`stride` 2).
pub fn scan_through(
    con: &mut redis::Connection,
    command: &str,
    key: &str,
    count: usize,
    stride: usize,
    mut between: impl FnMut(&mut redis::Connection, usize),
) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut cursor: u64 = 0;
    for round in 0.. {
        let (next, items): (u64, Vec<String>) = redis::cmd(command)
            .arg(key)
            .arg(cursor)
            .arg("COUNT")
            .arg(count)
            .query(con)
            .expect("a scan reply");
        seen.extend(items.into_iter().step_by(stride));
        between(con, round);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    seen
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
