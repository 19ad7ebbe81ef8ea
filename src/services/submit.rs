//! Recording a form submission: the subject, the submission, its encrypted values, the consent
//! events and the state rows commit together or not at all.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

use super::ServiceError;
use super::links::{CONFIRM_TTL, PreparedConfirmation, prepare_confirmation, queue_confirmations};
use crate::crypto::{DataKey, Keyring};
use crate::db::catalog::{Catalog, PublishedForm, PublishedPurpose};
use crate::db::consent::{self, ConsentState};
use crate::db::ledger::{self, NewEvent};
use crate::db::subjects::{self, NewFieldValue, NewSubject, NewSubmission, Subject};
use crate::db::{CommitFailed, Db, Pool, WriteTx, Writer};
use crate::domain::ledger::ledger_time;
use crate::domain::{AcceptedSubmission, Channel, ConsentAction, Evidence, Locale, Method};
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
}

/// What was recorded, for the response and the receipt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmissionOutcome {
    pub subject_id: String,
    pub submission_id: String,
    pub form: String,
    pub form_version: i64,
    pub events: Vec<RecordedEvent>,
    /// Purposes awaiting confirmation by e-mail (double opt-in).
    pub pending: Vec<String>,
    #[serde(skip)]
    pub recorded_at: DateTime<Utc>,
    /// The subject's state rows once this submission is recorded (every purpose they hold).
    #[serde(skip)]
    pub states: Vec<ConsentState>,
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

/// Records submissions. Submissions that arrive while the writer is busy are recorded together,
/// as one piece of writer work with one statement per table (see [`record_batch_in`]): on
/// PostgreSQL that turns some ten round trips per submission into some ten per batch.
#[derive(Clone)]
pub struct Recorder {
    pool: Pool,
    keyring: Arc<Keyring>,
    queue: mpsc::Sender<Queued>,
}

/// A submission waiting for the next batch.
struct Queued {
    item: Item,
    reply: oneshot::Sender<Result<SubmissionOutcome, ServiceError>>,
}

/// One submission with what was prepared for it outside the writer.
struct Item {
    catalog: Arc<Catalog>,
    input: SubmissionInput,
    prepared: Option<Prepared>,
}

/// The double opt-in mail composed before the write, and the subject it was composed for.
struct Prepared {
    confirmation: PreparedConfirmation,
    /// Whether the subject did not exist yet (its id was then chosen here).
    for_new_subject: bool,
}

/// The most submissions recorded in one batch.
const MAX_BATCH: usize = 256;

impl Recorder {
    /// Starts the thread that hands batches to the writer.
    pub fn start(db: &Db, keyring: Arc<Keyring>) -> std::io::Result<Self> {
        let (queue, batches) = mpsc::channel();
        let (writer, batch_keyring) = (db.writer.clone(), keyring.clone());
        std::thread::Builder::new()
            .name("assent-submissions".into())
            .spawn(move || batch_loop(&writer, &batch_keyring, &batches))?;
        Ok(Self { pool: db.pool.clone(), keyring, queue })
    }

    /// Records one submission and waits until it is durable.
    ///
    /// Work that needs no lock (composing, signing and sealing a double opt-in mail) is done
    /// first, on the blocking pool, so that the single writer only writes rows.
    pub async fn record(
        &self,
        catalog: Arc<Catalog>,
        input: SubmissionInput,
    ) -> Result<SubmissionOutcome, ServiceError> {
        let prepared = prepare(&self.pool, &self.keyring, &catalog, &input).await?;
        let (reply, answer) = oneshot::channel();
        self.queue.send(Queued { item: Item { catalog, input, prepared }, reply }).map_err(|_| CommitFailed)?;
        // A dropped reply means the batch's commit failed: nothing of it was saved.
        let outcome = answer.await.map_err(|_| CommitFailed)??;
        crate::metrics::submission_recorded();
        Ok(outcome)
    }
}

