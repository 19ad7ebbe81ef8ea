//! Global Privacy Control (CCPA regulations § 7025): a request carrying `Sec-GPC: 1` cannot grant
//! a purpose that sells or shares data; it is recorded as the person's opt-out, with the signal as
//! evidence, and the consent check reports it.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends! {
    async fn the_gpc_signal_opts_out_of_selling_and_sharing_and_the_check_reports_it(app: TestApp) {
        let sells = |text: &str| {
            text.replacen("key = \"personalisation\"\nlegal_basis = \"consent\"", "key = \"personalisation\"\nlegal_basis = \"consent\"\nsale_or_share = true", 1)
        };
        app.apply_demo_edited(sells, "/f/newsletter?lang=en", "(v2)").await;
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

        let opted = app.consents_of(&key, &with_signal).await;
        assert_eq!(status_in(&opted, "personalisation"), "withdrawn", "{opted}");
        assert_eq!(status_in(&opted, "service"), "granted");
        assert_eq!(status_in(&app.consents_of(&key, &without).await, "personalisation"), "granted");

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
        assert_eq!(status_in(&app.consents_of(&key, &html).await, "personalisation"), "withdrawn");
    }
}
