//! The rights desk: requests that need work (entered by staff from any channel, asked for at
//! `/me`, or sent by a ticketing system through the API), moved through their states under the
//! pure rules of `domain::rights`, each step audited, and the person told in their language
//! when more time is taken and when the request is answered.
//!
//! What staff then do for the person (export, rectify, withdraw, erase) goes through the same
//! services as the person's own actions, with [`By::for_request`] naming the request.

use chrono::{NaiveDateTime, Utc};

use super::ServiceError;
use super::audit::{Actor, audit_action};
use super::subject::{Live, SubjectError, live_subject};
use crate::crypto::{Bound, Keyring};
use crate::db::rights::{self, RightsRequest, Stepped};
use crate::db::{WriteTx, owners, subjects};
use crate::domain::rights::{Deadline, RequestChannel, RequestState, RightKind, Step, StepRefusal};
use crate::domain::{Email, Locale};
use crate::mail::{self, MailContext, messages};

pub use super::audit::By;
pub use view::{Cursor, RequestView};

pub mod remind;
pub mod view;

pub use remind::remind;

/// The longest note or reason kept (characters).
pub const MAX_TEXT: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("no such rights request")]
    NotFound,
    /// Neither the address nor the id names a person whose data Assent holds.
    #[error("no person with that address or id")]
    UnknownPerson,
    #[error("the person's data has been erased")]
    Erased,
    #[error("no such staff account")]
    UnknownAssignee,
    #[error("the text is longer than {MAX_TEXT} characters")]
    TooLong,
    #[error(transparent)]
    Step(#[from] StepRefusal),
    /// Someone else moved the request meanwhile: reload and look again.
    #[error("the request changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for DeskError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::db::CommitFailed> for DeskError {
    fn from(e: crate::db::CommitFailed) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::crypto::CryptoError> for DeskError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::mail::OutboxError> for DeskError {
    fn from(e: crate::mail::OutboxError) -> Self {
        Self::Service(e.into())
    }
}

impl From<SubjectError> for DeskError {
    fn from(e: SubjectError) -> Self {
        match e {
            SubjectError::NotFound => Self::UnknownPerson,
            SubjectError::Erased => Self::Erased,
            other => Self::Service(other.into()),
        }
    }
}

/// Who the request is about, as the requester named themselves.
#[derive(Debug, Clone)]
pub enum Requester {
    Email(String),
    Subject(String),
}

/// A request as it arrives at the desk.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub kind: RightKind,
    pub channel: RequestChannel,
    pub who: Requester,
    /// What the requester wrote or said (kept sealed under the person's key).
    pub note: String,
    pub regime: Deadline,
    pub assignee: Option<String>,
    /// The requester already showed who they are (a signed-in person at `/me`).
    pub verified: bool,
}

