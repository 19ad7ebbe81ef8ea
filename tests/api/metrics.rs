//! `/metrics`: Prometheus text that moves when people submit, readable from loopback, or only
//! with the bearer token when `ASSENT_METRICS_TOKEN` is set.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// `name{labels}` → value, from the text exposition.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_owned(), v.parse().unwrap()))
        .collect()
}

fn sample(all: &BTreeMap<String, f64>, key: &str) -> f64 {
    all.get(key).copied().unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    samples(&response.text().await.unwrap())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

on_both_backends! {
    async fn consent_checks_are_counted_by_where_they_were_answered_from(app: TestApp) {
        let key = app.api_key();
        let check = || async {
            let response = app.client.get(app.url("/api/v1/consents?email=minji%40example.com")).bearer_auth(&key).send().await.unwrap();
            assert_eq!(response.status(), 200);
        };
        let before = scrape(&app).await;
        check().await;
        let once = scrape(&app).await;
        let from = |all: &BTreeMap<String, f64>, source: &str| sample(all, &format!(r#"assent_consent_checks_total{{source="{source}"}}"#));
        assert_eq!(from(&once, "database") - from(&before, "database"), 1.0, "the first check reads the database");
        // Asked again with nothing committed since: from memory. (On PostgreSQL once the change
        // listener is connected; until then every check reads the database.)
        eventually("no consent check was answered from the cache", || async {
            check().await;
            from(&scrape(&app).await, "cache") > from(&once, "cache")
        })
        .await;
    }

    async fn counters_move_after_a_submission(app: TestApp) {
        let before = scrape(&app).await;
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "marketing_email")]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        let api = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
        assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &api).await.status(), 201);
        let after = scrape(&app).await;

        let grew = |key: &str, by: f64| {
            assert!(sample(&after, key) - sample(&before, key) >= by, "{key}: {} → {}", sample(&before, key), sample(&after, key));
        };
        grew("assent_submissions_total", 2.0);
        grew(r#"assent_consent_events_total{action="granted"}"#, 2.0);
        grew(r#"assent_consent_events_total{action="pending"}"#, 1.0);
        grew(r#"assent_http_requests_total{method="POST",route="/f/{form}",status="3xx"}"#, 1.0);
        grew(r#"assent_http_requests_total{method="POST",route="/api/v1/forms/{form}/submissions",status="2xx"}"#, 1.0);
        grew(r#"assent_http_request_duration_seconds_count{method="POST",route="/f/{form}"}"#, 1.0);
        assert!(after.contains_key("assent_outbox_backlog"), "the backlog gauge is read at scrape");
        assert!(
            after.keys().all(|k| !k.contains(&email) && !k.contains("kim.")),
            "labels never carry what people typed"
        );

        // The retention run at start is counted (it runs in the background: wait for it).
        let mut runs = 0.0;
        for _ in 0..300 {
            let now = scrape(&app).await;
            runs = now.iter().filter(|(k, _)| k.starts_with("assent_retention_runs_total")).map(|(_, v)| v).sum();
            if runs > 0.0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(runs >= 1.0, "retention runs are counted");
    }

    async fn with_a_metrics_token_only_its_bearer_may_scrape(app: TestApp) {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_assent"))
            .arg("serve")
            .env("ASSENT_DATABASE_URL", &app.db.url)
            .env("ASSENT_DATA_DIR", app.db.dir.path())
            .env("ASSENT_MASTER_KEY", &app.master_key)
            .env("ASSENT_BIND", format!("127.0.0.1:{port}"))
            .env("ASSENT_CONFIG", workspace_file())
            .env("ASSENT_METRICS_TOKEN", "scrape-secret-42")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let started = stdout.lines().map_while(Result::ok).any(|l| l.starts_with("Open the demo form: "));
        assert!(started, "serve starts");
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/metrics");
        let none = client.get(&url).send().await.unwrap();
        let wrong = client.get(&url).bearer_auth("scrape-secret-41").send().await.unwrap();
        let right = client.get(&url).bearer_auth("scrape-secret-42").send().await.unwrap();
        let (none, wrong, right) = (none.status(), wrong.status(), right.status());
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(none, 401, "no token, even from loopback");
        assert_eq!(wrong, 401);
        assert_eq!(right, 200);
    }

    async fn a_proxy_on_this_machine_does_not_open_the_metrics_to_those_it_forwards(app: TestApp) {
        let behind = app.another_server_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
        let scrape = |server: String, lines: &'static [&'static str]| {
            let mut request = app.client.get(format!("{server}/metrics"));
            for line in lines {
                request = request.header("x-forwarded-for", *line);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(scrape(behind.clone(), &[]).await, 403, "a proxy alone may be forwarding anyone");
        assert_eq!(scrape(behind.clone(), &["203.0.113.5"]).await, 403, "it forwards someone else");
        assert_eq!(scrape(behind.clone(), &["127.0.0.1"]).await, 200, "it forwards a scraper on this machine");
        // Every X-Forwarded-For line is read: the client is the right-most hop not a proxy.
        assert_eq!(scrape(behind.clone(), &["127.0.0.1", "203.0.113.5"]).await, 403);
        // Without trusted proxies the peer is the client, whatever the header says.
        assert_eq!(scrape(app.address.clone(), &["203.0.113.5"]).await, 200);
    }

    async fn a_body_sent_slowly_is_cut_off_while_others_are_answered(app: TestApp) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let server = app.another_server_with(|s| s.body_timeout = std::time::Duration::from_secs(1)).await;
        let mut slow = tokio::net::TcpStream::connect(server.trim_start_matches("http://")).await.unwrap();
        let head = "POST /api/v1/forms/newsletter/submissions HTTP/1.1\r\nHost: localhost\r\n\
                    Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"fie";
        slow.write_all(head.as_bytes()).await.unwrap();
        // Meanwhile the server answers others.
        let other = app.client.get(format!("{server}/f/newsletter?lang=en")).send().await.unwrap();
        assert_eq!(other.status(), 200);
        // The slow client gets a 408 and its connection is closed (read_to_end returns).
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(20), slow.read_to_end(&mut answer)).await;
        read.expect("the slow body was never cut off").unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
        use assent::db::schema::subjects;
        use diesel::prelude::*;
        let kept: i64 = subjects::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 0, "nothing was kept");
    }
}
