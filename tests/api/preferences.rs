//! A customer exercises every right from the preference center, without a password.

use crate::helpers::*;
use crate::on_both_backends;

/// Submits the demo newsletter with a phone number and SMS consent, and confirms it by mail.
async fn subscribed_with_phone(app: &TestApp) -> String {
    let email = unique_email();
    let body = form_body(&[
        ("email", &email),
        ("name", "Minji Kim"),
        ("phone", "010-2222-3333"),
        ("purpose", "service"),
        ("purpose", "marketing_sms"),
        ("purpose", "personalisation"),
    ]);
    assert_eq!(app.post_form("/f/newsletter?lang=en", &body).await.status(), 303);
    let mail = app.wait_for_mail(&email, "Please confirm your subscription").await;
    let link = mail.link("/confirm");
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let page = app.get(&link).await.text().await.unwrap();
    assert!(page.contains("Yes, I confirm"), "the link shows a button rather than acting on GET");
    let confirmed = app.post_form("/confirm?lang=en", &form_body(&[("token", &token)])).await;
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().await.unwrap().contains("confirmed"));
    email
}

fn ledger_actions(app: &TestApp, purpose: &str) -> Vec<String> {
    use assent::db::schema::consent_events;
    use diesel::prelude::*;
    consent_events::table
        .filter(consent_events::purpose_key.eq(purpose))
        .order(consent_events::seq.asc())
        .select(consent_events::action)
        .load(&mut app.conn())
        .unwrap()
}

