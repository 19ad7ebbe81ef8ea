//! Dates as people type them in spreadsheets, read in the workspace's time zone and kept in UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

/// A time zone imported dates are read in: a fixed offset from UTC. The named zones accepted
/// are those whose offset has not changed in decades (Korea since 1988, Japan since 1951).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(FixedOffset);

/// UTC+09:00.
const SEOUL: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("a valid offset"),
};

impl Default for Zone {
    /// Asia/Seoul.
    fn default() -> Self {
        Self(SEOUL)
    }
}

impl Zone {
    /// `Asia/Seoul`, `Asia/Tokyo`, `UTC`, or an offset such as `+09:00`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let hours = |h: i32| FixedOffset::east_opt(h * 3600).map(Self);
        let named = match raw.trim() {
            "Asia/Seoul" | "Asia/Tokyo" => hours(9),
            "UTC" | "Etc/UTC" | "Z" => hours(0),
            other => {
                DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{other}")).ok().map(|t| Self(*t.offset()))
            }
        };
        named.ok_or_else(|| {
            format!("unknown time zone {raw:?}: use Asia/Seoul, Asia/Tokyo, UTC or an offset such as +09:00")
        })
    }

    /// The zone `seconds` east of UTC (as recorded with an import).
    pub fn from_offset_seconds(seconds: i32) -> Option<Self> {
        FixedOffset::east_opt(seconds).map(Self)
    }

    /// The time of day at `at` in this zone.
    pub fn local_time(self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveTime {
        at.with_timezone(&self.0).time()
    }

    pub fn local_date(self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    pub fn offset(self) -> FixedOffset {
        self.0
    }

    /// The zone as people read it next to a time: `UTC`, `UTC+09:00`.
    pub fn label(self) -> String {
        let seconds = self.0.local_minus_utc();
        if seconds == 0 {
            return "UTC".to_owned();
        }
        let (sign, abs) = if seconds < 0 { ('-', -seconds) } else { ('+', seconds) };
        format!("UTC{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
    }
}

/// Days from Excel's day 0 (1899-12-30, absorbing its 1900 leap-year bug) to 1970-01-01.
const EXCEL_UNIX_DAYS: f64 = 25_569.0;

/// A date or time as typed, in UTC: RFC 3339 (its own offset), `2024-03-05`, `2024.03.05`,
/// `2024. 3. 5.`, `2024/3/5`, each optionally followed by a time (`14:30`, `14:30:15`), read in
/// `zone`; with `serial`, also an Excel serial number (days since 1899-12-30).
pub fn parse(raw: &str, zone: Zone, serial: bool) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.naive_utc());
    }
    if serial && let Ok(days) = raw.parse::<f64>() {
        return from_serial(days, zone);
    }
    let (date, time) = split_time(raw)?;
    let local = date_part(date)?.and_time(time);
    zone.0.from_local_datetime(&local).single().map(|t| t.naive_utc())
}

fn from_serial(days: f64, zone: Zone) -> Option<NaiveDateTime> {
    if !(1.0..=2_958_465.0).contains(&days) {
        return None;
    }
    let seconds = ((days - EXCEL_UNIX_DAYS) * 86_400.0).round() as i64;
    let local = DateTime::from_timestamp(seconds, 0)?.naive_utc();
    zone.0.from_local_datetime(&local).single().map(|t| t.naive_utc())
}

/// The date text and the time of day (midnight when none is given).
fn split_time(raw: &str) -> Option<(&str, NaiveTime)> {
    let Some(colon) = raw.find(':') else { return Some((raw, NaiveTime::MIN)) };
    let start = raw[..colon].rfind([' ', 'T']).map_or(0, |i| i + 1);
    let time = raw[start..].trim();
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S%.f"))
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    Some((raw[..start].trim_end_matches([' ', 'T']), time))
}

/// `2024-03-05`, `2024.03.05`, `2024. 3. 5.`, `2024/3/5`.
fn date_part(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim().trim_end_matches('.').trim();
    let separator = raw.chars().find(|c| ['-', '.', '/'].contains(c))?;
    let parts: Vec<&str> = raw.split(separator).map(str::trim).collect();
    let [y, m, d] = parts.as_slice() else { return None };
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn the_ways_people_type_a_date_are_read_in_seoul_time() {
        let seoul = Zone::default();
        for typed in ["2024-03-05", "2024.03.05", "2024. 3. 5.", "2024/3/5", "2024.3.5", " 2024-03-05 "] {
            assert_eq!(parse(typed, seoul, false), Some(utc("2024-03-04 15:00:00")), "{typed}");
        }
        assert_eq!(parse("2024-03-05 14:30", seoul, false), Some(utc("2024-03-05 05:30:00")));
        assert_eq!(parse("2024. 3. 5. 14:30:15", seoul, false), Some(utc("2024-03-05 05:30:15")));
        assert_eq!(parse("2024-03-05T14:30:00", seoul, false), Some(utc("2024-03-05 05:30:00")));
        assert_eq!(parse("2024-03-05T14:30:00Z", seoul, false), Some(utc("2024-03-05 14:30:00")), "its own offset");
        assert_eq!(parse("2024-03-05T14:30:00+01:00", seoul, false), Some(utc("2024-03-05 13:30:00")));
        assert_eq!(parse("2024-03-05", Zone::parse("UTC").unwrap(), false), Some(utc("2024-03-05 00:00:00")));
    }

    #[test]
    fn excel_serial_dates_only_where_the_sheet_has_numbers() {
        let utc_zone = Zone::parse("UTC").unwrap();
        assert_eq!(parse("45356", utc_zone, true), Some(utc("2024-03-05 00:00:00")));
        assert_eq!(parse("45356.5", utc_zone, true), Some(utc("2024-03-05 12:00:00")));
        assert_eq!(parse("45356", utc_zone, false), None, "a number in a CSV is not a date");
        assert_eq!(parse("0", utc_zone, true), None);
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        let seoul = Zone::default();
        for typed in
            ["", "yesterday", "2024-13-01", "2024-02-30", "24-03-05", "05/03/2024", "2024-03", "2024-03-05 25:00"]
        {
            assert_eq!(parse(typed, seoul, false), None, "{typed}");
        }
    }

    #[test]
    fn zones_are_named_or_offsets() {
        assert_eq!(Zone::parse("Asia/Seoul").unwrap(), Zone::default());
        assert_eq!(Zone::parse("+09:00").unwrap(), Zone::default());
        assert_eq!(Zone::parse("-05:00").unwrap().offset().local_minus_utc(), -5 * 3600);
        assert!(Zone::parse("Mars/Olympus").is_err());
    }
}
