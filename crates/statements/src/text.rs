//! Strict text-to-value conversions shared by the parsers.
//!
//! They return `None` instead of an error so each parser can say where the
//! value was (line, element, JSON path) in its own words. They are strict on
//! purpose: a thousands separator, a decimal comma or stray whitespace means
//! the file is not the export we think it is, and guessing would silently
//! import wrong amounts.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Parses `[+-]digits[.digits][e[+-]digits]` exactly (never through `f64`).
///
/// The exponent form is accepted because Java-based exporters (IBKR) can
/// print small rates that way; it is still exact.
pub(crate) fn decimal(text: &str) -> Option<BigDecimal> {
    let bytes = text.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut at = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let int_digits = digits(at);
    at += int_digits;
    let mut frac_digits = 0;
    if bytes.get(at) == Some(&b'.') {
        frac_digits = digits(at + 1);
        if frac_digits == 0 {
            return None;
        }
        at += 1 + frac_digits;
    }
    let plain_end = at;
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1 + usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
        let exp_digits = digits(at);
        // Four digits cover any real amount and keep the scale bounded.
        if exp_digits == 0 || exp_digits > 4 {
            return None;
        }
        at += exp_digits;
    }
    if int_digits == 0 || at != bytes.len() {
        return None;
    }
    if plain_end == bytes.len() && int_digits + frac_digits <= 18 {
        return Some(small_decimal(bytes, frac_digits));
    }
    BigDecimal::from_str(text).ok()
}

/// The common case of at most 18 digits and no exponent, built from an
/// `i64` because `BigDecimal::from_str` is slow in debug builds, where the
/// 100,000-trade test runs.
fn small_decimal(bytes: &[u8], scale: usize) -> BigDecimal {
    let mut units: i64 = 0;
    for &b in bytes.iter().filter(|b| b.is_ascii_digit()) {
        units = units * 10 + i64::from(b - b'0');
    }
    if bytes[0] == b'-' {
        units = -units;
    }
    BigDecimal::new(units.into(), scale as i64)
}

/// Parses a run of exactly `len` ASCII digits.
fn number(text: &str, len: usize) -> Option<u32> {
    if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `yyyyMMdd` or `yyyy-MM-dd`.
pub(crate) fn date_ymd(text: &str) -> Option<NaiveDate> {
    // Byte slicing below is only safe on ASCII.
    if !text.is_ascii() {
        return None;
    }
    let (y, m, d) = match text.len() {
        8 => (&text[..4], &text[4..6], &text[6..]),
        10 if text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-' => {
            (&text[..4], &text[5..7], &text[8..])
        }
        _ => return None,
    };
    let year = i32::try_from(number(y, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(m, 2)?, number(d, 2)?)
}

/// `dd-MM-yyyy`.
pub(crate) fn date_dmy(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('-');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let year = i32::try_from(number(y, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(m, 2)?, number(d, 2)?)
}

/// `HHmmss` or `HH:mm:ss`, each optionally followed by `.fraction`
/// (1 to 9 digits).
pub(crate) fn time_hms(text: &str) -> Option<NaiveTime> {
    if !text.is_ascii() {
        return None;
    }
    let (clock, nanos) = match text.split_once('.') {
        Some((clock, frac)) if (1..=9).contains(&frac.len()) => {
            let scale = 10u32.pow(9 - frac.len() as u32);
            (clock, number(frac, frac.len())? * scale)
        }
        Some(_) => return None,
        None => (text, 0),
    };
    let (h, m, s) = match clock.len() {
        6 => (&clock[..2], &clock[2..4], &clock[4..]),
        8 if clock.as_bytes()[2] == b':' && clock.as_bytes()[5] == b':' => {
            (&clock[..2], &clock[3..5], &clock[6..])
        }
        _ => return None,
    };
    NaiveTime::from_hms_nano_opt(number(h, 2)?, number(m, 2)?, number(s, 2)?, nanos)
}

/// A date and a time separated by one of `separators` (optionally followed
/// by spaces), each part parsed by the given functions.
pub(crate) fn date_time(
    text: &str,
    separators: &[char],
    date: fn(&str) -> Option<NaiveDate>,
) -> Option<NaiveDateTime> {
    let (day, clock) = text.split_once(separators)?;
    Some(date(day)?.and_time(time_hms(clock.trim_start_matches(' '))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_and_strict() {
        let tiny = decimal("0.000000000000000001").unwrap();
        assert_eq!(tiny.to_plain_string(), "0.000000000000000001");
        let big = "123456789012345678901234567890.123456789";
        assert_eq!(decimal(big).unwrap().to_plain_string(), big);
        assert_eq!(decimal("-1.5E-4").unwrap().to_plain_string(), "-0.00015");
        assert_eq!(decimal("+12.50").unwrap().to_plain_string(), "12.50");
        assert_eq!(decimal("-0.000001").unwrap().to_plain_string(), "-0.000001");
        let eighteen = "-123456789.123456789";
        assert_eq!(decimal(eighteen).unwrap().to_plain_string(), eighteen);
        let nineteen = "9999999999999999999";
        assert_eq!(decimal(nineteen).unwrap().to_plain_string(), nineteen);
        for bad in [
            "", "-", "1,5", "1.", ".5", " 1", "1 ", "1e", "NaN", "1e99999", "0x10", "١",
        ] {
            assert!(decimal(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn dates_and_times() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(date_ymd("20240229"), Some(day));
        assert_eq!(date_ymd("2024-02-29"), Some(day));
        assert_eq!(date_dmy("29-02-2024"), Some(day));
        assert_eq!(date_ymd("20230229"), None);
        assert_eq!(date_ymd("2024/02/29"), None);
        assert_eq!(date_ymd("2024-é-01"), None);
        assert_eq!(date_dmy("2024-02-29"), None);
        let at = date_time("20240229;093005", &[';', ','], date_ymd).unwrap();
        assert_eq!(at.to_string(), "2024-02-29 09:30:05");
        let at = date_time("2024-02-29, 09:30:05", &[';', ','], date_ymd).unwrap();
        assert_eq!(at.to_string(), "2024-02-29 09:30:05");
        assert_eq!(time_hms("09:30:05.25").unwrap().to_string(), "09:30:05.250");
        assert_eq!(time_hms("25:00:00"), None);
        assert_eq!(time_hms("093005."), None);
    }
}
