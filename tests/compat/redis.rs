//! The reference Redis: `redis-server` 7.0.15 as a child process in a
//! scratch directory, found, version-checked and started on a free port.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sedis::Frame;

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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
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
        let binary = redis_server_binary();
        let mut last_error = String::new();
        // Another process may take the free port before redis-server binds
        // it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| {
                std::env::temp_dir().join(format!("sedis-compat-{}-{port}", std::process::id()))
            });
            std::fs::create_dir_all(&dir).expect("scratch directory");
            let child = Command::new(&binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", if aof { "yes" } else { "no" }])
                .args(["--daemonize", "no", "--loglevel", "warning"])
                .arg("--dir")
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut server = RedisServer { child, port, dir };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
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
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("no PONG within 10 s".into())
    }
}
