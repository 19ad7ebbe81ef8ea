//! An integrator's own front end submits through the JSON API.

use crate::on_both_backends;
use serde_json::json;

on_both_backends! {
    async fn a_json_submission_returns_state_per_purpose_and_a_verifiable_receipt(app: TestApp) {
        let email = unique_email();
        let response = app
            .post_json_as_integrator(
                "/api/v1/forms/newsletter/submissions",
                &json!({
                    "fields": { "email": email, "name": "Minji", "phone": "+82 10 1234 5678" },
                    "purposes": ["service", "marketing_email", "personalisation"],
                    "locale": "ko"
                }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["subject_id"].as_str().is_some_and(|s| s.len() == 36));
        assert!(body["submission_id"].as_str().is_some_and(|s| s.len() == 36));
        assert_eq!(body["dropped_fields"], json!(["phone"]), "SMS consent was not given");
        assert_eq!(body["pending"], json!(["marketing_email"]), "the newsletter uses double opt-in");
        let consents = body["consents"].as_array().unwrap();
        let state = |p: &str| consents.iter().find(|c| c["purpose"] == p).unwrap().clone();
        assert_eq!(state("service")["status"], "granted");
        assert_eq!(state("personalisation")["status"], "granted");
        assert_eq!(state("marketing_email")["status"], "pending");
        assert!(state("marketing_email")["granted_at"].is_null());
        assert_eq!(state("marketing_sms")["status"], "never");
        assert_eq!(state("service")["policy_version"], 1);
        let granted = chrono::DateTime::parse_from_rfc3339(state("service")["granted_at"].as_str().unwrap()).unwrap();
        let expires = chrono::DateTime::parse_from_rfc3339(state("service")["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(expires, granted.checked_add_months(chrono::Months::new(36)).unwrap(), "service: 3 years");
        let expires = chrono::DateTime::parse_from_rfc3339(state("personalisation")["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(expires, granted.checked_add_months(chrono::Months::new(12)).unwrap(), "personalisation: 1 year");
        let lapses = chrono::DateTime::parse_from_rfc3339(state("marketing_email")["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(lapses, granted + chrono::Duration::days(7), "unconfirmed consent lapses after 7 days");

        // Anyone can verify the receipt offline with the published key.
        let jwks: jsonwebtoken::jwk::JwkSet = app.get("/.well-known/jwks.json").await.json().await.unwrap();
        let receipt = body["receipt"].as_str().unwrap();
        let header = jsonwebtoken::decode_header(receipt).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("receipt key is published");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let claims = jsonwebtoken::decode::<serde_json::Value>(receipt, &key, &validation).unwrap().claims;
        assert_eq!(claims["sub"], body["subject_id"]);
        assert_eq!(claims["jti"], body["submission_id"]);
        assert_eq!(claims["events"].as_array().unwrap().len(), 3);
        assert_eq!(claims["events"][0]["purpose"], "service");
        assert_eq!(claims["events"][0]["action"], "granted");
        assert_eq!(claims["events"][1]["purpose"], "marketing_email");
        assert_eq!(claims["events"][1]["action"], "pending");

        // A tampered receipt does not verify.
        let mut forged = receipt.to_owned();
        let tail = forged.len() - 6;
        forged.replace_range(tail.., "AAAAAA");
        assert!(jsonwebtoken::decode::<serde_json::Value>(&forged, &key, &validation).is_err());
    }

    async fn field_errors_are_problems_naming_each_field(app: TestApp) {
        let response = app
            .post_json(
                "/api/v1/forms/contact/submissions",
                &json!({ "fields": { "email": "nope", "message": "x".repeat(2001), "fax": "1" }, "purposes": ["ads"] }),
            )
            .await;
        assert_eq!(response.status(), 422);
        let problem = problem(response).await;
        assert_eq!(problem["code"], "validation_failed");
        assert_eq!(problem["status"], 422);
        let errors: Vec<(String, String)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        for expected in [
            ("purpose", "unknown_purpose"),
            ("purpose.service", "purpose_required"),
            ("fax", "unknown_field"),
            ("email", "invalid_email"),
            ("name", "required"),
            ("message", "too_long"),
        ] {
            assert!(errors.contains(&(expected.0.into(), expected.1.into())), "{expected:?} in {errors:?}");
        }
        assert_eq!(app.row_counts(), [0, 0, 0, 0, 0]);
    }

    async fn non_string_values_and_unknown_keys_are_refused(app: TestApp) {
        let response = app
            .post_json("/api/v1/forms/newsletter/submissions", &json!({ "fields": { "email": ["a@b.example"] }, "purposes": ["service"] }))
            .await;
        assert_eq!(response.status(), 422);
        assert_eq!(problem(response).await["errors"][0]["code"], "invalid_type");
        let response = app
            .post_json("/api/v1/forms/newsletter/submissions", &json!({ "fields": {}, "purposes": [], "extra": 1 }))
            .await;
        assert_eq!(response.status(), 400);
        assert_eq!(problem(response).await["code"], "invalid_request");
        let response = app
            .post_json("/api/v1/forms/newsletter/submissions", &json!({ "fields": { "email": "a@b.example" }, "purposes": ["service"], "locale": "fr" }))
            .await;
        assert_eq!(problem(response).await["code"], "unsupported_locale");
        assert_eq!(app.row_counts(), [0, 0, 0, 0, 0]);
    }

    async fn an_unknown_form_or_route_is_a_404_problem(app: TestApp) {
        let response = app.post_json("/api/v1/forms/nope/submissions", &json!({ "fields": {} })).await;
        assert_eq!(response.status(), 404);
        assert_eq!(problem(response).await["code"], "form_not_found");
        let response = app.get("/api/v1/nothing-here").await;
        assert_eq!(response.status(), 404);
        assert_eq!(problem(response).await["code"], "not_found");
    }
}
