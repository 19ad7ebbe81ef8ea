//! Imports through the API: the spreadsheet as the request body (CSV or XLSX), the options in
//! the query, a dry run unless `dry_run=false`; the answer is the import's report, as
//! `assent import --json` prints it. The upload is held in memory only (never written to disk
//! in the clear) and goes through exactly what the command does (`services::import`).

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::api_key::authorize;
use super::body::read_at_most;
use super::error::{AppError, Problem};
use super::{AppState, no_store};
use crate::domain::ErrorCode;
use crate::domain::form::{FieldError, FieldErrorCode};
use crate::domain::import::{Mapping, Zone};
use crate::domain::scopes::Scope;
use crate::services::import::read::Encoding;
use crate::services::import::{self, ImportError, Options, Source};
use crate::services::rights::Actor;

/// The largest upload: about 200 000 rows of a typical customer list.
const MAX_UPLOAD: usize = 32 * 1024 * 1024;

const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::only("/imports", "GET, POST", web::get().to(list)).route(web::post().to(create)))
        .service(super::only("/imports/{id}", "GET", web::get().to(show)));
}

/// The query of `POST /api/v1/imports`, read strictly (an unknown parameter is a mistake).
#[derive(Debug)]
struct Asked {
    form: String,
    dry_run: bool,
    all_or_nothing: bool,
    wording_version: Option<i64>,
    sheet: Option<String>,
    encoding: Option<Encoding>,
    zone: Zone,
    name: String,
    mapping: Mapping,
}

/// Every mistake of the query at once, each named by its parameter.
fn parse_query(query: &str) -> Result<Asked, AppError> {
    let mut errors = Vec::new();
    let mut refuse = |field: &str, code| errors.push(FieldError { field: field.into(), code, max_length: None });
    let mut asked = Asked {
        form: String::new(),
        dry_run: true,
        all_or_nothing: false,
        wording_version: None,
        sheet: None,
        encoding: None,
        zone: Zone::default(),
        name: "upload".into(),
        mapping: Mapping::default(),
    };
    let flag = |v: &str| match v {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    };
    let (mut columns, mut constants) = (BTreeMap::new(), BTreeMap::new());
    for (key, value) in super::body::parse_urlencoded(query.as_bytes(), crate::domain::Locale::EN)? {
        match key.as_str() {
            "form" => asked.form = value,
            "dry_run" => {
                flag(&value).map_or_else(|| refuse("dry_run", FieldErrorCode::InvalidType), |b| asked.dry_run = b)
            }
            "all_or_nothing" => flag(&value)
                .map_or_else(|| refuse("all_or_nothing", FieldErrorCode::InvalidType), |b| asked.all_or_nothing = b),
            "wording_version" => match value.parse::<i64>() {
                Ok(n) if n > 0 => asked.wording_version = Some(n),
                _ => refuse("wording_version", FieldErrorCode::InvalidType),
            },
            "sheet" => asked.sheet = Some(value),
            "encoding" => match Encoding::parse(&value) {
                Ok(e) => asked.encoding = Some(e),
                Err(_) => refuse("encoding", FieldErrorCode::InvalidChoice),
            },
            "time_zone" => match Zone::parse(&value) {
                Ok(z) => asked.zone = z,
                Err(_) => refuse("time_zone", FieldErrorCode::InvalidChoice),
            },
            "name" if !value.trim().is_empty() && value.chars().count() <= 200 => asked.name = value,
            "name" => refuse("name", FieldErrorCode::TooLong),
            _ => match (key.strip_prefix("column."), key.strip_prefix("constant.")) {
                (Some(header), _) => drop(columns.insert(header.to_owned(), value)),
                (_, Some(name)) => drop(constants.insert(name.to_owned(), value)),
                _ => refuse(&key, FieldErrorCode::UnknownField),
            },
        }
    }
    if asked.form.trim().is_empty() {
        refuse("form", FieldErrorCode::Required);
    }
    asked.mapping = Mapping { columns, constants };
    if errors.is_empty() { Ok(asked) } else { Err(AppError::Validation(errors)) }
}

