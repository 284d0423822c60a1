//! Connections: the CLIENT command family, authentication, and the
//! server's connection limits (maxclients, timeout, unauthenticated request
//! sizes). Expected bytes are Redis 7.0.15's.

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, eventually, text};
use sedis::Frame;

/// A CLIENT LIST line as (field, value) pairs, in order.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("field=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

/// The lines of CLIENT LIST (or CLIENT INFO), each ending in "\n".
fn lines(list: &str) -> Vec<Vec<(String, String)>> {
    assert!(list.ends_with('\n'), "{list:?}");
    list.lines().map(fields).collect()
}

const FIELD_ORDER: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
];

#[test]
fn client_id_and_names() {
    let server = TestServer::start();
    let mut c = server.raw();
    let id = c.client_id();
    assert!(id > 0);
    let mut other = server.raw();
    assert!(other.client_id() > id, "ids grow");
    assert_reply!(c, ["CLIENT", "GETNAME"], b"$-1\r\n");
    assert_reply!(c, ["CLIENT", "SETNAME", "worker-1"], b"+OK\r\n");
    assert_reply!(c, ["CLIENT", "GETNAME"], b"$8\r\nworker-1\r\n");
    assert_reply!(
        c,
        ["CLIENT", "SETNAME", "a b"],
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_reply!(c, ["CLIENT", "GETNAME"], b"$8\r\nworker-1\r\n");
    assert_reply!(c, ["CLIENT", "SETNAME", ""], b"+OK\r\n");
    assert_reply!(c, ["CLIENT", "GETNAME"], b"$-1\r\n");
    c.call(&["HELLO", "3"]);
    assert_reply!(c, ["CLIENT", "GETNAME"], b"_\r\n");
    assert_reply!(
        c,
        ["CLIENT", "SETNAME"],
        b"-ERR wrong number of arguments for 'client|setname' command\r\n"
    );
    assert_reply!(
        c,
        ["CLIENT", "foo"],
        b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    );
}

#[test]
fn client_list_shows_every_connection_in_redis_format() {
    let server = TestServer::start();
    let mut me = server.raw();
    let mut other = server.raw();
    let other_id = other.client_id();
    assert_reply!(other, ["CLIENT", "SETNAME", "other"], b"+OK\r\n");
    assert_reply!(other, ["SELECT", "3"], b"+OK\r\n");
    // A request still arriving shows in the query buffer.
    other.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc");
    let my_id = me.client_id();

    let list = lines(&text(me.frame(&["CLIENT", "LIST"])));
    assert_eq!(list.len(), 2);
    for line in &list {
        let names: Vec<&str> = line.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, FIELD_ORDER);
        assert_eq!(field(line, "laddr"), server.addr.to_string());
        assert_eq!(field(line, "user"), "default");
        assert_eq!(field(line, "events"), "r");
        assert_eq!(field(line, "redir"), "-1");
        assert_eq!(field(line, "resp"), "2");
    }
    let mine = list
        .iter()
        .find(|l| field(l, "id") == my_id.to_string())
        .unwrap();
    assert_eq!(
        field(mine, "addr"),
        me.stream().local_addr().unwrap().to_string()
    );
    assert_eq!(field(mine, "name"), "");
    assert_eq!(field(mine, "flags"), "N");
    assert_eq!(field(mine, "db"), "0");
    assert_eq!(field(mine, "multi"), "-1");
    assert_eq!(field(mine, "cmd"), "client|list");
    // While it runs, the command is still in the query buffer, and its
    // arguments are held: as Redis shows it.
    assert_eq!(field(mine, "qbuf"), "26");
    assert_eq!(field(mine, "argv-mem"), "10");

    let theirs = list
        .iter()
        .find(|l| field(l, "id") == other_id.to_string())
        .unwrap();
    assert_eq!(field(theirs, "name"), "other");
    assert_eq!(field(theirs, "db"), "3");
    assert_eq!(field(theirs, "flags"), "N");
    assert_eq!(field(theirs, "multi"), "-1");
    assert_eq!(field(theirs, "multi-mem"), "0");
    assert_eq!(field(theirs, "cmd"), "select");
    assert_eq!(field(theirs, "argv-mem"), "0");
    assert_eq!(field(theirs, "idle"), "0");
    // The partial request: every byte of it that has arrived.
    eventually("the partial request to show", || {
        let list = text(me.frame(&["CLIENT", "LIST", "ID", &other_id.to_string()]));
        field(&lines(&list)[0], "qbuf") == "29"
    });
    // Completing it runs it.
    other.send(&[b'x'; 97]);
    other.send(b"\r\n");
    assert_eq!(other.read_raw(), b"+OK\r\n");
    let list = text(me.frame(&["CLIENT", "LIST", "ID", &other_id.to_string()]));
    assert_eq!(field(&lines(&list)[0], "qbuf"), "0");
    assert_eq!(field(&lines(&list)[0], "cmd"), "set");
}

