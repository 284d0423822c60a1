//! Redis's `sdscatrepr`: bytes as a double-quoted string that Redis's own
//! argument splitter reads back unchanged — backslash escapes for quotes,
//! backslashes and common control characters, `\xNN` for every other byte
//! that is not printable ASCII. CONFIG REWRITE writes values this way and
//! redis-cli prints strings this way.

/// Appends `bytes`, quoted, to `out`.
pub fn repr_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// `bytes`, quoted (always ASCII).
pub fn repr(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    repr_into(bytes, &mut out);
    // Every byte pushed is printable ASCII.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_sdscatrepr() {
        assert_eq!(repr(b"a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\x01\"");
        assert_eq!(repr(b"\r\t\x07\x08\xff ~"), "\"\\r\\t\\a\\b\\xff ~\"");
        assert_eq!(repr(b""), "\"\"");
        assert_eq!(
            repr(b"a\"b\\c\n\x00\x7f\xc3\xa9 ~"),
            r#""a\"b\\c\n\x00\x7f\xc3\xa9 ~""#
        );
    }
}
