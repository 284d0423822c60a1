//! Glob patterns against strings: never panics, and agrees with a direct
//! (exponential-time, so only run on short inputs) recursive matcher written
//! from Redis's `stringmatchlen` rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sedis::internals::glob::Pattern;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize).min(rest.len());
    let (pattern, subject) = rest.split_at(cut);
    let nocase = split & 0x80 != 0;
    let compiled = Pattern::new(pattern, nocase);
    let fast = compiled.matches(subject);
    if pattern.len() <= 12 && subject.len() <= 12 {
        assert_eq!(
            fast,
            reference(pattern, subject, nocase),
            "{pattern:?} {subject:?}"
        );
    }
});

/// Redis's recursive algorithm, transcribed for short inputs only.
fn reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
    let at = |v: &[u8], i: usize| v.get(i).copied().unwrap_or(0);
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    fn go(
        p: &[u8],
        s: &[u8],
        nocase: bool,
        at: &dyn Fn(&[u8], usize) -> u8,
        fold: &dyn Fn(u8) -> u8,
    ) -> bool {
        let (mut pi, mut si) = (0usize, 0usize);
        while pi < p.len() && si < s.len() {
            match p[pi] {
                b'*' => {
                    while pi + 1 < p.len() && p[pi + 1] == b'*' {
                        pi += 1;
                    }
                    if pi + 1 == p.len() {
                        return true;
                    }
                    while si < s.len() {
                        if go(&p[pi + 1..], &s[si..], nocase, at, fold) {
                            return true;
                        }
                        si += 1;
                    }
                    return false;
                }
                b'?' => si += 1,
                b'[' => {
                    pi += 1;
                    let not = at(p, pi) == b'^';
                    if not {
                        pi += 1;
                    }
                    let mut hit = false;
                    loop {
                        let left = p.len().saturating_sub(pi);
                        if at(p, pi) == b'\\' && left >= 2 {
                            pi += 1;
                            if p[pi] == s[si] {
                                hit = true;
                            }
                        } else if at(p, pi) == b']' {
                            break;
                        } else if left == 0 {
                            pi -= 1;
                            break;
                        } else if left >= 3 && at(p, pi + 1) == b'-' {
                            let (mut lo, mut hi) = (p[pi] as i8, p[pi + 2] as i8);
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            let (lo, hi, c) = (
                                fold(lo as u8) as i8,
                                fold(hi as u8) as i8,
                                fold(s[si]) as i8,
                            );
                            if c >= lo && c <= hi {
                                hit = true;
                            }
                            pi += 2;
                        } else if fold(p[pi]) == fold(s[si]) {
                            hit = true;
                        }
                        pi += 1;
                    }
                    if not {
                        hit = !hit;
                    }
                    if !hit {
                        return false;
                    }
                    si += 1;
                }
                b'\\' if pi + 1 < p.len() => {
                    pi += 1;
                    if fold(p[pi]) != fold(s[si]) {
                        return false;
                    }
                    si += 1;
                }
                c => {
                    if fold(c) != fold(s[si]) {
                        return false;
                    }
                    si += 1;
                }
            }
            pi += 1;
            if si == s.len() {
                while pi < p.len() && p[pi] == b'*' {
                    pi += 1;
                }
                break;
            }
        }
        pi >= p.len() && si == s.len()
    }
    go(p, s, nocase, &at, &fold)
}
