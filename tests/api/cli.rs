//! The binary as a newcomer runs it: `assent serve` on a fresh folder.

use crate::on_both_backends;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

on_both_backends! {
    async fn serve_prints_the_demo_form_url_and_never_logs_personal_data(app: TestApp) {
        // A server process without a master key, on a database of its own (on this app's, whose
        // stored keys are under another master key, it would refuse to start: tests/api/keys.rs).
        let fresh = TestDb::create(app.db.backend).expect("a second database");
        let port = free_port();
        let log_path = fresh.dir.path().join("serve.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_assent"))
            .arg("serve")
            .env("ASSENT_DATABASE_URL", &fresh.url)
            .env("ASSENT_DATA_DIR", fresh.dir.path())
            .env("ASSENT_BIND", format!("127.0.0.1:{port}"))
            .env("ASSENT_CONFIG", workspace_file())
            .env("ASSENT_LOG", "debug")
            .env_remove("ASSENT_MASTER_KEY")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let demo = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("Open the demo form: ").map(str::to_owned))
            .expect("serve prints the demo form's URL");
        assert_eq!(demo, format!("http://127.0.0.1:{port}/f/newsletter"));

        let client = crate::helpers::http_client().build().unwrap();
        assert_eq!(client.get(&demo).send().await.unwrap().status(), 200);
        let email = unique_email();
        let phone = "010-5555-7777";
        let body = form_body(&[("email", &email), ("phone", phone), ("name", "Logname Canary"), ("purpose", "service"), ("purpose", "marketing_sms")]);
        let response = client.post(&demo).header("content-type", "application/x-www-form-urlencoded").body(body.clone()).send().await.unwrap();
        assert_eq!(response.status(), 303);
        let response = client.post(format!("{demo}?email={email}")).header("content-type", "application/x-www-form-urlencoded").body(format!("{body}&bogus=1")).send().await.unwrap();
        assert_eq!(response.status(), 422);
        let lookup = format!("http://127.0.0.1:{port}/api/v1/consents?email={email}");
        assert_eq!(client.get(&lookup).send().await.unwrap().status(), 401);

        child.kill().unwrap();
        child.wait().unwrap();
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(log.contains("/f/newsletter"), "requests are logged: {log}");
        assert!(log.contains("development master key"), "a missing master key is warned about");
        assert!(fresh.dir.path().join("master.key").exists());
        for secret in [email.as_str(), email.split('@').next().unwrap(), phone, "Logname", "Canary"] {
            assert!(!log.contains(secret), "{secret} appeared in the log");
        }
    }
}

#[test]
fn the_version_names_the_release_and_the_commit() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_assent")).arg("--version").output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    let expected = format!("assent {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(said.starts_with(&expected), "{said}");
    let commit = said.trim().trim_end_matches(')').rsplit(' ').next().unwrap();
    assert!(commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{said}");
}
