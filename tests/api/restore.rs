//! Erasure that a restore cannot undo: back up, erase someone, put the backup back, start: the
//! person stays gone (no data, unknown to `/me`, `never` to the consent check), the ledger
//! verifies, and the witness holds the restore. Through the real binary, on both backends
//! (SQLite: `assent backup` / `assent restore FILE`; PostgreSQL: `pg_dump -Fc` / `pg_restore`
//! then `assent restore --reconcile`).

use crate::helpers::*;
use crate::on_both_backends;
use crate::server_process::*;
use assent::crypto::Keyring;
use serde_json::{Value, json};
use std::process::{Command, Output};

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

/// A person signed up through the API with a key; returns their subject id.
async fn sign_up(server: &ServerProcess, key: &str, email: &str) -> String {
    let body =
        json!({ "fields": { "email": email, "name": "Restore Person" }, "purposes": ["service", "personalisation"] });
    let response =
        reqwest::Client::new().post(server.url("/api/v1/forms/newsletter/submissions")).bearer_auth(key).json(&body);
    let response = response.send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

async fn consent_states(server: &ServerProcess, key: &str, email: &str) -> Vec<String> {
    let url = server.url(&format!("/api/v1/consents?email={}", email.replace('@', "%40")));
    let body: Value = reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap();
    body["consents"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_owned()).collect()
}

/// Asks `/me` for a sign-in link (the development mailer writes it to a file).
async fn ask_for_link(server: &ServerProcess, email: &str) {
    let response = reqwest::Client::new()
        .post(server.url("/me?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("email", email)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Mail files named after this subject.
fn mail_files_of(dep: &Deployment, subject: &str) -> usize {
    std::fs::read_dir(dep.outbox_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{subject}_")))
        .count()
}

/// Backs the database up (`None`: the PostgreSQL tools are missing, outside CI).
fn back_up(dep: &Deployment, db: &TestDb) -> Option<std::path::PathBuf> {
    match db.backend {
        Backend::Sqlite => {
            let file = db.dir.path().join("backup.db");
            ok(dep.cli(&["backup", file.to_str().unwrap()]));
            Some(file)
        }
        Backend::Postgres => {
            let file = db.dir.path().join("assent.dump");
            let Ok(dump) = Command::new("pg_dump").args(["-Fc", "-f"]).arg(&file).arg(&db.url).output() else {
                assert!(std::env::var("CI").is_err(), "CI must have pg_dump (postgresql-client)");
                return None;
            };
            assert!(dump.status.success(), "pg_dump: {}", text(&dump));
            Some(file)
        }
    }
}

/// Puts the backup back: SQLite with `assent restore FILE`; PostgreSQL with `pg_restore` into a
/// fresh database (the ledger does not verify yet), then `assent restore --reconcile`. Returns
/// the deployment on the restored database (same data folder, witness and journal) and what the
/// command printed.
fn put_back(
    dep: &Deployment,
    db: &TestDb,
    backup: &std::path::Path,
    fresh: &mut Option<TestDb>,
) -> (Deployment, String) {
    match db.backend {
        Backend::Sqlite => (dep.clone(), ok(dep.cli(&["restore", backup.to_str().unwrap()]))),
        Backend::Postgres => {
            let target = TestDb::create(Backend::Postgres).unwrap();
            let restore = Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "-d", &target.url])
                .arg(backup)
                .output()
                .expect("pg_restore is installed beside pg_dump");
            assert!(restore.status.success(), "pg_restore: {}", text(&restore));
            let restored = Deployment { database_url: target.url.clone(), ..dep.clone() };
            let unreconciled = restored.cli(&["ledger", "verify"]);
            assert!(
                !unreconciled.status.success(),
                "a shorter ledger without a restore record fails: {}",
                text(&unreconciled)
            );
            assert!(text(&unreconciled).contains("the witness saw a head"), "{}", text(&unreconciled));
            *fresh = Some(target);
            let printed = ok(restored.cli(&["restore", "--reconcile"]));
            (restored, printed)
        }
    }
}

on_both_backends! {
    async fn people_erased_after_a_backup_stay_erased_when_it_is_restored(app: TestApp) {
        let db = TestDb::create(app.db.backend).unwrap();
        let dep = Deployment::on(&db);
        let mut server = dep.serve().await;
        let key = String::from_utf8(ok_out(dep.cli(&["key", "create", "--name", "crm"]))).unwrap().trim().to_owned();
        let (gone, kept) = (unique_email(), unique_email());
        let gone_id = sign_up(&server, &key, &gone).await;
        sign_up(&server, &key, &kept).await;
        ask_for_link(&server, &gone).await;
        wait_for_mail_in(&dep.outbox_dir(), &gone, "Your link to manage your data").await;
        assert_eq!(mail_files_of(&dep, &gone_id), 1, "the file is named by the subject id, not the address");
        ok(dep.cli(&["ledger", "sign"]));
        let Some(backup) = back_up(&dep, &db) else { return };

        // After the backup: a consent check (an access record, no ledger event) and a head over
        // it alone, so a head agrees with the restored ledger but not with its access records.
        let access_records = || {
            use diesel::prelude::*;
            assent::db::schema::access_records::table.count().get_result::<i64>(&mut db.connect()).unwrap()
        };
        let before = access_records();
        consent_states(&server, &key, &kept).await;
        eventually("the consent check's access record was written", || async { access_records() > before }).await;
        let signed = String::from_utf8(ok_out(dep.cli(&["ledger", "sign"]))).unwrap();
        assert!(signed.contains("signed tree head"), "a head over the access records alone: {signed}");
        // Then someone new, the erasure, and a head over both.
        sign_up(&server, &key, &unique_email()).await;
        let erased = reqwest::Client::new().delete(server.url(&format!("/api/v1/subjects/{gone_id}"))).bearer_auth(&key);
        assert!(erased.send().await.unwrap().status().is_success());
        assert_eq!(mail_files_of(&dep, &gone_id), 0, "their delivered mail went with the erasure");
        let journal = std::fs::read_to_string(dep.data_dir.join("erasures.jsonl")).unwrap();
        assert!(journal.contains(&gone_id) && !journal.contains(&gone), "journaled by id, nothing personal: {journal}");
        ok(dep.cli(&["ledger", "sign"]));
        assert!(server.terminate().await.success());

        let mut fresh = None;
        let (restored, printed) = put_back(&dep, &db, &backup, &mut fresh);
        assert!(printed.contains("1 of them erased again"), "{printed}");
        assert!(printed.contains("restore recorded"), "{printed}");
        let witness = std::fs::read_to_string(dep.data_dir.join("witness.jsonl")).unwrap();
        assert!(witness.lines().any(|l| l.starts_with(r#"{"restore":"#)), "the witness records the restore");
        let verified = ok(restored.cli(&["ledger", "verify"]));
        assert!(verified.contains("restores: 1 recorded"), "{verified}");

        let server = restored.serve().await;
        assert!(consent_states(&server, &key, &gone).await.iter().all(|s| s == "never"), "the consent check knows no one");
        assert!(consent_states(&server, &key, &kept).await.contains(&"granted".to_owned()), "the others are back");
        let mut conn = assent::db::DbUrl::parse(&restored.database_url).unwrap().connect().unwrap();
        let index = Keyring::load(Some(&restored.master_key), &restored.data_dir).unwrap().email_index(&assent::domain::Email::parse(&gone).unwrap());
        assert!(assent::db::subjects::find_by_index(&mut conn, &index).unwrap().is_none(), "/me cannot find them");
        use assent::db::schema::{consent_events, field_values};
        use diesel::prelude::*;
        let values: i64 = field_values::table.filter(field_values::subject_id.eq(&gone_id)).count().get_result(&mut conn).unwrap();
        assert_eq!(values, 0, "their data is gone");
        let erasures: i64 = consent_events::table
            .filter(consent_events::subject_id.eq(&gone_id))
            .filter(consent_events::action.eq("erased"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert!(erasures >= 1, "the ledger has their erased events again");
        ask_for_link(&server, &gone).await;
        ask_for_link(&server, &kept).await;
        wait_for_mail_in(&restored.outbox_dir(), &kept, "Your link to manage your data").await;
        assert_eq!(links_mailed_to(&restored, &gone), 0, "/me does not know them: no link, and the old one went with them");
        let api = reqwest::Client::new().get(server.url(&format!("/api/v1/subjects/{gone_id}"))).bearer_auth(&key);
        assert_eq!(api.send().await.unwrap().status(), 410, "the API says erased");
        drop(server);
        restored.assert_ledger_intact();
        tampering_after_a_restore_is_still_caught(&restored);
    }
}

/// Sign-in mails to `to` in the deployment's outbox.
fn links_mailed_to(dep: &Deployment, to: &str) -> usize {
    std::fs::read_dir(dep.outbox_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path()).ok())
        .map(|raw| Mail::parse(&raw))
        .filter(|m| m.raw.contains(to) && m.subject.contains("Your link to manage your data"))
        .count()
}

fn ok_out(out: Output) -> Vec<u8> {
    assert!(out.status.success(), "{}", text(&out));
    out.stdout
}

/// After a genuine restore, a forged restore record still fails (the database-only tampering
/// stories are in `transparency.rs`).
fn tampering_after_a_restore_is_still_caught(dep: &Deployment) {
    let path = dep.data_dir.join("witness.jsonl");
    let genuine = std::fs::read_to_string(&path).unwrap();
    let record = genuine.lines().find(|l| l.starts_with(r#"{"restore":"#)).unwrap();
    let mut parsed: Value = serde_json::from_str(record).unwrap();
    parsed["restore"]["set_aside"] = json!([]);
    std::fs::write(&path, format!("{genuine}{parsed}\n")).unwrap();
    let forged = dep.cli(&["ledger", "verify"]);
    assert!(!forged.status.success() && text(&forged).contains("signature does not verify"), "{}", text(&forged));
    std::fs::write(&path, &genuine).unwrap();
    dep.assert_ledger_intact();
}

/// `assent restore` never runs under a server, and refuses what is not an Assent backup.
#[tokio::test]
async fn restore_is_refused_while_serving_and_for_a_file_that_is_not_a_backup() {
    let db = TestDb::create(Backend::Sqlite).unwrap();
    let dep = Deployment::on(&db);
    let mut server = dep.serve().await;
    let backup = db.dir.path().join("backup.db");
    ok(dep.cli(&["backup", backup.to_str().unwrap()]));
    let refused = dep.cli(&["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("a server is running on this database"), "{}", text(&refused));
    assert!(server.terminate().await.success());

    let junk = db.dir.path().join("notes.txt");
    std::fs::write(&junk, "not a database at all, just some words").unwrap();
    let refused = dep.cli(&["restore", junk.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("is not an Assent backup (not an SQLite database)"), "{}", text(&refused));
    let stranger = db.dir.path().join("other.db");
    let mut other = assent::db::DbUrl::parse(&format!("sqlite://{}", stranger.display())).unwrap().connect().unwrap();
    diesel::RunQueryDsl::execute(diesel::sql_query("CREATE TABLE notes (body TEXT)"), &mut other).unwrap();
    drop(other);
    let refused = dep.cli(&["restore", stranger.to_str().unwrap()]);
    assert!(text(&refused).contains("lacks Assent's tables"), "{}", text(&refused));
    let missing = dep.cli(&["restore", db.dir.path().join("nowhere.db").to_str().unwrap()]);
    assert!(text(&missing).contains("there is no backup at"), "{}", text(&missing));
    dep.assert_ledger_intact();
    assert!(ok(dep.cli(&["restore", backup.to_str().unwrap()])).contains("restore recorded"));
    dep.assert_ledger_intact();
}

/// On PostgreSQL a running server holds the database too: `--reconcile` waits for it to stop,
/// and `assent restore FILE` points to pg_restore.
#[tokio::test]
async fn reconcile_is_refused_while_a_server_runs_on_postgres() {
    let Some(db) = TestDb::create(Backend::Postgres) else { return };
    let dep = Deployment::on(&db);
    let mut server = dep.serve().await;
    let refused = dep.cli(&["restore", "--reconcile"]);
    assert!(!refused.status.success() && text(&refused).contains("a server is running"), "{}", text(&refused));
    let file = dep.cli(&["restore", "backup.db"]);
    assert!(!file.status.success() && text(&file).contains("pg_restore"), "{}", text(&file));
    assert!(server.terminate().await.success());
    assert!(ok(dep.cli(&["restore", "--reconcile"])).contains("restore recorded"));
    dep.assert_ledger_intact();
}

/// Signs up `address` with an API key and has a sign-in link mailed to them; returns the subject id.
async fn with_mail(app: &TestApp, address: &str) -> String {
    let body = json!({ "fields": { "email": address }, "purposes": ["service"] });
    let created = app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await;
    let id = created.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    assert_eq!(app.post_form("/me?lang=en", &form_body(&[("email", address)])).await.status(), 200);
    app.wait_for_mail(address, "Your link to manage your data").await;
    id
}

fn has_mail_file(app: &TestApp, subject: &str) -> bool {
    std::fs::read_dir(app.outbox_dir())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with(&format!("{subject}_")))
}

on_both_backends! {
    async fn a_persons_delivered_mail_files_go_the_moment_they_are_erased(app: TestApp) {
        let (id, other) = (with_mail(&app, &unique_email()).await, with_mail(&app, &unique_email()).await);
        assert!(has_mail_file(&app, &id) && has_mail_file(&app, &other));
        let erased = app.client.delete(app.url(&format!("/api/v1/subjects/{id}"))).bearer_auth(app.integrator_key());
        assert!(erased.send().await.unwrap().status().is_success());
        assert!(!has_mail_file(&app, &id), "gone as the erasure was answered");
        assert!(has_mail_file(&app, &other), "nobody else's");
    }
}

/// Files older than `ASSENT_MAIL_FILE_RETENTION` go by themselves.
async fn mail_files_go_after_their_retention(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.mail_file_retention = std::time::Duration::from_secs(1)).await
    else {
        return;
    };
    let address = unique_email();
    let body = json!({ "fields": { "email": address }, "purposes": ["service"] });
    assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);
    assert_eq!(app.post_form("/me?lang=en", &form_body(&[("email", &address)])).await.status(), 200);
    eventually("the sign-in mail is delivered", || async { app.mails_to(&address) == 1 }).await;
    eventually("the mail file expires", || async { app.mails_to(&address) == 0 }).await;
}

#[tokio::test]
async fn mail_files_go_after_their_retention_sqlite() {
    mail_files_go_after_their_retention(Backend::Sqlite).await;
}

#[tokio::test]
async fn mail_files_go_after_their_retention_postgres() {
    mail_files_go_after_their_retention(Backend::Postgres).await;
}

/// A database copied back by hand, without `assent restore`: `serve` still erases again at start
/// whoever the journal holds; the ledger fails verification (the witness saw a longer history)
/// until `assent restore --reconcile` records the restore.
#[tokio::test]
async fn a_database_copied_back_by_hand_loses_no_erasure_and_verifies_once_reconciled() {
    let db = TestDb::create(Backend::Sqlite).unwrap();
    let dep = Deployment::on(&db);
    let mut server = dep.serve().await;
    let key = String::from_utf8(ok_out(dep.cli(&["key", "create", "--name", "crm"]))).unwrap().trim().to_owned();
    let email = unique_email();
    let id = sign_up(&server, &key, &email).await;
    let Some(backup) = back_up(&dep, &db) else { return };
    let erased = reqwest::Client::new().delete(server.url(&format!("/api/v1/subjects/{id}"))).bearer_auth(&key);
    assert!(erased.send().await.unwrap().status().is_success());
    sign_up(&server, &key, &unique_email()).await;
    ok(dep.cli(&["ledger", "sign"]));
    assert!(server.terminate().await.success());

    for stale in ["assent.db-wal", "assent.db-shm"] {
        let _ = std::fs::remove_file(db.dir.path().join(stale));
    }
    std::fs::copy(&backup, db.dir.path().join("assent.db")).unwrap();
    let mut server = dep.serve().await;
    assert!(consent_states(&server, &key, &email).await.iter().all(|s| s == "never"), "erased again at start");
    assert!(server.terminate().await.success());
    let unreconciled = dep.cli(&["ledger", "verify"]);
    assert!(!unreconciled.status.success(), "no restore record yet: {}", text(&unreconciled));
    assert!(ok(dep.cli(&["restore", "--reconcile"])).contains("restore recorded"));
    dep.assert_ledger_intact();
}
