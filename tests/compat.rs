//! Side by side with Redis: every script under `tests/compat/` is sent to
//! Debian's `redis-server` 7.0.15 and to an in-process sedis, and each reply
//! is compared byte for byte.
//!
//! The comparing tests are `#[ignore]`d, so a plain `cargo test` needs only
//! Rust; run them with
//! `cargo test --release --test compat -- --include-ignored`. Without
//! `redis-server` they fail (never pass quietly) and say how to install it.
//! The tests that are not ignored check that every script parses.
//!
//! # Scripts
//!
//! One command per line, quoted like `redis-cli` input: words split on
//! spaces; `"..."` understands `\n \r \t \b \a \\ \" \xHH`; `'...'` is
//! literal except for `\'`. Blank lines and lines starting with `#` are
//! skipped. A line may start with directives (bare words beginning with `@`;
//! a quoted `"@x"` is an ordinary argument):
//!
//! | Directive | Meaning |
//! | --- | --- |
//! | `@conn2 CMD...`, `@conn3 CMD...` | run on the second / third connection (default: the first) |
//! | `@hello 2`, `@hello 3` | send `HELLO 2` / `HELLO 3` on the connection and compare its reply |
//! | `@sleep MS` | wait, for expiry |
//! | `@block CMD...` | send a command that must block on both servers, without reading its reply (waits until both report one more blocked client) |
//! | `@noreply CMD...` | send a command that gets no reply (CLIENT REPLY OFF or SKIP silences it), reading nothing; a reply one server sent anyway is what the connection's next read finds, so follow it with a command that replies |
//! | `@reply` | read and compare the reply of the connection's earlier `@block` |
//! | `@read` | read and compare one more frame sent to the connection (pub/sub messages, SUBSCRIBE's later replies) |
//! | `@sorted CMD...` | the reply is an array in no defined order: compare its elements sorted |
//! | `@shape CMD...` | the reply is random: compare only its type and length (errors exactly) |
//! | `@approx N CMD...` | an integer reply may differ by up to N (e.g. PTTL) |
//! | `@scan CMD...` | SCAN, SSCAN, HSCAN, ZSCAN: iterate to cursor 0 on each server, compare the sorted union |
//!
//! Every script runs twice, each time on fresh connections after FLUSHALL on
//! both servers: once in RESP2, once in RESP3 (every connection sends
//! `HELLO 3` first, compared too).
//!
//! # Normalisation
//!
//! Apart from the per-line directives above, the only replies not compared
//! byte for byte are those in [`NORMALISED`]: values that name the server
//! or depend on the clock or on chance. Error replies are always compared
//! exactly.

mod common;

// As in sedis-server: memory in use is what the allocator counts, so
// maxmemory and the OOM rule behave as they do in the real binary.
#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;
use sedis::Frame;
use sedis::internals::commands::registry::registry;
use sedis::internals::commands::syntax;

/// The Redis the scripts were written against.
const REDIS_VERSION: &str = "7.0.15";

/// How long to wait for any one reply before declaring the server stuck.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `@block` waits for both servers to report the client blocked.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// What a normalised reply keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Norm {
    /// Only the type and length (recursively for aggregates).
    Shape,
    /// A map (RESP3) or flat key/value array (RESP2) whose values under
    /// these keys are replaced by a placeholder.
    Fields(&'static [&'static str]),
}

/// The replies that are not compared byte for byte, and why. Matched on
/// the lowercase command name and, where given, its first argument.
/// Nothing else is normalised: add a line here only for a reply that
/// differs between two runs of the same Redis.
const NORMALISED: &[(&str, Option<&str>, Norm, &str)] = &[
    (
        "hello",
        None,
        Norm::Fields(&["server", "version", "id"]),
        "server name, version and connection id",
    ),
    ("time", None, Norm::Shape, "the clock"),
    ("lastsave", None, Norm::Shape, "the clock"),
    ("info", None, Norm::Shape, "server-specific text"),
    ("client", Some("id"), Norm::Shape, "connection ids"),
    ("client", Some("list"), Norm::Shape, "ids, addresses, ages"),
    ("client", Some("info"), Norm::Shape, "ids, addresses, ages"),
    ("object", Some("idletime"), Norm::Shape, "the clock"),
    (
        "object",
        Some("freq"),
        Norm::Shape,
        "a probabilistic counter",
    ),
    (
        "memory",
        Some("usage"),
        Norm::Shape,
        "allocator-specific sizes",
    ),
    ("randomkey", None, Norm::Shape, "chance"),
    ("zrandmember", None, Norm::Shape, "chance"),
    ("srandmember", None, Norm::Shape, "chance"),
    ("hrandfield", None, Norm::Shape, "chance"),
];

/// The normalisation for a command, if it has one.
fn normalisation(argv: &[Vec<u8>]) -> Option<Norm> {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let sub = argv
        .get(1)
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase());
    NORMALISED
        .iter()
        .find(|(cmd, want_sub, _, _)| {
            *cmd == name && want_sub.is_none_or(|w| sub.as_deref() == Some(w))
        })
        .map(|&(_, _, norm, _)| norm)
}

// ---------------------------------------------------------------------------
// Scripts

/// How a reply is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    Exact,
    Sorted,
    Shape,
    Approx(i64),
    Scan,
}

#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// Send a command, read and compare its reply.
    Command(Vec<Vec<u8>>),
    /// Send a command that must block; its reply comes with `Reply`.
    Block(Vec<Vec<u8>>),
    /// Send a command whose reply is silenced, reading nothing.
    NoReply(Vec<Vec<u8>>),
    /// Read the reply of the connection's blocked command.
    Reply,
    /// Read one more frame the connection was sent (a pub/sub message, the
    /// rest of a multi-channel SUBSCRIBE).
    Read,
    Sleep(Duration),
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    line: usize,
    /// The line as written (for messages).
    text: String,
    /// 0-based connection index.
    conn: usize,
    compare: Compare,
    action: Action,
}

const CONNECTIONS: usize = 3;

/// Splits a line the way redis-cli does (`sdssplitargs`). Each word comes
/// with whether it was quoted, so that quoted words are never directives.
fn split_args(line: &str) -> Result<Vec<(Vec<u8>, bool)>, String> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            return Ok(words);
        }
        let quoted = bytes[i] == b'"' || bytes[i] == b'\'';
        let mut word = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = bytes.get(i).copied();
            if in_double {
                match c {
                    None => return Err("unbalanced double quotes".into()),
                    Some(b'\\')
                        if bytes.get(i + 1) == Some(&b'x')
                            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                            && bytes.get(i + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).expect("ascii");
                        word.push(u8::from_str_radix(hex, 16).expect("hex digits"));
                        i += 4;
                    }
                    Some(b'\\') if i + 1 < bytes.len() => {
                        word.push(match bytes[i + 1] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                        i += 2;
                    }
                    Some(b'"') => {
                        if bytes.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        word.push(c);
                        i += 1;
                    }
                }
            } else if in_single {
                match c {
                    None => return Err("unbalanced single quotes".into()),
                    Some(b'\\') if bytes.get(i + 1) == Some(&b'\'') => {
                        word.push(b'\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        if bytes.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        word.push(c);
                        i += 1;
                    }
                }
            } else {
                match c {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(c) => word.push(c),
                }
                i += 1;
            }
        }
        words.push((word, quoted));
    }
}

/// Parses one script into steps; errors name the line.
fn parse_script(source: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (index, text) in source.lines().enumerate() {
        let line = index + 1;
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let step = parse_line(line, trimmed).map_err(|e| format!("line {line}: {e}: {text}"))?;
        steps.push(step);
    }
    Ok(steps)
}

fn parse_line(line: usize, text: &str) -> Result<Step, String> {
    let words = split_args(text)?;
    let mut conn = 0;
    let mut compare = Compare::Exact;
    let mut block = false;
    let mut no_reply = false;
    let mut rest = &words[..];
    let number = |rest: &[(Vec<u8>, bool)], what: &str| -> Result<i64, String> {
        rest.first()
            .and_then(|(w, _)| std::str::from_utf8(w).ok()?.parse().ok())
            .ok_or_else(|| format!("{what} needs a number"))
    };
    while let Some(((word, false), tail)) = rest.split_first() {
        if !word.starts_with(b"@") {
            break;
        }
        let directive = String::from_utf8_lossy(word).into_owned();
        rest = tail;
        match directive.as_str() {
            "@conn1" | "@conn2" | "@conn3" => {
                conn = usize::from(word[5] - b'1');
            }
            "@sorted" => compare = Compare::Sorted,
            "@shape" => compare = Compare::Shape,
            "@scan" => compare = Compare::Scan,
            "@approx" => {
                compare = Compare::Approx(number(rest, "@approx")?);
                rest = &rest[1..];
            }
            "@block" => block = true,
            "@noreply" => no_reply = true,
            "@reply" | "@read" | "@sleep" | "@hello" => {
                let action = match directive.as_str() {
                    "@reply" => Action::Reply,
                    "@read" => Action::Read,
                    "@sleep" => {
                        let ms = number(rest, "@sleep")?;
                        rest = &rest[1..];
                        Action::Sleep(Duration::from_millis(ms as u64))
                    }
                    _ => {
                        let proto = number(rest, "@hello")?;
                        if proto != 2 && proto != 3 {
                            return Err("@hello takes 2 or 3".into());
                        }
                        rest = &rest[1..];
                        Action::Command(vec![b"HELLO".to_vec(), proto.to_string().into_bytes()])
                    }
                };
                if !rest.is_empty() {
                    return Err(format!("nothing may follow {directive} here"));
                }
                if block || no_reply {
                    return Err(format!("@block and @noreply cannot apply to {directive}"));
                }
                return Ok(Step {
                    line,
                    text: text.to_string(),
                    conn,
                    compare,
                    action,
                });
            }
            other => return Err(format!("unknown directive {other}")),
        }
    }
    if rest.is_empty() {
        return Err("no command".into());
    }
    if block && no_reply {
        return Err("@block and @noreply do not combine".into());
    }
    if no_reply && compare != Compare::Exact {
        return Err("a command with no reply has nothing to compare".into());
    }
    let argv: Vec<Vec<u8>> = rest.iter().map(|(w, _)| w.clone()).collect();
    if compare == Compare::Scan && scan_cursor_index(&argv).is_none() {
        return Err("@scan needs SCAN cursor or ZSCAN key cursor".into());
    }
    Ok(Step {
        line,
        text: text.to_string(),
        conn,
        compare,
        action: if block {
            Action::Block(argv)
        } else if no_reply {
            Action::NoReply(argv)
        } else {
            Action::Command(argv)
        },
    })
}

