//! The command table's types: what Redis's `redisCommand` struct says about a
//! command (name, arity, flags, key positions, documentation), plus how
//! sedis locks the keyspace for it. Every family module declares its commands
//! with these; [`super::registry()`] gathers them.
//!
//! A family's table sits at the end of its module, under a `Command table`
//! heading: the module reads from its code down, while each handler stays
//! private to its family and its metadata is a search away in the same
//! file. (A separate directory of tables would need every handler made
//! public and a second module named after each family.) What Redis derives
//! is derived here too, not written: ACL categories
//! ([`Command::acl_categories`]), `movablekeys`, the legacy key range.

use crate::error::CommandResult;
use crate::state::session::Session;
use crate::store::{Keyspace, LockPlan, Mode};

use super::Ctx;

/// A command handler. Arity, authentication and the other generic checks
/// have already been done when it runs; `args[0]` is the command name (and
/// `args[1]` the subcommand name for container commands).
pub type Handler = fn(&mut Ctx<'_, '_>, &[Vec<u8>]) -> CommandResult;

/// Command flags. The first ones are Redis's (`CMD_WRITE`...), with the
/// names COMMAND INFO reports; the last ones are sedis's own, for rules
/// Redis writes by testing a command's handler (`c->cmd->proc ==
/// execCommand`): here every such rule reads a flag the table declares.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// Refused unless `enable-debug-command` allows the client (DEBUG is
    /// sedis's only protected command; Redis's other one, MODULE, has its
    /// own option).
    pub const PROTECTED: u32 = 1 << 18;
    pub const NO_ASYNC_LOADING: u32 = 1 << 19;
    /// Redis's `CMD_MOVABLE_KEYS`: never declared, COMMAND INFO derives it
    /// from the key specs, as Redis's `populateCommandMovableKeys` does.
    pub const MOVABLE_KEYS: u32 = 1 << 20;

    /// Not a Redis flag: the key spec names shard channels, not keys
    /// (Redis's `NOT_KEY` key-spec flag). Nothing is locked for them and
    /// COMMAND GETKEYS reports no keys.
    pub const CHANNEL_KEYS: u32 = 1 << 21;
    /// Not a Redis flag: runs at once inside MULTI instead of being queued
    /// (Redis's list in `processCommand`: EXEC, DISCARD, MULTI, WATCH, QUIT,
    /// RESET).
    pub const NOT_QUEUED: u32 = 1 << 22;
    /// Not a Redis flag: ends an open transaction (EXEC, DISCARD, QUIT,
    /// RESET). Inside MULTI every other command is refused while memory is
    /// over `maxmemory`, since a queue can grow without bound.
    pub const ENDS_MULTI: u32 = 1 << 23;
    /// Not a Redis flag: runs the queued transaction (EXEC). It counts as a
    /// write, or as a command that may grow memory, when a queued command
    /// is one; refused before it runs, it discards the transaction with
    /// EXECABORT.
    pub const RUNS_QUEUE: u32 = 1 << 24;
    /// Not a Redis flag: may run on a RESP2 connection in pub/sub mode
    /// (Redis's list: PING, (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, QUIT, RESET).
    /// With RESP3, messages are push frames and every command may run.
    pub const ALLOW_SUBSCRIBED: u32 = 1 << 25;
    /// Not a Redis flag: refused with MISCONF while saving fails, as writes
    /// are, although it writes nothing. Redis singles out PING so that
    /// health checks notice.
    pub const REFUSED_ON_MISCONF: u32 = 1 << 26;
    /// Not a Redis flag: moves the client to the database its first
    /// argument names (SELECT). EXEC's lock plan follows it, so commands
    /// queued after it lock their keys in that database.
    pub const SELECTS_DB: u32 = 1 << 27;
    /// Not a Redis flag: runs Lua (EVAL, FCALL...), alone: no other
    /// command runs until it ends (see `store::gate`), and EXEC of a
    /// transaction holding one runs alone too.
    pub const RUNS_SCRIPT: u32 = 1 << 28;
    /// Not a Redis flag: touches no data and may sleep long (WAIT), so it
    /// runs without a pass through the keyspace gate: a script waiting to
    /// run alone is not held up by it.
    pub const UNGATED: u32 = 1 << 29;

    /// The flags COMMAND INFO reports, in Redis's order
    /// (`addReplyCommandFlags`). Redis hides `may_replicate`, `sentinel`
    /// and `protected` on purpose; sedis's own flags are not Redis's to
    /// report.
    pub const REPORTED: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories (Redis's `ACLCommandCategories`), one bit each in the
/// order Redis lists them, which is the order COMMAND INFO reports them in.
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;
    /// Not a category: the command does not take its group's category
    /// (SORT is in the `generic` group but not `@keyspace`).
    pub const NOT_GROUP: u32 = 1 << 31;

    /// The categories' names, bit 0 first.
    pub const NAMES: [&str; 21] = [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];

    /// The bit of a category named without its `@`, in any case.
    pub fn named(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
            .map(|i| 1 << i)
    }

    /// The names of the categories in `bits`, in Redis's order.
    pub fn names(bits: u32) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & (1 << i) != 0)
            .map(|(_, name)| *name)
    }

    /// The category a command group gives its commands: in Redis's
    /// command files every command of a data-type group lists its type,
    /// `generic` ones `@keyspace`, and so on. The `pubsub` group has none
    /// (the `pubsub` flag implies it), nor have `server` and the others.
    pub fn of_group(group: &str) -> u32 {
        match group {
            "generic" => KEYSPACE,
            "string" => STRING,
            "list" => LIST,
            "set" => SET,
            "sorted_set" => SORTEDSET,
            "hash" => HASH,
            "bitmap" => BITMAP,
            "hyperloglog" => HYPERLOGLOG,
            "geo" => GEO,
            "stream" => STREAM,
            "connection" => CONNECTION,
            "transactions" => TRANSACTION,
            "scripting" => SCRIPTING,
            _ => 0,
        }
    }
}

