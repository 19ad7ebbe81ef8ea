//! Everything Assent holds about a person, read and decrypted: the documented export shape, and
//! what the preference center shows.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::subject::{Live, SubjectError, live_subject};
use crate::crypto::{Bound, Keyring, open_evidence};
use crate::db::catalog::{Catalog, policy_versions_by_id};
use crate::db::consent::ConsentState;
use crate::db::rights::{self, RightsRequest};
use crate::db::{DbConnection, consent, ledger, subjects};
use crate::domain::{ConsentStatus, Evidence, FormDefinition};

/// One stored value, decrypted, with its origin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldValue {
    pub id: String,
    pub field: String,
    pub label: Option<crate::domain::Localized>,
    pub value: String,
    pub form: String,
    pub form_version: i64,
    pub submitted_at: DateTime<Utc>,
    pub purposes: Vec<String>,
}

/// One purpose's state, with the wording that was agreed to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldConsent {
    pub purpose: String,
    pub status: ConsentStatus,
    pub required: bool,
    pub since: DateTime<Utc>,
    pub granted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub policy_version: i64,
    pub title: crate::domain::Localized,
    pub wording: crate::domain::Localized,
    pub policy_text_hash: String,
}

/// One ledger event about this person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub purpose: String,
    pub action: String,
    pub method: String,
    pub policy_version_id: String,
    pub hash: String,
    pub evidence: Option<Evidence>,
}

/// Everything Assent holds about a person: the documented export shape.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub subject_id: String,
    #[schema(format = "email")]
    pub email: String,
    /// The id an integrator attached to the person (`PUT /api/v1/subjects/{id}/external-id`).
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub exported_at: DateTime<Utc>,
    pub values: Vec<HeldValue>,
    pub consents: Vec<HeldConsent>,
    pub history: Vec<HistoryEntry>,
    pub rights_requests: Vec<RightsRequest>,
    /// What another law obliges the business to keep after a withdrawal or erasure, under which
    /// law and until when (PIPA art. 21(1), 전자상거래법 art. 6): restricted, used for nothing else.
    pub kept_by_law: Vec<super::holds::Held>,
}

/// A profile with the catalogue it was read under (its titles, wording and labels come from it):
/// what the preference center's page keeps between views (`web::me`).
pub struct ReadUnder {
    pub catalog: std::sync::Weak<Catalog>,
    pub profile: Profile,
}

/// Reads (and decrypts) everything held about a subject.
pub fn read(conn: &mut DbConnection, keyring: &Keyring, catalog: &Catalog, id: &str) -> Result<Profile, SubjectError> {
    let live = live_subject(conn, keyring, id)?;
    let email = live.email()?;
    let values = held_values(conn, catalog, &live)?;
    let consents = held_consents(conn, catalog, id)?;
    let history = ledger::for_subject(conn, id)?
        .into_iter()
        .map(|e| HistoryEntry {
            seq: e.seq,
            at: e.occurred_at.and_utc(),
            evidence: open_evidence(Some(&live.key), id, &e.evidence),
            purpose: e.purpose_key,
            action: e.action,
            method: e.method,
            policy_version_id: e.policy_version_id,
            hash: e.hash,
        })
        .collect();
    let external_id = match crate::db::external_ids::sealed_of(conn, &[id])?.pop() {
        Some((_, sealed)) => Some(live.key.open_text(&sealed, crate::crypto::Bound::External { subject: id })?),
        None => None,
    };
    Ok(Profile {
        subject_id: id.to_owned(),
        email,
        external_id,
        created_at: live.subject.created_at.and_utc(),
        exported_at: Utc::now(),
        values,
        consents,
        history,
        rights_requests: rights::requests_for(conn, id)?,
        kept_by_law: super::holds::held_about(conn, id)?,
    })
}

/// What is held about someone just erased: nothing but their id, and what a law obliges the
/// business to keep.
pub fn erased(conn: &mut DbConnection, id: &str) -> diesel::QueryResult<Profile> {
    let now = Utc::now();
    Ok(Profile {
        subject_id: id.to_owned(),
        email: String::new(),
        external_id: None,
        created_at: now,
        exported_at: now,
        values: Vec::new(),
        consents: Vec::new(),
        history: Vec::new(),
        rights_requests: Vec::new(),
        kept_by_law: super::holds::held_about(conn, id)?,
    })
}

