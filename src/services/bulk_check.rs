//! The bulk consent check (`POST /api/v1/consents/query`): up to [`MAX_IDENTIFIERS`] people,
//! each named by address, subject id or external id, answered in the order asked with a fixed
//! number of queries (one per kind of identifier, one for the states, one for external ids),
//! whatever the number asked.

use std::collections::HashMap;

use super::ServiceError;
use crate::crypto::Keyring;
use crate::db::consent::{self, ConsentState};
use crate::db::{DbConnection, external_ids, subjects};
use crate::domain::Email;

/// The most identifiers one query may carry.
pub const MAX_IDENTIFIERS: usize = 1000;

/// Whom one entry of a bulk check names.
#[derive(Debug, Clone)]
pub enum Identifier {
    Email(Email),
    Subject(String),
    External(String),
}

/// One person's answer: `subject_id` is `None` when Assent holds nothing for them (never
/// seen, or erased), and then `states` is empty.
#[derive(Debug, Clone)]
pub struct Answer {
    pub subject_id: Option<String>,
    pub external_id: Option<String>,
    pub states: Vec<ConsentState>,
}

/// The answers for `asked`, in the same order (a person named twice is answered twice).
pub fn answer(conn: &mut DbConnection, keyring: &Keyring, asked: &[Identifier]) -> Result<Vec<Answer>, ServiceError> {
    let found = resolve(conn, keyring, asked)?;
    let ids: Vec<&str> = {
        let mut ids: Vec<&str> = found.iter().flatten().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut states: HashMap<String, Vec<ConsentState>> = HashMap::new();
    if !ids.is_empty() {
        for state in consent::for_subjects(conn, &ids)? {
            states.entry(state.subject_id.to_string()).or_default().push(state);
        }
    }
    let external = if ids.is_empty() { HashMap::new() } else { super::external_ids::of(conn, keyring, &ids)? };
    Ok(found
        .into_iter()
        .map(|subject_id| match subject_id {
            Some(id) => Answer {
                external_id: external.get(&id).cloned(),
                states: states.get(&id).cloned().unwrap_or_default(),
                subject_id: Some(id),
            },
            None => Answer { subject_id: None, external_id: None, states: Vec::new() },
        })
        .collect())
}

/// Where data is held under a statutory obligation, the purposes' states read `restricted`
/// ([`super::holds::restrict`]), for someone erased too (found by the address's blind index): one
/// query for the people found, and one per address that named nobody.
pub fn restrict_held(
    conn: &mut DbConnection,
    keyring: &Keyring,
    asked: &[Identifier],
    answers: &mut [Answer],
) -> Result<(), ServiceError> {
    let found: Vec<&str> = answers.iter().filter_map(|a| a.subject_id.as_deref()).collect();
    let mut held: HashMap<String, Vec<(String, chrono::NaiveDateTime)>> = HashMap::new();
    for (subject, purpose, until) in crate::db::holds::purposes_of(conn, &found)? {
        held.entry(subject).or_default().push((purpose, until));
    }
    for (a, answer) in asked.iter().zip(answers.iter_mut()) {
        let holder = match (&answer.subject_id, a) {
            (Some(id), _) => Some(id.clone()),
            (None, Identifier::Email(email)) => crate::db::holds::holder_by_index(conn, &keyring.email_index(email))?,
            (None, _) => None,
        };
        let Some(holder) = holder else { continue };
        let purposes = match held.get(&holder) {
            Some(p) => p.clone(),
            None => {
                crate::db::holds::purposes_of(conn, &[holder.as_str()])?.into_iter().map(|(_, p, t)| (p, t)).collect()
            }
        };
        super::holds::restrict(&mut answer.states, &holder, &purposes);
    }
    Ok(())
}

/// The live subject each identifier names, if any.
fn resolve(
    conn: &mut DbConnection,
    keyring: &Keyring,
    asked: &[Identifier],
) -> Result<Vec<Option<String>>, ServiceError> {
    let indexes: Vec<Option<Vec<u8>>> = asked
        .iter()
        .map(|a| match a {
            Identifier::Email(email) => Some(keyring.email_index(email)),
            Identifier::External(id) => Some(keyring.external_index(id)),
            Identifier::Subject(_) => None,
        })
        .collect();
    // Addresses and external ids, each looked up in one query.
    let (mut emails, mut externals): (Vec<&[u8]>, Vec<&[u8]>) = (Vec::new(), Vec::new());
    for (a, index) in asked.iter().zip(&indexes) {
        match (a, index.as_deref()) {
            (Identifier::Email(_), Some(index)) => emails.push(index),
            (Identifier::External(_), Some(index)) => externals.push(index),
            _ => {}
        }
    }
    let by_email: HashMap<Vec<u8>, String> = if emails.is_empty() {
        HashMap::new()
    } else {
        subjects::find_by_indexes(conn, &emails)?
            .into_iter()
            .filter(|s| s.erased_at.is_none())
            .map(|s| (s.email_index, s.id))
            .collect()
    };
    let by_external: HashMap<Vec<u8>, String> = if externals.is_empty() {
        HashMap::new()
    } else {
        external_ids::subjects_of(conn, &externals)?.into_iter().collect()
    };
    let named: Vec<&str> = asked
        .iter()
        .filter_map(|a| match a {
            Identifier::Subject(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let live: std::collections::HashSet<String> =
        if named.is_empty() { Default::default() } else { subjects::live_among(conn, &named)?.into_iter().collect() };
    Ok(asked
        .iter()
        .zip(indexes)
        .map(|(a, index)| match (a, index) {
            (Identifier::Email(_), Some(index)) => by_email.get(&index).cloned(),
            (Identifier::External(_), Some(index)) => by_external.get(&index).cloned(),
            (Identifier::Subject(id), _) => live.contains(id).then(|| id.clone()),
            _ => None,
        })
        .collect())
}
