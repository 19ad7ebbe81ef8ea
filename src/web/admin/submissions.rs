//! Submissions in the console: the filtered list (no personal data on it), one submission opened
//! (decrypted; the read is audited), and the CSV exports of submissions and of the current
//! consent state (owners only: a viewer reads, but exports no personal data; each export audited).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;

use super::data_strings::DataStrings;
use super::{AdminError, Chrome, SignedIn};
use crate::db::console::{Cursor, SubmissionFilter};
use crate::domain::access::{AccessAction, ActorKind};
use crate::domain::{ConsentStatus, Email, ErrorCode, Locale};
use crate::services::console::{self as data, Listed, Opened};
use crate::services::csv_export::{self, Export};
use crate::services::rights::audit_action;
use crate::web::error::AppError;
use crate::web::pages::render;
use crate::web::{AppState, access};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // A search by address is POSTed (the console's own forms do), so the address stays out of
    // URLs, logs and history; GET still reads the other filters from the query.
    cfg.service(web::resource("/admin/submissions").route(web::get().to(list)).route(web::post().to(list_posted)))
        .service(
            web::resource("/admin/submissions.csv")
                .route(web::get().to(submissions_csv))
                .route(web::post().to(submissions_csv_posted)),
        )
        .service(web::resource("/admin/consents.csv").route(web::get().to(consents_csv)))
        .service(web::resource("/admin/deidentified.csv").route(web::get().to(deidentified_csv)))
        .service(web::resource("/admin/submissions/{id}").route(web::get().to(show)));
}

/// The filters as typed (all optional; what is not understood is ignored and said so).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Query {
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub before: String,
}

const STATES: [ConsentStatus; 4] =
    [ConsentStatus::Granted, ConsentStatus::Pending, ConsentStatus::Withdrawn, ConsentStatus::Expired];

impl Query {
    fn read(req: &HttpRequest) -> Self {
        web::Query::<Self>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default()
    }

    /// The filters as POSTed by the console's forms.
    fn posted(fields: &super::Fields) -> Self {
        let get = |name: &str| fields.get(name).to_owned();
        Self {
            form: get("form"),
            purpose: get("purpose"),
            state: get("state"),
            from: get("from"),
            until: get("until"),
            email: get("email"),
            before: get("before"),
        }
    }

    /// The filter, the address to look up, and whether something was not understood.
    fn parse(&self) -> (SubmissionFilter, Option<Email>, bool) {
        let mut ignored = false;
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut date = |s: &str, days: i64| super::day_filter(s, days, &mut ignored);
        let from = date(&self.from, 0);
        let until = date(&self.until, 1);
        let state = text(&self.state).filter(|s| STATES.iter().any(|known| known.as_str() == s));
        ignored |= !self.state.trim().is_empty() && state.is_none();
        let email = text(&self.email).and_then(|raw| {
            let parsed = Email::parse(&raw).ok();
            ignored |= parsed.is_none();
            parsed
        });
        let filter = SubmissionFilter {
            form: text(&self.form),
            purpose: text(&self.purpose),
            status: state,
            from,
            until,
            subject_id: None,
        };
        (filter, email, ignored)
    }

