//! Writing a decided chunk: its rows, then every consent through the door at its own time, then
//! what was already past its retention expired and what nothing in force justifies erased; and
//! a chunk queued to the writer ([`InFlight`]) while the next one is decided.

use std::sync::Arc;

use chrono::Utc;

use super::plan::{self, Context, Parsed, Planned, RowWrite, Written};
use super::report::{RowReport, Totals};
use crate::db::subjects::{self, NewFieldValue, NewSubject, NewSubmission};
use crate::db::{Db, Queued, WriteTx, external_ids, imports};
use crate::domain::ledger::ledger_time;
use crate::domain::lifecycle::{Transition, in_force};
use crate::domain::{ConsentStatus, Method, SubjectId};
use crate::services::ServiceError;
use crate::services::consent::{Change, Door, States};
use crate::services::erasure::{self, By};

/// Writes the chunk's rows, their consents through the door (each at its original time), then
/// expires what was already past its retention and erases what nothing in force justifies.
pub(super) fn write_chunk(tx: &mut WriteTx<'_>, ctx: &Context, planned: &[Planned]) -> Result<Written, ServiceError> {
    let now = ctx.now;
    let writes: Vec<&RowWrite> = planned.iter().filter_map(|p| p.write.as_ref()).collect();
    if writes.is_empty() {
        return Ok(Written::default());
    }
    write_rows(tx, ctx, &writes)?;
    let ids: Vec<SubjectId> = writes.iter().map(|w| w.subject.clone()).collect();
    // Someone new has no consent yet.
    let known: Vec<&SubjectId> = writes.iter().filter(|w| w.new_subject.is_none()).map(|w| &w.subject).collect();
    let mut states = States::load(tx.conn, &known)?;
    let door = Door::new(&ctx.catalog);
    let changes: Vec<Change<'_>> = writes
        .iter()
        .flat_map(|w| {
            w.steps.iter().map(move |(purpose, transition, at)| Change {
                subject_id: &w.subject,
                purpose_key: purpose.as_str(),
                transition: *transition,
                method: Method::Import,
                source: &ctx.import_id,
                evidence: &w.evidence,
                shown_in: None,
                occurred_at: Some(*at),
                wording: ctx.wording.get(purpose.as_str()).map(String::as_str),
            })
        })
        .collect();
    let events = door.apply(tx, &mut states, &changes, now)?.iter().filter(|r| r.is_ok()).count() as u64;
    // Consents whose period ended before today are recorded and end now, as retention would.
    let due: Vec<(SubjectId, String)> = ids
        .iter()
        .flat_map(|id| states.of(id).iter())
        .filter(|s| s.status == ConsentStatus::Granted && s.expires_at.is_some_and(|e| e <= now))
        .map(|s| (s.subject_id.clone(), s.purpose_key.clone()))
        .collect();
    let expiries: Vec<Change<'_>> = due
        .iter()
        .map(|(subject_id, purpose_key)| Change {
            subject_id,
            purpose_key,
            transition: Transition::Expire,
            method: Method::Import,
            source: &ctx.import_id,
            evidence: "{}",
            shown_in: None,
            occurred_at: None,
            wording: None,
        })
        .collect();
    let expired = door.apply(tx, &mut states, &expiries, now)?.iter().filter(|r| r.is_ok()).count() as u64;
    let unsettled = unsettled(&states, ids);
    erasure::settle(tx, &door, &mut states, &unsettled, By::new(&ctx.actor, Method::Import), now)?;
    Ok(Written { events: events + expired, expired })
}

/// The people whose values may have lost their purpose: only someone with a consent not in force
/// (or none) can hold a value nothing justifies, as the plan kept no value without one in force.
fn unsettled(states: &States, ids: Vec<SubjectId>) -> Vec<SubjectId> {
    ids.into_iter()
        .filter(|id| {
            let held = states.of(id);
            held.is_empty() || held.iter().any(|s| !in_force(s.status))
        })
        .collect()
}