on_both_backends! {
    async fn a_customer_views_edits_withdraws_exports_and_deletes(app: TestApp) {
        let email = subscribed_with_phone(&app).await;
        assert_eq!(ledger_actions(&app, "marketing_sms"), ["pending", "confirmed"]);

        // Sign in with the mailed link; the session cookie is HttpOnly and SameSite=Lax.
        let browser = app.browser();
        browser.post("/me?lang=en", &form_body(&[("email", &email)])).await;
        let mail = app.wait_for_mail(&email, "Your link to manage your data").await;
        assert!(mail.html.contains("/me/login?token="), "mails have an HTML part too");
        let token = mail.link("/me/login").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let response = browser.post("/me/login?lang=en", &form_body(&[("token", &token)])).await;
        assert_eq!(response.status(), 303);
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");

        // View: every value with its source, every purpose with its state and wording, the history.
        let html = browser.get("/me?lang=en").await.text().await.unwrap();
        for expected in ["Minji Kim", "010-2222-3333", &email, "newsletter", "Agreed", "Not given", "Confirmed", "Waiting for confirmation", "Link in an email"] {
            assert!(html.contains(expected), "the profile shows {expected}");
        }
        assert!(html.contains("We send you offers by text message"), "the wording agreed to is shown");

        // Edit (rectify), validated like the form.
        let csrf = browser.csrf().await;
        let bad = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "phone"), ("value", "not a phone")])).await;
        assert_eq!(bad.status(), 422);
        assert!(bad.text().await.unwrap().contains(r#"id="edit-phone-error""#));
        assert_eq!(app.stored_values(&email, "phone"), ["010-2222-3333"], "a refused edit changes nothing");
        let ok = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "name"), ("value", "Minji Lee")])).await;
        assert_eq!(ok.status(), 303);
        assert_eq!(app.stored_values(&email, "name"), ["Minji Lee"]);

        // Withdraw SMS: the phone number is erased at once.
        let response = browser.post("/me/consents?lang=en", &form_body(&[("_csrf", &csrf), ("purpose", "marketing_sms"), ("action", "withdraw")])).await;
        assert_eq!(response.status(), 303);
        assert!(app.stored_values(&email, "phone").is_empty(), "the phone number is gone from the database");
        assert_eq!(ledger_actions(&app, "marketing_sms"), ["pending", "confirmed", "withdrawn"]);
        let html = browser.get("/me?lang=en&done=1").await.text().await.unwrap();
        assert!(html.contains("/me/receipt"), "every change offers a new receipt");
        let receipt = browser.get("/me/receipt").await;
        assert_eq!(receipt.headers()["content-type"], "application/jwt");
        assert_eq!(receipt.text().await.unwrap().split('.').count(), 3);

        // Export: exactly what is held.
        let export: serde_json::Value = browser.get("/me/export.json").await.json().await.unwrap();
        assert_eq!(export["email"], email.as_str());
        let fields: Vec<&str> = export["values"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["email", "name"], "the phone is not held any more");
        assert_eq!(export["values"][1]["value"], "Minji Lee");
        let sms = export["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap();
        assert_eq!(sms["status"], "withdrawn");
        assert!(export["history"].as_array().unwrap().len() >= 5);
        let csv = browser.get("/me/export.csv").await.text().await.unwrap();
        assert!(csv.starts_with("section,key,value,detail,at"));
        assert!(csv.contains("Minji Lee") && !csv.contains("010-2222-3333"));

        // Delete: after confirmation, nothing personal remains and the ledger still verifies.
        let confirm_page = browser.get("/me/delete?lang=en").await.text().await.unwrap();
        assert!(confirm_page.contains("Yes, delete everything"));
        let response = browser.post("/me/delete?lang=en", &form_body(&[("_csrf", &csrf), ("confirm", "yes")])).await;
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("Your data has been deleted"));
        let goodbye = app.wait_for_mail(&email, "Your data has been deleted").await;
        assert!(goodbye.text.contains("deleted all the personal data"));
        assert_eq!(app.row_counts()[1..3], [0, 0], "no submissions or values remain");
        // Erasure ends each consent still in force; one already withdrawn is not ended twice.
        assert!(ledger_actions(&app, "service").ends_with(&["erased".to_owned()]));
        assert!(ledger_actions(&app, "marketing_sms").ends_with(&["withdrawn".to_owned()]));
        let haystack = match app.db.backend {
            Backend::Sqlite => {
                let mut c = app.conn();
                diesel::RunQueryDsl::execute(diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)"), &mut c).unwrap();
                String::from_utf8_lossy(&std::fs::read(app.db.dir.path().join("assent.db")).unwrap()).into_owned()
            }
            Backend::Postgres => String::from_utf8(postgres_dump(&mut app.conn())).unwrap(),
        };
        for secret in [email.as_str(), "Minji", "010-2222-3333"] {
            assert!(!haystack.contains(secret), "{secret} remains in the database file");
        }
        let subject = {
            use assent::db::schema::subjects;
            use diesel::prelude::*;
            subjects::table.select(assent::db::subjects::Subject::as_select()).first(&mut app.conn()).unwrap()
        };
        assert!(subject.wrapped_key.is_none() && subject.email_ciphertext.is_none() && subject.erased_at.is_some());
        // The database computes the erased blind index; it is exactly the documented bytes.
        assert_eq!(subject.email_index, assent::db::subjects::erased_index(&subject.id));
        let verify = app.cli(&["ledger", "verify"]);
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));

        // The session died with the data; the address no longer signs in.
        assert!(browser.get("/me?lang=en").await.text().await.unwrap().contains("Send me a sign-in link"));
        let before = app.mails_to(&email);
        browser.post("/me?lang=en", &form_body(&[("email", &email)])).await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(app.mails_to(&email), before, "no link for an erased address");
    }

    async fn asking_for_a_link_reveals_nothing_about_the_address(app: TestApp) {
        let email = subscribed_with_phone(&app).await;
        let known = app.post_form("/me?lang=en", &form_body(&[("email", &email)])).await;
        let unknown = app.post_form("/me?lang=en", &form_body(&[("email", "nobody@example.org")])).await;
        assert_eq!(known.status(), unknown.status());
        assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
        let invalid = app.post_form("/me?lang=en", &form_body(&[("email", "not an address")])).await;
        assert_eq!(invalid.status(), 422);
        assert!(invalid.text().await.unwrap().contains(r#"aria-describedby="email-error""#));
    }

    async fn sign_in_links_are_single_use_short_lived_and_unforgeable(app: TestApp) {
        let email = subscribed_with_phone(&app).await;
        app.post_form("/me?lang=en", &form_body(&[("email", &email)])).await;
        let mail = app.wait_for_mail(&email, "Your link to manage your data").await;
        let token = mail.link("/me/login").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        assert!(app.get(&mail.link("/me/login")).await.text().await.unwrap().contains("Continue"));
        assert_eq!(app.post_form("/me/login?lang=en", &form_body(&[("token", &token)])).await.status(), 303);

        let replay = app.post_form("/me/login?lang=en", &form_body(&[("token", &token)])).await;
        assert_eq!(replay.status(), 410);
        let html = replay.text().await.unwrap();
        assert!(html.contains("already been used") && html.contains("Ask for a new link"));

        let forged = app.post_form("/me/login?lang=en", &form_body(&[("token", "eyJhbGciOiJIUzI1NiJ9.e30.x")])).await;
        assert_eq!(forged.status(), 400);

        // A token for another purpose (or signed with another key) does not sign in.
        let claims = assent::crypto::LinkClaims {
            sub: "someone".into(),
            jti: uuid::Uuid::new_v4().to_string(),
            kind: assent::crypto::LinkKind::Unsubscribe,
            purposes: vec![],
            exp: chrono::Utc::now().timestamp() + 600,
            guardian: None,
        };
        let wrong_kind = app.keyring.links().sign(&claims).unwrap();
        assert_eq!(app.post_form("/me/login", &form_body(&[("token", &wrong_kind)])).await.status(), 400);

        // An expired token is refused as expired.
        let expired = assent::crypto::LinkClaims { kind: assent::crypto::LinkKind::SignIn, exp: chrono::Utc::now().timestamp() - 1, ..claims };
        let expired = app.keyring.links().sign(&expired).unwrap();
        let response = app.post_form("/me/login?lang=en", &form_body(&[("token", &expired)])).await;
        assert_eq!(response.status(), 410);
        assert!(response.text().await.unwrap().contains("expired"));
    }

    async fn changes_need_the_session_and_its_csrf_token(app: TestApp) {
        let email = subscribed_with_phone(&app).await;
        let browser = app.sign_in(&email).await;
        let csrf = browser.csrf().await;
        let no_token = browser.post("/me/consents?lang=en", &form_body(&[("purpose", "marketing_sms"), ("action", "withdraw")])).await;
        assert_eq!(no_token.status(), 403);
        let wrong = browser.post("/me/consents?lang=en", &form_body(&[("_csrf", "x"), ("purpose", "marketing_sms"), ("action", "withdraw")])).await;
        assert_eq!(wrong.status(), 403);
        let stranger = app.browser();
        let no_session = stranger.post("/me/consents?lang=en", &form_body(&[("_csrf", &csrf), ("purpose", "marketing_sms"), ("action", "withdraw")])).await;
        assert_eq!(no_session.status(), 403);
        assert_eq!(app.stored_values(&email, "phone"), ["010-2222-3333"], "nothing changed");

        // Another subject's id in the form acts on nobody but the signed-in person.
        let other = subscribed_with_phone(&app).await;
        let other_id = {
            let e = assent::domain::Email::parse(&other).unwrap();
            assent::db::subjects::find_by_index(&mut app.conn(), &app.keyring.email_index(&e)).unwrap().unwrap().id
        };
        let response = browser
            .post("/me/consents?lang=en", &form_body(&[("_csrf", &csrf), ("subject_id", &other_id), ("purpose", "marketing_sms"), ("action", "withdraw")]))
            .await;
        assert_eq!(response.status(), 303);
        assert!(app.stored_values(&email, "phone").is_empty(), "the signed-in person's own consent changed");
        assert_eq!(app.stored_values(&other, "phone"), ["010-2222-3333"], "the other person's did not");

        // Withdrawing twice is a clear conflict that changes nothing.
        let again = browser.post("/me/consents?lang=en", &form_body(&[("_csrf", &csrf), ("purpose", "marketing_sms"), ("action", "withdraw")])).await;
        assert_eq!(again.status(), 409);
        assert!(again.text().await.unwrap().contains("nothing to withdraw"));
        assert_eq!(ledger_actions(&app, "marketing_sms").iter().filter(|a| *a == "withdrawn").count(), 1);

        // Withdrawing the required purpose is refused here: it means closing the account.
        let required = browser.post("/me/consents?lang=en", &form_body(&[("_csrf", &csrf), ("purpose", "service"), ("action", "withdraw")])).await;
        assert_eq!(required.status(), 409);

        // Oversized and overlong edits.
        let huge = "a".repeat(70 * 1024);
        let response = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "name"), ("value", &huge)])).await;
        assert_eq!(response.status(), 413);
        let response = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "name"), ("value", &"a".repeat(101))])).await;
        assert_eq!(response.status(), 422);
        let response = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "shoe_size"), ("value", "42")])).await;
        assert_eq!(response.status(), 404);
        assert_eq!(app.stored_values(&email, "name"), ["Minji Kim"]);

        // Signing out ends the session for good.
        assert_eq!(browser.post("/me/logout?lang=en", &form_body(&[("_csrf", &csrf)])).await.status(), 303);
        assert!(browser.session_cookie().is_none());
        let stale = app.browser();
        let reuse = stale.post("/me/consents", &form_body(&[("_csrf", &csrf), ("purpose", "personalisation"), ("action", "withdraw")])).await;
        assert_eq!(reuse.status(), 403);
    }

    async fn sign_in_links_are_rate_limited_per_address(app: TestApp) {
        let email = unique_email();
        for _ in 0..5 {
            assert_eq!(app.post_form("/me", &form_body(&[("email", &email)])).await.status(), 200);
        }
        let response = app.post_form("/me?lang=ko", &form_body(&[("email", &email)])).await;
        assert_eq!(response.status(), 429);
        assert!(response.text().await.unwrap().contains("요청이 너무 많습니다"));
    }
}
