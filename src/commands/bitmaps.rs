//! Bitmap commands (Redis's `bitops.c`): single bits (SETBIT, GETBIT),
//! counting and searching (BITCOUNT, BITPOS), combining strings (BITOP)
//! and integers of any width at any bit offset (BITFIELD, BITFIELD_RO).
//!
//! Bitmaps are plain strings: bit 0 is the most significant bit of the
//! first byte, and bits past the end read as zero. Writes grow the string
//! with zero bytes to reach the highest bit they touch, and leave it `raw`
//! (as Redis's `dbUnshareStringValue` does), whatever it was before. The
//! offset a client may name is bounded by `proto-max-bulk-len`, so no
//! command allocates more than that for a string.

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::num;
use crate::store::{Db, StrValue, Value};

use super::Ctx;
use super::args;
use super::strings::{lookup_str, max_string_len, zeroed};
use super::table::{BeginSearch, Command, FindKeys, KeySpecInfo, flags::*};

const BIT_OFFSET_ERR: CommandError =
    CommandError::canned("ERR bit offset is not an integer or out of range");
const BIT_VALUE_ERR: CommandError =
    CommandError::canned("ERR bit is not an integer or out of range");
const BITFIELD_TYPE_ERR: CommandError = CommandError::canned(
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
);

/// A bit offset argument (Redis's `getBitOffsetFromArgument`): a
/// non-negative integer whose byte lies within `proto-max-bulk-len`
/// (`max_len`). With `hash_bits`, BITFIELD's `#N` form is accepted and
/// means N fields of that width.
fn bit_offset(arg: &[u8], max_len: u64, hash_bits: Option<u32>) -> CommandResult<u64> {
    let (digits, times) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits),
        _ => (arg, 1),
    };
    let offset = num::parse_i64(digits).ok_or(BIT_OFFSET_ERR)?;
    // Redis multiplies in C, where the product wraps: a huge `#N` may land
    // on a small valid offset there, and so it does here.
    let offset = offset.wrapping_mul(i64::from(times));
    if offset < 0 || (offset as u64 >> 3) >= max_len {
        return Err(BIT_OFFSET_ERR);
    }
    Ok(offset as u64)
}

/// The bit at `offset` (0 past the end).
fn get_bit(bytes: &[u8], offset: u64) -> bool {
    let byte = (offset >> 3) as usize;
    bytes
        .get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Replied when the memory for a string within `proto-max-bulk-len` cannot
/// be had (Redis would abort).
const ALLOC_FAILED: CommandError = super::strings::STRING_ALLOC_FAILED;

/// Redis's `lookupStringForBitCommand`: the string at `key`, made `raw` and
/// grown with zero bytes so that bit `max_bit` exists, or a new one of that
/// size, handed to `edit` with whether the string was created or grew
/// (which counts as a change, whatever `edit` does). A new key is added
/// once edited, without signalling it (as Redis's `dbAdd`). WRONGTYPE for
/// another type. The caller signals the key if it changed it.
fn edit_bits<R>(
    db: &mut Db,
    key: &[u8],
    max_bit: u64,
    edit: impl FnOnce(&mut [u8], bool) -> R,
) -> CommandResult<R> {
    let needed = usize::try_from((max_bit >> 3) + 1).map_err(|_| ALLOC_FAILED)?;
    match lookup_str(db.lookup_write(key))? {
        Some(s) => {
            let raw = s.make_raw();
            let grew = raw.len() < needed;
            if grew {
                raw.try_reserve_exact(needed - raw.len())
                    .map_err(|_| ALLOC_FAILED)?;
                raw.resize(needed, 0);
            }
            Ok(edit(raw, grew))
        }
        None => {
            let mut bytes = zeroed(needed)?;
            let result = edit(&mut bytes, true);
            db.add(key, Value::Str(StrValue::Raw(Box::new(bytes))));
            Ok(result)
        }
    }
}

/// `SETBIT key offset value`
fn setbit(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let offset = bit_offset(&args[2], max_string_len(ctx), None)?;
    let on = args::int_or(&args[3], BIT_VALUE_ERR)?;
    if on & !1 != 0 {
        return Err(BIT_VALUE_ERR);
    }
    let on = on == 1;
    let mut db = ctx.db();
    let (old, changed) = edit_bits(&mut db, key, offset, |bytes, grew| {
        let byte = &mut bytes[(offset >> 3) as usize];
        let mask = 0x80 >> (offset & 7);
        let old = *byte & mask != 0;
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        (old, grew || old != on)
    })?;
    if changed {
        db.signal_modified(key);
        ctx.dirty += 1;
        ctx.notify(notify::STRING, "setbit", key);
    }
    ctx.out.int(i64::from(old));
    Ok(())
}

/// `GETBIT key offset`
fn getbit(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let offset = bit_offset(&args[2], max_string_len(ctx), None)?;
    let (mut db, out) = ctx.db_and_out();
    let bit = lookup_str(db.lookup_read(&args[1]))?.is_some_and(|s| get_bit(&s.bytes(), offset));
    out.int(i64::from(bit));
    Ok(())
}

/// The number of set bits in `bytes`, eight bytes at a time with the CPU's
/// population count where it has one.
pub fn popcount(bytes: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU was just found to have the instruction.
            return unsafe { popcount_popcnt(bytes) };
        }
    }
    popcount_words(bytes)
}

