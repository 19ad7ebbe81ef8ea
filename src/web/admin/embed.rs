//! `GET /admin/forms/{key}/embed`: the four ready-to-paste snippets for one form.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::data_strings::DataStrings;
use super::{AdminError, Chrome, SignedIn};
use crate::domain::ErrorCode;
use crate::services::snippets::{self, SnippetWords, Snippets};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::i18n::Strings;
use crate::web::pages::render;

#[derive(Template)]
#[template(path = "admin/embed.html")]
struct EmbedPage {
    c: Chrome,
    d: &'static DataStrings,
    form_key: String,
    title: String,
    origins: Vec<String>,
    s: Snippets,
}

pub async fn page(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let catalog = state.catalog.current();
    let form =
        catalog.form(&path).ok_or_else(|| AdminError::new(AppError::NotFound(ErrorCode::FormNotFound), who.locale))?;
    let t = Strings::get(who.locale);
    let words = SnippetWords {
        required: t.required_purpose,
        optional: t.optional_purpose,
        legend: t.purposes_legend,
        submit: t.submit,
        full_text: t.policy_link,
    };
    let shown = state.keyring.sign_shown(&catalog.shown(form));
    let s = snippets::for_form(&catalog, form, &state.settings.base_url, who.locale, words, &shown);
    let page = EmbedPage {
        c: who.chrome(&req, "forms"),
        d: DataStrings::get(who.locale),
        form_key: form.key.to_string(),
        title: form.definition.title.get(who.locale, catalog.default_locale()).to_owned(),
        origins: form.definition.allowed_origins.clone(),
        s,
    };
    Ok(render(&page))
}
