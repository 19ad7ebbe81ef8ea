//! The preference center keeps a person's session and page data between views
//! (`services::person_cache`), and never shows what was there before a change, whichever way
//! the change came: another form's submission, the integrator's API, another server, signing out.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

/// Signs someone up through the integrator's API (values stored at once); answers the subject id.
async fn submit(app: &TestApp, server: &str, email: &str, name: &str) -> String {
    let body = json!({ "fields": { "email": email, "name": name }, "purposes": ["service", "personalisation"] });
    let url = format!("{server}/api/v1/forms/newsletter/submissions");
    let created = app.client.post(url).bearer_auth(app.integrator_key()).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201);
    created.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

/// Grants or withdraws `personalisation` through the subject API of `server`.
async fn set_personalisation(app: &TestApp, server: &str, subject_id: &str, action: &str) {
    let url = format!("{server}/api/v1/subjects/{subject_id}/consents");
    let body = json!({ "purpose": "personalisation", "action": action });
    let response = app.client.post(url).bearer_auth(app.api_key()).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "{action}");
}

/// How many times the page says a purpose was withdrawn (its state and its history).
fn withdrawals(page: &str) -> usize {
    page.matches("Withdrawn").count()
}

on_both_backends! {
    async fn the_page_never_shows_what_was_before_a_change(app: TestApp) {
        let email = unique_email();
        let subject_id = submit(&app, &app.address, &email, "Minji Kim").await;
        let browser = app.sign_in(&email).await;
        let page = || async { browser.get("/me?lang=en").await.text().await.unwrap() };
        let first = page().await;
        assert!(first.contains("Minji Kim") && withdrawals(&first) == 0, "{first}");
        assert_eq!(page().await, first, "viewed again: the same page, from what was kept");

        // Another submission (the recorder's path): its values are on the next view.
        submit(&app, &app.address, &email, "Minji Lee").await;
        assert!(page().await.contains("Minji Lee"), "a value submitted since is shown");

        // A correction (it writes the values alone, and the audit log no cache reads).
        let csrf = browser.csrf().await;
        let fix = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "name"), ("value", "Minji Park")])).await;
        assert_eq!(fix.status(), 303);
        let corrected = page().await;
        assert!(corrected.contains("Minji Park") && !corrected.contains("Minji Lee"), "the correction is shown");

        // A consent withdrawn through the subject API (the door): the state and the history.
        set_personalisation(&app, &app.address, &subject_id, "withdraw").await;
        let withdrawn = withdrawals(&page().await);
        assert!(withdrawn >= 2, "the withdrawal is in the state and the history ({withdrawn})");

        // An external id attached by the integrator.
        let url = app.url(&format!("/api/v1/subjects/{subject_id}/external-id"));
        let put = app.client.put(url).bearer_auth(app.integrator_key()).json(&json!({ "external_id": "CRM-4242" }));
        assert!(put.send().await.unwrap().status().is_success());
        assert!(page().await.contains("CRM-4242"), "the external id attached since is shown");

        // Another server (another process on the same database) grants it again: this server's
        // kept page gives way within moments (SQLite: the writer's next look at the file; on
        // PostgreSQL: the notification). The state is no longer withdrawn; the history still says so.
        let other = app.another_server().await;
        set_personalisation(&app, &other, &subject_id, "grant").await;
        eventually("the page kept showing the state from before another server's change", || async {
            withdrawals(&page().await) == withdrawn - 1
        })
        .await;

        // Signing out ends the session kept in memory too: the old cookie opens nothing.
        let cookie = browser.session_cookie().unwrap();
        let csrf = browser.csrf().await;
        let out = browser.post("/me/logout?lang=en", &form_body(&[("_csrf", &csrf)])).await;
        assert!(out.status().is_success() || out.status().is_redirection(), "{}", out.status());
        let again = app.client.get(app.url("/me?lang=en")).header("cookie", cookie).send().await.unwrap();
        let html = again.text().await.unwrap();
        assert!(html.contains("Send me a sign-in link") && !html.contains("Minji Park"), "the old cookie still opens the page");
    }
}
