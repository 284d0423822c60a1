//! The script language: a script file is parsed into steps (a command,
//! which connection sends it, how its reply is compared), with redis-cli's
//! quoting. The language itself is described in the crate documentation.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a reply is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compare {
    Exact,
    Sorted,
    Shape,
    Approx(i64),
    Scan,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a command, read and compare its reply.
    Command(Vec<Vec<u8>>),
    /// Send a command that must block; its reply comes with `Reply`.
    Block(Vec<Vec<u8>>),
    /// Send a command whose reply is silenced, reading nothing.
    NoReply(Vec<Vec<u8>>),
    /// Read the reply of the connection's blocked command.
    Reply,
    /// Read one more frame the connection was sent (a pub/sub message, the
    /// rest of a multi-channel SUBSCRIBE).
    Read,
    Sleep(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub line: usize,
    /// The line as written (for messages).
    pub text: String,
    /// 0-based connection index.
    pub conn: usize,
    pub compare: Compare,
    pub action: Action,
}

pub const CONNECTIONS: usize = 3;

/// Splits a line the way redis-cli does (`sdssplitargs`). Each word comes
/// with whether it was quoted, so that quoted words are never directives.
fn split_args(line: &str) -> Result<Vec<(Vec<u8>, bool)>, String> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            return Ok(words);
        }
        let quoted = bytes[i] == b'"' || bytes[i] == b'\'';
        let mut word = Vec::new();
        // Inside quotes: which one, `"` (with escapes) or `'` (literal).
        let mut quote: Option<u8> = None;
        loop {
            let c = bytes.get(i).copied();
            let Some(q) = quote else {
                match c {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(q @ (b'"' | b'\'')) => quote = Some(q),
                    Some(c) => word.push(c),
                }
                i += 1;
                continue;
            };
            match c {
                None if q == b'"' => return Err("unbalanced double quotes".into()),
                None => return Err("unbalanced single quotes".into()),
                Some(b'\\')
                    if q == b'"'
                        && bytes.get(i + 1) == Some(&b'x')
                        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                        && bytes.get(i + 3).is_some_and(u8::is_ascii_hexdigit) =>
                {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).expect("ascii");
                    word.push(u8::from_str_radix(hex, 16).expect("hex digits"));
                    i += 4;
                }
                Some(b'\\') if q == b'"' && i + 1 < bytes.len() => {
                    word.push(match bytes[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                    i += 2;
                }
                Some(b'\\') if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => {
                    word.push(b'\'');
                    i += 2;
                }
                Some(c) if c == q => {
                    if bytes.get(i + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                }
                Some(c) => {
                    word.push(c);
                    i += 1;
                }
            }
        }
        words.push((word, quoted));
    }
}

/// Parses one script into steps; errors name the line.
fn parse_script(source: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (index, text) in source.lines().enumerate() {
        let line = index + 1;
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let step = parse_line(line, trimmed).map_err(|e| format!("line {line}: {e}: {text}"))?;
        steps.push(step);
    }
    Ok(steps)
}

fn parse_line(line: usize, text: &str) -> Result<Step, String> {
    let words = split_args(text)?;
    let mut conn = 0;
    let mut compare = Compare::Exact;
    let mut block = false;
    let mut no_reply = false;
    let mut rest = &words[..];
    let number = |rest: &[(Vec<u8>, bool)], what: &str| -> Result<i64, String> {
        rest.first()
            .and_then(|(w, _)| std::str::from_utf8(w).ok()?.parse().ok())
            .ok_or_else(|| format!("{what} needs a number"))
    };
    while let Some(((word, false), tail)) = rest.split_first() {
        if !word.starts_with(b"@") {
            break;
        }
        let directive = String::from_utf8_lossy(word).into_owned();
        rest = tail;
        match directive.as_str() {
            "@conn1" | "@conn2" | "@conn3" => {
                conn = usize::from(word[5] - b'1');
            }
            "@sorted" => compare = Compare::Sorted,
            "@shape" => compare = Compare::Shape,
            "@scan" => compare = Compare::Scan,
            "@approx" => {
                compare = Compare::Approx(number(rest, "@approx")?);
                rest = &rest[1..];
            }
            "@block" => block = true,
            "@noreply" => no_reply = true,
            "@reply" | "@read" | "@sleep" | "@hello" => {
                let action = match directive.as_str() {
                    "@reply" => Action::Reply,
                    "@read" => Action::Read,
                    "@sleep" => {
                        let ms = number(rest, "@sleep")?;
                        rest = &rest[1..];
                        Action::Sleep(Duration::from_millis(ms as u64))
                    }
                    _ => {
                        let proto = number(rest, "@hello")?;
                        if proto != 2 && proto != 3 {
                            return Err("@hello takes 2 or 3".into());
                        }
                        rest = &rest[1..];
                        Action::Command(vec![b"HELLO".to_vec(), proto.to_string().into_bytes()])
                    }
                };
                if !rest.is_empty() {
                    return Err(format!("nothing may follow {directive} here"));
                }
                if block || no_reply {
                    return Err(format!("@block and @noreply cannot apply to {directive}"));
                }
                return Ok(Step {
                    line,
                    text: text.to_string(),
                    conn,
                    compare,
                    action,
                });
            }
            other => return Err(format!("unknown directive {other}")),
        }
    }
    if rest.is_empty() {
        return Err("no command".into());
    }
    if block && no_reply {
        return Err("@block and @noreply do not combine".into());
    }
    if no_reply && compare != Compare::Exact {
        return Err("a command with no reply has nothing to compare".into());
    }
    let argv: Vec<Vec<u8>> = rest.iter().map(|(w, _)| w.clone()).collect();
    if compare == Compare::Scan && scan_cursor_index(&argv).is_none() {
        return Err("@scan needs SCAN cursor or ZSCAN key cursor".into());
    }
    Ok(Step {
        line,
        text: text.to_string(),
        conn,
        compare,
        action: if block {
            Action::Block(argv)
        } else if no_reply {
            Action::NoReply(argv)
        } else {
            Action::Command(argv)
        },
    })
}