/// [`popcount_words`] compiled for the `popcnt` instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn popcount_popcnt(bytes: &[u8]) -> u64 {
    popcount_words(bytes)
}

/// Counts whole words, four at a time so the additions run in parallel,
/// then the bytes left.
#[inline(always)]
fn popcount_words(bytes: &[u8]) -> u64 {
    let mut blocks = bytes.chunks_exact(32);
    let mut counts = [0u64; 4];
    for block in &mut blocks {
        for (count, word) in counts.iter_mut().zip(block.chunks_exact(8)) {
            let word = u64::from_ne_bytes(word.try_into().unwrap_or_default());
            *count += u64::from(word.count_ones());
        }
    }
    let mut total: u64 = counts.iter().sum();
    let mut words = blocks.remainder().chunks_exact(8);
    for word in &mut words {
        total += u64::from(u64::from_ne_bytes(word.try_into().unwrap_or_default()).count_ones());
    }
    total
        + words
            .remainder()
            .iter()
            .map(|b| u64::from(b.count_ones()))
            .sum::<u64>()
}

/// Whether a BITCOUNT or BITPOS range counts bytes or bits: `BYTE` or
/// `BIT` (as C strings, as Redis compares them), else a syntax error.
fn range_in_bits(unit: &[u8]) -> CommandResult<bool> {
    args::either(unit, "byte", "bit")
}

/// A BITCOUNT or BITPOS range resolved against a string of `len` bytes:
/// the bytes `start..=end`, and in BIT mode the masks of the bits of the
/// first and last byte that lie outside the range (set bits = excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BitRange {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

impl BitRange {
    /// Redis's conversion: negative indexes count from the end (of the
    /// bytes, or of the bits in BIT mode), then both ends are clamped into
    /// the string; `start > end` means nothing is in range.
    fn resolve(len: usize, mut start: i64, mut end: i64, bits: bool) -> BitRange {
        let mut total = len as i64;
        if bits {
            total <<= 3;
        }
        if start < 0 {
            start += total;
        }
        if end < 0 {
            end += total;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= total {
            end = total - 1;
        }
        let (mut first_mask, mut last_mask) = (0, 0);
        if bits && start <= end {
            first_mask = !(0xffu8 >> (start & 7));
            last_mask = (1u8 << (7 - (end & 7))).wrapping_sub(1);
            start >>= 3;
            end >>= 3;
        }
        BitRange {
            start,
            end,
            first_mask,
            last_mask,
        }
    }
}

/// `BITCOUNT key [start end [BYTE|BIT]]`
fn bitcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let (mut db, out) = ctx.db_and_out();
    let Some(s) = lookup_str(db.lookup_read(&args[1]))? else {
        out.int(0);
        return Ok(());
    };
    let bytes = s.bytes();
    let range = match args.len() {
        2 => BitRange::resolve(bytes.len(), 0, -1, false),
        4 | 5 => {
            let start = args::int(&args[2])?;
            let end = args::int(&args[3])?;
            // Both ends counted from the end, in the wrong order: nothing,
            // even before the unit is looked at.
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let bits = args.len() == 5 && range_in_bits(&args[4])?;
            BitRange::resolve(bytes.len(), start, end, bits)
        }
        _ => return Err(error::SYNTAX),
    };
    out.int(count_in(&bytes, range) as i64);
    Ok(())
}

/// The set bits of `bytes` within `range`.
fn count_in(bytes: &[u8], range: BitRange) -> u64 {
    if range.start > range.end {
        return 0;
    }
    let (start, end) = (range.start as usize, range.end as usize);
    let outside = (bytes[start] & range.first_mask).count_ones()
        + (bytes[end] & range.last_mask).count_ones();
    popcount(&bytes[start..=end]) - u64::from(outside)
}

