//! The console's CSV exports, streamed: submissions (with decrypted values and the consent state
//! per purpose) and the current consent state. A blocking task reads keyset pages of
//! [`BATCH`] rows and sends each page, written as CSV, down a small channel that the HTTP
//! response drains; at most a few pages are ever in memory, however many rows there are.
//! Recording the export in the audit log is the caller's job, before the first byte goes out.

use actix_web::web::Bytes;
use futures_util::Stream;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::crypto::Bound;
use crate::crypto::{DataKey, Keyring};
use crate::db::catalog::Catalog;
use crate::db::console::{self, Direction, SubmissionFilter, SubmissionRow};
use crate::db::{DbConnection, Pool, consent};
use crate::domain::FormDefinition;

/// Rows per query.
pub const BATCH: i64 = 1000;

/// Which export.
#[derive(Debug, Clone)]
pub enum Export {
    Submissions(SubmissionFilter),
    Consents,
}

type Chunk = Result<Bytes, std::io::Error>;

/// The export as a stream of CSV chunks. A database failure midway ends the stream with an
/// error (the client sees a cut-off download, never a silently short file).
pub fn stream(pool: Pool, keyring: Arc<Keyring>, catalog: Arc<Catalog>, export: Export) -> impl Stream<Item = Chunk> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    actix_web::rt::task::spawn_blocking(move || {
        let send = |chunk: Chunk| tx.blocking_send(chunk).is_ok();
        let result = pool.get().map_err(anyhow::Error::from).and_then(|mut conn| match &export {
            Export::Submissions(filter) => submissions(&mut conn, &keyring, &catalog, filter, &send),
            Export::Consents => consents(&mut conn, &keyring, &send),
        });
        if let Err(e) = result {
            tracing::error!(error = format!("{e:#}"), "CSV export failed");
            send(Err(std::io::Error::other("export failed")));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) })
}

/// Cells a spreadsheet would run as a formula are prefixed with `'` (as in `services::export`).
fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() }
}

fn csv_chunk(rows: &[Vec<String>]) -> anyhow::Result<Bytes> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row)?;
    }
    Ok(Bytes::from(w.into_inner()?))
}

/// Unwraps the data keys of these subjects (erased ones have none).
fn keys_of(
    conn: &mut DbConnection,
    keyring: &Keyring,
    ids: &[String],
) -> anyhow::Result<HashMap<String, (DataKey, String)>> {
    let mut keys = HashMap::new();
    for (id, index, wrapped, email) in console::subject_keys(conn, ids)? {
        let Some(wrapped) = wrapped else { continue };
        let key = keyring.unwrap_data_key(&wrapped, &id)?;
        let email = match email {
            Some(sealed) => key.open_text(&sealed, Bound::Email { subject: &id, index: &index })?,
            None => String::new(),
        };
        keys.insert(id, (key, email));
    }
    Ok(keys)
}

/// The field columns: every field key of every version of the exported forms, in first-seen order.
fn field_columns(conn: &mut DbConnection, form: Option<&str>) -> anyhow::Result<Vec<String>> {
    let mut columns: Vec<String> = Vec::new();
    for json in console::form_definitions(conn, form)? {
        let definition: FormDefinition = serde_json::from_str(&json)?;
        for f in definition.fields {
            if !columns.iter().any(|c| c == f.key.as_str()) {
                columns.push(f.key.to_string());
            }
        }
    }
    Ok(columns)
}

