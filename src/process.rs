//! What a server does to its process, as a service manager expects: fork
//! into the background (`daemonize`), write and remove its pid file, tell a
//! supervisor that it is ready (`supervised`), and rank itself for the
//! kernel's out-of-memory killer (`oom-score-adj`).

use std::io;

use crate::config::{Config, OomScoreAdj, Supervised};
use crate::log::Logger;

/// The pid file a daemonized server writes when none is configured.
pub const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// True if the process should fork into the background: `daemonize yes`
/// and no supervisor to stay in the foreground for (Redis's rule).
pub fn should_daemonize(config: &Config) -> bool {
    config.daemonize && supervisor(config.supervised).is_none()
}

/// Forks: the parent exits at once with status 0, the child continues in a
/// new session with its standard streams on `/dev/null`, as Redis's
/// `daemonize` does.
///
/// # Safety
///
/// Only a single-threaded process may fork: call this before any thread is
/// started (the child would have only the calling thread, and locks held by
/// the others would stay held forever).
pub unsafe fn daemonize() -> io::Result<()> {
    // SAFETY: the caller guarantees no other thread exists.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: plain system calls on descriptors this process owns; the
    // path is a valid C string.
    unsafe {
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, libc::STDIN_FILENO);
            libc::dup2(null, libc::STDOUT_FILENO);
            libc::dup2(null, libc::STDERR_FILENO);
            if null > libc::STDERR_FILENO {
                libc::close(null);
            }
        }
    }
    Ok(())
}

/// The pid file to write, if any: the configured one, or the default for a
/// daemonized server (Redis's `createPidFile`).
pub fn pidfile(config: &Config) -> Option<String> {
    if !config.pidfile.is_empty() {
        Some(config.pidfile.clone())
    } else if should_daemonize(config) {
        Some(DEFAULT_PIDFILE.to_string())
    } else {
        None
    }
}

/// Writes the process id into `path`. A failure is logged, not fatal, as
/// in Redis.
pub fn write_pidfile(path: &str, log: &Logger) {
    if let Err(err) = std::fs::write(path, format!("{}\n", std::process::id())) {
        log.warning(&format!(
            "Failed to write PID file: {}",
            crate::error::strerror(&err)
        ));
    }
}

/// The supervisor `mode` names, if the environment shows one: systemd sets
/// `NOTIFY_SOCKET`, upstart `UPSTART_JOB`.
fn supervisor(mode: Supervised) -> Option<Supervised> {
    let systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    let upstart = std::env::var_os("UPSTART_JOB").is_some();
    match mode {
        Supervised::No => None,
        Supervised::Systemd => systemd.then_some(Supervised::Systemd),
        Supervised::Upstart => upstart.then_some(Supervised::Upstart),
        Supervised::Auto if systemd => Some(Supervised::Systemd),
        Supervised::Auto if upstart => Some(Supervised::Upstart),
        Supervised::Auto => None,
    }
}

/// Tells the supervisor the server accepts connections: systemd gets
/// `READY=1` on its notification socket, upstart a SIGSTOP (it resumes the
/// process once it has seen it).
pub fn notify_ready(config: &Config, log: &Logger) {
    match supervisor(config.supervised) {
        Some(Supervised::Systemd) => {
            if let Err(err) = notify_systemd("STATUS=Ready to accept connections\nREADY=1\n") {
                log.warning(&format!("systemd supervision error: {err}"));
            } else {
                log.notice("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
            }
        }
        Some(Supervised::Upstart) => {
            log.notice("Supervised by upstart, will stop to signal readiness.");
            // SAFETY: raising a signal at our own process.
            unsafe { libc::raise(libc::SIGSTOP) };
        }
        _ => {}
    }
}

/// Sends `message` to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract
/// namespace), as `sd_notify` does.
fn notify_systemd(message: &str) -> io::Result<()> {
    use std::os::unix::net::UnixDatagram;
    let target = std::env::var("NOTIFY_SOCKET").map_err(io::Error::other)?;
    let socket = UnixDatagram::unbound()?;
    match target.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(message.as_bytes(), &addr)?;
        }
        _ => {
            socket.send_to(message.as_bytes(), &target)?;
        }
    }
    Ok(())
}

/// The process's out-of-memory score adjustment, as the kernel shows it.
const OOM_SCORE_PATH: &str = "/proc/self/oom_score_adj";

/// Remembers the score the process started with, so that `relative` values
/// add to it and `no` can restore it.
#[derive(Debug)]
pub struct OomScore {
    base: Option<i32>,
    current: parking_lot::Mutex<Option<i32>>,
}

impl OomScore {
    pub fn new() -> OomScore {
        let base = std::fs::read_to_string(OOM_SCORE_PATH)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        OomScore {
            base,
            current: parking_lot::Mutex::new(base),
        }
    }

    /// Sets the score `config` asks for (a master's: the first of
    /// `oom-score-adj-values`), as Redis's `setOOMScoreAdj` does.
    pub fn apply(&self, config: &Config) -> io::Result<()> {
        let Some(base) = self.base else {
            return Ok(()); // Not Linux, or no /proc: nothing to adjust.
        };
        let wanted = match config.oom_score_adj {
            OomScoreAdj::No => base,
            OomScoreAdj::Relative => (base + config.oom_score_adj_values[0]).clamp(-1000, 1000),
            OomScoreAdj::Absolute => config.oom_score_adj_values[0].clamp(-1000, 1000),
        };
        let mut current = self.current.lock();
        if *current == Some(wanted) {
            return Ok(());
        }
        std::fs::write(OOM_SCORE_PATH, wanted.to_string())?;
        *current = Some(wanted);
        Ok(())
    }
}

impl Default for OomScore {
    fn default() -> Self {
        OomScore::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_gets_the_default_pid_file() {
        let mut c = Config::default();
        assert_eq!(pidfile(&c), None);
        c.daemonize = true;
        assert_eq!(pidfile(&c).as_deref(), Some(DEFAULT_PIDFILE));
        c.pidfile = "/tmp/x.pid".into();
        assert_eq!(pidfile(&c).as_deref(), Some("/tmp/x.pid"));
    }

    #[test]
    fn raising_the_oom_score_is_allowed_to_anyone() {
        let score = OomScore::new();
        let Some(base) = score.base else { return };
        let mut c = Config {
            oom_score_adj: OomScoreAdj::Relative,
            ..Config::default()
        };
        c.oom_score_adj_values[0] = 1;
        score.apply(&c).unwrap();
        let now: i32 = std::fs::read_to_string(OOM_SCORE_PATH)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(now, (base + 1).min(1000));
    }
}
