//! A person's rights over their data, from the preference center, e-mail links or the API:
//! see everything, rectify, withdraw or grant each purpose, export, and erase. Each change is
//! one transaction with its ledger events (through the consent door), its rights request and its
//! audit entry.

use chrono::Utc;
use serde::Serialize;

use super::ServiceError;
use super::audit::{self, Done};
use super::consent::{Change as DoorChange, Door, Refused, States};
use super::erasure;
use super::holds::Held;
use super::subject::{Live, SubjectError};
use super::tokens::LinkProblem;
use crate::crypto::{Bound, Keyring, seal_evidence};
use crate::db::catalog::Catalog;
use crate::db::subjects;
use crate::db::{CommitFailed, DbConnection, WriteTx};
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::ledger::ledger_time;
use crate::domain::lifecycle::{Refusal, Transition};
use crate::domain::rights::RightKind;
use crate::domain::{Email, Evidence, FieldType, FormDefinition, Locale, Method, SubjectId};
use crate::mail::{self, MailContext, messages};

pub use super::audit::{Actor, By, audit_action};
pub use super::erasure::By as ErasedBy;
pub use super::profile::{HeldConsent, HeldValue, HistoryEntry, Profile};
pub use super::subject::live_subject;

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
    #[error("another subject has that external id")]
    ExternalIdTaken,
    #[error(transparent)]
    Link(#[from] LinkProblem),
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

impl From<crate::mail::OutboxError> for RightsError {
    fn from(e: crate::mail::OutboxError) -> Self {
        Self::Service(e.into())
    }
}

impl From<SubjectError> for RightsError {
    fn from(e: SubjectError) -> Self {
        match e {
            SubjectError::NotFound => Self::NotFound,
            SubjectError::Erased => Self::Erased,
            other => Self::Service(other.into()),
        }
    }
}

impl From<Refused> for RightsError {
    fn from(e: Refused) -> Self {
        match e {
            Refused::UnknownPurpose => Self::UnknownPurpose,
            Refused::Lifecycle(Refusal::AlreadyGranted) => Self::AlreadyGranted,
            Refused::Lifecycle(Refusal::RequiredPurpose) => Self::RequiredPurpose,
            Refused::Lifecycle(_) => Self::NotGranted,
        }
    }
}

/// Reads (and decrypts) everything held about a subject: the documented export shape.
pub fn profile(
    conn: &mut DbConnection,
    keyring: &Keyring,
    catalog: &Catalog,
    id: &str,
) -> Result<Profile, RightsError> {
    Ok(super::profile::read(conn, keyring, catalog, id)?)
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
    /// The person was left with no consent in force and was erased whole.
    pub subject_erased: bool,
}

/// The context of one request that changes consent.
pub struct ChangeRequest<'a> {
    pub subject_id: &'a SubjectId,
    pub purpose: &'a str,
    pub change: Change,
    pub method: Method,
    pub actor: Actor,
    pub evidence: Evidence,
    /// The rights-desk request staff act on (its id goes into the evidence and the audit log).
    pub on_request: Option<&'a str>,
}

/// Withdraws or grants one purpose, through the consent door. Withdrawing erases, at once, every
/// value no purpose still held needs, and the person whole if nothing is left in force;
/// withdrawing a required purpose is refused (that is erasure: [`erase`]).
pub fn change_consent(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    req: &ChangeRequest<'_>,
) -> Result<ChangeOutcome, RightsError> {
    let live = live_subject(tx.conn, keyring, req.subject_id)?;
    let door = Door::new(catalog);
    let now = ledger_time(Utc::now().naive_utc());
    let mut evidence = req.evidence.clone();
    evidence.rights_request = req.on_request.map(str::to_owned);
    let evidence = seal_evidence(&live.key, req.subject_id, &evidence)?;
    let subject_ids = [req.subject_id.clone()];
    let mut states = States::load(tx.conn, &subject_ids)?;
    let transition = if req.change == Change::Grant { Transition::Grant } else { Transition::Withdraw };
    let change = DoorChange {
        subject_id: req.subject_id,
        purpose_key: req.purpose,
        transition,
        method: req.method,
        source: req.method.as_str(),
        evidence: &evidence,
        shown_in: crate::domain::Locale::from_tag(&req.evidence.locale),
        occurred_at: None,
        wording: None,
    };
    let applied = door.apply(tx, &mut states, &[change], now)?.pop().ok_or(ServiceError::Unavailable)??;
    let kind = if req.change == Change::Withdraw { RightKind::Withdrawal } else { RightKind::Consent };
    let by = By { actor: &req.actor, method: req.method, request: req.on_request };
    let done = Done { by, kind, detail: req.purpose, at: now };
    audit::record(tx, &subject_ids, &done)?;
    let settled = erasure::settle(tx, &door, &mut states, &subject_ids, by, now)?;
    let mut erased_fields: Vec<String> = settled.values.into_iter().map(|(_, f)| f).collect();
    erased_fields.dedup();
    Ok(ChangeOutcome {
        purpose: req.purpose.to_owned(),
        action: applied.event.action,
        seq: applied.event.seq,
        hash: applied.event.hash,
        erased_fields,
        subject_erased: !settled.subjects.is_empty(),
    })
}

