//! Logging in Redis's format, so tools and people who read Redis logs read
//! ours the same way:
//!
//! ```text
//! 12345:M 24 Nov 2026 12:00:00.123 * Ready to accept connections tcp
//! ```
//!
//! PID, role (`M`: a master, `S`: a replica), local time with milliseconds, then a
//! level mark: `.` debug, `-` verbose, `*` notice, `#` warning.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug = 0,
    Verbose = 1,
    Notice = 2,
    Warning = 3,
    /// Logs nothing.
    Nothing = 4,
}

impl LogLevel {
    /// The levels a configuration may name (Redis 7.0's: `nothing` arrived
    /// in 7.2 and is sedis's own quiet level for tests), with the level's
    /// discriminant.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("debug", LogLevel::Debug as u32),
        ("verbose", LogLevel::Verbose as u32),
        ("notice", LogLevel::Notice as u32),
        ("warning", LogLevel::Warning as u32),
    ];

    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Nothing => "nothing",
        }
    }

    fn mark(self) -> char {
        match self {
            LogLevel::Debug => '.',
            LogLevel::Verbose => '-',
            LogLevel::Notice => '*',
            LogLevel::Warning | LogLevel::Nothing => '#',
        }
    }

    pub fn from_u8(n: u8) -> LogLevel {
        match n {
            0 => LogLevel::Debug,
            1 => LogLevel::Verbose,
            2 => LogLevel::Notice,
            3 => LogLevel::Warning,
            _ => LogLevel::Nothing,
        }
    }
}

/// Where log lines go, and the least severe level written.
#[derive(Debug)]
pub struct Logger {
    level: AtomicU8,
    /// `None`: standard error.
    file: Option<Mutex<File>>,
    /// Lines also go to syslog (`syslog-enabled`).
    syslog: bool,
    /// The server replicates a master (the role letter `S`).
    replica: std::sync::atomic::AtomicBool,
}

impl Logger {
    /// A logger writing to `logfile` (appending), or to stderr if it is empty.
    pub fn new(level: LogLevel, logfile: &str) -> io::Result<Logger> {
        let file = if logfile.is_empty() {
            None
        } else {
            let file = OpenOptions::new().create(true).append(true).open(logfile)?;
            Some(Mutex::new(file))
        };
        Ok(Logger {
            level: AtomicU8::new(level as u8),
            replica: std::sync::atomic::AtomicBool::new(false),
            file,
            syslog: false,
        })
    }

    /// Also sends every line to syslog, as `ident` in `facility` (a
    /// `LOG_*` code), as Redis does with `syslog-enabled yes`.
    pub fn enable_syslog(&mut self, ident: &str, facility: u32) {
        // openlog keeps the pointer it is given: the name must live as long
        // as the process, so it is leaked (once per server start).
        let ident = std::ffi::CString::new(ident.replace('\0', ""))
            .unwrap_or_default()
            .into_raw();
        // SAFETY: `ident` is a valid C string that is never freed.
        unsafe {
            libc::openlog(
                ident,
                libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
                facility as libc::c_int,
            );
        }
        self.syslog = true;
    }

    /// Lines say `S` instead of `M` while the server is a replica, as
    /// Redis's do.
    pub fn set_replica(&self, replica: bool) {
        self.replica.store(replica, Ordering::Relaxed);
    }

    pub fn set_level(&self, level: LogLevel) {
        self.level.store(level as u8, Ordering::Relaxed);
    }

    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= LogLevel::from_u8(self.level.load(Ordering::Relaxed)) && level != LogLevel::Nothing
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        if !self.enabled(level) {
            return;
        }
        let role = if self.replica.load(Ordering::Relaxed) { 'S' } else { 'M' };
        let line = format!(
            "{}:{role} {} {} {}\n",
            std::process::id(),
            timestamp(),
            level.mark(),
            message
        );
        if self.syslog {
            let priority = match level {
                LogLevel::Debug => libc::LOG_DEBUG,
                LogLevel::Verbose => libc::LOG_INFO,
                LogLevel::Notice => libc::LOG_NOTICE,
                LogLevel::Warning | LogLevel::Nothing => libc::LOG_WARNING,
            };
            if let Ok(text) = std::ffi::CString::new(message.replace('\0', "")) {
                // SAFETY: a constant format string and one valid C string.
                unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
            }
        }
        // A log line that cannot be written is dropped: logging must never
        // take the server down.
        match &self.file {
            Some(file) => {
                let _ = file.lock().write_all(line.as_bytes());
            }
            None => {
                let _ = io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }

    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message);
    }

    pub fn verbose(&self, message: &str) {
        self.log(LogLevel::Verbose, message);
    }

    pub fn notice(&self, message: &str) {
        self.log(LogLevel::Notice, message);
    }

    pub fn warning(&self, message: &str) {
        self.log(LogLevel::Warning, message);
    }
}

/// `24 Nov 2026 12:00:00.123` in local time.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let millis = now.subsec_millis();
    // SAFETY: localtime_r writes only into the `tm` we pass; `secs` is a
    // valid time_t on the stack.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_filter() {
        let log = Logger::new(LogLevel::Notice, "").unwrap();
        assert!(!log.enabled(LogLevel::Verbose));
        assert!(log.enabled(LogLevel::Warning));
        log.set_level(LogLevel::Nothing);
        assert!(!log.enabled(LogLevel::Warning));
    }

    #[test]
    fn timestamp_has_redis_shape() {
        let ts = timestamp();
        // "24 Nov 2026 12:00:00.123"
        let parts: Vec<&str> = ts.split(' ').collect();
        assert_eq!(parts.len(), 4, "{ts}");
        assert_eq!(parts[3].len(), 12, "{ts}");
    }
}
