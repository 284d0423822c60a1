//! Persistence across the two servers: dumps and append-only files written
//! by one load in the other (and pass Redis's own checkers), compared by
//! every key's type, encoding, TTL and contents.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sedis::Frame;

use crate::common::{TestServer, dir_with_dump, temp_dir, with_dir};
use crate::conn::Conn;
use crate::redis::RedisServer;

/// Sends one command, which must not fail.
fn call_ok<S: AsRef<str> + std::fmt::Debug>(conn: &mut Conn, args: &[S]) {
    let argv: Vec<Vec<u8>> = args
        .iter()
        .map(|a| a.as_ref().as_bytes().to_vec())
        .collect();
    let (raw, frame) = conn.call(&argv).expect("reply");
    assert!(
        !frame.is_error(),
        "{args:?}: {}",
        String::from_utf8_lossy(&raw)
    );
}

/// Every key of databases 0 and 1 as comparable text: type, encoding,
/// whether it has a TTL, then the contents in a fixed order (members
/// sorted).
fn describe_keys(conn: &mut Conn) -> Vec<String> {
    let mut out = describe_db(conn, 1);
    out.extend(describe_db(conn, 0));
    out.push(describe_libraries(conn));
    out
}

/// The FUNCTION libraries, with their code, as comparable text.
fn describe_libraries(conn: &mut Conn) -> String {
    let argv: Vec<Vec<u8>> = ["FUNCTION", "LIST", "WITHCODE"]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let (raw, _) = conn.call(&argv).expect("FUNCTION LIST");
    String::from_utf8_lossy(&raw).into_owned()
}

/// A library long enough for its code to be LZF-compressed in a dump.
const LIBRARY: &str = "#!lua name=persisted\n\
    redis.register_function{function_name='kept', description='survives a restart', \
    flags={'no-writes'}, callback=function(keys, args) return 'still here' end}";

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
            // Entries with their ids and fields in order, the length, and
            // the groups' counters.
            "stream" => vec![
                format!("{:?}", call(conn, &["XRANGE", &key, "-", "+"])),
                format!("{:?}", call(conn, &["XLEN", &key])),
                format!("{:?}", call(conn, &["XINFO", "GROUPS", &key])),
            ],
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
        vec!["FUNCTION".into(), "LOAD".into(), LIBRARY.into()],
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
    // Streams: several nodes (more than 100 entries), entries with the
    // master's fields and others, tombstones, trimming, an emptied stream
    // that keeps its last id, and XSETID's counters.
    for i in 1..=250 {
        let mut xadd = vec![
            "XADD".to_string(),
            "stream".into(),
            format!("{i}-{}", i % 3),
        ];
        if i % 7 == 0 {
            xadd.extend([
                "other".into(),
                format!("{i}"),
                "extra".into(),
                long_or_int(i),
            ]);
        } else {
            xadd.extend([
                "name".into(),
                format!("item-{i}"),
                "n".into(),
                i.to_string(),
            ]);
        }
        script.push(xadd);
    }
    for args in [
        &["XDEL", "stream", "5-2", "6-0", "101-2", "250-1"][..],
        &["XTRIM", "stream", "MAXLEN", "230"],
        &["XADD", "xempty", "7-7", "a", "1"],
        &["XDEL", "xempty", "7-7"],
        &["XADD", "xsmall", "1-1", "f", ""],
        &[
            "XSETID",
            "xsmall",
            "9-0",
            "ENTRIESADDED",
            "40",
            "MAXDELETEDID",
            "8-0",
        ],
    ] {
        script.push(args.iter().map(|a| a.to_string()).collect());
    }
    for args in &script {
        call_ok(conn, args);
    }
}

/// A value for stream entries: an integer, or a string long enough to
/// take a two-byte listpack header.
fn long_or_int(i: usize) -> String {
    if i.is_multiple_of(2) {
        (i as i64 * -1_000_003).to_string()
    } else {
        "s".repeat(70 + i % 5)
    }
}

