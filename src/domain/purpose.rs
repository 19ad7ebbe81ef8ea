//! Purposes of processing: their legal basis, channel and retention period.

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// A purpose the person cannot refuse that still claims to rest on their consent: consent that is
/// a condition of the service is not freely given (PIPA art. 22(5), GDPR art. 7(4)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "purpose `{0}` is required, so it cannot rest on consent (PIPA art. 22(5), GDPR art. 7(4)): \
     give it another legal basis (contract, legal_obligation, legitimate_interest) or make it optional"
)]
pub struct BundledConsent(pub String);

/// Refuses bundled consent: a `required` purpose must rest on a basis other than consent, since
/// a person who must tick it to be served has no free choice.
pub fn check_unbundled(key: &str, required: bool, legal_basis: LegalBasis) -> Result<(), BundledConsent> {
    if required && legal_basis == LegalBasis::Consent { Err(BundledConsent(key.to_owned())) } else { Ok(()) }
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

/// 정보통신망법 art. 50(3): advertising between 21:00 and 08:00 needs its own consent.
/// Whether a message for a purpose (its `channel`, whether its consent covers the night) whose
/// consent is in `status` may go out at `local` time in the workspace's time zone. A purpose that
/// sends nothing (`none`) may be used whenever it is granted.
pub fn may_send_now(
    status: super::ConsentStatus,
    channel: Channel,
    night_time: bool,
    local: chrono::NaiveTime,
) -> bool {
    status == super::ConsentStatus::Granted && (channel == Channel::None || night_time || is_daytime(local))
}

/// Whether `local` is outside the night of 21:00 to 08:00, when advertising needs a consent that
/// covered the night (정보통신망법 art. 50(3)).
pub fn is_daytime(local: chrono::NaiveTime) -> bool {
    use chrono::Timelike;
    (8..21).contains(&local.hour())
}

#[cfg(test)]
mod night_tests {
    use super::*;
    use crate::domain::ConsentStatus;
    use chrono::NaiveTime;

    #[test]
    fn advertising_waits_for_the_morning_unless_the_night_was_agreed_to() {
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert!(may_send_now(ConsentStatus::Granted, Channel::Sms, false, at(8, 0)));
        assert!(may_send_now(ConsentStatus::Granted, Channel::Sms, false, at(20, 59)));
        assert!(!may_send_now(ConsentStatus::Granted, Channel::Sms, false, at(21, 0)));
        assert!(!may_send_now(ConsentStatus::Granted, Channel::Email, false, at(7, 59)));
        assert!(may_send_now(ConsentStatus::Granted, Channel::Email, true, at(23, 30)));
        assert!(may_send_now(ConsentStatus::Granted, Channel::None, false, at(3, 0)));
        assert!(!may_send_now(ConsentStatus::Withdrawn, Channel::Sms, true, at(12, 0)));
        assert!(!may_send_now(ConsentStatus::Pending, Channel::Sms, false, at(12, 0)));
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

/// The longest period a purpose may keep data for: 100 years (or 36 500 days).
const MAX_MONTHS: u64 = 1200;
const MAX_DAYS: u64 = 36_500;

/// Why a retention period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRetention {
    #[error(
        "retention must be a period such as \"3y\", \"6m\", \"90d\" or \"1y6m\", or a preset: \
         payment_records, contract_records, disputes, advertising_records, marketing"
    )]
    Malformed,
    /// A number too large to be a period at all (it would overflow) or longer than the cap.
    #[error("retention \"{0}\" is too long: at most 100 years (1200 months or 36500 days)")]
    TooLong(String),
}

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
    /// is kept without a period; so is anything past 100 years, however many digits it has (the
    /// arithmetic is checked, so no input can overflow it).
    pub fn parse(raw: &str) -> Result<Self, InvalidRetention> {
        let raw = raw.trim();
        if let Some(preset) = Self::preset(raw) {
            return Ok(preset);
        }
        let too_long = || InvalidRetention::TooLong(raw.to_owned());
        let (mut months, mut days, mut digits) = (0u64, 0u64, String::new());
        let mut last_unit = 0;
        for c in raw.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit = match c {
                'y' => 1,
                'm' => 2,
                'd' => 3,
                _ => return Err(InvalidRetention::Malformed),
            };
            if unit <= last_unit || digits.is_empty() {
                return Err(InvalidRetention::Malformed);
            }
            last_unit = unit;
            // Only ASCII digits were collected, so the only way to fail is a number past u64.
            let n: u64 = digits.parse().map_err(|_| too_long())?;
            digits.clear();
            let (total, by) = if c == 'd' { (&mut days, 1) } else { (&mut months, if c == 'y' { 12 } else { 1 }) };
            *total = n.checked_mul(by).and_then(|n| total.checked_add(n)).ok_or_else(too_long)?;
        }
        if !digits.is_empty() || (months == 0 && days == 0) {
            return Err(InvalidRetention::Malformed);
        }
        if months > MAX_MONTHS || days > MAX_DAYS {
            return Err(too_long());
        }
        let narrow = |n: u64| u32::try_from(n).map_err(|_| too_long());
        Ok(Self { months: narrow(months)?, days: narrow(days)? })
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

    /// Whole years, the months left over, and days (for describing the period).
    pub fn parts(self) -> (u32, u32, u32) {
        (self.months / 12, self.months % 12, self.days)
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
    fn a_required_purpose_cannot_rest_on_consent() {
        let refused = check_unbundled("service", true, LegalBasis::Consent).unwrap_err();
        assert_eq!(refused, BundledConsent("service".into()));
        let said = refused.to_string();
        assert!(said.contains("`service`") && said.contains("PIPA art. 22(5)") && said.contains("GDPR art. 7(4)"));
        for basis in [LegalBasis::Contract, LegalBasis::LegalObligation, LegalBasis::LegitimateInterest] {
            assert_eq!(check_unbundled("service", true, basis), Ok(()), "{basis:?}");
        }
        assert_eq!(check_unbundled("marketing", false, LegalBasis::Consent), Ok(()), "optional consent is fine");
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
        for bad in ["", "0y", "forever", "3", "y", "6m1y", "3w", "-1y", "1yd"] {
            assert_eq!(Retention::parse(bad), Err(InvalidRetention::Malformed), "{bad}");
        }
    }

    #[test]
    fn numbers_that_would_overflow_are_refused_as_too_long() {
        let huge = [
            "99999999999999999999y".to_owned(),
            "99999999999y".to_owned(),
            format!("{}d", i64::MAX),
            format!("{}d", u64::MAX),
            format!("{}y", u64::MAX / 12 + 1),
            format!("1y{}m", u32::MAX),
            format!("{}m", u64::MAX),
            "101y".to_owned(),
            "36501d".to_owned(),
            "100y1m".to_owned(),
        ];
        for raw in &huge {
            assert_eq!(Retention::parse(raw), Err(InvalidRetention::TooLong(raw.clone())), "{raw}");
        }
        assert!(Retention::parse(&huge[0]).unwrap_err().to_string().contains("too long"));
        assert_eq!(Retention::parse("100y").unwrap(), Retention::months(1200));
        assert_eq!(Retention::parse("36500d").unwrap().to_string(), "36500d");
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
}
