//! The keyspace commands over a real socket: DEL UNLINK EXISTS TYPE KEYS SCAN
//! RANDOMKEY RENAME RENAMENX COPY MOVE SWAPDB PERSIST TOUCH OBJECT. Expected
//! bytes are what Redis 7.0.15 replied to the same requests. TTL commands
//! and expiry have their own file (`expiry.rs`).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use common::{Raw, TestServer};
use sedis::Frame;

/// The bulk strings of an array reply, sorted (key order is unspecified).
fn sorted_strings(frame: &Frame) -> Vec<Vec<u8>> {
    let Frame::Array(items) = frame else {
        panic!("expected an array, got {frame:?}");
    };
    let mut out: Vec<Vec<u8>> = items
        .iter()
        .map(|f| f.as_bytes().expect("bulk").to_vec())
        .collect();
    out.sort();
    out
}

/// SCAN's reply: the next cursor and the keys.
fn scan_step(c: &mut Raw, args: &[&[u8]]) -> (Vec<u8>, Vec<Vec<u8>>) {
    match c.frame_bin(args) {
        Frame::Array(parts) if parts.len() == 2 => {
            let cursor = parts[0].as_bytes().expect("cursor").to_vec();
            (cursor, sorted_strings(&parts[1]))
        }
        other => panic!("bad SCAN reply {other:?}"),
    }
}

/// Runs a whole SCAN iteration with `options` and returns every key seen.
fn scan_all(c: &mut Raw, options: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut cursor = b"0".to_vec();
    let mut seen = Vec::new();
    loop {
        let mut args: Vec<&[u8]> = vec![b"SCAN", &cursor];
        args.extend_from_slice(options);
        let (next, keys) = scan_step(c, &args);
        seen.extend(keys);
        if next == b"0" {
            break;
        }
        cursor = next;
    }
    seen.sort();
    seen
}

/// Sets many keys in one pipelined write.
fn set_many(c: &mut Raw, keys: impl Iterator<Item = String>) {
    let mut batch = Vec::new();
    let mut n = 0;
    for key in keys {
        Frame::encode_request(&[b"SET", key.as_bytes(), b"v"], &mut batch);
        n += 1;
    }
    c.send(&batch);
    for _ in 0..n {
        assert_eq!(c.read_raw(), b"+OK\r\n");
    }
}

#[test]
fn del_and_unlink_count_existing_keys_once() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "a", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "b", "2"], b"+OK\r\n");
    assert_reply!(c, ["SET", "c", "3"], b"+OK\r\n");
    let before = server.dirty();
    assert_reply!(c, ["DEL", "a", "a", "missing", "b"], b":2\r\n");
    assert_eq!(server.dirty() - before, 2);
    assert_reply!(c, ["DEL", "a"], b":0\r\n");
    assert_reply!(c, ["UNLINK", "c", "c"], b":1\r\n");
    assert_reply!(c, ["DBSIZE"], b":0\r\n");
    assert_reply!(
        c,
        ["DEL"],
        b"-ERR wrong number of arguments for 'del' command\r\n"
    );
    assert_reply!(
        c,
        ["UNLINK"],
        b"-ERR wrong number of arguments for 'unlink' command\r\n"
    );
}

#[test]
fn exists_counts_repeats_and_binary_keys() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_eq!(c.call_bin(&[b"SET", b"a\0b\r\nc", b"v"]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"SET", b"", b"empty"]), b"+OK\r\n");
    assert_eq!(
        c.call_bin(&[b"EXISTS", b"a\0b\r\nc", b"a\0b\r\nc", b"a", b""]),
        b":3\r\n"
    );
    assert_reply!(c, ["EXISTS", "nope"], b":0\r\n");
    assert_reply!(
        c,
        ["EXISTS"],
        b"-ERR wrong number of arguments for 'exists' command\r\n"
    );
}

#[test]
fn type_names_the_value_or_none() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "s", "v"], b"+OK\r\n");
    assert_reply!(c, ["SET", "n", "12"], b"+OK\r\n");
    assert_reply!(c, ["TYPE", "s"], b"+string\r\n");
    assert_reply!(c, ["TYPE", "n"], b"+string\r\n");
    assert_reply!(c, ["TYPE", "missing"], b"+none\r\n");
    assert_eq!(c.call_bin(&[b"TYPE", b""]), b"+none\r\n");
    assert_reply!(
        c,
        ["TYPE", "a", "b"],
        b"-ERR wrong number of arguments for 'type' command\r\n"
    );
}

