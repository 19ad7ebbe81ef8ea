//! Access records (개인정보의 안전성 확보조치 기준 art. 8): every read of, or act on, a named
//! person's data by an API key or a console account is recorded with who, when, from where (an
//! IP pseudonym), whose data and what; nothing personal is stored; the chain and the signed
//! heads catch an edited, deleted or swapped record; records survive a restart.

use crate::admin_helpers::*;
use crate::helpers::*;
use crate::on_both_backends;
use crate::server_process::*;
use assent::db::access::{AccessRecord, NewAccess};
use assent::db::schema::{access_head, access_records, api_keys, owners};
use assent::domain::access::{GENESIS_HASH, access_hash};
use assent::domain::owner::Role;
use diesel::prelude::*;
use serde_json::{Value, json};

fn records(app: &TestApp) -> Vec<AccessRecord> {
    access_records::table
        .order(access_records::seq.asc())
        .select(AccessRecord::as_select())
        .load(&mut app.conn())
        .unwrap()
}

/// (actor kind, actor id, action, subject, path) of every record, in order.
fn summary(app: &TestApp) -> Vec<(String, String, String, Option<String>, String)> {
    records(app).into_iter().map(|r| (r.actor_kind, r.actor_id, r.action, r.subject_id, r.path)).collect()
}

fn key_id(app: &TestApp) -> String {
    api_keys::table.select(api_keys::id).first(&mut app.conn()).unwrap()
}

fn owner_id(app: &TestApp, email: &str) -> String {
    owners::table.filter(owners::email.eq(email)).select(owners::id).first(&mut app.conn()).unwrap()
}

async fn person(app: &TestApp) -> String {
    let email = unique_email();
    let body =
        json!({ "fields": { "email": email, "phone": "010-2222-3333" }, "purposes": ["service", "marketing_sms"] });
    assert_eq!(app.post_json("/api/v1/forms/newsletter/submissions", &body).await.status(), 201);
    email
}

