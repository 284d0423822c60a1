//! `sedis-benchmark`: a load generator and latency report, a work-alike of
//! redis-benchmark 7.0.15 (same options, same requests, same report).
//!
//! ```text
//! sedis-benchmark [OPTIONS] [--] [COMMAND ARGS...]
//! ```
//!
//! Without a command it runs redis-benchmark's suite (`-t` picks tests);
//! with one it benchmarks that command, `__rand_int__` in its arguments
//! replaced by random numbers with `-r`.
//!
//! - [`engine`]: the connections and the event loop that drives them.
//! - [`histogram`]: latencies, kept as HdrHistogram keeps them.
//! - this file: options, the test suite, progress and reports.

mod engine;
mod histogram;

#[path = "../shared/options.rs"]
mod options;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use sedis::Frame;
use sedis::client::{Connection, error_text};

use options::{Grammar, Target, os_bytes};

use engine::{Progress, Workload};
use histogram::Histogram;

/// How often the progress line is redrawn.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

const MAX_THREADS: usize = 500;

/// Options that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "-h",
    "-p",
    "-a",
    "--user",
    "-c",
    "-n",
    "-d",
    "-P",
    "-r",
    "-t",
    "-k",
    "--dbnum",
    "--precision",
    "--threads",
];

/// Options that stand alone.
const FLAG_OPTIONS: &[&str] = &[
    "-q",
    "--csv",
    "-l",
    "-e",
    "-3",
    "-x",
    "--help",
    "-v",
    "--version",
];

const USAGE: &str = "\
Usage: sedis-benchmark [OPTIONS] [--] [COMMAND ARGS...]

Options:
 -h <hostname>      Server hostname (default 127.0.0.1)
 -p <port>          Server port (default 6380)
 -a <password>      Password for Redis Auth
 --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
 -c <clients>       Number of parallel connections (default 50)
 -n <requests>      Total number of requests (default 100000)
 -d <size>          Data size of SET/GET value in bytes (default 3)
 --dbnum <db>       SELECT the specified db number (default 0)
 -3                 Start session in RESP3 protocol mode.
 --threads <num>    Number of event-loop threads driving the clients (default 1).
 -k <boolean>       1=keep alive 0=reconnect (default 1)
 -r <keyspacelen>   Use random keys for SET/GET/INCR, random values for SADD,
                    random members and scores for ZADD.
                    Using this option the benchmark will expand the string
                    __rand_int__ inside an argument with a 12 digits number in
                    the specified range from 0 to keyspacelen-1. The
                    substitution changes every time a command is executed.
                    Default tests use this to hit random keys in the specified
                    range.
                    Note: If -r is omitted, all commands in a benchmark will
                    use the same key.
 -P <numreq>        Pipeline <numreq> requests. Default 1 (no pipeline).
 -q                 Quiet. Just show query/sec values
 --precision        Number of significant figures kept by the latency histogram (default 3)
 --csv              Output in CSV format
 -l                 Loop. Run the tests forever
 -t <tests>         Only run the comma separated list of tests. The test
                    names are the same as the ones produced as output.
                    The -t option is ignored if a specific command is supplied
                    on the command line.
 -x                 Read last argument from STDIN.
 --help             Output this help and exit.
 --version          Output version and exit.

Examples:

 Run the benchmark with the default configuration against 127.0.0.1:6380:
   $ sedis-benchmark

 Use 20 parallel clients, for a total of 100k requests, against 192.168.1.1:
   $ sedis-benchmark -h 192.168.1.1 -p 6380 -n 100000 -c 20

 Fill 127.0.0.1:6380 with about 1 million keys only using the SET test:
   $ sedis-benchmark -t set -n 1000000 -r 100000000

 Benchmark 127.0.0.1:6380 for a few commands producing CSV output:
   $ sedis-benchmark -t ping,set,get -n 100000 --csv

 Benchmark a specific command line:
   $ sedis-benchmark -r 10000 -n 10000 -- SET key:__rand_int__ value

 Fill a list with 10000 random elements:
   $ sedis-benchmark -r 10000 -n 10000 lpush mylist __rand_int__

 On user specified command lines __rand_int__ is replaced with a random integer
 with a range of values selected by the -r option.
