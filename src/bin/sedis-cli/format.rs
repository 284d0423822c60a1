//! Replies turned into text, byte for byte as redis-cli 7.0.15 prints them:
//! the human form used on a terminal (`(integer) 1`, quoted strings,
//! numbered nested lists), the raw form used when output goes to a pipe, and
//! CSV.

use sedis::Frame;

/// How replies are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// redis-cli's "standard" output: what a person reads on a terminal.
    Standard,
    /// Bare values, one per line: what scripts read.
    Raw,
    /// Comma-separated, strings quoted.
    Csv,
}

/// The separators of raw output (redis-cli's `-d` and `-D`).
#[derive(Debug, Clone)]
pub struct Delimiters {
    /// Between the elements of an aggregate reply.
    pub element: Vec<u8>,
    /// After each whole reply.
    pub reply: Vec<u8>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            element: b"\n".to_vec(),
            reply: b"\n".to_vec(),
        }
    }
}

/// Formats one reply in `mode`. `verbatim` asks for the raw form with no
/// reply delimiter, which redis-cli uses for commands whose reply is text
/// meant to be read as is (INFO, CLIENT LIST...), even on a terminal.
pub fn reply(frame: &Frame, mode: Output, verbatim: bool, delims: &Delimiters) -> Vec<u8> {
    let mut out = Vec::new();
    if verbatim {
        raw(frame, &delims.element, &mut out);
        return out;
    }
    match mode {
        Output::Standard => tty(frame, b"", &mut out),
        Output::Raw => {
            raw(frame, &delims.element, &mut out);
            out.extend_from_slice(&delims.reply);
        }
        Output::Csv => {
            csv(frame, &mut out);
            out.push(b'\n');
        }
    }
    out
}

/// Appends `bytes` quoted the way redis-cli (sds's `sdscatrepr`) quotes
/// strings.
pub fn repr(bytes: &[u8], out: &mut Vec<u8>) {
    sedis::internals::quote::repr_into(bytes, out);
}

/// True when [`tty`] prints `frame` on more than one line; a map value that
/// does gets a line of its own so that its lines align.
fn is_multiline(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => match items.len() {
            0 => false,
            1 => is_multiline(&items[0]),
            _ => true,
        },
        Frame::Map(pairs) => match pairs.len() {
            0 => false,
            1 => is_multiline(&pairs[0].1),
            _ => true,
        },
        Frame::Attribute(_, inner) => is_multiline(inner),
        _ => false,
    }
}