/// Redis's `redisBitpos`: the position of the first bit equal to `bit` in
/// `bytes`. Looking for a 1 that is not there gives -1; looking for a 0
/// that is not there gives the first bit past the end, as if the string
/// went on with zeros.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0u8 } else { 0xff };
    let mut words = bytes.chunks_exact(8);
    let mut at = 0usize;
    let skip_word = u64::from_ne_bytes([skip; 8]);
    for word in &mut words {
        if u64::from_ne_bytes(word.try_into().unwrap_or_default()) != skip_word {
            break;
        }
        at += 8;
    }
    match bytes[at..].iter().position(|&b| b != skip) {
        Some(i) => {
            let byte = bytes[at + i];
            let within = if bit {
                byte.leading_zeros()
            } else {
                byte.leading_ones()
            };
            ((at + i) as i64) * 8 + i64::from(within)
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]`
fn bitpos(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let bit = args::int(&args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CommandError::canned("ERR The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    let (mut db, out) = ctx.db_and_out();
    // A missing key is an endless run of zeros.
    let Some(s) = lookup_str(db.lookup_read(&args[1]))? else {
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let bytes = s.bytes();
    let (range, end_given) = match args.len() {
        3 => (BitRange::resolve(bytes.len(), 0, -1, false), false),
        4..=6 => {
            let start = args::int(&args[3])?;
            let bits = args.len() == 6 && range_in_bits(&args[5])?;
            let end = args.get(4).map(|end| args::int(end)).transpose()?;
            // Without an end, Redis's default, which the clamp brings back
            // inside the string.
            let len = bytes.len() as i64;
            let default_end = if bits { (len << 3) + 7 } else { len - 1 };
            let range = BitRange::resolve(bytes.len(), start, end.unwrap_or(default_end), bits);
            (range, end.is_some())
        }
        _ => return Err(error::SYNTAX),
    };
    out.int(bitpos_in(&bytes, range, bit, end_given));
    Ok(())
}

/// BITPOS within a resolved range, as Redis searches it: the partial first
/// byte (its outside bits forced to the opposite of `bit`), the whole
/// bytes, then the partial last byte. With an explicit end, a 0 not found
/// inside the range is -1 rather than the bit past it.
fn bitpos_in(bytes: &[u8], range: BitRange, bit: bool, end_given: bool) -> i64 {
    if range.start > range.end {
        return -1;
    }
    let (mut start, end) = (range.start as usize, range.end as usize);
    let mut count = end - start + 1;
    // A byte with the bits outside the range made unable to match.
    let masked = |byte: u8, mask: u8| if bit { byte & !mask } else { byte | mask };
    let pos = 'search: {
        if range.first_mask != 0 {
            let mut first = masked(bytes[start], range.first_mask);
            if range.last_mask != 0 && count == 1 {
                first = masked(first, range.last_mask);
            }
            let pos = first_bit(&[first], bit);
            if count == 1 || (pos != -1 && pos != 8) {
                break 'search pos;
            }
            start += 1;
            count -= 1;
        }
        let whole = count - usize::from(range.last_mask != 0);
        if whole > 0 {
            let pos = first_bit(&bytes[start..start + whole], bit);
            if count == whole || (pos != -1 && pos != (whole as i64) << 3) {
                break 'search pos;
            }
            start += whole;
            count -= whole;
        }
        first_bit(&[masked(bytes[end], range.last_mask)], bit)
    };
    if end_given && !bit && pos == (count as i64) << 3 {
        return -1;
    }
    if pos == -1 {
        pos
    } else {
        pos + ((start as i64) << 3)
    }
}

/// BITOP's operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// The result of `op` over `sources`, as long as the longest one (shorter
/// ones read as zero-padded).
fn bitop_result(op: BitOp, sources: &[&[u8]]) -> CommandResult<Vec<u8>> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut result = zeroed(len)?;
    let Some((first, rest)) = sources.split_first() else {
        return Ok(result);
    };
    result[..first.len()].copy_from_slice(first);
    match op {
        BitOp::Not => result.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for source in rest {
                for (r, s) in result.iter_mut().zip(source.iter()) {
                    *r &= s;
                }
                // Past a shorter source's end its bytes are zeros.
                result[source.len()..].fill(0);
            }
        }
        BitOp::Or | BitOp::Xor => {
            for source in rest {
                for (r, s) in result.iter_mut().zip(source.iter()) {
                    if op == BitOp::Or {
                        *r |= s;
                    } else {
                        *r ^= s;
                    }
                }
            }
        }
    }
    Ok(result)
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`
fn bitop(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let op = args::keyword(
        error::c_str_prefix(&args[1], usize::MAX),
        &[
            ("and", BitOp::And),
            ("or", BitOp::Or),
            ("xor", BitOp::Xor),
            ("not", BitOp::Not),
        ],
    )
    .ok_or(error::SYNTAX)?;
    if op == BitOp::Not && args.len() != 4 {
        return Err(CommandError::canned(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let (dest, keys) = (&args[2], &args[3..]);
    let mut db = ctx.db();
    // The lookups first (expiry, statistics, types, in Redis's order), then
    // every source borrowed at once to compute the result without copies.
    for key in keys {
        lookup_str(db.lookup_read(key))?;
    }
    let result = {
        let values: Vec<_> = keys
            .iter()
            .map(|key| match db.peek(key).map(|e| &e.value) {
                Some(Value::Str(s)) => Some(s.bytes()),
                _ => None,
            })
            .collect();
        let sources: Vec<&[u8]> = values.iter().map(|v| v.as_deref().unwrap_or(&[])).collect();
        bitop_result(op, &sources)?
    };
    let len = result.len();
    // Always a `raw` string, however short, as Redis creates it.
    let value = (len > 0).then(|| Value::Str(StrValue::Raw(Box::new(result))));
    super::store_or_delete(ctx, dest, value, 1, (notify::STRING, "set"));
    ctx.out.int(len as i64);
    Ok(())
}

/// What BITFIELD does when a SET or INCRBY does not fit the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    /// Keep the low bits (two's complement for signed fields).
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Change nothing and reply null.
    Fail,
}

/// A field's type: `i1`..`i64` or `u1`..`u63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldType {
    signed: bool,
    bits: u32,
}

/// A BITFIELD type argument (Redis's `getBitfieldTypeFromArgument`), read
/// as a C string as Redis reads it.
fn field_type(arg: &[u8]) -> CommandResult<FieldType> {
    let arg = error::c_str_prefix(arg, usize::MAX);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(BITFIELD_TYPE_ERR),
    };
    let bits = num::parse_i64(&arg[1..]).ok_or(BITFIELD_TYPE_ERR)?;
    let most = if signed { 64 } else { 63 };
    if !(1..=most).contains(&bits) {
        return Err(BITFIELD_TYPE_ERR);
    }
    Ok(FieldType {
        signed,
        bits: bits as u32,
    })
}

/// The unsigned `bits`-wide field at bit `offset` (bits past the end read
/// as zero). A field spans at most 9 bytes, read as one big-endian number.
fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let mut buf = [0u8; 16];
    if let Some(tail) = usize::try_from(offset >> 3)
        .ok()
        .and_then(|byte| bytes.get(byte..))
    {
        let n = tail.len().min(9);
        buf[..n].copy_from_slice(&tail[..n]);
    }
    let word = u128::from_be_bytes(buf);
    ((word << (offset & 7)) >> (128 - bits)) as u64
}

