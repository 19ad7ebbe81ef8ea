//! Upgrading: a database as the previous release (v0.1.0) left it, loaded from
//! `tests/fixtures/upgrade/` (made by its `make.sh` with that release's binary), is migrated by
//! this binary at start, and then verifies, signs in and serves, on both backends. Migrations
//! never rewrite the ledger.

use crate::admin_helpers::PASSWORD;
use crate::helpers::*;
use assent::db::DbConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("upgrade fixture")
}

/// A fresh database holding the previous release's fixture, and its witness beside it.
fn previous_release(backend: Backend) -> Option<TestDb> {
    let db = TestDb::create(backend)?;
    let (dump, witness) = match backend {
        // SQLite's dump inserts rows before the foreign keys they point at exist.
        Backend::Sqlite => (format!("PRAGMA foreign_keys = OFF;\n{}", fixture("sqlite.sql")), "sqlite-witness.jsonl"),
        Backend::Postgres => (fixture("postgres.sql"), "postgres-witness.jsonl"),
    };
    match db.connect() {
        DbConnection::Sqlite(mut c) => c.batch_execute(&dump),
        DbConnection::Postgres(mut c) => c.batch_execute(&dump),
    }
    .expect("the fixture loads");
    std::fs::write(db.dir.path().join("witness.jsonl"), fixture(witness)).unwrap();
    Some(db)
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Link {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    hash: String,
}

fn ledger(conn: &mut DbConnection) -> Vec<Link> {
    diesel::sql_query("SELECT seq, hash FROM consent_events ORDER BY seq").load(conn).unwrap()
}

async fn a_database_from_the_previous_release_upgrades_in_place(backend: Backend) {
    let Some(db) = previous_release(backend) else { return };
    let before = ledger(&mut db.connect());
    assert!(before.len() >= 2, "the fixture holds consents");
    assert!(assent::db::pending_migrations(&mut db.connect()).unwrap() > 0, "the fixture is older than this binary");

    let key = fixture("master_key.txt");
    let app = TestApp::spawn_with_key(db, key.trim(), |_| {}).await;
    assert_eq!(assent::db::pending_migrations(&mut app.conn()).unwrap(), 0, "migrated at start");
    let after = ledger(&mut app.conn());
    assert_eq!(after[..before.len()], before[..], "no event rewritten");

    // The chain, the signed heads and the witness all verify.
    let out = app.cli(&["ledger", "verify"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // The owner made by the old release signs in.
    let console = app.console();
    assert_eq!(console.sign_in("owner@shop.example", PASSWORD).await.status(), 303);
    assert!(console.page("/admin").await.contains("Security check"), "the console serves");
    assert_eq!(app.stored_values("minji@example.com", "name"), ["Kim Minji"], "the old data opens under the same key");

    // The person's consents are answered, and the form takes new people.
    let key = app.api_key();
    let answer: serde_json::Value = app
        .client
        .get(app.url("/api/v1/consents?email=minji%40example.com"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let service = answer["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "service").cloned();
    assert_eq!(service.map(|c| c["status"].clone()), Some("granted".into()), "{answer}");
    let body = form_body(&[("email", &unique_email()), ("purpose", "service")]);
    assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
}

#[tokio::test]
async fn a_sqlite_database_from_the_previous_release_upgrades_in_place() {
    a_database_from_the_previous_release_upgrades_in_place(Backend::Sqlite).await
}

#[tokio::test]
async fn a_postgresql_database_from_the_previous_release_upgrades_in_place() {
    a_database_from_the_previous_release_upgrades_in_place(Backend::Postgres).await
}

/// The systemd unit the README gives is one systemd accepts (with this build's binary in it).
#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/assent.service")).unwrap();
    for hardening in [
        "User=assent",
        "StateDirectory=assent",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
    ] {
        assert!(unit.contains(hardening), "{hardening}");
    }
    let Ok(analyze) = which("systemd-analyze") else {
        assert!(std::env::var("CI").is_err(), "CI must have systemd-analyze");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assent.service");
    let unit = unit
        .replace("/usr/bin/assent", env!("CARGO_BIN_EXE_assent"))
        .replace("EnvironmentFile=/etc", "EnvironmentFile=-/etc");
    std::fs::write(&path, unit).unwrap();
    let out = std::process::Command::new(analyze).arg("verify").arg(&path).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
        .ok_or(())
}
