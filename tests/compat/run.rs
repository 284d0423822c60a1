//! Running a script on both servers at once, in RESP2 and in RESP3, and
//! collecting every difference with the line that caused it.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use sedis::Frame;

use crate::compare::{encode, replies_agree};
use crate::conn::{Conn, Outcome};
use crate::redis::REDIS_VERSION;
use crate::script::{Action, CONNECTIONS, Compare, Step, load_script, scan_cursor_index};
use crate::servers::Servers;
use crate::show::{describe, show};

/// How long `@block` waits for both servers to report the client blocked.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// A script connection: the same connection to each server.
#[derive(Default)]
struct ConnPair {
    open: Option<(Conn, Conn)>,
    /// How the reply of a `@block`ed command is to be compared.
    blocked: Option<(Step, Vec<Vec<u8>>)>,
}

/// One difference found.
struct Mismatch {
    file: String,
    line: usize,
    protocol: u8,
    conn: usize,
    text: String,
    note: String,
    redis: Outcome,
    sedis: Outcome,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "tests/compat/{}:{} [RESP{}, connection {}] {}",
            self.file,
            self.line,
            self.protocol,
            self.conn + 1,
            self.text
        )?;
        if !self.note.is_empty() {
            writeln!(f, "    {}", self.note)?;
        }
        writeln!(f, "    redis: {}", describe(&self.redis))?;
        writeln!(f, "    sedis: {}", describe(&self.sedis))
    }
}

/// One pass over a script in one protocol.
struct Run<'a> {
    servers: &'a mut Servers,
    file: &'a str,
    protocol: u8,
    conns: Vec<ConnPair>,
    mismatches: Vec<Mismatch>,
}

