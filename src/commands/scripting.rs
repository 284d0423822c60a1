//! Scripting commands (Redis's `eval.c`, `functions.c` and `script.c`):
//! EVAL, EVALSHA and their `_RO` forms, SCRIPT, FUNCTION, FCALL and
//! FCALL_RO. The engine ([`crate::scripting`]) runs the Lua; this module
//! decides whether a script may run, runs the commands it calls (the
//! engine's [`Caller`]), and logs what the script changed.
//!
//! # A script runs alone
//!
//! The dispatcher gives a command flagged [`RUNS_SCRIPT`] the keyspace
//! gate exclusively (see [`crate::store::gate`]): every other command,
//! and the reaper, waits until the script ends, in every database. Each
//! command the script calls locks its shards on top of the script's own
//! lock set ([`LockSet::lock_more`](crate::store::LockSet::lock_more)),
//! which keeps them to the end; with no other command running nothing
//! contends for them. Blocked clients a script's pushes wake are served
//! after the script, as after any command. Past `busy-reply-threshold`
//! the waiting commands are answered BUSY instead (the dispatcher's
//! `pass_gate`), and SCRIPT KILL, FUNCTION KILL and SHUTDOWN NOSAVE run.
//!
//! # What reaches the append-only file
//!
//! The commands the script ran, not the script (Redis 7's effects
//! replication): collected like a transaction's, and written as one
//! MULTI ... EXEC block when there are several.

use crate::error::{self, CommandError, CommandResult};
use crate::resp::{Frame, Protocol, ReplyWriter};
use crate::scripting::{Caller, Engine, Invocation, ScriptFlags};
use crate::state::RunningScript;
use crate::store::LockPlan;

use super::table::{Command, KeySpecInfo, Locks, flags::*};
use super::{Ctx, args, lock_plan, registry, run};

/// `redis.REPL_AOF`: the `redis.set_repl` bit that keeps a script's
/// commands going to the append-only file.
const REPL_AOF: u8 = 1;

// ---- EVAL, EVALSHA -------------------------------------------------------------

/// `EVAL script numkeys [key ...] [arg ...]`
fn eval(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    eval_generic(ctx, args, false, false)
}

/// `EVALSHA sha1 numkeys [key ...] [arg ...]`
fn evalsha(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    eval_generic(ctx, args, true, false)
}

/// `EVAL_RO script numkeys [key ...] [arg ...]`
fn eval_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    eval_generic(ctx, args, false, true)
}

/// `EVALSHA_RO sha1 numkeys [key ...] [arg ...]`
fn evalsha_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    eval_generic(ctx, args, true, true)
}

/// Redis's `evalGenericCommand`: the key count, then the script (compiled
/// into the cache for EVAL, looked up for EVALSHA), then the checks its
/// flags ask for, then the run.
fn eval_generic(ctx: &mut Ctx, args: &[Vec<u8>], by_sha: bool, ro: bool) -> CommandResult {
    // Fed before the script runs, so that its commands follow it.
    super::observe::feed_monitors(ctx, args);
    // No SHA-1 has another length: refused before the key count is read.
    if by_sha && args[1].len() != 40 {
        return Err(crate::scripting::NOSCRIPT);
    }
    let numkeys = key_count(args, error::NOT_INTEGER)?;
    let state = ctx.state;
    let mut engine = state.scripts.lock();
    // EVALSHA finds the script in any case; EVAL compiles it first.
    let sha = if by_sha {
        args[1].clone()
    } else {
        engine.load_script(&args[1])?.into_bytes()
    };
    let flags = engine.script(&sha).ok_or(crate::scripting::NOSCRIPT)?.flags;
    prepare(ctx, &flags, ro)?;
    let run = Run {
        function: None,
        flags,
        ro,
        numkeys,
    };
    run_code(ctx, &mut engine, &run, args, |engine, invocation| {
        engine.run_script(&sha, invocation)
    })
}

