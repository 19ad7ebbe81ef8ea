//! An integrator's back end acts for a person through the API, with the preference center's
//! effects, audited.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

async fn subject_with_phone(app: &TestApp) -> (String, String) {
    let email = unique_email();
    let response = app
        .post_json_as_integrator(
            "/api/v1/forms/contact/submissions",
            &json!({ "fields": { "email": email, "name": "Lee", "message": "Hi", "phone": "010-3333-4444" }, "purposes": ["service", "marketing_sms"], "locale": "ko" }),
        )
        .await;
    assert_eq!(response.status(), 201, "the contact form has no double opt-in");
    let id = response.json::<serde_json::Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    (email, id)
}

fn audit_actions(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    use assent::db::schema::audit_log;
    use diesel::prelude::*;
    audit_log::table
        .filter(audit_log::subject_id.eq(subject))
        .order(audit_log::occurred_at.asc())
        .select((audit_log::actor_kind, audit_log::action))
        .load(&mut app.conn())
        .unwrap()
}

on_both_backends! {
    async fn the_subject_api_reads_changes_exports_and_erases(app: TestApp) {
        let key = app.api_key();
        let (email, id) = subject_with_phone(&app).await;
        let path = format!("/api/v1/subjects/{id}");

        assert_eq!(app.get(&path).await.status(), 401);
        let shown: serde_json::Value = app.client.get(app.url(&path)).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        assert_eq!(shown["email"], email.as_str());
        assert!(shown["values"].as_array().unwrap().iter().any(|v| v["field"] == "phone" && v["value"] == "010-3333-4444"));
        let unsubscribe = shown["unsubscribe_urls"]["marketing_sms"].as_str().unwrap();
        assert!(unsubscribe.starts_with("http://127.0.0.1/u?token="));

        let change = |body: serde_json::Value| app.client.post(app.url(&format!("{path}/consents"))).bearer_auth(&key).json(&body).send();
        let response = change(json!({ "purpose": "marketing_sms", "action": "withdraw", "source": "crm:call-centre" })).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["change"]["action"], "withdrawn");
        assert_eq!(body["change"]["erased_fields"], json!(["phone"]));
        assert!(body["receipt"].as_str().unwrap().split('.').count() == 3);
        assert!(app.stored_values(&email, "phone").is_empty(), "same effect as the preference center");

        let twice = change(json!({ "purpose": "marketing_sms", "action": "withdraw" })).await.unwrap();
        assert_eq!(twice.status(), 409);
        assert_eq!(problem(twice).await["code"], "not_granted");
        let unknown = change(json!({ "purpose": "telepathy", "action": "grant" })).await.unwrap();
        assert_eq!(problem(unknown).await["code"], "purpose_not_found");
        let bad = change(json!({ "purpose": "marketing_sms", "action": "maybe" })).await.unwrap();
        assert_eq!(bad.status(), 400);
        let regrant = change(json!({ "purpose": "marketing_sms", "action": "grant" })).await.unwrap();
        assert_eq!(regrant.status(), 200);

        let export = app.client.get(app.url(&format!("{path}/export"))).bearer_auth(&key).send().await.unwrap();
        assert_eq!(export.status(), 200);
        assert_eq!(export.json::<serde_json::Value>().await.unwrap()["subject_id"], id.as_str());

        let erased = app.client.delete(app.url(&path)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(erased.status(), 200);
        let told = app.wait_for_mail(&email, "삭제").await;
        assert_eq!(told.header("Content-Language").as_deref(), Some("ko"), "the person is told in the language they used");
        let again = app.client.delete(app.url(&path)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(again.status(), 410);
        assert_eq!(problem(again).await["code"], "subject_erased");
        let read = app.client.get(app.url(&path)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(read.status(), 410);
        let nobody = app.client.get(app.url("/api/v1/subjects/no-such-id")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(problem(nobody).await["code"], "subject_not_found");

        let actions = audit_actions(&app, &id);
        for expected in ["access", "withdrawal", "consent", "portability", "erasure"] {
            assert!(actions.iter().any(|(actor, action)| actor == "api_key" && action == expected), "{expected} audited: {actions:?}");
        }
        assert!(app.cli(&["ledger", "verify"]).status.success());
    }
}

/// A real SMTP server (aiosmtpd, writing a Maildir) receives Assent's mail.
#[tokio::test]
async fn mail_goes_through_a_real_smtp_server() {
    let Some(maildir) = smtp_sink() else { return };
    let port = maildir.1;
    let app =
        TestApp::spawn_with(Backend::Sqlite, |s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await.unwrap();
    let email = unique_email();
    let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "marketing_email")]);
    assert_eq!(app.post_form("/f/newsletter?lang=en", &body).await.status(), 303);
    let mail =
        wait_for_mail_in(&maildir.0.path().join("maildir/new"), &email, "Please confirm your subscription").await;
    assert!(mail.text.contains("/confirm?token="));
    assert_eq!(mail.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
}

/// Starts `python3 -m aiosmtpd` on a free port with a Maildir handler; `None` (or a failure in
/// CI) when it is not installed.
fn smtp_sink() -> Option<(tempfile::TempDir, u16, SinkGuard)> {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        // A path that does not exist yet: Python's Maildir only creates cur/new/tmp for a new one.
        .arg(dir.path().join("maildir"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(child) = child else {
        assert!(std::env::var("CI").is_err(), "CI must have python3 with aiosmtpd");
        return None;
    };
    let guard = SinkGuard(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((dir, port, guard));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(std::env::var("CI").is_err(), "aiosmtpd did not start (pip install aiosmtpd)");
    eprintln!("aiosmtpd is not available: SMTP test not run");
    None
}

struct SinkGuard(std::process::Child);

impl Drop for SinkGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
