//! HyperLogLog commands (Redis's `hyperloglog.c`): PFADD, PFCOUNT, PFMERGE
//! and the debugging pair PFDEBUG and PFSELFTEST.
//!
//! An HLL is a plain string in Redis's own layout, so that the bytes GET
//! returns, DUMP payloads and dump files are interchangeable with Redis:
//! a 16-byte header (`HYLL`, the encoding, three reserved bytes, the cached
//! cardinality as 8 little-endian bytes whose top bit marks it stale), then
//! 16,384 six-bit registers, either *dense* (packed, 12,288 bytes) or
//! *sparse* (run-length opcodes: `00xxxxxx` a run of up to 64 zero
//! registers, `01xxxxxx yyyyyyyy` a run of up to 16,384, `1vvvvvxx` up to
//! four registers holding 1..=32). A sparse HLL turns dense when a register
//! needs a value over 32 or the string would pass `hll-sparse-max-bytes`.
//!
//! The functions on bytes mirror Redis's step for step, including how they
//! treat corrupted strings (what they accept, what they report as
//! `INVALIDOBJ`): a string crafted with SET or RESTORE reaches them, and
//! must get Redis's reply and never a panic. Where Redis reads the byte
//! past the end of a string it finds the string's NUL terminator; here
//! that byte reads as zero. (One corrupted shape differs: an XZERO cut
//! after its first byte at the very end, once split, has Redis write one
//! byte past the new end, where its next read finds that byte rather than
//! a NUL; a string here cannot keep it.)

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::store::{StrValue, Value};

use super::Ctx;
use super::strings::lookup_str;
use super::table::{Command, KeySpecInfo, flags::*};

/// Bits of the hash that choose the register.
const P: u32 = 14;
/// Bits of the hash left for the run of zeros.
const Q: u32 = 64 - P;
/// The number of registers.
pub const REGISTERS: usize = 1 << P;
/// The header's size.
pub const HEADER: usize = 16;
/// The size of a dense HLL, header included.
pub const DENSE_SIZE: usize = HEADER + (REGISTERS * 6).div_ceil(8);
/// The encoding byte: dense or sparse.
const DENSE: u8 = 0;
const SPARSE: u8 = 1;

const INVALID_HLL: CommandError = CommandError::canned("INVALIDOBJ Corrupted HLL object detected");
const NOT_HLL: CommandError =
    CommandError::canned("WRONGTYPE Key is not a valid HyperLogLog string value.");

/// A corrupted HLL (Redis's `C_ERR` / -1 from the register functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version, as Redis reads it: eight bytes at a time in
/// little-endian order whatever the machine.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut words = key.chunks_exact(8);
    for word in &mut words {
        let mut k = u64::from_le_bytes(word.try_into().unwrap_or_default());
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Redis's `hllPatLen`: the register `element` falls in, and the length of
/// the run of zeros (plus one) in the rest of its hash.
pub fn pattern(element: &[u8]) -> (usize, u8) {
    /// The seed Redis hashes elements with.
    const SEED: u64 = 0xadc8_3b19;
    let hash = murmur64a(element, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A dense register (`registers` is the part after the header).
fn dense_get(registers: &[u8], index: usize) -> u8 {
    let byte = index * 6 / 8;
    let shift = (index * 6) & 7;
    let b0 = u32::from(registers[byte]);
    let b1 = u32::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & 63) as u8
}

/// Sets a dense register.
fn dense_put(registers: &mut [u8], index: usize, value: u8) {
    let byte = index * 6 / 8;
    let shift = (index * 6) & 7;
    let value = u32::from(value);
    registers[byte] &= !(63u32 << shift) as u8;
    registers[byte] |= (value << shift) as u8;
    // The last register ends inside its first byte: nothing spills over.
    if let Some(next) = registers.get_mut(byte + 1) {
        *next &= !(63u32 >> (8 - shift)) as u8;
        *next |= (value >> (8 - shift)) as u8;
    }
}

/// Raises a dense register to `count`; whether it changed.
fn dense_set(registers: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(registers, index) {
        dense_put(registers, index, count);
        true
    } else {
        false
    }
}

/// One sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// A run of zero registers, one byte (`zero`) or two (`xzero`).
    Zero { len: usize, xzero: bool },
    /// A run of registers holding `value`.
    Val { value: u8, len: usize },
}

impl Op {
    /// The largest value a VAL holds.
    const VAL_MAX: u8 = 32;
    /// The longest run of a ZERO (longer ones are XZERO).
    const ZERO_MAX: usize = 64;
    /// The longest run of an XZERO.
    const XZERO_MAX: usize = 16384;

    /// The opcode at `p`; an XZERO's second byte past the end reads 0.
    fn at(sparse: &[u8], p: usize) -> Op {
        let b = sparse[p];
        if b & 0xc0 == 0 {
            Op::Zero {
                len: usize::from(b & 0x3f) + 1,
                xzero: false,
            }
        } else if b & 0x80 == 0 {
            let low = sparse.get(p + 1).copied().unwrap_or(0);
            Op::Zero {
                len: ((usize::from(b & 0x3f) << 8) | usize::from(low)) + 1,
                xzero: true,
            }
        } else {
            Op::Val {
                value: ((b >> 2) & 0x1f) + 1,
                len: usize::from(b & 3) + 1,
            }
        }
    }

    fn size(self) -> usize {
        match self {
            Op::Zero { xzero: true, .. } => 2,
            _ => 1,
        }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }
}

/// A VAL opcode byte.
fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

/// Appends the opcode for a run of `len` zero registers.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > Op::ZERO_MAX {
        let l = len - 1;
        seq.push(0x40 | (l >> 8) as u8);
        seq.push(l as u8);
    } else {
        seq.push(len as u8 - 1);
    }
}

