//! `/admin/imports`: bringing people in from a spreadsheet, in two steps. An owner uploads the
//! sheet with its column mapping and it is checked (a dry run: every row's outcome, and every
//! mistake by line and column, nothing written); the checked sheet is kept sealed for a day,
//! and one click imports it with the options it was checked with. Every run is listed, with its
//! report (never a value from the file).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt as _;

use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::db::imports::{self as records, ImportRecord};
use crate::domain::ErrorCode;
use crate::domain::import::{Mapping, Zone};
use crate::i18n::{catalogue, message_struct};
use crate::services::import::{Options, Source, staged};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub mod mapping;
pub mod preview;
mod report;

use report::ReportView;

/// The largest sheet the console takes (as the API).
const MAX_UPLOAD: usize = 32 * 1024 * 1024;

message_struct! {
    /// The import pages' words (ids `imports-<field>`).
    pub struct ImportStrings("imports-") {
        title,
        intro,
        upload_legend,
        form,
        file,
        file_hint,
        mapping,
        mapping_hint,
        map,
        wording_version,
        wording_version_hint,
        time_zone,
        all_or_nothing,
        check,
        history,
        none,
        col_started,
        col_file,
        col_form,
        col_kind,
        col_status,
        col_rows,
        kind_check,
        kind_import,
        report_title,
        totals,
        total_rows,
        created,
        updated,
        unchanged,
        refused,
        events,
        expired,
        read_as,
        ignored,
        header_problems,
        rows,
        col_line,
        col_outcome,
        col_problems,
        kept,
        import_now,
        import_now_hint,
        not_kept,
        written,
        nothing_written,
        back,
        file_required,
        unreadable,
        bad_mapping,
        unknown_form,
        unknown_wording,
        running,
        reload,
    }
}

#[derive(Template)]
#[template(path = "admin/imports.html")]
struct ImportsPage {
    c: Chrome,
    i: &'static ImportStrings,
    forms: Vec<String>,
    history: Vec<ImportRecord>,
    asked: Asked,
    problems: Problems,
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    c: Chrome,
    i: &'static ImportStrings,
    record: ImportRecord,
    report: ReportView,
    /// The sheet is kept and may be imported now (a check by an owner, within a day).
    can_import: bool,
    /// While it runs: the totals so far and the rows expected.
    running: Option<(u64, u64)>,
}

/// What the upload form said (shown again with its mistakes; the file itself cannot be).
#[derive(Debug, Default)]
struct Asked {
    form: String,
    mapping: String,
    wording_version: String,
    time_zone: String,
    all_or_nothing: bool,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/imports").route(web::get().to(list)).route(web::post().to(upload)))
        .configure(mapping::routes)
        .service(web::resource("/admin/imports/{id}").route(web::get().to(show)))
        .service(web::resource("/admin/imports/{id}/run").route(web::post().to(import_now)));
}

async fn read<T: Send + 'static>(
    state: &AppState,
    who: &SignedIn,
    f: impl FnOnce(&mut crate::db::DbConnection) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AdminError> {
    let pool = state.db.pool.clone();
    web::block(move || f(&mut *pool.get()?))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(e, who.locale))
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    who: &SignedIn,
    asked: Asked,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let history = read(state, who, |conn| Ok(records::recent(conn, 50)?)).await?;
    let forms = state.catalog.current().forms.keys().cloned().collect();
    let i = ImportStrings::get(who.locale);
    let c = who.chrome(req, "imports");
    Ok(render_with_status(&ImportsPage { c, i, forms, history, asked, problems }, status))
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let asked = Asked { time_zone: "Asia/Seoul".into(), ..Asked::default() };
    page(&req, &state, &who, asked, Problems::default(), StatusCode::OK).await
}

/// The multipart upload: its text fields, and the file (its name and bytes).
struct Upload {
    fields: Vec<(String, String)>,
    file: Option<(String, web::Bytes)>,
}

impl Upload {
    fn get(&self, name: &str) -> String {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
    }
}