/// Where the cursor is in a SCAN-family command.
fn scan_cursor_index(argv: &[Vec<u8>]) -> Option<usize> {
    let name = argv[0].to_ascii_lowercase();
    match name.as_slice() {
        b"scan" if argv.len() >= 2 => Some(1),
        b"zscan" | b"hscan" | b"sscan" if argv.len() >= 3 => Some(2),
        _ => None,
    }
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

fn load_script(name: &str) -> Vec<Step> {
    let path = scripts_dir().join(format!("{name}.txt"));
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_script(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// The reference Redis

/// A `redis-server` child process, killed when dropped (also when a test
/// panics), with its scratch directory.
struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The redis-server binary: `$REDIS_SERVER`, else the one on PATH or in
/// /usr/bin. Panics with the install command if there is none, or if it is
/// not the version the scripts describe.
fn redis_server_binary() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("REDIS_SERVER") {
        Some(path) => vec![PathBuf::from(path)],
        None => std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain([PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("redis-server"))
            .collect(),
    };
    let Some(binary) = candidates.into_iter().find(|p| p.is_file()) else {
        panic!(
            "redis-server not found: these tests compare sedis with Redis {REDIS_VERSION}. \
             Install it with `apt-get install -y redis-server` (or set REDIS_SERVER=/path)."
        );
    };
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("running {} --version: {e}", binary.display()));
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(&format!("v={REDIS_VERSION} ")),
        "{} is not Redis {REDIS_VERSION} ({}): the scripts record that version's replies. \
         Install it with `apt-get install -y redis-server` on Debian 12.",
        binary.display(),
        version.trim()
    );
    binary
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl RedisServer {
    fn start() -> RedisServer {
        Self::start_in(None)
    }

    /// Starts redis-server in `dir` (loading the dump.rdb there), or in a
    /// scratch directory of its own.
    fn start_in(dir: Option<&Path>) -> RedisServer {
        Self::start_with(dir, false)
    }

    /// [`RedisServer::start_in`], with `appendonly yes` if `aof` (loading
    /// the append-only file there instead).
    fn start_with(dir: Option<&Path>, aof: bool) -> RedisServer {
        let binary = redis_server_binary();
        let mut last_error = String::new();
        // Another process may take the free port before redis-server binds
        // it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| {
                std::env::temp_dir().join(format!("sedis-compat-{}-{port}", std::process::id()))
            });
            std::fs::create_dir_all(&dir).expect("scratch directory");
            let child = Command::new(&binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", if aof { "yes" } else { "no" }])
                .args(["--daemonize", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut server = RedisServer { child, port, dir };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Waits until the server answers PING.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                return Err(format!("exited with {status}: {stderr}"));
            }
            if let Ok(mut conn) = Conn::connect(self.addr())
                && let Ok((_, Frame::Simple(pong))) = conn.call(&[b"PING".to_vec()])
                && pong == b"PONG"
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("no PONG within 10 s".into())
    }
}

// ---------------------------------------------------------------------------
// Connections and replies

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
type Reply = (Vec<u8>, Frame);

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn send(&mut self, argv: &[Vec<u8>]) -> io::Result<()> {
        let mut out = Vec::new();
        Frame::encode_request(argv, &mut out);
        self.writer.write_all(&out)
    }

    fn read(&mut self) -> io::Result<Reply> {
        let mut recorder = Recorder {
            inner: &mut self.reader,
            taken: Vec::new(),
        };
        let frame = Frame::read(&mut recorder)?;
        Ok((recorder.taken, frame))
    }

    fn call(&mut self, argv: &[Vec<u8>]) -> io::Result<Reply> {
        self.send(argv)?;
        self.read()
    }

    /// True if reply bytes have arrived (without waiting for them).
    fn has_data(&mut self) -> bool {
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

/// The two servers side by side.
struct Servers {
    redis: RedisServer,
    sedis: TestServer,
    /// Out-of-band connections (FLUSHALL, INFO) that scripts never see.
    redis_admin: Conn,
    sedis_admin: Conn,
}

impl Servers {
    fn start() -> Servers {
        let redis = RedisServer::start();
        let sedis = TestServer::start();
        let redis_admin = Conn::connect(redis.addr()).expect("connect to redis-server");
        let sedis_admin = Conn::connect(sedis.addr).expect("connect to sedis");
        Servers {
            redis,
            sedis,
            redis_admin,
            sedis_admin,
        }
    }

    fn flushall(&mut self) {
        for (who, conn) in [
            ("redis", &mut self.redis_admin),
            ("sedis", &mut self.sedis_admin),
        ] {
            let reply = conn.call(&[b"FLUSHALL".to_vec()]);
            assert!(
                matches!(&reply, Ok((raw, _)) if raw == b"+OK\r\n"),
                "FLUSHALL on {who}: {reply:?}"
            );
        }
    }

    /// Clients blocked right now on (Redis, sedis).
    fn blocked_clients(&mut self) -> (usize, usize) {
        let info = self
            .redis_admin
            .call(&[b"INFO".to_vec(), b"clients".to_vec()])
            .expect("INFO clients from redis-server");
        let text = String::from_utf8_lossy(info.1.as_bytes().unwrap_or_default()).into_owned();
        let redis = text
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("blocked_clients in INFO");
        let sedis = self.sedis.handle().state().keyspace().blocked.count();
        (redis, sedis)
    }
}

/// A script connection: the same connection to each server.
#[derive(Default)]
struct ConnPair {
    open: Option<(Conn, Conn)>,
    /// How the reply of a `@block`ed command is to be compared.
    blocked: Option<(Step, Vec<Vec<u8>>)>,
}

// ---------------------------------------------------------------------------
// Showing replies

/// A reply as one readable line, in redis-cli's words.
fn show(frame: &Frame) -> String {
    let mut out = String::new();
    show_into(frame, &mut out);
    out
}

fn show_into(frame: &Frame, out: &mut String) {
    let list = |out: &mut String, open: &str, items: &[Frame], close: &str| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            show_into(item, out);
        }
        out.push_str(close);
    };
    let pairs = |out: &mut String, open: &str, pairs: &[(Frame, Frame)]| {
        out.push_str(open);
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            show_into(k, out);
            out.push_str(": ");
            show_into(v, out);
        }
        out.push('}');
    };
    match frame {
        Frame::Simple(s) => {
            let _ = write!(out, "{}", String::from_utf8_lossy(s));
        }
        Frame::Error(s) => {
            let _ = write!(out, "(error) {}", String::from_utf8_lossy(s));
        }
        Frame::Integer(n) => {
            let _ = write!(out, "(integer) {n}");
        }
        Frame::Bulk(b) => out.push_str(&escape(b)),
        Frame::NullBulk => out.push_str("(nil)"),
        Frame::NullArray => out.push_str("(nil array)"),
        Frame::Null => out.push_str("(null)"),
        Frame::Double(d) => {
            let _ = write!(out, "(double) {}", String::from_utf8_lossy(d));
        }
        Frame::Boolean(b) => {
            let _ = write!(out, "({b})");
        }
        Frame::BigNumber(n) => {
            let _ = write!(out, "(big number) {}", String::from_utf8_lossy(n));
        }
        Frame::Verbatim { format, text } => {
            let _ = write!(
                out,
                "(verbatim {}) {}",
                String::from_utf8_lossy(format),
                escape(text)
            );
        }
        Frame::Array(items) => list(out, "[", items, "]"),
        Frame::Set(items) => list(out, "~{", items, "}"),
        Frame::Push(items) => list(out, ">[", items, "]"),
        Frame::Map(p) => pairs(out, "{", p),
        Frame::Attribute(p, inner) => {
            pairs(out, "|{", p);
            out.push(' ');
            show_into(inner, out);
        }
    }
}

/// Bytes as a double-quoted string with escapes, cut at 2000 characters.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        if out.len() > 2000 {
            out.push_str("...");
            break;
        }
    }
    out.push('"');
    out
}

/// What one server said: a reply, or what went wrong reading it.
type Outcome = Result<Reply, String>;

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Ok((raw, frame)) => format!("{}\n           raw: {}", show(frame), escape(raw)),
        Err(e) => format!("(no reply: {e})"),
    }
}

// ---------------------------------------------------------------------------
// Comparing

/// The type and length of a reply, recursively; errors keep their text.
fn shape(frame: &Frame) -> String {
    let aggregate = |tag: &str, items: &[Frame]| {
        let inner: Vec<String> = items.iter().map(shape).collect();
        format!("{tag}{}[{}]", items.len(), inner.join(","))
    };
    match frame {
        Frame::Simple(_) => "simple".into(),
        Frame::Error(e) => format!("error {}", String::from_utf8_lossy(e)),
        Frame::Integer(_) => "integer".into(),
        Frame::Bulk(_) => "bulk".into(),
        Frame::NullBulk => "nil".into(),
        Frame::NullArray => "nil-array".into(),
        Frame::Null => "null".into(),
        Frame::Double(_) => "double".into(),
        Frame::Boolean(_) => "boolean".into(),
        Frame::BigNumber(_) => "bignumber".into(),
        Frame::Verbatim { format, .. } => format!("verbatim {}", String::from_utf8_lossy(format)),
        Frame::Array(items) => aggregate("array", items),
        Frame::Set(items) => aggregate("set", items),
        Frame::Push(items) => aggregate("push", items),
        Frame::Map(pairs) | Frame::Attribute(pairs, _) => {
            let flat: Vec<Frame> = pairs
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect();
            aggregate("map", &flat)
        }
    }
}

