//! Differential fuzzing: random commands generated from each command's
//! argument synopsis go to both servers, whose replies and keyspaces must
//! agree after every one.

use sedis::internals::commands::registry::registry;
use sedis::internals::commands::syntax;

use crate::compare::replies_agree;
use crate::conn::Conn;
use crate::script::Compare;
use crate::servers::Servers;
use crate::show::{describe, escape};

/// Commands left out of random testing: they block, stop the server, change
/// the connection's mode or the configuration, or answer with what differs
/// between any two servers (ids, times, randomness, cursors).
const NOT_RANDOMISED: &[&str] = &[
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "shutdown",
    "debug",
    "save",
    "bgsave",
    "bgrewriteaof",
    "config",
    "client",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "quit",
    "reset",
    "hello",
    "auth",
    "info",
    "time",
    "lastsave",
    "command",
    "memory",
    "randomkey",
    "spop",
    "srandmember",
    "hrandfield",
    "zrandmember",
    "scan",
    "sscan",
    "hscan",
    "zscan",
    "pttl",
    "ttl",
    "object",
    "pubsub",
    "publish",
    "spublish",
    "flushall",
    "monitor",
    "slowlog",
    // A set's order differs between servers, and so its payload.
    "dump",
    // Ten million elements through two HLLs on each server: slow, and its
    // reply is always OK.
    "pfselftest",
    // Connects to whatever host and port it is given, waiting up to its
    // timeout: `tests/compat/migrate.rs` compares it.
    "migrate",
    // VERSION 5 and 6 draw at random.
    "lolwut",
    // Replication: REPLICAOF would make either server a replica of some
    // address (and read-only), and WAIT for replicas that do not exist
    // blocks; `tests/compat/replication.rs` covers them.
    "replicaof",
    "slaveof",
    "wait",
    // Replication: REPLCONF ACK has no reply; a SYNC ends the connection.
    "replconf",
    "sync",
    "psync",
];

/// Replies whose order is a hash table's: compared sorted. (SORT's too: a
/// set sorted `BY` a constant, and elements tied under `ALPHA BY`, come in
/// the set's own order.)
const UNORDERED: &[&str] = &[
    "smembers", "sinter", "sunion", "sdiff", "keys", "hgetall", "hkeys", "hvals", "sort", "sort_ro",
];

/// Commands whose integer arguments may set a time to live: given only
/// values that expire nothing during the run (or at once), so that the two
/// servers never race a deadline.
const SETS_TTL: &[&str] = &[
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "setex",
    "psetex",
    "set",
    "getex",
];

const RANDOM_KEYS: &[&str] = &["k1", "k2", "k3", "k4", "k5"];

/// Containers whose subcommands are randomised, each as `NAME SUB`.
const RANDOMISED_CONTAINERS: &[&str] = &["xgroup", "xinfo"];

/// Replies holding idle or delivery times (the clock): compared by shape.
const TIMED: &[&str] = &[
    "xpending",
    "xinfo consumers",
    "xinfo stream",
    // A deadline set by a relative TTL is each server's clock plus it.
    "expiretime",
    "pexpiretime",
];

/// Stream ids as stream commands take them: plain, partial, special,
/// exclusive, extreme and malformed.
const STREAM_IDS: &[&str] = &[
    "0",
    "0-0",
    "1",
    "1-1",
    "2-0",
    "3",
    "5-*",
    "$",
    ">",
    "-",
    "+",
    "(1-1",
    "18446744073709551615-18446744073709551615",
    "18446744073709551615",
    "x",
];

struct Generator {
    rng: sedis::internals::rng::Rng,
    sets_ttl: bool,
    /// Filling a stream command: ids, groups and consumers from their pools.
    stream: bool,
}

