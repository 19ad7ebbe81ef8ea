//! Webhooks as a CRM receives them: every consent change, signed per Standard Webhooks and
//! checked with the `standardwebhooks` package, in ledger order, nothing lost when the receiver
//! dies mid-stream; private addresses refused unless allowed; an endpoint that keeps failing
//! is given up on.

// Every receiver is reaped by `Receiver`'s drop, which the lint cannot see.
#![allow(clippy::zombie_processes)]

use crate::admin_helpers::PASSWORD;
use crate::helpers::*;
use assent::db::schema::{consent_events, webhook_deliveries, webhook_endpoints};
use assent::domain::owner::Role;
use diesel::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The receiver process; stopped (killed and reaped) when dropped.
pub(crate) struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Python interpreter itself (a `python3` on PATH may be a shim).
fn python() -> String {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().expect("python3");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn receiver(port: u16, out: &Path) -> Receiver {
    receiver_with(port, SECRET, out)
}

/// A receiver that verifies with `secret`.
pub(crate) fn receiver_with(port: u16, secret: &str, out: &Path) -> Receiver {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks/receiver.py");
    let child = Command::new(python()).arg(script).arg(port.to_string()).arg(secret).arg(out).spawn().expect("python3");
    let started = Receiver(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return started;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the receiver did not start (is `standardwebhooks` installed? .ci/run installs it)");
}

/// What the receiver got at `/hook` (the `crm` endpoint).
fn received(out: &Path) -> Vec<Value> {
    received_at(out, "/hook")
}

pub(crate) fn received_at(out: &Path, path: &str) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["path"] == path)
        .collect()
}

/// The demo workspace with one webhook endpoint (`crm`, at `/hook`), and `extra` after it.
fn workspace_with_hook(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let mut text = std::fs::read_to_string(workspace_file()).unwrap();
    text.push_str(&format!(
        "\n[[webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{port}/hook\"\nevents = [\"consent.*\", \"subject.erased\"]\nsecret = \"{SECRET}\"\n{extra}"
    ));
    let path = dir.join("with-hook.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) async fn person(app: &TestApp) -> String {
    let body = json!({ "fields": { "email": unique_email(), "name": "Han", "message": "Hi", "phone": "010-2222-3333" },
        "purposes": ["service", "marketing_sms"] });
    let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

async fn story(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (port, out) = (free_port(), dir.path().join("received.jsonl"));
    let live = receiver(port, &out);
    // A second endpoint, for withdrawals only, gets the same events under the same ids.
    let second = format!(
        "include_email = true\n\n[[webhooks]]\nname = \"mailing\"\nurl = \"http://127.0.0.1:{port}/mailing\"\nevents = [\"consent.withdrawn\"]\nsecret = \"{SECRET}\"\n"
    );
    let config = workspace_with_hook(dir.path(), port, &second);
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.config = config.clone();
        s.webhook_allow_private = true;
        s.webhook_retry_speedup = 1000;
    })
    .await
    else {
        return;
    };
    let a = person(&app).await;
    eventually("the first events arrive", || async { received(&out).len() >= 2 }).await;

    // The receiver dies; changes go on.
    drop(live);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the receiver is down");
    let withdraw = app
        .client
        .post(app.url(&format!("/api/v1/subjects/{a}/consents")))
        .bearer_auth(app.integrator_key())
        .json(&json!({ "purpose": "marketing_sms", "action": "withdraw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(withdraw.status(), 200);
    let b = person(&app).await;
    let erase = app.client.delete(app.url(&format!("/api/v1/subjects/{a}"))).bearer_auth(app.integrator_key());
    assert!(erase.send().await.unwrap().status().is_success());
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let back = receiver(port, &out);

    let ledger: Vec<i64> = consent_events::table
        .order(consent_events::seq.asc())
        .select(consent_events::seq)
        .load(&mut app.conn())
        .unwrap();
    eventually("every event arrives once the receiver is back", || async {
        let mut seqs: Vec<i64> = received(&out).iter().filter_map(|l| l["seq"].as_i64()).collect();
        seqs.dedup();
        seqs == ledger
    })
    .await;
    eventually("the withdrawal reaches the second endpoint", || async { !received_at(&out, "/mailing").is_empty() })
        .await;
    let withdrawn = received_at(&out, "/mailing");
    assert!(withdrawn.iter().all(|l| l["type"] == "consent.withdrawn"), "only what it asked for: {withdrawn:?}");
    let crm_ids: Vec<Value> = received(&out).iter().map(|l| l["id"].clone()).collect();
    assert!(crm_ids.contains(&withdrawn[0]["id"]), "the same event has the same webhook-id at both endpoints");
    let lines = received(&out);
    assert!(lines.iter().all(|l| l.get("bad").is_none()), "every signature verifies: {lines:?}");
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "in ledger order, a repeat at most: {seqs:?}");
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"consent.withdrawn") && types.contains(&"consent.erased"), "{types:?}");
    assert!(
        lines.iter().any(|l| l["subject_id"] == b.as_str() && l["email"].as_str().is_some_and(|e| e.contains('@')))
    );
    // The receiver has each event a moment before the dispatcher records its answer.
    eventually("every delivery is recorded as delivered", || async {
        let pending: i64 = webhook_deliveries::table
            .filter(webhook_deliveries::status.ne("delivered"))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        pending == 0
    })
    .await;
    let retried: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::attempts.gt(1))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    let all: Vec<(i64, String, i64, Option<i64>)> = webhook_deliveries::table
        .order(webhook_deliveries::seq.asc())
        .select((
            webhook_deliveries::seq,
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_deliveries::response_status,
        ))
        .load(&mut app.conn())
        .unwrap();
    assert!(retried > 0, "the deliveries during the outage were retried: {all:?}");
    resend_and_look(&app, &out).await;
    drop(back);
}

