//! The library API: a server started inside a program stops cleanly, frees
//! its port, and releases clients blocked in a read.
//!
//! The embedding facade ([`sedis::embed`]): a server with no socket and its
//! in-process clients (same replies as a socket's, MULTI, blocking
//! commands, pub/sub, CLIENT KILL), the manual clock (expiry, TTLs, the
//! reaper, `expired` events, blocking timeouts), direct data access and
//! RDB load/dump, injected faults, seeded randomness, and the `redis`
//! crate against an embedded server.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, UNIX_EPOCH};

use common::TestServer;
use sedis::client::Commands;
use sedis::{Embedded, Frame, LocalClient};

#[test]
fn shutdown_releases_connected_clients_and_the_port() {
    let server = TestServer::start();
    let addr = server.addr;
    let idle = server.raw();
    let mut mid_request = server.raw();
    mid_request.send(b"*2\r\n$3\r\nGET\r\n"); // half a request
    server.stop();
    let mut rest = Vec::new();
    assert_eq!(
        idle.stream()
            .try_clone()
            .unwrap()
            .read_to_end(&mut rest)
            .unwrap(),
        0
    );
    assert_eq!(mid_request.read_to_close(), b"");
    TcpListener::bind(addr).expect("port is free again");
}

#[test]
fn shutdown_command_stops_the_server() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.send(b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(c.read_to_close(), b"");
    // The server thread ends by itself; joining it returns.
    server.stop();
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Frame {
    Frame::Simple(b"OK".to_vec())
}

/// INFO clients' `blocked_clients`, read through the server's own client.
fn blocked_clients(server: &Embedded) -> u64 {
    let info = server.db(0).command(&["INFO", "clients"]);
    let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

/// Waits until `n` clients are blocked: the server's own count is the
/// signal that a blocking command has registered its wait.
fn until_blocked(server: &Embedded, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while blocked_clients(server) != n {
        assert!(std::time::Instant::now() < deadline, "never blocked");
        std::thread::yield_now();
    }
}

#[test]
fn a_server_without_a_socket_serves_in_process_clients() {
    let server = Embedded::start().unwrap();
    assert_eq!(server.addr(), None, "no listener");
    assert!(server.connect().is_err());
    let mut client = server.client();
    assert_eq!(client.call(&["SET", "k", "v"]).unwrap(), ok());
    assert_eq!(client.call(&["GET", "k"]).unwrap(), bulk("v"));
    assert_eq!(
        client.call(&["GET"]).unwrap(),
        Frame::Error(b"ERR wrong number of arguments for 'get' command".to_vec())
    );
    assert_eq!(
        client.call(&["NOSUCH"]).unwrap(),
        Frame::Error(b"ERR unknown command 'NOSUCH', with args beginning with: ".to_vec())
    );
    // Listed like a socket client; gone when dropped.
    let other = server.client();
    let list = client.call(&["CLIENT", "LIST"]).unwrap();
    let list = String::from_utf8_lossy(list.as_bytes().unwrap()).into_owned();
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains(&format!("id={} ", other.id())));
    drop(other);
    let list = client.call(&["CLIENT", "LIST"]).unwrap();
    assert_eq!(
        String::from_utf8_lossy(list.as_bytes().unwrap())
            .lines()
            .count(),
        1
    );
    // RESP3 after HELLO 3, as on a socket.
    assert!(matches!(
        client.call(&["HELLO", "3"]).unwrap(),
        Frame::Map(_)
    ));
    assert_eq!(client.call(&["GET", "nothing"]).unwrap(), Frame::Null);
    // QUIT closes the client.
    assert_eq!(client.call(&["QUIT"]).unwrap(), ok());
    assert!(client.call(&["PING"]).is_err());
    server.shutdown().unwrap();
}

#[test]
fn transactions_and_watch_behave_as_on_a_socket() {
    let server = Embedded::start().unwrap();
    let mut a = server.client();
    let mut b = server.client();
    a.call(&["WATCH", "balance"]).unwrap();
    a.call(&["MULTI"]).unwrap();
    assert_eq!(
        a.call(&["INCRBY", "balance", "10"]).unwrap(),
        Frame::Simple(b"QUEUED".to_vec())
    );
    b.call(&["SET", "balance", "100"]).unwrap();
    assert_eq!(
        a.call(&["EXEC"]).unwrap(),
        Frame::NullArray,
        "the watched key changed"
    );
    a.call(&["MULTI"]).unwrap();
    a.call(&["INCRBY", "balance", "10"]).unwrap();
    a.call(&["LPUSH", "balance", "x"]).unwrap();
    let reply = a.call(&["EXEC"]).unwrap();
    let Frame::Array(items) = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(items[0], Frame::Integer(110));
    assert!(items[1].is_error());
}

#[test]
fn a_blocking_command_waits_for_another_client() {
    let server = Embedded::start().unwrap();
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| server.client().call(&["BLPOP", "jobs", "0"]).unwrap());
        until_blocked(&server, 1);
        server.client().call(&["RPUSH", "jobs", "j1"]).unwrap();
        assert_eq!(
            waiting.join().unwrap(),
            Frame::Array(vec![bulk("jobs"), bulk("j1")])
        );
    });
    assert_eq!(blocked_clients(&server), 0);
}

