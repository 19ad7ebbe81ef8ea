//! 정보통신망법 art. 50(7): after a person gives or withdraws consent to receive advertising, the
//! sender tells them the result — who sends, when, what was given or withdrawn, and that it took
//! effect. Assent does it at once, for every way a consent changes (a form, a confirmation link,
//! the preference center, an unsubscribe link, the API, the rights desk).
//!
//! Like webhooks, the ledger is the queue: a cursor (`result_notice_cursor`) follows it, and each
//! pass turns the `granted`, `confirmed` and `withdrawn` events of purposes that reach people
//! (`channel` other than `none`) into mails in the person's language, queued with the event's id
//! as their dedupe key (so two processes passing at once send one mail), then moves the cursor,
//! all in one write. Imports (the result was told when it happened) and the system's own changes
//! (expiry, erasure) are not told; a person erased meanwhile is not written to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ServiceError;
use super::subject::live_subject;
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::schema::result_notice_cursor;
use crate::db::{DbConnection, WriteTx, ledger};
use crate::domain::{Channel, Locale};
use crate::mail::{self, MailContext, messages};

/// Ledger events read per pass.
pub const PAGE: i64 = 200;

/// Where the cursor is: events after it have not been looked at.
pub fn cursor(conn: &mut DbConnection) -> QueryResult<i64> {
    result_notice_cursor::table.find(1_i64).select(result_notice_cursor::seq).first(conn)
}

/// Whether there is anything past the cursor (a read, so an idle server does not write).
pub fn pending(conn: &mut DbConnection) -> QueryResult<bool> {
    let seq = cursor(conn)?;
    Ok(ledger::head_seq(conn)? > seq)
}

/// One pass: the notices for up to [`PAGE`] events past the cursor, queued; returns how many
/// events it looked at (0: caught up).
pub fn pass(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    catalog: &Catalog,
    ctx: &MailContext,
) -> Result<usize, ServiceError> {
    let from = cursor(tx.conn)?;
    let events = ledger::after(tx.conn, from, PAGE)?;
    let Some(last) = events.last().map(|e| e.seq) else { return Ok(0) };
    let sender = sender(catalog, ctx);
    for event in &events {
        if !tells(catalog, event) {
            continue;
        }
        let Ok(live) = live_subject(tx.conn, keyring, &event.subject_id) else { continue };
        let Some(purpose) = catalog.purpose(&event.purpose_key) else { continue };
        let locale = Locale::from_tag(&live.subject.locale).unwrap_or_else(|| catalog.default_locale());
        let title = purpose.policy.title().get(locale, catalog.default_locale()).to_owned();
        let at = dated(event.occurred_at);
        let given = event.action != "withdrawn";
        let content = messages::result_notice(locale, &sender, &title, &at, given, &format!("{}/me", ctx.base_url));
        let to = live.email()?;
        let composed = mail::compose(ctx, &to, &content, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
        let dedupe = format!("result-notice:{}", event.id);
        mail::enqueue(tx.conn, keyring, "result_notice", &dedupe, Some(&event.subject_id), &composed)?;
    }
    diesel::update(result_notice_cursor::table.find(1_i64).filter(result_notice_cursor::seq.eq(from)))
        .set(result_notice_cursor::seq.eq(last))
        .execute(tx.conn)?;
    Ok(events.len())
}

/// Whether an event is a result the person is told: a consent to advertising given or
/// withdrawn by them (or for them), not by an import or the system.
fn tells(catalog: &Catalog, event: &ledger::ConsentEvent) -> bool {
    let result = matches!(event.action.as_str(), "granted" | "confirmed" | "withdrawn");
    let by_person = !matches!(event.method.as_str(), "import" | "retention_job");
    let advertising = catalog.purpose(&event.purpose_key).is_some_and(|p| p.channel != Channel::None);
    result && by_person && advertising
}

/// Who sends: the business (the workspace `controller`), else the mail's sender name.
pub fn sender(catalog: &Catalog, ctx: &MailContext) -> String {
    ctx.clone().for_business(catalog.controller.as_ref()).business
}

/// The time a result is dated (UTC), as told.
pub fn dated(at: NaiveDateTime) -> String {
    format!("{} UTC", at.format("%Y-%m-%d %H:%M"))
}
