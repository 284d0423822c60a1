//! A looked-up key's value as the aggregate type a command expects (Redis's
//! `checkType` after a lookup): nothing for a missing key, WRONGTYPE for
//! another type. And the other half of Redis's rule that an aggregate is
//! never kept empty: deleting one a command emptied.

use crate::error::{self, CommandResult};
use crate::store::types::Aggregate;
use crate::store::{Db, Entry};

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
