//! What the console and the API do with webhooks: look at the endpoints and their deliveries,
//! resend one delivery, resume an endpoint that was given up on; and the owners' mail when one
//! is given up on.

use chrono::Utc;
use serde::Serialize;

use crate::crypto::Keyring;
use crate::db::webhooks::{self as stored, Delivery, EndpointState};
use crate::db::{DbConnection, Writer};
use crate::domain::Locale;
use crate::domain::ledger::ledger_time;
use crate::mail::MailContext;
use crate::services::ServiceError;
use crate::services::audit::{Actor, audit_action};

/// Deliveries shown per endpoint.
pub const RECENT: i64 = 50;

/// One endpoint as the console and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub include_email: bool,
    pub enabled: bool,
    /// Why it was given up on (while disabled).
    pub disabled_reason: Option<String>,
    /// Ledger events it has yet to be handed or skip.
    pub behind: i64,
    /// When a new secret was first seen; both sign for 24 hours from then.
    pub rotated_at: Option<String>,
    /// Declared in the console or through the API (changed there); otherwise the workspace file
    /// declares it (changed in the file).
    pub managed: bool,
    /// The newest deliveries first.
    pub deliveries: Vec<DeliveryView>,
}

/// One delivery: one event to one endpoint, however many attempts it took.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` it is sent with (the same on every attempt and resend).
    pub id: String,
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// The HTTP status of the last answer, if there was one.
    pub response_status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
}

fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            seq: d.seq,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            response_status: d.response_status,
            latency_ms: d.latency_ms,
            created_at: rfc3339(d.created_at),
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            delivered_at: d.delivered_at.map(rfc3339),
        }
    }
}

fn view(conn: &mut DbConnection, state: EndpointState, head: i64) -> Result<EndpointView, ServiceError> {
    let deliveries = stored::recent(conn, Some(&state.name), RECENT)?.into_iter().map(DeliveryView::from).collect();
    Ok(EndpointView {
        events: state.events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
        behind: (head - state.cursor).max(0),
        rotated_at: state.rotated_at.map(rfc3339),
        name: state.name,
        url: state.url,
        include_email: state.include_email,
        managed: state.managed,
        enabled: state.enabled,
        disabled_reason: state.disabled_reason,
        deliveries,
    })
}

/// Every endpoint recorded, with its latest deliveries.
pub fn overview(conn: &mut DbConnection) -> Result<Vec<EndpointView>, ServiceError> {
    let head = crate::db::ledger::head_seq(conn)?;
    stored::all_endpoints(conn)?.into_iter().map(|state| view(conn, state, head)).collect()
}

/// One endpoint, if it is recorded.
pub fn one(conn: &mut DbConnection, name: &str) -> Result<Option<EndpointView>, ServiceError> {
    let head = crate::db::ledger::head_seq(conn)?;
    stored::endpoint(conn, name)?.map(|state| view(conn, state, head)).transpose()
}

/// Sends one delivery again (same `webhook-id`, so a receiver that saw it can tell), ahead of
/// the queue; audited. Answers whether there was such a delivery.
pub fn resend(writer: &Writer, actor: &Actor, endpoint: &str, id: &str) -> Result<bool, ServiceError> {
    let (actor, endpoint, id) = (actor.clone(), endpoint.to_owned(), id.to_owned());
    writer.write_blocking(move |tx| {
        let found = stored::requeue(tx.conn, &endpoint, &id)?;
        if found {
            audit_action(tx.conn, &actor, "webhook_resent", None, &format!("{endpoint} {id}"))?;
        }
        Ok(found)
    })
}

/// Turns an endpoint that was given up on back on; its failed deliveries go again, in order,
/// and then everything after them. Audited. Answers whether the endpoint was disabled
/// (`None`: no such endpoint).
pub fn resume(writer: &Writer, actor: &Actor, endpoint: &str) -> Result<Option<bool>, ServiceError> {
    let (actor, endpoint) = (actor.clone(), endpoint.to_owned());
    writer.write_blocking(move |tx| {
        if stored::endpoint(tx.conn, &endpoint)?.is_none() {
            return Ok(None);
        }
        let resumed = stored::resume(tx.conn, &endpoint, ledger_time(Utc::now().naive_utc()))?;
        if resumed {
            audit_action(tx.conn, &actor, "webhook_resumed", None, &endpoint)?;
        }
        Ok(Some(resumed))
    })
}

/// Who to tell when an endpoint is given up on, and how.
#[derive(Debug, Clone)]
pub struct OwnerNotice {
    pub mail: MailContext,
    pub locale: Locale,
}

impl OwnerNotice {
    /// Queues a mail to every owner of the console saying which endpoint was given up on, why,
    /// and where to resume it; in the transaction that disables it. Answers how many were queued.
    pub fn tell(
        &self,
        conn: &mut DbConnection,
        keyring: &Keyring,
        endpoint: &str,
        reason: &str,
        delivery: &str,
    ) -> Result<usize, ServiceError> {
        let link = format!("{}/admin/webhooks?lang={}", self.mail.base_url, self.locale.as_str());
        let content = crate::mail::messages::webhook_disabled(self.locale, endpoint, reason, &link);
        let mut queued = 0;
        for owner in crate::db::owners::active_with_role(conn, "owner")? {
            let mail = crate::mail::compose(&self.mail, &owner.email, &content, None)
                .map_err(|e| ServiceError::Mail(e.to_string()))?;
            let dedupe = format!("webhook-disabled:{endpoint}:{delivery}:{}", owner.id);
            if crate::mail::enqueue(conn, keyring, "webhook_disabled", &dedupe, None, &mail)? {
                queued += 1;
            }
        }
        Ok(queued)
    }
}
