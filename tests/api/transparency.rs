//! The ledger as a transparency log: signed tree heads published and witnessed outside the
//! database, consistency proofs, and `assent ledger verify` catching what someone with full
//! write access to the database (but not to the witness) can do.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::ledger::ConsentEvent;
use assent::db::schema::{consent_events, ledger_head};
use assent::domain::ledger::{GENESIS_HASH, chain_hash};
use assent::domain::merkle::{Hash, verify_consistency, verify_inclusion};
use diesel::prelude::*;
use serde_json::{Value, json};

async fn submissions(app: &TestApp, n: usize) {
    for _ in 0..n {
        let body = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
        let response = app.post_json("/api/v1/forms/newsletter/submissions", &body).await;
        assert_eq!(response.status(), 201);
    }
}

fn sign(app: &TestApp) {
    let out = app.cli(&["ledger", "sign"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn verify(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["ledger", "verify"]);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn hash(hex_text: &str) -> Hash {
    Hash::try_from(hex::decode(hex_text).unwrap()).unwrap()
}

fn events(app: &TestApp) -> i64 {
    consent_events::table.count().get_result(&mut app.conn()).unwrap()
}

/// Goes around the append-only guard, as someone with full write access would.
fn drop_append_only_guard(app: &TestApp) {
    let statements: &[&str] = match app.db.backend {
        Backend::Sqlite => &["DROP TRIGGER consent_events_no_update", "DROP TRIGGER consent_events_no_delete"],
        Backend::Postgres => &["DROP TRIGGER consent_events_no_change ON consent_events"],
    };
    for sql in statements {
        diesel::sql_query(*sql).execute(&mut app.conn()).unwrap();
    }
}

/// Recomputes every event's chain hash and the recorded head, so the chain verifies again.
fn rechain(app: &TestApp) {
    let mut c = app.conn();
    let all: Vec<ConsentEvent> =
        consent_events::table.order(consent_events::seq.asc()).select(ConsentEvent::as_select()).load(&mut c).unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    for event in &all {
        let hash = chain_hash(&prev, &event.content());
        diesel::update(consent_events::table.filter(consent_events::seq.eq(event.seq)))
            .set((consent_events::prev_hash.eq(&prev), consent_events::hash.eq(&hash)))
            .execute(&mut c)
            .unwrap();
        prev = hash;
    }
    let last = all.last().map_or(0, |e| e.seq);
    diesel::update(ledger_head::table)
        .set((ledger_head::seq.eq(last), ledger_head::hash.eq(&prev)))
        .execute(&mut c)
        .unwrap();
}

fn chain_holds_but_tree_does_not(app: &TestApp, says: &str) {
    let (ok, text) = verify(app);
    assert!(!ok, "{text}");
    assert!(text.contains("ledger intact"), "the chain alone is fooled: {text}");
    assert!(text.contains(says), "{text}");
}

on_both_backends! {
    async fn the_minute_signer_reads_on_from_its_last_event_and_signs_the_whole_trees_root(app: TestApp) {
        use assent::services::transparency::{HeadSigner, tree};
        let (keyring, dir) = (app.state.keyring.clone(), app.db.dir.path().to_owned());
        let mut signer = HeadSigner::default();
        let root_of_everything = || {
            let whole = tree(&mut app.conn()).unwrap();
            (whole.size(), hex::encode(whole.root()))
        };
        submissions(&app, 3).await;
        let first = signer.sign_and_witness(&mut app.conn(), &keyring, &dir).unwrap().expect("a head");
        assert_eq!((first.size, first.root.clone()), root_of_everything());
        assert!(signer.sign_and_witness(&mut app.conn(), &keyring, &dir).unwrap().is_none(), "nothing new, no head");
        submissions(&app, 2).await;
        let second = signer.sign_and_witness(&mut app.conn(), &keyring, &dir).unwrap().expect("a head");
        assert_eq!((second.size, second.root.clone()), root_of_everything());
        assert!(second.size > first.size);

        // The database now holds another history from the last event the signer read on (as a
        // restored backup would): it starts again from the first event.
        drop_append_only_guard(&app);
        let last = events(&app);
        diesel::sql_query(format!("DELETE FROM consent_events WHERE seq >= {}", last - 1)).execute(&mut app.conn()).unwrap();
        rechain(&app);
        submissions(&app, 3).await;
        let third = signer.sign_and_witness(&mut app.conn(), &keyring, &dir).unwrap().expect("a head");
        assert_eq!((third.size, third.root.clone()), root_of_everything());
        assert_ne!(third.root, second.root, "another history, another root");
    }

    async fn heads_are_signed_published_witnessed_and_consistent(app: TestApp) {
        let missing = app.get("/.well-known/assent/tree-head").await;
        assert_eq!(missing.status(), 404, "no head before the first event");
        submissions(&app, 3).await;
        sign(&app);
        let first: Value = app.get("/.well-known/assent/tree-head").await.json().await.unwrap();
        assert_eq!(first["size"].as_i64(), Some(events(&app)));
        let message = first["message"].as_str().unwrap();
        assert!(message.starts_with("assent-tree-head/v2\n"), "heads commit to the access records too");
        let key = first["public_key"].as_str().unwrap();
        assert!(assent::crypto::tree_heads::verify(key, message.as_bytes(), first["signature"].as_str().unwrap()));

        submissions(&app, 2).await;
        sign(&app);
        let second: Value = app.get("/.well-known/assent/tree-head").await.json().await.unwrap();
        let (m, n) = (first["size"].as_u64().unwrap(), second["size"].as_u64().unwrap());
        assert!(n > m);
        let proof: Value = app.get(&format!("/.well-known/assent/consistency?from={m}&to={n}")).await.json().await.unwrap();
        assert_eq!(proof["from_root"], first["root"]);
        assert_eq!(proof["to_root"], second["root"]);
        let path: Vec<Hash> = proof["proof"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
        let (old, new) = (hash(first["root"].as_str().unwrap()), hash(second["root"].as_str().unwrap()));
        assert!(verify_consistency(&old, m, &new, n, &path), "the later head extends the earlier one");
        assert!(!verify_consistency(&new, m, &old, n, &path));
        let bad = app.get(&format!("/.well-known/assent/consistency?from=0&to={n}")).await;
        assert_eq!(bad.status(), 400);
        assert_eq!(bad.json::<Value>().await.unwrap()["code"], "invalid_query");

        // The server signs too (at start, then every minute): count what is stored.
        let stored: i64 = assent::db::schema::tree_heads::table.count().get_result(&mut app.conn()).unwrap();
        assert!(stored >= 2);
        let witness = std::fs::read_to_string(app.db.dir.path().join("witness.jsonl")).unwrap();
        assert_eq!(witness.lines().count() as i64, stored, "each head is witnessed outside the database");
        let (ok, text) = verify(&app);
        assert!(ok, "{text}");
        assert!(text.contains(&format!("{stored} signed heads verified, {stored} witnessed")), "{text}");
    }

    async fn an_edited_event_with_every_hash_recomputed_is_caught(app: TestApp) {
        submissions(&app, 3).await;
        sign(&app);
        drop_append_only_guard(&app);
        diesel::sql_query("UPDATE consent_events SET action = 'withdrawn' WHERE seq = 2").execute(&mut app.conn()).unwrap();
        rechain(&app);
        chain_holds_but_tree_does_not(&app, "history was rewritten");
    }

    async fn two_swapped_events_with_every_hash_recomputed_are_caught(app: TestApp) {
        submissions(&app, 3).await;
        sign(&app);
        drop_append_only_guard(&app);
        for sql in [
            "UPDATE consent_events SET seq = 100 WHERE seq = 1",
            "UPDATE consent_events SET seq = 1 WHERE seq = 2",
            "UPDATE consent_events SET seq = 2 WHERE seq = 100",
        ] {
            diesel::sql_query(sql).execute(&mut app.conn()).unwrap();
        }
        rechain(&app);
        chain_holds_but_tree_does_not(&app, "history was rewritten");
    }

    async fn a_shortened_history_with_its_newest_heads_deleted_is_caught_by_the_witness(app: TestApp) {
        submissions(&app, 2).await;
        sign(&app);
        let kept = events(&app);
        submissions(&app, 2).await;
        sign(&app);
        drop_append_only_guard(&app);
        let mut c = app.conn();
        diesel::sql_query(format!("DELETE FROM consent_events WHERE seq > {kept}")).execute(&mut c).unwrap();
        diesel::sql_query(format!("DELETE FROM tree_heads WHERE size > {kept}")).execute(&mut c).unwrap();
        rechain(&app);
        chain_holds_but_tree_does_not(&app, "the witness saw a head");
    }

    async fn a_replaced_signed_head_is_caught(app: TestApp) {
        submissions(&app, 2).await;
        sign(&app);
        drop_append_only_guard(&app);
        diesel::sql_query("UPDATE consent_events SET source = 'forged' WHERE seq = 1").execute(&mut app.conn()).unwrap();
        rechain(&app);
        // The head is rewritten to the new root (no key to sign it), and the witness deleted too.
        let tree = assent::services::transparency::tree(&mut app.conn()).unwrap();
        let root = hex::encode(tree.root());
        diesel::sql_query(format!("UPDATE tree_heads SET root = '{root}'")).execute(&mut app.conn()).unwrap();
        std::fs::remove_file(app.db.dir.path().join("witness.jsonl")).unwrap();
        chain_holds_but_tree_does_not(&app, "signature does not verify");
    }

    async fn a_receipt_proves_its_own_events_are_in_the_signed_tree(app: TestApp) {
        submissions(&app, 2).await;
        let body = json!({ "fields": { "email": unique_email(), "name": "Minji" }, "purposes": ["service", "personalisation"] });
        let response: Value = app.post_json("/api/v1/forms/newsletter/submissions", &body).await.json().await.unwrap();
        submissions(&app, 1).await;
        let claims: Value = app.state.keyring.receipts().verify(response["receipt"].as_str().unwrap()).unwrap();
        let jti = claims["jti"].as_str().unwrap();
        let receipt_events = claims["events"].as_array().unwrap();
        assert_eq!(receipt_events.len(), 2);

        // No head covers them yet: asking for the proof signs one (and witnesses it).
        let proof: Value = app.get(&format!("/api/v1/receipts/{jti}/proof")).await.json().await.unwrap();
        let head = &proof["tree_head"];
        let key = head["public_key"].as_str().unwrap_or_else(|| panic!("{proof}"));
        assert!(assent::crypto::tree_heads::verify(key, head["message"].as_str().unwrap().as_bytes(), head["signature"].as_str().unwrap()));
        let (root, size) = (hash(head["root"].as_str().unwrap()), head["size"].as_u64().unwrap());
        let proven = proof["events"].as_array().unwrap();
        assert_eq!(proven.len(), 2);
        for (event, claimed) in proven.iter().zip(receipt_events) {
            assert_eq!(event["hash"], claimed["hash"], "the receipt's own event");
            assert_eq!(event["leaf_index"], claimed["leaf_index"]);
            let path: Vec<Hash> = event["proof"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
            let leaf = hash(claimed["hash"].as_str().unwrap());
            let index = claimed["leaf_index"].as_u64().unwrap();
            assert!(verify_inclusion(&root, size, index, &leaf, &path), "event {index} is in the signed tree");
            assert!(!verify_inclusion(&root, size, index + 1, &leaf, &path));
        }
        assert!(!proof.to_string().contains("Minji") && !proof.to_string().contains("@"), "hashes only");
        let witness = std::fs::read_to_string(app.db.dir.path().join("witness.jsonl")).unwrap();
        assert!(witness.contains(head["root"].as_str().unwrap()));
        assert_eq!(app.get("/api/v1/receipts/no-such-receipt/proof").await.status(), 404);
        assert!(verify(&app).0);
    }
}