#[test]
fn peeking_commands_count_keyspace_hits_and_misses_like_redis() {
    let server = TestServer::start();
    let stats = &server.handle().state().keyspace().stats;
    let counts = || (stats.keyspace_hits.get(), stats.keyspace_misses.get());
    let mut c = server.raw();
    assert_reply!(c, ["SET", "a", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "b", "2"], b"+OK\r\n");
    let start = counts();
    c.call(&["EXISTS", "a", "nope"]);
    c.call(&["TYPE", "a"]);
    c.call(&["TTL", "a"]);
    c.call(&["TTL", "nope"]);
    c.call(&["OBJECT", "ENCODING", "a"]);
    c.call(&["OBJECT", "ENCODING", "nope"]);
    c.call(&["TOUCH", "a", "nope"]);
    c.call(&["COPY", "a", "c"]);
    c.call(&["COPY", "nope", "c"]);
    assert_eq!(counts(), (start.0 + 6, start.1 + 5));
    // SCAN ... TYPE looks each candidate up; plain SCAN, KEYS and the
    // write commands count nothing.
    c.call(&["SCAN", "0", "TYPE", "string"]);
    assert_eq!(counts(), (start.0 + 9, start.1 + 5));
    c.call(&["SCAN", "0"]);
    c.call(&["KEYS", "*"]);
    c.call(&["RENAME", "a", "z"]);
    c.call(&["MOVE", "z", "1"]);
    c.call(&["EXPIRE", "b", "100"]);
    c.call(&["PERSIST", "b"]);
    c.call(&["RANDOMKEY"]);
    assert_eq!(counts(), (start.0 + 9, start.1 + 5));
}

#[test]
fn keys_matches_globs_and_a_bare_star_includes_the_empty_key() {
    let server = TestServer::start();
    let mut c = server.raw();
    for key in [
        &b"hello"[..],
        b"hallo",
        b"hxllo",
        b"heeeello",
        b"",
        b"bin\0ary",
        b"cr\r\nlf",
    ] {
        assert_eq!(c.call_bin(&[b"SET", key, b"v"]), b"+OK\r\n");
    }
    let all = sorted_strings(&c.frame_bin(&[b"KEYS", b"*"]));
    assert_eq!(all.len(), 7);
    assert!(all.contains(&b"".to_vec()));
    assert!(all.contains(&b"bin\0ary".to_vec()));
    assert!(all.contains(&b"cr\r\nlf".to_vec()));
    // `**` is matched, and nothing non-empty matches the empty key.
    assert_eq!(sorted_strings(&c.frame_bin(&[b"KEYS", b"**"])).len(), 6);
    assert_eq!(c.call_bin(&[b"KEYS", b""]), b"*1\r\n$0\r\n\r\n");
    assert_eq!(
        sorted_strings(&c.frame_bin(&[b"KEYS", b"h?llo"])),
        vec![b"hallo".to_vec(), b"hello".to_vec(), b"hxllo".to_vec()]
    );
    assert_eq!(
        sorted_strings(&c.frame_bin(&[b"KEYS", b"h[ae]llo"])),
        vec![b"hallo".to_vec(), b"hello".to_vec()]
    );
    assert_eq!(
        sorted_strings(&c.frame_bin(&[b"KEYS", b"h[^e]llo"])),
        vec![b"hallo".to_vec(), b"hxllo".to_vec()]
    );
    assert_eq!(
        sorted_strings(&c.frame_bin(&[b"KEYS", b"h*llo"])),
        vec![
            b"hallo".to_vec(),
            b"heeeello".to_vec(),
            b"hello".to_vec(),
            b"hxllo".to_vec()
        ]
    );
    assert_eq!(
        c.call_bin(&[b"KEYS", b"bin\0*"]),
        b"*1\r\n$7\r\nbin\0ary\r\n"
    );
    assert_reply!(c, ["KEYS", "nomatch*"], b"*0\r\n");
    assert_reply!(
        c,
        ["KEYS"],
        b"-ERR wrong number of arguments for 'keys' command\r\n"
    );
}

#[test]
fn keys_sees_only_the_selected_database() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "zero", "v"], b"+OK\r\n");
    assert_reply!(c, ["SELECT", "3"], b"+OK\r\n");
    assert_reply!(c, ["KEYS", "*"], b"*0\r\n");
    assert_reply!(c, ["SET", "three", "v"], b"+OK\r\n");
    assert_reply!(c, ["KEYS", "*"], b"*1\r\n$5\r\nthree\r\n");
    assert_reply!(c, ["SCAN", "0"], b"*2\r\n$1\r\n0\r\n*1\r\n$5\r\nthree\r\n");
}

