//! Reading consent state: per subject, by e-mail through the blind index.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;

use crate::crypto::Keyring;
use crate::db::DbConnection;
use crate::db::catalog::policy_versions_by_id;
use crate::db::consent::{self, ConsentState};
use crate::db::subjects;
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

/// Views for `purposes` (in that order); a purpose never answered is `never`.
pub fn consent_views(
    conn: &mut DbConnection,
    purposes: &[PurposeKey],
    states: &[ConsentState],
) -> QueryResult<Vec<ConsentView>> {
    let ids: Vec<String> = states.iter().map(|s| s.policy_version_id.clone()).collect();
    let versions = policy_versions_by_id(conn, &ids)?;
    let utc = |t: Option<NaiveDateTime>| t.map(|t| t.and_utc());
    Ok(purposes
        .iter()
        .map(|p| match states.iter().find(|s| s.purpose_key == p.as_str()) {
            Some(s) => ConsentView {
                purpose: p.to_string(),
                status: ConsentStatus::parse(&s.status),
                granted_at: utc(s.granted_at),
                expires_at: utc(s.expires_at),
                policy_version: versions.iter().find(|v| v.id == s.policy_version_id).map(|v| v.version),
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
        .collect())
}

/// A person's consent state for every purpose in `purposes`, and their subject id; an address
/// Assent holds nothing for (or erased) has no id and `never` everywhere.
pub fn consents_by_email(
    conn: &mut DbConnection,
    keyring: &Keyring,
    email: &Email,
    purposes: &[PurposeKey],
) -> QueryResult<(Option<String>, Vec<ConsentView>)> {
    let subject = subjects::find_by_index(conn, &keyring.email_index(email))?.filter(|s| s.erased_at.is_none());
    let Some(subject) = subject else {
        return Ok((None, consent_views(conn, purposes, &[])?));
    };
    let states = consent::for_subject(conn, &subject.id)?;
    Ok((Some(subject.id), consent_views(conn, purposes, &states)?))
}
