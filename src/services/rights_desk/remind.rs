//! Reminding each assignee of their open requests before the deadline: once per request and
//! assignee (handing a request to someone else reminds them afresh), a few days ahead
//! ([`DUE_SOON_DAYS`]), by mail to their console address. Run with the hourly retention pass.

use chrono::{Duration, NaiveDateTime};

use crate::crypto::Keyring;
use crate::db::{WriteTx, owners, rights};
use crate::domain::Locale;
use crate::domain::rights::{DUE_SOON_DAYS, RightKind};
use crate::mail::{self, MailContext, messages};
use crate::services::ServiceError;

/// Queues a reminder for every assigned open request due within [`DUE_SOON_DAYS`] of `now`
/// whose assignee has not had one; returns how many.
pub fn remind(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    ctx: &MailContext,
    locale: Locale,
    now: NaiveDateTime,
) -> Result<usize, ServiceError> {
    let soon = now + Duration::days(DUE_SOON_DAYS as i64);
    let mut sent = 0;
    for request in rights::unreminded_due_before(tx.conn, soon)? {
        let Some(assignee) = request.assignee.as_deref() else { continue };
        let Some(owner) = owners::find(tx.conn, assignee)?.filter(|o| o.disabled_at.is_none()) else { continue };
        let kind = RightKind::parse(&request.kind).unwrap_or(RightKind::Access);
        let link = format!("{}/admin/rights/{}", ctx.base_url, request.id);
        let content = messages::rights_reminder(locale, kind, request.due_at, request.due_at < now, &link);
        let composed =
            mail::compose(ctx, &owner.email, &content, None).map_err(|e| ServiceError::Mail(e.to_string()))?;
        let dedupe = format!("rights-reminder:{}:{assignee}", request.id);
        mail::enqueue(tx.conn, keyring, "rights_reminder", &dedupe, None, &composed)?;
        rights::mark_reminded(tx.conn, &request.id, now)?;
        sent += 1;
    }
    Ok(sent)
}
