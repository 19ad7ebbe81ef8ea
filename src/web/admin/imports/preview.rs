//! The mapping step's page as the reader sees it: each header with its first values and what
//! it is taken for, and the first rows as they would be recorded, in the reader's language.

use chrono::TimeZone as _;

use super::report::code_sentence;
use crate::db::catalog::{Catalog, PublishedForm};
use crate::domain::Locale;
use crate::domain::import::{self as rules, Column, ImportedRow, Zone, column_named};
use crate::i18n::message_struct;
use crate::services::import::sheets::{Choices, Preview};

message_struct! {
    /// The mapping step's words (ids `imports-map-<field>`).
    pub struct MappingStrings("imports-map-") {
        title,
        intro,
        columns,
        col_header,
        col_sample,
        col_target,
        not_imported,
        field,
        consent,
        consent_date,
        consented_at,
        withdrawn_at,
        source,
        external_id,
        preview,
        preview_intro,
        col_line,
        problems,
        granted,
        withdrawn,
        not_asked,
        not_kept,
        header_problems,
        update,
        check,
        download,
    }
}

/// One header and what it is taken for.
pub(super) struct ColumnChoice {
    pub index: usize,
    pub header: String,
    /// A few of its values, as in the file.
    pub sample: String,
    pub chosen: String,
}

/// One sample row as it would be read.
pub(super) struct RowView {
    pub line: u64,
    pub cells: Vec<String>,
    pub problems: Vec<String>,
}

/// What the page shows, in the reader's language.
pub(super) struct View<'a> {
    pub catalog: &'a Catalog,
    pub form: &'a PublishedForm,
    pub locale: Locale,
    pub zone: Zone,
}

impl View<'_> {
    fn purpose_title(&self, key: &str) -> String {
        crate::web::pages::purpose_title(self.catalog, key, self.locale)
    }

    /// Every name a column may be taken for, with its label.
    pub(super) fn targets(&self, m: &MappingStrings) -> Vec<(String, String)> {
        let definition = &self.form.definition;
        let mut targets = vec![(String::new(), m.not_imported.to_owned())];
        for f in &definition.fields {
            let label = f.label.get(self.locale, self.catalog.default_locale());
            targets.push((f.key.to_string(), format!("{}: {label}", m.field)));
        }
        for p in &definition.purposes {
            targets.push((p.to_string(), format!("{}: {}", m.consent, self.purpose_title(p.as_str()))));
        }
        for p in &definition.purposes {
            targets.push((format!("{p}_at"), format!("{}: {}", m.consent_date, self.purpose_title(p.as_str()))));
        }
        for (name, label) in [
            (rules::CONSENTED_AT, m.consented_at),
            (rules::WITHDRAWN_AT, m.withdrawn_at),
            (rules::SOURCE, m.source),
            (rules::EXTERNAL_ID, m.external_id),
        ] {
            targets.push((name.to_owned(), label.to_owned()));
        }
        targets
    }

    /// What a header is taken for: the choice made, else its own name when it is one.
    fn chosen(&self, header: &str, choices: &Choices) -> String {
        let target = choices.mapping.columns.get(header).map_or(header, String::as_str);
        match column_named(target, &self.form.definition) {
            Some(Column::Ignored) | None => String::new(),
            Some(_) => target.to_owned(),
        }
    }

    pub(super) fn columns(&self, preview: &Preview, choices: &Choices) -> Vec<ColumnChoice> {
        preview
            .headers
            .iter()
            .enumerate()
            .map(|(index, header)| {
                let values =
                    preview.samples.iter().filter_map(|(_, cells)| cells.get(index)).filter(|v| !v.trim().is_empty());
                ColumnChoice {
                    index,
                    header: header.clone(),
                    sample: values.take(3).map(String::as_str).collect::<Vec<_>>().join(" · "),
                    chosen: self.chosen(header, choices),
                }
            })
            .collect()
    }

    /// The columns imported, in the file's order: (index, what it is, as a label).
    pub(super) fn mapped(&self, preview: &Preview, choices: &Choices) -> Vec<(usize, String)> {
        let m = MappingStrings::get(self.locale);
        let labels = self.targets(m);
        preview
            .headers
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let chosen = self.chosen(h, choices);
                let label = labels.iter().find(|(name, _)| *name == chosen && !chosen.is_empty())?;
                Some((i, format!("{} ({h})", label.1)))
            })
            .collect()
    }

    pub(super) fn header_problems(&self, preview: &Preview) -> Vec<String> {
        let Err(problems) = &preview.layout else { return Vec::new() };
        problems
            .iter()
            .map(|p| {
                let code =
                    serde_json::to_value(p.code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                let said = code_sentence(self.locale, &code);
                if p.column.is_empty() { said } else { format!("{}: {said}", p.column) }
            })
            .collect()
    }

    fn when(&self, at: chrono::NaiveDateTime) -> String {
        self.zone.offset().from_utc_datetime(&at).format("%Y-%m-%d %H:%M").to_string()
    }

    pub(super) fn rows(&self, preview: &Preview, choices: &Choices, m: &MappingStrings) -> Vec<RowView> {
        let mapped = self.mapped(preview, choices);
        preview
            .rows
            .iter()
            .zip(&preview.samples)
            .map(|((line, read), (_, cells))| match read {
                Ok(row) => RowView {
                    line: *line,
                    cells: mapped
                        .iter()
                        .map(|(i, _)| self.cell(row, &preview.headers[*i], choices, cells.get(*i), m))
                        .collect(),
                    problems: Vec::new(),
                },
                Err(problems) => RowView {
                    line: *line,
                    cells: mapped.iter().map(|(i, _)| cells.get(*i).cloned().unwrap_or_default()).collect(),
                    problems: problems
                        .iter()
                        .map(|p| format!("{}: {}", p.column, code_sentence(self.locale, p.code.as_str())))
                        .collect(),
                },
            })
            .collect()
    }

    /// One cell as it would be recorded.
    fn cell(
        &self,
        row: &ImportedRow,
        header: &str,
        choices: &Choices,
        raw: Option<&String>,
        m: &MappingStrings,
    ) -> String {
        let raw = raw.cloned().unwrap_or_default();
        let target = self.chosen(header, choices);
        match column_named(&target, &self.form.definition) {
            Some(Column::Field(key)) => {
                row.accepted.values.iter().find(|v| v.key == key).map(|v| v.value.clone()).unwrap_or_else(|| {
                    if raw.trim().is_empty() { String::new() } else { format!("{raw} — {}", m.not_kept) }
                })
            }
            Some(Column::Consent(purpose)) => match row.consents.iter().find(|c| c.purpose == purpose) {
                Some(c) => match c.withdrawn_at {
                    Some(w) => format!("{} {} → {} {}", m.granted, self.when(c.granted_at), m.withdrawn, self.when(w)),
                    None => format!("{} {}", m.granted, self.when(c.granted_at)),
                },
                None => m.not_asked.to_owned(),
            },
            Some(Column::Source) => row.source.clone().unwrap_or_default(),
            Some(Column::ExternalId) => row.external_id.clone().unwrap_or_default(),
            _ => raw,
        }
    }
}
