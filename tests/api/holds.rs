//! Data the law says to keep (PIPA art. 21(1) proviso and 21(3), 전자상거래법 art. 6): a value
//! bound to a purpose with a statutory retention obligation outlives withdrawal and erasure in
//! restricted storage, which only a privacy officer opens (audited), the consent check answers
//! `restricted`, the person is told what is kept under which law until when, and the retention
//! pass destroys it when the obligation ends.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

/// The demo workspace with `marketing_sms` (the phone number) under the advertising-records
/// preset (6 months), applied and served.
async fn sms_records_kept(app: &TestApp) {
    let kept = |text: &str| {
        let purpose = "key = \"marketing_sms\"\nlegal_basis = \"consent\"";
        text.replacen(purpose, &format!("{purpose}\nretention_obligation = \"advertising_records\""), 1)
    };
    app.apply_demo_edited(kept, "/f/newsletter?lang=en", "(v2)").await;
}

async fn subject_with_phone(app: &TestApp, email: &str) -> String {
    let body = json!({ "fields": { "email": email, "name": "Lee", "message": "Hi", "phone": "010-7777-8888" }, "purposes": ["service", "marketing_sms"] });
    let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

fn held_rows(app: &TestApp) -> (i64, i64) {
    use assent::db::schema::{held_values, hold_keys};
    use diesel::prelude::*;
    let mut conn = app.conn();
    (held_values::table.count().get_result(&mut conn).unwrap(), hold_keys::table.count().get_result(&mut conn).unwrap())
}

on_both_backends! {
    async fn what_a_law_obliges_outlives_withdrawal_and_erasure_restricted_until_it_ends(app: TestApp) {
        sms_records_kept(&app).await;
        let key = app.api_key();
        let email = unique_email();
        let id = subject_with_phone(&app, &email).await;
        let path = format!("/api/v1/subjects/{id}");

        // Withdrawn: the phone leaves the person's data but is held, restricted.
        let withdrawn = app.client.post(app.url(&format!("{path}/consents"))).bearer_auth(&key)
            .json(&json!({ "purpose": "marketing_sms", "action": "withdraw" })).send().await.unwrap();
        assert_eq!(withdrawn.status(), 200);
        assert!(app.stored_values(&email, "phone").is_empty(), "no list, search or export reads it");
        assert_eq!(held_rows(&app), (1, 1));
        let answer = app.consents_of(&key, &email).await;
        let sms = consent_in(&answer, "marketing_sms");
        assert_eq!(sms["status"], "restricted", "{answer}");
        assert_eq!(sms["may_send_now"], false);
        let until: chrono::DateTime<Utc> = sms["expires_at"].as_str().unwrap().parse().unwrap();
        assert!((until - (Utc::now() + Duration::days(183))).num_days().abs() <= 3, "six months from the record: {until}");
        assert_eq!(consent_in(&answer, "service")["status"], "granted");

        // The export says what is kept, under which law and until when, but not the value.
        let export = app.client.get(app.url(&format!("{path}/export"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
        let export: Value = serde_json::from_str(&export).unwrap();
        let kept = &export["kept_by_law"][0];
        assert_eq!(kept["purpose"], "marketing_sms");
        assert_eq!(kept["items"], json!(["phone"]));
        assert!(kept["law"].as_str().unwrap().contains("전자상거래법 제6조"));
        assert!(!export.to_string().contains("010-7777-8888"));

        // Only a privacy officer opens it; the look is audited.
        for role in [Role::Owner, Role::Editor, Role::Analyst] {
            let console = app.signed_in(role).await;
            assert_eq!(console.get("/admin/held").await.status(), 403);
            assert_eq!(console.get(&format!("/admin/held/{id}")).await.status(), 403);
        }
        let officer = app.signed_in(Role::PrivacyOfficer).await;
        let list = officer.page("/admin/held?lang=en").await;
        assert!(list.contains(&id) && !list.contains("010-7777-8888"), "the list names no value");
        let opened = officer.page(&format!("/admin/held/{id}?lang=en")).await;
        assert!(opened.contains("010-7777-8888"));
        assert!(audit_of(&app, &id).contains(&"view_held".to_owned()));

        // Erased: the held phone stays (the person's own key is gone, the copy opens it), the
        // check still answers restricted for the address, and the answer names what is kept.
        let erased = app.client.delete(app.url(&path)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(erased.status(), 200);
        let erased: Value = erased.json().await.unwrap();
        assert_eq!(erased["kept_by_law"][0]["items"], json!(["phone"]));
        let answer = app.consents_of(&key, &email).await;
        assert_eq!(answer["subject_id"], Value::Null);
        assert_eq!(consent_in(&answer, "marketing_sms")["status"], "restricted", "{answer}");
        assert_eq!(consent_in(&answer, "service")["status"], "never");
        assert!(officer.page(&format!("/admin/held/{id}?lang=en")).await.contains("010-7777-8888"));
        let bulk: Value = app.client.post(app.url("/api/v1/consents/query")).bearer_auth(&key)
            .json(&json!({ "identifiers": [{ "email": email }] })).send().await.unwrap().json().await.unwrap();
        assert_eq!(bulk["results"][0]["consents"], answer["consents"], "the bulk check answers the same: {bulk}");
        let mail = app.wait_for_mail(&email, "Your data has been deleted").await;
        assert!(mail.text.contains("전자상거래법 제6조") && mail.text.contains("except the records below"), "{}", mail.text);

        // The retention pass destroys it when the obligation ends, and nothing is left.
        let later = (Utc::now() + Duration::days(200)).to_rfc3339();
        let out = app.cli(&["retention", "run", "--now", &later]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("held_values_destroyed") || held_rows(&app) == (0, 0));
        assert_eq!(held_rows(&app), (0, 0));
        assert_eq!(consent_in(&app.consents_of(&key, &email).await, "marketing_sms")["status"], "never");
        assert!(audit_of(&app, &id).contains(&"held_data.destroyed".to_owned()));
    }

    async fn the_person_is_told_what_is_kept_on_their_page_and_when_they_delete(app: TestApp) {
        sms_records_kept(&app).await;
        let email = unique_email();
        subject_with_phone(&app, &email).await;
        let browser = app.sign_in(&email).await;
        let csrf = browser.csrf().await;
        let response = browser.post("/me/consents?lang=en", &form_body(&[("_csrf", &csrf), ("purpose", "marketing_sms"), ("action", "withdraw")])).await;
        assert!(response.status().is_success() || response.status().is_redirection());
        let page = browser.get("/me?lang=en").await.text().await.unwrap();
        assert!(page.contains("Kept because a law requires it"), "{page}");
        assert!(page.contains("전자상거래법 제6조"));
        let korean = browser.get("/me?lang=ko").await.text().await.unwrap();
        assert!(korean.contains("법령에 따라 보존하는 정보"));

        let deleted = browser.post("/me/delete?lang=en", &form_body(&[("_csrf", &csrf), ("confirm", "yes")])).await;
        assert_eq!(deleted.status(), 200);
        let goodbye = deleted.text().await.unwrap();
        assert!(goodbye.contains("except the records below") && goodbye.contains("전자상거래법 제6조"), "{goodbye}");
    }

    async fn an_obligation_is_declared_with_its_law_or_refused_with_the_field_named(app: TestApp) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let bad = original.replacen(
            "key = \"marketing_sms\"\nlegal_basis = \"consent\"",
            "key = \"marketing_sms\"\nlegal_basis = \"consent\"\nretention_obligation = \"forever\"",
            1,
        );
        let path = app.db.dir.path().join("bad.toml");
        std::fs::write(&path, bad).unwrap();
        let out = app.cli(&["apply", path.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("retention_obligation"), "{}", String::from_utf8_lossy(&out.stderr));

        // The console: a period without its law is refused next to the law's field; with it,
        // the purpose is published with the obligation in its terms.
        let console = app.signed_in(Role::Owner).await;
        let form = console.page("/admin/purposes/marketing_sms?lang=en").await;
        assert!(form.contains("name=\"obligation_period\""));
        let mut pairs = vec![
            ("title_en", "News and offers by text message"), ("title_ko", "문자(SMS) 광고성 정보 수신"),
            ("text_en", "We send you offers by text message."), ("text_ko", "혜택 문자를 보내 드립니다."),
            ("legal_basis", "consent"), ("channel", "sms"), ("retention", "2y"), ("renewal_window_days", "30"),
            ("obligation_period", "10y"), ("obligation_law", ""),
        ];
        let refused = console.submit("/admin/purposes/marketing_sms?lang=en", &pairs).await;
        assert_eq!(refused.status(), 422);
        let refused = refused.text().await.unwrap();
        assert!(refused.contains("id=\"field-obligation_law-error\""), "{refused}");
        assert!(refused.contains("value=\"10y\""), "what was typed is kept");
        pairs.pop();
        pairs.push(("obligation_law", "상법 제33조"));
        let saved = console.submit("/admin/purposes/marketing_sms?lang=en", &pairs).await;
        assert_eq!(saved.status(), 303);
        let exported = app.cli(&["export"]);
        let exported = String::from_utf8_lossy(&exported.stdout).to_string();
        assert!(exported.contains("상법 제33조") && exported.contains("retention_obligation"), "{exported}");
    }
}

fn audit_of(app: &TestApp, subject: &str) -> Vec<String> {
    use assent::db::schema::audit_log;
    use diesel::prelude::*;
    audit_log::table.filter(audit_log::subject_id.eq(subject)).select(audit_log::action).load(&mut app.conn()).unwrap()
}