#[test]
fn scan_option_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let syntax: &[u8] = b"-ERR syntax error\r\n";
    let not_int: &[u8] = b"-ERR value is not an integer or out of range\r\n";
    let invalid: &[u8] = b"-ERR invalid cursor\r\n";
    let cases: &[(&[&[u8]], &[u8])] = &[
        (&[b"0", b"COUNT", b"0"], syntax),
        (&[b"0", b"COUNT", b"-1"], syntax),
        (&[b"0", b"COUNT", b"abc"], not_int),
        (&[b"0", b"COUNT", b"99999999999999999999"], not_int),
        (&[b"0", b"COUNT"], syntax),
        (&[b"0", b"MATCH"], syntax),
        (&[b"0", b"TYPE"], syntax),
        (&[b"0", b"FOO", b"bar"], syntax),
        (&[b"0", b"COUNT", b"0", b"MATCH"], syntax),
        (&[b"0", b"MATCH", b"a", b"COUNT", b"0"], syntax),
        (&[b" 0"], invalid),
        (&[b"0 "], invalid),
        (&[b"abc"], invalid),
        (&[b"0x10"], invalid),
        (&[b"-"], invalid),
        (&[b"18446744073709551616"], invalid),
    ];
    for (options, expected) in cases {
        let mut args: Vec<&[u8]> = vec![b"SCAN"];
        args.extend_from_slice(options);
        assert_eq!(
            String::from_utf8_lossy(&c.call_bin(&args)),
            String::from_utf8_lossy(expected),
            "SCAN {:?}",
            options
        );
    }
    assert_reply!(
        c,
        ["SCAN"],
        b"-ERR wrong number of arguments for 'scan' command\r\n"
    );
}

#[test]
fn scan_accepts_every_cursor_strtoul_accepts() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    for cursor in [&b""[..], b"+0", b"-0", b"00", b"0\0junk"] {
        assert_eq!(
            c.call_bin(&[b"SCAN", cursor]),
            b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n",
            "cursor {cursor:?}"
        );
    }
    // Cursors we never issued are not errors; they just end somewhere.
    for cursor in [&b"-1"[..], b"18446744073709551615", b"123456789"] {
        let reply = c.frame_bin(&[b"SCAN", cursor]);
        assert!(matches!(reply, Frame::Array(ref parts) if parts.len() == 2));
    }
}

#[test]
fn scan_filters_by_pattern_and_type() {
    let server = TestServer::start();
    let mut c = server.raw();
    for key in [&b"user:1"[..], b"user:2", b"item:1", b"", b"x\0y"] {
        assert_eq!(c.call_bin(&[b"SET", key, b"v"]), b"+OK\r\n");
    }
    assert_eq!(scan_all(&mut c, &[]).len(), 5);
    assert_eq!(scan_all(&mut c, &[b"MATCH", b"*"]).len(), 5);
    assert!(scan_all(&mut c, &[b"MATCH", b"*"]).contains(&b"".to_vec()));
    assert_eq!(
        scan_all(&mut c, &[b"MATCH", b"user:*", b"COUNT", b"1"]),
        vec![b"user:1".to_vec(), b"user:2".to_vec()]
    );
    assert_eq!(
        scan_all(&mut c, &[b"MATCH", b"x\0?"]),
        vec![b"x\0y".to_vec()]
    );
    assert_eq!(scan_all(&mut c, &[b"TYPE", b"STRING"]).len(), 5);
    assert_eq!(scan_all(&mut c, &[b"TYPE", b"string\0trailing"]).len(), 5);
    assert!(scan_all(&mut c, &[b"TYPE", b"list"]).is_empty());
    assert!(scan_all(&mut c, &[b"TYPE", b"none"]).is_empty());
    assert_eq!(
        scan_all(
            &mut c,
            &[b"COUNT", b"1000", b"TYPE", b"string", b"MATCH", b"item*"]
        ),
        vec![b"item:1".to_vec()]
    );
    // Options may repeat; the last one wins.
    assert_eq!(
        scan_all(&mut c, &[b"MATCH", b"nothing", b"MATCH", b"user:1"]),
        vec![b"user:1".to_vec()]
    );
}

#[test]
fn scan_reply_shape_in_resp2_and_resp3() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SCAN", "0"], b"*2\r\n$1\r\n0\r\n*0\r\n");
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["SCAN", "0"], b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
    c.call(&["HELLO", "3"]);
    assert_reply!(c, ["SCAN", "0"], b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n");
    assert_reply!(c, ["KEYS", "*"], b"*1\r\n$1\r\nk\r\n");
}

