//! What the console reads: submissions (listed without personal data; one opened, decrypted and
//! audited), rights requests with their deadlines, and the numbers behind the dashboard.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use std::collections::HashMap;

use super::ServiceError;
use super::rights::{Actor, audit_action};
use super::subject::email_bound;
use crate::crypto::Bound;
use crate::crypto::Keyring;
use crate::db::console::{self, Cursor, Direction, SubmissionFilter, SubmissionRow};
use crate::db::{Db, DbConnection, consent, subjects};
use crate::domain::rights::Deadline;
use crate::domain::{ConsentAction, Email, FormDefinition, Localized};

/// Submissions per console page.
pub const PAGE: i64 = 50;

/// One line of the submissions list: no personal data, only ids, times and consent states.
#[derive(Debug, Clone)]
pub struct Listed {
    pub row: SubmissionRow,
    /// (purpose, status) of the purposes the form asks for, in the form's order.
    pub states: Vec<(String, String)>,
}

/// A page of submissions (newest first) and the cursor of the next one, if any. An `email` is
/// looked up through the blind index: an unknown address lists nothing.
pub fn list(
    conn: &mut DbConnection,
    keyring: &Keyring,
    mut filter: SubmissionFilter,
    email: Option<&Email>,
    before: Option<&Cursor>,
) -> Result<(Vec<Listed>, Option<Cursor>), ServiceError> {
    if let Some(email) = email {
        match subjects::find_by_index(conn, &keyring.email_index(email))? {
            Some(subject) => filter.subject_id = Some(subject.id),
            None => return Ok((Vec::new(), None)),
        }
    }
    let mut rows = console::submissions_page(conn, &filter, before, Direction::NewestFirst, PAGE + 1)?;
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| (r.created_at, r.id.clone()))
    } else {
        None
    };
    let subject_ids: Vec<String> = rows.iter().map(|r| r.subject_id.clone()).collect();
    let mut states: HashMap<(String, String), String> = HashMap::new();
    for s in consent::for_subjects(conn, &subject_ids)? {
        states.insert((s.subject_id.to_string(), s.purpose_key), s.status.as_str().to_owned());
    }
    let version_ids: Vec<String> = rows.iter().map(|r| r.form_version_id.clone()).collect();
    let asked: HashMap<String, Vec<String>> = subjects::form_definitions(conn, &version_ids)?
        .into_iter()
        .filter_map(|(id, _, _, json)| {
            let d: FormDefinition = serde_json::from_str(&json).ok()?;
            Some((id, d.purposes.iter().map(ToString::to_string).collect()))
        })
        .collect();
    let listed = rows
        .into_iter()
        .map(|row| {
            let states = asked
                .get(&row.form_version_id)
                .map(|purposes| {
                    purposes
                        .iter()
                        .map(|p| {
                            let status = states.get(&(row.subject_id.clone(), p.clone()));
                            (p.clone(), status.cloned().unwrap_or_else(|| "never".into()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            Listed { row, states }
        })
        .collect();
    Ok((listed, next))
}

/// One submission, decrypted.
#[derive(Debug, Clone)]
pub struct Opened {
    pub row: SubmissionRow,
    pub email: String,
    /// (field key, label, value) in the form's order; erased values are absent.
    pub values: Vec<(String, Option<Localized>, String)>,
    /// (purpose, status, expires at) of every purpose this person has a state for.
    pub states: Vec<(String, String, Option<DateTime<Utc>>)>,
    pub erased: bool,
}

/// Opens a submission and writes the read to the audit log (naming the subject) before the
/// values are returned: no audit row, no personal data.
pub async fn open(
    db: &Db,
    keyring: std::sync::Arc<Keyring>,
    actor: Actor,
    id: String,
) -> Result<Option<Opened>, ServiceError> {
    let pool = db.pool.clone();
    let opened = actix_web::web::block(move || -> Result<_, ServiceError> {
        let mut conn = pool.get().map_err(|_| ServiceError::Unavailable)?;
        read(&mut conn, &keyring, &id)
    })
    .await
    .map_err(|_| ServiceError::Unavailable)??;
    let Some(opened) = opened else { return Ok(None) };
    let (subject, detail) = (opened.row.subject_id.clone(), format!("submission {}", opened.row.id));
    db.writer
        .write(move |tx| {
            Ok::<_, ServiceError>(audit_action(tx.conn, &actor, "view_submission", Some(&subject), &detail)?)
        })
        .await?;
    Ok(Some(opened))
}

fn read(conn: &mut DbConnection, keyring: &Keyring, id: &str) -> Result<Option<Opened>, ServiceError> {
    let Some(row) = console::submission(conn, id)? else { return Ok(None) };
    let states = consent::for_subject(conn, &row.subject_id)?
        .into_iter()
        .map(|s| (s.purpose_key, s.status.as_str().to_owned(), s.expires_at.map(|t| t.and_utc())))
        .collect();
    let definition = subjects::form_definitions(conn, std::slice::from_ref(&row.form_version_id))?
        .into_iter()
        .next()
        .and_then(|(_, _, _, json)| serde_json::from_str::<FormDefinition>(&json).ok());
    let subject = subjects::find(conn, &row.subject_id)?;
    let Some((subject, wrapped)) = subject.and_then(|s| s.wrapped_key.clone().map(|w| (s, w))) else {
        return Ok(Some(Opened { row, email: String::new(), values: Vec::new(), states, erased: true }));
    };
    let key = keyring.unwrap_data_key(&wrapped, &subject.id)?;
    let email = match &subject.email_ciphertext {
        Some(sealed) => key.open_text(sealed, email_bound(&subject))?,
        None => String::new(),
    };
    let mut values = Vec::new();
    for (_, value_id, field, sealed) in console::values_of_submissions(conn, std::slice::from_ref(&row.id))? {
        let label = definition.as_ref().and_then(|d| d.field(&field)).map(|f| f.label.clone());
        let bound = Bound::Value { subject: &subject.id, value_id: &value_id, field: &field };
        values.push((field.clone(), label, key.open_text(&sealed, bound)?));
    }
    if let Some(d) = &definition {
        values.sort_by_key(|(field, _, _)| d.fields.iter().position(|f| f.key.as_str() == field).unwrap_or(usize::MAX));
    }
    Ok(Some(Opened { row, email, values, states, erased: false }))
}

/// A rights request as the console shows it, with the deadline under the configured regime.
#[derive(Debug, Clone)]
pub struct RightsLine {
    pub request: crate::db::rights::RightsRequest,
    pub deadline: NaiveDateTime,
    /// Answered after the deadline, or still open past it.
    pub overdue: bool,
}

/// A page of rights requests (newest first) and the next cursor.
pub fn rights(
    conn: &mut DbConnection,
    regime: Deadline,
    before: Option<&Cursor>,
    now: NaiveDateTime,
) -> Result<(Vec<RightsLine>, Option<Cursor>), ServiceError> {
    let mut rows = console::rights_page(conn, before, PAGE + 1)?;
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| (r.received_at, r.id.clone()))
    } else {
        None
    };
    let lines = rows
        .into_iter()
        .map(|request| {
            let deadline = regime.due(request.received_at.and_utc()).naive_utc();
            let overdue = request.completed_at.map_or(now > deadline, |done| done > deadline);
            RightsLine { request, deadline, overdue }
        })
        .collect();
    Ok((lines, next))
}

/// The numbers behind the dashboard's charts.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// (day, submissions) for the last 30 days, oldest first.
    pub per_day: Vec<(chrono::NaiveDate, i64)>,
    /// (purpose, grants, withdrawals) over the last 30 days.
    pub per_purpose: Vec<(String, i64, i64)>,
    /// (first day of the week, granted consents expiring that week) for the next 12 weeks.
    pub expiring: Vec<(chrono::NaiveDate, i64)>,
}

pub fn dashboard(conn: &mut DbConnection, purposes: &[String], now: DateTime<Utc>) -> Result<Dashboard, ServiceError> {
    let today = now.date_naive();
    let midnight = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default();
    let mut per_day = Vec::with_capacity(30);
    for back in (0..30).rev() {
        let day = today - Duration::days(back);
        per_day.push((day, console::count_submissions(conn, midnight(day), midnight(day + Duration::days(1)))?));
    }
    let since = midnight(today - Duration::days(29));
    let counts = console::event_counts(conn, since)?;
    let count = |purpose: &str, actions: &[ConsentAction]| -> i64 {
        let counted = |a: &str| actions.iter().any(|x| x.as_str() == a);
        counts.iter().filter(|(p, a, _)| p == purpose && counted(a)).map(|(_, _, n)| n).sum()
    };
    let given = [ConsentAction::Granted, ConsentAction::Confirmed, ConsentAction::Renewed];
    let per_purpose =
        purposes.iter().map(|p| (p.clone(), count(p, &given), count(p, &[ConsentAction::Withdrawn]))).collect();
    let mut expiring = Vec::with_capacity(12);
    for week in 0..12 {
        let start = now.naive_utc() + Duration::weeks(week);
        let end = start + Duration::weeks(1);
        expiring.push((start.date(), console::count_expiring(conn, start, end)?));
    }
    Ok(Dashboard { per_day, per_purpose, expiring })
}