async fn read_upload(req: &HttpRequest, payload: web::Payload) -> Result<Upload, AppError> {
    let too_large = AppError::PayloadTooLarge(MAX_UPLOAD);
    let malformed = || AppError::BadRequest {
        code: ErrorCode::InvalidBody,
        detail: "Send the form as multipart/form-data.".into(),
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut upload = Upload { fields: Vec::new(), file: None };
    let mut total = 0usize;
    crate::web::body::in_time(req, MAX_UPLOAD, async move {
        while let Some(part) = parts.next().await {
            let mut part = part.map_err(|_| malformed())?;
            let name = part.name().unwrap_or_default().to_owned();
            let file_name = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
            let bytes = match part.bytes(MAX_UPLOAD - total).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(_)) => return Err(malformed()),
                Err(_) => return Err(too_large),
            };
            total += bytes.len();
            match (name.as_str(), file_name) {
                ("file", Some(file_name)) => upload.file = Some((file_name, bytes)),
                (_, _) => {
                    let text = String::from_utf8(bytes.to_vec()).map_err(|_| malformed())?;
                    upload.fields.push((name, text));
                }
            }
        }
        Ok(upload)
    })
    .await
}

/// The upload's options, or every mistake of the form at once.
fn options_of(upload: &Upload, asked: &Asked, t: &ImportStrings, state: &AppState) -> Result<Options, Problems> {
    let mut problems = Problems::default();
    if state.catalog.current().form(&asked.form).is_none() {
        problems.add("form", t.unknown_form);
    }
    let file = upload.file.as_ref().filter(|(_, bytes)| !bytes.is_empty());
    if file.is_none() {
        problems.add("file", t.file_required);
    }
    let mapping = if asked.mapping.is_empty() { Ok(Mapping::default()) } else { Mapping::parse(&asked.mapping) };
    let mapping = mapping.unwrap_or_else(|e| {
        problems.add("mapping", format!("{} {e}", t.bad_mapping));
        Mapping::default()
    });
    let wording_version = match asked.wording_version.as_str() {
        "" => None,
        raw => raw.parse::<i64>().ok().filter(|n| *n > 0).or_else(|| {
            problems.add("wording_version", t.unknown_wording);
            None
        }),
    };
    let zone = Zone::parse(&asked.time_zone).unwrap_or_else(|e| {
        problems.add("time_zone", e);
        Zone::default()
    });
    let Some((name, bytes)) = file.filter(|_| problems.is_empty()) else { return Err(problems) };
    Ok(Options {
        id: None,
        form: asked.form.clone(),
        source: Source::Upload {
            xlsx: staged::is_workbook(name),
            name: name.clone(),
            bytes: Arc::from(bytes.as_ref()),
        },
        dry_run: true,
        mapping,
        encoding: None,
        sheet: None,
        wording_version,
        zone,
        all_or_nothing: asked.all_or_nothing,
    })
}

