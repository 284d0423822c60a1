//! Pub/sub across connections: reply shapes and counts byte for byte as
//! redis-server 7.0.15 sends them (recorded from it), RESP2 subscribed mode
//! and RESP3 push frames, delivery order, cleanup when subscribers leave, a
//! subscriber that never reads, and keyspace notifications.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{Raw, TestServer, eventually};

fn message(channel: &str, payload: &str) -> Vec<u8> {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n",
        channel.len(),
        payload.len()
    )
    .into_bytes()
}

#[test]
fn subscribe_publish_and_unsubscribe_reply_as_redis() {
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut publisher = server.raw();
    sub.cmd(&["SUBSCRIBE", "a", "b", "a"]);
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    );
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
    );

    assert_eq!(publisher.call(&["PUBLISH", "a", "hello"]), b":1\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "nobody", "x"]), b":0\r\n");
    assert_eq!(sub.read_raw(), message("a", "hello"));
    assert_eq!(
        publisher.call(&["PUBSUB", "NUMSUB", "a", "b", "c"]),
        b"*6\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:1\r\n$1\r\nc\r\n:0\r\n".to_vec()
    );

    // RESP2 subscribed mode: only the pub/sub commands, PING as a message.
    assert_eq!(
        sub.call(&["GET", "k"]),
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n".to_vec()
    );
    assert_eq!(sub.call(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(sub.call(&["PING", "x"]), b"*2\r\n$4\r\npong\r\n$1\r\nx\r\n");

    sub.cmd(&["UNSUBSCRIBE", "a"]);
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    sub.cmd(&["UNSUBSCRIBE"]);
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
    );
    // Nothing left: a null channel and a zero count; normal mode again.
    assert_eq!(
        sub.call(&["UNSUBSCRIBE"]),
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n".to_vec()
    );
    assert_eq!(
        sub.call(&["PUNSUBSCRIBE"]),
        b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n".to_vec()
    );
    assert_eq!(sub.call(&["GET", "k"]), b"$-1\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "a", "late"]), b":0\r\n");
}

#[test]
fn patterns_and_shard_channels() {
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut publisher = server.raw();
    sub.cmd(&["PSUBSCRIBE", "news.*"]);
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:1\r\n".to_vec()
    );
    assert_eq!(publisher.call(&["PUBLISH", "news.art", "x"]), b":1\r\n");
    assert_eq!(
        sub.read_raw(),
        b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$8\r\nnews.art\r\n$1\r\nx\r\n".to_vec()
    );
    assert_eq!(publisher.call(&["PUBSUB", "NUMPAT"]), b":1\r\n");

    sub.cmd(&["SSUBSCRIBE", "s"]);
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n"
    );
    assert_eq!(publisher.call(&["SPUBLISH", "s", "hi"]), b":1\r\n");
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$2\r\nhi\r\n"
    );
    // Shard channels are apart from plain channels and patterns.
    assert_eq!(publisher.call(&["PUBLISH", "s", "plain"]), b":0\r\n");
    assert_eq!(
        publisher.call(&["PUBSUB", "SHARDNUMSUB", "s", "t"]),
        b"*4\r\n$1\r\ns\r\n:1\r\n$1\r\nt\r\n:0\r\n".to_vec()
    );
    assert_eq!(
        publisher.call(&["PUBSUB", "SHARDCHANNELS"]),
        b"*1\r\n$1\r\ns\r\n".to_vec()
    );
}