#[test]
fn pub_sub_reaches_in_process_subscribers() {
    let server = Embedded::builder().listen().start().unwrap();
    let mut subscriber = server.client();
    let confirmation = subscriber.call(&["SUBSCRIBE", "a", "b"]).unwrap();
    assert_eq!(
        confirmation,
        Frame::Array(vec![bulk("subscribe"), bulk("a"), Frame::Integer(1)])
    );
    // The second channel's confirmation waits in the queue.
    assert_eq!(
        subscriber.next_message(Some(Duration::ZERO)).unwrap(),
        Some(Frame::Array(vec![
            bulk("subscribe"),
            bulk("b"),
            Frame::Integer(2)
        ]))
    );
    // Published over TCP, received in process.
    let mut tcp = server.connect().unwrap();
    assert_eq!(tcp.publish("b", "hello").unwrap(), 1);
    assert_eq!(
        subscriber
            .next_message(Some(Duration::from_secs(10)))
            .unwrap(),
        Some(Frame::Array(vec![
            bulk("message"),
            bulk("b"),
            bulk("hello")
        ]))
    );
    assert_eq!(
        subscriber
            .next_message(Some(Duration::from_millis(1)))
            .unwrap(),
        None
    );
    drop(subscriber);
    assert_eq!(
        tcp.publish("b", "nobody").unwrap(),
        0,
        "unsubscribed on drop"
    );
}

#[test]
fn the_manual_clock_drives_expiry_ttls_and_events() {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let server = Embedded::builder().manual_clock_at(start).start().unwrap();
    let mut events = server.client();
    events
        .call(&["CONFIG", "SET", "notify-keyspace-events", "Ex"])
        .unwrap();
    events
        .call(&["SUBSCRIBE", "__keyevent@0__:expired"])
        .unwrap();
    let mut c = server.client();
    assert_eq!(
        c.call(&["TIME"]).unwrap(),
        Frame::Array(vec![bulk("1700000000"), bulk("0")])
    );
    c.call(&["SET", "lazy", "v", "EX", "10"]).unwrap();
    c.call(&["SET", "reaped", "v", "PX", "10500"]).unwrap();
    assert_eq!(
        c.call(&["EXPIRETIME", "lazy"]).unwrap(),
        Frame::Integer(1_700_000_010)
    );
    server.advance(Duration::from_secs(4));
    assert_eq!(c.call(&["TTL", "lazy"]).unwrap(), Frame::Integer(6));
    assert_eq!(c.call(&["PTTL", "reaped"]).unwrap(), Frame::Integer(6500));
    // Nothing moves while the clock stands still.
    assert_eq!(c.call(&["PTTL", "reaped"]).unwrap(), Frame::Integer(6500));
    server.advance(Duration::from_secs(7));
    // Both are gone the moment the clock passed them: deleted by the
    // move, with their events, not merely hidden from lookups.
    assert_eq!(server.db(0).dbsize().unwrap(), 0);
    let mut expired = Vec::new();
    for _ in 0..2 {
        let Some(Frame::Array(m)) = events.next_message(Some(Duration::ZERO)).unwrap() else {
            panic!("no expired event")
        };
        expired.push(m[2].clone());
    }
    expired.sort_by_key(|f| f.as_bytes().map(<[u8]>::to_vec));
    assert_eq!(expired, vec![bulk("lazy"), bulk("reaped")]);
    assert_eq!(c.call(&["GET", "lazy"]).unwrap(), Frame::NullBulk);
    // With active expiry paused, a lookup finds the key expired (lazily).
    c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).unwrap();
    c.call(&["SET", "k", "v", "PX", "100"]).unwrap();
    server.advance(Duration::from_millis(100));
    assert_eq!(server.db(0).dbsize().unwrap(), 1, "still there, unreaped");
    assert_eq!(c.call(&["GET", "k"]).unwrap(), Frame::NullBulk);
    assert_eq!(server.db(0).dbsize().unwrap(), 0, "deleted by the lookup");
    // Back in time: a key set to expire lives on.
    c.call(&["SET", "k", "v", "EX", "5"]).unwrap();
    server.set_time(start);
    assert!(matches!(c.call(&["TTL", "k"]).unwrap(), Frame::Integer(t) if t > 5));
}

