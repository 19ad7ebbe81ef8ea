//! Page structs for askama templates, and turning a template into a response.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::i18n::Strings;

/// Renders a page; a template that fails to render is a bug, answered with a bare 500.
pub fn render_with_status(page: &impl Template, status: StatusCode) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("internal error")
        }
    }
}

pub fn render(page: &impl Template) -> HttpResponse {
    render_with_status(page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub status: u16,
    pub message: String,
}

/// One input on the public form.
pub struct FieldView {
    pub key: String,
    pub label: String,
    pub input_type: &'static str,
    pub textarea: bool,
    pub choices: Vec<ChoiceView>,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
    pub max_length: usize,
    pub autocomplete: &'static str,
    pub purposes: String,
}

pub struct ChoiceView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One consent checkbox on the public form.
pub struct PurposeView {
    pub key: String,
    pub title: String,
    pub text: String,
    pub required: bool,
    pub checked: bool,
    pub retention: String,
    pub policy_url: String,
    pub policy_version: i64,
    pub error: Option<String>,
}

pub struct ErrorLink {
    pub anchor: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "public/form.html")]
pub struct FormPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub form_key: String,
    pub title: String,
    pub description: Option<String>,
    pub fields: Vec<FieldView>,
    pub purposes: Vec<PurposeView>,
    pub errors: Vec<ErrorLink>,
}

#[derive(Template)]
#[template(path = "public/thanks.html")]
pub struct ThanksPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub title: String,
    pub form_key: String,
}

#[derive(Template)]
#[template(path = "public/policy.html")]
pub struct PolicyPage {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub title: String,
    pub text: String,
    pub version: i64,
    pub published: String,
    pub hash: String,
}
