//! A small unsigned arbitrary-precision integer, with just the operations
//! exact decimal ↔ binary conversion of [`super::ldouble::LongDouble`] needs:
//! build from digits, multiply by a word, shift, compare, subtract, divide by
//! a word, and read the top bits.
//!
//! Correct rounding is the point, not speed: a value with a 5000-digit
//! decimal expansion becomes a few hundred 64-bit limbs, and every operation
//! here is a simple linear pass over them.

use std::cmp::Ordering;

/// An unsigned integer, little-endian 64-bit limbs, with no zero limb at the
/// top (zero is the empty vector), so that length comparisons order values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BigUint {
    limbs: Vec<u64>,
}

/// The largest power of ten that fits a limb: decimal digits go in and come
/// out in chunks of 19.
const TEN_POW_19: u64 = 10_000_000_000_000_000_000;

impl BigUint {
    pub fn zero() -> Self {
        BigUint::default()
    }

    pub fn from_u128(v: u128) -> Self {
        let mut n = BigUint {
            limbs: vec![v as u64, (v >> 64) as u64],
        };
        n.trim();
        n
    }

    /// `10^exp`.
    pub fn pow10(exp: u32) -> Self {
        let mut n = BigUint::from_u128(1);
        n.mul_pow10(exp);
        n
    }

    /// `self = self * 10^exp`.
    pub fn mul_pow10(&mut self, exp: u32) {
        let mut left = exp;
        while left >= 19 {
            self.mul_small(TEN_POW_19);
            left -= 19;
        }
        self.mul_small(10u64.pow(left));
    }

