//! maxmemory: OOM refusals under noeviction, exact LRU order under
//! allkeys-lru, the LFU and volatile policies, and MEMORY USAGE.
//!
//! This binary installs the counting allocator, as `sedis-server` does, so
//! used memory is exact. The allocator counts the whole process, so the
//! tests take turns (one lock) rather than disturb each other's figures.

mod common;

use common::TestServer;
use parking_lot::Mutex;

#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const OOM: &[u8] = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// Lowers `maxmemory` by about `values` of the tests' 1000-byte values
/// below what is in use, which evicts at once, then lifts the limit.
fn shed_values(c: &mut common::Raw, values: u64) {
    let limit = used_memory() - values * 1100;
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory", &limit.to_string()],
        b"+OK\r\n"
    );
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "0"], b"+OK\r\n");
}

/// Which of `prefix:0` .. `prefix:{count - 1}` no longer exist.
fn missing(c: &mut common::Raw, prefix: &str, count: usize) -> Vec<usize> {
    (0..count)
        .filter(|i| c.call(&["EXISTS", &format!("{prefix}:{i}")]) == b":0\r\n")
        .collect()
}

fn used_memory() -> u64 {
    sedis::alloc::allocated().expect("the counting allocator is installed") as u64
}

#[test]
fn noeviction_refuses_growing_commands_and_serves_the_rest() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k2", "v"], OOM);
    assert_reply!(c, ["LPUSH", "l", "x"], OOM);
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
    // Inside MULTI, queueing anything but EXEC/DISCARD is refused, and the
    // transaction then aborts.
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["GET", "k"], OOM);
    assert_reply!(
        c,
        ["EXEC"],
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_reply!(c, ["DEL", "k"], b":1\r\n");
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "0"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k2", "v"], b"+OK\r\n");
    let info = String::from_utf8(c.call(&["INFO", "stats"])).unwrap();
    assert!(info.contains("evicted_keys:0\r\n"), "{info}");
}

#[test]
fn allkeys_lru_evicts_exactly_the_least_recently_used_keys() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        b"+OK\r\n"
    );
    let value = "x".repeat(1000);
    let keys = 3000;
    for i in 0..keys {
        assert_reply!(c, ["SET", &format!("key:{i}"), &value], b"+OK\r\n");
    }
    // Touch the first 1000: the oldest are now 1000, 1001, ...
    let hit = format!("$1000\r\n{value}\r\n");
    for i in 0..1000 {
        assert_reply!(c, ["GET", &format!("key:{i}")], hit.as_bytes());
    }
    // Lower the limit by about 500 values' worth: evicted at once.
    shed_values(&mut c, 500);
    let gone = missing(&mut c, "key", keys);
    assert!(
        gone.len() >= 400,
        "about 500 keys evicted, not {}",
        gone.len()
    );
    let oldest: Vec<usize> = (1000..1000 + gone.len()).collect();
    assert_eq!(gone, oldest, "exactly the least recently used keys went");
    let info = String::from_utf8(c.call(&["INFO", "stats"])).unwrap();
    assert!(
        info.contains(&format!("evicted_keys:{}\r\n", gone.len())),
        "{info}"
    );
}

#[test]
fn volatile_policies_only_evict_keys_with_a_ttl() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    let value = "y".repeat(1000);
    for i in 0..200 {
        assert_reply!(c, ["SET", &format!("keep:{i}"), &value], b"+OK\r\n");
    }
    // TTLs far apart; volatile-ttl evicts the soonest first.
    for i in 0..200 {
        let ttl = (1000 + i * 10).to_string();
        assert_reply!(
            c,
            ["SET", &format!("ttl:{i}"), &value, "EX", &ttl],
            b"+OK\r\n"
        );
    }
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
        b"+OK\r\n"
    );
    shed_values(&mut c, 100);
    let gone = missing(&mut c, "ttl", 200);
    assert!(gone.len() >= 80, "{} evicted", gone.len());
    assert_eq!(gone, (0..gone.len()).collect::<Vec<_>>(), "soonest first");
    for i in 0..200 {
        assert_reply!(c, ["EXISTS", &format!("keep:{i}")], b":1\r\n");
    }
    // With every volatile key gone, volatile-lru has nothing left to evict:
    // writes are refused.
    for i in 0..200 {
        c.call(&["DEL", &format!("ttl:{i}")]);
    }
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
        b"+OK\r\n"
    );
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "1"], b"+OK\r\n");
    assert_reply!(c, ["SET", "more", "z"], OOM);
    assert_reply!(c, ["EXISTS", "keep:0"], b":1\r\n");
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "0"], b"+OK\r\n");
}