/// The `numkeys` argument, checked against the arguments that follow it
/// (`not_integer` is what a non-number gets: EVAL and FCALL word it
/// differently).
fn key_count(args: &[Vec<u8>], not_integer: CommandError) -> CommandResult<usize> {
    let numkeys = args::int_or(&args[2], not_integer)?;
    if numkeys > (args.len() - 3) as i64 {
        return Err(CommandError::canned(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CommandError::canned("ERR Number of keys can't be negative"));
    }
    Ok(numkeys as usize)
}

/// Redis's `scriptPrepareForRun` checks: a script that declared flags
/// and may write is refused while saving fails and by the `_RO` commands;
/// one that may write without `allow-oom` is refused over `maxmemory`.
/// Scripts without a shebang find out at their first write instead.
fn prepare(ctx: &mut Ctx, flags: &ScriptFlags, ro: bool) -> CommandResult {
    if flags.eval_compat_mode {
        return Ok(());
    }
    if !flags.no_writes {
        if let Some(refusal) = crate::state::saving::writes_refused(ctx.state) {
            return Err(script_misconf(&refusal));
        }
        if ro {
            return Err(CommandError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
    }
    if ctx.client.pre_command_oom && !flags.allow_oom && !flags.no_writes {
        return Err(CommandError::canned(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
        ));
    }
    Ok(())
}

/// The MISCONF a script that may write gets, for the persistence failure
/// `refusal` reports.
fn script_misconf(refusal: &CommandError) -> CommandError {
    let text = String::from_utf8_lossy(refusal.bytes()).into_owned();
    match text.strip_prefix("MISCONF Errors writing to the AOF file: ") {
        Some(cause) => CommandError::with_code(
            "MISCONF",
            format_args!(
                "Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {cause}"
            ),
        ),
        None => CommandError::canned(
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.",
        ),
    }
}

/// One run of a script or function, as the caller and FUNCTION STATS see
/// it.
struct Run {
    /// The function's name for FCALL (FUNCTION STATS shows the running
    /// function; it answers BUSY for a script, so EVAL records nothing).
    function: Option<Vec<u8>>,
    flags: ScriptFlags,
    /// Called by a `_RO` command.
    ro: bool,
    numkeys: usize,
}

/// Runs the code `start` starts, with KEYS and ARGV from `args`, then
/// logs its effects and writes its reply.
fn run_code(
    ctx: &mut Ctx,
    engine: &mut Engine,
    run: &Run,
    args: &[Vec<u8>],
    start: impl FnOnce(&mut Engine, Invocation<'_>) -> CommandResult<crate::scripting::Reply>,
) -> CommandResult {
    let state = ctx.state;
    let (keys, argv) = args[3..].split_at(run.numkeys);
    let compat = run.flags.eval_compat_mode;
    if let Some(name) = &run.function {
        *state.running_script.lock() = Some(RunningScript {
            name: name.clone(),
            command: args.to_vec(),
            started_ms: ctx.now_ms,
            libraries: engine.libraries().count(),
            functions: engine.libraries().map(|l| l.functions.len()).sum(),
        });
    }
    // A script's commands never block, as inside a transaction, and their
    // effects are collected like a transaction's.
    let nested = ctx.client.in_exec;
    let nested_script = ctx.client.in_script;
    ctx.client.in_exec = true;
    ctx.client.in_script = true;
    let caller_db = ctx.client.db;
    // A tracking caller remembers the script's keys when the script reads.
    let outer_keys = ctx
        .client
        .tracking
        .on
        .then(|| std::mem::replace(&mut ctx.client.tracking.script_keys, keys.to_vec()));
    let mut caller = ScriptCaller {
        read_only: run.ro || (!compat && run.flags.no_writes),
        allow_oom: !compat && run.flags.allow_oom,
        wrote: false,
        repl: REPL_AOF | 2,
        ctx: &mut *ctx,
    };
    let invocation = Invocation {
        keys,
        args: argv,
        now_ms: caller.ctx.now_ms as u64,
        from_master: false,
        caller: &mut caller,
    };
    crate::state::tracking::set_in_script(true);
    let result = start(engine, invocation);
    crate::state::tracking::set_in_script(nested_script);
    if run.function.is_some() {
        *state.running_script.lock() = None;
    }
    // SELECT inside a script moves the script, not its caller.
    ctx.client.db = caller_db;
    if let Some(outer) = outer_keys {
        ctx.client.tracking.script_keys = outer;
    }
    ctx.client.in_exec = nested;
    ctx.client.in_script = nested_script;
    if !nested {
        log_effects(ctx);
    }
    // The script's commands were logged; EVAL itself never is.
    ctx.propagate_as(Vec::new());
    let reply = result?;
    for line in reply.uncounted_errors {
        state.stats.count_error(&CommandError::from_bytes(line));
    }
    crate::scripting::write_frame(&reply.frame, ctx.out);
    Ok(())
}

/// Writes the commands a script ran to the append-only file: one as it
/// is, several as one MULTI ... EXEC block (Redis's `propagatePendingCommands`).
fn log_effects(ctx: &mut Ctx) {
    let collected = std::mem::take(&mut ctx.client.exec_log);
    match collected.len() {
        0 => {}
        1 => super::log_block(ctx, &collected, false),
        _ => super::log_block(ctx, &collected, true),
    }
}

/// The engine's way into the command layer while a script runs: each
/// `redis.call` comes here (Redis's `scriptCall`).
struct ScriptCaller<'x, 'c, 'k> {
    ctx: &'x mut Ctx<'c, 'k>,
    /// `_RO` command or `no-writes` script: writes are refused.
    read_only: bool,
    allow_oom: bool,
    /// A write command ran: later writes are no longer refused for the
    /// server's state (the script cannot stop half-way).
    wrote: bool,
    /// `redis.set_repl` flags: without the AOF bit, what runs is not logged.
    repl: u8,
}

impl ScriptCaller<'_, '_, '_> {
    /// Redis's checks before a script's command runs, in its order.
    fn admit(
        &mut self,
        argv: &[Vec<u8>],
    ) -> Result<super::Resolved, (Option<usize>, CommandError)> {
        let state = self.ctx.state;
        let Ok(resolved) = registry().resolve_renamed(argv, &state.renames) else {
            return Err((
                None,
                CommandError::err("Unknown Redis command called from script"),
            ));
        };
        let cmd = resolved.command;
        let refusal = if !cmd.arity_ok(argv.len()) {
            CommandError::err("Wrong number of args calling Redis command from script")
        } else if cmd.has(NOSCRIPT) {
            CommandError::err("This Redis command is not allowed from script")
        } else if self.read_only && cmd.has(WRITE | MAY_REPLICATE) {
            CommandError::err("Write commands are not allowed from read-only scripts.")
        } else if let Some(err) = (cmd.has(WRITE) && !self.wrote)
            .then(|| crate::state::saving::writes_refused(state))
            .flatten()
        {
            err
        } else if !self.allow_oom
            && !self.wrote
            && self.ctx.client.pre_command_oom
            && cmd.has(DENYOOM)
        {
            error::OOM
        } else {
            return Ok(resolved);
        };
        Err((Some(resolved.id), refusal))
    }
}

impl Caller for ScriptCaller<'_, '_, '_> {
    fn call(&mut self, argv: &[Vec<u8>], resp: u8, wrote: &mut bool) -> Frame {
        let state = self.ctx.state;
        let resolved = match self.admit(argv) {
            Ok(resolved) => resolved,
            Err((id, err)) => {
                if let Some(id) = id {
                    state.command_stats[id].count_rejected();
                }
                state.stats.count_error(&err);
                return Frame::Error(err.bytes().to_vec());
            }
        };
        if resolved.command.has(WRITE) {
            self.wrote = true;
            *wrote = true;
        }
        let ks = state.keyspace();
        // The client's database is the script's while it runs: a SELECT
        // it calls moves it, and the caller's is restored afterwards.
        let db = self.ctx.client.db;
        let plan = lock_plan(ks, self.ctx.client, db, resolved.command, argv);
        // Nothing else runs: the shards are free, or already the script's.
        self.ctx.locks.lock_more(&plan);
        let logged_before = self.ctx.client.exec_log.len();
        let protocol = if resp == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        let mut out = ReplyWriter::new(protocol);
        let locks = std::mem::replace(&mut self.ctx.locks, ks.lock(&LockPlan::new()));
        let mut inner = Ctx {
            state,
            client: &mut *self.ctx.client,
            out: &mut out,
            locks,
            now_ms: self.ctx.now_ms,
            dirty: 0,
            propagate: None,
        };
        if let Err(err) = run(&mut inner, &resolved, argv, crate::clock::unix_us()) {
            inner.out.error(&err);
        }
        let Ctx { locks, .. } = inner;
        self.ctx.locks = locks;
        if self.repl & REPL_AOF == 0 {
            self.ctx.client.exec_log.truncate(logged_before);
        }
        reply_frame(&out.take())
    }

    fn set_repl(&mut self, flags: u8) {
        self.repl = flags;
    }

    fn logger(&self) -> &crate::log::Logger {
        &self.ctx.state.log
    }
}

/// The reply a command wrote, as a frame for the script. Push messages
/// the command caused for its own client (keyspace events) come first and
/// are not the reply.
fn reply_frame(bytes: &[u8]) -> Frame {
    let mut at = 0;
    while let Ok(Some((frame, used))) = Frame::parse(&bytes[at..]) {
        at += used;
        if !matches!(frame, Frame::Push(_)) || at >= bytes.len() {
            return frame;
        }
    }
    Frame::Error(b"ERR the command wrote no reply".to_vec())
}

// ---- FCALL -----------------------------------------------------------------------

/// `FCALL function numkeys [key ...] [arg ...]`
fn fcall(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    fcall_generic(ctx, args, false)
}

/// `FCALL_RO function numkeys [key ...] [arg ...]`
fn fcall_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    fcall_generic(ctx, args, true)
}

