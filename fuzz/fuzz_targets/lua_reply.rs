//! Lua values to replies and replies to Lua values: the bytes describe a
//! Lua value (nested tables, the special `{ok=}`, `{err=}`, `{map=}`,
//! `{set=}`, `{double=}`, `{big_number=}`, `{verbatim_string=}` forms,
//! cycles, holes) that a script returns, and a RESP reply that its
//! `redis.pcall` receives. Whatever they are, the engine answers a reply
//! that writes in RESP2 and RESP3, and never panics.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use sedis::Frame;
use sedis::internals::log::{LogLevel, Logger};
use sedis::internals::resp::{Protocol, ReplyWriter};
use sedis::internals::scripting::{Caller, Engine, Invocation, write_frame};

struct Replies {
    reply: Frame,
    logger: Logger,
}

impl Caller for Replies {
    fn call(&mut self, _argv: &[Vec<u8>], _resp: u8, _wrote: &mut bool) -> Frame {
        self.reply.clone()
    }

    fn logger(&self) -> &Logger {
        &self.logger
    }
}

/// A Lua expression for a value, read from the bytes.
fn value(data: &mut &[u8], depth: usize, out: &mut String) {
    let Some((&op, rest)) = data.split_first() else {
        out.push_str("nil");
        return;
    };
    *data = rest;
    let depth = depth + 1;
    let mut take = |n: usize| {
        let n = n.min(data.len());
        let (head, tail) = data.split_at(n);
        *data = tail;
        head.to_vec()
    };
    match op % 16 {
        0 => out.push_str("nil"),
        1 => out.push_str("true"),
        2 => out.push_str("false"),
        3 => {
            let b = take(8);
            let mut bits = [0u8; 8];
            bits[..b.len()].copy_from_slice(&b);
            let n = f64::from_le_bytes(bits);
            if n.is_finite() {
                out.push_str(&format!("({n:e})"));
            } else {
                out.push_str("(0/0)");
            }
        }
        4 => out.push_str(&format!("{}", i64::from(op as i8) * 1000)),
        5 => {
            let s = take(usize::from(op >> 4));
            out.push('"');
            for b in s {
                out.push_str(&format!("\\{b}"));
            }
            out.push('"');
        }
        6 | 7 if depth < 8 => {
            out.push('{');
            for _ in 0..(op >> 5) {
                value(data, depth, out);
                out.push(',');
            }
            out.push('}');
        }
        8 if depth < 8 => {
            let field = [
                "ok",
                "err",
                "double",
                "big_number",
                "map",
                "set",
                "verbatim_string",
            ][usize::from(op >> 4) % 7];
            out.push_str(&format!("{{{field}="));
            value(data, depth, out);
            out.push('}');
        }
        9 if depth < 8 => {
            out.push_str("{[");
            value(data, depth, out);
            out.push_str("] = ");
            value(data, depth, out);
            out.push('}');
        }
        // One self-reference: a reply 8,000 levels deep, as in Redis. (Two
        // would double at every level: the engine's size limit stops that,
        // but only after millions of values.)
        10 => out.push_str("cyclic"),
        11 => out.push_str("reply"),
        12 => out.push_str("cjson.null"),
        13 => out.push_str("{format='txt', string='x'}"),
        _ => out.push_str(&format!("{}", op >> 4)),
    }
}

fn engine() -> &'static Mutex<Engine> {
    static ENGINE: OnceLock<Mutex<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| Mutex::new(Engine::new()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(split).min(rest.len());
    let (mut lua, resp) = rest.split_at(cut);
    let reply = match Frame::parse(resp) {
        Ok(Some((frame, _))) => frame,
        _ => Frame::Null,
    };
    let mut expression = String::new();
    value(&mut lua, 0, &mut expression);
    let setresp = if split & 1 == 1 {
        "redis.setresp(3) "
    } else {
        ""
    };
    let body = format!(
        "{setresp}local cyclic = {{}} cyclic[1] = cyclic \
         local reply = redis.pcall('x') return {expression}"
    );
    let mut engine = engine().lock().unwrap_or_else(|e| e.into_inner());
    if engine.script_count() > 1000 {
        engine.flush_scripts();
    }
    let Ok(sha) = engine.load_script(body.as_bytes()) else {
        return;
    };
    let mut caller = Replies {
        reply,
        logger: Logger::new(LogLevel::Nothing, "").unwrap(),
    };
    let run = Invocation {
        keys: &[],
        args: &[],
        caller: &mut caller,
        now_ms: 0,
        from_master: false,
    };
    let reply = engine
        .run_script(sha.as_bytes(), run)
        .expect("the script is cached");
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let mut out = ReplyWriter::new(protocol);
        write_frame(&reply.frame, &mut out);
        assert!(!out.buffer().is_empty());
    }
});
