//! Configuration: defaults, `redis.conf`-style files, command-line options,
//! and the parameter table CONFIG GET / CONFIG SET work through.
//!
//! Every option is a row in [`PARAMS`]: its name, whether it can change at
//! run time, how to parse it and how CONFIG GET shows it. Files, flags and
//! CONFIG SET all go through the same parsers, so a value is accepted or
//! rejected the same way wherever it comes from, with Redis's error texts.

use std::fmt;

use crate::log::LogLevel;
use crate::resp::reader::split_args;

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: String,
    /// The most clients served at once: the worker pool's size.
    pub maxclients: usize,
    /// Idle seconds before a client is closed; 0 = never.
    pub timeout: u64,
    pub databases: usize,
    pub loglevel: LogLevel,
    /// Log file; empty = standard error.
    pub logfile: String,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// Save points: save when at least `changes` writes happened in
    /// `seconds` (Redis's default: 3600 1, 300 100, 60 10000).
    pub save: Vec<(u64, u64)>,
    pub appendonly: bool,
    /// Directory of the dump (and, later, the append-only file).
    pub dir: String,
    pub dbfilename: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// Refuse writes while the last background save failed (MISCONF).
    pub stop_writes_on_bgsave_error: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    pub appendfsync: crate::persist::aof::FsyncPolicy,
    /// Load a truncated AOF up to its last complete command (and fix it).
    pub aof_load_truncated: bool,
    /// Size of a list's quicklist nodes (negative: -1..-5 for 4..64 KB).
    /// Lists are not stored in nodes here; the value is kept and reported.
    pub list_max_listpack_size: i64,
    /// Sorted sets with more members use the skiplist encoding.
    pub zset_max_listpack_entries: usize,
    /// Sorted sets with a longer member use the skiplist encoding.
    pub zset_max_listpack_value: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6380,
            bind: vec!["127.0.0.1".into()],
            protected_mode: true,
            requirepass: String::new(),
            maxclients: 10000,
            timeout: 0,
            databases: 16,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            appendonly: false,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            rdbcompression: true,
            rdbchecksum: true,
            stop_writes_on_bgsave_error: true,
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            appendfsync: crate::persist::aof::FsyncPolicy::EverySec,
            aof_load_truncated: true,
            list_max_listpack_size: -2,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}

/// A configuration error, worded like Redis's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The option name as given.
    pub name: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}': {}", self.name, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    /// False for options that can only be set at start-up.
    pub mutable: bool,
    /// Parses a value (multi-word values arrive joined by spaces).
    pub set: fn(&mut Config, &str) -> Result<(), String>,
    /// Formats the value as CONFIG GET shows it.
    pub get: fn(&Config) -> String,
}

