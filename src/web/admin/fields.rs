//! The form builder's field edits: add, change, move up or down, remove. Each is one small
//! HTML form (no JavaScript needed); a refused edit re-renders the builder with the message
//! next to the input.

use actix_web::{HttpRequest, HttpResponse, web};

use super::builder::{Refused, builder_page};
use super::drafts::{builder_error, load};
use super::field_views::view_of;
use super::{AdminError, AdminStrings, Fields, Problems, SignedIn, see_other};
use crate::domain::{ErrorCode, FormDefinition, FormKey};
use crate::services::builder::{self, BuilderError, FieldInput};
use crate::web::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/forms/{key}/fields", web::post().to(add))
        .route("/admin/forms/{key}/fields/{index}", web::post().to(change))
        .route("/admin/forms/{key}/fields/{index}/move", web::post().to(move_field))
        .route("/admin/forms/{key}/fields/{index}/remove", web::post().to(remove));
}

fn typed(fields: &Fields, locales: &crate::domain::Locales) -> FieldInput {
    FieldInput {
        key: fields.get("key").to_owned(),
        kind: fields.get("kind").to_owned(),
        label: fields.text("label", locales),
        required: fields.get("required") == "1",
        max_length: fields.get("max_length").to_owned(),
        choices: fields.get("choices").to_owned(),
        purposes: fields.all("purposes").into_iter().map(str::to_owned).collect(),
    }
}

/// Saves `input` as the field at `at` (or a new one); a refusal re-renders the builder.
async fn put(
    req: HttpRequest,
    who: SignedIn,
    state: &AppState,
    key: String,
    at: Option<usize>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let t = AdminStrings::get(who.locale);
    let catalog = state.catalog.current();
    let input = typed(&fields, &catalog.locales);
    let parsed = builder::parse_field(&input, &catalog.locales);
    let work = load(state, &who, &key).await?;
    let refuse = |codes: Vec<(String, ErrorCode)>| {
        let mut view = view_of(&catalog, who.locale, &key, at, &input, work.draft.fields.len());
        let mut problems = Problems::default();
        for (name, code) in codes {
            let message = t.says(code).to_owned();
            problems.add(format!("{}-{name}", view.prefix), message.clone());
            let slot = match name.as_str() {
                "key" => &mut view.errors.key,
                "kind" => &mut view.errors.kind,
                "max_length" => &mut view.errors.max_length,
                "choices" => &mut view.errors.choices,
                _ => {
                    view.errors.labels.push((name, message));
                    continue;
                }
            };
            *slot = Some(message);
        }
        builder_page(&req, &who, state, &work, Refused { problems, field: Some((at, view)), ..Refused::default() })
    };
    let field = match parsed {
        Ok(field) => field,
        Err(codes) => return Ok(refuse(codes)),
    };
    let mut draft = work.draft.clone();
    if let Err(code) = builder::put_field(&mut draft, at, field) {
        return Ok(refuse(vec![("key".to_owned(), code)]));
    }
    save(&who, state, &work.key, draft).await
}

async fn save(
    who: &SignedIn,
    state: &AppState,
    key: &FormKey,
    draft: FormDefinition,
) -> Result<HttpResponse, AdminError> {
    let (actor, k) = (who.actor(), key.clone());
    state
        .db
        .writer
        .write(move |tx| builder::save(tx.conn, &k, &draft, &actor))
        .await
        .map_err(|e: BuilderError| builder_error(e, who.locale))?;
    Ok(see_other(&format!("/admin/forms/{key}?lang={}&done=saved", who.locale.as_str())))
}

async fn add(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    put(req, who, &state, path.into_inner(), None, payload).await
}

async fn change(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let (key, index) = path.into_inner();
    put(req, who, &state, key, Some(index), payload).await
}

async fn move_field(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let (key, index) = path.into_inner();
    let work = load(&state, &who, &key).await?;
    let mut draft = work.draft.clone();
    if !builder::move_field(&mut draft, index, fields.get("direction") == "up") {
        return Ok(see_other(&format!("/admin/forms/{key}?lang={}", who.locale.as_str())));
    }
    save(&who, &state, &work.key, draft).await
}

async fn remove(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.owner_form(&req, payload).await?;
    let (key, index) = path.into_inner();
    let work = load(&state, &who, &key).await?;
    let mut draft = work.draft.clone();
    if index >= draft.fields.len() {
        return Err(builder_error(BuilderError::NotFound, who.locale));
    }
    draft.fields.remove(index);
    save(&who, &state, &work.key, draft).await
}
