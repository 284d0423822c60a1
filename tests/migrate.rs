//! MIGRATE between two sedis servers over real sockets: every type moves
//! whole (DEBUG DIGEST-VALUE agrees on both sides), TTLs go with the keys,
//! COPY, REPLACE, KEYS, AUTH and AUTH2 do what Redis's do, and each error
//! path answers with Redis's words. Migrating to redis-server is covered in
//! the comparison tests (`tests/compat/migrate.rs`).

mod common;

use common::{Raw, TestServer};
use sedis::config::ProtectedAction;

fn with_debug() -> TestServer {
    TestServer::with_config(|c| c.enable_debug_command = ProtectedAction::Yes)
}

/// A target that asks for a password.
fn with_password(password: &'static str) -> TestServer {
    TestServer::with_config(move |c| {
        c.enable_debug_command = ProtectedAction::Yes;
        c.requirepass = password.to_string();
    })
}

/// The digest of each key's value (DEBUG DIGEST-VALUE).
fn digests(c: &mut Raw, keys: &[&str]) -> Vec<u8> {
    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend_from_slice(keys);
    c.call(&args)
}

/// One key of every type and encoding, some with a TTL.
fn build_dataset(c: &mut Raw) {
    let big = "x".repeat(100);
    for cmd in [
        vec!["SET", "str", "hello"],
        vec!["SET", "int", "12345"],
        vec!["SET", "raw", &big],
        vec!["SET", "ttl", "v", "EX", "1000"],
        vec!["RPUSH", "list", "a", "b", "1", "2"],
        vec!["SADD", "intset", "1", "2", "3"],
        vec!["SADD", "set", "a", "b", "c"],
        vec!["HSET", "hash", "f", "v", "g", "w"],
        vec!["ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"],
        vec!["PFADD", "hll", "a", "b", "c"],
        vec!["XADD", "stream", "1-1", "a", "b"],
        vec!["XGROUP", "CREATE", "stream", "g", "0"],
    ] {
        let reply = c.call(&cmd);
        assert!(!reply.starts_with(b"-"), "{cmd:?}: {reply:?}");
    }
    for i in 0..200 {
        let (member, score) = (format!("m{i}"), i.to_string());
        c.call(&["ZADD", "bigzset", &score, &member]);
        c.call(&["HSET", "bighash", &member, &score]);
    }
}

const KEYS: [&str; 13] = [
    "str", "int", "raw", "ttl", "list", "intset", "set", "hash", "zset", "hll", "stream",
    "bigzset", "bighash",
];

fn migrate(c: &mut Raw, target: &TestServer, key: &str, db: &str, options: &[&str]) -> Vec<u8> {
    let port = target.addr.port().to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, key, db, "5000"];
    args.extend_from_slice(options);
    c.call(&args)
}

#[test]
fn every_type_moves_whole_with_its_ttl() {
    let (source, target) = (with_debug(), with_debug());
    let (mut s, mut t) = (source.raw(), target.raw());
    build_dataset(&mut s);
    let before = digests(&mut s, &KEYS);
    let mut options = vec!["KEYS"];
    options.extend_from_slice(&KEYS);
    assert_eq!(migrate(&mut s, &target, "", "2", &options), b"+OK\r\n");
    assert_eq!(s.call(&["DBSIZE"]), b":0\r\n");
    t.call(&["SELECT", "2"]);
    assert_eq!(digests(&mut t, &KEYS), before);
    let ttl = String::from_utf8(t.call(&["TTL", "ttl"])).unwrap();
    let ttl: i64 = ttl.trim_start_matches(':').trim().parse().unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    assert_eq!(t.call(&["TTL", "str"]), b":-1\r\n");
    // The stream's consumer group went with it.
    assert_eq!(t.call(&["XINFO", "GROUPS", "stream"])[..4], *b"*1\r\n");
}

