//! The OpenAPI 3.1 document of the JSON API, generated from the handlers' and types' own
//! annotations (utoipa) and served at `GET /api/v1/openapi.json`.

use actix_web::HttpResponse;
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{FieldProblem, Problem};
use super::{api, subjects_api};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Assent API",
        description = "Consent-first form submissions and consent look-ups. Errors are RFC 9457 \
            `application/problem+json` documents with a stable snake_case `code`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        document,
        api::create_submission,
        super::consents_lookup::get_consents,
        super::consents_lookup::post_consents,
        subjects_api::show,
        subjects_api::export,
        subjects_api::change,
        subjects_api::erase,
        super::integration_api::put_external_id,
        super::integration_api::delete_external_id,
        super::integration_api::events,
        super::bulk_api::query,
        super::webhooks_api::list,
        super::webhooks_api::show,
        super::webhooks_api::resume,
        super::webhooks_api::resend,
        super::webhooks_manage_api::create,
        super::webhooks_manage_api::change,
        super::webhooks_manage_api::rotate,
        super::webhooks_manage_api::remove,
        super::imports_api::create,
        super::imports_api::list,
        super::imports_api::show,
        super::rights_api::create,
        super::rights_api::list,
        super::rights_api::show,
        super::rights_api::take_step,
        super::transparency::receipt_proof
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&ApiKeyScheme),
    tags(
        (name = "submissions", description = "Submitting a form from your own front end (no key; CORS per form)"),
        (name = "consents", description = "May I contact this person? (API key)"),
        (name = "subjects", description = "A person's data and consents, with the preference center's effects (API key)"),
        (name = "imports", description = "Bringing people in from a spreadsheet with their real consent dates; a dry run by default (API key)"),
        (name = "rights", description = "The rights desk for ticketing systems: open a request for a person, list the open ones, move one on; the person is written to when it takes longer and when it is answered (API key)"),
        (name = "webhooks", description = "Webhook endpoints: declare, change, rotate and remove them (those the workspace file declares are changed there), their state and deliveries; resend one, resume an endpoint (API key)"),
        (name = "events", description = "Every consent event in ledger order, for keeping a CRM in step (API key)"),
        (name = "meta", description = "This document")
    )
)]
pub struct ApiDoc;

/// `Authorization: Bearer <API key>` (keys from `assent key create` or the console).
struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API key, as `assent key create` or the console prints it. Each key holds scopes \
                 (`consents:read`, `subjects:read`, `subjects:write`, `subjects:erase`, \
                 `submissions:write`, `imports`, `webhooks`); each operation names the one it needs, \
                 and a key without it gets 403 `insufficient_scope`.",
            ))
            .build();
        components.add_security_scheme("api_key", SecurityScheme::Http(scheme));
    }
}

/// Rendered once: the document only changes with the code.
static DOCUMENT: LazyLock<String> = LazyLock::new(document_text);

/// The document as served: utoipa's, with the links between operations added.
pub(crate) fn document_text() -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    super::openapi_links::add_links(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| String::from("{}"))
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object, content_type = "application/json"))
)]
pub(crate) async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_code_is_documented_as_a_string() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap_or_default();
        let code = &doc["components"]["schemas"]["Problem"]["properties"]["code"];
        assert_eq!(code["type"], "string", "{code}");
    }
}
