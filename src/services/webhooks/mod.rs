//! Webhooks: every consent change, POSTed to the endpoints declared in the workspace file
//! (`[[webhooks]]`), signed per the Standard Webhooks specification.
//!
//! The ledger is the queue. Each endpoint has a cursor (the last ledger sequence number handed to
//! it); a change is queued for every endpoint by the append that records it, in the same
//! transaction, and nothing else has to be written on the submission path. Deliveries go one at a
//! time per endpoint, in ledger order (so in order per person): at least once (an attempt whose
//! outcome was not recorded is made again, with the same `webhook-id`), retried with back-off for
//! more than three days (`domain::webhooks::retry_after`), after which the endpoint is disabled
//! and the failure logged for the owners. Endpoints on private, loopback or link-local addresses
//! are refused unless `ASSENT_WEBHOOK_ALLOW_PRIVATE=1`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

mod imports;
mod manage;
mod managed;
mod spec;

pub use manage::{DeliveryView, EndpointView, OwnerNotice, one, overview, resend, resume};
pub use managed::{EndpointRequest, ManageError, change, create, remove, rewrap, rotate, sealed_secrets};
pub use spec::{Endpoint, WebhookSpec, declare, declared};

use super::ServiceError;
use crate::crypto::Keyring;
use crate::db::ledger::ConsentEvent;
use crate::db::webhooks::{self as stored, Delivery, EndpointState};
use crate::db::{Db, DbConnection};
use crate::domain::ledger::ledger_time;
use crate::domain::webhooks::{self as rules, event_type, wants};

/// How long both secrets sign after a rotation.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Events read from the ledger per endpoint and pass.
const PAGE: i64 = 100;

/// Delivers to the endpoints the workspace file declares and to those declared in the console or
/// through the API (read again on every round, so a change there takes effect at once).
pub struct Dispatcher {
    pub db: Db,
    pub keyring: std::sync::Arc<Keyring>,
    /// The workspace file's endpoints.
    pub endpoints: Vec<Endpoint>,
    pub client: reqwest::Client,
    pub allow_private: bool,
    /// Divides every wait between attempts (tests; 1 in production).
    pub speedup: u32,
    /// The owners are told when an endpoint is given up on.
    pub notice: OwnerNotice,
    /// Wakes the mail delivery loop.
    pub mail_queued: std::sync::Arc<tokio::sync::Notify>,
}

/// One event as POSTed.
#[derive(Debug, Serialize)]
struct Payload<'a, D: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: String,
    data: D,
}

#[derive(Debug, Serialize)]
struct EventData<'a> {
    seq: i64,
    event_id: &'a str,
    subject_id: &'a str,
    external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    purpose: &'a str,
    action: &'a str,
    occurred_at: String,
    policy_version_id: &'a str,
    method: &'a str,
}

