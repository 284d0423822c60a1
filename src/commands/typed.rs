//! A looked-up key's value as the aggregate type a command expects (Redis's
//! `checkType` after a lookup): nothing for a missing key, WRONGTYPE for
//! another type. And the other half of Redis's rule that an aggregate is
//! never kept empty: deleting one a command emptied, and storing a STORE
//! command's empty result as no key at all.

use crate::channels::notify;
use crate::error::{self, CommandResult};
use crate::store::types::Aggregate;
use crate::store::{Db, Entry};

use super::Ctx;

/// The `T` in a looked-up entry: `Ok(None)` if the key is missing,
/// WRONGTYPE if it holds another type.
pub fn as_type<T: Aggregate>(entry: Option<&mut Entry>) -> CommandResult<Option<&mut T>> {
    match entry {
        None => Ok(None),
        Some(entry) => T::of_mut(&mut entry.value)
            .map(Some)
            .ok_or(error::WRONGTYPE),
    }
}

/// Replies with a number read from the `T` at `key` (HLEN, SISMEMBER,
/// ZCARD...): 0 for a missing key, WRONGTYPE for another type.
pub fn reply_count<T: Aggregate>(
    ctx: &mut Ctx,
    key: &[u8],
    count: impl FnOnce(&T) -> usize,
) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let n = as_type::<T>(db.lookup_read(key))?.map_or(0, |value| count(value));
    out.int(n as i64);
    Ok(())
}

/// Deletes `key` if the `T` it holds became empty; true if it did.
pub fn delete_if_empty<T: Aggregate>(db: &mut Db, key: &[u8]) -> bool {
    if db
        .peek(key)
        .and_then(|e| T::of(&e.value))
        .is_some_and(T::is_empty)
    {
        db.delete(key)
    } else {
        false
    }
}

/// Stores a STORE command's `result` (of `len` elements) at `dst`, or
/// deletes `dst` if it is empty, notifies `event` of `class` (or `del`),
/// and replies with the length.
pub fn store_result<T: Aggregate>(
    ctx: &mut Ctx,
    dst: &[u8],
    result: T,
    len: usize,
    class: u32,
    event: &str,
) -> CommandResult {
    let mut db = ctx.db();
    if len == 0 {
        if db.delete(dst) {
            ctx.dirty += 1;
            ctx.notify(notify::GENERIC, "del", dst);
        }
    } else {
        db.set(dst, result.into_value());
        ctx.dirty += 1;
        ctx.notify(class, event, dst);
    }
    ctx.out.int(len as i64);
    Ok(())
}

/// HDEL, SREM and ZREM: removes `elements` from the `T` at `key` with
/// `remove` (stopping once it is empty, as Redis does), deletes the key if
/// it was emptied, notifies `event` of `class` (then `del`), and replies
/// with how many elements went.
pub fn remove_elements<T: Aggregate>(
    ctx: &mut Ctx,
    key: &[u8],
    elements: &[Vec<u8>],
    remove: impl Fn(&mut T, &[u8]) -> bool,
    class: u32,
    event: &str,
) -> CommandResult {
    let mut db = ctx.db();
    let Some(value) = as_type::<T>(db.lookup_write(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for element in elements {
        if remove(value, element) {
            removed += 1;
            if value.is_empty() {
                break;
            }
        }
    }
    if removed > 0 {
        db.signal_modified(key);
        let deleted = delete_if_empty::<T>(&mut db, key);
        ctx.dirty += removed;
        ctx.notify(class, event, key);
        if deleted {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out.int(removed as i64);
    Ok(())
}
