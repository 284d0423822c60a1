//! Client-side caching across connections: the bytes of invalidation
//! messages (recorded from redis-server 7.0.15) through a RESP2 subscriber
//! redirection and a RESP3 one, a broken redirection, what CLIENT LIST,
//! GETREDIR, TRACKINGINFO and INFO show, invalidations the reaper causes,
//! the table's limit, and a closing client releasing its tracking. The
//! flows a single connection can show are compared with Redis directly
//! in tests/compat/tracking.txt.

mod common;

use common::{Raw, TestServer, eventually, text};
use sedis::Frame;

fn invalidate(key: &str) -> Vec<u8> {
    format!(
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n${}\r\n{key}\r\n",
        key.len()
    )
    .into_bytes()
}

fn resp3(server: &TestServer) -> Raw {
    let mut conn = server.raw();
    conn.frame(&["HELLO", "3"]);
    conn
}

#[test]
fn a_resp2_client_is_told_through_a_subscribed_redirection() {
    let server = TestServer::start();
    let mut listener = server.raw();
    let mut tracker = server.raw();
    let mut writer = server.raw();
    let listener_id = listener.client_id().to_string();
    listener.frame(&["SUBSCRIBE", "__redis__:invalidate"]);
    assert_eq!(
        tracker.call(&["CLIENT", "TRACKING", "on", "REDIRECT", &listener_id]),
        b"+OK\r\n"
    );
    assert_eq!(
        tracker.call(&["CLIENT", "GETREDIR"]),
        format!(":{listener_id}\r\n").into_bytes()
    );
    tracker.call(&["GET", "k"]);
    writer.call(&["SET", "k", "1"]);
    assert_eq!(
        listener.read_raw(),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
    );
    // The tracking client's own write, told through the redirection too.
    tracker.call(&["GET", "k"]);
    assert_eq!(tracker.call(&["SET", "k", "2"]), b"+OK\r\n");
    assert_eq!(
        listener.read_raw(),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
    );
    // A flush: a null in the tracking client's protocol.
    writer.call(&["FLUSHALL"]);
    assert_eq!(
        listener.read_raw(),
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
    );
    let tracker_id = tracker.client_id().to_string();
    let list = text(tracker.frame(&["CLIENT", "LIST", "ID", &tracker_id]));
    assert!(list.contains(" flags=t "), "{list}");
    assert!(list.contains(&format!(" redir={listener_id} ")), "{list}");
}

#[test]
fn a_resp3_redirection_gets_pushes_without_subscribing() {
    let server = TestServer::start();
    let mut target = resp3(&server);
    let mut tracker = server.raw();
    let mut writer = server.raw();
    let target_id = target.client_id().to_string();
    tracker.call(&["CLIENT", "TRACKING", "ON", "REDIRECT", &target_id]);
    tracker.call(&["MGET", "a", "b"]);
    writer.call(&["DEL", "a", "b"]);
    // Nothing was deleted: nothing changed, nothing is sent.
    writer.call(&["MSET", "b", "1", "a", "1"]);
    assert_eq!(target.read_raw(), invalidate("b"));
    assert_eq!(target.read_raw(), invalidate("a"));
}

#[test]
fn a_redirection_to_a_client_that_left_is_reported_broken() {
    let server = TestServer::start();
    let mut target = server.raw();
    let mut tracker = resp3(&server);
    let mut writer = server.raw();
    let target_id = target.client_id();
    tracker.call(&[
        "CLIENT",
        "TRACKING",
        "ON",
        "REDIRECT",
        &target_id.to_string(),
    ]);
    tracker.call(&["GET", "k"]);
    target.call(&["QUIT"]);
    let mut watcher = server.raw();
    eventually("the target is gone", || {
        !text(watcher.frame(&["CLIENT", "LIST"])).contains(&format!("id={target_id} "))
    });
    writer.call(&["SET", "k", "1"]);
    // Others see it at once, before the tracking client runs anything.
    let list = text(writer.frame(&["CLIENT", "LIST"]));
    assert!(list.contains(" flags=tR "), "{list}");
    assert_eq!(
        tracker.read_raw(),
        format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{target_id}\r\n").into_bytes()
    );
    assert_eq!(
        tracker.call(&["CLIENT", "TRACKINGINFO"]),
        format!(
            "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n\
             $8\r\nredirect\r\n:{target_id}\r\n$8\r\nprefixes\r\n*0\r\n"
        )
        .into_bytes()
    );
    let info = text(tracker.frame(&["CLIENT", "INFO"]));
    assert!(info.contains(" flags=tR "), "{info}");
    // Enabling again clears it.
    tracker.call(&["CLIENT", "TRACKING", "ON"]);
    let info = text(tracker.frame(&["CLIENT", "INFO"]));
    assert!(
        info.contains(" flags=t ") && info.contains(" redir=0 "),
        "{info}"
    );
}

