//! Global Privacy Control (CCPA regulations § 7025): a request carrying `Sec-GPC: 1` cannot grant
//! a purpose that sells or shares data; it is recorded as the person's opt-out, with the signal as
//! evidence, and the consent check reports it.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

/// The demo workspace with `personalisation` marked as selling or sharing data, applied, and
/// served.
async fn personalisation_sells(app: &TestApp) {
    let original = std::fs::read_to_string(workspace_file()).unwrap();
    let edited = original.replacen(
        "key = \"personalisation\"\nlegal_basis = \"consent\"",
        "key = \"personalisation\"\nlegal_basis = \"consent\"\nsale_or_share = true",
        1,
    );
    assert_ne!(edited, original);
    let path = app.db.dir.path().join("gpc.toml");
    std::fs::write(&path, edited).unwrap();
    let out = app.cli(&["apply", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eventually("the server serves the new terms", || async {
        app.get("/f/newsletter?lang=en").await.text().await.unwrap().matches("(v2)").count() == 1
    })
    .await;
}

async fn check(app: &TestApp, key: &str, email: &str) -> Value {
    let url = app.url(&format!("/api/v1/consents?email={}", email.replace('+', "%2B")));
    app.client.get(url).bearer_auth(key).send().await.unwrap().json::<Value>().await.unwrap()
}

fn state_of(answer: &Value, purpose: &str) -> String {
    let consents = answer["consents"].as_array().unwrap();
    consents.iter().find(|c| c["purpose"] == purpose).unwrap()["status"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn the_gpc_signal_opts_out_of_selling_and_sharing_and_the_check_reports_it(app: TestApp) {
        personalisation_sells(&app).await;
        let key = app.api_key();
        let submit = |email: &str, gpc: bool| {
            let body = json!({ "fields": { "email": email, "name": "Lee" }, "purposes": ["service", "personalisation"] });
            let mut request = app.client.post(app.url("/api/v1/forms/newsletter/submissions")).json(&body);
            if gpc {
                request = request.header("sec-gpc", "1");
            }
            request.send()
        };
        let (with_signal, without) = (unique_email(), unique_email());
        let answered = submit(&with_signal, true).await.unwrap();
        assert_eq!(answered.status(), 201);
        let answered: Value = answered.json().await.unwrap();
        assert_eq!(answered["dropped_fields"], json!(["name"]), "the name served only the refused purpose");
        let plain: Value = submit(&without, false).await.unwrap().json().await.unwrap();
        assert!(plain["dropped_fields"].as_array().unwrap().is_empty());

        let opted = check(&app, &key, &with_signal).await;
        assert_eq!(state_of(&opted, "personalisation"), "withdrawn", "{opted}");
        assert_eq!(state_of(&opted, "service"), "granted");
        assert_eq!(state_of(&check(&app, &key, &without).await, "personalisation"), "granted");

        // The opt-out is in the ledger with the signal as its evidence.
        let subject = opted["subject_id"].as_str().unwrap();
        let events = assent::db::ledger::for_subject(&mut app.conn(), subject).unwrap();
        let opt_out = events.iter().find(|e| e.purpose_key == "personalisation").unwrap();
        assert_eq!(opt_out.action, "withdrawn");
        assert!(app.open_evidence(opt_out).gpc);
        assert!(app.stored_values(&with_signal, "name").is_empty());

        // The HTML form obeys the signal too.
        let html = unique_email();
        let body = form_body(&[("email", &html), ("name", "Kim"), ("purpose", "service"), ("purpose", "personalisation")]);
        let posted = app.client.post(app.url("/f/newsletter")).header("content-type", "application/x-www-form-urlencoded").header("sec-gpc", "1").body(body).send().await.unwrap();
        assert_eq!(posted.status(), 303);
        assert_eq!(state_of(&check(&app, &key, &html).await, "personalisation"), "withdrawn");
    }
}
