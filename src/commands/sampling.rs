//! What SRANDMEMBER, HRANDFIELD and ZRANDMEMBER share: their count
//! argument, the largest reply sedis builds for one, and picking distinct
//! elements at random.

use crate::error::{self, CommandError, CommandResult};
use crate::rng::Rng;

use super::args;

/// Largest `|count|` served: Redis would try to build any reply asked for,
/// however large; sedis refuses one that could not fit in memory.
const MAX_COUNT: u64 = 1 << 27;

/// The count argument (negative: elements may repeat), with Redis's range
/// (`-LONG_MAX..=LONG_MAX`) and sedis's limit.
pub fn count(arg: &[u8]) -> CommandResult<i64> {
    let count = args::int_in_range(arg, -i64::MAX, i64::MAX, None)?;
    if count.unsigned_abs() > MAX_COUNT {
        return Err(CommandError::err("value is out of range"));
    }
    Ok(count)
}

/// HRANDFIELD's and ZRANDMEMBER's `count [option]` from `args[2]` on
/// (`option` is WITHVALUES or WITHSCORES): the count and whether the option
/// was given. With it, a count past half the range is refused before the
/// limit, as Redis refuses a reply twice that long.
pub fn count_with(args: &[Vec<u8>], option: &str) -> CommandResult<(i64, bool)> {
    let count = args::int_in_range(&args[2], -i64::MAX, i64::MAX, None)?;
    let with = match args.get(3) {
        None => false,
        Some(arg) if args.len() == 4 && args::is_option(arg, option) => true,
        Some(_) => return Err(error::SYNTAX),
    };
    if with && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::err("value is out of range"));
    }
    if count.unsigned_abs() > MAX_COUNT {
        return Err(CommandError::err("value is out of range"));
    }
    Ok((count, with))
}

/// `wanted` distinct elements of `all`, in random order (Floyd's sampling).
pub fn sample_distinct<T>(mut all: Vec<T>, wanted: usize, rng: &mut Rng) -> Vec<T> {
    let len = all.len();
    for i in 0..wanted.min(len) {
        let j = i + rng.below((len - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(wanted);
    all
}
