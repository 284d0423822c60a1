//! C's `long double` on x86-64 Linux (the x87 80-bit extended format: sign,
//! 15-bit exponent, 64-bit mantissa with an explicit integer bit), in
//! software, exactly.
//!
//! Redis does INCRBYFLOAT and HINCRBYFLOAT in `long double`: it reads both
//! operands with `strtold`, adds them, and writes the sum with
//! `printf("%.17Lf")`, trailing zeros trimmed (`string2ld` and `ld2string`'s
//! human mode in `util.c`). Doing the same in `f64` gives other bytes
//! (`SET k 1e17` then `INCRBYFLOAT k 0.5` is `100000000000000000.5` in Redis,
//! `100000000000000000` in `f64`), so this module reproduces each step:
//!
//! - [`LongDouble::parse`]: `strtold`, correctly rounded (round to nearest,
//!   ties to even) from decimal or hexadecimal text, with Redis's checks on
//!   top (no leading space, all bytes used, no NaN, no overflow, no
//!   underflow to zero).
//! - `+` ([`std::ops::Add`]): IEEE addition, rounded once to 64 mantissa bits.
//! - [`LongDouble::format_human`]: `%.17Lf`, the exact decimal expansion
//!   rounded half-to-even at 17 decimals (as glibc does), then trimmed.
//!
//! Exactness comes from integers: a finite value is `mantissa · 2^exp`, and
//! conversions to and from decimal use [`BigUint`] arithmetic, never floats.

use super::bigint::BigUint;
use super::strtod::{HexFloat, round_to_bits};
use crate::error::{self, CommandResult};

/// The smallest exponent: denormals are `mantissa · 2^EXP_MIN` with a
/// mantissa below 2^63, and the smallest normal is `2^63 · 2^EXP_MIN`.
const EXP_MIN: i64 = -16445;
/// The largest exponent of a finite value (`(2^64-1) · 2^EXP_MAX` is
/// `LDBL_MAX`, about 1.19e4932).
const EXP_MAX: i64 = 16320;
/// `string2ld` refuses inputs this long or longer (`MAX_LONG_DOUBLE_CHARS`).
const MAX_CHARS: usize = 5 * 1024;
/// Decimals `%.17Lf` prints.
const DECIMALS: u32 = 17;
const TEN_POW_DECIMALS: u128 = 100_000_000_000_000_000;