/// The signed (two's complement) `bits`-wide field at bit `offset`.
fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((get_unsigned(bytes, offset, bits) << shift) as i64) >> shift
}

/// Writes the low `bits` bits of `value` at bit `offset`; `bytes` reaches
/// the field's last bit (see [`edit_bits`]).
fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let byte = (offset >> 3) as usize;
    let skip = (offset & 7) as u32;
    let n = (skip + bits).div_ceil(8) as usize;
    let Some(span) = bytes.get_mut(byte..byte + n) else {
        return;
    };
    let mut buf = [0u8; 16];
    buf[..n].copy_from_slice(span);
    let low = 128 - skip - bits;
    let mask = ((1u128 << bits) - 1) << low;
    let word = (u128::from_be_bytes(buf) & !mask) | ((u128::from(value) << low) & mask);
    span.copy_from_slice(&word.to_be_bytes()[..n]);
}

/// `value + incr` in a `bits`-wide unsigned field, with Redis's
/// `checkUnsignedBitfieldOverflow` deciding when it overflows: then the
/// wrapped or saturated value, or `None` under FAIL.
fn unsigned_add(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    // The C computes these in wrapping arithmetic; they are only compared
    // where they are meaningful.
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    let limit = |saturated: u64| match overflow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(saturated),
        Overflow::Fail => None,
    };
    if value > max || (incr > 0 && incr > max_incr) {
        limit(max)
    } else if incr < 0 && incr < min_incr {
        limit(0)
    } else {
        Some(value.wrapping_add(incr as u64))
    }
}

/// [`unsigned_add`] for a `bits`-wide signed field (Redis's
/// `checkSignedBitfieldOverflow`).
fn signed_add(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let sum = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            return sum as i64;
        }
        // Sign-extend from the field's top bit.
        let shift = 64 - bits;
        ((sum << shift) as i64) >> shift
    };
    let limit = |saturated: i64| match overflow {
        Overflow::Wrap => Some(wrapped()),
        Overflow::Sat => Some(saturated),
        Overflow::Fail => None,
    };
    let wide = bits != 64;
    if value > max || (wide && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        limit(max)
    } else if value < min || (wide && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr)
    {
        limit(min)
    } else {
        Some(value.wrapping_add(incr))
    }
}

/// One BITFIELD operation, parsed.
#[derive(Debug, Clone, Copy)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    op: FieldOp,
    kind: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// Parses BITFIELD's operations as Redis does, all before any runs: each
