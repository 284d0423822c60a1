//! The replication handshake on a master: REPLCONF's options and errors,
//! SYNC for a plain replica, and SYNC / PSYNC for a client that asked for
//! the RDB alone (`redis-cli --rdb`): the snapshot arrives as `$<length>`
//! and the RDB bytes, loads back into a server, and the connection then
//! closes. Replication between real servers is in the compat suite.

mod common;

use common::{TestServer, temp_dir};

#[test]
fn replconf_checks_its_options_as_redis_does() {
    let server = TestServer::start();
    let mut c = server.raw();
    for (args, reply) in [
        (&["REPLCONF"][..], &b"+OK\r\n"[..]),
        (&["REPLCONF", "capa"], b"-ERR syntax error\r\n"),
        (&["REPLCONF", "capa", "eof", "capa", "psync2"], b"+OK\r\n"),
        (&["REPLCONF", "listening-port", "6380"], b"+OK\r\n"),
        (
            &["REPLCONF", "listening-port", "x"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["REPLCONF", "rdb-only", "2"],
            b"-ERR value is out of range, value must between 0 and 1\r\n",
        ),
        (
            &["REPLCONF", "rdb-filter-only", "functions keys"],
            b"-ERR Unsupported rdb-filter-only option: keys\r\n",
        ),
        (
            &["REPLCONF", "nosuch", "1"],
            b"-ERR Unrecognized REPLCONF option: nosuch\r\n",
        ),
    ] {
        assert_eq!(c.call(args), reply, "{args:?}");
    }
    // ACK from a client that is no replica: no reply at all.
    c.cmd(&["REPLCONF", "ACK", "10"]);
    assert_eq!(c.call(&["PING"]), b"+PONG\r\n");
    // Without rdb-only, SYNC makes the connection a replica: the RDB in
    // the disk form, then the command stream, starting with a SELECT.
    c.cmd(&["SYNC"]);
    // Nothing else is buffered: the earlier replies were read whole.
    let mut socket = c.stream().try_clone().unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n") {
        let mut byte = [0u8];
        std::io::Read::read_exact(&mut socket, &mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"$"), "{head:?}");
}