/// An 80-bit extended-precision value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongDouble {
    negative: bool,
    class: Class,
    /// For finite values: the value is `mantissa · 2^exp`. A normal value has
    /// the top bit set; a denormal (or zero) has `exp == EXP_MIN`.
    mantissa: u64,
    exp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Finite,
    Infinite,
    Nan,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble {
        negative: false,
        class: Class::Finite,
        mantissa: 0,
        exp: EXP_MIN,
    };

    fn infinity(negative: bool) -> Self {
        LongDouble {
            negative,
            class: Class::Infinite,
            mantissa: 0,
            exp: 0,
        }
    }

    /// The x87's default NaN (what `inf - inf` gives: sign bit set).
    fn nan() -> Self {
        LongDouble {
            negative: true,
            class: Class::Nan,
            mantissa: 0,
            exp: 0,
        }
    }

    fn zero(negative: bool) -> Self {
        LongDouble {
            negative,
            ..Self::ZERO
        }
    }

    /// An integer, exactly (every `i64` fits 64 mantissa bits), as C's
    /// `(long double)n`.
    pub fn from_i64(n: i64) -> Self {
        round(n < 0, u128::from(n.unsigned_abs()), 0)
    }

    /// A double, exactly, as C's `(long double)d`.
    pub fn from_f64(d: f64) -> Self {
        let negative = d.is_sign_negative();
        if d.is_nan() {
            return Self::nan();
        }
        if d.is_infinite() {
            return Self::infinity(negative);
        }
        let bits = d.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1 << 52) - 1);
        let (mantissa, exp) = if exponent == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), exponent - 1075)
        };
        round(negative, u128::from(mantissa), exp)
    }

    pub fn is_finite(&self) -> bool {
        self.class == Class::Finite
    }

    pub fn is_nan(&self) -> bool {
        self.class == Class::Nan
    }

    pub fn is_infinite(&self) -> bool {
        self.class == Class::Infinite
    }

    fn is_zero(&self) -> bool {
        self.class == Class::Finite && self.mantissa == 0
    }

    /// The value's bits as the x87 stores them: sign and biased exponent in
    /// the top 16 bits, then the 64-bit mantissa. Lets tests compare with
    /// what a C program prints.
    pub fn to_bits(&self) -> u128 {
        let (biased, mantissa) = match self.class {
            Class::Infinite => (0x7fff, 1u64 << 63),
            Class::Nan => (0x7fff, 3u64 << 62),
            Class::Finite if self.mantissa >> 63 == 0 => (0, self.mantissa),
            Class::Finite => (self.exp - EXP_MIN + 1, self.mantissa),
        };
        (u128::from(self.negative) << 79) | ((biased as u128) << 64) | u128::from(mantissa)
    }

    /// Parses a number as Redis's `string2ld` does: `strtold` on the whole
    /// argument, refusing a leading space, trailing bytes, NaN, overflow to
    /// infinity and underflow to zero (but not `inf` itself, nor denormals).
    /// Accepts what C accepts: `1.5`, `+.5`, `5.`, `-1e3`, `0x1.8p3`, `inf`,
    /// `INFINITY`.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_CHARS {
            return None;
        }
        let (negative, body) = match text[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Self::infinity(negative));
        }
        let magnitude = match body {
            [b'0', b'x' | b'X', hex @ ..] => parse_hex(hex)?,
            _ => parse_decimal(body)?,
        };
        Some(LongDouble {
            negative,
            ..magnitude
        })
    }

    /// Formats as `printf("%.17Lf")` and trims trailing zeros after the
    /// point (and the point itself), with `-0` written `0`: Redis's
    /// `ld2string(..., LD_STR_HUMAN)`. Infinities are `inf` and `-inf`.
    pub fn format_human(&self) -> Vec<u8> {
        match self.class {
            Class::Infinite if self.negative => return b"-inf".to_vec(),
            Class::Infinite => return b"inf".to_vec(),
            Class::Nan => return b"nan".to_vec(),
            Class::Finite => {}
        }
        let mut out = Vec::new();
        if self.negative {
            out.push(b'-');
        }
        if self.exp >= 0 {
            // An integer: every decimal is zero and gets trimmed.
            let mut n = BigUint::from_u128(u128::from(self.mantissa));
            n.shl(self.exp as u64);
            out.extend_from_slice(&n.to_decimal());
        } else {
            // value · 10^17 = mantissa · 10^17 / 2^shift, rounded half to
            // even. mantissa · 10^17 < 2^121, so it fits a u128.
            let scaled = u128::from(self.mantissa) * TEN_POW_DECIMALS;
            let shift = (-self.exp) as u64;
            let units = if shift >= 128 {
                0 // below half a unit: scaled < 2^121 <= 2^(shift-1)
            } else {
                let quotient = scaled >> shift;
                let rest = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                let up = rest > half || (rest == half && quotient & 1 == 1);
                quotient + u128::from(up)
            };
            let integer = units / TEN_POW_DECIMALS;
            let fraction = units % TEN_POW_DECIMALS;
            out.extend_from_slice(integer.to_string().as_bytes());
            if fraction != 0 {
                let digits = format!("{fraction:0width$}", width = DECIMALS as usize);
                out.push(b'.');
                out.extend_from_slice(digits.trim_end_matches('0').as_bytes());
            }
        }
        if out == b"-0" {
            out.remove(0);
        }
        out
    }
}

impl LongDouble {
    /// `self * k` for a small integer `k`, rounded once, as the x87
    /// multiplies (Redis's `ftval * 1000.0` for timeouts in seconds).
    pub fn times(self, k: u32) -> LongDouble {
        match self.class {
            Class::Finite => round(
                self.negative,
                u128::from(self.mantissa) * u128::from(k),
                self.exp,
            ),
            Class::Infinite if k == 0 => Self::nan(),
            _ => self,
        }
    }

