//! The engine's contracts with the rest of the server: the [`Caller`]
//! the command layer implements so scripts can run commands, the
//! [`RunStatus`] other threads read to answer BUSY and to stop a script
//! (SCRIPT KILL, FUNCTION KILL), and the values the engine's interface
//! takes and gives: [`Invocation`], [`Reply`], [`Script`], [`Library`],
//! [`Function`]. No Lua here: all of it exists in builds without
//! scripting, where the stub engine speaks the same types.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::flags::ScriptFlags;
use crate::error::CommandError;
use crate::log::Logger;
use crate::resp::{Frame, ReplyWriter};

/// The command layer, as a running script sees it: `redis.call` and
/// `redis.pcall` come here.
pub trait Caller {
    /// Runs one command for the script and returns its reply, produced for
    /// protocol `resp` (2 or 3: the script's `redis.setresp`). A command
    /// the script may not run answers with its error reply
    /// (`Frame::Error(b"ERR Unknown Redis command called from script")`);
    /// the engine hands errors to the script as `{err=...}` tables.
    ///
    /// Set `wrote` when the command modified the dataset, so that SCRIPT
    /// KILL can refuse (`UNKILLABLE`) as Redis does.
    fn call(&mut self, argv: &[Vec<u8>], resp: u8, wrote: &mut bool) -> Frame;

    /// The replication flags the script chose with `redis.set_repl`
    /// (`REPL_*` bits: 1 AOF, 2 replicas), for the command layer to apply
    /// to the commands that follow.
    fn set_repl(&mut self, _flags: u8) {}

    /// `redis.acl_check_cmd`: whether the script's user may run `argv`;
    /// `None` when no such command exists.
    fn acl_check_cmd(&mut self, _argv: &[Vec<u8>]) -> Option<bool> {
        Some(true)
    }

    /// The server's log, for `redis.log`.
    fn logger(&self) -> &Logger;
}

/// What a run needs besides the code: KEYS, ARGV, the command layer, and
/// the time it starts (for the watchdog's "running for" reports).
pub struct Invocation<'a> {
    pub keys: &'a [Vec<u8>],
    pub args: &'a [Vec<u8>],
    pub caller: &'a mut dyn Caller,
    pub now_ms: u64,
    /// The master sent it (replication): SCRIPT KILL may not stop it.
    pub from_master: bool,
}

/// A script's result as a reply, and the error replies in it that the
/// server's error statistics have not counted yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub frame: Frame,
    /// The error lines (code first) to count in INFO's errorstats: errors
    /// a script made itself. Errors relayed from `redis.call` are not
    /// here: the command that replied them counted them already.
    pub uncounted_errors: Vec<Vec<u8>>,
}

/// A script in the cache.
#[derive(Debug, Clone)]
pub struct Script {
    /// The body as given to EVAL or SCRIPT LOAD: what EVALSHA replicates.
    pub body: Vec<u8>,
    /// Its shebang flags (compat mode when there is none).
    pub flags: ScriptFlags,
}

/// A function of a loaded library.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: Vec<u8>,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
    /// The callback's reference in the function state's registry (only a
    /// build with Lua loads functions).
    #[cfg(feature = "scripting")]
    pub(super) callback: std::ffi::c_int,
}

/// A loaded FUNCTION library.
#[derive(Debug, Clone)]
pub struct Library {
    pub name: Vec<u8>,
    /// The engine named in its header, as Redis reports it (`LUA`).
    pub engine: &'static str,
    /// The whole payload given to FUNCTION LOAD (header included): what
    /// FUNCTION DUMP and the RDB file store.
    pub code: Vec<u8>,
    /// Its functions, by name.
    pub functions: BTreeMap<Vec<u8>, Function>,
}

/// What other threads may ask of the engine while a script runs (SCRIPT
/// KILL, FUNCTION KILL, the BUSY reply): shared, lock-free.
#[derive(Debug, Default)]
pub struct RunStatus {
    running: AtomicBool,
    kill: AtomicBool,
    wrote: AtomicBool,
    /// Whether the running code is an EVAL script (else a function): the
    /// KILL command must match it.
    eval: AtomicBool,
    /// Whether the master sent it (replication): never killed.
    from_master: AtomicBool,
    /// When the run started, in milliseconds on the caller's clock.
    started_ms: AtomicU64,
}

impl RunStatus {
    /// True while a script or function runs.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// True if the running code is an EVAL script, false for a function.
    pub fn is_eval(&self) -> bool {
        self.eval.load(Ordering::Acquire)
    }

    /// True once the running script has performed a write: Redis then
    /// refuses SCRIPT KILL (the dataset would be left half-modified).
    pub fn has_written(&self) -> bool {
        self.wrote.load(Ordering::Acquire)
    }

