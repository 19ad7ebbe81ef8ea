//! Security headers on every kind of response, a form's framing policy, HSTS under https only,
//! and cookies that scripts cannot read and other sites cannot send.

use crate::admin_helpers::*;
use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use serde_json::json;

const SHOP: &str = "http://shop.example:8000";

/// A page, a problem, a file: something of each kind the server answers.
async fn every_kind_of_response(app: &TestApp) -> Vec<(String, reqwest::Response)> {
    let email = unique_email();
    let submitted = app.post_form("/f/newsletter", &form_body(&[("email", &email), ("purpose", "service")])).await;
    assert_eq!(submitted.status(), 303);
    let thanks = submitted.headers()["location"].to_str().unwrap().to_owned();
    let mut responses = vec![("303 after a submission".to_owned(), submitted)];
    for path in [
        "/f/newsletter",
        thanks.as_str(),
        "/me",
        "/admin/login",
        "/static/assent.css",
        "/embed.js",
        "/healthz",
        "/.well-known/jwks.json",
        "/nowhere",
        "/f/no-such-form",
        "/api/v1/nowhere",
        "/api/v1/consents?email=a@b.example",
        "/api/v1/openapi.json",
        "/metrics",
    ] {
        responses.push((format!("GET {path}"), app.get(path).await));
    }
    let body = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
    responses.push(("API 201".into(), app.post_json("/api/v1/forms/newsletter/submissions", &body).await));
    let body = json!({ "fields": {}, "purposes": [] });
    responses.push(("API 422 problem".into(), app.post_json("/api/v1/forms/newsletter/submissions", &body).await));
    let bad = app.post_raw("/api/v1/forms/newsletter/submissions", "text/plain", b"x".to_vec()).await;
    responses.push(("API 415 problem".into(), bad));
    responses.push(("422 form page".into(), app.post_form("/f/newsletter", "email=nope").await));
    let not_allowed = app.client.put(app.url("/api/v1/consents")).send().await.unwrap();
    responses.push(("API 405 problem".into(), not_allowed));
    responses
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

/// The `frame-ancestors` sources of a CSP.
fn frame_ancestors(csp: &str) -> Vec<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("frame-ancestors "))
        .map(|sources| sources.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Lets `SHOP` embed the newsletter form and waits until the server has picked it up.
async fn allow_shop(app: &TestApp) {
    let original = std::fs::read_to_string(workspace_file()).unwrap();
    let edited = original.replacen("allowed_origins = []", &format!("allowed_origins = [\"{SHOP}\"]"), 1);
    let path = app.db.dir.path().join("shop.toml");
    std::fs::write(&path, edited).unwrap();
    let out = app.cli(&["apply", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The server re-reads the catalogue every 10 s; a loaded machine gets a minute.
    for _ in 0..300 {
        let csp = header(&app.get("/f/newsletter").await, "content-security-policy").unwrap();
        if csp.contains(SHOP) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the server did not pick up the allowed origin");
}

fn assert_cookie_is_guarded(what: &str, set_cookie: &str) {
    let attributes: Vec<String> = set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(attributes.iter().any(|a| a == "httponly"), "{what}: HttpOnly in {set_cookie}");
    assert!(
        attributes.iter().any(|a| a == "samesite=lax" || a == "samesite=strict"),
        "{what}: SameSite in {set_cookie}"
    );
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

on_both_backends! {
    async fn every_response_carries_the_security_headers(app: TestApp) {
        for (what, response) in every_kind_of_response(&app).await {
            let csp = header(&response, "content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
            assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
            assert!(!frame_ancestors(&csp).is_empty(), "{what}: frame-ancestors in {csp}");
            assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{what}");
            assert!(header(&response, "referrer-policy").is_some(), "{what}: Referrer-Policy");
            let permissions = header(&response, "permissions-policy").unwrap_or_else(|| panic!("{what}: no Permissions-Policy"));
            assert!(permissions.contains("camera=()") && permissions.contains("geolocation=()"), "{what}: {permissions}");
            assert_eq!(header(&response, "strict-transport-security"), None, "{what}: no HSTS over http");
        }
    }

    async fn a_form_page_may_be_framed_by_exactly_its_allowed_origins(app: TestApp) {
        let csp = header(&app.get("/f/newsletter").await, "content-security-policy").unwrap();
        assert_eq!(frame_ancestors(&csp), ["'self'"], "no allowed origins: only Assent itself");
        allow_shop(&app).await;
        let csp = header(&app.get("/f/newsletter").await, "content-security-policy").unwrap();
        assert_eq!(frame_ancestors(&csp), ["'self'", SHOP]);
        let csp = header(&app.get("/f/contact").await, "content-security-policy").unwrap();
        assert_eq!(frame_ancestors(&csp), ["'self'"], "another form keeps its own list");
        let csp = header(&app.get("/me").await, "content-security-policy").unwrap();
        assert_eq!(frame_ancestors(&csp), ["'none'"], "other pages are never framed");
    }

    async fn hsts_is_sent_when_the_base_url_is_https(app: TestApp) {
        let secure = TestApp::spawn_with(app.db.backend, |s| s.base_url = "https://assent.example".into())
            .await
            .expect("backend available");
        for (what, response) in every_kind_of_response(&secure).await {
            let hsts = header(&response, "strict-transport-security").unwrap_or_else(|| panic!("{what}: no HSTS"));
            assert!(hsts.starts_with("max-age="), "{what}: {hsts}");
        }
    }

    async fn session_cookies_are_http_only_and_same_site(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service")]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        assert_eq!(app.post_form("/me?lang=en", &form_body(&[("email", &email)])).await.status(), 200);
        let link = app.wait_for_mail(&email, "Your link to manage your data").await.link("/me/login");
        let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        // Login CSRF: another site posting someone's link (say its own) signs nobody in, and the
        // link stays unused.
        let forged = app
            .client
            .post(app.url("/me/login?lang=en"))
            .header("origin", "https://attacker.example")
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("token", &token)]))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert!(set_cookies(&forged).is_empty(), "no session from another site's post");
        let signed_in = app.post_form("/me/login?lang=en", &form_body(&[("token", &token)])).await;
        assert_eq!(signed_in.status(), 303);
        let cookies = set_cookies(&signed_in);
        assert!(!cookies.is_empty(), "the preference center sets a session cookie");
        for cookie in &cookies {
            assert_cookie_is_guarded("/me session", cookie);
        }

        let login_page = app.get("/admin/login?lang=en").await;
        for cookie in set_cookies(&login_page) {
            assert_cookie_is_guarded("/admin/login", &cookie);
        }
        let console = app.console();
        let owner = app.owner(Role::Owner);
        let response = console.sign_in(&owner, PASSWORD).await;
        assert_eq!(response.status(), 303);
        let cookies = set_cookies(&response);
        assert!(cookies.iter().any(|c| c.starts_with("assent_admin=")), "{cookies:?}");
        for cookie in &cookies {
            assert_cookie_is_guarded("/admin session", cookie);
        }
    }
}