/// The append-only file sedis writes (a rewrite's base and the commands
/// after it) passes `redis-check-aof` and replays in redis-server to the
/// same contents.
#[test]
#[ignore = "needs redis-server and redis-check-aof 7.0.15; run with --include-ignored"]
fn sedis_aofs_pass_redis_check_aof_and_replay_in_redis() {
    let dir = temp_dir("aof-interop");
    let sedis = TestServer::with_config(|c| {
        with_dir(&dir)(c);
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
        // Group reads, claims and acknowledgements are logged as XCLAIMs
        // (several in MULTI/EXEC) and XGROUP SETIDs.
        &["XGROUP", "CREATE", "stream", "g", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "COUNT",
            "5",
            "STREAMS",
            "stream",
            ">",
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "b",
            "COUNT",
            "3",
            "NOACK",
            "STREAMS",
            "stream",
            ">",
        ],
        &["XACK", "stream", "g", "20-2", "21-0", "22-1", "23-2"],
        &["XAUTOCLAIM", "stream", "g", "c", "0", "0", "COUNT", "2"],
        &["XGROUP", "CREATECONSUMER", "stream", "g", "idle"],
        &["HINCRBYFLOAT", "hsmall", "f", "0.5"],
        &["LPOP", "list"],
        &["SET", "after", "rewrite", "PX", "9000000"],
        &["ZINCRBY", "zsmall", "2", "b"],
    ] {
        call_ok(&mut conn, args);
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

/// A dump redis-server writes (every type and encoding, LZF strings,
/// expiries, two databases) loads in sedis with the same contents.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn redis_dumps_load_in_sedis() {
    let dir = temp_dir("rdb-from-redis");
    let kept_in = temp_dir("rdb-from-redis-kept");
    let kept = kept_in.join("dump.rdb");
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
    std::fs::remove_dir_all(&kept_in).ok();
    assert_sedis_loads(&dir, &expected);
}

/// `redis-check-rdb` finds the dump in `dir` sound.
fn assert_redis_check_rdb_accepts(dir: &Path) {
    let check = Command::new("redis-check-rdb")
        .arg(dir.join("dump.rdb"))
        .output()
        .expect("redis-check-rdb not found: apt-get install -y redis-tools");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("RDB looks OK"), "{report}");
}

/// Starts sedis over the dump in `dir`, checks it holds `expected`, and
/// removes `dir`.
fn assert_sedis_loads(dir: &Path, expected: &[String]) {
    let sedis = TestServer::with_config(with_dir(dir));
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
    let scratch = |who: &str| dir_with_dump(&format!("old-rdb-{who}"), "ziplist-encodings-v9.rdb");
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
    let dir = temp_dir("rdb-interop");
    let sedis = TestServer::with_config(with_dir(&dir));
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    fill_every_type(&mut conn);
    let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
    assert_eq!(raw, b"+OK\r\n");
    let expected = describe_keys(&mut conn);
    drop(conn);
    drop(sedis);

    assert_redis_check_rdb_accepts(&dir);

    let redis = RedisServer::start_in(Some(&dir));
    let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
    assert_eq!(describe_keys(&mut conn), expected);
}

/// FUNCTION DUMP writes the payload redis-server writes for the same
/// library, byte for byte, and each server restores the other's.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn function_dump_payloads_are_redis_payloads() {
    let redis = RedisServer::start_in(None);
    let sedis = TestServer::start();
    let mut redis = Conn::connect(redis.addr()).expect("connect to redis-server");
    let mut sedis = Conn::connect(sedis.addr).expect("connect to sedis");
    let call = |conn: &mut Conn, args: &[&[u8]]| {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        conn.call(&argv).expect("reply")
    };
    let mut payloads = Vec::new();
    for conn in [&mut redis, &mut sedis] {
        call(conn, &[b"FUNCTION", b"LOAD", LIBRARY.as_bytes()]);
        call(
            conn,
            &[
                b"FUNCTION",
                b"LOAD",
                b"#!lua name=small\nredis.register_function('f', function() return 1 end)",
            ],
        );
        let (_, payload) = call(conn, &[b"FUNCTION", b"DUMP"]);
        payloads.push(payload.as_bytes().expect("a bulk payload").to_vec());
    }
    // Libraries in one order on both: Redis's dict order may differ, so
    // compare the set of libraries each payload restores.
    assert_eq!(payloads[0].len(), payloads[1].len());
    let listing = |conn: &mut Conn| {
        let (raw, _) = call(
            conn,
            &[
                b"FUNCTION",
                b"LIST",
                b"LIBRARYNAME",
                b"persisted",
                b"WITHCODE",
            ],
        );
        raw
    };
    let expected = listing(&mut redis);
    for (conn, payload) in [(&mut sedis, &payloads[0]), (&mut redis, &payloads[1])] {
        call(conn, &[b"FUNCTION", b"FLUSH"]);
        let (raw, _) = call(conn, &[b"FUNCTION", b"RESTORE", payload]);
        assert_eq!(raw, b"+OK\r\n");
        assert_eq!(listing(conn), expected);
        let (raw, _) = call(conn, &[b"FCALL", b"kept", b"0"]);
        assert_eq!(raw, b"$10\r\nstill here\r\n");
    }
}