#[test]
fn scan_returns_every_key_present_for_the_whole_iteration() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut churn = server.raw();
    const STABLE: usize = 12_000;
    set_many(&mut c, (0..STABLE).map(|i| format!("stable:{i}")));
    // Keys that are deleted during the scan.
    set_many(&mut c, (0..2_000).map(|i| format!("doomed:{i}")));

    let mut seen = HashSet::new();
    let mut cursor = b"0".to_vec();
    let mut step = 0usize;
    loop {
        let (next, keys) = scan_step(&mut c, &[b"SCAN", &cursor, b"COUNT", b"50"]);
        seen.extend(keys);
        // Between calls another client adds and removes other keys.
        set_many(&mut churn, (0..20).map(|j| format!("new:{step}:{j}")));
        for j in 0..10 {
            let victim = format!("doomed:{}", (step * 10 + j) % 2_000);
            churn.call(&["DEL", &victim]);
        }
        step += 1;
        if next == b"0" {
            break;
        }
        cursor = next;
    }
    let missing: Vec<usize> = (0..STABLE)
        .filter(|i| !seen.contains(format!("stable:{i}").as_bytes()))
        .collect();
    assert!(
        missing.is_empty(),
        "SCAN missed {} stable keys",
        missing.len()
    );
    assert!(step > 10, "COUNT 50 takes many steps over {STABLE} keys");
}

#[test]
fn randomkey_returns_a_live_key_or_null() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["RANDOMKEY"], b"$-1\r\n");
    assert_eq!(c.call_bin(&[b"SET", b"a\0b", b"v"]), b"+OK\r\n");
    assert_reply!(c, ["RANDOMKEY"], b"$3\r\na\0b\r\n");
    assert_reply!(c, ["SET", "other", "v"], b"+OK\r\n");
    let mut seen = HashSet::new();
    for _ in 0..200 {
        seen.insert(c.frame_bin(&[b"RANDOMKEY"]).as_bytes().unwrap().to_vec());
    }
    assert_eq!(seen.len(), 2, "both keys come up");
    c.call(&["HELLO", "3"]);
    assert_reply!(c, ["SELECT", "5"], b"+OK\r\n");
    assert_reply!(c, ["RANDOMKEY"], b"_\r\n");
    assert_reply!(
        c,
        ["RANDOMKEY", "x"],
        b"-ERR wrong number of arguments for 'randomkey' command\r\n"
    );
}

#[test]
fn rename_moves_value_and_ttl() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["RENAME", "nokey", "x"], b"-ERR no such key\r\n");
    assert_reply!(c, ["RENAME", "nokey", "nokey"], b"-ERR no such key\r\n");
    assert_reply!(c, ["RENAMENX", "nokey", "x"], b"-ERR no such key\r\n");
    assert_reply!(c, ["SET", "a", "1"], b"+OK\r\n");
    let before = server.dirty();
    assert_reply!(c, ["RENAME", "a", "a"], b"+OK\r\n");
    assert_reply!(c, ["RENAMENX", "a", "a"], b":0\r\n");
    assert_eq!(server.dirty(), before, "renaming to itself changes nothing");
    assert_reply!(c, ["EXPIRE", "a", "100"], b":1\r\n");
    assert_reply!(c, ["RENAME", "a", "b"], b"+OK\r\n");
    assert_reply!(c, ["TTL", "b"], b":100\r\n");
    assert_reply!(c, ["EXISTS", "a"], b":0\r\n");
    assert_reply!(c, ["GET", "b"], b"$1\r\n1\r\n");
    // Overwriting: the destination's value and TTL are replaced.
    assert_reply!(c, ["SET", "c", "3"], b"+OK\r\n");
    assert_reply!(c, ["RENAMENX", "b", "c"], b":0\r\n");
    assert_reply!(c, ["GET", "c"], b"$1\r\n3\r\n");
    assert_reply!(c, ["RENAME", "b", "c"], b"+OK\r\n");
    assert_reply!(c, ["GET", "c"], b"$1\r\n1\r\n");
    assert_reply!(c, ["TTL", "c"], b":100\r\n");
    assert_reply!(c, ["SET", "plain", "p"], b"+OK\r\n");
    assert_reply!(c, ["RENAME", "plain", "c"], b"+OK\r\n");
    assert_reply!(c, ["TTL", "c"], b":-1\r\n");
    assert_reply!(c, ["RENAMENX", "c", "fresh"], b":1\r\n");
    assert_reply!(c, ["DBSIZE"], b":1\r\n");
    // Binary and empty names.
    assert_eq!(c.call_bin(&[b"RENAME", b"fresh", b""]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"RENAME", b"", b"x\0\r\ny"]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"GET", b"x\0\r\ny"]), b"$1\r\np\r\n");
    assert_reply!(
        c,
        ["RENAME", "a"],
        b"-ERR wrong number of arguments for 'rename' command\r\n"
    );
    assert_reply!(
        c,
        ["RENAMENX", "a", "b", "c"],
        b"-ERR wrong number of arguments for 'renamenx' command\r\n"
    );
}

