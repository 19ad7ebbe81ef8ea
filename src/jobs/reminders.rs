//! Retention's mails: the renewal question before a consent expires, and the periodic reminder
//! of a consent that reaches people (정보통신망법 art. 50(8)), recorded as `notified` through the
//! consent door.

use chrono::NaiveDateTime;

use crate::crypto::{Keyring, LinkKind};
use crate::db::catalog::PublishedPurpose;
use crate::db::consent::ConsentState;
use crate::db::{WriteTx, outbox, subjects};
use crate::domain::lifecycle::{Transition, renewal_window_days};
use crate::domain::{Channel, Locale, Method, Retention};
use crate::mail::{self, MailContext, messages};
use crate::services::ServiceError;
use crate::services::consent::{Change, Door, States};
use crate::services::rights::RightsError;
use crate::services::subject::live_subject;
use crate::services::tokens::{issue_link, unsubscribe_url};

/// Facts for a renewal or notice mail, and where to send it.
struct Recipient {
    email: String,
    locale: Locale,
    held: Vec<String>,
}

fn recipient(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    purpose: &PublishedPurpose,
    subject_id: &str,
) -> Result<Recipient, RightsError> {
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let locale = Locale::from_tag(&live.subject.locale).unwrap_or_default();
    let email = live.email()?;
    let mut held: Vec<String> = subjects::values_of(tx.conn, subject_id)?
        .into_iter()
        .filter(|v| v.purposes.split(' ').any(|p| p == purpose.key.as_str()))
        .map(|v| v.field_key)
        .collect();
    held.dedup();
    Ok(Recipient { email, locale, held })
}

/// The state as it is now, inside the transaction, if it is still granted.
fn still_granted(tx: &mut WriteTx<'_>, state: &ConsentState) -> diesel::QueryResult<Option<(States, ConsentState)>> {
    let states = States::load(tx.conn, std::slice::from_ref(&state.subject_id))?;
    let current = states
        .get(&state.subject_id, &state.purpose_key)
        .filter(|s| s.status == crate::domain::ConsentStatus::Granted)
        .cloned();
    Ok(current.map(|c| (states, c)))
}

/// Phase 1: one renewal mail per (subject, purpose, expiry) inside the window.
pub fn ask_renewal(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    door: &Door<'_>,
    ctx: &MailContext,
    state: &ConsentState,
    now: NaiveDateTime,
) -> Result<usize, RightsError> {
    let Some(purpose) = door.catalog.purpose(&state.purpose_key) else { return Ok(0) };
    let Some((_, state)) = still_granted(tx, state)? else { return Ok(0) };
    let Some(expires) = state.expires_at else { return Ok(0) };
    let window = renewal_window_days(purpose.renewal_window_days);
    if !Retention::renewal_due(expires.and_utc(), window, now.and_utc()) {
        return Ok(0);
    }
    let dedupe = format!("renewal:{}:{}:{}", state.subject_id, state.purpose_key, expires.and_utc().timestamp());
    if outbox::exists(tx.conn, &dedupe)? {
        return Ok(0);
    }
    let to = recipient(tx, keyring, purpose, &state.subject_id)?;
    let ttl = expires - now;
    let purposes = vec![state.purpose_key.clone()];
    let extend = issue_link(tx.conn, keyring, &state.subject_id, LinkKind::Renew, ttl, purposes.clone(), now)?;
    let decline = issue_link(tx.conn, keyring, &state.subject_id, LinkKind::Decline, ttl, purposes.clone(), now)?;
    let lang = to.locale.as_str();
    let (title, text) = (purpose.policy.title(), purpose.policy.text());
    let facts = messages::ConsentFacts {
        purpose: title.get(to.locale, door.catalog.default_locale()),
        wording: text.get(to.locale, door.catalog.default_locale()),
        held: &to.held,
        since: state.granted_at.map(|t| t.date()),
        until: Some(expires.date()),
    };
    let content = messages::renewal(
        to.locale,
        &facts,
        &format!("{}/renewal?token={extend}&lang={lang}", ctx.base_url),
        &format!("{}/renewal?token={decline}&lang={lang}", ctx.base_url),
    );
    let unsubscribe = (purpose.channel != Channel::None)
        .then(|| unsubscribe_url(keyring, ctx, &state.subject_id, purposes, to.locale))
        .transpose()?;
    let composed = mail::compose(ctx, &to.email, &content, unsubscribe.as_deref())
        .map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, keyring, "renewal", &dedupe, Some(&state.subject_id), &composed)?;
    Ok(1)
}

/// Phase 2: the periodic marketing-consent reminder, once per elapsed interval.
pub fn send_notice(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    door: &Door<'_>,
    ctx: &MailContext,
    state: &ConsentState,
    now: NaiveDateTime,
) -> Result<usize, RightsError> {
    let Some(purpose) = door.catalog.purpose(&state.purpose_key).filter(|p| p.channel != Channel::None) else {
        return Ok(0);
    };
    let Some((mut states, state)) = still_granted(tx, state)? else { return Ok(0) };
    let (Some(granted), Some(anchor)) = (state.granted_at, state.notice_anchor_at) else { return Ok(0) };
    if !crate::domain::lifecycle::notice_due(&state.standing(), &door.terms(purpose), now) {
        return Ok(0);
    }
    let dedupe = format!("notice:{}:{}:{}", state.subject_id, state.purpose_key, anchor.and_utc().timestamp());
    if outbox::exists(tx.conn, &dedupe)? {
        return Ok(0);
    }
    let to = recipient(tx, keyring, purpose, &state.subject_id)?;
    let withdraw = unsubscribe_url(keyring, ctx, &state.subject_id, vec![state.purpose_key.clone()], to.locale)?;
    let (title, text) = (purpose.policy.title(), purpose.policy.text());
    let facts = messages::ConsentFacts {
        purpose: title.get(to.locale, door.catalog.default_locale()),
        wording: text.get(to.locale, door.catalog.default_locale()),
        held: &to.held,
        since: Some(granted.date()),
        until: state.expires_at.map(|t| t.date()),
    };
    // The business, not the software (정보통신망법 art. 50(8)).
    let sender = crate::services::result_notices::sender(door.catalog, ctx);
    let content = messages::marketing_notice(to.locale, &sender, &facts, &withdraw);
    let composed =
        mail::compose(ctx, &to.email, &content, Some(&withdraw)).map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, keyring, "marketing_notice", &dedupe, Some(&state.subject_id), &composed)?;
    let change = Change {
        subject_id: &state.subject_id,
        purpose_key: &state.purpose_key,
        transition: Transition::Notify,
        method: Method::RetentionJob,
        source: "marketing_notice",
        evidence: "{}",
        // The notice mail quoted the wording in the person's language.
        shown_in: Some(to.locale),
        occurred_at: None,
        wording: None,
    };
    door.apply(tx, &mut states, &[change], now)?;
    Ok(1)
}