/// Replaces the values of `fields` in a map or flat key/value array.
fn blank_fields(frame: &Frame, fields: &[&str]) -> Frame {
    let hidden = |key: &Frame| {
        key.as_bytes()
            .is_some_and(|k| fields.iter().any(|f| f.as_bytes() == k))
    };
    match frame {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| {
                    let v = if hidden(k) {
                        Frame::Simple(b"<normalised>".to_vec())
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let mut out = items.clone();
            for i in (0..out.len().saturating_sub(1)).step_by(2) {
                if hidden(&items[i]) {
                    out[i + 1] = Frame::Simple(b"<normalised>".to_vec());
                }
            }
            Frame::Array(out)
        }
        other => other.clone(),
    }
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode(&mut out);
    out
}

/// The elements of an array-like reply (a map's pairs), sorted by their
/// encoding.
fn sorted_elements(frame: &Frame) -> Option<(String, Vec<Vec<u8>>)> {
    let (tag, items) = match frame {
        Frame::Array(items) => ("array", items),
        Frame::Set(items) => ("set", items),
        Frame::Map(pairs) => {
            let mut encoded: Vec<Vec<u8>> = pairs
                .iter()
                .map(|(k, v)| [encode(k), encode(v)].concat())
                .collect();
            encoded.sort();
            return Some((format!("map{}", pairs.len()), encoded));
        }
        _ => return None,
    };
    let mut encoded: Vec<Vec<u8>> = items.iter().map(encode).collect();
    encoded.sort();
    Some((format!("{tag}{}", items.len()), encoded))
}

/// Whether two replies agree under `compare` (and the normalisation table).
fn replies_agree(argv: &[Vec<u8>], compare: Compare, redis: &Reply, sedis: &Reply) -> bool {
    let (r_raw, r) = redis;
    let (s_raw, s) = sedis;
    if r.is_error() || s.is_error() {
        return r_raw == s_raw;
    }
    match compare {
        Compare::Shape => shape(r) == shape(s),
        Compare::Sorted => match (sorted_elements(r), sorted_elements(s)) {
            (Some(a), Some(b)) => a == b,
            _ => r_raw == s_raw,
        },
        Compare::Approx(slack) => match (r, s) {
            (Frame::Integer(a), Frame::Integer(b)) => (a - b).abs() <= slack,
            _ => r_raw == s_raw,
        },
        // Cursors are the implementation's own: the caller compares what a
        // whole iteration returns.
        Compare::Scan => true,
        Compare::Exact => match normalisation(argv) {
            None => r_raw == s_raw,
            Some(Norm::Shape) => shape(r) == shape(s),
            Some(Norm::Fields(fields)) => {
                encode(&blank_fields(r, fields)) == encode(&blank_fields(s, fields))
            }
        },
    }
}

/// One difference found.
struct Mismatch {
    file: String,
    line: usize,
    protocol: u8,
    conn: usize,
    text: String,
    note: String,
    redis: Outcome,
    sedis: Outcome,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "tests/compat/{}:{} [RESP{}, connection {}] {}",
            self.file,
            self.line,
            self.protocol,
            self.conn + 1,
            self.text
        )?;
        if !self.note.is_empty() {
            writeln!(f, "    {}", self.note)?;
        }
        writeln!(f, "    redis: {}", describe(&self.redis))?;
        writeln!(f, "    sedis: {}", describe(&self.sedis))
    }
}

/// One pass over a script in one protocol.
struct Run<'a> {
    servers: &'a mut Servers,
    file: &'a str,
    protocol: u8,
    conns: Vec<ConnPair>,
    mismatches: Vec<Mismatch>,
}

