//! The engine end to end: scripts run against a small fake command layer,
//! replies compared byte for byte with what Redis 7.0.15 sends for the
//! same script (recorded from redis-server 7.0.15 with a raw socket; the
//! fake commands answer as Redis's PING, ECHO, SET and GET do).

mod environment;
mod functions;

use super::*;
use crate::log::{LogLevel, Logger};
use crate::resp::{Frame, Protocol, ReplyWriter};

/// A command layer with a handful of commands.
pub(super) struct FakeCaller {
    logger: Logger,
    pub calls: Vec<Vec<Vec<u8>>>,
}

impl FakeCaller {
    pub fn new() -> FakeCaller {
        FakeCaller {
            logger: Logger::new(LogLevel::Nothing, "").unwrap(),
            calls: Vec::new(),
        }
    }
}

impl Caller for FakeCaller {
    fn call(&mut self, argv: &[Vec<u8>], resp: u8, wrote: &mut bool) -> Frame {
        self.calls.push(argv.to_vec());
        let name = argv[0].to_ascii_lowercase();
        match name.as_slice() {
            b"ping" => Frame::Simple(b"PONG".to_vec()),
            b"echo" => Frame::Bulk(argv[1].clone()),
            b"set" => {
                *wrote = true;
                Frame::Simple(b"OK".to_vec())
            }
            b"get" => Frame::NullBulk,
            b"incr" => Frame::Integer(1),
            b"hgetall" if resp == 3 => Frame::Map(vec![(
                Frame::Bulk(b"f".to_vec()),
                Frame::Bulk(b"v".to_vec()),
            )]),
            b"hgetall" => {
                Frame::Array(vec![Frame::Bulk(b"f".to_vec()), Frame::Bulk(b"v".to_vec())])
            }
            b"smembers" if resp == 3 => Frame::Set(vec![Frame::Bulk(b"a".to_vec())]),
            b"smembers" => Frame::Array(vec![Frame::Bulk(b"a".to_vec())]),
            b"zscore" if resp == 3 => Frame::Double(b"1.5".to_vec()),
            b"zscore" => Frame::Bulk(b"1.5".to_vec()),
            b"null" if resp == 3 => Frame::Null,
            b"null" => Frame::NullBulk,
            b"wrongtype" => Frame::Error(
                b"WRONGTYPE Operation against a key holding the wrong kind of value".to_vec(),
            ),
            _ => Frame::Error(b"ERR Unknown Redis command called from script".to_vec()),
        }
    }

    fn logger(&self) -> &Logger {
        &self.logger
    }
}

