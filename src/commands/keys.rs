//! Keyspace commands (Redis's `db.c` and `expire.c` commands).

use crate::error::CommandResult;
use crate::store::Mode;

use super::Ctx;
use super::table::{Command, Locks, flags::*};

pub static COMMANDS: &[Command] = &[
    Command::new("del", -2, del)
        .flags(WRITE)
        .acl(&["@keyspace", "@write", "@slow"])
        .keys(1, -1, 1)
        .doc(
            "generic",
            "1.0.0",
            "Deletes one or more keys.",
            "O(N) where N is the number of keys that will be removed.",
        ),
    Command::new("unlink", -2, del)
        .flags(WRITE | FAST)
        .acl(&["@keyspace", "@write", "@fast"])
        .keys(1, -1, 1)
        .doc(
            "generic",
            "4.0.0",
            "Asynchronously deletes one or more keys.",
            "O(1) for each key removed regardless of its size.",
        ),
    Command::new("exists", -2, exists)
        .flags(READONLY | FAST)
        .acl(&["@keyspace", "@read", "@fast"])
        .keys(1, -1, 1)
        .locks(Locks::Keys(Mode::Read))
        .doc(
            "generic",
            "1.0.0",
            "Determines whether one or more keys exist.",
            "O(N) where N is the number of keys to check.",
        ),
];

/// `DEL key [key ...]` and `UNLINK key [key ...]`
fn del(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let mut db = ctx.db();
    let deleted = args[1..].iter().filter(|key| db.delete(key)).count();
    ctx.dirty += deleted as u64;
    ctx.out.int(deleted as i64);
    Ok(())
}

/// `EXISTS key [key ...]`: counts repeated keys each time.
fn exists(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let db = ctx.db();
    let found = args[1..].iter().filter(|key| db.exists(key)).count();
    ctx.out.int(found as i64);
    Ok(())
}