impl Dispatcher {
    /// Waits until there is an endpoint and no other process delivers (on PostgreSQL, an
    /// advisory lock), then delivers forever (the file's endpoints were declared at start:
    /// [`declare`]).
    pub async fn run_when_alone(self) {
        while self.endpoints.is_empty() && !self.blocking(|conn| Ok(stored::any(conn)?)).await.unwrap_or(false) {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        let lock = loop {
            let url = self.db.url.clone();
            match tokio::task::spawn_blocking(move || crate::db::JobLock::try_acquire(&url, "webhooks")).await {
                Ok(Ok(Some(lock))) => break lock,
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot take the webhook lock"),
                _ => {}
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        };
        tracing::info!(declared_in_file = self.endpoints.len(), "delivering webhooks");
        self.run().await;
        drop(lock);
    }

    async fn run(&self) {
        loop {
            let mut busy = false;
            let keyring = self.keyring.clone();
            let managed = match self.blocking(move |conn| managed::endpoints(conn, &keyring)).await {
                Ok(managed) => managed,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the webhook endpoints");
                    Vec::new()
                }
            };
            for endpoint in self.endpoints.iter().chain(&managed) {
                match self.pass(endpoint).await {
                    Ok(delivered) => busy |= delivered,
                    Err(e) => tracing::warn!(endpoint = %endpoint.name, error = %e, "webhook pass failed"),
                }
            }
            if !busy {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let pool = self.db.pool.clone();
        tokio::task::spawn_blocking(move || work(&mut *pool.get().map_err(|_| ServiceError::Unavailable)?))
            .await
            .map_err(|_| ServiceError::Unavailable)?
    }

    /// One step for one endpoint: its due delivery, or the next events after its cursor.
    /// Answers whether anything was sent.
    async fn pass(&self, endpoint: &Endpoint) -> Result<bool, ServiceError> {
        let name = endpoint.name.clone();
        let (state, pending) =
            self.blocking(move |conn| Ok((stored::endpoint(conn, &name)?, stored::pending(conn, &name)?))).await?;
        let Some(state) = state.filter(|s| s.enabled) else { return Ok(false) };
        let now = Utc::now().naive_utc();
        if let Some(delivery) = pending {
            if delivery.next_attempt_at.is_some_and(|at| at > now) {
                return Ok(false);
            }
            self.attempt(endpoint, &state, delivery).await?;
            return Ok(true);
        }
        if wants(&endpoint.events, rules::IMPORT_COMPLETED) {
            let (writer, seen) = (self.db.writer.clone(), state.clone());
            let at = ledger_time(now);
            if let Some(delivery) = self.blocking(move |conn| imports::queue_next(&writer, conn, &seen, at)).await? {
                self.attempt(endpoint, &state, delivery).await?;
                return Ok(true);
            }
        }
        let cursor = state.cursor;
        let events = self.blocking(move |conn| Ok(crate::db::ledger::after(conn, cursor, PAGE)?)).await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(false) };
        match events.iter().find(|e| wants(&endpoint.events, &event_type(&e.action, &e.purpose_key))) {
            Some(event) => {
                // Skip what it does not want up to this event, then hand it over.
                let (name, seq, kind) =
                    (endpoint.name.clone(), event.seq, event_type(&event.action, &event.purpose_key));
                let delivery = Delivery::queued(&name, format!("msg_{}", event.id), seq, kind, ledger_time(now));
                let (writer, queued) = (self.db.writer.clone(), delivery.clone());
                self.blocking(move |_| {
                    writer.write_blocking(move |tx| {
                        stored::advance(tx.conn, &name, seq - 1, queued.created_at)?;
                        stored::insert_delivery(tx.conn, &queued)?;
                        Ok::<_, ServiceError>(())
                    })
                })
                .await?;
                self.attempt(endpoint, &state, delivery).await?;
                Ok(true)
            }
            None => {
                let (writer, name, at) = (self.db.writer.clone(), endpoint.name.clone(), ledger_time(now));
                self.blocking(move |_| writer.write_blocking(move |tx| Ok(stored::advance(tx.conn, &name, last, at)?)))
                    .await?;
                Ok(false)
            }
        }
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        state: &EndpointState,
        mut delivery: Delivery,
    ) -> Result<(), ServiceError> {
        let (seq, keyring, include_email) = (delivery.seq, self.keyring.clone(), endpoint.include_email);
        let announced = delivery.clone();
        let body = self
            .blocking(move |conn| match announced.event_type.as_str() {
                rules::IMPORT_COMPLETED => {
                    Ok(imports::payload(conn, &announced)?.map(|body| (rules::IMPORT_COMPLETED.to_owned(), body)))
                }
                _ => payload(conn, &keyring, seq, include_email),
            })
            .await?;
        let started = Instant::now();
        let outcome = match body {
            Some((kind, body)) => self.post(endpoint, state, &delivery.id, &kind, body).await,
            // The event is gone (never: the ledger is append-only); nothing to deliver.
            None => Ok(200),
        };
        let now = ledger_time(Utc::now().naive_utc());
        delivery.latency_ms = Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
        let reason = match &outcome {
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e.clone(),
        };
        let disable = settle(&mut delivery, outcome, now, self.speedup);
        if delivery.status != "delivered" {
            tracing::warn!(endpoint = %endpoint.name, delivery = %delivery.id, attempts = delivery.attempts, reason, "webhook delivery failed");
        }
        let (writer, name, keyring) = (self.db.writer.clone(), endpoint.name.clone(), self.keyring.clone());
        let (done, notice) = (delivery.clone(), self.notice.clone());
        let told = self
            .blocking(move |_| {
                writer.write_blocking(move |tx| {
                    stored::record_attempt(tx.conn, &done)?;
                    if done.status == "delivered" {
                        stored::advance(tx.conn, &name, done.seq, now)?;
                    }
                    let Some(reason) = &disable else { return Ok::<_, ServiceError>(0) };
                    stored::disable(tx.conn, &name, reason, now)?;
                    let told = notice.tell(tx.conn, &keyring, &name, reason, &done.id)?;
                    tracing::error!(endpoint = %name, reason, owners_told = told, "webhook endpoint disabled: resume it in the console once the receiver works");
                    Ok(told)
                })
            })
            .await?;
        if told > 0 {
            self.mail_queued.notify_one();
        }
        Ok(())
    }

    /// POSTs one signed message; the response status, or why there was none.
    async fn post(
        &self,
        endpoint: &Endpoint,
        state: &EndpointState,
        id: &str,
        kind: &str,
        body: Vec<u8>,
    ) -> Result<u16, String> {
        if !self.allow_private {
            let host = endpoint.url.host_str().unwrap_or_default().to_owned();
            let port = endpoint.url.port_or_known_default().unwrap_or(443);
            let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| "the host does not resolve".to_owned())?
                .collect();
            if addresses.is_empty() || addresses.iter().any(|a| !rules::is_public(a.ip())) {
                return Err("the host resolves to a private, loopback or link-local address (ASSENT_WEBHOOK_ALLOW_PRIVATE=1 allows it)".into());
            }
        }
        let timestamp = Utc::now().timestamp();
        let signature = self.signature(endpoint, state, id, timestamp, &body);
        let response = self
            .client
            .post(endpoint.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("user-agent", concat!("Assent-Webhooks/", env!("CARGO_PKG_VERSION")))
            .header("x-assent-event", kind)
            .timeout(Duration::from_secs(15))
            .body(body)
            .send()
            .await
            .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { "no connection".to_owned() })?;
        Ok(response.status().as_u16())
    }

    /// `v1,<base64 HMAC-SHA256>` under the secret, and under the previous one too during the 24
    /// hours after a rotation.
    fn signature(&self, endpoint: &Endpoint, state: &EndpointState, id: &str, timestamp: i64, body: &[u8]) -> String {
        let content = rules::signed_content(id, timestamp, body);
        let sign = |secret: &[u8]| {
            let mut mac =
                <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"));
            mac.update(&content);
            format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
        };
        let mut signatures = vec![sign(&endpoint.secret)];
        let overlapping = state.rotated_at.is_some_and(|at| Utc::now().naive_utc() < at + ROTATION_OVERLAP);
        if let (true, Some(previous)) = (overlapping, &endpoint.previous) {
            signatures.push(sign(previous));
        }
        signatures.join(" ")
    }
}

/// Records one attempt's outcome in `delivery`; answers why to disable the endpoint, when this
/// was the last attempt there will be.
fn settle(delivery: &mut Delivery, outcome: Result<u16, String>, now: NaiveDateTime, speedup: u32) -> Option<String> {
    delivery.attempts += 1;
    if let Ok(status) = outcome
        && (200..300).contains(&status)
    {
        delivery.status = "delivered".into();
        delivery.response_status = Some(i64::from(status));
        delivery.delivered_at = Some(now);
        delivery.next_attempt_at = None;
        return None;
    }
    delivery.response_status = outcome.as_ref().ok().map(|s| i64::from(*s));
    match rules::retry_after(u32::try_from(delivery.attempts).unwrap_or(u32::MAX)) {
        Some(wait) => {
            delivery.next_attempt_at = Some(now + wait / i32::try_from(speedup.max(1)).unwrap_or(1));
            None
        }
        None => {
            delivery.status = "failed".into();
            Some(format!("{} attempts over more than three days failed", delivery.attempts))
        }
    }
}

/// The JSON body for the event at `seq`: its type and bytes.
fn payload(
    conn: &mut DbConnection,
    keyring: &Keyring,
    seq: i64,
    include_email: bool,
) -> Result<Option<(String, Vec<u8>)>, ServiceError> {
    let Some(event) = crate::db::ledger::after(conn, seq - 1, 1)?.into_iter().next().filter(|e| e.seq == seq) else {
        return Ok(None);
    };
    let external: HashMap<String, String> = super::external_ids::of(conn, keyring, &[event.subject_id.as_str()])?;
    let email = if include_email { email_of(conn, keyring, &event)? } else { None };
    let kind = event_type(&event.action, &event.purpose_key);
    let body = Payload {
        kind: &kind,
        timestamp: rfc3339(Utc::now().naive_utc()),
        data: EventData {
            seq: event.seq,
            event_id: &event.id,
            subject_id: &event.subject_id,
            external_id: external.get(&event.subject_id).cloned(),
            email,
            purpose: &event.purpose_key,
            action: &event.action,
            occurred_at: rfc3339(event.occurred_at),
            policy_version_id: &event.policy_version_id,
            method: &event.method,
        },
    };
    Ok(Some((kind.clone(), serde_json::to_vec(&body).unwrap_or_default())))
}

/// The person's address, unless they were erased.
fn email_of(conn: &mut DbConnection, keyring: &Keyring, event: &ConsentEvent) -> Result<Option<String>, ServiceError> {
    use crate::services::subject::{SubjectError, live_subject};
    match live_subject(conn, keyring, &event.subject_id).and_then(|live| live.email()) {
        Ok(email) => Ok(Some(email)),
        Err(SubjectError::NotFound | SubjectError::Erased) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