#[test]
fn client_list_filters_by_type_and_id() {
    let server = TestServer::start();
    let mut me = server.raw();
    let mut other = server.raw();
    let other_id = other.client_id();
    let my_id = me.client_id();
    assert_eq!(
        lines(&text(me.frame(&["CLIENT", "LIST", "TYPE", "normal"]))).len(),
        2
    );
    assert_reply!(me, ["CLIENT", "LIST", "TYPE", "pubsub"], b"$0\r\n\r\n");
    assert_reply!(me, ["CLIENT", "LIST", "TYPE", "master"], b"$0\r\n\r\n");
    assert_reply!(
        me,
        ["CLIENT", "LIST", "TYPE", "foo"],
        b"-ERR Unknown client type 'foo'\r\n"
    );
    let only = lines(&text(me.frame(&[
        "CLIENT",
        "LIST",
        "ID",
        &other_id.to_string(),
        "999999",
    ])));
    assert_eq!(only.len(), 1);
    assert_eq!(field(&only[0], "id"), other_id.to_string());
    let both = lines(&text(me.frame(&[
        "CLIENT",
        "LIST",
        "ID",
        &my_id.to_string(),
        &other_id.to_string(),
    ])));
    assert_eq!(both.len(), 2);
    assert_reply!(
        me,
        ["CLIENT", "LIST", "ID", "x"],
        b"-ERR Invalid client ID\r\n"
    );
    assert_reply!(me, ["CLIENT", "LIST", "ID"], b"-ERR syntax error\r\n");
    assert_reply!(me, ["CLIENT", "LIST", "foo"], b"-ERR syntax error\r\n");
}

#[test]
fn client_info_is_the_callers_line() {
    let server = TestServer::start();
    let mut c = server.raw();
    let id = c.client_id();
    c.send(b"CLIENT INFO\r\n");
    let info = text(c.read());
    let line = lines(&info);
    assert_eq!(line.len(), 1);
    assert_eq!(field(&line[0], "id"), id.to_string());
    assert_eq!(field(&line[0], "cmd"), "client|info");
    // An inline request: "CLIENT INFO\r\n".
    assert_eq!(field(&line[0], "qbuf"), "13");
    c.call(&["HELLO", "3"]);
    c.cmd(&["CLIENT", "INFO"]);
    match c.read() {
        Frame::Verbatim { format, text } => {
            assert_eq!(format, b"txt");
            assert!(text.ends_with(b" resp=3 lib-name= lib-ver=\n"));
        }
        other => panic!("expected a verbatim string, got {other:?}"),
    }
}

#[test]
fn client_setinfo_sets_library_fields() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["CLIENT", "SETINFO", "LIB-NAME", "redis-py"], b"+OK\r\n");
    assert_reply!(c, ["CLIENT", "SETINFO", "lib-ver", "5.0.1"], b"+OK\r\n");
    let line = text(c.frame(&["CLIENT", "INFO"]));
    assert!(
        line.ends_with(" lib-name=redis-py lib-ver=5.0.1\n"),
        "{line}"
    );
    assert_reply!(
        c,
        ["CLIENT", "SETINFO", "foo", "x"],
        b"-ERR Unrecognized option 'foo'\r\n"
    );
    assert_reply!(
        c,
        ["CLIENT", "SETINFO", "Lib-Name", "a b"],
        b"-ERR Lib-Name cannot contain spaces, newlines or special characters.\r\n"
    );
    // Another connection sees the values too.
    let mut other = server.raw();
    let list = text(other.frame(&["CLIENT", "LIST"]));
    assert!(
        list.contains(" lib-name=redis-py lib-ver=5.0.1\n"),
        "{list}"
    );
}

