//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over a real socket. The
//! expected bytes are what Redis 7.0.15 sends.

mod common;

use common::TestServer;

#[test]
fn config_get_replies_a_map_of_matches() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "GET", "maxclients"],
        b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    // A plain name is answered under the name as given.
    assert_reply!(
        c,
        ["CONFIG", "GET", "MAXCLIENTS"],
        b"*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n"
    );
    // Patterns ignore case and report the parameter's own name.
    assert_reply!(
        c,
        ["CONFIG", "GET", "Protected-*"],
        b"*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n"
    );
    // Each parameter once, however many arguments name it.
    assert_reply!(
        c,
        ["CONFIG", "GET", "timeout", "TIMEOUT", "time*"],
        b"*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_reply!(c, ["CONFIG", "GET", "nosuchparameter"], b"*0\r\n");
    assert_reply!(
        c,
        ["CONFIG", "GET", "save"],
        b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "appendonly"],
        b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET"],
        b"-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    c.call(&["HELLO", "3"]);
    assert_reply!(
        c,
        ["CONFIG", "GET", "timeout"],
        b"%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
}

#[test]
fn config_get_star_lists_every_parameter() {
    let server = TestServer::start();
    let mut c = server.client();
    let all: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("*")
        .query(&mut c)
        .unwrap();
    let names: Vec<&str> = all.iter().step_by(2).map(String::as_str).collect();
    for name in [
        "port",
        "bind",
        "requirepass",
        "maxclients",
        "timeout",
        "databases",
        "save",
        "appendonly",
        "hz",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[test]
fn config_set_changes_values_and_reports_errors_like_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "5", "maxclients", "100"],
        b"+OK\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "timeout"],
        b"*2\r\n$7\r\ntimeout\r\n$1\r\n5\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "maxclients"],
        b"*2\r\n$10\r\nmaxclients\r\n$3\r\n100\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "foo", "1"],
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "x"],
        b"-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "TIMEOUT", "-1"],
        b"-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "databases", "3"],
        b"-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "1", "Timeout", "2"],
        b"-ERR CONFIG SET failed (possibly related to argument 'Timeout') - duplicate parameter\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "loglevel", "loud"],
        b"-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "protected-mode", "maybe"],
        b"-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "proto-max-bulk-len", "1kb"],
        b"-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "save", "100"],
        b"-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "1", "foo"],
        b"-ERR syntax error\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout"],
        b"-ERR wrong number of arguments for 'config|set' command\r\n"
    );
    // Redis clamps hz into 1..=500.
    assert_reply!(c, ["CONFIG", "SET", "hz", "1000"], b"+OK\r\n");
    assert_reply!(
        c,
        ["CONFIG", "GET", "hz"],
        b"*2\r\n$2\r\nhz\r\n$3\r\n500\r\n"
    );
}

#[test]
fn config_set_is_all_or_nothing() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "5", "maxclients", "0"],
        b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "timeout"],
        b"*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "5", "nosuch", "1"],
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "timeout"],
        b"*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
}

#[test]
fn config_set_loglevel_changes_what_is_logged() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["CONFIG", "SET", "loglevel", "debug"], b"+OK\r\n");
    assert!(
        server
            .handle()
            .state()
            .log
            .enabled(sedis::config::LogLevel::Debug)
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "loglevel"],
        b"*2\r\n$8\r\nloglevel\r\n$5\r\ndebug\r\n"
    );
}

#[test]
fn requirepass_applies_to_new_connections_only() {
    let server = TestServer::start();
    let mut admin = server.raw();
    assert_reply!(
        admin,
        ["CONFIG", "SET", "requirepass", "s3cret"],
        b"+OK\r\n"
    );
    // The connection that set it stays authenticated, as in Redis.
    assert_reply!(admin, ["PING"], b"+PONG\r\n");
    let mut fresh = server.raw();
    assert_reply!(fresh, ["PING"], b"-NOAUTH Authentication required.\r\n");
    assert_reply!(fresh, ["AUTH", "s3cret"], b"+OK\r\n");
    assert_reply!(fresh, ["PING"], b"+PONG\r\n");
    assert_reply!(
        admin,
        ["CONFIG", "GET", "requirepass"],
        b"*2\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n"
    );
    assert_reply!(admin, ["CONFIG", "SET", "requirepass", ""], b"+OK\r\n");
    let mut open = server.raw();
    assert_reply!(open, ["PING"], b"+PONG\r\n");
}

#[test]
fn resetstat_zeroes_the_statistics() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["SET", "k", "v"]);
    c.call(&["GET", "nokey"]);
    c.call(&["GET", "k", "extra"]);
    assert_reply!(c, ["CONFIG", "RESETSTAT"], b"+OK\r\n");
    let stats = c.info(&["stats"]);
    assert_eq!(stats.field("total_commands_processed"), "1");
    assert_eq!(stats.field("keyspace_misses"), "0");
    assert_eq!(stats.field("total_error_replies"), "0");
    assert_eq!(stats.field("total_connections_received"), "0");
    let commands = c.info(&["commandstats"]);
    assert!(
        commands
            .0
            .contains("\r\ncmdstat_config|resetstat:calls=1,usec=",),
        "{}",
        commands.0
    );
    assert!(!commands.0.contains("cmdstat_set"), "{}", commands.0);
    assert_eq!(c.info(&["errorstats"]).0, "# Errorstats\r\n");
}

