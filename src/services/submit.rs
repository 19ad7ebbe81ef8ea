//! Recording a form submission: the subject, the submission, its encrypted values, and its
//! consent changes (through the consent door) commit together or not at all. What each ticked
//! purpose does is the lifecycle's rule (`domain::lifecycle::on_submission`): a submission that
//! cannot tell who is asking cannot overturn what the person established. The answer says only
//! what this submission wrote; who the person is goes only to a caller with an API key.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::ServiceError;
use super::confirmations::{Asking, PreparedConfirmation, prepare_confirmation, queue_confirmations};
use super::consent::{Applied, Change, Door, States};
use super::submitted_values::{changes_held, held_values, seal_values};
use crate::crypto::{Bound, DataKey, Keyring, seal_evidence};
use crate::db::WriteTx;
use crate::db::catalog::{Catalog, PublishedForm, PublishedPurpose};
use crate::db::consent::ConsentState;
use crate::db::pending::{self, PendingValue};
use crate::db::subjects::{self, NewFieldValue, NewSubject, NewSubmission, Subject};
use crate::domain::ledger::ledger_time;
use crate::domain::lifecycle::{Submitter, Transition, lapses_at, on_submission};
use crate::domain::{AcceptedSubmission, Evidence, Locale, Method, PurposeKey, SubjectId};
use crate::mail::MailContext;

/// Everything needed to record one accepted submission.
pub struct SubmissionInput {
    pub form: PublishedForm,
    pub accepted: AcceptedSubmission,
    pub evidence: Evidence,
    pub locale: Locale,
    pub method: Method,
    /// For the double opt-in confirmation mail.
    pub mail: MailContext,
    /// The caller is authenticated (an integrator's API key) and vouches for the person.
    pub verified: bool,
    /// Opted out of by the Global Privacy Control signal (out of `accepted`): recorded as such.
    pub opted_out: Vec<PurposeKey>,
    /// Under the form's minimum age: every purpose waits for this parent's or guardian's
    /// confirmation, which the confirmation mail asks of them.
    pub guardian: Option<crate::domain::Email>,
}

impl SubmissionInput {
    /// Who is submitting, as far as the door can tell.
    pub fn submitter(&self, known_person: bool) -> Submitter {
        Submitter {
            known_person,
            verified: self.verified,
            double_opt_in: self.form.definition.double_opt_in,
            guardian: self.guardian.is_some(),
        }
    }
}

/// What was recorded, for the response and the receipt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmissionOutcome {
    /// Only for a caller with an API key: an unauthenticated answer says nothing about who the
    /// address belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub subject_id: Option<SubjectId>,
    pub submission_id: String,
    /// Whether anything was stored (nothing is, when no purpose was ticked and none is needed).
    pub stored: bool,
    pub form: String,
    pub form_version: i64,
    pub events: Vec<RecordedEvent>,
    /// Purposes awaiting confirmation by e-mail (double opt-in).
    pub pending: Vec<String>,
    #[serde(skip)]
    pub recorded_at: DateTime<Utc>,
    /// The states to report: every purpose the subject holds for a verified caller; otherwise
    /// only those this submission wrote.
    #[serde(skip)]
    pub states: Vec<ConsentState>,
    /// The subject the submission was recorded for (never serialised: see `subject_id`).
    #[serde(skip)]
    #[schema(value_type = String)]
    pub recorded_for: SubjectId,
}

/// One ledger event this submission appended.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordedEvent {
    pub seq: i64,
    pub purpose: String,
    pub action: String,
    pub policy_version_id: String,
    pub policy_text_hash: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub hash: String,
}

/// One submission with what was prepared for it outside the writer.
pub(super) struct Item {
    pub(super) catalog: Arc<Catalog>,
    pub(super) input: SubmissionInput,
    pub(super) prepared: Option<Prepared>,
}

/// The double opt-in mail composed before the write, and the subject it was composed for.
pub(super) struct Prepared {
    pub(super) confirmation: PreparedConfirmation,
    /// Whether the subject did not exist yet (its id was then chosen here).
    pub(super) for_new_subject: bool,
}

/// The subject a submission is for, as found (or not) before writing.
enum Known {
    Existing { id: SubjectId, key: DataKey },
    New,
}