/// The terminal form. Every line but the first of an aggregate starts with
/// `prefix`, the indentation of the enclosing lists; the first element's
/// number is already on the line its parent started.
pub fn tty(frame: &Frame, prefix: &[u8], out: &mut Vec<u8>) {
    match frame {
        Frame::Error(text) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Simple(text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Integer(n) => out.extend_from_slice(format!("(integer) {n}\n").as_bytes()),
        Frame::Double(text) => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        // redis-cli 7.0 has no case for big numbers (it exits with "Unknown
        // reply type"); this is the form later redis-cli versions print.
        Frame::BigNumber(text) => {
            out.extend_from_slice(b"(big number) ");
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Bulk(bytes) => {
            repr(bytes, out);
            out.push(b'\n');
        }
        // Verbatim strings are meant to be shown as they are.
        Frame::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::NullBulk | Frame::NullArray | Frame::Null => out.extend_from_slice(b"(nil)\n"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Frame::Array(items) if items.is_empty() => out.extend_from_slice(b"(empty array)\n"),
        Frame::Set(items) if items.is_empty() => out.extend_from_slice(b"(empty set)\n"),
        Frame::Push(items) if items.is_empty() => out.extend_from_slice(b"(empty push)\n"),
        Frame::Map(pairs) if pairs.is_empty() => out.extend_from_slice(b"(empty hash)\n"),
        Frame::Array(items) | Frame::Push(items) => list(items, b')', prefix, out),
        Frame::Set(items) => list(items, b'~', prefix, out),
        Frame::Map(pairs) => {
            let (width, nested) = numbering(pairs.len(), prefix);
            for (i, (key, value)) in pairs.iter().enumerate() {
                number(i, width, b'#', prefix, out);
                tty(key, &nested, out);
                // The key's newline gives way to the arrow.
                out.pop();
                out.extend_from_slice(b" => ");
                if is_multiline(value) {
                    out.push(b'\n');
                    out.extend_from_slice(&nested);
                }
                tty(value, &nested, out);
            }
        }
        // Attributes describe a reply; the reply is what gets shown.
        Frame::Attribute(_, inner) => tty(inner, prefix, out),
    }
}

/// The width of the largest index of `len` elements, and the prefix of the
/// nested elements' lines: the parent's prefix plus room for "NN) ".
fn numbering(len: usize, prefix: &[u8]) -> (usize, Vec<u8>) {
    let width = len.to_string().len();
    let mut nested = prefix.to_vec();
    nested.resize(prefix.len() + width + 2, b' ');
    (width, nested)
}

/// Writes element `i`'s number: `prefix` first unless it is the first
/// element, whose line the parent already started.
fn number(i: usize, width: usize, sep: u8, prefix: &[u8], out: &mut Vec<u8>) {
    if i > 0 {
        out.extend_from_slice(prefix);
    }
    out.extend_from_slice(format!("{:>width$}", i + 1).as_bytes());
    out.push(sep);
    out.push(b' ');
}

fn list(items: &[Frame], sep: u8, prefix: &[u8], out: &mut Vec<u8>) {
    let (width, nested) = numbering(items.len(), prefix);
    for (i, item) in items.iter().enumerate() {
        number(i, width, sep, prefix, out);
        tty(item, &nested, out);
    }
}

/// The raw form: values as they are, aggregates flattened with `delim`
/// between elements, map pairs as "key value", nil as nothing.
pub fn raw(frame: &Frame, delim: &[u8], out: &mut Vec<u8>) {
    match frame {
        Frame::NullBulk | Frame::NullArray | Frame::Null => {}
        Frame::Error(text) => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        Frame::Simple(text) | Frame::Bulk(text) | Frame::Double(text) | Frame::BigNumber(text) => {
            out.extend_from_slice(text)
        }
        Frame::Verbatim { text, .. } => out.extend_from_slice(text),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                raw(item, delim, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(delim);
                }
                raw(key, delim, out);
                out.push(b' ');
                raw(value, delim, out);
            }
        }
        Frame::Attribute(_, inner) => raw(inner, delim, out),
    }
}

/// The CSV form: strings quoted, aggregates (maps too) flattened with commas.
pub fn csv(frame: &Frame, out: &mut Vec<u8>) {
    match frame {
        Frame::Error(text) => {
            out.extend_from_slice(b"ERROR,");
            repr(text, out);
        }
        Frame::Simple(text) | Frame::Bulk(text) => repr(text, out),
        Frame::Verbatim { text, .. } => repr(text, out),
        Frame::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Frame::Double(text) | Frame::BigNumber(text) => out.extend_from_slice(text),
        Frame::NullBulk | Frame::NullArray | Frame::Null => out.extend_from_slice(b"NULL"),
        Frame::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(item, out);
            }
        }
        Frame::Map(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(key, out);
                out.push(b',');
                csv(value, out);
            }
        }
        Frame::Attribute(_, inner) => csv(inner, out),
    }
}

/// RESP3 client-side caching invalidations, which redis-cli shows in a form
/// of their own on a terminal: `-> invalidate: 'k1', 'k2'`. `None` for any
/// other push message.
pub fn invalidation(frame: &Frame) -> Option<Vec<u8>> {
    let Frame::Push(items) = frame else {
        return None;
    };
    let [kind, Frame::Array(keys)] = items.as_slice() else {
        return None;
    };
    if !kind.as_bytes()?.starts_with(b"invalidate") {
        return None;
    }
    let mut out = b"-> invalidate: ".to_vec();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.push(b'\'');
        out.extend_from_slice(key.as_bytes().unwrap_or_default());
        out.push(b'\'');
    }
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(s.as_bytes().to_vec())
    }

    fn show(frame: &Frame, mode: Output) -> String {
        String::from_utf8(reply(frame, mode, false, &Delimiters::default())).unwrap()
    }

    #[test]
    fn nested_lists_indent_by_the_index_width() {
        let frame = Frame::Array(vec![
            bulk("a"),
            Frame::Array(vec![bulk("b"), Frame::Array(vec![Frame::Integer(1)])]),
        ]);
        assert_eq!(
            show(&frame, Output::Standard),
            "1) \"a\"\n2) 1) \"b\"\n   2) 1) (integer) 1\n"
        );
        assert_eq!(show(&frame, Output::Raw), "a\nb\n1\n");
        assert_eq!(show(&frame, Output::Csv), "\"a\",\"b\",1\n");
    }

    #[test]
    fn verbatim_replies_skip_the_reply_delimiter() {
        let frame = bulk("# Server\r\nx:1\r\n");
        let out = reply(&frame, Output::Standard, true, &Delimiters::default());
        assert_eq!(out, b"# Server\r\nx:1\r\n");
    }

    #[test]
    fn invalidations_have_their_own_form() {
        let frame = Frame::Push(vec![
            bulk("invalidate"),
            Frame::Array(vec![bulk("k1"), bulk("k2")]),
        ]);
        assert_eq!(
            invalidation(&frame).unwrap(),
            b"-> invalidate: 'k1', 'k2'\n"
        );
        assert_eq!(invalidation(&bulk("x")), None);
    }
}