#[test]
fn blocking_timeouts_follow_the_manual_clock() {
    let server = Embedded::builder().manual_clock().start().unwrap();
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let mut c = server.client();
            let started = std::time::Instant::now();
            (c.call(&["BLPOP", "jobs", "30"]).unwrap(), started.elapsed())
        });
        until_blocked(&server, 1);
        server.advance(Duration::from_secs(29));
        assert_eq!(blocked_clients(&server), 1, "not yet");
        server.advance(Duration::from_secs(1));
        let (reply, took) = waiting.join().unwrap();
        assert_eq!(reply, Frame::NullArray);
        assert!(
            took < Duration::from_secs(30),
            "timed out by the clock, not in real time"
        );
    });
}

#[test]
fn data_is_read_and_written_directly_in_any_database() {
    let server = Embedded::builder().manual_clock().start().unwrap();
    let db = server.db(2);
    db.set("s", "v").unwrap();
    db.set_with_ttl("t", "v", Duration::from_secs(3)).unwrap();
    db.hset("h", "f", "1").unwrap();
    db.hset("h", "e", "2").unwrap();
    assert_eq!(db.push("l", ["a", "b", "c"]).unwrap(), 3);
    assert_eq!(db.sadd("set", ["y", "x", "y"]).unwrap(), 2);
    assert!(db.zadd("z", 1.5, "m").unwrap());
    assert!(!db.zadd("z", f64::INFINITY, "m").unwrap(), "an update");
    assert_eq!(db.get("s").unwrap(), Some(b"v".to_vec()));
    assert_eq!(
        db.hgetall("h").unwrap(),
        vec![
            (b"e".to_vec(), b"2".to_vec()),
            (b"f".to_vec(), b"1".to_vec())
        ]
    );
    assert_eq!(db.list("l").unwrap().len(), 3);
    assert_eq!(
        db.members("set").unwrap(),
        vec![b"x".to_vec(), b"y".to_vec()]
    );
    assert_eq!(
        db.zrange("z").unwrap(),
        vec![(b"m".to_vec(), f64::INFINITY)]
    );
    assert_eq!(db.ttl("t").unwrap(), Some(Duration::from_secs(3)));
    assert_eq!(db.ttl("s").unwrap(), None);
    assert_eq!(db.key_type("z").unwrap().as_deref(), Some("zset"));
    assert_eq!(db.key_type("none").unwrap(), None);
    assert_eq!(db.dbsize().unwrap(), 6);
    assert_eq!(server.db(0).dbsize().unwrap(), 0);
    // Errors are Redis's.
    let err = db.get("l").unwrap_err();
    assert!(err.0.starts_with("WRONGTYPE"), "{err}");
    // A client sees what was seeded.
    let mut c = server.client();
    c.call(&["SELECT", "2"]).unwrap();
    assert_eq!(c.call(&["LLEN", "l"]).unwrap(), Frame::Integer(3));

    // Dump, then load into another server: everything but the key that
    // expired meanwhile by the second server's clock.
    let dump = server.dump_rdb().unwrap();
    assert!(dump.starts_with(b"REDIS"));
    let other = Embedded::builder()
        .manual_clock_at(server.now() + Duration::from_secs(5))
        .start()
        .unwrap();
    assert_eq!(other.load_rdb_bytes(&dump).unwrap(), 5);
    assert_eq!(other.db(2).get("t").unwrap(), None);
    assert_eq!(other.db(2).zscore("z", "m").unwrap(), Some(f64::INFINITY));
    // From a file; the dataset is replaced, not merged.
    let path = std::env::temp_dir().join(format!("sedis-embed-{}.rdb", std::process::id()));
    std::fs::write(&path, &dump).unwrap();
    other.db(0).set("extra", "x").unwrap();
    assert_eq!(other.load_rdb(&path).unwrap(), 5);
    assert_eq!(other.db(0).get("extra").unwrap(), None);
    std::fs::remove_file(&path).unwrap();
    assert!(other.load_rdb_bytes(b"not a dump").is_err());
    other.flush_all().unwrap();
    assert_eq!(other.db(2).dbsize().unwrap(), 0);
}

