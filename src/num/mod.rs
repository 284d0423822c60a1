//! Numbers the way Redis reads and writes them: strict integer parsing
//! (`string2ll`: no `+`, no leading zeros, no spaces), float parsing with
//! `strtod`'s rules, and `%.17g` formatting for doubles in replies.
//!
//! [`strtod`] is C's `strtod` itself, with the one reader of hexadecimal
//! floats; [`ldouble`] is C's `long double`, which INCRBYFLOAT and
//! HINCRBYFLOAT compute in; [`bigint`] is the exact integer arithmetic
//! behind it.

pub mod bigint;
pub mod ldouble;
pub mod strtod;

pub use ldouble::LongDouble;

/// Parses a signed 64-bit integer exactly as Redis's `string2ll` does.
///
/// Accepted: `0`, `-5`, `9223372036854775807`. Rejected: the empty string,
/// `+5`, `007`, `-0`, ` 5`, `5 `, and anything that overflows `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    // Redis rejects anything that cannot fit LONG_STR_SIZE (21) bytes.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // The first digit must be 1-9: this is what rejects "007", "-0" and "-".
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses a double with the rules Redis applies around `strtod`: no leading
/// space, the whole string consumed, no NaN, and no overflow to infinity or
/// underflow to zero from a non-zero literal. `inf`, `-inf`, `+1.5`, `1e3`
/// and `.5` are accepted, as C accepts them.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    // Rust's parser takes the decimal spellings C takes ("inf", "infinity"
    // in any case) but not C99's hex floats, which `strtod` reads too.
    let value: f64 = match parse_hex_f64(text) {
        Some(hex) => hex?,
        None => text.parse().ok()?,
    };
    if value.is_nan() {
        return None;
    }
    let literal_is_infinite = {
        let t = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
        t == "inf" || t == "infinity"
    };
    if value.is_infinite() && !literal_is_infinite {
        return None; // ERANGE overflow
    }
    if value == 0.0 && has_nonzero_mantissa(text) {
        return None; // ERANGE underflow to zero
    }
    Some(value)
}

/// `strtod` on a hex float (`0x1.8p3`, `-0X10`): `None` if `text` is not
/// one at all, `Some(None)` if it is malformed (C would stop early, leaving
/// bytes unread, which Redis refuses) or underflows to zero, else the
/// value, rounded once.
fn parse_hex_f64(text: &str) -> Option<Option<f64>> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = body
        .strip_prefix("0x")
        .or_else(|| body.strip_prefix("0X"))?;
    let Some(hex) = strtod::HexFloat::scan(digits.as_bytes()).filter(|h| h.used == digits.len())
    else {
        return Some(None);
    };
    let value = hex.to_f64();
    if value == 0.0 && hex.mantissa != 0 {
        return Some(None); // ERANGE: underflow to zero
    }
    Some(Some(if negative { -value } else { value }))
}

/// True if the mantissa of a decimal literal has a non-zero digit.
fn has_nonzero_mantissa(text: &str) -> bool {
    text.bytes()
        .take_while(|c| !matches!(c, b'e' | b'E'))
        .any(|c| (b'1'..=b'9').contains(&c))
}

/// Formats an `i64` in decimal into a stack buffer, returning the used part.
/// Replies format many integers; this avoids a `String` per number.
pub fn format_i64(value: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = value.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Formats a double as C's `printf("%.17g")` does, which is how Redis writes
/// scores and other doubles into replies.
pub fn format_g17(value: f64) -> String {
    format_g(value, 17)
}

/// C's `%.<precision>g`: the shorter of `%e` and `%f` at `precision`
/// significant digits, trailing zeros removed.
pub fn format_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return if value.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        }
        .to_string();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let precision = precision.max(1);
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Rust's `{:e}` with a precision rounds exactly (correctly rounded decimal
    // expansion), the same as glibc's printf, so the digits agree.
    let sci = format!("{:.*e}", precision - 1, value);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let mantissa = trim_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (precision as i32 - 1 - exp).max(0) as usize;
        trim_fraction_zeros(&format!("{value:.decimals$}")).to_string()
    }
}

/// Removes trailing zeros after a decimal point, and the point itself if
/// nothing remains after it.
fn trim_fraction_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s)
}

/// What C's number parsers (`atoi`, `strtoull`) skip before the digits:
/// leading white space (`isspace`, vertical tab included) and one sign.
/// Returns whether the sign was a minus, and what follows it.
pub fn c_sign(text: &[u8]) -> (bool, &[u8]) {
    let blank = text
        .iter()
        .take_while(|b| b" \t\n\x0b\x0c\r".contains(b))
        .count();
    let rest = &text[blank..];
    match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    }
}

/// C's `atoi` as glibc has it: leading white space (`isspace`, vertical tab
/// included), a sign, digits up to the first non-digit, saturated to a
/// `long` and then cut to an `int`.
pub fn c_atoi(text: &[u8]) -> i32 {
    let (negative, digits) = c_sign(text);
    let mut value: i64 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        let digit = i64::from(d - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value as i32
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_floats_parse_as_strtod() {
        let p = |s: &str| super::parse_f64(s.as_bytes());
        assert_eq!(p("0x10"), Some(16.0));
        assert_eq!(p("-0X1.8p3"), Some(-12.0));
        assert_eq!(p("0x.8"), Some(0.5));
        assert_eq!(p("0xAp-1"), Some(5.0));
        assert_eq!(p("0x1p-1074"), Some(f64::from_bits(1)));
        for bad in [
            "0x",
            "0xg",
            "0x1p",
            "0x1p+",
            "0x1.2.3",
            "0x1p2000",
            "0xap-5000",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    use super::*;

    #[test]
    fn integers_parse_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"+5",
            b"007",
            b"-0",
            b"-",
            b" 5",
            b"5 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"1.0",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_parse_like_strtod_with_redis_checks() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+1.5"), Some(1.5));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"0"), Some(0.0));
        assert_eq!(parse_f64(b"0.0e10"), Some(0.0));
        for bad in [&b""[..], b"nan", b" 1", b"1 ", b"abc", b"1e400", b"1e-400"] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn format_i64_covers_the_extremes() {
        let mut buf = [0u8; 20];
        assert_eq!(format_i64(0, &mut buf), b"0");
        assert_eq!(format_i64(-42, &mut buf), b"-42");
        assert_eq!(format_i64(i64::MIN, &mut buf), b"-9223372036854775808");
        assert_eq!(format_i64(i64::MAX, &mut buf), b"9223372036854775807");
    }

    #[test]
    fn g17_matches_printf() {
        assert_eq!(format_g17(1.5), "1.5");
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(100.0), "100");
        assert_eq!(format_g17(1e17), "1e+17");
        assert_eq!(format_g17(1e16), "10000000000000000");
        assert_eq!(format_g17(1.0e-5), "1.0000000000000001e-05");
        assert_eq!(format_g17(0.0001), "0.0001");
        assert_eq!(format_g17(-2.5), "-2.5");
        assert_eq!(format_g17(f64::INFINITY), "inf");
        assert_eq!(format_g17(3.0e200), "2.9999999999999999e+200");
        assert_eq!(format_g17(1e23), "9.9999999999999992e+22");
    }
}