/// Records a request that needs work: received (or verified), due under its regime.
pub fn open(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    new: &NewRequest,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<RightsRequest, DeskError> {
    if new.note.chars().count() > MAX_TEXT {
        return Err(DeskError::TooLong);
    }
    let live = find_person(tx, keyring, &new.who)?;
    if let Some(assignee) = &new.assignee {
        known_assignee(tx, assignee)?;
    }
    let id = crate::db::new_row_id();
    let note = (!new.note.trim().is_empty()).then(|| seal(&live, &id, "note", new.note.trim())).transpose()?;
    let state = if new.verified { RequestState::Verified } else { RequestState::Received };
    let request = RightsRequest {
        id: id.clone(),
        subject_id: live.subject.id.clone(),
        kind: new.kind.as_str().to_owned(),
        channel: new.channel.as_str().to_owned(),
        detail: String::new(),
        received_at: now,
        due_at: new.regime.due(now.and_utc()).naive_utc(),
        completed_at: None,
        state: state.as_str().to_owned(),
        self_service: false,
        regime: new.regime.as_str().to_owned(),
        assignee: new.assignee.clone(),
        note,
        reason: None,
        updated_at: Some(now),
        reminded_at: None,
    };
    rights::insert_requests(tx.conn, std::slice::from_ref(&request))?;
    let detail = format!("{} via {} (request {id})", new.kind, new.channel);
    audit_action(tx.conn, actor, "rights_request.received", Some(&request.subject_id), &detail)?;
    Ok(request)
}

fn find_person(tx: &mut WriteTx<'_>, keyring: &Keyring, who: &Requester) -> Result<Live, DeskError> {
    let id = match who {
        Requester::Subject(id) => id.clone(),
        Requester::Email(raw) => {
            let email = Email::parse(raw).map_err(|_| DeskError::UnknownPerson)?;
            subjects::find_by_index(tx.conn, &keyring.email_index(&email))?.ok_or(DeskError::UnknownPerson)?.id
        }
    };
    Ok(live_subject(tx.conn, keyring, &id)?)
}

fn known_assignee(tx: &mut WriteTx<'_>, id: &str) -> Result<(), DeskError> {
    match owners::find(tx.conn, id)? {
        Some(owner) if owner.disabled_at.is_none() => Ok(()),
        _ => Err(DeskError::UnknownAssignee),
    }
}

fn seal(live: &Live, request: &str, part: &str, text: &str) -> Result<Vec<u8>, DeskError> {
    let bound = Bound::Request { subject: &live.subject.id, request, part };
    Ok(live.key.seal(text.as_bytes(), bound)?)
}

/// A request's texts, opened (empty once the person is erased: their key is gone).
#[derive(Debug, Clone, Default)]
pub struct Texts {
    pub note: String,
    pub reason: String,
}

pub fn texts(conn: &mut crate::db::DbConnection, keyring: &Keyring, request: &RightsRequest) -> Texts {
    let Ok(live) = live_subject(conn, keyring, &request.subject_id) else {
        return Texts::default();
    };
    let open = |sealed: &Option<Vec<u8>>, part: &str| {
        let bound = Bound::Request { subject: &request.subject_id, request: &request.id, part };
        sealed.as_deref().and_then(|s| live.key.open_text(s, bound).ok()).unwrap_or_default()
    };
    Texts { note: open(&request.note, "note"), reason: open(&request.reason, "reason") }
}

/// A step staff (or a ticketing system) take.
pub struct StepTaken<'a> {
    pub id: &'a str,
    pub step: Step,
    /// Required to extend or refuse: the person is told it.
    pub reason: &'a str,
    pub actor: &'a Actor,
}