impl Run<'_> {
    fn mismatch(&mut self, step: &Step, note: String, redis: Outcome, sedis: Outcome) {
        self.mismatches.push(Mismatch {
            file: self.file.to_string(),
            line: step.line,
            protocol: self.protocol,
            conn: step.conn,
            text: step.text.clone(),
            note,
            redis,
            sedis,
        });
    }

    /// The step's connection pair, opened (with HELLO 3 in a RESP3 run) if
    /// it is not open yet.
    fn conn(&mut self, step: &Step) -> Option<&mut (Conn, Conn)> {
        if self.conns[step.conn].open.is_none() {
            let redis = Conn::connect(self.servers.redis.addr());
            let sedis = Conn::connect(self.servers.sedis.addr);
            let (mut redis, mut sedis) = match (redis, sedis) {
                (Ok(r), Ok(s)) => (r, s),
                (r, s) => {
                    let r = r.map(|_| (Vec::new(), Frame::Null));
                    let s = s.map(|_| (Vec::new(), Frame::Null));
                    self.mismatch(
                        step,
                        "could not connect".into(),
                        r.map_err(|e| e.to_string()),
                        s.map_err(|e| e.to_string()),
                    );
                    return None;
                }
            };
            if self.protocol == 3 {
                let hello = vec![b"HELLO".to_vec(), b"3".to_vec()];
                let r = redis.call(&hello).map_err(|e| e.to_string());
                let s = sedis.call(&hello).map_err(|e| e.to_string());
                let agree = matches!((&r, &s), (Ok(r), Ok(s)) if replies_agree(&hello, Compare::Exact, r, s));
                if !agree {
                    self.mismatch(step, "opening HELLO 3".into(), r, s);
                    return None;
                }
            }
            self.conns[step.conn].open = Some((redis, sedis));
        }
        self.conns[step.conn].open.as_mut()
    }

    fn run(&mut self, steps: &[Step]) {
        for step in steps {
            match &step.action {
                Action::Sleep(d) => std::thread::sleep(*d),
                Action::Command(argv) => self.command(step, argv),
                Action::Block(argv) => self.block(step, argv),
                Action::NoReply(argv) => self.send_only(step, argv),
                Action::Reply => self.reply(step),
                Action::Read => self.read_pushed(step),
            }
        }
        for pair in &self.conns {
            if let Some((blocked, _)) = &pair.blocked {
                panic!(
                    "tests/compat/{}:{}: @block without a matching @reply",
                    self.file, blocked.line
                );
            }
        }
    }

    fn command(&mut self, step: &Step, argv: &[Vec<u8>]) {
        if self.conns[step.conn].blocked.is_some() {
            panic!(
                "tests/compat/{}:{}: connection {} is still blocked (use @reply first)",
                self.file,
                step.line,
                step.conn + 1
            );
        }
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        // Send to both before reading either: the two servers see the
        // command at nearly the same moment (expiry).
        let r = redis.send(argv).and_then(|()| redis.read());
        let s = sedis.send(argv).and_then(|()| sedis.read());
        let (r, s) = (r.map_err(|e| e.to_string()), s.map_err(|e| e.to_string()));
        let closes = argv[0].eq_ignore_ascii_case(b"quit");
        self.compare(step, argv, r, s, closes);
    }

    /// `@noreply`: sends the command to both servers and reads nothing.
    fn send_only(&mut self, step: &Step, argv: &[Vec<u8>]) {
        if self.conns[step.conn].blocked.is_some() {
            panic!(
                "tests/compat/{}:{}: connection {} is still blocked (use @reply first)",
                self.file,
                step.line,
                step.conn + 1
            );
        }
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        let sent = redis.send(argv).and_then(|()| sedis.send(argv));
        if let Err(e) = sent {
            self.conns[step.conn].open = None;
            self.mismatch(
                step,
                "send failed".into(),
                Err(e.to_string()),
                Err(e.to_string()),
            );
        }
    }

    /// `@read`: one more frame from each server on the connection.
    fn read_pushed(&mut self, step: &Step) {
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        let r = redis.read().map_err(|e| e.to_string());
        let s = sedis.read().map_err(|e| e.to_string());
        self.compare(step, &[b"@read".to_vec()], r, s, false);
    }

    /// Compares one pair of replies (scanning on, for `@scan`).
    fn compare(&mut self, step: &Step, argv: &[Vec<u8>], r: Outcome, s: Outcome, closes: bool) {
        let (r, s) = match (r, s) {
            (Ok(r), Ok(s)) => (r, s),
            (r, s) => {
                // A connection that failed mid-reply is out of step: start
                // the pair again.
                self.conns[step.conn].open = None;
                self.mismatch(step, String::new(), r, s);
                return;
            }
        };
        if closes {
            self.conns[step.conn].open = None;
        }
        if !replies_agree(argv, step.compare, &r, &s) {
            self.mismatch(step, String::new(), Ok(r), Ok(s));
            return;
        }
        if step.compare == Compare::Scan && !r.1.is_error() {
            self.scan_rest(step, argv, r.1, s.1);
        }
    }

    /// Finishes a `@scan` on each server and compares what each returned.
    fn scan_rest(&mut self, step: &Step, argv: &[Vec<u8>], r: Frame, s: Frame) {
        let at = scan_cursor_index(argv).expect("checked when parsed");
        // HSCAN and ZSCAN return pairs; SCAN and SSCAN single items.
        let pairs =
            !argv[0].eq_ignore_ascii_case(b"scan") && !argv[0].eq_ignore_ascii_case(b"sscan");
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        let r_all = scan_all(redis, argv, at, r, pairs);
        let s_all = scan_all(sedis, argv, at, s, pairs);
        if r_all != s_all {
            let shown = |all: &Result<Vec<Vec<u8>>, String>| -> Outcome {
                all.as_ref()
                    .map(|items| {
                        let raw = items.join(&b' ');
                        let frame =
                            Frame::Array(items.iter().map(|i| Frame::Bulk(i.clone())).collect());
                        (raw, frame)
                    })
                    .map_err(Clone::clone)
            };
            self.mismatch(
                step,
                "a full iteration returned different elements (sorted)".into(),
                shown(&r_all),
                shown(&s_all),
            );
        }
    }

    fn block(&mut self, step: &Step, argv: &[Vec<u8>]) {
        if self.conns[step.conn].blocked.is_some() {
            panic!(
                "tests/compat/{}:{}: connection {} is already blocked",
                self.file,
                step.line,
                step.conn + 1
            );
        }
        let before = self.servers.blocked_clients();
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        let sent = redis.send(argv).and_then(|()| sedis.send(argv));
        if let Err(e) = sent {
            self.conns[step.conn].open = None;
            self.mismatch(
                step,
                "send failed".into(),
                Err(e.to_string()),
                Err(e.to_string()),
            );
            return;
        }
        // Wait until each server has either blocked the client or replied.
        let deadline = Instant::now() + BLOCK_TIMEOUT;
        let (mut r_state, mut s_state) = (None, None);
        while Instant::now() < deadline && (r_state.is_none() || s_state.is_none()) {
            let now = self.servers.blocked_clients();
            let (redis, sedis) = self.conns[step.conn].open.as_mut().expect("open");
            if r_state.is_none() {
                if now.0 > before.0 {
                    r_state = Some(true);
                } else if redis.has_data() {
                    r_state = Some(false);
                }
            }
            if s_state.is_none() {
                if now.1 > before.1 {
                    s_state = Some(true);
                } else if sedis.has_data() {
                    s_state = Some(false);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.conns[step.conn].blocked = Some((step.clone(), argv.to_vec()));
        if r_state != Some(true) || s_state != Some(true) {
            let state = |b: Option<bool>| match b {
                Some(true) => "blocked",
                Some(false) => "replied at once",
                None => "neither blocked nor replied",
            };
            self.mismatch(
                step,
                format!(
                    "expected the command to block: redis {}, sedis {}",
                    state(r_state),
                    state(s_state)
                ),
                Err("see @reply".into()),
                Err("see @reply".into()),
            );
        }
    }

    fn reply(&mut self, step: &Step) {
        let Some((blocked, argv)) = self.conns[step.conn].blocked.take() else {
            panic!(
                "tests/compat/{}:{}: @reply on connection {} without @block",
                self.file,
                step.line,
                step.conn + 1
            );
        };
        let Some((redis, sedis)) = self.conns[step.conn].open.as_mut() else {
            return;
        };
        let r = redis.read().map_err(|e| e.to_string());
        let s = sedis.read().map_err(|e| e.to_string());
        let mut shown = blocked.clone();
        shown.line = step.line;
        shown.text = format!("@reply to line {}: {}", blocked.line, blocked.text);
        self.compare(&shown, &argv, r, s, false);
    }
}

/// Runs a SCAN-family iteration to its end, starting from the reply to
/// its first call; returns every element (or member/value pair), sorted.
fn scan_all(
    conn: &mut Conn,
    argv: &[Vec<u8>],
    at: usize,
    first: Frame,
    pairs: bool,
) -> Result<Vec<Vec<u8>>, String> {
    let mut items = Vec::new();
    let mut reply = first;
    for _ in 0..100_000 {
        let Frame::Array(parts) = &reply else {
            return Err(format!("not a scan reply: {}", show(&reply)));
        };
        let [cursor, Frame::Array(found) | Frame::Set(found)] = parts.as_slice() else {
            return Err(format!("not a scan reply: {}", show(&reply)));
        };
        let elements: Vec<Vec<u8>> = found
            .iter()
            .map(|f| {
                f.as_bytes()
                    .map(<[u8]>::to_vec)
                    .unwrap_or_else(|| encode(f))
            })
            .collect();
        if pairs {
            items.extend(elements.chunks(2).map(|c| c.join(&b' ')));
        } else {
            items.extend(elements);
        }
        let cursor = cursor.as_bytes().unwrap_or_default().to_vec();
        if cursor == b"0" {
            items.sort();
            return Ok(items);
        }
        let mut next = argv.to_vec();
        next[at] = cursor;
        reply = conn.call(&next).map_err(|e| e.to_string())?.1;
    }
    Err("the iteration did not end".into())
}

/// Runs one script in RESP2 and in RESP3 and fails with every difference.
fn run_script(name: &str) {
    let steps = load_script(name);
    let mut servers = Servers::start();
    let file = format!("{name}.txt");
    let mut mismatches = Vec::new();
    for protocol in [2, 3] {
        servers.flushall();
        let mut run = Run {
            servers: &mut servers,
            file: &file,
            protocol,
            conns: (0..CONNECTIONS).map(|_| ConnPair::default()).collect(),
            mismatches: Vec::new(),
        };
        run.run(&steps);
        mismatches.append(&mut run.mismatches);
    }
    if !mismatches.is_empty() {
        let mut report = format!(
            "{} difference(s) between Redis {REDIS_VERSION} and sedis in {file}:\n\n",
            mismatches.len()
        );
        for m in &mismatches {
            let _ = writeln!(report, "{m}");
        }
        panic!("{report}");
    }
}

macro_rules! scripts {
    ($($name:ident),* $(,)?) => {
        /// Every script, by file name (without `.txt`).
        const SCRIPTS: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            #[ignore = "needs redis-server 7.0.15 (apt-get install -y redis-server)"]
            fn $name() {
                run_script(stringify!($name));
            }
        )*
    };
}

scripts!(
    strings,
    keys,
    expire,
    tx,
    connection,
    lists,
    zsets,
    blocking,
    memory,
    pubsub,
    hashes,
    sets,
    introspection
);

/// Every key of databases 0 and 1 as comparable text: type, encoding,
/// whether it has a TTL, then the contents in a fixed order (members
/// sorted).
fn describe_keys(conn: &mut Conn) -> Vec<String> {
    let mut out = describe_db(conn, 1);
    out.extend(describe_db(conn, 0));
    out
}

fn describe_db(conn: &mut Conn, db: usize) -> Vec<String> {
    let call = |conn: &mut Conn, args: &[&str]| -> Frame {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        conn.call(&argv).expect("reply").1
    };
    call(conn, &["SELECT", &db.to_string()]);
    let Frame::Array(keys) = call(conn, &["KEYS", "*"]) else {
        panic!("KEYS");
    };
    let mut out = Vec::new();
    for key in keys {
        let key = String::from_utf8(key.as_bytes().expect("bulk").to_vec()).expect("utf-8");
        let Frame::Simple(kind) = call(conn, &["TYPE", &key]) else {
            panic!("TYPE");
        };
        let kind = String::from_utf8(kind).expect("utf-8");
        let contents = match kind.as_str() {
            "string" => vec![format!("{:?}", call(conn, &["GET", &key]))],
            "list" => vec![format!("{:?}", call(conn, &["LRANGE", &key, "0", "-1"]))],
            "zset" => vec![format!(
                "{:?}",
                call(conn, &["ZRANGE", &key, "0", "-1", "WITHSCORES"])
            )],
            "hash" => {
                let Frame::Array(items) = call(conn, &["HGETALL", &key]) else {
                    panic!("HGETALL");
                };
                let mut pairs: Vec<String> = items
                    .chunks(2)
                    .map(|p| format!("{:?}={:?}", p[0], p[1]))
                    .collect();
                pairs.sort();
                pairs
            }
            "set" => {
                let Frame::Array(items) = call(conn, &["SMEMBERS", &key]) else {
                    panic!("SMEMBERS");
                };
                let mut members: Vec<String> = items.iter().map(|m| format!("{m:?}")).collect();
                members.sort();
                members
            }
            other => panic!("unexpected type {other}"),
        };
        let encoding = format!("{:?}", call(conn, &["OBJECT", "ENCODING", &key]));
        let has_ttl = !matches!(call(conn, &["PTTL", &key]), Frame::Integer(-1));
        out.push(format!(
            "db{db} {key} {kind} {encoding} ttl={has_ttl} {contents:?}"
        ));
    }
    out.sort();
    out
}

/// Fills the server behind `conn` with every type in each of its
/// encodings, long compressible strings, expiries and two databases.
fn fill_every_type(conn: &mut Conn) {
    let long = "v".repeat(100);
    let compressible = "abc".repeat(1000);
    let mut script: Vec<Vec<String>> = vec![
        vec![
            "SET".into(),
            "str".into(),
            "hello".into(),
            "EX".into(),
            "1000".into(),
        ],
        vec!["SET".into(), "int".into(), "12345".into()],
        vec!["SET".into(), "lzf".into(), compressible],
        vec![
            "RPUSH".into(),
            "list".into(),
            "a".into(),
            "b".into(),
            "c".into(),
        ],
        vec![
            "ZADD".into(),
            "zsmall".into(),
            "1.5".into(),
            "a".into(),
            "-2".into(),
            "b".into(),
        ],
        vec![
            "HSET".into(),
            "hsmall".into(),
            "f".into(),
            "1".into(),
            "g".into(),
            "2".into(),
        ],
        vec!["HSET".into(), "hlong".into(), "f".into(), long],
        vec![
            "SADD".into(),
            "iset".into(),
            "1".into(),
            "-70000".into(),
            "5000000000".into(),
        ],
        vec!["SADD".into(), "sset".into(), "x".into(), "y".into()],
        vec!["PEXPIRE".into(), "sset".into(), "5000000".into()],
        vec!["SELECT".into(), "1".into()],
        vec!["SET".into(), "other-db".into(), "1".into()],
        vec!["SELECT".into(), "0".into()],
    ];
    let mut zbig = vec!["ZADD".to_string(), "zbig".into()];
    let mut hbig = vec!["HSET".to_string(), "hbig".into()];
    let mut sbig = vec!["SADD".to_string(), "ibig".into()];
    let mut lbig = vec!["RPUSH".to_string(), "lbig".into()];
    for i in 0..600 {
        zbig.extend([i.to_string(), format!("m{i}")]);
        hbig.extend([format!("f{i}"), i.to_string()]);
        sbig.push(i.to_string());
        lbig.push(format!("element-{i}-{}", "x".repeat(20)));
    }
    script.extend([zbig, hbig, sbig, lbig]);
    for args in &script {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        let (raw, frame) = conn.call(&argv).expect("reply");
        assert!(
            !frame.is_error(),
            "{args:?}: {}",
            String::from_utf8_lossy(&raw)
        );
    }
}

/// The append-only file sedis writes (a rewrite's base and the commands
/// after it) passes `redis-check-aof` and replays in redis-server to the
/// same contents.
#[test]
#[ignore = "needs redis-server and redis-check-aof 7.0.15; run with --include-ignored"]
fn sedis_aofs_pass_redis_check_aof_and_replay_in_redis() {
    let dir = std::env::temp_dir().join(format!("sedis-aof-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.clone();
    let sedis = TestServer::with_config(move |c| {
        c.dir = d.to_str().unwrap().to_string();
        c.appendonly = true;
        c.appendfsync = sedis::config::FsyncPolicy::Always;
    });
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    fill_every_type(&mut conn);
    conn.call(&[b"BGREWRITEAOF".to_vec()])
        .expect("BGREWRITEAOF");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, info) = conn
            .call(&[b"INFO".to_vec(), b"persistence".to_vec()])
            .expect("INFO");
        let text = String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).into_owned();
        if text.contains("aof_rewrite_in_progress:0") && text.contains("aof_rewrite_scheduled:0") {
            break;
        }
        assert!(Instant::now() < deadline, "the rewrite never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    for args in [
        &["SPOP", "sset"][..],
        &["HINCRBYFLOAT", "hsmall", "f", "0.5"],
        &["LPOP", "list"],
        &["SET", "after", "rewrite", "PX", "9000000"],
        &["ZINCRBY", "zsmall", "2", "b"],
    ] {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        conn.call(&argv).expect("reply");
    }
    let expected = describe_keys(&mut conn);
    drop(conn);
    drop(sedis);

    let manifest = dir.join("appendonlydir").join("appendonly.aof.manifest");
    let check = Command::new("redis-check-aof")
        .arg(&manifest)
        .output()
        .expect("redis-check-aof not found: apt-get install -y redis-tools");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(
        report.contains("All AOF files and manifest are valid"),
        "{report}"
    );

    let redis = RedisServer::start_with(Some(&dir), true);
    let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
    assert_eq!(describe_keys(&mut conn), expected);
}

/// The hostile-input table of `tests/hostile.rs` (exact replies and close
/// behaviour, which sedis must match) holds for redis-server itself: the
/// recordings are Redis's.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn hostile_inputs_get_the_recorded_replies_from_redis() {
    let redis = RedisServer::start();
    for case in common::hostile::table() {
        common::hostile::run(redis.addr(), &case);
    }
}

