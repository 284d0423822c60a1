//! `sedis-server` as a child process, on a port it picks itself: started
//! with `--port 0`, it binds a free port and names it in the line that says
//! it is ready (`Ready to accept connections tcp (port N)`), which is also
//! the only readiness signal a process gives. Nothing is chosen for it in
//! advance, so no other process can take the port first.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

pub const SEDIS_SERVER: &str = env!("CARGO_BIN_EXE_sedis-server");

/// The line a server logs once it accepts connections.
const READY: &str = "Ready to accept connections";

/// A running `sedis-server`, killed (SIGKILL) and reaped when dropped, so
/// that no server outlives a failed test.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    /// The ready line, as logged.
    pub ready: String,
    /// The rest of its log (standard error), unread until a test asks.
    log: Option<BufReader<ChildStderr>>,
}

impl ServerProcess {
    /// Starts `sedis-server ARGS --port 0` and waits until it is ready.
    pub fn start(args: &[&str]) -> ServerProcess {
        Self::spawn(Command::new(SEDIS_SERVER).args(args))
    }

    /// Starts `command` (a `sedis-server` command line) with `--port 0`
    /// after its arguments, so that it overrides a config file's port, and
    /// waits until it is ready.
    pub fn spawn(command: &mut Command) -> ServerProcess {
        let child = command
            .args(["--port", "0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sedis-server");
        // Owned from here on: a panic below kills it.
        let mut server = ServerProcess {
            child,
            port: 0,
            ready: String::new(),
            log: None,
        };
        let mut log = BufReader::new(server.child.stderr.take().expect("stderr"));
        let mut logged = String::new();
        loop {
            let mut line = String::new();
            if log.read_line(&mut line).expect("read the log") == 0 {
                panic!("sedis-server exited before it was ready:\n{logged}");
            }
            if let Some(port) = ready_port(&line) {
                server.port = port;
                server.ready = line;
                server.log = Some(log);
                return server;
            }
            logged.push_str(&line);
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Sends `signal` to the server.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on a child this process started and has not reaped.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// The log from after the ready line to the server's exit (it must be
    /// exiting, or this waits for it).
    pub fn rest_of_log(&mut self) -> String {
        let mut rest = String::new();
        if let Some(mut log) = self.log.take() {
            log.read_to_string(&mut rest).expect("read the log");
        }
        rest
    }

    /// Reads and drops the log from now on, in a thread, so that a server
    /// that logs a lot never blocks on a full pipe.
    pub fn discard_log(&mut self) {
        if let Some(mut log) = self.log.take() {
            std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in a ready line (`... Ready to accept connections tcp (port
/// N)`); `None` for any other line.
pub fn ready_port(line: &str) -> Option<u16> {
    let (_, tail) = line.split_once(READY)?;
    let (_, port) = tail.split_once("(port ")?;
    port.split_once(')')?.0.parse().ok()
}

/// The port a daemon (which logs to a file) names in its ready line,
/// waiting up to ten seconds for the line to appear in `log_file`.
pub fn ready_port_in(log_file: &Path) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log_file).unwrap_or_default();
        // Only whole lines: the daemon may be writing this one.
        if let Some(port) = text
            .split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
            .find_map(ready_port)
        {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "no ready line in {}:\n{text}",
            log_file.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