    /// C's `(long long) ceill(x)`: `None` where the result does not fit
    /// (NaN, infinities, beyond `i64`), which x86-64 turns into `LLONG_MIN`.
    pub fn ceil_to_i64(&self) -> Option<i64> {
        if self.class != Class::Finite {
            return None;
        }
        let magnitude: u128 = if self.exp >= 0 {
            if self.exp >= 64 {
                return None;
            }
            u128::from(self.mantissa) << self.exp
        } else {
            let shift = (-self.exp).min(127) as u32;
            let whole = if shift >= 64 {
                0
            } else {
                self.mantissa >> shift
            };
            let fraction = if shift >= 64 {
                self.mantissa != 0
            } else {
                self.mantissa & ((1u64 << shift) - 1) != 0
            };
            // Rounding toward +infinity: a positive value with a fraction
            // goes up; a negative one is truncated toward zero.
            u128::from(whole) + u128::from(fraction && !self.negative)
        };
        if self.negative {
            0i128
                .checked_sub_unsigned(magnitude)
                .and_then(|v| i64::try_from(v).ok())
        } else {
            i64::try_from(magnitude).ok()
        }
    }
}

/// IEEE addition in round-to-nearest-even, as the x87 adds two `long
/// double`s.
impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    fn add(self, other: LongDouble) -> LongDouble {
        use Class::*;
        match (self.class, other.class) {
            (Nan, _) | (_, Nan) => return Self::nan(),
            (Infinite, Infinite) if self.negative != other.negative => return Self::nan(),
            (Infinite, _) => return self,
            (_, Infinite) => return other,
            (Finite, Finite) => {}
        }
        if self.is_zero() && other.is_zero() {
            // -0 + -0 is -0; any other sum of zeros is +0.
            return Self::zero(self.negative && other.negative);
        }
        if other.is_zero() {
            return self;
        }
        if self.is_zero() {
            return other;
        }
        // Order by magnitude: a larger exponent means a larger value, since
        // only the smallest exponent holds denormals.
        let (big, small) = if (self.exp, self.mantissa) >= (other.exp, other.mantissa) {
            (self, other)
        } else {
            (other, self)
        };
        // 62 guard bits below each mantissa; the bits of the smaller operand
        // shifted out beyond them are folded into the lowest bit ("sticky"),
        // which is far below the rounding position, so rounding sees them.
        const GUARD: u32 = 62;
        let a = u128::from(big.mantissa) << GUARD;
        let b = u128::from(small.mantissa) << GUARD;
        let distance = big.exp - small.exp;
        let b = if distance >= 126 {
            1 // only the sticky bit survives
        } else {
            let lost = b & ((1u128 << distance) - 1) != 0;
            (b >> distance) | u128::from(lost)
        };
        let exp = big.exp - i64::from(GUARD);
        if big.negative == small.negative {
            round(big.negative, a + b, exp)
        } else if a == b {
            Self::zero(false) // x - x is +0 in round-to-nearest
        } else {
            round(big.negative, a - b, exp)
        }
    }
}

/// Rounds `mantissa · 2^exp` (its lowest bit possibly a sticky bit standing
/// for lost nonzero bits below it) to the nearest extended value, ties to
/// even; denormal when it is that small, infinite when too large.
fn round(negative: bool, mantissa: u128, exp: i64) -> LongDouble {
    if mantissa == 0 {
        return LongDouble::zero(negative);
    }
    let (m, e) = round_to_bits(mantissa, exp, 64, EXP_MIN);
    if e > EXP_MAX {
        return LongDouble::infinity(negative);
    }
    LongDouble {
        negative,
        class: Class::Finite,
        mantissa: m as u64,
        exp: e,
    }
}

/// Rounds a big integer times `2^exp`, plus a sticky "something nonzero
/// below" flag.
fn round_big(n: &BigUint, exp: i64, sticky: bool) -> LongDouble {
    let (top, shift, lost) = n.top_bits();
    // The sticky bit goes into bit 0; a big `n` has 128 bits there, far below
    // the rounding position, and a small one is exact unless `sticky`, which
    // only division produces, with at least 67 bits.
    round(false, top | u128::from(lost || sticky), exp + shift as i64)
}

