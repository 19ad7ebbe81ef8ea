//! Forms and purposes as code: the workspace file (`assent.toml`), applying it, and exporting
//! the workspace in force as a file that applies unchanged.
//!
//! Applying is idempotent. A purpose whose wording (title or text, in any language) changed gets
//! a new policy version; consents already given keep pointing at the version they were given
//! under. A form whose definition changed gets a new immutable form version.

use chrono::{NaiveDateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use super::notice;
pub use super::notice::{Terms, notice_hash, wording_hash};
use crate::crypto::sha256_hex;
use crate::db::DbConnection;
use crate::db::catalog::{self, FormVersionRow, NewPurpose, PolicyVersion};
use crate::domain::Obligation;
use crate::domain::disclosure::ControllerError;
use crate::domain::form::DefinitionError;
use crate::domain::locale::LocalesError;
use crate::domain::minors::AgeCheck;
use crate::domain::provision::{DetailsProblem, NoticeDetails, PurposeKind, Recipient};
use crate::domain::purpose::check_unbundled;
use crate::domain::texts::TextProblem;
use crate::domain::{
    BundledConsent, Channel, Controller, FieldDefinition, FormDefinition, FormKey, LegalBasis, Locale, Locales,
    Localized, PurposeCategory, PurposeKey, Retention,
};

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceFile {
    #[serde(default)]
    pub workspace: WorkspaceInfo,
    #[serde(default)]
    pub purposes: Vec<PurposeSpec>,
    #[serde(default)]
    pub forms: Vec<FormSpec>,
    /// Webhook endpoints (read by `serve` at start; never exported: they hold secrets).
    #[serde(default, skip_serializing)]
    pub webhooks: Vec<super::webhooks::WebhookSpec>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The languages offered to the people filling the forms, in order (`["en", "ko", "ja"]`);
    /// absent: the workspace keeps the ones it has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locales: Vec<Locale>,
    /// The language every text is written in and falls back to (default: the first offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_locale: Option<Locale>,
    /// Who controls the data, as receipts name them; absent: the workspace keeps the one it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<Controller>,
}

impl WorkspaceInfo {
    /// The languages the file declares, if it declares any.
    pub fn declared_locales(&self) -> Result<Option<Locales>, ApplyError> {
        if self.locales.is_empty() {
            return match self.default_locale {
                Some(_) => Err(ApplyError::Locales(LocalesError::Empty)),
                None => Ok(None),
            };
        }
        let default = self.default_locale.unwrap_or(self.locales[0]);
        Locales::new(self.locales.clone(), default).map(Some).map_err(ApplyError::Locales)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeSpec {
    pub key: PurposeKey,
    pub title: Localized,
    pub text: Localized,
    pub legal_basis: LegalBasis,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub channel: Channel,
    /// Mandatory: nothing is kept without a period (`"2y"`, `"6m"`, or a preset).
    pub retention: Retention,
    /// Days before expiry when the person is asked to extend (default 30).
    #[serde(default = "default_renewal_window")]
    pub renewal_window_days: u32,
    /// What the purpose is, as receipts classify it (Kantara purpose categories); absent: the
    /// one its legal basis and channel imply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<PurposeCategory>,
    /// Who the data bound to this purpose is provided to (third-party provision), shown with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub third_parties: Vec<String>,
    /// Whether it processes sensitive data (GDPR art. 9, PIPA art. 23).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// Its consent covers advertising between 21:00 and 08:00 (정보통신망법 art. 50(3)); without
    /// it the consent check answers `may_send_now: false` at night.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub night_time: bool,
    /// It sells or shares personal data (CCPA): a request with the Global Privacy Control signal
    /// (`Sec-GPC: 1`) cannot grant it and is recorded as an opt-out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sale_or_share: bool,
    /// A statutory retention obligation (PIPA art. 21(1), 전자상거래법 art. 6): what is bound to the
    /// purpose is kept, restricted, for its period after it was recorded, even past withdrawal
    /// or erasure. A preset's name or `{ period = "5y", law = "..." }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_obligation: Option<Obligation>,
    /// `third_party`: provision to the recipients named (PIPA art. 17).
    #[serde(default, skip_serializing_if = "PurposeKind::is_standard")]
    pub kind: PurposeKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
    /// What refusing it means, in the business's words (PIPA arts. 15(2), 22): expected for a
    /// required purpose; without it the form says the statutory sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Localized>,
}

impl PurposeSpec {
    /// The notice's parts beside the wording, as the policy version keeps them.
    pub fn details(&self) -> NoticeDetails {
        NoticeDetails {
            kind: self.kind,
            recipients: self.recipients.clone(),
            refusal: self.refusal.clone().map(Localized::tidy),
        }
    }
}

fn default_renewal_window() -> u32 {
    30
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSpec {
    pub key: FormKey,
    pub kind: String,
    pub title: Localized,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Localized>,
    #[serde(default)]
    pub double_opt_in: bool,
    pub purposes: Vec<PurposeKey>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    pub fields: Vec<FieldDefinition>,
    /// See [`FormDefinition::min_age`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u8>,
    #[serde(default, skip_serializing_if = "AgeCheck::is_affirmation")]
    pub age_check: AgeCheck,
}

impl FormSpec {
    pub fn definition(&self) -> FormDefinition {
        FormDefinition {
            kind: self.kind.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            double_opt_in: self.double_opt_in,
            purposes: self.purposes.clone(),
            allowed_origins: self.allowed_origins.clone(),
            fields: self.fields.clone(),
            min_age: self.min_age,
            age_check: self.age_check,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("purpose `{0}` is defined twice")]
    DuplicatePurpose(String),
    #[error(transparent)]
    Bundled(#[from] BundledConsent),
    #[error("form `{0}` is defined twice")]
    DuplicateForm(String),
    #[error("form `{form}`: {source}")]
    Form { form: String, source: DefinitionError },
    #[error("[workspace] locales: {0}")]
    Locales(LocalesError),
    #[error("{place}: {source}")]
    Text { place: String, source: TextProblem },
    #[error(transparent)]
    Controller(#[from] ControllerError),
    #[error("purpose `{purpose}` third_parties: {problem}")]
    ThirdParties { purpose: String, problem: &'static str },
    #[error("purpose `{purpose}`: {problem}")]
    Details { purpose: String, problem: DetailsProblem },
    #[error("database error while applying: {0}")]
    Storage(#[from] diesel::result::Error),
}

/// What applying changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub policy_versions: Vec<(String, i64)>,
    pub form_versions: Vec<(String, i64)>,
}

impl ApplyReport {
    pub fn is_empty(&self) -> bool {
        self.policy_versions.is_empty() && self.form_versions.is_empty()
    }
}

impl WorkspaceFile {
    /// What the file should say and does not (it applies anyway): a required purpose without
    /// its own refusal text shows the statutory sentence instead.
    pub fn advice(&self) -> Vec<String> {
        self.purposes
            .iter()
            .filter(|p| p.required && p.refusal.is_none())
            .map(|p| {
                format!(
                    "purpose `{}` is required but says nothing of what refusing it means: add `refusal = {{ ... }}` \
                     (PIPA art. 22(1)); until then the form says the service cannot be provided without it",
                    p.key
                )
            })
            .collect()
    }

    pub fn read(path: &std::path::Path) -> Result<Self, ApplyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ApplyError::Read { path: shown.clone(), source })?;
        let file: Self =
            toml::from_str(&text).map_err(|e| ApplyError::Parse { path: shown, message: e.to_string() })?;
        file.check(&file.workspace.declared_locales()?.unwrap_or_default())?;
        Ok(file)
    }

    /// The rules the whole file obeys before anything is written, every text fitting `locales`
    /// (the ones the file declares, else the workspace's).
    pub fn check(&self, locales: &Locales) -> Result<(), ApplyError> {
        self.workspace.declared_locales()?;
        if let Some(controller) = &self.workspace.controller {
            controller.clone().checked()?;
        }
        let mut keys = HashSet::new();
        for p in &self.purposes {
            if !keys.insert(p.key.as_str()) {
                return Err(ApplyError::DuplicatePurpose(p.key.to_string()));
            }
            check_unbundled(p.key.as_str(), p.required, p.legal_basis)?;
            notice::check_third_parties(&p.third_parties)
                .map_err(|problem| ApplyError::ThirdParties { purpose: p.key.to_string(), problem })?;
            p.details()
                .check(locales)
                .map_err(|problem| ApplyError::Details { purpose: p.key.to_string(), problem })?;
            for (what, text) in [("title", &p.title), ("text", &p.text)] {
                text.check(locales)
                    .map_err(|source| ApplyError::Text { place: format!("purpose `{}` {what}", p.key), source })?;
            }
        }
        let mut forms = HashSet::new();
        for f in &self.forms {
            if !forms.insert(f.key.as_str()) {
                return Err(ApplyError::DuplicateForm(f.key.to_string()));
            }
            let definition = f.definition();
            definition
                .check(|p| keys.contains(p.as_str()))
                .map_err(|source| ApplyError::Form { form: f.key.to_string(), source })?;
            definition
                .check_texts(locales)
                .map_err(|(place, source)| ApplyError::Text { place: format!("form `{}` {place}", f.key), source })?;
        }
        Ok(())
    }
}

/// Applies the file in one transaction.
pub fn apply(conn: &mut DbConnection, file: &WorkspaceFile) -> Result<ApplyReport, ApplyError> {
    conn.transaction(|conn| {
        crate::db::catalog::lock_for_publishing(conn)?;
        let locales = match file.workspace.declared_locales()? {
            Some(declared) => declared,
            None => catalog::workspace_locales(conn)?,
        };
        file.check(&locales)?;
        catalog::set_workspace_locales(conn, &locales)?;
        if let Some(controller) = &file.workspace.controller {
            catalog::set_controller(conn, &controller.clone().checked()?)?;
        }
        let now = Utc::now().naive_utc();
        let mut report = ApplyReport::default();
        for spec in &file.purposes {
            if let Some(version) = apply_purpose(conn, spec, now)? {
                report.policy_versions.push((spec.key.to_string(), version));
            }
        }
        for spec in &file.forms {
            if let Some(version) = apply_form(conn, spec, now)? {
                report.form_versions.push((spec.key.to_string(), version));
            }
        }
        Ok(report)
    })
}

fn apply_purpose(conn: &mut DbConnection, spec: &PurposeSpec, now: NaiveDateTime) -> Result<Option<i64>, ApplyError> {
    let key = spec.key.as_str();
    let hash = wording_hash(&spec.title.clone().tidy(), &spec.text.clone().tidy());
    let existing = catalog::find_purpose(conn, key)?;
    let latest = catalog::latest_policy(conn, key)?;
    let terms = terms_of_spec(spec).canonical();
    let notice = notice_hash(&hash, &terms);
    let (version_id, published) = match &latest {
        Some(v) if notice::shows_the_same(v, existing.as_ref(), &hash, &terms, &notice) => (v.id.clone(), None),
        _ => {
            let version = latest.as_ref().map_or(1, |v| v.version + 1);
            (uuid::Uuid::new_v4().to_string(), Some(version))
        }
    };
    let row = NewPurpose {
        key,
        legal_basis: spec.legal_basis.as_str(),
        required: spec.required,
        channel: spec.channel.as_str(),
        retention: spec.retention.to_string(),
        renewal_window_days: i64::from(spec.renewal_window_days),
        category: spec.category.map_or("", PurposeCategory::as_str),
        third_parties: serde_json::to_string(&spec.third_parties).unwrap_or_else(|_| "[]".into()),
        sensitive: spec.sensitive,
        night_time: spec.night_time,
        sale_or_share: spec.sale_or_share,
        obligation: Obligation::stored(spec.retention_obligation.as_ref()),
        current_version_id: &version_id,
        created_at: existing.as_ref().map_or(now, |p| p.created_at),
        updated_at: now,
    };
    let unchanged = existing.as_ref().is_some_and(|p| p.is(&row));
    match existing {
        None => catalog::insert_purpose(conn, &row)?,
        Some(_) if !unchanged => catalog::update_purpose(conn, &row)?,
        Some(_) => {}
    }
    if let Some(version) = published {
        catalog::insert_policy_version(
            conn,
            &PolicyVersion {
                id: version_id,
                purpose_key: key.to_owned(),
                version,
                title: spec.title.clone().tidy(),
                text: spec.text.clone().tidy(),
                text_hash: hash,
                created_at: now,
                terms,
                notice_hash: notice,
            },
        )?;
    }
    Ok(published)
}

fn terms_of_spec(spec: &PurposeSpec) -> Terms<'_> {
    Terms {
        required: spec.required,
        legal_basis: spec.legal_basis.as_str(),
        channel: spec.channel.as_str(),
        retention: spec.retention.to_string(),
        renewal_window_days: i64::from(spec.renewal_window_days),
        third_parties: spec.third_parties.clone(),
        sensitive: spec.sensitive,
        night_time: spec.night_time,
        sale_or_share: spec.sale_or_share,
        obligation: spec.retention_obligation.clone(),
        details: spec.details(),
    }
}

fn apply_form(conn: &mut DbConnection, spec: &FormSpec, now: NaiveDateTime) -> Result<Option<i64>, ApplyError> {
    let key = spec.key.as_str();
    let definition = serde_json::to_string(&spec.definition())
        .map_err(|e| ApplyError::Parse { path: key.to_owned(), message: e.to_string() })?;
    let hash = sha256_hex(definition.as_bytes());
    let latest = catalog::latest_form_version(conn, key)?;
    if latest.as_ref().is_some_and(|v| v.definition_hash == hash) {
        return Ok(None);
    }
    let version = latest.as_ref().map_or(1, |v| v.version + 1);
    let row = FormVersionRow {
        id: uuid::Uuid::new_v4().to_string(),
        form_key: key.to_owned(),
        version,
        definition,
        definition_hash: hash,
        created_at: now,
    };
    catalog::publish_form_version(conn, &row)?;
    Ok(Some(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_workspace_file_is_valid() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assent.toml")).unwrap();
        let file: WorkspaceFile = toml::from_str(&text).unwrap();
        file.check(&file.workspace.declared_locales().unwrap().unwrap_or_default()).unwrap();
        let keys: Vec<_> = file.purposes.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["service", "marketing_email", "marketing_sms", "personalisation"]);
    }

    #[test]
    fn a_purpose_without_retention_is_refused() {
        let text = r#"
            [[purposes]]
            key = "analytics"
            title = { en = "Analytics", ko = "분석" }
            text = { en = "We count visits.", ko = "방문을 셉니다." }
            legal_basis = "consent"
        "#;
        let err = toml::from_str::<WorkspaceFile>(text).unwrap_err();
        assert!(err.to_string().contains("retention"), "{err}");
    }

    #[test]
    fn a_required_purpose_resting_on_consent_is_refused_by_name() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assent.toml")).unwrap();
        let mut file: WorkspaceFile = toml::from_str(&text).unwrap();
        file.purposes[2].required = true;
        let err = file.check(&file.workspace.declared_locales().unwrap().unwrap_or_default()).unwrap_err();
        assert!(matches!(&err, ApplyError::Bundled(BundledConsent(key)) if key == "marketing_sms"), "{err}");
    }

    #[test]
    fn an_exported_file_parses_back_to_the_same_workspace() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assent.toml")).unwrap();
        let file: WorkspaceFile = toml::from_str(&text).unwrap();
        let exported = file.to_toml().unwrap();
        let again: WorkspaceFile = toml::from_str(&exported).unwrap();
        again.check(&again.workspace.declared_locales().unwrap().unwrap_or_default()).unwrap();
        assert_eq!(again.to_toml().unwrap(), exported);
        assert_eq!(again.forms[0].definition(), file.forms[0].definition());
        assert_eq!(again.purposes[1].retention, file.purposes[1].retention);
    }

    #[test]
    fn wording_hash_changes_with_any_language() {
        let title = Localized::new([(Locale::EN, "A"), (Locale::KO, "가")]);
        let text = Localized::new([(Locale::EN, "B"), (Locale::KO, "나")]);
        let other = Localized::new([(Locale::EN, "B"), (Locale::KO, "다")]);
        assert_ne!(wording_hash(&title, &text), wording_hash(&title, &other));
        assert_eq!(wording_hash(&title, &text), wording_hash(&title, &text));
        // Stored hashes made when the wording was two fixed fields still match.
        let before = serde_json::json!({"title": {"en": "A", "ko": "가"}, "text": {"en": "B", "ko": "나"}}).to_string();
        assert_eq!(wording_hash(&title, &text), sha256_hex(before.as_bytes()));
    }
}
