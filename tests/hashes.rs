//! Hashes through the server: RESP2 and RESP3 reply shapes (bytes as
//! redis-server 7.0.15 sends them), encodings and their limits, binary
//! fields, the empty hash being deleted, HSCAN's guarantee while the hash
//! changes, and a dump written by Redis loading with every field.

mod common;

use common::{TestServer, dir_with_dump, scan_through, with_dir};

#[test]
fn replies_in_both_protocols() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_eq!(c.call(&["HSET", "h", "a", "1", "b", "2"]), b":2\r\n");
    assert_eq!(
        c.call(&["HGETALL", "h"]),
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n".to_vec()
    );
    assert_eq!(
        c.call(&["HRANDFIELD", "h", "5", "WITHVALUES"]),
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n".to_vec()
    );
    c.call(&["HELLO", "3"]);
    assert_eq!(
        c.call(&["HGETALL", "h"]),
        b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n".to_vec()
    );
    assert_eq!(c.call(&["HGETALL", "missing"]), b"%0\r\n");
    assert_eq!(
        c.call(&["HRANDFIELD", "h", "5", "WITHVALUES"]),
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n".to_vec()
    );
    assert_eq!(c.call(&["HGET", "h", "nope"]), b"_\r\n");
}

#[test]
fn fields_and_values_are_binary_safe_and_the_last_field_takes_the_key() {
    let server = TestServer::start();
    let mut con = server.client();
    let field: &[u8] = b"f\x00\xff\r\n";
    let value: &[u8] = b"\x00\x01\x02";
    let added: i64 = redis::cmd("HSET")
        .arg("h")
        .arg(field)
        .arg(value)
        .query(&mut con)
        .unwrap();
    assert_eq!(added, 1);
    let got: Vec<u8> = redis::cmd("HGET")
        .arg("h")
        .arg(field)
        .query(&mut con)
        .unwrap();
    assert_eq!(got, value);
    let removed: i64 = redis::cmd("HDEL")
        .arg("h")
        .arg(field)
        .query(&mut con)
        .unwrap();
    assert_eq!(removed, 1);
    let exists: i64 = redis::cmd("EXISTS").arg("h").query(&mut con).unwrap();
    assert_eq!(exists, 0, "an emptied hash is deleted");
}

#[test]
fn encodings_follow_the_configured_limits() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["HSET", "h", "f", "v"]);
    assert_eq!(c.call(&["OBJECT", "ENCODING", "h"]), b"$8\r\nlistpack\r\n");
    let long = "x".repeat(65);
    c.call(&["HSET", "h", "g", &long]);
    assert_eq!(c.call(&["OBJECT", "ENCODING", "h"]), b"$9\r\nhashtable\r\n");
    for i in 0..512 {
        c.call(&["HSET", "many", &format!("f{i}"), "v"]);
    }
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "many"]),
        b"$8\r\nlistpack\r\n"
    );
    c.call(&["HSET", "many", "one-more", "v"]);
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "many"]),
        b"$9\r\nhashtable\r\n"
    );
    assert_eq!(c.call(&["TYPE", "many"]), b"+hash\r\n");
}

#[test]
fn hscan_returns_every_field_present_throughout_while_the_hash_changes() {
    let server = TestServer::start();
    let mut con = server.client();
    for i in 0..2000 {
        let _: () = redis::cmd("HSET")
            .arg("big")
            .arg(format!("keep:{i}"))
            .arg(i)
            .query(&mut con)
            .unwrap();
    }
    let seen = scan_through(&mut con, "HSCAN", "big", 50, 2, |con, round| {
        // Grow and shrink the table between calls: resizes must not make
        // the scan miss anything that was there all along.
        for j in 0..100 {
            let _: () = redis::cmd("HSET")
                .arg("big")
                .arg(format!("churn:{round}:{j}"))
                .arg(j)
                .query(con)
                .unwrap();
        }
    });
    for i in 0..2000 {
        assert!(seen.contains(&format!("keep:{i}")), "keep:{i} missed");
    }
}

#[test]
fn a_dump_written_by_redis_loads_with_every_field_and_encoding() {
    let dir = dir_with_dump("hashes-redis-dump", "redis-7.0.15-hashes-sets.rdb");
    let server = TestServer::with_config(with_dir(&dir));
    let mut c = server.raw();
    assert_eq!(c.call(&["HLEN", "bighash"]), b":200\r\n");
    assert_eq!(
        c.call(&["HGET", "bighash", "field:199"]),
        b"$9\r\nvalue:199\r\n"
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "bighash"]),
        b"$8\r\nlistpack\r\n"
    );
    assert_eq!(
        c.call(&["HGETALL", "smallhash"]),
        b"*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\ntwo\r\n$7\r\nbin\\x00\r\n$1\r\nv\r\n"
            .to_vec()
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "longvalue"]),
        b"$9\r\nhashtable\r\n"
    );
    assert_eq!(c.call(&["HSTRLEN", "longvalue", "f"]), b":100\r\n");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}
