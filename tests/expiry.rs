//! Time to live over a real socket: the EXPIRE family (NX XX GT LT, overflow,
//! times in the past), TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST, and expiry
//! itself: a key past its deadline is missing to every command (lazy expiry)
//! and disappears without anyone touching it (active expiry), wherever it
//! was renamed, moved, copied or swapped to. Expected bytes are what Redis
//! 7.0.15 replied to the same requests.

mod common;

use std::time::{Duration, Instant};

use common::{Raw, TestServer};
use sedis::Frame;

fn int_reply(c: &mut Raw, args: &[&str]) -> i64 {
    match c.frame(args) {
        Frame::Integer(n) => n,
        other => panic!("{args:?} replied {other:?}"),
    }
}

fn now_ms() -> i64 {
    sedis::internals::clock::unix_ms()
}

/// Polls DBSIZE on `c` until it is `expected` or two seconds pass; returns
/// the last size seen. The reaper runs on its own schedule, so the test
/// waits for the outcome instead of guessing a delay.
fn wait_for_dbsize(c: &mut Raw, expected: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let size = int_reply(c, &["DBSIZE"]);
        if size == expected || Instant::now() > deadline {
            return size;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn expire_option_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    let nx_err: &[u8] = b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
    let cases: &[(&[&[u8]], &[u8])] = &[
        (&[b"EXPIRE", b"k", b"100", b"nx", b"xx"], nx_err),
        (&[b"EXPIRE", b"k", b"100", b"NX", b"GT"], nx_err),
        (&[b"PEXPIRE", b"k", b"100", b"lt", b"nx"], nx_err),
        (
            &[b"EXPIREAT", b"k", b"100", b"gt", b"lt"],
            b"-ERR GT and LT options at the same time are not compatible\r\n",
        ),
        (
            &[b"EXPIRE", b"k", b"100", b"foo"],
            b"-ERR Unsupported option foo\r\n",
        ),
        (
            &[b"EXPIRE", b"k", b"100", b"f\r\no\0o"],
            b"-ERR Unsupported option f  o\r\n",
        ),
        // Options are checked before the time.
        (
            &[b"EXPIRE", b"k", b"abc", b"foo"],
            b"-ERR Unsupported option foo\r\n",
        ),
        (&[b"EXPIRE", b"k", b"abc", b"nx", b"xx"], nx_err),
        (
            &[b"EXPIRE", b"k", b"abc"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            &[b"PEXPIREAT", b"k", b"1.5"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            &[b"EXPIRE", b"k", b"9223372036854775807"],
            b"-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &[b"EXPIRE", b"k", b"9223372036854775"],
            b"-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &[b"EXPIRE", b"k", b"-9223372036854776"],
            b"-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &[b"EXPIREAT", b"k", b"9223372036854776"],
            b"-ERR invalid expire time in 'expireat' command\r\n",
        ),
        (
            &[b"PEXPIRE", b"k", b"9223372036854775807"],
            b"-ERR invalid expire time in 'pexpire' command\r\n",
        ),
        (
            &[b"PEXPIRE", b"k", b"9223372036854775806"],
            b"-ERR invalid expire time in 'pexpire' command\r\n",
        ),
        (
            &[b"EXPIRE", b"k"],
            b"-ERR wrong number of arguments for 'expire' command\r\n",
        ),
        (
            &[b"PEXPIREAT", b"k"],
            b"-ERR wrong number of arguments for 'pexpireat' command\r\n",
        ),
        (
            &[b"TTL"],
            b"-ERR wrong number of arguments for 'ttl' command\r\n",
        ),
        (
            &[b"PEXPIRETIME", b"a", b"b"],
            b"-ERR wrong number of arguments for 'pexpiretime' command\r\n",
        ),
    ];
    let before = server.handle().state().dirty();
    for (args, expected) in cases {
        assert_eq!(
            String::from_utf8_lossy(&c.call_bin(args)),
            String::from_utf8_lossy(expected),
            "{:?}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(server.handle().state().dirty(), before);
    assert_reply!(c, ["TTL", "k"], b":-1\r\n");
}

#[test]
fn ttl_family_reports_missing_persistent_and_volatile_keys() {
    let server = TestServer::start();
    let mut c = server.raw();
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_reply!(c, [cmd, "nokey"], b":-2\r\n");
    }
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_reply!(c, [cmd, "k"], b":-1\r\n");
    }
    assert_reply!(c, ["EXPIRE", "k", "100"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":100\r\n");
    let pttl = int_reply(&mut c, &["PTTL", "k"]);
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    let at = int_reply(&mut c, &["PEXPIRETIME", "k"]);
    assert!((at - (now_ms() + 100_000)).abs() < 2_000, "{at}");
    assert_eq!(int_reply(&mut c, &["EXPIRETIME", "k"]), (at + 500) / 1000);
    // SET without KEEPTTL clears the TTL.
    assert_reply!(c, ["SET", "k", "v2"], b"+OK\r\n");
    assert_reply!(c, ["TTL", "k"], b":-1\r\n");
    // Binary and empty keys.
    assert_eq!(c.call_bin(&[b"SET", b"\0\r\n", b"v"]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"SET", b"", b"v"]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"PEXPIRE", b"\0\r\n", b"5000"]), b":1\r\n");
    assert_eq!(c.call_bin(&[b"EXPIRE", b"", b"7"]), b":1\r\n");
    assert_eq!(c.call_bin(&[b"TTL", b"\0\r\n"]), b":5\r\n");
    assert_eq!(c.call_bin(&[b"TTL", b""]), b":7\r\n");
}

#[test]
fn ttl_rounds_to_the_nearest_second() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    // Absolute deadlines make the rounding exact.
    assert_reply!(c, ["PEXPIREAT", "k", "100000000001499"], b":1\r\n");
    assert_reply!(c, ["EXPIRETIME", "k"], b":100000000001\r\n");
    assert_reply!(c, ["PEXPIRETIME", "k"], b":100000000001499\r\n");
    assert_reply!(c, ["PEXPIREAT", "k", "100000000001500"], b":1\r\n");
    assert_reply!(c, ["EXPIRETIME", "k"], b":100000000002\r\n");
    assert_reply!(c, ["EXPIREAT", "k", "100000000001"], b":1\r\n");
    assert_reply!(c, ["PEXPIRETIME", "k"], b":100000000001000\r\n");
    // The largest deadline: Redis prints the exact rounded quotient.
    assert_reply!(c, ["PEXPIREAT", "k", "9223372036854775807"], b":1\r\n");
    assert_reply!(c, ["EXPIRETIME", "k"], b":9223372036854776\r\n");
    assert_reply!(c, ["PEXPIRETIME", "k"], b":9223372036854775807\r\n");
    // Relative: 2400 ms rounds down, 2600 ms up (with 100 ms to spare).
    assert_reply!(c, ["PEXPIRE", "k", "2400"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":2\r\n");
    assert_reply!(c, ["PEXPIRE", "k", "2600"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":3\r\n");
}

#[test]
fn conditions_nx_xx_gt_lt_follow_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["EXPIRE", "nokey", "100"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "nokey", "100", "XX"], b":0\r\n");
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    // No TTL yet: XX and GT refuse, LT accepts (no TTL counts as infinite).
    assert_reply!(c, ["EXPIRE", "k", "100", "xx"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "k", "100", "gt"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "k", "100", "xx", "gt"], b":0\r\n");
    assert_reply!(c, ["TTL", "k"], b":-1\r\n");
    assert_reply!(c, ["EXPIRE", "k", "100", "lt"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":100\r\n");
    assert_reply!(c, ["PERSIST", "k"], b":1\r\n");
    assert_reply!(c, ["EXPIRE", "k", "100", "NX"], b":1\r\n");
    assert_reply!(c, ["EXPIRE", "k", "500", "nx"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "k", "50", "gt"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "k", "200", "gt"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":200\r\n");
    assert_reply!(c, ["EXPIRE", "k", "300", "lt"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "k", "150", "LT"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":150\r\n");
    assert_reply!(c, ["EXPIRE", "k", "500", "xx"], b":1\r\n");
    assert_reply!(c, ["TTL", "k"], b":500\r\n");
    // Equal deadlines are neither greater nor less.
    assert_reply!(c, ["PEXPIREAT", "k", "100000000000000"], b":1\r\n");
    assert_reply!(c, ["PEXPIREAT", "k", "100000000000000", "GT"], b":0\r\n");
    assert_reply!(c, ["PEXPIREAT", "k", "100000000000000", "LT"], b":0\r\n");
    assert_reply!(c, ["EXPIREAT", "k", "100000000001", "GT", "XX"], b":1\r\n");
    assert_reply!(c, ["PEXPIRETIME", "k"], b":100000000001000\r\n");
    // A refused condition is not a change.
    let before = server.handle().state().dirty();
    assert_reply!(c, ["EXPIRE", "k", "1", "NX"], b":0\r\n");
    assert_eq!(server.handle().state().dirty(), before);
    assert_reply!(c, ["EXPIRE", "k", "1", "XX"], b":1\r\n");
    assert_eq!(server.handle().state().dirty(), before + 1);
}

#[test]
fn a_deadline_in_the_past_deletes_the_key_and_replies_one() {
    let server = TestServer::start();
    let mut c = server.raw();
    let cases: &[&[&str]] = &[
        &["EXPIRE", "k", "0"],
        &["EXPIRE", "k", "-5"],
        &["EXPIRE", "k", "-5", "NX"],
        &["PEXPIRE", "k", "-9223372036854775808"],
        &["EXPIRE", "k", "-9223372036854775"],
        &["EXPIREAT", "k", "1"],
        &["PEXPIREAT", "k", "1"],
        &["EXPIREAT", "k", "-9223372036854775"],
    ];
    for args in cases {
        assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
        let before = server.handle().state().dirty();
        assert_eq!(c.call(args), b":1\r\n", "{args:?}");
        assert_eq!(server.handle().state().dirty(), before + 1, "{args:?}");
        assert_reply!(c, ["EXISTS", "k"], b":0\r\n");
        assert_reply!(c, ["DBSIZE"], b":0\r\n");
    }
    // An explicit deletion is not an expiry.
    let stats = &server.handle().state().keyspace().stats;
    assert_eq!(stats.expired_keys.get(), 0);
}

#[test]
fn active_expiry_removes_keys_nobody_touches() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "a", "v", "PX", "50"], b"+OK\r\n");
    assert_reply!(c, ["SET", "b", "v"], b"+OK\r\n");
    assert_reply!(c, ["PEXPIRE", "b", "50"], b":1\r\n");
    assert_reply!(c, ["SET", "stays", "v"], b"+OK\r\n");
    assert_reply!(c, ["DBSIZE"], b":3\r\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(wait_for_dbsize(&mut c, 1), 1);
    let stats = &server.handle().state().keyspace().stats;
    assert_eq!(stats.expired_keys.get(), 2);
}

#[test]
fn active_expiry_follows_keys_that_were_renamed_moved_copied_or_swapped() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut db1 = server.raw();
    let mut db2 = server.raw();
    let mut db3 = server.raw();
    assert_reply!(db1, ["SELECT", "1"], b"+OK\r\n");
    assert_reply!(db2, ["SELECT", "2"], b"+OK\r\n");
    assert_reply!(db3, ["SELECT", "3"], b"+OK\r\n");
    for key in ["r", "m", "c", "s"] {
        assert_reply!(c, ["SET", key, "v"], b"+OK\r\n");
        assert_reply!(c, ["PEXPIRE", key, "300"], b":1\r\n");
    }
    assert_reply!(c, ["RENAME", "r", "renamed"], b"+OK\r\n");
    assert_reply!(c, ["MOVE", "m", "1"], b":1\r\n");
    assert_reply!(c, ["COPY", "c", "copied", "DB", "2"], b":1\r\n");
    assert_reply!(c, ["PERSIST", "c"], b":1\r\n");
    assert_reply!(db2, ["SET", "plain", "v"], b"+OK\r\n");
    // Database 0 (renamed, c, s) becomes database 3.
    assert_reply!(c, ["SWAPDB", "0", "3"], b"+OK\r\n");
    assert_reply!(c, ["DBSIZE"], b":0\r\n");
    assert_reply!(db1, ["DBSIZE"], b":1\r\n");
    assert_reply!(db2, ["DBSIZE"], b":2\r\n");
    assert_reply!(db3, ["DBSIZE"], b":3\r\n");
    std::thread::sleep(Duration::from_millis(400));
    // Left: the persisted original in db 3, the key without TTL in db 2.
    assert_eq!(wait_for_dbsize(&mut db1, 0), 0);
    assert_eq!(wait_for_dbsize(&mut db2, 1), 1);
    assert_eq!(wait_for_dbsize(&mut db3, 1), 1);
    assert_reply!(db2, ["KEYS", "*"], b"*1\r\n$5\r\nplain\r\n");
    assert_reply!(db3, ["KEYS", "*"], b"*1\r\n$1\r\nc\r\n");
    let stats = &server.handle().state().keyspace().stats;
    assert_eq!(stats.expired_keys.get(), 4);
}

#[test]
fn expired_keys_are_missing_to_every_command() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "gone", "v", "PX", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "other", "5"], b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(20));
    let cases: &[(&[&str], &[u8])] = &[
        (&["GET", "gone"], b"$-1\r\n"),
        (&["EXISTS", "gone"], b":0\r\n"),
        (&["TYPE", "gone"], b"+none\r\n"),
        (&["TTL", "gone"], b":-2\r\n"),
        (&["PTTL", "gone"], b":-2\r\n"),
        (&["EXPIRETIME", "gone"], b":-2\r\n"),
        (&["PEXPIRETIME", "gone"], b":-2\r\n"),
        (&["OBJECT", "ENCODING", "gone"], b"$-1\r\n"),
        (&["OBJECT", "IDLETIME", "gone"], b"$-1\r\n"),
        (&["TOUCH", "gone"], b":0\r\n"),
        (&["KEYS", "g*"], b"*0\r\n"),
        (&["SCAN", "0", "MATCH", "g*"], b"*2\r\n$1\r\n0\r\n*0\r\n"),
        (&["RANDOMKEY"], b"$5\r\nother\r\n"),
        (&["EXPIRE", "gone", "100"], b":0\r\n"),
        (&["PERSIST", "gone"], b":0\r\n"),
        (&["RENAME", "gone", "x"], b"-ERR no such key\r\n"),
        (&["RENAMENX", "gone", "x"], b"-ERR no such key\r\n"),
        (&["COPY", "gone", "x"], b":0\r\n"),
        (&["MOVE", "gone", "1"], b":0\r\n"),
        (&["DEL", "gone"], b":0\r\n"),
        // As a destination, an expired key counts as free.
        (&["RENAMENX", "other", "gone"], b":1\r\n"),
        (&["GET", "gone"], b"$1\r\n5\r\n"),
        (&["TTL", "gone"], b":-1\r\n"),
    ];
    for (args, expected) in cases {
        assert_eq!(
            String::from_utf8_lossy(&c.call(args)),
            String::from_utf8_lossy(expected),
            "{args:?}"
        );
    }
    // An expired key in the target database does not block MOVE or COPY.
    assert_reply!(c, ["SELECT", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "gone", "old", "PX", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "dst", "old", "PX", "1"], b"+OK\r\n");
    assert_reply!(c, ["SELECT", "0"], b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(20));
    assert_reply!(c, ["COPY", "gone", "dst", "DB", "1"], b":1\r\n");
    assert_reply!(c, ["MOVE", "gone", "1"], b":1\r\n");
    assert_reply!(c, ["SELECT", "1"], b"+OK\r\n");
    assert_reply!(c, ["GET", "gone"], b"$1\r\n5\r\n");
    assert_reply!(c, ["GET", "dst"], b"$1\r\n5\r\n");
}

#[test]
fn many_keys_expire_in_bulk_without_stalling_others() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut batch = Vec::new();
    for i in 0..5_000 {
        Frame::encode_request(
            &[
                b"SET".as_slice(),
                format!("k{i}").as_bytes(),
                b"v",
                b"PX",
                b"100",
            ],
            &mut batch,
        );
    }
    c.send(&batch);
    for _ in 0..5_000 {
        assert_eq!(c.read_raw(), b"+OK\r\n");
    }
    assert_reply!(c, ["SET", "keep", "v"], b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(wait_for_dbsize(&mut c, 1), 1);
    assert_reply!(c, ["RANDOMKEY"], b"$4\r\nkeep\r\n");
    assert_reply!(c, ["GET", "keep"], b"$1\r\nv\r\n");
}