";

#[derive(Debug, Clone)]
struct Options {
    /// Where to connect and as whom.
    target: Target,
    clients: usize,
    requests: u64,
    data_size: usize,
    dbnum: i64,
    resp3: bool,
    /// 0 when `--threads` was not given (the report says "multi-thread: no"
    /// and one thread runs the loop).
    threads: usize,
    keepalive: bool,
    /// `-r`: substitute `__rand_int__` with numbers below this.
    keyspace: Option<u64>,
    pipeline: usize,
    quiet: bool,
    csv: bool,
    repeat_forever: bool,
    /// `-t`, as ",name,name," (lower case) so that ",name," finds a test.
    tests: Option<String>,
    stdin_last_arg: bool,
    precision: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: Target::default(),
            clients: 50,
            requests: 100_000,
            data_size: 3,
            dbnum: 0,
            resp3: false,
            threads: 0,
            keepalive: true,
            keyspace: None,
            pipeline: 1,
            quiet: false,
            csv: false,
            repeat_forever: false,
            tests: None,
            stdin_last_arg: false,
            precision: 3,
        }
    }
}

impl Options {
    /// True if `-t` selected the test (or no `-t` was given).
    fn selected(&self, name: &str) -> bool {
        match &self.tests {
            None => true,
            Some(tests) => tests.contains(&format!(",{name},")),
        }
    }
}

enum Stop {
    Usage,
    Version,
    /// A bad option (named), then the usage text.
    Invalid(String),
}

/// Splits the command line into options and the command to benchmark. The
/// first word that is not an option (or the word after `--`) starts the
/// command. Each option is paired with its value word as it is found, so
/// an option's value never passes for an option.
fn parse_options(args: Vec<OsString>) -> Result<(Options, Vec<Vec<u8>>), Stop> {
    let grammar = Grammar {
        value: VALUE_OPTIONS,
        flag: FLAG_OPTIONS,
        double_dash: true,
    };
    let (order, command_at) = grammar.split(&args).map_err(Stop::Invalid)?;
    let command: Vec<Vec<u8>> = args[command_at..].iter().map(os_bytes).collect();
    let mut opts = Options::default();
    for (key, word) in order {
        // A value option always has its word (see above).
        let raw = || word.cloned().unwrap_or_default();
        let invalid = |()| Stop::Invalid(key.to_string());
        if opts.target.take(key, word).map_err(|_| invalid(()))? {
            continue;
        }
        match key {
            "--help" => return Err(Stop::Usage),
            "-v" | "--version" => return Err(Stop::Version),
            "-c" => {
                let clients: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.clients = clients.max(1) as usize;
            }
            "-n" => {
                let requests: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.requests = requests.max(0) as u64;
            }
            "-d" => {
                let size: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.data_size = size.clamp(1, 1 << 30) as usize;
            }
            "-P" => {
                let pipeline: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.pipeline = pipeline.clamp(1, 1 << 20) as usize;
            }
            "-r" => {
                let keyspace: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.keyspace = Some(keyspace.max(0) as u64);
            }
            "-t" => {
                let tests: String = parse_value(&raw()).map_err(invalid)?;
                opts.tests = Some(format!(",{},", tests.to_lowercase()));
            }
            "-k" => {
                let keepalive: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.keepalive = keepalive != 0;
            }
            "--dbnum" => opts.dbnum = parse_value(&raw()).map_err(invalid)?,
            "--precision" => {
                let precision: i64 = parse_value(&raw()).map_err(invalid)?;
                opts.precision = if precision < 0 {
                    3
                } else {
                    // HdrHistogram needs at least one significant figure.
                    precision.clamp(1, 4) as u32
                };
            }
            "--threads" => {
                let threads: i64 = parse_value(&raw()).map_err(invalid)?;
                if threads > MAX_THREADS as i64 {
                    eprintln!("WARNING: Too many threads, limiting threads to {MAX_THREADS}.");
                }
                opts.threads = threads.clamp(0, MAX_THREADS as i64) as usize;
            }
            flag => match flag {
                "-q" => opts.quiet = true,
                "--csv" => opts.csv = true,
                "-l" => opts.repeat_forever = true,
                "-3" => opts.resp3 = true,
                "-x" => opts.stdin_last_arg = true,
                "-e" => eprintln!(
                    "WARNING: -e option has no effect. We now immediately exit on error to avoid false results."
                ),
                other => return Err(Stop::Invalid(other.to_string())),
            },
        }
    }
    Ok((opts, command))
}