/// Every parameter, in the order CONFIG GET * lists them.
pub static PARAMS: &[Param] = &[
    Param {
        name: "port",
        mutable: false,
        set: |c, v| {
            c.port = int_in(v, 0, 65535)? as u16;
            Ok(())
        },
        get: |c| c.port.to_string(),
    },
    Param {
        name: "bind",
        mutable: false,
        set: |c, v| {
            let addrs: Vec<String> = v.split_whitespace().map(String::from).collect();
            if addrs.is_empty() {
                return Err("Too many bind addresses specified.".into());
            }
            c.bind = addrs;
            Ok(())
        },
        get: |c| c.bind.join(" "),
    },
    Param {
        name: "protected-mode",
        mutable: true,
        set: |c, v| {
            c.protected_mode = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.protected_mode),
    },
    Param {
        name: "requirepass",
        mutable: true,
        set: |c, v| {
            c.requirepass = v.to_string();
            Ok(())
        },
        get: |c| c.requirepass.clone(),
    },
    Param {
        name: "maxclients",
        mutable: true,
        set: |c, v| {
            c.maxclients = int_in(v, 1, u32::MAX as i64)? as usize;
            Ok(())
        },
        get: |c| c.maxclients.to_string(),
    },
    Param {
        name: "timeout",
        mutable: true,
        set: |c, v| {
            c.timeout = int_in(v, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
        get: |c| c.timeout.to_string(),
    },
    Param {
        name: "databases",
        mutable: false,
        set: |c, v| {
            c.databases = int_in(v, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
        get: |c| c.databases.to_string(),
    },
    Param {
        name: "loglevel",
        mutable: true,
        set: |c, v| {
            c.loglevel = LogLevel::parse(v).ok_or_else(|| {
                "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"
                    .to_string()
            })?;
            Ok(())
        },
        get: |c| c.loglevel.name().to_string(),
    },
    Param {
        name: "logfile",
        mutable: false,
        set: |c, v| {
            c.logfile = v.to_string();
            Ok(())
        },
        get: |c| c.logfile.clone(),
    },
    Param {
        name: "proto-max-bulk-len",
        mutable: true,
        set: |c, v| {
            c.proto_max_bulk_len = memory_in(v, 1024 * 1024, i64::MAX as u64)?;
            Ok(())
        },
        get: |c| c.proto_max_bulk_len.to_string(),
    },
    Param {
        name: "client-query-buffer-limit",
        mutable: true,
        set: |c, v| {
            c.client_query_buffer_limit = memory_in(v, 1024 * 1024, i64::MAX as u64)?;
            Ok(())
        },
        get: |c| c.client_query_buffer_limit.to_string(),
    },
    Param {
        name: "save",
        mutable: true,
        set: |c, v| {
            c.save = parse_save(v)?;
            Ok(())
        },
        get: |c| {
            c.save
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(" ")
        },
    },
    Param {
        name: "appendonly",
        mutable: true,
        set: |c, v| {
            c.appendonly = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.appendonly),
    },
    Param {
        name: "dir",
        mutable: true,
        set: |c, v| {
            if !std::path::Path::new(v).is_dir() {
                return Err("No such file or directory".into());
            }
            c.dir = v.to_string();
            Ok(())
        },
        get: |c| {
            // Redis reports the absolute working directory.
            std::fs::canonicalize(&c.dir)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| c.dir.clone())
        },
    },
    Param {
        name: "dbfilename",
        mutable: true,
        set: |c, v| {
            if v.contains('/') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            c.dbfilename = v.to_string();
            Ok(())
        },
        get: |c| c.dbfilename.clone(),
    },
    Param {
        name: "rdbcompression",
        mutable: true,
        set: |c, v| {
            c.rdbcompression = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.rdbcompression),
    },
    Param {
        name: "rdbchecksum",
        mutable: true,
        set: |c, v| {
            c.rdbchecksum = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.rdbchecksum),
    },
    Param {
        name: "stop-writes-on-bgsave-error",
        mutable: true,
        set: |c, v| {
            c.stop_writes_on_bgsave_error = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.stop_writes_on_bgsave_error),
    },
    Param {
        name: "appendfilename",
        mutable: false,
        set: |c, v| {
            if v.is_empty() || v.contains('/') {
                return Err("appendfilename can't be a path, just a filename".into());
            }
            c.appendfilename = v.to_string();
            Ok(())
        },
        get: |c| c.appendfilename.clone(),
    },
    Param {
        name: "appenddirname",
        mutable: false,
        set: |c, v| {
            if v.is_empty() || v.contains('/') {
                return Err("appenddirname can't be a path, just a dirname".into());
            }
            c.appenddirname = v.to_string();
            Ok(())
        },
        get: |c| c.appenddirname.clone(),
    },
    Param {
        name: "appendfsync",
        mutable: true,
        set: |c, v| {
            c.appendfsync = crate::persist::aof::FsyncPolicy::parse(v).ok_or_else(|| {
                "argument(s) must be one of the following: always, everysec, no".to_string()
            })?;
            Ok(())
        },
        get: |c| c.appendfsync.name().to_string(),
    },
    Param {
        name: "aof-load-truncated",
        mutable: true,
        set: |c, v| {
            c.aof_load_truncated = yes_no(v)?;
            Ok(())
        },
        get: |c| yes_no_str(c.aof_load_truncated),
    },
    // The ziplist names are the aliases Redis keeps from before listpacks.
    Param {
        name: "list-max-listpack-size",
        mutable: true,
        set: set_list_max_listpack_size,
        get: |c| c.list_max_listpack_size.to_string(),
    },
    Param {
        name: "list-max-ziplist-size",
        mutable: true,
        set: set_list_max_listpack_size,
        get: |c| c.list_max_listpack_size.to_string(),
    },
    Param {
        name: "zset-max-listpack-entries",
        mutable: true,
        set: set_zset_max_listpack_entries,
        get: |c| c.zset_max_listpack_entries.to_string(),
    },
    Param {
        name: "zset-max-ziplist-entries",
        mutable: true,
        set: set_zset_max_listpack_entries,
        get: |c| c.zset_max_listpack_entries.to_string(),
    },
    Param {
        name: "zset-max-listpack-value",
        mutable: true,
        set: set_zset_max_listpack_value,
        get: |c| c.zset_max_listpack_value.to_string(),
    },
    Param {
        name: "zset-max-ziplist-value",
        mutable: true,
        set: set_zset_max_listpack_value,
        get: |c| c.zset_max_listpack_value.to_string(),
    },
];

fn set_list_max_listpack_size(c: &mut Config, v: &str) -> Result<(), String> {
    c.list_max_listpack_size = int_in(v, i64::from(i32::MIN), i64::from(i32::MAX))?;
    Ok(())
}

fn set_zset_max_listpack_entries(c: &mut Config, v: &str) -> Result<(), String> {
    c.zset_max_listpack_entries = int_in(v, 0, i64::MAX)? as usize;
    Ok(())
}

fn set_zset_max_listpack_value(c: &mut Config, v: &str) -> Result<(), String> {
    c.zset_max_listpack_value = memory_in(v, 0, i64::MAX as u64)? as usize;
    Ok(())
}

/// Finds a parameter by name (case-insensitive).
pub fn param(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Applies one option, as from a config file line or a command-line flag.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), ConfigError> {
        let fail = |message: String| ConfigError {
            name: name.to_string(),
            message,
        };
        let param =
            param(name).ok_or_else(|| fail("Bad directive or wrong number of arguments".into()))?;
        let multi_word = matches!(param.name, "save" | "bind");
        if values.is_empty() || (values.len() > 1 && !multi_word) {
            return Err(fail("wrong number of arguments".into()));
        }
        (param.set)(self, &values.join(" ")).map_err(fail)
    }

    /// Applies a `redis.conf`-style text: one option per line, `#` comments,
    /// values quoted as redis-cli quotes them.
    pub fn apply_file_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at_line = |message: String| ConfigError {
                name: format!("line {}", number + 1),
                message,
            };
            let args = split_args(line.as_bytes())
                .ok_or_else(|| at_line("Unbalanced quotes in configuration line".into()))?;
            let args: Vec<String> = args
                .into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect();
            let (name, values) = args.split_first().expect("non-empty line has a word");
            self.apply(name, values)?;
        }
        Ok(())
    }

    /// Applies `--name value [value...]` options (the part of the command line
    /// after an optional config file), as redis-server accepts them.
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<(), ConfigError> {
        let mut i = 0;
        while i < flags.len() {
            let Some(name) = flags[i].strip_prefix("--") else {
                return Err(ConfigError {
                    name: flags[i].clone(),
                    message: "options must start with --".into(),
                });
            };
            let mut values = Vec::new();
            i += 1;
            while i < flags.len() && !flags[i].starts_with("--") {
                values.push(flags[i].clone());
                i += 1;
            }
            // `--save ""` (or no value at all for save) means "no save points".
            if values.is_empty() && name.eq_ignore_ascii_case("save") {
                values.push(String::new());
            }
            self.apply(name, &values)?;
        }
        Ok(())
    }
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn yes_no_str(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn int_in(v: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = crate::num::parse_i64(v.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

fn memory_in(v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory(v).ok_or_else(|| "argument must be a memory value".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Parses a size with Redis's units: `1k` = 1000, `1kb` = 1024, and so on
/// for m/mb and g/gb, case-insensitive (Redis's `memtoull`).
pub fn parse_memory(v: &str) -> Option<u64> {
    let lower = v.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let multiplier: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Parses save points: `""` (none) or pairs of "seconds changes".
pub fn parse_save(v: &str) -> Result<Vec<(u64, u64)>, String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    words
        .chunks(2)
        .map(|pair| {
            let seconds = pair[0].parse().map_err(|_| "Invalid save parameters")?;
            let changes = pair[1].parse().map_err(|_| "Invalid save parameters")?;
            Ok((seconds, changes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("2mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("1g"), Some(1_000_000_000));
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("1tb"), None);
        assert_eq!(parse_memory("kb"), None);
    }

    #[test]
    fn files_and_flags_parse() {
        let mut c = Config::default();
        c.apply_file_text("# comment\nport 7000\n  requirepass \"a b\"\nloglevel warning\n")
            .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.requirepass, "a b");
        c.apply_flags(&["--port".into(), "7001".into(), "--save".into(), "".into()])
            .unwrap();
        assert_eq!(c.port, 7001);
        let err = c.apply_flags(&["--port".into(), "x".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'port': argument couldn't be parsed into an integer"
        );
        let err = c.apply_flags(&["--nosuch".into(), "1".into()]).unwrap_err();
        assert_eq!(err.name, "nosuch");
    }
}
