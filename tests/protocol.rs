//! The wire protocol over a real socket: multibulk and inline requests,
//! pipelining, Redis's protocol errors (reply, then close), RESP3.

mod common;

use common::TestServer;

#[test]
fn inline_and_multibulk_requests_are_both_served() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"PING\r\n");
    assert_eq!(c.read_raw(), b"+PONG\r\n");
    c.send(b"SET a \"b c\"\r\nGET a\r\n");
    assert_eq!(c.read_raw(), b"+OK\r\n");
    assert_eq!(c.read_raw(), b"$3\r\nb c\r\n");
    c.send(b"*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n");
    assert_eq!(c.read_raw(), b"$3\r\na\0b\r\n");
}

#[test]
fn a_pipeline_is_answered_in_order() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$4\r\nk{i:03}\r\n$1\r\nv\r\n").as_bytes(),
        );
    }
    batch.extend_from_slice(b"*1\r\n$6\r\nDBSIZE\r\n");
    c.send(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_raw(), b"+OK\r\n");
    }
    assert_eq!(c.read_raw(), b":1000\r\n");
}

#[test]
fn a_request_split_into_single_bytes_parses() {
    let server = TestServer::start();
    let mut c = server.raw();
    for b in b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n" {
        c.send(&[*b]);
    }
    assert_eq!(c.read_raw(), b"+OK\r\n");
}

#[test]
fn empty_requests_are_ignored() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"*0\r\n*-1\r\n\r\n\r\nPING\r\n");
    assert_eq!(c.read_raw(), b"+PONG\r\n");
}

/// Each case: bytes sent, then the exact error Redis 7.0.15 replies with
/// before closing the connection.
#[test]
fn protocol_errors_reply_then_close() {
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*x\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$x\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n+PING\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"SET a \"b\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
    ];
    let server = TestServer::start();
    for (input, expected) in cases {
        let mut c = server.raw();
        c.send(input);
        assert_eq!(
            String::from_utf8_lossy(&c.read_to_close()),
            String::from_utf8_lossy(expected),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn commands_before_a_protocol_error_still_run() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"PING\r\n*1\r\n$x\r\n");
    assert_eq!(
        c.read_to_close(),
        b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    );
}

#[test]
fn too_big_inline_request_closes() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(&vec![b'a'; 70 * 1024]);
    assert_eq!(
        c.read_to_close(),
        b"-ERR Protocol error: too big inline request\r\n"
    );
}

#[test]
fn large_values_round_trip() {
    let server = TestServer::start();
    let mut c = server.raw();
    let value = "x".repeat(3 * 1024 * 1024 + 17);
    assert_reply!(c, ["SET", "big", &value], b"+OK\r\n");
    let mut expected = format!("${}\r\n", value.len()).into_bytes();
    expected.extend_from_slice(value.as_bytes());
    expected.extend_from_slice(b"\r\n");
    assert_eq!(c.call(&["GET", "big"]), expected);
}

#[test]
fn unknown_commands_and_arity_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["FOO", "a", "b\r\nc"],
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b  c' \r\n"
    );
    assert_reply!(
        c,
        ["GET"],
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_reply!(
        c,
        ["get", "a", "b"],
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
}

#[test]
fn hello_switches_protocol() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["GET", "missing"], b"$-1\r\n");
    let hello = c.call(&["HELLO", "3"]);
    assert!(hello.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"));
    assert_reply!(c, ["GET", "missing"], b"_\r\n");
    assert_reply!(
        c,
        ["HELLO", "4"],
        b"-NOPROTO unsupported protocol version\r\n"
    );
    assert_reply!(
        c,
        ["HELLO", "x"],
        b"-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_reply!(
        c,
        ["HELLO", "2", "FOO"],
        b"-ERR Syntax error in HELLO option 'FOO'\r\n"
    );
    let hello2 = c.call(&["HELLO", "2"]);
    assert!(hello2.starts_with(b"*14\r\n"));
    assert_reply!(c, ["GET", "missing"], b"$-1\r\n");
}

#[test]
fn quit_replies_then_closes() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"QUIT\r\nPING\r\n");
    assert_eq!(c.read_to_close(), b"+OK\r\n");
}

#[test]
fn select_reads_its_index_as_redis_does() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["SELECT", "abc"],
        b"-ERR value is not an integer or out of range\r\n"
    );
    assert_reply!(
        c,
        ["SELECT", "99999999999"],
        b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    assert_reply!(c, ["SELECT", "-1"], b"-ERR DB index is out of range\r\n");
    assert_reply!(c, ["SELECT", "16"], b"-ERR DB index is out of range\r\n");
    assert_reply!(c, ["SELECT", "15"], b"+OK\r\n");
}
