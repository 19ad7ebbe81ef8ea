//! `baseline`: the reference service that `bench/run.sh` measures Assent against, in the same run on the
//! same machine. It does the least work a durable, consent-recording form submission can do, and nothing
//! else: no encryption, no ledger, no templates on the write path.
//!
//! A submission is ~11 urlencoded fields, parsed and checked with `validator`, then written in ONE
//! transaction as 5 rows: the subject, the submission (every field as JSON text) and three consent
//! events (marketing, analytics, newsletter). The answer (201, the submission id) is sent only after
//! that transaction has committed.
//!
//! Endpoints:
//!   GET  /hello                -> "ok" (no database)
//!   GET  /form                 -> the contact form, rendered by askama
//!   POST /submit-sqlite-group  -> SQLite, WAL, synchronous=FULL; one writer thread that commits what is
//!                                 queued (up to GROUP_MAX submissions) in one transaction (group commit)
//!   POST /submit-sqlite-full   -> SQLite, WAL, synchronous=FULL; one writer thread, one tx per submission
//!   POST /submit-pg            -> PostgreSQL through an r2d2 pool, one tx per submission (web::block)
//!
//! Environment:
//!   BASELINE_BIND        address to listen on               (127.0.0.1:8089)
//!   BASELINE_SQLITE_DIR  folder for group.db and full.db    (<temp dir>/baseline-sqlite)
//!   DATABASE_URL         PostgreSQL database (tables made)  (postgres://postgres@127.0.0.1:5432/postgres)
//!   PG_POOL              PostgreSQL connections             (16)
//!   GROUP_MAX            most submissions per group commit  (256)
//!   BASELINE_WORKERS     HTTP worker threads                (one per core)

use std::sync::mpsc;

