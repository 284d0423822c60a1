//! Server introspection over a real socket: INFO, COMMAND, DEBUG, LASTSAVE.
//! Exact bytes where Redis 7.0.15's reply is fixed; structure and live
//! values where it varies.

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, eventually, text};
use sedis::Frame;
use sedis::config::ProtectedAction;

/// This test binary counts its allocations as sedis-server does, so INFO's
/// `used_memory` is the real figure here.
#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

fn debug_server() -> TestServer {
    TestServer::with_config(|c| c.enable_debug_command = ProtectedAction::Yes)
}

fn titles(info: &str) -> Vec<&str> {
    info.split("\r\n")
        .filter_map(|line| line.strip_prefix("# "))
        .collect()
}

#[test]
fn info_default_has_redis_sections_in_order() {
    let server = TestServer::start();
    let mut c = server.raw();
    let text = c.info(&[]);
    assert_eq!(
        titles(&text),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert!(text.starts_with("# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:"));
    // Sections are separated by one empty line and every line ends in CRLF.
    assert!(text.contains("\r\n\r\n# Clients\r\nconnected_clients:1\r\n"));
    assert!(text.ends_with("# Keyspace\r\n"));
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with("# ") || line.contains(':'),
            "bad line {line:?}"
        );
    }
    assert_eq!(titles(&c.info(&["default"])), titles(&text));
}

#[test]
fn info_sections_are_chosen_by_name() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["INFO", "cluster"],
        b"$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    );
    assert_reply!(c, ["INFO", "nosuchsection"], b"$0\r\n\r\n");
    assert_reply!(
        c,
        ["INFO", "CLUSTER", "Keyspace"],
        b"$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n"
    );
    assert_eq!(titles(&c.info(&["cpu", "server"])), ["Server", "CPU"]);
    let everything = c.info(&["everything"]);
    assert_eq!(
        titles(&everything),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Commandstats",
            "Errorstats",
            "Latencystats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert_eq!(titles(&c.info(&["all"])), titles(&everything));
    assert_eq!(titles(&c.info(&["default", "commandstats"])).len(), 12);
    c.call(&["HELLO", "3"]);
    assert_reply!(
        c,
        ["INFO", "cluster"],
        b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"
    );
}

#[test]
fn info_reports_live_values() {
    let server = TestServer::start();
    let mut c = server.raw();
    let _other = server.raw();
    c.call(&["SET", "a", "1"]);
    c.call(&["SET", "b", "2", "EX", "100"]);
    c.call(&["GET", "a"]);
    c.call(&["GET", "missing"]);
    let text = c.info(&["all"]);
    assert_eq!(text.field("tcp_port"), server.addr.port().to_string());
    assert_eq!(text.field("process_id"), std::process::id().to_string());
    let run_id = text.field("run_id");
    assert_eq!(run_id.len(), 40);
    assert!(run_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(text.field("redis_mode"), "standalone");
    assert_eq!(text.field("role"), "master");
    assert_eq!(text.field("loading"), "0");
    assert_eq!(text.field("sedis_version"), sedis::SEDIS_VERSION);
    assert_eq!(text.number("connected_clients"), 2);
    assert_eq!(text.number("blocked_clients"), 0);
    assert_eq!(text.number("maxclients"), 10000);
    assert_eq!(text.number("keyspace_hits"), 1);
    assert_eq!(text.number("keyspace_misses"), 1);
    assert_eq!(text.number("rdb_changes_since_last_save"), 2);
    assert_eq!(text.number("total_commands_processed"), 4);
    assert!(text.number("total_net_input_bytes") > 0);
    assert!(text.number("total_reads_processed") >= 1);
    assert_eq!(text.field("maxmemory_policy"), "noeviction");
    assert_eq!(text.field("mem_allocator"), "libc");
    assert!(text.field("used_cpu_user").contains('.'));
    let keyspace = text.field("db0");
    let avg_ttl: i64 = keyspace
        .strip_prefix("keys=2,expires=1,avg_ttl=")
        .unwrap_or_else(|| panic!("{keyspace}"))
        .parse()
        .unwrap();
    assert!(avg_ttl > 90_000 && avg_ttl <= 100_000, "{avg_ttl}");
    let uptime = text.number("uptime_in_seconds");
    assert!(uptime < 60);
    let stats = c.info(&["commandstats"]);
    assert!(stats.contains("\r\ncmdstat_set:calls=2,usec="), "{stats}");
    assert!(
        stats.contains(",rejected_calls=0,failed_calls=0\r\n"),
        "{stats}"
    );
}

#[test]
fn info_counts_rejected_and_failed_calls_and_errors() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.call(&["GET"]);
    c.call(&["GET", "a", "b"]);
    c.call(&["CONFIG", "SET", "nosuch", "1"]);
    c.call(&["NOSUCHCOMMAND"]);
    let stats = c.info(&["commandstats"]);
    assert!(
        stats.contains(
            "\r\ncmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=2,failed_calls=0\r\n"
        ),
        "{stats}"
    );
    assert!(
        stats.contains(",rejected_calls=0,failed_calls=1\r\n"),
        "{stats}"
    );
    assert!(stats.contains("cmdstat_config|set:calls=1,"), "{stats}");
    assert_eq!(
        c.info(&["errorstats"]),
        "# Errorstats\r\nerrorstat_ERR:count=4\r\n"
    );
    assert_eq!(c.info(&["stats"]).number("total_error_replies"), 4);
}

