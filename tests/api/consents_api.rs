//! A CRM asks, before sending a campaign, whether it may contact someone.

use crate::helpers::*;
use crate::on_both_backends;
use diesel::{ExpressionMethods, RunQueryDsl};
use serde_json::json;

on_both_backends! {
    async fn the_consent_check_needs_a_valid_api_key(app: TestApp) {
        let response = app.get("/api/v1/consents?email=a%40b.example").await;
        assert_eq!(response.status(), 401);
        assert_eq!(problem(response).await["code"], "unauthorized");
        for header in ["Bearer assent_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer"] {
            let response = app.client.get(app.url("/api/v1/consents?email=a%40b.example")).header("authorization", header).send().await.unwrap();
            assert_eq!(response.status(), 401, "{header}");
        }
    }

    async fn the_consent_check_reports_each_purpose(app: TestApp) {
        let key = app.api_key();
        assert!(key.starts_with("assent_"));
        let email = unique_email();
        let created = app
            .post_json(
                "/api/v1/forms/newsletter/submissions",
                &json!({ "fields": { "email": email, "name": "Minji" }, "purposes": ["service", "marketing_email", "personalisation"] }),
            )
            .await;
        assert_eq!(created.status(), 201);
        let subject_id = created.json::<serde_json::Value>().await.unwrap()["subject_id"].clone();

        let lookup = format!("/api/v1/consents?email={}", email.to_uppercase().replace('@', "%40"));
        let response = app.client.get(app.url(&lookup)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["subject_id"], subject_id, "the address is matched case-insensitively");
        let state = |p: &str| body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == p).unwrap().clone();
        assert_eq!(state("personalisation")["status"], "granted");
        assert_eq!(state("personalisation")["policy_version"], 1);
        assert!(state("personalisation")["granted_at"].is_string());
        assert!(state("personalisation")["expires_at"].is_string());
        assert_eq!(state("marketing_email")["status"], "pending", "not yet confirmed by e-mail");
        assert!(state("marketing_email")["granted_at"].is_null());
        assert_eq!(state("marketing_sms")["status"], "never");
        assert!(state("marketing_sms")["expires_at"].is_null());

        let unknown = app.client.get(app.url("/api/v1/consents?email=nobody%40example.com")).bearer_auth(&key).send().await.unwrap();
        let body: serde_json::Value = unknown.json().await.unwrap();
        assert!(body["subject_id"].is_null());
        assert!(body["consents"].as_array().unwrap().iter().all(|c| c["status"] == "never"));

        let invalid = app.client.get(app.url("/api/v1/consents?email=not-an-address")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(invalid.status(), 422);
        assert_eq!(problem(invalid).await["errors"][0]["field"], "email");
        let missing = app.client.get(app.url("/api/v1/consents")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(missing.status(), 422);
    }

    async fn a_commit_by_this_server_changes_the_stamp_before_it_is_answered(app: TestApp) {
        let changes = app.state.consents.changes().clone();
        // (On PostgreSQL the listener may still be connecting.)
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let before = loop {
            match changes.stamp() {
                Some(stamp) => break stamp,
                None => assert!(std::time::Instant::now() < deadline, "the change listener never connected"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        // A write that touches no subject or consent row: on PostgreSQL no notification comes,
        // so only the writer itself can have moved the stamp.
        let written: Result<_, assent::web::error::AppError> =
            app.state.db.writer.write(|tx| Ok(assent::services::keys::create(tx.conn, "stamp test")?)).await;
        written.unwrap();
        let after = changes.stamp().expect("changes are followed");
        assert_ne!(before, after, "a cached answer from before this commit would still be trusted");
    }

    async fn a_key_revoked_by_another_process_stops_working(app: TestApp) {
        let key = app.api_key();
        let check = || app.client.get(app.url("/api/v1/consents?email=a%40b.example")).bearer_auth(&key).send();
        assert_eq!(check().await.unwrap().status(), 200);
        assert_eq!(check().await.unwrap().status(), 200, "now from the key cache");
        // Revoked behind this server's back, as another server or a database tool would.
        use assent::db::schema::api_keys;
        diesel::update(api_keys::table)
            .set(api_keys::revoked_at.eq(Some(chrono::Utc::now().naive_utc())))
            .execute(&mut app.conn())
            .unwrap();
        // Trusted at most KEY_CACHE_TTL after it was last found live; then never again, even
        // though nothing else changes in the database (on PostgreSQL the revocation itself
        // moves the change stamp, through the trigger on api_keys).
        let deadline = std::time::Instant::now() + assent::services::keys::KEY_CACHE_TTL * 2;
        while check().await.unwrap().status() != 401 {
            assert!(std::time::Instant::now() < deadline, "a key revoked elsewhere kept working");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        for _ in 0..3 {
            assert_eq!(check().await.unwrap().status(), 401);
        }
    }

    async fn the_consent_check_never_answers_from_before_a_change(app: TestApp) {
        let key = app.api_key();
        let email = unique_email();
        let created = app
            .post_json("/api/v1/forms/newsletter/submissions", &json!({ "fields": { "email": email, "name": "Minji" }, "purposes": ["service", "personalisation"] }))
            .await;
        assert_eq!(created.status(), 201);
        let subject_id = created.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
        let client = &app.client;
        let check = |server: String| {
            let (key, email) = (key.clone(), email.clone());
            async move {
                let url = format!("{server}/api/v1/consents?email={}", email.replace('@', "%40"));
                let body: serde_json::Value = client.get(url).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
                let consents = body["consents"].as_array().unwrap().clone();
                consents.into_iter().find(|c| c["purpose"] == "personalisation").unwrap()["status"].as_str().unwrap().to_owned()
            }
        };
        let change = |server: String, action: &'static str| {
            let url = format!("{server}/api/v1/subjects/{subject_id}/consents");
            let request = client.post(url).bearer_auth(&key).json(&json!({ "purpose": "personalisation", "action": action }));
            async move { assert_eq!(request.send().await.unwrap().status(), 200, "{action}") }
        };
        // Asked twice: the second answer comes from the consent cache.
        assert_eq!(check(app.address.clone()).await, "granted");
        assert_eq!(check(app.address.clone()).await, "granted");

        // A change through this server is answered at once.
        change(app.address.clone(), "withdraw").await;
        assert_eq!(check(app.address.clone()).await, "withdrawn");
        assert_eq!(check(app.address.clone()).await, "withdrawn");

        // A change through another server on the same database: on SQLite at once (the stamp is
        // the file's own change counter); on PostgreSQL once its notification has arrived.
        let other = app.another_server().await;
        change(other.clone(), "grant").await;
        assert_eq!(check(other.clone()).await, "granted");
        if app.db.backend == Backend::Sqlite {
            assert_eq!(check(app.address.clone()).await, "granted");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while check(app.address.clone()).await != "granted" {
            assert!(std::time::Instant::now() < deadline, "the first server kept answering from before the change");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // And back, through the other server again, while the first one has it cached.
        assert_eq!(check(app.address.clone()).await, "granted");
        change(other.clone(), "withdraw").await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while check(app.address.clone()).await != "withdrawn" {
            assert!(std::time::Instant::now() < deadline, "the first server kept answering from before the withdrawal");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

/// On PostgreSQL, the consent cache follows other servers' changes through a listener
/// connection. When that connection is lost, nothing cached before is trusted again: the
/// cache is off until the listener is back, then starts afresh.
#[tokio::test]
async fn the_consent_check_survives_losing_its_change_listener() {
    let Some(app) = TestApp::spawn_if_available(Backend::Postgres).await else { return };
    let key = app.api_key();
    let email = unique_email();
    let created = app
        .post_json(
            "/api/v1/forms/newsletter/submissions",
            &json!({ "fields": { "email": email, "name": "Jisoo" }, "purposes": ["service", "personalisation"] }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let subject_id = created.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    let check = || async {
        let url = app.url(&format!("/api/v1/consents?email={}", email.replace('@', "%40")));
        let response = app.client.get(url).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let consents = body["consents"].as_array().unwrap().clone();
        consents.into_iter().find(|c| c["purpose"] == "personalisation").unwrap()["status"].as_str().unwrap().to_owned()
    };
    assert_eq!(check().await, "granted");
    assert_eq!(check().await, "granted");

    let mut conn = app.db.connect();
    let database = app.db.url.rsplit('/').next().unwrap().to_owned();
    let listeners = |conn: &mut assent::db::DbConnection| -> Vec<i32> {
        #[derive(diesel::QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        diesel::sql_query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2")
            .bind::<diesel::sql_types::Text, _>(assent::db::changes::LISTENER_NAME)
            .bind::<diesel::sql_types::Text, _>(&database)
            .load::<Pid>(conn)
            .unwrap()
            .into_iter()
            .map(|p| p.pid)
            .collect()
    };
    let before = listeners(&mut conn);
    assert_eq!(before.len(), 1, "one listener per server");
    diesel::sql_query(format!("SELECT pg_terminate_backend({})", before[0])).execute(&mut conn).unwrap();

    // Another process changes the state while the listener is away or coming back.
    let other = app.another_server().await;
    let url = format!("{other}/api/v1/subjects/{subject_id}/consents");
    let withdrawn = app
        .client
        .post(url)
        .bearer_auth(&key)
        .json(&json!({ "purpose": "personalisation", "action": "withdraw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while check().await != "withdrawn" {
        assert!(
            std::time::Instant::now() < deadline,
            "an answer cached before the listener was lost was trusted after it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The listener is back (a new connection), and still follows changes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = listeners(&mut conn);
        // Two servers run now; the first one's listener is the one that is not the second's.
        if now.len() == 2 && !now.contains(&before[0]) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the listener did not come back: {now:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(check().await, "withdrawn");
    let url = format!("{other}/api/v1/subjects/{subject_id}/consents");
    let granted = app
        .client
        .post(url)
        .bearer_auth(&key)
        .json(&json!({ "purpose": "personalisation", "action": "grant" }))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while check().await != "granted" {
        assert!(std::time::Instant::now() < deadline, "the reconnected listener did not follow the change");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
