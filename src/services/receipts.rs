//! Consent receipts: one signed shape (`assent-receipt/2`, `docs/receipt.schema.json`) for what a
//! submission recorded and for a person's whole consent state, with the claims of ISO/IEC TS
//! 27560 and the Kantara Consent Receipt (controller, jurisdiction, policy, collection method,
//! per purpose its category, legal basis, consent type, data categories, retention, disclosure
//! and sensitivity), and the ledger events it commits to (leaf index and hash, provable with
//! `GET /api/v1/receipts/{jti}/proof` or `GET /.well-known/assent/proof-by-hash`).
//!
//! Receipts do not expire (no `exp`): each states what the ledger held at `iat`, and stays
//! verifiable with the key its header's `kid` names in `/.well-known/jwks.json`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::profile::Profile;
use super::submit::{RecordedEvent, SubmissionOutcome};
use crate::crypto::Keyring;
use crate::db::catalog::{Catalog, PublishedPurpose};
use crate::domain::{Controller, LegalBasis, Locale, Method, Retention};

/// The `version` claim of every receipt Assent signs now.
pub const VERSION: &str = "assent-receipt/2";

/// A consent receipt's claims.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// The receipt format: `assent-receipt/2`.
    pub version: String,
    /// What the receipt is of: one submission, or a person's whole consent state.
    pub kind: ReceiptKind,
    /// The Assent instance that signed it (its base URL).
    pub iss: String,
    /// The principal, pseudonymously: the subject id, or `submission:<id>` when the submitter
    /// was not identified by an API key.
    pub sub: String,
    /// When it was issued (seconds since the epoch, UTC).
    pub iat: i64,
    /// The receipt id: the submission id for a submission receipt.
    pub jti: String,
    /// The language the person was addressed in (BCP 47).
    pub language: String,
    /// How the consents were collected: `form`, `api`, `import` or `preference_center` (a state
    /// receipt: the door it was issued through; each event names its own).
    pub collection_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<Controller>,
    /// Where the controller is established (ISO 3166-1 alpha-2), if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// The controller's privacy policy, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_url: Option<String>,
    /// The form a submission receipt records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<ReceiptForm>,
    pub purposes: Vec<ReceiptPurpose>,
    /// The ledger events the receipt commits to.
    pub events: Vec<ReceiptEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Submission,
    State,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptForm {
    pub key: String,
    pub version: i64,
}

/// One purpose, with everything the person was told about it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptPurpose {
    pub purpose: String,
    /// A Kantara purpose category (`core_function`, `marketing`, ...).
    pub purpose_category: String,
    pub legal_basis: String,
    /// `explicit` (an unticked box the person ticked) for purposes resting on consent;
    /// `not_applicable` for those resting on another legal basis.
    pub consent_type: String,
    /// The state after the receipt's events (`granted`, `pending`, `withdrawn`, ...).
    pub status: String,
    /// The personal data categories: the form fields bound to this purpose.
    pub pii_categories: Vec<String>,
    /// The retention period as written in the workspace (`2y`) and in ISO 8601 (`P2Y`).
    pub retention: String,
    pub retention_period: String,
    /// How the consent ends: `withdrawal_or_expiry` (consent), `end_of_retention` (otherwise);
    /// either way the data bound to it is then deleted.
    pub termination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub third_party_disclosure: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub third_parties: Vec<String>,
    /// For provision to third parties (PIPA art. 17(2)): each recipient, what for, which items,
    /// how long, and for a transfer abroad the country and how.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<crate::domain::provision::Recipient>,
    pub sensitive: bool,
    pub policy_version_id: String,
    pub policy_version: i64,
    /// SHA-256 of the wording the person was shown (the language they saw it in).
    pub policy_text_hash: String,
}

/// One ledger event: its leaf in the ledger's Merkle tree and its chain hash.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptEvent {
    pub seq: i64,
    /// `seq − 1`.
    pub leaf_index: i64,
    pub purpose: String,
    pub action: String,
    pub method: String,
    pub at: DateTime<Utc>,
    pub policy_version_id: String,
    pub policy_text_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub hash: String,
}

/// Who signs, and where: the parts of a receipt that do not depend on what it records.
pub struct Issuer<'a> {
    pub keyring: &'a Keyring,
    pub catalog: &'a Catalog,
    pub base_url: &'a str,
}