fn submissions(
    conn: &mut DbConnection,
    keyring: &Keyring,
    catalog: &Catalog,
    filter: &SubmissionFilter,
    send: &dyn Fn(Chunk) -> bool,
) -> anyhow::Result<()> {
    let fields = field_columns(conn, filter.form.as_deref())?;
    let purposes: Vec<&String> = catalog.purposes.keys().collect();
    let mut header: Vec<String> =
        ["submitted_at", "submission_id", "form", "form_version", "subject_id", "email"].map(String::from).to_vec();
    header.extend(fields.iter().map(|f| format!("field:{f}")));
    header.extend(purposes.iter().map(|p| format!("consent:{p}")));
    if !send(Ok(csv_chunk(&[header])?)) {
        return Ok(());
    }
    let mut after = None;
    loop {
        let page = console::submissions_page(conn, filter, after.as_ref(), Direction::OldestFirst, BATCH)?;
        let Some(last) = page.last() else { return Ok(()) };
        after = Some((last.created_at, last.id.clone()));
        let subject_ids: Vec<String> = page.iter().map(|s| s.subject_id.clone()).collect();
        let keys = keys_of(conn, keyring, &subject_ids)?;
        let values = submitted_values(conn, &page, &keys)?;
        let mut states: HashMap<(String, String), String> = HashMap::new();
        for s in consent::for_subjects(conn, &subject_ids)? {
            states.insert((s.subject_id.to_string(), s.purpose_key), s.status.as_str().to_owned());
        }
        let rows: Vec<Vec<String>> = page
            .iter()
            .map(|s| {
                let mut row = vec![
                    s.created_at.and_utc().to_rfc3339(),
                    s.id.clone(),
                    s.form_key.clone(),
                    s.form_version.to_string(),
                    s.subject_id.clone(),
                    cell(keys.get(&s.subject_id).map_or("", |(_, email)| email.as_str())),
                ];
                let held = values.get(s.id.as_str());
                row.extend(fields.iter().map(|f| cell(held.and_then(|v| v.get(f)).map_or("", String::as_str))));
                row.extend(purposes.iter().map(|p| {
                    states.get(&(s.subject_id.clone(), (*p).clone())).cloned().unwrap_or_else(|| "never".into())
                }));
                row
            })
            .collect();
        if !send(Ok(csv_chunk(&rows)?)) {
            return Ok(());
        }
    }
}

/// The decrypted values of a page of submissions, by submission id and field (values of
/// erased people, whose key is gone, are left out).
fn submitted_values<'a>(
    conn: &mut DbConnection,
    page: &'a [SubmissionRow],
    keys: &HashMap<String, (DataKey, String)>,
) -> anyhow::Result<HashMap<&'a str, BTreeMap<String, String>>> {
    let ids: Vec<String> = page.iter().map(|s| s.id.clone()).collect();
    let subject_of: HashMap<&str, &str> = page.iter().map(|s| (s.id.as_str(), s.subject_id.as_str())).collect();
    let mut values: HashMap<&str, BTreeMap<String, String>> = HashMap::new();
    for (submission, value_id, field, ciphertext) in &console::values_of_submissions(conn, &ids)? {
        let Some((&id, &subject)) = subject_of.get_key_value(submission.as_str()) else { continue };
        let Some((key, _)) = keys.get(subject) else { continue };
        let plain = key.open_text(ciphertext, Bound::Value { subject, value_id, field })?;
        values.entry(id).or_default().insert(field.clone(), plain);
    }
    Ok(values)
}

fn consents(conn: &mut DbConnection, keyring: &Keyring, send: &dyn Fn(Chunk) -> bool) -> anyhow::Result<()> {
    let header = ["subject_id", "email", "purpose", "status", "policy_version", "granted_at", "expires_at", "since"]
        .map(String::from)
        .to_vec();
    if !send(Ok(csv_chunk(&[header])?)) {
        return Ok(());
    }
    let time = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.and_utc().to_rfc3339()).unwrap_or_default();
    let mut after = None;
    loop {
        let page = console::states_page(conn, after.as_ref(), BATCH)?;
        let Some(last) = page.last() else { return Ok(()) };
        after = Some((last.subject_id.clone(), last.purpose.clone()));
        let mut subject_ids: Vec<String> = page.iter().map(|s| s.subject_id.clone()).collect();
        subject_ids.dedup();
        let keys = keys_of(conn, keyring, &subject_ids)?;
        let rows: Vec<Vec<String>> = page
            .iter()
            .map(|s| {
                vec![
                    s.subject_id.clone(),
                    cell(keys.get(&s.subject_id).map_or("", |(_, email)| email.as_str())),
                    s.purpose.clone(),
                    s.status.clone(),
                    s.policy_version.to_string(),
                    time(s.granted_at),
                    time(s.expires_at),
                    time(Some(s.updated_at)),
                ]
            })
            .collect();
        if !send(Ok(csv_chunk(&rows)?)) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=1+2"), "'=1+2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Minji"), "Minji");
    }
}
