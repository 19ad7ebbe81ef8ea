//! Purposes edited in the console. What an owner types is parsed into the same [`PurposeSpec`]
//! the workspace file holds, and saved through [`workspace::apply`], so the console and
//! `assent apply` produce identical results (new wording, new policy version).

use crate::db::DbConnection;
use crate::db::catalog;
use crate::domain::provision::{PurposeKind, Recipient};
use crate::domain::purpose::check_unbundled;
use crate::domain::texts::typed;
use crate::domain::{
    Channel, ErrorCode, LegalBasis, Locales, Localized, Obligation, PurposeCategory, PurposeKey, Retention,
};
use crate::services::notice;
use crate::services::rights::{Actor, audit_action};
use crate::services::workspace::{self, ApplyError, PurposeSpec, WorkspaceFile, WorkspaceInfo};

/// A purpose form as typed (all text).
#[derive(Debug, Clone, Default)]
pub struct PurposeInput {
    pub key: String,
    /// As typed, one entry per language row of the form.
    pub title: Localized,
    pub text: Localized,
    pub legal_basis: String,
    pub required: bool,
    pub channel: String,
    pub retention: String,
    pub retention_preset: String,
    pub renewal_window_days: String,
    /// A purpose category's wire name, or empty: implied by the legal basis and channel.
    pub category: String,
    /// One third party a line.
    pub third_parties: String,
    pub sensitive: bool,
    pub night_time: bool,
    pub sale_or_share: bool,
    /// The statutory retention obligation: a period or a preset's name, and the law (both
    /// blank: none).
    pub obligation_period: String,
    pub obligation_law: String,
    /// What refusing means, per language (`refusal_<tag>`): required for a required purpose.
    pub refusal: Localized,
    /// Kind and recipients are declared in the workspace file; the console keeps them as they are.
    pub kind: PurposeKind,
    pub recipients: Vec<Recipient>,
}

/// The statutory presets offered, by the name `Retention::parse` accepts.
pub const PRESETS: [&str; 4] = ["payment_records", "disputes", "advertising_records", "marketing"];

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 10_000;

/// Parses the input against the workspace's languages; on failure, every refused field with a
/// message code (a text's inputs are `title_<tag>`, `text_<tag>`).
pub fn parse(input: &PurposeInput, locales: &Locales) -> Result<PurposeSpec, Vec<(String, ErrorCode)>> {
    let mut problems = Vec::new();
    let key = PurposeKey::parse(input.key.trim()).ok();
    if key.is_none() {
        problems.push(("key".into(), ErrorCode::InvalidKey));
    }
    let title = typed("title", &input.title, locales, MAX_TITLE, &mut problems);
    let wording = typed("text", &input.text, locales, MAX_TEXT, &mut problems);
    let mut need = |field: &str, code: ErrorCode, ok: bool| {
        if !ok {
            problems.push((field.to_owned(), code));
        }
    };
    let legal_basis = LegalBasis::parse(&input.legal_basis);
    need("legal_basis", ErrorCode::InvalidChoice, legal_basis.is_some());
    let channel = Channel::parse(&input.channel);
    need("channel", ErrorCode::InvalidChoice, channel.is_some());
    let retention = match input.retention_preset.trim() {
        "" => Retention::parse(&input.retention).ok(),
        preset if PRESETS.contains(&preset) => Retention::preset(preset),
        _ => None,
    };
    need("retention", ErrorCode::InvalidRetention, retention.is_some());
    let bundled = legal_basis.is_some_and(|basis| check_unbundled(input.key.trim(), input.required, basis).is_err());
    need("legal_basis", ErrorCode::BundledConsent, !bundled);
    let window = input.renewal_window_days.trim().parse::<u32>().ok().filter(|d| *d <= 365);
    need("renewal_window_days", ErrorCode::InvalidNumber, window.is_some());
    let obligation = obligation_of(input, &mut problems);
    let refusal = refusal_of(input, locales, &mut problems);
    let category = category_of(&input.category, &mut problems);
    let third_parties: Vec<String> =
        input.third_parties.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let (Some(key), Some(legal_basis), Some(channel), Some(retention), Some(renewal_window_days), Some(category)) =
        (key, legal_basis, channel, retention, window, category)
    else {
        return Err(problems);
    };
    let Some(retention_obligation) = obligation.filter(|_| problems.is_empty()) else { return Err(problems) };
    let spec = PurposeSpec {
        key,
        title,
        text: wording,
        legal_basis,
        required: input.required,
        channel,
        retention,
        renewal_window_days,
        category,
        third_parties,
        sensitive: input.sensitive,
        night_time: input.night_time,
        sale_or_share: input.sale_or_share,
        retention_obligation,
        kind: input.kind,
        recipients: input.recipients.clone(),
        refusal,
    };
    notice::check_third_parties(&spec.third_parties).map_err(|_| vec![("third_parties".into(), ErrorCode::TooLong)])?;
    Ok(spec)
}

