//! Data another law obliges the company to keep (PIPA art. 21(1) proviso and 21(3),
//! 전자상거래법 art. 6): a purpose may declare a statutory retention obligation; a value bound to
//! it outlives the consent (and erasure) for the obligation's period, restricted, then goes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Retention;

/// A statutory retention obligation: records of the purpose are kept for `period` from when they
/// were recorded, under `law`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Declared", into = "Written")]
pub struct Obligation {
    pub period: Retention,
    pub law: String,
}

/// How `assent.toml` declares one: a preset's name, or the period and the law.
#[derive(Deserialize)]
#[serde(untagged)]
enum Declared {
    Preset(String),
    Table { period: Retention, law: String },
}

#[derive(Serialize)]
struct Written {
    period: Retention,
    law: String,
}

impl From<Obligation> for Written {
    fn from(o: Obligation) -> Self {
        Self { period: o.period, law: o.law }
    }
}

/// The longest name of a law, in characters.
const LAW_MAX: usize = 200;

/// Why an obligation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidObligation {
    #[error(
        "retention_obligation must be a preset (contract_records, payment_records, complaints, disputes, \
         advertising_records) or {{ period = \"5y\", law = \"...\" }}"
    )]
    UnknownPreset,
    #[error("retention_obligation needs the law it comes from, in 1 to 200 characters")]
    Law,
}

impl TryFrom<Declared> for Obligation {
    type Error = InvalidObligation;
    fn try_from(declared: Declared) -> Result<Self, InvalidObligation> {
        match declared {
            Declared::Preset(name) => Self::preset(&name).ok_or(InvalidObligation::UnknownPreset),
            Declared::Table { period, law } => {
                let law = law.trim().to_owned();
                if law.is_empty() || law.chars().count() > LAW_MAX {
                    return Err(InvalidObligation::Law);
                }
                Ok(Self { period, law })
            }
        }
    }
}

/// The Act on Consumer Protection in Electronic Commerce, art. 6 and its decree art. 6.
const ECOMMERCE_ACT: &str = "전자상거래법 제6조 (Act on Consumer Protection in Electronic Commerce, art. 6)";

impl Obligation {
    /// The statutory presets, each with the law it comes from.
    pub fn preset(name: &str) -> Option<Self> {
        let (months, what) = match name.trim() {
            "contract_records" => (60, "계약 또는 청약철회 등에 관한 기록 / records of contracts and withdrawals"),
            "payment_records" => (60, "대금결제 및 재화 등의 공급에 관한 기록 / records of payment and supply"),
            "complaints" | "disputes" => {
                (36, "소비자의 불만 또는 분쟁처리에 관한 기록 / records of complaints and disputes")
            }
            "advertising_records" => (6, "표시·광고에 관한 기록 / records of labelling and advertising"),
            _ => return None,
        };
        Some(Self { period: Retention::months(months), law: format!("{ECOMMERCE_ACT}: {what}") })
    }

    /// From the console's two inputs: a period (or a preset's name) and the law. Both blank:
    /// none. A preset brings its law unless one is typed.
    pub fn from_inputs(period: &str, law: &str) -> Result<Option<Self>, (&'static str, InvalidObligation)> {
        let (period, law) = (period.trim(), law.trim());
        if period.is_empty() {
            return if law.is_empty() {
                Ok(None)
            } else {
                Err(("obligation_period", InvalidObligation::UnknownPreset))
            };
        }
        if let Some(preset) = Self::preset(period) {
            return Ok(Some(if law.is_empty() { preset } else { Self { law: law.to_owned(), ..preset } }));
        }
        let period = Retention::parse(period).map_err(|_| ("obligation_period", InvalidObligation::UnknownPreset))?;
        Self::try_from(Declared::Table { period, law: law.to_owned() }).map(Some).map_err(|e| ("obligation_law", e))
    }

    /// Until when a value recorded at `recorded_at` must be kept.
    pub fn held_until(&self, recorded_at: DateTime<Utc>) -> DateTime<Utc> {
        self.period.expires_at(recorded_at)
    }

