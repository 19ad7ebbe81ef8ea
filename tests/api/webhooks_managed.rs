//! Webhook endpoints declared through the API and in the console, beside the workspace file's:
//! the secret answered once and every delivery verified with it by the `standardwebhooks`
//! package; changed, rotated (old and new secret both verify for a day) and removed, each
//! audited; mistakes answered with stable codes next to their fields; the file's endpoints
//! changed only in the file.

#![allow(clippy::zombie_processes)]

use crate::helpers::*;
use crate::webhooks::{Receiver, SECRET, free_port, person, received_at, receiver_with};
use assent::db::schema::audit_log;
use assent::domain::owner::Role;
use diesel::prelude::*;
use serde_json::{Value, json};
use std::path::Path;

fn audited(app: &TestApp, action: &str) -> i64 {
    audit_log::table.filter(audit_log::action.eq(action)).count().get_result(&mut app.conn()).unwrap()
}

fn verified(out: &Path) -> (usize, Vec<Value>) {
    let lines = received_at(out, "/hook");
    let bad: Vec<Value> = lines.iter().filter(|l| l.get("bad").is_some()).cloned().collect();
    (lines.len() - bad.len(), bad)
}

async fn call(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(app.integrator_key());
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

/// Restarts the receiver with `secret`.
fn listen(port: u16, secret: &str, out: &Path, running: &mut Option<Receiver>) {
    running.take();
    *running = Some(receiver_with(port, secret, out));
}

async fn api_story(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (port, out) = (free_port(), dir.path().join("received.jsonl"));
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.webhook_allow_private = true;
        s.webhook_retry_speedup = 1000;
    })
    .await
    else {
        return;
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let body = json!({ "name": "crm", "url": url, "events": ["consent.*"] });
    let created = call(&app, reqwest::Method::POST, "/api/v1/webhooks", Some(body.clone())).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["location"], "/api/v1/webhooks/crm");
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!((&created["endpoint"]["managed"], &created["endpoint"]["behind"]), (&json!(true), &json!(0)));
    let shown: Value = call(&app, reqwest::Method::GET, "/api/v1/webhooks/crm", None).await.json().await.unwrap();
    assert!(!shown.to_string().contains(&secret), "the secret is answered once, never again");

    // Deliveries verify with the secret answered.
    let mut running = None;
    listen(port, &secret, &out, &mut running);
    person(&app).await;
    eventually("the new person's events arrive, verified", || async { verified(&out).0 >= 2 }).await;

    // Rotated: for a day both secrets sign, so a receiver on either verifies.
    let rotated = call(&app, reqwest::Method::POST, "/api/v1/webhooks/crm/rotate", None).await;
    assert_eq!(rotated.status(), 200);
    let new_secret = rotated.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    person(&app).await;
    eventually("verified with the old secret", || async { verified(&out).0 >= 4 }).await;
    listen(port, &new_secret, &out, &mut running);
    person(&app).await;
    eventually("verified with the new one", || async { verified(&out).0 >= 6 }).await;
    assert!(verified(&out).1.is_empty(), "every delivery verified: {:?}", verified(&out).1);

    // Changed: only erasures from now on.
    let changed =
        call(&app, reqwest::Method::PATCH, "/api/v1/webhooks/crm", Some(json!({ "events": ["subject.erased"] })));
    let changed: Value = changed.await.json().await.unwrap();
    assert_eq!((&changed["events"], &changed["url"]), (&json!(["subject.erased"]), &json!(url)));

    // Mistakes: every one by its field, with a stable code; nothing is recorded.
    let bad = json!({ "name": "CRM sync", "url": "ftp://crm.example/x", "events": ["consent.maybe"] });
    let refused = call(&app, reqwest::Method::POST, "/api/v1/webhooks", Some(bad)).await;
    assert_eq!(refused.status(), 422);
    let found = codes(&problem(refused).await);
    for expected in [("name", "invalid_key"), ("url", "invalid_url"), ("events", "invalid_choice")] {
        assert!(found.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{found:?}");
    }
    let empty =
        call(&app, reqwest::Method::POST, "/api/v1/webhooks", Some(json!({ "name": "", "url": "", "events": [] })));
    let found = codes(&problem(empty.await).await);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|(_, code)| code == "required"), "{found:?}");
    let taken = call(&app, reqwest::Method::POST, "/api/v1/webhooks", Some(body)).await;
    assert_eq!((taken.status().as_u16(), problem(taken).await["code"].clone()), (409, json!("webhook_name_taken")));
    let bad_change = call(&app, reqwest::Method::PATCH, "/api/v1/webhooks/crm", Some(json!({ "url": "not a url" })));
    assert_eq!(codes(&problem(bad_change.await).await), [("url".to_owned(), "invalid_url".to_owned())]);
    let unknown = call(&app, reqwest::Method::POST, "/api/v1/webhooks", Some(json!({ "name": "x", "colour": 1 })));
    assert_eq!(unknown.await.status(), 400);

    // Removed: gone with its deliveries, and nothing more is sent.
    let removed = call(&app, reqwest::Method::DELETE, "/api/v1/webhooks/crm", None).await;
    assert_eq!(removed.status(), 204);
    let gone = call(&app, reqwest::Method::GET, "/api/v1/webhooks/crm", None).await;
    assert_eq!((gone.status().as_u16(), problem(gone).await["code"].clone()), (404, json!("webhook_not_found")));
    let again = call(&app, reqwest::Method::DELETE, "/api/v1/webhooks/crm", None).await;
    assert_eq!(again.status(), 404);
    for action in ["webhook_created", "webhook_rotated", "webhook_changed", "webhook_removed"] {
        assert_eq!(audited(&app, action), 1, "{action} is audited");
    }
    let anonymous = app.client.post(app.url("/api/v1/webhooks")).json(&json!({})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// The file's endpoints are changed in the file, not through the API or the console.
async fn file_story(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(workspace_file()).unwrap();
    text.push_str(&format!(
        "\n[[webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{}/hook\"\nevents = [\"consent.*\"]\nsecret = \"{SECRET}\"\n",
        free_port()
    ));
    let config = dir.path().join("with-hook.toml");
    std::fs::write(&config, text).unwrap();
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.config = config.clone();
        s.webhook_allow_private = true;
    })
    .await
    else {
        return;
    };
    let change = call(&app, reqwest::Method::PATCH, "/api/v1/webhooks/crm", Some(json!({ "events": ["*"] })));
    assert_eq!(problem(change.await).await["code"], "webhook_declared_in_file");
    let rotate = call(&app, reqwest::Method::POST, "/api/v1/webhooks/crm/rotate", None).await;
    assert_eq!(problem(rotate).await["code"], "webhook_declared_in_file");
    let remove = call(&app, reqwest::Method::DELETE, "/api/v1/webhooks/crm", None).await;
    assert_eq!(
        (remove.status().as_u16(), problem(remove).await["code"].clone()),
        (409, json!("webhook_declared_in_file"))
    );
    let shown: Value = call(&app, reqwest::Method::GET, "/api/v1/webhooks/crm", None).await.json().await.unwrap();
    assert_eq!(shown["managed"], false);

    let console = app.signed_in(Role::Owner).await;
    let page = console.page("/admin/webhooks?lang=en").await;
    assert!(page.contains("Declared in the workspace file"), "{page}");
    assert!(!page.contains("/admin/webhooks/crm/rotate"), "no rotate button for the file's endpoint");
}