/// Everything one submission writes, decided before writing.
struct Plan<'a> {
    item: &'a Item,
    subject_id: SubjectId,
    /// For a new subject: its blind index, wrapped key and encrypted address.
    new_subject: Option<(&'a [u8], Vec<u8>, Vec<u8>)>,
    submission_id: String,
    /// (row id, purposes, ciphertext) for each accepted value, in the order of `accepted.values`.
    values: Vec<(String, String, Vec<u8>)>,
    /// For each value: it would change a value held, and the submitter cannot be told from
    /// anyone who knows the address, so it waits for the person's confirmation.
    waits: Vec<bool>,
    evidence: String,
    /// What each ticked purpose does (those that do nothing are left out).
    changes: Vec<(&'a PublishedPurpose, Transition)>,
}

impl Plan<'_> {
    /// A submission that changes no consent and brings no value stores nothing.
    fn stores(&self) -> bool {
        !self.changes.is_empty() || !self.values.is_empty()
    }
}

/// Records submissions of distinct addresses with one statement per table (on PostgreSQL; see
/// [`crate::insert_rows`]). The same address is always the same subject, found through its
/// blind index.
pub(super) fn record_group(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    group: &[(&Item, &[u8])],
) -> Result<Vec<SubmissionOutcome>, ServiceError> {
    let now_utc = Utc::now();
    let now = ledger_time(now_utc.naive_utc());
    let indexes: Vec<&[u8]> = group.iter().map(|(_, index)| *index).collect();
    // A subject whose key is gone (erased) is not this person any more.
    let found: HashMap<Vec<u8>, Subject> = subjects::find_by_indexes(tx.conn, &indexes)?
        .into_iter()
        .filter(|s| s.wrapped_key.is_some())
        .map(|s| (s.email_index.clone(), s))
        .collect();
    let returning: Vec<String> = found.values().map(|s| s.id.clone()).collect();
    let mut states = States::load(tx.conn, &returning)?;
    let Some(catalog) = group.first().map(|(item, _)| item.catalog.clone()) else { return Ok(Vec::new()) };
    let door = Door::new(&catalog);
    let plans = group
        .iter()
        .map(|&(item, index)| {
            let (known, held) = match found.get(index) {
                Some(s) => {
                    let key = keyring.unwrap_data_key(s.wrapped_key.as_deref().unwrap_or_default(), &s.id)?;
                    // Only an unauthenticated submission needs what is held, to tell changes apart.
                    let held = (!item.input.verified).then(|| held_values(tx.conn, &key, &s.id)).transpose()?;
                    (Known::Existing { id: SubjectId::from(s.id.clone()), key }, held)
                }
                None => (Known::New, None),
            };
            plan(keyring, &door, &states, item, index, known, held)
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    write_rows(tx, &plans, now)?;
    let changes: Vec<Change<'_>> = plans.iter().flat_map(|p| changes_of(p)).collect();
    let mut applied = door.apply(tx, &mut states, &changes, now)?.into_iter();
    let mut outcomes = Vec::with_capacity(plans.len());
    let mut confirmations: Vec<(Cow<'_, PreparedConfirmation>, bool)> = Vec::new();
    for p in &plans {
        let mine: Vec<Applied> = applied.by_ref().take(p.changes.len()).flatten().collect();
        if let Some(confirmation) = confirmation_for(keyring, p, &mine, now)? {
            confirmations.push((confirmation, p.new_subject.is_some()));
        }
        outcomes.push(outcome_of(p, mine, &states, now_utc));
    }
    let confirmations: Vec<(&PreparedConfirmation, bool)> = confirmations.iter().map(|(c, new)| (&**c, *new)).collect();
    queue_confirmations(tx, &confirmations, now)?;
    Ok(outcomes)
}

fn plan<'a>(
    keyring: &Keyring,
    door: &Door<'a>,
    states: &States,
    item: &'a Item,
    index: &'a [u8],
    known: Known,
    held: Option<Vec<(String, String)>>,
) -> Result<Plan<'a>, ServiceError> {
    let input = &item.input;
    let known_person = matches!(known, Known::Existing { .. });
    let (subject_id, key, new_subject) = match known {
        Known::Existing { id, key } => (id, key, None),
        Known::New => {
            // The id the confirmation mail was composed for, when it was composed for a new subject.
            let id = SubjectId::from(match &item.prepared {
                Some(p) if p.for_new_subject => p.confirmation.subject_id.clone(),
                _ => crate::db::new_row_id(),
            });
            let (key, wrapped) = keyring.new_data_key(&id)?;
            let bound = Bound::Email { subject: &id, index };
            let email = key.seal(input.accepted.email.as_str().as_bytes(), bound)?;
            (id, key, Some((index, wrapped, email)))
        }
    };
    let submitter = input.submitter(known_person);
    let changes: Vec<(&PublishedPurpose, Transition)> = input
        .accepted
        .granted
        .iter()
        .filter_map(|p| item.catalog.purpose(p.as_str()))
        .filter_map(|p| {
            let previous = states.get(&subject_id, p.key.as_str()).map(ConsentState::standing);
            on_submission(previous.as_ref(), &door.terms(p), submitter).map(|t| (p, t))
        })
        .chain(input.opted_out.iter().filter_map(|p| item.catalog.purpose(p.as_str())).map(|p| (p, Transition::OptOut)))
        .collect();
    let values = seal_values(&key, &subject_id, &input.accepted)?;
    let waits = match (&held, input.verified) {
        (Some(held), false) => {
            input.accepted.values.iter().map(|v| changes_held(held, v.key.as_str(), &v.value)).collect()
        }
        _ => vec![false; values.len()],
    };
    let evidence = seal_evidence(&key, &subject_id, &input.evidence)?;
    let submission_id = crate::db::new_row_id();
    Ok(Plan { item, subject_id, new_subject, submission_id, values, waits, evidence, changes })
}

fn changes_of<'p>(p: &'p Plan<'_>) -> impl Iterator<Item = Change<'p>> {
    p.changes.iter().map(move |(purpose, transition)| Change {
        subject_id: &p.subject_id,
        purpose_key: purpose.key.as_str(),
        transition: *transition,
        method: p.item.input.method,
        source: &p.submission_id,
        evidence: &p.evidence,
        shown_in: Some(p.item.input.locale),
        occurred_at: None,
        wording: None,
    })
}

/// Writes the subjects, submissions and values of the plans that store anything, table by table.
fn write_rows(tx: &mut WriteTx<'_>, plans: &[Plan<'_>], now: NaiveDateTime) -> Result<(), ServiceError> {
    let storing: Vec<&Plan<'_>> = plans.iter().filter(|p| p.stores()).collect();
    let new_subjects: Vec<NewSubject<'_>> = storing
        .iter()
        .filter_map(|p| {
            p.new_subject.as_ref().map(|(index, wrapped, email)| NewSubject {
                id: &p.subject_id,
                email_index: index,
                wrapped_key: Some(wrapped),
                email_ciphertext: Some(email),
                locale: p.item.input.locale.as_str(),
                created_at: now.into(),
            })
        })
        .collect();
    subjects::insert_many(tx.conn, &new_subjects)?;
    let submissions: Vec<NewSubmission<'_>> = storing
        .iter()
        .map(|p| NewSubmission {
            id: &p.submission_id,
            subject_id: &p.subject_id,
            form_version_id: &p.item.input.form.version_id,
            locale: p.item.input.locale.as_str(),
            created_at: now.into(),
        })
        .collect();
    subjects::insert_submissions(tx.conn, &submissions)?;
    let values: Vec<NewFieldValue<'_>> = storing
        .iter()
        .flat_map(|p| {
            values_of(p).filter(|(_, waits, _)| !waits).map(|(v, _, (id, purposes, ciphertext))| NewFieldValue {
                id,
                submission_id: &p.submission_id,
                subject_id: &p.subject_id,
                field_key: v.key.as_str(),
                purposes,
                ciphertext,
                created_at: now.into(),
            })
        })
        .collect();
    subjects::insert_values(tx.conn, &values)?;
    let waiting: Vec<PendingValue> = storing
        .iter()
        .flat_map(|p| {
            values_of(p).filter(|(_, waits, _)| *waits).map(|(v, _, (id, purposes, ciphertext))| PendingValue {
                id: id.clone(),
                submission_id: p.submission_id.clone(),
                subject_id: p.subject_id.to_string(),
                field_key: v.key.to_string(),
                purposes: purposes.clone(),
                ciphertext: ciphertext.clone(),
                created_at: now,
                expires_at: lapses_at(now),
            })
        })
        .collect();
    pending::insert(tx.conn, &waiting)?;
    Ok(())
}

