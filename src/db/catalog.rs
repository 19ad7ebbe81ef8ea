//! Purposes, their policy versions, forms and their published versions: the workspace's catalogue.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;

use super::DbConnection;
pub use super::policies::{
    PolicyVersion, insert_policy_version, latest_policy, policy_version, policy_versions_by_id, shown_wording_hash,
};
use super::policies::{PolicyVersionRow, with_texts};
use super::schema::{form_versions, forms, policy_versions, purposes, workspace_locales, workspace_profile};
use crate::domain::provision::NoticeDetails;
use crate::domain::{
    Channel, Controller, FormDefinition, FormKey, LegalBasis, Locale, Locales, Obligation, PurposeCategory, PurposeKey,
    Retention,
};

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
    /// A [`PurposeCategory`]'s wire name, or empty: implied by the legal basis and channel.
    pub category: String,
    /// The third parties, a JSON array of names.
    pub third_parties: String,
    pub sensitive: bool,
    pub night_time: bool,
    pub sale_or_share: bool,
    /// Its statutory retention obligation ([`Obligation`] as JSON), or empty.
    pub obligation: String,
}

impl PurposeRow {
    /// Whether the row already holds what `row` would write (but its timestamps).
    pub fn is(&self, row: &NewPurpose<'_>) -> bool {
        self.legal_basis == row.legal_basis
            && self.required == row.required
            && self.channel == row.channel
            && self.retention == row.retention
            && self.renewal_window_days == row.renewal_window_days
            && self.category == row.category
            && self.third_parties == row.third_parties
            && self.sensitive == row.sensitive
            && self.night_time == row.night_time
            && self.sale_or_share == row.sale_or_share
            && self.obligation == row.obligation
            && self.current_version_id == row.current_version_id
    }

    pub fn third_parties(&self) -> Vec<String> {
        serde_json::from_str(&self.third_parties).unwrap_or_default()
    }
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
    pub category: &'a str,
    pub third_parties: String,
    pub sensitive: bool,
    pub night_time: bool,
    pub sale_or_share: bool,
    pub obligation: String,
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
    /// As declared (`None`: implied, see [`PublishedPurpose::category`]).
    pub declared_category: Option<PurposeCategory>,
    pub third_parties: Vec<String>,
    pub sensitive: bool,
    /// Its consent covers advertising between 21:00 and 08:00 (정보통신망법 art. 50(3)).
    pub night_time: bool,
    /// It sells or shares personal data (CCPA): a Global Privacy Control signal opts out of it.
    pub sale_or_share: bool,
    /// Data bound to it that another law obliges the company to keep (PIPA art. 21(1)).
    pub obligation: Option<Obligation>,
    /// Its kind, recipients and refusal text, as its current policy version's terms say.
    pub details: NoticeDetails,
    pub policy: PolicyVersion,
}

impl Catalog {
    /// Whether any purpose declares a statutory retention obligation (else nothing is ever held).
    pub fn holds_possible(&self) -> bool {
        self.purposes.values().any(|p| p.obligation.is_some())
    }
}

impl PublishedPurpose {
    /// The purpose's category: the declared one, or the one its terms imply.
    pub fn category(&self) -> PurposeCategory {
        self.declared_category.unwrap_or_else(|| {
            let shared = !self.third_parties.is_empty() || !self.details.recipients.is_empty();
            PurposeCategory::implied(self.legal_basis, self.channel, shared)
        })
    }
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
    /// Every policy version's hashes by id, for the ledger events recorded under it: of the
    /// whole wording, and of each language's.
    pub policy_text_hashes: std::collections::HashMap<String, PolicyHashes>,
    /// The policy versions whose terms covered advertising at night (정보통신망법 art. 50(3)):
    /// a consent allows night-time sending only if given under one of these.
    pub night_time_versions: std::collections::HashSet<String>,
    /// The languages the workspace offers, and its default.
    pub locales: Locales,
    /// Who controls the data, as receipts name them (the workspace file's `[workspace.controller]`).
    pub controller: Option<Controller>,
    /// The signed token of what each form shows (see [`Catalog::shown`]), made once per
    /// catalogue: the public form page carries it on every view.
    shown_tokens: std::sync::OnceLock<std::collections::HashMap<String, String>>,
    /// Every purpose's key, in key order (the consent check answers for each).
    pub purpose_keys: Vec<PurposeKey>,
    /// The catalogue's version (`catalog_version`) read before the rest: what was loaded is at
    /// least this new, so a load of an older version never replaces it (see `CatalogHandle`).
    pub version: i64,
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

    /// The text hash of a policy version ("" for none, as on whole-person erasure events): of
    /// the wording in the language `shown` to the person (as [`crate::domain::Localized::get`] picks it), or of
    /// the whole wording for a change nobody was shown anything for (expiry, erasure).
    pub fn policy_text_hash(&self, version_id: &str, shown: Option<Locale>) -> &str {
        let Some(hashes) = self.policy_text_hashes.get(version_id) else {
            return "";
        };
        shown.and_then(|l| hashes.by_locale.get(&l)).unwrap_or(&hashes.whole)
    }

    /// The default language of the workspace (what a text missing in a language falls back to).
    pub fn default_locale(&self) -> Locale {
        self.locales.default_locale()
    }

    pub fn is_required(&self, key: &PurposeKey) -> bool {
        self.purposes.get(key.as_str()).is_some_and(|p| p.required)
    }