/// An owner adds an endpoint in the console: mistakes shown next to their fields, then the secret
/// shown once; changed, rotated and removed there. A viewer only looks.
async fn console_story(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.webhook_allow_private = false).await else { return };
    let console = app.signed_in(Role::Owner).await;
    let refused = console.submit("/admin/webhooks?lang=en", &[("name", "CRM"), ("url", "http://127.0.0.1:9/x")]).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"field-name-error\"") && page.contains("a-z, 0-9 and _"), "{page}");
    assert!(page.contains("id=\"field-url-error\"") && page.contains("not a private or local one"), "{page}");
    assert!(page.contains("id=\"field-events-error\"") && page.contains("aria-invalid=\"true\""), "{page}");
    assert!(page.contains("value=\"CRM\""), "what was typed is kept");

    let pairs =
        [("name", "crm"), ("url", "https://crm.example/hooks"), ("events", "consent.*"), ("events", "subject.erased")];
    let created = console.submit("/admin/webhooks?lang=en", &pairs).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let page = created.text().await.unwrap();
    let secret = page.split("value=\"whsec_").nth(1).and_then(|s| s.split('"').next()).expect("the secret is shown");
    assert!(page.contains("it is not shown again"), "{page}");
    let listed = console.page("/admin/webhooks?lang=en").await;
    assert!(!listed.contains(secret), "shown once");
    assert!(listed.contains("<h2 id=\"endpoint-1\">crm</h2>"), "{listed}");

    let change = [("url", "https://crm.example/v2"), ("events", "consent.withdrawn")];
    let changed = console.submit("/admin/webhooks/crm/change?lang=en", &change).await;
    assert_eq!(changed.status(), 303);
    let bad = console.submit("/admin/webhooks/crm/change?lang=en", &[("url", "")]).await;
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.unwrap();
    assert!(page.contains("id=\"field-crm-url-error\"") && page.contains("<details open>"), "{page}");
    let rotated = console.submit("/admin/webhooks/crm/rotate?lang=en", &[]).await;
    assert_eq!(rotated.status(), 200);
    assert!(rotated.text().await.unwrap().contains("value=\"whsec_"));

    let viewer = app.signed_in(Role::Editor).await;
    assert_eq!(viewer.get("/admin/webhooks?lang=en").await.status(), 403, "webhooks are an owner's");
    let refused = viewer.submit("/admin/webhooks/crm/remove?lang=en", &[]).await;
    assert_eq!(refused.status(), 403);

    let removed = console.submit("/admin/webhooks/crm/remove?lang=en", &[]).await;
    assert_eq!(removed.status(), 303);
    let listed = console.page("/admin/webhooks?lang=en").await;
    assert!(listed.contains("The endpoint is removed") || !listed.contains(">crm</h2>"), "{listed}");
    for action in ["webhook_created", "webhook_changed", "webhook_rotated", "webhook_removed"] {
        assert_eq!(audited(&app, action), 1, "{action} is audited");
    }
}

#[tokio::test]
async fn endpoints_are_declared_rotated_changed_and_removed_through_the_api_sqlite() {
    api_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn endpoints_are_declared_rotated_changed_and_removed_through_the_api_postgres() {
    api_story(Backend::Postgres).await;
}

#[tokio::test]
async fn the_files_endpoints_are_changed_only_in_the_file_sqlite() {
    file_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_files_endpoints_are_changed_only_in_the_file_postgres() {
    file_story(Backend::Postgres).await;
}

#[tokio::test]
async fn an_owner_declares_an_endpoint_in_the_console_sqlite() {
    console_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_owner_declares_an_endpoint_in_the_console_postgres() {
    console_story(Backend::Postgres).await;
}