/// Each accepted value with whether it waits for confirmation and its sealed row.
fn values_of<'p>(
    p: &'p Plan<'_>,
) -> impl Iterator<Item = (&'p crate::domain::form::AcceptedValue, bool, &'p (String, String, Vec<u8>))> {
    p.item.input.accepted.values.iter().zip(&p.waits).zip(&p.values).map(|((v, waits), row)| (v, *waits, row))
}

/// The confirmation mail for what this submission left pending: the one composed before the
/// write when the guess held, else composed now.
fn confirmation_for<'p>(
    keyring: &Keyring,
    p: &'p Plan<'_>,
    applied: &[Applied],
    now: NaiveDateTime,
) -> Result<Option<Cow<'p, PreparedConfirmation>>, ServiceError> {
    let input = &p.item.input;
    let pending: Vec<(String, String)> = applied
        .iter()
        .filter(|a| a.confirmation_needed)
        .filter_map(|a| p.item.catalog.purpose(&a.event.purpose_key))
        .map(|purpose| {
            let title = purpose.policy.title().get(input.locale, p.item.catalog.default_locale());
            (purpose.key.to_string(), title.to_owned())
        })
        .collect();
    let changes: Vec<String> = values_of(p)
        .filter(|(_, waits, _)| *waits)
        .map(|(v, _, _)| {
            let field = input.form.definition.field(v.key.as_str());
            field.map_or_else(
                || v.key.to_string(),
                |f| f.label.get(input.locale, p.item.catalog.default_locale()).to_owned(),
            )
        })
        .collect();
    if pending.is_empty() && changes.is_empty() {
        return Ok(None);
    }
    let keys: Vec<String> = pending.iter().map(|(k, _)| k.clone()).collect();
    // The mail composed before the write holds when it was for this subject and these purposes,
    // and no held value is being changed (that is only known here).
    let guessed =
        |c: &PreparedConfirmation| c.subject_id == p.subject_id.as_str() && c.purposes == keys && changes.is_empty();
    Ok(Some(match &p.item.prepared {
        Some(prepared) if guessed(&prepared.confirmation) => Cow::Borrowed(&prepared.confirmation),
        _ => {
            let asking = Asking {
                subject_id: &p.subject_id,
                email: &input.accepted.email,
                locale: input.locale,
                purposes: pending,
                changes: &changes,
                guardian: input.guardian.as_ref(),
            };
            Cow::Owned(prepare_confirmation(keyring, &input.mail, asking, now)?)
        }
    }))
}

fn outcome_of(p: &Plan<'_>, applied: Vec<Applied>, states: &States, now_utc: DateTime<Utc>) -> SubmissionOutcome {
    let input = &p.item.input;
    let pending = applied.iter().filter(|a| a.confirmation_needed).map(|a| a.event.purpose_key.clone()).collect();
    let states = if input.verified {
        states.of(&p.subject_id).to_vec()
    } else {
        applied.iter().filter_map(|a| a.state.clone()).collect()
    };
    let events = applied
        .into_iter()
        .map(|a| RecordedEvent {
            seq: a.event.seq,
            expires_at: a.state.as_ref().and_then(|s| s.expires_at).map(|t| t.and_utc()),
            purpose: a.event.purpose_key,
            action: a.event.action,
            policy_version_id: a.event.policy_version_id,
            policy_text_hash: a.event.policy_text_hash,
            hash: a.event.hash,
        })
        .collect();
    SubmissionOutcome {
        subject_id: input.verified.then(|| p.subject_id.clone()),
        submission_id: p.submission_id.clone(),
        stored: p.stores(),
        form: input.form.key.to_string(),
        form_version: input.form.version,
        events,
        pending,
        recorded_at: now_utc,
        states,
        recorded_for: p.subject_id.clone(),
    }
}
