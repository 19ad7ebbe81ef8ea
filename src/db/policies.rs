//! Policy versions: each published wording of a purpose, with its text in every language it
//! was published in (`policy_texts`, one row per language: migration 12).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{policy_texts, policy_versions};
use crate::domain::{Locale, Localized};

/// One published wording of a purpose, in every language it was published in. Never changed
/// once written.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    pub id: String,
    pub purpose_key: String,
    pub version: i64,
    pub title: Localized,
    pub text: Localized,
    /// The hash of the wording in all its languages (`services::workspace::wording_hash`): the
    /// version's identity.
    pub text_hash: String,
    pub created_at: NaiveDateTime,
    /// The terms shown with the wording (canonical JSON, `services::workspace::Terms`); empty
    /// for versions published before notices were snapshotted.
    pub terms: String,
    /// SHA-256 of the wording's hash and the terms: the whole notice. Empty as `terms` is.
    pub notice_hash: String,
}

impl PolicyVersion {
    pub fn title(&self) -> &Localized {
        &self.title
    }
    pub fn text(&self) -> &Localized {
        &self.text
    }

    /// The hash of the wording a reader of `locale` is shown (see [`shown_wording_hash`]): what a
    /// consent given in that language agreed to.
    pub fn shown_hash(&self, locale: Locale, default: Locale) -> String {
        let (tag, title) = self.title.resolve(locale, default).unwrap_or(("", ""));
        let text = Locale::from_tag(tag).map_or("", |l| self.text.get(l, default));
        shown_wording_hash(tag, title, text)
    }
}

/// The hash of one language's wording: SHA-256 of `{"locale":…,"text":…,"title":…}` (compact
/// JSON, keys in that order), the fingerprint a consent event records for what was shown.
pub fn shown_wording_hash(locale: &str, title: &str, text: &str) -> String {
    let canonical = serde_json::json!({ "locale": locale, "text": text, "title": title }).to_string();
    crate::crypto::sha256_hex(canonical.as_bytes())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = policy_versions)]
pub(super) struct PolicyVersionRow {
    id: String,
    purpose_key: String,
    version: i64,
    text_hash: String,
    created_at: NaiveDateTime,
    terms: String,
    notice_hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = policy_texts)]
struct PolicyText {
    policy_version_id: String,
    locale: String,
    title: String,
    text: String,
}

/// Attaches each version's texts (one query for all of them).
pub(super) fn with_texts(conn: &mut DbConnection, rows: Vec<PolicyVersionRow>) -> QueryResult<Vec<PolicyVersion>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut texts: std::collections::HashMap<String, (Localized, Localized)> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let found: Vec<PolicyText> = policy_texts::table
            .filter(policy_texts::policy_version_id.eq_any(chunk))
            .select(PolicyText::as_select())
            .load(conn)?;
        for t in found {
            let entry = texts.entry(t.policy_version_id).or_default();
            entry.0.0.insert(t.locale.clone(), t.title);
            entry.1.0.insert(t.locale, t.text);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (title, text) = texts.remove(&r.id).unwrap_or_default();
            PolicyVersion {
                id: r.id,
                purpose_key: r.purpose_key,
                version: r.version,
                title,
                text,
                text_hash: r.text_hash,
                created_at: r.created_at,
                terms: r.terms,
                notice_hash: r.notice_hash,
            }
        })
        .collect())
}

fn with_text(conn: &mut DbConnection, row: Option<PolicyVersionRow>) -> QueryResult<Option<PolicyVersion>> {
    Ok(with_texts(conn, row.into_iter().collect())?.pop())
}

pub fn policy_version(conn: &mut DbConnection, purpose: &str, version: i64) -> QueryResult<Option<PolicyVersion>> {
    let row = policy_versions::table
        .filter(policy_versions::purpose_key.eq(purpose))
        .filter(policy_versions::version.eq(version))
        .select(PolicyVersionRow::as_select())
        .first(conn)
        .optional()?;
    with_text(conn, row)
}

pub fn policy_versions_by_id(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<PolicyVersion>> {
    let rows = policy_versions::table
        .filter(policy_versions::id.eq_any(ids))
        .select(PolicyVersionRow::as_select())
        .load(conn)?;
    with_texts(conn, rows)
}

pub fn latest_policy(conn: &mut DbConnection, purpose: &str) -> QueryResult<Option<PolicyVersion>> {
    let row = policy_versions::table
        .filter(policy_versions::purpose_key.eq(purpose))
        .order(policy_versions::version.desc())
        .select(PolicyVersionRow::as_select())
        .first(conn)
        .optional()?;
    with_text(conn, row)
}

/// Publishes a policy version with its wording in each of its languages.
pub fn insert_policy_version(conn: &mut DbConnection, version: &PolicyVersion) -> QueryResult<()> {
    let row = PolicyVersionRow {
        id: version.id.clone(),
        purpose_key: version.purpose_key.clone(),
        version: version.version,
        text_hash: version.text_hash.clone(),
        created_at: version.created_at,
        terms: version.terms.clone(),
        notice_hash: version.notice_hash.clone(),
    };
    diesel::insert_into(policy_versions::table).values(&row).execute(conn)?;
    for (locale, title) in &version.title.0 {
        let text = PolicyText {
            policy_version_id: version.id.clone(),
            locale: locale.clone(),
            title: title.clone(),
            text: version.text.0.get(locale).cloned().unwrap_or_default(),
        };
        diesel::insert_into(policy_texts::table).values(&text).execute(conn)?;
    }
    Ok(())
}
