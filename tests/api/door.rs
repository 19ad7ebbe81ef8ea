//! The consent door's locks: what an unauthenticated submission may and may not do, nobody
//! kept without a purpose, and ciphertexts that cannot be swapped.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

/// A JWT's claims, read without checking the signature (api_submissions checks it).
fn decode_jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn keys_of(v: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

async fn contact(app: &TestApp, email: &str, purposes: &[&str], as_integrator: bool) -> serde_json::Value {
    let body = json!({ "fields": { "email": email, "name": "Lee", "message": "Hi", "phone": "010-5555-6666" }, "purposes": purposes });
    let path = "/api/v1/forms/contact/submissions";
    let response =
        if as_integrator { app.post_json_as_integrator(path, &body).await } else { app.post_json(path, &body).await };
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Withdraws `purpose` for `subject` through the subject API, as a CRM would.
async fn withdraw(app: &TestApp, subject: &str, purpose: &str) -> reqwest::Response {
    let key = app.integrator_key();
    app.client
        .post(app.url(&format!("/api/v1/subjects/{subject}/consents")))
        .bearer_auth(key)
        .json(&json!({ "purpose": purpose, "action": "withdraw" }))
        .send()
        .await
        .unwrap()
}

fn state_of(app: &TestApp, subject: &str, purpose: &str) -> (String, Option<chrono::NaiveDateTime>) {
    use assent::db::schema::consent_state;
    use diesel::prelude::*;
    consent_state::table
        .filter(consent_state::subject_id.eq(subject))
        .filter(consent_state::purpose_key.eq(purpose))
        .select((consent_state::status, consent_state::expires_at))
        .first(&mut app.conn())
        .unwrap()
}

fn erased(app: &TestApp, subject: &str) -> bool {
    use assent::db::schema::subjects;
    use diesel::prelude::*;
    subjects::table
        .find(subject)
        .select(subjects::wrapped_key)
        .first::<Option<Vec<u8>>>(&mut app.conn())
        .unwrap()
        .is_none()
}

on_both_backends! {
    async fn an_unauthenticated_submission_for_a_known_address_reveals_nothing_about_the_person(app: TestApp) {
        let known = unique_email();
        let first = contact(&app, &known, &["service", "marketing_sms"], true).await;
        let subject = first["subject_id"].as_str().unwrap().to_owned();

        let fresh = contact(&app, &unique_email(), &["service"], false).await;
        let again = contact(&app, &known, &["service"], false).await;
        assert_eq!(keys_of(&again), keys_of(&fresh), "the same fields as for a new address");
        assert!(again.get("subject_id").is_none() && fresh.get("subject_id").is_none());
        let text = again.to_string();
        assert!(!text.contains(&subject), "no existing subject id anywhere in the answer");
        assert!(!text.contains("marketing_sms"), "no earlier state: {text}");
        // The receipt names the submission, not the person.
        let claims = decode_jwt_claims(again["receipt"].as_str().unwrap());
        assert!(claims["sub"].as_str().unwrap().starts_with("submission:"));
        // A caller with an API key still gets the subject id.
        let vouched = contact(&app, &known, &["service"], true).await;
        assert_eq!(vouched["subject_id"], subject.as_str());
    }

    async fn an_unauthenticated_submission_cannot_overturn_what_the_person_established(app: TestApp) {
        let email = unique_email();
        let first = contact(&app, &email, &["service", "marketing_sms"], true).await;
        let subject = first["subject_id"].as_str().unwrap().to_owned();
        let (_, service_expiry) = state_of(&app, &subject, "service");
        // The person withdraws SMS.
        assert_eq!(withdraw(&app, &subject, "marketing_sms").await.status(), 200);

        // Someone who knows the address ticks SMS again on the public form (no double opt-in).
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let body = form_body(&[("email", &email), ("name", "Lee"), ("message", "Hi"), ("phone", "010-0000-0000"), ("purpose", "service"), ("purpose", "marketing_sms")]);
        assert_eq!(app.post_form("/f/contact", &body).await.status(), 303);
        assert_eq!(state_of(&app, &subject, "marketing_sms").0, "pending", "waits for the person's confirmation");
        assert_eq!(state_of(&app, &subject, "service"), ("granted".to_owned(), service_expiry), "its expiry is not pushed out");
        app.wait_for_mail(&email, "Please confirm").await;
    }

    async fn a_changed_value_typed_for_a_known_address_waits_for_the_persons_confirmation(app: TestApp) {
        let email = unique_email();
        contact(&app, &email, &["service"], true).await;
        assert_eq!(app.stored_values(&email, "name"), ["Lee"]);
        // Someone who knows the address types another name on the public form.
        let body = form_body(&[("email", &email), ("name", "Mallory"), ("message", "Hi"), ("purpose", "service")]);
        assert_eq!(app.post_form("/f/contact?lang=en", &body).await.status(), 303);
        assert_eq!(app.stored_values(&email, "name"), ["Lee"], "the held name stays until the person confirms");
        let mail = app.wait_for_mail(&email, "Please confirm").await;
        assert!(mail.text.contains("Name"), "the mail says which details would change: {}", mail.text);
        let token = mail.link("/confirm").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        assert_eq!(app.post_form("/confirm?lang=en", &form_body(&[("token", &token)])).await.status(), 200);
        assert_eq!(app.stored_values(&email, "name"), ["Mallory"], "confirmed, the new name replaces the old");
        // The same name typed again changes nothing and asks nothing.
        assert_eq!(app.post_form("/f/contact?lang=en", &body).await.status(), 303);
        assert_eq!(app.stored_values(&email, "name"), ["Mallory", "Mallory"]);
    }

    async fn a_waiting_value_whose_consent_is_withdrawn_meanwhile_is_never_kept(app: TestApp) {
        use assent::db::schema::pending_values;
        use diesel::prelude::*;
        let email = unique_email();
        let sent = contact(&app, &email, &["service", "marketing_sms"], true).await;
        let subject = sent["subject_id"].as_str().unwrap().to_owned();
        let body = form_body(&[("email", &email), ("name", "Lee"), ("message", "Hi"), ("phone", "010-9999-0000"), ("purpose", "service"), ("purpose", "marketing_sms")]);
        assert_eq!(app.post_form("/f/contact?lang=en", &body).await.status(), 303);
        let mail = app.wait_for_mail(&email, "Please confirm").await;
        assert_eq!(withdraw(&app, &subject, "marketing_sms").await.status(), 200);
        let waiting: i64 = pending_values::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(waiting, 0, "the waiting phone number went with the consent it served");
        let token = mail.link("/confirm").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        assert_eq!(app.post_form("/confirm?lang=en", &form_body(&[("token", &token)])).await.status(), 200);
        assert!(app.stored_values(&email, "phone").is_empty(), "confirming later keeps no phone without SMS consent");
    }

    async fn a_person_whose_last_consent_ends_is_erased_at_once(app: TestApp) {
        let email = unique_email();
        let body = json!({ "fields": { "email": email }, "purposes": ["service", "marketing_email"] });
        let sent: serde_json::Value = app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await.json().await.unwrap();
        let subject = sent["subject_id"].as_str().unwrap().to_owned();
        // `service` is required: withdrawing it is refused (that is erasure), so the person keeps it.
        assert_eq!(withdraw(&app, &subject, "service").await.status(), 409);
        let body: serde_json::Value = withdraw(&app, &subject, "marketing_email").await.json().await.unwrap();
        assert_eq!(body["change"]["subject_erased"], false, "service is still in force");
        assert!(!erased(&app, &subject));
    }

    async fn a_form_whose_purposes_are_all_optional_stores_nothing_when_nothing_is_ticked(app: TestApp) {
        let file = app.db.dir.path().join("optional.toml");
        let base = std::fs::read_to_string(workspace_file()).unwrap();
        let extra = r#"
[[forms]]
key = "updates"
kind = "newsletter"
title = { en = "Product updates", ko = "제품 소식" }
purposes = ["marketing_email"]
double_opt_in = false
allowed_origins = []

[[forms.fields]]
key = "email"
type = "email"
required = true
purposes = ["marketing_email"]
label = { en = "Email address", ko = "이메일 주소" }
"#;
        std::fs::write(&file, format!("{base}\n{extra}")).unwrap();
        let out = app.cli(&["apply", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let catalog = assent::db::catalog::Catalog::load(&mut app.conn()).unwrap();
        app.state.catalog.replace(catalog);
        let before = app.row_counts();

        let email = unique_email();
        let response = app.post_json("/api/v1/forms/updates/submissions", &json!({ "fields": { "email": email }, "purposes": [] })).await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["stored"], false);
        assert_eq!(app.row_counts(), before, "no subject, submission, value or event");
        let page = app.post_form("/f/updates", &form_body(&[("email", &email)])).await;
        assert_eq!(page.status(), 303);
        assert_eq!(app.row_counts(), before);

        // Ticked, then withdrawn: the person is left with nothing and erased whole.
        let sent: serde_json::Value = app.post_json_as_integrator("/api/v1/forms/updates/submissions", &json!({ "fields": { "email": email }, "purposes": ["marketing_email"] })).await.json().await.unwrap();
        let subject = sent["subject_id"].as_str().unwrap().to_owned();
        let withdrawn: serde_json::Value = withdraw(&app, &subject, "marketing_email").await.json().await.unwrap();
        assert_eq!(withdrawn["change"]["subject_erased"], true);
        assert!(erased(&app, &subject));
        assert!(app.stored_values(&email, "email").is_empty());
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    async fn a_stored_value_cannot_be_swapped_for_an_older_one_of_the_same_field(app: TestApp) {
        use assent::db::schema::field_values;
        use diesel::prelude::*;
        let email = unique_email();
        let sent = contact(&app, &email, &["service", "marketing_sms"], true).await;
        let subject = sent["subject_id"].as_str().unwrap().to_owned();
        let old: (String, Vec<u8>) = field_values::table
            .filter(field_values::subject_id.eq(&subject))
            .filter(field_values::field_key.eq("phone"))
            .select((field_values::id, field_values::ciphertext))
            .first(&mut app.conn())
            .unwrap();
        let (keyring, who) = (app.state.keyring.clone(), assent::domain::SubjectId::from(subject.clone()));
        app.state
            .db
            .writer
            .write(move |tx| {
                let actor = assent::services::rights::Actor::Subject(who.clone());
                assent::services::rights::rectify(tx, &keyring, &who, "phone", "010-7777-8888", assent::services::rights::By::new(&actor, assent::domain::Method::PreferenceCenter))
            })
            .await
            .unwrap();
        let key = app.api_key();
        let path = format!("/api/v1/subjects/{subject}");
        assert_eq!(app.stored_values(&email, "phone"), ["010-7777-8888"]);
        // Someone with write access to the database puts the old ciphertext back.
        diesel::update(field_values::table.filter(field_values::subject_id.eq(&subject)).filter(field_values::field_key.eq("phone")))
            .set(field_values::ciphertext.eq(&old.1))
            .execute(&mut app.conn())
            .unwrap();
        let shown = app.client.get(app.url(&path)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(shown.status(), 500, "the swapped value does not decrypt: it is not shown as the person's");
        let shown = shown.text().await.unwrap();
        assert!(!shown.contains("5555"), "the old number never comes back: {shown}");
    }
}

on_both_backends! {
    async fn ciphertexts_written_before_they_were_bound_to_their_rows_are_resealed_at_start(app: TestApp) {
        use assent::crypto::Bound;
        use assent::db::schema::{field_values, reseal_pending, subjects};
        use diesel::prelude::*;
        let email = unique_email();
        let sent = contact(&app, &email, &["service", "marketing_sms"], true).await;
        let subject = sent["subject_id"].as_str().unwrap().to_owned();
        // Make the rows what an older version wrote: sealed as `subject/field`.
        let mut c = app.conn();
        let wrapped: Option<Vec<u8>> = subjects::table.find(&subject).select(subjects::wrapped_key).first(&mut c).unwrap();
        let key = app.keyring.unwrap_data_key(&wrapped.unwrap(), &subject).unwrap();
        let old = |plain: &str, field: &str| key.seal(plain.as_bytes(), Bound::Legacy { subject: &subject, field }).unwrap();
        diesel::update(subjects::table.find(&subject)).set(subjects::email_ciphertext.eq(Some(old(&email, "email")))).execute(&mut c).unwrap();
        diesel::update(field_values::table.filter(field_values::subject_id.eq(&subject)).filter(field_values::field_key.eq("phone")))
            .set(field_values::ciphertext.eq(old("010-5555-6666", "phone")))
            .execute(&mut c)
            .unwrap();
        diesel::insert_into(reseal_pending::table).values(reseal_pending::id.eq(1i64)).execute(&mut c).unwrap();

        // The next server to start re-seals them once.
        app.another_server().await;
        assert_eq!(reseal_pending::table.count().get_result::<i64>(&mut c).unwrap(), 0);
        assert_eq!(app.stored_values(&email, "phone"), ["010-5555-6666"]);
        let key_header = app.api_key();
        let shown: serde_json::Value =
            app.client.get(app.url(&format!("/api/v1/subjects/{subject}"))).bearer_auth(&key_header).send().await.unwrap().json().await.unwrap();
        assert_eq!(shown["email"], email.as_str());
    }
}

/// Publishes a new wording of `marketing_sms` (as `assent apply` would) and has the server use it.
fn reword_sms(app: &TestApp) {
    let file = app.db.dir.path().join("reworded.toml");
    let base = std::fs::read_to_string(workspace_file()).unwrap();
    let reworded = base.replace(
        "We send you offers by text message to the phone number you give.",
        "We send you offers and reminders by text message to the phone number you give.",
    );
    assert_ne!(base, reworded, "the fixture's wording was found");
    std::fs::write(&file, reworded).unwrap();
    let out = app.cli(&["apply", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.state.catalog.replace(assent::db::catalog::Catalog::load(&mut app.conn()).unwrap());
}

fn shown_in(page: &str) -> String {
    let at = page.find("name=\"_shown\" value=\"").expect("the form carries the wording it shows") + 21;
    page[at..].split('"').next().unwrap().to_owned()
}

on_both_backends! {
    async fn a_form_sent_after_its_wording_changed_shows_the_new_wording_and_records_nothing(app: TestApp) {
        let page = app.get("/f/contact?lang=en").await.text().await.unwrap();
        let shown = shown_in(&page);
        reword_sms(&app);
        let before = app.row_counts();
        let email = unique_email();
        let body = |shown: &str| {
            form_body(&[("email", &email), ("name", "Lee"), ("message", "Hi"), ("purpose", "service"), ("purpose", "marketing_sms"), ("_shown", shown)])
        };
        let stale = app.post_form("/f/contact?lang=en", &body(&shown)).await;
        assert_eq!(stale.status(), 422);
        let again = stale.text().await.unwrap();
        assert!(again.contains("offers and reminders by text message"), "the person sees the new wording");
        assert!(again.contains("This wording changed while the form was open"), "with a notice");
        assert_eq!(app.row_counts(), before, "nothing recorded against text they never saw");
        // A forged token is no better than a stale one.
        let forged = app.post_form("/f/contact?lang=en", &body("Zm9v.00")).await;
        assert_eq!(forged.status(), 422);
        assert_eq!(app.row_counts(), before);
        // Sent again from the page just shown, it is recorded under the new wording.
        let fresh = shown_in(&again);
        assert_eq!(app.post_form("/f/contact?lang=en", &body(&fresh)).await.status(), 303);
        assert_ne!(app.row_counts(), before);
    }

    async fn an_integrator_naming_the_wording_it_displayed_is_refused_when_it_changed(app: TestApp) {
        reword_sms(&app);
        let before = app.row_counts();
        let app = &app;
        let post = |versions: serde_json::Value| {
            let body = json!({ "fields": { "email": unique_email(), "name": "Lee", "message": "Hi" }, "purposes": ["service", "marketing_sms"], "policy_versions": versions });
            async move { app.post_json("/api/v1/forms/contact/submissions", &body).await }
        };
        let stale = post(json!({ "service": 1, "marketing_sms": 1 })).await;
        assert_eq!(stale.status(), 422);
        let problem = problem(stale).await;
        assert_eq!(problem["errors"][0]["field"], "purpose.marketing_sms");
        assert_eq!(problem["errors"][0]["code"], "wording_changed");
        let unnamed = post(json!({ "service": 1 })).await;
        assert_eq!(unnamed.status(), 422, "a ticked purpose whose displayed wording is not named");
        assert_eq!(app.row_counts(), before);
        assert_eq!(post(json!({ "service": 1, "marketing_sms": 2 })).await.status(), 201);
    }
}

on_both_backends! {
    async fn changes_to_one_purpose_in_one_call_end_in_the_state_of_the_last(app: TestApp) {
        use assent::domain::SubjectId;
        use assent::domain::lifecycle::Transition;
        use assent::services::consent::{Change, Door, States};
        let email = unique_email();
        let sent = contact(&app, &email, &["service"], true).await;
        let subject = SubjectId::from(sent["subject_id"].as_str().unwrap());
        // A purpose this person has no state for yet: granted, then withdrawn, in one write.
        let catalog = app.state.catalog.current();
        let who = subject.clone();
        app.state
            .db
            .writer
            .write(move |tx| {
                let door = Door::new(&catalog);
                let mut states = States::load(tx.conn, std::slice::from_ref(&who))?;
                let change = |transition| Change {
                    subject_id: &who,
                    purpose_key: "marketing_sms",
                    transition,
                    method: assent::domain::Method::Api,
                    source: "test",
                    evidence: "{}",
                    shown_in: None,
                    occurred_at: None,
                    wording: None,
                };
                let now = chrono::Utc::now().naive_utc();
                let done = door.apply(tx, &mut states, &[change(Transition::Grant), change(Transition::Withdraw)], now)?;
                assert!(done.iter().all(Result::is_ok));
                Ok::<_, assent::services::ServiceError>(())
            })
            .await
            .unwrap();
        assert_eq!(state_of(&app, &subject, "marketing_sms").0, "withdrawn", "the row holds the last change");
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
