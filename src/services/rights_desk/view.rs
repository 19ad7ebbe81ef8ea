//! Requests as the desk shows them (the console and the API): their texts opened, their
//! deadline judged against now, listed in keyset pages.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::texts;
use crate::crypto::Keyring;
use crate::db::DbConnection;
use crate::db::rights::{self, DeskFilter, RightsRequest};
use crate::domain::rights::RequestState;
use crate::services::ServiceError;

/// How many requests a page holds.
pub const PAGE: i64 = 50;

/// A rights request on the desk.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    pub subject_id: String,
    /// `access`, `rectification`, `erasure`, `restriction`, `objection`, `portability` or `withdrawal`.
    pub kind: String,
    /// `web`, `email`, `phone`, `letter`, `in_person` or `api` (self-service: the door it came through).
    pub channel: String,
    /// `received`, `verified`, `in_progress`, `extended`, `completed` or `refused`.
    pub state: String,
    /// `gdpr`, `pipa` or `ccpa`.
    pub regime: String,
    /// UTC, RFC 3339.
    pub received_at: String,
    pub due_at: String,
    pub completed_at: Option<String>,
    /// The staff account working it.
    pub assignee: Option<String>,
    /// Still open past its deadline, or answered after it.
    pub overdue: bool,
    /// What the requester wrote or said (empty once the person is erased).
    pub detail: String,
    /// Why it was extended or refused.
    pub reason: String,
    #[serde(skip)]
    pub received: NaiveDateTime,
    #[serde(skip)]
    pub due: NaiveDateTime,
    #[serde(skip)]
    pub completed: Option<NaiveDateTime>,
    #[serde(skip)]
    pub open: bool,
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A request as shown, its texts opened (`keyring`) or left out (`None`: lists of many).
pub fn view(conn: &mut DbConnection, keyring: Option<&Keyring>, r: RightsRequest, now: NaiveDateTime) -> RequestView {
    let opened = keyring.map(|k| texts(conn, k, &r)).unwrap_or_default();
    let open = RequestState::parse(&r.state).is_some_and(RequestState::is_open);
    let overdue = r.completed_at.map_or(now > r.due_at, |done| done > r.due_at);
    RequestView {
        detail: if opened.note.is_empty() { r.detail.clone() } else { opened.note },
        reason: opened.reason,
        received_at: rfc3339(r.received_at),
        due_at: rfc3339(r.due_at),
        completed_at: r.completed_at.map(rfc3339),
        received: r.received_at,
        due: r.due_at,
        completed: r.completed_at,
        overdue,
        open,
        id: r.id,
        subject_id: r.subject_id,
        kind: r.kind,
        channel: r.channel,
        state: r.state,
        regime: r.regime,
        assignee: r.assignee,
    }
}

/// A page position: the (time, id) of the last row shown (due time for work, receipt time for
/// self-service).
pub type Cursor = (NaiveDateTime, String);

/// One page of the desk, and where the next one starts.
pub fn page(
    conn: &mut DbConnection,
    filter: &DeskFilter,
    after: Option<&Cursor>,
    now: NaiveDateTime,
) -> Result<(Vec<RequestView>, Option<Cursor>), ServiceError> {
    let mut rows = rights::desk_page(conn, filter, after, PAGE + 1)?;
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| (if filter.self_service { r.received_at } else { r.due_at }, r.id.clone()))
    } else {
        None
    };
    Ok((rows.into_iter().map(|r| view(conn, None, r, now)).collect(), next))
}

/// One request, its texts opened; `None` if there is no such request on the desk.
pub fn one(
    conn: &mut DbConnection,
    keyring: &Keyring,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<RequestView>, ServiceError> {
    Ok(rights::request(conn, id)?.map(|r| view(conn, Some(keyring), r, now)))
}
