//! `sedis-cli`: the command-line client, a work-alike of redis-cli 7.0.15.
//!
//! ```text
//! sedis-cli [OPTIONS] [cmd [arg ...]]
//! ```
//!
//! With a command it sends it, prints the reply and exits (one-shot mode).
//! Without one it reads commands: from a prompt with line editing and
//! history when standard input is a terminal, line by line otherwise.
//! Replies are printed exactly as redis-cli prints them: the human form on a
//! terminal, the raw form when output goes to a pipe (see [`mod@format`]).
//!
//! - [`mod@format`]: replies → text (terminal, raw, CSV).
//! - [`editor`], [`history`]: the prompt.
//! - [`help`]: `help` from the server's `COMMAND DOCS`.
//! - this file: options, the connection's life (handshake, reconnecting),
//!   sending commands, subscribe and monitor modes, Ctrl-C.

mod editor;
mod format;
mod help;
mod history;

#[path = "../shared/options.rs"]
mod options;
use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sedis::Frame;
use sedis::client::{Connection, error_text};

use options::{Grammar, Target, os_bytes};
use sedis::internals::resp::reader::split_args;

use format::{Delimiters, Output};
use help::Help;
use history::History;

/// Options that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "-h",
    "-p",
    "-a",
    "--pass",
    "--user",
    "-n",
    "-r",
    "-i",
    "-d",
    "-D",
    "--show-pushes",
];

/// Options that stand alone.
const FLAG_OPTIONS: &[&str] = &[
    "-x",
    "-e",
    "-2",
    "-3",
    "--raw",
    "--no-raw",
    "--csv",
    "--no-auth-warning",
    "--help",
    "-v",
    "--version",
];