    /// Drops zero limbs at the top, restoring the invariant.
    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// The number of significant bits (0 for zero).
    pub fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(top) => self.limbs.len() as u64 * 64 - u64::from(top.leading_zeros()),
        }
    }

    /// `self = self * m`.
    pub fn mul_small(&mut self, m: u64) {
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let wide = u128::from(*limb) * u128::from(m) + u128::from(carry);
            *limb = wide as u64;
            carry = (wide >> 64) as u64;
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
        self.trim();
    }

    /// `self = self + a`.
    pub fn add_small(&mut self, a: u64) {
        let mut carry = a;
        for limb in &mut self.limbs {
            if carry == 0 {
                return;
            }
            let (sum, overflow) = limb.overflowing_add(carry);
            *limb = sum;
            carry = u64::from(overflow);
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
    }

    /// `self = self * 10^digits.len() + digits`, for ASCII decimal digits.
    pub fn push_decimal_digits(&mut self, digits: &[u8]) {
        for chunk in digits.chunks(19) {
            let mut value = 0u64;
            for &d in chunk {
                value = value * 10 + u64::from(d - b'0');
            }
            self.mul_small(10u64.pow(chunk.len() as u32));
            self.add_small(value);
        }
    }

    /// `self = self << bits`.
    pub fn shl(&mut self, bits: u64) {
        if self.is_zero() || bits == 0 {
            return;
        }
        let words = (bits / 64) as usize;
        let bits = (bits % 64) as u32;
        if bits != 0 {
            let mut carry = 0u64;
            for limb in &mut self.limbs {
                let next = *limb >> (64 - bits);
                *limb = (*limb << bits) | carry;
                carry = next;
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        if words != 0 {
            self.limbs.splice(0..0, std::iter::repeat_n(0, words));
        }
    }

    /// `self = self >> 1`.
    pub fn shr1(&mut self) {
        let mut carry = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let next = *limb << 63;
            *limb = (*limb >> 1) | carry;
            carry = next;
        }
        self.trim();
    }

    /// `self = self - other`; `other` must not be larger.
    pub fn sub_assign(&mut self, other: &BigUint) {
        debug_assert!(*self >= *other, "subtraction would go negative");
        let mut borrow = false;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let rhs = other.limbs.get(i).copied().unwrap_or(0);
            if rhs == 0 && !borrow && i >= other.limbs.len() {
                break;
            }
            let (d1, b1) = limb.overflowing_sub(rhs);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *limb = d2;
            borrow = b1 || b2;
        }
        self.trim();
    }

    /// `self = self / d`, returning the remainder. `d` must not be zero.
    pub fn div_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let wide = (u128::from(rem) << 64) | u128::from(*limb);
            *limb = (wide / u128::from(d)) as u64;
            rem = (wide % u128::from(d)) as u64;
        }
        self.trim();
        rem
    }

    /// True if any of the lowest `bits` bits is set.
    pub fn low_bits_nonzero(&self, bits: u64) -> bool {
        let words = (bits / 64) as usize;
        if self.limbs.iter().take(words).any(|&l| l != 0) {
            return true;
        }
        let rest = bits % 64;
        rest != 0 && words < self.limbs.len() && self.limbs[words] & ((1u64 << rest) - 1) != 0
    }

    /// The value as `top · 2^shift + rest` with `top` holding at most 128
    /// significant bits: returns `(top, shift, rest != 0)`.
    pub fn top_bits(&self) -> (u128, u64, bool) {
        let len = self.bit_len();
        let shift = len.saturating_sub(128);
        let word = (shift / 64) as usize;
        let bit = (shift % 64) as u32;
        let limb = |i: usize| u128::from(self.limbs.get(i).copied().unwrap_or(0));
        // Three limbs cover any 128-bit window that starts inside the first.
        let mut top = (limb(word) >> bit) | (limb(word + 1) << (64 - bit));
        if bit != 0 {
            top |= limb(word + 2) << (128 - bit);
        }
        (top, shift, self.low_bits_nonzero(shift))
    }

    /// The decimal digits (`"0"` for zero).
    pub fn to_decimal(&self) -> Vec<u8> {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(TEN_POW_19));
        }
        let mut out = Vec::with_capacity(chunks.len() * 19 + 1);
        match chunks.pop() {
            None => out.push(b'0'),
            Some(first) => out.extend_from_slice(first.to_string().as_bytes()),
        }
        for chunk in chunks.iter().rev() {
            out.extend_from_slice(format!("{chunk:019}").as_bytes());
        }
        out
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> BigUint {
        let mut n = BigUint::zero();
        n.push_decimal_digits(s.as_bytes());
        n
    }

    #[test]
    fn decimal_round_trip() {
        for s in [
            "0",
            "1",
            "18446744073709551615",
            "18446744073709551616",
            "340282366920938463463374607431768211457",
            "1000000000000000000000000000000000000000000000000000000000001",
        ] {
            assert_eq!(dec(s).to_decimal(), s.as_bytes());
        }
        assert_eq!(BigUint::pow10(40).to_decimal().len(), 41);
    }

    #[test]
    fn shifts_compare_and_subtract() {
        let mut a = dec("12345678901234567890123456789");
        a.shl(130);
        let mut b = dec("12345678901234567890123456789");
        for _ in 0..130 {
            b.mul_small(2);
        }
        assert_eq!(a, b);
        for _ in 0..130 {
            a.shr1();
        }
        assert_eq!(a, dec("12345678901234567890123456789"));
        let mut c = dec("100000000000000000000000000000");
        c.sub_assign(&dec("1"));
        assert_eq!(c.to_decimal(), b"99999999999999999999999999999");
        assert!(dec("18446744073709551616") > dec("18446744073709551615"));
        let mut d = dec("18446744073709551616");
        assert_eq!(d.div_small(10), 6);
        assert_eq!(d, dec("1844674407370955161"));
    }

    #[test]
    fn top_bits_keep_a_sticky_remainder() {
        let mut n = BigUint::from_u128(u128::MAX);
        n.shl(3);
        assert_eq!(n.top_bits(), (u128::MAX, 3, false));
        n.add_small(1);
        assert_eq!(n.top_bits(), (u128::MAX, 3, true));
        assert_eq!(BigUint::from_u128(5).top_bits(), (5, 0, false));
        assert_eq!(n.bit_len(), 131);
    }
}
