//! Many people at once, including the same person many times at once.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

on_both_backends! {
    async fn sixty_four_concurrent_first_submissions_of_one_address_make_one_subject(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "marketing_email")]);
        let requests = (0..64).map(|_| app.post_form("/f/newsletter", &body));
        let statuses: Vec<u16> = futures_util::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
        let [subjects, submissions, values, events, states] = app.row_counts();
        assert_eq!(subjects, 1);
        assert_eq!(submissions, 64);
        assert_eq!(values, 64);
        // The first grants service and asks to confirm marketing; each later one (a form cannot
        // tell who is typing) leaves the granted service alone and asks again for marketing.
        assert_eq!(events, 2 + 63);
        assert_eq!(states, 2);
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    async fn many_different_people_at_once_are_all_recorded(app: TestApp) {
        let bodies: Vec<String> = (0..100).map(|_| form_body(&[("email", &unique_email()), ("purpose", "service")])).collect();
        let requests = bodies.iter().map(|b| app.post_form("/f/newsletter", b));
        let responses = futures_util::future::join_all(requests).await;
        assert!(responses.iter().all(|r| r.status() == 303));
        assert_eq!(app.row_counts(), [100, 100, 100, 100, 100]);
    }

    async fn a_burst_mixing_new_returning_and_repeated_people_records_each_exactly_once(app: TestApp) {
        use assent::db::schema::outbox;
        use diesel::prelude::*;
        let hour = || chrono::Utc::now().format("%Y-%m-%dT%H").to_string();
        let started = hour();
        let body = |email: &str, name: &str| {
            form_body(&[
                ("email", email),
                ("name", name),
                ("purpose", "service"),
                ("purpose", "marketing_email"),
                ("purpose", "personalisation"),
            ])
        };
        // Ten people who signed up before (their marketing e-mail awaits confirmation).
        let returning: Vec<String> = (0..10).map(|_| unique_email()).collect();
        for email in &returning {
            assert_eq!(app.post_form("/f/newsletter", &body(email, "before")).await.status(), 303);
        }
        // Then, all at once: the ten again, ten new people twice each, ten new people once.
        let twice: Vec<String> = (0..10).map(|_| unique_email()).collect();
        let once: Vec<String> = (0..10).map(|_| unique_email()).collect();
        let burst: Vec<String> = returning
            .iter()
            .chain(&twice)
            .chain(&twice)
            .chain(&once)
            .enumerate()
            .map(|(i, email)| body(email, &format!("burst {i}")))
            .collect();
        let responses = futures_util::future::join_all(burst.iter().map(|b| app.post_form("/f/newsletter", b))).await;
        let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");

        // 30 people, 50 submissions of two values each. A first submission has three consent
        // events; a repeat (an unauthenticated form) only asks again to confirm marketing.
        let [subjects, submissions, values, events, states] = app.row_counts();
        assert_eq!(subjects, 30);
        assert_eq!(submissions, 50);
        // A repeat's new name would change the name held: it waits for the person's confirmation.
        assert_eq!(values, 100 - 20);
        let waiting: i64 = assent::db::schema::pending_values::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(waiting, 20);
        assert_eq!(events, 30 * 3 + 20);
        assert_eq!(states, 90);
        for email in &returning {
            assert_eq!(app.stored_values(email, "name"), ["before"], "{email}");
        }
        for email in &twice {
            assert_eq!(app.stored_values(email, "name").len(), 1, "{email}");
        }
        for email in &once {
            assert_eq!(app.stored_values(email, "email"), vec![email.clone()]);
        }
        // One confirmation mail per person per hour, however often they sent the form.
        let mails: i64 =
            outbox::table.filter(outbox::kind.eq("confirm_consent")).count().get_result(&mut app.conn()).unwrap();
        if hour() == started {
            assert_eq!(mails, 30);
        } else {
            assert!((30..=40).contains(&mails), "{mails}");
        }
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    async fn a_submission_that_cannot_be_written_fails_alone_and_its_batch_is_recorded(app: TestApp) {
        use assent::domain::form::RawSubmission;
        use assent::domain::{Evidence, Locale, Method};
        use assent::services::submit::SubmissionInput;
        let catalog = app.state.catalog.current();
        let form = catalog.form("newsletter").unwrap().clone();
        let input = |email: String, version_id: &str| {
            let mut form = form.clone();
            form.version_id = version_id.to_owned();
            let raw = RawSubmission { fields: vec![("email".into(), email)], purposes: vec!["service".into()] };
            SubmissionInput {
                accepted: form.definition.accept(&raw, |p| catalog.is_required(p)).unwrap(),
                form,
                evidence: Evidence::default(),
                locale: Locale::EN,
                method: Method::Api,
                mail: app.state.mail.clone(),
                verified: true,
                opted_out: Vec::new(),
                guardian: None,
            }
        };
        // 48 submissions at once; the one in the middle names a form version that does not exist,
        // so the database refuses its row (foreign key) wherever it lands in a batch.
        let inputs: Vec<SubmissionInput> = (0..48)
            .map(|i| input(unique_email(), if i == 24 { "no-such-version" } else { form.version_id.as_str() }))
            .collect();
        let results = futures_util::future::join_all(
            inputs.into_iter().map(|i| app.state.submissions.record(catalog.clone(), i)),
        )
        .await;
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result.is_ok(), i != 24, "submission {i}: {:?}", result.as_ref().err());
        }
        assert_eq!(app.row_counts(), [47, 47, 47, 47, 47], "the refused one left nothing behind");
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    async fn concurrent_grants_and_withdrawals_of_one_purpose_end_in_the_state_of_the_last_event(app: TestApp) {
        use assent::db::schema::{consent_events, consent_state};
        use diesel::prelude::*;
        let key = app.api_key();
        let response = app
            .post_json_as_integrator(
                "/api/v1/forms/contact/submissions",
                &json!({ "fields": { "email": unique_email(), "name": "Lee", "message": "Hi", "phone": "010-3333-4444" }, "purposes": ["service", "marketing_sms"] }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let id = response.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
        let url = app.url(&format!("/api/v1/subjects/{id}/consents"));

        // 32 clients × 10 changes, half of them grants and half withdrawals, all at once.
        let clients = (0..32).map(|c| {
            let (client, url, key) = (app.client.clone(), url.clone(), key.clone());
            async move {
                let mut statuses = Vec::new();
                for i in 0..10 {
                    let action = if (c + i) % 2 == 0 { "withdraw" } else { "grant" };
                    let body = json!({ "purpose": "marketing_sms", "action": action });
                    let response = client.post(&url).bearer_auth(&key).json(&body).send().await.unwrap();
                    statuses.push(response.status().as_u16());
                }
                statuses
            }
        });
        let statuses: Vec<u16> = futures_util::future::join_all(clients).await.into_iter().flatten().collect();
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "only changes and conflicts, never a 5xx: {statuses:?}");
        let changed = statuses.iter().filter(|s| **s == 200).count();
        assert!(changed > 0);

        let mut c = app.conn();
        let events: Vec<(i64, String)> = consent_events::table
            .filter(consent_events::subject_id.eq(&id))
            .filter(consent_events::purpose_key.eq("marketing_sms"))
            .order(consent_events::seq.asc())
            .select((consent_events::seq, consent_events::action))
            .load(&mut c)
            .unwrap();
        assert_eq!(events.len(), 1 + changed, "every acknowledged change is one event, and only those: no lost update");
        for pair in events.windows(2) {
            assert_ne!(pair[0].1, pair[1].1, "grants and withdrawals alternate: each saw the one before: {events:?}");
        }
        let (status, last_seq): (String, i64) = consent_state::table
            .find((&id, "marketing_sms"))
            .select((consent_state::status, consent_state::last_event_seq))
            .first(&mut c)
            .unwrap();
        let (seq, action) = events.last().unwrap();
        assert_eq!(last_seq, *seq, "the state is that of the last event");
        assert_eq!(status, *action, "the state is that of the last event");
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Under sustained writes the SQLite write-ahead log stays bounded: SQLite starts it over only
/// once every frame has been copied into the database, which a checkpointer running beside a
/// never-idle writer does not achieve by itself (the WAL grew by about 30 KiB per submission,
/// without end).
#[tokio::test]
async fn the_sqlite_wal_stays_bounded_under_sustained_submissions() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let wal = app.db.dir.path().join("assent.db-wal");
    let largest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let (wal, largest) = (wal.clone(), largest.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(meta) = std::fs::metadata(&wal) {
                    largest.fetch_max(meta.len(), std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };
    // 32 clients, each sending its next submission as soon as the last is answered: the writer
    // is never idle.
    let clients = (0..32).map(|_| async {
        for _ in 0..125 {
            let body = json!({
                "fields": { "email": unique_email(), "name": "Jane", "phone": "010-1234-5678" },
                "purposes": ["service", "marketing_email", "marketing_sms", "personalisation"],
            });
            assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);
        }
    });
    futures_util::future::join_all(clients).await;
    watcher.abort();
    let largest = largest.load(std::sync::atomic::Ordering::Relaxed);
    let [subjects, ..] = app.row_counts();
    assert_eq!(subjects, 4000);
    assert!(largest <= 64 << 20, "the WAL reached {} MiB", largest >> 20);
}

on_both_backends! {
    async fn a_write_alone_that_fails_leaves_nothing_and_is_answered_with_its_own_error(app: TestApp) {
        use assent::db::schema::audit_log;
        use assent::services::ServiceError;
        use assent::services::audit::{Actor, audit_action};
        use diesel::prelude::*;
        let failed = app
            .state
            .db
            .writer
            .write(|tx| {
                audit_action(tx.conn, &Actor::Job("test"), "export_consents", None, "written_then_failed")?;
                Err::<(), _>(ServiceError::Unavailable)
            })
            .await;
        assert!(matches!(failed, Err(ServiceError::Unavailable)), "its own error, not a failed commit: {failed:?}");
        let kept: i64 =
            audit_log::table.filter(audit_log::detail.eq("written_then_failed")).count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 0, "nothing of it was saved");
        let next = app
            .state
            .db
            .writer
            .write(|tx| Ok::<_, ServiceError>(audit_action(tx.conn, &Actor::Job("test"), "export_consents", None, "written")?))
            .await;
        assert!(next.is_ok(), "the writer goes on");
        let kept: i64 = audit_log::table.filter(audit_log::detail.eq("written")).count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 1);
    }
}
