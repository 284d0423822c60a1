//! Command syntax: the one-line synopsis each command declares in the table
//! (`key seconds:integer [NX|XX|GT|LT]`) and its parse into the argument
//! tree `COMMAND DOCS` reports under "arguments" (Redis's
//! `redisCommandArg`), which is what clients such as `sedis-cli help` read.
//!
//! The notation, kept small enough to read at a glance in the table:
//!
//! - `name` is a string argument, `name:type` one of another type (`key`,
//!   `integer`, `double`, `pattern`, `unix-time`); a bare `key` is a key.
//! - An upper-case word is a token; `""` is the empty token (MIGRATE's
//!   empty key argument). Followed by an argument or a group it
//!   introduces that argument (`EX seconds:integer`, `LIMIT (offset count)`);
//!   on its own it is a pure token (`NX`).
//! - `[...]` is optional, `(...)` groups, `a|b` chooses one, `...` after an
//!   item repeats it (`key ...` reads as `key [key ...]`). After a token's
//!   argument it repeats the argument alone (`GET (a b) ...` is
//!   `GET a b [a b ...]`); after a group holding the token it repeats the
//!   token too (`(GET (a b)) ...` is `GET a b [GET a b ...]`, Redis's
//!   `multiple_token`).

use std::fmt;

/// What an argument is, as Redis names it in "type".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Double => "double",
            Kind::Key => "key",
            Kind::Pattern => "pattern",
            Kind::UnixTime => "unix-time",
            Kind::PureToken => "pure-token",
            Kind::OneOf => "oneof",
            Kind::Block => "block",
        }
    }

    /// The type a `:suffix` names, if it names one.
    fn from_suffix(suffix: &str) -> Option<Kind> {
        Some(match suffix {
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "double" => Kind::Double,
            "key" => Kind::Key,
            "pattern" => Kind::Pattern,
            "unix-time" => Kind::UnixTime,
            _ => return None,
        })
    }
}

/// One argument of a command, possibly with nested ones (for `oneof` and
/// `block`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: String,
    pub kind: Kind,
    pub token: Option<&'static str>,
    pub optional: bool,
    pub multiple: bool,
    /// Each repetition repeats the token too (Redis's `multiple_token`).
    pub multiple_token: bool,
    pub children: Vec<Arg>,
}

impl Arg {
    fn new(name: String, kind: Kind) -> Arg {
        Arg {
            name,
            kind,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            children: Vec::new(),
        }
    }

    /// A `oneof` or `block` of `children`, named after what it holds
    /// (the token, once one is attached, names it instead).
    fn group(kind: Kind, children: Vec<Arg>) -> Arg {
        let name = children
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join("-");
        Arg {
            children,
            ..Arg::new(name, kind)
        }
    }
}

/// Why a synopsis does not parse; only a mistake in the command table can
/// cause one, and a unit test parses every entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub syntax: &'static str,
    pub reason: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad syntax {:?}: {}", self.syntax, self.reason)
    }
}

/// Parses a synopsis into its top-level arguments.
pub fn parse(syntax: &'static str) -> Result<Vec<Arg>, SyntaxError> {
    let mut parser = Parser {
        syntax,
        words: lex(syntax),
        at: 0,
    };
    let args = parser.sequence()?;
    match parser.peek() {
        None => Ok(args),
        Some(word) => Err(parser.error(format!("unexpected {word:?}"))),
    }
}