async fn upload(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let upload = read_upload(&req, payload).await.map_err(|e| AdminError::new(e, who.locale))?;
    who.check_csrf(&upload.get("csrf"))?;
    let t = ImportStrings::get(who.locale);
    let asked = Asked {
        form: upload.get("form"),
        mapping: upload.get("mapping"),
        wording_version: upload.get("wording_version"),
        time_zone: upload.get("time_zone"),
        all_or_nothing: !upload.get("all_or_nothing").is_empty(),
    };
    let options = match options_of(&upload, &asked, t, &state) {
        Ok(options) => options,
        Err(problems) => return page(&req, &state, &who, asked, problems, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if upload.get("step") == "map" {
        return keep_for_mapping(&who, &state, options, &asked).await;
    }
    let (db, keyring, catalog, actor) = (state.db.clone(), state.keyring.clone(), state.catalog.current(), who.actor());
    let checked = web::block(move || staged::check(&db, keyring, catalog, &options, actor))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    let report = match checked {
        Ok(report) => report,
        Err(e) => {
            let mut problems = Problems::default();
            match e {
                crate::services::import::ImportError::Read(e) => problems.add("file", format!("{} {e}", t.unreadable)),
                crate::services::import::ImportError::UnknownWording { .. } => {
                    problems.add("wording_version", t.unknown_wording)
                }
                crate::services::import::ImportError::UnknownForm(_) => problems.add("form", t.unknown_form),
                crate::services::import::ImportError::Service(e) => return Err(AdminError::new(e, who.locale)),
            }
            return page(&req, &state, &who, asked, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    Ok(see_other(&format!("/admin/imports/{}?lang={}", report.id, who.locale.as_str())))
}

/// Keeps the sheet and goes on to say which column is what.
async fn keep_for_mapping(
    who: &SignedIn,
    state: &AppState,
    options: Options,
    asked: &Asked,
) -> Result<HttpResponse, AdminError> {
    let Source::Upload { name, bytes, .. } = options.source else {
        return Err(AdminError::new(AppError::Unavailable, who.locale));
    };
    let choices = crate::services::import::sheets::Choices {
        mapping: options.mapping,
        wording_version: options.wording_version,
        time_zone: asked.time_zone.clone(),
        all_or_nothing: options.all_or_nothing,
    };
    let (db, keyring, form) = (state.db.clone(), state.keyring.clone(), options.form);
    let id = web::block(move || crate::services::import::sheets::keep(&db, &keyring, &form, &name, &bytes, &choices))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(AppError::from(e), who.locale))?;
    Ok(see_other(&format!("/admin/imports/sheets/{id}?lang={}", who.locale.as_str())))
}

async fn show(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let id = path.into_inner();
    let found = read(&state, &who, move |conn| {
        let Some(record) = records::find(conn, &id)? else { return Ok(None) };
        let kept = record.dry_run && staged::is_kept(conn, &record.id)?;
        Ok(Some((record, kept)))
    })
    .await?;
    let Some((record, kept)) = found else {
        return Err(AdminError::Refused {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::NotFound,
            locale: who.locale,
        });
    };
    let report = ReportView::parse(&record.report, who.locale);
    let running = (record.status == "running").then(|| report::progress_of(&record.totals));
    let i = ImportStrings::get(who.locale);
    let can_import = kept
        && who.may(crate::domain::console_access::Permission::ActForPeople)
        && report.totals.created + report.totals.updated > 0;
    let c = who.chrome(&req, "imports");
    Ok(render_with_status(&ImportPage { c, i, record, report, can_import, running }, StatusCode::OK))
}

/// How long the console waits for a claimed import to start before showing its page.
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn import_now(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let checked = path.into_inner();
    let lang = who.locale.as_str();
    let (db, keyring, asked) = (state.db.clone(), state.keyring.clone(), checked.clone());
    let claimed = web::block(move || staged::claim(&db, &keyring, &asked))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(AppError::from(e), who.locale))?;
    // Imported already, or no longer kept: the check's page says so.
    let Some(options) = claimed else { return Ok(see_other(&format!("/admin/imports/{checked}?lang={lang}"))) };
    let id = options.id.clone().unwrap_or_default();
    // The import runs on its own (a large sheet takes minutes); its page shows how far it got.
    let (started, has_started) = std::sync::mpsc::channel::<()>();
    let (db, keyring, catalog, actor) = (state.db.clone(), state.keyring.clone(), state.catalog.current(), who.actor());
    tokio::task::spawn_blocking(move || {
        let mut started = Some(started);
        let ran = crate::services::import::run(&db, keyring, catalog, &options, actor, |_, _| {
            if let Some(started) = started.take() {
                let _ = started.send(());
            }
        });
        if let Err(e) = ran {
            tracing::error!(import = %options.id.unwrap_or_default(), error = %e, "an import from the console failed");
        }
    });
    let began = web::block(move || has_started.recv_timeout(START_WAIT).is_ok()).await.unwrap_or(false);
    let to = if began { id } else { checked };
    Ok(see_other(&format!("/admin/imports/{to}?lang={lang}")))
}

impl Chrome {
    /// The navigation entry of this page, in the console's language.
    pub fn nav_imports(&self) -> String {
        catalogue(self.t.lang).text("nav-imports")
    }
}

#[cfg(test)]
mod tests {
    use super::report::{CODES, code_sentence};
    use super::*;

    #[test]
    fn every_catalogue_has_the_page_words_and_a_sentence_for_every_code() {
        for locale in crate::domain::Locale::shipped() {
            let c = catalogue(locale);
            for id in ImportStrings::ids().iter().map(String::as_str).chain(["nav-imports"]) {
                assert!(c.has(id), "{locale:?} lacks {id}");
            }
            for code in CODES {
                assert_ne!(code_sentence(locale, code), code, "{locale:?} has no sentence for {code}");
            }
        }
    }
}