/// Keys with their flags, as a command's own rule finds them in its
/// arguments (the name at 0).
pub type GetKeys = fn(&[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)>;

/// Where a command's keys are in its arguments.
#[derive(Clone, Copy)]
pub enum KeySpec {
    None,
    /// Redis's legacy triple: first key index, last key index (negative counts
    /// from the end: -1 is the last argument), step between keys.
    Range {
        first: i32,
        last: i32,
        step: i32,
    },
    /// Keys after a key count (`numkeys`), for LMPOP, SINTERCARD,
    /// ZUNIONSTORE...: the count at `count_at`, then that many keys (as
    /// many as exist; an invalid count names none, and the handler then
    /// fails before touching any key). With `destination`, the argument
    /// before the count is a key too (ZUNIONSTORE's destination).
    Counted {
        count_at: usize,
        destination: bool,
    },
    /// Keys found by the command's own rule (XREAD's keys after STREAMS):
    /// the indexes it returns, none for arguments it cannot read (the
    /// handler then fails before touching a key).
    Found(fn(&[Vec<u8>]) -> Vec<usize>),
}

impl KeySpec {
    /// The indexes of the keys in `args`.
    pub fn positions(&self, args: &[Vec<u8>]) -> Vec<usize> {
        match *self {
            KeySpec::None => Vec::new(),
            KeySpec::Range { first, last, step } => {
                let argc = args.len() as i32;
                let last = if last < 0 { argc + last } else { last };
                if first <= 0 || step <= 0 {
                    return Vec::new();
                }
                (first..=last.min(argc - 1))
                    .step_by(step as usize)
                    .map(|i| i as usize)
                    .collect()
            }
            KeySpec::Counted {
                count_at,
                destination,
            } => {
                let mut keys = Vec::new();
                if destination && count_at >= 1 && count_at - 1 < args.len() {
                    keys.push(count_at - 1);
                }
                let count = args.get(count_at).and_then(|a| crate::num::parse_i64(a));
                if let Some(n) = count.filter(|&n| n >= 1) {
                    let last = (count_at as u64)
                        .saturating_add(n as u64)
                        .min(args.len() as u64 - 1) as usize;
                    keys.extend(count_at + 1..=last);
                }
                keys
            }
            KeySpec::Found(find) => find(args),
        }
    }

    /// The legacy (first, last, step) COMMAND INFO reports.
    pub fn legacy_range(&self) -> (i32, i32, i32) {
        match *self {
            KeySpec::None | KeySpec::Counted { .. } | KeySpec::Found(_) => (0, 0, 0),
            KeySpec::Range { first, last, step } => (first, last, step),
        }
    }
}

/// A key spec as COMMAND INFO reports it (Redis 7's `keySpec`): which
/// arguments are keys, and what the command does to them. COMMAND INFO,
/// GETKEYS and GETKEYSANDFLAGS use it; locking uses [`KeySpec`]. Declared where the spec [`KeySpec`] implies
/// (one `index` + `range` spec, or `unknown` for keys found by a function)
/// is not what Redis reports: several specs, `keyword` or `keynum` searches.
#[derive(Clone, Copy)]
pub struct KeySpecInfo {
    /// Redis's note on the spec ("" for none).
    pub notes: &'static str,
    /// Key flags in Redis's order: `RO`/`RW`/`OW`/`RM`, then `access`,
    /// `update`, `insert`, `delete`, `not_key`, `incomplete`, `variable_flags`.
    pub flags: &'static [&'static str],
    pub begin: BeginSearch,
    pub find: FindKeys,
}

