//! A remote witness (`ASSENT_WITNESS_URL`): the real server POSTs the heads it signs to it (the
//! last one at shutdown), `assent ledger sign` does too, and a witness that refuses is retried
//! rather than trusted.

use crate::helpers::*;
use crate::on_both_backends;
use crate::server_process::Deployment;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

/// A witness on a socket of its own: keeps every JSON body POSTed to it, answering `status`.
struct Witness {
    url: String,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Witness {
    fn start(status: u16) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/heads", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_ok()
                    && let Ok(head) = serde_json::from_slice(&body)
                {
                    kept.lock().unwrap().push(head);
                }
                let reply = format!("HTTP/1.1 {status} Witnessed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Self { url, received }
    }

    fn heads(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

fn genuine(head: &Value) -> bool {
    let field = |k: &str| head[k].as_str().unwrap_or_default().to_owned();
    assent::crypto::tree_heads::verify(&field("public_key"), field("message").as_bytes(), &field("signature"))
}

on_both_backends! {
    async fn the_server_hands_its_heads_to_a_remote_witness_down_to_the_last(app: TestApp) {
        let deployment = Deployment { master_key: app.master_key.clone(), ..Deployment::on(&app.db) };
        let witness = Witness::start(204);
        let mut server = deployment.serve_with_env(&[("ASSENT_WITNESS_URL", &witness.url)]).await;
        let client = reqwest::Client::new();
        for _ in 0..3 {
            let body = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
            let sent = client.post(server.url("/api/v1/forms/newsletter/submissions")).json(&body).send().await.unwrap();
            assert_eq!(sent.status(), 201);
        }
        assert!(server.terminate().await.success(), "{}", server.log_text());
        let heads = witness.heads();
        let last = heads.last().unwrap_or_else(|| panic!("the witness got no head; log:\n{}", server.log_text()));
        assert_eq!(last["size"], 3, "the head signed at shutdown covers every event");
        assert!(genuine(last), "a head the witness can check on its own: {last}");
        assert!(last["message"].as_str().unwrap().starts_with("assent-tree-head/v2\n3\n"));
        let file = std::fs::read_to_string(deployment.data_dir.join("witness.jsonl")).unwrap();
        let kept: Value = serde_json::from_str(file.lines().last().unwrap()).unwrap();
        assert_eq!((&kept["root"], &kept["signature"]), (&last["root"], &last["signature"]), "the same head as the file");
        deployment.assert_ledger_intact();
    }

    async fn ledger_sign_delivers_too_and_a_refusing_witness_is_an_error(app: TestApp) {
        let body = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
        assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);
        let deployment = Deployment { master_key: app.master_key.clone(), ..Deployment::on(&app.db) };
        let witness = Witness::start(200);
        let out = deployment.cli_with_env(&["ledger", "sign"], &[("ASSENT_WITNESS_URL", &witness.url)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("delivered the head of size 1"));
        assert!(witness.heads().first().is_some_and(genuine));

        let refusing = Witness::start(503);
        let out = deployment.cli_with_env(&["ledger", "sign"], &[("ASSENT_WITNESS_URL", &refusing.url)]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("the witness refused the head: HTTP 503"), "{}", String::from_utf8_lossy(&out.stderr));
        let out = deployment.cli_with_env(&["ledger", "sign"], &[("ASSENT_WITNESS_URL", "ftp://witness.example")]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("must be an absolute http(s) URL"));
    }
}