/// Redis's `fcallCommandGeneric`: the function first, then the key count.
fn fcall_generic(ctx: &mut Ctx, args: &[Vec<u8>], ro: bool) -> CommandResult {
    // Fed before the function runs, so that its commands follow it.
    super::observe::feed_monitors(ctx, args);
    let state = ctx.state;
    let mut engine = state.scripts.lock();
    let Some((_, function)) = engine.function(&args[1]) else {
        return Err(CommandError::err("Function not found"));
    };
    let flags = function.flags;
    let numkeys = key_count(args, CommandError::err("Bad number of keys provided"))?;
    prepare(ctx, &flags, ro)?;
    let run = Run {
        function: Some(args[1].clone()),
        flags,
        ro,
        numkeys,
    };
    run_code(ctx, &mut engine, &run, args, |engine, invocation| {
        engine.call_function(&args[1], invocation)
    })
}

/// The flags the dispatcher checks for a command that runs a script
/// (Redis's `evalGetCommandFlags`, `fcallGetCommandFlags` and
/// `scriptFlagsToCmdFlags`): a script that declared flags replaces the
/// command's `write`, `denyoom` and `stale` with what they imply; without a
/// shebang (or not found) the command's own flags stand.
pub fn effective_flags(state: &crate::state::State, cmd: &Command, args: &[Vec<u8>]) -> u32 {
    if !cmd.has(RUNS_SCRIPT) || args.len() < 2 {
        return cmd.flags;
    }
    let engine = state.scripts.lock();
    let flags = match cmd.name {
        "fcall" | "fcall_ro" => match engine.function(&args[1]) {
            Some((_, function)) => function.flags,
            None => return cmd.flags,
        },
        "evalsha" | "evalsha_ro" => match engine.script(&args[1]) {
            Some(script) => script.flags,
            None => return cmd.flags,
        },
        _ => match engine.script(crate::digest::sha1hex(&args[1]).as_bytes()) {
            Some(script) => script.flags,
            None => match crate::scripting::flags::parse_eval_shebang(&args[1]) {
                Ok((flags, _)) => flags,
                Err(_) => return cmd.flags,
            },
        },
    };
    if flags.eval_compat_mode {
        return cmd.flags;
    }
    let mut bits = cmd.flags & !(STALE | DENYOOM | WRITE | MAY_REPLICATE);
    if !flags.allow_oom && !flags.no_writes {
        bits |= DENYOOM;
    }
    if !flags.no_writes {
        bits |= WRITE;
    }
    if flags.allow_stale {
        bits |= STALE;
    }
    bits
}

