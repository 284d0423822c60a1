//! The engine end to end: scripts run against a small fake command layer,
//! replies compared byte for byte with what Redis 7.0.15 sends for the
//! same script (recorded from redis-server 7.0.15 with a raw socket; the
//! fake commands answer as Redis's PING, ECHO, SET and GET do).

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

fn bytes(args: &[&str]) -> Vec<Vec<u8>> {
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

fn sha(body: &str) -> String {
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

fn s(b: &[u8]) -> String {
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

fn load(engine: &mut Engine, code: &str) -> String {
    let logger = Logger::new(LogLevel::Nothing, "").unwrap();
    match engine.load_library(code.as_bytes(), false, &logger) {
        Ok(name) => format!("${}", s(&name)),
        Err(e) => format!("-{}", e.text()),
    }
}

fn fcall(engine: &mut Engine, name: &str, keys: &[&str], args: &[&str]) -> String {
    let mut caller = FakeCaller::new();
    let mut out = ReplyWriter::new(Protocol::Resp2);
    let run = Invocation {
        keys: &bytes(keys),
        args: &bytes(args),
        caller: &mut caller,
        now_ms: 0,
        from_master: false,
    };
    match engine.call_function(name.as_bytes(), run) {
        Ok(reply) => convert::write_frame(&reply.frame, &mut out),
        Err(e) => out.error(&e),
    }
    s(&out.take())
}

#[test]
fn function_libraries() {
    // Each expected value recorded from Redis 7.0.15 (FUNCTION LOAD, FCALL).
    let mut e = Engine::new();
    assert_eq!(
        load(
            &mut e,
            "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys[1], args[1], a} end)"
        ),
        "$lib1"
    );
    assert_eq!(
        fcall(&mut e, "f1", &["k"], &["v"]),
        "-ERR user_function:2: Script attempted to access nonexistent global variable 'a' script: f1, on @user_function:2.\r\n"
    );
    assert_eq!(
        load(&mut e, "#!lua name=lib2\nx = 1"),
        "-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"
    );
    assert_eq!(
        load(&mut e, "#!lua name=lib3\nreturn redis.call('ping')"),
        "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"
    );
    assert_eq!(
        load(
            &mut e,
            "#!lua name=lib4\nredis.register_function{function_name='f4', callback=function() error('boom') end, flags={'no-writes','bad'}}"
        ),
        "-ERR Error registering functions: ERR unknown flag given"
    );
    assert_eq!(
        load(
            &mut e,
            "#!lua name=lib4\nredis.register_function{function_name='f4', callback=function() error('boom') end, flags={'no-writes'}}"
        ),
        "$lib4"
    );
    assert!(e.function(b"f4").unwrap().1.flags.no_writes);
    assert_eq!(
        fcall(&mut e, "f4", &[], &[]),
        "-ERR user_function:2: boom script: f4, on @user_function:2.\r\n"
    );
    assert_eq!(
        load(
            &mut e,
            "#!lua name=lib5\nlocal function f() return math.x end\nredis.register_function('f5', f)\nredis.register_function('f6', function() y = 1 end)\nredis.register_function('f7', function() return redis.call('set','a','b') end)"
        ),
        "$lib5"
    );
    assert_eq!(fcall(&mut e, "f5", &[], &[]), "$-1\r\n");
    assert_eq!(
        fcall(&mut e, "f6", &[], &[]),
        "-ERR user_function:4: Attempt to modify a readonly table script: f6, on @user_function:4.\r\n"
    );
    assert_eq!(fcall(&mut e, "f7", &[], &[]), "+OK\r\n");
    for (code, error) in [
        (
            "redis.register_function('f8')",
            "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
        ),
        (
            "redis.register_function('f8', 1)",
            "ERR Error registering functions: ERR second argument to redis.register_function must be a function",
        ),
        (
            "redis.register_function({function_name='f8'})",
            "ERR Error registering functions: ERR redis.register_function must get a callback argument",
        ),
        (
            "redis.register_function({function_name='f8', callback=print})",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'print'",
        ),
        (
            "redis.register_function({function_name='f8', callback=function() end, foo=1})",
            "ERR Error registering functions: ERR unknown argument given to redis.register_function",
        ),
        (
            "redis.register_function({function_name='f8', callback=function() end, flags='x'})",
            "ERR Error registering functions: ERR flags argument to redis.register_function must be a table representing function flags",
        ),
        (
            "redis.register_function({function_name='f8', callback=function() end, flags={1}})",
            "ERR Error registering functions: ERR unknown flag given",
        ),
        (
            "redis.register_function({function_name='f 8', callback=function() end})",
            "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ),
        (
            "redis.register_function('f1', function() end)",
            "ERR Function f1 already exists",
        ),
        (
            "redis.register_function('f9', function() end)\nredis.register_function('f9', function() end)",
            "ERR Error registering functions: ERR Function already exists in the library",
        ),
        ("local a = 1", "ERR No functions registered"),
        (
            "local a = redis.call",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'",
        ),
        (
            "local a = math.floor(1.5)",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'math'",
        ),
        (
            "if 1 then",
            "ERR Error compiling function: user_function:2: 'end' expected near '<eof>'",
        ),
        (
            "error('zz')",
            "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'error'",
        ),
    ] {
        assert_eq!(
            load(&mut e, &format!("#!lua name=lib6\n{code}")),
            format!("-{error}"),
            "{code}"
        );
    }
    assert_eq!(
        load(&mut e, "#!lua name=lib6"),
        "-ERR Invalid library metadata"
    );
    assert_eq!(
        load(&mut e, "#!lua name=lib6 foo=bar\nlocal a = 1"),
        "-ERR Invalid metadata value given: foo=bar"
    );
    assert_eq!(
        load(&mut e, "#!lu name=lib6\nlocal a = 1"),
        "-ERR Engine 'lu' not found"
    );
    assert_eq!(
        load(&mut e, "#!lua\nlocal a = 1"),
        "-ERR Library name was not given"
    );
    assert_eq!(load(&mut e, "local a = 1"), "-ERR Missing library metadata");
    assert_eq!(
        load(&mut e, "#!lua name=l-b\nlocal a = 1"),
        "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
    );
    assert_eq!(
        load(
            &mut e,
            "#!lua name=lib1\nredis.register_function('g', function() end)"
        ),
        "-ERR Library 'lib1' already exists"
    );
    assert_eq!(
        load(
            &mut e,
            "#!lua name=lib8\nredis.register_function('f11', function() return redis.register_function end)"
        ),
        "$lib8"
    );
    assert_eq!(fcall(&mut e, "f11", &[], &[]), "$-1\r\n");
    assert_eq!(
        fcall(&mut e, "nosuch", &[], &[]),
        "-ERR Function not found\r\n"
    );

    // REPLACE swaps the library's functions; DELETE and FLUSH remove them.
    let logger = Logger::new(LogLevel::Nothing, "").unwrap();
    let code = b"#!lua name=lib1\nredis.register_function('g1', function(k, a) return #k + #a end)";
    assert_eq!(e.load_library(code, true, &logger).unwrap(), b"lib1");
    assert_eq!(fcall(&mut e, "f1", &[], &[]), "-ERR Function not found\r\n");
    assert_eq!(fcall(&mut e, "g1", &["a"], &["b", "c"]), ":3\r\n");
    e.delete_library(b"lib1").unwrap();
    assert_eq!(
        e.delete_library(b"lib1").unwrap_err().text(),
        "ERR Library not found"
    );
    assert_eq!(fcall(&mut e, "g1", &[], &[]), "-ERR Function not found\r\n");
    assert_eq!(e.libraries().count(), 3);
    e.flush_functions();
    assert_eq!(e.libraries().count(), 0);
}

#[test]
fn functions_and_scripts_are_separate() {
    let mut e = Engine::new();
    assert_eq!(
        load(
            &mut e,
            "#!lua name=l\nredis.register_function{function_name='f', description='d', callback=function() return redis.setresp end}"
        ),
        "$l"
    );
    let (library, function) = e.function(b"f").unwrap();
    assert_eq!(library.code, b"#!lua name=l\nredis.register_function{function_name='f', description='d', callback=function() return redis.setresp end}");
    assert_eq!(function.description.as_deref(), Some(&b"d"[..]));
    // Functions have no redis.breakpoint; scripts do.
    assert_eq!(
        s(&eval_with(
            &mut e,
            "return type(redis.breakpoint)",
            &[],
            &[],
            Protocol::Resp2
        )),
        "$8\r\nfunction\r\n"
    );
    e.flush_scripts();
    assert_eq!(fcall(&mut e, "f", &[], &[]), "$-1\r\n");
}

#[test]
fn environment_matches_redis() {
    // Recorded from Redis 7.0.15.
    let cases: &[(&str, &[u8])] = &[
        ("local n = 0 for k, v in pairs(redis) do n = n + 1 end return n", b":23\r\n"),
        ("local n = 0 for k, v in pairs(math) do n = n + 1 end return n", b":31\r\n"),
        ("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t", b"*15\r\n$4\r\nbyte\r\n$4\r\nchar\r\n$4\r\ndump\r\n$4\r\nfind\r\n$6\r\nformat\r\n$5\r\ngfind\r\n$6\r\ngmatch\r\n$4\r\ngsub\r\n$3\r\nlen\r\n$5\r\nlower\r\n$5\r\nmatch\r\n$3\r\nrep\r\n$7\r\nreverse\r\n$3\r\nsub\r\n$5\r\nupper\r\n"),
        ("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t", b"*35\r\n$4\r\nARGV\r\n$4\r\nKEYS\r\n$2\r\n_G\r\n$8\r\n_VERSION\r\n$21\r\n__redis__err__handler\r\n$6\r\nassert\r\n$3\r\nbit\r\n$5\r\ncjson\r\n$8\r\ncmsgpack\r\n$14\r\ncollectgarbage\r\n$9\r\ncoroutine\r\n$5\r\nerror\r\n$6\r\ngcinfo\r\n$12\r\ngetmetatable\r\n$6\r\nipairs\r\n$4\r\nload\r\n$10\r\nloadstring\r\n$4\r\nmath\r\n$4\r\nnext\r\n$5\r\npairs\r\n$5\r\npcall\r\n$8\r\nrawequal\r\n$6\r\nrawget\r\n$6\r\nrawset\r\n$5\r\nredis\r\n$6\r\nselect\r\n$12\r\nsetmetatable\r\n$6\r\nstring\r\n$6\r\nstruct\r\n$5\r\ntable\r\n$8\r\ntonumber\r\n$8\r\ntostring\r\n$4\r\ntype\r\n$6\r\nunpack\r\n$6\r\nxpcall\r\n"),
        ("local t = {} for k in pairs(cjson) do t[#t+1] = k end table.sort(t) return t", b"*13\r\n$5\r\n_NAME\r\n$8\r\n_VERSION\r\n$6\r\ndecode\r\n$22\r\ndecode_invalid_numbers\r\n$16\r\ndecode_max_depth\r\n$6\r\nencode\r\n$22\r\nencode_invalid_numbers\r\n$18\r\nencode_keep_buffer\r\n$16\r\nencode_max_depth\r\n$23\r\nencode_number_precision\r\n$19\r\nencode_sparse_array\r\n$3\r\nnew\r\n$4\r\nnull\r\n"),
        ("local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t", b"*9\r\n$6\r\nconcat\r\n$7\r\nforeach\r\n$8\r\nforeachi\r\n$4\r\ngetn\r\n$6\r\ninsert\r\n$4\r\nmaxn\r\n$6\r\nremove\r\n$4\r\nsetn\r\n$4\r\nsort\r\n"),
        ("return next(bit) ~= nil", b":1\r\n"),
        ("return rawget(math, 'floor') == math.floor", b":1\r\n"),
        ("return type(getmetatable(math))", b"$3\r\nnil\r\n"),
        ("return type(getmetatable(_G))", b"$5\r\ntable\r\n"),
        ("return type(getmetatable(_G).__index)", b"$8\r\nfunction\r\n"),
        ("getmetatable(_G).__index = nil", b"-ERR user_script:1: Attempt to modify a readonly table script: 1ec4f48ee3d02bfee5da8ba9aeab8a503d3032f1, on @user_script:1.\r\n"),
        ("local t = {} table.insert(t, 1) table.insert(t, 1, 0) return t", b"*2\r\n:0\r\n:1\r\n"),
        ("table.insert({}, 1, 2, 3)", b"-ERR user_script:1: wrong number of arguments to 'insert' script: bc556108a0eea9b424d1918ebc52dff0f4bb3ac3, on @user_script:1.\r\n"),
        ("table.insert({}, 'x', 2)", b"-ERR user_script:1: bad argument #2 to 'insert' (number expected, got string) script: 9d82b047626c0a958fcdcd93d51a665250f84f51, on @user_script:1.\r\n"),
        ("table.insert(1, 2)", b"-ERR user_script:1: bad argument #1 to 'insert' (table expected, got number) script: 3293ec04c78463003cc1a0cb7763f151bf2caa50, on @user_script:1.\r\n"),
        ("return setmetatable({}, {__index = function() return 5 end}).x", b":5\r\n"),
        ("setmetatable({}, 1)", b"-ERR user_script:1: bad argument #2 to 'setmetatable' (nil or table expected) script: 776d36312459124e28579bc808b73b75f7c90f53, on @user_script:1.\r\n"),
        ("setmetatable(setmetatable({}, {__metatable = 1}), {})", b"-ERR user_script:1: cannot change a protected metatable script: 184b6cc12ad287ece5356fd54b04d1d60b9a64a3, on @user_script:1.\r\n"),
        ("rawset({}, 1)", b"-ERR user_script:1: bad argument #3 to 'rawset' (value expected) script: 6b4f029d043730f4844e516c10df0b262d48a943, on @user_script:1.\r\n"),
        ("rawset(math, 'x', 1)", b"-ERR Attempt to modify a readonly table script: 9089e2f3beae548aa4b292e84b97090dc1834c43, on @user_script:1.\r\n"),
        ("return rawget(_G, 'KEYS') ~= nil", b":1\r\n"),
        ("return ('abc'):upper()", b"$3\r\nABC\r\n"),
        ("return string.format('%5.2f|%d|%s|%q', 3.14159, 42, 'x', 'a\\nb')", b"$17\r\n 3.14|42|x|\"a\\\nb\"\r\n"),
        ("return tostring(1e15) .. ' ' .. tostring(1e16) .. ' ' .. tostring(0.1) .. ' ' .. tostring(-0)", b"$18\r\n1e+15 1e+16 0.1 -0\r\n"),
        ("return _VERSION", b"$7\r\nLua 5.1\r\n"),
        ("return type(coroutine.create)", b"$8\r\nfunction\r\n"),
        ("return type(newproxy)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'newproxy' script: 2db8cbf73e97a4b7d8d1a7ce472bf57302f0f369, on @user_script:1.\r\n"),
        ("return type(gcinfo())", b"$6\r\nnumber\r\n"),
        ("return loadstring('return 1+1')()", b":2\r\n"),
        ("return select('#', unpack({1,2,3}))", b":3\r\n"),
        ("return type(os)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: 88bfcb2247db0b6fa4925f3cddc3fd0651459f99, on @user_script:1.\r\n"),
        ("return type(io)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'io' script: 918bbded8bab006be53c3db116d9c93508fc799a, on @user_script:1.\r\n"),
        ("return type(require)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'require' script: a10ff9bcfafac54cee41502b0e65e31ab05862c3, on @user_script:1.\r\n"),
        ("return type(module)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'module' script: ec1c6cc4fb3e3178e6b741a3338324a32a935d97, on @user_script:1.\r\n"),
        ("return type(package)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'package' script: 9d2e094dbe8b2fe1613bf6e8e2abe7b98d1569b8, on @user_script:1.\r\n"),
        ("return type(debug)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'debug' script: 21bcbd6f0f3639ee18732cb6907e65a4859b9625, on @user_script:1.\r\n"),
        ("return type(dofile)", b"-ERR user_script:1: Script attempted to access nonexistent global variable 'dofile' script: f14b399205539f5db37113032a1a25c72b8c6743, on @user_script:1.\r\n"),
        ("return type(collectgarbage)", b"$8\r\nfunction\r\n"),
        ("return tostring(tonumber('0x10'))", b"$2\r\n16\r\n"),
        ("return math.floor(-3.5) .. ' ' .. math.huge", b"$6\r\n-4 inf\r\n"),
        ("local ok, err = pcall(function() error({err='X'}) end) return {tostring(ok), err}", b"*2\r\n$5\r\nfalse\r\n$1\r\nX\r\n"),
        ("local ok, err = pcall(function() error({foo='X'}) end) return {tostring(ok), type(err)}", b"*2\r\n$5\r\nfalse\r\n$5\r\ntable\r\n"),
        ("local ok, err = pcall(function() error('plain') end) return {tostring(ok), err}", b"*2\r\n$5\r\nfalse\r\n$20\r\nuser_script:1: plain\r\n"),
        ("return {xpcall(function() error('e') end, function(m) return 'handled: ' .. m end)}", b"*2\r\n$-1\r\n$25\r\nhandled: user_script:1: e\r\n"),
        ("return {pcall(redis.call, 'ping', {})}", b"*2\r\n$-1\r\n$63\r\nERR Lua redis lib command arguments must be strings or integers\r\n"),
        ("return redis.pcall('ping', nil)", b"-ERR Lua redis lib command arguments must be strings or integers\r\n"),
        ("return redis.call('echo', 12345678901234567890)", b"$22\r\n1.2345678901234567e+19\r\n"),
        ("return redis.call('echo', -0.0)", b"$2\r\n-0\r\n"),
        ("return redis.call('echo', 1/0)", b"$3\r\ninf\r\n"),
        ("return redis.call('echo', 2^53)", b"$16\r\n9007199254740992\r\n"),
        ("return {err='bad\\r\\nline'}", b"-bad  line\r\n"),
        ("return {ok='a\\0b'}", b"+a\r\n"),
        ("return {err='a\\0b'}", b"-a\r\n"),
        ("return {1, {err='x'}, {ok='y'}}", b"*3\r\n:1\r\n-x\r\n+y\r\n"),
        ("return {double=0/0}", b"$4\r\n-nan\r\n"),
        ("return {double='x'}", b"*0\r\n"),
        ("return {double=1e300}", b"$23\r\n1.0000000000000001e+300\r\n"),
        ("return {big_number='1\\r\\n2'}", b"$4\r\n1  2\r\n"),
        ("return {verbatim_string={format='markdown', string='x'}}", b"$1\r\nx\r\n"),
        ("return {verbatim_string={format='', string='x'}}", b"$1\r\nx\r\n"),
        ("return {verbatim_string={string='x'}}", b"*0\r\n"),
        ("return {map={}}", b"*0\r\n"),
        ("return {set={}}", b"*0\r\n"),
        ("return {map={[1]=true, x={1,2}}}", b"*4\r\n:1\r\n:1\r\n$1\r\nx\r\n*2\r\n:1\r\n:2\r\n"),
        ("return {ok=1}", b"*0\r\n"),
        ("return 2^63", b":-9223372036854775808\r\n"),
        ("return -2^63", b":-9223372036854775808\r\n"),
        ("return 0/0", b":-9223372036854775808\r\n"),
        ("return 1/0", b":-9223372036854775808\r\n"),
        ("return {false, true, 1}", b"*3\r\n$-1\r\n:1\r\n:1\r\n"),
        ("return coroutine.wrap(function() return 5 end)()", b":5\r\n"),
        ("local s = 0 for i = 1, 1000000 do s = s + i end return s", b":500000500000\r\n"),
        ("return string.rep('ab', 3, ',')", b"$6\r\nababab\r\n"),
        ("return #string.rep('a', 1000000)", b":1000000\r\n"),
        ("redis.log(redis.LOG_WARNING, 'from', 'a', 'script', 1, {}) return 1", b":1\r\n"),
        ("return redis.setresp(2)", b"$-1\r\n"),
        ("return {redis.setresp(3), redis.call('ping')}", b"*0\r\n"),
        ("error()", b"-ERR nil script: aca90d914519fdb9825352bdc0befb59f7c8510f, on @user_script:1.\r\n"),
        ("local t = setmetatable({}, {__index = function(t, k) error('idx') end}) return t.x", b"-ERR user_script:1: idx script: d3e7bc303035d176a344ccb681da86211723e194, on @user_script:1.\r\n"),
        ("return tostring(redis.call == redis.pcall)", b"$5\r\nfalse\r\n"),
        ("return redis.call('ECHO', 'x')", b"$1\r\nx\r\n"),
        ("return math.max(1, 2, 3) + math.min(4, 5)", b":7\r\n"),
        ("return tostring(math.pi)", b"$15\r\n3.1415926535898\r\n"),
        ("return tostring(2^0.5)", b"$15\r\n1.4142135623731\r\n"),
        ("return string.byte('A') + #'hello'", b":70\r\n"),
        ("return table.concat({1, 2, 'x'}, '-')", b"$5\r\n1-2-x\r\n"),
        ("return string.find('hello world', 'o w')", b":5\r\n"),
        ("return {string.gsub('hello', 'l', 'L')}", b"*2\r\n$5\r\nheLLo\r\n:2\r\n"),
        ("return string.sub('hello', -3)", b"$3\r\nllo\r\n"),
        ("return string.len(string.char(0, 1, 2))", b":3\r\n"),
        ("return math.fmod(7, 3) + math.abs(-2)", b":3\r\n"),
        ("return tostring(math.log(8, 2))", b"$15\r\n2.0794415416798\r\n"),
        ("return tostring(math.log10(1000))", b"$1\r\n3\r\n"),
        ("return tostring(tonumber('  12  '))", b"$2\r\n12\r\n"),
        ("return tonumber('1e2')", b":100\r\n"),
    ];
    let mut failures = Vec::new();
    let mut engine = Engine::new();
    for (body, expected) in cases {
        let got = eval_with(&mut engine, body, &[], &[], Protocol::Resp2);
        if got != *expected {
            failures.push(format!(
                "{body}\n  got:      {:?}\n  expected: {:?}",
                s(&got),
                s(expected)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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

#[test]
fn function_load_times_out() {
    // Recorded from Redis 7.0.15, after its 500 ms.
    let mut e = Engine::new();
    assert_eq!(
        load(&mut e, "#!lua name=loop\nwhile true do end"),
        "-ERR Error registering functions: ERR FUNCTION LOAD timeout"
    );
    // The state is usable afterwards (the hook is gone).
    assert_eq!(
        load(
            &mut e,
            "#!lua name=ok\nredis.register_function('f', function() local i = 0 while i < 300000 do i = i + 1 end return i end)"
        ),
        "$ok"
    );
    assert_eq!(fcall(&mut e, "f", &[], &[]), ":300000\r\n");
}

#[test]
fn function_flags_and_descriptions() {
    // As FUNCTION LIST showed them on Redis 7.0.15.
    let mut e = Engine::new();
    let code = "#!lua name=loop2\nlocal f = function() end\nredis.log(redis.LOG_WARNING, 'x')\n\
                redis.register_function('x1', f)\n\
                redis.register_function{function_name='x2', callback=f, description='d', flags={'allow-oom', 'NO-WRITES'}}";
    assert_eq!(load(&mut e, code), "$loop2");
    let (library, x1) = e.function(b"x1").unwrap();
    assert_eq!(
        (library.name.as_slice(), library.engine),
        (&b"loop2"[..], "LUA")
    );
    assert_eq!(x1.description, None);
    assert!(x1.flags.names().is_empty());
    let (_, x2) = e.function(b"x2").unwrap();
    assert_eq!(x2.description.as_deref(), Some(&b"d"[..]));
    assert_eq!(x2.flags.names(), ["no-writes", "allow-oom"]);
}