/// The refusal text typed: none when every language is blank, which a required purpose may not be.
fn refusal_of(input: &PurposeInput, locales: &Locales, problems: &mut Vec<(String, ErrorCode)>) -> Option<Localized> {
    if input.refusal.0.values().all(|t| t.trim().is_empty()) {
        if input.required {
            problems.push((format!("refusal_{}", locales.default_locale()), ErrorCode::Required));
        }
        return None;
    }
    Some(typed("refusal", &input.refusal, locales, MAX_TEXT, problems))
}

/// The statutory obligation typed (`Some(None)`: none), or `None` with the problem noted.
fn obligation_of(input: &PurposeInput, problems: &mut Vec<(String, ErrorCode)>) -> Option<Option<Obligation>> {
    Obligation::from_inputs(&input.obligation_period, &input.obligation_law)
        .map_err(|(field, _)| {
            let code = if field == "obligation_law" { ErrorCode::Required } else { ErrorCode::InvalidRetention };
            problems.push((field.to_owned(), code));
        })
        .ok()
}

/// The category chosen (`Some(None)`: implied), or `None` with the problem noted.
fn category_of(raw: &str, problems: &mut Vec<(String, ErrorCode)>) -> Option<Option<PurposeCategory>> {
    let category = match raw.trim() {
        "" => Some(None),
        raw => PurposeCategory::parse(raw).map(Some),
    };
    if category.is_none() {
        problems.push(("category".into(), ErrorCode::InvalidChoice));
    }
    category
}

#[derive(Debug, thiserror::Error)]
pub enum PurposeError {
    #[error("a purpose with this key exists")]
    KeyTaken,
    #[error("no such purpose")]
    NotFound,
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("database error")]
    Storage(#[from] diesel::result::Error),
}

/// Creates (`creating`) or changes a purpose; returns the policy version published, if the
/// wording changed (a new purpose always publishes version 1).
pub fn save(
    conn: &mut DbConnection,
    spec: PurposeSpec,
    creating: bool,
    actor: &Actor,
) -> Result<Option<i64>, PurposeError> {
    let exists = catalog::find_purpose(conn, spec.key.as_str())?.is_some();
    if creating && exists {
        return Err(PurposeError::KeyTaken);
    }
    if !creating && !exists {
        return Err(PurposeError::NotFound);
    }
    let key = spec.key.to_string();
    let file = WorkspaceFile {
        workspace: WorkspaceInfo::default(),
        purposes: vec![spec],
        forms: Vec::new(),
        webhooks: Vec::new(),
    };
    let report = workspace::apply(conn, &file)?;
    let version = report.policy_versions.first().map(|(_, v)| *v);
    let detail = match version {
        Some(v) => format!("{key} v{v}"),
        None => key,
    };
    audit_action(conn, actor, if creating { "purpose_created" } else { "purpose_changed" }, None, &detail)?;
    Ok(version)
}