fn write_rows(tx: &mut WriteTx<'_>, ctx: &Context, writes: &[&RowWrite]) -> Result<(), ServiceError> {
    let now = ctx.now;
    let locale = ctx.catalog.default_locale();
    let new_subjects: Vec<NewSubject<'_>> = writes
        .iter()
        .filter_map(|w| {
            w.new_subject.as_ref().map(|(index, wrapped, email)| NewSubject {
                id: &w.subject,
                email_index: index,
                wrapped_key: Some(wrapped),
                email_ciphertext: Some(email),
                locale: locale.as_str(),
                created_at: now.into(),
            })
        })
        .collect();
    subjects::insert_many(tx.conn, &new_subjects)?;
    let with_values: Vec<(&RowWrite, String)> =
        writes.iter().filter(|w| !w.values.is_empty()).map(|w| (*w, crate::db::new_row_id())).collect();
    let submissions: Vec<NewSubmission<'_>> = with_values
        .iter()
        .map(|(w, id)| NewSubmission {
            id,
            subject_id: &w.subject,
            form_version_id: &ctx.form.version_id,
            locale: locale.as_str(),
            created_at: now.into(),
        })
        .collect();
    subjects::insert_submissions(tx.conn, &submissions)?;
    let values: Vec<NewFieldValue<'_>> = with_values
        .iter()
        .flat_map(|(w, submission)| {
            w.values.iter().map(move |(id, field, purposes, ciphertext)| NewFieldValue {
                id,
                submission_id: submission,
                subject_id: &w.subject,
                field_key: field,
                purposes,
                ciphertext,
                created_at: now.into(),
            })
        })
        .collect();
    subjects::insert_values(tx.conn, &values)?;
    for w in writes {
        if let Some((index, sealed)) = &w.external {
            external_ids::set(tx.conn, &w.subject, index, sealed, now)?;
        }
    }
    Ok(())
}

/// What a chunk's write answers: its rows' reports and the totals through it (not the rows as
/// written: their sealed values would stay in memory beside the next two chunks).
pub(super) type Done = (Vec<RowReport>, Totals);

/// A chunk queued to the writer, kept until it is written.
pub(super) struct InFlight {
    queued: Queued<Done, ServiceError>,
    parsed: Arc<Vec<Parsed>>,
    before: Totals,
}

impl InFlight {
    /// Queues a chunk decided outside the writer (`Some`: the writer meanwhile writing the one
    /// before) or not yet decided; the writer writes it as decided if nothing the decision found
    /// has changed, decides it otherwise, and keeps the totals through it on the import's record.
    pub(super) fn queue(
        db: &Db,
        ctx: &Arc<Context>,
        parsed: Arc<Vec<Parsed>>,
        decided: Option<plan::ChunkPlan>,
        before: Totals,
    ) -> Result<Self, ServiceError> {
        let (ctx, rows) = (ctx.clone(), parsed.clone());
        let queued = db.writer.queue_bulk(move |tx| {
            let planned = plan::still_holds(tx.conn, &ctx, &rows, decided)?;
            let written = write_chunk(tx, &ctx, &planned)?;
            let mut totals = before;
            planned.iter().for_each(|p| totals.add(&p.report));
            totals.events += written.events;
            totals.expired += written.expired;
            let at = ledger_time(Utc::now().naive_utc());
            imports::progress(tx.conn, &ctx.import_id, &totals.progress_text(), at)?;
            Ok((planned.into_iter().map(|p| p.report).collect(), totals))
        })?;
        Ok(Self { queued, parsed, before })
    }

    /// Waits for the chunk's write. Someone else wrote a person or an external id it was to
    /// create after it was decided (its insert met the blind index's uniqueness, and nothing of
    /// it was written): it is decided again in the writer, once.
    pub(super) fn wait(self, db: &Db, ctx: &Arc<Context>) -> Result<Done, ServiceError> {
        use diesel::result::{DatabaseErrorKind::UniqueViolation, Error::DatabaseError};
        match self.queued.wait() {
            Err(ServiceError::Storage(DatabaseError(UniqueViolation, _))) => {
                Ok(Self::queue(db, ctx, self.parsed, None, self.before)?.queued.wait()?)
            }
            written => Ok(written?),
        }
    }
}
