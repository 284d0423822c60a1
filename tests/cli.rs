//! `sedis-cli` as a process, its output compared byte for byte with what
//! redis-cli 7.0.15 printed for the same replies (recorded by running
//! redis-cli against redis-server 7.0.15, and against a scripted server that
//! sends RESP3 types sedis has no commands for yet: doubles, sets, booleans,
//! verbatim strings, push messages).
//!
//! Two kinds of server: the in-process sedis (`TestServer`), and a scripted
//! server that answers `REPLY <name>` with canned bytes.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::ports::ClosedPort;
use common::{TestServer, eventually, temp_dir};

const CLI: &str = env!("CARGO_BIN_EXE_sedis-cli");

/// A reply the scripted server sends, and what redis-cli printed for it.
struct Canned {
    name: &'static str,
    reply: &'static [u8],
    /// With `--no-raw`.
    tty: &'static [u8],
    /// By default (stdout is a pipe in the tests).
    raw: &'static [u8],
    /// With `--csv`.
    csv: &'static [u8],
}

/// A one-shot run and what redis-cli printed.
struct Run {
    args: &'static [&'static str],
    stdout: &'static [u8],
    stderr: &'static [u8],
    code: i32,
}

/// Every reply type, and what redis-cli 7.0.15 printed for each.
const CANNED: &[Canned] = &[
    Canned {
        name: "ok",
        reply: b"+OK\r\n",
        tty: b"OK\n",
        raw: b"OK\n",
        csv: b"\"OK\"\n",
    },
    Canned {
        name: "int",
        reply: b":42\r\n",
        tty: b"(integer) 42\n",
        raw: b"42\n",
        csv: b"42\n",
    },
    Canned {
        name: "negint",
        reply: b":-7\r\n",
        tty: b"(integer) -7\n",
        raw: b"-7\n",
        csv: b"-7\n",
    },
    Canned {
        name: "bulk",
        reply: b"$11\r\nhello world\r\n",
        tty: b"\"hello world\"\n",
        raw: b"hello world\n",
        csv: b"\"hello world\"\n",
    },
    Canned {
        name: "empty_bulk",
        reply: b"$0\r\n\r\n",
        tty: b"\"\"\n",
        raw: b"\n",
        csv: b"\"\"\n",
    },
    Canned {
        name: "binary",
        reply: b"$16\r\n\x00\n\r\t\x07\x08\"\\\x7f\xff\xc3\xa9 A\x1b'\r\n",
        tty: b"\"\\x00\\n\\r\\t\\a\\b\\\"\\\\\\x7f\\xff\\xc3\\xa9 A\\x1b'\"\n",
        raw: b"\x00\n\r\t\x07\x08\"\\\x7f\xff\xc3\xa9 A\x1b'\n",
        csv: b"\"\\x00\\n\\r\\t\\a\\b\\\"\\\\\\x7f\\xff\\xc3\\xa9 A\\x1b'\"\n",
    },
    Canned {
        name: "nil",
        reply: b"$-1\r\n",
        tty: b"(nil)\n",
        raw: b"\n",
        csv: b"NULL\n",
    },
    Canned {
        name: "nil_array",
        reply: b"*-1\r\n",
        tty: b"(nil)\n",
        raw: b"\n",
        csv: b"NULL\n",
    },
    Canned {
        name: "empty_array",
        reply: b"*0\r\n",
        tty: b"(empty array)\n",
        raw: b"\n",
        csv: b"\n",
    },
    Canned {
        name: "error",
        reply: b"-ERR something bad happened\r\n",
        tty: b"(error) ERR something bad happened\n",
        raw: b"ERR something bad happened\n\n",
        csv: b"ERROR,\"ERR something bad happened\"\n",
    },
    Canned {
        name: "wrongtype",
        reply: b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        tty: b"(error) WRONGTYPE Operation against a key holding the wrong kind of value\n",
        raw: b"WRONGTYPE Operation against a key holding the wrong kind of value\n\n",
        csv: b"ERROR,\"WRONGTYPE Operation against a key holding the wrong kind of value\"\n",
    },
    Canned {
        name: "array",
        reply: b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n",
        tty: b"1) \"a\"\n2) (integer) 1\n3) (nil)\n",
        raw: b"a\n1\n\n",
        csv: b"\"a\",1,NULL\n",
    },
    Canned {
        name: "nested",
        reply: b"*4\r\n$1\r\nx\r\n*2\r\n$1\r\ny\r\n*2\r\n$1\r\nz\r\n:1\r\n*0\r\n*1\r\n*1\r\n\
            $4\r\ndeep\r\n",
        tty: b"1) \"x\"\n2) 1) \"y\"\n   2) 1) \"z\"\n      2) (integer) 1\n3) (empty array)\n\
            4) 1) 1) \"deep\"\n",
        raw: b"x\ny\nz\n1\n\ndeep\n",
        csv: b"\"x\",\"y\",\"z\",1,,\"deep\"\n",
    },
    Canned {
        name: "wide",
        reply: b"*12\r\n$2\r\ne1\r\n$2\r\ne2\r\n$2\r\ne3\r\n$2\r\ne4\r\n$2\r\ne5\r\n$2\r\n\
            e6\r\n$2\r\ne7\r\n$2\r\ne8\r\n$2\r\ne9\r\n*2\r\n$2\r\nn1\r\n$2\r\nn2\r\n\
            $3\r\ne11\r\n+status\r\n",
        tty: b" 1) \"e1\"\n 2) \"e2\"\n 3) \"e3\"\n 4) \"e4\"\n 5) \"e5\"\n 6) \"e6\"\n\
            \x207) \"e7\"\n 8) \"e8\"\n 9) \"e9\"\n10) 1) \"n1\"\n    2) \"n2\"\n11) \"e11\"\n\
            12) status\n",
        raw: b"e1\ne2\ne3\ne4\ne5\ne6\ne7\ne8\ne9\nn1\nn2\ne11\nstatus\n",
        csv: b"\"e1\",\"e2\",\"e3\",\"e4\",\"e5\",\"e6\",\"e7\",\"e8\",\"e9\",\"n1\",\"n2\",\"e11\",\"status\"\n",
    },
    Canned {
        name: "map",
        reply: b"%2\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n*2\r\n:1\r\n:2\r\n",
        tty: b"1# \"k1\" => \"v1\"\n2# \"k2\" => \n   1) (integer) 1\n   2) (integer) 2\n",
        raw: b"k1 v1\nk2 1\n2\n",
        csv: b"\"k1\",\"v1\",\"k2\",1,2\n",
    },
    Canned {
        name: "map_single",
        reply: b"%1\r\n$1\r\nk\r\n*1\r\n$4\r\nonly\r\n",
        tty: b"1# \"k\" => 1) \"only\"\n",
        raw: b"k only\n",
        csv: b"\"k\",\"only\"\n",
    },
    Canned {
        name: "map_nested_map",
        reply: b"%2\r\n$5\r\nouter\r\n%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n~1\r\n$1\r\ns\r\n\
            $4\r\nlast\r\n_\r\n",
        tty: b"1# \"outer\" => \n   1# \"a\" => (integer) 1\n   2# \"b\" => 1~ \"s\"\n\
            2# \"last\" => (nil)\n",
        raw: b"outer a 1\nb s\nlast \n",
        csv: b"\"outer\",\"a\",1,\"b\",\"s\",\"last\",NULL\n",
    },
    Canned {
        name: "array_of_maps",
        reply: b"*2\r\n%1\r\n$1\r\na\r\n:1\r\n~2\r\n$1\r\nx\r\n$1\r\ny\r\n",
        tty: b"1) 1# \"a\" => (integer) 1\n2) 1~ \"x\"\n   2~ \"y\"\n",
        raw: b"a 1\nx\ny\n",
        csv: b"\"a\",1,\"x\",\"y\"\n",
    },
    Canned {
        name: "empty_map",
        reply: b"%0\r\n",
        tty: b"(empty hash)\n",
        raw: b"\n",
        csv: b"\n",
    },
    Canned {
        name: "empty_set",
        reply: b"~0\r\n",
        tty: b"(empty set)\n",
        raw: b"\n",
        csv: b"\n",
    },
    Canned {
        name: "set",
        reply: b"~3\r\n$2\r\nm1\r\n$2\r\nm2\r\n:3\r\n",
        tty: b"1~ \"m1\"\n2~ \"m2\"\n3~ (integer) 3\n",
        raw: b"m1\nm2\n3\n",
        csv: b"\"m1\",\"m2\",3\n",
    },
    Canned {
        name: "double",
        reply: b",3.14\r\n",
        tty: b"(double) 3.14\n",
        raw: b"3.14\n",
        csv: b"3.14\n",
    },
    Canned {
        name: "double_inf",
        reply: b",-inf\r\n",
        tty: b"(double) -inf\n",
        raw: b"-inf\n",
        csv: b"-inf\n",
    },
    Canned {
        name: "true",
        reply: b"#t\r\n",
        tty: b"(true)\n",
        raw: b"(true)\n",
        csv: b"true\n",
    },
    Canned {
        name: "false",
        reply: b"#f\r\n",
        tty: b"(false)\n",
        raw: b"(false)\n",
        csv: b"false\n",
    },
    Canned {
        name: "null3",
        reply: b"_\r\n",
        tty: b"(nil)\n",
        raw: b"\n",
        csv: b"NULL\n",
    },
    Canned {
        name: "verbatim",
        reply: b"=20\r\ntxt:Some string\nhere\r\n",
        tty: b"Some string\nhere\n",
        raw: b"Some string\nhere\n",
        csv: b"\"Some string\\nhere\"\n",
    },
    Canned {
        name: "array_resp3",
        reply: b"*4\r\n,1.5\r\n#f\r\n_\r\n=7\r\ntxt:v t\r\n",
        tty: b"1) (double) 1.5\n2) (false)\n3) (nil)\n4) v t\n",
        raw: b"1.5\n(false)\n\nv t\n",
        csv: b"1.5,false,NULL,\"v t\"\n",
    },
    Canned {
        name: "push_then_ok",
        reply: b">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n+OK\r\n",
        tty: b"OK\n",
        raw: b"OK\n",
        csv: b"\"OK\"\n",
    },
    Canned {
        name: "push_msg_then_ok",
        reply: b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n+OK\r\n",
        tty: b"OK\n",
        raw: b"OK\n",
        csv: b"\"OK\"\n",
    },
];