#[test]
fn resp3_subscribers_get_push_frames_and_may_run_any_command() {
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut publisher = server.raw();
    sub.call(&["HELLO", "3"]);
    sub.cmd(&["SUBSCRIBE", "a"]);
    assert_eq!(
        sub.read_raw(),
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(publisher.call(&["PUBLISH", "a", "m"]), b":1\r\n");
    assert_eq!(
        sub.read_raw(),
        b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
    );
    assert_eq!(sub.call(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(sub.call(&["GET", "k"]), b"$1\r\nv\r\n");
    assert_eq!(sub.call(&["PING"]), b"+PONG\r\n");
    sub.cmd(&["UNSUBSCRIBE", "a"]);
    assert_eq!(
        sub.read_raw(),
        b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
    );
}

#[test]
fn messages_from_one_publisher_arrive_in_order() {
    let server = TestServer::start();
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "seq"]);
    sub.read_raw();
    let mut publisher = server.raw();
    let mut pipeline = Vec::new();
    for i in 0..2000 {
        let payload = i.to_string();
        pipeline.extend_from_slice(
            format!(
                "*3\r\n$7\r\nPUBLISH\r\n$3\r\nseq\r\n${}\r\n{payload}\r\n",
                payload.len()
            )
            .as_bytes(),
        );
    }
    publisher.send(&pipeline);
    for i in 0..2000 {
        assert_eq!(publisher.read_raw(), b":1\r\n");
        assert_eq!(
            sub.read_raw(),
            message("seq", &i.to_string()),
            "message {i}"
        );
    }
}

#[test]
fn leaving_subscribers_leave_nothing_registered() {
    let server = TestServer::start();
    let mut admin = server.raw();
    for _ in 0..3 {
        let mut sub = server.raw();
        sub.cmd(&["SUBSCRIBE", "a", "b"]);
        sub.read_raw();
        sub.read_raw();
        sub.cmd(&["PSUBSCRIBE", "p*"]);
        sub.read_raw();
        sub.cmd(&["SSUBSCRIBE", "s"]);
        sub.read_raw();
        drop(sub); // disconnects without unsubscribing
    }
    eventually("the subscribers to be forgotten", || {
        admin.call(&["PUBSUB", "NUMSUB", "a", "b"]) == b"*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n"
    });
    assert_eq!(admin.call(&["PUBSUB", "NUMPAT"]), b":0\r\n");
    assert_eq!(admin.call(&["PUBSUB", "CHANNELS"]), b"*0\r\n");
    assert_eq!(admin.call(&["PUBSUB", "SHARDCHANNELS"]), b"*0\r\n");
    assert_eq!(admin.call(&["PUBLISH", "a", "x"]), b":0\r\n");

    // RESET leaves every subscription too.
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "a"]);
    sub.read_raw();
    assert_eq!(sub.call(&["RESET"]), b"+RESET\r\n");
    assert_eq!(
        admin.call(&["PUBSUB", "NUMSUB", "a"]),
        b"*2\r\n$1\r\na\r\n:0\r\n".to_vec()
    );
}

#[test]
fn a_subscriber_that_never_reads_is_dropped_and_the_others_keep_receiving() {
    let server = TestServer::start();
    let mut admin = server.raw();
    assert_eq!(
        admin.call(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 256kb 0 0"
        ]),
        b"+OK\r\n"
    );
    let mut slow = server.raw();
    slow.cmd(&["SUBSCRIBE", "firehose"]);
    slow.read_raw();
    // Stop reading: a small receive buffer makes the socket back up soon.
    let mut reader = server.raw();
    reader.cmd(&["SUBSCRIBE", "firehose"]);
    reader.read_raw();

    let payload = "x".repeat(16 * 1024);
    let mut publisher = server.raw();
    let mut last_count = 2;
    // Far more than the limit plus what the kernel buffers for the socket.
    for i in 0..2000 {
        let reply = publisher.call(&["PUBLISH", "firehose", &payload]);
        let count: i64 = std::str::from_utf8(&reply[1..reply.len() - 2])
            .unwrap()
            .parse()
            .unwrap();
        assert!(count == 1 || count == 2, "{reply:?}");
        last_count = count;
        // The reading subscriber gets every message, in order.
        let expected = message("firehose", &payload);
        let mut got = vec![0u8; expected.len()];
        reader.stream().read_exact(&mut got).unwrap();
        assert!(got == expected, "message {i} to the reader");
        if count == 1 {
            break;
        }
    }
    assert_eq!(last_count, 1, "the slow subscriber was never dropped");
    eventually("the slow subscriber to be gone", || {
        admin.call(&["PUBSUB", "NUMSUB", "firehose"]) == b"*2\r\n$8\r\nfirehose\r\n:1\r\n"
    });
    // Its connection was closed by the server.
    let mut rest = Vec::new();
    slow.stream()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = slow.stream().read_to_end(&mut rest);
    assert!(
        rest.len() < 2000 * payload.len(),
        "the slow subscriber got everything"
    );
}