/// Records that personal data was read or exported (access / portability).
pub fn record_access(
    tx: &mut WriteTx<'_>,
    subject_id: &SubjectId,
    kind: RightKind,
    by: By<'_>,
) -> Result<(), RightsError> {
    let done = Done { by, kind, detail: "", at: Utc::now().naive_utc() };
    Ok(audit::record(tx, std::slice::from_ref(subject_id), &done)?)
}

/// Erases a subject: non-personal `erased` events for every purpose in force, then every
/// personal row goes and the data key is destroyed (crypto-shredding). When `notify` is given,
/// a confirmation goes to the address first (sealed under the outbox key, so it survives).
/// Returns what another law obliges the business to keep (held, restricted).
pub fn erase(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    subject_id: &SubjectId,
    by: By<'_>,
    notify: Option<(&MailContext, Locale)>,
) -> Result<Vec<Held>, RightsError> {
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let email = live.email()?;
    let now = ledger_time(Utc::now().naive_utc());
    let subject_ids = [subject_id.clone()];
    let mut states = States::load(tx.conn, &subject_ids)?;
    erasure::erase_people(tx, &Door::new(catalog), &mut states, &subject_ids, by, now)?;
    let kept = super::holds::held_about(tx.conn, subject_id.as_str())?;
    if let Some((ctx, locale)) = notify {
        let message = messages::erased(locale, &super::holds::lines(catalog, &kept, locale));
        let composed = mail::compose(ctx, &email, &message, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
        mail::enqueue(tx.conn, keyring, "erasure_confirmation", &format!("erasure:{subject_id}"), None, &composed)?;
    }
    Ok(kept)
}

/// Replaces the stored value(s) of one field, validated by the rules of the form it came from.
/// Each replaced value gets a new row id (its ciphertext is bound to it), so the value it
/// replaced cannot be swapped back in unnoticed.
pub fn rectify(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    subject_id: &SubjectId,
    field: &str,
    new_value: &str,
    by: By<'_>,
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
        replace_address(tx.conn, keyring, &live, field, &value)?;
    }
    for v in &stored {
        let id = crate::db::new_row_id();
        let sealed = live.key.seal(value.as_bytes(), Bound::Value { subject: subject_id, value_id: &id, field })?;
        subjects::replace_value(tx.conn, &v.id, &id, &sealed)?;
    }
    let done = Done { by, kind: RightKind::Rectification, detail: field, at: Utc::now().naive_utc() };
    Ok(audit::record(tx, std::slice::from_ref(subject_id), &done)?)
}

/// A new address for the person: their blind index and sealed address change together.
fn replace_address(
    conn: &mut DbConnection,
    keyring: &Keyring,
    live: &Live,
    field: &str,
    value: &str,
) -> Result<(), RightsError> {
    let email = Email::parse(value).map_err(|_| {
        RightsError::Invalid(FieldError {
            field: field.to_owned(),
            code: FieldErrorCode::InvalidEmail,
            max_length: None,
        })
    })?;
    let index = keyring.email_index(&email);
    let subject_id = live.subject.id.as_str();
    if subjects::find_by_index(conn, &index)?.is_some_and(|s| s.id != subject_id) {
        return Err(RightsError::EmailInUse);
    }
    let sealed = live.key.seal(email.as_str().as_bytes(), Bound::Email { subject: subject_id, index: &index })?;
    subjects::replace_identity(conn, subject_id, &index, &sealed)?;
    Ok(())
}
