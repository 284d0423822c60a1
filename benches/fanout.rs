//! Pub/sub fan-out: messages delivered per second to 1, 10 and 100
//! subscribers of one channel, from one publisher pipelining PUBLISH in
//! batches. Runs against an in-process sedis, and against any server given
//! as `FANOUT_ADDR=host:port` (e.g. a redis-server, to compare the two
//! measured the same way):
//!
//! ```sh
//! cargo bench --bench fanout
//! FANOUT_ADDR=127.0.0.1:6379 cargo bench --bench fanout
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::Instant;

const CHANNEL: &str = "fanout";
const PAYLOAD: &str = "0123456789abcdef";
const BATCH: usize = 100;

fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// The bytes of one delivered message frame (RESP2).
fn message_len() -> usize {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{CHANNEL}\r\n${}\r\n{PAYLOAD}\r\n",
        CHANNEL.len(),
        PAYLOAD.len()
    )
    .len()
}

/// Deliveries per second with `subscribers` subscribers and `messages`
/// published messages.
fn run(addr: SocketAddr, subscribers: usize, messages: usize) -> f64 {
    let ready = Arc::new(Barrier::new(subscribers + 1));
    let mut handles = Vec::new();
    for _ in 0..subscribers {
        let ready = ready.clone();
        handles.push(std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream.set_nodelay(true).ok();
            stream
                .write_all(&command(&["SUBSCRIBE", CHANNEL]))
                .expect("subscribe");
            let mut reader = BufReader::new(stream);
            // The subscribe confirmation: three lines of header + 2 bulks.
            let mut line = String::new();
            for _ in 0..6 {
                line.clear();
                reader.read_line(&mut line).expect("confirmation");
            }
            ready.wait();
            let mut left = messages * message_len();
            let mut buf = vec![0u8; 64 * 1024];
            while left > 0 {
                let want = left.min(buf.len());
                let n = reader.read(&mut buf[..want]).expect("read");
                assert!(n > 0, "server closed the subscriber");
                left -= n;
            }
        }));
    }
    ready.wait();
    let mut publisher = TcpStream::connect(addr).expect("connect");
    publisher.set_nodelay(true).ok();
    let mut replies = BufReader::new(publisher.try_clone().expect("clone"));
    let one = command(&["PUBLISH", CHANNEL, PAYLOAD]);
    let batch: Vec<u8> = one.repeat(BATCH);
    let start = Instant::now();
    let mut sent = 0;
    let mut line = String::new();
    while sent < messages {
        let n = BATCH.min(messages - sent);
        publisher
            .write_all(&batch[..n * one.len()])
            .expect("publish");
        for _ in 0..n {
            line.clear();
            replies.read_line(&mut line).expect("reply");
        }
        sent += n;
    }
    for h in handles {
        h.join().expect("subscriber");
    }
    let secs = start.elapsed().as_secs_f64();
    (subscribers * messages) as f64 / secs
}

fn measure(name: &str, addr: SocketAddr) {
    for (subscribers, messages) in [(1, 200_000), (10, 50_000), (100, 5_000)] {
        // One warm-up round, then the best of three (the machine is shared).
        run(addr, subscribers, messages / 10);
        let best = (0..3)
            .map(|_| run(addr, subscribers, messages))
            .fold(0.0, f64::max);
        println!("{name}: {subscribers:>3} subscribers: {best:>12.0} messages delivered/s");
    }
}

fn main() {
    // `cargo test` runs benches with `--bench` absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    match std::env::var("FANOUT_ADDR") {
        Ok(addr) => measure(&addr, addr.parse().expect("FANOUT_ADDR=host:port")),
        Err(_) => {
            let config = sedis::Config {
                port: 0,
                loglevel: sedis::config::LogLevel::Warning,
                save: Vec::new(),
                ..sedis::Config::default()
            };
            let server = sedis::Server::bind(config)
                .expect("bind")
                .spawn()
                .expect("spawn");
            measure("sedis", server.local_addr());
            server.shutdown().expect("shutdown");
        }
    }
}
