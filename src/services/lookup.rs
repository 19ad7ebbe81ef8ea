//! Reading consent state: per subject, by e-mail through the blind index.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;

use crate::crypto::Keyring;
use std::collections::HashMap;

use crate::db::DbConnection;
use crate::db::catalog::{Catalog, policy_versions_by_id};
use crate::db::consent::{self, ConsentState};
use crate::domain::{ConsentStatus, Email, PurposeKey};

/// The state of one purpose for one person, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub purpose: String,
    pub status: ConsentStatus,
    pub granted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub policy_version: Option<i64>,
    pub policy_version_id: Option<String>,
}

/// Views for `purposes` (in that order); a purpose never answered is `never`. Policy version
/// numbers come from the catalogue, or from the database for a version published since it was
/// loaded.
pub fn consent_views(
    conn: &mut DbConnection,
    catalog: &Catalog,
    purposes: &[PurposeKey],
    states: &[ConsentState],
) -> QueryResult<Vec<ConsentView>> {
    let unknown: Vec<String> = states
        .iter()
        .filter(|s| !catalog.policy_version_numbers.contains_key(&s.policy_version_id))
        .map(|s| s.policy_version_id.clone())
        .collect();
    let fetched: HashMap<String, i64> = if unknown.is_empty() {
        HashMap::new()
    } else {
        policy_versions_by_id(conn, &unknown)?.into_iter().map(|v| (v.id, v.version)).collect()
    };
    Ok(views(catalog, &fetched, purposes, states))
}

/// Views from state rows alone, when the catalogue knows every policy version they name.
pub fn consent_views_known(
    catalog: &Catalog,
    purposes: &[PurposeKey],
    states: &[ConsentState],
) -> Option<Vec<ConsentView>> {
    let known = states.iter().all(|s| catalog.policy_version_numbers.contains_key(&s.policy_version_id));
    known.then(|| views(catalog, &HashMap::new(), purposes, states))
}

fn views(
    catalog: &Catalog,
    fetched: &HashMap<String, i64>,
    purposes: &[PurposeKey],
    states: &[ConsentState],
) -> Vec<ConsentView> {
    let number = |id: &str| catalog.policy_version_numbers.get(id).or_else(|| fetched.get(id)).copied();
    let utc = |t: Option<NaiveDateTime>| t.map(|t| t.and_utc());
    purposes
        .iter()
        .map(|p| match states.iter().find(|s| s.purpose_key == p.as_str()) {
            Some(s) => ConsentView {
                purpose: p.to_string(),
                status: ConsentStatus::parse(&s.status),
                granted_at: utc(s.granted_at),
                expires_at: utc(s.expires_at),
                policy_version: number(&s.policy_version_id),
                policy_version_id: Some(s.policy_version_id.clone()),
            },
            None => ConsentView {
                purpose: p.to_string(),
                status: ConsentStatus::Never,
                granted_at: None,
                expires_at: None,
                policy_version: None,
                policy_version_id: None,
            },
        })
        .collect()
}

/// A person's consent state for every purpose in the catalogue, and their subject id; an address
/// Assent holds nothing for (or erased) has no id and `never` everywhere. One query: this is
/// the hot read path of integrations that check consent before every message they send.
pub fn consents_by_email(
    conn: &mut DbConnection,
    keyring: &Keyring,
    catalog: &Catalog,
    email: &Email,
) -> QueryResult<(Option<String>, Vec<ConsentView>)> {
    let purposes: Vec<PurposeKey> = catalog.purposes.values().map(|p| p.key.clone()).collect();
    let (subject_id, states) = consent::by_email_index(conn, &keyring.email_index(email))?;
    Ok((subject_id, consent_views(conn, catalog, &purposes, &states)?))
}
