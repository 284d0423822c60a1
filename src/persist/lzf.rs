//! LZF, the compression Redis applies to long strings in RDB files
//! (`rdbcompression yes`). Decompression must accept any valid LZF stream
//! (Redis's own or ours); compression only has to produce one, and ours
//! is a straightforward single-pass matcher with a hash of 3-byte prefixes.
//!
//! The format is a sequence of chunks, each starting with a control byte:
//! - `000LLLLL`: a literal run of `L + 1` bytes follows (1..=32);
//! - `LLLooooo oooooooo`: a back reference of `L + 2` bytes starting
//!   `o + 1` bytes back; `L == 7` means one more length byte follows
//!   (added to 7), before the low offset byte.

const MAX_LITERAL: usize = 32;
const MAX_OFFSET: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
const HASH_LOG: u32 = 14;

/// Compresses `input`; returns `None` if the result would not be smaller
/// than `max_len` (Redis then stores the string uncompressed).
pub fn compress(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max_len.min(input.len()));
    let mut table = vec![0usize; 1 << HASH_LOG]; // position + 1, 0 = empty
    let mut literal_start = 0;
    let mut i = 0;
    let hash = |p: usize| -> usize {
        let v = u32::from(input[p]) << 16 | u32::from(input[p + 1]) << 8 | u32::from(input[p + 2]);
        (v.wrapping_mul(2_654_435_761) >> (32 - HASH_LOG)) as usize
    };
    let flush_literals = |out: &mut Vec<u8>, from: usize, to: usize| {
        for run in input[from..to].chunks(MAX_LITERAL) {
            out.push((run.len() - 1) as u8);
            out.extend_from_slice(run);
        }
    };
    while i + 2 < input.len() {
        let h = hash(i);
        let candidate = table[h];
        table[h] = i + 1;
        if candidate > 0 {
            let reference = candidate - 1;
            let offset = i - reference - 1;
            if offset < MAX_OFFSET && input[reference..reference + 3] == input[i..i + 3] {
                let max = (input.len() - i).min(MAX_REF);
                let mut len = 3;
                while len < max && input[reference + len] == input[i + len] {
                    len += 1;
                }
                flush_literals(&mut out, literal_start, i);
                let l = len - 2;
                let high = (offset >> 8) as u8;
                if l < 7 {
                    out.push(((l as u8) << 5) | high);
                } else {
                    out.push((7 << 5) | high);
                    out.push((l - 7) as u8);
                }
                out.push(offset as u8);
                if out.len() >= max_len {
                    return None;
                }
                // Index the positions inside the match so later data can
                // refer to them too.
                for p in i + 1..(i + len).min(input.len().saturating_sub(2)) {
                    table[hash(p)] = p + 1;
                }
                i += len;
                literal_start = i;
                continue;
            }
        }
        i += 1;
    }
    flush_literals(&mut out, literal_start, input.len());
    (out.len() < max_len).then_some(out)
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