const HELLO3: &[u8] =
    b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\n\
    proto\r\n:3\r\n$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\n\
    role\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
const INFO: &[u8] = b"$55\r\n# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n";
const SUBSCRIBE: &[u8] =
    b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$2\r\n\
    ch\r\n$5\r\nhello\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$10\r\nmulti\nline\r\n";
/// `COMMAND DOCS GET SET CONFIG ECHO` as redis-server 7.0.15 sends it.
const DOCS: &[u8] = b"*8\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n\
    $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n\
    $4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n\
    $4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n$3\r\nset\r\n\
    *12\r\n$7\r\nsummary\r\n$29\r\nSet the string value of a key\r\n$5\r\nsince\r\n\
    $5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n\
    O(1)\r\n$7\r\nhistory\r\n*4\r\n*2\r\n$6\r\n2.6.12\r\n$44\r\nAdded the `EX`, `PX`, `NX` and `XX` options.\r\n\
    *2\r\n$5\r\n6.0.0\r\n$27\r\nAdded the `KEEPTTL` option.\r\n*2\r\n$5\r\n\
    6.2.0\r\n$42\r\nAdded the `GET`, `EXAT` and `PXAT` option.\r\n*2\r\n$5\r\n\
    7.0.0\r\n$55\r\nAllowed the `NX` and `GET` options to be used together.\r\n\
    $9\r\narguments\r\n*5\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n\
    $3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n*4\r\n$4\r\nname\r\n$5\r\nvalue\r\n\
    $4\r\ntype\r\n$6\r\nstring\r\n*10\r\n$4\r\nname\r\n$9\r\ncondition\r\n$4\r\n\
    type\r\n$5\r\noneof\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n$5\r\nflags\r\n*1\r\n\
    +optional\r\n$9\r\narguments\r\n*2\r\n*6\r\n$4\r\nname\r\n$2\r\nnx\r\n$4\r\n\
    type\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$2\r\nNX\r\n*6\r\n$4\r\nname\r\n\
    $2\r\nxx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$2\r\nXX\r\n\
    *10\r\n$4\r\nname\r\n$3\r\nget\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\n\
    token\r\n$3\r\nGET\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n$5\r\nflags\r\n*1\r\n\
    +optional\r\n*8\r\n$4\r\nname\r\n$10\r\nexpiration\r\n$4\r\ntype\r\n$5\r\n\
    oneof\r\n$5\r\nflags\r\n*1\r\n+optional\r\n$9\r\narguments\r\n*5\r\n*8\r\n\
    $4\r\nname\r\n$7\r\nseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\ntoken\r\n\
    $2\r\nEX\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n*8\r\n$4\r\nname\r\n$12\r\nmilliseconds\r\n\
    $4\r\ntype\r\n$7\r\ninteger\r\n$5\r\ntoken\r\n$2\r\nPX\r\n$5\r\nsince\r\n\
    $6\r\n2.6.12\r\n*8\r\n$4\r\nname\r\n$17\r\nunix-time-seconds\r\n$4\r\ntype\r\n\
    $9\r\nunix-time\r\n$5\r\ntoken\r\n$4\r\nEXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n\
    *8\r\n$4\r\nname\r\n$22\r\nunix-time-milliseconds\r\n$4\r\ntype\r\n$9\r\n\
    unix-time\r\n$5\r\ntoken\r\n$4\r\nPXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n\
    *8\r\n$4\r\nname\r\n$7\r\nkeepttl\r\n$4\r\ntype\r\n$10\r\npure-token\r\n\
    $5\r\ntoken\r\n$7\r\nKEEPTTL\r\n$5\r\nsince\r\n$5\r\n6.0.0\r\n$6\r\nconfig\r\n\
    *10\r\n$7\r\nsummary\r\n$45\r\nA container for server configuration commands\r\n\
    $5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n\
    $22\r\nDepends on subcommand.\r\n$11\r\nsubcommands\r\n*10\r\n$10\r\nconfig|set\r\n\
    *12\r\n$7\r\nsummary\r\n$48\r\nSet configuration parameters to the given values\r\n\
    $5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n\
    $62\r\nO(N) when N is the number of configuration parameters provided\r\n\
    $7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$57\r\nAdded the ability to set multiple parameters in one call.\r\n\
    $9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$15\r\nparameter_value\r\n\
    $4\r\ntype\r\n$5\r\nblock\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n$9\r\narguments\r\n\
    *2\r\n*4\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n\
    *4\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\nstring\r\n$11\r\n\
    config|help\r\n*8\r\n$7\r\nsummary\r\n$49\r\nShow helpful text about the different subcommands\r\n\
    $5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n\
    $4\r\nO(1)\r\n$14\r\nconfig|rewrite\r\n*8\r\n$7\r\nsummary\r\n$63\r\nRewrite the configuration file with the in memory configuration\r\n\
    $5\r\nsince\r\n$5\r\n2.8.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n\
    $4\r\nO(1)\r\n$16\r\nconfig|resetstat\r\n*8\r\n$7\r\nsummary\r\n$32\r\n\
    Reset the stats returned by INFO\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\n\
    group\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$10\r\nconfig|get\r\n\
    *12\r\n$7\r\nsummary\r\n$42\r\nGet the values of configuration parameters\r\n\
    $5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n\
    $62\r\nO(N) when N is the number of configuration parameters provided\r\n\
    $7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$65\r\nAdded the ability to pass multiple pattern parameters in one call\r\n\
    $9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n\
    $5\r\nblock\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n$9\r\narguments\r\n*1\r\n\
    *4\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n$4\r\n\
    echo\r\n*10\r\n$7\r\nsummary\r\n$21\r\nEcho the given string\r\n$5\r\nsince\r\n\
    $5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n\
    $4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$7\r\nmessage\r\n\
    $4\r\ntype\r\n$6\r\nstring\r\n";