/// What redis-server reports of a stream's groups, counters and pending
/// entries (XINFO STREAM FULL, XINFO GROUPS, XPENDING), without the radix
/// tree's inner node count, which depends on the order keys were inserted.
fn describe_stream_groups(conn: &mut Conn, key: &str) -> Vec<String> {
    let mut call = |args: &[&str]| -> Frame {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        conn.call(&argv).expect("reply").1
    };
    let mut full = call(&["XINFO", "STREAM", key, "FULL"]);
    if let Frame::Array(fields) = &mut full
        && let Some(at) = fields
            .iter()
            .position(|f| f.as_bytes() == Some(&b"radix-tree-nodes"[..]))
    {
        // The name and the count after it.
        fields.drain(at..at + 2);
    }
    vec![
        format!("{full:?}"),
        format!("{:?}", call(&["XINFO", "GROUPS", key])),
        format!("{:?}", call(&["XPENDING", key, "g1"])),
        format!("{:?}", call(&["XPENDING", key, "g2"])),
    ]
}

/// A stream with consumer groups (pending entries, consumers, delivery
/// counts, counters) goes from redis-server through sedis and back intact:
/// sedis keeps the groups it has no commands for and writes them as Redis
/// does.
#[test]
#[ignore = "needs redis-server and redis-check-rdb 7.0.15; run with --include-ignored"]
fn stream_groups_survive_a_round_trip_through_sedis() {
    let dir = temp_dir("stream-groups-from-redis");
    let kept_in = temp_dir("stream-groups-kept");
    let kept = kept_in.join("dump.rdb");
    let (expected_keys, expected_groups) = {
        let redis = RedisServer::start_in(Some(&dir));
        let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
        fill_every_type(&mut conn);
        for line in [
            "XGROUP CREATE stream g1 0",
            "XREADGROUP GROUP g1 alice COUNT 3 STREAMS stream >",
            "XREADGROUP GROUP g1 bob COUNT 150 STREAMS stream >",
            "XREADGROUP GROUP g1 alice STREAMS stream 0",
            "XACK stream g1 24-0 25-1 26-2",
            "XCLAIM stream g1 carol 0 30-0 31-1",
            "XGROUP CREATE stream g2 $ ENTRIESREAD 7",
            "XGROUP CREATECONSUMER stream g2 idle",
        ] {
            call_ok(&mut conn, &line.split(' ').collect::<Vec<_>>());
        }
        let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
        assert_eq!(raw, b"+OK\r\n");
        std::fs::copy(dir.join("dump.rdb"), &kept).unwrap();
        (
            describe_keys(&mut conn),
            describe_stream_groups(&mut conn, "stream"),
        )
    };
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::rename(&kept, dir.join("dump.rdb")).unwrap();
    std::fs::remove_dir_all(&kept_in).ok();

    let sedis = TestServer::with_config(with_dir(&dir));
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    assert_eq!(describe_keys(&mut conn), expected_keys);
    let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
    assert_eq!(raw, b"+OK\r\n");
    drop(conn);
    drop(sedis);

    assert_redis_check_rdb_accepts(&dir);
    let redis = RedisServer::start_in(Some(&dir));
    let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
    assert_eq!(describe_keys(&mut conn), expected_keys);
    assert_eq!(describe_stream_groups(&mut conn, "stream"), expected_groups);
}

