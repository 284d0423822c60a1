//! Soak test: many concurrent clients run a mixed, model-checked workload
//! against one server, then the server must be intact.
//!
//! ```text
//! cargo test --test soak                                   # short run
//! cargo test --release --test soak -- --seconds 600 --clients 500
//! ```
//!
//! Each client owns its keys (`c<id>:*`) and keeps a model of them, so every
//! reply is checked exactly; expiring keys are checked outside a tolerance
//! window around their deadline. Shared keys exercise what only shared keys
//! can: transactions keeping pairs equal (readers must never see half of
//! one) and a WATCH-guarded counter that must end equal to the number of
//! increments clients saw succeed. Each client also owns a hash, a set, a
//! list and a sorted set, checked against models of them, and publishes to a
//! channel one subscriber reads: every acknowledged message must arrive.
//! At the end: zero protocol errors, zero
//! unexpected replies, RSS flat after warm-up (the drift is reported), every
//! worker back in the pool, and a clean shutdown.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sedis::Frame;
use sedis::internals::rng::Rng;
use sedis::{Config, Server};

struct Options {
    seconds: u64,
    clients: usize,
}

fn options() -> Options {
    let mut opts = Options {
        seconds: 8,
        clients: 200,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse().ok());
        match (args[i].as_str(), value) {
            ("--seconds", Some(v)) => opts.seconds = v,
            ("--clients", Some(v)) => opts.clients = v as usize,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    opts
}

/// Shared tallies.
#[derive(Default)]
struct Tally {
    commands: AtomicU64,
    protocol_errors: AtomicU64,
    unexpected: AtomicU64,
    counter_increments: AtomicU64,
    transactions_checked: AtomicU64,
    /// PUBLISHes acknowledged with one receiver (the soak's subscriber).
    published: AtomicU64,
    /// Messages the subscriber received.
    received: AtomicU64,
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn call(&mut self, tally: &Tally, args: &[&[u8]]) -> Option<Frame> {
        let mut out = Vec::new();
        Frame::encode_request(args, &mut out);
        tally.commands.fetch_add(1, Ordering::Relaxed);
        if self.writer.write_all(&out).is_err() {
            tally.protocol_errors.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match Frame::read(&mut self.reader) {
            Ok(frame) => Some(frame),
            Err(_) => {
                tally.protocol_errors.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

fn unexpected(tally: &Tally, what: &str, got: &Option<Frame>) {
    if tally.unexpected.fetch_add(1, Ordering::Relaxed) < 10 {
        eprintln!("unexpected reply to {what}: {got:?}");
    }
}

fn bulk(frame: &Option<Frame>) -> Option<Option<&[u8]>> {
    match frame {
        Some(Frame::Bulk(b)) => Some(Some(b)),
        Some(Frame::NullBulk) => Some(None),
        _ => None,
    }
}

/// One client's life: a random mix of operations until `stop`.
fn client(id: usize, addr: SocketAddr, stop: &AtomicBool, tally: &Tally) {
    let mut conn = match Conn::open(addr) {
        Ok(conn) => conn,
        Err(_) => {
            tally.protocol_errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let mut rng = Rng::with_seed(id as u64 * 7919 + 1);
    // Model of this client's own keys: value and optional deadline, as the
    // earliest and latest instants the server's deadline can be (it counts
    // from when it ran the SET, somewhere between sending and the reply).
    type Deadline = Option<(Instant, Instant)>;
    let mut model: HashMap<Vec<u8>, (Vec<u8>, Deadline)> = HashMap::new();
    let ok = Some(Frame::Simple(b"OK".to_vec()));
    // Margin around deadlines where either answer is acceptable.
    let margin = Duration::from_millis(150);
    // Models of this client's aggregates.
    let (hkey, skey, lkey, zkey) = (
        format!("c{id}:hash").into_bytes(),
        format!("c{id}:set").into_bytes(),
        format!("c{id}:list").into_bytes(),
        format!("c{id}:zset").into_bytes(),
    );
    let mut hash: HashMap<u64, u64> = HashMap::new();
    let mut set: HashSet<u64> = HashSet::new();
    let mut list: VecDeque<u64> = VecDeque::new();
    let mut zset: BTreeMap<u64, u64> = BTreeMap::new();
    let int = |n: usize| Some(Frame::Integer(n as i64));
    while !stop.load(Ordering::Relaxed) {
        let key = format!("c{id}:k{}", rng.below(50)).into_bytes();
        match rng.below(15) {
            10 => {
                let (field, value) = (rng.below(40), rng.next_u64());
                if rng.below(2) == 0 {
                    let reply = conn.call(
                        tally,
                        &[
                            b"HSET",
                            &hkey,
                            field.to_string().as_bytes(),
                            value.to_string().as_bytes(),
                        ],
                    );
                    let new = hash.insert(field, value).is_none();
                    if reply != int(usize::from(new)) {
                        unexpected(tally, "HSET", &reply);
                    }
                } else {
                    let reply = conn.call(tally, &[b"HGET", &hkey, field.to_string().as_bytes()]);
                    let expected = hash.get(&field).map(|v| v.to_string().into_bytes());
                    if bulk(&reply) != Some(expected.as_deref()) {
                        unexpected(tally, "HGET", &reply);
                    }
                }
            }
            11 => {
                let member = rng.below(30);
                let (command, changed): (&[u8], bool) = if rng.below(2) == 0 {
                    (b"SADD", set.insert(member))
                } else {
                    (b"SREM", set.remove(&member))
                };
                let reply = conn.call(tally, &[command, &skey, member.to_string().as_bytes()]);
                if reply != int(usize::from(changed)) {
                    unexpected(tally, "SADD/SREM", &reply);
                }
                let reply = conn.call(tally, &[b"SCARD", &skey]);
                if reply != int(set.len()) {
                    unexpected(tally, "SCARD", &reply);
                }
            }
            12 => {
                if rng.below(2) == 0 && list.len() < 100 {
                    let v = rng.next_u64();
                    list.push_back(v);
                    let reply = conn.call(tally, &[b"RPUSH", &lkey, v.to_string().as_bytes()]);
                    if reply != int(list.len()) {
                        unexpected(tally, "RPUSH", &reply);
                    }
                } else {
                    let reply = conn.call(tally, &[b"LPOP", &lkey]);
                    let expected = list.pop_front().map(|v| v.to_string().into_bytes());
                    if bulk(&reply) != Some(expected.as_deref()) {
                        unexpected(tally, "LPOP", &reply);
                    }
                }
            }
            13 => {
                let (member, score) = (rng.below(30), rng.below(1000));
                let reply = conn.call(
                    tally,
                    &[
                        b"ZADD",
                        &zkey,
                        score.to_string().as_bytes(),
                        member.to_string().as_bytes(),
                    ],
                );
                let new = zset.insert(member, score).is_none();
                if reply != int(usize::from(new)) {
                    unexpected(tally, "ZADD", &reply);
                }
                let reply = conn.call(tally, &[b"ZCARD", &zkey]);
                if reply != int(zset.len()) {
                    unexpected(tally, "ZCARD", &reply);
                }
            }
            14 => {
                let reply = conn.call(tally, &[b"PUBLISH", b"soak:events", key.as_slice()]);
                match reply {
                    Some(Frame::Integer(1)) => {
                        tally.published.fetch_add(1, Ordering::Relaxed);
                    }
                    other => unexpected(tally, "PUBLISH", &other),
                }
            }
            0..=2 => {
                let value = format!("v{}", rng.next_u64()).into_bytes();
                let ttl = (rng.below(4) == 0).then(|| 50 + rng.below(300));
                let sent = Instant::now();
                let reply = match ttl {
                    Some(ms) => conn.call(
                        tally,
                        &[b"SET", &key, &value, b"PX", ms.to_string().as_bytes()],
                    ),
                    None => conn.call(tally, &[b"SET", &key, &value]),
                };
                if reply != ok {
                    unexpected(tally, "SET", &reply);
                }
                let deadline = ttl.map(|ms| {
                    let ms = Duration::from_millis(ms);
                    (sent + ms, Instant::now() + ms)
                });
                model.insert(key, (value, deadline));
            }
            3..=5 => {
                let sent = Instant::now();
                let reply = conn.call(tally, &[b"GET", &key]);
                let Some(got) = bulk(&reply) else {
                    unexpected(tally, "GET", &reply);
                    continue;
                };
                let now = Instant::now();
                match model.get(&key) {
                    None => {
                        if got.is_some() {
                            unexpected(tally, "GET of a missing key", &reply);
                        }
                    }
                    Some((value, deadline)) => {
                        // The server ran the GET between `sent` and `now`:
                        // certainly alive if even the reply came before the
                        // earliest deadline, certainly gone if even the
                        // request left after the latest.
                        let alive = deadline.is_none_or(|(early, _)| now + margin < early);
                        let dead = deadline.is_some_and(|(_, late)| sent > late + margin);
                        if (alive && got != Some(value)) || (dead && got.is_some()) {
                            unexpected(tally, "GET", &reply);
                        }
                        if dead {
                            model.remove(&key);
                        }
                    }
                }
            }
            6 => {
                let reply = conn.call(tally, &[b"DEL", &key]);
                if !matches!(reply, Some(Frame::Integer(0 | 1))) {
                    unexpected(tally, "DEL", &reply);
                }
                model.remove(&key);
            }
            7 => {
                // Move a shared pair together.
                let pair = rng.below(5);
                let v = rng.next_u64().to_string();
                let (a, b) = (format!("pair{pair}:a"), format!("pair{pair}:b"));
                conn.call(tally, &[b"MULTI"]);
                conn.call(tally, &[b"SET", a.as_bytes(), v.as_bytes()]);
                conn.call(tally, &[b"SET", b.as_bytes(), v.as_bytes()]);
                let reply = conn.call(tally, &[b"EXEC"]);
                let expected = Some(Frame::Array(vec![ok.clone().unwrap(), ok.clone().unwrap()]));
                if reply != expected {
                    unexpected(tally, "EXEC of a pair write", &reply);
                }
            }
            8 => {
                // Read a shared pair atomically: both halves must agree.
                let pair = rng.below(5);
                let (a, b) = (format!("pair{pair}:a"), format!("pair{pair}:b"));
                conn.call(tally, &[b"MULTI"]);
                conn.call(tally, &[b"GET", a.as_bytes()]);
                conn.call(tally, &[b"GET", b.as_bytes()]);
                match conn.call(tally, &[b"EXEC"]) {
                    Some(Frame::Array(items)) if items.len() == 2 && items[0] == items[1] => {
                        tally.transactions_checked.fetch_add(1, Ordering::Relaxed);
                    }
                    other => unexpected(tally, "EXEC of a pair read", &other),
                }
            }
            _ => {
                // Optimistic increment of the shared counter.
                conn.call(tally, &[b"WATCH", b"counter"]);
                let current = conn.call(tally, &[b"GET", b"counter"]);
                let n: u64 = match bulk(&current) {
                    Some(Some(v)) => std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    Some(None) => 0,
                    None => {
                        unexpected(tally, "GET counter", &current);
                        0
                    }
                };
                conn.call(tally, &[b"MULTI"]);
                conn.call(tally, &[b"SET", b"counter", (n + 1).to_string().as_bytes()]);
                match conn.call(tally, &[b"EXEC"]) {
                    Some(Frame::Array(items)) if items.len() == 1 => {
                        tally.counter_increments.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Frame::NullArray) => {} // lost the race: fine
                    other => unexpected(tally, "EXEC of the counter", &other),
                }
            }
        }
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let opts = options();
    let config = Config {
        port: 0,
        save: Vec::new(),
        loglevel: sedis::config::LogLevel::Warning,
        ..Config::default()
    };
    let server = Server::bind(config).expect("bind").spawn().expect("spawn");
    let addr = server.local_addr();
    let state = server.state().clone();
    let stop = AtomicBool::new(false);
    let tally = Tally::default();
    let started = Instant::now();
    let mut samples = Vec::new();
    // The one subscriber: counts messages on soak:events until one arrives
    // on soak:stop.
    let mut subscriber = Conn::open(addr).expect("connect the subscriber");
    match subscriber.call(&tally, &[b"SUBSCRIBE", b"soak:events"]) {
        Some(Frame::Array(_)) => {}
        other => panic!("SUBSCRIBE: {other:?}"),
    }
    match subscriber.call(&tally, &[b"SUBSCRIBE", b"soak:stop"]) {
        Some(Frame::Array(_)) => {}
        other => panic!("SUBSCRIBE: {other:?}"),
    }
    std::thread::scope(|s| {
        {
            let tally = &tally;
            let subscriber = &mut subscriber;
            s.spawn(move || {
                loop {
                    match Frame::read(&mut subscriber.reader) {
                        Ok(Frame::Array(items)) if items.len() == 3 => {
                            if items[1] == Frame::Bulk(b"soak:stop".to_vec()) {
                                break;
                            }
                            tally.received.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            unexpected(tally, "a message", &other.ok());
                            break;
                        }
                    }
                }
            });
        }
        let clients: Vec<_> = (0..opts.clients)
            .map(|id| {
                let (stop, tally) = (&stop, &tally);
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(s, move || client(id, addr, stop, tally))
                    .expect("spawn client")
            })
            .collect();
        while started.elapsed() < Duration::from_secs(opts.seconds) {
            std::thread::sleep(Duration::from_millis(500));
            samples.push((started.elapsed().as_secs_f64(), rss_kib()));
        }
        stop.store(true, Ordering::Relaxed);
        // No client publishes any more: a message published after the stop
        // message would reach a subscriber that stopped counting.
        for client in clients {
            client.join().expect("client thread");
        }
        // Every acknowledged message reaches the subscriber (in flight
        // ones within a deadline).
        let deadline = Instant::now() + Duration::from_secs(10);
        while tally.received.load(Ordering::Relaxed) < tally.published.load(Ordering::Relaxed)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut conn = Conn::open(addr).expect("connect");
        conn.call(&tally, &[b"PUBLISH", b"soak:stop", b"."]);
    });
    drop(subscriber);
    // All clients have disconnected: every worker must be back in the pool.
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.sessions.active() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let active = state.sessions.active();
    // The counter must equal the increments clients saw succeed.
    let mut conn = Conn::open(addr).expect("connect");
    let counter = conn.call(&tally, &[b"GET", b"counter"]);
    let counter: u64 = match &counter {
        Some(Frame::Bulk(v)) => String::from_utf8_lossy(v).parse().unwrap_or(u64::MAX),
        Some(Frame::NullBulk) => 0,
        _ => u64::MAX,
    };
    drop(conn);
    let shutdown = server.shutdown();

    // RSS drift: the mean of the last third of samples against the mean of
    // the middle third (after warm-up).
    let third = samples.len() / 3;
    let mean =
        |s: &[(f64, u64)]| s.iter().map(|&(_, r)| r as f64).sum::<f64>() / s.len().max(1) as f64;
    let middle = mean(&samples[third..2 * third]);
    let last = mean(&samples[2 * third..]);
    let drift = if middle > 0.0 {
        (last - middle) / middle * 100.0
    } else {
        0.0
    };
    let commands = tally.commands.load(Ordering::Relaxed);
    let protocol_errors = tally.protocol_errors.load(Ordering::Relaxed);
    let unexpected = tally.unexpected.load(Ordering::Relaxed);
    let increments = tally.counter_increments.load(Ordering::Relaxed);
    let (published, received) = (
        tally.published.load(Ordering::Relaxed),
        tally.received.load(Ordering::Relaxed),
    );
    println!("soak: {published} messages published, {received} received");
    println!(
        "soak: {} clients, {}s, {commands} commands ({:.0}/s), {} pair reads checked, {increments} counter increments",
        opts.clients,
        opts.seconds,
        commands as f64 / opts.seconds as f64,
        tally.transactions_checked.load(Ordering::Relaxed)
    );
    println!(
        "soak: protocol errors {protocol_errors}, unexpected replies {unexpected}, workers still busy {active}, RSS {:.1} -> {:.1} MiB (drift {drift:+.1}%), shutdown {:?}",
        middle / 1024.0,
        last / 1024.0,
        shutdown.as_ref().map(|_| "clean")
    );
    let mut failed = false;
    for (what, bad) in [
        ("protocol errors", protocol_errors > 0),
        ("unexpected replies", unexpected > 0),
        ("workers not returned to the pool", active > 0),
        (
            "WATCH counter differs from successful increments",
            counter != increments,
        ),
        ("unclean shutdown", shutdown.is_err()),
        ("published messages lost", received != published),
        ("no work done", commands == 0),
    ] {
        if bad {
            eprintln!("soak FAILED: {what}");
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