/// An option's value, parsed (the words are read as UTF-8); a value that
/// does not parse makes its option invalid.
fn parse_value<T: std::str::FromStr>(word: &OsString) -> Result<T, ()> {
    word.to_string_lossy().parse().map_err(|_| ())
}

/// Writes to stdout; a closed stdout ends the program quietly.
fn out(text: &str) {
    let mut stdout = io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(1);
    }
}

/// Ends the program the way redis-benchmark does on any error.
fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}

/// The server's persistence settings, shown in the full report.
struct ServerConfig {
    save: String,
    appendonly: String,
}

/// Asks the server for `save` and `appendonly` (after AUTH if needed).
/// `None` when it will not tell (sedis has no CONFIG GET yet); a refused
/// password ends the program, as in redis-benchmark.
fn fetch_server_config(opts: &Options) -> Option<ServerConfig> {
    let mut conn = match Connection::connect(&opts.target.host, opts.target.port) {
        Ok(conn) => conn,
        Err(err) => fail(&format!(
            "Could not connect to Redis at {}:{}: {}",
            opts.target.host,
            opts.target.port,
            error_text(&err)
        )),
    };
    let node_error = |text: &[u8]| -> ! {
        fail(&format!(
            "Node {}:{} replied with error:\n{}",
            opts.target.host,
            opts.target.port,
            String::from_utf8_lossy(text)
        ))
    };
    if let Some(argv) = opts.target.auth() {
        match conn.call(&argv) {
            Ok(Frame::Error(text)) => node_error(&text),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    let mut values = Vec::new();
    for name in ["save", "appendonly"] {
        match conn.call(&["CONFIG", "GET", name]).ok()? {
            Frame::Error(text) if text.starts_with(b"NOAUTH") => node_error(&text),
            Frame::Array(items) if items.len() >= 2 => {
                let value = items[1].as_bytes().unwrap_or_default();
                values.push(String::from_utf8_lossy(value).into_owned());
            }
            _ => return None,
        }
    }
    let appendonly = values.pop()?;
    let save = values.pop()?;
    Some(ServerConfig { save, appendonly })
}

/// The live "SET: rps=... (overall: ...) avg_msec=..." line, redrawn in
/// place on a terminal.
struct ProgressLine {
    enabled: bool,
    /// The width of the last line drawn, to blank it before the next.
    width: usize,
    last_tick: Instant,
    last_finished: u64,
    last_latency_sum: u64,
}

impl ProgressLine {
    fn new(enabled: bool, start: Instant) -> ProgressLine {
        ProgressLine {
            enabled,
            width: 0,
            last_tick: start,
            last_finished: 0,
            last_latency_sum: 0,
        }
    }

    fn tick(&mut self, title: &str, progress: &Progress, start: Instant) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let finished = progress.finished.load(std::sync::atomic::Ordering::Relaxed);
        let latency_sum = progress
            .latency_sum_us
            .load(std::sync::atomic::Ordering::Relaxed);
        let per_second = |count: u64, since: Instant| {
            let secs = now.duration_since(since).as_secs_f64();
            if secs > 0.0 { count as f64 / secs } else { 0.0 }
        };
        let avg_ms = |sum: u64, count: u64| {
            if count > 0 {
                sum as f64 / count as f64 / 1000.0
            } else {
                0.0
            }
        };
        let line = format!(
            "{title}: rps={:.1} (overall: {:.1}) avg_msec={:.3} (overall: {:.3})",
            per_second(finished - self.last_finished, self.last_tick),
            per_second(finished, start),
            avg_ms(
                latency_sum - self.last_latency_sum,
                finished - self.last_finished
            ),
            avg_ms(latency_sum, finished),
        );
        self.clear();
        out(&format!("{line}\r"));
        self.width = line.len();
        self.last_tick = now;
        self.last_finished = finished;
        self.last_latency_sum = latency_sum;
    }

    /// Blanks the line so the report starts clean.
    fn clear(&self) {
        if self.enabled && self.width > 0 {
            out(&format!("{:width$}\r", "", width = self.width));
        }
    }
}

/// What a finished run measured.
struct Measured {
    histogram: Histogram,
    elapsed: Duration,
}

/// Runs one benchmark: `request` sent `opts.requests` times over
/// `opts.clients` connections, `opts.pipeline` at a time.
fn run(title: &str, request: Vec<u8>, opts: &Options, addr: SocketAddr) -> Measured {
    let (prefix, prefix_replies) = connection_prefix(opts);
    let threads = opts.threads.max(1);
    let work = Workload {
        addr,
        prefix,
        prefix_replies,
        request,
        pipeline: opts.pipeline,
        keyspace: opts.keyspace,
        requests: opts.requests,
        clients: opts.clients,
        threads,
        keepalive: opts.keepalive,
        precision: opts.precision,
    };
    let progress = Progress::default();
    // Every thread connects its clients first; the clock starts when all
    // are connected.
    let connected = Barrier::new(threads + 1);
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<()>();
    let (results, elapsed) = crossbeam_utils::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (work, progress, connected, done) =
                    (&work, &progress, &connected, done_tx.clone());
                scope.spawn(move |_| {
                    let clients = engine::share(work.clients, work.threads, t);
                    let result =
                        engine::run_thread(work, clients, progress, engine::seed(t), connected);
                    let _ = done.send(());
                    result
                })
            })
            .collect();
        drop(done_tx);
        connected.wait();
        let start = Instant::now();
        let mut line = ProgressLine::new(io::stdout().is_terminal() && !opts.csv, start);
        let mut running = threads;
        while running > 0 {
            match done_rx.recv_timeout(PROGRESS_INTERVAL) {
                Ok(()) => running -= 1,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    line.tick(title, &progress, start)
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
        }
        let elapsed = start.elapsed();
        line.clear();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("Error: a benchmark thread panicked".to_string()))
            })
            .collect();
        (results, elapsed)
    })
    .unwrap_or_else(|_| fail("Error: a benchmark thread panicked"));
    let mut histogram = Histogram::new(
        engine::LATENCY_MIN_US,
        engine::LATENCY_MAX_US,
        opts.precision,
    );
    for result in results {
        match result {
            Ok(h) => histogram.add(&h),
            Err(message) => fail(&message),
        }
    }
    Measured { histogram, elapsed }
}