/// HyperLogLogs move between the servers as strings: the same PFADDs give
/// both servers the same bytes, and a dump redis-server wrote (sparse and
/// dense HLLs, with a stale or a fresh cached cardinality) loads in sedis,
/// where every HLL counts as it does in Redis, alone and in unions.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn hyperloglogs_written_by_redis_count_the_same_in_sedis() {
    let dir = temp_dir("hll-from-redis");
    let kept_in = temp_dir("hll-from-redis-kept");
    let kept = kept_in.join("dump.rdb");
    let call = |conn: &mut Conn, args: &[&[u8]]| {
        let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        conn.call(&argv).expect("reply").0
    };
    // Sizes on both sides of the sparse limit, and one far past it.
    let sizes = [1usize, 50, 700, 5_000, 100_000];
    let fill = |conn: &mut Conn| {
        for &n in &sizes {
            let key = format!("h{n}");
            for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
                let mut argv: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), key.clone().into_bytes()];
                argv.extend(chunk.iter().map(|i| format!("member:{i}").into_bytes()));
                conn.call(&argv).expect("PFADD");
            }
        }
        // One with a fresh cache, the others stale.
        call(conn, &[b"PFCOUNT", b"h700"]);
    };
    let keys: Vec<Vec<u8>> = sizes.iter().map(|n| format!("h{n}").into_bytes()).collect();
    let union: Vec<&[u8]> = [&b"PFCOUNT"[..], b"h5000", b"h100000", b"h1"].to_vec();
    let (strings, counts, union_count) = {
        let redis = RedisServer::start_in(Some(&dir));
        let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
        fill(&mut conn);
        assert_eq!(call(&mut conn, &[b"SAVE"]), b"+OK\r\n");
        std::fs::copy(dir.join("dump.rdb"), &kept).unwrap();
        let strings: Vec<Vec<u8>> = keys.iter().map(|k| call(&mut conn, &[b"GET", k])).collect();
        let counts: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| call(&mut conn, &[b"PFCOUNT", k]))
            .collect();
        (strings, counts, call(&mut conn, &union))
    };
    // The same writes in sedis leave the same bytes.
    {
        let sedis = TestServer::start();
        let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
        fill(&mut conn);
        for (key, expected) in keys.iter().zip(&strings) {
            assert_eq!(&call(&mut conn, &[b"GET", key]), expected);
        }
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::rename(&kept, dir.join("dump.rdb")).unwrap();
    std::fs::remove_dir_all(&kept_in).ok();
    let sedis = TestServer::with_config(with_dir(&dir));
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    for ((key, string), count) in keys.iter().zip(&strings).zip(&counts) {
        assert_eq!(&call(&mut conn, &[b"GET", key]), string);
        assert_eq!(&call(&mut conn, &[b"PFCOUNT", key]), count);
    }
    assert_eq!(call(&mut conn, &union), union_count);
    drop(conn);
    drop(sedis);
    std::fs::remove_dir_all(&dir).ok();
}

