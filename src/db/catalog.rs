//! Purposes, their policy versions, forms and their published versions: the workspace's catalogue.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;

use super::DbConnection;
use super::schema::{form_versions, forms, policy_versions, purposes};
use crate::domain::{Channel, FormDefinition, FormKey, LegalBasis, Localized, PurposeKey, Retention};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purposes)]
pub struct PurposeRow {
    pub key: String,
    pub legal_basis: String,
    pub required: bool,
    pub channel: String,
    pub retention: String,
    pub renewal_window_days: i64,
    pub current_version_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = purposes)]
pub struct NewPurpose<'a> {
    pub key: &'a str,
    pub legal_basis: &'a str,
    pub required: bool,
    pub channel: &'a str,
    pub retention: String,
    pub renewal_window_days: i64,
    pub current_version_id: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One published wording of a purpose. Never changed once written.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = policy_versions)]
pub struct PolicyVersion {
    pub id: String,
    pub purpose_key: String,
    pub version: i64,
    pub title_en: String,
    pub title_ko: String,
    pub text_en: String,
    pub text_ko: String,
    pub text_hash: String,
    pub created_at: NaiveDateTime,
}

impl PolicyVersion {
    pub fn title(&self) -> Localized {
        Localized { en: self.title_en.clone(), ko: self.title_ko.clone() }
    }
    pub fn text(&self) -> Localized {
        Localized { en: self.text_en.clone(), ko: self.text_ko.clone() }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = form_versions)]
pub struct FormVersionRow {
    pub id: String,
    pub form_key: String,
    pub version: i64,
    pub definition: String,
    pub definition_hash: String,
    pub created_at: NaiveDateTime,
}

/// A purpose as it is in force now, with its current wording.
#[derive(Debug, Clone)]
pub struct PublishedPurpose {
    pub key: PurposeKey,
    pub legal_basis: LegalBasis,
    pub required: bool,
    pub channel: Channel,
    pub retention: Retention,
    pub renewal_window_days: i64,
    pub policy: PolicyVersion,
}

/// A form's current published version.
#[derive(Debug, Clone)]
pub struct PublishedForm {
    pub key: FormKey,
    pub version_id: String,
    pub version: i64,
    pub definition: FormDefinition,
}

/// Everything the public pages and the submission path need, loaded once and shared.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub purposes: BTreeMap<String, PublishedPurpose>,
    pub forms: BTreeMap<String, PublishedForm>,
    /// The number of every policy version by id (they never change once published), so reading
    /// consent state needs no query for them.
    pub policy_version_numbers: std::collections::HashMap<String, i64>,
    /// The text hash of every policy version by id, for the ledger events recorded under it.
    pub policy_text_hashes: std::collections::HashMap<String, String>,
    /// The signed token of what each form shows (see [`Catalog::shown`]), made once per
    /// catalogue: the public form page carries it on every view.
    shown_tokens: std::sync::OnceLock<std::collections::HashMap<String, String>>,
    /// Every purpose's key, in key order (the consent check answers for each).
    pub purpose_keys: Vec<PurposeKey>,
}

impl Catalog {
    pub fn purpose(&self, key: &str) -> Option<&PublishedPurpose> {
        self.purposes.get(key)
    }

    pub fn form(&self, key: &str) -> Option<&PublishedForm> {
        self.forms.get(key)
    }

    /// What `form` displays now: its version and each purpose's policy version.
    pub fn shown(&self, form: &PublishedForm) -> crate::domain::wording::Shown {
        crate::domain::wording::Shown {
            form_version_id: form.version_id.clone(),
            policies: form
                .definition
                .purposes
                .iter()
                .filter_map(|p| self.purpose(p.as_str()))
                .map(|p| (p.key.to_string(), p.policy.id.clone()))
                .collect(),
        }
    }

    /// The signed token of what `form` shows, signed with `sign` once per catalogue.
    pub fn shown_token(&self, form: &PublishedForm, sign: impl Fn(&crate::domain::wording::Shown) -> String) -> String {
        let tokens = self
            .shown_tokens
            .get_or_init(|| self.forms.values().map(|f| (f.version_id.clone(), sign(&self.shown(f)))).collect());
        // A form not of this catalogue (none is served so) is signed on the spot.
        tokens.get(&form.version_id).cloned().unwrap_or_else(|| sign(&self.shown(form)))
    }

    /// The text hash of a policy version ("" for none, as on whole-person erasure events).
    pub fn policy_text_hash(&self, version_id: &str) -> &str {
        self.policy_text_hashes.get(version_id).map_or("", String::as_str)
    }

    pub fn is_required(&self, key: &PurposeKey) -> bool {
        self.purposes.get(key.as_str()).is_some_and(|p| p.required)
    }

