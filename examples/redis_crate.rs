//! A test of code written against the `redis` crate, run against a real
//! server embedded in the test: one line to start, a free port, gone when
//! the test ends. Many such tests can run in parallel, each with its own.
//!
//! Run with `cargo run --example redis_crate`, or as a test with
//! `cargo test --example redis_crate`.

use redis::Commands;
use sedis::Embedded;

/// The code under test: a page-view counter that keeps the last visitors.
fn record_visit(
    conn: &mut redis::Connection,
    page: &str,
    visitor: &str,
) -> redis::RedisResult<i64> {
    let views: i64 = conn.incr(format!("views:{page}"), 1)?;
    let _: () = conn.lpush(format!("visitors:{page}"), visitor)?;
    let _: () = conn.ltrim(format!("visitors:{page}"), 0, 2)?;
    Ok(views)
}

/// What a `#[test]` would hold.
fn counts_visits_and_keeps_the_last_three_visitors() {
    let server = Embedded::builder().listen().start().expect("start sedis");
    let url = format!("redis://{}/", server.addr().expect("listening"));
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();

    for visitor in ["ann", "bob", "cid", "dee"] {
        record_visit(&mut conn, "home", visitor).unwrap();
    }

    // Assert on the server's state directly, without the client.
    let db = server.db(0);
    assert_eq!(db.get("views:home").unwrap(), Some(b"4".to_vec()));
    assert_eq!(
        db.list("visitors:home").unwrap(),
        vec![b"dee".to_vec(), b"cid".to_vec(), b"bob".to_vec()]
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_visits_and_keeps_the_last_three_visitors() {
        super::counts_visits_and_keeps_the_last_three_visitors();
    }
}

fn main() {
    counts_visits_and_keeps_the_last_three_visitors();
    println!("ok: the redis crate against an embedded sedis");
}