async fn check(app: &TestApp, key: &str, email: &str) -> Value {
    let path = format!("/api/v1/consents?email={}", email.replace('@', "%40"));
    let response = app.client.get(app.url(&path)).bearer_auth(key).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn verify(app: &TestApp) -> (bool, String) {
    let out = app.cli(&["ledger", "verify"]);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn sign(app: &TestApp) {
    let out = app.cli(&["ledger", "sign"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Goes around the append-only guards, as someone with full write access would.
fn drop_guards(app: &TestApp) {
    let statements: &[&str] = match app.db.backend {
        Backend::Sqlite => &[
            "DROP TRIGGER access_records_no_update",
            "DROP TRIGGER access_records_no_delete",
            "DROP TRIGGER access_head_forward",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER access_records_no_change ON access_records",
            "DROP TRIGGER access_head_forward ON access_head",
        ],
    };
    for sql in statements {
        diesel::sql_query(*sql).execute(&mut app.conn()).unwrap();
    }
}

/// Recomputes every record's chain hash and the head, so the chain alone verifies again.
fn rechain(app: &TestApp) {
    let mut c = app.conn();
    let mut prev = GENESIS_HASH.to_owned();
    let all = records(app);
    for r in &all {
        let hash = access_hash(&prev, &r.content());
        diesel::update(access_records::table.filter(access_records::seq.eq(r.seq)))
            .set((access_records::prev_hash.eq(&prev), access_records::hash.eq(&hash)))
            .execute(&mut c)
            .unwrap();
        prev = hash;
    }
    let last = all.last().map_or(0, |r| r.seq);
    diesel::update(access_head::table)
        .set((access_head::seq.eq(last), access_head::hash.eq(&prev)))
        .execute(&mut c)
        .unwrap();
}

/// Three consent checks by an API key, of three people (three records), written.
async fn three_checks(app: &TestApp) -> String {
    let key = app.api_key();
    for _ in 0..3 {
        let email = person(app).await;
        check(app, &key, &email).await;
    }
    app.state.access.flush().await;
    assert_eq!(records(app).len(), 3);
    key
}

on_both_backends! {
    async fn every_api_key_access_is_recorded_with_who_whose_and_from_where(app: TestApp) {
        let key = app.api_key();
        let email = person(&app).await;
        let found = check(&app, &key, &email).await;
        let subject = found["subject_id"].as_str().unwrap().to_owned();
        let unknown = check(&app, &key, "nobody-here@example.com").await;
        assert!(unknown["subject_id"].is_null());
        let path = format!("/api/v1/subjects/{subject}");
        assert_eq!(app.client.get(app.url(&path)).bearer_auth(&key).send().await.unwrap().status(), 200);
        assert_eq!(app.client.get(app.url(&format!("{path}/export"))).bearer_auth(&key).send().await.unwrap().status(), 200);
        let withdraw = json!({ "purpose": "marketing_sms", "action": "withdraw" });
        let changed = app.client.post(app.url(&format!("{path}/consents"))).bearer_auth(&key).json(&withdraw).send().await.unwrap();
        assert_eq!(changed.status(), 200);
        assert_eq!(app.client.delete(app.url(&path)).bearer_auth(&key).send().await.unwrap().status(), 200);
        // A refused call reads nothing and records nothing.
        assert_eq!(app.client.get(app.url(&path)).bearer_auth(&key).send().await.unwrap().status(), 410);
        let vouched = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
        let vouched: Value = app.client.post(app.url("/api/v1/forms/newsletter/submissions")).bearer_auth(&key)
            .json(&vouched).send().await.unwrap().json().await.unwrap();

        app.state.access.flush().await;
        let id = key_id(&app);
        let s = Some(subject.clone());
        let expected = vec![
            ("api_key".into(), id.clone(), "consent_check".into(), s.clone(), "/api/v1/consents".into()),
            ("api_key".into(), id.clone(), "consent_check".into(), None, "/api/v1/consents".into()),
            ("api_key".into(), id.clone(), "view_person".into(), s.clone(), "/api/v1/subjects/{id}".into()),
            ("api_key".into(), id.clone(), "export_person".into(), s.clone(), "/api/v1/subjects/{id}/export".into()),
            ("api_key".into(), id.clone(), "change_consent".into(), s.clone(), "/api/v1/subjects/{id}/consents".into()),
            ("api_key".into(), id.clone(), "erase_person".into(), s.clone(), "/api/v1/subjects/{id}".into()),
            ("api_key".into(), id.clone(), "verified_submission".into(), vouched["subject_id"].as_str().map(str::to_owned),
                "/api/v1/forms/{form}/submissions".into()),
        ];
        assert_eq!(summary(&app), expected);
        let all = records(&app);
        let pseudonym = app.keyring.ip_pseudonym("127.0.0.1");
        assert!(all.iter().all(|r| r.ip_pseudonym.as_deref() == Some(pseudonym.as_str())), "from where, as a pseudonym");
        let text = serde_json::to_string(&all).unwrap();
        assert!(!text.contains('@') && !text.contains("127.0.0.1") && !text.contains("010-2222-3333"), "nothing personal: {text}");
        assert!(!text.contains("nobody-here"), "an unknown address is recorded without it");
        let (ok, out) = verify(&app);
        assert!(ok && out.contains("access records intact: 7 verified"), "{out}");
    }

    async fn records_are_written_within_a_second_without_being_asked(app: TestApp) {
        let key = app.api_key();
        check(&app, &key, "nobody-yet@example.com").await;
        eventually_within("the access record was written without a flush", std::time::Duration::from_secs(5), || async {
            !records(&app).is_empty()
        })
        .await;
    }

    async fn console_reads_are_recorded_per_person_and_listed_for_the_privacy_officer(app: TestApp) {
        let (a, b) = (person(&app).await, person(&app).await);
        let key = app.api_key();
        let (sa, sb) = (check(&app, &key, &a).await, check(&app, &key, &b).await);
        let (sa, sb) = (sa["subject_id"].as_str().unwrap().to_owned(), sb["subject_id"].as_str().unwrap().to_owned());
        let console = app.console();
        let email = app.owner(Role::Owner);
        assert_eq!(console.sign_in(&email, PASSWORD).await.status(), 303);
        console.page("/admin/submissions?lang=en").await;
        // The console searches by address with a POST: the address stays out of the URL.
        let found = console.submit("/admin/submissions?lang=en", &[("email", &a)]).await;
        assert_eq!(found.status(), 200);
        let found = found.text().await.unwrap();
        assert!(found.contains(&sa) && !found.contains(&sb), "the search finds the one person");
        assert!(!found.contains(&a.replace('@', "%40")), "no link carries the address");
        assert_eq!(console.submit("/admin/submissions?lang=en", &[("email", "nobody@example.com")]).await.status(), 200);
        let submission: String = assent::db::schema::submissions::table
            .filter(assent::db::schema::submissions::subject_id.eq(&sb))
            .select(assent::db::schema::submissions::id)
            .first(&mut app.conn())
            .unwrap();
        console.page(&format!("/admin/submissions/{submission}?lang=en")).await;
        let exported = console.submit("/admin/submissions.csv?lang=en", &[("email", &b)]).await;
        assert_eq!(exported.status(), 200);
        assert!(exported.text().await.unwrap().contains(&sb), "the export by POST holds the one person");
        assert_eq!(console.get("/admin/consents.csv").await.status(), 200);
        app.state.access.flush().await;

        let me = owner_id(&app, &email);
        // (action, person) → how many times: the second list of `a` within the same second as
        // the first may be one record with a count of two.
        let mut mine = std::collections::BTreeMap::<(String, Option<String>), i64>::new();
        for r in records(&app).into_iter().filter(|r| r.actor_id == me) {
            assert_eq!(r.actor_kind, "owner");
            *mine.entry((r.action, r.subject_id)).or_default() += r.times;
        }
        let expected: std::collections::BTreeMap<(String, Option<String>), i64> = [
            (("list_submissions", Some(&sa)), 2),
            (("list_submissions", Some(&sb)), 1),
            (("search", Some(&sa)), 1),
            (("search", None), 1),
            (("view_submission", Some(&sb)), 1),
            (("csv_submissions", Some(&sb)), 1),
            (("csv_consents", None), 1),
        ]
        .into_iter()
        .map(|((action, s), n)| ((action.to_owned(), s.cloned()), n))
        .collect();
        assert_eq!(mine, expected);

        // "Who looked at this person's data?": the page, filtered by the person, in every language.
        let html = console.page(&format!("/admin/access?lang=en&subject={sb}")).await;
        assert!(html.contains("Access records") && html.contains(&email) && html.contains("<code>view_submission</code>"), "{html}");
        assert!(html.contains(&key_id(&app)), "the API key's check of the same person");
        assert!(!html.contains(&sa), "only the person asked about");
        let by_key = console.page(&format!("/admin/access?lang=ko&actor={}", key_id(&app))).await;
        assert!(by_key.contains("접속기록") && by_key.contains("<code>consent_check</code>"));
        assert!(!by_key.contains("<code>view_submission</code>"), "only the key's records");
        assert!(console.page("/admin/access?lang=ja&action=csv_consents").await.contains("アクセス記録"));
        // And from the command line, as JSON lines.
        let out = app.cli(&["access", "list", "--subject", &sb]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<Value> = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(lines.iter().all(|l| l["subject_id"] == sb.as_str()) && lines.len() == 4, "{lines:?}");
        assert_eq!(lines[0]["action"], "csv_submissions", "newest first");
        let bad = app.cli(&["access", "list", "--action", "peek"]);
        assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("unknown action peek"));
    }

    async fn an_edited_or_deleted_access_record_is_named_by_verify(app: TestApp) {
        three_checks(&app).await;
        assert!(verify(&app).0);
        // The guards refuse it while they stand.
        assert!(diesel::sql_query("UPDATE access_records SET action = 'search' WHERE seq = 2").execute(&mut app.conn()).is_err());
        assert!(diesel::sql_query("DELETE FROM access_records WHERE seq = 3").execute(&mut app.conn()).is_err());
        drop_guards(&app);
        diesel::sql_query("UPDATE access_records SET subject_id = NULL WHERE seq = 2").execute(&mut app.conn()).unwrap();
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("access record #2: content does not match its hash"), "{out}");
        rechain(&app);
        diesel::sql_query("DELETE FROM access_records WHERE seq = 3").execute(&mut app.conn()).unwrap();
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("the access records end at #2 but their head records #3"), "{out}");
    }

    async fn signed_heads_cover_the_access_records(app: TestApp) {
        three_checks(&app).await;
        sign(&app);
        let head: Value = app.get("/.well-known/assent/tree-head").await.json().await.unwrap();
        let message = head["message"].as_str().unwrap();
        assert!(message.starts_with("assent-tree-head/v2\n"), "{message}");
        let tip: String = access_head::table.select(access_head::hash).first(&mut app.conn()).unwrap();
        assert!(message.contains(&format!("\n3\n{tip}\n")), "{message}");
        assert!(assent::crypto::tree_heads::verify(head["public_key"].as_str().unwrap(), message.as_bytes(), head["signature"].as_str().unwrap()));
        // Only the access records grew: a new head is signed all the same.
        let key = app.api_key();
        check(&app, &key, "someone@example.com").await;
        app.state.access.flush().await;
        sign(&app);
        let (ok, out) = verify(&app);
        assert!(ok, "{out}");

        drop_guards(&app);
        // Swapped, every hash recomputed: the chain holds, the heads do not.
        for sql in ["UPDATE access_records SET seq = 100 WHERE seq = 1", "UPDATE access_records SET seq = 1 WHERE seq = 2",
            "UPDATE access_records SET seq = 2 WHERE seq = 100", "UPDATE access_records SET actor_id = 'x' WHERE seq = 3"] {
            diesel::sql_query(sql).execute(&mut app.conn()).unwrap();
        }
        rechain(&app);
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("access records intact"), "{out}");
        assert!(out.contains("access records were rewritten"), "{out}");
    }

    async fn access_records_deleted_from_the_end_with_their_head_rolled_back_are_caught(app: TestApp) {
        three_checks(&app).await;
        sign(&app);
        drop_guards(&app);
        diesel::sql_query("DELETE FROM access_records WHERE seq > 1").execute(&mut app.conn()).unwrap();
        rechain(&app);
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("access records intact: 1"), "{out}");
        assert!(out.contains("covers 3 access records but only 1 are held"), "{out}");
    }

    async fn v1_heads_signed_before_the_access_records_keep_verifying(app: TestApp) {
        person(&app).await;
        // Over the first of the submission's two events: a size the server never signs itself.
        let tree = assent::services::transparency::tree(&mut app.conn()).unwrap().prefix(1).unwrap();
        let root = hex::encode(tree.root());
        let at = assent::domain::ledger::ledger_time(chrono::Utc::now().naive_utc()) - chrono::Duration::hours(1);
        let signer = app.keyring.tree_heads();
        let signature = signer.sign(&assent::domain::tree_head::TreeHead::message(tree.size(), &root, at));
        let v1 = assent::domain::tree_head::TreeHead {
            size: tree.size(), root, signed_at: at, key_id: signer.key_id().to_owned(), signature, access: None,
        };
        assent::db::tree_heads::insert(&mut app.conn(), &v1).unwrap();
        three_checks(&app).await;
        sign(&app);
        let (ok, out) = verify(&app);
        assert!(ok, "{out}");
        let stored = assent::db::tree_heads::all(&mut app.conn()).unwrap();
        assert_eq!(stored.first().map(|h| h.version()), Some(1), "the v1 head is still there");
        assert_eq!(stored.last().map(|h| h.version()), Some(2));
        // A v1 head is checked as v1: one claimed to be v2 no longer verifies.
        diesel::sql_query(format!("UPDATE tree_heads SET access_hash = '{GENESIS_HASH}' WHERE access_hash IS NULL"))
            .execute(&mut app.conn())
            .unwrap();
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("signature does not verify"), "{out}");
    }

    async fn a_coalesced_record_round_trips_and_its_count_cannot_be_edited(app: TestApp) {
        let at = chrono::Utc::now().naive_utc();
        let entries = vec![NewAccess {
            occurred_at: at, actor_kind: "api_key", actor_id: "k".into(), ip_pseudonym: Some("ip".into()),
            subject_id: Some("s".into()), action: "consent_check", path: "/api/v1/consents".into(),
            times: 40, last_at: Some(at + chrono::Duration::microseconds(654_321)),
        }];
        app.state.db.writer
            .write(move |tx| -> anyhow::Result<()> { Ok(assent::db::access::append(tx.conn, &entries)?) })
            .await
            .unwrap();
        sign(&app);
        let (ok, out) = verify(&app);
        assert!(ok && out.contains("access records intact: 1 verified"), "{out}");
        let console = app.console();
        assert_eq!(console.sign_in(&app.owner(Role::Owner), PASSWORD).await.status(), 303);
        let html = console.page("/admin/access?lang=en&subject=s").await;
        assert!(html.contains("<th scope=\"col\">Times</th>") && html.contains("<td>40 (last <time"), "{html}");
        drop_guards(&app);
        diesel::sql_query("UPDATE access_records SET times = 1, last_at = NULL").execute(&mut app.conn()).unwrap();
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("access record #1: content does not match its hash"), "{out}");
    }

    async fn pruning_past_retention_keeps_the_chain_verifiable(app: TestApp) {
        let old = chrono::Utc::now().naive_utc() - chrono::Duration::days(3 * 365);
        let entry = |at| NewAccess {
            occurred_at: at, actor_kind: "api_key", actor_id: "k".into(), ip_pseudonym: None,
            subject_id: Some("s".into()), action: "consent_check", path: "/api/v1/consents".into(),
            times: 1, last_at: None,
        };
        let entries = vec![entry(old), entry(old), entry(chrono::Utc::now().naive_utc())];
        app.state.db.writer
            .write(move |tx| -> anyhow::Result<()> { Ok(assent::db::access::append(tx.conn, &entries)?) })
            .await
            .unwrap();
        sign(&app);
        // Records still inside the retention cannot be deleted, anchor or not.
        assert!(diesel::sql_query("DELETE FROM access_records WHERE seq = 3").execute(&mut app.conn()).is_err());
        let writer = app.state.db.writer.clone();
        let pruned = tokio::task::spawn_blocking(move || {
            assent::services::access::prune(&writer, assent::domain::Retention::months(24), chrono::Utc::now())
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(pruned, 2);
        let anchor: i64 = access_head::table.select(access_head::pruned_seq).first(&mut app.conn()).unwrap();
        assert_eq!(anchor, 2);
        assert_eq!(records(&app).iter().map(|r| r.seq).collect::<Vec<_>>(), [3]);
        let (ok, out) = verify(&app);
        assert!(ok && out.contains("access records intact: 1 verified (2 pruned"), "{out}");
        // An anchor moved over records younger than two years is named.
        drop_guards(&app);
        diesel::sql_query("UPDATE access_head SET pruned_seq = 3, pruned_at = CURRENT_TIMESTAMP").execute(&mut app.conn()).unwrap();
        diesel::sql_query("DELETE FROM access_records").execute(&mut app.conn()).unwrap();
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("before the minimum retention of two years had passed"), "{out}");
    }
}

