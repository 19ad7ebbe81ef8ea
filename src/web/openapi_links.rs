//! OpenAPI links (3.1 §4.8.20): what a client can do next with what a response returned, e.g.
//! the person a submission created, or the request the rights desk opened. Clients and
//! schemathesis' stateful phase follow them from one operation to the next.

use serde_json::{Value, json};

/// A response of one operation and the operations its body leads to.
struct From {
    path: &'static str,
    method: &'static str,
    status: &'static str,
    /// The body's property that names the thing (`$response.body#/<property>`).
    property: &'static str,
    /// The operation, and its path parameter the property fills.
    to: &'static [(&'static str, &'static str)],
}

const LINKS: &[From] = &[
    From {
        path: "/api/v1/forms/{form}/submissions",
        method: "post",
        status: "201",
        property: "subject_id",
        to: &[
            ("show_subject", "id"),
            ("export_subject", "id"),
            ("change_subject_consent", "id"),
            ("erase_subject", "id"),
        ],
    },
    From {
        path: "/api/v1/rights-requests",
        method: "post",
        status: "201",
        property: "id",
        to: &[("show_rights_request", "id"), ("step_rights_request", "id")],
    },
    From {
        path: "/api/v1/webhooks",
        method: "post",
        status: "201",
        property: "name",
        to: &[
            ("show_webhook", "name"),
            ("change_webhook", "name"),
            ("rotate_webhook_secret", "name"),
            ("resume_webhook", "name"),
            ("remove_webhook", "name"),
        ],
    },
];

/// Adds [`LINKS`] to the responses they start from, in the document as JSON (utoipa's own `Link`
/// writes `operation_id` where OpenAPI says `operationId`).
pub fn add_links(doc: &mut Value) {
    for from in LINKS {
        let response = &mut doc["paths"][from.path][from.method]["responses"][from.status];
        if !response.is_object() {
            continue;
        }
        let links: serde_json::Map<String, Value> = from
            .to
            .iter()
            .map(|(id, parameter)| {
                let expression = format!("$response.body#/{}", from.property);
                ((*id).to_owned(), json!({ "operationId": id, "parameters": { *parameter: expression } }))
            })
            .collect();
        response["links"] = Value::Object(links);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every link starts from a documented response whose body has the property, and leads to a
    /// documented operation with that path parameter.
    #[test]
    fn every_link_leads_somewhere_real() {
        let doc: Value = serde_json::from_str(&crate::web::openapi::document_text()).unwrap();
        let operations: Vec<&Value> =
            doc["paths"].as_object().unwrap().values().flat_map(|item| item.as_object().unwrap().values()).collect();
        let schemas = doc["components"]["schemas"].to_string();
        for from in LINKS {
            let response = &doc["paths"][from.path][from.method]["responses"][from.status];
            assert!(response.is_object(), "{} {} {}", from.method, from.path, from.status);
            let property = format!("\"{}\":", from.property);
            assert!(
                response.to_string().contains(&property) || schemas.contains(&property),
                "{} has {}",
                from.path,
                from.property
            );
            for (id, parameter) in from.to {
                let link = &response["links"][id];
                assert_eq!(link["operationId"], *id);
                assert_eq!(link["parameters"][parameter], format!("$response.body#/{}", from.property));
                let target = operations.iter().find(|o| o["operationId"] == *id).unwrap_or_else(|| panic!("{id}"));
                let params = target["parameters"].as_array().unwrap();
                assert!(params.iter().any(|p| p["name"] == *parameter && p["in"] == "path"), "{id} takes {parameter}");
            }
        }
    }
}
