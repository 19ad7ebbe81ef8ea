//! Delivering queued mail: lease due rows, send, record the outcome; retry with back-off.
//! Safe to run in several processes at once (leases) and to kill at any point (an unrecorded
//! send is retried; the message's `Message-ID` lets receivers drop the duplicate).

use chrono::{Duration, NaiveDateTime, Utc};
use lettre::address::Envelope;
use lettre::{SmtpTransport, Transport};
use std::path::Path;

use super::OutboxError;
use super::QueuedMail;
use super::files::{Delivery, MailFiles};
use crate::crypto::Keyring;
use crate::db::Db;
use crate::db::outbox::{self, LeasedMail};

/// After this many failed attempts a mail is parked (kept, with its last error) for an operator.
pub const MAX_ATTEMPTS: i64 = 12;
/// Mails leased (and recorded as sent) per writer transaction.
const BATCH: i64 = 100;

pub enum MailTransport {
    Smtp(Box<SmtpTransport>),
    File(MailFiles),
}

impl MailTransport {
    /// SMTP from a URL such as `smtp://user:pass@host:587?tls=required` or `smtps://host`;
    /// otherwise `.eml` files in `data_dir/outbox` (see [`MailFiles`]).
    pub fn new(smtp_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => Ok(Self::Smtp(Box::new(SmtpTransport::from_url(url)?.build()))),
            None => Ok(Self::File(MailFiles::in_data_dir(data_dir)?)),
        }
    }

    /// The file mailer's folder, when mail goes to files.
    pub fn files(&self) -> Option<&MailFiles> {
        match self {
            Self::File(files) => Some(files),
            Self::Smtp(_) => None,
        }
    }

    /// Sends a batch, answering for each mail in order. Files are written together (one flush
    /// for the batch, see [`MailFiles::deliver_all`]); SMTP sends one by one.
    fn send_all(&self, batch: &[(&LeasedMail, Result<QueuedMail, String>)]) -> Vec<Result<(), String>> {
        let checked: Vec<Result<(&QueuedMail, Envelope), String>> = batch
            .iter()
            .map(|(_, mail)| mail.as_ref().map_err(Clone::clone).and_then(|m| Ok((m, envelope(m)?))))
            .collect();
        match self {
            Self::Smtp(t) => checked
                .into_iter()
                .map(|mail| {
                    let (mail, envelope) = mail?;
                    // Errors are reduced to their kind: an SMTP reply may quote the recipient's address.
                    t.send_raw(&envelope, &mail.raw).map(|_| ()).map_err(|e| smtp_error_kind(&e))
                })
                .collect(),
            Self::File(files) => {
                let ready: Vec<Delivery<'_>> = batch
                    .iter()
                    .zip(&checked)
                    .filter_map(|((leased, _), mail)| {
                        let (mail, _) = mail.as_ref().ok()?;
                        Some(Delivery {
                            subject_id: leased.subject_id.as_deref(),
                            outbox_id: &leased.id,
                            raw: &mail.raw,
                        })
                    })
                    .collect();
                let mut written = files.deliver_all(&ready).into_iter();
                checked
                    .into_iter()
                    .map(|mail| {
                        mail?;
                        match written.next() {
                            Some(Ok(_)) => Ok(()),
                            _ => Err("file transport error".to_owned()),
                        }
                    })
                    .collect()
            }
        }
    }
}

fn envelope(mail: &QueuedMail) -> Result<Envelope, String> {
    Envelope::new(
        Some(mail.from.parse().map_err(|_| "bad sender".to_owned())?),
        vec![mail.to.parse().map_err(|_| "bad recipient".to_owned())?],
    )
    .map_err(|e| e.to_string())
}

fn smtp_error_kind(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_permanent() {
        "permanent"
    } else if e.is_transient() {
        "transient"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "connection"
    };
    format!("smtp {kind} error")
}

