//! A person's rights over their data, from the preference center, e-mail links or the API:
//! see everything, rectify, withdraw or grant each purpose, export, and erase. Each change is
//! one transaction with its ledger events, its rights request and its audit entry.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

use super::ServiceError;
use super::submit::{open_evidence, seal_evidence, value_context};
use crate::crypto::{DataKey, Keyring};
use crate::db::catalog::{Catalog, policy_versions_by_id};
use crate::db::consent::{self, ConsentState};
use crate::db::ledger::{self, NewEvent};
use crate::db::rights::{self, AuditEntry, RightsRequest};
use crate::db::subjects::{self, Subject};
use crate::db::{CommitFailed, DbConnection, WriteTx, outbox, sessions};
use crate::domain::consent::erasable;
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::ledger::ledger_time;
use crate::domain::rights::RightKind;
use crate::domain::{
    ConsentAction, ConsentStatus, Email, Evidence, FieldType, FormDefinition, Locale, Method, PurposeKey,
};
use crate::mail::{self, MailContext, messages};

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("no such subject")]
    NotFound,
    #[error("the subject's data has been erased")]
    Erased,
    #[error("no such purpose")]
    UnknownPurpose,
    #[error("the purpose is not granted")]
    NotGranted,
    #[error("the purpose is already granted")]
    AlreadyGranted,
    #[error("the purpose is required: withdrawing it means erasure")]
    RequiredPurpose,
    #[error("no value is held for that field")]
    UnknownField,
    #[error("the new value is not valid")]
    Invalid(FieldError),
    #[error("another subject uses that address")]
    EmailInUse,
    #[error(transparent)]
    Link(#[from] super::links::LinkProblem),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for RightsError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}

impl From<CommitFailed> for RightsError {
    fn from(e: CommitFailed) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::crypto::CryptoError> for RightsError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        Self::Service(e.into())
    }
}

/// Who acts: recorded in the audit log.
#[derive(Debug, Clone)]
pub enum Actor {
    Subject(String),
    ApiKey(String),
    Job(&'static str),
    /// A site owner in the console (their id, never their address).
    Owner(String),
}

impl Actor {
    /// The audit log's `actor_kind` and `actor_id`.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::Subject(id) => ("subject", id),
            Self::ApiKey(id) => ("api_key", id),
            Self::Job(name) => ("job", name),
            Self::Owner(id) => ("owner", id),
        }
    }
}

/// Writes one audit-log row: `actor` did `action` (to `subject_id`'s data, if any). `detail`
/// must not hold personal data (name what was done: a form key, a purpose, a count).
pub fn audit_action(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    subject_id: Option<&str>,
    detail: &str,
) -> diesel::QueryResult<()> {
    let (actor_kind, actor_id) = actor.parts();
    rights::audit(
        conn,
        &[AuditEntry {
            id: crate::db::new_row_id(),
            actor_kind,
            actor_id,
            action,
            subject_id,
            detail,
            occurred_at: Utc::now().naive_utc(),
        }],
    )
}

/// A subject whose data still exists, with its key.
pub struct Live {
    pub subject: Subject,
    pub key: DataKey,
}

pub fn live_subject(conn: &mut DbConnection, keyring: &Keyring, id: &str) -> Result<Live, RightsError> {
    let subject = subjects::find(conn, id)?.ok_or(RightsError::NotFound)?;
    let wrapped = subject.wrapped_key.clone().ok_or(RightsError::Erased)?;
    let key = keyring.unwrap_data_key(&wrapped, &subject.id)?;
    Ok(Live { subject, key })
}

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
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub exported_at: DateTime<Utc>,
    pub values: Vec<HeldValue>,
    pub consents: Vec<HeldConsent>,
    pub history: Vec<HistoryEntry>,
    pub rights_requests: Vec<RightsRequest>,
}

