//! The string commands over a real socket (Redis's `t_string.c` family).
//!
//! The scripted tests send commands one by one and compare each reply with
//! the exact bytes a real redis-server 7.0.15 sent for the same command in
//! the same state. The other tests look at what the reply cannot show:
//! encodings, deadlines and the dirty counter, read from the embedded
//! server's keyspace; key positions from the command table; TTLs running
//! out; and MSET's atomicity against a concurrent reader.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Raw, TestServer};
use sedis::internals::clock;
use sedis::internals::store::{LockPlan, Mode};

/// Sends each command in turn and asserts its reply, byte for byte.
fn script(c: &mut Raw, steps: &[(&[&str], &[u8])]) {
    for (args, expected) in steps {
        let got = c.call(args);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "reply to {args:?}"
        );
    }
}

/// What database 0 holds at `key`: the encoding OBJECT ENCODING would name,
/// and the deadline (unix ms), read straight from the keyspace.
fn stored(server: &TestServer, key: &str) -> Option<(&'static str, Option<i64>)> {
    let ks = server.handle().state().keyspace();
    let mut plan = LockPlan::new();
    plan.add_key(ks, 0, key.as_bytes(), Mode::Read);
    let mut locks = ks.lock(&plan);
    let db = locks.db(0, clock::unix_ms());
    db.peek(key.as_bytes())
        .map(|entry| (entry.value.encoding_name(), db.expire_at(key.as_bytes())))
}

fn encoding(server: &TestServer, key: &str) -> &'static str {
    stored(server, key).expect("key exists").0
}

fn deadline(server: &TestServer, key: &str) -> Option<i64> {
    stored(server, key).expect("key exists").1
}

/// GET and SET on plain, empty and binary keys and values.
#[test]
fn set_and_get_round_trip() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["get", "missing"], b"$-1\r\n"),
            (&["set", "k", "v"], b"+OK\r\n"),
            (&["get", "k"], b"$1\r\nv\r\n"),
            (&["set", "k", "other"], b"+OK\r\n"),
            (&["get", "k"], b"$5\r\nother\r\n"),
            (&["set", "", "empty-key"], b"+OK\r\n"),
            (&["get", ""], b"$9\r\nempty-key\r\n"),
            (&["set", "empty", ""], b"+OK\r\n"),
            (&["get", "empty"], b"$0\r\n\r\n"),
            (&["set", "bin\0\r\nkey", "a\r\nb\0c"], b"+OK\r\n"),
            (&["get", "bin\0\r\nkey"], b"$6\r\na\r\nb\0c\r\n"),
            (&["get", "bin"], b"$-1\r\n"),
        ],
    );
    // arity is checked before the handler runs
    script(
        &mut c,
        &[
            (
                &["get"],
                b"-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                &["get", "a", "b"],
                b"-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                &["set", "k"],
                b"-ERR wrong number of arguments for 'set' command\r\n",
            ),
        ],
    );
}

/// SET NX, XX and GET, alone and together, and every combination Redis refuses.
#[test]
fn set_options_follow_redis_rules() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["set", "k", "v", "nx"], b"+OK\r\n"),
            (&["set", "k", "v2", "nx"], b"$-1\r\n"),
            (&["get", "k"], b"$1\r\nv\r\n"),
            (&["set", "k", "v3", "xx"], b"+OK\r\n"),
            (&["get", "k"], b"$2\r\nv3\r\n"),
            (&["set", "missing", "v", "xx"], b"$-1\r\n"),
            (&["get", "missing"], b"$-1\r\n"),
            (&["set", "k", "v4", "get"], b"$2\r\nv3\r\n"),
            (&["set", "k", "v5", "nx", "get"], b"$2\r\nv4\r\n"),
            (&["get", "k"], b"$2\r\nv4\r\n"),
            (&["set", "k", "v6", "xx", "get"], b"$2\r\nv4\r\n"),
            (&["set", "fresh", "v", "nx", "get"], b"$-1\r\n"),
            (&["get", "fresh"], b"$1\r\nv\r\n"),
            (&["set", "absent", "v", "xx", "get"], b"$-1\r\n"),
            (&["exists", "absent"], b":0\r\n"),
        ],
    );
    // options may repeat; conflicting ones are a syntax error
    script(
        &mut c,
        &[
            (
                &["set", "k", "v7", "get", "get", "nx", "nx"],
                b"$2\r\nv6\r\n",
            ),
            (&["set", "k", "v", "nx", "xx"], b"-ERR syntax error\r\n"),
            (&["set", "k", "v", "xx", "nx"], b"-ERR syntax error\r\n"),
            (
                &["set", "k", "v", "ex", "10", "px", "100"],
                b"-ERR syntax error\r\n",
            ),
            (
                &["set", "k", "v", "px", "100", "exat", "10"],
                b"-ERR syntax error\r\n",
            ),
            (
                &["set", "k", "v", "exat", "10", "pxat", "10"],
                b"-ERR syntax error\r\n",
            ),
            (
                &["set", "k", "v", "keepttl", "ex", "10"],
                b"-ERR syntax error\r\n",
            ),
            (
                &["set", "k", "v", "ex", "10", "keepttl"],
                b"-ERR syntax error\r\n",
            ),
            (&["set", "k", "v", "persist"], b"-ERR syntax error\r\n"),
            (&["set", "k", "v", "ex"], b"-ERR syntax error\r\n"),
            (&["set", "k", "v", "px"], b"-ERR syntax error\r\n"),
            (&["set", "k", "v", "foo"], b"-ERR syntax error\r\n"),
            (&["set", "k", "v", "ex", "10", "ex", "20"], b"+OK\r\n"),
        ],
    );
    // expire values: integers, positive, no overflow once in milliseconds
    script(
        &mut c,
        &[
            (
                &["set", "k", "v", "ex", "abc"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["set", "k", "v", "ex", "0"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["set", "k", "v", "px", "-1"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["set", "k", "v", "exat", "0"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["set", "k", "v", "ex", "9223372036854775807"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["set", "k", "v", "ex", "9223372036854775"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["set", "k", "v", "px", "9223372036854775807"],
                b"-ERR invalid expire time in 'set' command\r\n",
            ),
            (
                &["set", "k", "v", "pxat", "9223372036854775807"],
                b"+OK\r\n",
            ),
            (
                &["set", "k", "v", "ex", " 10"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["get", "k"], b"$1\r\nv\r\n"),
            (&["set", "c", "v", "nx\0junk"], b"+OK\r\n"),
            (&["get", "c"], b"$1\r\nv\r\n"),
            (&["set", "c", "v2", "NX\0"], b"$-1\r\n"),
            (&["set", "c", "v3", "xx\0x", "get\0y"], b"$1\r\nv\r\n"),
            (&["get", "c"], b"$2\r\nv3\r\n"),
            (&["set", "c", "v", "n\0x"], b"-ERR syntax error\r\n"),
        ],
    );
}

/// SETNX replies 1 or 0; SETEX and PSETEX validate their TTL first.
#[test]
fn setnx_setex_and_psetex() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["setnx", "k", "v"], b":1\r\n"),
            (&["setnx", "k", "v2"], b":0\r\n"),
            (&["get", "k"], b"$1\r\nv\r\n"),
            (&["setex", "s", "100", "v"], b"+OK\r\n"),
            (&["get", "s"], b"$1\r\nv\r\n"),
            (
                &["setex", "s", "0", "v"],
                b"-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                &["setex", "s", "-1", "v"],
                b"-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                &["setex", "s", "abc", "v"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["setex", "s", "9223372036854775807", "v"],
                b"-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                &["setex", "s", "9223372036854775", "v"],
                b"-ERR invalid expire time in 'setex' command\r\n",
            ),
            (&["psetex", "p", "100000", "v"], b"+OK\r\n"),
            (&["get", "p"], b"$1\r\nv\r\n"),
            (
                &["psetex", "p", "0", "v"],
                b"-ERR invalid expire time in 'psetex' command\r\n",
            ),
            (
                &["psetex", "p", "9223372036854775807", "v"],
                b"-ERR invalid expire time in 'psetex' command\r\n",
            ),
            (
                &["psetex", "p", "1.5", "v"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["setex", "s", "10"],
                b"-ERR wrong number of arguments for 'setex' command\r\n",
            ),
            (
                &["setnx", "k"],
                b"-ERR wrong number of arguments for 'setnx' command\r\n",
            ),
        ],
    );
}

/// GETSET replies the old value; GETDEL removes the key.
#[test]
fn getset_and_getdel() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["getset", "k", "v1"], b"$-1\r\n"),
            (&["getset", "k", "v2"], b"$2\r\nv1\r\n"),
            (&["get", "k"], b"$2\r\nv2\r\n"),
            (&["getdel", "k"], b"$2\r\nv2\r\n"),
            (&["getdel", "k"], b"$-1\r\n"),
            (&["exists", "k"], b":0\r\n"),
            (&["getdel", "missing"], b"$-1\r\n"),
            (
                &["getset", "k"],
                b"-ERR wrong number of arguments for 'getset' command\r\n",
            ),
        ],
    );
}

