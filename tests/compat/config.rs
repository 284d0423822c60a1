//! Configuration against Redis's: the parameter set, every parameter's
//! edge values through CONFIG SET and GET, and config files moving between
//! the two servers (Debian's stock redis.conf, files CONFIG REWRITE wrote).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sedis::Frame;

use crate::common::process::SEDIS_SERVER;
use crate::common::temp_dir;
use crate::conn::Conn;
use crate::redis::{REDIS_VERSION, on_a_free_port, redis_server_binary};
use crate::servers::Servers;
use crate::show::escape;

/// Every parameter CONFIG GET * reports, name → value.
fn all_config(conn: &mut Conn) -> std::collections::BTreeMap<String, String> {
    let (_, reply) = conn
        .call(&[b"CONFIG".to_vec(), b"GET".to_vec(), b"*".to_vec()])
        .expect("CONFIG GET *");
    let Frame::Array(items) = reply else {
        panic!("CONFIG GET * answered {reply:?}");
    };
    items
        .chunks(2)
        .map(|pair| {
            let text =
                |f: &Frame| String::from_utf8_lossy(f.as_bytes().unwrap_or_default()).into_owned();
            (text(&pair[0]), text(&pair[1]))
        })
        .collect()
}

/// Differences between two CONFIG GET * maps, leaving out `except`.
fn config_differences(
    redis: &std::collections::BTreeMap<String, String>,
    sedis: &std::collections::BTreeMap<String, String>,
    except: &[&str],
) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = redis.keys().chain(sedis.keys()).collect();
    names
        .into_iter()
        .filter(|n| !except.contains(&n.as_str()))
        .filter(|n| redis.get(*n) != sedis.get(*n))
        .map(|n| format!("{n}: redis {:?}, sedis {:?}", redis.get(n), sedis.get(n)))
        .collect()
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn config_get_star_names_every_parameter_redis_has() {
    let mut servers = Servers::start();
    let redis = all_config(&mut servers.redis_admin);
    let sedis = all_config(&mut servers.sedis_admin);
    let missing: Vec<&String> = redis.keys().filter(|k| !sedis.contains_key(*k)).collect();
    let extra: Vec<&String> = sedis.keys().filter(|k| !redis.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing in sedis: {missing:?}; not in Redis: {extra:?}"
    );
    assert_eq!(redis.len(), 192);
}

/// Values of one parameter worth trying: its bounds and one past them,
/// its units, every name it takes, and things it must refuse.
fn edge_values(p: &sedis::config::params::Param) -> Vec<String> {
    use sedis::config::params::{Kind, MULTI_ARG, Unit};
    let mut values: Vec<String> = Vec::new();
    fn add(values: &mut Vec<String>, list: &[&str]) {
        values.extend(list.iter().map(|v| v.to_string()));
    }
    match &p.kind {
        Kind::Bool { .. } => add(&mut values, &["no", "yes", "YES", "No", "maybe", "", "1"]),
        Kind::Number { min, max, unit, .. } => {
            let bounds = [*min, *max, min - 1, max + 1].map(|b| match unit {
                Unit::Octal => format!("{b:o}").replace("-", "-0"),
                _ => b.to_string(),
            });
            values.extend(bounds);
            add(
                &mut values,
                &["abc", "", "1.5", " 1", "+1", "007", "-0", "0x10"],
            );
            if matches!(unit, Unit::Memory | Unit::MemoryOrPercent) {
                add(
                    &mut values,
                    &[
                        "1k",
                        "1kb",
                        "2m",
                        "2mb",
                        "1g",
                        "1gb",
                        "1KB",
                        "5b",
                        "1tb",
                        "-1",
                        "99999999999999999999",
                        "kb",
                        "17179869184gb",
                    ],
                );
            }
            if *unit == Unit::MemoryOrPercent {
                add(&mut values, &["50%", "100%", "101%", "-1%", "%", "0%"]);
            }
            if *unit == Unit::Octal {
                add(&mut values, &["777", "1000", "8", "0777", "0"]);
            }
        }
        Kind::Choice { names, .. } => {
            for (name, _) in names.iter() {
                values.push(name.to_string());
                values.push(name.to_ascii_uppercase());
            }
            add(&mut values, &["bogus", ""]);
            if p.is(MULTI_ARG) {
                add(
                    &mut values,
                    &[
                        "save now",
                        "nosave save",
                        "default force",
                        "save  now",
                        "now force",
                    ],
                );
            }
        }
        Kind::Text { .. } => add(
            &mut values,
            &[
                "",
                "abc",
                "a b",
                "a/b",
                "{title} x",
                "{title}",
                "{bad}",
                "{{x",
                "x{",
            ],
        ),
        Kind::Special { .. } => match p.name {
            "save" => add(
                &mut values,
                &[
                    "",
                    "10 1",
                    "10 1 20 2",
                    "10",
                    "0 1",
                    "10 -1",
                    "10 1  20 2",
                    "x y",
                    "+5 3",
                ],
            ),
            "client-output-buffer-limit" => add(
                &mut values,
                &[
                    "normal 1mb 2mb 3",
                    "pubsub 32mb 8mb 60 replica 1gb 1kb 0",
                    "slave 1 2 3",
                    "master 0 0 0",
                    "normal 1 2",
                    "normal x 0 0",
                    "normal 0 0 -1",
                    "normal 0 0 1.5",
                    "",
                ],
            ),
            "oom-score-adj-values" => add(
                &mut values,
                &[
                    "0 200 800",
                    "0 200",
                    "0 300 2001",
                    "-2000 0 2000",
                    "a b c",
                    "",
                ],
            ),
            "notify-keyspace-events" => add(
                &mut values,
                &["KEA", "Ex", "AKE", "x", "g$lshzxetmdn", "", "KA", "EKnm"],
            ),
            "bind" => add(&mut values, &["192.0.2.1", ""]),
            "dir" => add(&mut values, &["/tmp", "/no/such"]),
            "replicaof" => add(&mut values, &["no one", "127.0.0.1 6379"]),
            "latency-tracking-info-percentiles" => add(
                &mut values,
                &["50 99", "", "0 100", "101", "-1", "x", "99.99999 1"],
            ),
            other => panic!("no edge values for {other}"),
        },
    }
    values
}