const USAGE: &str = "\
Usage: sedis-cli [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6380).
  -a <password>      Password to use when connecting to the server.
                     You can also use the SEDISCLI_AUTH environment
                     variable to pass this password more safely
                     (if both are used, this argument takes precedence).
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  -r <repeat>        Execute specified command N times.
  -i <interval>      When -r is used, waits <interval> seconds per command.
                     It is possible to specify sub-second times like -i 0.1.
  -n <db>            Database number.
  -2                 Start session in RESP2 protocol mode.
  -3                 Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN (see example below).
  -d <delimiter>     Delimiter between response bulks for raw formatting (default: \\n).
  -D <delimiter>     Delimiter between responses for raw formatting (default: \\n).
  -e                 Return exit error code when command execution fails.
  --raw              Use raw formatting for replies (default when STDOUT is
                     not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --csv              Output in CSV format.
  --show-pushes <yn> Whether to print RESP3 PUSH messages.  Enabled by default when
                     STDOUT is a tty but can be overridden with --show-pushes no.
  --no-auth-warning  Don't show warning message when using password on command
                     line interface.
  --help             Output this help and exit.
  --version          Output version and exit.

Examples:
  cat /etc/passwd | sedis-cli -x set mypasswd
  sedis-cli -r 100 lpush mylist x
  sedis-cli -r 100 -i 1 info | grep used_memory_human:

When no command is given, sedis-cli starts in interactive mode.
Type \"help\" in interactive mode for information on available commands.
";

/// Everything the command line decides.
#[derive(Debug, Clone)]
struct Options {
    /// Where to connect and as whom.
    target: Target,
    /// The database to select after connecting.
    db: i64,
    /// `-3`: switch to RESP3 with HELLO 3 after connecting.
    resp3: bool,
    /// `-2`: stay in RESP2 (and refuse `-3` with it).
    resp2: bool,
    output: Output,
    delimiters: Delimiters,
    /// Print RESP3 push messages that arrive between replies.
    show_pushes: bool,
    /// `-r`: how many times to send the command (negative: forever).
    repeat: i64,
    /// `-i`: pause after each repetition.
    interval: Duration,
    /// `-x`: standard input is the command's last argument.
    stdin_last_arg: bool,
    /// `-e`: an error reply ends a one-shot run with exit code 1.
    exit_on_error: bool,
    no_auth_warning: bool,
}

impl Default for Options {
    fn default() -> Self {
        // Like redis-cli: the human form for a person at a terminal, the raw
        // form for programs reading a pipe.
        let tty = io::stdout().is_terminal();
        Options {
            target: Target::default(),
            db: 0,
            resp3: false,
            resp2: false,
            output: if tty { Output::Standard } else { Output::Raw },
            delimiters: Delimiters::default(),
            show_pushes: tty,
            repeat: 1,
            interval: Duration::ZERO,
            stdin_last_arg: false,
            exit_on_error: false,
            no_auth_warning: false,
        }
    }
}

/// How parsing the command line ended, when it did not give options.
enum Stop {
    Usage,
    Version,
    Error(String),
}

/// Splits the command line into options and the command. Options come
/// first; the first word that is not an option starts the command, so the
/// command's own arguments may look like options (`sedis-cli echo -p`).
/// Each option is paired with its value word as it is found, so an
/// option's value is never mistaken for an option.
fn parse_options(args: Vec<OsString>) -> Result<(Options, Vec<Vec<u8>>), Stop> {
    let grammar = Grammar {
        value: VALUE_OPTIONS,
        flag: FLAG_OPTIONS,
        double_dash: false,
    };
    let (order, command_at) = grammar.split(&args).map_err(|word| {
        if word == "-h" {
            // redis-cli's habit: a lone trailing -h asks for help.
            Stop::Usage
        } else {
            Stop::Error(format!(
                "Unrecognized option or bad number of args for: '{word}'"
            ))
        }
    })?;
    let command: Vec<Vec<u8>> = args[command_at..].iter().map(os_bytes).collect();
    let mut opts = Options::default();
    for (key, word) in order {
        // A value option always has its word (see above).
        let raw = || word.cloned().unwrap_or_default();
        if opts.target.take(key, word).map_err(Stop::Error)? {
            continue;
        }
        match key {
            "--help" => return Err(Stop::Usage),
            "-v" | "--version" => return Err(Stop::Version),
            "-n" => opts.db = parse_value(&raw()).map_err(Stop::Error)?,
            "-r" => opts.repeat = parse_value(&raw()).map_err(Stop::Error)?,
            "-i" => {
                let seconds: f64 = parse_value(&raw()).map_err(Stop::Error)?;
                if !(0.0..1e9).contains(&seconds) {
                    return Err(Stop::Error(format!("Invalid interval: {seconds}")));
                }
                opts.interval = Duration::from_secs_f64(seconds);
            }
            "-d" => opts.delimiters.element = os_bytes(&raw()),
            "-D" => opts.delimiters.reply = os_bytes(&raw()),
            "--show-pushes" => {
                let value: String = parse_value(&raw()).map_err(Stop::Error)?;
                match value.chars().next().map(|c| c.to_ascii_lowercase()) {
                    Some('y') => opts.show_pushes = true,
                    Some('n') => opts.show_pushes = false,
                    _ => {
                        eprintln!("Unknown --show-pushes value '{value}' (valid: '[y]es', '[n]o')")
                    }
                }
            }
            _ => match key {
                "-x" => opts.stdin_last_arg = true,
                "-e" => opts.exit_on_error = true,
                "-2" => opts.resp2 = true,
                "-3" => opts.resp3 = true,
                "--raw" => opts.output = Output::Raw,
                "--no-raw" => opts.output = Output::Standard,
                "--csv" => opts.output = Output::Csv,
                "--no-auth-warning" => opts.no_auth_warning = true,
                other => {
                    return Err(Stop::Error(format!(
                        "Unrecognized option or bad number of args for: '{other}'"
                    )));
                }
            },
        }
    }
    if opts.resp2 && opts.resp3 {
        return Err(Stop::Error(
            "Options -2 and -3 are mutually exclusive.".to_string(),
        ));
    }
    Ok((opts, command))
}

/// An option's value, parsed (the words are read as UTF-8).
fn parse_value<T: std::str::FromStr>(word: &OsString) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let text = word.to_string_lossy();
    text.parse()
        .map_err(|e| format!("failed to parse '{text}': {e}"))
}

/// An argument's bytes, exactly as given (arguments need not be UTF-8).
/// Ctrl-C while a command runs. In subscribe and monitor modes it ends the
/// mode (the socket is shut down so the blocked read returns, and we
/// reconnect); otherwise it ends the program, as in redis-cli.
#[derive(Default)]
struct Interrupt {
    /// The socket a subscribe/monitor loop is reading, while it does.
    blocking: Mutex<Option<TcpStream>>,
    /// Set when Ctrl-C ended such a loop.
    aborted: AtomicBool,
}