#[test]
fn instantaneous_ops_rise_under_load_and_fall_back() {
    let server = TestServer::start();
    let mut c = server.raw();
    let mut load = server.raw();
    eventually("the rate to rise", || {
        load.send(&b"PING\r\n".repeat(2000));
        for _ in 0..2000 {
            load.read();
        }
        c.info(&["stats"]).number("instantaneous_ops_per_sec") > 0
    });
    // The rate averages the last 1.6 s; after a quiet 2 s it is 0. (Asking
    // more often would keep it above 0: INFO is a command too.)
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.info(&["stats"]).number("instantaneous_ops_per_sec"), 0);
}

#[test]
fn used_memory_follows_the_data() {
    let server = debug_server();
    let mut c = server.raw();
    let before = c.info(&["memory"]).number("used_memory");
    assert_reply!(c, ["DEBUG", "POPULATE", "20000", "key", "500"], b"+OK\r\n");
    let memory = c.info(&["memory"]);
    let loaded = memory.number("used_memory");
    assert!(
        loaded >= before + 20_000 * 500,
        "before {before}, after {loaded}"
    );
    assert!(memory.number("used_memory_peak") >= loaded);
    assert!(memory.number("used_memory_rss") > 0);
    assert!(memory.field("used_memory_human").ends_with('M'));
    assert_reply!(c, ["FLUSHALL"], b"+OK\r\n");
    let flushed = c.info(&["memory"]).number("used_memory");
    assert!(
        flushed + 20_000 * 500 <= loaded,
        "loaded {loaded}, flushed {flushed}"
    );
}

#[test]
fn command_count_and_list_come_from_the_table() {
    let server = TestServer::start();
    let mut c = server.raw();
    let registry = sedis::internals::commands::registry();
    let count = registry.top_level().count();
    let expected = format!(":{count}\r\n");
    assert_reply!(c, ["COMMAND", "COUNT"], expected.as_bytes());

    c.cmd(&["COMMAND", "LIST"]);
    let Frame::Array(names) = c.read() else {
        panic!()
    };
    let names: Vec<String> = names.into_iter().map(text).collect();
    assert_eq!(names.len(), registry.len());
    for name in ["get", "config", "config|get", "client|list", "command|docs"] {
        assert!(names.contains(&name.to_string()), "{name}");
    }

    c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]);
    let Frame::Array(names) = c.read() else {
        panic!()
    };
    let mut names: Vec<String> = names.into_iter().map(text).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "config",
            "config|get",
            "config|help",
            "config|resetstat",
            "config|rewrite",
            "config|set"
        ]
    );
    c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"]);
    let Frame::Array(names) = c.read() else {
        panic!()
    };
    let names: Vec<String> = names.into_iter().map(text).collect();
    assert!(names.contains(&"get".to_string()) && !names.contains(&"ping".to_string()));
    assert_reply!(
        c,
        ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "@string"],
        b"*0\r\n"
    );
    assert_reply!(c, ["COMMAND", "LIST", "FILTERBY", "MODULE", "x"], b"*0\r\n");
    assert_reply!(
        c,
        ["COMMAND", "LIST", "FILTERBY", "foo", "x"],
        b"-ERR syntax error\r\n"
    );
}

