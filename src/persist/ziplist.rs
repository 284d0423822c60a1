//! The compact encodings older Redis versions saved: the ziplist (lists up
//! to 6.2 inside quicklist nodes, small hashes and sorted sets up to 6.2)
//! and the zipmap (small hashes before 2.6). sedis never writes them; it
//! reads them so that a dump from an older Redis loads, as Redis 7.0 does.
//!
//! ```text
//! ziplist: zlbytes (u32 LE)  zltail (u32 LE)  zllen (u16 LE)  entries...  0xFF
//! entry:   prevlen (1 byte, or 0xFE + u32 LE)  encoding  data
//! zipmap:  zmlen (1 byte)  (len key len free value [free bytes])...  0xFF
//! ```
//!
//! Like the listpack decoder, every length is checked against the blob
//! before it is used: corrupt input is `None`, never a panic or an
//! allocation sized by the input.

use crate::num;

const END: u8 = 0xFF;
const ZIPLIST_HEADER: usize = 10;
/// A `prevlen` of this value is followed by the real one in 4 bytes.
const BIG_PREVLEN: u8 = 0xFE;
/// The entry count Redis writes when it does not fit 16 bits.
const UNKNOWN_COUNT: u16 = u16::MAX;

/// The elements of a ziplist, integers as their decimal text.
pub fn decode(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    if blob.len() < ZIPLIST_HEADER + 1 {
        return None;
    }
    let total = u32::from_le_bytes(blob[..4].try_into().ok()?) as usize;
    if total != blob.len() || blob[total - 1] != END {
        return None;
    }
    let declared = u16::from_le_bytes(blob[8..10].try_into().ok()?);
    let take = |from: usize, n: usize| blob.get(from..from.checked_add(n)?);
    let mut out = Vec::new();
    let mut p = ZIPLIST_HEADER;
    let mut previous_size = 0;
    while *blob.get(p)? != END {
        let entry_start = p;
        // The previous entry's size: checked, since a reader walking the
        // list backwards would trust it.
        let prevlen = if blob[p] == BIG_PREVLEN {
            p += 5;
            u32::from_le_bytes(take(entry_start + 1, 4)?.try_into().ok()?) as usize
        } else {
            p += 1;
            usize::from(blob[entry_start])
        };
        if prevlen != previous_size {
            return None;
        }
        let encoding = *blob.get(p)?;
        let (element, size) = match encoding >> 6 {
            0b00 => {
                let len = usize::from(encoding & 0x3F);
                (take(p + 1, len)?.to_vec(), 1 + len)
            }
            0b01 => {
                let len = (usize::from(encoding & 0x3F) << 8) | usize::from(*blob.get(p + 1)?);
                (take(p + 2, len)?.to_vec(), 2 + len)
            }
            0b10 if encoding == 0x80 => {
                let len = u32::from_be_bytes(take(p + 1, 4)?.try_into().ok()?) as usize;
                (take(p + 5, len)?.to_vec(), 5 + len)
            }
            0b10 => return None,
            _ => {
                let (value, width) = match encoding {
                    0xC0 => (
                        i64::from(i16::from_le_bytes(take(p + 1, 2)?.try_into().ok()?)),
                        2,
                    ),
                    0xD0 => (
                        i64::from(i32::from_le_bytes(take(p + 1, 4)?.try_into().ok()?)),
                        4,
                    ),
                    0xE0 => (i64::from_le_bytes(take(p + 1, 8)?.try_into().ok()?), 8),
                    0xF0 => {
                        let b = take(p + 1, 3)?;
                        // Sign-extend 24 bits.
                        (i64::from(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8), 3)
                    }
                    0xFE => (i64::from(*blob.get(p + 1)? as i8), 1),
                    // 1111xxxx: the value xxxx - 1, from 0 to 12.
                    0xF1..=0xFD => (i64::from(encoding & 0x0F) - 1, 0),
                    _ => return None,
                };
                (int_text(value), 1 + width)
            }
        };
        p = p.checked_add(size)?;
        if p >= blob.len() {
            return None;
        }
        previous_size = p - entry_start;
        out.push(element);
    }
    if p != total - 1 || (declared != UNKNOWN_COUNT && usize::from(declared) != out.len()) {
        return None;
    }
    Some(out)
}

/// The field/value pairs of a zipmap (in order, flattened).
pub fn decode_zipmap(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    /// A length of this value is followed by the real one in 4 bytes.
    const BIG_LEN: u8 = 254;
    let take = |from: usize, n: usize| blob.get(from..from.checked_add(n)?);
    let length = |p: &mut usize| -> Option<usize> {
        let first = *blob.get(*p)?;
        if first < BIG_LEN {
            *p += 1;
            Some(usize::from(first))
        } else if first == BIG_LEN {
            let len = u32::from_le_bytes(take(*p + 1, 4)?.try_into().ok()?) as usize;
            *p += 5;
            Some(len)
        } else {
            None
        }
    };
    let mut out = Vec::new();
    let mut p = 1; // zmlen: a hint, and 254 or more means "count them"
    while *blob.get(p)? != END {
        let key_len = length(&mut p)?;
        out.push(take(p, key_len)?.to_vec());
        p += key_len;
        let value_len = length(&mut p)?;
        let free = usize::from(*blob.get(p)?);
        p += 1;
        out.push(take(p, value_len)?.to_vec());
        p = p.checked_add(value_len)?.checked_add(free)?;
    }
    (p == blob.len() - 1).then_some(out)
}