impl Generator {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.below(from.len() as u64) as usize]
    }

    /// Appends random words for `arg`: optional parts half the time,
    /// repeated ones one to three times, values from small pools with the
    /// edge cases Redis's parsers care about.
    fn fill(&mut self, arg: &syntax::Arg, out: &mut Vec<Vec<u8>>) {
        use syntax::Kind;
        if arg.optional && self.rng.below(2) == 0 {
            return;
        }
        let times = if arg.multiple {
            1 + self.rng.below(3)
        } else {
            1
        };
        for _ in 0..times {
            if let Some(token) = arg.token {
                out.push(token.as_bytes().to_vec());
            }
            if arg.name == "script" {
                out.push(self.script().into_bytes());
                continue;
            }
            let word = match arg.kind {
                Kind::PureToken => continue,
                Kind::OneOf => {
                    let choice = &arg.children[self.rng.below(arg.children.len() as u64) as usize];
                    self.fill(choice, out);
                    continue;
                }
                Kind::Block => {
                    for child in &arg.children {
                        self.fill(child, out);
                    }
                    continue;
                }
                Kind::Key => self.pick(RANDOM_KEYS),
                Kind::String
                    if self.stream
                        && matches!(
                            arg.name.as_str(),
                            "id" | "start"
                                | "end"
                                | "last-id"
                                | "threshold"
                                | "max_deleted_entry_id"
                        ) =>
                {
                    self.pick(STREAM_IDS)
                }
                Kind::String if self.stream && arg.name.starts_with("group") => {
                    self.pick(&["g1", "g2"])
                }
                Kind::String if self.stream && arg.name.starts_with("consumer") => {
                    self.pick(&["c1", "c2"])
                }
                // No idle time a run could reach: the servers never race it.
                Kind::String if arg.name == "min-idle-time" => {
                    self.pick(&["0", "-5", "100000000", "x"])
                }
                // A blocking read times out at once (BLOCK 0 would wait for
                // good).
                Kind::Integer if self.stream && arg.name == "milliseconds" => {
                    self.pick(&["1", "-1", "x"])
                }
                // Bit and byte offsets stay small (SETBIT 4294967295 would
                // make both servers allocate 512 MB), with BITFIELD's `#N`
                // form and the values each parser refuses.
                Kind::Integer if arg.name == "offset" => self.pick(&[
                    "0",
                    "1",
                    "7",
                    "9",
                    "63",
                    "100",
                    "#1",
                    "#3",
                    "-1",
                    "abc",
                    "4294967296",
                ]),
                // BITFIELD's types, valid and not.
                Kind::String if arg.name == "encoding" => self.pick(&[
                    "i8", "u8", "i1", "u1", "i5", "u63", "i64", "u64", "i65", "i0", "x8", "",
                ]),
                // PFDEBUG's subcommands, and one it does not have.
                Kind::String if arg.name == "subcommand" => {
                    self.pick(&["GETREG", "decode", "ENCODING", "todense", "nosuch"])
                }
                Kind::String if arg.name == "operation" => {
                    self.pick(&["AND", "or", "XOR", "NOT", "nand", ""])
                }
                Kind::Integer if self.sets_ttl => self.pick(&[
                    "0",
                    "-1",
                    "-100",
                    "100000",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "abc",
                    "1.5",
                    "",
                    "007",
                ]),
                Kind::Integer => self.pick(&[
                    "0",
                    "1",
                    "2",
                    "3",
                    "-1",
                    "-2",
                    "5",
                    "10",
                    "100",
                    "-100",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "9223372036854775808",
                    "abc",
                    "1.5",
                    "",
                    "007",
                    "+1",
                ]),
                // Places near each other and at the edges of the valid
                // ranges, and searches that reach them.
                Kind::Double if arg.name == "longitude" => self.pick(&[
                    "0",
                    "1",
                    "1.5",
                    "-2.5",
                    "13.361389",
                    "180",
                    "-180",
                    "180.1",
                    "abc",
                ]),
                Kind::Double if arg.name == "latitude" => self.pick(&[
                    "0",
                    "1",
                    "-1.5",
                    "38.115556",
                    "85.05112878",
                    "-85.06",
                    "90",
                    "abc",
                ]),
                Kind::Double if matches!(arg.name.as_str(), "radius" | "width" | "height") => {
                    self.pick(&["0", "1", "100", "500", "20000", "-1", "inf", "abc"])
                }
                Kind::Double => self.pick(&[
                    "0", "1", "1.5", "-2.5", "inf", "-inf", "+inf", "1e3", "abc", "nan", "(1",
                    "(2", "-0", "3",
                ]),
                Kind::Pattern => self.pick(&["*", "k*", "k[1-3]", "?", "a*"]),
                Kind::UnixTime if self.sets_ttl => self.pick(&["9999999999999", "x", "-1", "0"]),
                Kind::UnixTime => self.pick(&["0", "1", "99999999999", "-1", "x"]),
                Kind::String => self.pick(&[
                    "a",
                    "b",
                    "c",
                    "1",
                    "2",
                    "10",
                    "-1",
                    "",
                    "hello",
                    "(a",
                    "[a",
                    "[b",
                    "-",
                    "+",
                    "ab",
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                ]),
            };
            out.push(word.as_bytes().to_vec());
        }
    }
}