/// A dump redis-server writes (every type and encoding, LZF strings,
/// expiries, two databases) loads in sedis with the same contents.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn redis_dumps_load_in_sedis() {
    let dir = std::env::temp_dir().join(format!("sedis-rdb-from-redis-{}", std::process::id()));
    let kept = std::env::temp_dir().join(format!("sedis-from-redis-{}.rdb", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let expected = {
        let redis = RedisServer::start_in(Some(&dir));
        let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
        fill_every_type(&mut conn);
        let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
        assert_eq!(raw, b"+OK\r\n");
        // Keep the dump: dropping the server removes its directory.
        std::fs::copy(dir.join("dump.rdb"), &kept).unwrap();
        describe_keys(&mut conn)
    };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::rename(&kept, dir.join("dump.rdb")).unwrap();
    assert_sedis_loads(&dir, &expected);
}

/// Starts sedis over the dump in `dir`, checks it holds `expected`, and
/// removes `dir`.
fn assert_sedis_loads(dir: &Path, expected: &[String]) {
    let d = dir.to_path_buf();
    let sedis = TestServer::with_config(move |c| c.dir = d.to_str().unwrap().to_string());
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    assert_eq!(describe_keys(&mut conn), expected);
    drop(conn);
    drop(sedis);
    std::fs::remove_dir_all(dir).ok();
}

/// A dump in the format Redis 6.2 and older wrote (RDB 9: ziplist hashes,
/// sorted sets and lists, a quicklist of ziplists, a zipmap) loads in sedis
/// with the contents and encodings it gets in redis-server.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn older_dump_formats_load_as_in_redis() {
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ziplist-encodings-v9.rdb");
    let scratch = |who: &str| {
        let dir = std::env::temp_dir().join(format!("sedis-old-rdb-{who}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&dump, dir.join("dump.rdb")).unwrap();
        dir
    };
    let expected = {
        let redis = RedisServer::start_in(Some(&scratch("redis")));
        let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
        describe_keys(&mut conn)
    };
    assert!(expected.len() >= 5, "{expected:?}");
    let dir = scratch("sedis");
    assert_sedis_loads(&dir, &expected);
}

/// A dump sedis writes (every type, both encodings of each) passes
/// `redis-check-rdb` and loads in redis-server with the same contents and
/// encodings.
#[test]
#[ignore = "needs redis-server and redis-check-rdb 7.0.15; run with --include-ignored"]
fn sedis_dumps_pass_redis_check_rdb_and_load_in_redis() {
    let dir = std::env::temp_dir().join(format!("sedis-rdb-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.clone();
    let sedis = TestServer::with_config(move |c| c.dir = d.to_str().unwrap().to_string());
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    fill_every_type(&mut conn);
    let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
    assert_eq!(raw, b"+OK\r\n");
    let expected = describe_keys(&mut conn);
    drop(conn);
    drop(sedis);

    let check = Command::new("redis-check-rdb")
        .arg(dir.join("dump.rdb"))
        .output()
        .expect("redis-check-rdb not found: apt-get install -y redis-tools");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("RDB looks OK"), "{report}");

    let redis = RedisServer::start_in(Some(&dir));
    let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
    assert_eq!(describe_keys(&mut conn), expected);
}

/// What `CLI help NAME` prints for every name, read from stdin.
fn help_output(cli: &str, port: u16, names: &[String]) -> String {
    let mut child = Command::new(cli)
        .args(["-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cli}: {e}"));
    let script: String = names.iter().map(|n| format!("help {n}\n")).collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the help requests");
    let output = child.wait_with_output().expect("help output");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `sedis-cli help NAME` prints, for every name, the synopsis (the line
/// built from COMMAND DOCS "arguments") of each matching command or
/// subcommand: name → synopsis, colours removed.
fn synopses(port: u16, names: &[String]) -> std::collections::BTreeMap<String, String> {
    let text = help_output(env!("CARGO_BIN_EXE_sedis-cli"), port, names).replace("\x1b[0m", "");
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("\x1b[1m"))
        .filter_map(|line| line.split_once(" \x1b[90m"))
        .map(|(name, synopsis)| (name.to_string(), synopsis.to_string()))
        .collect()
}

/// Every command's argument synopsis, as `sedis-cli help` draws it from
/// COMMAND DOCS, is the one redis-server's docs give.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn command_docs_describe_the_arguments_redis_does() {
    let mut servers = Servers::start();
    let (_, list) = servers
        .sedis_admin
        .call(&[b"COMMAND".to_vec(), b"LIST".to_vec()])
        .expect("COMMAND LIST");
    let Frame::Array(names) = list else {
        panic!("COMMAND LIST: {list:?}")
    };
    let names: Vec<String> = names
        .iter()
        .filter_map(|n| n.as_bytes())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let ours = synopses(servers.sedis.addr.port(), &names);
    let theirs = synopses(servers.redis.port, &names);
    // COMMAND LIST names subcommands too, as `client|kill`.
    assert!(ours.len() >= names.len() && names.len() > 200, "{ours:?}");
    assert_eq!(ours["GETEX"].split(' ').next(), Some("key"));
    // CLIENT SETINFO arrived in Redis 7.2.
    let newer = ["CLIENT SETINFO"];
    let mut differ = Vec::new();
    for (name, synopsis) in &ours {
        match theirs.get(name) {
            Some(expected) if expected == synopsis => {}
            None if newer.contains(&name.as_str()) => {}
            other => differ.push(format!("{name}: sedis {synopsis:?}, redis {other:?}")),
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // redis-cli builds its help from the same reply, and prints it alike.
    let port = servers.sedis.addr.port();
    assert_eq!(
        help_output("redis-cli", port, &names),
        help_output(env!("CARGO_BIN_EXE_sedis-cli"), port, &names)
    );
}

/// COMMAND INFO for every command and subcommand is Redis's, byte for byte
/// and in both protocols: arity, flags, legacy key range, ACL categories,
/// tips and key specs. Only a container's list of subcommands is compared
/// as a set of names (Redis lists them in its hash table's order, and sedis
/// has fewer); each subcommand is compared on its own.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn command_info_is_what_redis_reports() {
    let servers = Servers::start();
    for protocol in ["2", "3"] {
        let mut sedis = Conn::connect(servers.sedis.addr).expect("connect to sedis");
        let mut redis = Conn::connect(servers.redis.addr()).expect("connect to redis-server");
        for conn in [&mut sedis, &mut redis] {
            conn.call(&[b"HELLO".to_vec(), protocol.as_bytes().to_vec()])
                .expect("HELLO");
        }
        let (_, list) = sedis
            .call(&[b"COMMAND".to_vec(), b"LIST".to_vec()])
            .expect("COMMAND LIST");
        let Frame::Array(names) = list else {
            panic!("COMMAND LIST: {list:?}")
        };
        assert!(names.len() > 200, "{names:?}");
        let mut differ = Vec::new();
        for name in names.iter().filter_map(Frame::as_bytes) {
            let info = |conn: &mut Conn| {
                conn.call(&[b"COMMAND".to_vec(), b"INFO".to_vec(), name.to_vec()])
                    .expect("COMMAND INFO")
            };
            // CLIENT SETINFO arrived in Redis 7.2.
            if name == b"client|setinfo" {
                continue;
            }
            let (ours, theirs) = (info(&mut sedis), info(&mut redis));
            if ours.0 == theirs.0 {
                continue;
            }
            // Redis has subcommands sedis lacks, and 7.0 lacks SETINFO.
            let (our_fields, our_subs) = subcommand_names(&ours.1, &|n| n != b"client|setinfo");
            let (their_fields, their_subs) =
                subcommand_names(&theirs.1, &|n| our_subs.iter().any(|ours| ours == n));
            if our_fields != their_fields || our_subs != their_subs {
                differ.push(format!(
                    "{}:\n  sedis {}\n  redis {}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(&ours.0),
                    String::from_utf8_lossy(&theirs.0)
                ));
            }
        }
        assert!(differ.is_empty(), "RESP{protocol}:\n{}", differ.join("\n"));
    }
}

/// A container's COMMAND INFO with its subcommand entries reduced to their
/// sorted names, keeping only `keep` (the names the other server has).
fn subcommand_names(reply: &Frame, keep: &dyn Fn(&[u8]) -> bool) -> (Frame, Vec<Vec<u8>>) {
    let mut reply = reply.clone();
    let mut names = Vec::new();
    if let Frame::Array(commands) = &mut reply
        && let Some(Frame::Array(fields)) = commands.first_mut()
        && let Some(Frame::Array(subs) | Frame::Set(subs)) = fields.get_mut(9)
    {
        names = subs
            .iter()
            .filter_map(|sub| match sub {
                Frame::Array(entry) => entry.first().and_then(Frame::as_bytes),
                _ => None,
            })
            .filter(|name| keep(name))
            .map(<[u8]>::to_vec)
            .collect();
        names.sort();
        subs.clear();
    }
    (reply, names)
}

// ---------------------------------------------------------------------------
// Differential fuzzing

/// Commands left out of random testing: they block, stop the server, change
/// the connection's mode or the configuration, or answer with what differs
/// between any two servers (ids, times, randomness, cursors).
const NOT_RANDOMISED: &[&str] = &[
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "shutdown",
    "debug",
    "save",
    "bgsave",
    "bgrewriteaof",
    "config",
    "client",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "quit",
    "reset",
    "hello",
    "auth",
    "info",
    "time",
    "lastsave",
    "command",
    "memory",
    "randomkey",
    "spop",
    "srandmember",
    "hrandfield",
    "zrandmember",
    "scan",
    "sscan",
    "hscan",
    "zscan",
    "pttl",
    "ttl",
    "object",
    "pubsub",
    "publish",
    "spublish",
    "flushall",
];

/// Replies whose order is a hash table's: compared sorted.
const UNORDERED: &[&str] = &[
    "smembers", "sinter", "sunion", "sdiff", "keys", "hgetall", "hkeys", "hvals",
];

/// Commands whose integer arguments may set a time to live: given only
/// values that expire nothing during the run (or at once), so that the two
/// servers never race a deadline.
const SETS_TTL: &[&str] = &[
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "setex",
    "psetex",
    "set",
    "getex",
];

const RANDOM_KEYS: &[&str] = &["k1", "k2", "k3", "k4", "k5"];

struct Generator {
    rng: sedis::internals::rng::Rng,
    sets_ttl: bool,
}

impl Generator {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.below(from.len() as u64) as usize]
    }

    /// Appends random words for `arg`: optional parts half the time,
    /// repeated ones one to three times, values from small pools with the
    /// edge cases Redis's parsers care about.
    fn fill(&mut self, arg: &syntax::Arg, out: &mut Vec<Vec<u8>>) {
        use syntax::Kind;
        if arg.optional && self.rng.below(2) == 0 {
            return;
        }
        let times = if arg.multiple {
            1 + self.rng.below(3)
        } else {
            1
        };
        for _ in 0..times {
            if let Some(token) = arg.token {
                out.push(token.as_bytes().to_vec());
            }
            let word = match arg.kind {
                Kind::PureToken => continue,
                Kind::OneOf => {
                    let choice = &arg.children[self.rng.below(arg.children.len() as u64) as usize];
                    self.fill(choice, out);
                    continue;
                }
                Kind::Block => {
                    for child in &arg.children {
                        self.fill(child, out);
                    }
                    continue;
                }
                Kind::Key => self.pick(RANDOM_KEYS),
                Kind::Integer if self.sets_ttl => self.pick(&[
                    "0",
                    "-1",
                    "-100",
                    "100000",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "abc",
                    "1.5",
                    "",
                    "007",
                ]),
                Kind::Integer => self.pick(&[
                    "0",
                    "1",
                    "2",
                    "3",
                    "-1",
                    "-2",
                    "5",
                    "10",
                    "100",
                    "-100",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "9223372036854775808",
                    "abc",
                    "1.5",
                    "",
                    "007",
                    "+1",
                ]),
                Kind::Double => self.pick(&[
                    "0", "1", "1.5", "-2.5", "inf", "-inf", "+inf", "1e3", "abc", "nan", "(1",
                    "(2", "-0", "3",
                ]),
                Kind::Pattern => self.pick(&["*", "k*", "k[1-3]", "?", "a*"]),
                Kind::UnixTime if self.sets_ttl => self.pick(&["9999999999999", "x", "-1", "0"]),
                Kind::UnixTime => self.pick(&["0", "1", "99999999999", "-1", "x"]),
                Kind::String => self.pick(&[
                    "a",
                    "b",
                    "c",
                    "1",
                    "2",
                    "10",
                    "-1",
                    "",
                    "hello",
                    "(a",
                    "[a",
                    "[b",
                    "-",
                    "+",
                    "ab",
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                ]),
            };
            out.push(word.as_bytes().to_vec());
        }
    }
}

/// What a server holds, as seen from a second connection: the type of every
/// key of database 0 and each database's key and TTL counts.
fn keyspace_state(conn: &mut Conn) -> Vec<Vec<u8>> {
    let mut state: Vec<Vec<u8>> = RANDOM_KEYS
        .iter()
        .map(|k| {
            conn.call(&[b"TYPE".to_vec(), k.as_bytes().to_vec()])
                .expect("TYPE")
                .0
        })
        .collect();
    let (_, info) = conn
        .call(&[b"INFO".to_vec(), b"keyspace".to_vec()])
        .expect("INFO keyspace");
    let text = String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).into_owned();
    // avg_ttl is an estimate each server makes its own way.
    let counts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("db"))
        .map(|l| l.split(",avg_ttl").next().unwrap_or(l))
        .collect();
    state.push(counts.join(" ").into_bytes());
    state
}