/// Options and command, then redis-cli 7.0.15's stdout, stderr and exit code
/// against the scripted server.
const SCRIPTED_RUNS: &[Run] = &[
    Run {
        args: &["--no-raw", "--show-pushes", "y", "reply", "push_then_ok"],
        stdout: b"-> invalidate: 'k1', 'k2'\nOK\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["--no-raw", "--show-pushes", "y", "reply", "push_msg_then_ok"],
        stdout: b"1) \"message\"\n2) \"ch\"\n3) \"hi\"\nOK\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["--show-pushes", "y", "reply", "push_msg_then_ok"],
        stdout: b"message\nch\nhi\nOK\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["--no-raw", "reply", "push_then_ok"],
        stdout: b"OK\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["--no-raw", "subscribe", "ch"],
        stdout: b"Reading messages... (press Ctrl-C to quit)\n1) \"subscribe\"\n2) \"ch\"\n\
            3) (integer) 1\n1) \"message\"\n2) \"ch\"\n3) \"hello\"\n1) \"message\"\n\
            2) \"ch\"\n3) \"multi\\nline\"\n",
        stderr: b"Error: Server closed the connection\n",
        code: 1,
    },
    Run {
        args: &["subscribe", "ch"],
        stdout: b"subscribe\nch\n1\nmessage\nch\nhello\nmessage\nch\nmulti\nline\n",
        stderr: b"Error: Server closed the connection\n",
        code: 1,
    },
    Run {
        args: &["--no-raw", "info"],
        stdout: b"# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["info"],
        stdout: b"# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-e", "reply", "error"],
        stdout: b"",
        stderr: b"ERR something bad happened\n",
        code: 1,
    },
    Run {
        args: &["-e", "--no-raw", "reply", "wrongtype"],
        stdout: b"",
        stderr: b"WRONGTYPE Operation against a key holding the wrong kind of value\n",
        code: 1,
    },
    Run {
        args: &["reply", "error"],
        stdout: b"ERR something bad happened\n\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-e", "reply", "ok"],
        stdout: b"OK\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-r", "3", "reply", "int"],
        stdout: b"42\n42\n42\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-r", "2", "--no-raw", "reply", "map"],
        stdout: b"1# \"k1\" => \"v1\"\n2# \"k2\" => \n   1) (integer) 1\n   2) (integer) 2\n\
            1# \"k1\" => \"v1\"\n2# \"k2\" => \n   1) (integer) 1\n   2) (integer) 2\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-3", "--no-raw", "hello"],
        stdout: b"1# \"server\" => \"redis\"\n2# \"version\" => \"7.0.15\"\n3# \"proto\" => (integer) 3\n\
            4# \"id\" => (integer) 5\n5# \"mode\" => \"standalone\"\n6# \"role\" => \"master\"\n\
            7# \"modules\" => (empty array)\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-3", "--csv", "hello"],
        stdout: b"\"server\",\"redis\",\"version\",\"7.0.15\",\"proto\",3,\"id\",5,\"mode\",\"standalone\",\"role\",\"master\",\"modules\",\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-3", "hello"],
        stdout: b"server redis\nversion 7.0.15\nproto 3\nid 5\nmode standalone\nrole master\n\
            modules \n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-d", "::", "reply", "wide"],
        stdout: b"e1::e2::e3::e4::e5::e6::e7::e8::e9::n1::n2::e11::status\n",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["-D", "##", "-r", "2", "reply", "int"],
        stdout: b"42##42##",
        stderr: b"",
        code: 0,
    },
    Run {
        args: &["--csv", "-d", "::", "reply", "nested"],
        stdout: b"\"x\",\"y\",\"z\",1,,\"deep\"\n",
        stderr: b"",
        code: 0,
    },
];

