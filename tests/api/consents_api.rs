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
            .post_json_as_integrator(
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
        eventually("the change listener never connected", || async { changes.stamp().is_some() }).await;
        let before = changes.stamp().expect("changes are followed");
        // A write that touches no subject or consent row: on PostgreSQL no notification comes,
        // so only the writer itself can have moved the stamp.
        let written: Result<_, assent::web::error::AppError> =
            app.state.db.writer.write(|tx| Ok(assent::services::keys::create(tx.conn, "stamp test", None, assent::domain::scopes::Scopes::all(), None)?)).await;
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
        assert!(assent::services::keys::KEY_CACHE_TTL < std::time::Duration::from_secs(10));
        eventually("a key revoked elsewhere kept working", || async { check().await.unwrap().status() == 401 }).await;
        for _ in 0..3 {
            assert_eq!(check().await.unwrap().status(), 401);
        }
    }

    async fn the_consent_check_never_answers_from_before_a_change(app: TestApp) {
        let key = app.api_key();
        let (email, subject_id) = grant_personalisation(&app).await;
        let check = |server: String| personalisation(&app, server, &key, &email);
        let change = |server: String, action: &'static str| set_personalisation(&app, server, &key, &subject_id, action);
        // Asked twice: the second answer comes from the consent cache.
        assert_eq!(check(app.address.clone()).await, "granted");
        assert_eq!(check(app.address.clone()).await, "granted");

        // A change through this server is answered at once.
        change(app.address.clone(), "withdraw").await;
        assert_eq!(check(app.address.clone()).await, "withdrawn");
        assert_eq!(check(app.address.clone()).await, "withdrawn");

        // A change through another server on the same database: once the first server's watcher
        // has seen it (SQLite's change counter, PostgreSQL's notification), within milliseconds.
        let other = app.another_server().await;
        change(other.clone(), "grant").await;
        assert_eq!(check(other.clone()).await, "granted");
        eventually("the first server kept answering from before the change", || async {
            check(app.address.clone()).await == "granted"
        })
        .await;
        // And back, through the other server again, while the first one has it cached.
        assert_eq!(check(app.address.clone()).await, "granted");
        change(other.clone(), "withdraw").await;
        eventually("the first server kept answering from before the withdrawal", || async {
            check(app.address.clone()).await == "withdrawn"
        })
        .await;
    }

    async fn people_signing_up_leave_the_others_cached_answers_standing(app: TestApp) {
        let key = app.api_key();
        let (email, subject_id) = grant_personalisation(&app).await;
        let here = || personalisation(&app, app.address.clone(), &key, &email);
        let newcomer = unique_email();
        let newcomer_check = || personalisation(&app, app.address.clone(), &key, &newcomer);
        assert_eq!(newcomer_check().await, "never", "not known yet: and that answer is cached too");
        // A key's first use of the day is recorded on the key (a write to what a cache reads:
        // everything), queued and not waited for: let both keys' land first.
        eventually("a key's first use was never recorded", || async {
            use assent::db::schema::api_keys;
            use diesel::QueryDsl;
            let unused: i64 =
                api_keys::table.filter(api_keys::last_used_at.is_null()).count().get_result(&mut app.conn()).unwrap();
            unused == 0
        })
        .await;
        eventually("the answer was never cached", || async {
            let before = from_cache(&app).await;
            here().await == "granted" && from_cache(&app).await > before
        })
        .await;

        // Someone else signs up (a commit through this server's writer).
        let body = json!({ "fields": { "email": newcomer, "name": "Jisoo" }, "purposes": ["service", "personalisation"] });
        assert_eq!(app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);
        // The new person is answered at once: their address was written.
        assert_eq!(newcomer_check().await, "granted");
        let before = from_cache(&app).await;
        assert_eq!(here().await, "granted");
        assert_eq!(from_cache(&app).await, before + 1.0, "another person's signup emptied this one's entry");
        // This person's own change is answered at once, whoever else is cached.
        set_personalisation(&app, app.address.clone(), &key, &subject_id, "withdraw").await;
        assert_eq!(here().await, "withdrawn");
        assert_eq!(newcomer_check().await, "granted");
    }

    async fn another_servers_signups_leave_the_others_cached_answers_standing_on_postgres(app: TestApp) {
        // On PostgreSQL another process's commit names the people it wrote (SQLite cannot tell
        // whom another process's commit was about: there it distrusts every entry).
        if matches!(app.db.backend, Backend::Sqlite) {
            return;
        }
        let key = app.api_key();
        let (email, _) = grant_personalisation(&app).await;
        let here = || personalisation(&app, app.address.clone(), &key, &email);
        let other = app.another_server().await;
        // The other server's start-up may write what distrusts everything; a signup through it
        // is then tried again until one is seen here with this person's entry still cached.
        eventually("another server's signup emptied someone else's entry", || async {
            assert_eq!(here().await, "granted");
            let newcomer = unique_email();
            assert_eq!(personalisation(&app, app.address.clone(), &key, &newcomer).await, "never");
            let body = json!({ "fields": { "email": newcomer, "name": "Jisoo" }, "purposes": ["service", "personalisation"] });
            let url = format!("{other}/api/v1/forms/newsletter/submissions");
            let signed_up = app.client.post(url).bearer_auth(app.integrator_key()).json(&body).send().await.unwrap();
            assert_eq!(signed_up.status(), 201);
            // The newcomer's cached "never" is not trusted once the other server's commit is heard.
            eventually("the other server's signup was never heard", || async {
                personalisation(&app, app.address.clone(), &key, &newcomer).await == "granted"
            })
            .await;
            let before = from_cache(&app).await;
            here().await == "granted" && from_cache(&app).await == before + 1.0
        })
        .await;
    }

    async fn the_check_takes_the_address_in_a_post_body_so_it_stays_out_of_urls(app: TestApp) {
        let key = app.api_key();
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "personalisation")]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        let by_get: serde_json::Value = app
            .client
            .get(app.url(&format!("/api/v1/consents?email={}", email.replace('@', "%40"))))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let post =
            |body: serde_json::Value| app.client.post(app.url("/api/v1/consents")).bearer_auth(&key).json(&body).send();
        let by_post = post(serde_json::json!({ "email": email })).await.unwrap();
        assert_eq!(by_post.status(), 200);
        assert_eq!(by_post.json::<serde_json::Value>().await.unwrap(), by_get, "the same answer as the GET");

        let both = post(serde_json::json!({ "email": email, "external_id": "CUST-1" })).await.unwrap();
        assert_eq!(both.status(), 400);
        assert_eq!(problem(both).await["code"], "invalid_request");
        let neither = post(serde_json::json!({})).await.unwrap();
        assert_eq!(neither.status(), 400);
        let not_an_address = post(serde_json::json!({ "email": "nobody" })).await.unwrap();
        assert_eq!(not_an_address.status(), 422);
        let stray = post(serde_json::json!({ "mail": email })).await.unwrap();
        assert_eq!(stray.status(), 400, "an unknown member is refused, not ignored");
        let as_form = app
            .client
            .post(app.url("/api/v1/consents"))
            .bearer_auth(&key)
            .body("email=a%40b.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap();
        assert_eq!(as_form.status(), 415);
        let anonymous = app
            .client
            .post(app.url("/api/v1/consents"))
            .json(&serde_json::json!({ "email": email }))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
    }
}

