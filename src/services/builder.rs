//! The form builder: a form's working copy (a draft [`FormDefinition`] kept in `form_drafts`),
//! the edits made to it, and publishing it through [`workspace::apply`], the same code path as
//! `assent apply`, so a published version is immutable and submissions keep pointing at theirs.

use chrono::Utc;

use crate::db::DbConnection;
use crate::db::builder::{self, FormDraft};
use crate::db::catalog::{self, Catalog};
use crate::domain::form::{Choice, DefinitionError};
use crate::domain::texts::typed;
use crate::domain::{
    ErrorCode, FieldDefinition, FieldKey, FieldType, FormDefinition, FormKey, Locales, Localized, PurposeKey,
};
use crate::services::rights::{Actor, audit_action};
use crate::services::workspace::{self, ApplyError, WorkspaceFile, WorkspaceInfo};

#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    #[error("no such form")]
    NotFound,
    #[error("a form with this key exists")]
    KeyTaken,
    #[error("the form cannot be published: {0}")]
    Invalid(DefinitionError),
    #[error(transparent)]
    Apply(ApplyError),
    #[error("database error")]
    Storage(#[from] diesel::result::Error),
    #[error("stored draft is not readable: {0}")]
    Corrupt(#[from] serde_json::Error),
}

impl From<ApplyError> for BuilderError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Form { source, .. } => Self::Invalid(source),
            ApplyError::Storage(e) => Self::Storage(e),
            other => Self::Apply(other),
        }
    }
}

impl From<crate::db::CommitFailed> for BuilderError {
    fn from(_: crate::db::CommitFailed) -> Self {
        Self::Storage(diesel::result::Error::RollbackTransaction)
    }
}

/// A form in the builder: its draft, and the version in force (if published).
#[derive(Debug, Clone)]
pub struct Working {
    pub key: FormKey,
    pub draft: FormDefinition,
    pub published: Option<i64>,
    /// The draft differs from the version in force (or nothing is published yet).
    pub unpublished_changes: bool,
}

/// The draft of `key`: the saved working copy, or else the published definition.
pub fn working(conn: &mut DbConnection, catalog: &Catalog, key: &str) -> Result<Working, BuilderError> {
    let published = catalog.form(key);
    let draft = match builder::draft(conn, key)? {
        Some(row) => serde_json::from_str(&row.definition)?,
        None => published.map(|f| f.definition.clone()).ok_or(BuilderError::NotFound)?,
    };
    let form_key = FormKey::parse(key).map_err(|_| BuilderError::NotFound)?;
    let unpublished_changes = published.is_none_or(|f| f.definition != draft);
    Ok(Working { key: form_key, draft, published: published.map(|f| f.version), unpublished_changes })
}

/// Every form: published ones and drafts not yet published, by key.
pub fn all(conn: &mut DbConnection, catalog: &Catalog) -> Result<Vec<Working>, BuilderError> {
    let mut keys: Vec<String> = catalog.forms.keys().cloned().collect();
    keys.extend(builder::drafts(conn)?.into_iter().map(|d| d.form_key));
    keys.sort();
    keys.dedup();
    keys.iter().map(|k| working(conn, catalog, k)).collect()
}

/// Starts a new form as a draft (nothing is public until it is published).
pub fn create(
    conn: &mut DbConnection,
    key: &FormKey,
    draft: &FormDefinition,
    actor: &Actor,
) -> Result<(), BuilderError> {
    if catalog::form_exists(conn, key.as_str())? || builder::draft(conn, key.as_str())?.is_some() {
        return Err(BuilderError::KeyTaken);
    }
    save(conn, key, draft, actor)?;
    audit_action(conn, actor, "form_created", None, key.as_str())?;
    Ok(())
}

/// Saves the working copy.
pub fn save(conn: &mut DbConnection, key: &FormKey, draft: &FormDefinition, actor: &Actor) -> Result<(), BuilderError> {
    let (_, owner_id) = actor.parts();
    builder::save_draft(
        conn,
        &FormDraft {
            form_key: key.to_string(),
            definition: serde_json::to_string(draft)?,
            updated_at: Utc::now().naive_utc(),
            updated_by: owner_id.to_owned(),
        },
    )?;
    Ok(())
}

/// Publishes the draft as a new immutable version, exactly as `assent apply` would: the
/// workspace in force with this form's definition replaced. `None` if nothing changed.
pub fn publish(conn: &mut DbConnection, key: &str, actor: &Actor) -> Result<Option<i64>, BuilderError> {
    let catalog = Catalog::load(conn)?;
    let work = working(conn, &catalog, key)?;
    work.draft.check(|p| catalog.purpose(p.as_str()).is_some()).map_err(BuilderError::Invalid)?;
    let file = WorkspaceFile::from_catalog(&catalog);
    // The purposes in force are applied unchanged (a no-op); only this form can change.
    let single = WorkspaceFile {
        workspace: WorkspaceInfo::default(),
        purposes: file.purposes,
        forms: vec![spec_of(&work.key, &work.draft)],
        webhooks: Vec::new(),
    };
    let report = workspace::apply(conn, &single)?;
    // Published, the draft is the version in force: dropping it lets a later `assent apply`
    // of the same form show up in the builder instead of being hidden behind a stale copy.
    builder::delete_draft(conn, key)?;
    let version = report.form_versions.first().map(|(_, v)| *v);
    if let Some(v) = version {
        audit_action(conn, actor, "form_published", None, &format!("{key} v{v}"))?;
    }
    Ok(version)
}

fn spec_of(key: &FormKey, d: &FormDefinition) -> workspace::FormSpec {
    workspace::FormSpec::of(key, d)
}