/// Every stored value, decrypted: oldest submission first; within one, the order of the form's
/// fields.
fn held_values(conn: &mut DbConnection, catalog: &Catalog, live: &Live) -> Result<Vec<HeldValue>, SubjectError> {
    let id = live.subject.id.as_str();
    let stored = subjects::values_of(conn, id)?;
    let forms = forms_of(conn, catalog, stored.iter().map(|v| v.form_version_id.as_str()))?;
    let mut ordered = Vec::with_capacity(stored.len());
    for v in &stored {
        let form = forms.get(v.form_version_id.as_str());
        let definition = form.and_then(|f| f.2.as_deref());
        let position = definition.and_then(|d| d.fields.iter().position(|f| f.key.as_str() == v.field_key));
        let bound = Bound::Value { subject: id, value_id: &v.id, field: &v.field_key };
        let value = HeldValue {
            id: v.id.clone(),
            field: v.field_key.clone(),
            label: definition.and_then(|d| d.field(&v.field_key)).map(|f| f.label.clone()),
            value: live.key.open_text(&v.ciphertext, bound)?,
            form: form.map(|f| f.0.clone()).unwrap_or_default(),
            form_version: form.map(|f| f.1).unwrap_or_default(),
            submitted_at: v.created_at.and_utc(),
            purposes: v.purposes.split(' ').filter(|p| !p.is_empty()).map(str::to_owned).collect(),
        };
        ordered.push(((v.created_at, v.submission_id.clone(), position.unwrap_or(usize::MAX)), value));
    }
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ordered.into_iter().map(|(_, v)| v).collect())
}

/// Form versions by id: (form key, version, definition: the catalogue's own, or parsed from an
/// older version's row).
type FormsById<'c> = HashMap<String, (String, i64, Option<Cow<'c, FormDefinition>>)>;

/// The form versions values were submitted through, by id: (form key, version, definition).
/// A form's current version comes from the catalogue (already parsed); only older ones are read.
fn forms_of<'a, 'c>(
    conn: &mut DbConnection,
    catalog: &'c Catalog,
    ids: impl Iterator<Item = &'a str>,
) -> diesel::QueryResult<FormsById<'c>> {
    let mut forms = HashMap::new();
    let mut older = Vec::new();
    for id in ids {
        if forms.contains_key(id) || older.iter().any(|o| o == id) {
            continue;
        }
        match catalog.forms.values().find(|f| f.version_id == id) {
            Some(f) => {
                forms.insert(id.to_owned(), (f.key.to_string(), f.version, Some(Cow::Borrowed(&f.definition))));
            }
            None => older.push(id.to_owned()),
        }
    }
    if !older.is_empty() {
        for (id, key, version, definition) in subjects::form_definitions(conn, &older)? {
            let parsed = serde_json::from_str::<FormDefinition>(&definition).ok().map(Cow::Owned);
            forms.insert(id, (key, version, parsed));
        }
    }
    Ok(forms)
}

/// Each purpose's state with the wording it rests on.
fn held_consents(conn: &mut DbConnection, catalog: &Catalog, id: &str) -> Result<Vec<HeldConsent>, SubjectError> {
    let states = consent::for_subject(conn, id)?;
    // The wording in force now is the catalogue's; only consents given under an older one read it.
    let current =
        |s: &ConsentState| catalog.purpose(&s.purpose_key).map(|p| &p.policy).filter(|p| p.id == s.policy_version_id);
    let older: Vec<String> =
        states.iter().filter(|s| current(s).is_none()).map(|s| s.policy_version_id.clone()).collect();
    let versions = if older.is_empty() { Vec::new() } else { policy_versions_by_id(conn, &older)? };
    Ok(states
        .iter()
        .filter_map(|s| {
            let v = current(s).or_else(|| versions.iter().find(|v| v.id == s.policy_version_id))?;
            Some(HeldConsent {
                purpose: s.purpose_key.clone(),
                status: s.status,
                required: catalog.purpose(&s.purpose_key).is_some_and(|p| p.required),
                since: s.updated_at.and_utc(),
                granted_at: s.granted_at.map(|t| t.and_utc()),
                expires_at: s.expires_at.map(|t| t.and_utc()),
                policy_version: v.version,
                title: v.title().clone(),
                wording: v.text().clone(),
                policy_text_hash: v.text_hash.clone(),
            })
        })
        .collect())
}