/// keyword needs all its arguments (else a syntax error), and OVERFLOW
/// applies to the operations after it.
fn parse_fields(args: &[Vec<u8>], max_len: u64) -> CommandResult<Vec<Field>> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let word = &args[j];
        let op = if args::is_option(word, "get") && left >= 2 {
            FieldOp::Get
        } else if args::is_option(word, "set") && left >= 3 {
            FieldOp::Set(0)
        } else if args::is_option(word, "incrby") && left >= 3 {
            FieldOp::IncrBy(0)
        } else if args::is_option(word, "overflow") && left >= 1 {
            overflow = args::keyword(
                error::c_str_prefix(&args[j + 1], usize::MAX),
                &[
                    ("wrap", Overflow::Wrap),
                    ("sat", Overflow::Sat),
                    ("fail", Overflow::Fail),
                ],
            )
            .ok_or(CommandError::canned("ERR Invalid OVERFLOW type specified"))?;
            j += 2;
            continue;
        } else {
            return Err(error::SYNTAX);
        };
        let kind = field_type(&args[j + 1])?;
        let offset = bit_offset(&args[j + 2], max_len, Some(kind.bits))?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(args::int(&args[j + 3])?),
            FieldOp::IncrBy(_) => FieldOp::IncrBy(args::int(&args[j + 3])?),
        };
        fields.push(Field {
            op,
            kind,
            offset,
            overflow,
        });
        j += if matches!(op, FieldOp::Get) { 3 } else { 4 };
    }
    Ok(fields)
}

/// What one BITFIELD operation replies: a number, or null when FAIL
/// refused it.
type FieldReply = Option<i64>;

/// Runs a SET or INCRBY on `bytes`: its reply (INCRBY's new value, SET's
/// old one), and whether it changed the field.
fn write_field(bytes: &mut [u8], field: &Field) -> (FieldReply, bool) {
    let FieldType { signed, bits } = field.kind;
    let offset = field.offset;
    // SET checks its value as an increment of 0 from it.
    let (set, incr) = match field.op {
        FieldOp::Set(value) => (Some(value), 0),
        FieldOp::IncrBy(incr) => (None, incr),
        FieldOp::Get => (None, 0),
    };
    let (old, new) = if signed {
        let old = get_signed(bytes, offset, bits);
        let new = signed_add(set.unwrap_or(old), incr, bits, field.overflow);
        (old as u64, new.map(|n| n as u64))
    } else {
        let old = get_unsigned(bytes, offset, bits);
        let new = unsigned_add(set.map_or(old, |v| v as u64), incr, bits, field.overflow);
        (old, new)
    };
    let Some(new) = new else {
        return (None, false);
    };
    set_field(bytes, offset, bits, new);
    let reply = if set.is_some() { old } else { new };
    // Signed fields reply sign-extended; `old` and `new` already are.
    (Some(reply as i64), new != old)
}

/// Reads a GET's field.
fn read_field(bytes: &[u8], field: &Field) -> i64 {
    let FieldType { signed, bits } = field.kind;
    if signed {
        get_signed(bytes, field.offset, bits)
    } else {
        get_unsigned(bytes, field.offset, bits) as i64
    }
}