#[test]
fn rewrite_needs_a_config_file() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "REWRITE"],
        b"-ERR The server is running without a config file\r\n"
    );
}

#[test]
fn rewrite_updates_the_config_file() {
    let dir = common::temp_dir("config-rewrite");
    let path = dir.join("sedis.conf");
    std::fs::write(&path, "# my settings\ntimeout 3\nnot-a-directive 1\n").unwrap();
    let file = path.clone();
    let server = TestServer::with_config(move |c| {
        c.timeout = 3;
        c.config_file = Some(file);
        c.dir = ".".into();
        // A level Redis's config files know (tests otherwise run silent).
        c.loglevel = sedis::config::LogLevel::Warning;
    });
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "7", "maxclients", "50"],
        b"+OK\r\n"
    );
    assert_reply!(c, ["CONFIG", "REWRITE"], b"+OK\r\n");
    let text = std::fs::read_to_string(&path).unwrap();
    // As Redis does, `dir` (absolute), the latency percentiles and the
    // default user are always written (and `bind`, whose default is sedis's
    // own), after the blank line the file's last newline leaves.
    let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
    assert_eq!(
        text,
        format!(
            "# my settings\ntimeout 7\n# ??? not-a-directive 1\n\n\
             # Generated by CONFIG REWRITE\nloglevel warning\nport 0\nmaxclients 50\n\
             dir \"{}\"\nsave \"\"\nbind 127.0.0.1\n\
             latency-tracking-info-percentiles 50 99 99.9\n\
             user default on nopass ~* &* +@all\n",
            cwd.display()
        )
    );
    // The file reads back to the same values.
    let mut again = sedis::Config::default();
    again.apply_file_text(&text).unwrap();
    assert_eq!((again.timeout, again.maxclients, again.port), (7, 50, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_set_port_and_bind_rebind_the_server_at_run_time() {
    let server = TestServer::start();
    let old = server.addr;
    let mut c = server.raw();
    // A port held for the test, so that nothing else takes it once the
    // spare listener on it is gone (see `ClosedPort`).
    let held = common::ports::ClosedPort::new();
    let port = held.port;
    let spare = std::net::TcpListener::bind(held.addr()).unwrap();
    // A port in use: Redis's error, and the old port still serves.
    let taken = "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.\r\n";
    assert_reply!(
        c,
        ["CONFIG", "SET", "port", &port.to_string()],
        taken.as_bytes()
    );
    common::Raw::connect(old).call(&["PING"]);
    // All or nothing: a value set before the failing one is rolled back.
    let port_text = port.to_string();
    assert_reply!(
        c,
        ["CONFIG", "SET", "timeout", "77", "port", &port_text],
        taken.as_bytes()
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "timeout"],
        b"*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    drop(spare);
    assert_reply!(c, ["CONFIG", "SET", "port", &port.to_string()], b"+OK\r\n");
    // The new port serves, the old one is closed, this connection stays.
    let mut moved = common::Raw::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    assert_reply!(moved, ["PING"], b"+PONG\r\n");
    assert!(std::net::TcpStream::connect(old).is_err());
    assert_reply!(c, ["PING"], b"+PONG\r\n");
    // bind: every address listed, the optional one skipped if absent.
    assert_reply!(
        c,
        ["CONFIG", "SET", "bind", "192.0.2.1"],
        b"-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n"
    );
    assert_reply!(moved, ["PING"], b"+PONG\r\n");
    assert_reply!(
        c,
        ["CONFIG", "SET", "bind", "127.0.0.1 -192.0.2.1"],
        b"+OK\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "GET", "bind"],
        b"*2\r\n$4\r\nbind\r\n$20\r\n127.0.0.1 -192.0.2.1\r\n"
    );
    let mut again = common::Raw::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    assert_reply!(again, ["PING"], b"+PONG\r\n");
    server.stop();
}

#[test]
fn a_new_bind_keeps_the_port_that_port_0_picked() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(c, ["CONFIG", "SET", "bind", "127.0.0.1"], b"+OK\r\n");
    let mut again = common::Raw::connect(server.addr);
    assert_reply!(again, ["PING"], b"+PONG\r\n");
}

#[test]
fn protected_parameters_need_enable_protected_configs() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["CONFIG", "SET", "dir", "/tmp"],
        b"-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "daemonize", "yes"],
        b"-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
    );
    let local = TestServer::with_config(|c| {
        c.enable_protected_configs = sedis::config::ProtectedAction::Local;
    });
    let mut c = local.raw();
    let dir = std::env::temp_dir().canonicalize().unwrap();
    assert_reply!(
        c,
        ["CONFIG", "SET", "dir", dir.to_str().unwrap()],
        b"+OK\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "dir", "/no/such/dir"],
        b"-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory\r\n"
    );
}

#[test]
fn config_help_lists_the_subcommands() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["config", "help"],
        b"*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
+GET <pattern>\r\n+    Return parameters matching the glob-like <pattern> and their values.\r\n\
+SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n\
+RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n\
+REWRITE\r\n+    Rewrite the configuration file.\r\n+HELP\r\n+    Prints this help.\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "foo"],
        b"-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG"],
        b"-ERR wrong number of arguments for 'config' command\r\n"
    );
}
