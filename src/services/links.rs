//! E-mailed links: the magic sign-in link and its session, double opt-in confirmation, and
//! one-click unsubscribe.

use chrono::{Duration, NaiveDateTime, Utc};

use super::ServiceError;
use super::rights::{Actor, Change, ChangeRequest, RightsError, change_consent, live_subject, record_access};
use super::submit::seal_evidence;
use crate::crypto::{Keyring, LinkClaims, LinkError, LinkKind, random_bytes, sha256_hex};
use crate::db::catalog::Catalog;
use crate::db::consent::{self, ConsentState};
use crate::db::ledger::{self, NewEvent};
use crate::db::sessions::{self, NewLinkToken, Session};
use crate::db::{DbConnection, WriteTx, subjects};
use crate::domain::ledger::ledger_time;
use crate::domain::rights::RightKind;
use crate::domain::{ConsentAction, ConsentStatus, Email, Evidence, Locale, Method};
use crate::mail::{self, MailContext, messages};

pub const SIGN_IN_TTL: Duration = Duration::minutes(15);
pub const CONFIRM_TTL: Duration = Duration::days(7);
pub const SESSION_IDLE: Duration = Duration::minutes(30);
/// One-click unsubscribe links keep working for as long as a mail may sit in an inbox.
pub const UNSUBSCRIBE_TTL: Duration = Duration::days(3 * 365);

/// Why a link did not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    #[error("the link is not valid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
    #[error("the link was already used")]
    Used,
}

impl From<LinkError> for LinkProblem {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Expired => Self::Expired,
            LinkError::Invalid => Self::Invalid,
        }
    }
}

/// A single-use token row plus its signed form.
pub fn issue_link(
    conn: &mut DbConnection,
    keyring: &Keyring,
    subject_id: &str,
    kind: LinkKind,
    ttl: Duration,
    purposes: Vec<String>,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    let id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + ttl;
    sessions::insert_token(
        conn,
        &NewLinkToken { id: &id, subject_id, kind: kind.as_str(), expires_at, created_at: now },
    )?;
    Ok(keyring.links().sign(&LinkClaims {
        sub: subject_id.to_owned(),
        jti: id,
        kind,
        purposes,
        exp: expires_at.and_utc().timestamp(),
    })?)
}

