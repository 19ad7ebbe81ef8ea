//! Structured logs: with `ASSENT_LOG_FORMAT=json` every log line is one JSON object, and none
//! of them carries an address or a value from the run.

use crate::on_both_backends;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

on_both_backends! {
    async fn json_logs_are_one_object_a_line_and_carry_no_personal_data(app: TestApp) {
        let port = free_port();
        let log_path = app.db.dir.path().join("serve.json.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_assent"))
            .arg("serve")
            .env("ASSENT_DATABASE_URL", &app.db.url)
            .env("ASSENT_DATA_DIR", app.db.dir.path())
            .env("ASSENT_MASTER_KEY", &app.master_key)
            .env("ASSENT_BIND", format!("127.0.0.1:{port}"))
            .env("ASSENT_CONFIG", workspace_file())
            .env("ASSENT_LOG_FORMAT", "json")
            .env("ASSENT_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        while !banner.contains("Open the demo form: ") {
            assert!(stdout.read_line(&mut banner).unwrap() > 0, "serve exited early: {banner}");
        }
        let base = format!("http://127.0.0.1:{port}");
        let client = crate::helpers::http_client().build().unwrap();

        let email = unique_email();
        let phone = "010-4444-8888";
        let body = form_body(&[("email", &email), ("phone", phone), ("name", "Jsonlog Canary"), ("purpose", "service"), ("purpose", "marketing_sms")]);
        let form = client.post(format!("{base}/f/newsletter")).header("content-type", "application/x-www-form-urlencoded");
        assert_eq!(form.body(body).send().await.unwrap().status(), 303);
        let bad = client.post(format!("{base}/f/newsletter?email={email}")).header("content-type", "application/x-www-form-urlencoded");
        assert_eq!(bad.body(format!("email={email}&bogus=1")).send().await.unwrap().status(), 422);
        let json = serde_json::json!({ "fields": { "email": email, "phone": phone }, "purposes": ["service", "marketing_sms"] });
        let api = client.post(format!("{base}/api/v1/forms/newsletter/submissions")).json(&json).send().await.unwrap();
        assert_eq!(api.status(), 201);
        let me = client.post(format!("{base}/me")).header("content-type", "application/x-www-form-urlencoded");
        assert_eq!(me.body(form_body(&[("email", &email)])).send().await.unwrap().status(), 200);
        app.wait_for_mail(&email, "Your link to manage your data").await;

        child.kill().unwrap();
        child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let log = std::fs::read_to_string(&log_path).unwrap();
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines.len() >= 4, "requests are logged: {log}");
        for line in &lines {
            let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(parsed.is_object() && parsed.get("level").is_some(), "a log record: {line}");
        }
        assert!(lines.iter().any(|l| l.contains("/f/newsletter")), "requests are logged: {log}");
        let everything = format!("{log}{banner}{rest}");
        for secret in [email.as_str(), email.split('@').next().unwrap(), phone, "Jsonlog", "Canary"] {
            assert!(!everything.contains(secret), "{secret} appeared in the output");
        }
    }
}