pub(super) fn bytes(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// EVAL `body` with `keys`/`args`, the reply written for `protocol`.
pub(super) fn eval_with(
    engine: &mut Engine,
    body: &str,
    keys: &[&str],
    args: &[&str],
    protocol: Protocol,
) -> Vec<u8> {
    let mut caller = FakeCaller::new();
    let mut out = ReplyWriter::new(protocol);
    let sha = match engine.load_script(body.as_bytes()) {
        Ok(sha) => sha,
        Err(e) => {
            out.error(&e);
            return out.take();
        }
    };
    let run = Invocation {
        keys: &bytes(keys),
        args: &bytes(args),
        caller: &mut caller,
        now_ms: 0,
        from_master: false,
    };
    match engine.run_script(sha.as_bytes(), run) {
        Ok(reply) => convert::write_frame(&reply.frame, &mut out),
        Err(e) => out.error(&e),
    }
    out.take()
}

/// EVAL on a fresh engine, for a RESP2 client.
pub(super) fn eval(body: &str) -> Vec<u8> {
    eval_with(&mut Engine::new(), body, &[], &[], Protocol::Resp2)
}

/// EVAL on a fresh engine, for a RESP3 client.
fn eval3(body: &str) -> Vec<u8> {
    eval_with(&mut Engine::new(), body, &[], &[], Protocol::Resp3)
}

pub(super) fn sha(body: &str) -> String {
    crate::digest::sha1hex(body.as_bytes())
}

/// An error reply for `body` with Redis's script suffix.
fn script_err(message: &str, body: &str, line: u32) -> Vec<u8> {
    format!(
        "-{message} script: {}, on @user_script:{line}.\r\n",
        sha(body)
    )
    .into_bytes()
}

pub(super) fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plain_values() {
    assert_eq!(s(&eval("return 1")), ":1\r\n");
    assert_eq!(s(&eval("return 3.99")), ":3\r\n");
    assert_eq!(s(&eval("return -3.99")), ":-3\r\n");
    assert_eq!(s(&eval("return 'x'")), "$1\r\nx\r\n");
    assert_eq!(s(&eval("return true")), ":1\r\n");
    assert_eq!(s(&eval("return false")), "$-1\r\n");
    assert_eq!(s(&eval("return nil")), "$-1\r\n");
    assert_eq!(s(&eval("return {1,2,nil,3}")), "*2\r\n:1\r\n:2\r\n");
    assert_eq!(
        s(&eval(
            "return {1.5, 'a', {ok='x'}, {err='E y'}, true, false, {1,{2}}}"
        )),
        "*7\r\n:1\r\n$1\r\na\r\n+x\r\n-E y\r\n:1\r\n$-1\r\n*2\r\n:1\r\n*1\r\n:2\r\n"
    );
    assert_eq!(s(&eval("return {err=1}")), "*0\r\n");
    assert_eq!(s(&eval("return {ok='fine'}")), "+fine\r\n");
    assert_eq!(s(&eval("return {double=1.5}")), "$3\r\n1.5\r\n");
    assert_eq!(
        s(&eval("return redis.status_reply('x\\r\\ny')")),
        "+x  y\r\n"
    );
    assert_eq!(s(&eval("return redis.error_reply('x y')")), "-x y\r\n");
    assert_eq!(s(&eval("return redis.error_reply('-X')")), "-ERR X\r\n");
    assert_eq!(s(&eval("return redis.error_reply('')")), "-ERR \r\n");
    assert_eq!(
        s(&eval("return redis.error_reply('MY code')")),
        "-MY code\r\n"
    );
    assert_eq!(
        s(&eval("return redis.error_reply(1)")),
        "-ERR wrong number or type of arguments\r\n"
    );
    assert_eq!(
        s(&eval("return redis.status_reply(1)")),
        "-ERR wrong number or type of arguments\r\n"
    );
}

#[test]
fn resp3_values() {
    // A RESP3 client; the script's own protocol stays 2 unless it asks.
    assert_eq!(
        s(&eval3("return {1.5, true, false, nil}")),
        "*3\r\n:1\r\n:1\r\n_\r\n"
    );
    assert_eq!(s(&eval3("return {map={a=1}}")), "%1\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(s(&eval3("return {set={a=true}}")), "~1\r\n$1\r\na\r\n");
    assert_eq!(s(&eval3("return {double=3.5}")), ",3.5\r\n");
    assert_eq!(s(&eval3("return {big_number='123'}")), "(123\r\n");
    assert_eq!(
        s(&eval3(
            "return {verbatim_string={format='txt', string='hi'}}"
        )),
        "=6\r\ntxt:hi\r\n"
    );
    assert_eq!(
        s(&eval3("redis.setresp(3) return {true, false}")),
        "*2\r\n#t\r\n#f\r\n"
    );
    // The same for a RESP2 client.
    assert_eq!(s(&eval("return {map={a=1}}")), "*2\r\n$1\r\na\r\n:1\r\n");
    assert_eq!(s(&eval("return {set={a=true}}")), "*1\r\n$1\r\na\r\n");
    assert_eq!(s(&eval("return {big_number='123'}")), "$3\r\n123\r\n");
    assert_eq!(
        s(&eval(
            "return {verbatim_string={format='txt', string='hi'}}"
        )),
        "$2\r\nhi\r\n"
    );
    assert_eq!(
        s(&eval("redis.setresp(3) return {true, false}")),
        "*2\r\n:1\r\n:0\r\n"
    );
}

#[test]
fn replies_into_lua() {
    assert_eq!(s(&eval("return redis.call('ping')")), "+PONG\r\n");
    assert_eq!(s(&eval("return redis.call('get', 'k')")), "$-1\r\n");
    assert_eq!(
        s(&eval("return type(redis.call('get', 'k'))")),
        "$7\r\nboolean\r\n"
    );
    assert_eq!(
        s(&eval("redis.setresp(3) return type(redis.call('null'))")),
        "$3\r\nnil\r\n"
    );
    assert_eq!(
        s(&eval("return redis.call('hgetall', 'h')")),
        "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        s(&eval(
            "redis.setresp(3) return redis.call('hgetall', 'h').map.f"
        )),
        "$1\r\nv\r\n"
    );
    assert_eq!(
        s(&eval(
            "redis.setresp(3) return tostring(redis.call('smembers', 's').set.a)"
        )),
        "$4\r\ntrue\r\n"
    );
    assert_eq!(
        s(&eval(
            "redis.setresp(3) return redis.call('zscore', 'z', 'm').double * 2"
        )),
        ":3\r\n"
    );
    assert_eq!(
        s(&eval("return redis.call('zscore', 'z', 'm')")),
        "$3\r\n1.5\r\n"
    );
    assert_eq!(s(&eval("return redis.call('echo', 3.5)")), "$3\r\n3.5\r\n");
    assert_eq!(
        s(&eval("return redis.call('echo', 0.1)")),
        "$19\r\n0.10000000000000001\r\n"
    );
    assert_eq!(
        s(&eval("return redis.pcall('nosuch')['err']")),
        "$44\r\nERR Unknown Redis command called from script\r\n"
    );
    assert_eq!(
        s(&eval(
            "local t = redis.pcall('nosuch') return {t.err, tostring(t.ignore_error_stats_update)}"
        )),
        "*2\r\n$44\r\nERR Unknown Redis command called from script\r\n$4\r\ntrue\r\n"
    );
    assert_eq!(
        s(&eval("return {pcall(redis.call, 'nosuch')}")),
        "*2\r\n$-1\r\n$44\r\nERR Unknown Redis command called from script\r\n"
    );
}

