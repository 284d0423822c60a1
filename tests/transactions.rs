//! MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis 7.0.15's replies, and
//! EXEC's atomicity under concurrent load.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::TestServer;

#[test]
fn queueing_and_exec() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"-ERR MULTI calls can not be nested\r\n");
    assert_reply!(c, ["SET", "a", "1"], b"+QUEUED\r\n");
    assert_reply!(c, ["GET", "a"], b"+QUEUED\r\n");
    assert_reply!(c, ["EXEC"], b"*2\r\n+OK\r\n$1\r\n1\r\n");
    assert_reply!(c, ["EXEC"], b"-ERR EXEC without MULTI\r\n");
    assert_reply!(c, ["DISCARD"], b"-ERR DISCARD without MULTI\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*0\r\n");
}

#[test]
fn errors_while_queueing_abort_exec() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "a", "1"], b"+QUEUED\r\n");
    assert_reply!(
        c,
        ["NOSUCH"],
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
    );
    assert_reply!(
        c,
        ["GET"],
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_reply!(
        c,
        ["EXEC"],
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_reply!(c, ["GET", "a"], b"$-1\r\n");
    // Commands that may not run in a transaction abort it too.
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(
        c,
        ["SHUTDOWN"],
        b"-ERR Command not allowed inside a transaction\r\n"
    );
    assert_reply!(
        c,
        ["EXEC"],
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}

const EXEC_OOM: &[u8] = b"-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// The line of an INFO section that starts with `prefix`.
fn info_line(c: &mut common::Raw, section: &str, prefix: &str) -> Option<String> {
    let info = String::from_utf8(c.call(&["INFO", section])).expect("utf-8");
    info.lines()
        .find(|line| line.starts_with(prefix))
        .map(str::to_string)
}

#[test]
fn exec_refused_when_it_is_called_discards_the_transaction() {
    // Memory went over maxmemory after the commands were queued: Redis
    // refuses EXEC itself and throws the transaction away, with the reason.
    let server = TestServer::start();
    let mut c = server.raw();
    let mut admin = server.raw();
    assert_reply!(c, ["WATCH", "w"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "x", "1"], b"+QUEUED\r\n");
    assert_reply!(c, ["GET", "x"], b"+QUEUED\r\n");
    assert_reply!(admin, ["CONFIG", "SET", "maxmemory", "1"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], EXEC_OOM);
    // No transaction is left, and none of it ran.
    assert_reply!(c, ["EXEC"], b"-ERR EXEC without MULTI\r\n");
    assert_reply!(admin, ["CONFIG", "SET", "maxmemory", "0"], b"+OK\r\n");
    assert_reply!(c, ["GET", "x"], b"$-1\r\n");
    // The watch went with it: a write to w no longer fails a transaction.
    assert_reply!(admin, ["SET", "w", "1"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*0\r\n");

    // Counted as Redis counts it: an EXECABORT error reply and a rejected
    // EXEC (the refusal itself is not an error the client saw).
    assert_eq!(
        info_line(&mut c, "errorstats", "errorstat_EXECABORT").as_deref(),
        Some("errorstat_EXECABORT:count=1")
    );
    assert_eq!(info_line(&mut c, "errorstats", "errorstat_OOM"), None);
    let exec = info_line(&mut c, "commandstats", "cmdstat_exec:").expect("EXEC ran");
    assert!(
        exec.starts_with("cmdstat_exec:calls=2,")
            && exec.ends_with(",rejected_calls=1,failed_calls=1"),
        "{exec}"
    );
}

#[test]
fn every_refusal_of_exec_is_an_execabort_quoting_it() {
    let server = TestServer::start();
    let mut c = server.raw();
    // A wrong argument count, in a transaction or not: the quote leaves out
    // the ERR that Redis adds to the reply only.
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "a", "1"], b"+QUEUED\r\n");
    let arity: &[u8] = b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n";
    assert_reply!(c, ["EXEC", "now"], arity);
    assert_reply!(c, ["EXEC"], b"-ERR EXEC without MULTI\r\n");
    assert_reply!(c, ["GET", "a"], b"$-1\r\n");
    assert_reply!(c, ["EXEC", "now"], arity);
    // RESP2 subscribed mode.
    c.cmd(&["SUBSCRIBE", "ch"]);
    c.read();
    assert_reply!(
        c,
        ["EXEC"],
        b"-EXECABORT Transaction discarded because of: Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );

    // Not authenticated.
    let locked = TestServer::with_config(|c| c.requirepass = "pw".to_string());
    let mut c = locked.raw();
    assert_reply!(
        c,
        ["EXEC"],
        b"-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
    );
    assert_reply!(c, ["MULTI"], b"-NOAUTH Authentication required.\r\n");
}

#[test]
fn exec_refused_while_saves_fail_quotes_misconf() {
    let dir = common::temp_dir("tx-misconf");
    let server = TestServer::with_config(|c| {
        c.dir = dir.to_string_lossy().into_owned();
        c.save = vec![(3600, 1)];
    });
    let mut c = server.raw();
    let mut admin = server.raw();
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k", "v"], b"+QUEUED\r\n");
    // Queued; then the next background save fails.
    std::fs::remove_dir_all(&dir).expect("remove the test directory");
    assert_reply!(admin, ["BGSAVE"], b"+Background saving started\r\n");
    let state = server.handle().state().clone();
    common::eventually("the background save to fail", || {
        !state.rdb.last_bgsave_ok.load(Ordering::Acquire)
    });
    assert_reply!(
        c,
        ["EXEC"],
        b"-EXECABORT Transaction discarded because of: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n"
    );
    assert_reply!(c, ["EXEC"], b"-ERR EXEC without MULTI\r\n");
    // A transaction that only reads is not refused.
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["GET", "k"], b"+QUEUED\r\n");
    assert_reply!(c, ["EXEC"], b"*1\r\n$-1\r\n");
}

#[test]
fn runtime_errors_stay_inside_the_reply_and_the_rest_runs() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "a", "1"], b"+QUEUED\r\n");
    assert_reply!(c, ["SET", "b", "2", "EX", "0"], b"+QUEUED\r\n");
    assert_reply!(c, ["GET", "a"], b"+QUEUED\r\n");
    assert_reply!(
        c,
        ["EXEC"],
        b"*3\r\n+OK\r\n-ERR invalid expire time in 'set' command\r\n$1\r\n1\r\n"
    );
}

