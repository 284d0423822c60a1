//! An in-process cache inside a plain synchronous program: worker threads
//! memoise a slow lookup in an embedded sedis (no socket, no runtime), with
//! a TTL so answers are refreshed, and an LRU bound on memory.
//!
//! Run with `cargo run --example cache`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sedis::Embedded;
use sedis::client::Commands;

/// Stands in for a database query or a remote call.
fn slow_lookup(user: u32, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(2));
    format!("profile of user {user}")
}

fn main() -> std::io::Result<()> {
    // A bounded cache: past 64 MB the least recently used keys go.
    let cache = Embedded::builder()
        .configure(|c| {
            c.maxmemory = 64 << 20;
            c.maxmemory_policy = sedis::config::Policy::AllKeysLru;
        })
        .start()?;
    let calls = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let (cache, calls) = (&cache, &calls);
            scope.spawn(move || -> std::io::Result<()> {
                // One client per thread, as one connection per thread.
                let mut client = cache.client();
                for i in 0..200u32 {
                    let user = (i * 7 + worker) % 50;
                    let key = format!("user:{user}");
                    if client.get(&key)?.is_none() {
                        let profile = slow_lookup(user, calls);
                        client.set_with_ttl(&key, profile, Duration::from_secs(60))?;
                    }
                }
                Ok(())
            });
        }
    });
    let lookups = calls.load(Ordering::Relaxed);
    let cached = cache.db(0).dbsize().map_err(std::io::Error::from)?;
    println!("800 requests, {lookups} slow lookups, {cached} profiles cached");
    assert_eq!(cached, 50);
    assert!(lookups < 800 / 4, "the cache answered most requests");
    cache.shutdown()
}
