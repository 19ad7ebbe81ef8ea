//! What any visitor meets before any form: a page at `/` naming who runs the site, a footer on
//! every public page (the business, its privacy contact, the way to the preference center), a
//! 404 with a way back, a favicon, and HTTP as RFC 9110 has it (HEAD on every GET route, `Allow`
//! naming HEAD, 414 for an over-long target), and times shown in the workspace's time zone.

use crate::helpers::*;
use crate::on_both_backends;

/// The controller assent.toml declares.
const BUSINESS: &str = "Assent Demo Shop Co., Ltd.";

on_both_backends! {
    async fn the_start_page_and_every_public_page_say_who_runs_the_site(app: TestApp) {
        for (lang, me) in [("en", "See and manage your data"), ("ko", "내 정보 확인 및 관리"), ("ja", "情報の確認と管理")] {
            let home = app.get(&format!("/?lang={lang}")).await;
            assert_eq!(home.status(), 200);
            let html = home.text().await.unwrap();
            assert!(html.contains(BUSINESS) && html.contains(me), "{lang}: {html}");
            assert!(html.contains(&format!(r#"href="/me?lang={lang}""#)));
            assert!(html.contains("mailto:privacy@shop.example"), "the privacy contact, as a link");
        }
        let submitted = app.post_form("/f/newsletter", &form_body(&[("email", &unique_email()), ("purpose", "service")])).await;
        let thanks = submitted.headers()["location"].to_str().unwrap().to_owned();
        for path in ["/f/newsletter?lang=en", thanks.as_str(), "/me?lang=en", "/policies/service/v1?lang=en"] {
            let html = app.get(path).await.text().await.unwrap();
            assert!(html.contains(BUSINESS), "{path} names the business");
            assert!(html.contains(r#"href="/me?lang=en""#), "{path} leads to the preference center");
            assert!(html.contains(r#"rel="icon""#), "{path} has an icon");
        }
        let missing = app.get("/nowhere?lang=ko").await;
        assert_eq!(missing.status(), 404);
        assert!(missing.text().await.unwrap().contains(r#"<a href="/?lang=ko">첫 화면으로 가기</a>"#), "a way back");
        let icon = app.get("/favicon.ico").await;
        assert_eq!(icon.status(), 200);
        assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    }

    async fn head_is_answered_on_every_get_route_and_allow_names_it(app: TestApp) {
        for path in ["/", "/f/newsletter", "/me", "/admin/login", "/api/v1/openapi.json", "/static/assent.css", "/policies/service/v1", "/healthz"] {
            let get = app.client.get(app.url(path)).send().await.unwrap();
            let head = app.client.head(app.url(path)).send().await.unwrap();
            assert_eq!(head.status(), get.status(), "HEAD {path}");
            assert_eq!(head.headers().get("content-type"), get.headers().get("content-type"), "HEAD {path}");
            assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
        }
        let wrong = app.client.delete(app.url("/f/newsletter")).send().await.unwrap();
        assert_eq!(wrong.status(), 405);
        let allow = wrong.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET") && allow.contains("HEAD") && allow.contains("POST"), "{allow}");
        for path in ["/", "/policies/service/v1", "/static/assent.css", "/me/export.json", "/.well-known/jwks.json"] {
            let wrong = app.client.delete(app.url(path)).send().await.unwrap();
            assert_eq!(wrong.status(), 405, "DELETE {path}");
            assert_eq!(wrong.headers()["allow"], "GET, HEAD", "DELETE {path}");
        }
        let wrong = app.client.get(app.url("/me/logout")).send().await.unwrap();
        assert_eq!((wrong.status().as_u16(), wrong.headers()["allow"].to_str().unwrap()), (405, "POST"));
        // The console too, signed in or not: a path it has, asked with a method it does not answer.
        for (method, path, allow) in [
            ("PUT", "/admin/forms/newsletter/draft", "POST"),
            ("GET", "/admin/forms/newsletter/draft", "POST"),
            ("DELETE", "/admin", "GET, HEAD"),
            ("PATCH", "/admin/webhooks", "GET, POST, HEAD"),
            ("DELETE", "/admin/forms/newsletter/preview", "GET, POST, HEAD"),
            ("PUT", "/admin/rights/new", "GET, POST, HEAD"),
        ] {
            let wrong = app.client.request(method.parse().unwrap(), app.url(path)).send().await.unwrap();
            assert_eq!(wrong.status(), 405, "{method} {path}");
            assert_eq!(wrong.headers()["allow"], allow, "{method} {path}");
        }
    }

    async fn the_location_of_a_created_submission_resolves(app: TestApp) {
        let created = app
            .post_json_as_integrator(
                "/api/v1/forms/contact/submissions",
                &serde_json::json!({ "fields": { "email": unique_email(), "name": "Lee", "message": "Hi" }, "purposes": ["service"] }),
            )
            .await;
        assert_eq!(created.status(), 201);
        let location = created.headers()["location"].to_str().unwrap().to_owned();
        let subject = created.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/api/v1/subjects/{subject}"));
        let followed = app.client.get(app.url(&location)).bearer_auth(app.api_key()).send().await.unwrap();
        assert_eq!(followed.status(), 200, "GET {location}");
    }

    async fn an_over_long_request_target_gets_414(app: TestApp) {
        let long = format!("/f/newsletter?x={}", "a".repeat(20_000));
        let response = app.get(&long).await;
        assert_eq!(response.status(), 414);
        assert_eq!(problem(response).await["code"], "uri_too_long");
        assert_eq!(app.get(&format!("/f/newsletter?x={}", "a".repeat(4_000))).await.status(), 200, "a long but fair one is served");
    }

    async fn the_preference_center_shows_times_in_the_workspace_time_zone(app: TestApp) {
        let email = unique_email();
        let submitted = app.post_form("/f/newsletter", &form_body(&[("email", &email), ("purpose", "service")])).await;
        assert_eq!(submitted.status(), 303);
        let browser = app.sign_in(&email).await;
        let html = browser.get("/me?lang=en").await.text().await.unwrap();
        assert!(html.contains("(UTC+09:00)"), "Asia/Seoul by default, named: {html}");
        assert!(!html.contains("(UTC)") && !html.contains("When (UTC)"));
        assert!(!html.contains(">newsletter · "), "the form by its title, not its key");
        let stamp = html.split(r#"<time datetime=""#).nth(1).unwrap().split('"').next().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with("+09:00"), "{stamp}");
    }
}
