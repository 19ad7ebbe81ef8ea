//! The de-identified export for analysis (PIPA art. 28-2): one row per living person under a
//! pseudonym drawn for this export alone, their consent state per purpose, the month they were
//! first seen, and the values of fields that are a choice or a date (dates by the month). No
//! address, name, phone or free text, no subject id, no blind index. Every combination of
//! quasi-identifiers (the month and the field values) that fewer than k people share is
//! suppressed. The export itself is recorded (`deidentified_exports`) with its parameters.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;

use super::ServiceError;
use crate::crypto::{Bound, Keyring, Pseudonyms};
use crate::db::catalog::Catalog;
use crate::db::{DbConnection, consent, subjects};
use crate::domain::deidentify::{self, Record};
use crate::domain::{ConsentStatus, FieldType};

/// People read per query.
const PAGE: i64 = 1000;

/// What an export held, for its record and for the person who made it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: String,
    pub k: usize,
    pub rows: usize,
    /// Rows whose quasi-identifiers were suppressed.
    pub suppressed: usize,
    pub quasi_identifiers: Vec<String>,
    pub attributes: Vec<String>,
    pub at: NaiveDateTime,
}

/// Records an export (its parameters and counts, never its rows) and audits it, for `actor`
/// (`cli`, `owner:<id>`); `output` is where the command wrote it.
pub fn record(
    writer: &crate::db::Writer,
    summary: &Summary,
    actor: &crate::services::audit::Actor,
    output: Option<String>,
) -> Result<(), ServiceError> {
    let parameters = serde_json::json!({
        "quasi_identifiers": summary.quasi_identifiers,
        "attributes": summary.attributes,
        "output": output,
    })
    .to_string();
    let (s, actor) = (summary.clone(), actor.clone());
    writer.write_blocking(move |tx| {
        let (k, rows, suppressed) = (s.k as i64, s.rows as i64, s.suppressed as i64);
        let (kind, id) = actor.parts();
        let label = if kind == "job" { id.to_owned() } else { format!("{kind}:{id}") };
        crate::db::imports::record_deidentified_export(tx.conn, &s.id, &label, k, rows, suppressed, &parameters, s.at)?;
        let detail = format!("{} k={k} rows={rows} suppressed={suppressed}", s.id);
        crate::services::audit::audit_action(tx.conn, &actor, "export_deidentified", None, &detail)?;
        Ok(())
    })
}

/// The export as CSV bytes, and its summary.
pub fn export(
    conn: &mut DbConnection,
    keyring: &Keyring,
    catalog: &Catalog,
    k: usize,
) -> Result<(Vec<u8>, Summary), ServiceError> {
    let fields = exportable_fields(catalog);
    let purposes: Vec<String> = catalog.purposes.keys().cloned().collect();
    let pseudonyms = Pseudonyms::for_one_export();
    let mut names = Vec::new();
    let mut records = Vec::new();
    let mut after = String::new();
    loop {
        let page = subjects::live_after(conn, &after, PAGE)?;
        let Some((last, _, _)) = page.last() else { break };
        after.clone_from(last);
        for (id, record) in page_records(conn, keyring, &fields, &purposes, &page)? {
            names.push(pseudonyms.of(&id));
            records.push(record);
        }
    }
    let suppressed = deidentify::suppress(&mut records, k);
    let quasi: Vec<String> = ["first_seen".to_owned()].into_iter().chain(fields.keys().cloned()).collect();
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header = ["pseudonym".to_owned()].into_iter().chain(quasi.iter().cloned()).chain(purposes.iter().cloned());
    csv.write_record(header).map_err(|_| ServiceError::Unavailable)?;
    for (name, r) in names.iter().zip(&records) {
        let row = std::iter::once(name.as_str())
            .chain(r.quasi.iter().map(String::as_str))
            .chain(r.attributes.iter().map(String::as_str));
        csv.write_record(row).map_err(|_| ServiceError::Unavailable)?;
    }
    let bytes = csv.into_inner().map_err(|_| ServiceError::Unavailable)?;
    let summary = Summary {
        id: crate::db::new_row_id(),
        k,
        rows: records.len(),
        suppressed,
        quasi_identifiers: quasi,
        attributes: purposes,
        at: crate::domain::ledger::ledger_time(Utc::now().naive_utc()),
    };
    Ok((bytes, summary))
}

/// The fields of every form whose values may leave, by key (the first form's definition).
fn exportable_fields(catalog: &Catalog) -> BTreeMap<String, FieldType> {
    let mut fields = BTreeMap::new();
    for form in catalog.forms.values() {
        for f in form.definition.fields.iter().filter(|f| deidentify::exportable(f.kind)) {
            fields.entry(f.key.to_string()).or_insert(f.kind);
        }
    }
    fields
}

type Page = [subjects::LiveSubject];

fn page_records(
    conn: &mut DbConnection,
    keyring: &Keyring,
    fields: &BTreeMap<String, FieldType>,
    purposes: &[String],
    page: &Page,
) -> Result<Vec<(String, Record)>, ServiceError> {
    let ids: Vec<&str> = page.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut states: HashMap<String, HashMap<String, ConsentStatus>> = HashMap::new();
    for s in consent::for_subjects(conn, &ids)? {
        states.entry(s.subject_id.to_string()).or_default().insert(s.purpose_key, s.status);
    }
    let field_keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    let stored = if field_keys.is_empty() { Vec::new() } else { subjects::values_of_fields(conn, &ids, &field_keys)? };
    let mut values: HashMap<&str, HashMap<String, String>> = HashMap::new();
    let keys: HashMap<&str, &Option<Vec<u8>>> = page.iter().map(|(id, key, _)| (id.as_str(), key)).collect();
    let mut opened: HashMap<&str, crate::crypto::DataKey> = HashMap::new();
    for (value_id, subject, field, ciphertext) in &stored {
        let (Some(Some(wrapped)), Some(kind)) = (keys.get(subject.as_str()), fields.get(field)) else { continue };
        if !opened.contains_key(subject.as_str()) {
            opened.insert(subject, keyring.unwrap_data_key(wrapped, subject)?);
        }
        let Some(key) = opened.get(subject.as_str()) else { continue };
        let text = key.open_text(ciphertext, Bound::Value { subject, value_id, field })?;
        if let (Some(coarse), Some((id, _))) = (deidentify::coarsen(*kind, &text), keys.get_key_value(subject.as_str()))
        {
            // Oldest first: the latest value wins.
            values.entry(id).or_default().insert(field.clone(), coarse);
        }
    }
    Ok(page
        .iter()
        .map(|(id, _, created_at)| {
            let held = values.get(id.as_str());
            let quasi = std::iter::once(deidentify::month(*created_at))
                .chain(fields.keys().map(|f| held.and_then(|h| h.get(f)).cloned().unwrap_or_default()))
                .collect();
            let of = states.get(id);
            let attributes = purposes
                .iter()
                .map(|p| of.and_then(|s| s.get(p)).copied().unwrap_or(ConsentStatus::Never).as_str().to_owned())
                .collect();
            (id.clone(), Record { quasi, attributes })
        })
        .collect())
}
