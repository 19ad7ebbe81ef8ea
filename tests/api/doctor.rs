//! `assent doctor`, the security check: a deliberately misconfigured instance and a well
//! configured one, each through the real binary, and the check `serve` runs itself (the
//! console's dashboard and `/metrics`).

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use diesel::prelude::*;
use std::os::unix::fs::PermissionsExt;

/// Runs `assent doctor --json` with the app's database and these environment changes; answers
/// the exit status and the findings' codes and severities.
fn doctor(app: &TestApp, set: &[(&str, &str)], unset: &[&str], lang: &str) -> (i32, Vec<(String, String)>, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_assent"));
    command
        .args(["doctor", "--json", "--lang", lang])
        .env("ASSENT_DATABASE_URL", &app.db.url)
        .env("ASSENT_DATA_DIR", app.db.dir.path())
        .env("ASSENT_MASTER_KEY", &app.master_key)
        .env("ASSENT_CONFIG", workspace_file())
        .env_remove("ASSENT_SMTP_URL");
    for (name, value) in set {
        command.env(name, value);
    }
    for name in unset {
        command.env_remove(name);
    }
    let out = command.output().expect("run assent doctor");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let findings = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON finding per line"))
        .map(|f| {
            for key in ["problem", "fix"] {
                assert!(!f[key].as_str().unwrap_or_default().is_empty(), "{key} in words: {f}");
            }
            (f["code"].as_str().unwrap().to_owned(), f["severity"].as_str().unwrap().to_owned())
        })
        .collect();
    (out.status.code().unwrap_or(-1), findings, stdout)
}

fn codes(findings: &[(String, String)]) -> Vec<&str> {
    findings.iter().map(|(code, _)| code.as_str()).collect()
}

on_both_backends! {
    async fn a_misconfigured_instance_gets_each_finding_with_its_fix_and_exit_status_1(app: TestApp) {
        std::fs::set_permissions(app.db.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let key = app.api_key(); // without an expiry
        assert!(key.starts_with("assent_"));
        let set = [("ASSENT_BASE_URL", "http://consent.example"), ("ASSENT_SMTP_URL", "smtp://mail.example:25")];
        let (status, findings, _) = doctor(&app, &set, &["ASSENT_MASTER_KEY"], "en");
        assert_eq!(status, 1, "{findings:?}");
        let mut expected = vec![
            "master_key_in_file",
            "base_url_not_https",
            "smtp_without_tls",
            "mail_not_dkim_signed",
            "api_key_without_expiry",
            "files_readable_by_others",
        ];
        if app.db.url.starts_with("sqlite") {
            expected.insert(4, "backup_missing");
        }
        // The server's own first check may or may not have verified the ledger yet.
        let found: Vec<&str> = codes(&findings).into_iter().filter(|c| *c != "ledger_not_verified").collect();
        assert_eq!(found, expected);
        assert!(findings.contains(&("master_key_in_file".into(), "failure".into())));
        assert!(findings.contains(&("mail_not_dkim_signed".into(), "warning".into())));

        // The same findings in Korean.
        let (_, _, korean) = doctor(&app, &set, &["ASSENT_MASTER_KEY"], "ko");
        assert!(korean.contains("마스터 키"), "{korean}");

        // The run is recorded as the latest check.
        let latest = assent::services::doctor::latest(&mut app.conn()).unwrap().expect("recorded");
        assert_eq!(latest.1.len(), findings.len());
    }

    async fn a_well_configured_instance_has_no_finding_and_exit_status_0(app: TestApp) {
        // The data folder as the package makes it (the database Assent made itself is 0600).
        std::fs::set_permissions(app.db.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        if app.db.url.starts_with("sqlite") {
            let copy = app.db.dir.path().join("copy.db");
            let out = app.cli(&["backup", copy.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let set = [
            ("ASSENT_BASE_URL", "https://consent.example"),
            ("ASSENT_SMTP_URL", "smtps://mail.example"),
            ("ASSENT_MAIL_DKIM_AT_RELAY", "1"),
        ];
        // A key with an expiry, used: nothing to say of it.
        let out = app.cli(&["key", "create", "--name", "crm", "--expires-in", "1y"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let check = || app.client.get(app.url("/api/v1/consents?email=minji%40example.com")).bearer_auth(&key).send();
        assert_eq!(check().await.unwrap().status(), 200);
        let last_used = || -> Vec<Option<chrono::NaiveDateTime>> {
            use assent::db::schema::api_keys;
            api_keys::table.select(api_keys::last_used_at).load(&mut app.conn()).unwrap()
        };
        eventually("the key's use is recorded", || async { last_used().iter().all(Option::is_some) }).await;
        let (status, findings, _) = doctor(&app, &set, &[], "en");
        assert_eq!((status, findings), (0, Vec::new()));

        // Unused for 100 days: found; past its expiry: refused, and no longer found.
        let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(100);
        {
            use assent::db::schema::api_keys;
            diesel::update(api_keys::table).set(api_keys::last_used_at.eq(long_ago)).execute(&mut app.conn()).unwrap();
        }
        let (status, findings, _) = doctor(&app, &set, &[], "en");
        assert_eq!((status, codes(&findings)), (0, vec!["api_key_unused"]));
        {
            use assent::db::schema::api_keys;
            diesel::update(api_keys::table).set(api_keys::expires_at.eq(long_ago)).execute(&mut app.conn()).unwrap();
        }
        let fresh = app.another_server().await;
        let refused = app.client.get(format!("{fresh}/api/v1/consents?email=minji%40example.com")).bearer_auth(&key).send();
        assert_eq!(refused.await.unwrap().status(), 401, "an expired key is refused");
        let (status, findings, _) = doctor(&app, &set, &[], "en");
        assert_eq!((status, findings), (0, Vec::new()));

        // A backup older than allowed is found again (SQLite; PostgreSQL's are pg_dump's).
        if app.db.url.starts_with("sqlite") {
            let set = [set.as_slice(), &[("ASSENT_BACKUP_MAX_AGE", "1s")]].concat();
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let (status, findings, _) = doctor(&app, &set, &[], "en");
            assert_eq!((status, codes(&findings)), (1, vec!["backup_old"]));
        }
    }

    async fn serve_runs_the_check_itself_and_shows_it_on_the_dashboard_and_in_metrics(app: TestApp) {
        // The test server runs with an http base URL and mail to files.
        let line = "assent_doctor_findings{code=\"base_url_not_https\",severity=\"failure\"} 1";
        eventually("the check's findings are exported", || async {
            app.get("/metrics").await.text().await.unwrap().contains(line)
        })
        .await;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(metrics.contains("assent_doctor_findings{code=\"smtp_without_tls\",severity=\"failure\"} 0"), "{metrics}");
        let console = app.signed_in(Role::Owner).await;
        let page = console.page("/admin").await;
        assert!(page.contains("Security check"), "{page}");
        assert!(page.contains("The base URL is not https"), "{page}");
        assert!(page.contains("Serve Assent behind a TLS-terminating proxy"), "{page}");
    }
}
