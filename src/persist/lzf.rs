//! LZF, the compression Redis applies to long strings in RDB files and
//! DUMP payloads (`rdbcompression yes`). Decompression accepts any valid
//! LZF stream. Compression is liblzf 3.6 as Redis builds it (`HLOG` 16,
//! `VERY_FAST`, a hash table that starts empty), step for step, so that
//! the same string compresses to the same bytes in both servers.
//!
//! The format is a sequence of chunks, each starting with a control byte:
//! - `000LLLLL`: a literal run of `L + 1` bytes follows (1..=32);
//! - `LLLooooo oooooooo`: a back reference of `L + 2` bytes starting
//!   `o + 1` bytes back; `L == 7` means one more length byte follows
//!   (added to 7), before the low offset byte.

const MAX_LITERAL: usize = 1 << 5;
const MAX_OFFSET: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
const HASH_LOG: u32 = 16;

/// liblzf's hash of the three bytes whose first two `h` already holds
/// (`NEXT`), and the table slot it picks (`IDX`, the `VERY_FAST` variant).
fn next_hash(h: u32, third: u8) -> u32 {
    (h << 8) | u32::from(third)
}

fn slot(h: u32) -> usize {
    ((h >> (3 * 8 - HASH_LOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HASH_LOG) - 1)) as usize
}

/// Compresses `input` as Redis's `lzf_compress` does into at most
/// `max_len` bytes; `None` if it does not fit (Redis then stores the string
/// uncompressed).
pub fn compress(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    if input.len() < 3 || max_len == 0 {
        return None;
    }
    TABLE.with_borrow_mut(|table| {
        let compressed = compress_into(input, max_len, table);
        table.clear();
        compressed
    })
}

/// liblzf's hash table, kept per thread: 64K entries are too many to
/// clear for every string, so each compression empties only the slots it
/// wrote (liblzf starts each call with whatever its stack held; an empty
/// table is what makes the output depend on the input alone).
struct Table {
    /// Position + 1 of the last three-byte prefix with each hash; 0: none.
    slots: Vec<usize>,
    written: Vec<usize>,
}

impl Table {
    fn take(&mut self, slot: usize, position: usize) -> usize {
        if self.slots[slot] == 0 {
            self.written.push(slot);
        }
        std::mem::replace(&mut self.slots[slot], position + 1)
    }