/// Sends `count` random commands (from every randomised command's argument
/// synopsis, sometimes one word short) to both servers over one connection
/// each, comparing every reply, and what each server then holds.
fn random_session(protocol: u8, seed: u64, count: usize) {
    let mut servers = Servers::start();
    let mut redis = Conn::connect(servers.redis.addr()).expect("connect to redis-server");
    let mut sedis = Conn::connect(servers.sedis.addr).expect("connect to sedis");
    if protocol == 3 {
        for conn in [&mut redis, &mut sedis] {
            conn.call(&[b"HELLO".to_vec(), b"3".to_vec()])
                .expect("HELLO 3");
        }
    }
    let commands: Vec<(&str, Vec<syntax::Arg>)> = registry()
        .top_level()
        .map(|(_, e)| e.command)
        .filter(|c| !c.is_container() && !NOT_RANDOMISED.contains(&c.name))
        .map(|c| (c.name, syntax::parse(c.doc.syntax).expect("synopsis")))
        .collect();
    let mut generator = Generator {
        rng: sedis::internals::rng::Rng::with_seed(seed),
        sets_ttl: false,
    };
    let mut history: Vec<String> = Vec::new();
    let mut queued: Option<Vec<&str>> = None;
    for _ in 0..count {
        let (name, args) = &commands[generator.rng.below(commands.len() as u64) as usize];
        generator.sets_ttl = SETS_TTL.contains(name);
        let mut argv = vec![name.as_bytes().to_vec()];
        for arg in args {
            generator.fill(arg, &mut argv);
        }
        if argv.len() > 1 && generator.rng.below(20) == 0 {
            let drop = 1 + generator.rng.below(argv.len() as u64 - 1) as usize;
            argv.remove(drop);
        }
        let line = argv.iter().map(|a| escape(a)).collect::<Vec<_>>().join(" ");
        history.push(line.clone());
        let r = redis.call(&argv).expect("reply from redis-server");
        let s = sedis.call(&argv).expect("reply from sedis");
        let compare = match *name {
            "multi" => {
                queued = Some(Vec::new());
                Compare::Exact
            }
            "exec" | "discard" => match queued.take() {
                Some(q) if q.iter().any(|n| UNORDERED.contains(n)) => Compare::Shape,
                _ => Compare::Exact,
            },
            n if UNORDERED.contains(&n) => Compare::Sorted,
            _ => Compare::Exact,
        };
        if let Some(q) = &mut queued
            && *name != "multi"
        {
            q.push(name);
        }
        let recent = || history[history.len().saturating_sub(15)..].join("\n");
        assert!(
            replies_agree(&argv, compare, &r, &s),
            "RESP{protocol} seed {seed}: {line}\n redis: {}\n sedis: {}\nafter:\n{}",
            describe(&Ok(r.clone())),
            describe(&Ok(s.clone())),
            recent()
        );
        let expected = keyspace_state(&mut servers.redis_admin);
        assert_eq!(
            keyspace_state(&mut servers.sedis_admin),
            expected,
            "RESP{protocol} seed {seed}: the keyspaces differ after {line}\nafter:\n{}",
            recent()
        );
    }
}

/// Thousands of random commands, valid and not, get the same replies from
/// sedis as from redis-server, and leave the same keys behind.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn random_commands_get_the_replies_redis_gives() {
    random_session(2, 1, 10_000);
    random_session(3, 2, 10_000);
}

// ---------------------------------------------------------------------------
// Checks that need only Rust

#[test]
fn every_script_parses_and_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(scripts_dir())
        .expect("tests/compat")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = SCRIPTS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "each tests/compat/*.txt needs a line in scripts!()"
    );
    for name in SCRIPTS {
        assert!(!load_script(name).is_empty(), "{name}.txt is empty");
    }
}