/// Moves a request on. Extending sets the regime's extended deadline; completing or refusing
/// answers it. The person is written to (in their language, naming the business) on an
/// extension and on the answer.
pub fn step(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    mail_ctx: &MailContext,
    taken: &StepTaken<'_>,
    now: NaiveDateTime,
) -> Result<RightsRequest, DeskError> {
    let request = rights::request(tx.conn, taken.id)?.filter(|r| !r.self_service).ok_or(DeskError::NotFound)?;
    let from = RequestState::parse(&request.state).ok_or(DeskError::NotFound)?;
    let to = from.after(taken.step)?;
    let reason = taken.reason.trim();
    if taken.step.needs_reason() && reason.is_empty() {
        return Err(StepRefusal::ReasonRequired.into());
    }
    if reason.chars().count() > MAX_TEXT {
        return Err(DeskError::TooLong);
    }
    let regime = Deadline::parse(&request.regime).unwrap_or_default();
    let due_at = match taken.step {
        Step::Extend => regime.extended(request.received_at.and_utc()).ok_or(StepRefusal::NoExtension)?.naive_utc(),
        _ => request.due_at,
    };
    // An erased person is told nothing (their address is gone); any other failure is one.
    let live = match live_subject(tx.conn, keyring, &request.subject_id) {
        Ok(live) => Some(live),
        Err(SubjectError::Erased | SubjectError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let sealed = match (&live, reason.is_empty()) {
        (Some(live), false) => Some(seal(live, &request.id, "reason", reason)?),
        _ => None,
    };
    let completed_at = (!to.is_open()).then_some(now);
    let stepped =
        Stepped { from: from.as_str(), to: to.as_str(), due_at, completed_at, reason: sealed.as_deref(), at: now };
    if !rights::step(tx.conn, &request.id, &stepped)? {
        return Err(DeskError::Conflict);
    }
    let detail = format!("{} {} (request {})", request.kind, taken.step, request.id);
    let action = format!("rights_request.{}", taken.step);
    audit_action(tx.conn, taken.actor, &action, Some(&request.subject_id), &detail)?;
    let request = rights::request(tx.conn, &request.id)?.ok_or(DeskError::NotFound)?;
    if let (true, Some(live)) = (taken.step.tells_the_person(), live) {
        let to = live.email()?;
        let locale = Locale::from_tag(&live.subject.locale).unwrap_or_default();
        let letter = letter(tx.conn, mail_ctx, &request, taken.step, reason, locale)?;
        let composed = mail::compose(mail_ctx, &to, &letter, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
        let dedupe = format!("rights:{}:{}", request.id, taken.step);
        mail::enqueue(tx.conn, keyring, "rights_letter", &dedupe, Some(&request.subject_id), &composed)?;
    }
    Ok(request)
}

/// The letter for a request's outcome (`Extend`, `Complete` or `Refuse`) in `locale`: the
/// mail's words, also printed for post.
pub fn letter(
    conn: &mut crate::db::DbConnection,
    mail_ctx: &MailContext,
    request: &RightsRequest,
    outcome: Step,
    reason: &str,
    locale: Locale,
) -> Result<mail::MailContent, DeskError> {
    let controller = crate::db::catalog::controller(conn)?;
    let kind = RightKind::parse(&request.kind).unwrap_or(RightKind::Access);
    let facts = messages::RightsLetter {
        controller: controller.as_ref().map(|c| c.name.as_str()).unwrap_or_default(),
        contact: controller.as_ref().map(|c| if c.email.is_empty() { c.contact.as_str() } else { c.email.as_str() }),
        kind,
        outcome,
        received: request.received_at.date(),
        due: request.due_at.date(),
        reason,
        preference_center: &format!("{}/me?lang={}", mail_ctx.base_url, locale.as_str()),
    };
    Ok(messages::rights_letter(locale, &facts))
}

/// Hands a request to a staff account (or to no one); the new assignee is reminded afresh.
pub fn assign(
    tx: &mut WriteTx<'_>,
    id: &str,
    assignee: Option<&str>,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(), DeskError> {
    let request = rights::request(tx.conn, id)?.filter(|r| !r.self_service).ok_or(DeskError::NotFound)?;
    if let Some(assignee) = assignee {
        known_assignee(tx, assignee)?;
    }
    rights::assign(tx.conn, id, assignee, now)?;
    let detail = format!("{} (request {id})", assignee.unwrap_or("nobody"));
    audit_action(tx.conn, actor, "rights_request.assigned", Some(&request.subject_id), &detail)?;
    Ok(())
}

/// Open requests overdue and due within [`crate::domain::rights::DUE_SOON_DAYS`] (not yet
/// overdue), for the dashboard.
pub fn deadline_counts(conn: &mut crate::db::DbConnection, now: NaiveDateTime) -> Result<(i64, i64), ServiceError> {
    let soon = now + chrono::Duration::days(crate::domain::rights::DUE_SOON_DAYS as i64);
    let overdue = rights::open_due_before(conn, now)?;
    let before_soon = rights::open_due_before(conn, soon)?;
    Ok((overdue, before_soon - overdue))
}

/// The current time as the desk records it.
pub fn now() -> NaiveDateTime {
    crate::domain::ledger::ledger_time(Utc::now().naive_utc())
}