/// `help ...` against the scripted server serving DOCS, as redis-cli printed it.
const HELP_RUNS: &[(&[&str], &[u8])] = &[
    (
        &["help", "get"],
        b"\r\n  \x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Get the value of a key\r\n\
        \x20 \x1b[33msince:\x1b[0m 1.0.0\r\n  \x1b[33mgroup:\x1b[0m string\r\n\r\n",
    ),
    (
        &["help", "GET"],
        b"\r\n  \x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Get the value of a key\r\n\
        \x20 \x1b[33msince:\x1b[0m 1.0.0\r\n  \x1b[33mgroup:\x1b[0m string\r\n\r\n",
    ),
    (
        &["help", "@string"],
        b"\r\n  \x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Get the value of a key\r\n\
        \x20 \x1b[33msince:\x1b[0m 1.0.0\r\n\r\n  \x1b[1mSET\x1b[0m \x1b[90mkey value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]\x1b[0m\r\n\
        \x20 \x1b[33msummary:\x1b[0m Set the string value of a key\r\n  \x1b[33msince:\x1b[0m 1.0.0\r\n\
        \r\n",
    ),
    (
        &["help", "config", "get"],
        b"\r\n  \x1b[1mCONFIG GET\x1b[0m \x1b[90mparameter [parameter ...]\x1b[0m\r\n\
        \x20 \x1b[33msummary:\x1b[0m Get the values of configuration parameters\r\n\
        \x20 \x1b[33msince:\x1b[0m 2.0.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n",
    ),
    (
        &["help", "config"],
        b"\r\n  \x1b[1mCONFIG\x1b[0m \x1b[90m\x1b[0m\r\n  \x1b[33msummary:\x1b[0m A container for server configuration commands\r\n\
        \x20 \x1b[33msince:\x1b[0m 2.0.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n\
        \x20 \x1b[1mCONFIG GET\x1b[0m \x1b[90mparameter [parameter ...]\x1b[0m\r\n\
        \x20 \x1b[33msummary:\x1b[0m Get the values of configuration parameters\r\n\
        \x20 \x1b[33msince:\x1b[0m 2.0.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n\
        \x20 \x1b[1mCONFIG HELP\x1b[0m \x1b[90m\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Show helpful text about the different subcommands\r\n\
        \x20 \x1b[33msince:\x1b[0m 5.0.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n\
        \x20 \x1b[1mCONFIG RESETSTAT\x1b[0m \x1b[90m\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Reset the stats returned by INFO\r\n\
        \x20 \x1b[33msince:\x1b[0m 2.0.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n\
        \x20 \x1b[1mCONFIG REWRITE\x1b[0m \x1b[90m\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Rewrite the configuration file with the in memory configuration\r\n\
        \x20 \x1b[33msince:\x1b[0m 2.8.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n\
        \x20 \x1b[1mCONFIG SET\x1b[0m \x1b[90mparameter value [parameter value ...]\x1b[0m\r\n\
        \x20 \x1b[33msummary:\x1b[0m Set configuration parameters to the given values\r\n\
        \x20 \x1b[33msince:\x1b[0m 2.0.0\r\n  \x1b[33mgroup:\x1b[0m server\r\n\r\n",
    ),
    (
        &["help", "nosuch"],
        b"\r\n",
    ),
    (
        &["help", "@nosuch"],
        b"\r\n",
    ),
];

