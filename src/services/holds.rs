//! Data the law says to keep (PIPA art. 21(1) proviso and 21(3), 전자상거래법 art. 6).
//!
//! A purpose may declare a statutory retention obligation. When a value bound to it is about to
//! be destroyed (its consent withdrawn, expired or refused, or the person erased) while the
//! obligation still runs (counted from when the value was recorded), it is moved instead to
//! restricted storage (`held_values`), still sealed under the person's data key, a copy of which
//! is kept for as long as anything is held (erasure destroys the person's own). Held values are in
//! no console list, search or export; only a privacy officer opens them, and every look is an
//! access record. The consent check answers `restricted` for the purpose (usable for nothing
//! else). The retention pass destroys each when its obligation ends.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::catalog::Catalog;
use crate::db::consent::ConsentState;
use crate::db::holds::{self, HeldValue};
use crate::db::{DbConnection, subjects};
use crate::domain::lifecycle::in_force;
use crate::domain::obligation::to_keep;
use crate::domain::{ConsentStatus, SubjectId};

/// Moves those of these values that an obligation still running binds to restricted storage
/// (the caller deletes them all from `field_values` next); returns how many were kept.
pub fn keep(
    conn: &mut DbConnection,
    catalog: &Catalog,
    value_ids: &[&str],
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    if value_ids.is_empty() || !catalog.holds_possible() {
        return Ok(0);
    }
    let rows: Vec<HeldValue> = holds::leaving(conn, value_ids)?
        .into_iter()
        .filter_map(|(id, subject_id, field_key, purposes, ciphertext, recorded_at)| {
            let obligations = purposes.split(' ').filter_map(|p| {
                let declared = catalog.purposes.get(p)?.obligation.as_ref()?;
                Some((p, declared))
            });
            let (purpose, obligation, until) = to_keep(obligations, recorded_at.and_utc(), now.and_utc())?;
            Some(HeldValue {
                purpose_key: purpose.to_owned(),
                law: obligation.law.clone(),
                held_until: until.naive_utc(),
                id,
                subject_id,
                field_key,
                ciphertext,
                recorded_at,
                held_since: now,
            })
        })
        .collect();
    holds::hold(conn, &rows)?;
    Ok(rows.len())
}

/// [`keep`] for everything held about these people (before they are erased).
pub fn keep_all_of(
    conn: &mut DbConnection,
    catalog: &Catalog,
    subject_ids: &[SubjectId],
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    if !catalog.holds_possible() {
        return Ok(0);
    }
    let ids: Vec<&str> = subject_ids.iter().map(SubjectId::as_str).collect();
    let values = subjects::value_ids_of(conn, &ids)?;
    keep(conn, catalog, &values.iter().map(String::as_str).collect::<Vec<_>>(), now)
}

/// What is kept about a person under one law for one purpose, and until when (no values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Held {
    pub purpose: String,
    pub law: String,
    /// When the last of it is destroyed (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub until: chrono::DateTime<chrono::Utc>,
    /// The items kept (field keys).
    pub items: Vec<String>,
}

/// What is held about a person, by purpose and law.
pub fn held_about(conn: &mut DbConnection, subject_id: &str) -> diesel::QueryResult<Vec<Held>> {
    Ok(summarise(&holds::of_subject(conn, subject_id)?))
}

fn summarise(values: &[HeldValue]) -> Vec<Held> {
    let mut held: Vec<Held> = Vec::new();
    for v in values {
        let until = v.held_until.and_utc();
        match held.iter_mut().find(|h| h.purpose == v.purpose_key && h.law == v.law) {
            Some(h) => {
                h.until = h.until.max(until);
                if !h.items.contains(&v.field_key) {
                    h.items.push(v.field_key.clone());
                }
            }
            None => held.push(Held {
                purpose: v.purpose_key.clone(),
                law: v.law.clone(),
                until,
                items: vec![v.field_key.clone()],
            }),
        }
    }
    held
}

