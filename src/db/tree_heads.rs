//! Signed tree heads as stored, and the ledger's leaves (its events' chain hashes) in order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{consent_events, tree_heads};
use crate::domain::merkle::Hash;
use crate::domain::tree_head::{AccessHead, TreeHead};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tree_heads)]
struct Row {
    size: i64,
    root: String,
    signed_at: NaiveDateTime,
    key_id: String,
    signature: String,
    /// 0 for a v1 head (`access_hash` NULL).
    access_size: i64,
    access_hash: Option<String>,
}

impl From<Row> for TreeHead {
    fn from(r: Row) -> Self {
        Self {
            size: u64::try_from(r.size).unwrap_or_default(),
            root: r.root,
            signed_at: r.signed_at,
            key_id: r.key_id,
            signature: r.signature,
            access: r
                .access_hash
                .map(|hash| AccessHead { size: u64::try_from(r.access_size).unwrap_or_default(), hash }),
        }
    }
}

pub fn insert(conn: &mut DbConnection, head: &TreeHead) -> QueryResult<()> {
    let row = Row {
        size: i64::try_from(head.size).unwrap_or(i64::MAX),
        root: head.root.clone(),
        signed_at: head.signed_at,
        key_id: head.key_id.clone(),
        signature: head.signature.clone(),
        access_size: head.access.as_ref().map_or(0, |a| i64::try_from(a.size).unwrap_or(i64::MAX)),
        access_hash: head.access.as_ref().map(|a| a.hash.clone()),
    };
    diesel::insert_into(tree_heads::table).values(&row).execute(conn).map(|_| ())
}

pub fn latest(conn: &mut DbConnection) -> QueryResult<Option<TreeHead>> {
    let row: Option<Row> = tree_heads::table
        .order((tree_heads::size.desc(), tree_heads::access_size.desc()))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(TreeHead::from))
}

pub fn of_size(conn: &mut DbConnection, size: u64) -> QueryResult<Option<TreeHead>> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    // The newest head over that many events (after it, only the access records grew).
    let row: Option<Row> = tree_heads::table
        .filter(tree_heads::size.eq(size))
        .order(tree_heads::access_size.desc())
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(TreeHead::from))
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<TreeHead>> {
    let rows: Vec<Row> = tree_heads::table
        .order((tree_heads::size.asc(), tree_heads::access_size.asc()))
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(TreeHead::from).collect())
}

/// Every event's chain hash in `seq` order, from `after` (a seq) on: the tree's leaves. A hash
/// that is not 32 bytes of hex (tampering) becomes a leaf of zeros, which no root will match.
pub fn leaves_after(conn: &mut DbConnection, after: i64) -> QueryResult<Vec<Hash>> {
    let mut leaves = Vec::new();
    each_leaf_after(conn, after, |_, leaf| leaves.push(leaf))?;
    Ok(leaves)
}

/// [`leaves_after`], handed to `visit` with each event's seq a page at a time (nothing held).
pub fn each_leaf_after(conn: &mut DbConnection, after: i64, mut visit: impl FnMut(i64, Hash)) -> QueryResult<()> {
    const PAGE: i64 = 10_000;
    let mut from = after;
    loop {
        let page: Vec<(i64, String)> = consent_events::table
            .filter(consent_events::seq.gt(from))
            .order(consent_events::seq.asc())
            .limit(PAGE)
            .select((consent_events::seq, consent_events::hash))
            .load(conn)?;
        for (seq, hash) in &page {
            visit(*seq, leaf_of(hash));
        }
        match page.last() {
            Some((seq, _)) if page.len() as i64 == PAGE => from = *seq,
            _ => return Ok(()),
        }
    }
}

/// The leaf of the event `seq`, if there is one.
pub fn leaf_at(conn: &mut DbConnection, seq: i64) -> QueryResult<Option<Hash>> {
    let hash: Option<String> = consent_events::table.find(seq).select(consent_events::hash).first(conn).optional()?;
    Ok(hash.as_deref().map(leaf_of))
}

fn leaf_of(hash: &str) -> Hash {
    hex::decode(hash).ok().and_then(|h| Hash::try_from(h).ok()).unwrap_or([0; 32])
}

/// The seq and chain hash of every event recorded with `source` (a submission id), in order.
pub fn events_of_source(conn: &mut DbConnection, source: &str) -> QueryResult<Vec<(i64, String)>> {
    consent_events::table
        .filter(consent_events::source.eq(source))
        .order(consent_events::seq.asc())
        .select((consent_events::seq, consent_events::hash))
        .load(conn)
}
