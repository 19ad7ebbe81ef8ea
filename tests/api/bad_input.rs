//! Every kind of bad input gets a clear 4xx, writes nothing, and leaves the server serving.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

/// After a refusal: nothing was written and the server still accepts a good submission.
async fn assert_nothing_written_and_still_serving(app: &TestApp) {
    assert_eq!(app.row_counts(), [0, 0, 0, 0, 0], "a refused request writes nothing");
    let body = form_body(&[("email", &unique_email()), ("purpose", "service")]);
    assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303, "server still serving");
}

on_both_backends! {
    async fn html_form_refusals(app: TestApp) {
        let email = unique_email();
        let cases: Vec<(&str, String, &str)> = vec![
            ("missing required field", form_body(&[("purpose", "service")]), "email-error"),
            ("invalid email", form_body(&[("email", "kim at example"), ("purpose", "service")]), "email-error"),
            ("required purpose not ticked", form_body(&[("email", &email)]), "purpose-service-error"),
            ("unknown field", form_body(&[("email", &email), ("shoe_size", "42"), ("purpose", "service")]), "shoe_size"),
            ("undeclared purpose", form_body(&[("email", &email), ("purpose", "service"), ("purpose", "analytics")]), "purpose-legend"),
            ("value over max length", form_body(&[("email", &email), ("name", &"가".repeat(101)), ("purpose", "service"), ("purpose", "personalisation")]), "name-error"),
        ];
        for (case, body, marker) in cases {
            let response = app.post_form("/f/newsletter", &body).await;
            assert_eq!(response.status(), 422, "{case}");
            let html = response.text().await.unwrap();
            assert!(html.contains(marker), "{case}: the page points at {marker}");
        }
        assert_nothing_written_and_still_serving(&app).await;
    }

    async fn html_transport_refusals(app: TestApp) {
        let big = format!("email=a%40b.example&purpose=service&name={}", "a".repeat(70 * 1024));
        let response = app.post_form("/f/newsletter", &big).await;
        assert_eq!(response.status(), 413);
        assert!(response.text().await.unwrap().contains("at most 64 KiB"));

        let response = app.post_raw("/f/newsletter", "application/x-www-form-urlencoded", b"email=a%40b.example&name=%FF%FE&purpose=service".to_vec()).await;
        assert_eq!(response.status(), 400, "invalid UTF-8 in an escape");
        let response = app.post_raw("/f/newsletter", "application/x-www-form-urlencoded", vec![b'e', b'=', 0xC3, 0x28]).await;
        assert_eq!(response.status(), 400, "invalid UTF-8 bytes");

        let response = app.post_raw("/f/newsletter", "text/plain", b"email=a%40b.example&purpose=service".to_vec()).await;
        assert_eq!(response.status(), 415);
        let response = app.post_raw("/f/newsletter", "application/x-www-form-urlencoded; charset=latin1", b"email=a%40b.example&purpose=service".to_vec()).await;
        assert_eq!(response.status(), 415, "only UTF-8 is accepted");
        assert_nothing_written_and_still_serving(&app).await;
    }

    async fn json_refusals(app: TestApp) {
        let path = "/api/v1/forms/newsletter/submissions";
        let email = unique_email();
        let validation_cases = [
            ("missing required field", json!({ "fields": {}, "purposes": ["service"] }), "email", "required"),
            ("invalid email", json!({ "fields": { "email": "x@" }, "purposes": ["service"] }), "email", "invalid_email"),
            ("required purpose not ticked", json!({ "fields": { "email": email }, "purposes": [] }), "purpose.service", "purpose_required"),
            ("unknown field", json!({ "fields": { "email": email, "ssn": "1" }, "purposes": ["service"] }), "ssn", "unknown_field"),
            ("undeclared purpose", json!({ "fields": { "email": email }, "purposes": ["service", "analytics"] }), "purpose", "unknown_purpose"),
            ("over max length", json!({ "fields": { "email": email, "name": "a".repeat(101) }, "purposes": ["service", "personalisation"] }), "name", "too_long"),
        ];
        for (case, body, field, code) in validation_cases {
            let response = app.post_json(path, &body).await;
            assert_eq!(response.status(), 422, "{case}");
            let problem = problem(response).await;
            assert_eq!(problem["code"], "validation_failed", "{case}");
            assert!(
                problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == field && e["code"] == code),
                "{case}: {problem}"
            );
        }

        let big = json!({ "fields": { "email": email, "name": "a".repeat(70 * 1024) }, "purposes": ["service"] });
        let response = app.post_json(path, &big).await;
        assert_eq!(response.status(), 413);
        assert_eq!(problem(response).await["code"], "payload_too_large");

        let response = app.post_raw(path, "application/json", vec![b'{', b'"', 0xFF, b'"', b':', b'1', b'}']).await;
        assert_eq!(response.status(), 400);
        assert_eq!(problem(response).await["code"], "invalid_utf8");

        let response = app.post_raw(path, "application/json", b"{\"fields\": {\"email\": ".to_vec()).await;
        assert_eq!(response.status(), 400);
        assert_eq!(problem(response).await["code"], "malformed_json");

        let response = app.post_raw(path, "application/x-www-form-urlencoded", b"email=a%40b.example".to_vec()).await;
        assert_eq!(response.status(), 415);
        assert_eq!(problem(response).await["code"], "unsupported_media_type");
        assert_nothing_written_and_still_serving(&app).await;
    }

    async fn sql_and_html_metacharacters_are_stored_verbatim_and_rendered_escaped(app: TestApp) {
        let email = unique_email();
        let nasty = "Robert'); DROP TABLE subjects;-- <script>alert(\"x\")</script> & \u{1F600}";
        let body = form_body(&[("email", &email), ("name", nasty), ("purpose", "service"), ("purpose", "personalisation")]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        assert_eq!(app.stored_values(&email, "name"), [nasty]);

        // Shown back after a mistake, it is escaped, never markup.
        let body = form_body(&[("email", "bad"), ("name", nasty), ("purpose", "service")]);
        let html = app.post_form("/f/newsletter", &body).await.text().await.unwrap();
        assert!(!html.contains("<script>alert"), "never rendered as markup");
        assert!(html.contains("DROP TABLE subjects;--"));

        let response = app
            .post_json("/api/v1/forms/newsletter/submissions", &json!({ "fields": { "email": email, "name": nasty }, "purposes": ["service", "personalisation"] }))
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(app.stored_values(&email, "name"), [nasty, nasty]);
    }
}