#[test]
fn rename_counts_one_change() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "a", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "b", "2"], b"+OK\r\n");
    let before = server.dirty();
    assert_reply!(c, ["RENAME", "a", "b"], b"+OK\r\n");
    assert_eq!(server.dirty() - before, 1);
    assert_reply!(c, ["RENAMENX", "b", "c"], b":1\r\n");
    assert_eq!(server.dirty() - before, 2);
}

#[test]
fn copy_options_and_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "c", "3"], b"+OK\r\n");
    let cases: &[(&[&str], &[u8])] = &[
        (
            &["COPY", "c", "c"],
            b"-ERR source and destination objects are the same\r\n",
        ),
        (&["COPY", "c", "d", "DB"], b"-ERR syntax error\r\n"),
        (
            &["COPY", "c", "d", "DB", "abc"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["COPY", "c", "d", "DB", "99999999999"],
            b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
        ),
        (
            &["COPY", "c", "d", "DB", "16"],
            b"-ERR DB index is out of range\r\n",
        ),
        (
            &["COPY", "c", "d", "DB", "-1"],
            b"-ERR DB index is out of range\r\n",
        ),
        (
            &["COPY", "c", "c", "DB", "0"],
            b"-ERR source and destination objects are the same\r\n",
        ),
        (&["COPY", "c", "d", "FOO"], b"-ERR syntax error\r\n"),
        (
            &["COPY", "c", "d", "DB", "1", "FOO"],
            b"-ERR syntax error\r\n",
        ),
        (
            &["COPY", "c", "d", "DB", "abc", "DB", "2"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["COPY", "nokey", "d", "DB", "99"],
            b"-ERR DB index is out of range\r\n",
        ),
        (
            &["COPY", "c"],
            b"-ERR wrong number of arguments for 'copy' command\r\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(
            String::from_utf8_lossy(&c.call(args)),
            String::from_utf8_lossy(expected),
            "{args:?}"
        );
    }
    assert_reply!(c, ["DBSIZE"], b":1\r\n");
}

#[test]
fn copy_duplicates_value_and_ttl() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["COPY", "nokey", "d"], b":0\r\n");
    assert_reply!(c, ["SET", "c", "3"], b"+OK\r\n");
    assert_reply!(c, ["EXPIRE", "c", "100"], b":1\r\n");
    let before = server.dirty();
    assert_reply!(c, ["COPY", "c", "d"], b":1\r\n");
    assert_eq!(server.dirty() - before, 1);
    assert_reply!(c, ["TTL", "d"], b":100\r\n");
    assert_reply!(c, ["GET", "d"], b"$1\r\n3\r\n");
    assert_reply!(c, ["COPY", "c", "d"], b":0\r\n");
    assert_eq!(server.dirty() - before, 1);
    assert_reply!(c, ["SET", "c", "4"], b"+OK\r\n");
    assert_reply!(c, ["COPY", "c", "d", "REPLACE"], b":1\r\n");
    assert_reply!(c, ["GET", "d"], b"$1\r\n4\r\n");
    assert_reply!(c, ["TTL", "d"], b":-1\r\n");
    assert_reply!(c, ["COPY", "c", "d", "replace", "REPLACE"], b":1\r\n");
    // Changing the copy leaves the source alone.
    assert_reply!(c, ["SET", "d", "changed"], b"+OK\r\n");
    assert_reply!(c, ["GET", "c"], b"$1\r\n4\r\n");
    // Into other databases, the last DB option winning.
    assert_reply!(c, ["COPY", "c", "c", "DB", "1"], b":1\r\n");
    assert_reply!(c, ["COPY", "c", "d", "DB", "1", "DB", "2"], b":1\r\n");
    assert_reply!(c, ["COPY", "c", "c", "DB", "1"], b":0\r\n");
    assert_reply!(c, ["SELECT", "1"], b"+OK\r\n");
    assert_reply!(c, ["GET", "c"], b"$1\r\n4\r\n");
    assert_reply!(c, ["EXISTS", "d"], b":0\r\n");
    assert_reply!(c, ["SELECT", "2"], b"+OK\r\n");
    assert_reply!(c, ["GET", "d"], b"$1\r\n4\r\n");
    // Copying back from database 2 into database 0.
    assert_eq!(c.call_bin(&[b"SET", b"bin\0", b"x"]), b"+OK\r\n");
    assert_eq!(
        c.call_bin(&[b"COPY", b"bin\0", b"\r\n", b"DB", b"0"]),
        b":1\r\n"
    );
    assert_reply!(c, ["SELECT", "0"], b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"GET", b"\r\n"]), b"$1\r\nx\r\n");
}

