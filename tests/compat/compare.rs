//! Whether two replies agree: byte for byte, or under a script's
//! directive (sorted, shape, approximate), or under the table of replies
//! that differ between any two runs of Redis itself (normalisation).

use sedis::Frame;

use crate::conn::Reply;
use crate::script::Compare;

/// What a normalised reply keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Norm {
    /// Only the type and length (recursively for aggregates).
    Shape,
    /// A map (RESP3) or flat key/value array (RESP2) whose values under
    /// these keys are replaced by a placeholder.
    Fields(&'static [&'static str]),
}

/// The replies that are not compared byte for byte, and why. Matched on
/// the lowercase command name and, where given, its first argument.
/// Nothing else is normalised: add a line here only for a reply that
/// differs between two runs of the same Redis.
const NORMALISED: &[(&str, Option<&str>, Norm, &str)] = &[
    (
        "hello",
        None,
        Norm::Fields(&["server", "version", "id"]),
        "server name, version and connection id",
    ),
    ("time", None, Norm::Shape, "the clock"),
    ("lastsave", None, Norm::Shape, "the clock"),
    ("info", None, Norm::Shape, "server-specific text"),
    ("client", Some("id"), Norm::Shape, "connection ids"),
    ("client", Some("list"), Norm::Shape, "ids, addresses, ages"),
    ("client", Some("info"), Norm::Shape, "ids, addresses, ages"),
    ("object", Some("idletime"), Norm::Shape, "the clock"),
    (
        "memory",
        Some("usage"),
        Norm::Shape,
        "allocator-specific sizes",
    ),
    ("randomkey", None, Norm::Shape, "chance"),
    ("zrandmember", None, Norm::Shape, "chance"),
    ("srandmember", None, Norm::Shape, "chance"),
    ("hrandfield", None, Norm::Shape, "chance"),
];

/// The normalisation for a command, if it has one.
fn normalisation(argv: &[Vec<u8>]) -> Option<Norm> {
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
    let sub = argv
        .get(1)
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase());
    NORMALISED
        .iter()
        .find(|(cmd, want_sub, _, _)| {
            *cmd == name && want_sub.is_none_or(|w| sub.as_deref() == Some(w))
        })
        .map(|&(_, _, norm, _)| norm)
}

/// The type and length of a reply, recursively; errors keep their text.
fn shape(frame: &Frame) -> String {
    let aggregate = |tag: &str, items: &[Frame]| {
        let inner: Vec<String> = items.iter().map(shape).collect();
        format!("{tag}{}[{}]", items.len(), inner.join(","))
    };
    match frame {
        Frame::Simple(_) => "simple".into(),
        Frame::Error(e) => format!("error {}", String::from_utf8_lossy(e)),
        Frame::Integer(_) => "integer".into(),
        Frame::Bulk(_) => "bulk".into(),
        Frame::NullBulk => "nil".into(),
        Frame::NullArray => "nil-array".into(),
        Frame::Null => "null".into(),
        Frame::Double(_) => "double".into(),
        Frame::Boolean(_) => "boolean".into(),
        Frame::BigNumber(_) => "bignumber".into(),
        Frame::Verbatim { format, .. } => format!("verbatim {}", String::from_utf8_lossy(format)),
        Frame::Array(items) => aggregate("array", items),
        Frame::Set(items) => aggregate("set", items),
        Frame::Push(items) => aggregate("push", items),
        Frame::Map(pairs) | Frame::Attribute(pairs, _) => {
            let flat: Vec<Frame> = pairs
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect();
            aggregate("map", &flat)
        }
    }
}

/// Replaces the values of `fields` in a map or flat key/value array.
fn blank_fields(frame: &Frame, fields: &[&str]) -> Frame {
    let hidden = |key: &Frame| {
        key.as_bytes()
            .is_some_and(|k| fields.iter().any(|f| f.as_bytes() == k))
    };
    match frame {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| {
                    let v = if hidden(k) {
                        Frame::Simple(b"<normalised>".to_vec())
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let mut out = items.clone();
            for i in (0..out.len().saturating_sub(1)).step_by(2) {
                if hidden(&items[i]) {
                    out[i + 1] = Frame::Simple(b"<normalised>".to_vec());
                }
            }
            Frame::Array(out)
        }
        other => other.clone(),
    }
}

pub fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode(&mut out);
    out
}

/// The elements of an array-like reply (a map's pairs), sorted by their
/// encoding.
fn sorted_elements(frame: &Frame) -> Option<(String, Vec<Vec<u8>>)> {
    let (tag, items) = match frame {
        Frame::Array(items) => ("array", items),
        Frame::Set(items) => ("set", items),
        Frame::Map(pairs) => {
            let mut encoded: Vec<Vec<u8>> = pairs
                .iter()
                .map(|(k, v)| [encode(k), encode(v)].concat())
                .collect();
            encoded.sort();
            return Some((format!("map{}", pairs.len()), encoded));
        }
        _ => return None,
    };
    let mut encoded: Vec<Vec<u8>> = items.iter().map(encode).collect();
    encoded.sort();
    Some((format!("{tag}{}", items.len()), encoded))
}

/// Whether two replies agree under `compare` (and the normalisation table).
pub fn replies_agree(argv: &[Vec<u8>], compare: Compare, redis: &Reply, sedis: &Reply) -> bool {
    let (r_raw, r) = redis;
    let (s_raw, s) = sedis;
    if r.is_error() || s.is_error() {
        return r_raw == s_raw;
    }
    match compare {
        Compare::Shape => shape(r) == shape(s),
        Compare::Sorted => match (sorted_elements(r), sorted_elements(s)) {
            (Some(a), Some(b)) => a == b,
            _ => r_raw == s_raw,
        },
        Compare::Approx(slack) => match (r, s) {
            (Frame::Integer(a), Frame::Integer(b)) => (a - b).abs() <= slack,
            _ => r_raw == s_raw,
        },
        // Cursors are the implementation's own: the caller compares what a
        // whole iteration returns.
        Compare::Scan => true,
        Compare::Exact => match normalisation(argv) {
            None => r_raw == s_raw,
            Some(Norm::Shape) => shape(r) == shape(s),
            Some(Norm::Fields(fields)) => {
                encode(&blank_fields(r, fields)) == encode(&blank_fields(s, fields))
            }
        },
    }
}

#[test]
fn normalisation_keeps_what_is_not_listed() {
    let hello2 = Frame::Array(vec![
        Frame::Bulk(b"server".to_vec()),
        Frame::Bulk(b"redis".to_vec()),
        Frame::Bulk(b"proto".to_vec()),
        Frame::Integer(2),
        Frame::Bulk(b"id".to_vec()),
        Frame::Integer(7),
    ]);
    let other = blank_fields(&hello2, &["server", "id"]);
    let Frame::Array(items) = &other else {
        panic!("array")
    };
    assert_eq!(items[3], Frame::Integer(2));
    assert_eq!(items[5], Frame::Simple(b"<normalised>".to_vec()));
    assert_eq!(normalisation(&[b"GET".to_vec()]), None);
    assert_eq!(
        normalisation(&[b"object".to_vec(), b"IDLETIME".to_vec()]),
        Some(Norm::Shape)
    );
    assert_eq!(
        normalisation(&[b"object".to_vec(), b"encoding".to_vec()]),
        None
    );
    assert_ne!(
        shape(&Frame::Array(vec![Frame::Bulk(vec![])])),
        shape(&Frame::Array(vec![Frame::NullBulk]))
    );
}