#[test]
fn keyspace_notifications_follow_the_configured_classes() {
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut c = server.raw();
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        b"+OK\r\n"
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "notify-keyspace-events"]),
        b"*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n".to_vec()
    );
    sub.cmd(&["SUBSCRIBE", "__keyspace@0__:k", "__keyevent@0__:del"]);
    sub.read_raw();
    sub.read_raw();
    c.call(&["SET", "k", "v"]);
    assert_eq!(sub.read_raw(), message("__keyspace@0__:k", "set"));
    c.call(&["EXPIRE", "k", "100"]);
    assert_eq!(sub.read_raw(), message("__keyspace@0__:k", "expire"));
    c.call(&["DEL", "k"]);
    assert_eq!(sub.read_raw(), message("__keyspace@0__:k", "del"));
    assert_eq!(sub.read_raw(), message("__keyevent@0__:del", "k"));

    // Only the string class now: generic events (DEL) are not published.
    c.call(&["CONFIG", "SET", "notify-keyspace-events", "K$"]);
    c.call(&["SET", "k", "v"]);
    c.call(&["DEL", "k"]);
    c.call(&["APPEND", "k", "x"]);
    assert_eq!(sub.read_raw(), message("__keyspace@0__:k", "set"));
    assert_eq!(sub.read_raw(), message("__keyspace@0__:k", "append"));

    // Expired keys publish `expired` (x), as the reaper or a lookup finds them.
    c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kx"]);
    c.call(&["SET", "k", "v", "PX", "1"]);
    assert_eq!(sub.read_raw(), message("__keyspace@0__:k", "expired"));

    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kw"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n".to_vec()
    );
}

#[test]
fn a_blocked_client_served_by_a_push_publishes_its_pop() {
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut c = server.raw();
    c.call(&["CONFIG", "SET", "notify-keyspace-events", "Kl"]);
    sub.cmd(&["SUBSCRIBE", "__keyspace@0__:q"]);
    sub.read_raw();
    let mut waiter: Raw = server.raw();
    waiter.cmd(&["BLPOP", "q", "0"]);
    let blocked = &server.handle().state().keyspace().blocked;
    eventually("the client to block", || blocked.count() == 1);
    c.call(&["RPUSH", "q", "job"]);
    assert_eq!(waiter.read_raw(), b"*2\r\n$1\r\nq\r\n$3\r\njob\r\n");
    assert_eq!(sub.read_raw(), message("__keyspace@0__:q", "rpush"));
    assert_eq!(sub.read_raw(), message("__keyspace@0__:q", "lpop"));
}

/// A RESP2 (un)subscribe confirmation: `[kind, name or null, count]`.
fn confirmation(kind: &str, name: Option<&str>, count: i64) -> Vec<u8> {
    let name = match name {
        Some(name) => format!("${}\r\n{name}\r\n", name.len()),
        None => "$-1\r\n".to_string(),
    };
    format!("*3\r\n${}\r\n{kind}\r\n{name}:{count}\r\n", kind.len()).into_bytes()
}

