//! Redis's glob patterns (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`, `CONFIG GET`):
//! `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
//!
//! Redis matches by recursion on `*`; a crafted pattern such as `a*a*a*a*b`
//! against a long key made that exponential once (CVE-2022-36021). Here a
//! pattern is compiled into tokens once and matched with the classic
//! "remember the last star" loop: every token but `*` consumes exactly one
//! byte, so only the most recent `*` ever needs to be re-tried, and matching
//! is O(pattern x key) in the worst case with no recursion at all.
//!
//! The token rules reproduce Redis's `stringmatchlen` byte for byte,
//! including its quirks: an unterminated `[` class ends at the pattern's end,
//! range bounds compare as signed C chars, a trailing lone `\` is a literal,
//! and an empty string matches only the empty pattern (even `*` does not
//! match it; callers special-case a bare `*` as Redis's do).

#[derive(Debug, Clone)]
enum Token {
    Star,
    Any,
    Byte(u8),
    Class { negate: bool, items: Vec<ClassItem> },
}

#[derive(Debug, Clone)]
enum ClassItem {
    /// A `\`-escaped byte: compared exactly, even when matching without case.
    Escaped(u8),
    Byte(u8),
    /// Inclusive bounds, already swapped so `lo <= hi` (as signed chars).
    Range(u8, u8),
}

/// A compiled glob pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    tokens: Vec<Token>,
    nocase: bool,
    /// The pattern is exactly `*`: callers treat it as "everything".
    match_all: bool,
}

impl Pattern {
    /// Compiles `pattern`; `nocase` folds ASCII case as Redis's `nocase` flag does.
    pub fn new(pattern: &[u8], nocase: bool) -> Self {
        Pattern {
            tokens: tokenize(pattern),
            nocase,
            match_all: pattern == b"*",
        }
    }

    /// True if the pattern is the single `*` that Redis treats as "all keys"
    /// without matching (so it also returns the empty key).
    pub fn is_match_all(&self) -> bool {
        self.match_all
    }

    /// Does `s` match, with Redis's `stringmatchlen` semantics?
    pub fn matches(&self, s: &[u8]) -> bool {
        let t = &self.tokens;
        if s.is_empty() {
            return t.is_empty();
        }
        let (mut i, mut j) = (0, 0);
        // The token after the last star seen, and where in `s` it was tried.
        let mut backtrack: Option<(usize, usize)> = None;
        while j < s.len() {
            match t.get(i) {
                Some(Token::Star) => {
                    i += 1;
                    backtrack = Some((i, j));
                }
                Some(token) if self.token_matches(token, s[j]) => {
                    i += 1;
                    j += 1;
                }
                _ => match backtrack {
                    Some((after_star, tried)) => {
                        // Let the star swallow one more byte and retry.
                        i = after_star;
                        j = tried + 1;
                        backtrack = Some((after_star, tried + 1));
                    }
                    None => return false,
                },
            }
        }
        t[i..].iter().all(|token| matches!(token, Token::Star))
    }

    fn token_matches(&self, token: &Token, c: u8) -> bool {
        let fold = |b: u8| {
            if self.nocase {
                b.to_ascii_lowercase()
            } else {
                b
            }
        };
        match token {
            Token::Star | Token::Any => true,
            Token::Byte(b) => fold(*b) == fold(c),
            Token::Class { negate, items } => {
                let hit = items.iter().any(|item| match *item {
                    ClassItem::Escaped(b) => b == c,
                    ClassItem::Byte(b) => fold(b) == fold(c),
                    ClassItem::Range(lo, hi) => {
                        let (lo, hi, c) = (fold(lo) as i8, fold(hi) as i8, fold(c) as i8);
                        lo <= c && c <= hi
                    }
                });
                hit != *negate
            }
        }
    }
}

/// One-off match with Redis's `stringmatchlen` semantics.
pub fn matches(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    Pattern::new(pattern, nocase).matches(s)
}

fn tokenize(p: &[u8]) -> Vec<Token> {
    // Past the end Redis reads the string's NUL terminator; so do we.
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'*' => {
                if !matches!(tokens.last(), Some(Token::Star)) {
                    tokens.push(Token::Star);
                }
            }
            b'?' => tokens.push(Token::Any),
            b'\\' if i + 1 < p.len() => {
                i += 1;
                tokens.push(Token::Byte(p[i]));
            }
            b'[' => {
                i += 1;
                let negate = at(i) == b'^';
                if negate {
                    i += 1;
                }
                let mut items = Vec::new();
                loop {
                    let left = p.len().saturating_sub(i);
                    if at(i) == b'\\' && left >= 2 {
                        i += 1;
                        items.push(ClassItem::Escaped(p[i]));
                    } else if at(i) == b']' {
                        break;
                    } else if left == 0 {
                        // Unterminated: the class ends with the pattern.
                        i = p.len() - 1;
                        break;
                    } else if left >= 3 && at(i + 1) == b'-' {
                        let (mut lo, mut hi) = (p[i], p[i + 2]);
                        if (lo as i8) > (hi as i8) {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        items.push(ClassItem::Range(lo, hi));
                        i += 2;
                    } else {
                        items.push(ClassItem::Byte(p[i]));
                    }
                    i += 1;
                }
                tokens.push(Token::Class { negate, items });
            }
            other => tokens.push(Token::Byte(other)),
        }
        i += 1;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p.as_bytes(), false).matches(s.as_bytes())
    }

    #[test]
    fn basics() {
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("a*", "a"));
        assert!(m("*a*", "bab"));
        assert!(!m("*a*", "bbb"));
        assert!(m("a\\", "a\\"), "trailing backslash is literal");
    }

    #[test]
    fn redis_quirks() {
        assert!(!m("*", ""), "empty string matches only the empty pattern");
        assert!(m("", ""));
        assert!(!m("[", "["), "a lone [ matches nothing");
        assert!(
            m("[^", "x"),
            "unterminated negated empty class matches any byte"
        );
        assert!(m("[abc", "b"), "unterminated class");
        // "a-]" is the range between ']' and 'a' (bounds swapped), unterminated.
        assert!(m("[a-]", "_"));
        assert!(!m("[a-]", "b"));
        assert!(m("[\\]]", "]"));
        assert!(Pattern::new(b"HELLO", true).matches(b"hello"));
        assert!(
            !Pattern::new(b"[\\A]", true).matches(b"a"),
            "escaped bytes ignore nocase"
        );
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = "a*".repeat(40) + "b";
        let key = "a".repeat(20_000);
        // With exponential backtracking this would not finish in our lifetime;
        // with the star loop it is 800,000 steps.
        assert!(!m(&pattern, &key));
    }
}
