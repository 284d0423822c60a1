//! Redis's listpack serialization (`listpack.c`): the compact blob RDB uses
//! for small sorted sets and for each node of a list.
//!
//! ```text
//! total-bytes (u32 LE)  element-count (u16 LE, 65535 = "count it")
//! entries...            0xFF
//! entry: encoding+data, then backlen (the entry's size, 1-5 bytes)
//! ```
//!
//! An entry is an integer (7, 13, 16, 24, 32 or 64 bits) or a string with
//! a 6, 12 or 32-bit length. Strings that are canonical integers are
//! written as integers, as Redis does. The decoder checks every length
//! against the blob before reading, so corrupt input is an error, never a
//! panic or an oversized allocation.

use crate::store::types::stream::listpack::backlen_size;
use crate::num;

const EOF: u8 = 0xFF;
const HEADER: usize = 6;
/// The count Redis writes when the element count does not fit 16 bits.
const UNKNOWN_COUNT: u16 = u16::MAX;

/// Builds a listpack blob.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Bytes the finished blob would take.
    pub fn size(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends an element (as an integer if it is a canonical one).
    pub fn push(&mut self, element: &[u8]) {
        let start = self.buf.len();
        match num::parse_i64(element) {
            Some(v) => self.encode_int(v),
            None => self.encode_str(element),
        }
        let entry_len = (self.buf.len() - start) as u64;
        encode_backlen(&mut self.buf, entry_len);
        self.count += 1;
    }

    fn encode_int(&mut self, v: i64) {
        let b = &mut self.buf;
        if (0..=127).contains(&v) {
            b.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            b.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if let Ok(v) = i16::try_from(v) {
            b.push(0xF1);
            b.extend_from_slice(&v.to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            b.push(0xF2);
            b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if let Ok(v) = i32::try_from(v) {
            b.push(0xF3);
            b.extend_from_slice(&v.to_le_bytes());
        } else {
            b.push(0xF4);
            b.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn encode_str(&mut self, s: &[u8]) {
        let b = &mut self.buf;
        let len = s.len();
        if len < 64 {
            b.push(0x80 | len as u8);
        } else if len < 4096 {
            b.extend_from_slice(&[0xE0 | (len >> 8) as u8, len as u8]);
        } else {
            b.push(0xF0);
            b.extend_from_slice(&(len as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
    }

    /// Appends an integer element.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        self.encode_int(v);
        let entry_len = (self.buf.len() - start) as u64;
        encode_backlen(&mut self.buf, entry_len);
        self.count += 1;
    }

    /// The finished blob.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = u16::try_from(self.count).unwrap_or(UNKNOWN_COUNT);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Writes the backlen of an entry of `l` bytes (Redis's `lpEncodeBacklen`).
fn encode_backlen(buf: &mut Vec<u8>, l: u64) {
    if l <= 127 {
        buf.push(l as u8);
    } else if l < 16383 {
        buf.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]);
    } else if l < 2_097_151 {
        buf.extend_from_slice(&[
            (l >> 14) as u8,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else if l < 268_435_455 {
        buf.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else {
        buf.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    }
}

/// Decodes a listpack blob into its elements (integers as their decimal
/// text). `None` if the blob is not a valid listpack.
pub fn decode(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    if blob.len() < HEADER + 1 {
        return None;
    }
    let total = u32::from_le_bytes(blob[..4].try_into().ok()?) as usize;
    if total != blob.len() || blob[total - 1] != EOF {
        return None;
    }
    let declared = u16::from_le_bytes(blob[4..6].try_into().ok()?);
    let mut out = Vec::new();
    let mut p = HEADER;
    loop {
        let first = *blob.get(p)?;
        if first == EOF {
            break;
        }
        let take = |from: usize, n: usize| blob.get(from..from.checked_add(n)?);
        let (element, size): (Vec<u8>, usize) = if first & 0x80 == 0 {
            (int_text(i64::from(first)), 1)
        } else if first & 0xC0 == 0x80 {
            let len = usize::from(first & 0x3F);
            (take(p + 1, len)?.to_vec(), 1 + len)
        } else if first & 0xE0 == 0xC0 {
            let raw = (u16::from(first & 0x1F) << 8) | u16::from(*blob.get(p + 1)?);
            let v = if raw >= 1 << 12 {
                i64::from(raw) - (1 << 13)
            } else {
                i64::from(raw)
            };
            (int_text(v), 2)
        } else if first & 0xF0 == 0xE0 {
            let len = (usize::from(first & 0x0F) << 8) | usize::from(*blob.get(p + 1)?);
            (take(p + 2, len)?.to_vec(), 2 + len)
        } else {
            match first {
                0xF0 => {
                    let len = u32::from_le_bytes(take(p + 1, 4)?.try_into().ok()?) as usize;
                    (take(p + 5, len)?.to_vec(), 5 + len)
                }
                0xF1 => {
                    let v = i16::from_le_bytes(take(p + 1, 2)?.try_into().ok()?);
                    (int_text(i64::from(v)), 3)
                }
                0xF2 => {
                    let b = take(p + 1, 3)?;
                    // Sign-extend 24 bits.
                    let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                    (int_text(i64::from(v)), 4)
                }
                0xF3 => {
                    let v = i32::from_le_bytes(take(p + 1, 4)?.try_into().ok()?);
                    (int_text(i64::from(v)), 5)
                }
                0xF4 => {
                    let v = i64::from_le_bytes(take(p + 1, 8)?.try_into().ok()?);
                    (int_text(v), 9)
                }
                _ => return None,
            }
        };
        p = p.checked_add(size + backlen_size(size))?;
        if p >= blob.len() {
            return None;
        }
        out.push(element);
    }
    if p != total - 1 || (declared != UNKNOWN_COUNT && usize::from(declared) != out.len()) {
        return None;
    }
    Some(out)
}

fn int_text(v: i64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    num::format_i64(v, &mut buf).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let mut elements: Vec<Vec<u8>> = [
            "0",
            "127",
            "128",
            "-1",
            "-4096",
            "4095",
            "4096",
            "-4097",
            "32767",
            "-32768",
            "32768",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "007",
            "-0",
            "1.5",
            "",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        elements.push(vec![b'x'; 63]);
        elements.push(vec![b'y'; 64]);
        elements.push(vec![b'z'; 4095]);
        elements.push(vec![b'w'; 4096]);
        elements.push(vec![0, 255, 13, 10]);
        let mut w = Writer::new();
        for e in &elements {
            w.push(e);
        }
        let blob = w.finish();
        assert_eq!(decode(&blob), Some(elements));
    }

    #[test]
    fn matches_the_bytes_redis_writes() {
        // From DUMP in Redis 7.0.15: the zset {a: 1, b: 2.5}...
        let mut w = Writer::new();
        for e in [&b"a"[..], b"1", b"b", b"2.5"] {
            w.push(e);
        }
        assert_eq!(
            w.finish(),
            b"\x14\x00\x00\x00\x04\x00\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff"
        );
        // ...and the list [a, 1, -5000, hello].
        let mut w = Writer::new();
        for e in [&b"a"[..], b"1", b"-5000", b"hello"] {
            w.push(e);
        }
        assert_eq!(
            w.finish(),
            b"\x17\x00\x00\x00\x04\x00\x81a\x02\x01\x01\xf1x\xec\x03\x85hello\x06\xff"
        );
    }

    #[test]
    fn rejects_corruption_without_panicking() {
        let mut w = Writer::new();
        for e in [&b"hello"[..], b"12345", b"x"] {
            w.push(e);
        }
        let blob = w.finish();
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_none());
        }
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut bad = blob.clone();
                bad[i] ^= 1 << bit;
                let _ = decode(&bad);
            }
        }
    }
}
