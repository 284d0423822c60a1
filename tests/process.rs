//! `sedis-server` as a process: its command line, its log format, and
//! stopping on SIGTERM / SIGINT with every thread ended and the port freed.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use common::process::{SEDIS_SERVER as BIN, ServerProcess, ready_port_in};
use common::temp_dir;

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

/// Starts the server (its dump in `dir`) and checks the format of its
/// ready line.
fn start(dir: &std::path::Path, extra: &[&str]) -> ServerProcess {
    let server = ServerProcess::spawn(
        Command::new(BIN)
            .args(["--dir", dir.to_str().unwrap()])
            .args(extra),
    );
    // Redis's format: "PID:M 24 Nov 2026 12:00:00.123 * message".
    let line = &server.ready;
    let (pid, rest) = line.split_once(":M ").expect("pid:role");
    assert_eq!(pid.parse::<u32>().expect("pid"), server.child.id());
    let fields: Vec<&str> = rest.splitn(6, ' ').collect();
    assert_eq!(fields[4], "*", "notice level mark in {line:?}");
    server
}

/// With the default save points a signal saves before stopping, as in
/// Redis; the dump then restores the data on the next start.
fn stops_on(signal: i32, name: &str) {
    let dir = temp_dir(name);
    let mut server = start(&dir, &[]);
    let port = server.port;
    let mut client = TcpStream::connect(server.addr()).expect("connect");
    client.write_all(b"SET saved yes\r\n").unwrap();
    let mut reply = [0u8; 5];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n");
    server.signal(signal);
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let rest = server.rest_of_log();
    assert!(rest.contains("scheduling shutdown"), "{rest}");
    assert!(rest.contains("bye bye"), "{rest}");
    // The connected client was released and the port is free.
    let mut buf = Vec::new();
    assert_eq!(client.read_to_end(&mut buf).unwrap_or(0), 0);
    TcpListener::bind(("127.0.0.1", port)).expect("port free");
    assert!(rest.contains("DB saved on disk"), "{rest}");
    // The next start loads it.
    let server = start(&dir, &[]);
    assert_eq!(
        roundtrip(server.port, b"GET saved\r\n", 9),
        b"$3\r\nyes\r\n"
    );
    drop(server);
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
    let dir = temp_dir("conf");
    let conf = dir.join("sedis.conf");
    std::fs::write(&conf, "# test\nrequirepass \"s3cret pw\"\nport 1\n").unwrap();
    let mut server = ServerProcess::spawn(Command::new(BIN).arg(&conf).args(["--save", ""]));
    // `--port 0` came after the file: the server picked a port, not 1.
    assert_ne!(server.port, 1, "the flag overrides the file's port");
    let mut c = TcpStream::connect(server.addr()).expect("connect");
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
    server.signal(libc::SIGTERM);
    server.child.wait().unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// Kills a server process when a test ends, failed or not, so that no
/// server outlives it.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a process this test started.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
        }
    }
}

/// Waits for a file a daemon writes: its only way of saying it is up.
fn wait_for_file(path: &std::path::Path) -> String {
    let mut text = String::new();
    common::eventually(&format!("{} to be written", path.display()), || {
        text = std::fs::read_to_string(path).unwrap_or_default();
        text.ends_with('\n')
    });
    text
}

fn roundtrip(port: u16, request: &[u8], reply_len: usize) -> Vec<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.write_all(request).unwrap();
    let mut reply = vec![0u8; reply_len];
    c.read_exact(&mut reply).unwrap();
    reply
}

