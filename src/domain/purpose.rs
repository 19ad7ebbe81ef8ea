//! Purposes of processing: their legal basis, channel and retention period.

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::Locale;

/// The lawful ground on which a purpose rests (GDPR art. 6, PIPA art. 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    LegitimateInterest,
}

impl LegalBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::Contract => "contract",
            Self::LegalObligation => "legal_obligation",
            Self::LegitimateInterest => "legitimate_interest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Consent, Self::Contract, Self::LegalObligation, Self::LegitimateInterest]
            .into_iter()
            .find(|b| b.as_str() == raw)
    }
}

/// How a purpose reaches the person, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    None,
    Email,
    Sms,
    Push,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::None, Self::Email, Self::Sms, Self::Push].into_iter().find(|c| c.as_str() == raw)
    }
}

/// How long data kept for a purpose may live after consent (or its last renewal): calendar months
/// plus days, so that "2 years" from 29 February ends on 28 February, never on 1 March.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Retention {
    months: u32,
    days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "retention must be a period such as \"3y\", \"6m\", \"90d\" or \"1y6m\", or a preset: \
     payment_records, contract_records, disputes, advertising_records, marketing"
)]
pub struct InvalidRetention;

impl Retention {
    pub const fn months(months: u32) -> Self {
        Self { months, days: 0 }
    }