    /// The query string of this filter (for the next page and the export link), never the
    /// address: a search by address goes on by POST.
    fn link(&self) -> String {
        let pairs = [
            ("form", &self.form),
            ("purpose", &self.purpose),
            ("state", &self.state),
            ("from", &self.from),
            ("until", &self.until),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| {
                format!("{k}={}", percent_encoding::utf8_percent_encode(v.trim(), percent_encoding::NON_ALPHANUMERIC))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `<micros>_<id>`: where the next page starts.
pub fn encode_cursor(cursor: &Cursor) -> String {
    format!("{}_{}", cursor.0.and_utc().timestamp_micros(), cursor.1)
}

pub fn decode_cursor(raw: &str) -> Option<Cursor> {
    let (micros, id) = raw.split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, id.to_owned()))
}

#[derive(Template)]
#[template(path = "admin/submissions.html")]
struct ListPage {
    c: Chrome,
    d: &'static DataStrings,
    q: Query,
    forms: Vec<String>,
    purposes: Vec<String>,
    states: [&'static str; 4],
    rows: Vec<Listed>,
    next: Option<String>,
    filter_link: String,
    ignored: bool,
    /// For titles rather than keys.
    catalog: std::sync::Arc<crate::db::catalog::Catalog>,
    locale: Locale,
}

impl ListPage {
    fn status(&self, status: &str) -> &'static str {
        self.d.status(ConsentStatus::parse(status))
    }

    fn purpose(&self, key: &str) -> String {
        crate::web::pages::purpose_title(&self.catalog, key, self.locale)
    }

    fn form(&self, key: &str) -> String {
        crate::web::pages::form_title(&self.catalog, key, self.locale)
    }
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    listed(&req, &who, &state, Query::read(&req)).await
}

async fn list_posted(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    listed(&req, &who, &state, Query::posted(&fields)).await
}

async fn listed(req: &HttpRequest, who: &SignedIn, state: &AppState, q: Query) -> Result<HttpResponse, AdminError> {
    let (filter, email, ignored) = q.parse();
    let searched = email.is_some();
    let before = decode_cursor(&q.before);
    let (pool, keyring) = (state.db.pool.clone(), state.keyring.clone());
    let (rows, next) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(data::list(&mut conn, &keyring, filter, email.as_ref(), before.as_ref())?)
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    record_listed(req, state, who, &rows, searched);
    let catalog = state.catalog.current();
    let page = ListPage {
        c: who.chrome(req, "submissions"),
        d: DataStrings::get(who.locale),
        filter_link: q.link(),
        q,
        forms: catalog.forms.keys().cloned().collect(),
        purposes: catalog.purposes.keys().cloned().collect(),
        states: STATES.map(ConsentStatus::as_str),
        rows,
        next: next.as_ref().map(encode_cursor),
        ignored,
        catalog: catalog.clone(),
        locale: who.locale,
    };
    Ok(render(&page))
}

/// One access record per person shown (their consent states are on the page); a search by
/// address records whom it found, or that it found no one.
fn record_listed(req: &HttpRequest, state: &AppState, who: &SignedIn, rows: &[Listed], searched: bool) {
    let accessor = access::accessor(req, state, ActorKind::Owner, &who.owner.id);
    let path = access::path_of(req);
    let mut shown: Vec<&str> = rows.iter().map(|r| r.row.subject_id.as_str()).collect();
    shown.sort_unstable();
    shown.dedup();
    if searched {
        state.access.record(&accessor, AccessAction::Search, shown.first().copied(), &path);
    }
    state.access.record_each(&accessor, AccessAction::ListSubmissions, shown, &path);
}

#[derive(Template)]
#[template(path = "admin/submission.html")]
struct DetailPage {
    c: Chrome,
    d: &'static DataStrings,
    s: Opened,
    locale: Locale,
    /// The workspace's default language (labels not written in the console's fall back to it).
    default: Locale,
}

impl DetailPage {
    fn label(&self, field: &str, label: &Option<crate::domain::Localized>) -> String {
        label.as_ref().map_or_else(|| field.to_owned(), |l| l.get(self.locale, self.default).to_owned())
    }

    fn status(&self, status: &str) -> &'static str {
        self.d.status(ConsentStatus::parse(status))
    }
}

async fn show(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let opened = data::open(&state.db, state.keyring.clone(), who.actor(), path.into_inner())
        .await
        .map_err(|e| AdminError::new(e, locale))?
        .ok_or_else(|| AdminError::new(AppError::NotFound(ErrorCode::SubmissionNotFound), locale))?;
    access::by_owner(&req, &state, &who.owner.id, AccessAction::ViewSubmission, Some(&opened.row.subject_id));
    let page = DetailPage {
        c: who.chrome(&req, "submissions"),
        d: DataStrings::get(locale),
        s: opened,
        locale,
        default: state.catalog.current().default_locale(),
    };
    let mut response = render(&page);
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Writes the export's audit row (with the filter used) before anything is sent.
async fn audit_export(
    state: &AppState,
    who: &SignedIn,
    action: &'static str,
    detail: String,
) -> Result<(), AdminError> {
    let actor = who.actor();
    state
        .db
        .writer
        .write(move |tx| Ok::<_, AppError>(audit_action(tx.conn, &actor, action, None, &detail)?))
        .await
        .map_err(|e| AdminError::new(e, who.locale))
}

fn csv_response(
    name: &str,
    body: impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

async fn submissions_csv(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    export_submissions(&req, &who, &state, Query::read(&req)).await
}

async fn submissions_csv_posted(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    export_submissions(&req, &who, &state, Query::posted(&fields)).await
}

async fn export_submissions(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    q: Query,
) -> Result<HttpResponse, AdminError> {
    let (mut filter, email, _) = q.parse();
    if let Some(email) = email {
        let (pool, keyring) = (state.db.pool.clone(), state.keyring.clone());
        let found = web::block(move || -> Result<_, AppError> {
            let mut conn = pool.get()?;
            Ok(crate::db::subjects::find_by_index(&mut conn, &keyring.email_index(&email))?)
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))?;
        // An unknown address exports the header only.
        filter.subject_id = Some(found.map_or_else(|| "-".to_owned(), |s| s.id));
    }
    let day = |t: Option<NaiveDateTime>| t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d").to_string());
    let detail = format!(
        "filter: form={} purpose={} state={} from={} until(excl.)={} subject={}",
        filter.form.as_deref().unwrap_or("-"),
        filter.purpose.as_deref().unwrap_or("-"),
        filter.status.as_deref().unwrap_or("-"),
        day(filter.from),
        day(filter.until),
        filter.subject_id.as_deref().unwrap_or("-")
    );
    audit_export(state, who, "export_submissions", detail).await?;
    // One record per export: the person when it was filtered to one, nobody named otherwise.
    let one = filter.subject_id.as_deref().filter(|s| *s != "-");
    access::by_owner(req, state, &who.owner.id, AccessAction::CsvSubmissions, one);
    let stream = csv_export::stream(
        state.db.pool.clone(),
        state.keyring.clone(),
        state.catalog.current(),
        Export::Submissions(filter),
    );
    Ok(csv_response("submissions.csv", stream))
}

async fn consents_csv(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    audit_export(&state, &who, "export_consents", "filter: none (current state of everyone)".into()).await?;
    access::by_owner(&req, &state, &who.owner.id, AccessAction::CsvConsents, None);
    let stream =
        csv_export::stream(state.db.pool.clone(), state.keyring.clone(), state.catalog.current(), Export::Consents);
    Ok(csv_response("consents.csv", stream))
}

#[derive(serde::Deserialize)]
struct DeidentifiedQuery {
    #[serde(default = "default_k")]
    k: usize,
}

fn default_k() -> usize {
    5
}

/// Consent states and coarse field values under per-export pseudonyms, k-anonymous (PIPA art.
/// 28-2): recorded and audited, never an access to anyone's data in the clear.
async fn deidentified_csv(
    who: SignedIn,
    state: web::Data<AppState>,
    query: Result<web::Query<DeidentifiedQuery>, actix_web::Error>,
) -> Result<HttpResponse, AdminError> {
    let k = query.ok().map_or(0, |q| q.k);
    if !(2..=1000).contains(&k) {
        return Err(AdminError::Refused {
            status: actix_web::http::StatusCode::BAD_REQUEST,
            code: ErrorCode::InvalidQuery,
            locale: who.locale,
        });
    }
    let (pool, keyring, catalog, writer, actor) =
        (state.db.pool.clone(), state.keyring.clone(), state.catalog.current(), state.db.writer.clone(), who.actor());
    let csv = web::block(move || -> Result<_, AppError> {
        let (csv, summary) = crate::services::deidentified::export(&mut *pool.get()?, &keyring, &catalog, k)?;
        crate::services::deidentified::record(&writer, &summary, &actor, None)?;
        Ok(csv)
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    let name = format!("deidentified-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at = chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap().naive_utc();
        let cursor = (at, "0b2c-id".to_owned());
        assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        assert_eq!(decode_cursor("nonsense"), None);
    }

    #[test]
    fn bad_filters_are_ignored_and_reported() {
        let q = Query { from: "yesterday".into(), state: "maybe".into(), email: "kim@".into(), ..Query::default() };
        let (filter, email, ignored) = q.parse();
        assert!(ignored);
        assert_eq!((filter.from, filter.status, email), (None, None, None));
        let q = Query { until: "2026-11-25".into(), state: "granted".into(), ..Query::default() };
        let (filter, _, ignored) = q.parse();
        assert!(!ignored);
        assert_eq!(filter.until.unwrap().to_string(), "2026-11-26 00:00:00");
    }
}