impl Issuer<'_> {
    /// The receipt of a submission: the purposes it recorded and their events.
    pub fn submission(&self, outcome: &SubmissionOutcome, method: Method, language: Locale) -> Result<String, Error> {
        let events: Vec<ReceiptEvent> =
            outcome.events.iter().map(|e| submitted_event(e, method, outcome.recorded_at)).collect();
        let purposes = purposes_of(&events)
            .into_iter()
            .filter_map(|key| {
                let state = outcome.states.iter().find(|s| s.purpose_key == key);
                let last = events.iter().rev().find(|e| e.purpose == key)?;
                let status = state.map_or_else(|| status_of_action(&last.action), |s| s.status.as_str().to_owned());
                let expires = state.and_then(|s| s.expires_at).map(|t| t.and_utc()).or(last.expires_at);
                self.purpose(&key, Some(&outcome.form), status, expires, last)
            })
            .collect();
        let sub = outcome
            .subject_id
            .as_ref()
            .map_or_else(|| format!("submission:{}", outcome.submission_id), ToString::to_string);
        let mut receipt = self.receipt(ReceiptKind::Submission, sub, outcome.submission_id.clone(), method, language);
        receipt.iat = outcome.recorded_at.timestamp();
        receipt.form = Some(ReceiptForm { key: outcome.form.clone(), version: outcome.form_version });
        receipt.purposes = purposes;
        receipt.events = events;
        self.sign(&receipt)
    }

    /// The receipt of a person's whole consent state: every purpose, with its latest event.
    pub fn state(&self, profile: &Profile, method: Method, language: Locale) -> Result<String, Error> {
        let mut receipt = self.receipt(
            ReceiptKind::State,
            profile.subject_id.clone(),
            uuid::Uuid::new_v4().to_string(),
            method,
            language,
        );
        for consent in &profile.consents {
            let Some(last) = profile.history.iter().rev().find(|h| h.purpose == consent.purpose) else { continue };
            let event = ReceiptEvent {
                seq: last.seq,
                leaf_index: last.seq - 1,
                purpose: last.purpose.clone(),
                action: last.action.clone(),
                method: last.method.clone(),
                at: last.at,
                policy_version_id: last.policy_version_id.clone(),
                policy_text_hash: consent.policy_text_hash.clone(),
                expires_at: consent.expires_at,
                hash: last.hash.clone(),
            };
            let status = consent.status.as_str().to_owned();
            if let Some(p) = self.purpose(&consent.purpose, None, status, consent.expires_at, &event) {
                receipt.purposes.push(p);
            }
            receipt.events.push(event);
        }
        receipt.events.sort_by_key(|e| e.seq);
        self.sign(&receipt)
    }

    fn receipt(&self, kind: ReceiptKind, sub: String, jti: String, method: Method, language: Locale) -> Receipt {
        let controller = self.catalog.controller.clone();
        let declared = |f: fn(&Controller) -> &String| controller.as_ref().map(f).filter(|v| !v.is_empty()).cloned();
        Receipt {
            version: VERSION.to_owned(),
            kind,
            iss: self.base_url.to_owned(),
            sub,
            iat: Utc::now().timestamp(),
            jti,
            language: language.as_str().to_owned(),
            collection_method: collection_method(method).to_owned(),
            jurisdiction: declared(|c| &c.jurisdiction),
            policy_url: declared(|c| &c.policy_url),
            controller,
            form: None,
            purposes: Vec::new(),
            events: Vec::new(),
        }
    }

    fn purpose(
        &self,
        key: &str,
        form: Option<&str>,
        status: String,
        expires_at: Option<DateTime<Utc>>,
        last: &ReceiptEvent,
    ) -> Option<ReceiptPurpose> {
        let p: &PublishedPurpose = self.catalog.purpose(key)?;
        let consent = p.legal_basis == LegalBasis::Consent;
        Some(ReceiptPurpose {
            purpose: key.to_owned(),
            purpose_category: p.category().as_str().to_owned(),
            legal_basis: p.legal_basis.as_str().to_owned(),
            consent_type: if consent { "explicit" } else { "not_applicable" }.to_owned(),
            status,
            pii_categories: pii_categories(self.catalog, key, form),
            retention: p.retention.to_string(),
            retention_period: iso8601(p.retention),
            termination: if consent { "withdrawal_or_expiry" } else { "end_of_retention" }.to_owned(),
            expires_at,
            third_party_disclosure: !p.third_parties.is_empty() || !p.details.recipients.is_empty(),
            third_parties: p.third_parties.iter().cloned().chain(p.details.recipient_names()).collect(),
            recipients: p.details.recipients.clone(),
            sensitive: p.sensitive,
            policy_version_id: last.policy_version_id.clone(),
            policy_version: self.catalog.policy_version_numbers.get(&last.policy_version_id).copied().unwrap_or(0),
            policy_text_hash: last.policy_text_hash.clone(),
        })
    }

    fn sign(&self, receipt: &Receipt) -> Result<String, Error> {
        Ok(self.keyring.receipts().sign(receipt)?)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not sign the receipt: {0}")]
pub struct Error(#[from] jsonwebtoken::errors::Error);

fn submitted_event(e: &RecordedEvent, method: Method, at: DateTime<Utc>) -> ReceiptEvent {
    ReceiptEvent {
        seq: e.seq,
        leaf_index: e.seq - 1,
        purpose: e.purpose.clone(),
        action: e.action.clone(),
        method: method.as_str().to_owned(),
        at,
        policy_version_id: e.policy_version_id.clone(),
        policy_text_hash: e.policy_text_hash.clone(),
        expires_at: e.expires_at,
        hash: e.hash.clone(),
    }
}

/// The purposes of these events, in the order they first appear.
fn purposes_of(events: &[ReceiptEvent]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for e in events {
        if !keys.contains(&e.purpose) {
            keys.push(e.purpose.clone());
        }
    }
    keys
}

/// The state an action leaves a purpose in (when the outcome does not report it).
fn status_of_action(action: &str) -> String {
    match action {
        "granted" | "renewed" | "confirmed" | "notified" => "granted",
        "erased" => "withdrawn",
        other => other,
    }
    .to_owned()
}

/// The ISO/IEC TS 27560 collection methods Assent's doors map to.
fn collection_method(method: Method) -> &'static str {
    match method {
        Method::Form => "form",
        Method::Api => "api",
        Method::PreferenceCenter | Method::EmailLink => "preference_center",
        Method::Admin | Method::RetentionJob | Method::Import => "controller",
    }
}

/// The field keys bound to a purpose: in the given form, or in every form of the workspace.
fn pii_categories(catalog: &Catalog, purpose: &str, form: Option<&str>) -> Vec<String> {
    let mut fields: Vec<String> = catalog
        .forms
        .values()
        .filter(|f| form.is_none_or(|k| f.key.as_str() == k))
        .flat_map(|f| f.definition.fields.iter())
        .filter(|field| field.purposes.iter().any(|p| p.as_str() == purpose))
        .map(|field| field.key.to_string())
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// A retention period in ISO 8601 (`P2Y`, `P1Y6M`, `P30D`).
pub fn iso8601(retention: Retention) -> String {
    let (years, months, days) = retention.parts();
    let mut out = String::from("P");
    for (n, unit) in [(years, 'Y'), (months, 'M'), (days, 'D')] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.len() == 1 { "P0D".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_periods_read_as_iso_8601_durations() {
        let r = |s: &str| iso8601(Retention::parse(s).unwrap());
        assert_eq!(r("2y"), "P2Y");
        assert_eq!(r("1y6m"), "P1Y6M");
        assert_eq!(r("6m"), "P6M");
        assert_eq!(r("30d"), "P30D");
    }

    #[test]
    fn the_json_schema_names_every_claim_a_receipt_carries() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/receipt.schema.json")))
                .unwrap();
        assert_eq!(schema["properties"]["version"]["const"], VERSION);
        let event = ReceiptEvent {
            seq: 1,
            leaf_index: 0,
            purpose: "p".into(),
            action: "granted".into(),
            method: "form".into(),
            at: Utc::now(),
            policy_version_id: "v".into(),
            policy_text_hash: "h".into(),
            expires_at: Some(Utc::now()),
            hash: "h".into(),
        };
        let purpose = ReceiptPurpose {
            purpose: "p".into(),
            purpose_category: "marketing".into(),
            legal_basis: "consent".into(),
            consent_type: "explicit".into(),
            status: "granted".into(),
            pii_categories: vec![],
            retention: "2y".into(),
            retention_period: "P2Y".into(),
            termination: "withdrawal_or_expiry".into(),
            expires_at: Some(Utc::now()),
            third_party_disclosure: true,
            third_parties: vec!["Courier".into()],
            recipients: vec![crate::domain::provision::Recipient {
                name: "Courier".into(),
                purpose: crate::domain::Localized::new([(crate::domain::Locale::EN, "delivery")]),
                items: vec!["phone".into()],
                retention: crate::domain::Localized::new([(crate::domain::Locale::EN, "a week")]),
                country: Some("JP".into()),
                transfer: Some(crate::domain::Localized::new([(crate::domain::Locale::EN, "daily")])),
            }],
            sensitive: false,
            policy_version_id: "v".into(),
            policy_version: 1,
            policy_text_hash: "h".into(),
        };
        let receipt = Receipt {
            version: VERSION.into(),
            kind: ReceiptKind::Submission,
            iss: "i".into(),
            sub: "s".into(),
            iat: 0,
            jti: "j".into(),
            language: "en".into(),
            collection_method: "form".into(),
            controller: Some(Controller { name: "C".into(), ..Controller::default() }),
            jurisdiction: Some("KR".into()),
            policy_url: Some("https://x.example".into()),
            form: Some(ReceiptForm { key: "f".into(), version: 1 }),
            purposes: vec![purpose],
            events: vec![event],
        };
        let json = serde_json::to_value(&receipt).unwrap();
        let names = |v: &serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(names(&json), names(&schema["properties"]));
        assert_eq!(names(&json["purposes"][0]), names(&schema["$defs"]["purpose"]["properties"]));
        assert_eq!(names(&json["events"][0]), names(&schema["$defs"]["event"]["properties"]));
    }

    #[test]
    fn every_door_maps_to_a_collection_method() {
        for m in Method::ALL {
            assert!(["form", "api", "preference_center", "controller"].contains(&collection_method(m)));
        }
    }
}