impl Generator {
    /// A small Lua script for EVAL: commands through `redis.call` or
    /// `redis.pcall` on KEYS and ARGV (present or not), and a reply built
    /// from their results, of every type a script can return.
    fn script(&mut self) -> String {
        const CALLS: &[&str] = &[
            "'get', KEYS[1]",
            "'set', KEYS[1], ARGV[1] or 'v'",
            "'incr', KEYS[1] or 'k1'",
            "'incrbyfloat', KEYS[1] or 'k2', 1.5",
            "'del', KEYS[1] or 'k3'",
            "'lpush', KEYS[1] or 'k1', 'x', 'y'",
            "'rpop', KEYS[1] or 'k1'",
            "'hset', KEYS[1] or 'k2', 'f', ARGV[1] or 1",
            "'hgetall', KEYS[1] or 'k2'",
            "'sadd', KEYS[1] or 'k4', 'm'",
            "'smembers', KEYS[1] or 'k4'",
            "'zadd', KEYS[1] or 'k5', 2.5, 'm'",
            "'zscore', KEYS[1] or 'k5', 'm'",
            "'exists', KEYS[1] or 'k1', KEYS[2] or 'k2'",
            "'type', KEYS[1] or 'k3'",
            "'ping'",
            "'nosuchcommand'",
            "'get'",
            "'select', 1",
        ];
        const RETURNS: &[&str] = &[
            "r",
            "{r, 1, 'two'}",
            "type(r)",
            "{ok='fine'}",
            "{err='ERR made up'}",
            "redis.error_reply('MINE oops')",
            "redis.status_reply('DONE')",
            "3.7",
            "{1, nil, 3}",
            "cjson.encode({r})",
            "#ARGV",
            "false",
        ];
        let call = if self.rng.below(2) == 0 {
            "redis.call"
        } else {
            "redis.pcall"
        };
        let resp = match self.rng.below(4) {
            0 => "redis.setresp(3) ",
            _ => "",
        };
        format!(
            "{resp}local r = {call}({}) return {}",
            self.pick(CALLS),
            self.pick(RETURNS)
        )
    }
}