#[test]
fn command_info_matches_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    let get_info = b"*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    assert_eq!(
        c.call(&["COMMAND", "INFO", "get"]),
        [b"*1\r\n".as_slice(), get_info].concat()
    );
    assert_reply!(
        c,
        ["COMMAND", "INFO", "CONFIG|GET", "nosuch"],
        b"*2\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n$-1\r\n"
    );
    // Two key specs, the second a key count: the legacy range covers the
    // destination only, and the keys are movable.
    assert_reply!(
        c,
        ["COMMAND", "INFO", "zunionstore"],
        b"*1\r\n*10\r\n$11\r\nzunionstore\r\n:-4\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@sortedset\r\n+@slow\r\n*0\r\n*2\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n"
    );
    // SET without GET overwrites blindly (Redis's setGetKeys).
    assert_reply!(
        c,
        ["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"],
        b"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"
    );
    c.call(&["HELLO", "3"]);
    assert_reply!(
        c,
        ["COMMAND", "INFO", "get"],
        b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
    );
}

#[test]
fn command_describes_every_command_and_container() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.cmd(&["COMMAND"]);
    let Frame::Array(all) = c.read() else {
        panic!()
    };
    assert_eq!(
        all.len(),
        sedis::internals::commands::registry().top_level().count()
    );
    let mut seen = std::collections::HashSet::new();
    for entry in &all {
        let Frame::Array(fields) = entry else {
            panic!("{entry:?}")
        };
        assert_eq!(fields.len(), 10);
        assert!(seen.insert(text(fields[0].clone())));
        assert!(matches!(fields[1], Frame::Integer(_)));
    }
    let client = all
        .iter()
        .find_map(|e| match e {
            Frame::Array(f) if f[0] == Frame::Bulk(b"client".to_vec()) => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(client[1], Frame::Integer(-2));
    let Frame::Array(subs) = &client[9] else {
        panic!()
    };
    assert!(subs.iter().any(|s| matches!(s,
        Frame::Array(f) if f[0] == Frame::Bulk(b"client|kill".to_vec()) && f[1] == Frame::Integer(-3))));
}

#[test]
fn command_docs_describe_commands() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["COMMAND", "DOCS", "get", "nosuch"],
        b"*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
          $9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
    );
    // Tokens, flags (a set of statuses) and nested choices.
    let reply = c.call(&["COMMAND", "DOCS", "expire"]);
    let text = String::from_utf8_lossy(&reply);
    for part in [
        "$4\r\nname\r\n$7\r\nseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n",
        "$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nflags\r\n*1\r\n+optional\r\n",
        "$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$2\r\nNX\r\n",
    ] {
        assert!(text.contains(part), "{part:?} in {text:?}");
    }
    assert_reply!(c, ["COMMAND", "DOCS", "nosuch"], b"*0\r\n");
    c.call(&["HELLO", "3"]);
    c.cmd(&["COMMAND", "DOCS", "config"]);
    let Frame::Map(docs) = c.read() else { panic!() };
    let (name, doc) = &docs[0];
    assert_eq!(name, &Frame::Bulk(b"config".to_vec()));
    let Frame::Map(doc) = doc else { panic!() };
    let subs = doc
        .iter()
        .find(|(k, _)| k == &Frame::Bulk(b"subcommands".to_vec()))
        .map(|(_, v)| v)
        .expect("subcommands");
    let Frame::Map(subs) = subs else { panic!() };
    assert!(
        subs.iter()
            .any(|(k, _)| k == &Frame::Bulk(b"config|rewrite".to_vec()))
    );
}