/// GETEX: options parsed first, then a missing key is null, then the expire value is checked.
#[test]
fn getex_options_and_errors() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["getex", "missing"], b"$-1\r\n"),
            (&["getex", "missing", "ex", "10"], b"$-1\r\n"),
            (&["getex", "missing", "ex", "abc"], b"$-1\r\n"),
            (&["getex", "missing", "foo"], b"-ERR syntax error\r\n"),
            (&["set", "k", "v"], b"+OK\r\n"),
            (&["getex", "k"], b"$1\r\nv\r\n"),
            (&["getex", "k", "ex", "100"], b"$1\r\nv\r\n"),
            (&["getex", "k", "px", "100000"], b"$1\r\nv\r\n"),
            (&["getex", "k", "exat", "9999999999"], b"$1\r\nv\r\n"),
            (&["getex", "k", "pxat", "9999999999999"], b"$1\r\nv\r\n"),
            (&["getex", "k", "persist"], b"$1\r\nv\r\n"),
            (&["getex", "k", "persist"], b"$1\r\nv\r\n"),
            (&["getex", "k", "ex", "10", "ex", "20"], b"$1\r\nv\r\n"),
            (
                &["getex", "k", "ex", "0"],
                b"-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                &["getex", "k", "px", "-5"],
                b"-ERR invalid expire time in 'getex' command\r\n",
            ),
            (
                &["getex", "k", "ex", "abc"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["getex", "k", "ex", "9223372036854775807"],
                b"-ERR invalid expire time in 'getex' command\r\n",
            ),
            (&["getex", "k", "exat", "9223372036854775"], b"$1\r\nv\r\n"),
            (
                &["getex", "k", "ex", "1", "px", "2"],
                b"-ERR syntax error\r\n",
            ),
            (
                &["getex", "k", "persist", "ex", "10"],
                b"-ERR syntax error\r\n",
            ),
            (
                &["getex", "k", "ex", "10", "persist"],
                b"-ERR syntax error\r\n",
            ),
            (&["getex", "k", "ex"], b"-ERR syntax error\r\n"),
            (&["getex", "k", "nx"], b"-ERR syntax error\r\n"),
            (&["getex", "k", "keepttl"], b"-ERR syntax error\r\n"),
            (&["getex", "k", "get"], b"-ERR syntax error\r\n"),
        ],
    );
    // an absolute time already past deletes the key after replying
    script(
        &mut c,
        &[
            (&["getex", "k", "exat", "1"], b"$1\r\nv\r\n"),
            (&["exists", "k"], b":0\r\n"),
            (&["set", "k", "v"], b"+OK\r\n"),
            (&["getex", "k", "pxat", "1"], b"$1\r\nv\r\n"),
            (&["get", "k"], b"$-1\r\n"),
            (
                &["getex"],
                b"-ERR wrong number of arguments for 'getex' command\r\n",
            ),
        ],
    );
}

/// MGET, MSET and MSETNX, including their argument-count errors.
#[test]
fn mget_mset_and_msetnx() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["mset", "a", "1", "b", "2", "c", "3"], b"+OK\r\n"),
            (
                &["mget", "a", "b", "c", "missing"],
                b"*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n",
            ),
            (&["mget", "missing"], b"*1\r\n$-1\r\n"),
            (
                &["mset", "a"],
                b"-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                &["mset", "a", "1", "b"],
                b"-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                &["msetnx", "a"],
                b"-ERR wrong number of arguments for 'msetnx' command\r\n",
            ),
            (
                &["msetnx", "a", "1", "b"],
                b"-ERR wrong number of arguments for 'msetnx' command\r\n",
            ),
            (&["mset", "a", "10", "a", "20"], b"+OK\r\n"),
            (&["get", "a"], b"$2\r\n20\r\n"),
            (&["msetnx", "a", "1", "new", "2"], b":0\r\n"),
            (&["exists", "new"], b":0\r\n"),
            (&["msetnx", "new", "1", "other", "2"], b":1\r\n"),
            (&["mget", "new", "other"], b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            (&["msetnx", "dup", "1", "dup", "2"], b":1\r\n"),
            (&["get", "dup"], b"$1\r\n2\r\n"),
            (
                &["mget"],
                b"-ERR wrong number of arguments for 'mget' command\r\n",
            ),
            (
                &["mset"],
                b"-ERR wrong number of arguments for 'mset' command\r\n",
            ),
        ],
    );
}