/// What a server holds, as seen from a second connection: the type of every
/// key of database 0 and each database's key and TTL counts.
fn keyspace_state(conn: &mut Conn) -> Vec<Vec<u8>> {
    let mut state: Vec<Vec<u8>> = RANDOM_KEYS
        .iter()
        .map(|k| {
            conn.call(&[b"TYPE".to_vec(), k.as_bytes().to_vec()])
                .expect("TYPE")
                .0
        })
        .collect();
    let (_, info) = conn
        .call(&[b"INFO".to_vec(), b"keyspace".to_vec()])
        .expect("INFO keyspace");
    let text = String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).into_owned();
    // avg_ttl is an estimate each server makes its own way.
    let counts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("db"))
        .map(|l| l.split(",avg_ttl").next().unwrap_or(l))
        .collect();
    state.push(counts.join(" ").into_bytes());
    state
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Sends `count` random commands (from every randomised command's argument
/// synopsis, sometimes one word short) to both servers over one connection
/// each, comparing every reply, and what each server then holds.
fn random_session(protocol: u8, seed: u64, count: usize) {
    let mut servers = Servers::start();
    let mut redis = Conn::connect(servers.redis.addr()).expect("connect to redis-server");
    let mut sedis = Conn::connect(servers.sedis.addr).expect("connect to sedis");
    if protocol == 3 {
        for conn in [&mut redis, &mut sedis] {
            conn.call(&[b"HELLO".to_vec(), b"3".to_vec()])
                .expect("HELLO 3");
        }
    }
    let mut commands: Vec<(String, Vec<syntax::Arg>)> = registry()
        .top_level()
        .map(|(_, e)| e.command)
        .filter(|c| !c.is_container() && !NOT_RANDOMISED.contains(&c.name))
        .map(|c| {
            (
                c.name.to_string(),
                syntax::parse(c.doc.syntax).expect("synopsis"),
            )
        })
        .collect();
    for container in registry()
        .top_level()
        .map(|(_, e)| e.command)
        .filter(|c| RANDOMISED_CONTAINERS.contains(&c.name))
    {
        for sub in container.subcommands.iter().filter(|s| s.name != "help") {
            let name = format!("{} {}", container.name, sub.name);
            commands.push((name, syntax::parse(sub.doc.syntax).expect("synopsis")));
        }
    }
    let mut generator = Generator {
        rng: sedis::internals::rng::Rng::with_seed(seed),
        sets_ttl: false,
        stream: false,
    };
    let mut history: Vec<String> = Vec::new();
    let mut queued: Option<Vec<&str>> = None;
    for _ in 0..count {
        let (name, args) = &commands[generator.rng.below(commands.len() as u64) as usize];
        let name = name.as_str();
        generator.sets_ttl = SETS_TTL.contains(&name);
        generator.stream = name.starts_with('x');
        let mut argv: Vec<Vec<u8>> = name.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        for arg in args {
            generator.fill(arg, &mut argv);
        }
        if argv.len() > 1 && generator.rng.below(20) == 0 {
            let drop = 1 + generator.rng.below(argv.len() as u64 - 1) as usize;
            argv.remove(drop);
        }
        let line = argv.iter().map(|a| escape(a)).collect::<Vec<_>>().join(" ");
        history.push(line.clone());
        let r = redis.call(&argv).expect("reply from redis-server");
        let s = sedis.call(&argv).expect("reply from sedis");
        let compare = match name {
            "multi" => {
                queued = Some(Vec::new());
                Compare::Exact
            }
            "exec" | "discard" => match queued.take() {
                Some(q) if q.iter().any(|n| UNORDERED.contains(n) || TIMED.contains(n)) => {
                    Compare::Shape
                }
                _ => Compare::Exact,
            },
            n if UNORDERED.contains(&n) => Compare::Sorted,
            n if TIMED.contains(&n) => Compare::Shape,
            // A script returning a hash table's order.
            "eval"
                if UNORDERED
                    .iter()
                    .any(|u| contains(&argv[1], format!("'{u}'").as_bytes())) =>
            {
                Compare::Shape
            }
            _ => Compare::Exact,
        };
        if let Some(q) = &mut queued
            && name != "multi"
        {
            q.push(name);
        }
        let recent = || history[history.len().saturating_sub(15)..].join("\n");
        assert!(
            replies_agree(&argv, compare, &r, &s),
            "RESP{protocol} seed {seed}: {line}\n redis: {}\n sedis: {}\nafter:\n{}",
            describe(&Ok(r.clone())),
            describe(&Ok(s.clone())),
            recent()
        );
        let expected = keyspace_state(&mut servers.redis_admin);
        assert_eq!(
            keyspace_state(&mut servers.sedis_admin),
            expected,
            "RESP{protocol} seed {seed}: the keyspaces differ after {line}\nafter:\n{}",
            recent()
        );
    }
}

/// Thousands of random commands, valid and not, get the same replies from
/// sedis as from redis-server, and leave the same keys behind.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn random_commands_get_the_replies_redis_gives() {
    random_session(2, 1, 10_000);
    random_session(3, 2, 10_000);
}
