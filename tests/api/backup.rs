//! A backup taken while the server runs restores into a fresh database on which the ledger
//! verifies and a person signs in at /me and finds their data.

use crate::helpers::*;
use crate::on_both_backends;
use crate::server_process::*;
use serde_json::json;
use std::process::Command;

/// Makes a few submissions; returns one person's address and name.
async fn some_people(app: &TestApp) -> (String, String) {
    let mut last = None;
    for i in 0..5 {
        let email = unique_email();
        let name = format!("Backup Person {i}");
        let body = json!({ "fields": { "email": email, "name": name }, "purposes": ["service", "personalisation"] });
        assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);
        last = Some((email, name));
    }
    last.unwrap()
}

/// Backs up the app's database while it runs and restores it into a fresh one; `None` when the
/// PostgreSQL tools are not installed (outside CI).
fn backup_and_restore(app: &TestApp, fresh: &TestDb) -> Option<Deployment> {
    let restored = Deployment {
        database_url: fresh.url.clone(),
        data_dir: fresh.dir.path().to_path_buf(),
        master_key: app.master_key.clone(),
    };
    match app.db.backend {
        Backend::Sqlite => {
            let file = app.db.dir.path().join("backup.db");
            let out = app.cli(&["backup", file.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let again = app.cli(&["backup", file.to_str().unwrap()]);
            assert!(!again.status.success(), "a backup never overwrites a file");
            assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
            // Restore: with the server stopped, the file becomes the database.
            std::fs::copy(&file, sqlite_path(&fresh.url)).unwrap();
        }
        Backend::Postgres => {
            let refused = app.cli(&["backup", app.db.dir.path().join("pg.db").to_str().unwrap()]);
            assert!(!refused.status.success(), "assent backup points PostgreSQL users to pg_dump");
            let file = app.db.dir.path().join("assent.dump");
            let Ok(dump) = Command::new("pg_dump").args(["-Fc", "-f"]).arg(&file).arg(&app.db.url).output() else {
                assert!(std::env::var("CI").is_err(), "CI must have pg_dump (postgresql-client)");
                eprintln!("pg_dump is not installed: PostgreSQL backup not tested");
                return None;
            };
            assert!(dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dump.stderr));
            let restore = Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "-d", &fresh.url])
                .arg(&file)
                .output();
            let restore = restore.expect("pg_restore is installed beside pg_dump");
            assert!(restore.status.success(), "pg_restore: {}", String::from_utf8_lossy(&restore.stderr));
        }
    }
    Some(restored)
}

async fn post_form(client: &reqwest::Client, url: String, pairs: &[(&str, &str)]) -> reqwest::Response {
    let request = client.post(url).header("content-type", "application/x-www-form-urlencoded");
    request.body(form_body(pairs)).send().await.unwrap()
}

/// The file of a `sqlite://` URL.
fn sqlite_path(url: &str) -> &std::path::Path {
    std::path::Path::new(url.strip_prefix("sqlite://").unwrap())
}

/// Signs in at /me through the mailed link and returns the page.
async fn sign_in_and_view(server: &ServerProcess, outbox: &std::path::Path, email: &str) -> String {
    let client = http_client().build().unwrap();
    let asked = post_form(&client, server.url("/me?lang=en"), &[("email", email)]).await;
    assert_eq!(asked.status(), 200);
    let mail = wait_for_mail_in(outbox, email, "Your link to manage your data").await;
    let link = mail.link("/me/login");
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let signed_in = post_form(&client, server.url("/me/login?lang=en"), &[("token", &token)]).await;
    assert_eq!(signed_in.status(), 303, "the link signs in");
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = client.get(server.url("/me?lang=en")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

on_both_backends! {
    async fn a_backup_taken_while_serving_restores_into_a_fresh_database_that_verifies_and_signs_in(app: TestApp) {
        let (email, name) = some_people(&app).await;
        let fresh = TestDb::create(app.db.backend).unwrap();
        let Some(restored) = backup_and_restore(&app, &fresh) else { return };
        // Written after the backup: not in it.
        let later = unique_email();
        let body = json!({ "fields": { "email": later }, "purposes": ["service"] });
        assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);

        restored.assert_ledger_intact();
        let server = restored.serve().await;
        let page = sign_in_and_view(&server, &restored.outbox_dir(), &email).await;
        assert!(page.contains(&email) && page.contains(&name), "the person sees their data after the restore");
        let [subjects, submissions, values, events, states] = {
            use assent::db::schema::*;
            use diesel::prelude::*;
            let mut c = fresh.connect();
            [
                subjects::table.count().get_result::<i64>(&mut c).unwrap(),
                submissions::table.count().get_result(&mut c).unwrap(),
                field_values::table.count().get_result(&mut c).unwrap(),
                consent_events::table.count().get_result(&mut c).unwrap(),
                consent_state::table.count().get_result(&mut c).unwrap(),
            ]
        };
        assert_eq!([subjects, submissions, values, events, states], [5, 5, 10, 10, 10], "the backup holds what was written before it, only");
        drop(server);
        restored.assert_ledger_intact();
    }
}