/// The console and the API show the deliveries; a resend goes again with the same id.
async fn resend_and_look(app: &TestApp, out: &Path) {
    eventually("the deliveries are recorded", || async {
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne("delivered"))
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap()
            == 0
    })
    .await;
    let console = app.signed_in(Role::Owner).await;
    let page = console.page("/admin/webhooks?lang=en").await;
    assert!(page.contains("<h2 id=\"endpoint-1\">crm</h2>") && page.contains(">mailing</h2>"), "{page}");
    assert!(page.contains("Delivered") && page.contains("consent.withdrawn"), "{page}");
    let first: String = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint.eq("crm"))
        .order(webhook_deliveries::seq.asc())
        .select(webhook_deliveries::id)
        .first(&mut app.conn())
        .unwrap();
    let before = received(out).iter().filter(|l| l["id"] == first.as_str()).count();
    let resent = console.submit(&format!("/admin/webhooks/crm/deliveries/{first}/resend?lang=en"), &[]).await;
    assert_eq!(resent.status(), 303);
    eventually("the resent delivery arrives again, under the same id", || async {
        received(out).iter().filter(|l| l["id"] == first.as_str()).count() > before
    })
    .await;
    let audit: i64 = assent::db::schema::audit_log::table
        .filter(assent::db::schema::audit_log::action.eq("webhook_resent"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(audit, 1, "the resend is audited");

    // The API: the same view, and stable codes for what does not exist.
    let key = app.integrator_key();
    let listed: Value =
        app.client.get(app.url("/api/v1/webhooks")).bearer_auth(key).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> =
        listed["endpoints"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["crm", "mailing"]);
    let crm = &listed["endpoints"][0];
    assert_eq!(crm["events"], json!(["consent.*", "subject.erased"]));
    assert!(crm["deliveries"].as_array().unwrap().iter().all(|d| d["status"].is_string() && d["attempts"].is_i64()));
    let missing = app.client.post(app.url("/api/v1/webhooks/crm/deliveries/msg_nothing/resend")).bearer_auth(key);
    let missing = missing.send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(problem(missing).await["code"], "delivery_not_found");
    let unknown = app.client.get(app.url("/api/v1/webhooks/nobody")).bearer_auth(key).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(problem(unknown).await["code"], "webhook_not_found");
    let anonymous = app.client.get(app.url("/api/v1/webhooks")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn private_story(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (port, out) = (free_port(), dir.path().join("received.jsonl"));
    let live = receiver(port, &out);
    let config = workspace_with_hook(dir.path(), port, "");
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.config = config.clone();
        s.webhook_retry_speedup = 100_000_000;
    })
    .await
    else {
        return;
    };
    let owner = app.owner(Role::Owner);
    person(&app).await;
    eventually("an endpoint on a loopback address is refused until it is given up on", || async {
        let enabled: bool =
            webhook_endpoints::table.find("crm").select(webhook_endpoints::enabled).first(&mut app.conn()).unwrap();
        !enabled
    })
    .await;
    drop(live);
    assert!(received(&out).is_empty(), "nothing reached the loopback address");
    let (status, attempts): (String, i64) = webhook_deliveries::table
        .select((webhook_deliveries::status, webhook_deliveries::attempts))
        .first(&mut app.conn())
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", 11));
    let reason: Option<String> =
        webhook_endpoints::table.find("crm").select(webhook_endpoints::disabled_reason).first(&mut app.conn()).unwrap();
    assert!(reason.unwrap().contains("more than three days"));

    // The owners are told by mail, with the way back.
    let mail = app.wait_for_mail(&owner, "Webhook endpoint “crm” was stopped").await;
    assert!(mail.link("/admin/webhooks").contains("/admin/webhooks"));
    let console = app.console();
    assert_eq!(console.sign_in(&owner, PASSWORD).await.status(), 303);
    let page = console.page("/admin/webhooks?lang=en").await;
    assert!(page.contains("Stopped") && page.contains("Resume sending"), "{page}");
    let resumed = console.submit("/admin/webhooks/crm/resume?lang=en", &[]).await;
    assert_eq!(resumed.status(), 303);
    let audit: i64 = assent::db::schema::audit_log::table
        .filter(assent::db::schema::audit_log::action.eq("webhook_resumed"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(audit, 1, "the resume is audited");
    let unknown = app.client.post(app.url("/api/v1/webhooks/nobody/resume")).bearer_auth(app.integrator_key());
    let unknown = unknown.send().await.unwrap();
    assert_eq!(problem(unknown).await["code"], "webhook_not_found");
}

/// An import is announced once, after the consents it recorded, with its id and totals.
async fn import_story(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (port, out) = (free_port(), dir.path().join("received.jsonl"));
    let _live = receiver(port, &out);
    let mut text = std::fs::read_to_string(workspace_file()).unwrap();
    text.push_str(&format!(
        "\n[[webhooks]]\nname = \"crm\"\nurl = \"http://127.0.0.1:{port}/hook\"\nevents = [\"consent.granted\", \"import.completed\"]\nsecret = \"{SECRET}\"\n"
    ));
    let config = dir.path().join("imports-hook.toml");
    std::fs::write(&config, text).unwrap();
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.config = config.clone();
        s.webhook_allow_private = true;
    })
    .await
    else {
        return;
    };
    let sheet = format!(
        "email,service,marketing_email,consented_at\n{},Y,Y,2026-03-05\n{},Y,N,2026-04-01\nnot-an-address,Y,Y,2026-04-02\n",
        unique_email(),
        unique_email()
    );
    let run =
        app.client.post(app.url("/api/v1/imports?form=newsletter&dry_run=false")).bearer_auth(app.integrator_key());
    let report: Value = run.header("content-type", "text/csv").body(sheet).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["totals"]["created"], 2, "{report}");
    let dry = app.client.post(app.url("/api/v1/imports?form=newsletter")).bearer_auth(app.integrator_key());
    assert_eq!(dry.header("content-type", "text/csv").body("email,service\n").send().await.unwrap().status(), 200);
    eventually("the import is announced", || async { received(&out).iter().any(|l| l["type"] == "import.completed") })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let lines = received(&out);
    assert!(lines.iter().all(|l| l.get("bad").is_none()), "{lines:?}");
    let announced: Vec<&Value> = lines.iter().filter(|l| l["type"] == "import.completed").collect();
    assert_eq!(announced.len(), 1, "once, and not for the dry run: {lines:?}");
    assert_eq!(announced[0]["import_id"], report["id"]);
    assert_eq!((&announced[0]["totals"]["created"], &announced[0]["totals"]["refused"]), (&json!(2), &json!(1)));
    assert_eq!(announced[0]["id"], format!("msg_import_{}", report["id"].as_str().unwrap()));
    let last = lines.iter().rposition(|l| l["type"] == "consent.granted").unwrap();
    let first_announcement = lines.iter().position(|l| l["type"] == "import.completed").unwrap();
    assert!(first_announcement > last, "after the consents it recorded: {lines:?}");
}

#[tokio::test]
async fn an_import_is_announced_after_its_consents_sqlite() {
    import_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_import_is_announced_after_its_consents_postgres() {
    import_story(Backend::Postgres).await;
}

#[tokio::test]
async fn every_change_reaches_the_receiver_signed_and_in_order_through_an_outage_sqlite() {
    story(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_change_reaches_the_receiver_signed_and_in_order_through_an_outage_postgres() {
    story(Backend::Postgres).await;
}

#[tokio::test]
async fn a_private_address_is_refused_and_a_failing_endpoint_disabled_sqlite() {
    private_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_private_address_is_refused_and_a_failing_endpoint_disabled_postgres() {
    private_story(Backend::Postgres).await;
}
