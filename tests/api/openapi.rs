//! The API is a published contract: an OpenAPI 3.1 document generated from the code, listing
//! every `/api/v1` route there is, its problem responses and the API-key scheme.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::Value;

/// Every route under `/api/v1`, as the server routes them.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/forms/{form}/submissions"),
    ("get", "/api/v1/consents"),
    ("post", "/api/v1/consents"),
    ("post", "/api/v1/consents/query"),
    ("get", "/api/v1/subjects/{id}"),
    ("delete", "/api/v1/subjects/{id}"),
    ("get", "/api/v1/subjects/{id}/export"),
    ("post", "/api/v1/subjects/{id}/consents"),
    ("put", "/api/v1/subjects/{id}/external-id"),
    ("delete", "/api/v1/subjects/{id}/external-id"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/receipts/{receipt_id}/proof"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{name}"),
    ("patch", "/api/v1/webhooks/{name}"),
    ("delete", "/api/v1/webhooks/{name}"),
    ("post", "/api/v1/webhooks/{name}/rotate"),
    ("post", "/api/v1/webhooks/{name}/resume"),
    ("post", "/api/v1/webhooks/{name}/deliveries/{id}/resend"),
    ("post", "/api/v1/imports"),
    ("get", "/api/v1/imports"),
    ("get", "/api/v1/imports/{id}"),
    ("post", "/api/v1/rights-requests"),
    ("get", "/api/v1/rights-requests"),
    ("get", "/api/v1/rights-requests/{id}"),
    ("post", "/api/v1/rights-requests/{id}/steps"),
];

/// A request to the route with placeholders filled in.
async fn call(app: &TestApp, method: &str, path: &str) -> reqwest::Response {
    let url = app.url(
        &path.replace("{form}", "newsletter").replace("{id}", "no-such-subject").replace("{name}", "no-such-endpoint"),
    );
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    app.client.request(method, url).send().await.unwrap()
}

on_both_backends! {
    async fn the_openapi_document_lists_every_api_route(app: TestApp) {
        let response = app.get("/api/v1/openapi.json").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let doc: Value = response.json().await.expect("the document parses as JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1: {}", doc["openapi"]);
        assert!(doc["info"]["title"].is_string());

        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
            .filter(|(m, _)| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
            .collect();
        documented.sort();
        let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        expected.sort();
        assert_eq!(documented, expected);
        // Operation ids are unique (OpenAPI requires it; links and clients name operations by them).
        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|ops| ops.as_object().unwrap().values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate operationId among {ids:?}");

        // Each listed route really exists: none falls through to the scope's catch-all.
        for (method, path) in ROUTES {
            let response = call(&app, method, path).await;
            let status = response.status();
            if status == 404 {
                let problem = problem(response).await;
                assert_ne!(problem["code"], "not_found", "{method} {path} is not routed");
            }
        }
    }

    async fn a_method_a_route_does_not_have_is_405_with_allow(app: TestApp) {
        for (method, path, allow) in [
            ("PUT", "/api/v1/consents", "GET, POST, HEAD"),
            ("GET", "/api/v1/forms/newsletter/submissions", "POST"),
            ("PATCH", "/api/v1/subjects/someone", "GET, DELETE, HEAD"),
            ("GET", "/api/v1/subjects/someone/external-id", "PUT, DELETE"),
            ("POST", "/api/v1/events", "GET, HEAD"),
            ("GET", "/api/v1/consents/query", "POST"),
            ("TRACE", "/api/v1/openapi.json", "GET, HEAD"),
        ] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], allow, "{method} {path}");
            assert_eq!(problem(response).await["code"], "method_not_allowed");
        }
    }

    async fn the_document_names_the_problem_responses_and_the_api_key_scheme(app: TestApp) {
        let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
        let scheme = &doc["components"]["securitySchemes"]["api_key"];
        assert_eq!(scheme["type"], "http");
        assert_eq!(scheme["scheme"], "bearer");
        let problem = &doc["components"]["schemas"]["Problem"];
        for member in ["type", "title", "status", "code", "detail"] {
            assert!(problem["properties"][member].is_object(), "Problem.{member}");
        }

        let submit = &doc["paths"]["/api/v1/forms/{form}/submissions"]["post"];
        // Submitting needs no key (the empty requirement), and an integrator may send one with
        // the scope that lets it vouch for the person.
        assert_eq!(submit["security"], serde_json::json!([{}, { "api_key": ["submissions:write"] }]), "the key is optional");
        // Every operation a key opens names the scope it needs and documents the refusal.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(needs) = op["security"].as_array() else { continue };
                let Some(scopes) = needs.iter().find_map(|r| r["api_key"].as_array()) else { continue };
                assert_eq!(scopes.len(), 1, "{method} {path} names one scope");
                assert!(op["responses"]["403"]["description"].as_str().unwrap().contains("insufficient_scope"), "{method} {path}");
            }
        }
        for status in ["400", "404", "413", "415", "422"] {
            let response = &submit["responses"][status];
            assert!(
                response["content"]["application/problem+json"]["schema"]["$ref"].as_str().unwrap().ends_with("/Problem"),
                "{status}: {response}"
            );
        }
        assert!(submit["responses"]["422"]["description"].as_str().unwrap().contains("validation_failed"));
        assert!(submit["responses"]["201"]["content"]["application/json"]["schema"].is_object());

        for (method, path) in ROUTES.iter().filter(|(_, p)| p.contains("/subjects/") || p.ends_with("/consents")) {
            let operation = &doc["paths"][path][method];
            assert!(operation["security"][0]["api_key"].is_array(), "{method} {path} needs a key");
            assert!(
                operation["responses"]["401"]["description"].as_str().unwrap().contains("unauthorized"),
                "{method} {path}"
            );
        }
    }
}
