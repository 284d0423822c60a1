//! The hostile-input table shared by `tests/hostile.rs` (against sedis)
//! and `tests/compat/` (against redis-server, which the recorded replies
//! came from): the bytes sent, the exact reply, and whether the server then
//! closes the connection. Cases that keep the connection open are followed
//! by `ECHO sentinel`, so "the connection is still usable" is part of each
//! check.

use std::io::{Read, Write};
use std::time::Duration;

const SENTINEL: &[u8] = b"*2\r\n$4\r\nECHO\r\n$8\r\nsentinel\r\n";
const SENTINEL_REPLY: &[u8] = b"$8\r\nsentinel\r\n";

pub struct Case {
    pub name: &'static str,
    pub input: Vec<u8>,
    /// The reply before the sentinel's (or before the close).
    pub reply: Vec<u8>,
    pub closes: bool,
}

fn case(
    name: &'static str,
    input: impl Into<Vec<u8>>,
    reply: impl Into<Vec<u8>>,
    closes: bool,
) -> Case {
    Case {
        name,
        input: input.into(),
        reply: reply.into(),
        closes,
    }
}

pub fn table() -> Vec<Case> {
    let unknown = |name: &str, args: &str| {
        format!("-ERR unknown command '{name}', with args beginning with: {args}\r\n").into_bytes()
    };
    let mut huge_del = b"*1000001\r\n$3\r\nDEL\r\n".to_vec();
    huge_del.extend(b"$1\r\nx\r\n".repeat(1_000_000));
    let mut long_args = b"*3\r\n$3\r\nFOO\r\n$200\r\n".to_vec();
    long_args.extend(vec![b'a'; 200]);
    long_args.extend(b"\r\n$3\r\nbar\r\n");
    let mut long_count = b"*".to_vec();
    long_count.extend(vec![b'1'; 70 * 1024]);
    let mut long_bulk_count = b"*1\r\n$".to_vec();
    long_bulk_count.extend(vec![b'1'; 70 * 1024]);
    vec![
        case(
            "bad multibulk count",
            "*x\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
            true,
        ),
        case(
            "multibulk count over INT_MAX",
            "*3000000000\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
            true,
        ),
        case("negative multibulk count is ignored", "*-5\r\n", "", false),
        case("zero multibulk count is ignored", "*0\r\n", "", false),
        case(
            "bad bulk length",
            "*1\r\n$x\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
            true,
        ),
        case(
            "$-1 as an argument",
            "*2\r\n$3\r\nGET\r\n$-1\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
            true,
        ),
        case(
            "negative bulk length",
            "*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
            true,
        ),
        case(
            "bulk over proto-max-bulk-len",
            "*1\r\n$536870913\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
            true,
        ),
        case(
            "zero-byte argument",
            "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
            "$0\r\n\r\n",
            false,
        ),
        case(
            "zero-byte command name",
            "*1\r\n$0\r\n\r\n",
            unknown("", ""),
            false,
        ),
        case(
            "the two bytes after a bulk are not checked",
            "*1\r\n$4\r\nPINGxx",
            "+PONG\r\n",
            false,
        ),
        case(
            "the byte after a header's CR is not checked",
            "*1\rX$4\rYPING\r\n",
            "+PONG\r\n",
            false,
        ),
        case(
            "nested array",
            "*2\r\n*1\r\n$4\r\nPING\r\n",
            "-ERR Protocol error: expected '$', got '*'\r\n",
            true,
        ),
        case(
            "simple string instead of bulk",
            "*1\r\n+PING\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
            true,
        ),
        case(
            "NUL in a command name",
            &b"*2\r\n$5\r\nPI\0NG\r\n$1\r\na\r\n"[..],
            unknown("PI", "'a' "),
            false,
        ),
        case(
            "CR LF in a command name",
            "*1\r\n$6\r\nPI\r\nNG\r\n",
            unknown("PI  NG", ""),
            false,
        ),
        case(
            "CR LF in an argument",
            "*2\r\n$3\r\nFOO\r\n$4\r\na\r\nb\r\n",
            unknown("FOO", "'a  b' "),
            false,
        ),
        case(
            "unterminated inline double quote",
            "SET a \"b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
            true,
        ),
        case(
            "unterminated inline single quote",
            "SET a 'b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
            true,
        ),
        case(
            "closing quote followed by a letter",
            "SET a \"b\"c\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
            true,
        ),
        case("empty inline lines are ignored", "\r\n\n\r\n", "", false),
        case("inline with a tab", "ECHO\t\"x\"\r\n", "$1\r\nx\r\n", false),
        case("a million arguments", huge_del, ":0\r\n", false),
        case(
            "unknown command with a long argument",
            long_args,
            unknown("FOO", &format!("'{}' ", "a".repeat(128))),
            false,
        ),
        // 70 KiB lines whose end arrives with them are parsed, not refused.
        case(
            "70 KiB inline line",
            vec![b'a'; 70 * 1024],
            unknown(&"a".repeat(128), ""),
            false,
        ),
        case(
            "70 KiB multibulk count line",
            long_count,
            "-ERR Protocol error: invalid multibulk length\r\n",
            true,
        ),
        case(
            "70 KiB bulk count line",
            long_bulk_count,
            "-ERR Protocol error: invalid bulk length\r\n",
            true,
        ),
        case(
            "POST, as an HTTP request",
            "POST / HTTP/1.1\r\nHost: example\r\n\r\n",
            "",
            true,
        ),
        case(
            "host:, as an HTTP header",
            "*1\r\n$5\r\nhost:\r\n",
            "",
            true,
        ),
    ]
}

/// Sends a case to the server at `addr` and checks its reply and whether
/// the connection closes.
pub fn run(addr: std::net::SocketAddr, case: &Case) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut input = case.input.clone();
    if !input.ends_with(b"PINGxx") {
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(SENTINEL);
    stream.write_all(&input).expect("send");
    let mut expected = case.reply.clone();
    if !case.closes {
        expected.extend_from_slice(SENTINEL_REPLY);
    }
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if !case.closes && got.len() >= expected.len() {
                    break false;
                }
            }
            Err(err) => panic!("{}: read failed: {err}", case.name),
        }
    };
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "case {:?}",
        case.name
    );
    assert_eq!(closed, case.closes, "case {:?}: closed", case.name);
}