/// Reads (and decrypts) everything held about a subject.
pub fn profile(
    conn: &mut DbConnection,
    keyring: &Keyring,
    catalog: &Catalog,
    id: &str,
) -> Result<Profile, RightsError> {
    let live = live_subject(conn, keyring, id)?;
    let email = decrypt_text(&live.key, live.subject.email_ciphertext.as_deref(), &value_context(id, "email"))?;
    let stored = subjects::values_of(conn, id)?;
    let version_ids: Vec<String> = stored.iter().map(|v| v.form_version_id.clone()).collect();
    let forms = subjects::form_definitions(conn, &version_ids)?;
    let mut values = Vec::with_capacity(stored.len());
    let mut order = Vec::with_capacity(stored.len());
    for v in &stored {
        let form = forms.iter().find(|f| f.0 == v.form_version_id);
        let definition = form.and_then(|f| serde_json::from_str::<FormDefinition>(&f.3).ok());
        let position = definition.as_ref().and_then(|d| d.fields.iter().position(|f| f.key.as_str() == v.field_key));
        order.push((v.created_at, v.submission_id.clone(), position.unwrap_or(usize::MAX)));
        values.push(HeldValue {
            id: v.id.clone(),
            field: v.field_key.clone(),
            label: definition.as_ref().and_then(|d| d.field(&v.field_key)).map(|f| f.label.clone()),
            value: decrypt_text(&live.key, Some(&v.ciphertext), &value_context(id, &v.field_key))?,
            form: form.map(|f| f.1.clone()).unwrap_or_default(),
            form_version: form.map(|f| f.2).unwrap_or_default(),
            submitted_at: v.created_at.and_utc(),
            purposes: v.purposes.split(' ').filter(|p| !p.is_empty()).map(str::to_owned).collect(),
        });
    }
    // Oldest submission first; within one, the order of the form's fields.
    let mut ordered: Vec<_> = order.into_iter().zip(values).collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let values: Vec<HeldValue> = ordered.into_iter().map(|(_, v)| v).collect();
    let states = consent::for_subject(conn, id)?;
    let versions =
        policy_versions_by_id(conn, &states.iter().map(|s| s.policy_version_id.clone()).collect::<Vec<_>>())?;
    let consents = states
        .iter()
        .filter_map(|s| {
            let v = versions.iter().find(|v| v.id == s.policy_version_id)?;
            Some(HeldConsent {
                purpose: s.purpose_key.clone(),
                status: ConsentStatus::parse(&s.status),
                required: catalog.purpose(&s.purpose_key).is_some_and(|p| p.required),
                since: s.updated_at.and_utc(),
                granted_at: s.granted_at.map(|t| t.and_utc()),
                expires_at: s.expires_at.map(|t| t.and_utc()),
                policy_version: v.version,
                title: v.title(),
                wording: v.text(),
                policy_text_hash: v.text_hash.clone(),
            })
        })
        .collect();
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
    Ok(Profile {
        subject_id: id.to_owned(),
        email,
        created_at: live.subject.created_at.and_utc(),
        exported_at: Utc::now(),
        values,
        consents,
        history,
        rights_requests: rights::requests_for(conn, id)?,
    })
}

fn decrypt_text(key: &DataKey, sealed: Option<&[u8]>, context: &str) -> Result<String, RightsError> {
    let sealed = sealed.ok_or(RightsError::Erased)?;
    let plain = key.decrypt(sealed, context)?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

/// Grant or withdraw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Grant,
    Withdraw,
}

/// What a change appended to the ledger.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeOutcome {
    pub purpose: String,
    pub action: String,
    pub seq: i64,
    pub hash: String,
    pub erased_fields: Vec<String>,
}

/// The context of one request that changes consent.
pub struct ChangeRequest<'a> {
    pub subject_id: &'a str,
    pub purpose: &'a str,
    pub change: Change,
    pub method: Method,
    pub actor: Actor,
    pub evidence: Evidence,
}

