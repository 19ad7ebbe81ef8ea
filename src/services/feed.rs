//! The event feed (`GET /api/v1/events`): every consent event in ledger order, after a cursor,
//! so that a CRM can rebuild its view of everyone's consent from zero or catch up after an
//! outage. The cursor is the ledger's sequence number of the last event seen: events are
//! appended in that order under the ledger head's lock and never change, so a page once read
//! reads the same for ever and nothing is skipped between pages. Nothing personal is in it
//! beyond ids: no address, no value, no evidence.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ServiceError;
use crate::crypto::Keyring;
use crate::db::{DbConnection, ledger};

/// Events per page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;
/// The most events one page holds.
pub const MAX_LIMIT: i64 = 1000;

/// A cursor as sent: a decimal ledger sequence number, 0 for the start.
pub fn parse_cursor(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// A page size as sent: 1 to [`MAX_LIMIT`].
pub fn parse_limit(raw: &str) -> Option<i64> {
    parse_cursor(raw).filter(|n| (1..=MAX_LIMIT).contains(n))
}

/// One consent event, as the feed shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedEvent {
    /// The event's number in the ledger (1, 2, …); a page's last one is its `next_cursor`.
    pub seq: i64,
    /// Its leaf in the ledger's Merkle tree (`seq − 1`), for `/.well-known/assent/proof-by-hash`.
    pub leaf_index: i64,
    pub hash: String,
    pub subject_id: String,
    /// Your id for the person, when one is attached (`PUT /api/v1/subjects/{id}/external-id`).
    pub external_id: Option<String>,
    /// The purpose's key; `*` for an erasure of someone who held no consent in force.
    pub purpose: String,
    /// `granted`, `pending`, `confirmed`, `notified`, `withdrawn`, `renewed`, `expired` or `erased`.
    pub action: String,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
    pub policy_version_id: String,
    /// How it was given: `form`, `api`, `preference_center`, `email_link`, `retention`, …
    pub method: String,
}

/// One page of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    /// Oldest first.
    pub events: Vec<FeedEvent>,
    /// What to pass as `after` for the next page: the last event's `seq`, or the cursor given
    /// when there was nothing after it (ask again later).
    pub next_cursor: String,
    /// Whether more events follow already.
    pub has_more: bool,
}

impl FeedPage {
    /// The people the page names, each once.
    pub fn subjects(&self) -> Vec<String> {
        let named: BTreeSet<&str> = self.events.iter().map(|e| e.subject_id.as_str()).collect();
        named.into_iter().map(str::to_owned).collect()
    }
}

/// Up to `limit` events after `after`, with the external ids of the people they name.
pub fn page(conn: &mut DbConnection, keyring: &Keyring, after: i64, limit: i64) -> Result<FeedPage, ServiceError> {
    let mut rows = ledger::after(conn, after, limit + 1)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or_default());
    let named: BTreeSet<&str> = rows.iter().map(|e| e.subject_id.as_str()).collect();
    let named: Vec<&str> = named.into_iter().collect();
    let external: HashMap<String, String> = super::external_ids::of(conn, keyring, &named)?;
    let next_cursor = rows.last().map_or(after, |e| e.seq).to_string();
    let events = rows
        .into_iter()
        .map(|e| FeedEvent {
            seq: e.seq,
            leaf_index: e.seq - 1,
            external_id: external.get(&e.subject_id).cloned(),
            hash: e.hash,
            subject_id: e.subject_id,
            purpose: e.purpose_key,
            action: e.action,
            occurred_at: e.occurred_at.and_utc(),
            policy_version_id: e.policy_version_id,
            method: e.method,
        })
        .collect();
    Ok(FeedPage { events, next_cursor, has_more })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_and_limits_are_plain_decimals_in_range() {
        assert_eq!(parse_cursor("0"), Some(0));
        assert_eq!(parse_cursor("42"), Some(42));
        for bad in ["", "-1", "+1", " 1", "1.0", "abc", "99999999999999999999"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
        assert_eq!(parse_limit("1"), Some(1));
        assert_eq!(parse_limit("1000"), Some(1000));
        for bad in ["0", "1001", "-5", "x"] {
            assert_eq!(parse_limit(bad), None, "{bad:?}");
        }
    }
}