    /// As stored in `purposes.obligation` (empty: none).
    pub fn stored(obligation: Option<&Self>) -> String {
        obligation.and_then(|o| serde_json::to_string(o).ok()).unwrap_or_default()
    }

    /// From `purposes.obligation`.
    pub fn from_stored(raw: &str) -> Option<Self> {
        if raw.is_empty() { None } else { serde_json::from_str(raw).ok() }
    }
}

/// What must be kept of a value about to be destroyed, given the obligations of the purposes it
/// serves: the purpose whose obligation runs longest and until when, if that is after `now`.
pub fn to_keep<'a>(
    obligations: impl IntoIterator<Item = (&'a str, &'a Obligation)>,
    recorded_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<(&'a str, &'a Obligation, DateTime<Utc>)> {
    obligations
        .into_iter()
        .map(|(purpose, o)| (purpose, o, o.held_until(recorded_at)))
        .filter(|(_, _, until)| *until > now)
        .max_by_key(|(_, _, until)| *until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn presets_name_their_law_and_period() {
        let contract = Obligation::preset("contract_records").unwrap();
        assert_eq!(contract.period.to_string(), "5y");
        assert!(contract.law.contains("전자상거래법 제6조"));
        assert_eq!(Obligation::preset("disputes").unwrap().period.to_string(), "3y");
        assert_eq!(Obligation::preset("advertising_records").unwrap().period.to_string(), "6m");
        assert_eq!(Obligation::preset("marketing"), None);
    }

    #[test]
    fn declared_as_preset_or_table_and_stored_as_json() {
        #[derive(Deserialize)]
        struct P {
            o: Obligation,
        }
        let preset: P = toml::from_str(r#"o = "payment_records""#).unwrap();
        assert_eq!(preset.o, Obligation::preset("payment_records").unwrap());
        let table: P = toml::from_str(r#"o = { period = "10y", law = "상법 제33조" }"#).unwrap();
        assert_eq!(table.o.period.to_string(), "10y");
        let stored = Obligation::stored(Some(&table.o));
        assert_eq!(Obligation::from_stored(&stored), Some(table.o));
        assert_eq!(Obligation::from_stored(""), None);
        assert!(toml::from_str::<P>(r#"o = "forever""#).is_err());
        assert!(toml::from_str::<P>(r#"o = { period = "1y", law = " " }"#).is_err());
    }

    #[test]
    fn the_console_types_a_period_or_a_preset_and_the_law() {
        assert_eq!(Obligation::from_inputs(" ", ""), Ok(None));
        assert_eq!(Obligation::from_inputs("disputes", ""), Ok(Obligation::preset("disputes")));
        let typed = Obligation::from_inputs("10y", "상법 제33조").unwrap().unwrap();
        assert_eq!((typed.period.to_string(), typed.law.as_str()), ("10y".to_owned(), "상법 제33조"));
        assert_eq!(Obligation::from_inputs("10y", "").unwrap_err().0, "obligation_law");
        assert_eq!(Obligation::from_inputs("", "상법").unwrap_err().0, "obligation_period");
        assert_eq!(Obligation::from_inputs("soon", "상법").unwrap_err().0, "obligation_period");
    }

    #[test]
    fn the_longest_running_obligation_is_kept_and_an_ended_one_is_not() {
        let five = Obligation::preset("contract_records").unwrap();
        let three = Obligation::preset("disputes").unwrap();
        let recorded = at(2024, 3, 5);
        let kept = to_keep([("disputes", &three), ("orders", &five)], recorded, at(2026, 1, 1)).unwrap();
        assert_eq!((kept.0, kept.2), ("orders", at(2029, 3, 5)));
        assert_eq!(to_keep([("orders", &five)], recorded, at(2029, 3, 5)), None);
        assert_eq!(to_keep([], recorded, at(2025, 1, 1)), None);
    }
}