/// The consent check's view of a person with data held: a purpose whose consent is not in force
/// while data bound to it is held reads `restricted`, its `expires_at` when the hold ends.
pub fn restrict(states: &mut Vec<ConsentState>, subject_id: &str, held: &[(String, NaiveDateTime)]) {
    for (purpose, until) in held {
        match states.iter_mut().find(|s| &s.purpose_key == purpose) {
            Some(s) if in_force(s.status) => {}
            Some(s) => {
                let before = s.expires_at.filter(|_| s.status == ConsentStatus::Restricted);
                s.status = ConsentStatus::Restricted;
                s.expires_at = Some(before.map_or(*until, |t| t.max(*until)));
            }
            None => states.push(ConsentState {
                subject_id: SubjectId::from(subject_id.to_owned()),
                purpose_key: purpose.clone(),
                status: ConsentStatus::Restricted,
                policy_version_id: String::new(),
                granted_at: None,
                expires_at: Some(*until),
                updated_at: *until,
                last_event_seq: 0,
                notice_anchor_at: None,
            }),
        }
    }
}

/// The states the consent check reads for a person (live, or erased with data held), restricted
/// where data is held. `holds_possible`: whether the workspace declares any obligation (else
/// nothing is read).
pub fn checked_states(
    conn: &mut DbConnection,
    subject_id: Option<&str>,
    index: &[u8],
    mut states: Vec<ConsentState>,
    holds_possible: bool,
) -> diesel::QueryResult<Vec<ConsentState>> {
    if !holds_possible {
        return Ok(states);
    }
    let holder = match subject_id {
        Some(id) => Some(id.to_owned()),
        None => holds::holder_by_index(conn, index)?,
    };
    if let Some(holder) = holder {
        let held: Vec<(String, NaiveDateTime)> =
            holds::purposes_of(conn, &[holder.as_str()])?.into_iter().map(|(_, p, until)| (p, until)).collect();
        restrict(&mut states, &holder, &held);
    }
    Ok(states)
}

/// What is kept, one line each in `locale`: the purpose's title, the items (the labels the forms
/// give them), the law and the last day (`kept-by-law-line`).
pub fn lines(catalog: &Catalog, held: &[Held], locale: crate::domain::Locale) -> Vec<String> {
    use fluent_bundle::FluentValue;
    let c = crate::i18n::catalogue(locale);
    let default = catalog.locales.default_locale();
    let label = |key: &str| {
        let field = catalog.forms.values().flat_map(|f| &f.definition.fields).find(|f| f.key.as_str() == key);
        field.map_or_else(|| key.to_owned(), |f| f.label.get(locale, default).to_owned())
    };
    held.iter()
        .map(|h| {
            let title =
                catalog.purpose(&h.purpose).map_or(h.purpose.as_str(), |p| p.policy.title().get(locale, default));
            let items: Vec<String> = h.items.iter().map(|i| label(i)).collect();
            c.format(
                "kept-by-law-line",
                &[
                    ("purpose", FluentValue::from(title)),
                    ("items", FluentValue::from(items.join(", "))),
                    ("law", FluentValue::from(h.law.as_str())),
                    ("until", FluentValue::from(c.date(h.until.date_naive()))),
                ],
            )
        })
        .collect()
}

/// One held value opened for a privacy officer: (the held row, its plain value).
pub type Opened = (HeldValue, String);

/// Opens everything held about a person with the kept copy of their data key. The caller has
/// checked the role; it audits the look before showing anything.
pub fn open(
    conn: &mut DbConnection,
    keyring: &crate::crypto::Keyring,
    subject_id: &str,
) -> Result<Vec<Opened>, super::ServiceError> {
    let Some(wrapped) = holds::key_of(conn, subject_id)? else { return Ok(Vec::new()) };
    let key = keyring.unwrap_data_key(&wrapped, subject_id)?;
    let mut opened = Vec::new();
    for v in holds::of_subject(conn, subject_id)? {
        let bound = crate::crypto::Bound::Value { subject: subject_id, value_id: &v.id, field: &v.field_key };
        let plain = key.open_text(&v.ciphertext, bound)?;
        opened.push((v, plain));
    }
    Ok(opened)
}