/// Commands piped to the prompt, and what redis-cli 7.0.15 printed for them
/// against redis-server 7.0.15 with `--no-raw`, by default and with `--csv`.
const SCRIPT: &[u8] = b"flushall\nset greeting \"hello world\"\nget greeting\nget nosuchkey\nset bin \"\\x00\\xff\\r\\n\\t\\\"quoted\\\" 'single'\"\n\
    get bin\necho \"multi word\"\nexists greeting nosuchkey\nkeys nomatch*\n\
    scan 0 match greeting\nset \"\" empty\nget \"\"\ndel greeting\nget greeting\n\
    get\nnosuchcommand arg1 \"arg 2\"\nset k v nx xx\nselect 1\nset k v\ndbsize\n\
    select 0\ndbsize\nttl bin\ntype bin\nobject encoding bin\nping\nping \"hi there\"\n";
const SCRIPT_TTY: &[u8] =
    b"OK\nOK\n\"hello world\"\n(nil)\nOK\n\"\\x00\\xff\\r\\n\\t\\\"quoted\\\" 'single'\"\n\
    \"multi word\"\n(integer) 1\n(empty array)\n1) \"0\"\n2) 1) \"greeting\"\n\
    OK\n\"empty\"\n(integer) 1\n(nil)\n(error) ERR wrong number of arguments for 'get' command\n\
    (error) ERR unknown command 'nosuchcommand', with args beginning with: 'arg1' 'arg 2' \n\
    (error) ERR syntax error\nOK\nOK\n(integer) 1\nOK\n(integer) 2\n(integer) -1\n\
    string\n\"embstr\"\nPONG\n\"hi there\"\n";
const SCRIPT_RAW: &[u8] =
    b"OK\nOK\nhello world\n\nOK\n\x00\xff\r\n\t\"quoted\" 'single'\nmulti word\n\
    1\n\n0\ngreeting\nOK\nempty\n1\n\nERR wrong number of arguments for 'get' command\n\
    \nERR unknown command 'nosuchcommand', with args beginning with: 'arg1' 'arg 2' \n\
    \nERR syntax error\n\nOK\nOK\n1\nOK\n2\n-1\nstring\nembstr\nPONG\nhi there\n";
const SCRIPT_CSV: &[u8] = b"\"OK\"\n\"OK\"\n\"hello world\"\nNULL\n\"OK\"\n\"\\x00\\xff\\r\\n\\t\\\"quoted\\\" 'single'\"\n\
    \"multi word\"\n1\n\n\"0\",\"greeting\"\n\"OK\"\n\"empty\"\n1\nNULL\nERROR,\"ERR wrong number of arguments for 'get' command\"\n\
    ERROR,\"ERR unknown command 'nosuchcommand', with args beginning with: 'arg1' 'arg 2' \"\n\
    ERROR,\"ERR syntax error\"\n\"OK\"\n\"OK\"\n1\n\"OK\"\n2\n-1\n\"string\"\n\
    \"embstr\"\n\"PONG\"\n\"hi there\"\n";

/// Runs sedis-cli with `args` against `port`, feeding it `stdin`.
fn run_cli(port: u16, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(CLI)
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .env("SEDISCLI_HISTFILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sedis-cli");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("wait for sedis-cli");
    writer.join().expect("stdin writer");
    output
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_output(got: &[u8], expected: &[u8], what: &str) {
    assert_eq!(show(got), show(expected), "{what}");
}

/// Reads one multibulk request; `None` when the client is gone.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<Vec<u8>>> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let count: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut argv = Vec::with_capacity(count);
    for _ in 0..count {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let len: usize = line.trim_end().strip_prefix('$')?.parse().ok()?;
        let mut arg = vec![0; len + 2];
        reader.read_exact(&mut arg).ok()?;
        arg.truncate(len);
        argv.push(arg);
    }
    Some(argv)
}

/// A server that answers from a script: `REPLY <name>` with the canned
/// reply of that name, HELLO with a RESP3 map, COMMAND DOCS with redis's
/// docs (if `docs`) or an error, SUBSCRIBE with messages and then a closed
/// connection (`SUBSCRIBE hold`: subscribed, and the connection stays).
/// It runs until the test process ends.
fn scripted_server(docs: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_script(stream, docs));
        }
    });
    port
}

fn serve_script(stream: TcpStream, docs: bool) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    while let Some(argv) = read_request(&mut reader) {
        let name = show(&argv[0]).to_ascii_uppercase();
        let reply: &[u8] = match name.as_str() {
            "HELLO" => HELLO3,
            "COMMAND" if docs => DOCS,
            "COMMAND" => b"-ERR unknown command 'COMMAND', with args beginning with: 'DOCS' \r\n",
            "INFO" => INFO,
            "REPLY" => {
                let wanted = show(argv.get(1).map(Vec::as_slice).unwrap_or_default());
                CANNED
                    .iter()
                    .find(|canned| canned.name == wanted)
                    .map(|canned| canned.reply)
                    .expect("a canned reply of that name")
            }
            // Subscribed until the client goes away.
            "SUBSCRIBE" if argv.get(1).is_some_and(|c| c == b"hold") => {
                b"*3\r\n$9\r\nsubscribe\r\n$4\r\nhold\r\n:1\r\n"
            }
            "SUBSCRIBE" => {
                let _ = writer.write_all(SUBSCRIBE);
                // Returning closes the connection: the subscription ends.
                return;
            }
            _ => b"+OK\r\n",
        };
        if writer.write_all(reply).is_err() {
            return;
        }
    }
}

