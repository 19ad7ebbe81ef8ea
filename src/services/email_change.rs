//! Changing one's address at `/me`: the new address takes effect only once a single-use link
//! sent to it is followed (so a session left open cannot hand someone's data to another
//! mailbox), and the old address is then told. Whether the new address is someone else's is
//! never revealed: the person is answered the same either way, and that mailbox is told instead.
//! (Staff and integrators, who vouch for the person, correct the address directly:
//! `rights::rectify`.)

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::ServiceError;
use super::rights::{By, RightsError, rectify};
use super::subject::live_subject;
use super::tokens::{issue_link, redeem};
use crate::crypto::{Bound, Keyring, LinkKind};
use crate::db::schema::email_changes;
use crate::db::{WriteTx, subjects};
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::{Email, FieldType, FormDefinition, Locale, Method, SubjectId};
use crate::mail::{self, MailContent, MailContext};

/// How long the confirmation link works.
pub const TTL: Duration = Duration::hours(24);

/// Whether `field` is the address the person is known by (the required e-mail field of the
/// form their value came from).
fn is_address(tx: &mut WriteTx<'_>, subject_id: &str, field: &str) -> Result<bool, RightsError> {
    let Some(value) = subjects::values_of(tx.conn, subject_id)?.into_iter().rev().find(|v| v.field_key == field) else {
        return Ok(false);
    };
    let definition = subjects::form_definitions(tx.conn, std::slice::from_ref(&value.form_version_id))?
        .into_iter()
        .next()
        .and_then(|f| serde_json::from_str::<FormDefinition>(&f.3).ok());
    Ok(definition.and_then(|d| d.field(field).map(|f| f.kind == FieldType::Email && f.required)).unwrap_or(false))
}

/// A person at `/me` asks to use `new_value` as their address. Returns `false` when `field` is
/// not their address (the caller corrects it as any other value); otherwise a link goes to the
/// new address (or, if it is someone else's, a note to that mailbox), and the answer is the same.
pub fn request(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    ctx: &MailContext,
    subject_id: &SubjectId,
    field: &str,
    new_value: &str,
) -> Result<bool, RightsError> {
    if !is_address(tx, subject_id, field)? {
        return Ok(false);
    }
    let invalid = || FieldError { field: field.to_owned(), code: FieldErrorCode::InvalidEmail, max_length: None };
    let email = Email::parse(new_value.trim()).map_err(|_| RightsError::Invalid(invalid()))?;
    let live = live_subject(tx.conn, keyring, subject_id)?;
    let index = keyring.email_index(&email);
    if index == live.subject.email_index {
        return Ok(true);
    }
    let locale = Locale::from_tag(&live.subject.locale).unwrap_or_default();
    let now = Utc::now().naive_utc();
    let dedupe = format!("email-change:{subject_id}:{}", hex::encode(&index[..8]));
    if subjects::find_by_index(tx.conn, &index)?.is_some() {
        let content = letter(locale, "taken", None);
        let composed =
            mail::compose(ctx, email.as_str(), &content, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
        mail::enqueue(
            tx.conn,
            keyring,
            "email_taken",
            &format!("{dedupe}:{}", now.format("%Y%m%d%H")),
            None,
            &composed,
        )?;
        return Ok(true);
    }
    let token = issue_link(tx.conn, keyring, subject_id, LinkKind::ChangeEmail, TTL, Vec::new(), now)?;
    let token_id = keyring.links().verify(&token, LinkKind::ChangeEmail).map_err(|_| ServiceError::Unavailable)?.jti;
    let sealed = live.key.seal(email.as_str().as_bytes(), Bound::Email { subject: subject_id, index: &index })?;
    diesel::insert_into(email_changes::table)
        .values((
            email_changes::token_id.eq(&token_id),
            email_changes::subject_id.eq(subject_id.as_str()),
            email_changes::field_key.eq(field),
            email_changes::email_index.eq(&index),
            email_changes::email_ciphertext.eq(&sealed),
            email_changes::created_at.eq(now),
        ))
        .execute(tx.conn)?;
    let link = format!("{}/me/email?lang={}&token={token}", ctx.base_url, locale.as_str());
    let composed = mail::compose(ctx, email.as_str(), &letter(locale, "confirm", Some(link)), None)
        .map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, keyring, "email_change", &format!("email-change:{token_id}"), Some(subject_id), &composed)?;
    Ok(true)
}

/// The link was followed: the address changes (blind index, sealed address and the stored field
/// value together, through `rights::rectify`), and the old address is told.
pub fn confirm(tx: &mut WriteTx<'_>, keyring: &Keyring, ctx: &MailContext, token: &str) -> Result<(), RightsError> {
    let now: NaiveDateTime = Utc::now().naive_utc();
    let claims = redeem(tx.conn, keyring, token, LinkKind::ChangeEmail, now)??;
    let row: Option<(String, Vec<u8>, Vec<u8>)> = email_changes::table
        .find(&claims.jti)
        .select((email_changes::field_key, email_changes::email_index, email_changes::email_ciphertext))
        .first(tx.conn)
        .optional()?;
    let (field, index, sealed) = row.ok_or(super::tokens::LinkProblem::Invalid)?;
    let subject_id = SubjectId::from(claims.sub.clone());
    let live = live_subject(tx.conn, keyring, &subject_id)?;
    let old = live.email()?;
    let new = live.key.open_text(&sealed, Bound::Email { subject: &subject_id, index: &index })?;
    let actor = super::audit::Actor::Subject(subject_id.clone());
    rectify(tx, keyring, &subject_id, &field, &new, By::new(&actor, Method::EmailLink))?;
    diesel::delete(email_changes::table.filter(email_changes::subject_id.eq(subject_id.as_str()))).execute(tx.conn)?;
    let locale = Locale::from_tag(&live.subject.locale).unwrap_or_default();
    let composed = mail::compose(ctx, &old, &letter(locale, "changed", None), None)
        .map_err(|e| ServiceError::Mail(e.to_string()))?;
    mail::enqueue(tx.conn, keyring, "email_changed", &format!("email-changed:{}", claims.jti), None, &composed)?;
    Ok(())
}

/// Forgets the new addresses whose link was not followed in time (run with retention).
pub fn forget_unconfirmed(conn: &mut crate::db::DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(email_changes::table.filter(email_changes::created_at.le(now - TTL))).execute(conn)
}

/// The mails of an address change: `confirm` (to the new address, with its link), `taken` (to
/// an address someone else uses) and `changed` (to the old address, afterwards).
fn letter(locale: Locale, which: &str, link: Option<String>) -> MailContent {
    let c = crate::i18n::catalogue(locale);
    let action = link.map(|l| (c.text("mail-email-change-action"), l));
    MailContent {
        lang: locale.as_str(),
        subject: c.text(&format!("mail-email-{which}-subject")),
        paragraphs: vec![c.text(&format!("mail-email-{which}-body"))],
        action,
        links: Vec::new(),
    }
}