#[test]
fn call_errors() {
    for (body, message, line) in [
        (
            "return redis.call()",
            "ERR Please specify at least one argument for this redis lib call",
            1,
        ),
        (
            "return redis.call({})",
            "ERR Lua redis lib command arguments must be strings or integers",
            1,
        ),
        (
            "return redis.call('ping', {})",
            "ERR Lua redis lib command arguments must be strings or integers",
            1,
        ),
        (
            "return redis.call('nosuch')",
            "ERR Unknown Redis command called from script",
            1,
        ),
        (
            "\n\nredis.call('wrongtype')",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            3,
        ),
    ] {
        assert_eq!(
            s(&eval(body)),
            s(&script_err(message, body, line)),
            "{body}"
        );
    }
    assert_eq!(
        s(&eval("return redis.pcall({})")),
        "-ERR Lua redis lib command arguments must be strings or integers\r\n"
    );
    assert_eq!(
        s(&eval("return redis.pcall('nosuch')")),
        "-ERR Unknown Redis command called from script\r\n"
    );
}

#[test]
fn script_errors() {
    for (body, message) in [
        ("error('x')", "ERR user_script:1: x"),
        ("error({err='MYERR boom'})", "MYERR boom"),
        ("error({err='boom'})", "boom"),
        ("error(nil)", "ERR nil"),
        ("error(1.5)", "ERR user_script:1: 1.5"),
        ("error('x', 0)", "ERR x"),
        (
            "a=1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "return a",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'a'",
        ),
        ("rawset(_G,'a',1)", "ERR Attempt to modify a readonly table"),
        (
            "setmetatable(_G,nil)",
            "ERR Attempt to modify a readonly table",
        ),
        (
            "math.x=1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "string.foo = 1",
            "ERR user_script:1: Attempt to modify a readonly table",
        ),
        (
            "table.insert(math, 1)",
            "ERR Attempt to modify a readonly table",
        ),
        (
            "return type(loadfile)",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile'",
        ),
        (
            "return type(print)",
            "ERR user_script:1: Script attempted to access nonexistent global variable 'print'",
        ),
        ("redis.setresp(4)", "ERR RESP version must be 2 or 3."),
        ("return redis.sha1hex()", "ERR wrong number of arguments"),
        (
            "return redis.log(1)",
            "ERR redis.log() requires two arguments or more.",
        ),
        (
            "redis.log('x','y')",
            "ERR First argument must be a number (log level).",
        ),
        ("redis.log(9,'y')", "ERR Invalid debug level."),
        (
            "return redis.set_repl(9)",
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        ),
        (
            "return redis.set_repl()",
            "ERR redis.set_repl() requires two arguments.",
        ),
        (
            "return math.random(1,2,3)",
            "ERR user_script:1: wrong number of arguments",
        ),
        (
            "return math.random(0)",
            "ERR user_script:1: bad argument #1 to 'random' (interval is empty)",
        ),
    ] {
        assert_eq!(s(&eval(body)), s(&script_err(message, body, 1)), "{body}");
    }
    let body = "local function f() error('deep') end\nf()";
    assert_eq!(
        s(&eval(body)),
        s(&script_err("ERR user_script:1: deep", body, 1))
    );
    let body = "#!lua\nreturn a";
    assert_eq!(
        s(&eval(body)),
        s(&script_err(
            "ERR user_script:2: Script attempted to access nonexistent global variable 'a'",
            body,
            2
        ))
    );
}