    /// Statutory presets (Korean Act on Consumer Protection in Electronic Commerce, art. 6, and
    /// common marketing practice).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "payment_records" | "contract_records" => Some(Self::months(60)),
            "disputes" | "complaints" => Some(Self::months(36)),
            "advertising_records" => Some(Self::months(6)),
            "marketing" => Some(Self::months(24)),
            _ => None,
        }
    }

    /// Parses `3y`, `18m`, `90d`, `1y6m`, `1y6m15d`, or a preset name. Zero is refused: nothing
    /// is kept without a period.
    pub fn parse(raw: &str) -> Result<Self, InvalidRetention> {
        let raw = raw.trim();
        if let Some(preset) = Self::preset(raw) {
            return Ok(preset);
        }
        let (mut months, mut days, mut digits) = (0u32, 0u32, String::new());
        let mut last_unit = 0;
        for c in raw.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let n: u32 = digits.parse().map_err(|_| InvalidRetention)?;
            digits.clear();
            let unit = match c {
                'y' => 1,
                'm' => 2,
                'd' => 3,
                _ => return Err(InvalidRetention),
            };
            if unit <= last_unit {
                return Err(InvalidRetention);
            }
            last_unit = unit;
            match c {
                'y' => months += n.checked_mul(12).ok_or(InvalidRetention)?,
                'm' => months += n,
                _ => days += n,
            }
        }
        if !digits.is_empty() || (months == 0 && days == 0) || months > 1200 || days > 36_500 {
            return Err(InvalidRetention);
        }
        Ok(Self { months, days })
    }

    /// When data granted (or renewed) at `from` must be gone.
    pub fn expires_at(self, from: DateTime<Utc>) -> DateTime<Utc> {
        from.checked_add_months(Months::new(self.months))
            .and_then(|d| d.checked_add_days(Days::new(u64::from(self.days))))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The moment one period before `t` (for "granted at least one period ago").
    pub fn before(self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.checked_sub_months(Months::new(self.months))
            .and_then(|d| d.checked_sub_days(Days::new(u64::from(self.days))))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// When a renewal question is due: `window_days` before `expires_at`, and until it.
    pub fn renewal_due(expires_at: DateTime<Utc>, window_days: u32, now: DateTime<Utc>) -> bool {
        let opens = expires_at.checked_sub_days(Days::new(u64::from(window_days))).unwrap_or(expires_at);
        now >= opens && now < expires_at
    }

    /// "2 years", "6 months", "1 year 6 months", "2년", "6개월" …
    pub fn describe(self, locale: Locale) -> String {
        let (years, months) = (self.months / 12, self.months % 12);
        let mut parts = Vec::new();
        match locale {
            Locale::En => {
                let unit = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
                if years > 0 {
                    parts.push(unit(years, "year", "years"));
                }
                if months > 0 {
                    parts.push(unit(months, "month", "months"));
                }
                if self.days > 0 {
                    parts.push(unit(self.days, "day", "days"));
                }
            }
            Locale::Ko => {
                if years > 0 {
                    parts.push(format!("{years}년"));
                }
                if months > 0 {
                    parts.push(format!("{months}개월"));
                }
                if self.days > 0 {
                    parts.push(format!("{}일", self.days));
                }
            }
        }
        parts.join(" ")
    }
}

impl TryFrom<String> for Retention {
    type Error = InvalidRetention;
    fn try_from(raw: String) -> Result<Self, InvalidRetention> {
        Self::parse(&raw)
    }
}

impl From<Retention> for String {
    fn from(r: Retention) -> String {
        r.to_string()
    }
}

/// The canonical form stored in the database: `2y`, `6m`, `1y6m`, `30d`.
impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (years, months) = (self.months / 12, self.months % 12);
        if years > 0 {
            write!(f, "{years}y")?;
        }
        if months > 0 {
            write!(f, "{months}m")?;
        }
        if self.days > 0 {
            write!(f, "{}d", self.days)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn parses_periods_and_presets() {
        assert_eq!(Retention::parse("3y").unwrap(), Retention::months(36));
        assert_eq!(Retention::parse("1y6m").unwrap(), Retention::months(18));
        assert_eq!(Retention::parse("payment_records").unwrap(), Retention::months(60));
        assert_eq!(Retention::parse("disputes").unwrap(), Retention::months(36));
        assert_eq!(Retention::parse("advertising_records").unwrap(), Retention::months(6));
        assert_eq!(Retention::parse("marketing").unwrap(), Retention::months(24));
        assert_eq!(Retention::parse("90d").unwrap().to_string(), "90d");
    }

    #[test]
    fn refuses_zero_missing_or_malformed_periods() {
        for bad in ["", "0y", "forever", "3", "y", "6m1y", "3w", "-1y", "99999999999y"] {
            assert!(Retention::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_text_round_trips() {
        for raw in ["3y", "6m", "1y6m", "2y1m3d", "45d"] {
            assert_eq!(Retention::parse(raw).unwrap().to_string(), raw);
        }
    }

    #[test]
    fn a_leap_day_grant_expires_on_the_last_day_of_february() {
        let expiry = Retention::months(24).expires_at(utc(2024, 2, 29));
        assert_eq!(expiry, utc(2026, 2, 28));
        let expiry = Retention::months(48).expires_at(utc(2024, 2, 29));
        assert_eq!(expiry, utc(2028, 2, 29));
    }

    #[test]
    fn month_ends_clamp_rather_than_overflow() {
        assert_eq!(Retention::months(1).expires_at(utc(2025, 1, 31)), utc(2025, 2, 28));
        assert_eq!(Retention::months(6).expires_at(utc(2025, 8, 31)), utc(2026, 2, 28));
    }

    #[test]
    fn expiry_is_computed_in_utc_whatever_the_local_offset() {
        // 2025-12-31 23:30 in Seoul is 14:30 UTC the same day: the year boundary does not move it.
        let seoul = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
        let granted = seoul.with_ymd_and_hms(2025, 12, 31, 23, 30, 0).unwrap().with_timezone(&Utc);
        let expiry = Retention::parse("1y").unwrap().expires_at(granted);
        assert_eq!(expiry, Utc.with_ymd_and_hms(2026, 12, 31, 14, 30, 0).unwrap());
    }

    #[test]
    fn the_renewal_window_opens_thirty_days_before_expiry_and_closes_at_it() {
        let expiry = utc(2028, 3, 31);
        assert!(!Retention::renewal_due(expiry, 30, utc(2028, 2, 29)), "31 days before");
        assert!(Retention::renewal_due(expiry, 30, utc(2028, 3, 1)), "30 days before");
        assert!(Retention::renewal_due(expiry, 30, utc(2028, 3, 31) - chrono::Duration::seconds(1)));
        assert!(!Retention::renewal_due(expiry, 30, expiry), "at expiry it is too late to ask");
    }

    #[test]
    fn one_period_before_mirrors_one_period_after() {
        let two_years = Retention::months(24);
        assert_eq!(two_years.before(utc(2026, 2, 28)), utc(2024, 2, 28));
        assert_eq!(two_years.before(two_years.expires_at(utc(2024, 3, 1))), utc(2024, 3, 1));
    }

    #[test]
    fn describes_itself_in_both_languages() {
        let r = Retention::parse("1y6m").unwrap();
        assert_eq!(r.describe(Locale::En), "1 year 6 months");
        assert_eq!(r.describe(Locale::Ko), "1년 6개월");
        assert_eq!(Retention::months(36).describe(Locale::En), "3 years");
    }
}