/// A new, empty HLL (Redis's `createHLLObject`): sparse, all registers in
/// XZERO runs, cached cardinality 0 (valid).
pub fn new_hll() -> Vec<u8> {
    let mut hll = Vec::with_capacity(HEADER + 2);
    hll.extend_from_slice(b"HYLL");
    hll.push(SPARSE);
    hll.resize(HEADER, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(Op::XZERO_MAX);
        push_zeros(&mut hll, run);
        left -= run;
    }
    hll
}

/// Whether `bytes` passes Redis's `isHLLObjectOrReply` checks: the magic,
/// a known encoding, and a dense HLL's exact size.
pub fn is_hll(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER
        && bytes.starts_with(b"HYLL")
        && bytes[4] <= SPARSE
        && (bytes[4] != DENSE || bytes.len() == DENSE_SIZE)
}

fn is_dense(hll: &[u8]) -> bool {
    hll[4] == DENSE
}

/// The cached cardinality, if valid.
pub fn cached_count(hll: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(hll[8..16].try_into().unwrap_or_default());
    (hll[15] & 0x80 == 0).then_some(card)
}

fn set_cached_count(hll: &mut [u8], count: u64) {
    hll[8..16].copy_from_slice(&count.to_le_bytes());
}

fn invalidate_cache(hll: &mut [u8]) {
    hll[15] |= 0x80;
}

/// Walks a sparse HLL's opcodes as Redis's conversion and merge do,
/// calling `on_value(first register, run length, value)` for each VAL run
/// and stopping at one that would pass the last register; returns how
/// many registers the walk covered (exactly [`REGISTERS`] when valid).
fn walk_values(hll: &[u8], mut on_value: impl FnMut(usize, usize, u8)) -> usize {
    let (mut p, mut idx) = (HEADER, 0usize);
    while p < hll.len() {
        let op = Op::at(hll, p);
        p += op.size();
        match op {
            Op::Zero { len, .. } => idx += len,
            Op::Val { value, len } => {
                if idx + len > REGISTERS {
                    break;
                }
                on_value(idx, len, value);
                idx += len;
            }
        }
    }
    idx
}

/// Redis's `hllSparseToDense`: converts in place (the header, cached
/// cardinality included, is kept). Corrupt if the runs do not cover
/// exactly every register.
pub fn to_dense(hll: &mut Vec<u8>) -> Result<(), Corrupt> {
    if is_dense(hll) {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HEADER].copy_from_slice(&hll[..HEADER]);
    dense[4] = DENSE;
    let registers = &mut dense[HEADER..];
    let covered = walk_values(hll, |first, len, value| {
        for i in first..first + len {
            dense_put(registers, i, value);
        }
    });
    if covered != REGISTERS {
        return Err(Corrupt);
    }
    *hll = dense;
    Ok(())
}