/// The commands of the append-only file's increment in `dir`, each as its
/// words, the time XCLAIM's TIME carries replaced by `<time>` (the clock).
fn logged_commands(dir: &Path) -> Vec<Vec<String>> {
    let aof_dir = dir.join("appendonlydir");
    let incr = std::fs::read_dir(&aof_dir)
        .expect("appendonlydir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .expect("an increment file");
    let bytes = std::fs::read(&incr).expect("read the increment");
    let mut rest = &bytes[..];
    let mut line = || -> Option<String> {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let text = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 2..];
        Some(text)
    };
    let mut commands = Vec::new();
    while let Some(header) = line() {
        let n: usize = header
            .strip_prefix('*')
            .expect("an array")
            .parse()
            .expect("a length");
        let words: Vec<String> = (0..n)
            .map(|_| {
                line().expect("a length");
                line().expect("a word")
            })
            .collect();
        commands.push(words);
    }
    for words in &mut commands {
        if let Some(at) = words.iter().position(|w| w == "TIME") {
            words[at + 1] = "<time>".into();
        }
    }
    commands
}

/// What consumer-group commands log is what Redis logs: the XCLAIMs
/// standing for deliveries and claims (wrapped in MULTI/EXEC when there
/// are several), XGROUP SETID for a last id moved without them, XGROUP
/// CREATECONSUMER for a NOACK reader, nothing for a history read, and the
/// delivery to a reader XADD woke.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn stream_group_effects_are_logged_as_redis_logs_them() {
    let script: &[&[&str]] = &[
        &["XADD", "s", "1-0", "a", "1"],
        &["XADD", "s", "2-0", "b", "2"],
        &["XADD", "s", "3-0", "c", "3"],
        &["XADD", "s", "4-0", "d", "4"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "COUNT",
            "1",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"],
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
        &["XACK", "s", "g", "1-0", "9-0"],
        &["XCLAIM", "s", "g", "carol", "0", "2", "JUSTID"],
        &["XCLAIM", "s", "g", "carol", "0", "1-0", "LASTID", "9-0"],
        &["XDEL", "s", "2-0"],
        &["XAUTOCLAIM", "s", "g", "dave", "0", "0"],
        &[
            "XCLAIM",
            "s",
            "g",
            "erin",
            "0",
            "3-0",
            "FORCE",
            "RETRYCOUNT",
            "5",
            "TIME",
            "1000",
        ],
        &["XGROUP", "SETID", "s", "g", "3-0", "ENTRIESREAD", "3"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "frank"],
        &["XGROUP", "DELCONSUMER", "s", "g", "frank"],
        &["MULTI"],
        &["XADD", "s", "5-0", "e", "5"],
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
        &["XACK", "s", "g", "5-0"],
        &["EXEC"],
        &["XGROUP", "CREATE", "s", "g2", "$"],
    ];
    let run = |addr: std::net::SocketAddr| {
        let mut conn = Conn::connect(addr).expect("connect");
        let mut waiter = Conn::connect(addr).expect("connect");
        // Each write reaches the file before its reply, so the file can be
        // read as soon as the last reply came.
        let always = [&b"CONFIG"[..], b"SET", b"appendfsync", b"always"].map(<[u8]>::to_vec);
        conn.call(&always).expect("CONFIG SET");
        for args in script {
            call_ok(&mut conn, args);
        }
        // A blocked reader served by an XADD: its delivery is logged after
        // the XADD.
        let block: Vec<Vec<u8>> = [
            "XREADGROUP",
            "GROUP",
            "g2",
            "gina",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
        waiter.send(&block).expect("send");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, info) = conn
                .call(&[b"INFO".to_vec(), b"clients".to_vec()])
                .expect("INFO");
            let text = String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).into_owned();
            if text.contains("blocked_clients:1") {
                break;
            }
            assert!(Instant::now() < deadline, "the reader never blocked");
            std::thread::sleep(Duration::from_millis(5));
        }
        conn.call(&[
            b"XADD".to_vec(),
            b"s".to_vec(),
            b"6-0".to_vec(),
            b"f".to_vec(),
            b"6".to_vec(),
        ])
        .expect("XADD");
        let (_, served) = waiter.read().expect("the served reply");
        assert!(!served.is_error(), "{served:?}");
    };
    let redis_dir = temp_dir("group-aof-redis");
    let redis = RedisServer::start_with(Some(&redis_dir), true);
    run(redis.addr());
    let theirs = logged_commands(&redis_dir);
    drop(redis);

    let sedis_dir = temp_dir("group-aof-sedis");
    let sedis = TestServer::with_config(|c| {
        with_dir(&sedis_dir)(c);
        c.appendonly = true;
        c.appendfsync = sedis::config::FsyncPolicy::Always;
    });
    run(sedis.addr);
    let ours = logged_commands(&sedis_dir);
    drop(sedis);
    assert!(theirs.iter().any(|c| c[0] == "XCLAIM"), "{theirs:?}");
    assert_eq!(ours, theirs);
}

