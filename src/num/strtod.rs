//! C's `strtod` as glibc implements it, for the places where Redis calls it
//! and then judges what it read itself (sorted-set score bounds).
//!
//! [`strtod_prefix`] reads a number at the start of a string: blanks, a
//! sign, `inf`/`infinity`/`nan`, then decimal or hexadecimal digits.
//! Hexadecimal floats (`0x1.8p3`) are read by [`HexFloat`] alone, wherever
//! sedis accepts them: here, in [`super::parse_f64`] and in
//! [`super::LongDouble::parse`]. Each rounds the same digits once to its
//! own precision with [`round_to_bits`].

/// What C's `strtod` makes of the start of `s`: the value and how many
/// bytes it used (0 if no number starts there). Leading blanks, a sign,
/// `inf`/`infinity`, `nan`, hexadecimal and decimal forms, as glibc reads
/// them; the caller decides what trailing bytes mean.
pub fn strtod_prefix(s: &[u8]) -> (f64, usize) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &s[i..];
    let starts =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts(b"infinity") {
        return (sign(f64::INFINITY), i + 8);
    }
    if starts(b"inf") {
        return (sign(f64::INFINITY), i + 3);
    }
    if starts(b"nan") {
        let mut end = i + 3;
        // An optional "(n-char-sequence)".
        if s.get(end) == Some(&b'(') {
            let close = s[end + 1..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
            if let Some(k) = close
                && s[end + 1 + k] == b')'
            {
                end += k + 2;
            }
        }
        return (f64::NAN, end);
    }
    if starts(b"0x")
        && let Some(hex) = HexFloat::scan(&rest[2..])
    {
        return (sign(hex.to_f64()), i + 2 + hex.used);
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one digit.
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut j = i;
    let int_digits = digits(j);
    j += int_digits;
    let mut frac_digits = 0;
    if s.get(j) == Some(&b'.') {
        frac_digits = digits(j + 1);
        if int_digits + frac_digits > 0 {
            j += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return (0.0, 0);
    }
    if matches!(s.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let exp_digits = digits(k);
        if exp_digits > 0 {
            j = k + exp_digits;
        }
    }
    let text = std::str::from_utf8(&s[i..j]).unwrap_or("0");
    // Rust's parser rounds correctly, as glibc's does; it saturates
    // overflow to infinity and underflow to zero, as strtod does.
    let value = text.parse::<f64>().unwrap_or(0.0);
    (sign(value), j)
}

/// A hexadecimal float's digits, read after the `0x` as `strtod` reads
/// them: `h[.h][p[sign]d]`. The value is `mantissa · 2^exp2`, exactly as
/// written while the digits fit 124 bits; past that, bit 0 of the mantissa
/// stands for any nonzero digit dropped (a sticky bit, far below where
/// either precision rounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexFloat {
    pub mantissa: u128,
    pub exp2: i64,
    /// Bytes read, from the first digit (or point) on.
    pub used: usize,
}

impl HexFloat {
    /// Reads the digits after `0x`, stopping where `strtod` stops; `None`
    /// if no hexadecimal digit comes first (`strtod` then reads the `0`
    /// alone). A `p` with no digits after it is not read.
    pub fn scan(s: &[u8]) -> Option<HexFloat> {
        let mut mantissa: u128 = 0;
        let mut exp2: i64 = 0;
        let mut sticky = false;
        let mut any = false;
        let mut seen_point = false;
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'.' && !seen_point {
                seen_point = true;
                i += 1;
                continue;
            }
            let Some(d) = (s[i] as char).to_digit(16) else {
                break;
            };
            any = true;
            if mantissa >> 120 == 0 {
                mantissa = mantissa << 4 | u128::from(d);
                if seen_point {
                    exp2 -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_point {
                    exp2 += 4;
                }
            }
            i += 1;
        }
        if !any {
            return None;
        }
        if matches!(s.get(i), Some(b'p' | b'P')) {
            let mut k = i + 1;
            let negative = s.get(k) == Some(&b'-');
            if matches!(s.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            let n = s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n > 0 {
                // Exponents far beyond any format's range only need to stay
                // far: clamp rather than overflow.
                let e = s[k..k + n].iter().fold(0i64, |acc, &d| {
                    (acc * 10 + i64::from(d - b'0')).min(1_000_000_000)
                });
                exp2 += if negative { -e } else { e };
                i = k + n;
            }
        }
        Some(HexFloat {
            mantissa: mantissa | u128::from(sticky),
            exp2,
            used: i,
        })
    }

    /// The nearest double (ties to even), rounded once, denormals
    /// included; infinity past the largest double, zero below half the
    /// smallest denormal.
    pub fn to_f64(&self) -> f64 {
        const EXP_MIN: i64 = -1074;
        const EXP_MAX: i64 = 971;
        let (m, e) = round_to_bits(self.mantissa, self.exp2, 53, EXP_MIN);
        if m == 0 {
            return 0.0;
        }
        if e > EXP_MAX {
            return f64::INFINITY;
        }
        // A 53-bit mantissa is a normal double; a shorter one (only at
        // EXP_MIN) is a denormal, whose bits are the mantissa itself.
        let bits = if m >> 52 == 0 {
            m as u64
        } else {
            ((e - EXP_MIN + 1) as u64) << 52 | (m as u64 & ((1 << 52) - 1))
        };
        f64::from_bits(bits)
    }
}

/// Rounds `mantissa · 2^exp` (its lowest bit possibly a sticky bit
/// standing for lost nonzero bits below it) to `bits` significant bits,
/// ties to even, keeping the exponent at `exp_min` or above (fewer bits
/// then: a denormal). Returns the rounded `(mantissa, exp)`, the mantissa
/// below `2^bits`; the caller checks the largest exponent.
pub(super) fn round_to_bits(mantissa: u128, exp: i64, bits: i64, exp_min: i64) -> (u128, i64) {
    if mantissa == 0 {
        return (0, exp_min);
    }
    let len = i64::from(128 - mantissa.leading_zeros());
    // Shift right to leave `bits` bits, or more if that would go below
    // `exp_min`.
    let mut shift = len - bits;
    if exp + shift < exp_min {
        shift = exp_min - exp;
    }
    let (mut m, mut e) = if shift <= 0 {
        // Exact: the value fits (a short mantissa never carries a sticky bit).
        (mantissa << (-shift) as u32, exp + shift)
    } else {
        let kept = if shift >= 128 { 0 } else { mantissa >> shift };
        let rest = if shift >= 128 {
            mantissa
        } else {
            mantissa & ((1u128 << shift) - 1)
        };
        // Above 128 the half point is above every bit: it rounds down.
        let up = shift <= 128 && {
            let half = 1u128 << (shift - 1);
            rest > half || (rest == half && kept & 1 == 1)
        };
        (kept + u128::from(up), exp + shift)
    };
    if m >> bits != 0 {
        // Rounding carried into one bit more.
        m >>= 1;
        e += 1;
    }
    (m, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_reads_what_c_reads() {
        let parse = |s: &str| strtod_prefix(s.as_bytes());
        assert_eq!(parse("1.5"), (1.5, 3));
        assert_eq!(parse(" 1"), (1.0, 2));
        assert_eq!(parse("1 "), (1.0, 1));
        assert_eq!(parse(""), (0.0, 0));
        assert_eq!(parse("abc"), (0.0, 0));
        assert_eq!(parse("-inf"), (f64::NEG_INFINITY, 4));
        assert_eq!(parse("Infinity"), (f64::INFINITY, 8));
        assert_eq!(parse("infinit"), (f64::INFINITY, 3));
        assert_eq!(parse("0x10"), (16.0, 4));
        assert_eq!(parse("0x1p-2"), (0.25, 6));
        assert_eq!(parse("0x"), (0.0, 1));
        assert_eq!(parse("1e"), (1.0, 1));
        assert_eq!(parse("1e+"), (1.0, 1));
        assert_eq!(parse("1e3x"), (1000.0, 3));
        assert_eq!(parse(".5"), (0.5, 2));
        assert_eq!(parse("5."), (5.0, 2));
        assert_eq!(parse("."), (0.0, 0));
        assert_eq!(parse("1e400"), (f64::INFINITY, 5));
        assert!(parse("nan").0.is_nan());
        assert_eq!(parse("nan(12)x").1, 7);
        assert_eq!(parse("  -2"), (-2.0, 4));
        assert_eq!(parse("0x1p"), (1.0, 3));
        assert_eq!(parse("0x1.8p1z"), (3.0, 7));
        assert_eq!(parse("-0X.8"), (-0.5, 5));
    }

    #[test]
    fn hex_floats_round_once_to_a_double() {
        let value = |s: &str| HexFloat::scan(s.as_bytes()).map(|h| h.to_f64());
        assert_eq!(value("1p-1074"), Some(f64::from_bits(1)));
        // Exactly half the smallest denormal is a tie: to even, zero.
        assert_eq!(value("1p-1075"), Some(0.0));
        assert_eq!(value("1.8p-1075"), Some(f64::from_bits(1)));
        assert_eq!(value("1p-1022"), Some(f64::MIN_POSITIVE));
        assert_eq!(
            value("0.fffffffffffffp-1022"),
            Some(f64::from_bits((1 << 52) - 1))
        );
        // The largest denormal and a half rounds up to the smallest normal.
        assert_eq!(value("0.fffffffffffff8p-1022"), Some(f64::MIN_POSITIVE));
        assert_eq!(value("1.fffffffffffffp1023"), Some(f64::MAX));
        assert_eq!(value("1.fffffffffffff8p1023"), Some(f64::INFINITY));
        // A tie between two doubles, broken by a digit past 120 bits.
        let long = format!("1.{}1p0", "0".repeat(13));
        assert_eq!(value(&long), Some(1.0));
        let tie = format!("1.00000000000008{}p0", "0".repeat(40));
        assert_eq!(value(&tie), Some(1.0));
        let above = format!("1.00000000000008{}1p0", "0".repeat(40));
        assert_eq!(value(&above), Some(1.0 + f64::EPSILON));
        assert_eq!(value("g"), None);
        assert_eq!(value("."), None);
    }
}
