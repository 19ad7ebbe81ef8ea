//! The form builder's pages: the list of forms (and creating one), the builder of one form
//! (settings, fields, publish) and its preview. Field edits are in `fields.rs`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::fields::{self, FieldFormView};
use super::{AdminError, AdminStrings, Chrome, Fields, Problems, SignedIn, refresh_catalog, see_other};
use crate::domain::{FieldDefinition, FieldKey, FieldType, FormDefinition, FormKey, Locale, Localized};
use crate::services::builder::{self, BuilderError, Working};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/forms").route(web::get().to(list)).route(web::post().to(create)))
        .route("/admin/forms/{key}", web::get().to(show))
        .route("/admin/forms/{key}/settings", web::post().to(settings))
        .route("/admin/forms/{key}/preview", web::get().to(preview))
        .route("/admin/forms/{key}/publish", web::post().to(publish))
        .configure(fields::routes);
}

struct FormRow {
    key: String,
    title: String,
    kind: String,
    published: Option<i64>,
    changes: bool,
}

/// The "new form" inputs.
#[derive(Default)]
struct NewForm {
    key: String,
    kind: String,
    title_en: String,
    title_ko: String,
}

#[derive(Template)]
#[template(path = "admin/forms.html")]
struct ListPage {
    c: Chrome,
    forms: Vec<FormRow>,
    /// The "new form" inputs: name, label, value typed.
    new_inputs: Vec<(&'static str, &'static str, String)>,
    problems: Problems,
}

/// Form settings as shown (and as typed back on a refused save).
pub struct SettingsView {
    pub kind: String,
    pub title_en: String,
    pub title_ko: String,
    pub description_en: String,
    pub description_ko: String,
    pub origins: String,
    pub double_opt_in: bool,
    /// Every purpose: key, title, asked by this form.
    pub purposes: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "admin/builder.html")]
pub struct BuilderPage {
    pub c: Chrome,
    pub key: String,
    pub published: Option<i64>,
    pub changes: bool,
    pub settings: SettingsView,
    /// The settings' text inputs: name, label, value, required.
    pub settings_inputs: Vec<(&'static str, &'static str, String, bool)>,
    pub fields: Vec<FieldFormView>,
    pub new_field: FieldFormView,
    pub problems: Problems,
    pub publish_error: Option<String>,
    pub notice: Option<&'static str>,
}