#[test]
fn compile_and_shebang_errors() {
    assert_eq!(
        s(&eval("return 1 +")),
        "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n"
    );
    assert_eq!(
        s(&eval("#!lua\nreturn 1 +")),
        "-ERR Error compiling script (new function): user_script:2: unexpected symbol near '<eof>'\r\n"
    );
    assert_eq!(
        s(&eval("#!lua flags=no-writes,bad\nreturn 1")),
        "-ERR Unexpected flag in script shebang: bad\r\n"
    );
    assert_eq!(s(&eval("#!lua flags=no-writes\nreturn 1")), ":1\r\n");
}

#[test]
fn redis_table() {
    assert_eq!(s(&eval("return redis.REDIS_VERSION_NUM")), ":458767\r\n");
    assert_eq!(s(&eval("return redis.REDIS_VERSION")), "$6\r\n7.0.15\r\n");
    assert_eq!(
        s(&eval("return redis.sha1hex('')")),
        "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"
    );
    assert_eq!(
        s(&eval("return redis.sha1hex(1)")),
        "$40\r\n356a192b7913b04c54574d18c28d46e6395428ab\r\n"
    );
    assert_eq!(s(&eval("return redis.replicate_commands()")), ":1\r\n");
    assert_eq!(s(&eval("return redis.breakpoint()")), "$-1\r\n");
    assert_eq!(s(&eval("return redis.debug('x')")), "$-1\r\n");
    assert_eq!(s(&eval("return redis.x")), "$-1\r\n");
    assert_eq!(s(&eval("return redis.setresp(3)")), "$-1\r\n");
    assert_eq!(
        s(&eval(
            "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}"
        )),
        "*5\r\n:0\r\n:1\r\n:2\r\n:2\r\n:3\r\n"
    );
    assert_eq!(
        s(&eval(
            "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}"
        )),
        "*4\r\n:0\r\n:1\r\n:2\r\n:3\r\n"
    );
    assert_eq!(s(&eval("return getmetatable(_G) == nil")), "$-1\r\n");
    assert_eq!(
        s(&eval("return tostring(rawget(_G,'os'))")),
        "$3\r\nnil\r\n"
    );
    assert_eq!(s(&eval("local t = {} ; t.x = 1 ; return t.x")), ":1\r\n");
    assert_eq!(s(&eval("return pcall(function() a=1 end)")), "$-1\r\n");
    assert_eq!(
        s(&eval("return {pcall(error, {err='x'})}")),
        "*2\r\n$-1\r\n$1\r\nx\r\n"
    );
    assert_eq!(s(&eval("return {pcall(error)}")), "*1\r\n$-1\r\n");
    assert_eq!(
        s(&eval("return rawget(redis, 'call') == redis.call")),
        ":1\r\n"
    );
}