#[test]
fn move_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    let cases: &[(&[&str], &[u8])] = &[
        (
            &["MOVE", "k", "0"],
            b"-ERR source and destination objects are the same\r\n",
        ),
        (
            &["MOVE", "k", "abc"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["MOVE", "k", "99999999999"],
            b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
        ),
        (&["MOVE", "k", "16"], b"-ERR DB index is out of range\r\n"),
        (&["MOVE", "k", "-1"], b"-ERR DB index is out of range\r\n"),
        (
            &["MOVE", "nokey", "16"],
            b"-ERR DB index is out of range\r\n",
        ),
        (
            &["MOVE", "k"],
            b"-ERR wrong number of arguments for 'move' command\r\n",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(
            String::from_utf8_lossy(&c.call(args)),
            String::from_utf8_lossy(expected),
            "{args:?}"
        );
    }
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
}

#[test]
fn move_transfers_value_and_ttl_unless_the_target_has_the_key() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["MOVE", "nokey", "1"], b":0\r\n");
    assert_eq!(c.call_bin(&[b"SET", b"k\0", b"v"]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"EXPIRE", b"k\0", b"100"]), b":1\r\n");
    let before = server.dirty();
    assert_eq!(c.call_bin(&[b"MOVE", b"k\0", b"1"]), b":1\r\n");
    assert_eq!(server.dirty() - before, 1);
    assert_eq!(c.call_bin(&[b"EXISTS", b"k\0"]), b":0\r\n");
    assert_reply!(c, ["SELECT", "1"], b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"GET", b"k\0"]), b"$1\r\nv\r\n");
    assert_eq!(c.call_bin(&[b"TTL", b"k\0"]), b":100\r\n");
    // Moving back onto an existing key does nothing.
    assert_reply!(c, ["SELECT", "0"], b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"SET", b"k\0", b"zero"]), b"+OK\r\n");
    assert_reply!(c, ["SELECT", "1"], b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"MOVE", b"k\0", b"0"]), b":0\r\n");
    assert_eq!(server.dirty() - before, 2, "only the SET counted");
    assert_eq!(c.call_bin(&[b"GET", b"k\0"]), b"$1\r\nv\r\n");
    assert_reply!(c, ["SELECT", "0"], b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"GET", b"k\0"]), b"$4\r\nzero\r\n");
}

#[test]
fn swapdb_exchanges_databases_for_every_client() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut other = server.raw();
    assert_reply!(c, ["SET", "k", "zero"], b"+OK\r\n");
    assert_reply!(c, ["EXPIRE", "k", "100"], b":1\r\n");
    assert_reply!(other, ["SELECT", "1"], b"+OK\r\n");
    assert_reply!(other, ["SET", "k", "one"], b"+OK\r\n");
    assert_reply!(other, ["SET", "only1", "x"], b"+OK\r\n");
    let before = server.dirty();
    assert_reply!(c, ["SWAPDB", "0", "1"], b"+OK\r\n");
    assert_eq!(server.dirty() - before, 1);
    assert_reply!(c, ["GET", "k"], b"$3\r\none\r\n");
    assert_reply!(c, ["TTL", "k"], b":-1\r\n");
    assert_reply!(c, ["DBSIZE"], b":2\r\n");
    assert_reply!(other, ["GET", "k"], b"$4\r\nzero\r\n");
    assert_reply!(other, ["TTL", "k"], b":100\r\n");
    assert_reply!(other, ["DBSIZE"], b":1\r\n");
    // Same index: OK, nothing changes, still one change counted.
    assert_reply!(c, ["SWAPDB", "1", "1"], b"+OK\r\n");
    assert_eq!(server.dirty() - before, 2);
    assert_reply!(other, ["GET", "k"], b"$4\r\nzero\r\n");
    // With an empty database.
    assert_reply!(c, ["SWAPDB", "15", "0"], b"+OK\r\n");
    assert_reply!(c, ["DBSIZE"], b":0\r\n");
    assert_reply!(c, ["SELECT", "15"], b"+OK\r\n");
    assert_reply!(c, ["GET", "only1"], b"$1\r\nx\r\n");
}

#[test]
fn swapdb_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let cases: &[(&[&str], &[u8])] = &[
        (&["SWAPDB", "abc", "1"], b"-ERR invalid first DB index\r\n"),
        (&["SWAPDB", "1", "abc"], b"-ERR invalid second DB index\r\n"),
        (
            &["SWAPDB", "99999999999", "1"],
            b"-ERR invalid first DB index\r\n",
        ),
        (
            &["SWAPDB", "1", "99999999999"],
            b"-ERR invalid second DB index\r\n",
        ),
        (&["SWAPDB", "0", "16"], b"-ERR DB index is out of range\r\n"),
        (&["SWAPDB", "-1", "0"], b"-ERR DB index is out of range\r\n"),
        (
            &["SWAPDB", "16", "abc"],
            b"-ERR invalid second DB index\r\n",
        ),
        (&["SWAPDB", "abc", "16"], b"-ERR invalid first DB index\r\n"),
        (
            &["SWAPDB", "0"],
            b"-ERR wrong number of arguments for 'swapdb' command\r\n",
        ),
    ];
    let before = server.dirty();
    for (args, expected) in cases {
        assert_eq!(
            String::from_utf8_lossy(&c.call(args)),
            String::from_utf8_lossy(expected),
            "{args:?}"
        );
    }
    assert_eq!(server.dirty(), before);
}

