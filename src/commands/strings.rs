//! String commands (Redis's `t_string.c`).

use crate::error::{self, CommandResult};
use crate::store::{Db, Entry, StrValue, Value};

use super::Ctx;
use super::args;
use super::table::{Command, flags::*};

pub static COMMANDS: &[Command] = &[
    Command::new("get", 2, get)
        .flags(READONLY | FAST)
        .acl(&["@read", "@string", "@fast"])
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    Command::new("set", -3, set)
        .flags(WRITE | DENYOOM)
        .acl(&["@write", "@string", "@slow"])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            "O(1)",
        ),
];

/// The string in a looked-up entry: `Ok(None)` if missing, WRONGTYPE if the
/// key holds another type.
pub fn lookup_str(entry: Option<&mut Entry>) -> CommandResult<Option<&mut StrValue>> {
    match entry {
        None => Ok(None),
        Some(entry) => entry.value.as_str_mut().map(Some).ok_or(error::WRONGTYPE),
    }
}

/// Replies with the string at `key` or null (Redis's `getGenericCommand`).
fn reply_get(ctx: &mut Ctx, key: &[u8]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    match lookup_str(db.lookup_read(key))? {
        Some(s) => out.bulk(&s.bytes()),
        None => out.null(),
    }
    Ok(())
}

/// `GET key`
fn get(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    reply_get(ctx, &args[1])
}

/// When a SET-family command's key should expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireArg {
    /// EX seconds
    Ex,
    /// PX milliseconds
    Px,
    /// EXAT unix-seconds
    ExAt,
    /// PXAT unix-milliseconds
    PxAt,
}

/// Converts an expire argument into an absolute unix-ms deadline, with
/// Redis's checks (`getExpireMillisecondsOrReply`): positive, and no overflow.
pub fn expire_deadline(
    arg: &[u8],
    kind: ExpireArg,
    now_ms: i64,
    command: &str,
) -> CommandResult<i64> {
    let value = args::int(arg)?;
    let seconds = matches!(kind, ExpireArg::Ex | ExpireArg::ExAt);
    if value <= 0 || (seconds && value > i64::MAX / 1000) {
        return Err(error::invalid_expire(command));
    }
    let mut ms = if seconds { value * 1000 } else { value };
    if matches!(kind, ExpireArg::Ex | ExpireArg::Px) {
        ms = ms.checked_add(now_ms).unwrap_or(-1);
    }
    if ms <= 0 {
        return Err(error::invalid_expire(command));
    }
    Ok(ms)
}

#[derive(Debug, Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expire: Option<(ExpireArg, usize)>,
}

/// Parses SET's options with Redis's exact acceptance rules: each option may
/// repeat, but conflicting ones (NX/XX, KEEPTTL/EX..., two different expire
/// kinds) are a syntax error, as is an expire keyword with no value.
fn parse_set_options(args: &[Vec<u8>]) -> CommandResult<SetOptions> {
    let mut o = SetOptions::default();
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        let has_next = j + 1 < args.len();
        let expire_kind = o.expire.map(|(k, _)| k);
        let other_expire = |k: ExpireArg| expire_kind.is_some_and(|e| e != k);
        if args::is(opt, "nx") && !o.xx {
            o.nx = true;
        } else if args::is(opt, "xx") && !o.nx {
            o.xx = true;
        } else if args::is(opt, "get") {
            o.get = true;
        } else if args::is(opt, "keepttl") && expire_kind.is_none() {
            o.keep_ttl = true;
        } else if let Some(kind) = [
            ("ex", ExpireArg::Ex),
            ("px", ExpireArg::Px),
            ("exat", ExpireArg::ExAt),
            ("pxat", ExpireArg::PxAt),
        ]
        .iter()
        .find(|(name, _)| args::is(opt, name))
        .map(|&(_, kind)| kind)
        .filter(|&kind| !o.keep_ttl && !other_expire(kind) && has_next)
        {
            o.expire = Some((kind, j + 1));
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// Stores `value` at `key` (Redis's `setKey`), keeping or replacing the TTL.
pub fn store_string(
    db: &mut Db,
    key: &[u8],
    value: StrValue,
    keep_ttl: bool,
    expire_at: Option<i64>,
) {
    let value = Value::Str(value);
    match (expire_at, keep_ttl) {
        (Some(at), _) => db.set_with_expire(key, value, Some(at)),
        (None, true) => db.set_keep_ttl(key, value),
        (None, false) => db.set(key, value),
    }
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]`
fn set(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let options = parse_set_options(args)?;
    let expire_at = match options.expire {
        Some((kind, at)) => Some(expire_deadline(&args[at], kind, ctx.now_ms, "set")?),
        None => None,
    };
    let key = &args[1];
    if options.get {
        reply_get(ctx, key)?;
    }
    let mut db = ctx.db();
    let found = db.lookup_write(key).is_some();
    if (options.nx && found) || (options.xx && !found) {
        if !options.get {
            ctx.out.null();
        }
        return Ok(());
    }
    store_string(
        &mut db,
        key,
        StrValue::from_slice(&args[2]),
        options.keep_ttl,
        expire_at,
    );
    ctx.dirty += 1;
    if !options.get {
        ctx.out.ok();
    }
    Ok(())
}