#[test]
fn keys_and_argv() {
    let mut engine = Engine::new();
    let reply = eval_with(
        &mut engine,
        "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
        &["k"],
        &["a", "b"],
        Protocol::Resp2,
    );
    assert_eq!(s(&reply), "*4\r\n$1\r\nk\r\n$1\r\na\r\n:1\r\n:2\r\n");
    assert_eq!(s(&eval("return KEYS[1]")), "$-1\r\n");
}

#[test]
fn random_is_redis_sequence() {
    // Recorded from a fresh Redis 7.0.15.
    let mut engine = Engine::new();
    let mut run = |body: &str| s(&eval_with(&mut engine, body, &[], &[], Protocol::Resp2));
    assert_eq!(
        run("return tostring(math.random())"),
        "$16\r\n0.39646477363839\r\n"
    );
    assert_eq!(
        run("return tostring(math.random()) "),
        "$16\r\n0.84048536971234\r\n"
    );
    assert_eq!(
        run("return tostring(math.random())  "),
        "$16\r\n0.35333609737146\r\n"
    );
    assert_eq!(
        run(
            "math.randomseed(1); return {tostring(math.random()), tostring(math.random()), math.random(1000)}"
        ),
        "*3\r\n$17\r\n0.041630344484761\r\n$15\r\n0.4544924448498\r\n:835\r\n"
    );
    assert_eq!(
        run("math.randomseed(-5); return {tostring(math.random())}"),
        "*1\r\n$15\r\n0.8168164928522\r\n"
    );
}

#[test]
fn cyclic_tables_stop_at_lua_stack_limit() {
    // Recorded: 7995 nested one-element arrays, then the error.
    let reply = eval("local t = {} t[1] = t return t");
    let text = s(&reply);
    assert_eq!(text.matches("*1\r\n").count(), 7995);
    assert!(text.ends_with("-ERR reached lua stack limit\r\n"));
    assert_eq!(reply.len(), 32010);
}

