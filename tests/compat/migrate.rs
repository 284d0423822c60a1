//! MIGRATE across the two implementations: keys of every type move from
//! sedis to redis-server and from redis-server to sedis whole (DEBUG
//! DIGEST-VALUE agrees on both ends), and the same MIGRATE requests, sent
//! by each server to a redis-server target of its own, get the same
//! replies byte for byte, errors included.

use sedis::Frame;

use crate::common::TestServer;
use crate::conn::Conn;
use crate::redis::RedisServer;

fn call(conn: &mut Conn, args: &[&str]) -> (Vec<u8>, Frame) {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    conn.call(&argv).expect("reply")
}

fn sedis_with_debug() -> TestServer {
    TestServer::with_config(|c| c.enable_debug_command = sedis::config::ProtectedAction::Yes)
}

/// One key of every type and encoding, some with a TTL.
pub const DATASET: &[&[&str]] = &[
    &["SET", "str", "hello"],
    &["SET", "int", "-12345"],
    &["SET", "ttl", "v", "EX", "1000"],
    &["RPUSH", "list", "a", "b", "1", "2"],
    &["SADD", "intset", "1", "2", "3"],
    &["SADD", "set", "a", "b", "c"],
    &["HSET", "hash", "f", "v", "g", "w"],
    &[
        "ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c", "0.1", "d",
    ],
    &["PFADD", "hll", "a", "b", "c"],
    &["XADD", "stream", "1-1", "a", "b"],
    &["XADD", "stream", "2-1", "a", "c"],
    &["XGROUP", "CREATE", "stream", "g", "0"],
];

const KEYS: &[&str] = &[
    "str", "int", "ttl", "list", "intset", "set", "hash", "zset", "hll", "stream",
];

fn digests(conn: &mut Conn, db: &str) -> Vec<u8> {
    call(conn, &["SELECT", db]);
    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend_from_slice(KEYS);
    call(conn, &args).0
}

/// Builds the dataset on `from`, migrates it to `to` (database 4) and
/// checks that every value arrived whole and left the source.
fn migrate_everything(from: &mut Conn, to: &mut Conn, to_port: u16) {
    call(from, &["SELECT", "0"]);
    for cmd in DATASET {
        let (raw, _) = call(from, cmd);
        assert!(!raw.starts_with(b"-"), "{cmd:?}: {raw:?}");
    }
    let before = digests(from, "0");
    let port = to_port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "4", "5000", "KEYS"];
    args.extend_from_slice(KEYS);
    assert_eq!(call(from, &args).0, b"+OK\r\n");
    assert_eq!(call(from, &["DBSIZE"]).0, b":0\r\n");
    assert_eq!(digests(to, "4"), before);
    let (_, ttl) = call(to, &["TTL", "ttl"]);
    assert!(matches!(ttl, Frame::Integer(990..=1000)), "{ttl:?}");
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn every_type_moves_from_sedis_to_redis_and_back() {
    let redis = RedisServer::start();
    let sedis = sedis_with_debug();
    let mut r = Conn::connect(redis.addr()).expect("connect to redis-server");
    let mut s = Conn::connect(sedis.addr).expect("connect to sedis");
    migrate_everything(&mut s, &mut r, redis.port);
    call(&mut r, &["FLUSHALL"]);
    call(&mut s, &["FLUSHALL"]);
    migrate_everything(&mut r, &mut s, sedis.addr.port());
}

/// Each source migrates to its own redis-server target; both see the
/// same replies.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn replies_match_redis_s() {
    let (redis_source, redis_target, sedis_target) = (
        RedisServer::start(),
        RedisServer::start(),
        RedisServer::start(),
    );
    let sedis_source = sedis_with_debug();
    let sources = [
        (
            Conn::connect(redis_source.addr()).expect("connect"),
            redis_target.port,
            Conn::connect(redis_target.addr()).expect("connect"),
        ),
        (
            Conn::connect(sedis_source.addr).expect("connect"),
            sedis_target.port,
            Conn::connect(sedis_target.addr()).expect("connect"),
        ),
    ];
    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let down = free.local_addr().expect("address").port().to_string();
    drop(free);
    let steps: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["SET", "b", "2"],
        &["SET", "c", "3", "PX", "100000"],
        &["@target", "SET", "b", "theirs"],
        &["MIGRATE", "127.0.0.1", "TARGET", "a", "0", "1000"],
        &["MIGRATE", "127.0.0.1", "TARGET", "a", "0", "1000"],
        &["MIGRATE", "127.0.0.1", "TARGET", "b", "0", "1000"],
        &[
            "MIGRATE",
            "127.0.0.1",
            "TARGET",
            "b",
            "0",
            "1000",
            "COPY",
            "REPLACE",
        ],
        &[
            "MIGRATE",
            "127.0.0.1",
            "TARGET",
            "",
            "2",
            "1000",
            "KEYS",
            "b",
            "c",
            "nokey",
        ],
        &[
            "MIGRATE",
            "127.0.0.1",
            "TARGET",
            "",
            "2",
            "1000",
            "KEYS",
            "b",
        ],
        &["MIGRATE", "127.0.0.1", "TARGET", "", "2", "1000", "KEYS"],
        &["SET", "d", "4"],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "99", "1000"],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "-1", "1000"],
        &[
            "MIGRATE",
            "127.0.0.1",
            "TARGET",
            "d",
            "0",
            "1000",
            "AUTH",
            "nopass",
        ],
        &[
            "MIGRATE",
            "127.0.0.1",
            "TARGET",
            "d",
            "0",
            "1000",
            "AUTH2",
            "u",
            "p",
        ],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "0", "0"],
        &["MIGRATE", "127.0.0.1", "DOWN", "d", "0", "100"],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "0", "0", "KEYS", "x"],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "0", "0", "AUTH"],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "x", "0", "BOGUS"],
        &["MIGRATE", "127.0.0.1", "TARGET", "d", "x", "y"],
        &["DBSIZE"],
        &["@target", "DBSIZE"],
        &["@target", "SELECT", "2"],
        &["@target", "DBSIZE"],
        &[
            "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "0", "AUTH2", "KEYS", "KEYS", "a",
        ],
        &[
            "COMMAND",
            "GETKEYSANDFLAGS",
            "MIGRATE",
            "h",
            "1",
            "",
            "0",
            "0",
            "KEYS",
            "a",
            "b",
        ],
        &[
            "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "0", "KEYS", "a",
        ],
        &["COMMAND", "INFO", "MIGRATE"],
    ];
    let mut replies: Vec<Vec<Vec<u8>>> = Vec::new();
    for (mut source, target_port, mut target) in sources {
        let port = target_port.to_string();
        let mut seen = Vec::new();
        for step in steps {
            let args: Vec<&str> = step
                .iter()
                .map(|a| match *a {
                    "TARGET" => port.as_str(),
                    "DOWN" => down.as_str(),
                    a => a,
                })
                .collect();
            let reply = match args.split_first() {
                Some((&"@target", rest)) => call(&mut target, rest).0,
                _ => call(&mut source, &args).0,
            };
            seen.push(reply);
        }
        replies.push(seen);
    }
    let differ: Vec<String> = steps
        .iter()
        .zip(replies[0].iter().zip(&replies[1]))
        .filter(|(_, (redis, sedis))| redis != sedis)
        .map(|(step, (redis, sedis))| {
            format!(
                "{step:?}: redis {:?}, sedis {:?}",
                String::from_utf8_lossy(redis),
                String::from_utf8_lossy(sedis)
            )
        })
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
