//! The reference Redis: `redis-server` 7.0.15 as a child process in a
//! scratch directory, found, version-checked and started on a free port.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sedis::Frame;

use crate::common::temp_dir;
use crate::conn::Conn;

/// The Redis the scripts were written against.
pub const REDIS_VERSION: &str = "7.0.15";

/// A `redis-server` child process, killed when dropped (also when a test
/// panics), with its scratch directory.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The redis-server binary: `$REDIS_SERVER`, else the one on PATH or in
/// /usr/bin. Panics with the install command if there is none, or if it is
/// not the version the scripts describe.
pub fn redis_server_binary() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("REDIS_SERVER") {
        Some(path) => vec![PathBuf::from(path)],
        None => std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .chain([PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("redis-server"))
            .collect(),
    };
    let Some(binary) = candidates.into_iter().find(|p| p.is_file()) else {
        panic!(
            "redis-server not found: these tests compare sedis with Redis {REDIS_VERSION}. \
             Install it with `apt-get install -y redis-server` (or set REDIS_SERVER=/path)."
        );
    };
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("running {} --version: {e}", binary.display()));
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(&format!("v={REDIS_VERSION} ")),
        "{} is not Redis {REDIS_VERSION} ({}): the scripts record that version's replies. \
         Install it with `apt-get install -y redis-server` on Debian 12.",
        binary.display(),
        version.trim()
    );
    binary
}

/// Runs `start` on a free port until it succeeds. redis-server cannot pick
/// its own port (port 0 turns TCP off in Redis), so the test picks one that
/// is free now, and another process may bind it first: then `start` says
/// so and the next port is tried. Panics with the last failure after five.
pub fn on_a_free_port<T>(mut start: impl FnMut(u16) -> Result<T, String>) -> T {
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        match start(port) {
            Ok(started) => return started,
            Err(e) => last_error = e,
        }
    }
    panic!("no free port worked: {last_error}");
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_in(None)
    }

    /// Starts redis-server in `dir` (loading the dump.rdb there), or in a
    /// scratch directory of its own.
    pub fn start_in(dir: Option<&Path>) -> RedisServer {
        Self::start_with(dir, false)
    }

    /// [`RedisServer::start_in`], with `appendonly yes` if `aof` (loading
    /// the append-only file there instead).
    pub fn start_with(dir: Option<&Path>, aof: bool) -> RedisServer {
        Self::start_full(dir, aof, &[])
    }

    /// A scratch redis-server with extra directives (`--replicaof` ...).
    pub fn start_args(extra: &[&str]) -> RedisServer {
        Self::start_full(None, false, extra)
    }

    fn start_full(dir: Option<&Path>, aof: bool, extra: &[&str]) -> RedisServer {
        let binary = redis_server_binary();
        on_a_free_port(|port| {
            let dir = match dir {
                Some(dir) => dir.to_path_buf(),
                None => temp_dir("redis-server"),
            };
            std::fs::create_dir_all(&dir).expect("scratch directory");
            let child = Command::new(&binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", if aof { "yes" } else { "no" }])
                .args(["--daemonize", "no", "--loglevel", "warning"])
                // Scripts compare DEBUG DIGEST, PROTOCOL and the like.
                .args(["--enable-debug-command", "yes"])
                .args(extra)
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut server = RedisServer { child, port, dir };
            server
                .wait_ready()
                .map(|()| server)
                .map_err(|e| format!("redis-server did not start: {e}"))
        })
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Waits until the server answers PING.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                return Err(format!("exited with {status}: {stderr}"));
            }
            if let Ok(mut conn) = Conn::connect(self.addr())
                && let Ok((_, Frame::Simple(pong))) = conn.call(&[b"PING".to_vec()])
                && pong == b"PONG"
            {
                // Whoever answered must be this child, not a process that
                // bound the port first.
                let info = conn.call(&[b"INFO".to_vec(), b"server".to_vec()]);
                let pid = format!("\r\nprocess_id:{}\r\n", self.child.id());
                return match info {
                    Ok((raw, _)) if String::from_utf8_lossy(&raw).contains(&pid) => Ok(()),
                    _ => Err(format!("another process answers on port {}", self.port)),
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("no PONG within 10 s".into())
    }
}