/// A decimal number without its sign: `digits[.digits][e[+-]digits]`.
fn parse_decimal(body: &[u8]) -> Option<LongDouble> {
    let int_len = body.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int_digits, rest) = body.split_at(int_len);
    let (frac_digits, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
            after.split_at(n)
        }
        _ => (&[][..], rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let exp10 = match rest {
        [] => 0,
        [b'e' | b'E', exponent @ ..] => parse_exponent(exponent)?,
        _ => return None,
    };
    // All significant digits, and the power of ten of the last one.
    let mut digits: Vec<u8> = int_digits.iter().chain(frac_digits).copied().collect();
    let mut exp10 = exp10 - frac_digits.len() as i64;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    while digits.last() == Some(&b'0') {
        digits.pop();
        exp10 += 1;
    }
    if digits.is_empty() {
        return Some(LongDouble::ZERO); // an exact zero: no range error
    }
    // The value is in [10^(count-1+exp10), 10^(count+exp10)). LDBL_MAX is
    // below 10^4933; half the smallest denormal is above 10^-4952.
    let count = digits.len() as i64;
    if count - 1 + exp10 >= 4933 || count + exp10 <= -4952 {
        return None;
    }
    let mut n = BigUint::zero();
    n.push_decimal_digits(&digits);
    if exp10 >= 0 {
        n.mul_pow10(exp10 as u32);
        return finite_or_none(round_big(&n, 0, false));
    }
    // n / 10^-exp10: scale so the quotient has 67 or 68 bits, which leaves
    // room for the 64 kept, the rounding bit and the sticky bit.
    let mut divisor = BigUint::pow10((-exp10) as u32);
    let scale = 67 + divisor.bit_len() as i64 - n.bit_len() as i64;
    if scale >= 0 {
        n.shl(scale as u64);
    } else {
        divisor.shl((-scale) as u64);
    }
    let (quotient, remainder_nonzero) = divide_small_quotient(n, divisor, 68);
    finite_or_none(round_big(
        &BigUint::from_u128(quotient),
        -scale,
        remainder_nonzero,
    ))
}

/// A hexadecimal number after its `0x`: `hexdigits[.hexdigits][p[+-]digits]`
/// and nothing after. A bare `0x` is no number (strtold would stop after
/// the `0`).
fn parse_hex(hex: &[u8]) -> Option<LongDouble> {
    let h = HexFloat::scan(hex).filter(|h| h.used == hex.len())?;
    if h.mantissa == 0 {
        return Some(LongDouble::ZERO);
    }
    // The value is in [2^(bits-1+exp2), 2^(bits+exp2)). Overflow from 2^16384;
    // zero below half the smallest denormal, 2^-16446.
    let bits = i64::from(128 - h.mantissa.leading_zeros());
    if bits - 1 + h.exp2 >= 16384 || bits + h.exp2 <= -16446 {
        return None;
    }
    finite_or_none(round(false, h.mantissa, h.exp2))
}

/// An exponent's digits (with an optional sign). strtold takes any number
/// of digits; values far beyond the format's range only need to stay far,
/// so they are clamped rather than overflowed.
fn parse_exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0i64, |acc, &d| {
        (acc * 10 + i64::from(d - b'0')).min(1_000_000_000)
    });
    Some(if negative { -value } else { value })
}

/// strtold's overflow is `ERANGE` with `HUGE_VALL`, which Redis refuses; so
/// is a nonzero literal that rounds to zero.
fn finite_or_none(v: LongDouble) -> Option<LongDouble> {
    (v.is_finite() && !v.is_zero()).then_some(v)
}

/// `numerator / divisor` when the quotient is known to be below
/// `2^quotient_bits` (at most 128): binary long division, one bit at a time.
/// Returns the quotient and whether the remainder is nonzero.
fn divide_small_quotient(
    mut numerator: BigUint,
    mut divisor: BigUint,
    quotient_bits: u32,
) -> (u128, bool) {
    divisor.shl(u64::from(quotient_bits));
    let mut quotient = 0u128;
    for bit in (0..quotient_bits).rev() {
        divisor.shr1();
        if numerator >= divisor {
            numerator.sub_assign(&divisor);
            quotient |= 1u128 << bit;
        }
    }
    (quotient, !numerator.is_zero())
}