#[test]
fn every_reply_type_prints_as_redis_cli_prints_it() {
    let port = scripted_server(false);
    for canned in CANNED {
        for (mode, expected) in [
            (&["--no-raw"][..], canned.tty),
            (&[], canned.raw),
            (&["--csv"], canned.csv),
        ] {
            let mut args = mode.to_vec();
            args.extend(["reply", canned.name]);
            let out = run_cli(port, &args, b"");
            assert_output(&out.stdout, expected, &format!("{args:?}"));
            assert!(out.status.success(), "{args:?}");
        }
    }
}

#[test]
fn pushes_subscriptions_info_errors_and_repeats_as_redis_cli() {
    let port = scripted_server(false);
    for run in SCRIPTED_RUNS {
        let args = run.args;
        let out = run_cli(port, args, b"");
        assert_output(&out.stdout, run.stdout, &format!("stdout of {args:?}"));
        assert_output(&out.stderr, run.stderr, &format!("stderr of {args:?}"));
        assert_eq!(out.status.code(), Some(run.code), "exit code of {args:?}");
    }
}

#[test]
fn help_comes_from_command_docs() {
    let port = scripted_server(true);
    for (args, expected) in HELP_RUNS {
        let out = run_cli(port, args, b"");
        assert_output(&out.stdout, expected, &format!("{args:?}"));
    }
    // Plain `help` needs no server.
    let out = run_cli(port, &["help"], b"");
    assert!(show(&out.stdout).contains("\"help <command>\" for help on <command>"));
}

#[test]
fn help_says_so_when_the_server_has_no_command_docs() {
    let port = scripted_server(false);
    let out = run_cli(port, &["help", "get"], b"");
    assert_output(
        &out.stdout,
        b"Help is not available: the server does not support COMMAND DOCS.\n",
        "help without COMMAND DOCS",
    );
    // sedis's own COMMAND DOCS: help shows GET's summary and group.
    let server = TestServer::start();
    let out = run_cli(server.addr.port(), &["help", "get"], b"");
    let text = show(&out.stdout);
    assert!(text.contains("\x1b[1mGET\x1b[0m"), "{text:?}");
    assert!(text.contains("\x1b[33mgroup:\x1b[0m string"), "{text:?}");
}

#[test]
fn piped_commands_print_as_redis_cli_prints_them() {
    let server = TestServer::start();
    let port = server.addr.port();
    for (mode, expected) in [
        (&["--no-raw"][..], SCRIPT_TTY),
        (&[], SCRIPT_RAW),
        (&["--csv"], SCRIPT_CSV),
    ] {
        let out = run_cli(port, mode, SCRIPT);
        assert_output(&out.stdout, expected, &format!("script with {mode:?}"));
        assert_output(&out.stderr, b"", &format!("stderr with {mode:?}"));
        assert!(out.status.success());
    }
}

