//! Putting a form on the owner's own site: CORS for the JSON API, the redirect back after a plain
//! HTML form post, and the scripts that resize an embedding iframe.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

const SHOP: &str = "http://shop.example:8000";

/// Lets `SHOP` embed and call the newsletter form, and waits until the server has picked it up.
async fn allow_shop(app: &TestApp) {
    let original = std::fs::read_to_string(workspace_file()).unwrap();
    let edited = original.replacen("allowed_origins = []", &format!("allowed_origins = [\"{SHOP}\"]"), 1);
    let path = app.db.dir.path().join("shop.toml");
    std::fs::write(&path, edited).unwrap();
    let out = app.cli(&["apply", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for _ in 0..100 {
        let response = app.get("/f/newsletter").await;
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        if csp.contains(SHOP) {
            assert!(csp.contains(&format!("frame-ancestors 'self' {SHOP}")), "{csp}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the server did not pick up the allowed origin");
}

fn submission(email: &str) -> serde_json::Value {
    json!({ "fields": { "email": email }, "purposes": ["service"] })
}

async fn post_from(app: &TestApp, origin: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/forms/newsletter/submissions"))
        .header("origin", origin)
        .json(&submission(email))
        .send()
        .await
        .unwrap()
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/forms/newsletter/submissions"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn cors_headers(response: &reqwest::Response) -> Vec<String> {
    response.headers().keys().map(|k| k.as_str().to_owned()).filter(|k| k.starts_with("access-control-")).collect()
}

on_both_backends! {
    async fn an_allowed_origin_may_call_the_json_api_from_a_browser(app: TestApp) {
        allow_shop(&app).await;
        let response = preflight(&app, SHOP).await;
        assert_eq!(response.status(), 204);
        let h = response.headers();
        assert_eq!(h["access-control-allow-origin"], SHOP);
        assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
        assert!(h["access-control-allow-headers"].to_str().unwrap().contains("content-type"));
        assert!(h["vary"].to_str().unwrap().to_ascii_lowercase().contains("origin"));

        let response = post_from(&app, SHOP, &unique_email()).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["access-control-allow-origin"], SHOP);
        assert!(response.headers()["vary"].to_str().unwrap().to_ascii_lowercase().contains("origin"));
    }

    async fn any_other_origin_gets_no_cors_headers_and_its_preflight_is_refused(app: TestApp) {
        allow_shop(&app).await;
        for other in ["http://evil.example", "http://shop.example", "null"] {
            let response = preflight(&app, other).await;
            assert_eq!(response.status(), 403, "{other}");
            assert!(cors_headers(&response).is_empty(), "{other}: {:?}", cors_headers(&response));
            assert_eq!(problem(response).await["code"], "cors_origin_not_allowed");
        }
        let response = post_from(&app, "http://evil.example", &unique_email()).await;
        assert!(cors_headers(&response).is_empty(), "{:?}", cors_headers(&response));

        // The contact form allows no origin at all, and an unknown form is not found.
        let response = app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/forms/contact/submissions"))
            .header("origin", SHOP)
            .send().await.unwrap();
        assert_eq!(response.status(), 403);
        let response = app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/forms/nope/submissions"))
            .header("origin", SHOP)
            .send().await.unwrap();
        assert_eq!(problem(response).await["code"], "form_not_found");
    }

    async fn a_plain_html_form_is_sent_back_only_to_an_allowed_origin(app: TestApp) {
        allow_shop(&app).await;
        let back = format!("{SHOP}/thanks?from=assent");
        let body = form_body(&[("email", &unique_email()), ("purpose", "service"), ("redirect", &back)]);
        let response = app.post_form("/f/newsletter?lang=en", &body).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], back.as_str());

        // As a query parameter too.
        let query = form_body(&[("lang", "en"), ("redirect", &back)]);
        let body = form_body(&[("email", &unique_email()), ("purpose", "service")]);
        let response = app.post_form(&format!("/f/newsletter?{query}"), &body).await;
        assert_eq!(response.headers()["location"], back.as_str());

        // Anywhere else is ignored: Assent's own thank-you page.
        for elsewhere in ["https://evil.example/", "//evil.example/", "/admin", "javascript:alert(1)"] {
            let body = form_body(&[("email", &unique_email()), ("purpose", "service"), ("redirect", elsewhere)]);
            let response = app.post_form("/f/newsletter?lang=en", &body).await;
            assert_eq!(response.status(), 303, "{elsewhere}");
            let location = response.headers()["location"].to_str().unwrap();
            assert!(location.starts_with("/f/newsletter/thanks"), "{elsewhere} -> {location}");
        }
    }

    async fn a_mistake_re_renders_the_form_and_keeps_the_way_back(app: TestApp) {
        allow_shop(&app).await;
        let back = format!("{SHOP}/thanks");
        let body = form_body(&[("email", "not an address"), ("purpose", "service"), ("redirect", &back)]);
        let response = app.post_form("/f/newsletter?lang=en", &body).await;
        assert_eq!(response.status(), 422);
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains(&format!("form-action 'self' {SHOP}")), "the way back is a permitted form target: {csp}");
        let html = response.text().await.unwrap();
        assert!(html.contains(&format!(r#"<input type="hidden" name="redirect" value="{back}">"#)), "{html}");
        assert!(!html.contains("unknown_field") && !html.contains("redirect:"), "redirect is not a field");
    }

    async fn the_embedding_scripts_are_served_and_speak_the_same_message(app: TestApp) {
        let embed = app.get("/embed.js").await;
        assert_eq!(embed.status(), 200);
        assert!(embed.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
        let embed = embed.text().await.unwrap();
        assert!(embed.contains("assent:height") && embed.contains("event.origin !== origin"));
        let frame = app.get("/static/frame.js").await.text().await.unwrap();
        assert!(frame.contains(r#"type: "assent:height""#));
        let form = app.get("/f/newsletter").await.text().await.unwrap();
        assert!(form.contains(r#"<script src="/static/frame.js" defer></script>"#));
        let thanks = app.get("/f/newsletter/thanks").await.text().await.unwrap();
        assert!(thanks.contains(r#"<script src="/static/frame.js" defer></script>"#));
    }
}