/// APPEND creates or extends; STRLEN measures (0 for a missing key).
#[test]
fn append_and_strlen() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["strlen", "missing"], b":0\r\n"),
            (&["append", "k", "hello"], b":5\r\n"),
            (&["append", "k", " world"], b":11\r\n"),
            (&["get", "k"], b"$11\r\nhello world\r\n"),
            (&["strlen", "k"], b":11\r\n"),
            (&["append", "k", ""], b":11\r\n"),
            (&["append", "empty", ""], b":0\r\n"),
            (&["exists", "empty"], b":1\r\n"),
            (&["strlen", "empty"], b":0\r\n"),
            (&["set", "n", "12345"], b"+OK\r\n"),
            (&["strlen", "n"], b":5\r\n"),
            (&["append", "n", "6"], b":6\r\n"),
            (&["get", "n"], b"$6\r\n123456\r\n"),
            (&["set", "n", "-9223372036854775808"], b"+OK\r\n"),
            (&["strlen", "n"], b":20\r\n"),
            (
                &["append", "k"],
                b"-ERR wrong number of arguments for 'append' command\r\n",
            ),
            (
                &["strlen"],
                b"-ERR wrong number of arguments for 'strlen' command\r\n",
            ),
            (&["append", "bin", "a\0b"], b":3\r\n"),
            (&["append", "bin", "\r\n"], b":5\r\n"),
            (&["strlen", "bin"], b":5\r\n"),
            (&["get", "bin"], b"$5\r\na\0b\r\n\r\n"),
        ],
    );
}