/// Runs `f` on a pooled connection off the executor.
pub async fn read<T: Send + 'static>(
    state: &AppState,
    locale: Locale,
    f: impl FnOnce(&mut crate::db::DbConnection) -> Result<T, BuilderError> + Send + 'static,
) -> Result<T, AdminError> {
    let pool = state.db.pool.clone();
    web::block(move || -> Result<Result<T, BuilderError>, AppError> {
        let mut conn = pool.get()?;
        Ok(f(&mut conn))
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| builder_error(e, locale))
}

pub fn builder_error(e: BuilderError, locale: Locale) -> AdminError {
    match e {
        BuilderError::NotFound => AdminError::Refused { status: StatusCode::NOT_FOUND, code: "not_found", locale },
        other => AdminError::new(AppError::Internal(other.into()), locale),
    }
}

async fn list(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    list_page(&req, &who, &state, NewForm::default(), Problems::default(), StatusCode::OK).await
}

async fn list_page(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    new: NewForm,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let catalog = state.catalog.current();
    let all = read(state, who.locale, move |conn| builder::all(conn, &catalog)).await?;
    let forms = all
        .into_iter()
        .map(|w| FormRow {
            key: w.key.to_string(),
            title: w.draft.title.get(who.locale).to_owned(),
            kind: w.draft.kind,
            published: w.published,
            changes: w.unpublished_changes,
        })
        .collect();
    let t = AdminStrings::get(who.locale);
    let new_inputs = vec![
        ("key", t.key_label, new.key),
        ("kind", t.form_kind, new.kind),
        ("title_en", t.title_en, new.title_en),
        ("title_ko", t.title_ko, new.title_ko),
    ];
    Ok(render_with_status(&ListPage { c: who.chrome(req, "forms"), forms, new_inputs, problems }, status))
}

/// A new form starts with the one field every form needs: the person's e-mail address.
fn starter(kind: String, title: Localized) -> Option<FormDefinition> {
    let email = FieldDefinition {
        key: FieldKey::parse("email").ok()?,
        kind: FieldType::Email,
        label: Localized { en: "Email address".into(), ko: "이메일 주소".into() },
        required: true,
        purposes: Vec::new(),
        max_length: None,
        choices: Vec::new(),
    };
    Some(FormDefinition {
        kind,
        title,
        description: None,
        double_opt_in: false,
        purposes: Vec::new(),
        allowed_origins: Vec::new(),
        fields: vec![email],
    })
}

fn text(problems: &mut Problems, t: &AdminStrings, fields: &Fields, name: &str, max: usize) -> String {
    let value = fields.get(name).trim().to_owned();
    if value.is_empty() {
        problems.add(name, t.says("required"));
    } else if value.chars().count() > max {
        problems.add(name, t.says("too_long"));
    }
    value
}

async fn create(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    who.require_owner_role()?;
    let t = AdminStrings::get(who.locale);
    let mut problems = Problems::default();
    let key = FormKey::parse(fields.get("key").trim()).map_err(|_| problems.add("key", t.says("invalid_key"))).ok();
    let kind = text(&mut problems, t, &fields, "kind", 40);
    let title = Localized {
        en: text(&mut problems, t, &fields, "title_en", 200),
        ko: text(&mut problems, t, &fields, "title_ko", 200),
    };
    let new = NewForm {
        key: fields.get("key").to_owned(),
        kind: kind.clone(),
        title_en: title.en.clone(),
        title_ko: title.ko.clone(),
    };
    let (Some(key), Some(draft), true) = (key, starter(kind, title), problems.is_empty()) else {
        return list_page(&req, &who, &state, new, problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let (actor, k) = (who.actor(), key.clone());
    let created = state.db.writer.write(move |tx| builder::create(tx.conn, &k, &draft, &actor)).await;
    match created {
        Ok(()) => Ok(see_other(&format!("/admin/forms/{key}?lang={}", who.locale.as_str()))),
        Err(BuilderError::KeyTaken) => {
            problems.add("key", t.says("key_taken"));
            list_page(&req, &who, &state, new, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(builder_error(e, who.locale)),
    }
}

/// The builder page for `work`, with whatever the request refused.
pub fn builder_page(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    work: &Working,
    refused: Refused,
) -> HttpResponse {
    let t = AdminStrings::get(who.locale);
    let catalog = state.catalog.current();
    let d = &work.draft;
    let key = work.key.to_string();
    let settings = refused.settings.unwrap_or_else(|| SettingsView {
        kind: d.kind.clone(),
        title_en: d.title.en.clone(),
        title_ko: d.title.ko.clone(),
        description_en: d.description.as_ref().map(|x| x.en.clone()).unwrap_or_default(),
        description_ko: d.description.as_ref().map(|x| x.ko.clone()).unwrap_or_default(),
        origins: d.allowed_origins.join("\n"),
        double_opt_in: d.double_opt_in,
        purposes: catalog
            .purposes
            .values()
            .map(|p| (p.key.to_string(), p.policy.title().get(who.locale).to_owned(), d.purposes.contains(&p.key)))
            .collect(),
    });
    let mut views = fields::views(&catalog, who.locale, &key, d);
    let mut new_field = fields::new_view(&catalog, who.locale, &key);
    if let Some((at, view)) = refused.field {
        match at {
            Some(i) if i < views.len() => views[i] = view,
            _ => new_field = view,
        }
    }
    let status = if refused.problems.is_empty() && refused.publish_error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let settings_inputs = vec![
        ("kind", t.form_kind, settings.kind.clone(), true),
        ("title_en", t.title_en, settings.title_en.clone(), true),
        ("title_ko", t.title_ko, settings.title_ko.clone(), true),
        ("description_en", t.description_en, settings.description_en.clone(), false),
        ("description_ko", t.description_ko, settings.description_ko.clone(), false),
    ];
    let page = BuilderPage {
        settings_inputs,
        c: who.chrome(req, "forms"),
        key,
        published: work.published,
        changes: work.unpublished_changes,
        settings,
        fields: views,
        new_field,
        problems: refused.problems,
        publish_error: refused.publish_error,
        notice: refused.notice.map(|n| {
            if n == "published" {
                t.published_now
            } else if n == "unchanged" {
                t.nothing_to_publish
            } else {
                t.saved
            }
        }),
    };
    let mut response = render_with_status(&page, status);
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// What a refused builder request puts back on the page.
#[derive(Default)]
pub struct Refused {
    pub problems: Problems,
    pub settings: Option<SettingsView>,
    /// The field form as typed: its index (`None`: the new field) and view.
    pub field: Option<(Option<usize>, FieldFormView)>,
    pub publish_error: Option<String>,
    pub notice: Option<&'static str>,
}

pub async fn load(state: &AppState, who: &SignedIn, key: &str) -> Result<Working, AdminError> {
    let (catalog, key) = (state.catalog.current(), key.to_owned());
    read(state, who.locale, move |conn| builder::working(conn, &catalog, &key)).await
}

async fn show(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let work = load(&state, &who, &path).await?;
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok();
    let notice = query.and_then(|q| {
        q.get("done").map(|d| match d.as_str() {
            "published" => "published",
            "unchanged" => "unchanged",
            _ => "saved",
        })
    });
    Ok(builder_page(&req, &who, &state, &work, Refused { notice, ..Refused::default() }))
}

async fn settings(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let form = who.form(&req, payload).await?;
    who.require_owner_role()?;
    let t = AdminStrings::get(who.locale);
    let work = load(&state, &who, &path).await?;
    let catalog = state.catalog.current();
    let mut problems = Problems::default();
    let kind = text(&mut problems, t, &form, "kind", 40);
    let title = Localized {
        en: text(&mut problems, t, &form, "title_en", 200),
        ko: text(&mut problems, t, &form, "title_ko", 200),
    };
    let (d_en, d_ko) = (form.get("description_en").trim().to_owned(), form.get("description_ko").trim().to_owned());
    if d_en.chars().count() > 2000 {
        problems.add("description_en", t.says("too_long"));
    }
    if d_ko.chars().count() > 2000 {
        problems.add("description_ko", t.says("too_long"));
    }
    let asked: Vec<String> = form.all("purposes").into_iter().map(str::to_owned).collect();
    let origins = builder::parse_origins(form.get("allowed_origins"))
        .map_err(|_| problems.add("allowed_origins", t.says("invalid_origin")));
    let double_opt_in = form.get("double_opt_in") == "1";
    if !problems.is_empty() {
        let view = SettingsView {
            kind,
            title_en: title.en,
            title_ko: title.ko,
            description_en: d_en,
            description_ko: d_ko,
            origins: form.get("allowed_origins").to_owned(),
            double_opt_in,
            purposes: catalog
                .purposes
                .values()
                .map(|p| {
                    (
                        p.key.to_string(),
                        p.policy.title().get(who.locale).to_owned(),
                        asked.iter().any(|a| a == p.key.as_str()),
                    )
                })
                .collect(),
        };
        return Ok(builder_page(
            &req,
            &who,
            &state,
            &work,
            Refused { problems, settings: Some(view), ..Refused::default() },
        ));
    }
    let mut draft = work.draft.clone();
    draft.kind = kind;
    draft.title = title;
    draft.description = (!d_en.is_empty() || !d_ko.is_empty()).then_some(Localized { en: d_en, ko: d_ko });
    // Keep the catalogue's order, so the public form lists purposes as the purposes page does.
    draft.purposes = catalog
        .purposes
        .values()
        .filter(|p| asked.iter().any(|a| a == p.key.as_str()))
        .map(|p| p.key.clone())
        .collect();
    draft.allowed_origins = origins.unwrap_or_default();
    draft.double_opt_in = double_opt_in;
    let (actor, key) = (who.actor(), work.key.clone());
    state
        .db
        .writer
        .write(move |tx| builder::save(tx.conn, &key, &draft, &actor))
        .await
        .map_err(|e| builder_error(e, who.locale))?;
    Ok(see_other(&format!("/admin/forms/{}?lang={}&done=saved", work.key, who.locale.as_str())))
}

async fn publish(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.form(&req, payload).await?;
    who.require_owner_role()?;
    let t = AdminStrings::get(who.locale);
    let (actor, key) = (who.actor(), path.into_inner());
    let k = key.clone();
    let published = state.db.writer.write(move |tx| builder::publish(tx.conn, &k, &actor)).await;
    match published {
        Ok(version) => {
            refresh_catalog(&state).await.map_err(|e| AdminError::new(e, who.locale))?;
            let done = if version.is_some() { "published" } else { "unchanged" };
            Ok(see_other(&format!("/admin/forms/{key}?lang={}&done={done}", who.locale.as_str())))
        }
        Err(BuilderError::Invalid(e)) => {
            let work = load(&state, &who, &key).await?;
            let refused = Refused { publish_error: Some(t.definition_error(&e)), ..Refused::default() };
            Ok(builder_page(&req, &who, &state, &work, refused))
        }
        Err(e) => Err(builder_error(e, who.locale)),
    }
}

/// `GET /admin/forms/{key}/preview`: the draft through the public form's own template, marked
/// as a preview and made unsubmittable (disabled button, CSP `form-action 'none'`).
async fn preview(
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let t = AdminStrings::get(who.locale);
    let work = load(&state, &who, &path).await?;
    let page = crate::web::public::preview_page(&state.catalog.current(), &work.key, &work.draft, who.locale);
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => return Err(AdminError::new(AppError::Internal(e.into()), who.locale)),
    };
    let back = format!("/admin/forms/{}?lang={}", work.key, who.locale.as_str());
    // The catalogue's own sentences (no markup in them) and a path built from a checked key.
    let banner = format!(
        "<main id=\"main\"><p class=\"notice\" role=\"status\">{} <a href=\"{back}\">{}</a></p>",
        t.preview_note, t.back_to_forms
    );
    let html = html
        .replacen("<main id=\"main\">", &banner, 1)
        .replace("<button type=\"submit\">", "<button type=\"submit\" disabled>");
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ))
        .body(html))
}