    /// When the run started (as given to the run), in milliseconds.
    pub fn started_ms(&self) -> u64 {
        self.started_ms.load(Ordering::Acquire)
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL: asks the running script to
    /// stop, or says why not, as Redis's `scriptKill` does and in its
    /// order. Once asked, the script fails within 100,000 Lua instructions
    /// with `ERR Script killed by user with SCRIPT KILL...`.
    pub fn kill(&self, eval: bool) -> Result<(), CommandError> {
        if !self.is_running() {
            return Err(NOTBUSY);
        }
        if self.from_master.load(Ordering::Acquire) {
            return Err(UNKILLABLE_MASTER);
        }
        if self.has_written() {
            return Err(UNKILLABLE_WRITTEN);
        }
        match (eval, self.is_eval()) {
            (true, false) => Err(BUSY_FUNCTION),
            (false, true) => Err(BUSY_SCRIPT),
            _ => {
                self.kill.store(true, Ordering::Release);
                Ok(())
            }
        }
    }

    /// SHUTDOWN NOSAVE beside a busy script: stops it whatever it has done
    /// (the server is going away without saving), as Redis exits in the
    /// middle of one.
    pub fn abort(&self) {
        if self.is_running() {
            self.kill.store(true, Ordering::Release);
        }
    }

    /// The error other commands get while a script runs past
    /// busy-reply-threshold (the KILL it names matches the running code).
    pub fn busy_error(&self) -> CommandError {
        if self.is_eval() {
            BUSY_SCRIPT
        } else {
            BUSY_FUNCTION
        }
    }

    #[cfg_attr(not(feature = "scripting"), allow(dead_code))]
    pub(crate) fn kill_requested(&self) -> bool {
        self.kill.load(Ordering::Acquire)
    }

    #[cfg_attr(not(feature = "scripting"), allow(dead_code))]
    pub(crate) fn begin(&self, eval: bool, from_master: bool, now_ms: u64) {
        self.kill.store(false, Ordering::Release);
        self.from_master.store(from_master, Ordering::Release);
        self.wrote.store(false, Ordering::Release);
        self.eval.store(eval, Ordering::Release);
        self.started_ms.store(now_ms, Ordering::Release);
        self.running.store(true, Ordering::Release);
    }

    #[cfg_attr(not(feature = "scripting"), allow(dead_code))]
    pub(crate) fn set_written(&self) {
        self.wrote.store(true, Ordering::Release);
    }

    #[cfg_attr(not(feature = "scripting"), allow(dead_code))]
    pub(crate) fn end(&self) {
        self.running.store(false, Ordering::Release);
        self.kill.store(false, Ordering::Release);
    }
}

/// `NOSCRIPT`: EVALSHA of a script not in the cache.
pub const NOSCRIPT: CommandError =
    CommandError::canned("NOSCRIPT No matching script. Please use EVAL.");

/// SCRIPT KILL or FUNCTION KILL with nothing running.
pub const NOTBUSY: CommandError =
    CommandError::canned("NOTBUSY No scripts in execution right now.");

/// KILL of a script the master sent.
pub const UNKILLABLE_MASTER: CommandError = CommandError::canned(
    "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.",
);

/// KILL of a script that already wrote.
pub const UNKILLABLE_WRITTEN: CommandError = CommandError::canned(
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
);

/// Commands refused while an EVAL script runs (and FUNCTION KILL of one).
pub const BUSY_SCRIPT: CommandError = CommandError::canned(
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
);

/// Commands refused while a function runs (and SCRIPT KILL of one).
pub const BUSY_FUNCTION: CommandError = CommandError::canned(
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
);

/// Writes a script's reply for a client of either protocol, as Redis's
/// reply functions would: RESP3 types take their RESP2 forms for a RESP2
/// client (maps as flat arrays, doubles and big numbers as bulk strings,
/// booleans as 1/0, verbatim strings as bulk text). Iterative: a script
/// can return replies thousands of levels deep.
pub fn write_frame(frame: &Frame, out: &mut ReplyWriter) {
    let mut todo = vec![frame];
    while let Some(frame) = todo.pop() {
        match frame {
            Frame::Simple(s) => out.simple_bytes(s),
            Frame::Error(e) => out.error(&crate::error::CommandError::from_bytes(e.clone())),
            Frame::Integer(n) => out.int(*n),
            Frame::Bulk(b) => out.bulk(b),
            Frame::NullBulk | Frame::Null => out.null(),
            Frame::NullArray => out.null_array(),
            Frame::Array(items) | Frame::Push(items) => {
                out.array(items.len());
                todo.extend(items.iter().rev());
            }
            Frame::Set(items) => {
                out.set(items.len());
                todo.extend(items.iter().rev());
            }
            Frame::Map(pairs) => {
                out.map(pairs.len());
                for (key, value) in pairs.iter().rev() {
                    todo.push(value);
                    todo.push(key);
                }
            }
            Frame::Double(text) => resp3_line(out, b',', text),
            Frame::Boolean(b) => out.boolean(*b),
            Frame::BigNumber(n) => resp3_line(out, b'(', n),
            Frame::Verbatim { text, .. } => {
                if out.is_resp3() {
                    let mut encoded = Vec::new();
                    frame.encode(&mut encoded);
                    out.raw(&encoded);
                } else {
                    out.bulk(text);
                }
            }
            Frame::Attribute(_, reply) => todo.push(reply),
        }
    }
}

/// A RESP3 one-line type (`,1.5`, `(123`), or the same text as a bulk
/// string for a RESP2 client.
fn resp3_line(out: &mut ReplyWriter, kind: u8, text: &[u8]) {
    if out.is_resp3() {
        let mut line = Vec::with_capacity(text.len() + 3);
        line.push(kind);
        line.extend_from_slice(text);
        line.extend_from_slice(b"\r\n");
        out.raw(&line);
    } else {
        out.bulk(text);
    }
}