#[test]
fn discard_and_select_inside_multi() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k", "v"], b"+QUEUED\r\n");
    assert_reply!(c, ["DISCARD"], b"+OK\r\n");
    assert_reply!(c, ["GET", "k"], b"$-1\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k", "v"], b"+QUEUED\r\n");
    assert_reply!(c, ["SELECT", "1"], b"+QUEUED\r\n");
    assert_reply!(c, ["SET", "k", "w"], b"+QUEUED\r\n");
    assert_reply!(c, ["GET", "k"], b"+QUEUED\r\n");
    assert_reply!(c, ["EXEC"], b"*4\r\n+OK\r\n+OK\r\n+OK\r\n$1\r\nw\r\n");
    assert_reply!(c, ["GET", "k"], b"$1\r\nw\r\n");
    assert_reply!(c, ["SELECT", "0"], b"+OK\r\n");
    assert_reply!(c, ["GET", "k"], b"$1\r\nv\r\n");
}

#[test]
fn watch_aborts_exec_when_another_client_writes() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut other = server.raw();
    assert_reply!(c, ["WATCH", "w"], b"+OK\r\n");
    assert_reply!(other, ["SET", "w", "1"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "x", "1"], b"+QUEUED\r\n");
    assert_reply!(c, ["EXEC"], b"*-1\r\n");
    assert_reply!(c, ["GET", "x"], b"$-1\r\n");
    // EXEC unwatched everything: the next transaction runs.
    assert_reply!(other, ["SET", "w", "2"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*0\r\n");
    // RESP3: a null, not a null array.
    c.call(&["HELLO", "3"]);
    assert_reply!(c, ["WATCH", "w"], b"+OK\r\n");
    assert_reply!(other, ["DEL", "w"], b":1\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"_\r\n");
}

#[test]
fn unwatch_watch_inside_multi_and_untouched_keys() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut other = server.raw();
    assert_reply!(c, ["WATCH", "a", "b", "a"], b"+OK\r\n");
    assert_reply!(c, ["UNWATCH"], b"+OK\r\n");
    assert_reply!(other, ["SET", "a", "1"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(
        c,
        ["WATCH", "a"],
        b"-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_reply!(c, ["PING"], b"+QUEUED\r\n");
    assert_reply!(c, ["EXEC"], b"*1\r\n+PONG\r\n");
    // Writing a different key does not abort.
    assert_reply!(c, ["WATCH", "a"], b"+OK\r\n");
    assert_reply!(other, ["SET", "unrelated", "1"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*0\r\n");
}

#[test]
fn flushdb_and_swapdb_touch_watched_keys_that_exist() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut other = server.raw();
    assert_reply!(c, ["SET", "k", "v"], b"+OK\r\n");
    assert_reply!(c, ["WATCH", "k", "missing"], b"+OK\r\n");
    assert_reply!(other, ["FLUSHDB"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*-1\r\n");
    // Only keys that exist count: flushing an empty db changes nothing.
    assert_reply!(c, ["WATCH", "missing"], b"+OK\r\n");
    assert_reply!(other, ["FLUSHDB"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*0\r\n");
    // SWAPDB bringing a key into the watched db counts.
    assert_reply!(other, ["SELECT", "1"], b"+OK\r\n");
    assert_reply!(other, ["SET", "s", "1"], b"+OK\r\n");
    assert_reply!(c, ["WATCH", "s"], b"+OK\r\n");
    assert_reply!(other, ["SWAPDB", "0", "1"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*-1\r\n");
}

#[test]
fn a_watched_key_expiring_aborts_but_one_already_expired_does_not() {
    let server = TestServer::start();
    let mut c = server.raw();
    // Live when watched, expired by EXEC: aborted, as Redis does.
    assert_reply!(c, ["SET", "k", "v", "PX", "50"], b"+OK\r\n");
    assert_reply!(c, ["WATCH", "k"], b"+OK\r\n");
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*-1\r\n");
    // Watching a missing key that stays missing: runs.
    assert_reply!(c, ["WATCH", "k"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["EXEC"], b"*0\r\n");
}

#[test]
fn reset_leaves_the_transaction() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["WATCH", "k"], b"+OK\r\n");
    assert_reply!(c, ["MULTI"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k", "1"], b"+QUEUED\r\n");
    assert_reply!(c, ["RESET"], b"+RESET\r\n");
    assert_reply!(c, ["EXEC"], b"-ERR EXEC without MULTI\r\n");
    assert_reply!(c, ["GET", "k"], b"$-1\r\n");
}

/// Writers move two keys together inside transactions while readers read
/// both inside transactions: no reader may ever see them differ.
#[test]
fn exec_is_atomic_under_load() {
    let server = TestServer::start();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let server = &server;
                s.spawn(move || {
                    let mut c = server.raw();
                    for i in 0..500 {
                        let v = format!("{w}:{i}");
                        c.send(format!("MULTI\r\nSET a {v}\r\nSET b {v}\r\nEXEC\r\n").as_bytes());
                        for _ in 0..3 {
                            c.read();
                        }
                        assert_eq!(c.read_raw(), b"*2\r\n+OK\r\n+OK\r\n");
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let server = &server;
                let stop = &stop;
                s.spawn(move || {
                    let mut c = server.raw();
                    let mut checked = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        c.send(b"MULTI\r\nGET a\r\nGET b\r\nEXEC\r\n");
                        for _ in 0..3 {
                            c.read();
                        }
                        let reply = c.read();
                        let sedis::Frame::Array(items) = reply else {
                            panic!("EXEC reply {reply:?}");
                        };
                        assert_eq!(items[0], items[1], "saw half a transaction");
                        checked += 1;
                    }
                    checked
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        stop.store(true, Ordering::Relaxed);
        let checked: u64 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
        assert!(checked > 0);
    });
}

/// The form the transaction contract is usually stated in: writers run
/// MULTI; INCR a; INCR b; EXEC while readers MGET a b, and a reader never
/// sees a != b. At the end both equal the number of transactions.
#[test]
fn incr_transactions_against_mget_readers() {
    let server = TestServer::start();
    let stop = AtomicBool::new(false);
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 300;
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let server = &server;
                s.spawn(move || {
                    let mut c = server.raw();
                    for _ in 0..PER_WRITER {
                        c.send(b"MULTI\r\nINCR a\r\nINCR b\r\nEXEC\r\n");
                        for _ in 0..3 {
                            c.read();
                        }
                        let sedis::Frame::Array(items) = c.read() else {
                            panic!("EXEC failed");
                        };
                        assert_eq!(items[0], items[1]);
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (server, stop) = (&server, &stop);
                s.spawn(move || {
                    let mut c = server.raw();
                    while !stop.load(Ordering::Relaxed) {
                        let reply = c.call(&["MGET", "a", "b"]);
                        let frame = sedis::Frame::parse(&reply).unwrap().unwrap().0;
                        let sedis::Frame::Array(items) = frame else {
                            panic!("MGET reply");
                        };
                        assert_eq!(items[0], items[1], "MGET saw a != b");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
    });
    let total = (WRITERS * PER_WRITER).to_string();
    let mut c = server.raw();
    let expected = format!("*2\r\n${0}\r\n{1}\r\n${0}\r\n{1}\r\n", total.len(), total);
    assert_eq!(c.call(&["MGET", "a", "b"]), expected.as_bytes());
}