#[test]
fn faults_fail_commands_until_spent_or_cleared() {
    let server = Embedded::builder().listen().start().unwrap();
    let mut c = server.client();
    server.fail_next(2, "ERR injected");
    assert_eq!(
        c.call(&["PING"]).unwrap(),
        Frame::Error(b"ERR injected".to_vec())
    );
    let mut tcp = server.connect().unwrap();
    let err = tcp.get("k").unwrap_err();
    assert_eq!(err.to_string(), "ERR injected", "TCP clients too");
    assert_eq!(c.call(&["PING"]).unwrap(), Frame::Simple(b"PONG".to_vec()));
    // Seeding is never failed.
    server.fail_all("READONLY You can't write against a read only replica.");
    server.db(0).set("k", "v").unwrap();
    assert!(c.call(&["GET", "k"]).unwrap().is_error());
    server.clear_faults();
    server.fail_command("get", "ERR get fails");
    assert!(c.call(&["GET", "k"]).unwrap().is_error());
    assert!(c.call(&["GET", "k"]).unwrap().is_error());
    assert_eq!(c.call(&["STRLEN", "k"]).unwrap(), Frame::Integer(1));
    // Inside MULTI the failed command aborts the transaction.
    c.call(&["MULTI"]).unwrap();
    c.call(&["GET", "k"]).unwrap();
    assert!(matches!(c.call(&["EXEC"]).unwrap(), Frame::Error(e) if e.starts_with(b"EXECABORT")));
    server.clear_faults();
    assert_eq!(c.call(&["GET", "k"]).unwrap(), bulk("v"));
    // errorstats count what clients were sent.
    let info = c.call(&["INFO", "errorstats"]).unwrap();
    assert!(String::from_utf8_lossy(info.as_bytes().unwrap()).contains("errorstat_ERR:count="));
}