/// Withdraws or grants one purpose. Withdrawing erases, at once, every value no purpose still
/// held needs; withdrawing a required purpose is refused (that is erasure: [`erase`]).
pub fn change_consent(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    req: &ChangeRequest<'_>,
) -> Result<ChangeOutcome, RightsError> {
    let live = live_subject(tx.conn, keyring, req.subject_id)?;
    let purpose = catalog.purpose(req.purpose).ok_or(RightsError::UnknownPurpose)?;
    let now = ledger_time(Utc::now().naive_utc());
    let states = consent::for_subject(tx.conn, req.subject_id)?;
    let current = states.iter().find(|s| s.purpose_key == req.purpose);
    let status = current.map_or(ConsentStatus::Never, |s| ConsentStatus::parse(&s.status));
    let (action, version_id, text_hash, granted_at, expires_at) = match req.change {
        Change::Withdraw => {
            if purpose.required {
                return Err(RightsError::RequiredPurpose);
            }
            let Some(state) = current.filter(|_| matches!(status, ConsentStatus::Granted | ConsentStatus::Pending))
            else {
                return Err(RightsError::NotGranted);
            };
            let hash = policy_hash(tx.conn, catalog, &state.policy_version_id)?;
            (ConsentAction::Withdrawn, state.policy_version_id.clone(), hash, None, None)
        }
        Change::Grant => {
            if status == ConsentStatus::Granted {
                return Err(RightsError::AlreadyGranted);
            }
            let expires = purpose.retention.expires_at(now.and_utc()).naive_utc();
            (
                ConsentAction::Granted,
                purpose.policy.id.clone(),
                purpose.policy.text_hash.clone(),
                Some(now),
                Some(expires),
            )
        }
    };
    let evidence = seal_evidence(&live.key, req.subject_id, &req.evidence)?;
    let appended = ledger::append(
        tx.conn,
        tx.head,
        &[NewEvent {
            subject_id: req.subject_id,
            purpose_key: req.purpose,
            action: action.as_str(),
            policy_version_id: &version_id,
            policy_text_hash: &text_hash,
            method: req.method.as_str(),
            source: req.method.as_str(),
            evidence: &evidence,
            occurred_at: now,
        }],
    )?;
    let event = appended.into_iter().next().ok_or(diesel::result::Error::NotFound)?;
    consent::put(
        tx.conn,
        &ConsentState {
            subject_id: req.subject_id.to_owned(),
            purpose_key: req.purpose.to_owned(),
            status: action.resulting_status().as_str().to_owned(),
            policy_version_id: version_id,
            granted_at,
            expires_at,
            updated_at: now,
            last_event_seq: event.seq,
            notice_anchor_at: (req.change == Change::Grant && purpose.channel != crate::domain::Channel::None)
                .then_some(now),
        },
    )?;
    let erased_fields = erase_unneeded(tx.conn, req.subject_id)?;
    let kind = if req.change == Change::Withdraw { RightKind::Withdrawal } else { RightKind::Consent };
    record(tx, &req.actor, req.subject_id, kind, req.method, req.purpose, now)?;
    Ok(ChangeOutcome {
        purpose: req.purpose.to_owned(),
        action: event.action,
        seq: event.seq,
        hash: event.hash,
        erased_fields,
    })
}