impl KeySpecInfo {
    pub const fn new(flags: &'static [&'static str], begin: BeginSearch, find: FindKeys) -> Self {
        KeySpecInfo {
            notes: "",
            flags,
            begin,
            find,
        }
    }

    /// The common case: one key, at argument `index`.
    pub const fn key(flags: &'static [&'static str], index: i32) -> Self {
        Self::new(flags, BeginSearch::Index(index), FindKeys::Range(0, 1, 0))
    }

    /// Keys after a key count: the count at argument `index`, the keys
    /// right after it.
    pub const fn counted(flags: &'static [&'static str], index: i32) -> Self {
        Self::new(flags, BeginSearch::Index(index), FindKeys::Keynum(0, 1, 1))
    }

    pub const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = notes;
        self
    }
}

/// Where a key spec's search starts.
#[derive(Clone, Copy)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After the first occurrence of this keyword (any case), searched from
    /// this argument index on (XREAD's STREAMS).
    Keyword(&'static str, i32),
    Unknown,
}

/// How a key spec finds its keys from where the search began.
#[derive(Clone, Copy)]
pub enum FindKeys {
    /// `(lastkey, keystep, limit)`: keys up to `lastkey` past the first
    /// (negative: from the end), every `keystep`; `limit` divides what is
    /// left when `lastkey` is -1.
    Range(i32, i32, i32),
    /// `(keynumidx, firstkey, keystep)`: the key count is at `keynumidx`,
    /// the first key `firstkey` past the start, then every `keystep`.
    Keynum(i32, i32, i32),
    Unknown,
}

/// What a lock-planning function sees.
pub struct LockContext<'a> {
    pub keyspace: &'a Keyspace,
    pub client: &'a Session,
    /// The database the command will run in: the client's, or for a command
    /// queued in MULTI, the one selected when it will run inside EXEC.
    pub db: usize,
    pub args: &'a [Vec<u8>],
}