    fn clear(&mut self) {
        for slot in self.written.drain(..) {
            self.slots[slot] = 0;
        }
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<Table> = std::cell::RefCell::new(Table {
        slots: vec![0; 1 << HASH_LOG],
        written: Vec::new(),
    });
}

/// Appends one byte to the literal run being written; a full run gets its
/// control byte and the next run starts.
fn copy_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, byte: u8) {
    *lit += 1;
    out[*op] = byte;
    *op += 1;
    if *lit == MAX_LITERAL {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
}

fn compress_into(input: &[u8], max_len: usize, table: &mut Table) -> Option<Vec<u8>> {
    let in_end = input.len();
    let out_end = max_len;
    // Room past `out_end` for the bytes liblzf's checks allow it to reach.
    let mut out = vec![0u8; max_len + 4];
    let (mut ip, mut op, mut lit) = (0usize, 1usize, 0usize);
    let mut h = (u32::from(input[0]) << 8) | u32::from(input[1]);
    while ip < in_end - 2 {
        h = next_hash(h, input[ip + 2]);
        let entry = table.take(slot(h), ip);
        let reference = entry.checked_sub(1).filter(|&r| {
            // liblzf never refers back to the very first byte.
            r > 0
                && ip - r - 1 < MAX_OFFSET
                && input[r + 2] == input[ip + 2]
                && input[r..r + 2] == input[ip..ip + 2]
        });
        let Some(r) = reference else {
            if op >= out_end {
                return None;
            }
            copy_literal(&mut out, &mut op, &mut lit, input[ip]);
            ip += 1;
            continue;
        };
        let offset = ip - r - 1;
        let mut len = 2usize;
        let max_match = (in_end - ip - len).min(MAX_REF);
        if op + 4 >= out_end && op - usize::from(lit == 0) + 4 >= out_end {
            return None;
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        // Sixteen bytes compared without a bound when more than sixteen
        // may match, then byte by byte up to the bound, as liblzf does.
        let mut unrolled_mismatch = false;
        if max_match > 16 {
            for _ in 0..16 {
                len += 1;
                if input[r + len] != input[ip + len] {
                    unrolled_mismatch = true;
                    break;
                }
            }
        }
        if !unrolled_mismatch {
            loop {
                len += 1;
                if !(len < max_match && input[r + len] == input[ip + len]) {
                    break;
                }
            }
        }
        len -= 2;
        ip += 1;
        if len < 7 {
            out[op] = ((offset >> 8) + (len << 5)) as u8;
            op += 1;
        } else {
            out[op] = ((offset >> 8) + (7 << 5)) as u8;
            out[op + 1] = (len - 7) as u8;
            op += 2;
        }
        out[op] = offset as u8;
        op += 2; // the offset's low byte, then the next run's control byte
        lit = 0;
        ip += len + 1;
        if ip >= in_end - 2 {
            break;
        }
        // VERY_FAST: hash the two positions before the match's end.
        ip -= 2;
        h = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
        for _ in 0..2 {
            h = next_hash(h, input[ip + 2]);
            table.take(slot(h), ip);
            ip += 1;
        }
    }
    if op + 3 > out_end {
        return None;
    }
    for &byte in &input[ip..] {
        copy_literal(&mut out, &mut op, &mut lit, byte);
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Decompresses an LZF stream that must expand to exactly `expected_len`
/// bytes. `None` for a corrupt stream (never panics, never allocates more
/// than `expected_len`).
pub fn decompress(input: &[u8], expected_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let literal = input.get(i..i + run)?;
            if out.len() + run > expected_len {
                return None;
            }
            out.extend_from_slice(literal);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            len += 2;
            let offset = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            if offset > out.len() || out.len() + len > expected_len {
                return None;
            }
            // Byte by byte: the source may overlap what is being written.
            let start = out.len() - offset;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == expected_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn round_trips_and_compresses_repetition() {
        let mut rng = Rng::with_seed(3);
        let cases: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"hello hello hello hello hello hello hello".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            vec![b'x'; 100_000],
        ];
        for input in cases {
            let packed = compress(&input, input.len()).expect("compressible");
            assert!(packed.len() < input.len());
            assert_eq!(
                decompress(&packed, input.len()).as_deref(),
                Some(&input[..])
            );
        }
        // Low-entropy random data: whatever compresses must round-trip.
        for len in [3usize, 40, 300, 9000, 70_000] {
            let input: Vec<u8> = (0..len).map(|_| rng.below(4) as u8 + b'a').collect();
            if let Some(packed) = compress(&input, input.len() + 64) {
                assert_eq!(
                    decompress(&packed, input.len()).as_deref(),
                    Some(&input[..])
                );
            }
        }
    }

    /// What Redis 7.0.15 writes for `"abc" x 100` (from its DUMP).
    #[test]
    fn compression_is_byte_for_byte_redis() {
        let input = b"abc".repeat(100);
        let expected = b"\x03abca\xe0\xff\x02\xe1\x15\x07\x01bc";
        assert_eq!(compress(&input, input.len() - 4).unwrap(), expected);
        assert_eq!(decompress(expected, input.len()).unwrap(), input);
    }

    #[test]
    fn incompressible_input_is_refused() {
        let mut rng = Rng::with_seed(9);
        let noise: Vec<u8> = (0..1000).map(|_| rng.next_u64() as u8).collect();
        assert!(compress(&noise, noise.len() - 4).is_none());
    }

    #[test]
    fn corrupt_streams_are_rejected_not_panicking() {
        let mut rng = Rng::with_seed(11);
        for _ in 0..10_000 {
            let len = rng.below(40) as usize;
            let junk: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let _ = decompress(&junk, rng.below(100) as usize);
        }
        assert!(
            decompress(&[0xe0, 0xff, 0x00], 300).is_none(),
            "reference before start"
        );
        assert!(decompress(&[5, b'a'], 6).is_none(), "truncated literal");
    }
}