/// Deletes every value of the subject that no granted or pending purpose still needs; returns
/// the field keys erased.
pub fn erase_unneeded(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<String>, RightsError> {
    let mut fields: Vec<String> =
        erase_unneeded_many(conn, &[subject_id.to_owned()])?.into_iter().map(|(_, f)| f).collect();
    fields.dedup();
    Ok(fields)
}

/// [`erase_unneeded`] for many subjects in a few statements; returns (subject, field) erased.
pub fn erase_unneeded_many(
    conn: &mut DbConnection,
    subject_ids: &[String],
) -> Result<Vec<(String, String)>, RightsError> {
    // Grouped by person once: a batch holds thousands of people.
    let mut held_by: HashMap<&str, Vec<PurposeKey>> = HashMap::new();
    let states = consent::for_subjects(conn, subject_ids)?;
    for s in &states {
        if matches!(ConsentStatus::parse(&s.status), ConsentStatus::Granted | ConsentStatus::Pending)
            && let Ok(key) = PurposeKey::parse(&s.purpose_key)
        {
            held_by.entry(s.subject_id.as_str()).or_default().push(key);
        }
    }
    let stored = subjects::value_purposes_of(conn, subject_ids)?;
    let mut stored_by: HashMap<&str, Vec<&(String, String, String, String)>> = HashMap::new();
    for v in &stored {
        stored_by.entry(v.1.as_str()).or_default().push(v);
    }
    let mut doomed: Vec<String> = Vec::new();
    let mut erased = Vec::new();
    for subject in subject_ids {
        let held = held_by.get(subject.as_str()).cloned().unwrap_or_default();
        let mine = stored_by.get(subject.as_str()).cloned().unwrap_or_default();
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
        subjects::delete_values(conn, &chunk.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    Ok(erased)
}

fn policy_hash(conn: &mut DbConnection, catalog: &Catalog, version_id: &str) -> Result<String, RightsError> {
    if let Some(p) = catalog.purposes.values().find(|p| p.policy.id == version_id) {
        return Ok(p.policy.text_hash.clone());
    }
    Ok(policy_versions_by_id(conn, &[version_id.to_owned()])?
        .into_iter()
        .next()
        .map(|v| v.text_hash)
        .unwrap_or_default())
}

/// Records a completed rights request and its audit entry.
fn record(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    subject_id: &str,
    kind: RightKind,
    method: Method,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), RightsError> {
    record_many(tx, actor, &[subject_id.to_owned()], kind, method, detail, now)
}

/// One completed rights request and audit entry per subject, in two statements.
fn record_many(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    subject_ids: &[String],
    kind: RightKind,
    method: Method,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), RightsError> {
    let requests: Vec<RightsRequest> = subject_ids
        .iter()
        .map(|subject_id| RightsRequest {
            id: crate::db::new_row_id(),
            subject_id: subject_id.clone(),
            kind: kind.as_str().to_owned(),
            channel: method.as_str().to_owned(),
            detail: detail.to_owned(),
            received_at: now,
            due_at: tx.rights_deadline.due(now.and_utc()).naive_utc(),
            completed_at: Some(now),
        })
        .collect();
    // Requests are what people (or a CRM on their behalf) ask for; the retention job's erasures
    // are the policy at work, answered by the audit log and the ledger, not the requests list.
    if !matches!(actor, Actor::Job(_)) {
        rights::insert_requests(tx.conn, &requests)?;
    }
    let (actor_kind, actor_id) = actor.parts();
    let entries: Vec<AuditEntry<'_>> = subject_ids
        .iter()
        .map(|subject_id| AuditEntry {
            id: crate::db::new_row_id(),
            actor_kind,
            actor_id,
            action: kind.as_str(),
            subject_id: Some(subject_id),
            detail,
            occurred_at: now,
        })
        .collect();
    rights::audit(tx.conn, &entries)?;
    Ok(())
}

/// Records that personal data was read or exported (access / portability).
pub fn record_access(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    subject_id: &str,
    kind: RightKind,
    method: Method,
) -> Result<(), RightsError> {
    let now = Utc::now().naive_utc();
    record(tx, actor, subject_id, kind, method, "", now)
}

/// Replaces the stored value(s) of one field, validated by the rules of the form it came from.
pub fn rectify(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    subject_id: &str,
    field: &str,
    new_value: &str,
    actor: &Actor,
    method: Method,
) -> Result<(), RightsError> {
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let stored: Vec<_> =
        subjects::values_of(tx.conn, subject_id)?.into_iter().filter(|v| v.field_key == field).collect();
    let latest = stored.last().ok_or(RightsError::UnknownField)?;
    let definition = subjects::form_definitions(tx.conn, std::slice::from_ref(&latest.form_version_id))?
        .into_iter()
        .next()
        .and_then(|f| serde_json::from_str::<FormDefinition>(&f.3).ok())
        .ok_or(RightsError::UnknownField)?;
    let field_def = definition.field(field).ok_or(RightsError::UnknownField)?;
    let value = field_def.check(new_value).map_err(RightsError::Invalid)?;
    if field_def.kind == FieldType::Email && field_def.required {
        let email = Email::parse(&value).map_err(|_| {
            RightsError::Invalid(FieldError {
                field: field.to_owned(),
                code: FieldErrorCode::InvalidEmail,
                max_length: None,
            })
        })?;
        let index = keyring.email_index(&email);
        if subjects::find_by_index(tx.conn, &index)?.is_some_and(|s| s.id != subject_id) {
            return Err(RightsError::EmailInUse);
        }
        let sealed = live.key.encrypt(email.as_str().as_bytes(), &value_context(subject_id, "email"))?;
        subjects::replace_identity(tx.conn, subject_id, &index, &sealed)?;
    }
    for v in &stored {
        let sealed = live.key.encrypt(value.as_bytes(), &value_context(subject_id, field))?;
        subjects::replace_value(tx.conn, &v.id, &sealed)?;
    }
    let now = Utc::now().naive_utc();
    record(tx, actor, subject_id, RightKind::Rectification, method, field, now)
}

/// Erases a subject: non-personal `erased` events for every purpose on record, then every
/// personal row goes and the data key is destroyed (crypto-shredding). When `notify` is given,
/// a confirmation goes to the address first (sealed under the outbox key, so it survives).
pub fn erase(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    subject_id: &str,
    actor: &Actor,
    method: Method,
    notify: Option<(&MailContext, Locale)>,
) -> Result<(), RightsError> {
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let email = decrypt_text(&live.key, live.subject.email_ciphertext.as_deref(), &value_context(subject_id, "email"))?;
    let now = ledger_time(Utc::now().naive_utc());
    erase_many(tx, &[subject_id.to_owned()], actor, method, now)?;
    if let Some((ctx, locale)) = notify {
        let composed = mail::compose(ctx, &email, &messages::erased(locale), None)
            .map_err(|e| ServiceError::Mail(e.to_string()))?;
        mail::enqueue(tx.conn, keyring, "erasure_confirmation", &format!("erasure:{subject_id}"), None, &composed)?;
    }
    Ok(())
}

/// Erases live subjects in a few statements per batch (the retention job's path; [`erase`] is
/// the same for one).
pub fn erase_many(
    tx: &mut WriteTx<'_>,
    subject_ids: &[String],
    actor: &Actor,
    method: Method,
    now: NaiveDateTime,
) -> Result<(), RightsError> {
    if subject_ids.is_empty() {
        return Ok(());
    }
    let states = consent::for_subjects(tx.conn, subject_ids)?;
    erase_many_with(tx, subject_ids, &states, actor, method, now)
}

/// The `purpose_key` of an `erased` event that concerns the person as a whole: written for
/// someone erased while none of their consents was in force (e.g. after they all expired).
pub const WHOLE_PERSON: &str = "*";

/// [`erase_many`] for a caller that already holds these people's consent states (as they are
/// now: a consent the caller has just ended must not say `granted`).
///
/// The ledger gets one `erased` event per consent still in force, which erasure ends, and one
/// for the person as a whole ([`WHOLE_PERSON`]) when none was: every erased person has at least
/// one, and a consent that already ended (withdrawn, expired) is not ended twice.
pub fn erase_many_with(
    tx: &mut WriteTx<'_>,
    subject_ids: &[String],
    states: &[ConsentState],
    actor: &Actor,
    method: Method,
    now: NaiveDateTime,
) -> Result<(), RightsError> {
    let in_force =
        |s: &&ConsentState| matches!(ConsentStatus::parse(&s.status), ConsentStatus::Granted | ConsentStatus::Pending);
    let ending: Vec<&ConsentState> = states.iter().filter(in_force).collect();
    let with_consent: HashSet<&str> = ending.iter().map(|s| s.subject_id.as_str()).collect();
    let event = |subject_id, purpose_key, policy_version_id| NewEvent {
        subject_id,
        purpose_key,
        action: ConsentAction::Erased.as_str(),
        policy_version_id,
        policy_text_hash: "",
        method: method.as_str(),
        source: "erasure",
        evidence: "{}",
        occurred_at: now,
    };
    let mut events: Vec<NewEvent<'_>> =
        ending.iter().map(|s| event(&s.subject_id, &s.purpose_key, &s.policy_version_id)).collect();
    events.extend(
        subject_ids.iter().filter(|id| !with_consent.contains(id.as_str())).map(|id| event(id, WHOLE_PERSON, "")),
    );
    ledger::append(tx.conn, tx.head, &events)?;
    consent::delete_for_many(tx.conn, subject_ids)?;
    sessions::forget_many(tx.conn, subject_ids)?;
    outbox::drop_unsent_for_many(tx.conn, subject_ids)?;
    subjects::shred_many(tx.conn, subject_ids, now)?;
    record_many(tx, actor, subject_ids, RightKind::Erasure, method, "", now)
}