#[test]
fn command_getkeys_uses_the_key_specs() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["COMMAND", "GETKEYS", "SET", "a", "b"],
        b"*1\r\n$1\r\na\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "GETKEYS", "DEL", "a", "b", "c"],
        b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "GETKEYSANDFLAGS", "get", "a"],
        b"*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "GETKEYS", "foo", "a"],
        b"-ERR Invalid command specified\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "GETKEYS", "ping", "a"],
        b"-ERR The command has no key arguments\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "GETKEYS", "get", "a", "b"],
        b"-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "GETKEYS", "get"],
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
}

#[test]
fn command_help_matches_redis() {
    let server = TestServer::start();
    let mut c = server.raw();
    assert_reply!(
        c,
        ["COMMAND", "HELP"],
        b"*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
+(no subcommand)\r\n+    Return details about all Redis commands.\r\n\
+COUNT\r\n+    Return the total number of commands in this Redis server.\r\n\
+LIST\r\n+    Return a list of all commands in this Redis server.\r\n\
+INFO [<command-name> ...]\r\n+    Return details about multiple Redis commands.\r\n\
+    If no command names are given, documentation details for all\r\n\
+    commands are returned.\r\n\
+DOCS [<command-name> ...]\r\n+    Return documentation details about multiple Redis commands.\r\n\
+    If no command names are given, documentation details for all\r\n\
+    commands are returned.\r\n\
+GETKEYS <full-command>\r\n+    Return the keys from a full Redis command.\r\n\
+GETKEYSANDFLAGS <full-command>\r\n+    Return the keys and the access flags from a full Redis command.\r\n\
+HELP\r\n+    Prints this help.\r\n"
    );
    assert_reply!(
        c,
        ["COMMAND", "nosuch"],
        b"-ERR unknown subcommand 'nosuch'. Try COMMAND HELP.\r\n"
    );
}

#[test]
fn debug_is_refused_unless_enabled() {
    let refused: &[u8] = b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";
    let server = TestServer::with_config(|c| c.requirepass = "pw".into());
    let mut c = server.raw();
    // Checked before authentication, as in Redis.
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), refused);
    assert_reply!(
        c,
        ["DEBUG"],
        b"-ERR wrong number of arguments for 'debug' command\r\n"
    );
    assert_reply!(
        c,
        ["CONFIG", "SET", "enable-debug-command", "yes"],
        b"-NOAUTH Authentication required.\r\n"
    );
    let local = TestServer::with_config(|c| c.enable_debug_command = ProtectedAction::Local);
    let mut c = local.raw();
    assert_reply!(c, ["DEBUG", "SLEEP", "0"], b"+OK\r\n");
    assert_reply!(
        c,
        ["CONFIG", "SET", "enable-debug-command", "yes"],
        b"-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n"
    );
}

#[test]
fn debug_populate_creates_redis_named_keys() {
    let server = debug_server();
    let mut c = server.raw();
    assert_reply!(c, ["SET", "key:1", "mine"], b"+OK\r\n");
    assert_reply!(c, ["DEBUG", "POPULATE", "3"], b"+OK\r\n");
    assert_reply!(c, ["DBSIZE"], b":3\r\n");
    assert_reply!(c, ["GET", "key:0"], b"$7\r\nvalue:0\r\n");
    assert_reply!(c, ["GET", "key:1"], b"$4\r\nmine\r\n");
    assert_reply!(c, ["GET", "key:2"], b"$7\r\nvalue:2\r\n");
    assert_reply!(c, ["DEBUG", "POPULATE", "2", "p", "10"], b"+OK\r\n");
    assert_reply!(c, ["GET", "p:1"], b"$10\r\nvalue:1\0\0\0\r\n");
    assert_reply!(c, ["DEBUG", "POPULATE", "1", "short", "3"], b"+OK\r\n");
    assert_reply!(c, ["GET", "short:0"], b"$3\r\nval\r\n");
    assert_reply!(
        c,
        ["DEBUG", "POPULATE", "-1"],
        b"-ERR value is out of range, must be positive\r\n"
    );
    assert_reply!(
        c,
        ["DEBUG", "POPULATE", "x"],
        b"-ERR value is not an integer or out of range\r\n"
    );
    // Not counted as changes to the dataset, as in Redis.
    let persistence = c.info(&["persistence"]);
    assert_eq!(persistence.number("rdb_changes_since_last_save"), 1);
    assert_reply!(
        c,
        ["debug", "nosuch"],
        b"-ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.\r\n"
    );
}

