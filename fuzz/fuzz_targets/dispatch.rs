//! Arbitrary commands against a live store: whatever the arguments, a
//! command replies (a value or an error) and never panics. The first byte
//! picks a real command so the fuzzer spends its time inside handlers rather
//! than on unknown names; the rest is split into arguments at 0xFF bytes.
//! `dispatch.dict` offers the keywords and ids of the stream commands.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sedis::Config;
use sedis::internals::commands::{self, flags, registry};
use sedis::internals::log::{LogLevel, Logger};
use sedis::internals::resp::{Protocol, ReplyWriter};
use sedis::internals::state::State;
use sedis::internals::net::listener::{Binding, Listeners};
use sedis::internals::state::session::Session;

struct World {
    state: State,
    names: Vec<&'static [u8]>,
}

// Counted memory, so the world's maxmemory keeps what the inputs build up
// over a long run (every input writes into the same store) bounded.
#[global_allocator]
static ALLOC: sedis::alloc::CountingAllocator = sedis::alloc::CountingAllocator;

/// Blocking commands that block only when asked to (BLOCK ms).
const BLOCK_OPTIONAL: &[&str] = &["xread", "xreadgroup"];

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let config = Config {
            maxmemory: 256 << 20,
            maxmemory_policy: sedis::config::Policy::AllKeysRandom,
            ..Config::default()
        };
        let log = Logger::new(LogLevel::Nothing, "").expect("log");
        let binding = Binding {
            addresses: vec!["127.0.0.1".into()],
            port: 0,
            backlog: 16,
        };
        let listeners = Listeners::bind(&binding, &log).expect("listen");
        let state = State::new(config, listeners, log, registry().len());
        // Commands that would stall or stop the fuzzer are left out; the
        // stream reads stay, their BLOCK option taken out below.
        let names = registry()
            .top_level()
            .map(|(_, e)| e.command)
            .filter(|c| {
                (!c.has(flags::BLOCKING) || BLOCK_OPTIONAL.contains(&c.name))
                    // MIGRATE would wait on connections for as long as
                    // its timeout says, WAIT for replicas that never come.
                    // SYNC and PSYNC hand the connection over to a full
                    // sync (the worker answers, not the command), and
                    // REPLICAOF would make the shared server a replica.
                    && !matches!(
                        c.name,
                        "debug" | "shutdown" | "quit" | "pfselftest" | "migrate" | "wait"
                            | "sync" | "psync" | "replicaof" | "slaveof"
                    )
            })
            .map(|c| c.name.as_bytes())
            .collect();
        World { state, names }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let w = world();
    let mut args: Vec<Vec<u8>> = vec![w.names[pick as usize % w.names.len()].to_vec()];
    args.extend(rest.split(|&b| b == 0xFF).map(<[u8]>::to_vec));
    if BLOCK_OPTIONAL.iter().any(|n| n.as_bytes() == args[0].as_slice()) {
        // A session without a socket cannot wait: BLOCK and its value go.
        while let Some(at) = args.iter().position(|a| a.eq_ignore_ascii_case(b"block")) {
            args.drain(at..(at + 2).min(args.len()));
        }
    }
    // A session with no socket, as the AOF loader replays through: nothing
    // to register or unregister.
    let mut client = Session::new(&w.state, w.state.sessions.internal());
    client.db = (pick as usize >> 4) % 2;
    let mut out = ReplyWriter::new(if pick & 1 == 0 {
        Protocol::Resp2
    } else {
        Protocol::Resp3
    });
    commands::process(&w.state, &mut client, &mut out, &args);
    // Every command answers with at least one well-formed reply.
    let reply = out.buffer();
    // REPLCONF ACK and GETACK are never answered, as in Redis.
    let unanswered = args[0] == b"replconf"
        && args
            .get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"ack") || a.eq_ignore_ascii_case(b"getack"));
    assert!(
        !reply.is_empty() || client.multi.is_some() || unanswered,
        "no reply to {args:?}"
    );
    if !reply.is_empty() {
        assert!(
            sedis::Frame::parse(reply)
                .expect("valid RESP")
                .is_some()
        );
    }
    // The session ends here, as a closed connection's does: a subscription
    // would otherwise keep its wake-up pipe open for the rest of the run.
    w.state.pubsub.unsubscribe_all(&mut client.pubsub, None);
});
