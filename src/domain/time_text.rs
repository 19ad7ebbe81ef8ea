//! Timestamps as text, written directly: chrono's `format` parses its pattern again on every call,
//! which was a measurable share of a bulk import (every stored timestamp on SQLite, and every
//! ledger hash, is one). Each function writes exactly what the chrono pattern it names writes,
//! and falls back to that pattern outside the ordinary range (years before 0 or after 9999, a
//! leap second), so what is stored and hashed does not change.

use chrono::{Datelike, NaiveDateTime, Timelike};

/// How many digits of the second's fraction to write.
#[derive(Clone, Copy)]
enum Fraction {
    /// Always six (`%.6f`).
    Micros,
    /// None, three, six or nine, as few as hold it exactly (`%.f`).
    Shortest,
}

/// `%Y-%m-%dT%H:%M:%S%.6fZ`: the form every hashed or signed time takes (the ledger's and the
/// access records' hashes, tree heads, restore records, ledger bundles).
pub fn iso_micros(t: NaiveDateTime) -> String {
    write(t, 'T', Fraction::Micros, "Z").unwrap_or_else(|| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// `%F %T%.f`: how diesel stores a timestamp in SQLite.
pub fn sqlite_text(t: NaiveDateTime) -> String {
    write(t, ' ', Fraction::Shortest, "").unwrap_or_else(|| t.format("%F %T%.f").to_string())
}

fn write(t: NaiveDateTime, separator: char, fraction: Fraction, suffix: &str) -> Option<String> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = Some(t.nanosecond()).filter(|n| *n < 1_000_000_000)?;
    let mut out = String::with_capacity(32);
    digits(&mut out, year, 4);
    out.push('-');
    digits(&mut out, t.month(), 2);
    out.push('-');
    digits(&mut out, t.day(), 2);
    out.push(separator);
    digits(&mut out, t.hour(), 2);
    out.push(':');
    digits(&mut out, t.minute(), 2);
    out.push(':');
    digits(&mut out, t.second(), 2);
    let (value, width) = match fraction {
        Fraction::Micros => (nanos / 1_000, 6),
        Fraction::Shortest if nanos == 0 => (0, 0),
        Fraction::Shortest if nanos % 1_000_000 == 0 => (nanos / 1_000_000, 3),
        Fraction::Shortest if nanos % 1_000 == 0 => (nanos / 1_000, 6),
        Fraction::Shortest => (nanos, 9),
    };
    if width > 0 {
        out.push('.');
        digits(&mut out, value, width);
    }
    out.push_str(suffix);
    Some(out)
}

/// `value` in decimal, zero-padded to `width` digits (`value` has at most that many).
fn digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate};

    fn at(secs: i64, nanos: u32) -> NaiveDateTime {
        DateTime::from_timestamp(secs, nanos).expect("in range").naive_utc()
    }

    #[test]
    fn writes_what_chrono_writes() {
        let nanos = [0, 1, 999, 1_000, 123_000, 500_000_000, 123_456_000, 123_456_789, 999_999_999, 7_000_000];
        let mut seconds: Vec<i64> = vec![-62_167_219_200, -1, 0, 1, 951_782_400, 1_709_596_800, 253_402_300_799];
        // Spread over the years 0..=9999 (a deterministic walk).
        let mut s: i64 = -62_167_219_200;
        while s < 253_402_300_799 {
            seconds.push(s);
            s += 86_400 * 367 + 3_671;
        }
        for secs in seconds {
            for n in nanos {
                let t = at(secs, n);
                assert_eq!(iso_micros(t), t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), "{t:?}");
                assert_eq!(sqlite_text(t), t.format("%F %T%.f").to_string(), "{t:?}");
            }
        }
    }

    #[test]
    fn outside_the_ordinary_range_it_is_chronos_text() {
        let far = NaiveDate::from_ymd_opt(12_345, 6, 7).and_then(|d| d.and_hms_opt(1, 2, 3)).expect("valid");
        assert_eq!(sqlite_text(far), "+12345-06-07 01:02:03");
        let before = NaiveDate::from_ymd_opt(-1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("valid");
        assert_eq!(iso_micros(before), before.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000));
        let leap = leap.expect("valid");
        assert_eq!(sqlite_text(leap), leap.format("%F %T%.f").to_string());
        assert_eq!(iso_micros(leap), "2016-12-31T23:59:60.500000Z");
    }
}