/// A CSV (its `charset`, if any, is its encoding) or a workbook.
fn kind_of(req: &HttpRequest) -> Result<(bool, Option<Encoding>), AppError> {
    let raw = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset =
        parts.filter_map(|p| p.trim().to_ascii_lowercase().strip_prefix("charset=").map(str::to_owned)).next();
    match essence.as_str() {
        XLSX => Ok((true, None)),
        CSV => match charset.map(|c| Encoding::parse(c.trim_matches('"'))) {
            None => Ok((false, None)),
            Some(Ok(e)) => Ok((false, Some(e))),
            Some(Err(_)) => Err(AppError::UnsupportedMediaType("text/csv (charset utf-8 or cp949)")),
        },
        _ => Err(AppError::UnsupportedMediaType(
            "text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )),
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        let field =
            |field: &str, code| AppError::Validation(vec![FieldError { field: field.into(), code, max_length: None }]);
        match e {
            ImportError::UnknownForm(_) => AppError::NotFound(ErrorCode::FormNotFound),
            ImportError::UnknownWording { .. } => field("wording_version", FieldErrorCode::InvalidChoice),
            ImportError::Read(e) => AppError::BadRequest { code: ErrorCode::InvalidBody, detail: e.to_string() },
            ImportError::Service(e) => e.into(),
        }
    }
}

#[utoipa::path(
    operation_id = "create_import",
    post,
    path = "/api/v1/imports",
    tag = "imports",
    security(("api_key" = ["imports"])),
    params(
        ("form" = String, Query, description = "The form the people are imported into (its key)"),
        ("dry_run" = Option<bool>, Query, description = "Decide and report every row, write nothing (the default: pass `false` to import)"),
        ("all_or_nothing" = Option<bool>, Query, description = "Write nothing at all if any row is refused"),
        ("wording_version" = Option<i64>, Query, description = "The policy version (its number) the people agreed to; the current one when absent"),
        ("sheet" = Option<String>, Query, description = "The workbook's sheet (the first when absent)"),
        ("encoding" = Option<String>, Query, description = "`utf-8` or `cp949` (a CSV; detected when absent, or given as the content type's charset)"),
        ("time_zone" = Option<String>, Query, description = "The zone of dates written without one (`Asia/Seoul` by default, or an offset such as `+09:00`)"),
        ("name" = Option<String>, Query, description = "The file's name, recorded with the import"),
    ),
    request_body(content = serde_json::Value, description = "The spreadsheet (any bytes: a CSV is text in UTF-8 or CP949, a workbook is binary): a CSV (`text/csv`) or an XLSX workbook. Headers that are not a field or purpose key are mapped with `column.<header>=<name>` query parameters (as a mapping file's `[columns]`), values every row has with `constant.<name>=<value>`.", content_type = "text/csv"),
    responses(
        (status = 200, description = "The report: totals, and every refused, updated or kept row by its line with stable codes (as `assent import --json`)", body = Object),
        (status = 400, description = "`invalid_body`: the file cannot be read as a CSV or a workbook", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `imports` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`form_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: over 32 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a query parameter (`form` `required`; `dry_run`, `all_or_nothing`, `wording_version` `invalid_type`; `encoding`, `time_zone`, `wording_version` `invalid_choice`; any other `unknown_field`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let key_id = authorize(&req, &state, Scope::Imports).await?;
    let asked = parse_query(req.query_string())?;
    let (xlsx, charset) = kind_of(&req)?;
    let bytes = read_at_most(&req, payload, MAX_UPLOAD).await?;
    let options = Options {
        id: None,
        form: asked.form,
        source: Source::Upload { name: asked.name, bytes: Arc::from(bytes.as_ref()), xlsx },
        dry_run: asked.dry_run,
        mapping: asked.mapping,
        encoding: asked.encoding.or(charset),
        sheet: asked.sheet,
        wording_version: asked.wording_version,
        zone: asked.zone,
        all_or_nothing: asked.all_or_nothing,
    };
    let (db, keyring, catalog) = (state.db.clone(), state.keyring.clone(), state.catalog.current());
    let report =
        web::block(move || import::run(&db, keyring, catalog, &options, Actor::ApiKey(key_id), |_, _| {})).await??;
    Ok(no_store(&report))
}

/// One import as recorded: its parameters and totals (and its report, when asked for one).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ImportView {
    id: String,
    form: String,
    file_name: String,
    file_sha256: String,
    dry_run: bool,
    written: bool,
    /// `running`, `done` or `failed`.
    status: String,
    /// Who ran it: `cli-import`, `api_key:<id>`, `owner:<id>`.
    actor: String,
    #[schema(value_type = Object)]
    parameters: serde_json::Value,
    #[schema(value_type = Object)]
    totals: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    report: Option<serde_json::Value>,
    started_at: String,
    finished_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ImportList {
    /// The 50 most recent, newest first (without their reports).
    imports: Vec<ImportView>,
}

fn view(record: crate::db::imports::ImportRecord, with_report: bool) -> ImportView {
    let json = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    let time = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ImportView {
        parameters: json(&record.parameters),
        totals: json(&record.totals),
        report: with_report.then(|| json(&record.report)),
        started_at: time(record.started_at),
        finished_at: record.finished_at.map(time),
        id: record.id,
        form: record.form_key,
        file_name: record.file_name,
        file_sha256: record.file_sha256,
        dry_run: record.dry_run,
        written: record.written,
        status: record.status,
        actor: record.actor,
    }
}

#[utoipa::path(
    operation_id = "list_imports",
    get,
    path = "/api/v1/imports",
    tag = "imports",
    security(("api_key" = ["imports"])),
    responses(
        (status = 200, description = "The most recent imports and dry runs", body = ImportList),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `imports` scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    authorize(&req, &state, Scope::Imports).await?;
    let records = super::point_read(&state, |conn| Ok(crate::db::imports::recent(conn, 50)?)).await?;
    let imports = records.into_iter().map(|r| view(r, false)).collect();
    Ok(no_store(&ImportList { imports }))
}

#[utoipa::path(
    operation_id = "show_import",
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    security(("api_key" = ["imports"])),
    params(("id" = String, Path, description = "The import's id (the report's `id`)")),
    responses(
        (status = 200, description = "The import with its report (line numbers, outcomes and codes; never a value from the file)", body = ImportView),
        (status = 401, description = "`unauthorized`: missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: the key lacks the `imports` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`import_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    authorize(&req, &state, Scope::Imports).await?;
    let id = path.into_inner();
    let record = super::point_read(&state, move |conn| Ok(crate::db::imports::find(conn, &id)?)).await?;
    let record = record.ok_or(AppError::NotFound(ErrorCode::ImportNotFound))?;
    Ok(no_store(&view(record, true)))
}
