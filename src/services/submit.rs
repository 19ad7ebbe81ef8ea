//! Recording a form submission: the subject, the submission, its encrypted values, the consent
//! events and the state rows commit together or not at all.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use std::sync::Arc;

use super::ServiceError;
use super::links::{CONFIRM_TTL, PreparedConfirmation, prepare_confirmation, queue_confirmation};
use crate::crypto::{DataKey, Keyring};
use crate::db::catalog::{Catalog, PublishedForm};
use crate::db::consent::{self, ConsentState};
use crate::db::ledger::{self, NewEvent};
use crate::db::subjects::{self, NewFieldValue, NewSubject, NewSubmission};
use crate::db::{CommitFailed, Db, WriteTx};
use crate::domain::ledger::ledger_time;
use crate::domain::{AcceptedSubmission, Channel, ConsentAction, Email, Evidence, Locale, Method};
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

/// Queues the submission on the writer and waits until it is durable.
///
/// Work that needs no lock (composing, signing and sealing a double opt-in mail) is done first,
/// on the blocking pool, so that the single writer only writes rows.
pub async fn record(
    db: &Db,
    keyring: Arc<Keyring>,
    catalog: Arc<Catalog>,
    input: SubmissionInput,
) -> Result<SubmissionOutcome, ServiceError> {
    let prepared = prepare(db, &keyring, &catalog, &input).await?;
    let outcome = db.writer.write(move |tx| record_in(tx, &keyring, &catalog, &input, prepared.as_ref())).await?;
    crate::metrics::submission_recorded();
    Ok(outcome)
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
    db: &Db,
    keyring: &Arc<Keyring>,
    catalog: &Catalog,
    input: &SubmissionInput,
) -> Result<Option<PreparedConfirmation>, ServiceError> {
    let candidates = confirmation_candidates(catalog, input);
    if candidates.is_empty() {
        return Ok(None);
    }
    let (pool, keyring, ctx) = (db.pool.clone(), keyring.clone(), input.mail.clone());
    let (email, locale) = (input.accepted.email.clone(), input.locale);
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|_| CommitFailed)?;
        let existing =
            subjects::find_by_index(&mut conn, &keyring.email_index(&email))?.filter(|s| s.wrapped_key.is_some());
        let subject_id = existing.map_or_else(crate::db::new_row_id, |s| s.id);
        let now = Utc::now().naive_utc();
        prepare_confirmation(&keyring, &ctx, &subject_id, &email, locale, candidates, now).map(Some)
    })
    .await
    .map_err(|_| CommitFailed)?
}