/// The value of `key` in a HELLO reply (a RESP3 map or a RESP2 array).
fn hello_field(reply: &Frame, key: &str) -> Frame {
    let pairs: Vec<(Frame, Frame)> = match reply {
        Frame::Map(pairs) => pairs.clone(),
        Frame::Array(items) => items
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect(),
        other => panic!("HELLO replied {other:?}"),
    };
    pairs
        .into_iter()
        .find(|(k, _)| k.as_bytes() == Some(key.as_bytes()))
        .unwrap_or_else(|| panic!("HELLO reply has no {key}"))
        .1
}

/// go-redis 9 and Lettuce 6 are not installable here (no Go module proxy,
/// no Maven), so their connection handshakes are replayed as they send
/// them: `HELLO 3 AUTH user pass SETNAME name`, then pipelined `SELECT` and
/// `CLIENT SETINFO` (and, from Lettuce, a `CLIENT MAINT_NOTIFICATIONS` whose
/// error it ignores); with RESP2 forced, Lettuce sends `AUTH` and
/// `CLIENT SETNAME` instead.
#[test]
fn go_redis_and_lettuce_handshakes_succeed() {
    let server = TestServer::with_config(|c| c.requirepass = "pw".into());

    let mut go = server.raw();
    go.cmd(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "go-app"]);
    let hello = go.read();
    assert_eq!(hello_field(&hello, "proto"), Frame::Integer(3));
    assert_eq!(
        hello_field(&hello, "server").as_bytes(),
        Some(&b"redis"[..])
    );
    assert_eq!(
        hello_field(&hello, "version").as_bytes(),
        Some(&b"7.0.15"[..])
    );
    assert!(matches!(hello_field(&hello, "id"), Frame::Integer(_)));
    go.cmd(&["SELECT", "2"]);
    go.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.22.1)"]);
    go.cmd(&["CLIENT", "SETINFO", "LIB-VER", "9.7.0"]);
    for _ in 0..3 {
        assert_eq!(go.read(), Frame::Simple(b"OK".to_vec()));
    }
    let info = text(go.frame(&["CLIENT", "INFO"]));
    for part in [
        " name=go-app ",
        " db=2 ",
        " resp=3 ",
        " lib-name=go-redis(,go1.22.1) lib-ver=9.7.0",
    ] {
        assert!(info.contains(part), "{part} in {info}");
    }

    let mut lettuce = server.raw();
    lettuce.cmd(&[
        "HELLO",
        "3",
        "AUTH",
        "default",
        "pw",
        "SETNAME",
        "lettuce-app",
    ]);
    assert_eq!(hello_field(&lettuce.read(), "proto"), Frame::Integer(3));
    lettuce.cmd(&["CLIENT", "SETINFO", "lib-name", "Lettuce"]);
    lettuce.cmd(&["CLIENT", "SETINFO", "lib-ver", "6.5.0.RELEASE"]);
    lettuce.cmd(&[
        "CLIENT",
        "MAINT_NOTIFICATIONS",
        "on",
        "moving-endpoint-type",
        "internal-ip",
    ]);
    assert_eq!(lettuce.read(), Frame::Simple(b"OK".to_vec()));
    assert_eq!(lettuce.read(), Frame::Simple(b"OK".to_vec()));
    assert_eq!(
        lettuce.read(),
        Frame::Error(b"ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.".to_vec())
    );
    assert_reply!(lettuce, ["SET", "k", "v"], b"+OK\r\n");

    let mut resp2 = server.raw();
    assert_reply!(resp2, ["AUTH", "pw"], b"+OK\r\n");
    assert_reply!(resp2, ["CLIENT", "SETNAME", "lettuce-resp2"], b"+OK\r\n");
    assert_reply!(resp2, ["GET", "k"], b"$1\r\nv\r\n");
}