/// Back-off after `attempts` failures: 30 s, 1 min, 2 min … capped at 6 hours.
pub fn next_attempt(now: NaiveDateTime, attempts: i64) -> NaiveDateTime {
    if attempts >= MAX_ATTEMPTS {
        return now + Duration::days(36_500);
    }
    let seconds = 30i64.saturating_mul(1 << attempts.clamp(0, 20)).min(6 * 3600);
    now + Duration::seconds(seconds)
}

/// Sends what is due; returns how many were delivered. Blocking: run it off the async threads.
pub fn deliver_due(db: &Db, keyring: &Keyring, transport: &MailTransport, owner: &str) -> Result<usize, OutboxError> {
    let mut delivered = 0;
    loop {
        let now = Utc::now().naive_utc();
        let due = outbox::any_due(&mut *db.pool.get().map_err(|_| OutboxError::Unavailable)?, now)?;
        if !due {
            return Ok(delivered);
        }
        let lease_owner = owner.to_owned();
        let leased: Vec<LeasedMail> = db.writer.write_blocking(move |tx| {
            Ok::<_, OutboxError>(outbox::lease_due(tx.conn, &lease_owner, now, now + Duration::minutes(2), BATCH)?)
        })?;
        if leased.is_empty() {
            return Ok(delivered);
        }
        let opened: Vec<_> = leased.iter().map(|mail| (mail, open(keyring, mail))).collect();
        let sent = transport.send_all(&opened);
        let mut outcomes = Vec::with_capacity(leased.len());
        for (mail, outcome) in leased.iter().zip(sent) {
            if let Err(error) = &outcome {
                tracing::warn!(mail = %mail.id, kind = %mail.kind, attempts = mail.attempts + 1, %error, "mail delivery failed");
            }
            delivered += usize::from(outcome.is_ok());
            outcomes.push((mail.id.clone(), mail.attempts, outcome));
        }
        // One write records the whole batch's outcomes.
        db.writer.write_blocking(move |tx| {
            let now = Utc::now().naive_utc();
            let sent: Vec<&str> =
                outcomes.iter().filter(|(_, _, outcome)| outcome.is_ok()).map(|(id, _, _)| id.as_str()).collect();
            outbox::mark_sent(tx.conn, &sent, now)?;
            for (id, attempts, outcome) in &outcomes {
                if let Err(error) = outcome {
                    outbox::mark_failed(tx.conn, id, next_attempt(now, *attempts), error)?;
                }
            }
            Ok::<_, OutboxError>(())
        })?;
    }
}

fn open(keyring: &Keyring, mail: &LeasedMail) -> Result<QueuedMail, String> {
    let sealed = mail.message.as_deref().ok_or_else(|| "message missing".to_owned())?;
    let plain = keyring.open_outbox(sealed, &mail.id).map_err(|_| "message cannot be opened".to_owned())?;
    serde_json::from_slice(&plain).map_err(|_| "message is corrupt".to_owned())
}

/// Without SMTP: removes delivered `.eml` files older than `ASSENT_MAIL_FILE_RETENTION`, at start
/// and then every hour (or every retention period, if shorter).
pub async fn expire_files(transport: std::sync::Arc<MailTransport>, retention: std::time::Duration) {
    if transport.files().is_none() {
        return;
    }
    let mut interval = tokio::time::interval(retention.min(std::time::Duration::from_secs(3600)));
    loop {
        interval.tick().await;
        let transport = transport.clone();
        let expired = tokio::task::spawn_blocking(move || {
            transport.files().map_or(Ok(0), |files| files.expire(retention, std::time::SystemTime::now()))
        })
        .await;
        match expired {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => tracing::info!(removed, "removed delivered mail files past their retention"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not remove old mail files"),
            Err(e) => tracing::warn!(error = %e, "mail file task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_grows_then_caps_then_parks() {
        let now = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        assert_eq!(next_attempt(now, 0) - now, Duration::seconds(30));
        assert_eq!(next_attempt(now, 3) - now, Duration::seconds(240));
        assert_eq!(next_attempt(now, 11) - now, Duration::hours(6));
        assert!(next_attempt(now, 12) - now > Duration::days(365));
    }
}