/// On PostgreSQL, the consent cache follows other servers' changes through a listener
/// connection. When that connection is lost, nothing cached before is trusted again: the
/// cache is off until the listener is back, then starts afresh.
#[tokio::test]
async fn the_consent_check_survives_losing_its_change_listener() {
    let Some(app) = TestApp::spawn_if_available(Backend::Postgres).await else { return };
    let key = app.api_key();
    let (email, subject_id) = grant_personalisation(&app).await;
    let check = || personalisation(&app, app.address.clone(), &key, &email);
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
    set_personalisation(&app, other.clone(), &key, &subject_id, "withdraw").await;
    eventually("an answer cached before the listener was lost was trusted after it", || async {
        check().await == "withdrawn"
    })
    .await;
    // The listener is back (a new connection), and still follows changes. Two servers run now;
    // the first one's listener is the one that is not the second's.
    let lost = before[0];
    eventually("the listener did not come back", || {
        let now = listeners(&mut conn);
        async move { now.len() == 2 && !now.contains(&lost) }
    })
    .await;
    assert_eq!(check().await, "withdrawn");
    set_personalisation(&app, other.clone(), &key, &subject_id, "grant").await;
    eventually("the reconnected listener did not follow the change", || async { check().await == "granted" }).await;
}

/// A new person who granted `personalisation` through the JSON API: their address and subject id.
/// Consent checks answered from the cache so far (`/metrics`).
async fn from_cache(app: &TestApp) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with(r#"assent_consent_checks_total{source="cache"}"#));
    line.and_then(|l| l.rsplit_once(' ')).map_or(0.0, |(_, v)| v.parse().unwrap())
}

async fn grant_personalisation(app: &TestApp) -> (String, String) {
    let email = unique_email();
    let body = json!({ "fields": { "email": email, "name": "Minji" }, "purposes": ["service", "personalisation"] });
    let created = app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await;
    assert_eq!(created.status(), 201);
    let subject_id = created.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    (email, subject_id)
}

/// The status of `personalisation` for `email`, as the consent check on `server` answers it.
async fn personalisation(app: &TestApp, server: String, key: &str, email: &str) -> String {
    let url = format!("{server}/api/v1/consents?email={}", email.replace('@', "%40"));
    let response = app.client.get(url).bearer_auth(key).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let consents = body["consents"].as_array().unwrap().clone();
    consents.into_iter().find(|c| c["purpose"] == "personalisation").unwrap()["status"].as_str().unwrap().to_owned()
}

/// Grants or withdraws `personalisation` through the subject API of `server`.
async fn set_personalisation(app: &TestApp, server: String, key: &str, subject_id: &str, action: &str) {
    let url = format!("{server}/api/v1/subjects/{subject_id}/consents");
    let body = json!({ "purpose": "personalisation", "action": action });
    let response = app.client.post(url).bearer_auth(key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "{action}");
}