/// Groups made by sedis's own commands (deliveries, NOACK reads, claims,
/// acknowledgements, a deleted pending entry, counters set by hand) go
/// from sedis's dump through redis-server and back into sedis intact.
#[test]
#[ignore = "needs redis-server and redis-check-rdb 7.0.15; run with --include-ignored"]
fn stream_groups_made_by_sedis_survive_redis_and_back() {
    let dir = temp_dir("stream-groups-from-sedis");
    let sedis = TestServer::with_config(with_dir(&dir));
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    fill_every_type(&mut conn);
    for line in [
        "XGROUP CREATE stream g1 0",
        "XREADGROUP GROUP g1 alice COUNT 3 STREAMS stream >",
        "XREADGROUP GROUP g1 bob COUNT 40 STREAMS stream >",
        "XREADGROUP GROUP g1 nack COUNT 5 NOACK STREAMS stream >",
        "XACK stream g1 24-0 25-1 26-2",
        "XCLAIM stream g1 carol 0 30-0 31-1 RETRYCOUNT 9",
        "XAUTOCLAIM stream g1 dave 0 40-0 COUNT 4",
        "XGROUP CREATE stream g2 $ ENTRIESREAD 7",
        "XGROUP CREATECONSUMER stream g2 idle",
        "XGROUP CREATE xempty g1 0",
        "XGROUP SETID xempty g1 5-0 ENTRIESREAD -1",
    ] {
        call_ok(&mut conn, &line.split(' ').collect::<Vec<_>>());
    }
    let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
    assert_eq!(raw, b"+OK\r\n");
    let expected_keys = describe_keys(&mut conn);
    let expected_groups = describe_stream_groups(&mut conn, "stream");
    let expected_empty = describe_stream_groups(&mut conn, "xempty");
    drop(conn);
    drop(sedis);

    assert_redis_check_rdb_accepts(&dir);
    let redis = RedisServer::start_in(Some(&dir));
    let mut conn = Conn::connect(redis.addr()).expect("connect to redis-server");
    assert_eq!(describe_keys(&mut conn), expected_keys);
    assert_eq!(describe_stream_groups(&mut conn, "stream"), expected_groups);
    assert_eq!(describe_stream_groups(&mut conn, "xempty"), expected_empty);
    let (raw, _) = conn.call(&[b"SAVE".to_vec()]).expect("SAVE");
    assert_eq!(raw, b"+OK\r\n");
    // redis-server removes its directory when it stops.
    let back = temp_dir("stream-groups-back");
    std::fs::copy(dir.join("dump.rdb"), back.join("dump.rdb")).unwrap();
    drop(conn);
    drop(redis);

    let sedis = TestServer::with_config(with_dir(&back));
    let mut conn = Conn::connect(sedis.addr).expect("connect to sedis");
    assert_eq!(describe_keys(&mut conn), expected_keys);
    assert_eq!(describe_stream_groups(&mut conn, "stream"), expected_groups);
    assert_eq!(describe_stream_groups(&mut conn, "xempty"), expected_empty);
    drop(conn);
    drop(sedis);
    std::fs::remove_dir_all(&back).ok();
}