// ---- SCRIPT ------------------------------------------------------------------------

/// `SCRIPT LOAD script`
fn script_load(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let sha = ctx.state.scripts.lock().load_script(&args[2])?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

/// `SCRIPT EXISTS sha1 [sha1 ...]`
fn script_exists(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let engine = ctx.state.scripts.lock();
    ctx.out.array(args.len() - 2);
    for sha in &args[2..] {
        ctx.out.int(i64::from(engine.script(sha).is_some()));
    }
    Ok(())
}

/// `SCRIPT FLUSH [ASYNC|SYNC]`: the cache and the Lua state start afresh
/// (either way at once: a new state costs less than a thread to free the
/// old one).
fn script_flush(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    flush_mode(args, "SCRIPT FLUSH only support SYNC|ASYNC option")?;
    ctx.state.scripts.lock().flush_scripts();
    ctx.out.ok();
    Ok(())
}

/// The optional `ASYNC|SYNC` of the FLUSH subcommands.
fn flush_mode(args: &[Vec<u8>], wrong: &str) -> CommandResult {
    match args.get(2) {
        None => Ok(()),
        Some(mode) if args.len() == 3 && (args::is(mode, "sync") || args::is(mode, "async")) => {
            Ok(())
        }
        Some(_) => Err(CommandError::err(wrong)),
    }
}

/// `SCRIPT KILL`
fn script_kill(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.state.script_status.kill(true)?;
    ctx.out.ok();
    Ok(())
}

/// `SCRIPT DEBUG YES|SYNC|NO`: sedis has no Lua debugger, so only NO (the
/// state every client is in) succeeds.
fn script_debug(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mode = &args[2];
    if args::is(mode, "no") {
        ctx.out.ok();
        Ok(())
    } else if args::is(mode, "yes") || args::is(mode, "sync") {
        Err(CommandError::err(
            "SCRIPT DEBUG is not supported: sedis has no Lua debugger",
        ))
    } else {
        Err(CommandError::err("Use SCRIPT DEBUG YES/SYNC/NO"))
    }
}

help_command!(
    script_help,
    [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ]
);

/// `SCRIPT`: every call with a known subcommand is routed to it.
fn script_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("script", &args[1]))
}

