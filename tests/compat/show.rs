//! Replies as readable text, for the messages that report a difference.

use std::fmt::Write as _;

use sedis::Frame;

use crate::conn::Outcome;

/// A reply as one readable line, in redis-cli's words.
pub fn show(frame: &Frame) -> String {
    let mut out = String::new();
    show_into(frame, &mut out);
    out
}

fn show_into(frame: &Frame, out: &mut String) {
    let list = |out: &mut String, open: &str, items: &[Frame], close: &str| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            show_into(item, out);
        }
        out.push_str(close);
    };
    let pairs = |out: &mut String, open: &str, pairs: &[(Frame, Frame)]| {
        out.push_str(open);
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            show_into(k, out);
            out.push_str(": ");
            show_into(v, out);
        }
        out.push('}');
    };
    match frame {
        Frame::Simple(s) => {
            let _ = write!(out, "{}", String::from_utf8_lossy(s));
        }
        Frame::Error(s) => {
            let _ = write!(out, "(error) {}", String::from_utf8_lossy(s));
        }
        Frame::Integer(n) => {
            let _ = write!(out, "(integer) {n}");
        }
        Frame::Bulk(b) => out.push_str(&escape(b)),
        Frame::NullBulk => out.push_str("(nil)"),
        Frame::NullArray => out.push_str("(nil array)"),
        Frame::Null => out.push_str("(null)"),
        Frame::Double(d) => {
            let _ = write!(out, "(double) {}", String::from_utf8_lossy(d));
        }
        Frame::Boolean(b) => {
            let _ = write!(out, "({b})");
        }
        Frame::BigNumber(n) => {
            let _ = write!(out, "(big number) {}", String::from_utf8_lossy(n));
        }
        Frame::Verbatim { format, text } => {
            let _ = write!(
                out,
                "(verbatim {}) {}",
                String::from_utf8_lossy(format),
                escape(text)
            );
        }
        Frame::Array(items) => list(out, "[", items, "]"),
        Frame::Set(items) => list(out, "~{", items, "}"),
        Frame::Push(items) => list(out, ">[", items, "]"),
        Frame::Map(p) => pairs(out, "{", p),
        Frame::Attribute(p, inner) => {
            pairs(out, "|{", p);
            out.push(' ');
            show_into(inner, out);
        }
    }
}

/// Bytes as a double-quoted string with escapes, cut at 2000 characters.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
        if out.len() > 2000 {
            out.push_str("...");
            break;
        }
    }
    out.push('"');
    out
}

pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Ok((raw, frame)) => format!("{}\n           raw: {}", show(frame), escape(raw)),
        Err(e) => format!("(no reply: {e})"),
    }
}
