//! `sedis-server` as a process: its command line, its log format, and
//! stopping on SIGTERM / SIGINT with every thread ended and the port freed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sedis-server");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[test]
fn bad_options_fail_as_redis_fails_with_exit_code_1() {
    for (args, expected) in [
        (
            &["--port", "abc"][..],
            "at line 2\n>>> 'port \"abc\"'\nargument couldn't be parsed into an integer\n",
        ),
        (
            &["--nosuchoption", "1"][..],
            ">>> 'nosuchoption \"1\"'\nBad directive or wrong number of arguments\n",
        ),
        (
            &["--maxclients", "0"][..],
            "argument must be between 1 and 4294967295 inclusive\n",
        ),
        (
            &["--proto-max-bulk-len", "1xb"][..],
            "argument must be a memory value\n",
        ),
        (
            &["/no/such/file.conf"][..],
            "Fatal error, can't open config file '/no/such/file.conf': No such file or directory\n",
        ),
    ] {
        let out = Command::new(BIN).args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.ends_with(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn help_and_version() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: sedis-server"));
    let out = Command::new(BIN).arg("--version").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("7.0.15"));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sedis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the server (its dump in `dir`), waits for its "Ready to accept
/// connections" line (the real readiness signal), and returns the child and
/// its log reader.
fn start(
    dir: &std::path::Path,
    extra: &[&str],
) -> (
    std::process::Child,
    u16,
    BufReader<std::process::ChildStderr>,
) {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(["--port", &port.to_string()])
        .args(["--dir", dir.to_str().unwrap()])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut log = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    loop {
        line.clear();
        assert!(log.read_line(&mut line).expect("log") > 0, "exited early");
        if line.contains("Ready to accept connections") {
            break;
        }
    }
    // Redis's format: "PID:M 24 Nov 2026 12:00:00.123 * message".
    let (pid, rest) = line.split_once(":M ").expect("pid:role");
    assert_eq!(pid.parse::<u32>().expect("pid"), child.id());
    let fields: Vec<&str> = rest.splitn(6, ' ').collect();
    assert_eq!(fields[4], "*", "notice level mark in {line:?}");
    (child, port, log)
}

/// With the default save points a signal saves before stopping, as in
/// Redis; the dump then restores the data on the next start.
fn stops_on(signal: i32, name: &str) {
    let dir = temp_dir(name);
    let (mut child, port, mut log) = start(&dir, &[]);
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.write_all(b"SET saved yes\r\n").unwrap();
    let mut reply = [0u8; 5];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n");
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    log.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("scheduling shutdown"), "{rest}");
    assert!(rest.contains("bye bye"), "{rest}");
    // The connected client was released and the port is free.
    let mut buf = Vec::new();
    assert_eq!(client.read_to_end(&mut buf).unwrap_or(0), 0);
    TcpListener::bind(("127.0.0.1", port)).expect("port free");
    assert!(rest.contains("DB saved on disk"), "{rest}");
    // The next start loads it.
    let (mut child, port, _log) = start(&dir, &[]);
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.write_all(b"GET saved\r\n").unwrap();
    let mut reply = [0u8; 9];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"$3\r\nyes\r\n");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sigterm_saves_and_stops_cleanly() {
    stops_on(libc::SIGTERM, "sigterm");
}

#[test]
fn sigint_saves_and_stops_cleanly() {
    stops_on(libc::SIGINT, "sigint");
}

#[test]
fn a_config_file_is_read_and_flags_override_it() {
    let dir = std::env::temp_dir().join(format!("sedis-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("sedis.conf");
    std::fs::write(&conf, "# test\nrequirepass \"s3cret pw\"\nport 1\n").unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg(&conf)
        .args(["--port", &port.to_string(), "--save", ""])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("Ready to accept") {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0);
    }
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("flag overrides the file's port");
    c.write_all(b"PING\r\nAUTH \"s3cret pw\"\r\nPING\r\n")
        .unwrap();
    let mut got = vec![0u8; 0];
    let mut buf = [0u8; 256];
    while !got.ends_with(b"+PONG\r\n") {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
