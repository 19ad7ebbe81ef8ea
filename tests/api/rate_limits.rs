//! Flooding the submission endpoints: a per-client limit, answered 429 with nothing written.

use crate::helpers::*;
use serde_json::json;

async fn app_with_limit(per_minute: u32) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |s| {
        s.submissions_per_minute = per_minute;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    .expect("SQLite is always available")
}

fn newsletter(email: &str) -> String {
    form_body(&[("email", email), ("purpose", "service")])
}

#[tokio::test]
async fn a_client_past_its_submission_limit_is_refused_and_nothing_is_written() {
    let app = app_with_limit(3).await;
    for _ in 0..3 {
        assert_eq!(app.post_form("/f/newsletter", &newsletter(&unique_email())).await.status(), 303);
    }
    let refused = app.post_form("/f/newsletter?lang=ko", &newsletter(&unique_email())).await;
    assert_eq!(refused.status(), 429);
    let page = refused.text().await.unwrap();
    assert!(page.contains("lang=\"ko\""), "the refusal is a page in the visitor's language");
    let json = app
        .post_json(
            "/api/v1/forms/newsletter/submissions",
            &json!({ "fields": { "email": unique_email() }, "purposes": ["service"] }),
        )
        .await;
    assert_eq!(json.status(), 429, "the HTML form and the JSON API share the client's allowance");
    assert_eq!(problem(json).await["code"], "rate_limited");
    assert_eq!(app.row_counts(), [3, 3, 3, 3, 3], "refused submissions left nothing behind");
}

#[tokio::test]
async fn invalid_submissions_do_not_use_up_the_allowance() {
    let app = app_with_limit(2).await;
    for _ in 0..5 {
        assert_eq!(app.post_form("/f/newsletter", &newsletter("not an address")).await.status(), 422);
    }
    for _ in 0..2 {
        assert_eq!(app.post_form("/f/newsletter", &newsletter(&unique_email())).await.status(), 303);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = app_with_limit(2).await;
    let post = |client: &'static str| {
        app.client
            .post(app.url("/f/newsletter"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
            .body(newsletter(&unique_email()))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(post("198.51.100.7").await.unwrap().status(), 303);
    }
    assert_eq!(post("198.51.100.7").await.unwrap().status(), 429);
    assert_eq!(post("198.51.100.8").await.unwrap().status(), 303, "another client behind the same proxy");
}

/// Two servers on one PostgreSQL database allow, together, what one allows: the counts are in
/// the database. (On SQLite one server holds the database, and counts in memory.)
#[tokio::test]
async fn servers_sharing_a_postgres_database_share_the_submission_allowance() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| s.submissions_per_minute = 3).await else { return };
    let other = app.another_server_with(|s| s.submissions_per_minute = 3).await;
    // Counted in one-minute windows: start well inside one.
    let into_minute = chrono::Utc::now().timestamp() % 60;
    if into_minute > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(u64::try_from(61 - into_minute).unwrap())).await;
    }
    let post = |base: String| {
        let client = app.client.clone();
        async move {
            client
                .post(format!("{base}/f/newsletter"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(newsletter(&unique_email()))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let statuses = [
        post(app.address.clone()).await,
        post(other.clone()).await,
        post(app.address.clone()).await,
        post(other.clone()).await,
        post(app.address.clone()).await,
    ];
    assert_eq!(statuses, [303, 303, 303, 429, 429], "three in all, whichever server is asked");
    use diesel::prelude::*;
    let windows: i64 = assent::db::schema::rate_windows::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(windows, 1, "one counter, under a keyed hash of the client");
}
