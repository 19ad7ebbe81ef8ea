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

/// A form post as a browser sends it: with whichever of `Origin`, `Sec-Fetch-Site` and `Referer`
/// are given.
async fn browser_post(app: &TestApp, path: &str, headers: &[(&str, &str)], email: &str) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("email", email), ("purpose", "service")]));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
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

    async fn a_form_post_from_another_site_is_refused_with_a_page_and_writes_nothing(app: TestApp) {
        allow_shop(&app).await;
        let before = app.row_counts();
        let refused: [&[(&str, &str)]; 6] = [
            &[("origin", "http://evil.example"), ("sec-fetch-site", "cross-site"), ("referer", "http://evil.example/win")],
            &[("origin", "http://evil.example")],
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
            &[("origin", "http://shop.example")],
            &[("referer", "http://evil.example/page")],
            &[("sec-fetch-site", "cross-site")],
        ];
        for headers in refused {
            let response = browser_post(&app, "/f/newsletter?lang=en", headers, &unique_email()).await;
            assert_eq!(response.status(), 403, "{headers:?}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{headers:?}");
            let html = response.text().await.unwrap();
            assert!(html.contains(r#"<html lang="en""#) && html.contains("This form can only be sent from its own page"), "{html}");
        }
        let korean = browser_post(&app, "/f/newsletter?lang=ko", refused[0], &unique_email()).await;
        assert_eq!(korean.status(), 403);
        assert!(korean.text().await.unwrap().contains("이 양식은 양식 페이지나 운영자가 허용한 사이트에서만 보낼 수 있습니다"));
        // The contact form allows no other site at all.
        let contact = browser_post(&app, "/f/contact?lang=en", &[("origin", SHOP), ("sec-fetch-site", "cross-site")], &unique_email()).await;
        assert_eq!(contact.status(), 403);
        assert_eq!(app.row_counts(), before, "a refused post writes nothing");
    }

    async fn the_form_page_the_iframe_and_the_snippet_on_an_allowed_site_may_post(app: TestApp) {
        allow_shop(&app).await;
        let own = app.address.clone();
        let accepted: [&[(&str, &str)]; 6] = [
            // The form page or the embedded iframe, both served by Assent (the test server's base
            // URL is http://127.0.0.1, its address has a port: the browser's word decides).
            &[("origin", &own), ("sec-fetch-site", "same-origin"), ("referer", &own)],
            &[("origin", "http://127.0.0.1")],
            // The plain HTML snippet on the shop's own page.
            &[("origin", SHOP), ("sec-fetch-site", "cross-site"), ("referer", "http://shop.example:8000/signup")],
            // An older browser that sends only a Referer.
            &[("referer", "http://shop.example:8000/signup")],
            // Not a browser at all (curl, a server-side integration).
            &[],
            &[("sec-fetch-site", "none")],
        ];
        for headers in accepted {
            let email = unique_email();
            let response = browser_post(&app, "/f/newsletter?lang=en", headers, &email).await;
            assert_eq!(response.status(), 303, "{headers:?}");
            assert_eq!(app.stored_values(&email, "email"), std::slice::from_ref(&email), "{headers:?}");
        }
    }
}
