//! The offline bundle: `assent ledger export --out DIR` from the real binary, checked by the
//! independent Python verifier (`tools/verify_bundle.py`, stdlib + `cryptography`) with receipts
//! and their proofs; and every tampered copy refused, naming what is wrong.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn verifier(bundle: &Path, extra: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tools/verify_bundle.py"))
        .arg(bundle)
        .args(extra)
        .output()
        .expect("python3 runs (the verifier needs the `cryptography` package)");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

/// A copy of the bundle with one file changed by `edit` (its manifest digest updated, as a
/// forger would).
fn tampered(bundle: &Path, name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let copy = bundle.with_file_name(format!(
        "{}-{name}-{}",
        bundle.file_name().unwrap().to_string_lossy(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(bundle).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let path = copy.join(name);
    let edited = edit(std::fs::read_to_string(&path).unwrap());
    std::fs::write(&path, &edited).unwrap();
    let manifest_path = copy.join("manifest.json");
    let mut manifest: Value = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["files"][name] = json!(assent::crypto::sha256_hex(edited.as_bytes()));
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    copy
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn unlines(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

on_both_backends! {
    async fn an_exported_bundle_verifies_offline_and_every_tampered_copy_is_refused(app: TestApp) {
        let mut receipts = Vec::new();
        for name in ["Minji", "Jisoo", "Hana"] {
            let body = json!({ "fields": { "email": unique_email(), "name": name }, "purposes": ["service", "personalisation"] });
            let response: Value = app.post_json("/api/v1/forms/newsletter/submissions", &body).await.json().await.unwrap();
            receipts.push(response["receipt"].as_str().unwrap().to_owned());
        }
        let work = app.db.dir.path().join("audit");
        std::fs::create_dir_all(&work).unwrap();
        let receipt = work.join("receipt.jwt");
        std::fs::write(&receipt, &receipts[1]).unwrap();
        let claims: Value = app.state.keyring.receipts().verify(&receipts[1]).unwrap();
        let proof: Value = app.get(&format!("/api/v1/receipts/{}/proof", claims["jti"].as_str().unwrap())).await.json().await.unwrap();
        let proof_file = work.join("proof.json");
        std::fs::write(&proof_file, proof.to_string()).unwrap();
        // One more event after the proof's head: the bundle's own head covers it.
        let body = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
        assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);

        let bundle = work.join("bundle");
        let out = app.cli(&["ledger", "export", "--out", bundle.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("7 events"), "{}", String::from_utf8_lossy(&out.stdout));
        let events = std::fs::read_to_string(bundle.join("events.jsonl")).unwrap();
        assert!(!events.contains("subject_id") && !events.contains("evidence") && !events.contains('@'), "no personal data");
        let again = app.cli(&["ledger", "export", "--out", bundle.to_str().unwrap()]);
        assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("is not empty"));

        let (r, p) = (receipt.to_str().unwrap(), proof_file.to_str().unwrap());
        let (ok, said) = verifier(&bundle, &["--receipt", r, "--proof", p]);
        assert!(ok, "{said}");
        assert!(said.contains("OK: assent-ledger-bundle/1") && said.contains("7 events chained") && said.contains("2 events proven"), "{said}");

        let refused = |copy: PathBuf, expected: &str| {
            let (ok, said) = verifier(&copy, &["--receipt", r, "--proof", p]);
            assert!(!ok && said.contains(expected), "expected {expected:?}: {said}");
        };
        // An event's hash rewritten (and its successor relinked).
        refused(tampered(&bundle, "events.jsonl", |t| {
            let mut e = lines(&t);
            let forged = "ab".repeat(32);
            e[2]["hash"] = json!(forged);
            e[3]["prev_hash"] = json!(forged);
            unlines(&e)
        }), "another root");
        // The last events removed.
        refused(tampered(&bundle, "events.jsonl", |t| { let e = lines(&t); unlines(&e[..5]) }), "covers more events");
        // Two events swapped.
        refused(tampered(&bundle, "events.jsonl", |t| { let mut e = lines(&t); e.swap(3, 4); unlines(&e) }), "was expected");
        // The receipt's own event edited in the bundle (withdrawn, say).
        refused(tampered(&bundle, "events.jsonl", |t| {
            let mut e = lines(&t);
            let seq = claims["events"][1]["seq"].as_u64().unwrap() as usize;
            e[seq - 1]["action"] = json!("withdrawn");
            unlines(&e)
        }), "action differs");
        // A head replaced by one with another root: the witness kept the real one; without the
        // witness, its signature does not hold.
        let copy = tampered(&bundle, "heads.jsonl", |t| {
            let mut h = lines(&t);
            h[0]["root"] = json!("00".repeat(32));
            unlines(&h)
        });
        refused(copy.clone(), "witness saw a head");
        std::fs::remove_file(copy.join("witness.jsonl")).unwrap();
        let mut manifest: Value = serde_json::from_str(&std::fs::read_to_string(copy.join("manifest.json")).unwrap()).unwrap();
        manifest["files"].as_object_mut().unwrap().remove("witness.jsonl");
        std::fs::write(copy.join("manifest.json"), manifest.to_string()).unwrap();
        refused(copy, "not signed by a trusted key");
        // The witness kept a head the bundle no longer holds.
        refused(tampered(&bundle, "heads.jsonl", |t| { let h = lines(&t); unlines(&h[..h.len() - 1]) }), "witness saw a head");
        // A file changed without the manifest knowing.
        let copy = tampered(&bundle, "keys.json", |t| t);
        std::fs::write(copy.join("keys.json"), "{}").unwrap();
        refused(copy, "differs from the manifest");
        // A forged receipt, and a proof whose path leads elsewhere.
        let forged = work.join("forged.jwt");
        let mut token = receipts[1].clone();
        let tail = token.len() - 6;
        token.replace_range(tail.., "AAAAAA");
        std::fs::write(&forged, token).unwrap();
        let (ok, said) = verifier(&bundle, &["--receipt", forged.to_str().unwrap()]);
        assert!(!ok && said.contains("signature does not verify"), "{said}");
        let mut bent = proof.clone();
        bent["events"][0]["leaf_index"] = json!(bent["events"][0]["leaf_index"].as_u64().unwrap() + 1);
        let bent_file = work.join("bent.json");
        std::fs::write(&bent_file, bent.to_string()).unwrap();
        let (ok, said) = verifier(&bundle, &["--proof", bent_file.to_str().unwrap()]);
        assert!(!ok && said.contains("is not in the signed tree"), "{said}");
        // Trusting only another key: nothing verifies.
        let (ok, said) = verifier(&bundle, &["--trust-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]);
        assert!(!ok && said.contains("not signed by a trusted key"), "{said}");
    }
}