#[test]
fn one_shot_commands_against_sedis() {
    let server = TestServer::start();
    let port = server.addr.port();
    let ok = |args: &[&str], stdin: &[u8], expected: &[u8]| {
        let out = run_cli(port, args, stdin);
        assert_output(&out.stdout, expected, &format!("{args:?}"));
        assert!(out.status.success(), "{args:?}: {}", show(&out.stderr));
    };
    // -x: standard input is the last argument, byte for byte.
    ok(&["-x", "set", "file"], b"line 1\nline 2\x00\xff", b"OK\n");
    ok(
        &["--no-raw", "get", "file"],
        b"",
        b"\"line 1\\nline 2\\x00\\xff\"\n",
    );
    ok(&["get", "file"], b"", b"line 1\nline 2\x00\xff\n");
    // -n: the database is selected first.
    ok(&["-n", "5", "set", "k", "in five"], b"", b"OK\n");
    ok(&["get", "k"], b"", b"\n");
    ok(&["-n", "5", "get", "k"], b"", b"in five\n");
    // -r: repeated.
    ok(&["-r", "3", "--no-raw", "ping"], b"", b"PONG\nPONG\nPONG\n");
    // -3: RESP3; nil is RESP3's null, HELLO's map prints as redis-cli does.
    ok(&["-3", "--no-raw", "get", "nosuchkey"], b"", b"(nil)\n");
    let out = run_cli(port, &["-3", "--no-raw", "hello", "3"], b"");
    let text = show(&out.stdout);
    let id_line = text.lines().nth(3).expect("four lines").to_string();
    assert!(id_line.starts_with("4# \"id\" => (integer) "), "{text}");
    assert_eq!(
        text.replace(&id_line, "4# \"id\" => (integer) N"),
        "1# \"server\" => \"redis\"\n2# \"version\" => \"7.0.15\"\n3# \"proto\" => (integer) 3\n\
         4# \"id\" => (integer) N\n5# \"mode\" => \"standalone\"\n6# \"role\" => \"master\"\n\
         7# \"modules\" => (empty array)\n"
    );
    // Error replies: printed, exit code 0, unless -e.
    let out = run_cli(port, &["--no-raw", "get"], b"");
    assert_output(
        &out.stdout,
        b"(error) ERR wrong number of arguments for 'get' command\n",
        "error reply",
    );
    assert!(out.status.success());
    let out = run_cli(port, &["-e", "get"], b"");
    assert_output(&out.stdout, b"", "error with -e");
    assert_output(
        &out.stderr,
        b"ERR wrong number of arguments for 'get' command\n",
        "error with -e",
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn password_options() {
    let server = TestServer::with_config(|c| c.requirepass = "s3cret".to_string());
    let port = server.addr.port();
    let out = run_cli(port, &["-a", "s3cret", "ping"], b"");
    assert_output(&out.stdout, b"PONG\n", "right password");
    assert_output(
        &out.stderr,
        b"Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n",
        "the warning redis-cli gives",
    );
    let out = run_cli(
        port,
        &["--no-auth-warning", "--pass", "wrong", "--no-raw", "ping"],
        b"",
    );
    assert_output(
        &out.stderr,
        b"AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n",
        "wrong password",
    );
    assert_output(
        &out.stdout,
        b"(error) NOAUTH Authentication required.\n",
        "the command still goes out, as with redis-cli",
    );
}

#[test]
fn options_and_usage() {
    let out = Command::new(CLI).arg("--version").output().expect("run");
    assert!(show(&out.stdout).starts_with("sedis-cli "));
    let out = Command::new(CLI).arg("--help").output().expect("run");
    assert!(show(&out.stdout).contains("Usage: sedis-cli [OPTIONS]"));
    assert!(out.status.success());
    let out = Command::new(CLI)
        .args(["--bogus", "ping"])
        .output()
        .expect("run");
    assert_output(
        &out.stderr,
        b"Unrecognized option or bad number of args for: '--bogus'\n",
        "unknown option",
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn no_server_is_reported_like_redis_cli() {
    let closed = ClosedPort::new();
    let port = closed.port;
    let out = run_cli(port, &["ping"], b"");
    assert_output(
        &out.stderr,
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n").as_bytes(),
        "one-shot",
    );
    assert_eq!(out.status.code(), Some(1));
    // Piped input: every command tries again, and the input is read to the end.
    let out = run_cli(port, &[], b"ping\nping\n");
    let line = format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n");
    assert_output(&out.stderr, line.repeat(3).as_bytes(), "piped");
    assert!(out.status.success());
}

/// Starts sedis-cli reading piped commands that we write one at a time.
struct Session {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
    stderr: BufReader<std::process::ChildStderr>,
}

impl Session {
    fn start(port: u16) -> Session {
        let mut child = Command::new(CLI)
            .args(["-p", &port.to_string(), "--no-raw"])
            .env("SEDISCLI_HISTFILE", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        Session {
            stdin: child.stdin.take().expect("stdin"),
            stdout: BufReader::new(child.stdout.take().expect("stdout")),
            stderr: BufReader::new(child.stderr.take().expect("stderr")),
            child,
        }
    }

    fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("write");
    }

    fn stdout_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read");
        line
    }

    fn stderr_line(&mut self) -> String {
        let mut line = String::new();
        self.stderr.read_line(&mut line).expect("read");
        line
    }
}

#[test]
fn reconnects_after_the_server_goes_away() {
    // The client must find the second server where the first was: a port
    // held for the test, so that nothing else takes it in between.
    let held = ClosedPort::new();
    let port = held.port;
    let config = |c: &mut sedis::Config| c.port = port;
    let server = TestServer::with_config(config);
    let mut session = Session::start(port);
    session.send("set k v");
    assert_eq!(session.stdout_line(), "OK\n");
    server.stop();
    // The dropped connection is noticed by the next command...
    session.send("get k");
    assert!(session.stderr_line().starts_with("Error: "));
    // ...and the one after that connects again (to a fresh server), once
    // the stopped server's socket has let go of the port.
    let deadline = Instant::now() + Duration::from_secs(5);
    let _server = loop {
        match TestServer::try_with_config(config) {
            Ok(server) => break server,
            Err(e) if Instant::now() < deadline => {
                eprintln!("port {port} busy ({e}), retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("port {port} stayed busy: {e}"),
        }
    };
    session.send("get k");
    assert_eq!(session.stdout_line(), "(nil)\n");
    session.send("ping");
    assert_eq!(session.stdout_line(), "PONG\n");
    drop(session.stdin);
    assert!(session.child.wait().expect("exit").success());
}

/// A pseudo-terminal: the prompt, the line editor and history only run
/// when standard input is a terminal.
struct Pty {
    master: std::fs::File,
    slave_path: String,
}

impl Pty {
    fn open() -> Pty {
        use std::os::fd::FromRawFd;
        // SAFETY: plain calls on the descriptor posix_openpt returns; the
        // name buffer is large enough and NUL-terminated by ptsname_r.
        unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(fd >= 0, "posix_openpt");
            assert_eq!(libc::grantpt(fd), 0);
            assert_eq!(libc::unlockpt(fd), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
            let slave_path = std::ffi::CStr::from_ptr(name.as_ptr())
                .to_string_lossy()
                .into_owned();
            Pty {
                master: std::fs::File::from_raw_fd(fd),
                slave_path,
            }
        }
    }
}

/// The terminal's side of a session: what the program wrote, in order.
struct Screen {
    chunks: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
    /// Where the next `expect` starts looking.
    from: usize,
}

impl Screen {
    /// Waits until the output (after the previous match) contains `text`.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(at) = show(&self.seen[self.from..]).find(text) {
                self.from += at + text.len();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend(chunk),
                Err(_) => panic!(
                    "no {text:?} in the terminal output: {:?}",
                    show(&self.seen[self.from..])
                ),
            }
        }
    }

    /// Waits for the program to exit (its terminal then closes), killing
    /// it if it does not; returns whether it exited successfully.
    fn exit_status(&mut self, child: &mut std::process::Child) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.extend(chunk),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!("sedis-cli did not exit");
                }
            }
        }
        child.wait().expect("exit status").success()
    }
}