#[test]
fn the_redis_crate_connects_and_reads_client_info() {
    let server = TestServer::start();
    let mut c = server.client();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("crate")
        .query(&mut c)
        .unwrap();
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
    assert!(info.contains(" name=crate "), "{info}");
}

#[test]
fn client_kill_old_form_by_address() {
    let server = TestServer::start();
    let mut me = server.raw();
    let mut victim = server.raw();
    assert_reply!(victim, ["PING"], b"+PONG\r\n");
    let addr = victim.stream().local_addr().unwrap().to_string();
    assert_reply!(me, ["CLIENT", "KILL", &addr], b"+OK\r\n");
    assert_eq!(victim.read_to_close(), b"");
    assert_reply!(
        me,
        ["CLIENT", "KILL", "10.1.2.3:4"],
        b"-ERR No such client\r\n"
    );
    // The old form may kill the caller: the reply still arrives.
    let own = me.stream().local_addr().unwrap().to_string();
    me.cmd(&["CLIENT", "KILL", &own]);
    assert_eq!(me.read_to_close(), b"+OK\r\n");
}

#[test]
fn client_kill_filters() {
    let server = TestServer::start();
    let mut me = server.raw();
    let my_id = me.client_id().to_string();
    let mut victim = server.raw();
    let victim_id = victim.client_id().to_string();

    // The caller is skipped by default.
    assert_reply!(me, ["CLIENT", "KILL", "ID", &my_id], b":0\r\n");
    // Nobody here is older than a day.
    assert_reply!(me, ["CLIENT", "KILL", "MAXAGE", "86400"], b":0\r\n");
    assert_reply!(
        me,
        [
            "CLIENT", "KILL", "ID", &victim_id, "TYPE", "normal", "USER", "default"
        ],
        b":1\r\n"
    );
    assert_eq!(victim.read_to_close(), b"");

    let mut second = server.raw();
    assert_reply!(second, ["PING"], b"+PONG\r\n");
    let second_laddr = second.stream().peer_addr().unwrap().to_string();
    eventually("the killed client to leave", || {
        text(me.frame(&["CLIENT", "LIST"])).lines().count() == 2
    });
    // LADDR matches every client of this listener; SKIPME keeps the caller.
    assert_reply!(
        me,
        ["CLIENT", "KILL", "LADDR", &second_laddr, "SKIPME", "yes"],
        b":1\r\n"
    );
    assert_eq!(second.read_to_close(), b"");

    for (args, error) in [
        (
            vec!["ID", "0"],
            &b"-ERR client-id should be greater than 0\r\n"[..],
        ),
        (
            vec!["ID", "x"],
            b"-ERR client-id should be greater than 0\r\n",
        ),
        (vec!["TYPE", "foo"], b"-ERR Unknown client type 'foo'\r\n"),
        (vec!["USER", "bob"], b"-ERR No such user 'bob'\r\n"),
        (vec!["SKIPME", "maybe"], b"-ERR syntax error\r\n"),
        (vec!["foo", "bar"], b"-ERR syntax error\r\n"),
        (vec!["ID", "5", "SKIPME"], b"-ERR syntax error\r\n"),
        (
            vec!["MAXAGE", "x"],
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (
            vec!["MAXAGE", "-1"],
            b"-ERR maxage should be greater than 0\r\n",
        ),
    ] {
        let mut full = vec!["CLIENT", "KILL"];
        full.extend(args);
        assert_eq!(
            String::from_utf8_lossy(&me.call(&full)),
            String::from_utf8_lossy(error),
            "{full:?}"
        );
    }

    // SKIPME NO kills the caller too, after its reply.
    me.cmd(&["CLIENT", "KILL", "ID", &my_id, "SKIPME", "no"]);
    assert_eq!(me.read_to_close(), b":1\r\n");
}

#[test]
fn client_reply_silences_replies() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.cmd(&["CLIENT", "REPLY", "OFF"]);
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["GET", "k"]);
    c.cmd(&["CLIENT", "REPLY", "ON"]);
    // The first reply to arrive is ON's.
    assert_eq!(c.read_raw(), b"+OK\r\n");
    c.cmd(&["CLIENT", "REPLY", "SKIP"]);
    c.cmd(&["ECHO", "skipped"]);
    c.cmd(&["ECHO", "seen"]);
    assert_eq!(c.read_raw(), b"$4\r\nseen\r\n");
    assert_reply!(c, ["CLIENT", "REPLY", "maybe"], b"-ERR syntax error\r\n");
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
}