#[test]
fn lines_split_like_redis_cli() {
    let words = |line: &str| -> Vec<Vec<u8>> {
        split_args(line)
            .unwrap()
            .into_iter()
            .map(|(w, _)| w)
            .collect()
    };
    assert_eq!(
        words("SET k  v"),
        [b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
    );
    assert_eq!(
        words(r#"SET "a b\x00\xff\n\"" 'it\'s \n'"#),
        [
            b"SET".to_vec(),
            b"a b\x00\xff\n\"".to_vec(),
            b"it's \\n".to_vec()
        ]
    );
    assert_eq!(words(r#"SET "" ''"#), [b"SET".to_vec(), vec![], vec![]]);
    assert!(split_args(r#"SET "abc"#).is_err());
    assert!(split_args(r#"SET "a"b"#).is_err());
    assert!(split_args("SET 'a").is_err());
}

#[test]
fn directives_parse() {
    let step = parse_line(3, "@conn2 @sorted KEYS *").unwrap();
    assert_eq!(step.conn, 1);
    assert_eq!(step.compare, Compare::Sorted);
    assert_eq!(
        step.action,
        Action::Command(vec![b"KEYS".to_vec(), b"*".to_vec()])
    );
    let step = parse_line(4, r#"ECHO "@conn2""#).unwrap();
    assert_eq!(
        step.action,
        Action::Command(vec![b"ECHO".to_vec(), b"@conn2".to_vec()])
    );
    assert_eq!(
        parse_line(5, "@sleep 20").unwrap().action,
        Action::Sleep(Duration::from_millis(20))
    );
    assert_eq!(
        parse_line(6, "@approx 5 PTTL k").unwrap().compare,
        Compare::Approx(5)
    );
    assert!(matches!(
        parse_line(7, "@block BLPOP k 0").unwrap().action,
        Action::Block(_)
    ));
    assert_eq!(parse_line(8, "@conn3 @reply").unwrap().conn, 2);
    assert!(parse_line(9, "@bogus PING").is_err());
    assert!(parse_line(10, "@scan GET k").is_err());
    assert!(parse_line(11, "@hello 4").is_err());
    assert_eq!(
        parse_line(12, "@conn2 @noreply CLIENT REPLY OFF")
            .unwrap()
            .action,
        Action::NoReply(vec![b"CLIENT".to_vec(), b"REPLY".to_vec(), b"OFF".to_vec()])
    );
    assert!(parse_line(13, "@noreply @block BLPOP k 0").is_err());
    assert!(parse_line(14, "@noreply @read").is_err());
}

#[test]
fn normalisation_keeps_what_is_not_listed() {
    let hello2 = Frame::Array(vec![
        Frame::Bulk(b"server".to_vec()),
        Frame::Bulk(b"redis".to_vec()),
        Frame::Bulk(b"proto".to_vec()),
        Frame::Integer(2),
        Frame::Bulk(b"id".to_vec()),
        Frame::Integer(7),
    ]);
    let other = blank_fields(&hello2, &["server", "id"]);
    let Frame::Array(items) = &other else {
        panic!("array")
    };
    assert_eq!(items[3], Frame::Integer(2));
    assert_eq!(items[5], Frame::Simple(b"<normalised>".to_vec()));
    assert_eq!(normalisation(&[b"GET".to_vec()]), None);
    assert_eq!(
        normalisation(&[b"object".to_vec(), b"IDLETIME".to_vec()]),
        Some(Norm::Shape)
    );
    assert_eq!(
        normalisation(&[b"object".to_vec(), b"encoding".to_vec()]),
        None
    );
    assert_ne!(
        shape(&Frame::Array(vec![Frame::Bulk(vec![])])),
        shape(&Frame::Array(vec![Frame::NullBulk]))
    );
}

// ---------------------------------------------------------------------------
// Configuration: the parameter set, every parameter's edges, and config
// files moving between the servers.

/// Every parameter CONFIG GET * reports, name → value.
fn all_config(conn: &mut Conn) -> std::collections::BTreeMap<String, String> {
    let (_, reply) = conn
        .call(&[b"CONFIG".to_vec(), b"GET".to_vec(), b"*".to_vec()])
        .expect("CONFIG GET *");
    let Frame::Array(items) = reply else {
        panic!("CONFIG GET * answered {reply:?}");
    };
    items
        .chunks(2)
        .map(|pair| {
            let text =
                |f: &Frame| String::from_utf8_lossy(f.as_bytes().unwrap_or_default()).into_owned();
            (text(&pair[0]), text(&pair[1]))
        })
        .collect()
}

/// Differences between two CONFIG GET * maps, leaving out `except`.
fn config_differences(
    redis: &std::collections::BTreeMap<String, String>,
    sedis: &std::collections::BTreeMap<String, String>,
    except: &[&str],
) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = redis.keys().chain(sedis.keys()).collect();
    names
        .into_iter()
        .filter(|n| !except.contains(&n.as_str()))
        .filter(|n| redis.get(*n) != sedis.get(*n))
        .map(|n| format!("{n}: redis {:?}, sedis {:?}", redis.get(n), sedis.get(n)))
        .collect()
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn config_get_star_names_every_parameter_redis_has() {
    let mut servers = Servers::start();
    let redis = all_config(&mut servers.redis_admin);
    let sedis = all_config(&mut servers.sedis_admin);
    let missing: Vec<&String> = redis.keys().filter(|k| !sedis.contains_key(*k)).collect();
    let extra: Vec<&String> = sedis.keys().filter(|k| !redis.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing in sedis: {missing:?}; not in Redis: {extra:?}"
    );
    assert_eq!(redis.len(), 192);
}

/// Values of one parameter worth trying: its bounds and one past them,
/// its units, every name it takes, and things it must refuse.
fn edge_values(p: &sedis::config::params::Param) -> Vec<String> {
    use sedis::config::params::{Kind, MULTI_ARG, Unit};
    let mut values: Vec<String> = Vec::new();
    fn add(values: &mut Vec<String>, list: &[&str]) {
        values.extend(list.iter().map(|v| v.to_string()));
    }
    match &p.kind {
        Kind::Bool { .. } => add(&mut values, &["no", "yes", "YES", "No", "maybe", "", "1"]),
        Kind::Number { min, max, unit, .. } => {
            let bounds = [*min, *max, min - 1, max + 1].map(|b| match unit {
                Unit::Octal => format!("{b:o}").replace("-", "-0"),
                _ => b.to_string(),
            });
            values.extend(bounds);
            add(
                &mut values,
                &["abc", "", "1.5", " 1", "+1", "007", "-0", "0x10"],
            );
            if matches!(unit, Unit::Memory | Unit::MemoryOrPercent) {
                add(
                    &mut values,
                    &[
                        "1k",
                        "1kb",
                        "2m",
                        "2mb",
                        "1g",
                        "1gb",
                        "1KB",
                        "5b",
                        "1tb",
                        "-1",
                        "99999999999999999999",
                        "kb",
                        "17179869184gb",
                    ],
                );
            }
            if *unit == Unit::MemoryOrPercent {
                add(&mut values, &["50%", "100%", "101%", "-1%", "%", "0%"]);
            }
            if *unit == Unit::Octal {
                add(&mut values, &["777", "1000", "8", "0777", "0"]);
            }
        }
        Kind::Choice { names, .. } => {
            for (name, _) in names.iter() {
                values.push(name.to_string());
                values.push(name.to_ascii_uppercase());
            }
            add(&mut values, &["bogus", ""]);
            if p.is(MULTI_ARG) {
                add(
                    &mut values,
                    &[
                        "save now",
                        "nosave save",
                        "default force",
                        "save  now",
                        "now force",
                    ],
                );
            }
        }
        Kind::Text { .. } => add(
            &mut values,
            &[
                "",
                "abc",
                "a b",
                "a/b",
                "{title} x",
                "{title}",
                "{bad}",
                "{{x",
                "x{",
            ],
        ),
        Kind::Special { .. } => match p.name {
            "save" => add(
                &mut values,
                &[
                    "",
                    "10 1",
                    "10 1 20 2",
                    "10",
                    "0 1",
                    "10 -1",
                    "10 1  20 2",
                    "x y",
                    "+5 3",
                ],
            ),
            "client-output-buffer-limit" => add(
                &mut values,
                &[
                    "normal 1mb 2mb 3",
                    "pubsub 32mb 8mb 60 replica 1gb 1kb 0",
                    "slave 1 2 3",
                    "master 0 0 0",
                    "normal 1 2",
                    "normal x 0 0",
                    "normal 0 0 -1",
                    "normal 0 0 1.5",
                    "",
                ],
            ),
            "oom-score-adj-values" => add(
                &mut values,
                &[
                    "0 200 800",
                    "0 200",
                    "0 300 2001",
                    "-2000 0 2000",
                    "a b c",
                    "",
                ],
            ),
            "notify-keyspace-events" => add(
                &mut values,
                &["KEA", "Ex", "AKE", "x", "g$lshzxetmdn", "", "KA", "EKnm"],
            ),
            "bind" => add(&mut values, &["192.0.2.1", ""]),
            "dir" => add(&mut values, &["/tmp", "/no/such"]),
            "replicaof" => add(&mut values, &["no one", "127.0.0.1 6379"]),
            "latency-tracking-info-percentiles" => add(
                &mut values,
                &["50 99", "", "0 100", "101", "-1", "x", "99.99999 1"],
            ),
            other => panic!("no edge values for {other}"),
        },
    }
    values
}

/// Values not tried because of what they would do to the test itself:
/// moving the port, logging at full volume, starting an AOF.
fn skipped(name: &str, value: &str) -> bool {
    let valid_port = name == "port" && value.parse::<u16>().is_ok();
    let valid_bind = name == "bind" && value.is_empty();
    let noisy =
        name == "loglevel" && ["debug", "verbose"].contains(&value.to_ascii_lowercase().as_str());
    let aof = name == "appendonly" && value.eq_ignore_ascii_case("yes");
    // LFU eviction is not implemented: sedis refuses the two policies
    // with its own error (README, "Memory").
    let lfu = name == "maxmemory-policy" && value.to_ascii_lowercase().ends_with("-lfu");
    valid_port || valid_bind || noisy || aof || lfu
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn config_set_and_get_of_every_parameter_answer_as_redis() {
    let mut servers = Servers::start();
    let mut mismatches = Vec::new();
    let (redis, sedis) = (&mut servers.redis_admin, &mut servers.sedis_admin);
    let mut tried = 0;
    for p in sedis::config::params::PARAMS {
        for name in std::iter::once(p.name).chain(p.alias) {
            let get = [
                b"CONFIG".to_vec(),
                b"GET".to_vec(),
                name.as_bytes().to_vec(),
            ];
            // Each server's own value, restored afterwards (they differ for
            // port, dir and the like).
            let original = |conn: &mut Conn| match conn.call(&get) {
                Ok((_, Frame::Array(items))) if items.len() == 2 => {
                    items[1].as_bytes().map(<[u8]>::to_vec)
                }
                _ => None,
            };
            let (redis_was, sedis_was) = (original(redis), original(sedis));
            for value in edge_values(p) {
                if skipped(name, &value) {
                    continue;
                }
                tried += 1;
                let set = [
                    b"CONFIG".to_vec(),
                    b"SET".to_vec(),
                    name.as_bytes().to_vec(),
                    value.clone().into_bytes(),
                ];
                let (r, s) = (
                    redis.call(&set).expect("redis"),
                    sedis.call(&set).expect("sedis"),
                );
                if r.0 != s.0 {
                    mismatches.push(format!(
                        "CONFIG SET {name} {value:?}: redis {}, sedis {}",
                        escape(&r.0),
                        escape(&s.0)
                    ));
                    continue;
                }
                if r.0 == b"+OK\r\n" {
                    let (r, s) = (
                        redis.call(&get).expect("redis"),
                        sedis.call(&get).expect("sedis"),
                    );
                    if r.0 != s.0 {
                        mismatches.push(format!(
                            "CONFIG GET {name} after {value:?}: redis {}, sedis {}",
                            escape(&r.0),
                            escape(&s.0)
                        ));
                    }
                }
            }
            for (conn, was) in [(&mut *redis, redis_was), (&mut *sedis, sedis_was)] {
                if let Some(was) = was {
                    let _ = conn.call(&[
                        b"CONFIG".to_vec(),
                        b"SET".to_vec(),
                        name.as_bytes().to_vec(),
                        was,
                    ]);
                }
            }
        }
    }
    assert!(tried > 1500, "only {tried} values tried");
    assert!(
        mismatches.is_empty(),
        "{} difference(s) between Redis {REDIS_VERSION} and sedis:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// A server process started from a config file with `daemonize yes`, as a
/// service manager starts one; killed when dropped.
struct Daemon {
    pid: i32,
    port: u16,
}

impl Daemon {
    /// Starts `binary` with `conf`, overriding only what must differ on a
    /// test machine: port, pid file, log file and directory (all in `dir`).
    fn start(binary: &Path, conf: &Path, dir: &Path) -> Daemon {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let pidfile = dir.join("server.pid");
        let _ = std::fs::remove_file(&pidfile);
        let status = Command::new(binary)
            .arg(conf)
            .args(["--port", &port.to_string(), "--daemonize", "yes"])
            .arg("--pidfile")
            .arg(&pidfile)
            .arg("--logfile")
            .arg(dir.join("server.log"))
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        assert!(
            status.success(),
            "{} {}: {status}",
            binary.display(),
            conf.display()
        );
        // A daemon says it is up by writing its pid file.
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = loop {
            if let Ok(text) = std::fs::read_to_string(&pidfile)
                && let Ok(pid) = text.trim().parse()
            {
                break pid;
            }
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "{} never wrote its pid file: {log}",
                binary.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        Daemon { pid, port }
    }

    fn conn(&self) -> Conn {
        Conn::connect(SocketAddr::from(([127, 0, 0, 1], self.port))).expect("connect")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a process this test started.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }
}

/// Debian's own redis.conf, as the redis-server package installs it.
fn stock_redis_conf() -> PathBuf {
    let path = PathBuf::from("/etc/redis/redis.conf");
    assert!(
        std::fs::read(&path).is_ok(),
        "{} is missing or unreadable: install it with `apt-get install -y redis-server`",
        path.display()
    );
    path
}

const SEDIS_SERVER: &str = env!("CARGO_BIN_EXE_sedis-server");

/// What differs by design when two servers start from one file on one
/// machine: the overrides above.
const PER_SERVER: &[&str] = &["port", "pidfile", "logfile", "dir"];

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn debians_stock_redis_conf_starts_sedis_with_the_values_redis_reads() {
    let conf = stock_redis_conf();
    let base = std::env::temp_dir().join(format!("sedis-stock-conf-{}", std::process::id()));
    let redis = Daemon::start(&redis_server_binary(), &conf, &base.join("redis"));
    let sedis = Daemon::start(Path::new(SEDIS_SERVER), &conf, &base.join("sedis"));
    let differences = config_differences(
        &all_config(&mut redis.conn()),
        &all_config(&mut sedis.conn()),
        PER_SERVER,
    );
    drop((redis, sedis));
    std::fs::remove_dir_all(&base).ok();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Settings a user might change at run time and then persist.
const CHANGED_AT_RUN_TIME: &[(&str, &str)] = &[
    ("maxmemory", "100mb"),
    ("maxmemory-policy", "allkeys-lru"),
    ("hz", "20"),
    ("notify-keyspace-events", "KEA"),
    ("save", "30 5 60 7"),
    ("client-output-buffer-limit", "pubsub 64mb 16mb 90"),
    ("appendfsync", "always"),
    ("timeout", "30"),
    ("tcp-keepalive", "60"),
    ("latency-tracking-info-percentiles", "50 99.5"),
    ("slowlog-log-slower-than", "5000"),
    ("list-max-listpack-size", "-3"),
    ("maxmemory-clients", "5%"),
    ("set-max-intset-entries", "1000"),
    ("proto-max-bulk-len", "1gb"),
    ("shutdown-on-sigterm", "save now"),
    ("replica-priority", "50"),
    ("lazyfree-lazy-eviction", "yes"),
    ("bind", "127.0.0.1"),
    ("requirepass", "s3cret"),
];

fn change_and_rewrite(conn: &mut Conn) {
    for (name, value) in CHANGED_AT_RUN_TIME {
        let (raw, _) = conn
            .call(&[
                b"CONFIG".to_vec(),
                b"SET".to_vec(),
                name.as_bytes().to_vec(),
                value.as_bytes().to_vec(),
            ])
            .expect("CONFIG SET");
        assert_eq!(raw, b"+OK\r\n", "CONFIG SET {name} {value}");
    }
    let (raw, _) = conn
        .call(&[b"AUTH".to_vec(), b"s3cret".to_vec()])
        .expect("AUTH");
    assert_eq!(raw, b"+OK\r\n");
    let (raw, _) = conn
        .call(&[b"CONFIG".to_vec(), b"REWRITE".to_vec()])
        .expect("CONFIG REWRITE");
    assert_eq!(raw, b"+OK\r\n");
}

fn authenticated(daemon: &Daemon) -> Conn {
    let mut conn = daemon.conn();
    let (raw, _) = conn
        .call(&[b"AUTH".to_vec(), b"s3cret".to_vec()])
        .expect("AUTH");
    assert_eq!(raw, b"+OK\r\n", "the rewritten file kept the password");
    conn
}

/// A file CONFIG REWRITE wrote on one server starts the other with the same
/// values (`from` rewrites, `to` reads).
fn rewritten_file_moves(from: &Path, to: &Path) {
    let base = std::env::temp_dir().join(format!(
        "sedis-rewrite-{}-{}",
        std::process::id(),
        from.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&base).unwrap();
    let conf = base.join("server.conf");
    std::fs::copy(stock_redis_conf(), &conf).unwrap();
    let writer = Daemon::start(from, &conf, &base.join("writer"));
    change_and_rewrite(&mut writer.conn());
    let written = all_config(&mut authenticated(&writer));
    let reader = Daemon::start(to, &conf, &base.join("reader"));
    let read = all_config(&mut authenticated(&reader));
    let text = std::fs::read_to_string(&conf).unwrap();
    drop((writer, reader));
    std::fs::remove_dir_all(&base).ok();
    let differences = config_differences(&written, &read, PER_SERVER);
    assert!(
        differences.is_empty(),
        "{}\n\nthe file:\n{text}",
        differences.join("\n")
    );
}

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn a_config_file_rewritten_by_redis_starts_sedis() {
    rewritten_file_moves(&redis_server_binary(), Path::new(SEDIS_SERVER));
}

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn a_config_file_rewritten_by_sedis_starts_redis() {
    rewritten_file_moves(Path::new(SEDIS_SERVER), &redis_server_binary());
}

/// The lines of a rewritten file: those kept in place (with the values
/// that differ between two servers on one machine masked), and the set of
/// lines appended after the signature (Redis appends them in its hash
/// table's order).
fn rewritten_layout(text: &str) -> (Vec<String>, std::collections::BTreeSet<String>) {
    let (kept, appended) = text
        .split_once("# Generated by CONFIG REWRITE\n")
        .unwrap_or((text, ""));
    let mask = |line: &str| match line.split_once(' ') {
        Some((name, _)) if PER_SERVER.contains(&name) => format!("{name} ..."),
        _ => line.to_string(),
    };
    (
        kept.lines().map(mask).collect(),
        appended.lines().map(mask).collect(),
    )
}

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn config_rewrite_keeps_the_layout_and_comments_as_redis_does() {
    let base = std::env::temp_dir().join(format!("sedis-rewrite-layout-{}", std::process::id()));
    let mut texts = Vec::new();
    for (who, binary) in [
        ("redis", redis_server_binary()),
        ("sedis", PathBuf::from(SEDIS_SERVER)),
    ] {
        let dir = base.join(who);
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("server.conf");
        std::fs::copy(stock_redis_conf(), &conf).unwrap();
        let daemon = Daemon::start(&binary, &conf, &dir.join("data"));
        change_and_rewrite(&mut daemon.conn());
        drop(daemon);
        // Started again from what it wrote, and rewriting once more: the
        // second generation (a loaded `user` line, a blank last line).
        let daemon = Daemon::start(&binary, &conf, &dir.join("data"));
        let (raw, _) = authenticated(&daemon)
            .call(&[b"CONFIG".to_vec(), b"REWRITE".to_vec()])
            .expect("CONFIG REWRITE");
        assert_eq!(raw, b"+OK\r\n");
        texts.push(std::fs::read_to_string(&conf).unwrap());
    }
    std::fs::remove_dir_all(&base).ok();
    let (redis, sedis) = (rewritten_layout(&texts[0]), rewritten_layout(&texts[1]));
    let first_difference = redis.0.iter().zip(&sedis.0).position(|(r, s)| r != s);
    assert!(
        first_difference.is_none() && redis.0.len() == sedis.0.len(),
        "kept lines differ at line {first_difference:?}: redis {:?}, sedis {:?}",
        first_difference.map(|i| &redis.0[i]),
        first_difference.map(|i| &sedis.0[i]),
    );
    assert_eq!(redis.1, sedis.1, "appended lines");
}
