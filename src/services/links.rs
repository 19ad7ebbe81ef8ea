//! E-mailed links: the magic sign-in link and its session, double opt-in confirmation, one-click
//! unsubscribe, and the answers to a renewal mail. Every consent change they carry goes through
//! the consent door.

use chrono::{Duration, NaiveDateTime, Utc};

use super::ServiceError;
use super::audit::Actor;
use super::consent::{Change as DoorChange, Door, States};
use super::erasure::{self, By};
use super::rights::{Change, ChangeRequest, RightsError, change_consent, record_access};
use super::subject::live_subject;
use super::tokens::{self, base64url, redeem};
use crate::crypto::{Keyring, LinkClaims, LinkKind, random_bytes, seal_evidence, sha256_hex};
use crate::db::catalog::Catalog;
use crate::db::sessions::{self, Session};
use crate::db::{WriteTx, subjects};
use crate::domain::ledger::ledger_time;
use crate::domain::lifecycle::{Transition, in_force, session_alive};
use crate::domain::rights::RightKind;
use crate::domain::{ConsentStatus, Email, Evidence, Locale, Method, SubjectId};
use crate::mail::{self, MailContext, messages};

pub use super::tokens::{LinkProblem, issue_link, unsubscribe_url};

pub const SIGN_IN_TTL: Duration = Duration::minutes(15);

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
    let dedupe = format!("sign_in:{}", uuid::Uuid::new_v4());
    mail::enqueue(tx.conn, keyring, "sign_in", &dedupe, Some(&subject.id), &composed)?;
    Ok(())
}

/// A session just opened; `cookie` goes to the browser, only its hash is stored.
pub struct OpenedSession {
    pub cookie: String,
    pub subject_id: String,
}

