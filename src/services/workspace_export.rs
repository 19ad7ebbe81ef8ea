//! The workspace in force as a file (`assent export`) that `assent apply` accepts unchanged.

use super::workspace::{FormSpec, PurposeSpec, WorkspaceFile, WorkspaceInfo};
use crate::db::catalog::Catalog;
use crate::domain::{FormDefinition, FormKey, Locale, Locales, Localized};

/// The first lines of an exported file.
const EXPORT_HEADER: &str = "# Assent workspace, exported by `assent export`: purposes with their current wording and\n\
# forms with their current published definition. `assent apply` accepts this file unchanged.\n\n";

impl WorkspaceFile {
    /// The workspace as it is in force now: every purpose with its current policy version and
    /// every form with its current published version, in key order (so the text is stable).
    pub fn from_catalog(catalog: &Catalog) -> Self {
        let purposes = catalog
            .purposes
            .values()
            .map(|p| PurposeSpec {
                key: p.key.clone(),
                title: offered_only(p.policy.title(), &catalog.locales),
                text: offered_only(p.policy.text(), &catalog.locales),
                legal_basis: p.legal_basis,
                required: p.required,
                channel: p.channel,
                retention: p.retention,
                renewal_window_days: u32::try_from(p.renewal_window_days).unwrap_or(u32::MAX),
                category: p.declared_category,
                third_parties: p.third_parties.clone(),
                sensitive: p.sensitive,
                night_time: p.night_time,
                sale_or_share: p.sale_or_share,
                retention_obligation: p.obligation.clone(),
                kind: p.details.kind,
                recipients: p.details.recipients.clone(),
                refusal: p.details.refusal.clone().map(|r| offered_only(&r, &catalog.locales)),
            })
            .collect();
        let forms = catalog.forms.values().map(|f| FormSpec::of(&f.key, &f.definition)).collect();
        let workspace = WorkspaceInfo {
            name: String::new(),
            locales: catalog.locales.offered().to_vec(),
            default_locale: Some(catalog.locales.default_locale()),
            controller: catalog.controller.clone(),
        };
        Self { workspace, purposes, forms, webhooks: Vec::new() }
    }

    /// The file as TOML, in the shape [`WorkspaceFile::read`] parses.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        Ok(format!("{EXPORT_HEADER}{}", toml::to_string(self)?))
    }
}

/// A text without the languages the workspace stopped offering (so an export applies as is).
fn offered_only(text: &Localized, locales: &Locales) -> Localized {
    Localized(
        text.0
            .iter()
            .filter(|(tag, _)| Locale::from_tag(tag).is_some_and(|l| locales.offers(l)))
            .map(|(t, v)| (t.clone(), v.clone()))
            .collect(),
    )
}

impl FormSpec {
    /// The spec that publishes `definition` as form `key`.
    pub fn of(key: &FormKey, d: &FormDefinition) -> Self {
        Self {
            key: key.clone(),
            kind: d.kind.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            double_opt_in: d.double_opt_in,
            purposes: d.purposes.clone(),
            allowed_origins: d.allowed_origins.clone(),
            fields: d.fields.clone(),
            min_age: d.min_age,
            age_check: d.age_check,
        }
    }
}
