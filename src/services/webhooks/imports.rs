//! `import.completed`: each real import (not a dry run) announced to the endpoints that want it,
//! once everything it recorded has been handed to them (so after its own consent events).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{Payload, rfc3339};
use crate::db::DbConnection;
use crate::db::imports;
use crate::db::webhooks::{self as stored, Delivery, EndpointState};
use crate::domain::webhooks::IMPORT_COMPLETED;
use crate::services::ServiceError;

/// The `webhook-id` of an import's announcement.
pub(super) fn message_id(import_id: &str) -> String {
    format!("msg_import_{import_id}")
}

/// The next import to announce to `state`'s endpoint, queued as its delivery (and the imports
/// cursor moved past it) in one transaction; `None` while there is none, or while its consent
/// events are still ahead of the endpoint's cursor.
pub(super) fn queue_next(
    writer: &crate::db::Writer,
    conn: &mut DbConnection,
    state: &EndpointState,
    now: NaiveDateTime,
) -> Result<Option<Delivery>, ServiceError> {
    let Some(import) = imports::next_finished(conn, state.imports_cursor)? else { return Ok(None) };
    let (Some(finished), seq) = (import.finished_at, import.ledger_seq.unwrap_or(0)) else { return Ok(None) };
    if seq > state.cursor {
        return Ok(None);
    }
    let delivery = Delivery::queued(&state.name, message_id(&import.id), seq, IMPORT_COMPLETED.into(), now);
    let queued = delivery.clone();
    writer.write_blocking(move |tx| {
        stored::advance_imports(tx.conn, &queued.endpoint, finished)?;
        stored::insert_delivery(tx.conn, &queued)?;
        Ok::<_, ServiceError>(())
    })?;
    Ok(Some(delivery))
}

#[derive(Debug, Serialize)]
struct ImportData<'a> {
    /// The ledger's last sequence number when it finished.
    seq: i64,
    import_id: &'a str,
    form: &'a str,
    file_sha256: &'a str,
    /// Whether anything was written.
    written: bool,
    /// `done`, or `failed` (stopped midway: what was written before stands).
    status: &'a str,
    totals: serde_json::Value,
    finished_at: String,
}

/// The JSON body announcing the import `delivery` is for (no personal data: ids and counts).
pub(super) fn payload(conn: &mut DbConnection, delivery: &Delivery) -> Result<Option<Vec<u8>>, ServiceError> {
    let Some(id) = delivery.id.strip_prefix("msg_import_") else { return Ok(None) };
    let Some(import) = imports::find(conn, id)? else { return Ok(None) };
    let body = Payload {
        kind: IMPORT_COMPLETED,
        timestamp: rfc3339(chrono::Utc::now().naive_utc()),
        data: ImportData {
            seq: delivery.seq,
            import_id: &import.id,
            form: &import.form_key,
            file_sha256: &import.file_sha256,
            written: import.written,
            status: &import.status,
            totals: serde_json::from_str(&import.totals).unwrap_or(serde_json::Value::Null),
            finished_at: import.finished_at.map(rfc3339).unwrap_or_default(),
        },
    };
    Ok(Some(serde_json::to_vec(&body).unwrap_or_default()))
}
