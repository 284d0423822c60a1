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

/// A cursor over optional arguments, for commands with `[NX|XX] [GET] ...`
/// style trailing options.
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

    pub fn is_done(&self) -> bool {
        self.pos >= self.args.len()
    }

    /// Arguments left.
    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    /// The next argument, or `ERR syntax error` if there is none.
    pub fn next_arg(&mut self) -> CommandResult<&'a [u8]> {
        let arg = self.args.get(self.pos).ok_or(error::SYNTAX)?;
        self.pos += 1;
        Ok(arg)
    }

    /// The next argument, if any.
    pub fn next_opt(&mut self) -> Option<&'a [u8]> {
        let arg = self.args.get(self.pos)?;
        self.pos += 1;
        Some(arg)
    }

    /// The next argument as an integer (syntax error if missing).
    pub fn next_int(&mut self) -> CommandResult<i64> {
        int(self.next_arg()?)
    }

    /// Looks at the next argument without consuming it.
    pub fn peek(&self) -> Option<&'a [u8]> {
        self.args.get(self.pos).map(Vec::as_slice)
    }

    /// Everything not consumed yet.
    pub fn rest(&self) -> &'a [Vec<u8>] {
        &self.args[self.pos.min(self.args.len())..]
    }
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