/// Takes whatever submissions are queued, records them as one piece of writer work, and answers
/// each once the commit is durable. One batch is in the writer at a time, so submissions that
/// arrive meanwhile make up the next one.
fn batch_loop(writer: &Writer, keyring: &Arc<Keyring>, queue: &mpsc::Receiver<Queued>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(queued) => batch.push(queued),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<Item>, Vec<_>) = batch.into_iter().map(|q| (q.item, q.reply)).unzip();
        let keyring = keyring.clone();
        let results = writer.write_blocking(move |tx| Ok::<_, ServiceError>(record_batch_in(tx, &keyring, &items)));
        // On a failed commit the replies are dropped unanswered, which callers read as CommitFailed.
        if let Ok(results) = results {
            for (reply, result) in replies.into_iter().zip(results) {
                // The caller may have gone away (client disconnected); the work is done either way.
                let _ = reply.send(result);
            }
        }
    }
}

/// Purposes that will wait for confirmation if this person has not confirmed them already.
fn confirmation_candidates(catalog: &Catalog, input: &SubmissionInput) -> Vec<(String, String)> {
    if !input.form.definition.double_opt_in {
        return Vec::new();
    }
    input
        .accepted
        .granted
        .iter()
        .filter_map(|p| catalog.purpose(p.as_str()))
        .filter(|p| p.channel != Channel::None)
        .map(|p| (p.key.to_string(), p.policy.title().get(input.locale).to_owned()))
        .collect()
}

/// Prepares the confirmation mail for the subject this address is (or will be). The writer
/// checks the guess and composes again itself in the rare case it no longer holds.
async fn prepare(
    pool: &Pool,
    keyring: &Arc<Keyring>,
    catalog: &Catalog,
    input: &SubmissionInput,
) -> Result<Option<Prepared>, ServiceError> {
    let candidates = confirmation_candidates(catalog, input);
    if candidates.is_empty() {
        return Ok(None);
    }
    let (pool, keyring, ctx) = (pool.clone(), keyring.clone(), input.mail.clone());
    let (email, locale) = (input.accepted.email.clone(), input.locale);
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|_| CommitFailed)?;
        let existing =
            subjects::find_by_index(&mut conn, &keyring.email_index(&email))?.filter(|s| s.wrapped_key.is_some());
        let for_new_subject = existing.is_none();
        let subject_id = existing.map_or_else(crate::db::new_row_id, |s| s.id);
        let now = Utc::now().naive_utc();
        let confirmation = prepare_confirmation(&keyring, &ctx, &subject_id, &email, locale, candidates, now)?;
        Ok(Some(Prepared { confirmation, for_new_subject }))
    })
    .await
    .map_err(|_| CommitFailed)?
}

/// Records a batch: the first submission of each address all together in one savepoint; if that
/// fails, each on its own, so that one bad submission fails alone. A repeat of an address already
/// in the batch goes after it, on its own (it then finds the subject the first one created).
fn record_batch_in(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    items: &[Item],
) -> Vec<Result<SubmissionOutcome, ServiceError>> {
    let indexes: Vec<Vec<u8>> = items.iter().map(|i| keyring.email_index(&i.input.accepted.email)).collect();
    let mut seen = std::collections::HashSet::new();
    let (first, again): (Vec<usize>, Vec<usize>) = (0..items.len()).partition(|&i| seen.insert(&indexes[i]));
    let mut results: Vec<Option<Result<SubmissionOutcome, ServiceError>>> = items.iter().map(|_| None).collect();
    let group: Vec<(&Item, &[u8])> = first.iter().map(|&i| (&items[i], indexes[i].as_slice())).collect();
    match tx.savepoint(|tx| record_group(tx, keyring, &group)) {
        Ok(outcomes) => {
            for (&i, outcome) in first.iter().zip(outcomes) {
                results[i] = Some(Ok(outcome));
            }
        }
        Err(e) if first.len() == 1 => results[first[0]] = Some(Err(e)),
        Err(_) => {
            for &i in &first {
                results[i] = Some(record_one_in(tx, keyring, &items[i], &indexes[i]));
            }
        }
    }
    for &i in &again {
        results[i] = Some(record_one_in(tx, keyring, &items[i], &indexes[i]));
    }
    results.into_iter().map(|r| r.unwrap_or(Err(ServiceError::Unavailable))).collect()
}

