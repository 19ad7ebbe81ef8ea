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
    pub cursor: i64,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret_fingerprint: String,
    pub previous_fingerprint: Option<String>,
    pub rotated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
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

pub fn endpoint(conn: &mut DbConnection, name: &str) -> QueryResult<Option<EndpointState>> {
    webhook_endpoints::table.find(name).select(EndpointState::as_select()).first(conn).optional()
}

pub fn insert_endpoint(conn: &mut DbConnection, state: &EndpointState) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table).values(state).execute(conn).map(|_| ())
}

/// Records a declared endpoint's URL and secret (a rotation when the fingerprint changed).
pub fn redeclare(
    conn: &mut DbConnection,
    name: &str,
    url: &str,
    fingerprint: &str,
    rotated: Option<(&str, NaiveDateTime)>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let target = webhook_endpoints::table.find(name);
    match rotated {
        Some((previous, when)) => diesel::update(target)
            .set((
                webhook_endpoints::url.eq(url),
                webhook_endpoints::secret_fingerprint.eq(fingerprint),
                webhook_endpoints::previous_fingerprint.eq(Some(previous)),
                webhook_endpoints::rotated_at.eq(Some(when)),
                webhook_endpoints::updated_at.eq(at),
            ))
            .execute(conn),
        None => diesel::update(target)
            .set((webhook_endpoints::url.eq(url), webhook_endpoints::updated_at.eq(at)))
            .execute(conn),
    }
    .map(|_| ())
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
    diesel::update(webhook_deliveries::table.find(&d.id))
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

/// The latest deliveries, newest first (the console's list).
pub fn recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .order(webhook_deliveries::created_at.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}