    pub fn load(conn: &mut DbConnection) -> QueryResult<Self> {
        let version = self::version(conn)?;
        let mut catalog =
            Catalog { version, locales: workspace_locales(conn)?, controller: controller(conn)?, ..Catalog::default() };
        let rows = policy_versions::table.select(PolicyVersionRow::as_select()).load(conn)?;
        let versions = with_texts(conn, rows)?;
        let default = catalog.locales.default_locale();
        for v in &versions {
            catalog.policy_version_numbers.insert(v.id.clone(), v.version);
            let terms: Option<serde_json::Value> = serde_json::from_str(&v.terms).ok();
            if terms.is_some_and(|t| t["night_time"] == serde_json::Value::Bool(true)) {
                catalog.night_time_versions.insert(v.id.clone());
            }
            // For every language a reader may have, the hash of what they were shown (the
            // fallback to the default is `shown_hash`'s, as the pages apply it).
            let by_locale = Locale::shipped().map(|l| (l, v.shown_hash(l, default))).collect();
            catalog.policy_text_hashes.insert(v.id.clone(), PolicyHashes { whole: v.text_hash.clone(), by_locale });
        }
        let mut by_id: std::collections::HashMap<String, PolicyVersion> =
            versions.into_iter().map(|v| (v.id.clone(), v)).collect();
        let rows: Vec<PurposeRow> = purposes::table.select(PurposeRow::as_select()).load(conn)?;
        for row in rows {
            let policy = by_id.remove(&row.current_version_id).ok_or_else(|| corrupt("current policy version"))?;
            let published = PublishedPurpose {
                key: PurposeKey::parse(&row.key).map_err(corrupt)?,
                legal_basis: LegalBasis::parse(&row.legal_basis).ok_or_else(|| corrupt("legal basis"))?,
                required: row.required,
                channel: Channel::parse(&row.channel).ok_or_else(|| corrupt("channel"))?,
                retention: Retention::parse(&row.retention).map_err(corrupt)?,
                renewal_window_days: row.renewal_window_days,
                declared_category: match row.category.as_str() {
                    "" => None,
                    raw => Some(PurposeCategory::parse(raw).ok_or_else(|| corrupt("purpose category"))?),
                },
                third_parties: row.third_parties(),
                sensitive: row.sensitive,
                night_time: row.night_time,
                sale_or_share: row.sale_or_share,
                obligation: Obligation::from_stored(&row.obligation),
                details: NoticeDetails::of_terms(&policy.terms),
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
        Ok(catalog)
    }
}

/// A policy version's hashes: of its whole wording, and of what a reader of each shipped
/// language is shown.
#[derive(Debug, Clone, Default)]
pub struct PolicyHashes {
    pub whole: String,
    pub by_locale: std::collections::HashMap<Locale, String>,
}

/// The languages the workspace offers, in its order, with its default (migration 12 seeds
/// English and Korean, what every workspace spoke before). A tag no catalogue ships is skipped.
pub fn workspace_locales(conn: &mut DbConnection) -> QueryResult<Locales> {
    let rows: Vec<(String, bool)> = workspace_locales::table
        .order(workspace_locales::position)
        .select((workspace_locales::locale, workspace_locales::is_default))
        .load(conn)?;
    let offered: Vec<Locale> = rows.iter().filter_map(|(tag, _)| Locale::from_tag(tag)).collect();
    let default = rows.iter().find(|(_, d)| *d).and_then(|(tag, _)| Locale::from_tag(tag));
    Ok(default.and_then(|d| Locales::new(offered, d).ok()).unwrap_or_default())
}

/// The controller the workspace file declared, if it did.
pub fn controller(conn: &mut DbConnection) -> QueryResult<Option<Controller>> {
    let document: Option<String> =
        workspace_profile::table.find(1i64).select(workspace_profile::document).first(conn).optional()?;
    Ok(document.and_then(|d| serde_json::from_str::<Profile>(&d).ok()).and_then(|p| p.controller))
}

/// Makes `controller` the workspace's (unless it already is).
pub fn set_controller(conn: &mut DbConnection, declared: &Controller) -> QueryResult<()> {
    if controller(conn)?.as_ref() == Some(declared) {
        return Ok(());
    }
    let document = serde_json::to_string(&Profile { controller: Some(declared.clone()) }).unwrap_or_default();
    diesel::delete(workspace_profile::table).execute(conn)?;
    diesel::insert_into(workspace_profile::table)
        .values((workspace_profile::id.eq(1i64), workspace_profile::document.eq(document)))
        .execute(conn)
        .map(|_| ())
}

/// The workspace's profile document (`workspace_profile`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    controller: Option<Controller>,
}

/// Makes `locales` the workspace's languages (in their order, with their default).
pub fn set_workspace_locales(conn: &mut DbConnection, locales: &Locales) -> QueryResult<()> {
    if workspace_locales(conn)? == *locales {
        return Ok(());
    }
    diesel::delete(workspace_locales::table).execute(conn)?;
    for (position, locale) in locales.offered().iter().enumerate() {
        diesel::insert_into(workspace_locales::table)
            .values((
                workspace_locales::locale.eq(locale.as_str()),
                workspace_locales::position.eq(position as i64),
                workspace_locales::is_default.eq(*locale == locales.default_locale()),
            ))
            .execute(conn)?;
    }
    Ok(())
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

pub fn find_purpose(conn: &mut DbConnection, key: &str) -> QueryResult<Option<PurposeRow>> {
    purposes::table.find(key).select(PurposeRow::as_select()).first(conn).optional()
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
            purposes::category.eq(purpose.category),
            purposes::third_parties.eq(&purpose.third_parties),
            purposes::sensitive.eq(purpose.sensitive),
            purposes::night_time.eq(purpose.night_time),
            purposes::sale_or_share.eq(purpose.sale_or_share),
            purposes::obligation.eq(&purpose.obligation),
        ))
        .execute(conn)
        .map(|_| ())
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
