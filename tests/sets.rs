//! Sets through the server: RESP2 and RESP3 reply shapes (bytes as
//! redis-server 7.0.15 sends them), intset order and encodings, SPOP and
//! SRANDMEMBER counts, *STORE overwriting any type, SSCAN's guarantee while
//! the set changes, a dump written by Redis, and a save/load round trip.

mod common;

use std::collections::HashSet;

use common::{TestServer, dir_with_dump, scan_through, temp_dir, with_dir};

#[test]
fn replies_in_both_protocols() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_eq!(c.call(&["SADD", "s", "3", "1", "2"]), b":3\r\n");
    // An intset replies in ascending order.
    assert_eq!(
        c.call(&["SMEMBERS", "s"]),
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec()
    );
    assert_eq!(
        c.call(&["SMISMEMBER", "s", "1", "9"]),
        b"*2\r\n:1\r\n:0\r\n"
    );
    c.call(&["HELLO", "3"]);
    assert_eq!(
        c.call(&["SMEMBERS", "s"]),
        b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec()
    );
    assert_eq!(c.call(&["SINTER", "s", "missing"]), b"~0\r\n");
    assert_eq!(c.call(&["SPOP", "missing", "2"]), b"~0\r\n");
    // SRANDMEMBER with a count is an array even in RESP3, as in Redis.
    assert_eq!(
        c.call(&["SRANDMEMBER", "s", "10"]),
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec()
    );
    assert_eq!(
        c.call(&["SPOP", "s", "10"]),
        b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n".to_vec()
    );
    assert_eq!(c.call(&["EXISTS", "s"]), b":0\r\n");
}

#[test]
fn random_members_respect_the_count_rules() {
    let server = TestServer::start();
    let mut con = server.client();
    let members: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    let _: () = redis::cmd("SADD")
        .arg("s")
        .arg(&members)
        .query(&mut con)
        .unwrap();
    let distinct: Vec<String> = redis::cmd("SRANDMEMBER")
        .arg("s")
        .arg(10)
        .query(&mut con)
        .unwrap();
    assert_eq!(distinct.len(), 10);
    assert_eq!(
        distinct.iter().collect::<HashSet<_>>().len(),
        10,
        "no repeats"
    );
    let repeated: Vec<String> = redis::cmd("SRANDMEMBER")
        .arg("s")
        .arg(-500)
        .query(&mut con)
        .unwrap();
    assert_eq!(repeated.len(), 500);
    assert!(repeated.iter().all(|m| members.contains(m)));
    let popped: Vec<String> = redis::cmd("SPOP").arg("s").arg(30).query(&mut con).unwrap();
    assert_eq!(popped.iter().collect::<HashSet<_>>().len(), 30);
    let left: i64 = redis::cmd("SCARD").arg("s").query(&mut con).unwrap();
    assert_eq!(left, 70);
    for m in &popped {
        let there: i64 = redis::cmd("SISMEMBER")
            .arg("s")
            .arg(m)
            .query(&mut con)
            .unwrap();
        assert_eq!(there, 0, "{m} was popped");
    }
}