/// Redis's `hllSparseSet`: raises register `index` to `count` in a sparse
/// HLL, splitting the opcode that covers it and merging equal neighbours;
/// turns the HLL dense when the value or the size (over `max_bytes`) does
/// not fit the sparse form. Whether a register changed.
fn sparse_set(hll: &mut Vec<u8>, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
    if count > Op::VAL_MAX {
        return promote(hll, index, count);
    }
    // Step 1: the opcode covering `index`.
    let end = hll.len();
    let (mut p, mut first, mut span) = (HEADER, 0usize, 0usize);
    let mut prev = None;
    let mut op = None;
    while p < end {
        let here = Op::at(hll, p);
        span = here.span();
        if index < first + span {
            op = Some(here);
            break;
        }
        prev = Some(p);
        p += here.size();
        first += span;
    }
    let Some(op) = op.filter(|_| span != 0 && p < end) else {
        return Err(Corrupt);
    };
    let next = Some(p + op.size()).filter(|&n| n < end);

    // Step 2: the trivial updates in place.
    let in_place = match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { len: 1, .. } | Op::Zero { len: 1, xzero: false } => true,
        _ => false,
    };
    if in_place {
        hll[p] = val_byte(count, 1);
    } else {
        // The general case: the opcode split around the register.
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        match op {
            Op::Zero { .. } => {
                if index != first {
                    push_zeros(&mut seq, index - first);
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    push_zeros(&mut seq, last - index);
                }
            }
            Op::Val { value, .. } => {
                if index != first {
                    seq.push(val_byte(value, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(value, last - index));
                }
            }
        }
        // Step 3: the new sequence replaces the opcode.
        let delta = seq.len() as i64 - op.size() as i64;
        if delta > 0 && end as u64 + delta as u64 > max_bytes {
            return promote(hll, index, count);
        }
        let new_len = (end as i64 + delta) as usize;
        let replaced_end = next.unwrap_or(end);
        hll.splice(p..replaced_end, seq);
        // Redis writes the sequence after setting the new length: an XZERO
        // whose second byte lay past the end loses its last byte.
        hll.truncate(new_len);
    }

    // Step 4: merge adjacent VAL opcodes of equal value, up to five
    // opcodes from the one before.
    let mut p = prev.unwrap_or(HEADER);
    let mut scan = 5;
    while p < hll.len() && scan > 0 {
        scan -= 1;
        let b = hll[p];
        if b & 0xc0 == 0x40 {
            p += 2;
            continue;
        }
        if b & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if let (Op::Val { value: v1, len: l1 }, Some(&nb)) = (Op::at(hll, p), hll.get(p + 1))
            && nb & 0x80 != 0
            && let Op::Val { value: v2, len: l2 } = Op::at(hll, p + 1)
            && v1 == v2
            && l1 + l2 <= 4
        {
            hll[p + 1] = val_byte(v1, l1 + l2);
            hll.remove(p);
            continue;
        }
        p += 1;
    }
    invalidate_cache(hll);
    Ok(true)
}

/// The end of [`sparse_set`] when the register does not fit: dense, then set.
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(hll)?;
    dense_set(&mut hll[HEADER..], index, count);
    Ok(true)
}

/// Redis's `hllAdd`: whether the element changed a register (the caller
/// invalidates the cached cardinality).
pub fn add(hll: &mut Vec<u8>, element: &[u8], max_bytes: u64) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    set_register(hll, index, count, max_bytes)
}

/// Raises one register, in either encoding.
fn set_register(hll: &mut Vec<u8>, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
    if is_dense(hll) {
        Ok(dense_set(&mut hll[HEADER..], index, count))
    } else {
        sparse_set(hll, index, count, max_bytes)
    }
}

/// Redis's `hllMerge`: `max[i] = max(max[i], register i)`.
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    if is_dense(hll) {
        let registers = &hll[HEADER..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(registers, i));
        }
        return Ok(());
    }
    let covered = walk_values(hll, |first, len, value| {
        for m in &mut max[first..first + len] {
            *m = (*m).max(value);
        }
    });
    if covered == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

/// How many registers hold each value; `Err` for a sparse HLL whose runs
/// do not cover exactly every register (Redis's `invalid`).
fn histogram(hll: &[u8]) -> ([u64; 64], Result<(), Corrupt>) {
    let mut histo = [0u64; 64];
    if is_dense(hll) {
        let registers = &hll[HEADER..];
        for i in 0..REGISTERS {
            histo[usize::from(dense_get(registers, i))] += 1;
        }
        return (histo, Ok(()));
    }
    let (mut p, mut idx) = (HEADER, 0usize);
    while p < hll.len() {
        let op = Op::at(hll, p);
        p += op.size();
        match op {
            Op::Zero { len, .. } => histo[0] += len as u64,
            Op::Val { value, len } => histo[usize::from(value)] += len as u64,
        }
        idx += op.span();
    }
    let valid = if idx == REGISTERS { Ok(()) } else { Err(Corrupt) };
    (histo, valid)
}