#[test]
fn persist_removes_a_ttl_once() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["PERSIST", "nokey"], b":0\r\n");
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["PERSIST", "k"], b":0\r\n");
    assert_reply!(c, ["EXPIRE", "k", "100"], b":1\r\n");
    let before = server.dirty();
    assert_reply!(c, ["PERSIST", "k"], b":1\r\n");
    assert_reply!(c, ["PERSIST", "k"], b":0\r\n");
    assert_eq!(server.dirty() - before, 1);
    assert_reply!(c, ["TTL", "k"], b":-1\r\n");
    assert_reply!(
        c,
        ["PERSIST"],
        b"-ERR wrong number of arguments for 'persist' command\r\n"
    );
}

#[test]
fn touch_counts_existing_keys_and_resets_idle_time() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["TOUCH", "k", "nokey", "k"], b":2\r\n");
    assert_reply!(c, ["TOUCH", "nokey"], b":0\r\n");
    assert_reply!(
        c,
        ["TOUCH"],
        b"-ERR wrong number of arguments for 'touch' command\r\n"
    );
    // Idle time is in whole seconds: let a little more than one pass.
    thread::sleep(std::time::Duration::from_millis(1100));
    assert_reply!(c, ["OBJECT", "IDLETIME", "k"], b":1\r\n");
    // Peeking does not count as an access...
    for cmd in [
        &["TYPE", "k"][..],
        &["EXISTS", "k"],
        &["TTL", "k"],
        &["SCAN", "0"],
    ] {
        c.call(cmd);
    }
    assert_reply!(c, ["OBJECT", "IDLETIME", "k"], b":1\r\n");
    // ...touching does.
    assert_reply!(c, ["TOUCH", "k"], b":1\r\n");
    assert_reply!(c, ["OBJECT", "IDLETIME", "k"], b":0\r\n");
}

#[test]
fn object_encoding_and_refcount_follow_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let long = "a".repeat(45);
    let cases: &[(&str, &[u8], &[u8])] = &[
        ("v", b"$6\r\nembstr\r\n", b":1\r\n"),
        ("5", b"$3\r\nint\r\n", b":2147483647\r\n"),
        ("0", b"$3\r\nint\r\n", b":2147483647\r\n"),
        ("9999", b"$3\r\nint\r\n", b":2147483647\r\n"),
        ("10000", b"$3\r\nint\r\n", b":1\r\n"),
        ("-1", b"$3\r\nint\r\n", b":1\r\n"),
        ("007", b"$6\r\nembstr\r\n", b":1\r\n"),
        (&long[..44], b"$6\r\nembstr\r\n", b":1\r\n"),
        (&long, b"$3\r\nraw\r\n", b":1\r\n"),
    ];
    for (value, encoding, refcount) in cases {
        assert_reply!(c, ["SET", "k", value], b"+OK\r\n");
        assert_reply!(c, ["OBJECT", "ENCODING", "k"], encoding);
        assert_reply!(c, ["OBJECT", "REFCOUNT", "k"], refcount);
    }
    // A renamed shared integer is still shared.
    assert_reply!(c, ["SET", "n", "5"], b"+OK\r\n");
    assert_reply!(c, ["RENAME", "n", "m"], b"+OK\r\n");
    assert_reply!(c, ["OBJECT", "REFCOUNT", "m"], b":2147483647\r\n");
    assert_reply!(c, ["object", "encoding", "m"], b"$3\r\nint\r\n");
}

#[test]
fn object_on_missing_keys_and_freq() {
    let server = TestServer::start();
    let mut c = server.raw();
    for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
        assert_reply!(c, ["OBJECT", sub, "nokey"], b"$-1\r\n");
    }
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(
        c,
        ["OBJECT", "FREQ", "k"],
        b"-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
    );
    assert_reply!(c, ["OBJECT", "IDLETIME", "k"], b":0\r\n");
    c.call(&["HELLO", "3"]);
    assert_reply!(c, ["OBJECT", "ENCODING", "nokey"], b"_\r\n");
}