#[test]
fn client_reply_silences_a_blocked_commands_late_reply() {
    // Redis keeps SKIP (and OFF) until the blocked command has replied: the
    // element it pops is not sent.
    let server = TestServer::start();
    let mut c = server.raw();
    let mut pusher = server.raw();
    let blocked = &server.handle().state().keyspace().blocked;
    c.cmd(&["CLIENT", "REPLY", "SKIP"]);
    c.cmd(&["BLPOP", "q", "0"]);
    eventually("BLPOP to block", || blocked.count() == 1);
    assert_eq!(pusher.call(&["RPUSH", "q", "a"]), b":1\r\n");
    eventually("BLPOP to be served", || blocked.count() == 0);
    assert_reply!(c, ["ECHO", "after skip"], b"$10\r\nafter skip\r\n");

    c.cmd(&["CLIENT", "REPLY", "OFF"]);
    c.cmd(&["BLPOP", "q", "0"]);
    eventually("BLPOP to block", || blocked.count() == 1);
    assert_eq!(pusher.call(&["RPUSH", "q", "b"]), b":1\r\n");
    eventually("BLPOP to be served", || blocked.count() == 0);
    assert_reply!(c, ["CLIENT", "REPLY", "ON"], b"+OK\r\n");
    assert_reply!(c, ["LLEN", "q"], b":0\r\n");
}

#[test]
fn client_no_evict_sets_the_flag() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["CLIENT", "NO-EVICT", "on"], b"+OK\r\n");
    let line = lines(&text(c.frame(&["CLIENT", "INFO"])));
    assert_eq!(field(&line[0], "flags"), "e");
    assert_reply!(c, ["CLIENT", "NO-EVICT", "OFF"], b"+OK\r\n");
    let line = lines(&text(c.frame(&["CLIENT", "INFO"])));
    assert_eq!(field(&line[0], "flags"), "N");
    assert_reply!(c, ["CLIENT", "NO-EVICT", "maybe"], b"-ERR syntax error\r\n");
}

#[test]
fn client_help_has_redis_header_and_footer() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.cmd(&["client", "help"]);
    let Frame::Array(lines) = c.read() else {
        panic!("HELP replies an array")
    };
    let lines: Vec<String> = lines.into_iter().map(text).collect();
    assert_eq!(
        lines[0],
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert!(lines.contains(&"KILL <ip:port>".to_string()));
    assert_eq!(lines[lines.len() - 2], "HELP");
    assert_eq!(lines[lines.len() - 1], "    Prints this help.");
}