/// Starts sedis-cli on a new pseudo-terminal: the child, what it shows,
/// and the keyboard.
fn on_terminal(
    port: u16,
    histfile: &std::path::Path,
) -> (std::process::Child, Screen, std::fs::File) {
    let pty = Pty::open();
    let slave = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&pty.slave_path)
            .expect("open the terminal")
    };
    let child = Command::new(CLI)
        .args(["-p", &port.to_string()])
        .env("SEDISCLI_HISTFILE", histfile)
        .env("TERM", "xterm")
        .stdin(slave())
        .stdout(slave())
        .stderr(slave())
        .spawn()
        .expect("spawn");
    let keyboard = pty.master.try_clone().expect("clone");
    let mut display = pty.master;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        // Ends with an error once the program exits and the terminal closes.
        while let Ok(n) = display.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let screen = Screen {
        chunks: rx,
        seen: Vec::new(),
        from: 0,
    };
    (child, screen, keyboard)
}

#[test]
fn not_connected_prompt_until_a_server_answers() {
    let closed = ClosedPort::new();
    let port = closed.port;
    let (mut child, mut screen, mut keyboard) =
        on_terminal(port, std::path::Path::new("/dev/null"));
    screen.expect(&format!(
        "Could not connect to Redis at 127.0.0.1:{port}: Connection refused"
    ));
    screen.expect("not connected> ");
    // A server may listen on the held port (see `ClosedPort`).
    let _server = TestServer::with_config(|c| c.port = port);
    keyboard.write_all(b"ping\r").expect("type");
    screen.expect("PONG\r\n");
    screen.expect(&format!("127.0.0.1:{port}> "));
    keyboard.write_all(b"\x04").expect("type");
    assert!(screen.exit_status(&mut child));
}

#[test]
fn prompt_editing_and_history_on_a_terminal() {
    let server = TestServer::start();
    let port = server.addr.port();
    let dir = temp_dir("cli-history");
    let histfile = dir.join("history");

    let (mut child, mut screen, mut keyboard) = on_terminal(port, &histfile);
    let mut keys = |bytes: &[u8]| keyboard.write_all(bytes).expect("type");
    let prompt = format!("127.0.0.1:{port}> ");
    let prompt2 = format!("127.0.0.1:{port}[2]> ");

    screen.expect(&prompt);
    keys(b"set k v\r");
    screen.expect("OK\r\n");
    screen.expect(&prompt);
    keys(b"select 2\r");
    screen.expect("OK\r\n");
    // SELECT shows in the prompt.
    screen.expect(&prompt2);
    keys(b"get k\r");
    screen.expect("(nil)\r\n");
    screen.expect(&prompt2);
    // Up three times: "set k v" again, now in database 2.
    keys(b"\x1b[A\x1b[A\x1b[A\r");
    screen.expect("OK\r\n");
    screen.expect(&prompt2);
    // Home then insert; backspace; left then delete.
    keys(b"et k\x01g\r");
    screen.expect("\"v\"\r\n");
    screen.expect(&prompt2);
    keys(b"get kzz\x7f\x7f\r");
    screen.expect("\"v\"\r\n");
    screen.expect(&prompt2);
    keys(b"get q\x1b[D\x1b[3~k\r");
    screen.expect("\"v\"\r\n");
    screen.expect(&prompt2);
    // Ctrl-C drops the line.
    keys(b"garbage\x03");
    screen.expect("^C");
    screen.expect(&prompt2);
    // Ctrl-W deletes a word, Ctrl-U the rest before the cursor.
    keys(b"junk word\x17\x15echo \"a b\"\r");
    screen.expect("\"a b\"\r\n");
    screen.expect(&prompt2);
    // Ctrl-K deletes to the end of the line.
    keys(b"echo hi there\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x0b\r");
    screen.expect("\"hi\"\r\n");
    screen.expect(&prompt2);
    // Ctrl-D on an empty line ends the session.
    keys(b"\x04");
    assert!(screen.exit_status(&mut child));

    let history = std::fs::read_to_string(&histfile).expect("history file");
    assert_eq!(
        history,
        "set k v\nselect 2\nget k\nset k v\nget k\necho \"a b\"\necho hi\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_ends_subscribe_mode_and_the_prompt_returns() {
    let port = scripted_server(false);
    let (mut child, mut screen, mut keyboard) =
        on_terminal(port, std::path::Path::new("/dev/null"));
    let prompt = format!("127.0.0.1:{port}> ");
    screen.expect(&prompt);
    keyboard.write_all(b"subscribe hold\r").expect("type");
    screen.expect("Reading messages... (press Ctrl-C to quit)\r\n");
    screen.expect("3) (integer) 1\r\n");
    // What the terminal sends the foreground program for Ctrl-C (the test's
    // terminal is not the program's controlling one, so we send it).
    // SAFETY: signals our own child process.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    screen.expect(&prompt);
    keyboard.write_all(b"reply int\r").expect("type");
    screen.expect("(integer) 42\r\n");
    screen.expect(&prompt);
    keyboard.write_all(b"\x04").expect("type");
    assert!(screen.exit_status(&mut child));
}

#[test]
fn subscribe_mode_prints_messages_published_on_a_real_server() {
    let server = TestServer::start();
    let mut child = Command::new(CLI)
        .args(["-p", &server.addr.port().to_string(), "subscribe", "news"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sedis-cli");
    let mut publisher = server.raw();
    // Publish once the subscription is registered (the server's own count).
    eventually("sedis-cli to subscribe", || {
        publisher.call(&["PUBSUB", "NUMSUB", "news"]) == b"*2\r\n$4\r\nnews\r\n:1\r\n"
    });
    assert_eq!(publisher.call(&["PUBLISH", "news", "first"]), b":1\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "news", "second"]), b":1\r\n");
    // Read the lines as they come: messages are printed immediately.
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    while lines.len() < 9 {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("read") > 0, "{lines:?}");
        lines.push(line.trim_end().to_string());
    }
    child.kill().ok();
    child.wait().ok();
    assert_eq!(
        lines,
        [
            "subscribe",
            "news",
            "1",
            "message",
            "news",
            "first",
            "message",
            "news",
            "second"
        ]
    );
}