/// INCR, DECR, INCRBY, DECRBY: strict integers, exact bounds, overflow errors.
#[test]
fn incr_decr_family() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["incr", "n"], b":1\r\n"),
            (&["incr", "n"], b":2\r\n"),
            (&["decr", "n"], b":1\r\n"),
            (&["incrby", "n", "10"], b":11\r\n"),
            (&["decrby", "n", "20"], b":-9\r\n"),
            (&["decr", "fresh"], b":-1\r\n"),
            (&["incrby", "fresh2", "-5"], b":-5\r\n"),
            (&["decrby", "fresh3", "-5"], b":5\r\n"),
            (&["set", "n", "9223372036854775806"], b"+OK\r\n"),
            (&["incr", "n"], b":9223372036854775807\r\n"),
            (
                &["incr", "n"],
                b"-ERR increment or decrement would overflow\r\n",
            ),
            (&["get", "n"], b"$19\r\n9223372036854775807\r\n"),
            (&["incrby", "n", "0"], b":9223372036854775807\r\n"),
            (&["set", "n", "-9223372036854775807"], b"+OK\r\n"),
            (&["decr", "n"], b":-9223372036854775808\r\n"),
            (
                &["decr", "n"],
                b"-ERR increment or decrement would overflow\r\n",
            ),
            (
                &["decrby", "n", "1"],
                b"-ERR increment or decrement would overflow\r\n",
            ),
            (
                &["incrby", "n", "-1"],
                b"-ERR increment or decrement would overflow\r\n",
            ),
            (&["incrby", "n", "9223372036854775807"], b":-1\r\n"),
            (
                &["decrby", "n", "-9223372036854775807"],
                b":9223372036854775806\r\n",
            ),
            (&["set", "z", "0"], b"+OK\r\n"),
            (
                &["decrby", "z", "-9223372036854775807"],
                b":9223372036854775807\r\n",
            ),
            (
                &["decrby", "z", "-9223372036854775808"],
                b"-ERR decrement would overflow\r\n",
            ),
            (&["decrby", "z", "9223372036854775807"], b":0\r\n"),
            (
                &["decrby", "z", "9223372036854775807"],
                b":-9223372036854775807\r\n",
            ),
        ],
    );
    // DECRBY cannot negate i64::MIN
    script(
        &mut c,
        &[
            (
                &["decrby", "z", "-9223372036854775808"],
                b"-ERR decrement would overflow\r\n",
            ),
            (
                &["decrby", "missing", "-9223372036854775808"],
                b"-ERR decrement would overflow\r\n",
            ),
        ],
    );
    // the increment must be a strict integer
    script(
        &mut c,
        &[
            (
                &["incrby", "z", "+5"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", "007"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", " 5"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", "5 "],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", "1.0"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", "9223372036854775808"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", "-9223372036854775809"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["incrby", "z", ""],
                b"-ERR value is not an integer or out of range\r\n",
            ),
        ],
    );
    // and so must the value
    script(
        &mut c,
        &[
            (&["set", "s", "abc"], b"+OK\r\n"),
            (
                &["incr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "s", "1.5"], b"+OK\r\n"),
            (
                &["incr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "s", "00"], b"+OK\r\n"),
            (
                &["decr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "s", "-0"], b"+OK\r\n"),
            (
                &["incr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "s", "+1"], b"+OK\r\n"),
            (
                &["incr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "s", ""], b"+OK\r\n"),
            (
                &["incr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "s", "9223372036854775808"], b"+OK\r\n"),
            (
                &["incr", "s"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["get", "s"], b"$19\r\n9223372036854775808\r\n"),
            (
                &["incr"],
                b"-ERR wrong number of arguments for 'incr' command\r\n",
            ),
            (
                &["incrby", "n"],
                b"-ERR wrong number of arguments for 'incrby' command\r\n",
            ),
        ],
    );
}

/// INCRBYFLOAT computes in 80-bit long double and formats with %.17Lf, trimmed.
#[test]
fn incrbyfloat_matches_long_double() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["incrbyfloat", "f", "10.5"], b"$4\r\n10.5\r\n"),
            (&["incrbyfloat", "f", "0.1"], b"$4\r\n10.6\r\n"),
            (&["incrbyfloat", "f", "-5.6"], b"$1\r\n5\r\n"),
            (&["incrbyfloat", "f", "-5"], b"$1\r\n0\r\n"),
            (&["incrbyfloat", "f", "0"], b"$1\r\n0\r\n"),
            (&["set", "f", "1e17"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0.5"],
                b"$20\r\n100000000000000000.5\r\n",
            ),
            (&["set", "f", "0.1"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "0.2"], b"$3\r\n0.3\r\n"),
            (&["set", "f", "3"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "0x10"], b"$2\r\n19\r\n"),
            (&["incrbyfloat", "f", "0x1.8p1"], b"$2\r\n22\r\n"),
            (&["incrbyfloat", "f", "1e-18"], b"$2\r\n22\r\n"),
            (&["incrbyfloat", "f", "-1e-18"], b"$2\r\n22\r\n"),
            (&["set", "f", "5.0e3"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "2.0e2"], b"$4\r\n5200\r\n"),
            (&["set", "f", "9223372036854775807"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "1"],
                b"$19\r\n9223372036854775808\r\n",
            ),
            (&["set", "f", "18446744073709551615"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0.5"],
                b"$20\r\n18446744073709551616\r\n",
            ),
            (
                &["incrbyfloat", "f", "1e20"],
                b"$21\r\n118446744073709551616\r\n",
            ),
            (&["set", "f", "123456789.123456789"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "987654321.987654321"],
                b"$28\r\n1111111111.11111110995989293\r\n",
            ),
            (&["set", "f", "-0.00000000000000001"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0"],
                b"$20\r\n-0.00000000000000001\r\n",
            ),
            (
                &["incrbyfloat", "f", "-0.000000000000000005"],
                b"$20\r\n-0.00000000000000002\r\n",
            ),
            (&["set", "f", "1e4000"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "-1e4000"], b"$1\r\n0\r\n"),
            (&["set", "f", ".5"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "+.5"], b"$1\r\n1\r\n"),
            (&["set", "f", "5."], b"+OK\r\n"),
            (&["incrbyfloat", "f", "1.e1"], b"$2\r\n15\r\n"),
            (
                &["incrbyfloat", "f", "3.0000000000000000001"],
                b"$2\r\n18\r\n",
            ),
            (&["set", "f", "1e-4950"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "0"], b"$1\r\n0\r\n"),
        ],
    );
    // errors: not a float (either side), or a NaN/infinite sum
    script(
        &mut c,
        &[
            (
                &["incrbyfloat", "f", "abc"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", " 1"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "1 "],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", ""],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "nan"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "1e5000"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "1e-5000"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "0x"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "1e"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f", "inf"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (
                &["incrbyfloat", "f", "-infinity"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (&["set", "f", "1.18973149535723176502e+4932"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "1.18973149535723176502e+4932"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (&["get", "f"], b"$28\r\n1.18973149535723176502e+4932\r\n"),
            (&["set", "f", "inf"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "1"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (
                &["incrbyfloat", "f", "-inf"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (&["set", "f", "abc"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "1"],
                b"-ERR value is not a valid float\r\n",
            ),
            (&["set", "f", "1.5 "], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "1"],
                b"-ERR value is not a valid float\r\n",
            ),
            (
                &["incrbyfloat", "f"],
                b"-ERR wrong number of arguments for 'incrbyfloat' command\r\n",
            ),
        ],
    );
}

/// GETRANGE and SUBSTR index rules: negative from the end, clamped, inverted is empty.
#[test]
fn getrange_and_substr() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["getrange", "missing", "0", "-1"], b"$0\r\n\r\n"),
            (&["set", "g", "hello"], b"+OK\r\n"),
            (&["getrange", "g", "0", "-1"], b"$5\r\nhello\r\n"),
            (&["getrange", "g", "-3", "-1"], b"$3\r\nllo\r\n"),
            (&["getrange", "g", "-1", "-3"], b"$0\r\n\r\n"),
            (&["getrange", "g", "0", "100"], b"$5\r\nhello\r\n"),
            (&["getrange", "g", "5", "10"], b"$0\r\n\r\n"),
            (&["getrange", "g", "4", "4"], b"$1\r\no\r\n"),
            (&["getrange", "g", "-100", "-50"], b"$1\r\nh\r\n"),
            (&["getrange", "g", "-100", "100"], b"$5\r\nhello\r\n"),
            (&["getrange", "g", "3", "2"], b"$0\r\n\r\n"),
            (
                &["getrange", "g", "0", "9223372036854775807"],
                b"$5\r\nhello\r\n",
            ),
            (
                &["getrange", "g", "-9223372036854775808", "-1"],
                b"$5\r\nhello\r\n",
            ),
            (
                &[
                    "getrange",
                    "g",
                    "-9223372036854775808",
                    "-9223372036854775808",
                ],
                b"$1\r\nh\r\n",
            ),
            (
                &["getrange", "g", "a", "1"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["getrange", "g", "1", "b"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["getrange", "g", "1.5", "2"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (&["set", "e", ""], b"+OK\r\n"),
            (&["getrange", "e", "0", "-1"], b"$0\r\n\r\n"),
            (&["getrange", "e", "-1", "0"], b"$0\r\n\r\n"),
            (&["set", "i", "-12345"], b"+OK\r\n"),
            (&["getrange", "i", "1", "2"], b"$2\r\n12\r\n"),
            (&["getrange", "i", "-2", "-1"], b"$2\r\n45\r\n"),
            (&["substr", "g", "1", "3"], b"$3\r\nell\r\n"),
            (&["substr", "g", "-2", "-1"], b"$2\r\nlo\r\n"),
            (&["substr", "missing", "0", "1"], b"$0\r\n\r\n"),
            (
                &["getrange", "g", "0"],
                b"-ERR wrong number of arguments for 'getrange' command\r\n",
            ),
            (
                &["substr", "g", "0"],
                b"-ERR wrong number of arguments for 'substr' command\r\n",
            ),
        ],
    );
}

/// SETRANGE writes at an offset, padding with zero bytes; empty values change nothing.
#[test]
fn setrange_pads_and_overwrites() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["setrange", "missing", "0", ""], b":0\r\n"),
            (&["setrange", "missing", "100", ""], b":0\r\n"),
            (&["exists", "missing"], b":0\r\n"),
            (&["setrange", "k", "3", "ab"], b":5\r\n"),
            (&["get", "k"], b"$5\r\n\0\0\0ab\r\n"),
            (&["setrange", "k", "0", "XYZ"], b":5\r\n"),
            (&["get", "k"], b"$5\r\nXYZab\r\n"),
            (&["setrange", "k", "4", "long-tail"], b":13\r\n"),
            (&["get", "k"], b"$13\r\nXYZalong-tail\r\n"),
            (&["setrange", "k", "0", ""], b":13\r\n"),
            (&["setrange", "k", "9223372036854775807", ""], b":13\r\n"),
            (
                &["setrange", "k", "-1", "x"],
                b"-ERR offset is out of range\r\n",
            ),
            (
                &["setrange", "k", "-1", ""],
                b"-ERR offset is out of range\r\n",
            ),
            (
                &["setrange", "k", "abc", "x"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["setrange", "k", "1.0", "x"],
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                &["setrange", "k", "9223372036854775807", "x"],
                b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
            ),
        ],
    );
    // beyond proto-max-bulk-len (512mb by default)
    script(
        &mut c,
        &[
            (
                &["setrange", "big", "536870912", "x"],
                b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
            ),
            (
                &["setrange", "big", "536870911", "xy"],
                b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
            ),
            (&["setrange", "big", "536870912", ""], b":0\r\n"),
            (&["exists", "big"], b":0\r\n"),
            (&["set", "n", "12345"], b"+OK\r\n"),
            (&["setrange", "n", "1", "x"], b":5\r\n"),
            (&["get", "n"], b"$5\r\n1x345\r\n"),
            (&["setrange", "n", "5", "6"], b":6\r\n"),
            (&["get", "n"], b"$6\r\n1x3456\r\n"),
            (
                &["setrange", "k", "0"],
                b"-ERR wrong number of arguments for 'setrange' command\r\n",
            ),
        ],
    );
}

/// LCS: the string, LEN, and IDX with MINMATCHLEN and WITHMATCHLEN (RESP2: IDX is a flat array).
#[test]
fn lcs_replies_in_resp2() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["mset", "key1", "ohmytext", "key2", "mynewtext"], b"+OK\r\n"),
            (&["lcs", "key1", "key2"], b"$6\r\nmytext\r\n"),
            (&["lcs", "key1", "key2", "len"], b":6\r\n"),
            (&["lcs", "key1", "key2", "idx"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "key2", "idx", "minmatchlen", "4"], b"*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "key2", "idx", "minmatchlen", "4", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "key2", "idx", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "key2", "IDX", "MinMatchLen", "-5", "WITHMATCHLEN"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key2", "key1", "idx", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:8\r\n*2\r\n:4\r\n:7\r\n:4\r\n*3\r\n*2\r\n:0\r\n:1\r\n*2\r\n:2\r\n:3\r\n:2\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "key2", "len", "len"], b":6\r\n"),
            (&["lcs", "key1", "key2", "minmatchlen", "3", "len"], b":6\r\n"),
            (&["lcs", "key1", "missing"], b"$0\r\n\r\n"),
            (&["lcs", "missing", "key1", "len"], b":0\r\n"),
            (&["lcs", "key1", "missing", "idx"], b"*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"),
            (&["lcs", "missing", "other", "idx", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"),
            (&["mset", "a", "abcbdab", "b", "bdcaba"], b"+OK\r\n"),
            (&["lcs", "a", "b"], b"$4\r\nbdab\r\n"),
            (&["lcs", "a", "b", "idx", "withmatchlen"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n:2\r\n*3\r\n*2\r\n:3\r\n:4\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:4\r\n"),
            (&["mset", "n1", "123456", "n2", "-2468"], b"+OK\r\n"),
            (&["lcs", "n1", "n2", "idx"], b"*4\r\n$7\r\nmatches\r\n*3\r\n*2\r\n*2\r\n:5\r\n:5\r\n*2\r\n:3\r\n:3\r\n*2\r\n*2\r\n:3\r\n:3\r\n*2\r\n:2\r\n:2\r\n*2\r\n*2\r\n:1\r\n:1\r\n*2\r\n:1\r\n:1\r\n$3\r\nlen\r\n:3\r\n"),
        ],
    );
    // errors
    script(
        &mut c,
        &[
            (&["lcs", "key1", "key2", "len", "idx"], b"-ERR If you want both the length and indexes, please just use IDX.\r\n"),
            (&["lcs", "key1", "key2", "idx", "len"], b"-ERR If you want both the length and indexes, please just use IDX.\r\n"),
            (&["lcs", "key1", "key2", "minmatchlen"], b"-ERR syntax error\r\n"),
            (&["lcs", "key1", "key2", "minmatchlen", "x"], b"-ERR value is not an integer or out of range\r\n"),
            (&["lcs", "key1", "key2", "foo"], b"-ERR syntax error\r\n"),
            (&["lcs", "key1"], b"-ERR wrong number of arguments for 'lcs' command\r\n"),
            (&["lcs", "key1", "key2", "idx\0junk"], b"*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"),
        ],
    );
}

/// LCS IDX is a map in RESP3; the other replies are the same as in RESP2.
#[test]
fn lcs_replies_in_resp3() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[(
            &["mset", "key1", "ohmytext", "key2", "mynewtext"],
            b"+OK\r\n",
        )],
    );
    c.call(&["hello", "3"]);
    script(
        &mut c,
        &[
            (&["lcs", "key1", "key2"], b"$6\r\nmytext\r\n"),
            (&["lcs", "key1", "key2", "len"], b":6\r\n"),
            (&["lcs", "key1", "key2", "idx"], b"%2\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "key2", "idx", "minmatchlen", "4", "withmatchlen"], b"%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"),
            (&["lcs", "key1", "missing", "idx"], b"%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"),
            (&["get", "missing"], b"_\r\n"),
            (&["mget", "key1", "missing"], b"*2\r\n$8\r\nohmytext\r\n_\r\n"),
        ],
    );
}

/// INCRBYFLOAT on generated operands (decimal, hex, integers, ties, extremes), replies recorded from Redis.
#[test]
fn incrbyfloat_agrees_on_generated_inputs() {
    let server = TestServer::start();
    let mut c = server.raw();
    script(
        &mut c,
        &[
            (&["set", "f", "-2479766905.46624"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-2063764984898595154"],
                b"$22\r\n-2063764987378362059.5\r\n",
            ),
            (&["set", "f", "949434.5"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0xbFD3EfDcb2."],
                b"$14\r\n823895415148.5\r\n",
            ),
            (&["set", "f", "0xEf88"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-7073817582293476250"],
                b"$20\r\n-7073817582293414930\r\n",
            ),
            (&["set", "f", "204452878611662.90648E23"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "78040"],
                b"$38\r\n20445287861166290648092351192836866048\r\n",
            ),
            (&["set", "f", "635952268227269392964"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0x3.fde"],
                b"$21\r\n635952268227269392960\r\n",
            ),
            (&["set", "f", "-285.85"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0x9e559A568p13"],
                b"$31\r\n348180997537506.149993896484375\r\n",
            ),
            (&["set", "f", "-735.32"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "+352679.6920856"],
                b"$24\r\n351944.37208560000001967\r\n",
            ),
            (&["set", "f", "-6620700750921950512"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0X8870Ca8P23"],
                b"$20\r\n-6621900895042757936\r\n",
            ),
            (&["set", "f", "281.6961"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "1093.650866773295"],
                b"$22\r\n1375.34696677329499992\r\n",
            ),
            (&["set", "f", ".58008146904661040537"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "8609179228948640437"],
                b"$21\r\n8609179228948640437.5\r\n",
            ),
            (&["set", "f", "370.49"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-596.4293129"],
                b"$22\r\n-225.93931290000000001\r\n",
            ),
            (&["set", "f", "+3.8"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "3380267476.2914611"],
                b"$28\r\n3380267480.09146110014989972\r\n",
            ),
            (&["set", "f", "43922412260085764"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "429012362507908"],
                b"$17\r\n44351424622593672\r\n",
            ),
            (&["set", "f", "+607524418"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "-0xB0D.P-55"], b"$9\r\n607524418\r\n"),
            (&["set", "f", "-03846166051394645483"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "+497860569."],
                b"$20\r\n-3846166050896784914\r\n",
            ),
            (&["set", "f", ".10"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "+6856.47224920"],
                b"$21\r\n6856.5722491999999999\r\n",
            ),
            (&["set", "f", "+56666195942537"], b"+OK\r\n"),
            (
                &[
                    "incrbyfloat",
                    "f",
                    "-0.000020592866349034011363983154296875",
                ],
                b"$32\r\n56666195942536.99998092651367188\r\n",
            ),
            (&["set", "f", "35.8083"], b"+OK\r\n"),
            (&["incrbyfloat", "f", "+117"], b"$8\r\n152.8083\r\n"),
            (&["set", "f", ".3539"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0XD0501CDcD6F5E1dcc"],
                b"$21\r\n240168468685610950096\r\n",
            ),
            (&["set", "f", "382.6"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0XC14EBa8Aaf7A1DCa70"],
                b"$23\r\n-3565894605392842705152\r\n",
            ),
            (&["set", "f", "8711801478184079068"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "535.195"],
                b"$19\r\n8711801478184079603\r\n",
            ),
            (&["set", "f", "6.46"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "627730483697.872334"],
                b"$30\r\n627730483704.33233398199081421\r\n",
            ),
            (&["set", "f", "679289820131675917520"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "708.76881"],
                b"$21\r\n679289820131675918208\r\n",
            ),
            (&["set", "f", "0x796fa51E948abFF5AdP-16"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "+0"],
                b"$27\r\n34181227155327679.958984375\r\n",
            ),
            (&["set", "f", "640"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "inf"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (&["set", "f", "+8876378926489894"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-21098184033768745"],
                b"$18\r\n-12221805107278851\r\n",
            ),
            (&["set", "f", "0XAEBD7CB71bAEE81dAP2"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "50928265.090"],
                b"$21\r\n805846864581368160768\r\n",
            ),
            (&["set", "f", "6032726."], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "126.163"],
                b"$25\r\n6032852.16300000000001091\r\n",
            ),
            (&["set", "f", "0x.p1"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "441157341598496668540922e-17"],
                b"-ERR value is not a valid float\r\n",
            ),
            (&["set", "f", "+inf"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "787.236"],
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (&["set", "f", "-0x918c574b8754bd63p90"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0xbe748ede96c75a19p90"],
                b"$48\r\n-29972514830538382752871562797135175563075387392\r\n",
            ),
            (&["set", "f", "0xa0788522d2bc82b2p-105"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0xa36aa79251eb83e8p-105"],
                b"$20\r\n-0.00000000000000523\r\n",
            ),
            (&["set", "f", "0x8abcf6e0473f7c20p11"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0xe61c74a0bc52272dp8"],
                b"$23\r\n16229334416921204478976\r\n",
            ),
            (&["set", "f", "0xbf07a0a6c7cdc5edp-35"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0xb86e130feb4eaa99p-37"],
                b"$27\r\n497312941.34503448437317275\r\n",
            ),
            (&["set", "f", "0xb0c7419p-105"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0xd82c189cfc0290efp-108"],
                b"$18\r\n-0.000000000000048\r\n",
            ),
            (&["set", "f", "-0xefdd1d890a892994p-38"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0x85b0d3f1fb7eafcdp-40"],
                b"$27\r\n-54117282.19602429645965458\r\n",
            ),
            (&["set", "f", "0x9c8b3391607676a3p99"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0xdc0e58c3f2ec6bd0p97"],
                b"$49\r\n4637059023068594619999407380342940278648133910528\r\n",
            ),
            (&["set", "f", "-0x9fa66a16c0a8482cp7"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0xef0eafc68417bc60p8"],
                b"$22\r\n2937318251477494942208\r\n",
            ),
            (&["set", "f", "0xcb17482c8e7e918dp-55"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0x8481d33959fc2419p-59"],
                b"$20\r\n389.6184989180743464\r\n",
            ),
            (&["set", "f", "0xb5c2d8be16fa502dp-53"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0xa4d94a7245982763p-54"],
                b"$22\r\n2113.48412667545482768\r\n",
            ),
            (&["set", "f", "0x8409f6f3de0c4188p-49"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "-0xc1ca1e0a4e520ab9p-51"],
                b"$23\r\n10699.71766121589410048\r\n",
            ),
            (&["set", "f", "-0xe180ebd478d5d7c0p23"], b"+OK\r\n"),
            (
                &["incrbyfloat", "f", "0xe180ebd478d5d7c3p23"],
                b"$8\r\n25165824\r\n",
            ),
        ],
    );
}

/// Values are stored with the encoding Redis gives them (checked against
/// OBJECT ENCODING on Redis 7.0.15 for the same commands).
#[test]
fn encodings_match_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let cases: &[(&[&str], &str, &str)] = &[
        (&["set", "n", "123"], "n", "int"),
        (&["set", "s", "0123"], "s", "embstr"),
        (&["set", "l44", &"a".repeat(44)], "l44", "embstr"),
        (&["set", "l45", &"a".repeat(45)], "l45", "raw"),
        (&["set", "big", "12345678901234567890"], "big", "embstr"),
        (&["set", "min", "-9223372036854775808"], "min", "int"),
        (&["append", "a", "123"], "a", "int"),
        (&["append", "a", "4"], "a", "raw"),
        (&["append", "e", ""], "e", "embstr"),
        (&["set", "q", "10"], "q", "int"),
        (&["append", "q", ""], "q", "raw"),
        (&["set", "q2", "10"], "q2", "int"),
        (&["setrange", "q2", "0", ""], "q2", "int"),
        (&["incr", "c"], "c", "int"),
        (&["incrbyfloat", "f", "1"], "f", "embstr"),
        (&["set", "p", "5"], "p", "int"),
        (&["incrbyfloat", "p", "1.5"], "p", "embstr"),
        (&["set", "x", "1e50"], "x", "embstr"),
        (&["incrbyfloat", "x", "0"], "x", "raw"),
        (&["setrange", "r", "0", "ab"], "r", "raw"),
        (&["set", "ri", "5"], "ri", "int"),
        (&["setrange", "ri", "0", "9"], "ri", "raw"),
        (&["getset", "g", "42"], "g", "int"),
        (&["mset", "m", "7", "m2", "abc"], "m", "int"),
        (&["setex", "se", "100", "99"], "se", "int"),
        (&["psetex", "pe", "100000", "word"], "pe", "embstr"),
        (&["setnx", "sn", "1"], "sn", "int"),
        (&["msetnx", "mn", "-1"], "mn", "int"),
    ];
    for (args, key, expected) in cases {
        let reply = c.call(args);
        assert!(!reply.starts_with(b"-"), "{args:?}: {reply:?}");
        assert_eq!(encoding(&server, key), *expected, "after {args:?}");
    }
    assert_eq!(encoding(&server, "m2"), "embstr");
}

/// INCR-style updates and in-place edits keep the TTL (Redis's
/// `dbOverwrite`); whole-value writes clear it unless KEEPTTL.
#[test]
fn ttl_is_kept_or_cleared_like_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let far = 4_102_444_800_000i64; // 2100-01-01, in ms
    assert_eq!(
        c.call(&["set", "k", "1", "pxat", &far.to_string()]),
        b"+OK\r\n"
    );
    assert_eq!(deadline(&server, "k"), Some(far));
    for args in [
        &["incr", "k"][..],
        &["decrby", "k", "5"],
        &["incrbyfloat", "k", "0.5"],
        &["append", "k", "0"],
        &["setrange", "k", "0", "7"],
        &["set", "k", "v", "keepttl"],
        &["getex", "k"],
        &["get", "k"],
    ] {
        assert!(!c.call(args).starts_with(b"-"), "{args:?}");
        assert_eq!(deadline(&server, "k"), Some(far), "after {args:?}");
    }
    assert_eq!(c.call(&["set", "k", "v"]), b"+OK\r\n");
    assert_eq!(deadline(&server, "k"), None);

    for clear in [
        &["getset", "k", "v"][..],
        &["mset", "k", "v"],
        &["set", "k", "v", "get"],
        &["getex", "k", "persist"],
    ] {
        c.call(&["set", "k", "v", "pxat", &far.to_string()]);
        assert!(!c.call(clear).starts_with(b"-"), "{clear:?}");
        assert_eq!(deadline(&server, "k"), None, "after {clear:?}");
    }

    c.call(&["set", "k", "v", "exat", "4102444800"]);
    assert_eq!(deadline(&server, "k"), Some(far));
    c.call(&["getex", "k", "pxat", &(far + 1).to_string()]);
    assert_eq!(deadline(&server, "k"), Some(far + 1));

    // Relative TTLs are measured from the command's clock.
    let before = clock::unix_ms();
    c.call(&["set", "a", "v", "ex", "100"]);
    c.call(&["setex", "b", "100", "v"]);
    c.call(&["psetex", "d", "100000", "v"]);
    c.call(&["set", "e", "v"]);
    c.call(&["getex", "e", "px", "100000"]);
    let after = clock::unix_ms();
    for key in ["a", "b", "d", "e"] {
        let at = deadline(&server, key).expect("has a TTL");
        assert!(
            (before + 100_000..=after + 100_000).contains(&at),
            "{key}: {at}"
        );
    }
}

/// Short TTLs set by every expiring form really run out; the ones cleared
/// or kept behave accordingly.
#[test]
fn keys_expire_after_their_ttl() {
    let server = TestServer::start();
    let mut c = server.raw();
    let soon = (clock::unix_ms() + 50).to_string();
    c.call(&["set", "a", "v", "px", "50"]);
    c.call(&["psetex", "b", "50", "v"]);
    c.call(&["set", "c", "v"]);
    c.call(&["getex", "c", "px", "50"]);
    c.call(&["set", "d", "1", "px", "50"]);
    c.call(&["incr", "d"]);
    c.call(&["set", "e", "v", "pxat", &soon]);
    c.call(&["set", "kept", "v", "px", "50"]);
    c.call(&["getex", "kept", "persist"]);
    c.call(&["set", "f", "v", "px", "50"]);
    c.call(&["getset", "f", "w"]);
    c.call(&["set", "g", "v", "px", "50"]);
    c.call(&["mset", "g", "w"]);
    std::thread::sleep(Duration::from_millis(120));
    for gone in ["a", "b", "c", "d", "e"] {
        assert_eq!(c.call(&["get", gone]), b"$-1\r\n", "{gone}");
    }
    assert_eq!(c.call(&["get", "kept"]), b"$1\r\nv\r\n");
    assert_eq!(c.call(&["get", "f"]), b"$1\r\nw\r\n");
    assert_eq!(c.call(&["get", "g"]), b"$1\r\nw\r\n");
    // Expired keys read as missing everywhere.
    assert_eq!(c.call(&["strlen", "a"]), b":0\r\n");
    assert_eq!(c.call(&["incr", "d"]), b":1\r\n");
    assert_eq!(c.call(&["append", "e", "x"]), b":1\r\n");
    assert_eq!(c.call(&["setnx", "b", "new"]), b":1\r\n");
    assert_eq!(c.call(&["getrange", "c", "0", "-1"]), b"$0\r\n\r\n");
    assert_eq!(c.call(&["msetnx", "a", "1", "c", "2"]), b":1\r\n");
}

/// Each command adds to the dirty counter what Redis 7.0.15 adds to
/// `rdb_changes_since_last_save` for it.
#[test]
fn dirty_counts_follow_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let steps: &[(&[&str], u64)] = &[
        (&["set", "a", "1"], 1),
        (&["set", "a", "1", "nx"], 0),
        (&["set", "a", "2", "xx", "get"], 1),
        (&["setnx", "a", "1"], 0),
        (&["setnx", "b", "1"], 1),
        (&["setex", "c", "10", "v"], 1),
        (&["getset", "c", "v"], 1),
        (&["getdel", "c"], 1),
        (&["getdel", "c"], 0),
        (&["getex", "a"], 0),
        (&["getex", "a", "ex", "10"], 1),
        (&["getex", "a", "persist"], 1),
        (&["getex", "a", "persist"], 0),
        (&["getex", "a", "pxat", "1"], 1),
        (&["getex", "a", "exat", "1"], 0),
        (&["mset", "a", "1", "b", "2", "c", "3"], 3),
        (&["msetnx", "a", "1", "d", "2"], 0),
        (&["msetnx", "d", "1", "e", "2"], 2),
        (&["append", "a", "x"], 1),
        (&["append", "a", ""], 1),
        (&["append", "new", ""], 1),
        (&["strlen", "a"], 0),
        (&["incr", "n"], 1),
        (&["incr", "a"], 0),
        (&["incrby", "n", "5"], 1),
        (&["decrby", "n", "9223372036854775807"], 1),
        (&["decrby", "n", "9223372036854775807"], 0),
        (&["incrbyfloat", "f", "1.5"], 1),
        (&["incrbyfloat", "f", "inf"], 0),
        (&["setrange", "a", "0", ""], 0),
        (&["setrange", "a", "0", "z"], 1),
        (&["setrange", "none", "5", ""], 0),
        (&["setrange", "none", "5", "q"], 1),
        (&["getrange", "a", "0", "-1"], 0),
        (&["lcs", "a", "b"], 0),
        (&["mget", "a", "b"], 0),
        (&["get", "a"], 0),
    ];
    for (args, expected) in steps {
        let before = server.dirty();
        c.call(args);
        assert_eq!(server.dirty() - before, *expected, "{args:?}");
    }
}

/// The dispatcher locks exactly the keys Redis's key specs name.
#[test]
fn key_specs_name_every_key() {
    let cases: &[(&[&str], &[usize])] = &[
        (&["mset", "a", "1", "b", "2", "c", "3"], &[1, 3, 5]),
        (&["msetnx", "a", "1", "b", "2"], &[1, 3]),
        (&["mget", "a", "b", "c"], &[1, 2, 3]),
        (&["lcs", "a", "b", "idx"], &[1, 2]),
        (&["getex", "a", "ex", "10"], &[1]),
        (&["set", "a", "v", "get"], &[1]),
        (&["setrange", "a", "0", "v"], &[1]),
    ];
    for (args, keys) in cases {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        let resolved = sedis::internals::commands::registry()
            .resolve(&args)
            .expect("known command");
        assert_eq!(
            resolved.command.keys.positions(&args),
            keys.to_vec(),
            "{:?}",
            String::from_utf8_lossy(&args[0])
        );
    }
}

/// A reader never sees half of an MSET, whatever shards its keys live in.
#[test]
fn mset_is_atomic_to_other_clients() {
    let server = TestServer::start();
    let keys: Vec<String> = (0..16).map(|i| format!("atomic:{i}")).collect();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut w = server.raw();
            for round in 0..300 {
                let value = round.to_string();
                let mut args = vec!["mset"];
                for key in &keys {
                    args.push(key);
                    args.push(&value);
                }
                assert_eq!(w.call(&args), b"+OK\r\n");
            }
            done.store(true, Ordering::Release);
        });
        let mut r = server.raw();
        let mut args = vec!["mget"];
        args.extend(keys.iter().map(String::as_str));
        let mut reads = 0;
        while !done.load(Ordering::Acquire) || reads == 0 {
            let reply = r.call(&args);
            // Every element is the same bulk (or all are null before the
            // first MSET): split off the header and compare them.
            let text = String::from_utf8(reply).expect("ascii");
            let items: Vec<&str> = text.split("\r\n").skip(1).collect();
            let first = &items[..2];
            for pair in items.chunks(2).filter(|p| p.len() == 2) {
                assert_eq!(pair, first, "torn MSET seen: {text}");
            }
            reads += 1;
        }
    });
}

/// One megabyte values go in and out whole.
#[test]
fn large_values_round_trip() {
    let server = TestServer::start();
    let mut c = server.raw();
    let value = "0123456789abcdef".repeat(65536);
    assert_eq!(value.len(), 1 << 20);
    assert_eq!(c.call(&["set", "big", &value]), b"+OK\r\n");
    let mut expected = b"$1048576\r\n".to_vec();
    expected.extend_from_slice(value.as_bytes());
    expected.extend_from_slice(b"\r\n");
    assert_eq!(c.call(&["get", "big"]), expected);
    assert_eq!(c.call(&["append", "big", "!"]), b":1048577\r\n");
    assert_eq!(c.call(&["strlen", "big"]), b":1048577\r\n");
    assert_eq!(c.call(&["getrange", "big", "-3", "-1"]), b"$3\r\nef!\r\n");
    assert_eq!(
        c.call(&["setrange", "big", "1048577", "?"]),
        b":1048578\r\n"
    );
    assert_eq!(
        c.call(&["getrange", "big", "1048575", "-1"]),
        b"$3\r\nf!?\r\n"
    );
    assert_eq!(
        c.call(&["setrange", "fresh", "1048575", "x"]),
        b":1048576\r\n"
    );
    let reply = c.call(&["getrange", "fresh", "0", "-1"]);
    assert_eq!(reply.len(), 1048576 + 12);
    assert!(reply[10..1048585].iter().all(|&b| b == 0));
    assert_eq!(&reply[1048585..], b"x\r\n");
    assert_eq!(c.call(&["getdel", "big"]).len(), 1048578 + 12);
    assert_eq!(c.call(&["exists", "big"]), b":0\r\n");
}

/// Growing a string past proto-max-bulk-len, and an LCS table bigger than
/// it, are refused (replies recorded from Redis with the same setting).
#[test]
fn strings_stay_within_proto_max_bulk_len() {
    let server = TestServer::with_config(|config| config.proto_max_bulk_len = 1024 * 1024);
    let mut c = server.raw();
    let too_big: &[u8] = b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    assert_eq!(
        c.call(&["set", "big", &"x".repeat(1024 * 1024 - 10)]),
        b"+OK\r\n"
    );
    assert_eq!(c.call(&["append", "big", &"y".repeat(10)]), b":1048576\r\n");
    assert_eq!(c.call(&["append", "big", "z"]), too_big);
    assert_eq!(c.call(&["strlen", "big"]), b":1048576\r\n");
    assert_eq!(c.call(&["setrange", "big", "1048576", "a"]), too_big);
    assert_eq!(
        c.call(&["setrange", "big", "1048575", "a"]),
        b":1048576\r\n"
    );
    assert_eq!(c.call(&["setrange", "new", "1048576", "a"]), too_big);
    assert_eq!(
        c.call(&["setrange", "new", "1048575", "a"]),
        b":1048576\r\n"
    );
    // The LCS table is (|a|+1)·(|b|+1) 4-byte cells: 512·512·4 is exactly 1mb.
    c.call(&["set", "l1", &"a".repeat(511)]);
    c.call(&["set", "l2", &"b".repeat(511)]);
    assert_eq!(c.call(&["lcs", "l1", "l2", "len"]), b":0\r\n");
    assert_eq!(c.call(&["lcs", "l1", "l2"]), b"$0\r\n\r\n");
    c.call(&["set", "l1", &"a".repeat(512)]);
    let too_much: &[u8] =
        b"-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n";
    assert_eq!(c.call(&["lcs", "l1", "l2"]), too_much);
    assert_eq!(c.call(&["lcs", "l1", "l2", "len"]), too_much);
    assert_eq!(c.call(&["lcs", "l1", "l2", "idx"]), too_much);
}

/// Keys and values are bytes, not text: every command keeps them intact.
#[test]
fn binary_keys_and_values_that_are_not_utf8() {
    let server = TestServer::start();
    let mut c = server.raw();
    let key: &[u8] = b"\x00\r\nk\xff";
    assert_eq!(c.call_bin(&[b"set", key, b"v\r\n\x00\xfe"]), b"+OK\r\n");
    assert_eq!(c.call_bin(&[b"get", key]), b"$5\r\nv\r\n\x00\xfe\r\n");
    assert_eq!(c.call_bin(&[b"append", key, b"\xff\x00"]), b":7\r\n");
    assert_eq!(
        c.call_bin(&[b"getrange", key, b"3", b"-1"]),
        b"$4\r\n\x00\xfe\xff\x00\r\n"
    );
    assert_eq!(c.call_bin(&[b"setrange", key, b"0", b"\x80"]), b":7\r\n");
    assert_eq!(
        c.call_bin(&[b"getset", key, b"\xc3\x28"]),
        b"$7\r\n\x80\r\n\x00\xfe\xff\x00\r\n"
    );
    assert_eq!(
        c.call_bin(&[b"mset", b"\xfe", b"a\x00b\xff", b"\xfd", b"\x00b\xff\xfe"]),
        b"+OK\r\n"
    );
    assert_eq!(
        c.call_bin(&[b"lcs", b"\xfe", b"\xfd"]),
        b"$3\r\n\x00b\xff\r\n"
    );
    assert_eq!(
        c.call_bin(&[b"mget", key, b"\xfe", b"\xfc"]),
        b"*3\r\n$2\r\n\xc3\x28\r\n$4\r\na\x00b\xff\r\n$-1\r\n"
    );
    assert_eq!(c.call_bin(&[b"getdel", key]), b"$2\r\n\xc3\x28\r\n");
    assert_eq!(c.call_bin(&[b"strlen", key]), b":0\r\n");
}