/// Which shards a command locks while it runs.
#[derive(Clone, Copy)]
pub enum Locks {
    /// The command does not touch the keyspace.
    None,
    /// The shards of its keys (per its [`KeySpec`]) in the client's database.
    Keys(Mode),
    /// Every shard of the client's database (KEYS, SCAN, FLUSHDB...).
    Db(Mode),
    /// Every shard of every database (FLUSHALL...).
    All(Mode),
    /// Computed from the arguments (MOVE, SWAPDB, EXEC...).
    Custom(fn(&LockContext<'_>) -> LockPlan),
}

/// Human documentation, for COMMAND DOCS and `sedis-cli help`.
#[derive(Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
    /// The arguments after the name, in [`super::syntax`]'s notation.
    pub syntax: &'static str,
}

/// One command (or subcommand).
#[derive(Clone, Copy)]
pub struct Command {
    /// Lowercase name; subcommands carry only their own name (`get` for
    /// `config|get`).
    pub name: &'static str,
    /// Positive: exact argument count (name included); negative: minimum.
    pub arity: i32,
    pub flags: u32,
    /// The ACL categories Redis lists for this command beyond its group's
    /// (`@dangerous` for KEYS, `@keyspace` for DBSIZE...): see
    /// [`Command::acl_categories`] for the rest.
    pub acl: u32,
    pub keys: KeySpec,
    pub locks: Locks,
    pub handler: Handler,
    pub doc: Doc,
    /// Subcommands, for container commands such as CONFIG and CLIENT.
    pub subcommands: &'static [Command],
    /// The flags COMMAND INFO gives the key spec derived from `keys`, when
    /// they are not the default (`RW access update` for writes, `RO access`
    /// otherwise).
    pub key_flags: &'static [&'static str],
    /// The key specs COMMAND INFO reports, when not derived from `keys`.
    pub key_specs: &'static [KeySpecInfo],
    /// Redis's `getkeys_proc`: the rule COMMAND GETKEYS and GETKEYSANDFLAGS
    /// follow instead of the key specs, for a command whose key flags
    /// depend on its arguments (a spec flagged `variable_flags`).
    pub getkeys: Option<GetKeys>,
    /// Redis's command tips (`nondeterministic_output`,
    /// `request_policy:all_shards`...), as COMMAND INFO reports them.
    pub tips: &'static [&'static str],
}

impl Command {
    /// A command with no flags, no keys and no documentation yet; chain the
    /// builder methods below to fill it in.
    pub const fn new(name: &'static str, arity: i32, handler: Handler) -> Self {
        Command {
            name,
            arity,
            flags: 0,
            acl: 0,
            keys: KeySpec::None,
            locks: Locks::None,
            handler,
            doc: Doc {
                summary: "",
                since: "1.0.0",
                group: "generic",
                complexity: "",
                syntax: "",
            },
            subcommands: &[],
            key_flags: &[],
            key_specs: &[],
            getkeys: None,
            tips: &[],
        }
    }

    pub const fn flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    /// ACL categories beyond the derived ones (bits of [`acl`]).
    pub const fn acl(mut self, categories: u32) -> Self {
        self.acl = categories;
        self
    }