#[test]
fn noscript_and_cache() {
    let mut engine = Engine::new();
    let mut caller = FakeCaller::new();
    let run = Invocation {
        keys: &[],
        args: &[],
        caller: &mut caller,
        now_ms: 0,
        from_master: false,
    };
    let err = engine
        .run_script(b"0000000000000000000000000000000000000000", run)
        .err()
        .unwrap();
    assert_eq!(err.text(), "NOSCRIPT No matching script. Please use EVAL.");
    let sha = engine.load_script(b"return 1").unwrap();
    assert_eq!(sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    assert!(engine.script(sha.to_uppercase().as_bytes()).is_some());
    assert_eq!(engine.script_count(), 1);
    engine.flush_scripts();
    assert_eq!(engine.script_count(), 0);
    assert!(engine.script(sha.as_bytes()).is_none());
}

#[test]
fn writes_are_reported() {
    let mut engine = Engine::new();
    let status = engine.status();
    let mut caller = FakeCaller::new();
    let sha = engine
        .load_script(b"redis.call('set', 'a', 1) return 1")
        .unwrap();
    let run = Invocation {
        keys: &[],
        args: &[],
        caller: &mut caller,
        now_ms: 7,
        from_master: false,
    };
    engine.run_script(sha.as_bytes(), run).unwrap();
    assert!(status.has_written());
    assert_eq!(status.kill(true).unwrap_err().code(), "NOTBUSY");
    assert!(!status.is_running());
    assert_eq!(caller.calls, vec![bytes(&["set", "a", "1"])]);
}

#[test]
fn kill_from_another_thread() {
    let mut engine = Engine::new();
    let status = engine.status();
    assert_eq!(
        status.kill(true).unwrap_err().text(),
        "NOTBUSY No scripts in execution right now."
    );
    let killer = std::thread::spawn(move || {
        while !status.is_running() {
            std::thread::yield_now();
        }
        assert_eq!(
            status.kill(false).unwrap_err().text(),
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        );
        status.kill(true).unwrap();
    });
    let body = "local i = 0 while true do pcall(function() i = i + 1 end) end";
    let reply = eval_with(&mut engine, body, &[], &[], Protocol::Resp2);
    killer.join().unwrap();
    assert_eq!(
        s(&reply),
        s(&script_err(
            "ERR Script killed by user with SCRIPT KILL...",
            body,
            1
        ))
    );
    // The engine runs again afterwards.
    assert_eq!(
        s(&eval_with(
            &mut engine,
            "return 2",
            &[],
            &[],
            Protocol::Resp2
        )),
        ":2\r\n"
    );
}

#[test]
fn hostile_scripts_get_errors() {
    let reply = s(&eval("local function f() return f() + 1 end return f()"));
    assert!(
        reply.starts_with("-ERR user_script:1: stack overflow"),
        "{reply}"
    );
    let reply = s(&eval("return string.rep('x', -1)"));
    assert_eq!(reply, "$0\r\n\r\n");
    let reply = s(&eval(
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x",
    ));
    assert!(reply.starts_with("-ERR "), "{reply}");
    // The stack is clean after errors: many failing runs in one state.
    let mut engine = Engine::new();
    for _ in 0..200 {
        eval_with(&mut engine, "redis.call({})", &[], &[], Protocol::Resp2);
    }
    assert_eq!(
        s(&eval_with(
            &mut engine,
            "return 1",
            &[],
            &[],
            Protocol::Resp2
        )),
        ":1\r\n"
    );
}

/// The error lines a run leaves for INFO's errorstats.
fn uncounted(body: &str) -> Vec<String> {
    let mut engine = Engine::new();
    let mut caller = FakeCaller::new();
    let sha = engine.load_script(body.as_bytes()).unwrap();
    let run = Invocation {
        keys: &[],
        args: &[],
        caller: &mut caller,
        now_ms: 0,
        from_master: false,
    };
    let reply = engine.run_script(sha.as_bytes(), run).unwrap();
    reply.uncounted_errors.iter().map(|e| s(e)).collect()
}

#[test]
fn errors_relayed_from_commands_are_not_counted_twice() {
    // Redis counts an error once: where it is first replied.
    assert!(uncounted("return redis.pcall('nosuch')").is_empty());
    assert!(uncounted("redis.call('nosuch')").is_empty());
    assert!(uncounted("return {redis.pcall('wrongtype')}").is_empty());
    assert_eq!(uncounted("return {err='MY x'}"), ["MY x"]);
    assert_eq!(
        uncounted("return {1, redis.error_reply('E1'), {err='E2 y'}}"),
        ["ERR E1", "E2 y"]
    );
    assert_eq!(
        uncounted("error('x')"),
        [format!(
            "ERR user_script:1: x script: {}, on @user_script:1.",
            sha("error('x')")
        )]
    );
    assert!(uncounted("return 1").is_empty());
}
