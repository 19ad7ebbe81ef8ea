//! Erasure, and what ending a consent leaves behind. Every value that no consent in force needs
//! goes at once; a person none of whose consents is in force is erased whole (nobody is kept
//! without a purpose); erasing a person ends each of their consents in force with an `erased`
//! event through the consent door, then shreds their data (crypto-shredding: the data key goes)
//! and tells the writer, which journals the erasure outside the database after the commit. What
//! another law obliges the company to keep is moved to restricted storage first (`holds`).

use chrono::NaiveDateTime;
use std::collections::HashMap;

use super::ServiceError;
use super::audit::{self, Done};
use super::consent::{Change, Door, Forget, States, WHOLE_PERSON};
use crate::db::catalog::Catalog;
use crate::db::{DbConnection, Erasure, WriteTx, outbox, pending, sessions, subjects};
use crate::domain::consent::erasable;
use crate::domain::lifecycle::{Transition, in_force};
use crate::domain::rights::RightKind;
use crate::domain::{PurposeKey, SubjectId};

/// What settling erased.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Settled {
    /// (subject, field key) of each value erased from people who keep some consent.
    pub values: Vec<(SubjectId, String)>,
    /// Values that went with people erased whole.
    pub values_of_erased: usize,
    /// People erased whole, left with nothing.
    pub subjects: Vec<SubjectId>,
}

pub use super::audit::By;

/// After consents of these people ended: erases the values no consent in force needs, and the
/// people left with nothing, in the same transaction.
pub fn settle(
    tx: &mut WriteTx<'_>,
    door: &Door<'_>,
    states: &mut States,
    subject_ids: &[SubjectId],
    by: By<'_>,
    now: NaiveDateTime,
) -> Result<Settled, ServiceError> {
    let (gone, kept): (Vec<SubjectId>, Vec<SubjectId>) =
        subject_ids.iter().cloned().partition(|id| states.left_with_nothing(id));
    let unneeded = erase_unneeded(tx.conn, door.catalog, states, &kept, now)?;
    let mut settled = Settled { values: unneeded, ..Settled::default() };
    if !gone.is_empty() {
        let live: Vec<SubjectId> = subjects::live_among(tx.conn, &gone)?.into_iter().map(SubjectId::from).collect();
        settled.values_of_erased = subjects::count_values_of(tx.conn, &live)?;
        erase_people(tx, door, states, &live, by, now)?;
        settled.subjects = live;
    }
    Ok(settled)
}

/// Ends every consent in force of these (live) people with an `erased` event, one event for the
/// person as a whole ([`WHOLE_PERSON`]) when none was, then removes every personal row and
/// destroys their data keys.
pub fn erase_people(
    tx: &mut WriteTx<'_>,
    door: &Door<'_>,
    states: &mut States,
    subject_ids: &[SubjectId],
    by: By<'_>,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    if subject_ids.is_empty() {
        return Ok(());
    }
    let mut ending: Vec<(&SubjectId, String)> = Vec::new();
    for id in subject_ids {
        let before = ending.len();
        ending.extend(states.of(id).iter().filter(|s| in_force(s.status)).map(|s| (id, s.purpose_key.clone())));
        if ending.len() == before {
            ending.push((id, WHOLE_PERSON.to_owned()));
        }
    }
    // Erased for a desk request: the request's id is the evidence (in clear: the person's key,
    // which seals other evidence, is about to be destroyed).
    let evidence = by.request.map_or_else(|| "{}".to_owned(), request_evidence);
    let changes: Vec<Change<'_>> = ending
        .iter()
        .map(|(subject_id, purpose_key)| Change {
            subject_id,
            purpose_key,
            transition: Transition::Erase,
            method: by.method,
            source: "erasure",
            evidence: &evidence,
            shown_in: None,
            occurred_at: None,
            wording: None,
        })
        .collect();
    door.apply_forgetting(tx, states, &changes, Forget::These(subject_ids), now)?;
    // What another law obliges the company to keep outlives the person's data key (restricted).
    super::holds::keep_all_of(tx.conn, door.catalog, subject_ids, now)?;
    sessions::forget_many(tx.conn, subject_ids)?;
    outbox::drop_unsent_for_many(tx.conn, subject_ids)?;
    subjects::shred_many(tx.conn, subject_ids, now)?;
    // For the erasure journal, once this commits: a restored backup must not bring them back.
    tx.erased.extend(subject_ids.iter().map(|id| Erasure { subject_id: id.as_str().to_owned(), at: now }));
    let done = Done { by, kind: RightKind::Erasure, detail: "", at: now };
    audit::record(tx, subject_ids, &done)?;
    Ok(())
}

/// The evidence of a change made for a rights-desk request: the request's id, nothing personal.
pub fn request_evidence(id: &str) -> String {
    let evidence = crate::domain::Evidence { rights_request: Some(id.to_owned()), ..Default::default() };
    serde_json::to_string(&evidence).unwrap_or_else(|_| "{}".to_owned())
}

/// Deletes every value of these people that no consent in force needs; returns (subject, field)
/// of each value erased. A few statements for many people (retention's batches).
pub fn erase_unneeded(
    conn: &mut DbConnection,
    catalog: &Catalog,
    states: &States,
    subject_ids: &[SubjectId],
    now: NaiveDateTime,
) -> Result<Vec<(SubjectId, String)>, ServiceError> {
    if subject_ids.is_empty() {
        return Ok(Vec::new());
    }
    let stored = subjects::value_purposes_of(conn, subject_ids)?;
    let mut stored_by: HashMap<&str, Vec<&(String, String, String, String)>> = HashMap::new();
    for v in &stored {
        stored_by.entry(v.1.as_str()).or_default().push(v);
    }
    let mut doomed: Vec<String> = Vec::new();
    let mut erased = Vec::new();
    for subject in subject_ids {
        let held: Vec<PurposeKey> = states
            .of(subject)
            .iter()
            .filter(|s| in_force(s.status))
            .filter_map(|s| PurposeKey::parse(&s.purpose_key).ok())
            .collect();
        let mine = stored_by.get(subject.as_str()).map_or(&[][..], Vec::as_slice);
        let serves: Vec<Vec<PurposeKey>> =
            mine.iter().map(|v| v.3.split(' ').filter_map(|p| PurposeKey::parse(p).ok()).collect()).collect();
        for id in erasable(mine.iter().zip(&serves).map(|(v, s)| (v.0.as_str(), s.as_slice())), &held) {
            doomed.push(id.to_owned());
            if let Some(v) = mine.iter().find(|v| v.0 == id) {
                erased.push((subject.clone(), v.2.clone()));
            }
        }
    }
    for chunk in doomed.chunks(1000) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        super::holds::keep(conn, catalog, &ids, now)?;
        subjects::delete_values(conn, &ids)?;
    }
    drop_unneeded_waiting(conn, states, subject_ids)?;
    Ok(erased)
}

/// New values still waiting for confirmation go too once no consent they serve is in force.
fn drop_unneeded_waiting(
    conn: &mut DbConnection,
    states: &States,
    subject_ids: &[SubjectId],
) -> Result<(), ServiceError> {
    let doomed: Vec<String> = pending::purposes_of(conn, subject_ids)?
        .into_iter()
        .filter(|(_, subject, purposes)| {
            let held = states.of(subject);
            !purposes.split(' ').any(|p| held.iter().any(|s| s.purpose_key == p && in_force(s.status)))
        })
        .map(|(id, _, _)| id)
        .collect();
    for chunk in doomed.chunks(1000) {
        pending::delete(conn, chunk)?;
    }
    Ok(())
}
