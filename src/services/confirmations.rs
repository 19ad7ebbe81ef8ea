//! Double opt-in confirmation mails: composed, signed and sealed before the write (so the single
//! writer only inserts rows), and queued at most once per person per hour.

use chrono::NaiveDateTime;

use super::ServiceError;
use super::consent::{Door, States};
use super::tokens::unsubscribe_url;
use crate::crypto::{Keyring, LinkClaims, LinkKind};
use crate::db::WriteTx;
use crate::db::consent::ConsentState;
use crate::db::sessions::{self, NewLinkToken};
use crate::domain::lifecycle::{Submitter, Transition, confirmation_slot, lapses_at, on_submission};
use crate::domain::{Email, Locale, PurposeKey};
use crate::mail::{self, MailContext, messages};

/// A double opt-in mail ready to queue: composed, signed and sealed outside the write
/// transaction (see `recorder::Recorder`), so the single writer only inserts two rows.
#[derive(Clone)]
pub struct PreparedConfirmation {
    pub subject_id: String,
    pub purposes: Vec<String>,
    token_id: String,
    expires_at: NaiveDateTime,
    mail: mail::SealedMail,
}

/// Whom a confirmation is for and what it asks them to confirm.
pub struct Asking<'a> {
    pub subject_id: &'a str,
    pub email: &'a Email,
    pub locale: Locale,
    /// (purpose key, title) of each purpose waiting.
    pub purposes: Vec<(String, String)>,
    /// Labels of the fields whose new value waits.
    pub changes: &'a [String],
    /// Under the form's minimum age: the parent or guardian asked instead of the person.
    pub guardian: Option<&'a Email>,
}

/// Signs the link, composes and seals the mail. No IO.
pub fn prepare_confirmation(
    keyring: &Keyring,
    ctx: &MailContext,
    asking: Asking<'_>,
    now: NaiveDateTime,
) -> Result<PreparedConfirmation, ServiceError> {
    let Asking { subject_id, email, locale, purposes, changes, guardian } = asking;
    let keys: Vec<String> = purposes.iter().map(|(k, _)| k.clone()).collect();
    let titles: Vec<String> = purposes.into_iter().map(|(_, t)| t).collect();
    let token_id = uuid::Uuid::new_v4().to_string();
    let expires_at = lapses_at(now);
    let token = keyring.links().sign(&LinkClaims {
        sub: subject_id.to_owned(),
        jti: token_id.clone(),
        kind: LinkKind::ConfirmConsent,
        purposes: keys.clone(),
        exp: expires_at.and_utc().timestamp(),
        guardian: guardian.map(|g| hex::encode(keyring.email_index(g))),
    })?;
    let link = format!("{}/confirm?token={token}&lang={}", ctx.base_url, locale.as_str());
    let unsubscribe = unsubscribe_url(keyring, ctx, subject_id, keys.clone(), locale)?;
    let composed = match guardian {
        // The guardian is not the person: no unsubscribe link of theirs goes to them.
        Some(guardian) => {
            let content = messages::confirm_as_guardian(locale, email.as_str(), &titles, &link);
            mail::compose(ctx, guardian.as_str(), &content, None)
        }
        None => {
            let content = messages::confirm_consent(locale, &titles, changes, &link, &unsubscribe);
            mail::compose(ctx, email.as_str(), &content, Some(&unsubscribe))
        }
    }
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
        let dedupe = format!("confirm:{}:{}", p.subject_id, confirmation_slot(now));
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

/// The ticked purposes that will wait for confirmation by mail, with their titles.
pub fn confirmation_wanted(
    door: &Door<'_>,
    states: &States,
    subject_id: &str,
    granted: &[PurposeKey],
    submitter: Submitter,
    locale: Locale,
) -> Vec<(String, String)> {
    granted
        .iter()
        .filter_map(|p| door.catalog.purpose(p.as_str()))
        .filter(|p| {
            let previous = states.get(subject_id, p.key.as_str()).map(ConsentState::standing);
            on_submission(previous.as_ref(), &door.terms(p), submitter) == Some(Transition::Request)
        })
        .map(|p| (p.key.to_string(), p.policy.title().get(locale, door.catalog.default_locale()).to_owned()))
        .collect()
}