#[test]
fn client_reply_off_still_sends_subscription_confirmations_and_messages() {
    // Redis writes pub/sub frames with CLIENT_PUSHING, past CLIENT REPLY
    // OFF: a client waiting for its confirmation must not hang.
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut publisher = server.raw();
    sub.cmd(&["CLIENT", "REPLY", "OFF"]);
    sub.cmd(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(sub.read_raw(), confirmation("subscribe", Some("a"), 1));
    assert_eq!(sub.read_raw(), confirmation("subscribe", Some("b"), 2));
    sub.cmd(&["PSUBSCRIBE", "p*"]);
    assert_eq!(sub.read_raw(), confirmation("psubscribe", Some("p*"), 3));
    sub.cmd(&["SSUBSCRIBE", "s"]);
    assert_eq!(sub.read_raw(), confirmation("ssubscribe", Some("s"), 1));

    // PING's reply in subscribed mode is an ordinary reply: silenced. The
    // next frame is the message published after it.
    sub.cmd(&["PING"]);
    assert_eq!(publisher.call(&["PUBLISH", "a", "hello"]), b":1\r\n");
    assert_eq!(sub.read_raw(), message("a", "hello"));
    assert_eq!(publisher.call(&["PUBLISH", "pq", "x"]), b":1\r\n");
    assert_eq!(
        sub.read_raw(),
        b"*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npq\r\n$1\r\nx\r\n"
    );
    assert_eq!(publisher.call(&["SPUBLISH", "s", "y"]), b":1\r\n");
    assert_eq!(
        sub.read_raw(),
        b"*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\ny\r\n"
    );

    sub.cmd(&["UNSUBSCRIBE", "a"]);
    assert_eq!(sub.read_raw(), confirmation("unsubscribe", Some("a"), 2));
    sub.cmd(&["UNSUBSCRIBE", "b"]);
    assert_eq!(sub.read_raw(), confirmation("unsubscribe", Some("b"), 1));
    sub.cmd(&["PUNSUBSCRIBE"]);
    assert_eq!(sub.read_raw(), confirmation("punsubscribe", Some("p*"), 0));
    sub.cmd(&["SUNSUBSCRIBE"]);
    assert_eq!(sub.read_raw(), confirmation("sunsubscribe", Some("s"), 0));
    // Nothing left to leave: the confirmation with a null name still comes.
    sub.cmd(&["UNSUBSCRIBE"]);
    assert_eq!(sub.read_raw(), confirmation("unsubscribe", None, 0));

    // Out of pub/sub mode, replies are still off until ON.
    sub.cmd(&["ECHO", "silenced"]);
    assert_eq!(sub.call(&["CLIENT", "REPLY", "ON"]), b"+OK\r\n");
}

#[test]
fn client_reply_skip_skips_the_reply_but_not_the_confirmations() {
    let server = TestServer::start();
    let mut sub = server.raw();
    sub.cmd(&["CLIENT", "REPLY", "SKIP"]);
    sub.cmd(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(sub.read_raw(), confirmation("subscribe", Some("a"), 1));
    assert_eq!(sub.read_raw(), confirmation("subscribe", Some("b"), 2));
    // SUBSCRIBE was the skipped command: the next one answers.
    assert_eq!(sub.call(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    sub.cmd(&["CLIENT", "REPLY", "SKIP"]);
    assert_eq!(
        sub.read_raw(),
        b"-ERR Can't execute 'client|reply': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
}

#[test]
fn resp3_pushes_to_a_silenced_client_include_its_own_publishes_and_events() {
    let server = TestServer::start();
    let mut sub = server.raw();
    let mut c = server.raw();
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        b"+OK\r\n"
    );
    sub.call(&["HELLO", "3"]);
    sub.cmd(&["CLIENT", "REPLY", "OFF"]);
    sub.cmd(&["SUBSCRIBE", "a"]);
    assert_eq!(
        sub.read_raw(),
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    // A message to itself is written during its own PUBLISH, whose `:1`
    // is silenced.
    sub.cmd(&["PUBLISH", "a", "self"]);
    assert_eq!(
        sub.read_raw(),
        b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n"
    );
    sub.cmd(&["PSUBSCRIBE", "__key*@0__:*"]);
    assert_eq!(
        sub.read_raw(),
        b">3\r\n$10\r\npsubscribe\r\n$12\r\n__key*@0__:*\r\n:2\r\n"
    );
    // Its own SET: both events arrive, SET's +OK does not.
    sub.cmd(&["SET", "k", "v"]);
    assert_eq!(
        sub.read_raw(),
        b">4\r\n$8\r\npmessage\r\n$12\r\n__key*@0__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"
    );
    assert_eq!(
        sub.read_raw(),
        b">4\r\n$8\r\npmessage\r\n$12\r\n__key*@0__:*\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n"
    );
    c.call(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    assert_eq!(sub.call(&["CLIENT", "REPLY", "ON"]), b"+OK\r\n");
    assert_eq!(sub.call(&["GET", "k"]), b"$1\r\nv\r\n");
}
