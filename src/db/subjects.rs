//! Subjects (the people whose data is held), their submissions and their encrypted field values.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{field_values, subjects, submissions};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subjects)]
pub struct Subject {
    pub id: String,
    pub email_index: Vec<u8>,
    pub wrapped_key: Option<Vec<u8>>,
    pub email_ciphertext: Option<Vec<u8>>,
    pub locale: String,
    pub created_at: NaiveDateTime,
    pub erased_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = subjects)]
pub struct NewSubject<'a> {
    pub id: &'a str,
    pub email_index: &'a [u8],
    pub wrapped_key: Option<&'a [u8]>,
    pub email_ciphertext: Option<&'a [u8]>,
    pub locale: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = submissions)]
pub struct NewSubmission<'a> {
    pub id: &'a str,
    pub subject_id: &'a str,
    pub form_version_id: &'a str,
    pub locale: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = field_values)]
pub struct NewFieldValue<'a> {
    pub id: String,
    pub submission_id: &'a str,
    pub subject_id: &'a str,
    pub field_key: &'a str,
    pub purposes: String,
    pub ciphertext: Vec<u8>,
    pub created_at: NaiveDateTime,
}

pub fn find_by_index(conn: &mut DbConnection, index: &[u8]) -> QueryResult<Option<Subject>> {
    subjects::table
        .filter(subjects::email_index.eq(index))
        .select(Subject::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Subject>> {
    subjects::table
        .find(id)
        .select(Subject::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, subject: &NewSubject<'_>) -> QueryResult<()> {
    diesel::insert_into(subjects::table)
        .values(subject)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_submission(
    conn: &mut DbConnection,
    submission: &NewSubmission<'_>,
) -> QueryResult<()> {
    diesel::insert_into(submissions::table)
        .values(submission)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_values(conn: &mut DbConnection, values: &[NewFieldValue<'_>]) -> QueryResult<()> {
    if values.is_empty() {
        return Ok(());
    }
    crate::on_each_backend!(conn, |c| diesel::insert_into(field_values::table)
        .values(values)
        .execute(c))
    .map(|_| ())
}

pub fn count_submissions(conn: &mut DbConnection, subject_id: &str) -> QueryResult<i64> {
    submissions::table
        .filter(submissions::subject_id.eq(subject_id))
        .count()
        .get_result(conn)
}