#[test]
fn lfu_policies_keep_the_frequently_read_keys_through_a_scan() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    // Factor 0: every access counts; no decay: the counters are exact.
    for (name, value) in [
        ("maxmemory-policy", "allkeys-lfu"),
        ("lfu-log-factor", "0"),
        ("lfu-decay-time", "0"),
    ] {
        assert_reply!(c, ["CONFIG", "SET", name, value], b"+OK\r\n");
    }
    let value = "z".repeat(1000);
    let keys = 3000;
    for i in 0..keys {
        assert_reply!(c, ["SET", &format!("key:{i}"), &value], b"+OK\r\n");
    }
    // Every tenth key is hot: read four more times (counter 9).
    let hit = format!("$1000\r\n{value}\r\n");
    for _ in 0..4 {
        for i in (0..keys).step_by(10) {
            assert_reply!(c, ["GET", &format!("key:{i}")], hit.as_bytes());
        }
    }
    // Then a scan reads every key once, in order: recency now says
    // nothing about use (LRU would evict the first keys read).
    for i in 0..keys {
        assert_reply!(c, ["GET", &format!("key:{i}")], hit.as_bytes());
    }
    assert_reply!(c, ["OBJECT", "FREQ", "key:0"], b":10\r\n");
    assert_reply!(c, ["OBJECT", "FREQ", "key:1"], b":6\r\n");
    shed_values(&mut c, 500);
    let gone = missing(&mut c, "key", keys);
    assert!(gone.len() >= 400, "about 500 evicted, not {}", gone.len());
    let hot_gone: Vec<&usize> = gone.iter().filter(|i| *i % 10 == 0).collect();
    assert!(hot_gone.is_empty(), "hot keys evicted: {hot_gone:?}");

    // volatile-lfu: only keys with a TTL go, the least used first.
    assert_reply!(c, ["FLUSHALL"], b"+OK\r\n");
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"],
        b"+OK\r\n"
    );
    for i in 0..1000 {
        assert_reply!(c, ["SET", &format!("keep:{i}"), &value], b"+OK\r\n");
        let key = format!("ttl:{i}");
        assert_reply!(c, ["SET", &key, &value, "EX", "1000"], b"+OK\r\n");
    }
    for i in (0..1000).step_by(2) {
        assert_reply!(c, ["GET", &format!("ttl:{i}")], hit.as_bytes());
    }
    shed_values(&mut c, 200);
    let gone = missing(&mut c, "ttl", 1000);
    assert!(gone.len() >= 150, "about 200 evicted, not {}", gone.len());
    assert!(
        gone.iter().all(|i| i % 2 == 1),
        "read keys evicted: {gone:?}"
    );
    for i in 0..1000 {
        assert_reply!(c, ["EXISTS", &format!("keep:{i}")], b":1\r\n");
    }
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
        b"+OK\r\n"
    );
}

#[test]
fn a_write_flood_stays_within_the_limit() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    let base = used_memory();
    let limit = base + 2 * 1024 * 1024;
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
        b"+OK\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory", &limit.to_string()],
        b"+OK\r\n"
    );
    let value = "z".repeat(1024);
    // Ten times the limit, in pipelined batches.
    let mut peak = 0;
    for batch in 0..200 {
        let mut request = Vec::new();
        for i in 0..100 {
            let key = format!("flood:{batch}:{i}");
            request.extend_from_slice(
                format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$1024\r\n{value}\r\n",
                    key.len()
                )
                .as_bytes(),
            );
        }
        c.send(&request);
        for _ in 0..100 {
            assert_eq!(c.read_raw(), b"+OK\r\n");
        }
        peak = peak.max(used_memory());
    }
    // Over by at most what one command adds before the next evicts.
    assert!(
        peak <= limit + 64 * 1024,
        "peak {peak} against limit {limit}"
    );
    let evicted = c.info(&["stats"]).number("evicted_keys");
    let dbsize = c.call(&["DBSIZE"]);
    let left: u64 = String::from_utf8_lossy(&dbsize[1..dbsize.len() - 2])
        .parse()
        .unwrap();
    assert_eq!(
        evicted + left,
        20_000,
        "every key written was evicted or kept"
    );
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "0"], b"+OK\r\n");
}

#[test]
fn memory_usage_reports_keys_and_nothing_for_missing_ones() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["MEMORY", "USAGE", "missing"], b"$-1\r\n");
    c.call(&["SET", "small", "v"]);
    c.call(&["SET", "big", &"b".repeat(10_000)]);
    let size = |c: &mut common::Raw, key: &str| -> i64 {
        let reply = c.call(&["MEMORY", "USAGE", key]);
        String::from_utf8_lossy(&reply[1..reply.len() - 2])
            .parse()
            .unwrap()
    };
    let (small, big) = (size(&mut c, "small"), size(&mut c, "big"));
    assert!(small > 0 && small < 200, "{small}");
    assert!((10_000..10_300).contains(&big), "{big}");
    assert_reply!(
        c,
        ["MEMORY", "USAGE", "small", "SAMPLES", "-1"],
        b"-ERR syntax error\r\n"
    );
    assert_reply!(
        c,
        ["MEMORY", "USAGE"],
        b"-ERR wrong number of arguments for 'memory|usage' command\r\n"
    );
}

#[test]
fn every_eviction_publishes_an_evicted_event() {
    let _turn = ONE_AT_A_TIME.lock();
    let server = TestServer::start();
    let mut c = server.raw();
    let mut sub = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "SET", "notify-keyspace-events", "Ee"],
        b"+OK\r\n"
    );
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
    sub.read_raw();
    for i in 0..50 {
        c.call(&["SET", &format!("victim:{i}"), "v"]);
    }
    assert_reply!(
        c,
        ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        b"+OK\r\n"
    );
    // A limit far below what is in use: everything goes at once.
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "1"], b"+OK\r\n");
    assert_reply!(c, ["DBSIZE"], b":0\r\n");
    assert_reply!(c, ["CONFIG", "SET", "maxmemory", "0"], b"+OK\r\n");
    let mut evicted = std::collections::HashSet::new();
    for _ in 0..50 {
        let frame = sub.read();
        let sedis::Frame::Array(items) = frame else {
            panic!("a message: {frame:?}");
        };
        let sedis::Frame::Bulk(key) = &items[2] else {
            panic!("a key");
        };
        evicted.insert(String::from_utf8(key.clone()).unwrap());
    }
    let expected: std::collections::HashSet<String> =
        (0..50).map(|i| format!("victim:{i}")).collect();
    assert_eq!(evicted, expected);
    let info = String::from_utf8(c.call(&["INFO", "stats"])).unwrap();
    assert!(info.contains("\r\nevicted_keys:50\r\n"), "{info}");
}