impl Interrupt {
    fn install(self: &Arc<Self>) -> io::Result<()> {
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])?;
        let interrupt = Arc::clone(self);
        std::thread::Builder::new()
            .name("sedis-cli-sigint".into())
            .spawn(move || {
                for _ in signals.forever() {
                    let blocking = interrupt.blocking.lock();
                    match &*blocking {
                        Some(stream) => {
                            interrupt.aborted.store(true, Ordering::SeqCst);
                            let _ = stream.shutdown(std::net::Shutdown::Both);
                        }
                        None => std::process::exit(1),
                    }
                }
            })?;
        Ok(())
    }
}

/// Why sending a command failed.
enum Failure {
    /// Nothing more to say (the reason was printed where it happened).
    Reported,
    /// The connection failed; the caller prints `Error: ...`.
    Io(io::Error),
}

/// The client's state across commands.
struct Cli {
    opts: Options,
    conn: Option<Connection>,
    /// The database the connection is in (redis-cli's `config.dbnum`).
    db: i64,
    /// Inside MULTI: the prompt shows `(TX)`.
    in_multi: bool,
    /// The database before MULTI, restored if the transaction fails.
    db_before_multi: i64,
    /// Reading commands from a prompt or from piped input (not one-shot).
    interactive: bool,
    help: Option<Help>,
    interrupt: Arc<Interrupt>,
}