#[test]
fn daemonize_forks_writes_the_pid_file_and_removes_it_at_exit() {
    let dir = temp_dir("daemon");
    let pidfile = dir.join("sedis.pid");
    let logfile = dir.join("sedis.log");
    let status = Command::new(BIN)
        .args(["--daemonize", "yes", "--port", "0", "--save", ""])
        .arg("--pidfile")
        .arg(&pidfile)
        .arg("--logfile")
        .arg(&logfile)
        .arg("--dir")
        .arg(&dir)
        .status()
        .expect("run");
    // The parent returns at once; the daemon carries on.
    assert!(status.success(), "{status:?}");
    let pid: i32 = wait_for_file(&pidfile).trim().parse().expect("a pid");
    assert_ne!(pid as u32, std::process::id());
    let daemon = KillOnDrop(pid);
    // Its log is the only place that names the port it picked.
    let port = ready_port_in(&logfile);
    let reply = roundtrip(port, b"CONFIG GET daemonize\r\n", 28);
    assert_eq!(reply, b"*2\r\n$9\r\ndaemonize\r\n$3\r\nyes\r\n");
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.write_all(b"SHUTDOWN NOSAVE\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    // Gone, and so is its pid file (the log says why if not).
    // SAFETY: signal 0 only checks that the process exists.
    common::eventually("the daemon to exit", || unsafe { libc::kill(pid, 0) } != 0);
    std::mem::forget(daemon);
    assert!(!pidfile.exists());
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Ready to accept connections"), "{log}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn include_and_rename_command_shape_the_server() {
    let dir = temp_dir("include");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(dir.join("conf.d/limits.conf"), "maxclients 77\n").unwrap();
    let conf = dir.join("sedis.conf");
    std::fs::write(
        &conf,
        format!(
            "include {}/conf.d/*.conf\nrename-command CONFIG cfg\nrename-command FLUSHALL \"\"\n",
            dir.display()
        ),
    )
    .unwrap();
    let server = ServerProcess::spawn(Command::new(BIN).arg(&conf).args(["--save", ""]));
    let port = server.port;
    assert_eq!(
        roundtrip(port, b"CFG GET maxclients\r\n", 29),
        b"*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n"
    );
    let unknown = b"-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'x' \r\n";
    assert_eq!(roundtrip(port, b"CONFIG GET x\r\n", unknown.len()), unknown);
    let unknown = b"-ERR unknown command 'FLUSHALL', with args beginning with: \r\n";
    assert_eq!(roundtrip(port, b"FLUSHALL\r\n", unknown.len()), unknown);
    // A rename of a command that does not exist stops the start.
    std::fs::write(&conf, "rename-command NOSUCH x\n").unwrap();
    let out = Command::new(BIN)
        .arg(&conf)
        .args(["--port", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No such command in rename-command"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shutdown_on_sigterm_nosave_skips_the_final_save() {
    let dir = temp_dir("sigterm-nosave");
    let mut server = start(&dir, &["--shutdown-on-sigterm", "nosave"]);
    assert_eq!(roundtrip(server.port, b"SET k v\r\n", 5), b"+OK\r\n");
    server.signal(libc::SIGTERM);
    assert!(server.child.wait().expect("wait").success());
    let rest = server.rest_of_log();
    assert!(rest.contains("bye bye"), "{rest}");
    assert!(!rest.contains("DB saved on disk"), "{rest}");
    assert!(!dir.join("dump.rdb").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn supervised_systemd_is_told_when_the_server_is_ready() {
    use std::os::unix::net::UnixDatagram;
    let dir = temp_dir("systemd");
    let socket_path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&socket_path).expect("bind the notification socket");
    notify
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // Under a supervisor `daemonize yes` stays in the foreground (Redis's
    // rule): the child is the server, and it logs its ready line.
    let server = ServerProcess::spawn(
        Command::new(BIN)
            .args(["--supervised", "systemd", "--daemonize", "yes"])
            .args(["--save", ""])
            .env("NOTIFY_SOCKET", &socket_path),
    );
    let mut message = [0u8; 256];
    let n = notify.recv(&mut message).expect("a readiness notification");
    let text = String::from_utf8_lossy(&message[..n]);
    assert!(text.contains("READY=1"), "{text}");
    assert_eq!(roundtrip(server.port, b"PING\r\n", 7), b"+PONG\r\n");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}