#[test]
fn debug_object_describes_a_value() {
    let server = debug_server();
    let mut c = server.raw();
    c.call(&["SET", "n", "12345"]);
    c.call(&["SET", "s", "hello"]);
    c.cmd(&["DEBUG", "OBJECT", "n"]);
    let line = text(c.read());
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts[0], "Value");
    assert!(parts[1].starts_with("at:0x"), "{line}");
    assert_eq!(
        parts[2..6],
        ["refcount:1", "encoding:int", "serializedlength:3", parts[5]]
    );
    assert!(parts[5].starts_with("lru:"), "{line}");
    assert_eq!(parts[6], "lru_seconds_idle:0");
    c.cmd(&["DEBUG", "OBJECT", "s"]);
    let line = text(c.read());
    assert!(
        line.contains(" refcount:1 encoding:embstr serializedlength:6 lru:"),
        "{line}"
    );
    assert_reply!(c, ["DEBUG", "OBJECT", "nosuch"], b"-ERR no such key\r\n");
}

#[test]
fn debug_set_active_expire_pauses_the_reaper() {
    let server = debug_server();
    let mut c = server.raw();
    assert_reply!(c, ["DEBUG", "SET-ACTIVE-EXPIRE", "0"], b"+OK\r\n");
    assert_reply!(c, ["SET", "k", "v", "PX", "1"], b"+OK\r\n");
    // Wait for the TTL to pass; with the reaper paused the key stays
    // counted until something looks it up.
    std::thread::sleep(Duration::from_millis(50));
    assert_reply!(c, ["DBSIZE"], b":1\r\n");
    assert_reply!(c, ["DEBUG", "SET-ACTIVE-EXPIRE", "1"], b"+OK\r\n");
    eventually("the reaper to remove the key", || {
        c.call(&["DBSIZE"]) == b":0\r\n"
    });
    let stats = c.info(&["stats"]);
    assert_eq!(stats.number("expired_keys"), 1);
}

#[test]
fn debug_sleep_waits_and_help_lists_subcommands() {
    let server = debug_server();
    let mut c = server.raw();
    let started = Instant::now();
    assert_reply!(c, ["DEBUG", "SLEEP", "0.1"], b"+OK\r\n");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_reply!(c, ["DEBUG", "SLEEP", "nonsense"], b"+OK\r\n");
    c.cmd(&["DEBUG", "HELP"]);
    let Frame::Array(lines) = c.read() else {
        panic!()
    };
    assert_eq!(
        text(lines[0].clone()),
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert!(lines.contains(&Frame::Simple(b"SLEEP <seconds>".to_vec())));
}

#[test]
fn lastsave_is_the_start_time_until_a_save() {
    let server = TestServer::start();
    let mut c = server.raw();
    c.cmd(&["LASTSAVE"]);
    let Frame::Integer(at) = c.read() else {
        panic!()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 60..=now).contains(&at), "{at} vs {now}");
    let persistence = c.info(&["persistence"]);
    assert_eq!(persistence.field("rdb_last_save_time"), at.to_string());
    assert_reply!(
        c,
        ["LASTSAVE", "x"],
        b"-ERR wrong number of arguments for 'lastsave' command\r\n"
    );
}