use actix_web::{App, HttpResponse, HttpServer, error, web};
use askama::Template;
use chrono::{NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sqlite::SqliteConnection;
use serde::{Deserialize, Serialize};
use validator::Validate;

mod schema {
    diesel::table! {
        subjects (id) {
            id -> Text,
            email -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        submissions (id) {
            id -> Text,
            subject_id -> Text,
            form_id -> Text,
            data -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        consent_events (id) {
            id -> Text,
            subject_id -> Text,
            submission_id -> Text,
            purpose -> Text,
            granted -> Bool,
            policy_version -> Text,
            created_at -> Timestamp,
        }
    }
}

/// The three tables and their indexes; `boolean` is the column type of `granted` in that database.
fn ddl(boolean: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS subjects (id TEXT PRIMARY KEY, email TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
         CREATE TABLE IF NOT EXISTS submissions (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES subjects(id),
           form_id TEXT NOT NULL, data TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
         CREATE TABLE IF NOT EXISTS consent_events (id TEXT PRIMARY KEY,
           subject_id TEXT NOT NULL REFERENCES subjects(id), submission_id TEXT NOT NULL REFERENCES submissions(id),
           purpose TEXT NOT NULL, granted {boolean} NOT NULL, policy_version TEXT NOT NULL,
           created_at TIMESTAMP NOT NULL);
         CREATE INDEX IF NOT EXISTS submissions_subject ON submissions(subject_id);
         CREATE INDEX IF NOT EXISTS consent_events_subject ON consent_events(subject_id, purpose);"
    )
}

/// What the contact form posts.
#[derive(Deserialize, Serialize, Validate)]
struct ContactForm {
    #[validate(length(min = 1, max = 64))]
    form_id: String,
    #[validate(length(min = 1, max = 200))]
    name: String,
    #[validate(email, length(max = 254))]
    email: String,
    #[validate(length(max = 40))]
    phone: String,
    #[validate(length(max = 200))]
    company: String,
    #[validate(length(equal = 2))]
    country: String,
    #[validate(length(max = 5000))]
    message: String,
    consent_marketing: Option<String>,
    consent_analytics: Option<String>,
    consent_newsletter: Option<String>,
    #[validate(length(min = 1, max = 32))]
    policy_version: String,
}

#[derive(Insertable)]
#[diesel(table_name = schema::subjects)]
struct Subject {
    id: String,
    email: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = schema::submissions)]
struct Submission {
    id: String,
    subject_id: String,
    form_id: String,
    data: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = schema::consent_events)]
struct ConsentEvent {
    id: String,
    subject_id: String,
    submission_id: String,
    purpose: &'static str,
    granted: bool,
    policy_version: String,
    created_at: NaiveDateTime,
}

/// The 5 rows of one submission, built on the HTTP worker before any database work.
struct Rows {
    subject: Subject,
    submission: Submission,
    events: Vec<ConsentEvent>,
}

fn ticked(box_value: Option<&str>) -> bool {
    matches!(box_value, Some("on" | "yes" | "true" | "1"))
}

impl ContactForm {
    fn into_rows(self) -> Result<Rows, error::Error> {
        self.validate().map_err(error::ErrorUnprocessableEntity)?;
        let now = Utc::now().naive_utc();
        let subject_id = uuid::Uuid::new_v4().to_string();
        let submission_id = uuid::Uuid::new_v4().to_string();
        let data = serde_json::to_string(&self).map_err(error::ErrorInternalServerError)?;
        let boxes = [
            ("marketing", self.consent_marketing.as_deref()),
            ("analytics", self.consent_analytics.as_deref()),
            ("newsletter", self.consent_newsletter.as_deref()),
        ];
        let events = boxes
            .into_iter()
            .map(|(purpose, value)| ConsentEvent {
                id: uuid::Uuid::new_v4().to_string(),
                subject_id: subject_id.clone(),
                submission_id: submission_id.clone(),
                purpose,
                granted: ticked(value),
                policy_version: self.policy_version.clone(),
                created_at: now,
            })
            .collect();
        Ok(Rows {
            subject: Subject { id: subject_id.clone(), email: self.email.to_lowercase(), created_at: now },
            submission: Submission { id: submission_id, subject_id, form_id: self.form_id, data, created_at: now },
            events,
        })
    }
}

/// `fn $name(conn, rows)`: the three INSERTs of one submission (the caller holds the transaction).
macro_rules! insert_rows_fn {
    ($name:ident, $conn:ty) => {
        fn $name(conn: &mut $conn, rows: &Rows) -> QueryResult<()> {
            use schema::{consent_events, subjects, submissions};
            diesel::insert_into(subjects::table).values(&rows.subject).execute(conn)?;
            diesel::insert_into(submissions::table).values(&rows.submission).execute(conn)?;
            diesel::insert_into(consent_events::table).values(&rows.events).execute(conn)?;
            Ok(())
        }
    };
}
insert_rows_fn!(insert_sqlite, SqliteConnection);
insert_rows_fn!(insert_pg, PgConnection);

/// A submission waiting for the SQLite writer, and where to say whether its transaction committed.
struct Job {
    rows: Rows,
    committed: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Opens `path` (WAL, synchronous=FULL), makes the tables, and starts the one thread that writes to it.
/// Each turn takes the first waiting job plus whatever else is queued, up to `group_max`, and commits
/// them in one transaction; if that fails, each is tried again in a transaction of its own, so one bad
/// submission fails alone. Nobody is answered before the transaction holding their rows has committed.
fn sqlite_writer(path: &str, group_max: usize) -> mpsc::Sender<Job> {
    let mut conn = SqliteConnection::establish(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    conn.batch_execute(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;",
    )
    .and_then(|()| conn.batch_execute(&ddl("INTEGER")))
    .unwrap_or_else(|e| panic!("cannot set up {path}: {e}"));
    let (queue, jobs) = mpsc::channel::<Job>();
    std::thread::spawn(move || {
        let mut group: Vec<Job> = Vec::with_capacity(group_max);
        while let Ok(first) = jobs.recv() {
            group.push(first);
            group.extend(jobs.try_iter().take(group_max.saturating_sub(1)));
            let all = conn.transaction(|c| group.iter().try_for_each(|job| insert_sqlite(c, &job.rows)));
            for job in group.drain(..) {
                let outcome = match all {
                    Ok(()) => Ok(()),
                    Err(_) => conn.transaction(|c| insert_sqlite(c, &job.rows)).map_err(|e| e.to_string()),
                };
                let _ = job.committed.send(outcome);
            }
        }
    });
    queue
}

type PgPool = Pool<ConnectionManager<PgConnection>>;

struct State {
    sqlite_group: mpsc::Sender<Job>,
    sqlite_full: mpsc::Sender<Job>,
    pg: PgPool,
}

fn created(id: String) -> HttpResponse {
    HttpResponse::Created().content_type("text/plain").body(id)
}

async fn through_writer(writer: &mpsc::Sender<Job>, form: ContactForm) -> Result<HttpResponse, error::Error> {
    let rows = form.into_rows()?;
    let id = rows.submission.id.clone();
    let (committed, outcome) = tokio::sync::oneshot::channel();
    writer.send(Job { rows, committed }).map_err(|_| error::ErrorServiceUnavailable("the writer has stopped"))?;
    match outcome.await {
        Ok(Ok(())) => Ok(created(id)),
        Ok(Err(e)) => Err(error::ErrorInternalServerError(e)),
        Err(_) => Err(error::ErrorServiceUnavailable("the writer dropped the submission")),
    }
}

async fn submit_sqlite_group(
    state: web::Data<State>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, error::Error> {
    through_writer(&state.sqlite_group, form.into_inner()).await
}

async fn submit_sqlite_full(
    state: web::Data<State>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, error::Error> {
    through_writer(&state.sqlite_full, form.into_inner()).await
}

async fn submit_pg(state: web::Data<State>, form: web::Form<ContactForm>) -> Result<HttpResponse, error::Error> {
    let rows = form.into_inner().into_rows()?;
    let id = rows.submission.id.clone();
    let pool = state.pg.clone();
    web::block(move || -> Result<(), String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        conn.transaction(|c| insert_pg(c, &rows)).map_err(|e: diesel::result::Error| e.to_string())
    })
    .await?
    .map_err(error::ErrorInternalServerError)?;
    Ok(created(id))
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage<'a> {
    form_id: &'a str,
    policy_version: &'a str,
    purposes: &'a [&'a str],
}

async fn form_page() -> Result<HttpResponse, error::Error> {
    let page =
        FormPage { form_id: "contact", policy_version: "2024-01", purposes: &["marketing", "analytics", "newsletter"] };
    let html = page.render().map_err(error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html))
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name}={v} is not valid")),
        Err(_) => default,
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind: String = setting("BASELINE_BIND", "127.0.0.1:8089".to_string());
    let dir: String =
        setting("BASELINE_SQLITE_DIR", std::env::temp_dir().join("baseline-sqlite").display().to_string());
    let url: String = setting("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let pool_size: u32 = setting("PG_POOL", 16);
    let group_max: usize = setting("GROUP_MAX", 256);
    let workers: usize = setting("BASELINE_WORKERS", std::thread::available_parallelism().map_or(1, |n| n.get()));
    std::fs::create_dir_all(&dir)?;

    PgConnection::establish(&url)
        .map_err(|e| e.to_string())
        .and_then(|mut c| c.batch_execute(&ddl("BOOLEAN")).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("cannot set up PostgreSQL at {url}: {e}"));
    let pg = Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(pool_size))
        .build(ConnectionManager::new(url))
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL pool: {e}"));
    let state = web::Data::new(State {
        sqlite_group: sqlite_writer(&format!("{dir}/group.db"), group_max.max(1)),
        sqlite_full: sqlite_writer(&format!("{dir}/full.db"), 1),
        pg,
    });

    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .route("/hello", web::get().to(|| async { "ok" }))
            .route("/form", web::get().to(form_page))
            .route("/submit-sqlite-group", web::post().to(submit_sqlite_group))
            .route("/submit-sqlite-full", web::post().to(submit_sqlite_full))
            .route("/submit-pg", web::post().to(submit_pg))
    })
    .workers(workers)
    .backlog(4096)
    .bind(bind)?
    .run()
    .await
}
