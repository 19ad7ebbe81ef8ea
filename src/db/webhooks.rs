//! Webhook endpoints' delivery state and their deliveries. The events themselves are the ledger's:
//! an endpoint's cursor is the last ledger sequence number it has been handed (or skipped), so a
//! change is "queued" for every endpoint by the very append that records it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{webhook_deliveries, webhook_endpoints};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointState {
    pub name: String,
    pub url: String,
    /// The declared event patterns, comma-separated.
    pub events: String,
    pub include_email: bool,
    pub cursor: i64,
    /// When the last import announced (or passed over) finished.
    pub imports_cursor: NaiveDateTime,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret_fingerprint: String,
    pub previous_fingerprint: Option<String>,
    pub rotated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Declared in the console or through the API (its secret sealed here), not in the file.
    pub managed: bool,
    /// A managed endpoint's secret, sealed under the master key.
    pub secret_sealed: Option<Vec<u8>>,
    /// The secret being rotated out, sealed likewise.
    pub previous_sealed: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub endpoint: String,
    pub seq: i64,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub response_status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

impl Delivery {
    /// A delivery about to be made for the first time.
    pub fn queued(endpoint: &str, id: String, seq: i64, event_type: String, at: NaiveDateTime) -> Self {
        Self {
            id,
            endpoint: endpoint.to_owned(),
            seq,
            event_type,
            status: "pending".into(),
            attempts: 0,
            response_status: None,
            latency_ms: None,
            next_attempt_at: None,
            created_at: at,
            delivered_at: None,
        }
    }
}

pub fn endpoint(conn: &mut DbConnection, name: &str) -> QueryResult<Option<EndpointState>> {
    webhook_endpoints::table.find(name).select(EndpointState::as_select()).first(conn).optional()
}

pub fn insert_endpoint(conn: &mut DbConnection, state: &EndpointState) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table).values(state).execute(conn).map(|_| ())
}

/// Every endpoint recorded, by name.
pub fn all_endpoints(conn: &mut DbConnection) -> QueryResult<Vec<EndpointState>> {
    webhook_endpoints::table.order(webhook_endpoints::name.asc()).select(EndpointState::as_select()).load(conn)
}

/// Records a declared endpoint's URL, events and secret (a rotation when the fingerprint changed).
pub fn redeclare(
    conn: &mut DbConnection,
    declared: &EndpointState,
    rotated: Option<(&str, NaiveDateTime)>,
) -> QueryResult<()> {
    let target = webhook_endpoints::table.find(&declared.name);
    let at = declared.updated_at;
    let described = (
        webhook_endpoints::url.eq(&declared.url),
        webhook_endpoints::events.eq(&declared.events),
        webhook_endpoints::include_email.eq(declared.include_email),
        webhook_endpoints::updated_at.eq(at),
    );
    match rotated {
        Some((previous, when)) => diesel::update(target)
            .set((
                described,
                webhook_endpoints::secret_fingerprint.eq(&declared.secret_fingerprint),
                webhook_endpoints::previous_fingerprint.eq(Some(previous)),
                webhook_endpoints::rotated_at.eq(Some(when)),
            ))
            .execute(conn),
        None => diesel::update(target).set(described).execute(conn),
    }
    .map(|_| ())
}

/// The endpoints declared in the console or through the API.
pub fn managed(conn: &mut DbConnection) -> QueryResult<Vec<EndpointState>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::managed.eq(true))
        .order(webhook_endpoints::name.asc())
        .select(EndpointState::as_select())
        .load(conn)
}

/// Whether any endpoint is recorded (the dispatcher sleeps while there is none).
pub fn any(conn: &mut DbConnection) -> QueryResult<bool> {
    let found: Option<String> = webhook_endpoints::table.select(webhook_endpoints::name).first(conn).optional()?;
    Ok(found.is_some())
}