/// BITFIELD and BITFIELD_RO (Redis's `bitfieldGeneric`): all operations
/// are parsed first; with only GETs the key is read, otherwise it is grown
/// to the farthest bit written and the operations run in order.
fn bitfield_generic(ctx: &mut Ctx, args: &[Vec<u8>], read_only: bool) -> CommandResult {
    let key = &args[1];
    let fields = parse_fields(args, max_string_len(ctx))?;
    let highest = fields
        .iter()
        .filter(|f| !matches!(f.op, FieldOp::Get))
        .map(|f| f.offset + u64::from(f.kind.bits) - 1)
        .max();
    let Some(highest) = highest else {
        let (mut db, out) = ctx.db_and_out();
        let value = lookup_str(db.lookup_read(key))?;
        let bytes = value.map(|s| s.bytes());
        let bytes = bytes.as_deref().unwrap_or(&[]);
        out.array(fields.len());
        for field in &fields {
            out.int(read_field(bytes, field));
        }
        return Ok(());
    };
    if read_only {
        return Err(CommandError::canned(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let mut db = ctx.db();
    let (replies, changes) = edit_bits(&mut db, key, highest, |bytes, grew| {
        let mut changes = 0u64;
        let replies: Vec<FieldReply> = fields
            .iter()
            .map(|field| {
                if matches!(field.op, FieldOp::Get) {
                    return Some(read_field(bytes, field));
                }
                let (reply, changed) = write_field(bytes, field);
                // Every write counts on a string just made or grown.
                if reply.is_some() && (grew || changed) {
                    changes += 1;
                }
                reply
            })
            .collect();
        (replies, changes)
    })?;
    if changes > 0 {
        db.signal_modified(key);
        ctx.dirty += changes;
        ctx.notify(notify::STRING, "setbit", key);
    }
    ctx.out.array(replies.len());
    for reply in replies {
        match reply {
            Some(n) => ctx.out.int(n),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value | INCRBY type offset increment] ...`
fn bitfield(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    bitfield_generic(ctx, args, false)
}

/// `BITFIELD_RO key [GET type offset ...]`
fn bitfield_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    bitfield_generic(ctx, args, true)
}

/// BITFIELD's key and its flags (Redis's `bitfieldGetKeys`): read-only if
/// the operations before the first write (or the first word that is no
/// operation) are all GETs and OVERFLOWs.
fn bitfield_getkeys(argv: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    let mut read_only = true;
    let mut i = 2;
    while i < argv.len() {
        let left = argv.len() - i - 1;
        let word = &argv[i];
        if args::is_option(word, "get") && left >= 2 {
            i += 3;
        } else if (args::is_option(word, "set") || args::is_option(word, "incrby")) && left >= 3 {
            read_only = false;
            break;
        } else if args::is_option(word, "overflow") && left >= 1 {
            i += 2;
        } else {
            read_only = false;
            break;
        }
    }
    let flags = if read_only {
        vec!["RO", "access"]
    } else {
        vec!["RW", "access", "update"]
    };
    vec![(1, flags)]
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("setbit", 4, setbit).syntax("key offset:integer value:integer").flags(WRITE | DENYOOM).keys(1, 1, 1).doc("bitmap", "2.2.0", "Sets or clears the bit at offset in the string value stored at key", "O(1)"),
    Command::new("getbit", 3, getbit).syntax("key offset:integer").flags(READONLY | FAST).keys(1, 1, 1).doc("bitmap", "2.2.0", "Returns the bit value at offset in the string value stored at key", "O(1)"),
    Command::new("bitcount", -2, bitcount).syntax("key [start:integer end:integer [BYTE|BIT]]").flags(READONLY).keys(1, 1, 1).doc("bitmap", "2.6.0", "Count set bits in a string", "O(N)"),
    Command::new("bitpos", -3, bitpos).syntax("key bit:integer [start:integer [end:integer [BYTE|BIT]]]").flags(READONLY).keys(1, 1, 1).doc("bitmap", "2.8.7", "Find first bit set or clear in a string", "O(N)"),
    Command::new("bitop", -4, bitop).syntax("operation destkey:key key ...").flags(WRITE | DENYOOM).keys(2, -1, 1).key_specs(&[KeySpecInfo::key(&["OW", "update"], 2), KeySpecInfo::new(&["RO", "access"], BeginSearch::Index(3), FindKeys::Range(-1, 1, 0))]).doc("bitmap", "2.6.0", "Perform bitwise operations between strings", "O(N)"),
    Command::new("bitfield", -2, bitfield).syntax("key [GET (encoding offset:integer)|([OVERFLOW (WRAP|SAT|FAIL)] (SET (encoding offset:integer value:integer)|INCRBY (encoding offset:integer increment:integer)))] ...").flags(WRITE | DENYOOM).keys(1, 1, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "update", "variable_flags"], 1).notes("This command allows both access and modification of the key")]).getkeys(bitfield_getkeys).doc("bitmap", "3.2.0", "Perform arbitrary bitfield integer operations on strings", "O(1) for each subcommand specified"),
    Command::new("bitfield_ro", -2, bitfield_ro).syntax("key [(GET (encoding offset:integer)) ...]").flags(READONLY | FAST).keys(1, 1, 1).doc("bitmap", "6.0.0", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", "O(1) for each subcommand specified"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis's `getUnsignedBitfield`, bit by bit, as the reference.
    fn reference_get(bytes: &[u8], offset: u64, bits: u32) -> u64 {
        (0..u64::from(bits)).fold(0, |value, j| {
            (value << 1) | u64::from(get_bit(bytes, offset + j))
        })
    }

    #[test]
    fn fields_round_trip_at_every_alignment() {
        let mut rng = crate::rng::Rng::with_seed(7);
        for bits in 1..=64u32 {
            for offset in 0..17u64 {
                let mut bytes = vec![0u8; 12];
                for b in &mut bytes {
                    *b = rng.below(256) as u8;
                }
                let before = bytes.clone();
                let value = rng.below(u64::MAX);
                set_field(&mut bytes, offset, bits, value);
                let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
                assert_eq!(get_unsigned(&bytes, offset, bits), value & mask);
                assert_eq!(reference_get(&bytes, offset, bits), value & mask);
                // The bits around the field are untouched.
                for bit in (0..96).filter(|&b| b < offset || b >= offset + u64::from(bits)) {
                    assert_eq!(get_bit(&bytes, bit), get_bit(&before, bit), "{bits} {offset}");
                }
            }
        }
    }

    #[test]
    fn fields_past_the_end_read_as_zero() {
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_unsigned(&[], 1000, 64), 0);
        assert_eq!(get_signed(&[0x80], 0, 1), -1);
        assert_eq!(get_signed(&[0xff, 0xff], 0, 16), -1);
        assert_eq!(get_signed(&[0x7f], 0, 8), 127);
        assert_eq!(get_signed(&[0xff; 8], 0, 64), -1);
    }

    #[test]
    fn unsigned_overflow_follows_redis() {
        use Overflow::*;
        assert_eq!(unsigned_add(250, 10, 8, Wrap), Some(4));
        assert_eq!(unsigned_add(250, 10, 8, Sat), Some(255));
        assert_eq!(unsigned_add(250, 10, 8, Fail), None);
        assert_eq!(unsigned_add(250, 5, 8, Fail), Some(255));
        assert_eq!(unsigned_add(5, -10, 8, Wrap), Some(251));
        assert_eq!(unsigned_add(5, -10, 8, Sat), Some(0));
        assert_eq!(unsigned_add(5, -5, 8, Fail), Some(0));
        // SET u8 -1 checks the value as an unsigned number: too big.
        assert_eq!(unsigned_add(u64::MAX, 0, 8, Wrap), Some(255));
        assert_eq!(unsigned_add(u64::MAX, 0, 8, Sat), Some(255));
        assert_eq!(unsigned_add(256, 0, 8, Fail), None);
        assert_eq!(unsigned_add(0, i64::MIN, 63, Sat), Some(0));
        assert_eq!(unsigned_add(0, i64::MAX, 63, Fail), Some(i64::MAX as u64));
        assert_eq!(unsigned_add(1, i64::MAX, 63, Wrap), Some(0));
        assert_eq!(unsigned_add(1, 1, 1, Wrap), Some(0));
    }

    #[test]
    fn signed_overflow_follows_redis() {
        use Overflow::*;
        assert_eq!(signed_add(120, 10, 8, Wrap), Some(-126));
        assert_eq!(signed_add(120, 10, 8, Sat), Some(127));
        assert_eq!(signed_add(120, 10, 8, Fail), None);
        assert_eq!(signed_add(-120, -10, 8, Wrap), Some(126));
        assert_eq!(signed_add(-120, -10, 8, Sat), Some(-128));
        assert_eq!(signed_add(-120, -8, 8, Fail), Some(-128));
        assert_eq!(signed_add(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(signed_add(i64::MAX, 1, 64, Sat), Some(i64::MAX));
        assert_eq!(signed_add(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(signed_add(i64::MIN, -1, 64, Fail), None);
        assert_eq!(signed_add(i64::MIN, i64::MAX, 64, Fail), Some(-1));
        assert_eq!(signed_add(-1, 1, 1, Fail), Some(0));
        assert_eq!(signed_add(0, 1, 1, Fail), None);
        assert_eq!(signed_add(0, -1, 1, Fail), Some(-1));
        // SET i8 300: the value itself overflows.
        assert_eq!(signed_add(300, 0, 8, Wrap), Some(44));
        assert_eq!(signed_add(300, 0, 8, Sat), Some(127));
        assert_eq!(signed_add(-300, 0, 8, Sat), Some(-128));
    }

    #[test]
    fn bit_offsets_follow_redis() {
        let max = 512 << 20;
        assert_eq!(bit_offset(b"0", max, None), Ok(0));
        assert_eq!(bit_offset(b"4294967295", max, None), Ok(4294967295));
        assert_eq!(bit_offset(b"4294967296", max, None), Err(BIT_OFFSET_ERR));
        assert_eq!(bit_offset(b"-1", max, None), Err(BIT_OFFSET_ERR));
        assert_eq!(bit_offset(b"#3", max, None), Err(BIT_OFFSET_ERR));
        assert_eq!(bit_offset(b"#3", max, Some(8)), Ok(24));
        assert_eq!(bit_offset(b"#-1", max, Some(8)), Err(BIT_OFFSET_ERR));
        assert_eq!(bit_offset(b"#", max, Some(8)), Err(BIT_OFFSET_ERR));
        // 2^61 + 1 fields of 8 bits wrap around to bit 8, in C and here.
        assert_eq!(bit_offset(b"#2305843009213693953", max, Some(8)), Ok(8));
    }

    #[test]
    fn first_bit_pads_with_zeros() {
        assert_eq!(first_bit(&[0xff, 0xf0, 0x00], false), 12);
        assert_eq!(first_bit(&[0x00, 0x00, 0x01], true), 23);
        assert_eq!(first_bit(&[0u8; 20], true), -1);
        assert_eq!(first_bit(&[0xffu8; 20], false), 160);
        assert_eq!(first_bit(&[], false), 0);
        let mut long = vec![0u8; 33];
        long[32] = 0x40;
        assert_eq!(first_bit(&long, true), 257);
    }

    fn pos(bytes: &[u8], bit: bool, range: Option<(i64, Option<i64>, bool)>) -> i64 {
        let len = bytes.len() as i64;
        let (range, end_given) = match range {
            None => (BitRange::resolve(bytes.len(), 0, -1, false), false),
            Some((start, end, bits)) => {
                let default = if bits { (len << 3) + 7 } else { len - 1 };
                let range = BitRange::resolve(bytes.len(), start, end.unwrap_or(default), bits);
                (range, end.is_some())
            }
        };
        bitpos_in(bytes, range, bit, end_given)
    }

    #[test]
    fn bitpos_edges_follow_redis() {
        let s = [0xff, 0xf0, 0x00];
        assert_eq!(pos(&s, false, None), 12);
        assert_eq!(pos(&s, true, Some((2, None, false))), -1);
        assert_eq!(pos(&[0x00, 0xff, 0xf0], true, Some((0, None, false))), 8);
        assert_eq!(pos(&[0x00, 0xff, 0xf0], true, Some((2, Some(-1), false))), 16);
        assert_eq!(pos(&[0x00, 0xff, 0xf0], true, Some((7, Some(15), true))), 8);
        // All ones: a 0 is the bit past the end, unless the end was given.
        assert_eq!(pos(&[0xff; 3], false, None), 24);
        assert_eq!(pos(&[0xff; 3], false, Some((1, None, false))), 24);
        assert_eq!(pos(&[0xff; 3], false, Some((1, Some(-1), false))), -1);
        assert_eq!(pos(&[0xff; 3], false, Some((3, None, true))), 24);
        assert_eq!(pos(&[0xff; 3], false, Some((3, Some(20), true))), -1);
        // Within one byte, in BIT mode: both edges are masked.
        assert_eq!(pos(&[0b1010_0101], true, Some((1, Some(4), true))), 2);
        assert_eq!(pos(&[0b1000_0001], true, Some((1, Some(6), true))), -1);
        assert_eq!(pos(&[0b1000_0001], false, Some((1, Some(6), true))), 1);
        assert_eq!(pos(&[0b0111_1110], false, Some((1, Some(6), true))), -1);
        // Empty ranges.
        assert_eq!(pos(&s, true, Some((2, Some(1), false))), -1);
        assert_eq!(pos(&[], false, None), -1);
    }

    #[test]
    fn popcount_counts_every_length_and_alignment() {
        let mut rng = crate::rng::Rng::with_seed(11);
        let bytes: Vec<u8> = (0..200).map(|_| rng.below(256) as u8).collect();
        for start in 0..9 {
            for end in start..bytes.len() {
                let naive: u64 = bytes[start..end].iter().map(|b| u64::from(b.count_ones())).sum();
                assert_eq!(popcount(&bytes[start..end]), naive);
            }
        }
    }

    #[test]
    fn bit_ranges_mask_the_edges() {
        let all = [0xffu8; 4];
        let count = |s, e, bits| count_in(&all, BitRange::resolve(4, s, e, bits));
        assert_eq!(count(0, -1, false), 32);
        assert_eq!(count(1, 1, false), 8);
        assert_eq!(count(5, 30, true), 26);
        assert_eq!(count(-5, -1, true), 5);
        assert_eq!(count(7, 7, true), 1);
        assert_eq!(count(9, 3, true), 0);
        assert_eq!(count(i64::MIN, i64::MAX, true), 32);
        assert_eq!(count_in(&[], BitRange::resolve(0, 0, -1, true)), 0);
    }

    #[test]
    fn bitop_pads_shorter_sources_with_zeros() {
        let a: &[u8] = &[0xff, 0x0f, 0xaa];
        let b: &[u8] = &[0xf0];
        assert_eq!(bitop_result(BitOp::And, &[a, b]).unwrap(), [0xf0, 0, 0]);
        assert_eq!(bitop_result(BitOp::Or, &[b, a]).unwrap(), [0xff, 0x0f, 0xaa]);
        assert_eq!(bitop_result(BitOp::Xor, &[a, b]).unwrap(), [0x0f, 0x0f, 0xaa]);
        assert_eq!(bitop_result(BitOp::Not, &[a]).unwrap(), [0x00, 0xf0, 0x55]);
        assert!(bitop_result(BitOp::And, &[&[], &[]]).unwrap().is_empty());
    }

    #[test]
    fn bitfield_getkeys_reads_until_a_write() {
        let flags = |words: &[&str]| bitfield_getkeys(&crate::commands::test_argv(words))[0].1.clone();
        assert_eq!(flags(&["bitfield", "k", "get", "u8", "0"]), ["RO", "access"]);
        assert_eq!(flags(&["bitfield", "k", "overflow", "sat", "get", "u8", "0"]), ["RO", "access"]);
        assert_eq!(flags(&["bitfield", "k", "get", "u8", "0", "set", "u8", "0", "1"])[0], "RW");
        assert_eq!(flags(&["bitfield", "k", "bogus"])[0], "RW");
    }
}
