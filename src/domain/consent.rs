//! Consent actions, states and the rule that decides what may be stored.

use serde::{Deserialize, Serialize};

use super::PurposeKey;

/// What happened to a consent: the `action` of a ledger event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Granted,
    Withdrawn,
    Renewed,
    Expired,
    Erased,
    Pending,
    Confirmed,
    /// A periodic reminder of a marketing consent was sent (정보통신망법 art. 50(8)).
    Notified,
}

impl ConsentAction {
    /// Every action (the catalogue tests walk them).
    pub const ALL: [ConsentAction; 8] = [
        Self::Granted,
        Self::Withdrawn,
        Self::Renewed,
        Self::Expired,
        Self::Erased,
        Self::Pending,
        Self::Confirmed,
        Self::Notified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Withdrawn => "withdrawn",
            Self::Renewed => "renewed",
            Self::Expired => "expired",
            Self::Erased => "erased",
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Notified => "notified",
        }
    }

    /// The state a purpose is in after this action.
    pub fn resulting_status(self) -> ConsentStatus {
        match self {
            Self::Granted | Self::Renewed | Self::Confirmed | Self::Notified => ConsentStatus::Granted,
            Self::Withdrawn | Self::Erased => ConsentStatus::Withdrawn,
            Self::Expired => ConsentStatus::Expired,
            Self::Pending => ConsentStatus::Pending,
        }
    }
}

/// The current state of one purpose for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    Granted,
    Withdrawn,
    Pending,
    Expired,
    Never,
    /// Never stored: what the consent check answers for a purpose whose consent ended while data
    /// bound to it is held under a statutory obligation (usable for nothing else).
    Restricted,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Withdrawn => "withdrawn",
            Self::Pending => "pending",
            Self::Expired => "expired",
            Self::Never => "never",
            Self::Restricted => "restricted",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "granted" => Self::Granted,
            "withdrawn" => Self::Withdrawn,
            "pending" => Self::Pending,
            "expired" => Self::Expired,
            _ => Self::Never,
        }
    }
}

/// A stored state that is none of the known ones (a bug or tampering).
#[derive(Debug, thiserror::Error)]
#[error("unknown consent state {0:?}")]
pub struct UnknownStatus(String);

impl TryFrom<String> for ConsentStatus {
    type Error = UnknownStatus;

    /// The database mapping: a row always holds one of the four stored states.
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        match Self::parse(&raw) {
            Self::Never => Err(UnknownStatus(raw)),
            status => Ok(status),
        }
    }
}

/// Through which door a consent event came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Form,
    Api,
    PreferenceCenter,
    EmailLink,
    RetentionJob,
    Admin,
    /// Brought in from a spreadsheet (`assent import`, the console's import).
    Import,
}

impl Method {
    /// Every method (the catalogue tests walk them).
    pub const ALL: [Method; 7] =
        [Self::Form, Self::Api, Self::PreferenceCenter, Self::EmailLink, Self::RetentionJob, Self::Admin, Self::Import];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Form => "form",
            Self::Api => "api",
            Self::PreferenceCenter => "preference_center",
            Self::EmailLink => "email_link",
            Self::RetentionJob => "retention_job",
            Self::Admin => "admin",
            Self::Import => "import",
        }
    }
}

/// What the ledger keeps as proof of how a consent was given. Field order is fixed, so the JSON
/// form (which is hashed into the ledger) is canonical. What is absent is left out of it (an
/// imported consent's evidence has no address, browser or signal); evidence written before that
/// carries them as `null` and `false`, and reads back the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Evidence {
    /// HMAC-SHA256 of the client IP under a server key: comparable, not reversible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default)]
    pub locale: String,
    /// The `Sec-GPC: 1` Global Privacy Control signal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gpc: bool,
    pub form_version_id: Option<String>,
    /// What the integrator says the change came from (API calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Where an imported consent came from: the import, the file and the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportEvidence>,
    /// The rights-desk request staff acted on (a change made for the person, at their request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_request: Option<String>,
    /// On a form with a minimum age, how the age was established: `affirmed`, `birth_date`, or
    /// `guardian` (under it: a parent or guardian was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<String>,
    /// A parent's or guardian's confirmation: the blind index (hex) of their address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian: Option<String>,
}

/// An imported consent's provenance (never a value from the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportEvidence {
    pub import_id: String,
    /// SHA-256 of the file as imported, in hex.
    pub file_sha256: String,
    /// The row's line in the file (the header is line 1).
    pub line: u64,
}

/// A value may be stored only while at least one purpose it serves is granted.
pub fn may_store(serves: &[PurposeKey], granted: &[PurposeKey]) -> bool {
    serves.iter().any(|p| granted.contains(p))
}

/// The stored values that must go now: those serving none of the purposes still held (granted or
/// awaiting confirmation). `values` pairs an id with the purposes its value serves.
pub fn erasable<'a, I>(values: I, held: &[PurposeKey]) -> Vec<&'a str>
where
    I: IntoIterator<Item = (&'a str, &'a [PurposeKey])>,
{
    values.into_iter().filter(|(_, serves)| !may_store(serves, held)).map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdrawing_sms_erases_the_phone_but_not_the_shared_email() {
        let phone = keys(&["marketing_sms"]);
        let email = keys(&["service", "marketing_email"]);
        let values = [("phone-1", phone.as_slice()), ("email-1", email.as_slice())];
        let held = keys(&["service"]);
        assert_eq!(erasable(values, &held), vec!["phone-1"]);
        assert_eq!(erasable(values, &[]), vec!["phone-1", "email-1"]);
    }

    fn keys(raw: &[&str]) -> Vec<PurposeKey> {
        raw.iter().map(|k| PurposeKey::parse(k).unwrap()).collect()
    }

    #[test]
    fn a_value_is_stored_when_one_of_its_purposes_is_granted() {
        assert!(may_store(&keys(&["service", "marketing_email"]), &keys(&["marketing_email"])));
    }

    #[test]
    fn a_phone_number_without_sms_consent_is_not_stored() {
        assert!(!may_store(&keys(&["marketing_sms"]), &keys(&["service", "marketing_email"])));
        assert!(!may_store(&[], &keys(&["service"])));
    }

    #[test]
    fn actions_lead_to_the_expected_state() {
        assert_eq!(ConsentAction::Granted.resulting_status(), ConsentStatus::Granted);
        assert_eq!(ConsentAction::Confirmed.resulting_status(), ConsentStatus::Granted);
        assert_eq!(ConsentAction::Withdrawn.resulting_status(), ConsentStatus::Withdrawn);
        assert_eq!(ConsentAction::Expired.resulting_status(), ConsentStatus::Expired);
        assert_eq!(ConsentStatus::parse("granted"), ConsentStatus::Granted);
        assert_eq!(ConsentStatus::parse("whatever"), ConsentStatus::Never);
    }
}
