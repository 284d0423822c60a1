//! How configuration values are written: Redis's memory units, the C
//! number readers its parsers rely on (with their quirks, since a value must
//! be accepted or refused exactly as Redis does).

/// Redis's `memtoull`: digits then an optional unit (`b`, `k` = 1000, `kb`
/// = 1024, `m`, `mb`, `g`, `gb`, any case). No digits read as 0, as
/// `strtoull` reads them; an overflowing number saturates and the unit then
/// multiplies without a check, both as in Redis.
pub fn memtoull(text: &str) -> Option<u64> {
    if text.starts_with('-') {
        return None;
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // Redis copies the digits into a 128-byte buffer first.
    if digits.len() >= 128 {
        return None;
    }
    let value = digits.bytes().fold(0u64, |v, d| {
        v.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX)
    });
    Some(value.wrapping_mul(multiplier))
}

/// C's `strtoll(text, &end, base)` where the whole text must be consumed:
/// leading white space and a sign are allowed, an empty text is 0, and an
/// overflow saturates. `None` when something other than digits is left.
pub fn c_strtoll(text: &str, base: u32) -> Option<i64> {
    let rest = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if rest.is_empty() {
        // No digits at all: strtoll converts nothing and `end` stays at the
        // start, which is the end of an empty (or blank) text only.
        return text.is_empty().then_some(0);
    }
    let (negative, digits) = match rest.as_bytes()[0] {
        b'-' => (true, &rest[1..]),
        b'+' => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        value = (value * i128::from(base) + i128::from(c.to_digit(base)?)).min(1 << 64);
    }
    if negative {
        value = -value;
    }
    Some(value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// A byte count with the largest unit that divides it exactly, as CONFIG
/// REWRITE writes memory options (`1gb`, `512mb`, `3kb`, `1000`). Redis
/// formats it as a signed `long long`, which past 2^63 writes a negative
/// number it cannot read back; unsigned, it reads in both servers.
pub fn format_memory(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    const GB: u64 = 1024 * MB;
    match bytes {
        0 => "0".into(),
        b if b % GB == 0 => format!("{}gb", b / GB),
        b if b % MB == 0 => format!("{}mb", b / MB),
        b if b % KB == 0 => format!("{}kb", b / KB),
        b => b.to_string(),
    }
}

/// `%f` without its trailing zeros (Redis's `trimDoubleString`): `99.9`,
/// `50`, `0.123457`.
pub fn format_f64_trimmed(value: f64) -> String {
    let text = format!("{value:.6}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// A value quoted for a config file line (Redis's `sdscatrepr`).
pub fn repr(value: &str) -> String {
    crate::quote::repr(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        assert_eq!(memtoull("100"), Some(100));
        assert_eq!(memtoull("1k"), Some(1000));
        assert_eq!(memtoull("1KB"), Some(1024));
        assert_eq!(memtoull("2mb"), Some(2 * 1024 * 1024));
        assert_eq!(memtoull("1g"), Some(1_000_000_000));
        assert_eq!(memtoull("1gb"), Some(1 << 30));
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("1tb"), None);
        assert_eq!(memtoull("1.5"), None);
        assert_eq!(memtoull(" 1"), None);
        // No digits read as 0, as strtoull does (Redis accepts `maxmemory kb`).
        assert_eq!(memtoull("kb"), Some(0));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("99999999999999999999"), Some(u64::MAX));
        assert_eq!(memtoull("17179869184gb"), Some(0), "2^64 wraps");
        assert_eq!(format_memory(512 * 1024 * 1024), "512mb");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3 * 1024), "3kb");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_memory(u64::MAX), "18446744073709551615");
    }

    #[test]
    fn strtoll_reads_what_c_reads() {
        assert_eq!(c_strtoll("42", 10), Some(42));
        assert_eq!(c_strtoll(" +42", 10), Some(42));
        assert_eq!(c_strtoll("-7", 10), Some(-7));
        assert_eq!(c_strtoll("", 10), Some(0));
        assert_eq!(c_strtoll("42x", 10), None);
        assert_eq!(c_strtoll("-", 10), None);
        assert_eq!(c_strtoll("99999999999999999999", 10), Some(i64::MAX));
        assert_eq!(c_strtoll("777", 8), Some(511));
        assert_eq!(c_strtoll("8", 8), None);
    }

    #[test]
    fn doubles_lose_trailing_zeros() {
        assert_eq!(format_f64_trimmed(50.0), "50");
        assert_eq!(format_f64_trimmed(99.9), "99.9");
        assert_eq!(format_f64_trimmed(0.123456789), "0.123457");
    }
}
