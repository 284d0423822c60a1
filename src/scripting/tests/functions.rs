//! FUNCTION libraries end to end: loading, registering, calling, errors
//! (each expected value recorded from Redis 7.0.15).

use super::*;
use Step::{Fcall, Load};

fn load(engine: &mut Engine, code: &str) -> String {
    let logger = Logger::new(LogLevel::Nothing, "").unwrap();
    match engine.load_library(code.as_bytes(), false, &logger) {
        Ok(name) => format!("${}", s(&name)),
        Err(e) => format!("-{}", e.text()),
    }
}

fn fcall(engine: &mut Engine, name: &str, keys: &[&str], args: &[&str]) -> String {
    let reply = call_with(keys, args, Protocol::Resp2, |run| {
        engine.call_function(name.as_bytes(), run)
    });
    s(&reply)
}

/// One step of a session on one engine: FUNCTION LOAD of a library, or
/// FCALL of a function with keys and arguments.
enum Step<'a> {
    Load(&'a str),
    Fcall(&'a str, &'a [&'a str], &'a [&'a str]),
}

/// Runs `steps` in order on `engine`, each with its expected answer
/// (`$name` or `-error` for a load, the reply for a call).
fn run_steps(engine: &mut Engine, steps: &[(Step, &str)]) {
    for (step, expected) in steps {
        let (what, got) = match *step {
            Step::Load(code) => (code, load(engine, code)),
            Step::Fcall(name, keys, args) => (name, fcall(engine, name, keys, args)),
        };
        assert_eq!(got, *expected, "{what}");
    }
}

#[test]
fn function_libraries() {
    // Each expected value recorded from Redis 7.0.15 (FUNCTION LOAD, FCALL).
    let mut e = Engine::new();
    run_steps(
        &mut e,
        &[
            (Load("#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys[1], args[1], a} end)"), "$lib1"),
            (Fcall("f1", &["k"], &["v"]), "-ERR user_function:2: Script attempted to access nonexistent global variable 'a' script: f1, on @user_function:2.\r\n"),
            (Load("#!lua name=lib2\nx = 1"), "-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
            (Load("#!lua name=lib3\nreturn redis.call('ping')"), "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
            (Load("#!lua name=lib4\nredis.register_function{function_name='f4', callback=function() error('boom') end, flags={'no-writes','bad'}}"), "-ERR Error registering functions: ERR unknown flag given"),
            (Load("#!lua name=lib4\nredis.register_function{function_name='f4', callback=function() error('boom') end, flags={'no-writes'}}"), "$lib4"),
        ],
    );
    assert!(e.function(b"f4").unwrap().1.flags.no_writes);
    run_steps(
        &mut e,
        &[
            (Fcall("f4", &[], &[]), "-ERR user_function:2: boom script: f4, on @user_function:2.\r\n"),
            (Load("#!lua name=lib5\nlocal function f() return math.x end\nredis.register_function('f5', f)\nredis.register_function('f6', function() y = 1 end)\nredis.register_function('f7', function() return redis.call('set','a','b') end)"), "$lib5"),
            (Fcall("f5", &[], &[]), "$-1\r\n"),
            (Fcall("f6", &[], &[]), "-ERR user_function:4: Attempt to modify a readonly table script: f6, on @user_function:4.\r\n"),
            (Fcall("f7", &[], &[]), "+OK\r\n"),
        ],
    );
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
    run_steps(
        &mut e,
        &[
            (Load("#!lua name=lib6"), "-ERR Invalid library metadata"),
            (Load("#!lua name=lib6 foo=bar\nlocal a = 1"), "-ERR Invalid metadata value given: foo=bar"),
            (Load("#!lu name=lib6\nlocal a = 1"), "-ERR Engine 'lu' not found"),
            (Load("#!lua\nlocal a = 1"), "-ERR Library name was not given"),
            (Load("local a = 1"), "-ERR Missing library metadata"),
            (Load("#!lua name=l-b\nlocal a = 1"), "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
            (Load("#!lua name=lib1\nredis.register_function('g', function() end)"), "-ERR Library 'lib1' already exists"),
            (Load("#!lua name=lib8\nredis.register_function('f11', function() return redis.register_function end)"), "$lib8"),
            (Fcall("f11", &[], &[]), "$-1\r\n"),
            (Fcall("nosuch", &[], &[]), "-ERR Function not found\r\n"),
        ],
    );

    // REPLACE swaps the library's functions; DELETE and FLUSH remove them.
    let logger = Logger::new(LogLevel::Nothing, "").unwrap();
    let code = b"#!lua name=lib1\nredis.register_function('g1', function(k, a) return #k + #a end)";
    assert_eq!(e.load_library(code, true, &logger).unwrap(), b"lib1");
    run_steps(
        &mut e,
        &[
            (Fcall("f1", &[], &[]), "-ERR Function not found\r\n"),
            (Fcall("g1", &["a"], &["b", "c"]), ":3\r\n"),
        ],
    );
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
        s(&eval_in(&mut e, "return type(redis.breakpoint)")),
        "$8\r\nfunction\r\n"
    );
    e.flush_scripts();
    assert_eq!(fcall(&mut e, "f", &[], &[]), "$-1\r\n");
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
    run_steps(
        &mut e,
        &[
            (Load("#!lua name=ok\nredis.register_function('f', function() local i = 0 while i < 300000 do i = i + 1 end return i end)"), "$ok"),
            (Fcall("f", &[], &[]), ":300000\r\n"),
        ],
    );
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