/// AUTH, SELECT and HELLO 3, sent ahead of the first batch on every
/// connection, and how many replies they produce.
fn connection_prefix(opts: &Options) -> (Vec<u8>, usize) {
    let mut prefix = Vec::new();
    let mut replies = 0;
    if let Some(argv) = opts.target.auth() {
        Frame::encode_request(&argv, &mut prefix);
        replies += 1;
    }
    if opts.dbnum != 0 {
        Frame::encode_request(&["SELECT".to_string(), opts.dbnum.to_string()], &mut prefix);
        replies += 1;
    }
    if opts.resp3 {
        Frame::encode_request(&["HELLO", "3"], &mut prefix);
        replies += 1;
    }
    (prefix, replies)
}

/// Prints the results in the chosen format.
fn report(
    title: &str,
    measured: &Measured,
    opts: &Options,
    data_size: usize,
    config: Option<&ServerConfig>,
) {
    let h = &measured.histogram;
    let finished = h.total();
    let secs = measured.elapsed.as_secs_f64();
    let rps = if secs > 0.0 {
        finished as f64 / secs
    } else {
        0.0
    };
    let ms = |us: u64| us as f64 / 1000.0;
    let (avg, min, max) = (h.mean() / 1000.0, ms(h.min()), ms(h.max()));
    let (p50, p95, p99) = (
        ms(h.value_at_percentile(50.0)),
        ms(h.value_at_percentile(95.0)),
        ms(h.value_at_percentile(99.0)),
    );
    if opts.csv {
        out(&format!(
            "\"{title}\",\"{rps:.2}\",\"{avg:.3}\",\"{min:.3}\",\"{p50:.3}\",\"{p95:.3}\",\"{p99:.3}\",\"{max:.3}\"\n"
        ));
        return;
    }
    if opts.quiet {
        out(&format!(
            "{title}: {rps:.2} requests per second, p50={p50:.3} msec\n"
        ));
        return;
    }
    let mut text = format!("====== {title} ======\n");
    text += &format!("  {finished} requests completed in {secs:.2} seconds\n");
    text += &format!("  {} parallel clients\n", opts.clients);
    text += &format!("  {data_size} bytes payload\n");
    text += &format!("  keep alive: {}\n", u8::from(opts.keepalive));
    if let Some(config) = config {
        text += &format!("  host configuration \"save\": {}\n", config.save);
        text += &format!(
            "  host configuration \"appendonly\": {}\n",
            config.appendonly
        );
    }
    if opts.threads > 0 {
        text += &format!("  multi-thread: yes\n  threads: {}\n", opts.threads);
    } else {
        text += "  multi-thread: no\n";
    }
    text += "\nLatency by percentile distribution:\n";
    distribution(&mut text, h, h.percentile_steps());
    text += "\nCumulative distribution of latencies:\n";
    // Steps of 0.1 ms; past 2 ms, finer steps would only add noise.
    distribution(&mut text, h, h.linear_steps(100, 2000, 1000));
    text += "\nSummary:\n";
    text += &format!("  throughput summary: {rps:.2} requests per second\n");
    text += "  latency summary (msec):\n";
    text += &format!(
        "    {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "avg", "min", "p50", "p95", "p99", "max"
    );
    text += &format!("    {avg:9.3} {min:9.3} {p50:9.3} {p95:9.3} {p99:9.3} {max:9.3}\n");
    out(&text);
}