/// Changes where a managed endpoint sends and what.
pub fn describe(
    conn: &mut DbConnection,
    name: &str,
    url: &str,
    events: &str,
    include_email: bool,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(name).filter(webhook_endpoints::managed.eq(true)))
        .set((
            webhook_endpoints::url.eq(url),
            webhook_endpoints::events.eq(events),
            webhook_endpoints::include_email.eq(include_email),
            webhook_endpoints::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A managed endpoint's new secret; the one it replaces signs beside it for a while.
pub struct Rotation<'a> {
    pub sealed: &'a [u8],
    pub fingerprint: &'a str,
    pub previous_sealed: &'a [u8],
    pub previous_fingerprint: &'a str,
    pub at: NaiveDateTime,
}

pub fn rotate(conn: &mut DbConnection, name: &str, r: &Rotation<'_>) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(name).filter(webhook_endpoints::managed.eq(true)))
        .set((
            webhook_endpoints::secret_sealed.eq(Some(r.sealed)),
            webhook_endpoints::secret_fingerprint.eq(r.fingerprint),
            webhook_endpoints::previous_sealed.eq(Some(r.previous_sealed)),
            webhook_endpoints::previous_fingerprint.eq(Some(r.previous_fingerprint)),
            webhook_endpoints::rotated_at.eq(Some(r.at)),
            webhook_endpoints::updated_at.eq(r.at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Replaces a sealed secret (or the previous one) if it is still `old` (a master-key rotation
/// re-wrapping it); answers how many were replaced.
pub fn swap_sealed(conn: &mut DbConnection, name: &str, previous: bool, old: &[u8], new: &[u8]) -> QueryResult<usize> {
    let target = webhook_endpoints::table.find(name);
    if previous {
        diesel::update(target.filter(webhook_endpoints::previous_sealed.eq(old)))
            .set(webhook_endpoints::previous_sealed.eq(Some(new)))
            .execute(conn)
    } else {
        diesel::update(target.filter(webhook_endpoints::secret_sealed.eq(old)))
            .set(webhook_endpoints::secret_sealed.eq(Some(new)))
            .execute(conn)
    }
}

/// Forgets a managed endpoint and its deliveries; answers whether there was one.
pub fn remove(conn: &mut DbConnection, name: &str) -> QueryResult<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint.eq(name))).execute(conn)?;
    diesel::delete(webhook_endpoints::table.find(name).filter(webhook_endpoints::managed.eq(true)))
        .execute(conn)
        .map(|n| n == 1)
}

/// Records that the imports finished up to `at` have been announced to (or passed over for)
/// the endpoint.
pub fn advance_imports(conn: &mut DbConnection, name: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(name).filter(webhook_endpoints::imports_cursor.lt(at)))
        .set(webhook_endpoints::imports_cursor.eq(at))
        .execute(conn)
        .map(|_| ())
}

/// Turns a disabled endpoint back on and puts its failed deliveries back in the queue, from
/// their first attempt; answers whether the endpoint was disabled.
pub fn resume(conn: &mut DbConnection, name: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let resumed = diesel::update(webhook_endpoints::table.find(name).filter(webhook_endpoints::enabled.eq(false)))
        .set((
            webhook_endpoints::enabled.eq(true),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::updated_at.eq(at),
        ))
        .execute(conn)?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint.eq(name))
            .filter(webhook_deliveries::status.eq("failed")),
    )
    .set(requeued())
    .execute(conn)?;
    Ok(resumed == 1)
}

/// What a delivery put back in the queue is: due now, from its first attempt.
#[allow(clippy::type_complexity)]
fn requeued() -> (
    diesel::dsl::Eq<webhook_deliveries::status, &'static str>,
    diesel::dsl::Eq<webhook_deliveries::attempts, i64>,
    diesel::dsl::Eq<webhook_deliveries::next_attempt_at, Option<NaiveDateTime>>,
) {
    (
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(None),
    )
}

/// Puts one delivery back in the queue (a resend, with the same `webhook-id`); answers whether
/// there was such a delivery.
pub fn requeue(conn: &mut DbConnection, endpoint: &str, id: &str) -> QueryResult<bool> {
    diesel::update(webhook_deliveries::table.find((endpoint, id))).set(requeued()).execute(conn).map(|n| n == 1)
}

pub fn delivery(conn: &mut DbConnection, endpoint: &str, id: &str) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table.find((endpoint, id)).select(Delivery::as_select()).first(conn).optional()
}

pub fn advance(conn: &mut DbConnection, name: &str, cursor: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(name).filter(webhook_endpoints::cursor.lt(cursor)))
        .set((webhook_endpoints::cursor.eq(cursor), webhook_endpoints::updated_at.eq(at)))
        .execute(conn)
        .map(|_| ())
}

pub fn disable(conn: &mut DbConnection, name: &str, reason: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(name))
        .set((
            webhook_endpoints::enabled.eq(false),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
            webhook_endpoints::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The endpoint's delivery still to be made (there is at most one: deliveries go in order).
pub fn pending(conn: &mut DbConnection, endpoint: &str) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint.eq(endpoint))
        .filter(webhook_deliveries::status.eq("pending"))
        .order(webhook_deliveries::seq.asc())
        .select(Delivery::as_select())
        .first(conn)
        .optional()
}

pub fn insert_delivery(conn: &mut DbConnection, delivery: &Delivery) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table).values(delivery).execute(conn).map(|_| ())
}

/// Records an attempt's outcome.
pub fn record_attempt(conn: &mut DbConnection, d: &Delivery) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find((&d.endpoint, &d.id)))
        .set((
            webhook_deliveries::status.eq(&d.status),
            webhook_deliveries::attempts.eq(d.attempts),
            webhook_deliveries::response_status.eq(d.response_status),
            webhook_deliveries::latency_ms.eq(d.latency_ms),
            webhook_deliveries::next_attempt_at.eq(d.next_attempt_at),
            webhook_deliveries::delivered_at.eq(d.delivered_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The latest deliveries, newest first (the console's list), of one endpoint or of all.
pub fn recent(conn: &mut DbConnection, endpoint: Option<&str>, limit: i64) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table.into_boxed();
    if let Some(name) = endpoint {
        query = query.filter(webhook_deliveries::endpoint.eq(name.to_owned()));
    }
    query
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::seq.desc()))
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}