#[test]
fn object_help_and_subcommand_errors_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["object", "help"],
        b"*15\r\n\
+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
+ENCODING <key>\r\n\
+    Return the kind of internal representation used in order to store the value\r\n\
+    associated with a <key>.\r\n\
+FREQ <key>\r\n\
+    Return the access frequency index of the <key>. The returned integer is\r\n\
+    proportional to the logarithm of the recent access frequency of the key.\r\n\
+IDLETIME <key>\r\n\
+    Return the idle time of the <key>, that is the approximated number of\r\n\
+    seconds elapsed since the last access to the key.\r\n\
+REFCOUNT <key>\r\n\
+    Return the number of references of the value associated with the specified\r\n\
+    <key>.\r\n\
+HELP\r\n\
+    Prints this help.\r\n"
    );
    assert_reply!(
        c,
        ["OBJECT", "HELP", "x"],
        b"-ERR wrong number of arguments for 'object|help' command\r\n"
    );
    assert_reply!(
        c,
        ["OBJECT", "ENCODING"],
        b"-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_reply!(
        c,
        ["OBJECT"],
        b"-ERR wrong number of arguments for 'object' command\r\n"
    );
    assert_reply!(
        c,
        ["OBJECT", "foo"],
        b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
    );
    assert_reply!(
        c,
        ["OBJECT", "foo", "k"],
        b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
    );
    assert_eq!(
        c.call_bin(&[b"OBJECT", b"f\r\no\0o", b"k"]),
        b"-ERR unknown subcommand 'f  o'. Try OBJECT HELP.\r\n"
    );
}

#[test]
fn commands_work_in_every_database_independently() {
    let server = TestServer::start();
    let mut c = server.raw();
    for db in ["0", "7", "15"] {
        assert_reply!(c, ["SELECT", db], b"+OK\r\n");
        assert_reply!(c, ["SET", "k", db], b"+OK\r\n");
        assert_reply!(c, ["RENAME", "k", "r"], b"+OK\r\n");
        assert_reply!(c, ["EXPIRE", "r", "50"], b":1\r\n");
    }
    for db in ["0", "7", "15"] {
        assert_reply!(c, ["SELECT", db], b"+OK\r\n");
        let value = format!("${}\r\n{db}\r\n", db.len());
        assert_reply!(c, ["GET", "r"], value.as_bytes());
        assert_reply!(c, ["KEYS", "*"], b"*1\r\n$1\r\nr\r\n");
        assert_reply!(c, ["TTL", "r"], b":50\r\n");
        assert_reply!(c, ["TYPE", "k"], b"+none\r\n");
    }
    assert_reply!(c, ["SELECT", "3"], b"+OK\r\n");
    assert_reply!(c, ["RANDOMKEY"], b"$-1\r\n");
    assert_reply!(c, ["SCAN", "0"], b"*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn rename_is_atomic_for_concurrent_readers() {
    let server = TestServer::start();
    let mut setup = server.raw();
    assert_reply!(setup, ["SET", "left", "token"], b"+OK\r\n");
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr;

    // Renamers move the single key back and forth; a RENAME whose source
    // another renamer already moved fails with "no such key", which is fine.
    let renamers: Vec<_> = (0..3)
        .map(|i| {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut c = Raw::connect(addr);
                let (from, to) = if i % 2 == 0 {
                    ("left", "right")
                } else {
                    ("right", "left")
                };
                let mut renamed = 0;
                while !stop.load(Ordering::Relaxed) {
                    let reply = c.call(&["RENAME", from, to]);
                    if reply == b"+OK\r\n" {
                        renamed += 1;
                    } else {
                        assert_eq!(reply, b"-ERR no such key\r\n");
                    }
                    let reply = c.call(&["RENAMENX", to, from]);
                    assert!(
                        reply == b":1\r\n"
                            || reply == b":0\r\n"
                            || reply == b"-ERR no such key\r\n",
                        "{}",
                        String::from_utf8_lossy(&reply)
                    );
                }
                renamed
            })
        })
        .collect();

    let readers: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(move || {
                let mut c = Raw::connect(addr);
                for _ in 0..2_000 {
                    assert_eq!(c.call(&["EXISTS", "left", "right"]), b":1\r\n");
                    let keys = sorted_strings(&c.frame(&["KEYS", "*"]));
                    assert_eq!(keys.len(), 1, "KEYS saw {keys:?}");
                    assert_eq!(c.call(&["DBSIZE"]), b":1\r\n");
                }
            })
        })
        .collect();

    for reader in readers {
        reader
            .join()
            .expect("reader saw exactly one key every time");
    }
    stop.store(true, Ordering::Relaxed);
    let renamed: usize = renamers
        .into_iter()
        .map(|r| r.join().expect("renamer"))
        .sum();
    assert!(renamed > 0);
    assert_reply!(setup, ["DBSIZE"], b":1\r\n");
}