/// Where the cursor is in a SCAN-family command.
pub fn scan_cursor_index(argv: &[Vec<u8>]) -> Option<usize> {
    let name = argv[0].to_ascii_lowercase();
    match name.as_slice() {
        b"scan" if argv.len() >= 2 => Some(1),
        b"zscan" | b"hscan" | b"sscan" if argv.len() >= 3 => Some(2),
        _ => None,
    }
}

pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

pub fn load_script(name: &str) -> Vec<Step> {
    let path = scripts_dir().join(format!("{name}.txt"));
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_script(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn lines_split_like_redis_cli() {
    let words = |line: &str| -> Vec<Vec<u8>> {
        split_args(line)
            .unwrap()
            .into_iter()
            .map(|(w, _)| w)
            .collect()
    };
    assert_eq!(
        words("SET k  v"),
        [b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
    );
    assert_eq!(
        words(r#"SET "a b\x00\xff\n\"" 'it\'s \n'"#),
        [
            b"SET".to_vec(),
            b"a b\x00\xff\n\"".to_vec(),
            b"it's \\n".to_vec()
        ]
    );
    assert_eq!(words(r#"SET "" ''"#), [b"SET".to_vec(), vec![], vec![]]);
    assert!(split_args(r#"SET "abc"#).is_err());
    assert!(split_args(r#"SET "a"b"#).is_err());
    assert!(split_args("SET 'a").is_err());
}

#[test]
fn directives_parse() {
    let step = parse_line(3, "@conn2 @sorted KEYS *").unwrap();
    assert_eq!(step.conn, 1);
    assert_eq!(step.compare, Compare::Sorted);
    assert_eq!(
        step.action,
        Action::Command(vec![b"KEYS".to_vec(), b"*".to_vec()])
    );
    let step = parse_line(4, r#"ECHO "@conn2""#).unwrap();
    assert_eq!(
        step.action,
        Action::Command(vec![b"ECHO".to_vec(), b"@conn2".to_vec()])
    );
    assert_eq!(
        parse_line(5, "@sleep 20").unwrap().action,
        Action::Sleep(Duration::from_millis(20))
    );
    assert_eq!(
        parse_line(6, "@approx 5 PTTL k").unwrap().compare,
        Compare::Approx(5)
    );
    assert!(matches!(
        parse_line(7, "@block BLPOP k 0").unwrap().action,
        Action::Block(_)
    ));
    assert_eq!(parse_line(8, "@conn3 @reply").unwrap().conn, 2);
    assert!(parse_line(9, "@bogus PING").is_err());
    assert!(parse_line(10, "@scan GET k").is_err());
    assert!(parse_line(11, "@hello 4").is_err());
    assert_eq!(
        parse_line(12, "@conn2 @noreply CLIENT REPLY OFF")
            .unwrap()
            .action,
        Action::NoReply(vec![b"CLIENT".to_vec(), b"REPLY".to_vec(), b"OFF".to_vec()])
    );
    assert!(parse_line(13, "@noreply @block BLPOP k 0").is_err());
    assert!(parse_line(14, "@noreply @read").is_err());
}