fn int_text(v: i64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    num::format_i64(v, &mut buf).to_vec()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ziplist holding `elements`, encoded as Redis's `ziplistPush` would
    /// (integers in the smallest integer encoding).
    pub(crate) fn encode(elements: &[&[u8]]) -> Vec<u8> {
        let mut entries = Vec::new();
        let mut previous = 0usize;
        let mut tail = ZIPLIST_HEADER;
        for element in elements {
            let mut entry = Vec::new();
            if previous < usize::from(BIG_PREVLEN) {
                entry.push(previous as u8);
            } else {
                entry.push(BIG_PREVLEN);
                entry.extend_from_slice(&(previous as u32).to_le_bytes());
            }
            match num::parse_i64(element) {
                Some(v @ 0..=12) => entry.push(0xF1 + v as u8),
                Some(v) if i8::try_from(v).is_ok() => entry.extend([0xFE, v as i8 as u8]),
                Some(v) if i16::try_from(v).is_ok() => {
                    entry.push(0xC0);
                    entry.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                    entry.push(0xF0);
                    entry.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                Some(v) if i32::try_from(v).is_ok() => {
                    entry.push(0xD0);
                    entry.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Some(v) => {
                    entry.push(0xE0);
                    entry.extend_from_slice(&v.to_le_bytes());
                }
                None if element.len() < 64 => entry.push(element.len() as u8),
                None if element.len() < 1 << 14 => {
                    entry.push(0x40 | (element.len() >> 8) as u8);
                    entry.push(element.len() as u8);
                }
                None => {
                    entry.push(0x80);
                    entry.extend_from_slice(&(element.len() as u32).to_be_bytes());
                }
            }
            if num::parse_i64(element).is_none() {
                entry.extend_from_slice(element);
            }
            tail = ZIPLIST_HEADER + entries.len();
            previous = entry.len();
            entries.extend(entry);
        }
        let total = ZIPLIST_HEADER + entries.len() + 1;
        let mut blob = Vec::with_capacity(total);
        blob.extend_from_slice(&(total as u32).to_le_bytes());
        blob.extend_from_slice(&(tail as u32).to_le_bytes());
        blob.extend_from_slice(
            &(elements.len().min(usize::from(UNKNOWN_COUNT)) as u16).to_le_bytes(),
        );
        blob.extend(entries);
        blob.push(END);
        blob
    }

    /// A zipmap of `pairs`, each value followed by `free` unused bytes.
    pub(crate) fn encode_zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let mut blob = vec![pairs.len().min(253) as u8];
        let len = |blob: &mut Vec<u8>, n: usize| {
            if n < 254 {
                blob.push(n as u8);
            } else {
                blob.push(254);
                blob.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (key, value) in pairs {
            len(&mut blob, key.len());
            blob.extend_from_slice(key);
            len(&mut blob, value.len());
            blob.push(free);
            blob.extend_from_slice(value);
            blob.extend(std::iter::repeat_n(0, usize::from(free)));
        }
        blob.push(END);
        blob
    }

    #[test]
    fn every_entry_encoding_decodes() {
        let long = vec![b'x'; 300];
        let longer = vec![b'y'; 20_000];
        let elements: Vec<&[u8]> = vec![
            b"0",
            b"12",
            b"13",
            b"-1",
            b"-128",
            b"127",
            b"-32768",
            b"32767",
            b"8388607",
            b"-8388608",
            b"8388608",
            b"2147483647",
            b"-2147483649",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"",
            b"hello",
            b"007",
            &long,
            &longer,
        ];
        let blob = encode(&elements);
        let decoded = decode(&blob).unwrap();
        let decoded: Vec<&[u8]> = decoded.iter().map(Vec::as_slice).collect();
        assert_eq!(decoded, elements);
    }

    #[test]
    fn zipmaps_decode_with_free_space() {
        let long = vec![b'v'; 300];
        let pairs: Vec<(&[u8], &[u8])> = vec![(b"a", b"1"), (b"", b""), (b"field", &long)];
        for free in [0, 3] {
            let decoded = decode_zipmap(&encode_zipmap(&pairs, free)).unwrap();
            let flat: Vec<&[u8]> = pairs.iter().flat_map(|(k, v)| [*k, *v]).collect();
            assert_eq!(decoded, flat);
        }
    }

    #[test]
    fn corrupt_blobs_are_refused() {
        let blob = encode(&[b"hello", b"42", &[b'z'; 70]]);
        // Every truncation and every single-byte change of a length or a
        // header field is an error, never a panic.
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_none(), "cut {cut}");
        }
        for i in 0..blob.len() {
            for b in [0x00, 0x3F, 0x40, 0x80, 0xC0, 0xF0, 0xFE, 0xFF] {
                let mut bad = blob.clone();
                bad[i] = b;
                let _ = decode(&bad);
            }
        }
        let map = encode_zipmap(&[(b"k", b"v")], 2);
        for cut in 0..map.len() {
            assert!(decode_zipmap(&map[..cut]).is_none(), "cut {cut}");
        }
    }
}