impl Run<'_> {
    fn mismatch(&mut self, step: &Step, note: String, redis: Outcome, sedis: Outcome) {
        self.mismatches.push(Mismatch {
            file: self.file.to_string(),
            line: step.line,
            protocol: self.protocol,
            conn: step.conn,
            text: step.text.clone(),
            note,
            redis,
            sedis,
        });
    }

    /// The step's connection pair, opened (with HELLO 3 in a RESP3 run) if
    /// it is not open yet.
    fn conn(&mut self, step: &Step) -> Option<&mut (Conn, Conn)> {
        if self.conns[step.conn].open.is_none() {
            let redis = Conn::connect(self.servers.redis.addr());
            let sedis = Conn::connect(self.servers.sedis.addr);
            let (mut redis, mut sedis) = match (redis, sedis) {
                (Ok(r), Ok(s)) => (r, s),
                (r, s) => {
                    let r = r.map(|_| (Vec::new(), Frame::Null));
                    let s = s.map(|_| (Vec::new(), Frame::Null));
                    self.mismatch(
                        step,
                        "could not connect".into(),
                        r.map_err(|e| e.to_string()),
                        s.map_err(|e| e.to_string()),
                    );
                    return None;
                }
            };
            if self.protocol == 3 {
                let hello = vec![b"HELLO".to_vec(), b"3".to_vec()];
                let r = redis.call(&hello).map_err(|e| e.to_string());
                let s = sedis.call(&hello).map_err(|e| e.to_string());
                let agree = matches!((&r, &s), (Ok(r), Ok(s)) if replies_agree(&hello, Compare::Exact, r, s));
                if !agree {
                    self.mismatch(step, "opening HELLO 3".into(), r, s);
                    return None;
                }
            }
            self.conns[step.conn].open = Some((redis, sedis));
        }
        self.conns[step.conn].open.as_mut()
    }

    fn run(&mut self, steps: &[Step]) {
        for step in steps {
            match &step.action {
                Action::Sleep(d) => std::thread::sleep(*d),
                Action::Command(argv) => self.command(step, argv),
                Action::Block(argv) => self.block(step, argv),
                Action::NoReply(argv) => self.send_only(step, argv),
                Action::Reply => self.reply(step),
                Action::Read => self.read_pushed(step),
            }
        }
        for pair in &self.conns {
            if let Some((blocked, _)) = &pair.blocked {
                panic!(
                    "tests/compat/{}:{}: @block without a matching @reply",
                    self.file, blocked.line
                );
            }
        }
    }

    /// Panics if the step's connection still waits for a `@block`ed reply:
    /// the script is wrong.
    fn assert_not_blocked(&self, step: &Step) {
        if self.conns[step.conn].blocked.is_some() {
            panic!(
                "tests/compat/{}:{}: connection {} is still blocked (use @reply first)",
                self.file,
                step.line,
                step.conn + 1
            );
        }
    }

    /// Sends `argv` to both servers of the step's connection, reading
    /// nothing; false (the difference recorded) if it could not be sent.
    fn send_to_both(&mut self, step: &Step, argv: &[Vec<u8>]) -> bool {
        let Some((redis, sedis)) = self.conn(step) else {
            return false;
        };
        let sent = redis.send(argv).and_then(|()| sedis.send(argv));
        if let Err(e) = sent {
            self.conns[step.conn].open = None;
            self.mismatch(
                step,
                "send failed".into(),
                Err(e.to_string()),
                Err(e.to_string()),
            );
            return false;
        }
        true
    }

    fn command(&mut self, step: &Step, argv: &[Vec<u8>]) {
        self.assert_not_blocked(step);
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        // Send to both before reading either: the two servers see the
        // command at nearly the same moment (expiry).
        let r = redis.send(argv).and_then(|()| redis.read());
        let s = sedis.send(argv).and_then(|()| sedis.read());
        let (r, s) = (r.map_err(|e| e.to_string()), s.map_err(|e| e.to_string()));
        let closes = argv[0].eq_ignore_ascii_case(b"quit");
        self.compare(step, argv, r, s, closes);
    }

    /// `@noreply`: sends the command to both servers and reads nothing.
    fn send_only(&mut self, step: &Step, argv: &[Vec<u8>]) {
        self.assert_not_blocked(step);
        self.send_to_both(step, argv);
    }

    /// `@read`: one more frame from each server on the connection.
    fn read_pushed(&mut self, step: &Step) {
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        let r = redis.read().map_err(|e| e.to_string());
        let s = sedis.read().map_err(|e| e.to_string());
        self.compare(step, &[b"@read".to_vec()], r, s, false);
    }

    /// Compares one pair of replies (scanning on, for `@scan`).
    fn compare(&mut self, step: &Step, argv: &[Vec<u8>], r: Outcome, s: Outcome, closes: bool) {
        let (r, s) = match (r, s) {
            (Ok(r), Ok(s)) => (r, s),
            (r, s) => {
                // A connection that failed mid-reply is out of step: start
                // the pair again.
                self.conns[step.conn].open = None;
                self.mismatch(step, String::new(), r, s);
                return;
            }
        };
        if closes {
            self.conns[step.conn].open = None;
        }
        if !replies_agree(argv, step.compare, &r, &s) {
            self.mismatch(step, String::new(), Ok(r), Ok(s));
            return;
        }
        if step.compare == Compare::Scan && !r.1.is_error() {
            self.scan_rest(step, argv, r.1, s.1);
        }
    }

    /// Finishes a `@scan` on each server and compares what each returned.
    fn scan_rest(&mut self, step: &Step, argv: &[Vec<u8>], r: Frame, s: Frame) {
        let at = scan_cursor_index(argv).expect("checked when parsed");
        // HSCAN and ZSCAN return pairs; SCAN and SSCAN single items.
        let pairs =
            !argv[0].eq_ignore_ascii_case(b"scan") && !argv[0].eq_ignore_ascii_case(b"sscan");
        let Some((redis, sedis)) = self.conn(step) else {
            return;
        };
        let r_all = scan_all(redis, argv, at, r, pairs);
        let s_all = scan_all(sedis, argv, at, s, pairs);
        if r_all != s_all {
            let shown = |all: &Result<Vec<Vec<u8>>, String>| -> Outcome {
                all.as_ref()
                    .map(|items| {
                        let raw = items.join(&b' ');
                        let frame =
                            Frame::Array(items.iter().map(|i| Frame::Bulk(i.clone())).collect());
                        (raw, frame)
                    })
                    .map_err(Clone::clone)
            };
            self.mismatch(
                step,
                "a full iteration returned different elements (sorted)".into(),
                shown(&r_all),
                shown(&s_all),
            );
        }
    }

    fn block(&mut self, step: &Step, argv: &[Vec<u8>]) {
        if self.conns[step.conn].blocked.is_some() {
            panic!(
                "tests/compat/{}:{}: connection {} is already blocked",
                self.file,
                step.line,
                step.conn + 1
            );
        }
        let before = self.servers.blocked_clients();
        if !self.send_to_both(step, argv) {
            return;
        }
        // Wait until each server has either blocked the client or replied.
        let deadline = Instant::now() + BLOCK_TIMEOUT;
        let (mut r_state, mut s_state) = (None, None);
        while Instant::now() < deadline && (r_state.is_none() || s_state.is_none()) {
            let now = self.servers.blocked_clients();
            let (redis, sedis) = self.conns[step.conn].open.as_mut().expect("open");
            if r_state.is_none() {
                if now.0 > before.0 {
                    r_state = Some(true);
                } else if redis.has_data() {
                    r_state = Some(false);
                }
            }
            if s_state.is_none() {
                if now.1 > before.1 {
                    s_state = Some(true);
                } else if sedis.has_data() {
                    s_state = Some(false);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.conns[step.conn].blocked = Some((step.clone(), argv.to_vec()));
        if r_state != Some(true) || s_state != Some(true) {
            let state = |b: Option<bool>| match b {
                Some(true) => "blocked",
                Some(false) => "replied at once",
                None => "neither blocked nor replied",
            };
            self.mismatch(
                step,
                format!(
                    "expected the command to block: redis {}, sedis {}",
                    state(r_state),
                    state(s_state)
                ),
                Err("see @reply".into()),
                Err("see @reply".into()),
            );
        }
    }

    fn reply(&mut self, step: &Step) {
        let Some((blocked, argv)) = self.conns[step.conn].blocked.take() else {
            panic!(
                "tests/compat/{}:{}: @reply on connection {} without @block",
                self.file,
                step.line,
                step.conn + 1
            );
        };
        let Some((redis, sedis)) = self.conns[step.conn].open.as_mut() else {
            return;
        };
        let r = redis.read().map_err(|e| e.to_string());
        let s = sedis.read().map_err(|e| e.to_string());
        let mut shown = blocked.clone();
        shown.line = step.line;
        shown.text = format!("@reply to line {}: {}", blocked.line, blocked.text);
        self.compare(&shown, &argv, r, s, false);
    }
}

/// Runs a SCAN-family iteration to its end, starting from the reply to
/// its first call; returns every element (or member/value pair), sorted.
fn scan_all(
    conn: &mut Conn,
    argv: &[Vec<u8>],
    at: usize,
    first: Frame,
    pairs: bool,
) -> Result<Vec<Vec<u8>>, String> {
    let mut items = Vec::new();
    let mut reply = first;
    for _ in 0..100_000 {
        let Frame::Array(parts) = &reply else {
            return Err(format!("not a scan reply: {}", show(&reply)));
        };
        let [cursor, Frame::Array(found) | Frame::Set(found)] = parts.as_slice() else {
            return Err(format!("not a scan reply: {}", show(&reply)));
        };
        let elements: Vec<Vec<u8>> = found
            .iter()
            .map(|f| {
                f.as_bytes()
                    .map(<[u8]>::to_vec)
                    .unwrap_or_else(|| encode(f))
            })
            .collect();
        if pairs {
            items.extend(elements.chunks(2).map(|c| c.join(&b' ')));
        } else {
            items.extend(elements);
        }
        let cursor = cursor.as_bytes().unwrap_or_default().to_vec();
        if cursor == b"0" {
            items.sort();
            return Ok(items);
        }
        let mut next = argv.to_vec();
        next[at] = cursor;
        reply = conn.call(&next).map_err(|e| e.to_string())?.1;
    }
    Err("the iteration did not end".into())
}

/// Runs one script in RESP2 and in RESP3 and fails with every difference.
pub fn run_script(name: &str) {
    let steps = load_script(name);
    let mut servers = Servers::start();
    let file = format!("{name}.txt");
    let mut mismatches = Vec::new();
    for protocol in [2, 3] {
        servers.flushall();
        let mut run = Run {
            servers: &mut servers,
            file: &file,
            protocol,
            conns: (0..CONNECTIONS).map(|_| ConnPair::default()).collect(),
            mismatches: Vec::new(),
        };
        run.run(&steps);
        mismatches.append(&mut run.mismatches);
    }
    if !mismatches.is_empty() {
        let mut report = format!(
            "{} difference(s) between Redis {REDIS_VERSION} and sedis in {file}:\n\n",
            mismatches.len()
        );
        for m in &mismatches {
            let _ = writeln!(report, "{m}");
        }
        panic!("{report}");
    }
}