#[test]
fn store_commands_replace_any_type_and_delete_on_empty() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["SADD", "a", "1", "2", "x"]);
    c.call(&["SADD", "b", "2", "x", "y"]);
    c.call(&["SET", "dst", "a string"]);
    assert_eq!(c.call(&["SINTERSTORE", "dst", "a", "b"]), b":2\r\n");
    assert_eq!(c.call(&["TYPE", "dst"]), b"+set\r\n");
    assert_eq!(
        c.call(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        b":1\r\n"
    );
    assert_eq!(c.call(&["SDIFFSTORE", "dst", "a", "a"]), b":0\r\n");
    assert_eq!(c.call(&["EXISTS", "dst"]), b":0\r\n");
    assert_eq!(c.call(&["SUNIONSTORE", "dst", "a", "b"]), b":4\r\n");
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "dst"]),
        b"$9\r\nhashtable\r\n"
    );
    c.call(&["SADD", "i", "5", "-5"]);
    assert_eq!(c.call(&["SUNIONSTORE", "dst", "i"]), b":2\r\n");
    assert_eq!(c.call(&["OBJECT", "ENCODING", "dst"]), b"$6\r\nintset\r\n");
    c.call(&["SET", "str", "v"]);
    assert_eq!(
        c.call(&["SINTER", "a", "str"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".to_vec()
    );
}

#[test]
fn sscan_returns_every_member_present_throughout_while_the_set_changes() {
    let server = TestServer::start();
    let mut con = server.client();
    let members: Vec<String> = (0..3000).map(|i| format!("keep:{i}")).collect();
    let _: () = redis::cmd("SADD")
        .arg("big")
        .arg(&members)
        .query(&mut con)
        .unwrap();
    // Grow and shrink the table between calls: resizes must not make the
    // scan miss anything that was there all along.
    let seen = scan_through(&mut con, "SSCAN", "big", 40, 1, |con, round| {
        let churn: Vec<String> = (0..200).map(|j| format!("churn:{round}:{j}")).collect();
        let _: () = redis::cmd("SADD")
            .arg("big")
            .arg(&churn)
            .query(con)
            .unwrap();
        if round % 2 == 1 {
            let old: Vec<String> = (0..200)
                .map(|j| format!("churn:{}:{j}", round - 1))
                .collect();
            let _: () = redis::cmd("SREM").arg("big").arg(&old).query(con).unwrap();
        }
    });
    for m in &members {
        assert!(seen.contains(m), "{m} missed");
    }
}

#[test]
fn a_dump_written_by_redis_loads_with_every_member_and_encoding() {
    let dir = dir_with_dump("sets-redis-dump", "redis-7.0.15-hashes-sets.rdb");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_eq!(
        c.call(&["SMEMBERS", "intset"]),
        b"*11\r\n$5\r\n-3000\r\n$5\r\n-2000\r\n$5\r\n-1000\r\n$1\r\n0\r\n$4\r\n1000\r\n$4\r\n2000\r\n$4\r\n3000\r\n$4\r\n4000\r\n$4\r\n5000\r\n$4\r\n6000\r\n$5\r\n70000\r\n".to_vec()
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "intset"]),
        b"$6\r\nintset\r\n"
    );
    assert_eq!(c.call(&["SCARD", "bigintset"]), b":600\r\n");
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "bigintset"]),
        b"$9\r\nhashtable\r\n"
    );
    assert_eq!(c.call(&["SISMEMBER", "strset", "banana"]), b":1\r\n");
    assert_eq!(c.call(&["SCARD", "strset"]), b":3\r\n");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hashes_and_sets_survive_a_save_and_restart() {
    let dir = temp_dir("sets-roundtrip");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    c.call(&["SADD", "ints", "1", "-70000", "5000000000"]);
    c.call(&["SADD", "words", "a", "b\x00c"]);
    c.call(&["HSET", "small", "f", "v", "g", "w"]);
    let long = "y".repeat(100);
    c.call(&["HSET", "large", "f", &long]);
    assert_eq!(c.call(&["SAVE"]), b"+OK\r\n");
    drop(server);
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_eq!(
        c.call(&["SMEMBERS", "ints"]),
        b"*3\r\n$6\r\n-70000\r\n$1\r\n1\r\n$10\r\n5000000000\r\n".to_vec()
    );
    assert_eq!(c.call(&["SISMEMBER", "words", "b\x00c"]), b":1\r\n");
    assert_eq!(
        c.call(&["HGETALL", "small"]),
        b"*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n".to_vec()
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "large"]),
        b"$9\r\nhashtable\r\n"
    );
    assert_eq!(c.call(&["HSTRLEN", "large", "f"]), b":100\r\n");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}