fn record_one_in(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    item: &Item,
    index: &[u8],
) -> Result<SubmissionOutcome, ServiceError> {
    let mut outcomes = tx.savepoint(|tx| record_group(tx, keyring, &[(item, index)]))?;
    outcomes.pop().ok_or(ServiceError::Unavailable)
}

/// The subject a submission is for, as found (or not) before writing.
enum Known {
    Existing { id: String, key: DataKey, prior: Vec<ConsentState> },
    New,
}

/// Everything one submission writes, built without IO (apart from reading what it builds on).
struct Plan<'a> {
    item: &'a Item,
    subject_id: String,
    /// For a new subject: its blind index, wrapped key and encrypted address.
    new_subject: Option<(&'a [u8], Vec<u8>, Vec<u8>)>,
    submission_id: String,
    /// (row id, purposes, ciphertext) for each accepted value, in the order of `accepted.values`.
    values: Vec<(String, String, Vec<u8>)>,
    evidence: String,
    granted: Vec<&'a PublishedPurpose>,
    actions: Vec<ConsentAction>,
    /// The subject's state rows before this submission (none for a new subject).
    prior: Vec<ConsentState>,
}

/// Records submissions of distinct addresses with one statement per table (on PostgreSQL; see
/// [`crate::insert_rows`]). The same address is always the same subject, found through its
/// blind index.
fn record_group(
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
    // What returning people already hold: under double opt-in, purposes they have confirmed are
    // granted straight away; and the answer reports their whole state after this submission.
    let returning: Vec<String> = found.values().map(|s| s.id.clone()).collect();
    let mut prior: HashMap<String, Vec<ConsentState>> = HashMap::new();
    if !returning.is_empty() {
        for state in consent::for_subjects(tx.conn, &returning)? {
            prior.entry(state.subject_id.clone()).or_default().push(state);
        }
    }
    let plans = group
        .iter()
        .map(|&(item, index)| {
            let known = match found.get(index) {
                Some(s) => Known::Existing {
                    id: s.id.clone(),
                    key: keyring.unwrap_data_key(s.wrapped_key.as_deref().unwrap_or_default(), &s.id)?,
                    prior: prior.remove(&s.id).unwrap_or_default(),
                },
                None => Known::New,
            };
            plan(keyring, item, index, known)
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    write_plans(tx, keyring, &plans, now, now_utc)
}

fn plan<'a>(keyring: &Keyring, item: &'a Item, index: &'a [u8], known: Known) -> Result<Plan<'a>, ServiceError> {
    let input = &item.input;
    let (subject_id, key, new_subject, prior) = match known {
        Known::Existing { id, key, prior } => (id, key, None, prior),
        Known::New => {
            // The id the confirmation mail was composed for, when it was composed for a new subject.
            let id = match &item.prepared {
                Some(p) if p.for_new_subject => p.confirmation.subject_id.clone(),
                _ => crate::db::new_row_id(),
            };
            let (key, wrapped) = keyring.new_data_key(&id)?;
            let email = key.encrypt(input.accepted.email.as_str().as_bytes(), &value_context(&id, "email"))?;
            (id, key, Some((index, wrapped, email)), Vec::new())
        }
    };
    let values = input
        .accepted
        .values
        .iter()
        .map(|v| {
            let purposes = v.purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" ");
            let ciphertext = key.encrypt(v.value.as_bytes(), &value_context(&subject_id, v.key.as_str()))?;
            Ok((crate::db::new_row_id(), purposes, ciphertext))
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let evidence = seal_evidence(&key, &subject_id, &input.evidence)?;
    let granted: Vec<&PublishedPurpose> =
        input.accepted.granted.iter().filter_map(|p| item.catalog.purpose(p.as_str())).collect();
    // Double opt-in: purposes that reach the person (e-mail, SMS, push) wait for confirmation,
    // unless this person has already confirmed them.
    let double_opt_in = input.form.definition.double_opt_in;
    let actions = granted
        .iter()
        .map(|p| {
            let confirmed = prior.iter().any(|s| s.purpose_key == p.key.as_str() && s.status == "granted");
            if double_opt_in && p.channel != Channel::None && !confirmed {
                ConsentAction::Pending
            } else {
                ConsentAction::Granted
            }
        })
        .collect();
    Ok(Plan {
        item,
        subject_id,
        new_subject,
        submission_id: crate::db::new_row_id(),
        values,
        evidence,
        granted,
        actions,
        prior,
    })
}

/// Writes what the plans describe, table by table, and says what was recorded.
fn write_plans(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    plans: &[Plan<'_>],
    now: NaiveDateTime,
    now_utc: DateTime<Utc>,
) -> Result<Vec<SubmissionOutcome>, ServiceError> {
    let new_subjects: Vec<NewSubject<'_>> = plans
        .iter()
        .filter_map(|p| {
            p.new_subject.as_ref().map(|(index, wrapped, email)| NewSubject {
                id: &p.subject_id,
                email_index: index,
                wrapped_key: Some(wrapped),
                email_ciphertext: Some(email),
                locale: p.item.input.locale.as_str(),
                created_at: now,
            })
        })
        .collect();
    subjects::insert_many(tx.conn, &new_subjects)?;
    let submissions: Vec<NewSubmission<'_>> = plans
        .iter()
        .map(|p| NewSubmission {
            id: &p.submission_id,
            subject_id: &p.subject_id,
            form_version_id: &p.item.input.form.version_id,
            locale: p.item.input.locale.as_str(),
            created_at: now,
        })
        .collect();
    subjects::insert_submissions(tx.conn, &submissions)?;
    let values: Vec<NewFieldValue<'_>> = plans
        .iter()
        .flat_map(|p| {
            p.item.input.accepted.values.iter().zip(&p.values).map(|(v, (id, purposes, ciphertext))| NewFieldValue {
                id: id.clone(),
                submission_id: &p.submission_id,
                subject_id: &p.subject_id,
                field_key: v.key.as_str(),
                purposes: purposes.clone(),
                ciphertext: ciphertext.clone(),
                created_at: now,
            })
        })
        .collect();
    subjects::insert_values(tx.conn, &values)?;

    let events: Vec<NewEvent<'_>> = plans
        .iter()
        .flat_map(|p| {
            p.granted.iter().zip(&p.actions).map(|(purpose, action)| NewEvent {
                subject_id: &p.subject_id,
                purpose_key: purpose.key.as_str(),
                action: action.as_str(),
                policy_version_id: &purpose.policy.id,
                policy_text_hash: &purpose.policy.text_hash,
                method: p.item.input.method.as_str(),
                source: &p.submission_id,
                evidence: &p.evidence,
                occurred_at: now,
            })
        })
        .collect();
    let mut appended = ledger::append(tx.conn, tx.head, &events)?.into_iter();

    let mut outcomes = Vec::with_capacity(plans.len());
    let mut first_states = Vec::new();
    let mut confirmations: Vec<(std::borrow::Cow<'_, PreparedConfirmation>, bool)> = Vec::new();
    for p in plans {
        let input = &p.item.input;
        let mut recorded = Vec::with_capacity(p.granted.len());
        let mut states = Vec::with_capacity(p.granted.len());
        for (purpose, action) in p.granted.iter().zip(&p.actions) {
            let event = appended.next().ok_or(ServiceError::Unavailable)?;
            let pending = *action == ConsentAction::Pending;
            let state = ConsentState {
                subject_id: p.subject_id.clone(),
                purpose_key: purpose.key.to_string(),
                status: action.resulting_status().as_str().to_owned(),
                policy_version_id: purpose.policy.id.clone(),
                granted_at: (!pending).then_some(now),
                // A pending consent lapses unless confirmed in time.
                expires_at: Some(if pending {
                    now + CONFIRM_TTL
                } else {
                    purpose.retention.expires_at(now.and_utc()).naive_utc()
                }),
                updated_at: now,
                last_event_seq: event.seq,
                notice_anchor_at: (!pending && purpose.channel != Channel::None).then_some(now),
            };
            recorded.push(RecordedEvent {
                seq: event.seq,
                purpose: event.purpose_key,
                action: event.action,
                policy_version_id: event.policy_version_id,
                policy_text_hash: event.policy_text_hash,
                expires_at: state.expires_at.map(|t| t.and_utc()),
                hash: event.hash,
            });
            states.push(state);
        }
        if p.new_subject.is_some() {
            first_states.extend(states.iter().cloned());
        } else {
            for state in &states {
                consent::put(tx.conn, state)?;
            }
        }
        let mut after: Vec<ConsentState> =
            p.prior.iter().filter(|s| !states.iter().any(|n| n.purpose_key == s.purpose_key)).cloned().collect();
        after.append(&mut states);
        let pending: Vec<(String, String)> = p
            .granted
            .iter()
            .zip(&p.actions)
            .filter(|(_, a)| **a == ConsentAction::Pending)
            .map(|(purpose, _)| (purpose.key.to_string(), purpose.policy.title().get(input.locale).to_owned()))
            .collect();
        if !pending.is_empty() {
            let keys: Vec<String> = pending.iter().map(|(k, _)| k.clone()).collect();
            let confirmation = match &p.item.prepared {
                Some(prepared)
                    if prepared.confirmation.subject_id == p.subject_id && prepared.confirmation.purposes == keys =>
                {
                    std::borrow::Cow::Borrowed(&prepared.confirmation)
                }
                _ => std::borrow::Cow::Owned(prepare_confirmation(
                    keyring,
                    &input.mail,
                    &p.subject_id,
                    &input.accepted.email,
                    input.locale,
                    pending,
                    now,
                )?),
            };
            confirmations.push((confirmation, p.new_subject.is_some()));
        }
        outcomes.push(SubmissionOutcome {
            subject_id: p.subject_id.clone(),
            submission_id: p.submission_id.clone(),
            form: input.form.key.to_string(),
            form_version: input.form.version,
            events: recorded,
            pending: keys_of(&p.granted, &p.actions),
            recorded_at: now_utc,
            states: after,
        });
    }
    consent::insert_all(tx.conn, &first_states)?;
    let confirmations: Vec<(&PreparedConfirmation, bool)> = confirmations.iter().map(|(c, new)| (&**c, *new)).collect();
    queue_confirmations(tx, &confirmations, now)?;
    Ok(outcomes)
}

/// The purposes left waiting for confirmation.
fn keys_of(granted: &[&PublishedPurpose], actions: &[ConsentAction]) -> Vec<String> {
    granted.iter().zip(actions).filter(|(_, a)| **a == ConsentAction::Pending).map(|(p, _)| p.key.to_string()).collect()
}

/// Evidence (user agent, IP pseudonym, origin) is personal data: it is sealed under the subject's
/// key, so erasing the subject makes it unreadable while the ledger's hash chain still verifies.
pub fn seal_evidence(key: &DataKey, subject_id: &str, evidence: &Evidence) -> Result<String, ServiceError> {
    use base64::Engine as _;
    let json = serde_json::to_vec(evidence).unwrap_or_default();
    let sealed = key.encrypt(&json, &value_context(subject_id, "evidence"))?;
    Ok(format!("{SEALED_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(sealed)))
}

/// Reads sealed evidence back (while the subject's key exists); plain JSON is returned as is.
pub fn open_evidence(key: Option<&DataKey>, subject_id: &str, stored: &str) -> Option<Evidence> {
    use base64::Engine as _;
    match stored.strip_prefix(SEALED_PREFIX) {
        None => serde_json::from_str(stored).ok(),
        Some(b64) => {
            let sealed = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            let json = key?.decrypt(&sealed, &value_context(subject_id, "evidence")).ok()?;
            serde_json::from_slice(&json).ok()
        }
    }
}

const SEALED_PREFIX: &str = "sealed:";

/// The associated data binding a ciphertext to its subject and field.
pub fn value_context(subject_id: &str, field: &str) -> String {
    format!("{subject_id}/{field}")
}