/// Commands whose reply is text meant to be shown as it is, even on a
/// terminal (redis-cli's list).
fn prints_verbatim(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    let argc = argv.len();
    is(0, "info")
        || is(0, "lolwut")
        || (is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (argc == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (is(0, "client") && (is(1, "list") || is(1, "info")))
        || (argc == 3 && is(0, "latency") && is(1, "graph"))
        || (argc == 2 && is(0, "latency") && is(1, "doctor"))
        || (is(0, "proxy") && is(1, "info"))
}

/// Commands whose arguments may hold secrets and are kept out of history.
fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    let argc = argv.len();
    if is(0, "auth") {
        return true;
    }
    if argc > 1 && is(0, "acl") && is(1, "setuser") {
        return true;
    }
    if argc > 2
        && is(0, "config")
        && is(1, "set")
        && (is(2, "masterauth") || is(2, "masteruser") || is(2, "requirepass"))
    {
        return true;
    }
    if argc > 4 && is(0, "hello") {
        // HELLO protover [AUTH username password] [SETNAME clientname]
        let mut j = 2;
        while j < argc {
            let more = argc - 1 - j;
            if is(j, "auth") && more >= 2 {
                return true;
            } else if is(j, "setname") && more >= 1 {
                j += 2;
            } else {
                return false;
            }
        }
        return false;
    }
    if argc > 7 && is(0, "migrate") {
        for j in 6..argc {
            let more = argc - 1 - j;
            if (is(j, "auth") && more >= 1) || (is(j, "auth2") && more >= 2) {
                return true;
            }
            if is(j, "keys") && more >= 1 {
                return false;
            }
        }
    }
    false
}

/// `strtol`'s reading of a repeat count: `Some` when the whole word is a
/// number (an empty word reads as 0), `None` when it is not a number at all.
fn repeat_count(word: &[u8]) -> Option<Option<i64>> {
    if word.is_empty() {
        return Some(Some(0));
    }
    let text = std::str::from_utf8(word).ok()?;
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A number too large to repeat by is "invalid", not "not a number".
    Some(text.parse().ok())
}

impl Cli {
    fn new(opts: Options, interactive: bool) -> Cli {
        Cli {
            opts,
            conn: None,
            db: 0,
            in_multi: false,
            db_before_multi: 0,
            interactive,
            help: None,
            interrupt: Arc::new(Interrupt::default()),
        }
    }

    /// `127.0.0.1:6380[2](TX)> `.
    fn prompt(&self) -> String {
        if self.conn.is_none() {
            return "not connected> ".to_string();
        }
        let mut prompt = if self.opts.target.host.contains(':') {
            format!("[{}]:{}", self.opts.target.host, self.opts.target.port)
        } else {
            format!("{}:{}", self.opts.target.host, self.opts.target.port)
        };
        if self.db != 0 {
            prompt.push_str(&format!("[{}]", self.db));
        }
        if self.in_multi {
            prompt.push_str("(TX)");
        }
        prompt.push_str("> ");
        prompt
    }

    /// Opens a new connection and does the handshake: AUTH, SELECT, HELLO 3.
    /// A failed handshake keeps the connection (the server will say what
    /// is wrong with the next command) but reports failure, as redis-cli.
    fn connect(&mut self, quiet: bool) -> Result<(), ()> {
        self.conn = None;
        self.db = 0;
        self.in_multi = false;
        let conn = match Connection::connect(&self.opts.target.host, self.opts.target.port) {
            Ok(conn) => conn,
            Err(err) => {
                if !quiet {
                    eprintln!(
                        "Could not connect to Redis at {}:{}: {}",
                        self.opts.target.host,
                        self.opts.target.port,
                        error_text(&err)
                    );
                }
                return Err(());
            }
        };
        set_keepalive(conn.stream());
        self.conn = Some(conn);
        self.handshake()
    }

    fn handshake(&mut self) -> Result<(), ()> {
        if let Some(argv) = self.opts.target.auth()
            && let Frame::Error(text) = self.handshake_call(&argv)?
        {
            eprintln!("AUTH failed: {}", String::from_utf8_lossy(&text));
            return Err(());
        }
        self.select()?;
        if self.opts.resp3
            && !self.opts.resp2
            && let Frame::Error(text) = self.handshake_call(&[b"HELLO".to_vec(), b"3".to_vec()])?
        {
            eprintln!("HELLO 3 failed: {}", String::from_utf8_lossy(&text));
            return Err(());
        }
        Ok(())
    }

    /// SELECT the database asked for, if the connection is elsewhere.
    fn select(&mut self) -> Result<(), ()> {
        if self.opts.db == self.db {
            return Ok(());
        }
        let db = self.opts.db;
        match self.handshake_call(&[b"SELECT".to_vec(), db.to_string().into_bytes()])? {
            Frame::Error(text) => {
                eprintln!("SELECT {db} failed: {}", String::from_utf8_lossy(&text));
                Err(())
            }
            _ => {
                self.db = db;
                Ok(())
            }
        }
    }

    fn handshake_call(&mut self, argv: &[Vec<u8>]) -> Result<Frame, ()> {
        let conn = self.conn.as_mut().ok_or(())?;
        conn.call(argv).map_err(|_| eprintln!("\nI/O error"))
    }

    /// Runs one command line (with its repeat count): `help` locally,
    /// anything else on the server, connecting first if needed.
    fn issue(&mut self, argv: &[Vec<u8>], repeat: i64) -> Result<(), ()> {
        if argv[0].eq_ignore_ascii_case(b"help") || argv[0] == b"?" {
            self.print_help(&argv[1..]);
            return Ok(());
        }
        if self.conn.is_none() {
            self.connect(false)?;
        }
        match self.send(argv, repeat) {
            Ok(()) => Ok(()),
            Err(Failure::Reported) => Err(()),
            Err(Failure::Io(err)) => {
                eprintln!("Error: {}", error_text(&err));
                self.conn = None;
                if !self.interactive {
                    std::process::exit(1);
                }
                Err(())
            }
        }
    }

    fn send(&mut self, argv: &[Vec<u8>], mut repeat: i64) -> Result<(), Failure> {
        let name = argv[0].to_ascii_lowercase();
        let verbatim = prints_verbatim(argv);
        let shutdown = name == b"shutdown";
        let monitor = name == b"monitor";
        let pubsub = matches!(&name[..], b"subscribe" | b"psubscribe" | b"ssubscribe");
        while repeat != 0 {
            repeat -= 1;
            let conn = self.conn.as_mut().ok_or(Failure::Reported)?;
            conn.send(argv).map_err(Failure::Io)?;
            if monitor || pubsub {
                if pubsub && self.opts.output != Output::Raw {
                    print_bytes(b"Reading messages... (press Ctrl-C to quit)\n");
                }
                return self.stream_replies(verbatim);
            }
            let reply = match self.read_reply() {
                Ok(reply) => reply,
                // SHUTDOWN is expected to end the connection.
                Err(_) if shutdown => {
                    self.conn = None;
                    return Ok(());
                }
                Err(err) => return Err(Failure::Io(err)),
            };
            self.print_reply(&reply, verbatim);
            self.track_state(argv, &reply);
            if !self.opts.interval.is_zero() {
                std::thread::sleep(self.opts.interval);
            }
        }
        Ok(())
    }

    /// Subscribe and monitor modes: print every reply as it comes, until
    /// an error reply, the connection ends, or Ctrl-C (then reconnect).
    fn stream_replies(&mut self, verbatim: bool) -> Result<(), Failure> {
        let conn = self.conn.as_mut().ok_or(Failure::Reported)?;
        *self.interrupt.blocking.lock() = conn.stream().try_clone().ok();
        let result = loop {
            let Some(conn) = self.conn.as_mut() else {
                break Err(Failure::Reported);
            };
            match conn.read() {
                Ok(reply) => {
                    self.print_reply(&reply, verbatim);
                    if reply.is_error() {
                        break Ok(());
                    }
                }
                Err(err) => break Err(Failure::Io(err)),
            }
        };
        *self.interrupt.blocking.lock() = None;
        if self.interrupt.aborted.swap(false, Ordering::SeqCst) {
            // Ctrl-C: the subscription ends with a fresh connection.
            return self.connect(false).map_err(|()| Failure::Reported);
        }
        result
    }

    /// Reads the next reply. RESP3 push messages that arrive before it
    /// (client tracking invalidations...) are shown if asked for, and
    /// skipped.
    fn read_reply(&mut self) -> io::Result<Frame> {
        loop {
            let conn = self
                .conn
                .as_mut()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
            let frame = conn.read()?;
            if !matches!(frame, Frame::Push(_)) {
                return Ok(frame);
            }
            if self.opts.show_pushes {
                let text = match (self.opts.output, format::invalidation(&frame)) {
                    (Output::Standard, Some(text)) => text,
                    _ => format::reply(&frame, self.opts.output, false, &self.opts.delimiters),
                };
                print_bytes(&text);
            }
        }
    }

    fn print_reply(&self, reply: &Frame, verbatim: bool) {
        if !self.interactive
            && self.opts.exit_on_error
            && let Frame::Error(text) = reply
        {
            let _ = io::stdout().flush();
            eprintln!("{}", String::from_utf8_lossy(text));
            std::process::exit(1);
        }
        print_bytes(&format::reply(
            reply,
            self.opts.output,
            verbatim,
            &self.opts.delimiters,
        ));
    }

    /// Follows the commands that change what the prompt shows or what a
    /// reconnection must restore.
    fn track_state(&mut self, argv: &[Vec<u8>], reply: &Frame) {
        let ok = !reply.is_error();
        let name = argv[0].to_ascii_lowercase();
        match (&name[..], argv.len()) {
            (b"select", 2) if ok => {
                let db = std::str::from_utf8(&argv[1])
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                self.opts.db = db;
                self.db = db;
            }
            (b"auth", 2 | 3) => {
                let _ = self.select();
            }
            (b"multi", 1) if ok => {
                self.in_multi = true;
                self.db_before_multi = self.db;
            }
            (b"exec", 1) if self.in_multi => {
                self.in_multi = false;
                if matches!(
                    reply,
                    Frame::Error(_) | Frame::NullArray | Frame::NullBulk | Frame::Null
                ) {
                    self.db = self.db_before_multi;
                    self.opts.db = self.db;
                }
            }
            (b"discard", 1) if ok => {
                self.in_multi = false;
                self.db = self.db_before_multi;
                self.opts.db = self.db;
            }
            (b"reset", 1) if ok => {
                self.in_multi = false;
                self.db = 0;
                self.opts.db = 0;
                self.opts.resp3 = false;
            }
            _ => {}
        }
    }

    /// `help`, `help COMMAND...`, `help @group`: generic text without
    /// arguments, otherwise from the server's `COMMAND DOCS`.
    fn print_help(&mut self, args: &[Vec<u8>]) {
        if args.is_empty() {
            print_bytes(help::generic().as_bytes());
            return;
        }
        if self.help.is_none() {
            if self.conn.is_none() && self.connect(true).is_err() && self.conn.is_none() {
                print_bytes(b"Help needs a connection: the command list comes from the server's COMMAND DOCS.\n");
                return;
            }
            let docs = self
                .conn
                .as_mut()
                .map(|conn| conn.call(&["COMMAND", "DOCS"]));
            match docs {
                Some(Ok(reply)) if !reply.is_error() => self.help = Some(Help::from_docs(&reply)),
                Some(Ok(_)) => {
                    print_bytes(
                        b"Help is not available: the server does not support COMMAND DOCS.\n",
                    );
                    return;
                }
                _ => {
                    self.conn = None;
                    print_bytes(b"Help is not available: the connection to the server failed.\n");
                    return;
                }
            }
        }
        if let Some(help) = &self.help {
            print_bytes(help.render(args).as_bytes());
        }
    }

    /// Reads and runs command lines until input ends: from the prompt on a
    /// terminal, or one per line from piped input.
    fn repl(&mut self) -> ExitCode {
        let tty = io::stdin().is_terminal();
        if let Err(err) = self.interrupt.install() {
            eprintln!("Could not catch Ctrl-C: {err}");
        }
        let _ = self.connect(false);
        let mut history = if tty {
            History::from_file()
        } else {
            History::in_memory()
        };
        let mut stdin = io::stdin().lock();
        loop {
            let line = if tty {
                match editor::read_line(&self.prompt(), &history) {
                    Ok(Some(line)) => line.into_bytes(),
                    Ok(None) => break,
                    Err(err) => {
                        eprintln!("Error reading the terminal: {err}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                let mut line = Vec::new();
                match stdin.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        line
                    }
                    Err(err) => {
                        eprintln!("Error reading standard input: {err}");
                        return ExitCode::FAILURE;
                    }
                }
            };
            if line.is_empty() {
                continue;
            }
            if self.run_line(&line, tty, &mut history) == Flow::Quit {
                break;
            }
        }
        ExitCode::SUCCESS
    }

    fn run_line(&mut self, line: &[u8], tty: bool, history: &mut History) -> Flow {
        let text = String::from_utf8_lossy(line);
        let Some(argv) = split_args(line) else {
            print_bytes(b"Invalid argument(s)\n");
            if tty {
                history.add(&text);
            }
            return Flow::Continue;
        };
        if argv.is_empty() {
            return Flow::Continue;
        }
        // A leading number repeats the command: "3 incr counter".
        let (mut repeat, mut skip) = (1, 0);
        if argv.len() > 1
            && let Some(count) = repeat_count(&argv[0])
        {
            match count {
                Some(n) if n > 0 => {
                    repeat = n;
                    skip = 1;
                }
                _ => {
                    print_bytes(b"Invalid sedis-cli repeat command option value.\n");
                    return Flow::Continue;
                }
            }
        }
        let argv = &argv[skip..];
        if tty && !is_sensitive(argv) {
            history.add(&text);
        }
        let name = argv[0].to_ascii_lowercase();
        match &name[..] {
            b"quit" | b"exit" => return Flow::Quit,
            b"clear" if argv.len() == 1 => print_bytes(b"\x1b[H\x1b[2J"),
            b"connect" if argv.len() == 3 => {
                self.opts.target.host = String::from_utf8_lossy(&argv[1]).into_owned();
                self.opts.target.port = std::str::from_utf8(&argv[2])
                    .ok()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                self.help = None;
                let _ = self.connect(false);
            }
            _ if name.starts_with(b":") => {
                let what = String::from_utf8_lossy(&argv[0]);
                if name == b":set" && argv.len() >= 2 {
                    let pref = String::from_utf8_lossy(&argv[1]);
                    print_bytes(format!("unknown sedis-cli preference '{pref}'\n").as_bytes());
                } else {
                    print_bytes(
                        format!("unknown sedis-cli internal command '{what}'\n").as_bytes(),
                    );
                }
            }
            _ => {
                let started = Instant::now();
                let _ = self.issue(argv, repeat);
                let elapsed = started.elapsed();
                if elapsed >= Duration::from_millis(500) && self.opts.output == Output::Standard {
                    print_bytes(format!("({:.2}s)\n", elapsed.as_secs_f64()).as_bytes());
                }
            }
        }
        Flow::Continue
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

fn print_bytes(bytes: &[u8]) {
    let mut stdout = io::stdout().lock();
    // A closed stdout (`sedis-cli ... | head -1`) ends us quietly.
    if stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(1);
    }
}

/// TCP keepalive every 15 seconds, as redis-cli sets it: a dead server is
/// noticed even while we wait on a long blocking command.
fn set_keepalive(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let set = |level: libc::c_int, name: libc::c_int, value: libc::c_int| {
        // SAFETY: setsockopt reads one c_int from a valid pointer.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    };
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    #[cfg(target_os = "linux")]
    {
        set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 15);
        set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 5);
        set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3);
    }
}

fn main() -> ExitCode {
    let (mut opts, mut command) = match parse_options(std::env::args_os().skip(1).collect()) {
        Ok(parsed) => parsed,
        Err(Stop::Usage) => {
            print!("sedis-cli {}\n\n{USAGE}", sedis::SEDIS_VERSION);
            return ExitCode::SUCCESS;
        }
        Err(Stop::Version) => {
            println!(
                "sedis-cli {} (Redis-compatible {})",
                sedis::SEDIS_VERSION,
                sedis::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Err(Stop::Error(message)) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    if opts.target.password.is_none() {
        opts.target.password = std::env::var_os("SEDISCLI_AUTH").map(|p| os_bytes(&p));
    } else if !opts.no_auth_warning {
        eprintln!(
            "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe."
        );
    }
    if command.is_empty() {
        return Cli::new(opts, true).repl();
    }
    if opts.stdin_last_arg {
        let mut last = Vec::new();
        if let Err(err) = io::stdin().read_to_end(&mut last) {
            eprintln!("Reading from standard input: {err}");
            return ExitCode::FAILURE;
        }
        command.push(last);
    }
    let repeat = opts.repeat;
    let mut cli = Cli::new(opts, false);
    let _ = cli.connect(true);
    match cli.issue(&command, repeat) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_stop_at_the_command() {
        let Ok((opts, command)) =
            parse_options(args(&["-p", "7000", "-n", "2", "--raw", "echo", "-p"]))
        else {
            panic!("parse failed");
        };
        assert_eq!(
            (opts.target.port, opts.db, opts.output),
            (7000, 2, Output::Raw)
        );
        assert_eq!(command, vec![b"echo".to_vec(), b"-p".to_vec()]);
    }

    #[test]
    fn option_values_may_look_like_options() {
        let Ok((opts, command)) = parse_options(args(&["-a", "-n", "-n", "3", "ping"])) else {
            panic!("parse failed");
        };
        assert_eq!(opts.target.password.as_deref(), Some(&b"-n"[..]));
        assert_eq!(opts.db, 3);
        assert_eq!(command, vec![b"ping".to_vec()]);
    }

    #[test]
    fn bad_options_are_refused() {
        for bad in [
            &["--nope"][..],
            &["-p"],
            &["-p", "x", "ping"],
            &["-2", "-3"],
        ] {
            assert!(
                matches!(parse_options(args(bad)), Err(Stop::Error(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(parse_options(args(&["-h"])), Err(Stop::Usage)));
    }

    #[test]
    fn repeat_counts_read_like_strtol() {
        assert_eq!(repeat_count(b"3"), Some(Some(3)));
        assert_eq!(repeat_count(b"-1"), Some(Some(-1)));
        assert_eq!(repeat_count(b""), Some(Some(0)));
        assert_eq!(repeat_count(b"99999999999999999999"), Some(None));
        assert_eq!(repeat_count(b"3x"), None);
        assert_eq!(repeat_count(b"get"), None);
    }

    #[test]
    fn secrets_stay_out_of_history() {
        let argv = |words: &[&str]| -> Vec<Vec<u8>> {
            words.iter().map(|w| w.as_bytes().to_vec()).collect()
        };
        assert!(is_sensitive(&argv(&["AUTH", "pw"])));
        assert!(is_sensitive(&argv(&["config", "set", "requirepass", "x"])));
        assert!(is_sensitive(&argv(&["HELLO", "3", "AUTH", "u", "p"])));
        assert!(!is_sensitive(&argv(&["HELLO", "3", "SETNAME", "n"])));
        assert!(!is_sensitive(&argv(&["get", "auth"])));
    }
}