/// A field as typed in the builder.
#[derive(Debug, Clone, Default)]
pub struct FieldInput {
    pub key: String,
    pub kind: String,
    /// As typed, one entry per language row (`label_<tag>`).
    pub label: Localized,
    pub required: bool,
    pub max_length: String,
    /// One choice a line: `value|label|label…`, a label per offered language in the workspace's
    /// order (an empty one: not translated).
    pub choices: String,
    pub purposes: Vec<String>,
}

pub const FIELD_TYPES: [&str; 6] = ["email", "text", "textarea", "tel", "date", "select"];

fn field_type(raw: &str) -> Option<FieldType> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}

pub fn field_type_name(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Email => "email",
        FieldType::Text => "text",
        FieldType::Textarea => "textarea",
        FieldType::Tel => "tel",
        FieldType::Date => "date",
        FieldType::Select => "select",
    }
}

/// Parses a field against the workspace's languages; on failure every refused input (`key`,
/// `kind`, `label_<tag>`, `max_length`, `choices`) with a message code. A field may be saved
/// without a purpose: the draft keeps it, and publishing refuses it with the domain's own reason.
pub fn parse_field(input: &FieldInput, locales: &Locales) -> Result<FieldDefinition, Vec<(String, ErrorCode)>> {
    let mut problems = Vec::new();
    let key = FieldKey::parse(input.key.trim()).map_err(|_| problems.push(("key".into(), ErrorCode::InvalidKey))).ok();
    let kind = field_type(&input.kind);
    if kind.is_none() {
        problems.push(("kind".into(), ErrorCode::InvalidChoice));
    }
    let label = typed("label", &input.label, locales, 200, &mut problems);
    let max_length = match input.max_length.trim() {
        "" => Some(None),
        raw => raw.parse::<usize>().ok().filter(|n| (1..=10_000).contains(n)).map(Some),
    };
    if max_length.is_none() {
        problems.push(("max_length".into(), ErrorCode::InvalidLength));
    }
    let choices = parse_choices(&input.choices, locales);
    if choices.is_none() || (kind == Some(FieldType::Select) && choices.as_ref().is_some_and(Vec::is_empty)) {
        problems.push(("choices".into(), ErrorCode::InvalidChoices));
    }
    let purposes: Vec<PurposeKey> = input.purposes.iter().filter_map(|p| PurposeKey::parse(p).ok()).collect();
    match (key, kind, max_length, choices) {
        (Some(key), Some(kind), Some(max_length), Some(choices)) if problems.is_empty() => Ok(FieldDefinition {
            key,
            kind,
            label,
            required: input.required,
            purposes,
            max_length,
            choices: if kind == FieldType::Select { choices } else { Vec::new() },
        }),
        _ => Err(problems),
    }
}

fn parse_choices(raw: &str, locales: &Locales) -> Option<Vec<Choice>> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut parts = line.split('|').map(str::trim);
            let value = parts.next()?;
            let labels: Vec<&str> = parts.collect();
            if labels.len() > locales.offered().len() || !crate::domain::keys::is_valid_key(value) {
                return None;
            }
            let label = Localized::new(locales.offered().iter().copied().zip(labels)).tidy();
            label.check(locales).is_ok().then(|| Choice { value: value.to_owned(), label })
        })
        .collect()
}

/// The choices of a field as the builder shows them (the inverse of parsing).
pub fn choices_text(field: &FieldDefinition, locales: &Locales) -> String {
    field
        .choices
        .iter()
        .map(|c| {
            let labels: Vec<&str> = locales.offered().iter().map(|l| c.label.exactly(*l).unwrap_or("")).collect();
            format!("{}|{}", c.value, labels.join("|")).trim_end_matches('|').to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The allowed origins typed one a line, each exactly `scheme://host[:port]`; the bad lines otherwise.
pub fn parse_origins(raw: &str) -> Result<Vec<String>, Vec<String>> {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let exact = line.trim_end_matches('/').to_ascii_lowercase();
        match crate::domain::origin::origin_of(line) {
            Some(origin) if origin == exact => {
                if !good.contains(&origin) {
                    good.push(origin);
                }
            }
            _ => bad.push(line.to_owned()),
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;

    #[test]
    fn origins_are_exact_scheme_host_port() {
        assert_eq!(
            parse_origins("https://Shop.example\n\nhttp://localhost:3000/").unwrap(),
            ["https://shop.example", "http://localhost:3000"]
        );
        assert_eq!(parse_origins("https://shop.example/path\nftp://x").unwrap_err().len(), 2);
    }

    #[test]
    fn a_select_needs_choices_and_a_field_may_wait_for_its_purpose() {
        let input = FieldInput {
            key: "size".into(),
            kind: "select".into(),
            label: Localized::new([(Locale::EN, "Size"), (Locale::KO, "크기")]),
            ..FieldInput::default()
        };
        let locales = Locales::default();
        assert_eq!(parse_field(&input, &locales).unwrap_err(), [("choices".to_owned(), ErrorCode::InvalidChoices)]);
        let typed = FieldInput { choices: "s|Small|작음\nl|Large".into(), ..input };
        let field = parse_field(&typed, &locales).unwrap();
        assert_eq!(field.choices.len(), 2);
        assert_eq!(field.choices[1].label.exactly(Locale::KO), None, "untranslated, not refused");
        assert!(field.purposes.is_empty());
        assert_eq!(choices_text(&field, &locales), "s|Small|작음\nl|Large");
        let too_many = FieldInput { choices: "s|Small|작음|小".into(), ..typed };
        assert!(parse_field(&too_many, &locales).is_err());
    }
}