/// INCRBYFLOAT's arithmetic on a string value: `current + incr` in `long
/// double`, formatted as Redis stores the result. `current` is the value's
/// text (`0` for a missing key).
///
/// Errors, as Redis words them: either operand not a float →
/// `ERR value is not a valid float`; a NaN or infinite sum →
/// `ERR increment would produce NaN or Infinity`.
pub fn incr_by_float(current: &[u8], incr: &[u8]) -> CommandResult<Vec<u8>> {
    let value = LongDouble::parse(current).ok_or(error::NOT_FLOAT)?;
    let incr = LongDouble::parse(incr).ok_or(error::NOT_FLOAT)?;
    add_and_format(value, incr)
}

/// The shared tail of the `*INCRBYFLOAT` commands: add, refuse NaN and
/// infinity, format.
pub fn add_and_format(value: LongDouble, incr: LongDouble) -> CommandResult<Vec<u8>> {
    let sum = value + incr;
    if !sum.is_finite() {
        return Err(error::INCR_NAN_OR_INF);
    }
    Ok(sum.format_human())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<LongDouble> {
        LongDouble::parse(s.as_bytes())
    }

    fn bits(s: &str) -> u128 {
        parse(s)
            .unwrap_or_else(|| panic!("{s} should parse"))
            .to_bits()
    }

    /// (a, b, bits of a, bits of b, Redis's text for a + b, bits of a + b),
    /// as a C program on x86-64 printed them with `strtold`, `+` on `long
    /// double` and `%.17Lf`.
    const SUMS: &[(&str, &str, u128, u128, &str, u128)] = &[
        (
            "10.5",
            "0.1",
            0x4002a800000000000000,
            0x3ffbcccccccccccccccd,
            "10.6",
            0x4002a99999999999999a,
        ),
        (
            "1e17",
            "0.5",
            0x4037b1a2bc2ec5000000,
            0x3ffe8000000000000000,
            "100000000000000000.5",
            0x4037b1a2bc2ec5000040,
        ),
        (
            "0.1",
            "0.2",
            0x3ffbcccccccccccccccd,
            0x3ffccccccccccccccccd,
            "0.3",
            0x3ffd999999999999999a,
        ),
        (
            "0x1p-18",
            "0",
            0x3fed8000000000000000,
            0x00000000000000000000,
            "0.00000381469726562",
            0x3fed8000000000000000,
        ),
        (
            "0x3p-18",
            "0",
            0x3feec000000000000000,
            0x00000000000000000000,
            "0.00001144409179688",
            0x3feec000000000000000,
        ),
        (
            "-1e-30",
            "0",
            0xbf9ba2425ff75e14fc32,
            0x00000000000000000000,
            "0",
            0xbf9ba2425ff75e14fc32,
        ),
        (
            "-5",
            "5",
            0xc001a000000000000000,
            0x4001a000000000000000,
            "0",
            0x00000000000000000000,
        ),
        (
            "9223372036854775807",
            "1",
            0x403dfffffffffffffffe,
            0x3fff8000000000000000,
            "9223372036854775808",
            0x403e8000000000000000,
        ),
        (
            "-9223372036854775808",
            "-1",
            0xc03e8000000000000000,
            0xbfff8000000000000000,
            "-9223372036854775809",
            0xc03e8000000000000001,
        ),
        (
            "18446744073709551615",
            "1",
            0x403effffffffffffffff,
            0x3fff8000000000000000,
            "18446744073709551616",
            0x403f8000000000000000,
        ),
        (
            "18446744073709551615",
            "0.5",
            0x403effffffffffffffff,
            0x3ffe8000000000000000,
            "18446744073709551616",
            0x403f8000000000000000,
        ),
        (
            "18446744073709551614",
            "0.5",
            0x403efffffffffffffffe,
            0x3ffe8000000000000000,
            "18446744073709551614",
            0x403efffffffffffffffe,
        ),
        (
            "36893488147419103231",
            "0",
            0x40408000000000000000,
            0x00000000000000000000,
            "36893488147419103232",
            0x40408000000000000000,
        ),
        (
            "1.18973149535723176502e+4932",
            "-1.18973149535723176502e+4932",
            0x7ffeffffffffffffffff,
            0xfffeffffffffffffffff,
            "0",
            0x00000000000000000000,
        ),
        (
            "0X1P-16445",
            "0x1p-16445",
            0x00000000000000000001,
            0x00000000000000000001,
            "0",
            0x00000000000000000002,
        ),
        (
            "1e-4950",
            "-1e-4950",
            0x00000000000000000003,
            0x80000000000000000003,
            "0",
            0x00000000000000000000,
        ),
        (
            "3.6451995318824746025e-4951",
            "0",
            0x00000000000000000001,
            0x00000000000000000000,
            "0",
            0x00000000000000000001,
        ),
        (
            "0x1.8p3",
            "+.5",
            0x4002c000000000000000,
            0x3ffe8000000000000000,
            "12.5",
            0x4002c800000000000000,
        ),
        (
            "0",
            "-0",
            0x00000000000000000000,
            0x80000000000000000000,
            "0",
            0x00000000000000000000,
        ),
        (
            "-0",
            "-0",
            0x80000000000000000000,
            0x80000000000000000000,
            "0",
            0x80000000000000000000,
        ),
        (
            "123456789.123456789",
            "987654321.987654321",
            0x4019eb79a2a3f35ba6e7,
            0x401ceb79a2c7f35ba782,
            "1111111111.11111110995989293",
            0x401d84746b8e38e38e2f,
        ),
        (
            "0.00000000000000001",
            "0.000000000000000005",
            0x3fc6b877aa3236a4b449,
            0x3fc5b877aa3236a4b449,
            "0.00000000000000002",
            0x3fc78a59bfa5a8fb8737,
        ),
        (
            "0.000000000000000015",
            "0",
            0x3fc78a59bfa5a8fb8737,
            0x00000000000000000000,
            "0.00000000000000002",
            0x3fc78a59bfa5a8fb8737,
        ),
        (
            "0.000000000000000025",
            "0",
            0x3fc7e69594bec44de15b,
            0x00000000000000000000,
            "0.00000000000000002",
            0x3fc7e69594bec44de15b,
        ),
        (
            "1e-17",
            "-1e-17",
            0x3fc6b877aa3236a4b449,
            0xbfc6b877aa3236a4b449,
            "0",
            0x00000000000000000000,
        ),
        (
            "3.0000000000000000001",
            "0",
            0x4000c000000000000000,
            0x00000000000000000000,
            "3",
            0x4000c000000000000000,
        ),
        (
            "1",
            "1e-19",
            0x3fff8000000000000000,
            0x3fbfec1e4a7db69561a5,
            "1",
            0x3fff8000000000000001,
        ),
        (
            "1",
            "-1e-19",
            0x3fff8000000000000000,
            0xbfbfec1e4a7db69561a5,
            "1",
            0x3ffefffffffffffffffe,
        ),
        (
            "100",
            "-0.00000000000000000001",
            0x4005c800000000000000,
            0xbfbcbce5086492111aeb,
            "100",
            0x4005c800000000000000,
        ),
    ];

    #[test]
    fn sums_match_c_long_double() {
        for &(a, b, a_bits, b_bits, text, sum_bits) in SUMS {
            assert_eq!(bits(a), a_bits, "parse {a}");
            assert_eq!(bits(b), b_bits, "parse {b}");
            let sum = parse(a).unwrap() + parse(b).unwrap();
            assert_eq!(sum.to_bits(), sum_bits, "{a} + {b}");
            assert_eq!(
                String::from_utf8(sum.format_human()).unwrap(),
                text,
                "{a} + {b}"
            );
            let helper = incr_by_float(a.as_bytes(), b.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(helper).unwrap(), text);
        }
    }

    #[test]
    fn overflowing_and_nan_sums_are_refused() {
        let max = "1.18973149535723176502e+4932";
        let sum = parse(max).unwrap() + parse(max).unwrap();
        assert_eq!(sum.to_bits(), 0x7fff8000000000000000, "rounds to +inf");
        assert_eq!(
            incr_by_float(max.as_bytes(), max.as_bytes()),
            Err(error::INCR_NAN_OR_INF)
        );
        assert_eq!(
            incr_by_float(b"5.", b"-infinity"),
            Err(error::INCR_NAN_OR_INF)
        );
        let nan = parse("inf").unwrap() + parse("-inf").unwrap();
        assert!(nan.is_nan());
        assert_eq!(nan.to_bits(), 0xffffc000000000000000);
        assert_eq!(incr_by_float(b"inf", b"-inf"), Err(error::INCR_NAN_OR_INF));
        assert_eq!(incr_by_float(b"abc", b"1"), Err(error::NOT_FLOAT));
        assert_eq!(incr_by_float(b"1", b"1.5x"), Err(error::NOT_FLOAT));
    }

    #[test]
    fn parsing_accepts_what_strtold_accepts() {
        assert_eq!(bits("inf"), 0x7fff8000000000000000);
        assert_eq!(bits("-Infinity"), 0xffff8000000000000000);
        assert_eq!(bits("+INF"), 0x7fff8000000000000000);
        assert_eq!(bits(".5"), 0x3ffe8000000000000000);
        assert_eq!(bits("1.e1"), 0x4002a000000000000000);
        assert_eq!(bits("0x.8"), 0x3ffe8000000000000000);
        assert_eq!(bits("0X10"), 0x40038000000000000000);
        assert_eq!(bits("00012.500"), bits("12.5"));
        assert_eq!(bits("0e99999"), 0);
        assert_eq!(bits("0x0p-99999"), 0);
        // The largest finite value and the smallest denormal.
        assert_eq!(bits("1.18973149535723176502e+4932"), 0x7ffeffffffffffffffff);
        assert_eq!(bits("0x1p-16445"), 1);
        // A denormal result is fine (glibc sets ERANGE, but it is not zero).
        assert_eq!(bits("1e-4950"), 3);
        // 5119 bytes is the longest input string2ld takes.
        let long = format!("0.{}", "1".repeat(5117));
        assert_eq!(long.len(), 5119);
        assert_eq!(bits(&long), bits("0.11111111111111111111111111"));
        assert_eq!(
            LongDouble::from_i64(i64::MIN).to_bits(),
            0xc03e8000000000000000
        );
        assert_eq!(LongDouble::from_i64(0).to_bits(), 0);
        assert_eq!(LongDouble::from_i64(-1).to_bits(), 0xbfff8000000000000000);
    }

    #[test]
    fn parsing_refuses_what_redis_refuses() {
        let too_long = format!("0.{}", "1".repeat(5118));
        for bad in [
            "",
            " 1",
            "1 ",
            "nan",
            "-nan",
            "NaN(12)",
            ".",
            "-",
            "+",
            "1e",
            "1e+",
            "0x",
            "0x1p",
            "0xp1",
            "1..2",
            "--1",
            "+-1",
            "1_0",
            "infin",
            "infinit",
            "1\0",
            // Overflow to infinity and underflow to zero (ERANGE).
            "1e4933",
            "1.18973149535723176508e+4932",
            "1e-5000",
            "1e-4952",
            "0x1p-16446",
            "0x1p16384",
            too_long.as_str(),
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formatting_rounds_half_to_even_at_17_decimals() {
        // 2^-18 = 0.000003814697265625: the 18th decimal is an exact tie.
        assert_eq!(
            parse("0x1p-18").unwrap().format_human(),
            b"0.00000381469726562"
        );
        assert_eq!(
            parse("0x3p-18").unwrap().format_human(),
            b"0.00001144409179688"
        );
        assert_eq!(parse("-0x1p-60").unwrap().format_human(), b"0");
        assert_eq!(parse("-2.5").unwrap().format_human(), b"-2.5");
        assert_eq!(
            parse("1e20").unwrap().format_human(),
            b"100000000000000000000"
        );
        let max = parse("1.18973149535723176502e+4932")
            .unwrap()
            .format_human();
        assert_eq!(max.len(), 4933);
        assert!(max.starts_with(b"118973149535723176502126385303097020516906"));
        assert_eq!(parse("inf").unwrap().format_human(), b"inf");
        assert_eq!(parse("-inf").unwrap().format_human(), b"-inf");
    }
}