on_both_backends! {
    async fn records_pruned_under_a_back_dated_anchor_are_caught_by_the_heads(app: TestApp) {
        let key = three_checks(&app).await;
        sign(&app);
        for _ in 0..2 {
            let email = person(&app).await;
            check(&app, &key, &email).await;
        }
        app.state.access.flush().await;
        // Records 1 to 4 "pruned", the anchor dated three years back so the chain alone agrees.
        let kept = records(&app);
        let (seq, hash) = (kept[3].seq, kept[3].hash.clone());
        drop_guards(&app);
        let old = chrono::Utc::now().naive_utc() - chrono::Duration::days(3 * 365);
        diesel::update(access_head::table)
            .set((access_head::pruned_seq.eq(seq), access_head::pruned_hash.eq(&hash), access_head::pruned_at.eq(old)))
            .execute(&mut app.conn())
            .unwrap();
        diesel::delete(access_records::table.filter(access_records::seq.le(seq))).execute(&mut app.conn()).unwrap();
        let (ok, out) = verify(&app);
        assert!(!ok && out.contains("access records intact: 1 verified (4 pruned"), "{out}");
        assert!(out.contains("access records after #3 were written after it"), "{out}");
    }
}

/// Records queued when the server is stopped are written before it exits.
async fn records_survive_a_restart(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let deployment = Deployment::on(&db);
    let mut server = deployment.serve().await;
    let out = deployment.cli(&["key", "create", "--name", "crm"]);
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let response =
            client.get(server.url("/api/v1/consents?email=a%40b.example")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let spanned = started.elapsed().as_secs() as usize + 2;
    let status = server.terminate().await;
    assert!(status.success(), "{}", server.log_text());
    let held: Vec<(i64, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> = access_records::table
        .order(access_records::seq.asc())
        .select((access_records::times, access_records::occurred_at, access_records::last_at))
        .load(&mut db.connect())
        .unwrap();
    assert_eq!(held.iter().map(|r| r.0).sum::<i64>(), 20, "every check flushed at shutdown: {held:?}");
    // Identical checks in the same second are one record with a count, and its last time.
    assert!(held.len() <= spanned.min(20), "at most one record per second spanned: {held:?}");
    for (times, first, last) in &held {
        let same_second = |t: &chrono::NaiveDateTime| t.and_utc().timestamp() == first.and_utc().timestamp();
        assert!(*times == 1 && last.is_none() || last.is_some_and(|l| l >= *first && same_second(&l)), "{held:?}");
    }
    let heads = assent::db::tree_heads::all(&mut db.connect()).unwrap();
    let size = held.len() as u64;
    assert_eq!(
        heads.last().and_then(|h| h.access.as_ref()).map(|a| a.size),
        Some(size),
        "and covered by the last head"
    );
    let _again = deployment.serve().await;
    deployment.assert_ledger_intact();
}

#[tokio::test]
async fn records_survive_a_restart_sqlite() {
    records_survive_a_restart(Backend::Sqlite).await;
}

#[tokio::test]
async fn records_survive_a_restart_postgres() {
    records_survive_a_restart(Backend::Postgres).await;
}
