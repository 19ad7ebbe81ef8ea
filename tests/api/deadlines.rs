//! Rights requests fall due under the configured regime (`ASSENT_RIGHTS_DEADLINE`: PIPA ten days,
//! GDPR one month) wherever the due date appears: the console, the exports and the API.

use crate::helpers::*;
use assent::domain::owner::Role;
use assent::domain::rights::Deadline;
use chrono::NaiveDateTime;
use serde_json::json;

/// When a request received at `received` is due under `regime`, computed here independently.
fn due(regime: Deadline, received: NaiveDateTime) -> NaiveDateTime {
    match regime {
        Deadline::Pipa => received + chrono::Duration::days(10),
        Deadline::Gdpr => received.checked_add_months(chrono::Months::new(1)).unwrap(),
        Deadline::Ccpa => received + chrono::Duration::days(45),
    }
}

fn at(value: &serde_json::Value) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(value.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f").unwrap()
}

/// Every rights request in a profile (API or export JSON) with its received and due times,
/// after checking the due time follows `regime`.
fn assert_due_dates(regime: Deadline, profile: &serde_json::Value, seen_in: &str) -> Vec<NaiveDateTime> {
    let requests = profile["rights_requests"].as_array().unwrap();
    assert!(!requests.is_empty(), "{seen_in}: {profile}");
    requests
        .iter()
        .map(|r| {
            let received = at(&r["received_at"]);
            assert_eq!(at(&r["due_at"]), due(regime, received), "{seen_in}: {r}");
            received
        })
        .collect()
}

async fn story(app: TestApp, regime: Deadline) {
    let key = app.api_key();
    let email = unique_email();
    let response = app
        .post_json_as_integrator(
            "/api/v1/forms/contact/submissions",
            &json!({ "fields": { "email": email, "name": "Lee", "message": "Hi" }, "purposes": ["service"] }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    let get = |path: String| app.client.get(app.url(&path)).bearer_auth(&key).send();

    // Reading records an access request; the next read shows it with its due date.
    assert_eq!(get(format!("/api/v1/subjects/{id}")).await.unwrap().status(), 200);
    let shown: serde_json::Value = get(format!("/api/v1/subjects/{id}")).await.unwrap().json().await.unwrap();
    assert_due_dates(regime, &shown, "API");
    let exported: serde_json::Value = get(format!("/api/v1/subjects/{id}/export")).await.unwrap().json().await.unwrap();
    assert_due_dates(regime, &exported, "API export");

    // The person's own export from the preference center says the same.
    let browser = app.sign_in(&email).await;
    let own = browser.get("/me/export.json").await;
    assert_eq!(own.status(), 200);
    let own: serde_json::Value = own.json().await.unwrap();
    let received = assert_due_dates(regime, &own, "preference-center export");

    let console = app.signed_in(Role::Owner).await;
    let html = console.page("/admin/rights?lang=en&view=self_service").await;
    assert!(html.contains(if regime == Deadline::Pipa { "PIPA: ten days" } else { "GDPR: one month" }));
    for received in received {
        let shown = due(regime, received).format("%Y-%m-%d %H:%M").to_string();
        assert!(html.contains(&shown), "console deadline {shown}: {html}");
    }
}

fn with(regime: Deadline) -> impl FnOnce(&mut assent::config::Settings) {
    move |settings| settings.rights_deadline = regime
}

mod under_pipa_a_request_is_due_ten_days_after_receipt_in_the_console_exports_and_api {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        story(TestApp::spawn_with(Backend::Sqlite, with(Deadline::Pipa)).await.unwrap(), Deadline::Pipa).await
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(app) = TestApp::spawn_with(Backend::Postgres, with(Deadline::Pipa)).await {
            story(app, Deadline::Pipa).await
        }
    }
}

mod under_gdpr_a_request_is_due_one_month_after_receipt_in_the_console_exports_and_api {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        story(TestApp::spawn_with(Backend::Sqlite, with(Deadline::Gdpr)).await.unwrap(), Deadline::Gdpr).await
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(app) = TestApp::spawn_with(Backend::Postgres, with(Deadline::Gdpr)).await {
            story(app, Deadline::Gdpr).await
        }
    }
}
