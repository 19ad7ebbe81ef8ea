//! 정보통신망법 art. 50(3): advertising between 21:00 and 08:00 needs its own consent. The consent
//! check (single and bulk) answers, per purpose, `may_send_now` in the workspace's time zone (or
//! at a given `at`), so a CRM asks one question.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

const NIGHT: &str = "2026-12-05T22:30:00%2B09:00";
const NOON: &str = "2026-12-05T03:00:00Z";

fn may_send(answer: &Value, purpose: &str) -> bool {
    let consents = answer["consents"].as_array().unwrap();
    consents.iter().find(|c| c["purpose"] == purpose).unwrap()["may_send_now"].as_bool().unwrap()
}

async fn check(app: &TestApp, key: &str, query: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("/api/v1/consents?{query}"))).bearer_auth(key).send().await.unwrap()
}

on_both_backends! {
    async fn texts_wait_for_the_morning_unless_the_night_was_agreed_to(app: TestApp) {
        let key = app.api_key();
        let email = unique_email();
        let body = json!({ "fields": { "email": email, "name": "Kim", "message": "Hi", "phone": "010-5555-6666" }, "purposes": ["service", "marketing_sms"] });
        assert_eq!(app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await.status(), 201);
        let address = email.replace('+', "%2B");

        let night: Value = check(&app, &key, &format!("email={address}&at={NIGHT}")).await.json().await.unwrap();
        assert!(!may_send(&night, "marketing_sms"), "22:30 in Seoul: {night}");
        assert!(may_send(&night, "service"), "a purpose that sends nothing is not held back");
        assert!(!may_send(&night, "marketing_email"), "never granted");
        let noon: Value = check(&app, &key, &format!("email={address}&at={NOON}")).await.json().await.unwrap();
        assert!(may_send(&noon, "marketing_sms"), "noon in Seoul: {noon}");
        // Asked again (answered from the consent cache, which keeps a rendered answer for the
        // day and one for the night), each time still gets its own answer.
        for (at, expected) in [(NIGHT, false), (NOON, true), (NIGHT, false), (NOON, true)] {
            let again: Value = check(&app, &key, &format!("email={address}&at={at}")).await.json().await.unwrap();
            assert_eq!(may_send(&again, "marketing_sms"), expected, "at {at}: {again}");
            assert_eq!(again["consents"], if expected { noon["consents"].clone() } else { night["consents"].clone() });
        }
        let bad = check(&app, &key, &format!("email={address}&at=tonight")).await;
        assert_eq!(bad.status(), 400);
        assert_eq!(problem(bad).await["code"], "invalid_query");

        let bulk = |at: &str| json!({ "identifiers": [{ "email": email }], "at": at.replace("%2B", "+") });
        let answered: Value = app.client.post(app.url("/api/v1/consents/query")).bearer_auth(&key).json(&bulk(NIGHT)).send().await.unwrap().json().await.unwrap();
        assert!(!may_send(&answered["results"][0], "marketing_sms"), "{answered}");

        // The wording now covers the night (a new policy version): a consent given under it
        // may be acted on at 22:30; the one given before may not, until given again.
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let edited = original.replacen("key = \"marketing_sms\"\nlegal_basis = \"consent\"\nchannel = \"sms\"", "key = \"marketing_sms\"\nlegal_basis = \"consent\"\nchannel = \"sms\"\nnight_time = true", 1);
        assert_ne!(edited, original);
        let path = app.db.dir.path().join("night.toml");
        std::fs::write(&path, edited).unwrap();
        let out = app.cli(&["apply", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let later = unique_email();
        let body = json!({ "fields": { "email": later, "name": "Park", "message": "Hi", "phone": "010-7777-8888" }, "purposes": ["service", "marketing_sms"] });
        eventually("the server offers the night-time wording", || async {
            app.get("/f/contact?lang=en").await.text().await.unwrap().contains("(v2)")
        })
        .await;
        assert_eq!(app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await.status(), 201);
        let later_address = later.replace('+', "%2B");
        let night: Value = check(&app, &key, &format!("email={later_address}&at={NIGHT}")).await.json().await.unwrap();
        assert!(may_send(&night, "marketing_sms"), "given under the night-time wording: {night}");
        let before: Value = check(&app, &key, &format!("email={address}&at={NIGHT}")).await.json().await.unwrap();
        assert!(!may_send(&before, "marketing_sms"), "agreed before the night was in the wording: {before}");
    }
}