#[test]
fn copy_replace_and_busykey() {
    let (source, target) = (with_debug(), with_debug());
    let (mut s, mut t) = (source.raw(), target.raw());
    s.call(&["SET", "k", "new"]);
    t.call(&["SET", "k", "old"]);
    assert_eq!(
        migrate(&mut s, &target, "k", "0", &[]),
        b"-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(s.call(&["GET", "k"]), b"$3\r\nnew\r\n");
    assert_eq!(
        migrate(&mut s, &target, "k", "0", &["COPY", "REPLACE"]),
        b"+OK\r\n"
    );
    assert_eq!(s.call(&["GET", "k"]), b"$3\r\nnew\r\n");
    assert_eq!(t.call(&["GET", "k"]), b"$3\r\nnew\r\n");
    assert_eq!(migrate(&mut s, &target, "k", "0", &["REPLACE"]), b"+OK\r\n");
    assert_eq!(s.call(&["EXISTS", "k"]), b":0\r\n");
    // Nothing left to move.
    assert_eq!(migrate(&mut s, &target, "k", "0", &[]), b"+NOKEY\r\n");
    assert_eq!(
        migrate(&mut s, &target, "", "0", &["KEYS", "a", "b"]),
        b"+NOKEY\r\n"
    );
}

#[test]
fn some_keys_refused_the_others_move() {
    let (source, target) = (with_debug(), with_debug());
    let (mut s, mut t) = (source.raw(), target.raw());
    for key in ["a", "b", "c"] {
        s.call(&["SET", key, "mine"]);
    }
    t.call(&["SET", "b", "theirs"]);
    assert_eq!(
        migrate(&mut s, &target, "", "0", &["KEYS", "a", "b", "c"]),
        b"-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    );
    assert_eq!(s.call(&["EXISTS", "a", "b", "c"]), b":1\r\n");
    assert_eq!(
        t.call(&["MGET", "a", "b", "c"]),
        b"*3\r\n$4\r\nmine\r\n$6\r\ntheirs\r\n$4\r\nmine\r\n"
    );
}

#[test]
fn auth_and_auth2() {
    let (source, target) = (with_debug(), with_password("pw"));
    let mut s = source.raw();
    s.call(&["SET", "k", "v"]);
    assert_eq!(
        migrate(&mut s, &target, "k", "0", &[]),
        b"-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        migrate(&mut s, &target, "k", "0", &["AUTH", "wrong"]),
        b"-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        migrate(&mut s, &target, "k", "0", &["AUTH", "pw", "COPY"]),
        b"+OK\r\n"
    );
    assert_eq!(
        migrate(
            &mut s,
            &target,
            "k",
            "0",
            &["AUTH2", "default", "pw", "REPLACE"]
        ),
        b"+OK\r\n"
    );
    assert_eq!(s.call(&["EXISTS", "k"]), b":0\r\n");
    // The password never shows in the slow log.
    s.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    s.call(&["SET", "k", "v"]);
    migrate(
        &mut s,
        &target,
        "k",
        "0",
        &["AUTH2", "default", "pw", "REPLACE"],
    );
    let log = String::from_utf8_lossy(&s.call(&["SLOWLOG", "GET", "2"])).into_owned();
    assert!(
        log.contains("(redacted)") && !log.contains("$2\r\npw\r\n"),
        "{log}"
    );
}

#[test]
fn errors_are_redis_s() {
    let source = with_debug();
    let mut s = source.raw();
    s.call(&["SET", "k", "v"]);
    // A port nobody listens on: Redis finds out only when it writes.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    assert_eq!(
        s.call(&["MIGRATE", "127.0.0.1", &port, "k", "0", "100"]),
        b"-IOERR error or timeout writing to target instance\r\n"
    );
    assert_eq!(
        s.call(&["MIGRATE", "no.such.host.invalid", "1", "k", "0", "100"]),
        b"-IOERR error or timeout connecting to the client\r\n"
    );
    // A target that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    assert_eq!(
        s.call(&["MIGRATE", "127.0.0.1", &port, "k", "0", "200"]),
        b"-IOERR error or timeout reading to target instance\r\n"
    );
    assert_eq!(s.call(&["EXISTS", "k"]), b":1\r\n");
    for (args, reply) in [
        (
            &["MIGRATE", "h", "1", "k", "0", "0", "AUTH"][..],
            "-ERR syntax error\r\n",
        ),
        (
            &["MIGRATE", "h", "1", "k", "0", "0", "AUTH2", "u"],
            "-ERR syntax error\r\n",
        ),
        (
            &["MIGRATE", "h", "1", "k", "0", "0", "BOGUS"],
            "-ERR syntax error\r\n",
        ),
        (
            &["MIGRATE", "h", "1", "k", "0", "0", "KEYS", "a"],
            "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n",
        ),
        (
            &["MIGRATE", "h", "1", "k", "x", "0"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["MIGRATE", "h", "1", "k", "0", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["MIGRATE", "h", "1", "k", "0"],
            "-ERR wrong number of arguments for 'migrate' command\r\n",
        ),
        (
            &[
                "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "0", "COPY", "AUTH", "x",
                "KEYS", "a", "b",
            ],
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            &["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "0"],
            "*1\r\n$1\r\nk\r\n",
        ),
    ] {
        assert_eq!(String::from_utf8_lossy(&s.call(args)), reply, "{args:?}");
    }
}

#[test]
fn connections_are_cached_and_reselect_after_errors() {
    let (source, target) = (with_debug(), with_debug());
    let (mut s, mut t) = (source.raw(), target.raw());
    for key in ["a", "b", "c"] {
        s.call(&["SET", key, "v"]);
    }
    assert_eq!(migrate(&mut s, &target, "a", "1", &[]), b"+OK\r\n");
    assert_eq!(s.info(&["stats"]).number("migrate_cached_sockets"), 1);
    assert_eq!(migrate(&mut s, &target, "b", "1", &[]), b"+OK\r\n");
    assert_eq!(s.info(&["stats"]).number("migrate_cached_sockets"), 1);
    // The target drops the connection: the next MIGRATE connects again.
    t.call(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    assert_eq!(migrate(&mut s, &target, "c", "1", &[]), b"+OK\r\n");
    t.call(&["SELECT", "1"]);
    assert_eq!(t.call(&["DBSIZE"]), b":3\r\n");
    assert_eq!(s.call(&["DBSIZE"]), b":0\r\n");
}

#[test]
fn debug_digest_and_reload() {
    let dir = common::temp_dir("debug-reload");
    let server = TestServer::with_config(|c| {
        common::with_dir(&dir)(c);
        c.enable_debug_command = ProtectedAction::Yes;
    });
    let mut c = server.raw();
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        b"+0000000000000000000000000000000000000000\r\n"
    );
    build_dataset(&mut c);
    c.call(&["SELECT", "5"]);
    c.call(&["SET", "other", "db"]);
    let digest = c.call(&["DEBUG", "DIGEST"]);
    assert_ne!(digest, b"+0000000000000000000000000000000000000000\r\n");
    assert_eq!(c.call(&["DEBUG", "RELOAD"]), b"+OK\r\n");
    assert_eq!(c.call(&["DEBUG", "DIGEST"]), digest);
    c.call(&["SET", "other", "changed"]);
    assert_ne!(c.call(&["DEBUG", "DIGEST"]), digest);
    // NOSAVE loads what the last save wrote.
    assert_eq!(c.call(&["DEBUG", "RELOAD", "NOSAVE"]), b"+OK\r\n");
    assert_eq!(c.call(&["DEBUG", "DIGEST"]), digest);
    assert_eq!(
        c.call(&["DEBUG", "RELOAD", "FAST"]),
        b"-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
