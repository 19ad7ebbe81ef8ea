//! Access records as stored (migration 17): appended in chained batches after the locked
//! `access_head`, read back for the console and the CLI, verified, and pruned past retention.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{access_head, access_records};
use crate::domain::access::{AccessContent, AccessFault, AccessVerifier, Anchor, access_hash};
use crate::domain::ledger::ledger_time;

/// One access to record (before it has a place in the chain).
#[derive(Debug, Clone)]
pub struct NewAccess {
    pub occurred_at: NaiveDateTime,
    pub actor_kind: &'static str,
    pub actor_id: String,
    pub ip_pseudonym: Option<String>,
    pub subject_id: Option<String>,
    pub action: &'static str,
    pub path: String,
    /// How many identical accesses this stands for (1: one; see `services::access`).
    pub times: i64,
    /// When the last of them was (`None` for one access).
    pub last_at: Option<NaiveDateTime>,
}

/// A stored access record.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = access_records)]
pub struct AccessRecord {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: String,
    pub ip_pseudonym: Option<String>,
    pub subject_id: Option<String>,
    pub action: String,
    pub path: String,
    pub prev_hash: String,
    pub hash: String,
    pub times: i64,
    pub last_at: Option<NaiveDateTime>,
}

impl AccessRecord {
    pub fn content(&self) -> AccessContent<'_> {
        AccessContent {
            seq: self.seq,
            occurred_at: self.occurred_at,
            actor_kind: &self.actor_kind,
            actor_id: &self.actor_id,
            ip_pseudonym: self.ip_pseudonym.as_deref(),
            subject_id: self.subject_id.as_deref(),
            action: &self.action,
            path: &self.path,
            times: self.times,
            last_at: self.last_at,
        }
    }
}

/// The chain's tip and its pruning anchor.
#[derive(Debug, Clone)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub anchor: Anchor,
}

type HeadRow = (i64, String, i64, String, Option<NaiveDateTime>);

/// The head as committed (no lock).
pub fn head(conn: &mut DbConnection) -> QueryResult<Head> {
    let (seq, hash, pruned_seq, pruned_hash, pruned_at): HeadRow = access_head::table
        .find(1i64)
        .select((
            access_head::seq,
            access_head::hash,
            access_head::pruned_seq,
            access_head::pruned_hash,
            access_head::pruned_at,
        ))
        .first(conn)?;
    Ok(Head { seq, hash, anchor: Anchor { seq: pruned_seq, hash: pruned_hash, occurred_at: pruned_at } })
}

/// Locks the head row (a no-op `UPDATE`, which on PostgreSQL serialises appends across
/// processes) and reads it.
fn lock_head(conn: &mut DbConnection) -> QueryResult<Head> {
    diesel::update(access_head::table.find(1i64)).set(access_head::seq.eq(access_head::seq)).execute(conn)?;
    head(conn)
}

/// Chains `entries` after the head and inserts them, in the order given; advances the head.
/// Run it inside a transaction (the writer's).
pub fn append(conn: &mut DbConnection, entries: &[NewAccess]) -> QueryResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut tip = lock_head(conn)?;
    let rows: Vec<AccessRecord> = entries
        .iter()
        .map(|e| {
            let mut row = AccessRecord {
                seq: tip.seq + 1,
                occurred_at: ledger_time(e.occurred_at),
                actor_kind: e.actor_kind.to_owned(),
                actor_id: e.actor_id.clone(),
                ip_pseudonym: e.ip_pseudonym.clone(),
                subject_id: e.subject_id.clone(),
                action: e.action.to_owned(),
                path: e.path.clone(),
                prev_hash: tip.hash.clone(),
                hash: String::new(),
                times: e.times,
                last_at: e.last_at.map(ledger_time),
            };
            row.hash = access_hash(&row.prev_hash, &row.content());
            tip.seq = row.seq;
            tip.hash.clone_from(&row.hash);
            row
        })
        .collect();
    crate::insert_rows!(conn, access_records::table, &rows)?;
    diesel::update(access_head::table.find(1i64))
        .set((access_head::seq.eq(tip.seq), access_head::hash.eq(&tip.hash)))
        .execute(conn)
        .map(|_| ())
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub subject_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Only records before this seq (keyset paging, newest first).
    pub before: Option<i64>,
}