// ---- FUNCTION ----------------------------------------------------------------------

/// `FUNCTION LOAD [REPLACE] function-code`
fn function_load(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut replace = false;
    let mut at = 2;
    while at < args.len() - 1 {
        if !args::is(&args[at], "replace") {
            let mut text = b"ERR Unknown option given: ".to_vec();
            text.extend_from_slice(error::c_str_prefix(&args[at], usize::MAX));
            return Err(CommandError::from_bytes(text));
        }
        replace = true;
        at += 1;
    }
    let state = ctx.state;
    let name = state
        .scripts
        .lock()
        .load_library(&args[at], replace, &state.log)?;
    ctx.dirty += 1;
    ctx.out.bulk(&name);
    Ok(())
}

/// `FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]`
fn function_list(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut at = 2;
    while at < args.len() {
        let arg = &args[at];
        if !with_code && args::is(arg, "withcode") {
            with_code = true;
        } else if pattern.is_none() && args::is(arg, "libraryname") {
            at += 1;
            let Some(name) = args.get(at) else {
                return Err(CommandError::err("library name argument was not given"));
            };
            pattern = Some(name);
        } else {
            let mut text = b"ERR Unknown argument ".to_vec();
            text.extend_from_slice(arg);
            return Err(CommandError::from_bytes(text));
        }
        at += 1;
    }
    let engine = ctx.state.scripts.lock();
    let pattern = pattern.map(|p| crate::glob::Pattern::new(p, false));
    let libraries: Vec<_> = engine
        .libraries()
        .filter(|l| pattern.as_ref().is_none_or(|p| p.matches(&l.name)))
        .collect();
    let out = &mut *ctx.out;
    out.array(libraries.len());
    for library in libraries {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(&library.name);
        out.bulk(b"engine");
        out.bulk(library.engine.as_bytes());
        out.bulk(b"functions");
        out.array(library.functions.len());
        for function in library.functions.values() {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&function.name);
            out.bulk(b"description");
            match &function.description {
                Some(text) => out.bulk(text),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names = function.flags.names();
            out.set(names.len());
            for name in names {
                out.simple(name);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&library.code);
        }
    }
    Ok(())
}