/// Values not tried because of what they would do to the test itself:
/// moving the port, logging at full volume, starting an AOF.
fn skipped(name: &str, value: &str) -> bool {
    let valid_port = name == "port" && value.parse::<u16>().is_ok();
    let valid_bind = name == "bind" && value.is_empty();
    let noisy =
        name == "loglevel" && ["debug", "verbose"].contains(&value.to_ascii_lowercase().as_str());
    let aof = name == "appendonly" && value.eq_ignore_ascii_case("yes");
    // LFU eviction is not implemented: sedis refuses the two policies
    // with its own error (README, "Memory").
    let lfu = name == "maxmemory-policy" && value.to_ascii_lowercase().ends_with("-lfu");
    valid_port || valid_bind || noisy || aof || lfu
}

#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn config_set_and_get_of_every_parameter_answer_as_redis() {
    let mut servers = Servers::start();
    let mut mismatches = Vec::new();
    let (redis, sedis) = (&mut servers.redis_admin, &mut servers.sedis_admin);
    let mut tried = 0;
    for p in sedis::config::params::PARAMS {
        for name in std::iter::once(p.name).chain(p.alias) {
            let get = [
                b"CONFIG".to_vec(),
                b"GET".to_vec(),
                name.as_bytes().to_vec(),
            ];
            // Each server's own value, restored afterwards (they differ for
            // port, dir and the like).
            let original = |conn: &mut Conn| match conn.call(&get) {
                Ok((_, Frame::Array(items))) if items.len() == 2 => {
                    items[1].as_bytes().map(<[u8]>::to_vec)
                }
                _ => None,
            };
            let (redis_was, sedis_was) = (original(redis), original(sedis));
            for value in edge_values(p) {
                if skipped(name, &value) {
                    continue;
                }
                tried += 1;
                let set = [
                    b"CONFIG".to_vec(),
                    b"SET".to_vec(),
                    name.as_bytes().to_vec(),
                    value.clone().into_bytes(),
                ];
                let (r, s) = (
                    redis.call(&set).expect("redis"),
                    sedis.call(&set).expect("sedis"),
                );
                if r.0 != s.0 {
                    mismatches.push(format!(
                        "CONFIG SET {name} {value:?}: redis {}, sedis {}",
                        escape(&r.0),
                        escape(&s.0)
                    ));
                    continue;
                }
                if r.0 == b"+OK\r\n" {
                    let (r, s) = (
                        redis.call(&get).expect("redis"),
                        sedis.call(&get).expect("sedis"),
                    );
                    if r.0 != s.0 {
                        mismatches.push(format!(
                            "CONFIG GET {name} after {value:?}: redis {}, sedis {}",
                            escape(&r.0),
                            escape(&s.0)
                        ));
                    }
                }
            }
            for (conn, was) in [(&mut *redis, redis_was), (&mut *sedis, sedis_was)] {
                if let Some(was) = was {
                    let _ = conn.call(&[
                        b"CONFIG".to_vec(),
                        b"SET".to_vec(),
                        name.as_bytes().to_vec(),
                        was,
                    ]);
                }
            }
        }
    }
    assert!(tried > 1500, "only {tried} values tried");
    assert!(
        mismatches.is_empty(),
        "{} difference(s) between Redis {REDIS_VERSION} and sedis:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// A server process started from a config file with `daemonize yes`, as a
/// service manager starts one; killed when dropped.
struct Daemon {
    pid: i32,
    port: u16,
}

impl Daemon {
    /// Starts `binary` with `conf`, overriding only what must differ on a
    /// test machine: port, pid file, log file and directory (all in `dir`).
    /// sedis gets a free port too, not port 0: these tests change `bind` at
    /// run time, which makes a server listen again on its configured port,
    /// and a configured port 0 would be a different one.
    fn start(binary: &Path, conf: &Path, dir: &Path) -> Daemon {
        on_a_free_port(|port| Self::try_start(binary, conf, dir, port))
    }

    /// Starts the daemon on `port`. A daemon says it is up by writing its
    /// pid file; if it never does, or its log says the port was taken (both
    /// servers log `strerror`), this fails with the log.
    fn try_start(binary: &Path, conf: &Path, dir: &Path, port: u16) -> Result<Daemon, String> {
        std::fs::create_dir_all(dir).unwrap();
        let pidfile = dir.join("server.pid");
        let logfile = dir.join("server.log");
        let _ = std::fs::remove_file(&pidfile);
        let _ = std::fs::remove_file(&logfile);
        let status = Command::new(binary)
            .arg(conf)
            .args(["--port", &port.to_string(), "--daemonize", "yes"])
            .arg("--pidfile")
            .arg(&pidfile)
            .arg("--logfile")
            .arg(&logfile)
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        assert!(
            status.success(),
            "{} {}: {status}",
            binary.display(),
            conf.display()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(&pidfile)
                && let Ok(pid) = text.trim().parse()
            {
                return Ok(Daemon { pid, port });
            }
            let log = std::fs::read_to_string(&logfile).unwrap_or_default();
            if log.contains("Address already in use") || Instant::now() > deadline {
                return Err(format!(
                    "{} never wrote its pid file: {log}",
                    binary.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn conn(&self) -> Conn {
        Conn::connect(SocketAddr::from(([127, 0, 0, 1], self.port))).expect("connect")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a process this test started.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }
}

/// Debian's own redis.conf, as the redis-server package installs it.
fn stock_redis_conf() -> PathBuf {
    let path = PathBuf::from("/etc/redis/redis.conf");
    assert!(
        std::fs::read(&path).is_ok(),
        "{} is missing or unreadable: install it with `apt-get install -y redis-server`",
        path.display()
    );
    path
}

/// What differs by design when two servers start from one file on one
/// machine: the overrides above.
const PER_SERVER: &[&str] = &["port", "pidfile", "logfile", "dir"];

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn debians_stock_redis_conf_starts_sedis_with_the_values_redis_reads() {
    let conf = stock_redis_conf();
    let base = temp_dir("stock-conf");
    let redis = Daemon::start(&redis_server_binary(), &conf, &base.join("redis"));
    let sedis = Daemon::start(Path::new(SEDIS_SERVER), &conf, &base.join("sedis"));
    let differences = config_differences(
        &all_config(&mut redis.conn()),
        &all_config(&mut sedis.conn()),
        PER_SERVER,
    );
    drop((redis, sedis));
    std::fs::remove_dir_all(&base).ok();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Settings a user might change at run time and then persist.
const CHANGED_AT_RUN_TIME: &[(&str, &str)] = &[
    ("maxmemory", "100mb"),
    ("maxmemory-policy", "allkeys-lru"),
    ("hz", "20"),
    ("notify-keyspace-events", "KEA"),
    ("save", "30 5 60 7"),
    ("client-output-buffer-limit", "pubsub 64mb 16mb 90"),
    ("appendfsync", "always"),
    ("timeout", "30"),
    ("tcp-keepalive", "60"),
    ("latency-tracking-info-percentiles", "50 99.5"),
    ("slowlog-log-slower-than", "5000"),
    ("list-max-listpack-size", "-3"),
    ("maxmemory-clients", "5%"),
    ("set-max-intset-entries", "1000"),
    ("proto-max-bulk-len", "1gb"),
    ("shutdown-on-sigterm", "save now"),
    ("replica-priority", "50"),
    ("lazyfree-lazy-eviction", "yes"),
    ("bind", "127.0.0.1"),
    ("requirepass", "s3cret"),
];

fn change_and_rewrite(conn: &mut Conn) {
    for (name, value) in CHANGED_AT_RUN_TIME {
        let (raw, _) = conn
            .call(&[
                b"CONFIG".to_vec(),
                b"SET".to_vec(),
                name.as_bytes().to_vec(),
                value.as_bytes().to_vec(),
            ])
            .expect("CONFIG SET");
        assert_eq!(raw, b"+OK\r\n", "CONFIG SET {name} {value}");
    }
    let (raw, _) = conn
        .call(&[b"AUTH".to_vec(), b"s3cret".to_vec()])
        .expect("AUTH");
    assert_eq!(raw, b"+OK\r\n");
    let (raw, _) = conn
        .call(&[b"CONFIG".to_vec(), b"REWRITE".to_vec()])
        .expect("CONFIG REWRITE");
    assert_eq!(raw, b"+OK\r\n");
}

fn authenticated(daemon: &Daemon) -> Conn {
    let mut conn = daemon.conn();
    let (raw, _) = conn
        .call(&[b"AUTH".to_vec(), b"s3cret".to_vec()])
        .expect("AUTH");
    assert_eq!(raw, b"+OK\r\n", "the rewritten file kept the password");
    conn
}

/// A file CONFIG REWRITE wrote on one server starts the other with the same
/// values (`from` rewrites, `to` reads).
fn rewritten_file_moves(from: &Path, to: &Path) {
    let base = temp_dir(&format!(
        "rewrite-{}",
        from.file_name().unwrap().to_string_lossy()
    ));
    let conf = base.join("server.conf");
    std::fs::copy(stock_redis_conf(), &conf).unwrap();
    let writer = Daemon::start(from, &conf, &base.join("writer"));
    change_and_rewrite(&mut writer.conn());
    let written = all_config(&mut authenticated(&writer));
    let reader = Daemon::start(to, &conf, &base.join("reader"));
    let read = all_config(&mut authenticated(&reader));
    let text = std::fs::read_to_string(&conf).unwrap();
    drop((writer, reader));
    std::fs::remove_dir_all(&base).ok();
    let differences = config_differences(&written, &read, PER_SERVER);
    assert!(
        differences.is_empty(),
        "{}\n\nthe file:\n{text}",
        differences.join("\n")
    );
}

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn a_config_file_rewritten_by_redis_starts_sedis() {
    rewritten_file_moves(&redis_server_binary(), Path::new(SEDIS_SERVER));
}

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn a_config_file_rewritten_by_sedis_starts_redis() {
    rewritten_file_moves(Path::new(SEDIS_SERVER), &redis_server_binary());
}

/// The lines of a rewritten file: those kept in place (with the values
/// that differ between two servers on one machine masked), and the set of
/// lines appended after the signature (Redis appends them in its hash
/// table's order).
fn rewritten_layout(text: &str) -> (Vec<String>, std::collections::BTreeSet<String>) {
    let (kept, appended) = text
        .split_once("# Generated by CONFIG REWRITE\n")
        .unwrap_or((text, ""));
    let mask = |line: &str| match line.split_once(' ') {
        Some((name, _)) if PER_SERVER.contains(&name) => format!("{name} ..."),
        _ => line.to_string(),
    };
    (
        kept.lines().map(mask).collect(),
        appended.lines().map(mask).collect(),
    )
}

#[test]
#[ignore = "needs redis-server 7.0.15 and its /etc/redis/redis.conf; run with --include-ignored"]
fn config_rewrite_keeps_the_layout_and_comments_as_redis_does() {
    let base = temp_dir("rewrite-layout");
    let mut texts = Vec::new();
    for (who, binary) in [
        ("redis", redis_server_binary()),
        ("sedis", PathBuf::from(SEDIS_SERVER)),
    ] {
        let dir = base.join(who);
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("server.conf");
        std::fs::copy(stock_redis_conf(), &conf).unwrap();
        let daemon = Daemon::start(&binary, &conf, &dir.join("data"));
        change_and_rewrite(&mut daemon.conn());
        drop(daemon);
        // Started again from what it wrote, and rewriting once more: the
        // second generation (a loaded `user` line, a blank last line).
        let daemon = Daemon::start(&binary, &conf, &dir.join("data"));
        let (raw, _) = authenticated(&daemon)
            .call(&[b"CONFIG".to_vec(), b"REWRITE".to_vec()])
            .expect("CONFIG REWRITE");
        assert_eq!(raw, b"+OK\r\n");
        texts.push(std::fs::read_to_string(&conf).unwrap());
    }
    std::fs::remove_dir_all(&base).ok();
    let (redis, sedis) = (rewritten_layout(&texts[0]), rewritten_layout(&texts[1]));
    let first_difference = redis.0.iter().zip(&sedis.0).position(|(r, s)| r != s);
    assert!(
        first_difference.is_none() && redis.0.len() == sedis.0.len(),
        "kept lines differ at line {first_difference:?}: redis {:?}, sedis {:?}",
        first_difference.map(|i| &redis.0[i]),
        first_difference.map(|i| &sedis.0[i]),
    );
    assert_eq!(redis.1, sedis.1, "appended lines");
}