#[test]
fn a_client_that_never_authenticates_can_only_authenticate_or_leave() {
    let server = TestServer::with_config(|c| c.requirepass = "pw".into());
    let mut c = server.raw();
    for args in [
        &["GET", "k"][..],
        &["PING"],
        &["CLIENT", "ID"],
        &["CONFIG", "GET", "requirepass"],
        &["INFO"],
    ] {
        assert_eq!(
            c.call(args),
            b"-NOAUTH Authentication required.\r\n",
            "{args:?}"
        );
    }
    assert_reply!(
        c,
        ["HELLO", "3"],
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
    );
    assert_reply!(
        c,
        ["AUTH", "wrong"],
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_reply!(
        c,
        ["HELLO", "2", "AUTH", "default", "wrong"],
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    let mut leaving = server.raw();
    leaving.cmd(&["QUIT"]);
    assert_eq!(leaving.read_to_close(), b"+OK\r\n");

    assert_reply!(c, ["AUTH", "pw"], b"+OK\r\n");
    let stats = text(c.frame(&["INFO", "stats"]));
    assert!(
        stats.contains("\r\nacl_access_denied_auth:2\r\n"),
        "{stats}"
    );
    let errors = text(c.frame(&["INFO", "errorstats"]));
    assert!(errors.contains("errorstat_NOAUTH:count=6\r\n"), "{errors}");
    assert!(
        errors.contains("errorstat_WRONGPASS:count=2\r\n"),
        "{errors}"
    );
}

#[test]
fn unauthenticated_requests_are_size_limited() {
    let server = TestServer::with_config(|c| c.requirepass = "pw".into());
    let mut c = server.raw();
    c.send(b"*11\r\n");
    assert_eq!(
        c.read_to_close(),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut c = server.raw();
    c.send(b"*1\r\n$16385\r\n");
    assert_eq!(
        c.read_to_close(),
        b"-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    // Once authenticated, the same requests are fine.
    let mut c = server.raw();
    assert_reply!(c, ["AUTH", "pw"], b"+OK\r\n");
    let big = "x".repeat(16385);
    assert_reply!(c, ["SET", "k", &big], b"+OK\r\n");
    let many: Vec<&str> = std::iter::once("DEL").chain(["k"; 11]).collect();
    assert_eq!(c.call(&many), b":1\r\n");
}

#[test]
fn maxclients_rejects_the_extra_client_until_one_leaves() {
    let server = TestServer::with_config(|c| c.maxclients = 2);
    let mut first = server.raw();
    let mut second = server.raw();
    assert_reply!(first, ["PING"], b"+PONG\r\n");
    assert_reply!(second, ["PING"], b"+PONG\r\n");
    let mut third = server.raw();
    assert_eq!(
        third.read_to_close(),
        b"-ERR max number of clients reached\r\n"
    );
    let stats = text(first.frame(&["INFO", "stats"]));
    assert!(stats.contains("\r\nrejected_connections:1\r\n"), "{stats}");

    drop(second);
    // The slot is free once the server has seen the client go.
    eventually("a free slot", || {
        let mut c = server.raw();
        c.cmd(&["PING"]);
        c.read_raw() == b"+PONG\r\n"
    });
}

#[test]
fn maxclients_can_be_lowered_at_run_time() {
    let server = TestServer::start();
    let mut admin = server.raw();
    assert_reply!(admin, ["CONFIG", "SET", "maxclients", "1"], b"+OK\r\n");
    let mut extra = server.raw();
    assert_eq!(
        extra.read_to_close(),
        b"-ERR max number of clients reached\r\n"
    );
    // Existing connections are kept.
    assert_reply!(admin, ["PING"], b"+PONG\r\n");
}

#[test]
fn timeout_closes_idle_clients() {
    let server = TestServer::with_config(|c| c.timeout = 1);
    let mut idle = server.raw();
    assert_reply!(idle, ["PING"], b"+PONG\r\n");
    let started = Instant::now();
    assert_eq!(idle.read_to_close(), b"");
    assert!(started.elapsed() >= Duration::from_millis(900));
    let stats = text(server.raw().frame(&["INFO", "clients"]));
    assert!(stats.contains("connected_clients:1\r\n"), "{stats}");
}

#[test]
fn connection_counters_follow_clients() {
    let server = TestServer::start();
    let mut c = server.raw();
    {
        let mut other = server.raw();
        assert_reply!(other, ["PING"], b"+PONG\r\n");
        let clients = text(c.frame(&["INFO", "clients"]));
        assert!(clients.contains("\r\nconnected_clients:2\r\n"), "{clients}");
    }
    eventually("the client to be gone", || {
        text(c.frame(&["INFO", "clients"])).contains("\r\nconnected_clients:1\r\n")
    });
    let stats = text(c.frame(&["INFO", "stats"]));
    assert!(
        stats.contains("\r\ntotal_connections_received:2\r\n"),
        "{stats}"
    );
}
