//! A CRM asks, before sending a campaign, whether it may contact someone.

use crate::on_both_backends;
use serde_json::json;

on_both_backends! {
    async fn the_consent_check_needs_a_valid_api_key(app: TestApp) {
        let response = app.get("/api/v1/consents?email=a%40b.example").await;
        assert_eq!(response.status(), 401);
        assert_eq!(problem(response).await["code"], "unauthorized");
        for header in ["Bearer assent_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer"] {
            let response = app.client.get(app.url("/api/v1/consents?email=a%40b.example")).header("authorization", header).send().await.unwrap();
            assert_eq!(response.status(), 401, "{header}");
        }
    }

    async fn the_consent_check_reports_each_purpose(app: TestApp) {
        let key = app.api_key();
        assert!(key.starts_with("assent_"));
        let email = unique_email();
        let created = app
            .post_json(
                "/api/v1/forms/newsletter/submissions",
                &json!({ "fields": { "email": email, "name": "Minji" }, "purposes": ["service", "marketing_email", "personalisation"] }),
            )
            .await;
        assert_eq!(created.status(), 201);
        let subject_id = created.json::<serde_json::Value>().await.unwrap()["subject_id"].clone();

        let lookup = format!("/api/v1/consents?email={}", email.to_uppercase().replace('@', "%40"));
        let response = app.client.get(app.url(&lookup)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["subject_id"], subject_id, "the address is matched case-insensitively");
        let state = |p: &str| body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == p).unwrap().clone();
        assert_eq!(state("personalisation")["status"], "granted");
        assert_eq!(state("personalisation")["policy_version"], 1);
        assert!(state("personalisation")["granted_at"].is_string());
        assert!(state("personalisation")["expires_at"].is_string());
        assert_eq!(state("marketing_email")["status"], "pending", "not yet confirmed by e-mail");
        assert!(state("marketing_email")["granted_at"].is_null());
        assert_eq!(state("marketing_sms")["status"], "never");
        assert!(state("marketing_sms")["expires_at"].is_null());

        let unknown = app.client.get(app.url("/api/v1/consents?email=nobody%40example.com")).bearer_auth(&key).send().await.unwrap();
        let body: serde_json::Value = unknown.json().await.unwrap();
        assert!(body["subject_id"].is_null());
        assert!(body["consents"].as_array().unwrap().iter().all(|c| c["status"] == "never"));

        let invalid = app.client.get(app.url("/api/v1/consents?email=not-an-address")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(invalid.status(), 422);
        assert_eq!(problem(invalid).await["errors"][0]["field"], "email");
        let missing = app.client.get(app.url("/api/v1/consents")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(missing.status(), 422);
    }
}
