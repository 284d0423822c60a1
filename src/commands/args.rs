//! Strict argument parsing for handlers: each helper validates and returns
//! Redis's exact error, so a handler reads as "parse → reply error → return".

use crate::error::{self, CommandError, CommandResult};
use crate::num;

/// An integer argument, or `ERR value is not an integer or out of range`.
pub fn int(arg: &[u8]) -> CommandResult<i64> {
    num::parse_i64(arg).ok_or(error::NOT_INTEGER)
}

/// An integer argument with a custom error (Redis varies the text by command).
pub fn int_or(arg: &[u8], err: CommandError) -> CommandResult<i64> {
    num::parse_i64(arg).ok_or(err)
}

/// A float argument, or `ERR value is not a valid float`.
pub fn float(arg: &[u8]) -> CommandResult<f64> {
    num::parse_f64(arg).ok_or(error::NOT_FLOAT)
}

/// An argument Redis reads as a C `int` (`getIntFromObjectOrReply`): an
/// integer, then within 32 bits, each with its own error.
pub fn int32(arg: &[u8]) -> CommandResult<i64> {
    let n = int(arg)?;
    if n < i64::from(i32::MIN) || n > i64::from(i32::MAX) {
        return Err(CommandError::canned(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    Ok(n)
}

/// A database index as SELECT, MOVE and COPY ... DB read it: an `int`, then
/// an existing database.
pub fn db_index(arg: &[u8], databases: usize) -> CommandResult<usize> {
    let index = int32(arg)?;
    if index < 0 || index as usize >= databases {
        return Err(error::DB_INDEX_OUT_OF_RANGE);
    }
    Ok(index as usize)
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// A choice of two keywords (compared as C strings, as Redis compares
/// options): true for `yes`, false for `no`, else a syntax error.
pub fn either(arg: &[u8], no: &str, yes: &str) -> CommandResult<bool> {
    if is_option(arg, yes) {
        Ok(true)
    } else if is_option(arg, no) {
        Ok(false)
    } else {
        Err(crate::error::SYNTAX)
    }
}

/// The value `arg` names among `keywords` (any case), if it names one.
pub fn keyword<T: Copy>(arg: &[u8], keywords: &[(&str, T)]) -> Option<T> {
    keywords.iter().find(|(k, _)| is(arg, k)).map(|(_, v)| *v)
}

/// Reads a command's arguments left to right, as Redis's option loops do
/// (mini-redis's `Parse`): each read fails with Redis's error for what it
/// expected, and [`Cursor::finish`] refuses what is left. A handler's
/// option loop reads
///
/// ```text
/// let mut c = Cursor::new(args, 3);
/// while let Some(option) = c.next() {
///     if is_option(option, "count") {
///         count = c.next_int()?;
///     } else {
///         return Err(error::SYNTAX);
///     }
/// }
/// ```
///
/// An option taking several values checks [`Cursor::has`] first, as
/// Redis checks `j + n < argc`: without them all, the keyword is no option
/// (a syntax error) whatever the values would have said.
#[derive(Debug)]
pub struct Cursor<'a> {
    args: &'a [Vec<u8>],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Starts at `args[start]`.
    pub fn new(args: &'a [Vec<u8>], start: usize) -> Self {
        Cursor { args, pos: start }
    }

    /// True if at least `n` arguments are left.
    pub fn has(&self, n: usize) -> bool {
        self.args.len().saturating_sub(self.pos) >= n
    }

    /// The next argument, which must be there (`ERR syntax error`).
    pub fn next_bytes(&mut self) -> CommandResult<&'a [u8]> {
        self.next().ok_or(error::SYNTAX)
    }

    /// The next argument as an integer ([`int`]'s error), which must be
    /// there (`ERR syntax error`).
    pub fn next_int(&mut self) -> CommandResult<i64> {
        int(self.next_bytes()?)
    }

    /// `ERR syntax error` unless every argument was read.
    pub fn finish(&self) -> CommandResult {
        if self.has(1) {
            return Err(error::SYNTAX);
        }
        Ok(())
    }
}

/// The arguments left, one by one.
impl<'a> Iterator for Cursor<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let arg = self.args.get(self.pos)?;
        self.pos += 1;
        Some(arg)
    }
}

