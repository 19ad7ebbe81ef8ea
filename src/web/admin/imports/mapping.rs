//! `/admin/imports/sheets/{id}`: the mapping step. The owner says, column by column, what each
//! header of the uploaded sheet is (a field of the form, a consent, its date, …), sees the first
//! rows read as they would be imported, and checks the sheet when it reads right. The mapping
//! can be downloaded as a file for `assent import --mapping`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::preview::{ColumnChoice, MappingStrings, RowView, View};
use crate::domain::ErrorCode;
use crate::domain::import::{self as rules, Zone};
use crate::services::import::sheets::{self, Choices, Sheet};
use crate::services::import::{ImportError, staged};
use crate::web::AppState;
use crate::web::admin::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

#[derive(Template)]
#[template(path = "admin/import_mapping.html")]
struct MappingPage {
    c: Chrome,
    m: &'static MappingStrings,
    i: &'static super::ImportStrings,
    id: String,
    file_name: String,
    form: String,
    read_as: &'static str,
    columns: Vec<ColumnChoice>,
    targets: Vec<(String, String)>,
    header_problems: Vec<String>,
    preview: Vec<String>,
    rows: Vec<RowView>,
    choices: Choices,
    wording_version: String,
    problems: Problems,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/imports/sheets/{id}").route(web::get().to(show)).route(web::post().to(choose)))
        .service(web::resource("/admin/imports/sheets/{id}/mapping.toml").route(web::get().to(download)));
}

fn gone(who: &SignedIn) -> AdminError {
    AdminError::Refused { status: StatusCode::NOT_FOUND, code: ErrorCode::NotFound, locale: who.locale }
}

async fn open(state: &AppState, who: &SignedIn, id: String) -> Result<Sheet, AdminError> {
    let (db, keyring) = (state.db.clone(), state.keyring.clone());
    web::block(move || sheets::open(&db, &keyring, &id))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(AppError::from(e), who.locale))?
        .ok_or_else(|| gone(who))
}

async fn show(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let sheet = open(&state, &who, path.into_inner()).await?;
    let wording = sheet.choices.wording_version.map(|v| v.to_string()).unwrap_or_default();
    page(&req, &who, &state, sheet, wording, Problems::default(), StatusCode::OK).await
}

