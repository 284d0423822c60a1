//! DUMP and RESTORE (Redis's `cluster.c`): a value serialized as the RDB
//! file stores it, with the RDB version and a CRC-64 after it, so that it
//! moves between servers (sedis and Redis alike) and back.
//!
//! A payload is checked twice: its footer (version and checksum) first,
//! then its body by the same decoder that loads dump files, which refuses
//! anything malformed instead of trusting the checksum.

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::persist::rdb;

use super::table::{Command, acl, flags::*};
use super::{Ctx, args};

/// `DUMP key`
fn dump(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let compress = ctx.state.config().rdbcompression;
    let (mut db, out) = ctx.db_and_out();
    match db.lookup_read(&args[1]) {
        Some(entry) => out.bulk(&rdb::dump_payload(&entry.value, compress)),
        None => out.null(),
    }
    Ok(())
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absolute_ttl: bool,
    /// IDLETIME, in seconds.
    idle: Option<i64>,
    /// FREQ: the LFU counter, kept only under an LFU policy (IDLETIME
    /// only under the others), as Redis's `objectSetLRUOrLFU`.
    freq: Option<i64>,
}

fn restore_options(args: &[Vec<u8>]) -> CommandResult<RestoreOptions> {
    let mut o = RestoreOptions::default();
    let mut i = 4;
    while i < args.len() {
        let (word, more) = (&args[i], i + 1 < args.len());
        if args::is_option(word, "replace") {
            o.replace = true;
        } else if args::is_option(word, "absttl") {
            o.absolute_ttl = true;
        } else if args::is_option(word, "idletime") && more && o.freq.is_none() {
            let idle = args::int(&args[i + 1])?;
            if idle < 0 {
                return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
            }
            o.idle = Some(idle);
            i += 1;
        } else if args::is_option(word, "freq") && more && o.idle.is_none() {
            let freq = args::int(&args[i + 1])?;
            if !(0..=255).contains(&freq) {
                return Err(CommandError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            o.freq = Some(freq);
            i += 1;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    Ok(o)
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
fn restore(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let o = restore_options(args)?;
    let key = &args[1];
    let now = ctx.now_ms;
    let encodings = ctx.state.config().encodings();
    let lfu = ctx.keyspace().access.lfu();
    let mut db = ctx.db();
    if !o.replace && db.lookup_write(key).is_some() {
        return Err(error::BUSYKEY);
    }
    let ttl = args::int(&args[2])?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    let value = rdb::read_dump_payload(&args[3], encodings).map_err(CommandError::err)?;
    let deleted = o.replace && db.delete(key);
    // A relative TTL becomes a deadline (wrapping as Redis's C arithmetic
    // does: one that overflows is in the past).
    let deadline = match ttl {
        0 => None,
        ttl if o.absolute_ttl => Some(ttl),
        ttl => Some(ttl.wrapping_add(now)),
    };
    if deadline.is_some_and(|at| at <= now) {
        // Already expired: nothing is created, and what REPLACE removed is
        // logged as the DEL it amounts to.
        if deleted {
            ctx.dirty += 1;
            ctx.propagate_as(vec![super::argv([b"DEL", key])]);
            ctx.notify(notify::GENERIC, "del", key);
        } else {
            ctx.propagate_as(Vec::new());
        }
        ctx.out.ok();
        return Ok(());
    }
    db.set_with_expire(key, value, deadline);
    match (lfu, o.freq, o.idle) {
        (Some(_), Some(freq), _) => {
            if let Some(entry) = db.lookup_write(key) {
                entry.set_lfu_counter(freq as u8, now);
            }
        }
        (None, _, Some(idle)) => {
            if let Some(entry) = db.lookup_write(key) {
                entry.set_idle(idle.saturating_mul(1000), now);
            }
        }
        _ => {}
    }
    if let Some(at) = deadline.filter(|_| !o.absolute_ttl) {
        // Logged with the deadline, so a replay expires it when this would.
        let mut logged = args.to_vec();
        logged[2] = at.to_string().into_bytes();
        logged.push(b"ABSTTL".to_vec());
        ctx.propagate_as(vec![logged]);
    }
    ctx.dirty += 1;
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.out.ok();
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("dump", 2, dump).syntax("key").flags(READONLY).keys(1, 1, 1).tips(&["nondeterministic_output"]).doc("generic", "2.6.0", "Return a serialized version of the value stored at the specified key.", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."),
    Command::new("restore", -4, restore).syntax("key ttl:integer serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds:integer] [FREQ frequency:integer]").flags(WRITE | DENYOOM).acl(acl::DANGEROUS).keys(1, 1, 1).key_flags(&["OW", "update"]).doc("generic", "2.6.0", "Create a key using the provided serialized value, previously obtained using DUMP.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."),
];