/// Distribution lines, skipping steps that add no values (except at 100%).
fn distribution(text: &mut String, h: &Histogram, steps: Vec<histogram::Step>) {
    let mut previous = None;
    for step in steps {
        if previous != Some(step.cumulative) || step.cumulative == h.total() {
            *text += &format!(
                "{:3.3}% <= {:.3} milliseconds (cumulative count {})\n",
                step.percentile,
                step.value as f64 / 1000.0,
                step.cumulative
            );
        }
        previous = Some(step.cumulative);
    }
}

/// redis-benchmark's value bytes: a fixed pseudo-random sequence (so runs
/// are comparable) of characters from '0' onwards, continued across `-l`
/// loops.
struct ValueData {
    state: u32,
}

impl ValueData {
    fn next(&mut self, size: usize) -> Vec<u8> {
        (0..size)
            .map(|_| {
                self.state = self.state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b'0' + ((self.state >> 16) & 63) as u8
            })
            .collect()
    }
}

/// The default suite: (test name(s) that select it, title, arguments).
fn suite(data: &[u8], opts: &Options) -> Vec<(String, Vec<Vec<u8>>)> {
    let args = |words: &[&[u8]]| words.iter().map(|w| w.to_vec()).collect::<Vec<_>>();
    let mut tests = Vec::new();
    let mut add = |selected: bool, title: &str, argv: Vec<Vec<u8>>| {
        if selected {
            tests.push((title.to_string(), argv));
        }
    };
    let sel = |name: &str| opts.selected(name);
    // PING_INLINE is sent inline; an empty argv marks it.
    add(sel("ping_inline") || sel("ping"), "PING_INLINE", Vec::new());
    add(
        sel("ping_mbulk") || sel("ping"),
        "PING_MBULK",
        args(&[b"PING"]),
    );
    add(
        sel("set"),
        "SET",
        args(&[b"SET", b"key:__rand_int__", data]),
    );
    add(sel("get"), "GET", args(&[b"GET", b"key:__rand_int__"]));
    add(
        sel("incr"),
        "INCR",
        args(&[b"INCR", b"counter:__rand_int__"]),
    );
    add(sel("lpush"), "LPUSH", args(&[b"LPUSH", b"mylist", data]));
    add(sel("rpush"), "RPUSH", args(&[b"RPUSH", b"mylist", data]));
    add(sel("lpop"), "LPOP", args(&[b"LPOP", b"mylist"]));
    add(sel("rpop"), "RPOP", args(&[b"RPOP", b"mylist"]));
    add(
        sel("sadd"),
        "SADD",
        args(&[b"SADD", b"myset", b"element:__rand_int__"]),
    );
    add(
        sel("hset"),
        "HSET",
        args(&[b"HSET", b"myhash", b"element:__rand_int__", data]),
    );
    add(sel("spop"), "SPOP", args(&[b"SPOP", b"myset"]));
    let score: &[u8] = if opts.keyspace.is_some() {
        b"__rand_int__"
    } else {
        b"0"
    };
    add(
        sel("zadd"),
        "ZADD",
        args(&[b"ZADD", b"myzset", score, b"element:__rand_int__"]),
    );
    add(sel("zpopmin"), "ZPOPMIN", args(&[b"ZPOPMIN", b"myzset"]));
    let any_lrange = [
        "lrange",
        "lrange_100",
        "lrange_300",
        "lrange_500",
        "lrange_600",
    ]
    .iter()
    .any(|name| sel(name));
    add(
        any_lrange,
        "LPUSH (needed to benchmark LRANGE)",
        args(&[b"LPUSH", b"mylist", data]),
    );
    for (count, last) in [(100, "99"), (300, "299"), (500, "499"), (600, "599")] {
        add(
            sel("lrange") || sel(&format!("lrange_{count}")),
            &format!("LRANGE_{count} (first {count} elements)"),
            args(&[b"LRANGE", b"mylist", b"0", last.as_bytes()]),
        );
    }
    let mut mset = args(&[b"MSET"]);
    for _ in 0..10 {
        mset.extend(args(&[b"key:__rand_int__", data]));
    }
    add(sel("mset"), "MSET (10 keys)", mset);
    tests
}