/// A used-up link: its claims, or why it did not work.
fn redeemed(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    token: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> Result<LinkClaims, RightsError> {
    Ok(redeem(tx.conn, keyring, token, kind, now)??)
}

pub fn sign_in(tx: &mut WriteTx<'_>, keyring: &Keyring, token: &str) -> Result<OpenedSession, RightsError> {
    let now = Utc::now().naive_utc();
    let claims = redeemed(tx, keyring, token, LinkKind::SignIn, now)?;
    live_subject(tx.conn, keyring, &claims.sub)?;
    // Signing in to see one's data is an exercise of the right of access.
    let actor = Actor::Subject(SubjectId::from(claims.sub.clone()));
    record_access(
        tx,
        &SubjectId::from(claims.sub.clone()),
        RightKind::Access,
        By::new(&actor, Method::PreferenceCenter),
    )?;
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

/// The key a session is stored under, from its cookie's value (`None`: no cookie Assent set).
pub fn session_key(cookie: &str) -> Option<String> {
    (cookie.len() <= 100).then(|| sha256_hex(cookie.as_bytes()))
}

/// Whether a session may still be used at `now`.
pub fn is_live(s: &Session, now: NaiveDateTime) -> bool {
    session_alive(s.created_at, s.last_seen_at, s.ended_at.is_some(), now)
}

/// Confirms the pending purposes named by a double opt-in link, and the new values waiting for
/// the person's word; returns the purposes confirmed.
pub fn confirm(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    token: &str,
    evidence: &Evidence,
) -> Result<Vec<String>, RightsError> {
    let now = ledger_time(Utc::now().naive_utc());
    let claims = redeemed(tx, keyring, token, LinkKind::ConfirmConsent, now)?;
    let live = live_subject(tx.conn, keyring, &claims.sub)?;
    let evidence = Evidence { guardian: claims.guardian.clone(), ..evidence.clone() };
    let sealed = seal_evidence(&live.key, &claims.sub, &evidence)?;
    let subject = SubjectId::from(claims.sub.clone());
    let mut states = States::load(tx.conn, std::slice::from_ref(&subject))?;
    let pending: Vec<String> = states
        .of(&claims.sub)
        .iter()
        .filter(|s| s.status == ConsentStatus::Pending && claims.purposes.contains(&s.purpose_key))
        .map(|s| s.purpose_key.clone())
        .collect();
    let changes: Vec<DoorChange<'_>> = pending
        .iter()
        .map(|purpose_key| DoorChange {
            subject_id: &subject,
            purpose_key,
            transition: Transition::Confirm,
            method: Method::EmailLink,
            source: &claims.jti,
            evidence: &sealed,
            shown_in: Locale::from_tag(&evidence.locale),
            occurred_at: None,
            wording: None,
        })
        .collect();
    let applied = Door::new(catalog).apply(tx, &mut states, &changes, now)?;
    // A new value is kept only while a consent it serves is in force (the person may have
    // withdrawn it since the value was typed).
    let held: Vec<&str> =
        states.of(&claims.sub).iter().filter(|s| in_force(s.status)).map(|s| s.purpose_key.as_str()).collect();
    let needed = |purposes: &str| purposes.split(' ').any(|p| held.contains(&p));
    crate::db::pending::promote(tx.conn, &claims.sub, now, needed)?;
    Ok(applied.into_iter().flatten().map(|a| a.event.purpose_key).collect())
}

/// What an unsubscribe link covers, checked but not acted on (for the confirmation page).
pub fn unsubscribe_claims(keyring: &Keyring, token: &str) -> Result<LinkClaims, RightsError> {
    Ok(tokens::claims(keyring, token, LinkKind::Unsubscribe)?)
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
    let subject = SubjectId::from(claims.sub.clone());
    let mut withdrawn = Vec::new();
    for purpose in &claims.purposes {
        let request = ChangeRequest {
            subject_id: &subject,
            purpose,
            change: Change::Withdraw,
            method: Method::EmailLink,
            actor: Actor::Subject(SubjectId::from(claims.sub.clone())),
            evidence: evidence.clone(),
            on_request: None,
        };
        match change_consent(tx, keyring, catalog, &request) {
            Ok(outcome) => {
                withdrawn.push(purpose.clone());
                // Withdrawing the last consent in force erased the person: nothing more to end.
                if outcome.subject_erased {
                    break;
                }
            }
            Err(RightsError::NotGranted | RightsError::UnknownPurpose | RightsError::RequiredPurpose) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(withdrawn)
}

/// The person's answer to a renewal mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalAnswer {
    Extend,
    DontExtend,
}

/// Which answer a renewal link carries (checked, not used).
pub fn renewal_answer(keyring: &Keyring, token: &str) -> Result<RenewalAnswer, RightsError> {
    if tokens::claims(keyring, token, LinkKind::Renew).is_ok() {
        return Ok(RenewalAnswer::Extend);
    }
    tokens::claims(keyring, token, LinkKind::Decline).map(|_| RenewalAnswer::DontExtend).map_err(RightsError::Link)
}

/// Extend pushes the expiry by one retention period (`renewed`); Don't extend ends the consent
/// now (`expired`) and erases what it alone justified (the person whole, if nothing is left).
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
    let claims = redeemed(tx, keyring, token, kind, now)?;
    let purpose_key = claims.purposes.first().ok_or(RightsError::Link(LinkProblem::Invalid))?;
    let live = live_subject(tx.conn, keyring, &claims.sub)?;
    let sealed = seal_evidence(&live.key, &claims.sub, evidence)?;
    let door = Door::new(catalog);
    let subject_ids = [SubjectId::from(claims.sub.clone())];
    let mut states = States::load(tx.conn, &subject_ids)?;
    let transition = if answer == RenewalAnswer::Extend { Transition::Renew } else { Transition::DeclineRenewal };
    let change = DoorChange {
        subject_id: &subject_ids[0],
        purpose_key,
        transition,
        method: Method::EmailLink,
        source: &claims.jti,
        evidence: &sealed,
        shown_in: Locale::from_tag(&evidence.locale),
        occurred_at: None,
        wording: None,
    };
    let applied = door.apply(tx, &mut states, &[change], now)?.pop().ok_or(ServiceError::Unavailable)?;
    // A consent that ended meanwhile (or a purpose gone) makes the link stale.
    applied.map_err(|_| RightsError::Link(LinkProblem::Expired))?;
    if answer == RenewalAnswer::DontExtend {
        let actor = Actor::Subject(SubjectId::from(claims.sub.clone()));
        erasure::settle(tx, &door, &mut states, &subject_ids, By::new(&actor, Method::EmailLink), now)?;
    }
    Ok(answer)
}
