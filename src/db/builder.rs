//! What the console's purpose editor and form builder keep: form drafts, the hash of the
//! workspace file applied last at start, and how many people agreed to each policy version.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{form_drafts, policy_versions, workspace_applied};

/// A form's working copy in the builder: a `FormDefinition` as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = form_drafts)]
pub struct FormDraft {
    pub form_key: String,
    pub definition: String,
    pub updated_at: NaiveDateTime,
    /// The owner id that saved it last.
    pub updated_by: String,
}

pub fn draft(conn: &mut DbConnection, form_key: &str) -> QueryResult<Option<FormDraft>> {
    form_drafts::table.find(form_key).select(FormDraft::as_select()).first(conn).optional()
}

pub fn drafts(conn: &mut DbConnection) -> QueryResult<Vec<FormDraft>> {
    form_drafts::table.order(form_drafts::form_key.asc()).select(FormDraft::as_select()).load(conn)
}

/// Inserts or replaces a draft.
pub fn save_draft(conn: &mut DbConnection, draft: &FormDraft) -> QueryResult<()> {
    let updated = diesel::update(form_drafts::table.find(&draft.form_key))
        .set((
            form_drafts::definition.eq(&draft.definition),
            form_drafts::updated_at.eq(draft.updated_at),
            form_drafts::updated_by.eq(&draft.updated_by),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(form_drafts::table).values(draft).execute(conn)?;
    }
    Ok(())
}

/// Drops a draft (once published, the working copy is the published version again).
pub fn delete_draft(conn: &mut DbConnection, form_key: &str) -> QueryResult<()> {
    diesel::delete(form_drafts::table.find(form_key)).execute(conn).map(|_| ())
}

/// The hash of the workspace file applied last at start, if any.
pub fn applied_file_hash(conn: &mut DbConnection) -> QueryResult<Option<String>> {
    workspace_applied::table.find(1i64).select(workspace_applied::file_hash).first(conn).optional()
}

pub fn set_applied_file_hash(conn: &mut DbConnection, hash: &str, at: NaiveDateTime) -> QueryResult<()> {
    let updated = diesel::update(workspace_applied::table.find(1i64))
        .set((workspace_applied::file_hash.eq(hash), workspace_applied::applied_at.eq(at)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(workspace_applied::table)
            .values((
                workspace_applied::id.eq(1i64),
                workspace_applied::file_hash.eq(hash),
                workspace_applied::applied_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One policy version and how many distinct people agreed under it (granted or confirmed).
#[derive(Debug, Clone)]
pub struct VersionAgreement {
    pub purpose_key: String,
    pub version: i64,
    pub agreed: i64,
}

/// Every policy version of every purpose with its agreement count, by purpose then version.
pub fn agreements(conn: &mut DbConnection) -> QueryResult<Vec<VersionAgreement>> {
    let versions: Vec<(String, String, i64)> = policy_versions::table
        .order((policy_versions::purpose_key.asc(), policy_versions::version.asc()))
        .select((policy_versions::id, policy_versions::purpose_key, policy_versions::version))
        .load(conn)?;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Text)]
        policy_version_id: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        agreed: i64,
    }
    // COUNT(DISTINCT ...) has no diesel DSL form in 2.2; the statement is the same on both backends.
    let counts: Vec<Count> = diesel::sql_query(
        "SELECT policy_version_id, COUNT(DISTINCT subject_id) AS agreed FROM consent_events \
         WHERE action IN ('granted', 'confirmed') GROUP BY policy_version_id",
    )
    .load(conn)?;
    Ok(versions
        .into_iter()
        .map(|(id, purpose_key, version)| VersionAgreement {
            agreed: counts.iter().find(|c| c.policy_version_id == id).map_or(0, |c| c.agreed),
            purpose_key,
            version,
        })
        .collect())
}