fn encode(argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.is_empty() {
        return b"PING\r\n".to_vec();
    }
    let mut request = Vec::new();
    Frame::encode_request(argv, &mut request);
    request
}

fn main() -> ExitCode {
    let (opts, mut command) = match parse_options(std::env::args_os().skip(1).collect()) {
        Ok(parsed) => parsed,
        Err(Stop::Usage) => {
            out(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(Stop::Version) => {
            out(&format!(
                "sedis-benchmark {} (Redis-compatible {})\n",
                sedis::SEDIS_VERSION,
                sedis::REDIS_VERSION
            ));
            return ExitCode::SUCCESS;
        }
        Err(Stop::Invalid(option)) => {
            out(&format!(
                "Invalid option \"{option}\" or option argument missing\n\n{USAGE}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let addr = match (opts.target.host.as_str(), opts.target.port)
        .to_socket_addrs()
        .map(|mut addrs| addrs.next())
    {
        Ok(Some(addr)) => addr,
        Ok(None) => fail(&format!(
            "Could not connect to Redis at {}:{}: Name or service not known",
            opts.target.host, opts.target.port
        )),
        Err(err) => fail(&format!(
            "Could not connect to Redis at {}:{}: {}",
            opts.target.host,
            opts.target.port,
            error_text(&err)
        )),
    };
    let config = fetch_server_config(&opts);
    if config.is_none() {
        eprintln!("WARNING: Could not fetch server CONFIG");
    }
    if !opts.keepalive {
        eprintln!(
            "WARNING: Keepalive disabled. You probably need 'echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse' for Linux and 'sudo sysctl -w net.inet.tcp.msl=1000' for Mac OS X in order to use a lot of clients/requests"
        );
    }
    if !command.is_empty() && opts.tests.is_some() {
        eprintln!("WARNING: Option -t is ignored.");
    }
    if opts.csv {
        out(
            "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n",
        );
    }
    if !command.is_empty() {
        let title = command
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        if opts.stdin_last_arg {
            let mut last = Vec::new();
            if let Err(err) = io::stdin().read_to_end(&mut last) {
                fail(&format!("Reading from standard input: {err}"));
            }
            command.push(last);
        }
        let request = encode(&command);
        loop {
            let measured = run(&title, request.clone(), &opts, addr);
            // For a given command, the "payload" is the whole request.
            report(&title, &measured, &opts, request.len(), config.as_ref());
            if !opts.repeat_forever {
                return ExitCode::SUCCESS;
            }
        }
    }
    let mut data = ValueData { state: 1234 };
    loop {
        let value = data.next(opts.data_size);
        for (title, argv) in suite(&value, &opts) {
            let measured = run(&title, encode(&argv), &opts, addr);
            report(&title, &measured, &opts, opts.data_size, config.as_ref());
        }
        if !opts.csv {
            out("\n");
        }
        if !opts.repeat_forever {
            return ExitCode::SUCCESS;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_then_the_command() {
        let Ok((opts, command)) = parse_options(args(&["-n", "10", "-P", "4", "SET", "k", "-q"]))
        else {
            panic!("parse failed");
        };
        assert_eq!((opts.requests, opts.pipeline, opts.quiet), (10, 4, false));
        assert_eq!(
            command,
            vec![b"SET".to_vec(), b"k".to_vec(), b"-q".to_vec()]
        );
        let Ok((opts, command)) = parse_options(args(&["-q", "--", "GET", "k"])) else {
            panic!("parse failed");
        };
        assert!(opts.quiet);
        assert_eq!(command, vec![b"GET".to_vec(), b"k".to_vec()]);
    }

    #[test]
    fn values_are_clamped_like_redis_benchmark() {
        let Ok((opts, _)) =
            parse_options(args(&["-r", "-5", "-P", "0", "-d", "0", "-t", "SET,Get"]))
        else {
            panic!("parse failed");
        };
        assert_eq!(
            (opts.keyspace, opts.pipeline, opts.data_size),
            (Some(0), 1, 1)
        );
        assert!(opts.selected("set") && opts.selected("get") && !opts.selected("incr"));
        for bad in [&["-c"][..], &["-c", "x"], &["--bogus"]] {
            assert!(
                matches!(parse_options(args(bad)), Err(Stop::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn value_data_is_redis_benchmarks_sequence() {
        // The bytes redis-benchmark 7.0.15 sends for -d 3 and -d 10.
        assert_eq!(ValueData { state: 1234 }.next(3), b"VXK");
        assert_eq!(ValueData { state: 1234 }.next(10), b"VXKeHogKgJ");
    }

    #[test]
    fn the_suite_sends_redis_benchmarks_requests() {
        let opts = Options {
            tests: Some(",ping,zadd,lrange_300,mset,".to_string()),
            ..Options::default()
        };
        let titles: Vec<String> = suite(b"xyz", &opts).into_iter().map(|t| t.0).collect();
        assert_eq!(
            titles,
            [
                "PING_INLINE",
                "PING_MBULK",
                "ZADD",
                "LPUSH (needed to benchmark LRANGE)",
                "LRANGE_300 (first 300 elements)",
                "MSET (10 keys)"
            ]
        );
        let tests = suite(b"xyz", &opts);
        assert_eq!(encode(&tests[0].1), b"PING\r\n");
        assert_eq!(
            encode(&tests[2].1),
            b"*4\r\n$4\r\nZADD\r\n$6\r\nmyzset\r\n$1\r\n0\r\n$20\r\nelement:__rand_int__\r\n"
        );
        assert_eq!(tests[5].1.len(), 21);
    }
}