/// Splits a synopsis into words and the punctuation `[ ] ( ) |`.
fn lex(syntax: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in syntax.char_indices() {
        let punct = matches!(c, '[' | ']' | '(' | ')' | '|');
        if punct || c.is_whitespace() {
            if let Some(s) = start.take() {
                words.push(&syntax[s..i]);
            }
            if punct {
                words.push(&syntax[i..i + 1]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        words.push(&syntax[s..]);
    }
    words
}

/// How the empty token is written.
const EMPTY_TOKEN: &str = "\"\"";

fn is_token(word: &str) -> bool {
    if word == EMPTY_TOKEN {
        return true;
    }
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

struct Parser {
    syntax: &'static str,
    words: Vec<&'static str>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&'static str> {
        self.words.get(self.at).copied()
    }

    fn next(&mut self) -> Option<&'static str> {
        let word = self.peek();
        self.at += 1;
        word
    }

    fn error(&self, reason: String) -> SyntaxError {
        SyntaxError {
            syntax: self.syntax,
            reason,
        }
    }

    /// Items up to the end, a closing bracket or a `|`.
    fn sequence(&mut self) -> Result<Vec<Arg>, SyntaxError> {
        let mut items = Vec::new();
        while let Some(word) = self.peek() {
            if matches!(word, "]" | ")" | "|") {
                break;
            }
            items.push(self.item()?);
        }
        Ok(items)
    }

    /// One argument: a token introducing what follows it, or a unit, with
    /// its `...`.
    fn item(&mut self) -> Result<Arg, SyntaxError> {
        let word = self.peek().unwrap_or_default();
        if is_token(word) {
            self.at += 1;
            let introduces = self.peek().is_some_and(|next| {
                next == "(" || !(is_token(next) || is_punct(next) || next == "...")
            });
            if introduces {
                let mut arg = self.item()?;
                if arg.kind == Kind::OneOf || arg.kind == Kind::Block {
                    arg.name = word.to_ascii_lowercase();
                }
                arg.token = Some(word);
                return Ok(arg);
            }
            if word == EMPTY_TOKEN {
                let mut arg = Arg::new("empty_string".into(), Kind::PureToken);
                arg.token = Some("");
                return self.repeat(arg);
            }
            let mut arg = Arg::new(word.to_ascii_lowercase(), Kind::PureToken);
            arg.token = Some(word);
            return self.repeat(arg);
        }
        let arg = self.unit()?;
        self.repeat(arg)
    }

    fn repeat(&mut self, mut arg: Arg) -> Result<Arg, SyntaxError> {
        if self.peek() == Some("...") {
            self.at += 1;
            arg.multiple = true;
            // The token is already attached only when a group holds it.
            arg.multiple_token = arg.token.is_some() && arg.kind != Kind::PureToken;
        }
        Ok(arg)
    }

    /// A bracketed group or a plain argument.
    fn unit(&mut self) -> Result<Arg, SyntaxError> {
        match self.next() {
            Some(open @ ("[" | "(")) => {
                let close = if open == "[" { "]" } else { ")" };
                let mut alternatives = vec![self.sequence()?];
                while self.peek() == Some("|") {
                    self.at += 1;
                    alternatives.push(self.sequence()?);
                }
                if self.next() != Some(close) {
                    return Err(self.error(format!("{open} without {close}")));
                }
                let mut choices = alternatives
                    .into_iter()
                    .map(collapse)
                    .collect::<Option<Vec<Arg>>>()
                    .ok_or_else(|| self.error("empty group".into()))?;
                let mut arg = if choices.len() == 1 {
                    choices.remove(0)
                } else {
                    Arg::group(Kind::OneOf, choices)
                };
                arg.optional |= open == "[";
                Ok(arg)
            }
            Some(word) if !is_punct(word) && word != "..." => {
                let (name, kind) = match word.rsplit_once(':') {
                    Some((name, suffix)) => match Kind::from_suffix(suffix) {
                        Some(kind) => (name, kind),
                        None => (word, Kind::String),
                    },
                    None if word == "key" => (word, Kind::Key),
                    None => (word, Kind::String),
                };
                Ok(Arg::new(name.to_string(), kind))
            }
            other => Err(self.error(format!("expected an argument, found {other:?}"))),
        }
    }
}

fn is_punct(word: &str) -> bool {
    matches!(word, "[" | "]" | "(" | ")" | "|")
}

/// One alternative of a group: a single argument stands for itself,
/// several form a block.
fn collapse(mut items: Vec<Arg>) -> Option<Arg> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(Arg::group(Kind::Block, items)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::registry::registry;

    fn leaf(name: &str, kind: Kind) -> Arg {
        Arg::new(name.to_string(), kind)
    }

    #[test]
    fn tokens_introduce_what_follows_them() {
        let args =
            parse("key [EX seconds:integer|KEEPTTL] [LIMIT (offset count:integer)]").unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(args[0], leaf("key", Kind::Key));
        let expiry = &args[1];
        assert_eq!((expiry.kind, expiry.optional), (Kind::OneOf, true));
        assert_eq!(expiry.children[0].token, Some("EX"));
        assert_eq!(expiry.children[0].kind, Kind::Integer);
        assert_eq!(expiry.children[1].kind, Kind::PureToken);
        let limit = &args[2];
        assert_eq!((limit.name.as_str(), limit.kind), ("limit", Kind::Block));
        assert_eq!(limit.token, Some("LIMIT"));
        assert_eq!(limit.children[1], leaf("count", Kind::Integer));
    }

    #[test]
    fn repetition_and_nesting() {
        let args = parse("numkeys:integer key ... [count:integer [WITHSCORES]]").unwrap();
        assert!(args[1].multiple && args[1].kind == Kind::Key);
        let options = &args[2];
        assert_eq!((options.kind, options.optional), (Kind::Block, true));
        assert!(options.children[1].optional);
        let get = parse("[GET (a b) ...] [(SET (c d)) ...]").unwrap();
        assert!(get[0].multiple && !get[0].multiple_token && get[0].token == Some("GET"));
        assert!(get[1].multiple && get[1].multiple_token && get[1].token == Some("SET"));
        let pairs = parse("(field value) ...").unwrap();
        assert_eq!((pairs[0].kind, pairs[0].multiple), (Kind::Block, true));
        let either = parse("(key|\"\") db:integer").unwrap();
        assert_eq!(either[0].children[1].token, Some(""));
        assert_eq!(either[0].children[1].kind, Kind::PureToken);
        // A colon that does not name a type is part of the name.
        assert_eq!(parse("ip:port").unwrap()[0], leaf("ip:port", Kind::String));
    }

    #[test]
    fn mistakes_are_reported() {
        for bad in ["[key", "key)", "()", "[a|]", "...", "|", "NX ... ..."] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_command_in_the_table_parses() {
        for entry in registry().entries() {
            if let Err(e) = parse(entry.command.doc.syntax) {
                panic!("{}: {e}", entry.full_name);
            }
        }
    }
}