#[test]
fn info_counts_clients_keys_items_and_prefixes() {
    let server = TestServer::start();
    let mut a = resp3(&server);
    let mut b = resp3(&server);
    let mut other = server.raw();
    a.call(&["CLIENT", "TRACKING", "ON"]);
    b.call(&["CLIENT", "TRACKING", "ON"]);
    a.call(&["MGET", "x", "y"]);
    b.call(&["GET", "x"]);
    let stats = other.info(&["stats"]);
    assert_eq!(stats.number("tracking_total_keys"), 2);
    assert_eq!(stats.number("tracking_total_items"), 3);
    assert_eq!(stats.number("tracking_total_prefixes"), 0);
    assert_eq!(other.info(&["clients"]).number("tracking_clients"), 2);

    b.call(&["CLIENT", "TRACKING", "OFF"]);
    b.call(&[
        "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p", "PREFIX", "q",
    ]);
    let mut c = resp3(&server);
    c.call(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p"]);
    let stats = other.info(&["stats"]);
    assert_eq!(stats.number("tracking_total_prefixes"), 2);
    assert_eq!(other.info(&["clients"]).number("tracking_clients"), 3);
    let list = text(other.frame(&["CLIENT", "LIST"]));
    assert_eq!(list.matches(" flags=tB ").count(), 2, "{list}");

    // A closing client's tracking is released; keys stay until they change,
    // as in Redis.
    a.call(&["QUIT"]);
    c.call(&["RESET"]);
    eventually("a's tracking is released", || {
        other.info(&["clients"]).number("tracking_clients") == 1
    });
    assert_eq!(other.info(&["stats"]).number("tracking_total_keys"), 2);
    other.call(&["SET", "x", "1"]);
    assert_eq!(other.info(&["stats"]).number("tracking_total_keys"), 1);
    assert_eq!(other.info(&["stats"]).number("tracking_total_prefixes"), 2);
}

#[test]
fn keys_the_reaper_expires_are_invalidated_while_the_client_is_idle() {
    let server = TestServer::start();
    let mut tracker = resp3(&server);
    tracker.call(&["CLIENT", "TRACKING", "ON"]);
    tracker.call(&["SET", "k", "v", "PX", "50"]);
    assert_eq!(tracker.call(&["GET", "k"]), b"$1\r\nv\r\n");
    // No command: the push arrives on its own (read with the connection's
    // timeout, no sleep).
    assert_eq!(tracker.read_raw(), invalidate("k"));
}

#[test]
fn the_table_limit_invalidates_keys_before_the_next_reply() {
    let server = TestServer::start();
    let mut tracker = resp3(&server);
    let mut admin = server.raw();
    admin.call(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    tracker.call(&["CLIENT", "TRACKING", "ON"]);
    tracker.call(&["MGET", "k1", "k2", "k3"]);
    tracker.cmd(&["PING"]);
    let mut pushes = 0;
    loop {
        match tracker.read() {
            Frame::Push(_) => pushes += 1,
            Frame::Simple(pong) => {
                assert_eq!(pong, b"PONG");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pushes, 2);
    assert_eq!(admin.info(&["stats"]).number("tracking_total_keys"), 1);
}

#[test]
fn bcast_messages_follow_the_writers_batch_of_replies() {
    let server = TestServer::start();
    let mut tracker = resp3(&server);
    tracker.call(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"]);
    // A pipeline: both replies, then one message with both keys.
    tracker.send(b"SET a1 1\r\nSET a2 2\r\nSET b 3\r\n");
    for _ in 0..3 {
        assert_eq!(tracker.read_raw(), b"+OK\r\n");
    }
    assert_eq!(
        tracker.read_raw(),
        b">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\na1\r\n$2\r\na2\r\n"
    );
}

#[test]
fn debug_reload_invalidates_everything_as_a_flush_does() {
    let server = TestServer::with_config(|c| {
        c.enable_debug_command = sedis::config::ProtectedAction::Yes;
        c.dir = common::temp_dir("tracking-reload")
            .to_string_lossy()
            .into_owned();
    });
    let mut tracker = resp3(&server);
    let mut writer = server.raw();
    tracker.frame(&["CLIENT", "TRACKING", "on"]);
    tracker.frame(&["GET", "k"]);
    assert_eq!(writer.call(&["DEBUG", "RELOAD"]), b"+OK\r\n");
    // Recorded from redis-server 7.0.15.
    assert_eq!(tracker.read_raw(), b">2\r\n$10\r\ninvalidate\r\n_\r\n");
}