/// `FUNCTION DELETE library-name`
fn function_delete(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    ctx.state.scripts.lock().delete_library(&args[2])?;
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION FLUSH [ASYNC|SYNC]`
fn function_flush(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 3 {
        return Err(error::subcommand_syntax(&args[0], &args[1]));
    }
    flush_mode(args, "FUNCTION FLUSH only supports SYNC|ASYNC option")?;
    ctx.state.scripts.lock().flush_functions();
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION DUMP`: every library's code, in Redis's payload format.
fn function_dump(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let engine = ctx.state.scripts.lock();
    let codes: Vec<&[u8]> = engine.libraries().map(|l| l.code.as_slice()).collect();
    let compress = ctx.state.config().rdbcompression;
    ctx.out
        .bulk(&crate::persist::rdb::function_payload(&codes, compress));
    Ok(())
}

/// `FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]`: the
/// payload's libraries join the loaded ones (APPEND refuses a name
/// already taken, REPLACE replaces it) or replace them all (FLUSH); on any
/// error nothing changes.
fn function_restore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 4 {
        return Err(error::subcommand_syntax(&args[0], &args[1]));
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(word) => args::keyword(
            word,
            &[
                ("append", Policy::Append),
                ("replace", Policy::Replace),
                ("flush", Policy::Flush),
            ],
        )
        .ok_or(CommandError::canned(
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ))?,
    };
    let codes = crate::persist::rdb::read_function_payload(&args[2]).map_err(CommandError::err)?;
    let state = ctx.state;
    let mut engine = state.scripts.lock();
    let before: Vec<Vec<u8>> = engine.libraries().map(|l| l.code.clone()).collect();
    // The payload must load on its own first: its errors come before any
    // collision with what is loaded.
    let mut alone = Engine::new();
    let mut names = Vec::new();
    for code in &codes {
        names.push(alone.restore_library(code, false, &state.log)?);
    }
    if policy == Policy::Append
        && let Some(name) = names
            .iter()
            .find(|n| engine.libraries().any(|l| &l.name == *n))
    {
        let mut text = b"ERR Library ".to_vec();
        text.extend_from_slice(name);
        text.extend_from_slice(b" already exists");
        return Err(CommandError::from_bytes(text));
    }
    if policy == Policy::Flush {
        engine.flush_functions();
    }
    for code in &codes {
        if let Err(err) = engine.restore_library(code, policy == Policy::Replace, &state.log) {
            // Back to the libraries as they were.
            engine.flush_functions();
            for code in &before {
                engine.restore_library(code, false, &state.log)?;
            }
            return Err(err);
        }
    }
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION STATS`: the running function (nil if none) and the engine's
/// counts. While an EVAL script runs, BUSY, as in Redis.
fn function_stats(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let state = ctx.state;
    let status = &state.script_status;
    if status.is_running() && status.is_eval() {
        return Err(status.busy_error());
    }
    let running = state.running_script.lock().clone();
    let (libraries, functions) = match &running {
        Some(run) => (run.libraries, run.functions),
        None => {
            let engine = state.scripts.lock();
            let libraries = engine.libraries().count();
            (libraries, engine.libraries().map(|l| l.functions.len()).sum())
        }
    };
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match &running {
        None => out.null(),
        Some(run) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&run.name);
            out.bulk(b"command");
            out.bulk_array(&run.command);
            out.bulk(b"duration_ms");
            out.int(crate::clock::unix_ms().saturating_sub(run.started_ms));
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

/// `FUNCTION KILL`
fn function_kill(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    ctx.state.script_status.kill(false)?;
    ctx.out.ok();
    Ok(())
}

help_command!(
    function_help,
    [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ]
);

/// `FUNCTION`: every call with a known subcommand is routed to it.
fn function_container(_ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    Err(error::unknown_subcommand("function", &args[1]))
}

// ---- Command table -----------------------------------------------------------

/// The key spec of the script-running commands: `numkeys` keys after the
/// script, used as the script likes.
const SCRIPT_KEYS: &[KeySpecInfo] = &[KeySpecInfo::counted(&["RW", "access", "update"], 2)
    .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const SCRIPT_KEYS_RO: &[KeySpecInfo] = &[KeySpecInfo::counted(&["RO", "access"], 2)
    .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const SHA_KEYS: &[KeySpecInfo] = &[KeySpecInfo::counted(&["RW", "access", "update"], 2)];
const SHA_KEYS_RO: &[KeySpecInfo] = &[KeySpecInfo::counted(&["RO", "access"], 2)];

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("eval", -3, eval).syntax("script numkeys:integer [key ...] [arg ...]").flags(NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE | RUNS_SCRIPT).keys_after_count(2).locks(Locks::None).key_specs(SCRIPT_KEYS).doc("scripting", "2.6.0", "Execute a Lua script server side", "Depends on the script that is executed."),
    Command::new("evalsha", -3, evalsha).syntax("sha1 numkeys:integer [key ...] [arg ...]").flags(NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE | RUNS_SCRIPT).keys_after_count(2).locks(Locks::None).key_specs(SHA_KEYS).doc("scripting", "2.6.0", "Execute a Lua script server side", "Depends on the script that is executed."),
    Command::new("eval_ro", -3, eval_ro).syntax("script numkeys:integer [key ...] [arg ...]").flags(NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY | RUNS_SCRIPT).keys_after_count(2).locks(Locks::None).key_specs(SCRIPT_KEYS_RO).doc("scripting", "7.0.0", "Execute a read-only Lua script server side", "Depends on the script that is executed."),
    Command::new("evalsha_ro", -3, evalsha_ro).syntax("sha1 numkeys:integer [key ...] [arg ...]").flags(NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY | RUNS_SCRIPT).keys_after_count(2).locks(Locks::None).key_specs(SHA_KEYS_RO).doc("scripting", "7.0.0", "Execute a read-only Lua script server side", "Depends on the script that is executed."),
    Command::new("fcall", -3, fcall).syntax("function numkeys:integer [key ...] [arg ...]").flags(NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE | RUNS_SCRIPT).keys_after_count(2).locks(Locks::None).key_specs(SCRIPT_KEYS).doc("scripting", "7.0.0", "Invoke a function", "Depends on the function that is executed."),
    Command::new("fcall_ro", -3, fcall_ro).syntax("function numkeys:integer [key ...] [arg ...]").flags(NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY | RUNS_SCRIPT).keys_after_count(2).locks(Locks::None).key_specs(SCRIPT_KEYS_RO).doc("scripting", "7.0.0", "Invoke a read-only function", "Depends on the function that is executed."),
    Command::new("script", -2, script_container).subcommands(SCRIPT_SUBCOMMANDS).doc("scripting", "2.6.0", "A container for Lua scripts management commands", "Depends on subcommand."),
    Command::new("function", -2, function_container).subcommands(FUNCTION_SUBCOMMANDS).doc("scripting", "7.0.0", "A container for function commands", "Depends on subcommand."),
];

/// SCRIPT's subcommands.
#[rustfmt::skip]
static SCRIPT_SUBCOMMANDS: &[Command] = &[
    Command::new("debug", 3, script_debug).syntax("(YES|SYNC|NO)").flags(NOSCRIPT).doc("scripting", "3.2.0", "Set the debug mode for executed scripts.", "O(1)"),
    Command::new("exists", -3, script_exists).syntax("sha1 ...").flags(NOSCRIPT).tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]).doc("scripting", "2.6.0", "Check existence of scripts in the script cache.", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation)."),
    Command::new("flush", -2, script_flush).syntax("[ASYNC|SYNC]").flags(NOSCRIPT).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("scripting", "2.6.0", "Remove all the scripts from the script cache.", "O(N) with N being the number of scripts in cache"),
    Command::new("help", 2, script_help).flags(LOADING | STALE).doc("scripting", "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    Command::new("kill", 2, script_kill).flags(NOSCRIPT | ALLOW_BUSY).tips(&["request_policy:all_shards", "response_policy:one_succeeded"]).doc("scripting", "2.6.0", "Kill the script currently in execution.", "O(1)"),
    Command::new("load", 3, script_load).syntax("script").flags(NOSCRIPT | STALE).tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]).doc("scripting", "2.6.0", "Load the specified Lua script into the script cache.", "O(N) with N being the length in bytes of the script body."),
];

/// FUNCTION's subcommands.
#[rustfmt::skip]
static FUNCTION_SUBCOMMANDS: &[Command] = &[
    Command::new("delete", 3, function_delete).syntax("library-name").flags(WRITE | NOSCRIPT).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("scripting", "7.0.0", "Delete a function by name", "O(1)"),
    Command::new("dump", 2, function_dump).flags(NOSCRIPT).doc("scripting", "7.0.0", "Dump all functions into a serialized binary payload", "O(N) where N is the number of functions"),
    Command::new("flush", -2, function_flush).syntax("[ASYNC|SYNC]").flags(WRITE | NOSCRIPT).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("scripting", "7.0.0", "Deleting all functions", "O(N) where N is the number of functions deleted"),
    Command::new("help", 2, function_help).flags(LOADING | STALE).doc("scripting", "7.0.0", "Show helpful text about the different subcommands", "O(1)"),
    Command::new("kill", 2, function_kill).flags(NOSCRIPT | ALLOW_BUSY).tips(&["request_policy:all_shards", "response_policy:one_succeeded"]).doc("scripting", "7.0.0", "Kill the function currently in execution.", "O(1)"),
    Command::new("list", -2, function_list).syntax("[LIBRARYNAME library-name-pattern] [WITHCODE]").flags(NOSCRIPT).tips(&["nondeterministic_output_order"]).doc("scripting", "7.0.0", "List information about all the functions", "O(N) where N is the number of functions"),
    Command::new("load", -3, function_load).syntax("[REPLACE] function-code").flags(WRITE | DENYOOM | NOSCRIPT).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("scripting", "7.0.0", "Create a function with the given arguments (name, code, description)", "O(1) (considering compilation time is redundant)"),
    Command::new("restore", -3, function_restore).syntax("serialized-value [FLUSH|APPEND|REPLACE]").flags(WRITE | DENYOOM | NOSCRIPT).tips(&["request_policy:all_shards", "response_policy:all_succeeded"]).doc("scripting", "7.0.0", "Restore all the functions on the given payload", "O(N) where N is the number of functions on the payload"),
    Command::new("stats", 2, function_stats).flags(NOSCRIPT | ALLOW_BUSY).tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]).doc("scripting", "7.0.0", "Return information about the function currently running (name, description, duration)", "O(1)"),
];