/// Ertl's sigma function ("New cardinality estimation algorithms for
/// HyperLogLog sketches"), computed as Redis does.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// Ertl's tau function, computed as Redis does.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// Redis 7's estimator over a register histogram.
fn estimate(histo: &[u64; 64]) -> u64 {
    /// 0.5 / ln 2, the constant for an unbounded number of registers.
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as i64 as u64
}

/// Redis's `hllCount` for an HLL string (ignoring the cache).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let (histo, valid) = histogram(hll);
    valid.map(|()| estimate(&histo))
}

/// The cardinality of registers held one per byte (PFCOUNT of several keys).
pub fn count_raw(registers: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in registers {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// PFDEBUG DECODE's text for a sparse HLL: `z:N`, `Z:N` and `v:V,N` words.
pub fn decode(hll: &[u8]) -> Vec<u8> {
    let mut words = Vec::new();
    let mut p = HEADER;
    while p < hll.len() {
        let op = Op::at(hll, p);
        p += op.size();
        let word = match op {
            Op::Zero { len, xzero: false } => format!("z:{len}"),
            Op::Zero { len, xzero: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        };
        words.push(word);
    }
    words.join(" ").into_bytes()
}

// ---- Commands ----------------------------------------------------------------

/// The HLL string in a looked-up entry, made `raw` (Redis's
/// `dbUnshareStringValue`); `None` if missing; WRONGTYPE for another type
/// or a string that is no HLL.
fn hll_mut(entry: Option<&mut crate::store::Entry>) -> CommandResult<Option<&mut Vec<u8>>> {
    let Some(s) = lookup_str(entry)? else {
        return Ok(None);
    };
    check_hll(s)?;
    Ok(Some(s.make_raw()))
}

/// Redis's `isHLLObjectOrReply` for a string: integer-encoded strings are
/// never HLLs.
fn check_hll(s: &StrValue) -> CommandResult {
    if s.as_i64().is_some() || !is_hll(&s.bytes()) {
        return Err(NOT_HLL);
    }
    Ok(())
}

/// The configured `hll-sparse-max-bytes`.
fn max_sparse(ctx: &Ctx) -> u64 {
    ctx.state.config().hll_sparse_max_bytes
}

/// `PFADD key [element ...]`
fn pfadd(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let key = &args[1];
    let max_bytes = max_sparse(ctx);
    let mut db = ctx.db();
    let mut created = None;
    let (hll, mut updated) = match hll_mut(db.lookup_write(key))? {
        Some(hll) => (hll, 0),
        None => (created.insert(new_hll()), 1),
    };
    for element in &args[2..] {
        // A corrupted HLL stops here, keeping what was already changed, as
        // in Redis (nothing is signalled or propagated).
        if add(hll, element, max_bytes).map_err(|_| INVALID_HLL)? {
            updated += 1;
        }
    }
    if updated > 0 {
        invalidate_cache(hll);
    }
    if let Some(hll) = created {
        db.add(key, Value::Str(StrValue::Raw(Box::new(hll))));
    }
    if updated > 0 {
        db.signal_modified(key);
        ctx.dirty += updated;
        ctx.notify(notify::STRING, "pfadd", key);
    }
    ctx.out.int(i64::from(updated > 0));
    Ok(())
}

/// `PFCOUNT key [key ...]`: one key answers from (and refreshes) its
/// cache; several are merged without being modified.
fn pfcount(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    if args.len() > 2 {
        let mut max = [0u8; REGISTERS];
        let mut db = ctx.db();
        for key in &args[1..] {
            let Some(s) = lookup_str(db.lookup_read(key))? else {
                continue;
            };
            check_hll(s)?;
            merge_into(&mut max, &s.bytes()).map_err(|_| INVALID_HLL)?;
        }
        ctx.out.int(count_raw(&max) as i64);
        return Ok(());
    }
    let key = &args[1];
    let mut db = ctx.db();
    let Some(s) = lookup_str(db.lookup_read(key))? else {
        ctx.out.int(0);
        return Ok(());
    };
    check_hll(s)?;
    let hll = s.make_raw();
    let card = match cached_count(hll) {
        Some(card) => card,
        None => {
            let card = count(hll).map_err(|_| INVALID_HLL)?;
            set_cached_count(hll, card);
            // The cache is part of the string: the change is signalled and
            // propagated (PFCOUNT itself goes to the AOF), as in Redis.
            db.signal_modified(key);
            ctx.dirty += 1;
            card
        }
    };
    ctx.out.int(card as i64);
    Ok(())
}

/// `PFMERGE destkey [sourcekey ...]`: the destination's own registers are
/// part of the union.
fn pfmerge(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let dest = &args[1];
    let max_bytes = max_sparse(ctx);
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    let mut db = ctx.db();
    for key in &args[1..] {
        let Some(s) = lookup_str(db.lookup_read(key))? else {
            continue;
        };
        check_hll(s)?;
        let bytes = s.bytes();
        use_dense |= is_dense(&bytes);
        merge_into(&mut max, &bytes).map_err(|_| INVALID_HLL)?;
    }
    let mut created = None;
    let hll = match hll_mut(db.lookup_write(dest))? {
        Some(hll) => hll,
        None => created.insert(new_hll()),
    };
    if use_dense {
        to_dense(hll).map_err(|_| INVALID_HLL)?;
    }
    for (index, &value) in max.iter().enumerate() {
        if value != 0 {
            // The destination was checked by the merge: it cannot fail.
            let _ = set_register(hll, index, value, max_bytes);
        }
    }
    invalidate_cache(hll);
    if let Some(hll) = created {
        db.add(dest, Value::Str(StrValue::Raw(Box::new(hll))));
    }
    db.signal_modified(dest);
    ctx.notify(notify::STRING, "pfadd", dest);
    ctx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG's subcommands.
#[derive(Debug, Clone, Copy)]
enum Debug {
    GetReg,
    Decode,
    Encoding,
    ToDense,
}

/// `PFDEBUG subcommand key`: the key is checked before the subcommand.
fn pfdebug(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    let converted = pfdebug_run(ctx, &args[1], &args[2])?;
    // A conversion is a change to propagate, though nothing is signalled.
    if converted {
        ctx.dirty += 1;
    }
    Ok(())
}

/// PFDEBUG's work and reply; whether it turned the HLL dense.
fn pfdebug_run(ctx: &mut Ctx, sub: &[u8], key: &[u8]) -> CommandResult<bool> {
    let (mut db, out) = ctx.db_and_out();
    let Some(hll) = hll_mut(db.lookup_write(key))? else {
        return Err(CommandError::canned("ERR The specified key does not exist"));
    };
    // Compared as C strings, as Redis's strcasecmp does.
    let name = sub;
    let sub = [
        ("getreg", Debug::GetReg),
        ("decode", Debug::Decode),
        ("encoding", Debug::Encoding),
        ("todense", Debug::ToDense),
    ]
    .into_iter()
    .find(|(keyword, _)| super::args::is_option(name, keyword))
    .map(|(_, sub)| sub);
    let mut converted = false;
    if matches!(sub, Some(Debug::GetReg | Debug::ToDense)) && !is_dense(hll) {
        to_dense(hll).map_err(|_| INVALID_HLL)?;
        converted = true;
    }
    match sub {
        Some(Debug::GetReg) => {
            out.array(REGISTERS);
            let registers = &hll[HEADER..];
            for i in 0..REGISTERS {
                out.int(i64::from(dense_get(registers, i)));
            }
        }
        Some(Debug::Decode) => {
            if is_dense(hll) {
                return Err(CommandError::canned("ERR HLL encoding is not sparse"));
            }
            out.bulk(&decode(hll));
        }
        Some(Debug::Encoding) => out.simple(if is_dense(hll) { "dense" } else { "sparse" }),
        Some(Debug::ToDense) => out.int(i64::from(converted)),
        None => {
            let mut text = b"ERR Unknown PFDEBUG subcommand '".to_vec();
            text.extend_from_slice(error::c_str_prefix(name, usize::MAX));
            text.push(b'\'');
            return Err(CommandError::from_bytes(text));
        }
    }
    Ok(converted)
}

/// Redis's register check of PFSELFTEST: random values written to every
/// register read back the same, without touching their neighbours.
fn selftest_registers(rng: &mut crate::rng::Rng) -> Result<(), String> {
    let mut registers = vec![0u8; DENSE_SIZE - HEADER];
    let mut expected = [0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = (rng.next_u64() & 63) as u8;
            dense_put(&mut registers, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = dense_get(&registers, i);
            if got != e {
                return Err(format!("TESTFAILED Register {i} should be {e} but is {got}"));
            }
        }
    }
    Ok(())
}

/// Redis's estimate check of PFSELFTEST: ten million distinct elements
/// into a dense and a sparse HLL, which must agree and stay within six
/// standard errors at every power of ten.
fn selftest_estimates(rng: &mut crate::rng::Rng, max_bytes: u64) -> Result<(), String> {
    let mut dense = new_hll();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion")?;
    let mut sparse = new_hll();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next_u64();
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_ne_bytes();
        let (index, run) = pattern(&element);
        dense_set(&mut dense[HEADER..], index, run);
        let _ = set_register(&mut sparse, index, run, max_bytes);
        if j != checkpoint {
            continue;
        }
        if j < max_bytes / 2 && is_dense(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let estimate = count_dense(&dense);
        if count(&sparse).ok() != Some(estimate) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - estimate as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

/// The estimate of a dense HLL (never corrupt).
fn count_dense(hll: &[u8]) -> u64 {
    count(hll).unwrap_or_default()
}

/// `PFSELFTEST`
fn pfselftest(ctx: &mut Ctx, _args: &[Vec<u8>]) -> CommandResult {
    let max_bytes = max_sparse(ctx);
    let rng = &mut ctx.client.rng;
    selftest_registers(rng)
        .and_then(|()| selftest_estimates(rng, max_bytes))
        .map_err(|text| CommandError::from_bytes(text.into_bytes()))?;
    ctx.out.ok();
    Ok(())
}

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("pfadd", -2, pfadd).syntax("key [element ...]").flags(WRITE | DENYOOM | FAST).keys(1, 1, 1).key_flags(&["RW", "insert"]).doc("hyperloglog", "2.8.9", "Adds the specified elements to the specified HyperLogLog.", "O(1) to add every element."),
    Command::new("pfcount", -2, pfcount).syntax("key ...").flags(READONLY | MAY_REPLICATE).keys(1, -1, 1).key_specs(&[KeySpecInfo::new(&["RW", "access"], super::table::BeginSearch::Index(1), super::table::FindKeys::Range(-1, 1, 0)).notes("RW because it may change the internal representation of the key, and propagate to replicas")]).doc("hyperloglog", "2.8.9", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys."),
    Command::new("pfmerge", -2, pfmerge).syntax("destkey:key sourcekey:key ...").flags(WRITE | DENYOOM).keys(1, -1, 1).key_specs(&[KeySpecInfo::key(&["RW", "access", "insert"], 1), KeySpecInfo::new(&["RO", "access"], super::table::BeginSearch::Index(2), super::table::FindKeys::Range(-1, 1, 0))]).doc("hyperloglog", "2.8.9", "Merge N different HyperLogLogs into a single one.", "O(N) to merge N HyperLogLogs, but with high constant times."),
    Command::new("pfdebug", 3, pfdebug).syntax("subcommand:string key").flags(WRITE | DENYOOM | ADMIN).keys(2, 2, 1).key_flags(&["RW", "access"]).doc("hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values", "N/A"),
    Command::new("pfselftest", 1, pfselftest).flags(ADMIN).doc("hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values", "N/A"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every register of a sparse HLL, by walking its opcodes.
    fn registers(hll: &[u8]) -> Vec<u8> {
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, hll).unwrap();
        max.to_vec()
    }

    /// Bytes and counts recorded from Redis 7.0.15: the hash, the sparse
    /// opcodes and the estimator all show in them.
    #[test]
    fn hlls_are_the_bytes_redis_writes() {
        let mut hll = new_hll();
        for e in [&b"a"[..], b"b", b"c"] {
            assert_eq!(add(&mut hll, e, 3000), Ok(true));
        }
        invalidate_cache(&mut hll);
        assert_eq!(
            hll,
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ"
        );
        assert_eq!(count(&hll), Ok(3));
        let mut big = new_hll();
        for i in 0..20000 {
            add(&mut big, format!("e{i}").as_bytes(), 3000).unwrap();
        }
        assert!(is_dense(&big));
        assert_eq!(count(&big), Ok(19901));
    }

    #[test]
    fn an_empty_hll_is_two_xzero_bytes() {
        let hll = new_hll();
        assert_eq!(hll.len(), 18);
        assert_eq!(&hll[16..], &[0x7f, 0xff]);
        assert_eq!(cached_count(&hll), Some(0));
        assert_eq!(count(&hll), Ok(0));
        assert_eq!(decode(&hll), b"Z:16384");
    }

    #[test]
    fn sparse_and_dense_agree_register_by_register() {
        let mut sparse = new_hll();
        let mut dense = new_hll();
        to_dense(&mut dense).unwrap();
        for i in 0..3000u32 {
            let e = i.to_string();
            let a = add(&mut sparse, e.as_bytes(), 3000).unwrap();
            let b = add(&mut dense, e.as_bytes(), 3000).unwrap();
            assert_eq!(a, b, "element {i}");
            if i % 97 == 0 && !is_dense(&sparse) {
                let mut converted = sparse.clone();
                to_dense(&mut converted).unwrap();
                assert_eq!(converted[HEADER..], dense[HEADER..]);
                assert_eq!(count(&sparse), count(&dense));
            }
        }
        // The sparse one outgrew hll-sparse-max-bytes.
        assert!(is_dense(&sparse));
        assert_eq!(sparse[HEADER..], dense[HEADER..]);
        let estimate = count(&dense).unwrap();
        assert!((2900..3100).contains(&estimate), "{estimate}");
    }

    #[test]
    fn equal_neighbours_merge_into_one_opcode() {
        let mut hll = new_hll();
        for index in [10, 11, 12, 13] {
            sparse_set(&mut hll, index, 3, 3000).unwrap();
        }
        assert_eq!(decode(&hll), b"z:10 v:3,4 Z:16370");
        sparse_set(&mut hll, 14, 3, 3000).unwrap();
        assert_eq!(decode(&hll), b"z:10 v:3,4 v:3,1 Z:16369");
        sparse_set(&mut hll, 11, 5, 3000).unwrap();
        assert_eq!(decode(&hll), b"z:10 v:3,1 v:5,1 v:3,3 Z:16369");
        assert_eq!(registers(&hll)[10..16], [3, 5, 3, 3, 3, 0]);
        assert_eq!(sparse_set(&mut hll, 11, 4, 3000), Ok(false));
    }

    #[test]
    fn a_value_over_32_turns_the_hll_dense() {
        let mut hll = new_hll();
        assert_eq!(sparse_set(&mut hll, 5, 33, 3000), Ok(true));
        assert_eq!(hll.len(), DENSE_SIZE);
        assert_eq!(dense_get(&hll[HEADER..], 5), 33);
    }

    #[test]
    fn corrupted_runs_are_reported() {
        let mut short = new_hll();
        short.truncate(HEADER);
        short.push(0x00); // one zero register, not 16384
        assert_eq!(count(&short), Err(Corrupt));
        // Register 0 is covered; any past it is not.
        assert_eq!(sparse_set(&mut short.clone(), 0, 1, 3000), Ok(true));
        assert_eq!(sparse_set(&mut short.clone(), 5, 1, 3000), Err(Corrupt));
        assert_eq!(to_dense(&mut short.clone()), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &short), Err(Corrupt));
        // An XZERO cut after its first byte reads its second as zero.
        let mut cut = new_hll();
        cut.truncate(HEADER + 1);
        assert_eq!(decode(&cut), b"Z:16129");
        assert_eq!(count(&cut), Err(Corrupt));
    }

    #[test]
    fn registers_round_trip_without_touching_neighbours() {
        let mut rng = crate::rng::Rng::with_seed(3);
        assert_eq!(selftest_registers(&mut rng), Ok(()));
        let mut registers = vec![0u8; DENSE_SIZE - HEADER];
        dense_put(&mut registers, REGISTERS - 1, 63);
        assert_eq!(dense_get(&registers, REGISTERS - 1), 63);
        assert_eq!(dense_get(&registers, REGISTERS - 2), 0);
    }

    #[test]
    fn the_estimator_follows_redis_at_the_edges() {
        let mut histo = [0u64; 64];
        histo[0] = REGISTERS as u64;
        assert_eq!(estimate(&histo), 0);
        histo[0] -= 1;
        histo[1] = 1;
        assert_eq!(estimate(&histo), 1);
        assert_eq!(tau(1.0), 0.0);
        assert_eq!(sigma(1.0), f64::INFINITY);
    }
}