    /// Keys at `first..=last` every `step`, locked for writing if the command
    /// is flagged WRITE or touches keys, else for reading. Use `.locks()` after
    /// this to choose otherwise.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.keys = KeySpec::Range { first, last, step };
        self.locks = Locks::Keys(Mode::Write);
        self
    }

    /// `numkeys` keys after a count at `count_at` (see [`KeySpec::Counted`]).
    pub const fn keys_after_count(self, count_at: usize) -> Self {
        self.counted_keys(count_at, false)
    }

    /// A destination key, then a count at `count_at` and that many keys.
    pub const fn destination_and_keys_after_count(self, count_at: usize) -> Self {
        self.counted_keys(count_at, true)
    }

    /// Keys found by `find` (see [`KeySpec::Found`]), locked for writing.
    pub const fn found_keys(mut self, find: fn(&[Vec<u8>]) -> Vec<usize>) -> Self {
        self.keys = KeySpec::Found(find);
        self.locks = Locks::Keys(Mode::Write);
        self
    }

    const fn counted_keys(mut self, count_at: usize, destination: bool) -> Self {
        self.keys = KeySpec::Counted {
            count_at,
            destination,
        };
        self.locks = Locks::Keys(Mode::Write);
        self
    }

    /// The key flags COMMAND INFO reports for the spec derived from `keys`.
    pub const fn key_flags(mut self, flags: &'static [&'static str]) -> Self {
        self.key_flags = flags;
        self
    }

    /// The key specs COMMAND INFO reports, instead of the derived one.
    pub const fn key_specs(mut self, specs: &'static [KeySpecInfo]) -> Self {
        self.key_specs = specs;
        self
    }

    /// The command's own key-finding rule (see [`Command::getkeys`]).
    pub const fn getkeys(mut self, getkeys: GetKeys) -> Self {
        self.getkeys = Some(getkeys);
        self
    }

    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    pub const fn locks(mut self, locks: Locks) -> Self {
        self.locks = locks;
        self
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        self.doc = Doc {
            summary,
            since,
            group,
            complexity,
            syntax: self.doc.syntax,
        };
        self
    }

    /// The arguments' synopsis (see [`super::syntax`]), which COMMAND DOCS
    /// reports as the argument tree.
    pub const fn syntax(mut self, syntax: &'static str) -> Self {
        self.doc.syntax = syntax;
        self
    }

    pub const fn subcommands(mut self, subcommands: &'static [Command]) -> Self {
        self.subcommands = subcommands;
        self
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The command's ACL categories as Redis derives them: its group's
    /// category ([`acl::of_group`]; a container's own entry has none, as in
    /// Redis's command files), the exceptions the table lists, then those
    /// its flags imply (Redis's `setImplicitACLCategories`), `@slow` for
    /// every command that is not `@fast`.
    pub fn acl_categories(&self) -> u32 {
        let mut bits = self.acl & !acl::NOT_GROUP;
        if !self.is_container() && self.acl & acl::NOT_GROUP == 0 {
            bits |= acl::of_group(self.doc.group);
        }
        if self.has(flags::WRITE) {
            bits |= acl::WRITE;
        }
        // Scripts are not reads, whatever they run.
        if self.has(flags::READONLY) && bits & acl::SCRIPTING == 0 {
            bits |= acl::READ;
        }
        if self.has(flags::ADMIN) {
            bits |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flags::PUBSUB) {
            bits |= acl::PUBSUB;
        }
        if self.has(flags::FAST) {
            bits |= acl::FAST;
        }
        if self.has(flags::BLOCKING) {
            bits |= acl::BLOCKING;
        }
        if bits & acl::FAST == 0 {
            bits |= acl::SLOW;
        }
        bits
    }

    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// True if `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KeySpec;

    use crate::commands::test_argv as argv;

    #[test]
    fn counted_keys_never_overrun() {
        let after_1 = KeySpec::Counted {
            count_at: 1,
            destination: false,
        };
        let keys = |spec: KeySpec, args: &[&str]| spec.positions(&argv(args));
        assert_eq!(keys(after_1, &["lmpop", "2", "a", "b", "left"]), [2, 3]);
        assert_eq!(keys(after_1, &["lmpop", "5", "a"]), [2]);
        assert!(keys(after_1, &["lmpop", "x", "a"]).is_empty());
        assert!(keys(after_1, &["lmpop", "-1", "a"]).is_empty());
        assert_eq!(keys(after_1, &["lmpop", "9223372036854775807", "a"]), [2]);
        let with_destination = KeySpec::Counted {
            count_at: 2,
            destination: true,
        };
        assert_eq!(
            keys(with_destination, &["zunionstore", "d", "2", "a", "b"]),
            [1, 3, 4]
        );
        assert_eq!(keys(with_destination, &["zunionstore", "d", "x"]), [1]);
    }
}
