//! A test that injects errors: code that retries on a transient failure
//! (Redis's LOADING, or a dropped connection) must succeed once the server
//! recovers, and give up on errors that retrying cannot fix.
//!
//! Run with `cargo run --example fault_injection`.

use std::io;

use sedis::client::Commands;
use sedis::{Embedded, LocalClient};

/// The code under test: INCR with up to `tries` attempts on LOADING.
fn incr_with_retry(client: &mut LocalClient, key: &str, tries: u32) -> io::Result<i64> {
    let mut last = None;
    for _ in 0..tries {
        match client.incr(key) {
            Err(err) if err.to_string().starts_with("LOADING") => last = Some(err),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no attempt made")))
}

fn main() -> io::Result<()> {
    let server = Embedded::start()?;
    let mut client = server.client();

    // Two transient failures, then success on the third try.
    server.fail_next(2, "LOADING Redis is loading the dataset in memory");
    assert_eq!(incr_with_retry(&mut client, "hits", 3)?, 1);

    // A failure that does not go away is reported, not retried forever.
    server.fail_command("incr", "LOADING Redis is loading the dataset in memory");
    let err = incr_with_retry(&mut client, "hits", 3).unwrap_err();
    assert!(err.to_string().starts_with("LOADING"));
    server.clear_faults();

    // Other errors are not retried.
    server.fail_next(1, "ERR something else");
    assert_eq!(
        incr_with_retry(&mut client, "hits", 3)
            .unwrap_err()
            .to_string(),
        "ERR something else"
    );

    // A dropped connection: the client must reconnect.
    server.disconnect_all();
    assert!(client.incr("hits").is_err());
    let mut client = server.client();
    assert_eq!(incr_with_retry(&mut client, "hits", 3)?, 2);
    println!("ok: retries on LOADING, gives up on the rest, reconnects");
    server.shutdown()
}