/// Clamps a Redis index range `start..=end` (negative indexes count from
/// the end) to `len` elements, as LRANGE, LTRIM, ZRANGE and
/// ZREMRANGEBYRANK do; `None` if nothing is left.
pub fn index_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

/// True if an argument is `keyword` as Redis compares options with
/// `strcasecmp`: as C strings, so the argument ends at its first NUL byte
/// (`LEFT\0junk` is LEFT).
pub fn is_option(arg: &[u8], keyword: &str) -> bool {
    crate::error::c_str_prefix(arg, usize::MAX).eq_ignore_ascii_case(keyword.as_bytes())
}

/// An integer argument that must lie in `min..=max` (Redis's
/// `getRangeLongFromObjectOrReply`): with `message`, that text (as an
/// `ERR`) for both a non-integer and an out-of-range value; without,
/// Redis's generic texts.
pub fn int_in_range(
    arg: &[u8],
    min: i64,
    max: i64,
    message: Option<&'static str>,
) -> CommandResult<i64> {
    let custom = || message.map(CommandError::err);
    let n = num::parse_i64(arg).ok_or_else(|| custom().unwrap_or(error::NOT_INTEGER))?;
    if n < min || n > max {
        return Err(custom().unwrap_or_else(|| {
            CommandError::err(format_args!(
                "value is out of range, value must between {min} and {max}"
            ))
        }));
    }
    Ok(n)
}

/// A count that must be 0 or more (Redis's
/// `getPositiveLongFromObjectOrReply`): `message` is the error for both a
/// non-integer and a negative value, by default Redis's "must be positive".
pub fn non_negative(arg: &[u8], message: Option<&'static str>) -> CommandResult<i64> {
    int_in_range(
        arg,
        0,
        i64::MAX,
        Some(message.unwrap_or("value is out of range, must be positive")),
    )
}

/// LMPOP, BLMPOP, ZMPOP and BZMPOP's `numkeys key [key ...] <end> [COUNT
/// count]`, with `numkeys` at `at`: the keys, the end to pop from (read by
/// `end`: LEFT or RIGHT, MIN or MAX) and COUNT (1 by default), with
/// Redis's errors in Redis's order.
pub fn mpop<E>(
    args: &[Vec<u8>],
    at: usize,
    end: fn(&[u8]) -> CommandResult<E>,
) -> CommandResult<(&[Vec<u8>], E, usize)> {
    let numkeys = int_in_range(
        &args[at],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )? as u64;
    let end_at = (at as u64).saturating_add(numkeys).saturating_add(1);
    if end_at >= args.len() as u64 {
        return Err(error::SYNTAX);
    }
    let end_at = end_at as usize;
    let which = end(&args[end_at])?;
    let mut count = None;
    let mut c = Cursor::new(args, end_at + 1);
    while let Some(option) = c.next() {
        if count.is_none() && is_option(option, "count") {
            let n = c.next_bytes()?;
            count = Some(
                int_in_range(n, 1, i64::MAX, Some("count should be greater than 0"))? as usize,
            );
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok((&args[at + 1..end_at], which, count.unwrap_or(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_ranges_clamp_like_redis() {
        assert_eq!(index_range(0, -1, 3), Some((0, 2)));
        assert_eq!(index_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(index_range(2, 1, 3), None);
        assert_eq!(index_range(3, 5, 3), None);
        assert_eq!(index_range(-1, -1, 3), Some((2, 2)));
        assert_eq!(index_range(0, -4, 3), None);
        assert_eq!(index_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }
}