#[test]
fn an_rdb_only_sync_sends_a_snapshot_that_loads_back() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["SET", "s", "v"]);
    c.call(&["RPUSH", "l", "a", "b"]);
    c.call(&["SELECT", "3"]);
    c.call(&["SET", "in3", "x", "EX", "1000"]);
    assert_eq!(
        c.call(&["REPLCONF", "capa", "eof", "rdb-only", "1"]),
        b"+OK\r\n"
    );
    c.cmd(&["PSYNC", "?", "-1"]);
    let reply = c.read_to_close();
    let replid = server.handle().state().replid();
    let head = format!("+FULLRESYNC {replid} 0\r\n$");
    assert!(
        reply.starts_with(head.as_bytes()),
        "{:?}",
        &reply[..60.min(reply.len())]
    );
    let rest = &reply[head.len()..];
    let newline = rest.iter().position(|&b| b == b'\n').unwrap();
    let len: usize = std::str::from_utf8(&rest[..newline - 1])
        .unwrap()
        .parse()
        .unwrap();
    let rdb = &rest[newline + 1..];
    assert_eq!(rdb.len(), len, "the RDB, with nothing after it");
    assert!(rdb.starts_with(b"REDIS0010"));

    let dir = temp_dir("replication-rdb");
    std::fs::write(dir.join("dump.rdb"), rdb).unwrap();
    let loaded = TestServer::with_config(|cfg| cfg.dir = dir.to_string_lossy().into_owned());
    let mut l = loaded.raw();
    assert_eq!(l.call(&["GET", "s"]), b"$1\r\nv\r\n");
    assert_eq!(
        l.call(&["LRANGE", "l", "0", "-1"]),
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    l.call(&["SELECT", "3"]);
    assert_eq!(l.call(&["GET", "in3"]), b"$1\r\nx\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_functions_only_filter_leaves_the_keys_out() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["SET", "s", "v"]);
    let mut with_keys = server.raw();
    with_keys.call(&["REPLCONF", "rdb-only", "1"]);
    with_keys.cmd(&["SYNC"]);
    let full = with_keys.read_to_close();
    c.call(&["REPLCONF", "rdb-only", "1", "rdb-filter-only", ""]);
    c.cmd(&["SYNC"]);
    let empty = c.read_to_close();
    assert!(full.starts_with(b"$") && empty.starts_with(b"$"));
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(contains(&full, b"\x01s\x01v"), "the key is in the full RDB");
    assert!(
        !contains(&empty, b"\x01s\x01v"),
        "and not in the filtered one"
    );
}

/// A replica whose master is out of reach, with `replica-serve-stale-data
/// no`, answers MASTERDOWN to data commands and still answers INFO.
#[test]
fn a_stale_replica_can_refuse_to_serve() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let replica = TestServer::with_config(|c| {
        c.replicaof = Some(("127.0.0.1".into(), port));
        c.replica_serve_stale_data = false;
        c.dir = temp_dir("stale-replica").to_string_lossy().into_owned();
    });
    let mut c = replica.raw();
    assert_eq!(
        c.call(&["GET", "k"]),
        b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
    );
    assert!(c.call(&["INFO", "replication"]).starts_with(b"$"));
    assert_eq!(
        c.call(&["CONFIG", "SET", "replica-serve-stale-data", "yes"]),
        b"+OK\r\n"
    );
    assert_eq!(c.call(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(
        c.call(&["SET", "k", "v"]),
        b"-READONLY You can't write against a read only replica.\r\n"
    );
    let role = c.call(&["ROLE"]);
    let expected = format!("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{port}\r\n");
    assert!(role.starts_with(expected.as_bytes()), "{role:?}");
    assert_eq!(
        c.call(&["WAIT", "1", "0"]).get(..31),
        Some(&b"-ERR WAIT cannot be used with r"[..])
    );
}

/// `min-replicas-to-write`: writes are refused until enough replicas are
/// connected and have acknowledged recently.
#[test]
fn writes_wait_for_enough_good_replicas() {
    let master = TestServer::with_config(|c| {
        c.min_replicas_to_write = 1;
        c.min_replicas_max_lag = 10;
    });
    let mut m = master.raw();
    assert_eq!(
        m.call(&["SET", "k", "v"]),
        b"-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    assert_eq!(m.call(&["GET", "k"]), b"$-1\r\n");
    let port = master.addr.port();
    let replica = TestServer::with_config(|c| {
        c.replicaof = Some(("127.0.0.1".into(), port));
        c.dir = temp_dir("good-replica").to_string_lossy().into_owned();
    });
    common::eventually("the replica to come online", || {
        m.call(&["SET", "k", "v"]) == b"+OK\r\n"
    });
    let mut r = replica.raw();
    common::eventually("the write to reach the replica", || {
        r.call(&["GET", "k"]) == b"$1\r\nv\r\n"
    });
    assert_eq!(m.call(&["WAIT", "1", "0"]), b":1\r\n");
}

/// What Sentinel sends to reconfigure a server is accepted at queue time
/// (a refused command would abort the transaction and the failover with
/// it), and the server follows its new master after EXEC.
#[test]
fn sentinels_reconfiguration_transaction_is_queued_whole() {
    let master = TestServer::start();
    let port = master.addr.port().to_string();
    let server = TestServer::with_config(|c| {
        c.dir = temp_dir("sentinel-tx").to_string_lossy().into_owned();
    });
    let mut c = server.raw();
    assert_eq!(c.call(&["MULTI"]), b"+OK\r\n");
    for cmd in [
        &["SLAVEOF", "127.0.0.1", &port][..],
        &["CONFIG", "REWRITE"],
        &["CLIENT", "KILL", "TYPE", "normal"],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
    ] {
        assert_eq!(c.call(cmd), b"+QUEUED\r\n", "{cmd:?}");
    }
    // The killer is spared (CLIENT KILL's SKIPME defaults to yes), so
    // the transaction's reply arrives, SLAVEOF's OK first; CONFIG REWRITE
    // fails without a config file, which Sentinel ignores.
    let mut bystander = server.raw();
    assert_eq!(bystander.call(&["PING"]), b"+PONG\r\n");
    let exec = c.call(&["EXEC"]);
    assert!(
        exec.starts_with(b"*4\r\n+OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&exec)
    );
    assert_eq!(
        bystander.read_to_close(),
        b"",
        "the normal client is killed"
    );
    let mut other = c;
    common::eventually("the server to follow its master", || {
        String::from_utf8_lossy(&other.call(&["INFO", "replication"]))
            .contains("master_link_status:up")
    });
}
