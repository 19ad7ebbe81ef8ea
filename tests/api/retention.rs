//! Retention: renewal questions, extension, expiry with erasure, and crash safety.

use crate::helpers::*;
use crate::on_both_backends;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::json;

/// A contact-form subject with SMS consent and a phone number; returns (email, id, SMS expiry).
async fn with_sms(app: &TestApp) -> (String, String, DateTime<Utc>) {
    let email = unique_email();
    let response = app
        .post_json_as_integrator(
            "/api/v1/forms/contact/submissions",
            &json!({ "fields": { "email": email, "name": "Park", "message": "Hello", "phone": "010-1212-3434" }, "purposes": ["service", "marketing_sms"], "locale": "en" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let sms = body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap().clone();
    let expires = DateTime::parse_from_rfc3339(sms["expires_at"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    (email, body["subject_id"].as_str().unwrap().to_owned(), expires)
}

fn run_at(app: &TestApp, at: DateTime<Utc>) -> String {
    let out = app.cli(&["retention", "run", "--now", &at.to_rfc3339()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn outbox_count(app: &TestApp, kind: &str, subject: &str) -> i64 {
    use assent::db::schema::outbox;
    outbox::table
        .filter(outbox::kind.eq(kind))
        .filter(outbox::subject_id.eq(subject))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

fn actions(app: &TestApp, subject: &str, purpose: &str) -> Vec<String> {
    use assent::db::schema::consent_events;
    consent_events::table
        .filter(consent_events::subject_id.eq(subject))
        .filter(consent_events::purpose_key.eq(purpose))
        .order(consent_events::seq.asc())
        .select(consent_events::action)
        .load(&mut app.conn())
        .unwrap()
}

fn sms_expiry(app: &TestApp, subject: &str) -> Option<chrono::NaiveDateTime> {
    use assent::db::schema::consent_state;
    consent_state::table
        .filter(consent_state::subject_id.eq(subject))
        .filter(consent_state::purpose_key.eq("marketing_sms"))
        .select(consent_state::expires_at)
        .first(&mut app.conn())
        .unwrap()
}

on_both_backends! {
    async fn consents_are_renewed_on_request_and_otherwise_expire_with_their_data(app: TestApp) {
        let (a_email, a, expiry) = with_sms(&app).await;
        let (b_email, b, _) = with_sms(&app).await;

        run_at(&app, expiry - Duration::days(31));
        assert_eq!(outbox_count(&app, "renewal", &a), 0, "31 days before expiry nothing happens");

        let said = run_at(&app, expiry - Duration::days(30) + Duration::minutes(1));
        assert!(said.contains("2 renewal mails"), "{said}");
        run_at(&app, expiry - Duration::days(30) + Duration::minutes(2));
        assert_eq!((outbox_count(&app, "renewal", &a), outbox_count(&app, "renewal", &b)), (1, 1), "one mail each, not again");

        // A follows Extend: one more period (2 years) from the old expiry.
        app.get("/healthz").await; // (the server delivers the queued mail meanwhile)
        let mail = app.wait_for_mail(&a_email, "Keep").await;
        assert!(!mail.text.contains("010-1212-3434"), "the mail names what is held, not the values");
        assert!(mail.text.contains("phone"), "{}", mail.text);
        assert_eq!(mail.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
        let links = mail.links("/renewal");
        assert_eq!(links.len(), 2, "{}", mail.text);
        let mut extend = None;
        for link in &links {
            let page = app.get(link).await.text().await.unwrap();
            if page.contains("Yes, extend") {
                extend = Some(link.clone());
            }
        }
        let extend = extend.expect("an Extend link");
        let token = extend.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let before = sms_expiry(&app, &a).unwrap();
        let response = app.post_form("/renewal?lang=en", &form_body(&[("token", &token)])).await;
        assert_eq!(response.status(), 200);
        let after = sms_expiry(&app, &a).unwrap();
        assert_eq!(after, before.and_utc().checked_add_months(chrono::Months::new(24)).unwrap().naive_utc());
        assert_eq!(actions(&app, &a, "marketing_sms"), ["granted", "renewed"]);
        assert_eq!(app.post_form("/renewal", &form_body(&[("token", &token)])).await.status(), 410, "single use");

        // B never answers: at expiry the phone number is gone and the ledger says expired.
        // A, extended, gets the two-yearly marketing reminder instead.
        let said = run_at(&app, expiry + Duration::days(1));
        assert!(said.contains("1 expired"), "{said}");
        assert!(app.stored_values(&b_email, "phone").is_empty());
        assert_eq!(actions(&app, &b, "marketing_sms"), ["granted", "expired"]);
        assert_eq!(app.stored_values(&a_email, "phone"), ["010-1212-3434"]);
        assert_eq!(actions(&app, &a, "marketing_sms"), ["granted", "renewed", "notified"]);
        let notice = app.wait_for_mail(&a_email, "Reminder").await;
        assert!(notice.text.contains("Sender:") && notice.text.contains("/u?token="));

        // When B's last purpose (service, 3 years) ends, B is erased entirely.
        let said = run_at(&app, expiry + Duration::days(400));
        assert!(said.contains("people erased"), "{said}");
        let subject = assent::db::subjects::find(&mut app.conn(), &b).unwrap().unwrap();
        assert!(subject.wrapped_key.is_none() && subject.erased_at.is_some(), "B is crypto-shredded");
        assert_eq!(actions(&app, &b, "service"), ["granted", "expired"]);
        assert_eq!(actions(&app, &b, "*"), ["erased"], "one non-personal event for the person as a whole");
        assert!(app.stored_values(&a_email, "phone") == ["010-1212-3434"], "A keeps what A extended");
        assert!(app.cli(&["ledger", "verify"]).status.success());

        let report = app.cli(&["retention", "report", "--within", "4y", "--now", &(expiry + Duration::days(400)).to_rfc3339()]);
        let report = String::from_utf8_lossy(&report.stdout).to_string();
        assert!(report.contains("marketing_sms") && report.contains("expire now"), "{report}");
        assert!(report.contains("1 renewed") && report.contains("erased"), "what was done is shown too: {report}");
    }

    async fn a_run_in_small_batches_ends_each_consent_once(app: TestApp) {
        // Seven people, each with a service and an SMS consent; at the service expiry (3 years)
        // both are due. Pages of two, through expiry order with a cursor: every SMS consent first
        // (each batch ends its people's service consents too, and erases them), then what is left
        // of the service ones.
        let mut people = Vec::new();
        for _ in 0..7 {
            people.push(with_sms(&app).await);
        }
        let at = (people.iter().map(|p| p.2).max().unwrap() + Duration::days(400)).to_rfc3339();
        let out = app.cli_with(&["retention", "run", "--now", &at], &[("ASSENT_RETENTION_BATCH", "2")]);
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(said.contains(", 14 expired,") && said.contains(", 7 people erased"), "{said}");
        for (email, id, _) in &people {
            assert_eq!(actions(&app, id, "marketing_sms"), ["granted", "expired"], "ended once");
            assert_eq!(actions(&app, id, "service"), ["granted", "expired"], "ended once");
            assert_eq!(actions(&app, id, "*"), ["erased"]);
            assert!(app.stored_values(email, "phone").is_empty());
        }
        let again = app.cli_with(&["retention", "run", "--now", &at], &[("ASSENT_RETENTION_BATCH", "2")]);
        let again = String::from_utf8_lossy(&again.stdout).into_owned();
        assert!(again.contains(", 0 expired,") && again.contains(", 0 people erased"), "nothing is left: {again}");
        assert!(app.cli(&["ledger", "verify"]).status.success());
    }

    async fn a_run_killed_mid_batch_and_run_again_ends_in_the_same_state(app: TestApp) {
        let mut people = Vec::new();
        for _ in 0..60 {
            people.push(with_sms(&app).await);
        }
        let expiry = people.iter().map(|p| p.2).max().unwrap();
        for at in [expiry - Duration::days(10), expiry + Duration::days(1)] {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_assent"))
                .args(["retention", "run", "--now", &at.to_rfc3339()])
                .env("ASSENT_DATABASE_URL", &app.db.url)
                .env("ASSENT_DATA_DIR", app.db.dir.path())
                .env("ASSENT_MASTER_KEY", &app.master_key)
                .env("ASSENT_RETENTION_BATCH", "3")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            // Kill it (SIGKILL) as soon as it reports its first batch.
            let mut stderr = child.stderr.take().unwrap();
            let mut first = [0u8; 8];
            let _ = std::io::Read::read(&mut stderr, &mut first);
            child.kill().unwrap();
            child.wait().unwrap();
            run_at(&app, at);
        }
        for (email, id, _) in &people {
            assert_eq!(outbox_count(&app, "renewal", id), 1, "exactly one renewal mail each");
            assert_eq!(actions(&app, id, "marketing_sms"), ["granted", "expired"], "expired exactly once");
            assert!(app.stored_values(email, "phone").is_empty());
        }
        assert!(app.cli(&["ledger", "verify"]).status.success());
    }
}

/// With several processes on one PostgreSQL, only one runs retention at a time.
#[tokio::test]
async fn only_one_process_runs_retention_at_a_time_on_postgres() {
    let Some(app) = TestApp::spawn_if_available(Backend::Postgres).await else { return };
    let url = assent::db::DbUrl::parse(&app.db.url).unwrap();
    let held = assent::db::JobLock::try_acquire(&url, "retention").unwrap().expect("the lock is free");
    assert!(assent::db::JobLock::try_acquire(&url, "retention").unwrap().is_none(), "a second holder is refused");
    let busy = app.cli(&["retention", "run"]);
    assert_eq!(busy.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("another process"));
    drop(held);
    let free = app.cli(&["retention", "run"]);
    assert!(free.status.success(), "{}", String::from_utf8_lossy(&free.stderr));
}
