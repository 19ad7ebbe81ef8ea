//! Children (PIPA art. 22-2, GDPR art. 8): a form with a minimum age asks for an affirmation or a
//! birth date; under the age, the submission becomes a request to a parent or guardian, whose
//! confirmation alone grants the consents, and which lapses after 7 days.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

/// The demo with a minimum age of 14 on both forms: the newsletter asks for an affirmation, the
/// contact form for a birth date.
async fn with_min_age(app: &TestApp) {
    let aged = |text: &str| {
        text.replacen("double_opt_in = true\n", "double_opt_in = true\nmin_age = 14\n", 1).replacen(
            "key = \"contact\"\n",
            "key = \"contact\"\nmin_age = 14\nage_check = \"birth_date\"\n",
            1,
        )
    };
    app.apply_demo_edited(aged, "/f/newsletter?lang=en", "name=\"age_affirmed\"").await;
}

on_both_backends! {
    async fn a_child_asks_a_guardian_whose_confirmation_alone_grants(app: TestApp) {
        with_min_age(&app).await;
        let key = app.api_key();
        let form = app.get("/f/newsletter?lang=en").await.text().await.unwrap();
        assert!(form.contains("I am 14 or older") && form.contains("name=\"guardian_email\""));
        assert!(app.get("/f/newsletter?lang=ko").await.text().await.unwrap().contains("만 14세 이상입니다"));

        // Neither an affirmation nor a guardian: refused next to the box, nothing kept.
        let before = app.row_counts();
        let child = unique_email();
        let refused = app.post_form("/f/newsletter?lang=en", &form_body(&[("email", &child), ("purpose", "service")])).await;
        assert_eq!(refused.status(), 422);
        let page = refused.text().await.unwrap();
        assert!(page.contains("id=\"age_affirmed-error\"") && page.contains("href=\"#field-age_affirmed\""), "{page}");
        assert!(page.contains(&format!("value=\"{child}\"")), "what was typed is kept");
        assert_eq!(app.row_counts(), before);

        // Affirmed: as before.
        let adult = unique_email();
        let ok = app.post_form("/f/newsletter?lang=en", &form_body(&[("email", &adult), ("age_affirmed", "yes"), ("purpose", "service")])).await;
        assert_eq!(ok.status(), 303);
        assert_eq!(status_in(&app.consents_of(&key, &adult).await, "service"), "granted");

        // Under the age: the guardian is asked; nothing is granted meanwhile.
        let guardian = unique_email();
        let body = form_body(&[("email", &child), ("guardian_email", &guardian), ("name", "Jiwoo"), ("purpose", "service"), ("purpose", "personalisation")]);
        let asked = app.post_form("/f/newsletter?lang=en", &body).await;
        assert_eq!(asked.status(), 303);
        let thanks = asked.headers()["location"].to_str().unwrap().to_owned();
        assert!(thanks.contains("pending=guardian"));
        assert!(app.get(&thanks).await.text().await.unwrap().contains("we have written to your parent or guardian"));
        let answer = app.consents_of(&key, &child).await;
        assert_eq!((status_in(&answer, "service"), status_in(&answer, "personalisation")), ("pending".to_owned(), "pending".to_owned()));
        assert!(app.stored_values(&child, "name").is_empty(), "only the address is kept until the guardian agrees");
        assert!(thanks.contains("dropped=name"), "and the page says the name was not kept");
        let mail = app.wait_for_mail(&guardian, "Your consent is asked for a child").await;
        assert!(mail.text.contains(&child) && mail.text.contains("Personalised greetings"), "{}", mail.text);
        assert!(mail.text.contains("a form of Assent Demo Shop Co., Ltd. (privacy@shop.example)"), "the business is named: {}", mail.text);
        assert_eq!(app.mails_to(&format!("To: {child}")), 0, "the child is not asked to confirm for themselves");

        // The guardian's confirmation grants, with their blind-indexed address as evidence.
        let token = mail.link("/confirm").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        assert_eq!(app.post_form("/confirm?lang=en", &form_body(&[("token", &token)])).await.status(), 200);
        assert_eq!(status_in(&app.consents_of(&key, &child).await, "personalisation"), "granted");
        let subject = app.consents_of(&key, &child).await["subject_id"].as_str().unwrap().to_owned();
        let events = assent::db::ledger::for_subject(&mut app.conn(), &subject).unwrap();
        let asked_event = events.iter().find(|e| e.action == "pending").unwrap();
        assert_eq!(app.open_evidence(asked_event).age.as_deref(), Some("guardian"));
        let confirmed = events.iter().rev().find(|e| e.purpose_key == "personalisation").unwrap();
        let evidence = app.open_evidence(confirmed);
        let index = evidence.guardian.expect("the guardian's blind index");
        assert_eq!(index.len(), 64, "an HMAC in hex, never the address");
        assert!(!format!("{:?}", events).contains(&guardian));
    }

    async fn a_birth_date_decides_and_an_unanswered_request_lapses(app: TestApp) {
        with_min_age(&app).await;
        let key = app.api_key();
        let submit = |email: &str, age: Value| {
            let body = json!({ "fields": { "email": email, "name": "Lee", "message": "Hi" }, "purposes": ["service"], "age": age });
            app.client.post(app.url("/api/v1/forms/contact/submissions")).json(&body).send()
        };
        let adult = unique_email();
        assert_eq!(submit(&adult, json!({ "birth_date": "2000-01-31" })).await.unwrap().status(), 201);
        assert_eq!(status_in(&app.consents_of(&key, &adult).await, "service"), "granted");

        let child = unique_email();
        let young = (chrono::Utc::now() - chrono::Duration::days(365 * 10)).format("%Y-%m-%d").to_string();
        let refused = problem(submit(&child, json!({ "birth_date": young })).await.unwrap()).await;
        assert_eq!(refused["errors"][0]["field"], "guardian_email", "{refused}");
        assert_eq!(refused["errors"][0]["code"], "guardian_needed");
        let missing = problem(submit(&child, json!({})).await.unwrap()).await;
        assert_eq!(missing["errors"][0]["field"], "birth_date");
        assert_eq!(missing["errors"][0]["code"], "required");
        let form = app.get("/f/contact?lang=en").await.text().await.unwrap();
        assert!(form.contains("type=\"date\"") && form.contains("name=\"birth_date\""));

        let guardian = unique_email();
        let asked = submit(&child, json!({ "birth_date": young, "guardian_email": guardian })).await.unwrap();
        assert_eq!(asked.status(), 201);
        assert_eq!(status_in(&app.consents_of(&key, &child).await, "service"), "pending");
        app.wait_for_mail(&guardian, "Your consent is asked for a child").await;

        // Unanswered for 7 days: it lapses and nothing of the child is kept.
        let in_eight_days = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
        let out = app.cli(&["retention", "run", "--now", &in_eight_days]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let answer = app.consents_of(&key, &child).await;
        assert_eq!(answer["subject_id"], Value::Null, "{answer}");
        assert!(app.stored_values(&child, "name").is_empty());
    }
}