/// Checks a single-use token and uses it up.
fn redeem(
    conn: &mut DbConnection,
    keyring: &Keyring,
    token: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> Result<LinkClaims, RightsError> {
    let claims = keyring.links().verify(token, kind).map_err(|e| RightsError::Link(e.into()))?;
    let row = sessions::find_token(conn, &claims.jti)?.ok_or(RightsError::Link(LinkProblem::Invalid))?;
    if row.subject_id != claims.sub || row.kind != kind.as_str() {
        return Err(RightsError::Link(LinkProblem::Invalid));
    }
    if row.used_at.is_some() {
        return Err(RightsError::Link(LinkProblem::Used));
    }
    if row.expires_at <= now {
        return Err(RightsError::Link(LinkProblem::Expired));
    }
    if !sessions::use_token(conn, &claims.jti, now)? {
        return Err(RightsError::Link(LinkProblem::Used));
    }
    Ok(claims)
}

/// Mails a sign-in link if Assent holds data for this address; otherwise does nothing. The
/// caller answers the same either way.
pub fn request_sign_in(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    ctx: &MailContext,
    email: &Email,
    locale: Locale,
) -> Result<(), ServiceError> {
    let Some(subject) =
        subjects::find_by_index(tx.conn, &keyring.email_index(email))?.filter(|s| s.erased_at.is_none())
    else {
        return Ok(());
    };
    let now = Utc::now().naive_utc();
    let token = issue_link(tx.conn, keyring, &subject.id, LinkKind::SignIn, SIGN_IN_TTL, vec![], now)?;
    let link = format!("{}/me/login?token={token}&lang={}", ctx.base_url, locale.as_str());
    let composed = mail::compose(ctx, email.as_str(), &messages::sign_in(locale, &link), None)
        .map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(
        tx.conn,
        keyring,
        "sign_in",
        &format!("sign_in:{}", uuid::Uuid::new_v4()),
        Some(&subject.id),
        &composed,
    )?;
    Ok(())
}

/// A session just opened; `cookie` goes to the browser, only its hash is stored.
pub struct OpenedSession {
    pub cookie: String,
    pub subject_id: String,
}

pub fn sign_in(tx: &mut WriteTx<'_>, keyring: &Keyring, token: &str) -> Result<OpenedSession, RightsError> {
    let now = Utc::now().naive_utc();
    let claims = redeem(tx.conn, keyring, token, LinkKind::SignIn, now)?;
    live_subject(tx.conn, keyring, &claims.sub)?;
    // Signing in to see one's data is an exercise of the right of access.
    let actor = Actor::Subject(claims.sub.clone());
    record_access(tx, &actor, &claims.sub, RightKind::Access, Method::PreferenceCenter)?;
    let cookie = base64url(&random_bytes::<32>());
    sessions::insert_session(
        tx.conn,
        &Session {
            id_hash: sha256_hex(cookie.as_bytes()),
            subject_id: claims.sub.clone(),
            csrf_token: base64url(&random_bytes::<24>()),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
        },
    )?;
    Ok(OpenedSession { cookie, subject_id: claims.sub })
}

/// The live session behind a cookie: not ended, and used within the last 30 minutes.
pub fn current_session(
    conn: &mut DbConnection,
    cookie: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<Session>> {
    if cookie.len() > 100 {
        return Ok(None);
    }
    Ok(sessions::find_session(conn, &sha256_hex(cookie.as_bytes()))?
        .filter(|s| s.ended_at.is_none() && now - s.last_seen_at < SESSION_IDLE))
}

/// A double opt-in mail ready to queue: composed, signed and sealed outside the write
/// transaction (see `submit::Recorder`), so the single writer only inserts two rows.
#[derive(Clone)]
pub struct PreparedConfirmation {
    pub subject_id: String,
    pub purposes: Vec<String>,
    token_id: String,
    expires_at: NaiveDateTime,
    mail: mail::SealedMail,
}

/// Signs the link, composes and seals the mail. No IO.
pub fn prepare_confirmation(
    keyring: &Keyring,
    ctx: &MailContext,
    subject_id: &str,
    email: &Email,
    locale: Locale,
    purposes: Vec<(String, String)>,
    now: NaiveDateTime,
) -> Result<PreparedConfirmation, ServiceError> {
    let keys: Vec<String> = purposes.iter().map(|(k, _)| k.clone()).collect();
    let titles: Vec<String> = purposes.into_iter().map(|(_, t)| t).collect();
    let token_id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + CONFIRM_TTL;
    let token = keyring.links().sign(&LinkClaims {
        sub: subject_id.to_owned(),
        jti: token_id.clone(),
        kind: LinkKind::ConfirmConsent,
        purposes: keys.clone(),
        exp: expires_at.and_utc().timestamp(),
    })?;
    let link = format!("{}/confirm?token={token}&lang={}", ctx.base_url, locale.as_str());
    let unsubscribe = unsubscribe_url(keyring, ctx, subject_id, keys.clone(), locale)?;
    let content = messages::confirm_consent(locale, &titles, &link, &unsubscribe);
    let composed = mail::compose(ctx, email.as_str(), &content, Some(&unsubscribe))
        .map_err(|e| ServiceError::Mail(e.to_string()))?;
    Ok(PreparedConfirmation {
        subject_id: subject_id.to_owned(),
        purposes: keys,
        token_id,
        expires_at,
        mail: mail::seal(keyring, &composed)?,
    })
}

/// Queues prepared confirmations: at most one per person per hour, however often the form is
/// sent meanwhile. `known_new` says, for each, whether its subject was created in this
/// transaction (so no mail of theirs can be queued yet and the check is skipped).
pub fn queue_confirmations(
    tx: &mut WriteTx<'_>,
    prepared: &[(&PreparedConfirmation, bool)],
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let mut queued = Vec::with_capacity(prepared.len());
    for &(p, known_new) in prepared {
        let dedupe = format!("confirm:{}:{}", p.subject_id, now.format("%Y-%m-%dT%H"));
        if known_new || !crate::db::outbox::exists(tx.conn, &dedupe)? {
            queued.push((p, dedupe));
        }
    }
    let tokens: Vec<NewLinkToken<'_>> = queued
        .iter()
        .map(|(p, _)| NewLinkToken {
            id: &p.token_id,
            subject_id: &p.subject_id,
            kind: LinkKind::ConfirmConsent.as_str(),
            expires_at: p.expires_at,
            created_at: now,
        })
        .collect();
    sessions::insert_tokens(tx.conn, &tokens)?;
    let mails: Vec<_> = queued
        .iter()
        .map(|(p, dedupe)| mail::new_sealed("confirm_consent", dedupe, Some(&p.subject_id), &p.mail))
        .collect();
    crate::db::outbox::insert_new(tx.conn, &mails)?;
    Ok(())
}

/// Confirms the pending purposes named by a double opt-in link; returns those confirmed.
pub fn confirm(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    token: &str,
    evidence: &Evidence,
) -> Result<Vec<String>, RightsError> {
    let now = ledger_time(Utc::now().naive_utc());
    let claims = redeem(tx.conn, keyring, token, LinkKind::ConfirmConsent, now)?;
    let live = live_subject(tx.conn, keyring, &claims.sub)?;
    let sealed = seal_evidence(&live.key, &claims.sub, evidence)?;
    let mut confirmed = Vec::new();
    for state in consent::for_subject(tx.conn, &claims.sub)? {
        let Some(purpose) = catalog.purpose(&state.purpose_key) else { continue };
        if !claims.purposes.contains(&state.purpose_key)
            || ConsentStatus::parse(&state.status) != ConsentStatus::Pending
        {
            continue;
        }
        let appended = ledger::append(
            tx.conn,
            tx.head,
            &[NewEvent {
                subject_id: &claims.sub,
                purpose_key: &state.purpose_key,
                action: ConsentAction::Confirmed.as_str(),
                policy_version_id: &state.policy_version_id,
                policy_text_hash: &purpose.policy.text_hash,
                method: Method::EmailLink.as_str(),
                source: &claims.jti,
                evidence: &sealed,
                occurred_at: now,
            }],
        )?;
        let seq = appended.first().map_or(0, |e| e.seq);
        consent::put(
            tx.conn,
            &ConsentState {
                status: ConsentStatus::Granted.as_str().to_owned(),
                granted_at: Some(now),
                expires_at: Some(purpose.retention.expires_at(now.and_utc()).naive_utc()),
                updated_at: now,
                last_event_seq: seq,
                notice_anchor_at: (purpose.channel != crate::domain::Channel::None).then_some(now),
                ..state.clone()
            },
        )?;
        confirmed.push(state.purpose_key.clone());
    }
    Ok(confirmed)
}

/// A one-click unsubscribe URL for these purposes (RFC 8058); not single-use, so that
/// unsubscribing twice is harmless.
pub fn unsubscribe_url(
    keyring: &Keyring,
    ctx: &MailContext,
    subject_id: &str,
    purposes: Vec<String>,
    locale: Locale,
) -> Result<String, ServiceError> {
    let exp = (Utc::now() + UNSUBSCRIBE_TTL).timestamp();
    let token = keyring.links().sign(&LinkClaims {
        sub: subject_id.to_owned(),
        jti: uuid::Uuid::new_v4().to_string(),
        kind: LinkKind::Unsubscribe,
        purposes,
        exp,
    })?;
    Ok(format!("{}/u?token={token}&lang={}", ctx.base_url, locale.as_str()))
}

/// What an unsubscribe link covers, checked but not acted on (for the confirmation page).
pub fn unsubscribe_claims(keyring: &Keyring, token: &str) -> Result<LinkClaims, RightsError> {
    keyring.links().verify(token, LinkKind::Unsubscribe).map_err(|e| RightsError::Link(e.into()))
}

/// Withdraws every purpose the link names; purposes already withdrawn are skipped.
pub fn unsubscribe(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    token: &str,
    evidence: Evidence,
) -> Result<Vec<String>, RightsError> {
    let claims = unsubscribe_claims(keyring, token)?;
    let mut withdrawn = Vec::new();
    for purpose in &claims.purposes {
        let request = ChangeRequest {
            subject_id: &claims.sub,
            purpose,
            change: Change::Withdraw,
            method: Method::EmailLink,
            actor: Actor::Subject(claims.sub.clone()),
            evidence: evidence.clone(),
        };
        match change_consent(tx, keyring, catalog, &request) {
            Ok(_) => withdrawn.push(purpose.clone()),
            Err(RightsError::NotGranted | RightsError::UnknownPurpose) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(withdrawn)
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The person's answer to a renewal mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalAnswer {
    Extend,
    DontExtend,
}

/// Which answer a renewal link carries (checked, not used).
pub fn renewal_answer(keyring: &Keyring, token: &str) -> Result<RenewalAnswer, RightsError> {
    if keyring.links().verify(token, LinkKind::Renew).is_ok() {
        return Ok(RenewalAnswer::Extend);
    }
    keyring
        .links()
        .verify(token, LinkKind::Decline)
        .map(|_| RenewalAnswer::DontExtend)
        .map_err(|e| RightsError::Link(e.into()))
}

/// Extend pushes the expiry by one retention period (`renewed`); Don't extend ends the consent
/// now and erases what it alone justified (`expired`).
pub fn answer_renewal(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    token: &str,
    evidence: &Evidence,
) -> Result<RenewalAnswer, RightsError> {
    let answer = renewal_answer(keyring, token)?;
    let kind = if answer == RenewalAnswer::Extend { LinkKind::Renew } else { LinkKind::Decline };
    let now = ledger_time(Utc::now().naive_utc());
    let claims = redeem(tx.conn, keyring, token, kind, now)?;
    let purpose_key = claims.purposes.first().ok_or(RightsError::Link(LinkProblem::Invalid))?;
    let purpose = catalog.purpose(purpose_key).ok_or(RightsError::UnknownPurpose)?;
    let live = live_subject(tx.conn, keyring, &claims.sub)?;
    let state = consent::for_subject(tx.conn, &claims.sub)?
        .into_iter()
        .find(|s| &s.purpose_key == purpose_key && ConsentStatus::parse(&s.status) == ConsentStatus::Granted)
        .filter(|s| s.expires_at.is_some_and(|e| e > now))
        .ok_or(RightsError::Link(LinkProblem::Expired))?;
    if answer == RenewalAnswer::DontExtend {
        crate::jobs::retention::expire(tx, catalog, &state, now, Method::EmailLink)?;
        return Ok(answer);
    }
    let sealed = seal_evidence(&live.key, &claims.sub, evidence)?;
    let appended = ledger::append(
        tx.conn,
        tx.head,
        &[NewEvent {
            subject_id: &claims.sub,
            purpose_key,
            action: ConsentAction::Renewed.as_str(),
            policy_version_id: &state.policy_version_id,
            policy_text_hash: &purpose.policy.text_hash,
            method: Method::EmailLink.as_str(),
            source: &claims.jti,
            evidence: &sealed,
            occurred_at: now,
        }],
    )?;
    let expires = state.expires_at.map(|e| purpose.retention.expires_at(e.and_utc()).naive_utc());
    let seq = appended.first().map_or(state.last_event_seq, |e| e.seq);
    consent::put(tx.conn, &ConsentState { expires_at: expires, updated_at: now, last_event_seq: seq, ..state })?;
    Ok(answer)
}