#[test]
fn a_full_disk_fails_saves_and_then_writes() {
    let dir = std::env::temp_dir().join(format!("sedis-embed-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Embedded::builder()
        .configure(|c| {
            c.dir = dir.display().to_string();
            c.save = vec![(3600, 1)];
        })
        .start()
        .unwrap();
    let mut c = server.client();
    server.set_disk_full(true);
    assert!(c.call(&["SAVE"]).unwrap().is_error());
    assert!(!dir.join("dump.rdb").exists());
    // BGSAVE fails in the background; then writes are refused (MISCONF).
    assert_eq!(
        c.call(&["BGSAVE"]).unwrap(),
        Frame::Simple(b"Background saving started".to_vec())
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reply = c.call(&["SET", "k", "v"]).unwrap();
        if let Frame::Error(e) = &reply {
            assert!(e.starts_with(b"MISCONF"), "{reply:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "writes never refused");
        std::thread::yield_now();
    }
    server.set_disk_full(false);
    assert_eq!(c.call(&["SAVE"]).unwrap(), ok());
    assert!(dir.join("dump.rdb").exists());
    assert_eq!(c.call(&["SET", "k", "v"]).unwrap(), ok());
    drop(c);
    server.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With the append-only file on, a full disk leaves a write unacknowledged
/// (the client is closed, as a socket client is), later writes get MISCONF,
/// and once the disk has room the everysec flush catches up and writes are
/// accepted again, the unacknowledged one included in the file.
#[test]
fn a_full_disk_fails_append_only_writes() {
    let dir = std::env::temp_dir().join(format!("sedis-embed-aof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Embedded::builder()
        .configure(|c| {
            c.dir = dir.display().to_string();
            c.appendonly = true;
        })
        .start()
        .unwrap();
    let mut c = server.client();
    assert_eq!(c.call(&["SET", "before", "1"]).unwrap(), ok());
    server.set_disk_full(true);
    assert!(
        c.call(&["SET", "during", "1"]).is_err(),
        "no acknowledgement"
    );
    let mut d = server.client();
    match d.call(&["SET", "refused", "1"]).unwrap() {
        Frame::Error(e) => assert!(
            e.starts_with(b"MISCONF Errors writing to the AOF file: No space left on device"),
            "{}",
            String::from_utf8_lossy(&e)
        ),
        other => panic!("{other:?}"),
    }
    server.set_disk_full(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d.call(&["SET", "after", "1"]).unwrap() != ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "writes never accepted again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop((c, d));
    server.shutdown().unwrap();
    let mut logged = String::new();
    for entry in std::fs::read_dir(dir.join("appendonlydir")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "aof") {
            logged.push_str(&String::from_utf8_lossy(&std::fs::read(path).unwrap()));
        }
    }
    for key in ["before", "during", "after"] {
        assert!(logged.contains(key), "{key} is in the file");
    }
    assert!(!logged.contains("refused"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn disconnect_all_drops_socket_and_in_process_clients() {
    let server = Embedded::builder().listen().start().unwrap();
    let mut local = server.client();
    let mut tcp = server.connect().unwrap();
    tcp.ping().unwrap();
    std::thread::scope(|scope| {
        let blocked = scope.spawn(|| {
            let mut c = server.client();
            let reply = c.call(&["BLPOP", "k", "0"]);
            (reply.is_err(), c.call(&["PING"]).is_err())
        });
        until_blocked(&server, 1);
        assert_eq!(server.disconnect_all(), 3);
        assert_eq!(blocked.join().unwrap(), (true, true));
    });
    assert!(local.call(&["PING"]).is_err());
    assert!(tcp.ping().is_err());
    // New clients are served.
    assert_eq!(
        server.client().call(&["PING"]).unwrap(),
        Frame::Simple(b"PONG".to_vec())
    );
}

/// The draws of the random-member commands and RANDOMKEY, for one client.
fn draws(server: &Embedded) -> Vec<Frame> {
    let db = server.db(0);
    db.sadd("s", (0..50).map(|i| i.to_string())).unwrap();
    for i in 0..50 {
        db.hset("h", i.to_string(), "v").unwrap();
        db.zadd("z", f64::from(i), i.to_string()).unwrap();
        db.set(format!("key:{i}"), "v").unwrap();
    }
    let mut c: LocalClient = server.client();
    let mut out = Vec::new();
    for _ in 0..5 {
        out.push(c.call(&["SRANDMEMBER", "s", "3"]).unwrap());
        out.push(c.call(&["HRANDFIELD", "h", "3"]).unwrap());
        out.push(c.call(&["ZRANDMEMBER", "z", "3"]).unwrap());
        out.push(c.call(&["RANDOMKEY"]).unwrap());
        out.push(c.call(&["SPOP", "s"]).unwrap());
    }
    out
}

#[test]
fn a_seed_makes_random_choices_repeat() {
    let a = draws(&Embedded::builder().seed(42).start().unwrap());
    let b = draws(&Embedded::builder().seed(42).start().unwrap());
    let c = draws(&Embedded::builder().seed(43).start().unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn many_servers_run_side_by_side() {
    let servers: Vec<Embedded> = (0..8).map(|_| Embedded::start().unwrap()).collect();
    for (i, server) in servers.iter().enumerate() {
        server.db(0).set("who", i.to_string()).unwrap();
    }
    for (i, server) in servers.iter().enumerate() {
        assert_eq!(
            server.db(0).get("who").unwrap(),
            Some(i.to_string().into_bytes())
        );
    }
}

#[test]
fn the_redis_crate_talks_to_an_embedded_server() {
    let server = Embedded::builder().listen().start().unwrap();
    let addr = server.addr().unwrap();
    let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let mut conn = client.get_connection().unwrap();
    let _: () = redis::cmd("SET").arg("k").arg(5).query(&mut conn).unwrap();
    let n: i64 = redis::cmd("INCR").arg("k").query(&mut conn).unwrap();
    assert_eq!(n, 6);
    assert_eq!(server.db(0).get("k").unwrap(), Some(b"6".to_vec()));
    server.fail_command("incr", "ERR injected");
    let err = redis::cmd("INCR")
        .arg("k")
        .query::<i64>(&mut conn)
        .unwrap_err();
    assert!(err.to_string().contains("injected"), "{err}");
}

#[test]
fn client_kill_ends_an_in_process_clients_wait() {
    let server = Embedded::start().unwrap();
    std::thread::scope(|scope| {
        let mut blocked = server.client();
        let blocked_id = blocked.id().to_string();
        let waiting = scope.spawn(move || blocked.call(&["BLPOP", "k", "0"]).is_err());
        let mut subscriber = server.client();
        let subscriber_id = subscriber.id().to_string();
        subscriber.call(&["SUBSCRIBE", "c"]).unwrap();
        let listening = scope.spawn(move || subscriber.next_message(None).is_err());
        until_blocked(&server, 1);
        let mut admin = server.client();
        for id in [&blocked_id, &subscriber_id] {
            assert_eq!(
                admin.call(&["CLIENT", "KILL", "ID", id]).unwrap(),
                Frame::Integer(1)
            );
        }
        assert!(waiting.join().unwrap(), "the blocked call fails");
        assert!(listening.join().unwrap(), "the wait for messages fails");
    });
}

#[test]
fn client_side_caching_invalidates_in_process_clients() {
    let server = Embedded::start().unwrap();
    let mut cached = server.client();
    cached.call(&["HELLO", "3"]).unwrap();
    assert_eq!(cached.call(&["CLIENT", "TRACKING", "ON"]).unwrap(), ok());
    cached.call(&["GET", "k"]).unwrap();
    server.client().call(&["SET", "k", "v"]).unwrap();
    assert_eq!(
        cached.next_message(Some(Duration::from_secs(10))).unwrap(),
        Some(Frame::Push(vec![
            bulk("invalidate"),
            Frame::Array(vec![bulk("k")])
        ]))
    );
    // BCAST: told of every key with the prefix, after the writer's reply.
    let mut bcast = server.client();
    bcast.call(&["HELLO", "3"]).unwrap();
    bcast
        .call(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:"])
        .unwrap();
    server.client().call(&["SET", "user:1", "x"]).unwrap();
    assert_eq!(
        bcast.next_message(Some(Duration::from_secs(10))).unwrap(),
        Some(Frame::Push(vec![
            bulk("invalidate"),
            Frame::Array(vec![bulk("user:1")])
        ]))
    );
}

#[test]
fn a_socket_clients_blocking_timeout_follows_the_manual_clock_too() {
    let server = Embedded::builder().listen().manual_clock().start().unwrap();
    let mut tcp = server.connect().unwrap();
    tcp.send(&["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"])
        .unwrap();
    until_blocked(&server, 1);
    server.advance(Duration::from_millis(4999));
    assert_eq!(blocked_clients(&server), 1, "not yet");
    server.advance(Duration::from_millis(1));
    assert_eq!(tcp.read().unwrap(), Frame::NullArray);
}
