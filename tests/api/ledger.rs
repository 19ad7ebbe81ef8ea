//! The consent ledger: what each event records, and `assent ledger verify` catching tampering.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::schema::consent_events;
use diesel::prelude::*;

fn verify(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["ledger", "verify"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Tampering means going around the append-only guard first, as an attacker with database
/// access would.
fn drop_append_only_guard(app: &TestApp) {
    let mut c = app.conn();
    let statements: &[&str] = match app.db.backend {
        Backend::Sqlite => &["DROP TRIGGER consent_events_no_update", "DROP TRIGGER consent_events_no_delete"],
        Backend::Postgres => &["DROP TRIGGER consent_events_no_change ON consent_events"],
    };
    for sql in statements {
        diesel::sql_query(*sql).execute(&mut c).unwrap();
    }
}

/// Three form posts from the shop's own site (an allowed origin, so its `Origin` is recorded).
async fn three_submissions(app: &TestApp) {
    app.allow_origin("https://shop.example").await;
    for purposes in [&["service"][..], &["service", "marketing_email"], &["service", "personalisation"]] {
        let mut pairs = vec![("email", unique_email())];
        pairs.extend(purposes.iter().map(|p| ("purpose", p.to_string())));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app
            .client
            .post(app.url("/f/newsletter?lang=ko"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("user-agent", "Mozilla/5.0 (iPhone) TestBrowser")
            .header("origin", "https://shop.example")
            .header("sec-gpc", "1")
            .body(form_body(&pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
    }
}

on_both_backends! {
    async fn each_event_records_who_what_when_under_which_wording_and_with_what_evidence(app: TestApp) {
        three_submissions(&app).await;
        let events: Vec<assent::db::ledger::ConsentEvent> = consent_events::table
            .order(consent_events::seq.asc())
            .select(assent::db::ledger::ConsentEvent::as_select())
            .load(&mut app.conn())
            .unwrap();
        assert_eq!(events.len(), 5);
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(events[0].prev_hash, "0".repeat(64));
        for pair in events.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash, "each event links to the one before");
        }
        let e = &events[2];
        assert_eq!((e.purpose_key.as_str(), e.action.as_str(), e.method.as_str()), ("marketing_email", "pending", "form"));
        assert_eq!(e.policy_text_hash.len(), 64);
        let age = chrono::Utc::now().naive_utc() - e.occurred_at;
        assert!(age.num_seconds().abs() < 60, "stored in UTC");
        assert!(!e.evidence.contains("TestBrowser"), "evidence is sealed under the subject's key");
        let evidence = serde_json::to_value(app.open_evidence(e)).unwrap();
        assert_eq!(evidence["user_agent"], "Mozilla/5.0 (iPhone) TestBrowser");
        assert_eq!(evidence["origin"], "https://shop.example");
        assert_eq!(evidence["locale"], "ko");
        assert_eq!(evidence["gpc"], true);
        assert_eq!(evidence["ip_hash"].as_str().unwrap().len(), 32, "a keyed pseudonym, not the address");
        assert!(!evidence.to_string().contains("127.0.0.1"));
        let source_exists: i64 = assent::db::schema::submissions::table
            .filter(assent::db::schema::submissions::id.eq(&e.source))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(source_exists, 1, "the event names the submission it came from");
    }

    async fn the_ledger_refuses_updates_and_deletes(app: TestApp) {
        three_submissions(&app).await;
        let mut c = app.conn();
        assert!(diesel::sql_query("UPDATE consent_events SET action = 'withdrawn' WHERE seq = 1").execute(&mut c).is_err());
        assert!(diesel::sql_query("DELETE FROM consent_events WHERE seq = 1").execute(&mut c).is_err());
        assert!(verify(&app).0);
    }

    async fn events_appended_in_one_go_land_whole_in_order(app: TestApp) {
        // 343 people imported in one chunk: one append of 343 events, written in statements of
        // 256, 64, 16 and 4 rows and three single rows (`insert_cached!`).
        let emails: Vec<String> = (0..343).map(|_| unique_email()).collect();
        let mut csv = String::from("email,service,consented_at\n");
        for email in &emails {
            csv.push_str(&format!("{email},Y,2026-03-05\n"));
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), csv).unwrap();
        let out = app.cli(&["import", "--form", "newsletter", "--json", file.path().to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let seqs: Vec<i64> =
            consent_events::table.select(consent_events::seq).order(consent_events::seq.asc()).load(&mut app.conn()).unwrap();
        assert_eq!(seqs, (1..=343).collect::<Vec<i64>>(), "every event once, numbered without a gap");
        let (ok, text) = verify(&app);
        assert!(ok && text.contains("343 events verified"), "{text}");
        for email in [&emails[0], &emails[255], &emails[256], &emails[339], &emails[342]] {
            let answer = app.consents_of(app.integrator_key(), email).await;
            assert_eq!(status_in(&answer, "service"), "granted", "{email}: {answer}");
        }
    }

    async fn verify_passes_on_an_intact_ledger(app: TestApp) {
        three_submissions(&app).await;
        let (ok, text) = verify(&app);
        assert!(ok, "{text}");
        assert!(text.contains("5 events verified"), "{text}");
    }

    async fn verify_names_an_edited_event(app: TestApp) {
        three_submissions(&app).await;
        drop_append_only_guard(&app);
        diesel::sql_query("UPDATE consent_events SET action = 'withdrawn' WHERE seq = 3").execute(&mut app.conn()).unwrap();
        let (ok, text) = verify(&app);
        assert!(!ok);
        assert!(text.contains("event #3") && text.contains("edited"), "{text}");
    }

    async fn verify_names_a_deleted_event(app: TestApp) {
        three_submissions(&app).await;
        drop_append_only_guard(&app);
        diesel::sql_query("DELETE FROM consent_events WHERE seq = 2").execute(&mut app.conn()).unwrap();
        let (ok, text) = verify(&app);
        assert!(!ok);
        assert!(text.contains("event #3") && text.contains("gap"), "{text}");
    }

    async fn verify_catches_reordered_and_truncated_events(app: TestApp) {
        three_submissions(&app).await;
        drop_append_only_guard(&app);
        let mut c = app.conn();
        for sql in [
            "UPDATE consent_events SET seq = 100 WHERE seq = 2",
            "UPDATE consent_events SET seq = 2 WHERE seq = 3",
            "UPDATE consent_events SET seq = 3 WHERE seq = 100",
        ] {
            diesel::sql_query(sql).execute(&mut c).unwrap();
        }
        let (ok, text) = verify(&app);
        assert!(!ok);
        assert!(text.contains("event #2"), "{text}");

        // Put the order back, then cut the tail: the recorded head notices.
        for sql in [
            "UPDATE consent_events SET seq = 100 WHERE seq = 2",
            "UPDATE consent_events SET seq = 2 WHERE seq = 3",
            "UPDATE consent_events SET seq = 3 WHERE seq = 100",
        ] {
            diesel::sql_query(sql).execute(&mut c).unwrap();
        }
        assert!(verify(&app).0, "restored order verifies again");
        diesel::sql_query("DELETE FROM consent_events WHERE seq = 5").execute(&mut c).unwrap();
        let (ok, text) = verify(&app);
        assert!(!ok);
        assert!(text.contains("removed from the end"), "{text}");
    }
}