/// Up to `limit` records matching `filter`, newest first.
pub fn page(conn: &mut DbConnection, filter: &AccessFilter, limit: i64) -> QueryResult<Vec<AccessRecord>> {
    let mut query = access_records::table.select(AccessRecord::as_select()).into_boxed();
    if let Some(s) = &filter.subject_id {
        query = query.filter(access_records::subject_id.eq(s.clone()));
    }
    if let Some(a) = &filter.actor_id {
        query = query.filter(access_records::actor_id.eq(a.clone()));
    }
    if let Some(a) = &filter.action {
        query = query.filter(access_records::action.eq(a.clone()));
    }
    if let Some(t) = filter.from {
        query = query.filter(access_records::occurred_at.ge(t));
    }
    if let Some(t) = filter.until {
        query = query.filter(access_records::occurred_at.lt(t));
    }
    if let Some(b) = filter.before {
        query = query.filter(access_records::seq.lt(b));
    }
    query.order(access_records::seq.desc()).limit(limit).load(conn)
}

/// The outcome of verifying the access records.
#[derive(Debug)]
pub enum AccessVerification {
    Intact { records: i64, pruned: i64 },
    Broken(AccessFault),
}

/// Re-computes every hash from the pruning anchor on, in pages, and compares the end with the
/// head. `oldest_prunable`: a record this recent or newer must never have been pruned.
pub fn verify(conn: &mut DbConnection, oldest_prunable: NaiveDateTime) -> QueryResult<AccessVerification> {
    const PAGE: i64 = 5_000;
    let tip = head(conn)?;
    let mut verifier = match AccessVerifier::after(&tip.anchor, oldest_prunable) {
        Ok(v) => v,
        Err(fault) => return Ok(AccessVerification::Broken(fault)),
    };
    let mut after = i64::MIN;
    loop {
        let page: Vec<AccessRecord> = access_records::table
            .filter(access_records::seq.gt(after))
            .order(access_records::seq.asc())
            .limit(PAGE)
            .select(AccessRecord::as_select())
            .load(conn)?;
        for record in &page {
            if let Err(fault) = verifier.check(&record.content(), &record.prev_hash, &record.hash) {
                return Ok(AccessVerification::Broken(fault));
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    Ok(match verifier.finish(tip.seq, &tip.hash) {
        Ok(()) => AccessVerification::Intact { records: verifier.last() - tip.anchor.seq, pruned: tip.anchor.seq },
        Err(fault) => AccessVerification::Broken(fault),
    })
}

/// The seq of the last record held (the anchor's when none is), and the stored hash of each
/// record asked for, for checking the signed heads.
pub fn hashes_at(conn: &mut DbConnection, seqs: &[i64]) -> QueryResult<(i64, Vec<(i64, String)>)> {
    let tip = head(conn)?;
    let last: Option<i64> =
        access_records::table.select(diesel::dsl::max(access_records::seq)).first::<Option<i64>>(conn)?;
    let mut found = Vec::new();
    for chunk in seqs.chunks(500) {
        found.extend(
            access_records::table
                .filter(access_records::seq.eq_any(chunk))
                .select((access_records::seq, access_records::hash))
                .load::<(i64, String)>(conn)?,
        );
    }
    if tip.anchor.seq > 0 && seqs.contains(&tip.anchor.seq) {
        found.push((tip.anchor.seq, tip.anchor.hash.clone()));
    }
    Ok((last.unwrap_or(tip.anchor.seq).max(tip.anchor.seq), found))
}

/// Deletes the records older than `before`, up to `limit` of them, after moving the anchor to
/// the last one deleted (the triggers allow deleting only at or below the anchor). Returns how
/// many were deleted. Run it inside a transaction (the writer's).
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> QueryResult<i64> {
    let tip = lock_head(conn)?;
    let last: Option<(i64, String, NaiveDateTime)> = access_records::table
        .filter(access_records::seq.gt(tip.anchor.seq))
        .filter(access_records::occurred_at.lt(before))
        .order(access_records::seq.asc())
        .offset(limit.max(1) - 1)
        .select((access_records::seq, access_records::hash, access_records::occurred_at))
        .first(conn)
        .optional()?;
    let last = match last {
        Some(found) => Some(found),
        // Fewer than `limit` are due: the newest of them.
        None => access_records::table
            .filter(access_records::seq.gt(tip.anchor.seq))
            .filter(access_records::occurred_at.lt(before))
            .order(access_records::seq.desc())
            .select((access_records::seq, access_records::hash, access_records::occurred_at))
            .first(conn)
            .optional()?,
    };
    let Some((seq, hash, at)) = last else { return Ok(0) };
    diesel::update(access_head::table.find(1i64))
        .set((access_head::pruned_seq.eq(seq), access_head::pruned_hash.eq(&hash), access_head::pruned_at.eq(at)))
        .execute(conn)?;
    let deleted = diesel::delete(access_records::table.filter(access_records::seq.le(seq))).execute(conn)?;
    Ok(i64::try_from(deleted).unwrap_or(i64::MAX))
}