async fn page(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    sheet: Sheet,
    wording_version: String,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let catalog = state.catalog.current();
    let read = sheet.clone();
    let previewed =
        web::block(move || sheets::preview(&catalog, &read)).await.map_err(|e| AdminError::new(e, who.locale))?;
    let preview = match previewed {
        Ok(preview) => preview,
        Err(ImportError::Service(e)) => return Err(AdminError::new(AppError::from(e), who.locale)),
        // The sheet was read when it was uploaded; a form removed since is what is left.
        Err(_) => return Err(gone(who)),
    };
    let catalog = state.catalog.current();
    let form = catalog.form(&sheet.form).ok_or_else(|| gone(who))?;
    let view = View {
        catalog: &catalog,
        form,
        locale: who.locale,
        zone: Zone::parse(&sheet.choices.time_zone).unwrap_or_default(),
    };
    let m = MappingStrings::get(who.locale);
    let page = MappingPage {
        c: who.chrome(req, "imports"),
        m,
        i: super::ImportStrings::get(who.locale),
        columns: view.columns(&preview, &sheet.choices),
        targets: view.targets(m),
        header_problems: view.header_problems(&preview),
        preview: view.mapped(&preview, &sheet.choices).into_iter().map(|(_, label)| label).collect(),
        rows: view.rows(&preview, &sheet.choices, m),
        id: sheet.id,
        file_name: sheet.file_name,
        form: form.definition.title.get(who.locale, catalog.default_locale()).to_owned(),
        read_as: preview.read_as,
        choices: sheet.choices,
        wording_version,
        problems,
    };
    let mut response = render_with_status(&page, status);
    // The page shows the sheet's first rows: personal data, never cached.
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The choices the mapping form sends.
fn choices_of(fields: &crate::web::admin::Fields, sheet: &Sheet, headers: &[String]) -> (Choices, String) {
    let mut mapping = sheet.choices.mapping.clone();
    mapping.columns.clear();
    for (index, header) in headers.iter().enumerate() {
        let chosen = fields.get(&format!("col.{index}"));
        mapping
            .columns
            .insert(header.clone(), if chosen.is_empty() { rules::IGNORE.to_owned() } else { chosen.to_owned() });
    }
    let wording = fields.get("wording_version").trim().to_owned();
    let choices = Choices {
        mapping,
        wording_version: wording.parse().ok().filter(|n: &i64| *n > 0),
        time_zone: fields.get("time_zone").trim().to_owned(),
        all_or_nothing: fields.has("all_or_nothing"),
    };
    (choices, wording)
}

async fn choose(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let mut sheet = open(&state, &who, path.into_inner()).await?;
    let headers = {
        let (catalog, read) = (state.catalog.current(), sheet.clone());
        let previewed =
            web::block(move || sheets::preview(&catalog, &read)).await.map_err(|e| AdminError::new(e, who.locale))?;
        previewed.map_err(|_| gone(&who))?.headers
    };
    let (choices, wording) = choices_of(&fields, &sheet, &headers);
    let t = super::ImportStrings::get(who.locale);
    let mut problems = Problems::default();
    if Zone::parse(&choices.time_zone).is_err() {
        problems.add("time_zone", Zone::parse(&choices.time_zone).err().unwrap_or_default());
    }
    if !wording.is_empty() && choices.wording_version.is_none() {
        problems.add("wording_version", t.unknown_wording);
    }
    sheet.choices = choices;
    let (db, id, kept) = (state.db.clone(), sheet.id.clone(), sheet.choices.clone());
    web::block(move || sheets::choose(&db, &id, &kept))
        .await
        .map_err(|e| AdminError::new(e, who.locale))?
        .map_err(|e| AdminError::new(AppError::from(e), who.locale))?;
    let checking = fields.get("step") == "check";
    if !problems.is_empty() || !checking {
        let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return page(&req, &who, &state, sheet, wording, problems, status).await;
    }
    check(&req, &who, &state, sheet, wording).await
}

/// Checks the sheet as mapped (unless its headers cannot be imported so: then the page says why)
/// and goes on to the check's report; the sheet is kept with its check from then on.
async fn check(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    sheet: Sheet,
    wording: String,
) -> Result<HttpResponse, AdminError> {
    let (db, keyring, catalog, actor) = (state.db.clone(), state.keyring.clone(), state.catalog.current(), who.actor());
    let options = sheet.options();
    let id = sheet.id.clone();
    let checked = web::block(move || {
        let report = staged::check(&db, keyring, catalog, &options, actor)?;
        if report.header_problems.is_empty() {
            sheets::forget(&db, &id)?;
        }
        Ok::<_, ImportError>(report)
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?;
    match checked {
        Ok(report) if report.header_problems.is_empty() => {
            Ok(see_other(&format!("/admin/imports/{}?lang={}", report.id, who.locale.as_str())))
        }
        Ok(_) => page(req, who, state, sheet, wording, Problems::default(), StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(ImportError::UnknownWording { .. }) => {
            let mut problems = Problems::default();
            problems.add("wording_version", super::ImportStrings::get(who.locale).unknown_wording);
            page(req, who, state, sheet, wording, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(ImportError::Service(e)) => Err(AdminError::new(AppError::from(e), who.locale)),
        Err(_) => Err(gone(who)),
    }
}

/// The mapping as a file for `assent import --mapping`.
async fn download(
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let sheet = open(&state, &who, path.into_inner()).await?;
    let text = toml::to_string(&sheet.choices.mapping).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/toml; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"mapping.toml\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_the_mapping_words() {
        for locale in crate::domain::Locale::shipped() {
            let c = crate::i18n::catalogue(locale);
            for id in MappingStrings::ids().iter().map(String::as_str).chain(["imports-map"]) {
                assert!(c.has(id), "{locale:?} lacks {id}");
            }
        }
    }
}