fn record_in(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    input: &SubmissionInput,
    prepared: Option<&PreparedConfirmation>,
) -> Result<SubmissionOutcome, ServiceError> {
    let now_utc = Utc::now();
    let now = ledger_time(now_utc.naive_utc());
    let new_id = prepared.map(|p| p.subject_id.as_str());
    let (subject_id, key, is_new) =
        find_or_create_subject(tx, keyring, &input.accepted.email, input.locale, now, new_id)?;
    let submission_id = crate::db::new_row_id();
    subjects::insert_submission(
        tx.conn,
        &NewSubmission {
            id: &submission_id,
            subject_id: &subject_id,
            form_version_id: &input.form.version_id,
            locale: input.locale.as_str(),
            created_at: now,
        },
    )?;
    let values = input
        .accepted
        .values
        .iter()
        .map(|v| {
            Ok(NewFieldValue {
                id: crate::db::new_row_id(),
                submission_id: &submission_id,
                subject_id: &subject_id,
                field_key: v.key.as_str(),
                purposes: v.purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" "),
                ciphertext: key.encrypt(v.value.as_bytes(), &value_context(&subject_id, v.key.as_str()))?,
                created_at: now,
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    subjects::insert_values(tx.conn, &values)?;

    let evidence = seal_evidence(&key, &subject_id, &input.evidence)?;
    let granted: Vec<_> = input.accepted.granted.iter().filter_map(|p| catalog.purpose(p.as_str())).collect();
    // Double opt-in: purposes that reach the person (e-mail, SMS, push) wait for confirmation,
    // unless this person has already confirmed them.
    let prior = if input.form.definition.double_opt_in && !is_new {
        consent::for_subject(tx.conn, &subject_id)?
    } else {
        Vec::new()
    };
    let actions: Vec<ConsentAction> = granted
        .iter()
        .map(|p| {
            let confirmed = prior.iter().any(|s| s.purpose_key == p.key.as_str() && s.status == "granted");
            if input.form.definition.double_opt_in && p.channel != Channel::None && !confirmed {
                ConsentAction::Pending
            } else {
                ConsentAction::Granted
            }
        })
        .collect();
    let new_events: Vec<NewEvent<'_>> = granted
        .iter()
        .zip(&actions)
        .map(|(p, action)| NewEvent {
            subject_id: &subject_id,
            purpose_key: p.key.as_str(),
            action: action.as_str(),
            policy_version_id: &p.policy.id,
            policy_text_hash: &p.policy.text_hash,
            method: input.method.as_str(),
            source: &submission_id,
            evidence: &evidence,
            occurred_at: now,
        })
        .collect();
    let appended = ledger::append(tx.conn, tx.head, &new_events)?;
    let states: Vec<ConsentState> = granted
        .iter()
        .zip(&appended)
        .zip(&actions)
        .map(|((purpose, event), action)| {
            let pending = *action == ConsentAction::Pending;
            ConsentState {
                subject_id: subject_id.clone(),
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
            }
        })
        .collect();
    if is_new {
        consent::insert_all(tx.conn, &states)?;
    } else {
        for state in &states {
            consent::put(tx.conn, state)?;
        }
    }
    let pending: Vec<(String, String)> = granted
        .iter()
        .zip(&actions)
        .filter(|(_, a)| **a == ConsentAction::Pending)
        .map(|(p, _)| (p.key.to_string(), p.policy.title().get(input.locale).to_owned()))
        .collect();
    if !pending.is_empty() {
        let keys: Vec<String> = pending.iter().map(|(k, _)| k.clone()).collect();
        match prepared {
            Some(p) if p.subject_id == subject_id && p.purposes == keys => queue_confirmation(tx, p, now)?,
            _ => {
                let ctx = &input.mail;
                let p = prepare_confirmation(
                    keyring,
                    ctx,
                    &subject_id,
                    &input.accepted.email,
                    input.locale,
                    pending.clone(),
                    now,
                )?;
                queue_confirmation(tx, &p, now)?;
            }
        }
    }
    Ok(SubmissionOutcome {
        subject_id,
        submission_id,
        form: input.form.key.to_string(),
        form_version: input.form.version,
        events: appended
            .into_iter()
            .zip(&states)
            .map(|(e, state)| RecordedEvent {
                seq: e.seq,
                purpose: e.purpose_key,
                action: e.action,
                policy_version_id: e.policy_version_id,
                policy_text_hash: e.policy_text_hash,
                expires_at: state.expires_at.map(|t| t.and_utc()),
                hash: e.hash,
            })
            .collect(),
        pending: pending.into_iter().map(|(k, _)| k).collect(),
        recorded_at: now_utc,
    })
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

/// The same address is always the same subject (found through its blind index). The flag says
/// whether the subject is new.
fn find_or_create_subject(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    email: &Email,
    locale: Locale,
    now: NaiveDateTime,
    new_id: Option<&str>,
) -> Result<(String, DataKey, bool), ServiceError> {
    let index = keyring.email_index(email);
    if let Some(subject) = subjects::find_by_index(tx.conn, &index)?
        && let Some(wrapped) = &subject.wrapped_key
    {
        let key = keyring.unwrap_data_key(wrapped, &subject.id)?;
        return Ok((subject.id, key, false));
    }
    let id = new_id.map_or_else(crate::db::new_row_id, str::to_owned);
    let (key, wrapped) = keyring.new_data_key(&id)?;
    let email_ciphertext = key.encrypt(email.as_str().as_bytes(), &value_context(&id, "email"))?;
    subjects::insert(
        tx.conn,
        &NewSubject {
            id: &id,
            email_index: &index,
            wrapped_key: Some(&wrapped),
            email_ciphertext: Some(&email_ciphertext),
            locale: locale.as_str(),
            created_at: now,
        },
    )?;
    Ok((id, key, true))
}