/// The input that shows a purpose as it is now (for the edit form).
pub fn input_of(p: &catalog::PublishedPurpose) -> PurposeInput {
    PurposeInput {
        key: p.key.to_string(),
        title: p.policy.title().clone(),
        text: p.policy.text().clone(),
        legal_basis: p.legal_basis.as_str().to_owned(),
        required: p.required,
        channel: p.channel.as_str().to_owned(),
        retention: p.retention.to_string(),
        retention_preset: String::new(),
        renewal_window_days: p.renewal_window_days.to_string(),
        category: p.declared_category.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        third_parties: p.third_parties.join("\n"),
        sensitive: p.sensitive,
        night_time: p.night_time,
        sale_or_share: p.sale_or_share,
        obligation_period: p.obligation.as_ref().map(|o| o.period.to_string()).unwrap_or_default(),
        obligation_law: p.obligation.as_ref().map(|o| o.law.clone()).unwrap_or_default(),
        refusal: p.details.refusal.clone().unwrap_or_default(),
        kind: p.details.kind,
        recipients: p.details.recipients.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;

    fn input() -> PurposeInput {
        PurposeInput {
            key: "analytics".into(),
            title: Localized::new([(Locale::EN, "Analytics"), (Locale::KO, "분석")]),
            text: Localized::new([(Locale::EN, "We count visits."), (Locale::KO, "방문을 셉니다.")]),
            legal_basis: "consent".into(),
            required: false,
            channel: "none".into(),
            retention: "1y".into(),
            retention_preset: String::new(),
            renewal_window_days: "30".into(),
            ..PurposeInput::default()
        }
    }

    fn parse(input: &PurposeInput) -> Result<PurposeSpec, Vec<(String, ErrorCode)>> {
        super::parse(input, &Locales::default())
    }

    #[test]
    fn a_required_purpose_says_what_refusing_means() {
        let required = PurposeInput { required: true, legal_basis: "contract".into(), ..input() };
        let fields: Vec<_> = parse(&required).unwrap_err().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["refusal_en"]);
        let said = PurposeInput { refusal: Localized::new([(Locale::EN, "No account without it.")]), ..required };
        assert_eq!(parse(&said).unwrap().refusal.unwrap().get(Locale::EN, Locale::EN), "No account without it.");
        assert_eq!(parse(&input()).unwrap().refusal, None, "an optional purpose may say nothing");
    }

    #[test]
    fn a_preset_wins_over_the_typed_period() {
        let spec = parse(&PurposeInput { retention_preset: "payment_records".into(), ..input() }).unwrap();
        assert_eq!(spec.retention, Retention::months(60));
    }

    #[test]
    fn no_purpose_without_retention() {
        let problems = parse(&PurposeInput { retention: String::new(), ..input() }).unwrap_err();
        assert_eq!(problems, [("retention".to_owned(), ErrorCode::InvalidRetention)]);
    }

    #[test]
    fn a_required_purpose_on_consent_is_refused_at_its_legal_basis() {
        let said = Localized::new([(Locale::EN, "No service without it.")]);
        let problems = parse(&PurposeInput { required: true, refusal: said, ..input() }).unwrap_err();
        assert_eq!(problems, [("legal_basis".to_owned(), ErrorCode::BundledConsent)]);
        let said = Localized::new([(Locale::EN, "No service without it.")]);
        assert!(
            parse(&PurposeInput { required: true, legal_basis: "contract".into(), refusal: said, ..input() }).is_ok()
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = PurposeInput {
            key: "Bad Key".into(),
            title: Localized::new([(Locale::EN, " ")]),
            legal_basis: "whim".into(),
            renewal_window_days: "-1".into(),
            ..input()
        };
        let fields: Vec<_> = parse(&bad).unwrap_err().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["key", "title_en", "legal_basis", "renewal_window_days"]);
    }
}