    pub fn load(conn: &mut DbConnection) -> QueryResult<Self> {
        let rows: Vec<(PurposeRow, PolicyVersion)> = purposes::table
            .inner_join(policy_versions::table.on(policy_versions::id.eq(purposes::current_version_id)))
            .select((PurposeRow::as_select(), PolicyVersion::as_select()))
            .load(conn)?;
        let mut catalog = Catalog::default();
        for (row, policy) in rows {
            let published = PublishedPurpose {
                key: PurposeKey::parse(&row.key).map_err(corrupt)?,
                legal_basis: LegalBasis::parse(&row.legal_basis).ok_or_else(|| corrupt("legal basis"))?,
                required: row.required,
                channel: Channel::parse(&row.channel).ok_or_else(|| corrupt("channel"))?,
                retention: Retention::parse(&row.retention).map_err(corrupt)?,
                renewal_window_days: row.renewal_window_days,
                policy,
            };
            catalog.purposes.insert(row.key, published);
        }
        let forms: Vec<FormVersionRow> = forms::table
            .inner_join(form_versions::table.on(form_versions::id.eq(forms::current_version_id)))
            .select(FormVersionRow::as_select())
            .load(conn)?;
        for row in forms {
            let definition: FormDefinition = serde_json::from_str(&row.definition).map_err(corrupt)?;
            let key = FormKey::parse(&row.form_key).map_err(corrupt)?;
            catalog.forms.insert(
                row.form_key.clone(),
                PublishedForm { key, version_id: row.id, version: row.version, definition },
            );
        }
        catalog.purpose_keys = catalog.purposes.values().map(|p| p.key.clone()).collect();
        let versions: Vec<(String, i64, String)> = policy_versions::table
            .select((policy_versions::id, policy_versions::version, policy_versions::text_hash))
            .load(conn)?;
        for (id, number, hash) in versions {
            catalog.policy_version_numbers.insert(id.clone(), number);
            catalog.policy_text_hashes.insert(id, hash);
        }
        Ok(catalog)
    }
}

/// The catalogue's version, which every committed change to purposes, policy versions, forms or
/// form versions advances (database triggers, migration 9): equal versions, same catalogue.
pub fn version(conn: &mut DbConnection) -> QueryResult<i64> {
    use super::schema::catalog_version;
    catalog_version::table.find(1i64).select(catalog_version::version).first(conn)
}

/// A stored row that the code cannot read back is a bug or tampering, not a user mistake.
fn corrupt(e: impl std::fmt::Display) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("corrupt catalogue row: {e}").into())
}

pub fn policy_version(conn: &mut DbConnection, purpose: &str, version: i64) -> QueryResult<Option<PolicyVersion>> {
    policy_versions::table
        .filter(policy_versions::purpose_key.eq(purpose))
        .filter(policy_versions::version.eq(version))
        .select(PolicyVersion::as_select())
        .first(conn)
        .optional()
}

pub fn policy_versions_by_id(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<PolicyVersion>> {
    policy_versions::table.filter(policy_versions::id.eq_any(ids)).select(PolicyVersion::as_select()).load(conn)
}

pub fn find_purpose(conn: &mut DbConnection, key: &str) -> QueryResult<Option<PurposeRow>> {
    purposes::table.find(key).select(PurposeRow::as_select()).first(conn).optional()
}

pub fn latest_policy(conn: &mut DbConnection, purpose: &str) -> QueryResult<Option<PolicyVersion>> {
    policy_versions::table
        .filter(policy_versions::purpose_key.eq(purpose))
        .order(policy_versions::version.desc())
        .select(PolicyVersion::as_select())
        .first(conn)
        .optional()
}

pub fn insert_purpose(conn: &mut DbConnection, purpose: &NewPurpose<'_>) -> QueryResult<()> {
    diesel::insert_into(purposes::table).values(purpose).execute(conn).map(|_| ())
}

pub fn update_purpose(conn: &mut DbConnection, purpose: &NewPurpose<'_>) -> QueryResult<()> {
    diesel::update(purposes::table.find(purpose.key))
        .set((
            purposes::legal_basis.eq(purpose.legal_basis),
            purposes::required.eq(purpose.required),
            purposes::channel.eq(purpose.channel),
            purposes::retention.eq(&purpose.retention),
            purposes::renewal_window_days.eq(purpose.renewal_window_days),
            purposes::current_version_id.eq(purpose.current_version_id),
            purposes::updated_at.eq(purpose.updated_at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn insert_policy_version(conn: &mut DbConnection, version: &PolicyVersion) -> QueryResult<()> {
    diesel::insert_into(policy_versions::table).values(version).execute(conn).map(|_| ())
}

pub fn latest_form_version(conn: &mut DbConnection, form: &str) -> QueryResult<Option<FormVersionRow>> {
    form_versions::table
        .filter(form_versions::form_key.eq(form))
        .order(form_versions::version.desc())
        .select(FormVersionRow::as_select())
        .first(conn)
        .optional()
}

pub fn form_exists(conn: &mut DbConnection, form: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(forms::table.find(form))).get_result(conn)
}

/// Publishes a new form version and makes it current (creating the form if needed).
pub fn publish_form_version(conn: &mut DbConnection, row: &FormVersionRow) -> QueryResult<()> {
    if !form_exists(conn, &row.form_key)? {
        diesel::insert_into(forms::table)
            .values((
                forms::key.eq(&row.form_key),
                forms::current_version_id.eq(&row.id),
                forms::created_at.eq(row.created_at),
                forms::updated_at.eq(row.created_at),
            ))
            .execute(conn)?;
        return diesel::insert_into(form_versions::table).values(row).execute(conn).map(|_| ());
    }
    diesel::insert_into(form_versions::table).values(row).execute(conn)?;
    diesel::update(forms::table.find(&row.form_key))
        .set((forms::current_version_id.eq(&row.id), forms::updated_at.eq(row.created_at)))
        .execute(conn)
        .map(|_| ())
}

/// Serialises publishing across processes (and with ledger appends) by taking the ledger head
/// row lock for the rest of the transaction.
pub fn lock_for_publishing(conn: &mut DbConnection) -> QueryResult<()> {
    use super::schema::ledger_head;
    diesel::update(ledger_head::table.find(1i64)).set(ledger_head::seq.eq(ledger_head::seq)).execute(conn).map(|_| ())
}
