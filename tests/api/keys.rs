//! Keys that rotate: the master key re-wrapped under load with `assent keys rotate` (then
//! everything read with only the new key), resumably; the signing keys rotated on their own with
//! old receipts and heads still verifying; and a signing key planted in the database refused.

use crate::helpers::*;
use crate::on_both_backends;
use crate::server_process::{Deployment, ServerProcess};
use diesel::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const AGENT: &str = "rotation-test/1";
/// Mail stays queued: nothing listens there.
const NO_SMTP: (&str, &str) = ("ASSENT_SMTP_URL", "smtp://127.0.0.1:9");

fn ok(out: &std::process::Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

fn api_key(deployment: &Deployment) -> String {
    let out = deployment.cli(&["key", "create", "--name", "crm"]);
    ok(&out);
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn new_key() -> String {
    hex::encode(uuid::Uuid::new_v4().as_bytes().repeat(2))
}

fn key_id(master_hex: &str) -> String {
    let raw: [u8; 32] = hex::decode(master_hex).unwrap().try_into().unwrap();
    assent::crypto::MasterKey::new(raw).id().to_string()
}

fn client() -> reqwest::Client {
    http_client().user_agent(AGENT).build().unwrap()
}

/// Submits one person through the API; their address and subject id.
async fn submit(client: &reqwest::Client, server: &str, api_key: &str) -> Option<(String, String)> {
    let email = unique_email();
    let body = json!({
        "fields": { "email": email, "name": format!("Lee {email}") },
        "purposes": ["service", "marketing_email", "personalisation"],
    });
    let url = format!("{server}/api/v1/forms/newsletter/submissions");
    let response = client.post(url).bearer_auth(api_key).json(&body).send().await.ok()?;
    if response.status() != 201 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    Some((email, body["subject_id"].as_str()?.to_owned()))
}

async fn get_json(client: &reqwest::Client, url: String, api_key: &str) -> Value {
    let response = client.get(&url).bearer_auth(api_key).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

fn unsent_mails(db: &TestDb) -> i64 {
    use assent::db::schema::outbox;
    outbox::table.filter(outbox::sent_at.is_null()).count().get_result(&mut db.connect()).unwrap()
}

/// Everything about one person, read through the server.
async fn assert_readable(server: &ServerProcess, api_key: &str, email: &str, id: &str) {
    let client = client();
    let shown = get_json(&client, server.url(&format!("/api/v1/subjects/{id}")), api_key).await;
    assert_eq!(shown["email"], email);
    let name = format!("Lee {email}");
    assert!(shown["values"].as_array().unwrap().iter().any(|v| v["field"] == "name" && v["value"] == name), "{shown}");
    let export = get_json(&client, server.url(&format!("/api/v1/subjects/{id}/export")), api_key).await;
    let history = export["history"].as_array().unwrap();
    assert!(!history.is_empty());
    assert!(history.iter().all(|e| e["evidence"]["user_agent"] == AGENT), "evidence opens: {history:?}");
    let lookup = server.url(&format!("/api/v1/consents?email={}", email.replace('@', "%40")));
    let check = get_json(&client, lookup, api_key).await;
    assert_eq!(check["subject_id"], id, "found by e-mail with only the new key");
}

fn unsubscribe_link(shown: &Value) -> String {
    let urls = shown["unsubscribe_urls"].as_object().expect("unsubscribe links");
    urls.values().next().expect("one link at least").as_str().unwrap().to_owned()
}

async fn link_opens(server: &ServerProcess, link: &str) -> bool {
    let path_and_query = &link[link.find("/u?").expect("an unsubscribe link")..];
    client().get(server.url(path_and_query)).send().await.unwrap().status() == 200
}

async fn rotating_under_load_leaves_everything_readable_with_only_the_new_key(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let mut deployment = Deployment::on(&db);
    let old = deployment.master_key.clone();
    let api_key = api_key(&deployment);
    let client = client();

    // Under the old key: people, their queued mail, a link mailed to them.
    let mut server = deployment.serve_with_env(&[NO_SMTP]).await;
    let mut people = Vec::new();
    for _ in 0..12 {
        people.push(submit(&client, &server.address, &api_key).await.expect("submitted"));
    }
    let shown = get_json(&client, server.url(&format!("/api/v1/subjects/{}", people[0].1)), &api_key).await;
    let old_link = unsubscribe_link(&shown);
    assert!(unsent_mails(&db) > 0, "confirmation mail is queued");
    server.terminate().await;

    // The new key is current, the old one previous; the rotation runs while people keep coming.
    deployment.master_key = new_key();
    let previous = [NO_SMTP, ("ASSENT_MASTER_KEY_PREVIOUS", old.as_str())];
    let server = deployment.serve_with_env(&previous).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (stop, address, api_key, client) = (stop.clone(), server.address.clone(), api_key.clone(), client.clone());
        tokio::spawn(async move {
            let mut during = Vec::new();
            while !stop.load(Ordering::SeqCst) || during.len() < 3 {
                during.push(submit(&client, &address, &api_key).await.expect("submitted during the rotation"));
            }
            during
        })
    };
    let rotation = {
        let deployment = deployment.clone();
        let old = old.clone();
        tokio::task::spawn_blocking(move || {
            deployment.cli_with_env(&["keys", "rotate", "--batch", "3"], &[("ASSENT_MASTER_KEY_PREVIOUS", &old)])
        })
    };
    let said = ok(&rotation.await.unwrap());
    stop.store(true, Ordering::SeqCst);
    people.extend(load.await.unwrap());
    assert!(said.contains("can now be removed"), "{said}");
    let status = ok(&deployment.cli(&["keys", "status"]));
    assert!(status.contains("under an old key: 0"), "{status}");
    assert!(status.contains(&format!("current master key: {}", key_id(&deployment.master_key))), "{status}");
    let mut server = server;
    server.terminate().await;

    // Only the new key from now on.
    let server = deployment.serve().await;
    for (email, id) in &people {
        assert_readable(&server, &api_key, email, id).await;
    }
    assert!(link_opens(&server, &old_link).await, "a link mailed before the rotation still works");
    let shown = get_json(&client, server.url(&format!("/api/v1/subjects/{}", people[1].1)), &api_key).await;
    let new_link = unsubscribe_link(&shown);
    assert!(link_opens(&server, &new_link).await, "a link issued after the rotation works");
    let token = new_link.split("token=").nth(1).unwrap().split('&').next().unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid;
    assert_eq!(kid, Some(key_id(&deployment.master_key)), "new links carry the new key's id");

    // Queued mail (some queued under the old key) is delivered.
    {
        use assent::db::schema::outbox;
        let now = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        diesel::update(outbox::table)
            .set((outbox::next_attempt_at.eq(now), outbox::lease_until.eq(None::<chrono::NaiveDateTime>)))
            .execute(&mut db.connect())
            .unwrap();
    }
    eventually_within("every queued mail is delivered", std::time::Duration::from_secs(60), || async {
        let unopened: Vec<Option<String>> = {
            use assent::db::schema::outbox;
            outbox::table.select(outbox::last_error).load(&mut db.connect()).unwrap()
        };
        assert!(!unopened.iter().flatten().any(|e| e.contains("cannot be opened")), "{unopened:?}");
        unsent_mails(&db) == 0
    })
    .await;
    let mail = wait_for_mail_in(&deployment.outbox_dir(), &people[0].0, "").await;
    assert!(!mail.link("/confirm").is_empty(), "the mail queued under the old key is whole");

    // The preference center finds people by address.
    let response = client
        .post(server.url("/me?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("email", &people[2].0)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mail = wait_for_mail_in(&deployment.outbox_dir(), &people[2].0, "Your link to manage your data").await;
    let token = mail.link("/me/login").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let login = client
        .post(server.url("/me/login?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("token", &token)]))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "sign-in by e-mail works with only the new key");
    deployment.assert_ledger_intact();
}

async fn an_interrupted_rotation_is_finished_by_the_next_run(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let mut deployment = Deployment::on(&db);
    let old = deployment.master_key.clone();
    let api_key = api_key(&deployment);
    let mut server = deployment.serve_with_env(&[NO_SMTP]).await;
    let mut people = Vec::new();
    for _ in 0..6 {
        people.push(submit(&client(), &server.address, &api_key).await.expect("submitted"));
    }
    server.terminate().await;

    deployment.master_key = new_key();
    let previous = [("ASSENT_MASTER_KEY_PREVIOUS", old.as_str())];
    let status = ok(&deployment.cli_with_env(&["keys", "status"], &previous));
    assert!(!status.contains("under an old key: 0"), "{status}");
    let said = ok(&deployment.cli_with_env(&["keys", "rotate", "--batch", "2", "--limit", "3"], &previous));
    assert!(said.contains("Run `assent keys rotate` again"), "{said}");
    let status = ok(&deployment.cli_with_env(&["keys", "status"], &previous));
    assert!(!status.contains("under an old key: 0"), "stopped part way: {status}");
    let said = ok(&deployment.cli_with_env(&["keys", "rotate"], &previous));
    assert!(said.contains("everything is under master key"), "{said}");
    let again = ok(&deployment.cli_with_env(&["keys", "rotate"], &previous));
    assert!(again.contains("0 stored keys, 0 data keys and 0 queued mails re-wrapped"), "nothing twice: {again}");

    // Without the old key, nothing is left that needs it.
    let server = deployment.serve().await;
    for (email, id) in &people {
        assert_readable(&server, &api_key, email, id).await;
    }
    // And without the new key, nothing opens: the old key alone no longer starts the server.
    let old_only = Deployment { master_key: old, ..deployment.clone() };
    let out = old_only.cli(&["keys", "status"]);
    assert!(!out.status.success(), "the old key alone cannot open the re-wrapped keys");
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `assent` in development mode: no `ASSENT_MASTER_KEY`, the key files in the data folder.
fn development_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_assent"))
        .args(args)
        .env("ASSENT_DATABASE_URL", &db.url)
        .env("ASSENT_DATA_DIR", db.dir.path())
        .env("ASSENT_CONFIG", workspace_file())
        .env_remove("ASSENT_MASTER_KEY")
        .env_remove("ASSENT_MASTER_KEY_PREVIOUS")
        .output()
        .expect("run assent")
}

async fn in_development_the_rotation_makes_the_new_key_itself(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    ok(&development_cli(&db, &["keys", "status"]));
    let key_file = |name: &str| std::fs::read_to_string(db.dir.path().join(name)).unwrap().trim().to_owned();
    let mut deployment = Deployment { master_key: key_file("master.key"), ..Deployment::on(&db) };
    let api_key = api_key(&deployment);
    let mut server = deployment.serve().await;
    let person = submit(&client(), &server.address, &api_key).await.expect("submitted");
    server.terminate().await;

    let said = ok(&development_cli(&db, &["keys", "rotate", "--new-key"]));
    assert!(said.contains("master.key.previous"), "{said}");
    assert_eq!(key_file("master.key.previous"), deployment.master_key, "the old key is kept aside");
    let again = development_cli(&db, &["keys", "rotate", "--new-key"]);
    assert!(!again.status.success(), "no second new key while the first rotation is not closed");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not finished"));
    let status = ok(&development_cli(&db, &["keys", "status"]));
    assert!(status.contains("under an old key: 0"), "{status}");

    std::fs::remove_file(db.dir.path().join("master.key.previous")).unwrap();
    deployment.master_key = key_file("master.key");
    let server = deployment.serve().await;
    assert_readable(&server, &api_key, &person.0, &person.1).await;
}

mod master_rotation {
    use super::*;

    #[tokio::test]
    async fn sqlite_under_load() {
        rotating_under_load_leaves_everything_readable_with_only_the_new_key(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres_under_load() {
        rotating_under_load_leaves_everything_readable_with_only_the_new_key(Backend::Postgres).await
    }

    #[tokio::test]
    async fn sqlite_in_development() {
        in_development_the_rotation_makes_the_new_key_itself(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres_in_development() {
        in_development_the_rotation_makes_the_new_key_itself(Backend::Postgres).await
    }

    #[tokio::test]
    async fn sqlite_resumes() {
        an_interrupted_rotation_is_finished_by_the_next_run(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres_resumes() {
        an_interrupted_rotation_is_finished_by_the_next_run(Backend::Postgres).await
    }
}

fn verify_receipt(jwks: &jsonwebtoken::jwk::JwkSet, receipt: &str) -> Option<Value> {
    let kid = jsonwebtoken::decode_header(receipt).ok()?.kid?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid)?).ok()?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    Some(jsonwebtoken::decode::<Value>(receipt, &key, &validation).ok()?.claims)
}

async fn receipt_at(app: &TestApp, server: &str) -> String {
    let body = json!({ "fields": { "email": unique_email() }, "purposes": ["service"] });
    let response = app
        .client
        .post(format!("{server}/api/v1/forms/newsletter/submissions"))
        .bearer_auth(app.integrator_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["receipt"].as_str().unwrap().to_owned()
}

async fn jwks_at(app: &TestApp, server: &str) -> jsonwebtoken::jwk::JwkSet {
    app.client.get(format!("{server}/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap()
}

fn kid_of(receipt: &str) -> String {
    jsonwebtoken::decode_header(receipt).unwrap().kid.unwrap()
}

/// A key pair of the attacker's own, stored as if it were the server's (its seed wrapped under
/// a master key that is not the server's).
fn plant_signing_key(app: &TestApp, purpose: assent::crypto::SigningPurpose) -> ed25519_dalek::SigningKey {
    let seed = [42u8; 32];
    let masters = assent::crypto::MasterKeys::new([9u8; 32], None);
    let mut stored = assent::crypto::signing::new_signing_key(&masters, purpose).unwrap();
    let (key_id, public_key) = assent::crypto::signing::identity(&seed);
    stored.key_id = key_id;
    stored.public_key = public_key;
    let row = assent::services::keyring::row_of(stored, chrono::Utc::now().naive_utc() + chrono::Duration::hours(1));
    assent::db::key_store::insert_signing_key(&mut app.conn(), &row).unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

on_both_backends! {
    async fn signing_keys_rotate_on_their_own_and_old_proof_keeps_verifying(app: TestApp) {
        let before = receipt_at(&app, &app.address).await;
        ok(&app.cli(&["ledger", "sign"]));
        let said = ok(&app.cli(&["keys", "rotate", "--signing"]));
        assert!(said.contains("new receipts signing key"), "{said}");

        // The running server publishes the new key at once, and still the old one.
        let jwks = jwks_at(&app, &app.address).await;
        assert_eq!(jwks.keys.len(), 2, "both receipt keys are listed");
        assert!(verify_receipt(&jwks, &before).is_some(), "a receipt from before the rotation verifies");

        // A server started now signs with the new key.
        let restarted = app.another_server().await;
        let after = receipt_at(&app, &restarted).await;
        assert_ne!(kid_of(&after), kid_of(&before), "new receipts carry the new kid");
        let jwks = jwks_at(&app, &restarted).await;
        assert!(verify_receipt(&jwks, &after).is_some());
        assert!(verify_receipt(&jwks, &before).is_some());

        // Heads from both keys verify.
        ok(&app.cli(&["ledger", "sign"]));
        let key_ids: Vec<String> = {
            use assent::db::schema::tree_heads;
            tree_heads::table.select(tree_heads::key_id).distinct().load(&mut app.conn()).unwrap()
        };
        assert_eq!(key_ids.len(), 2, "heads signed by the old and the new key: {key_ids:?}");
        let verified = ok(&app.cli(&["ledger", "verify"]));
        assert!(verified.contains("tree intact"), "{verified}");
    }

    async fn a_signing_key_planted_in_the_database_is_refused(app: TestApp) {
        use assent::crypto::SigningPurpose;
        use ed25519_dalek::Signer;
        let genuine = receipt_at(&app, &app.address).await;
        ok(&app.cli(&["ledger", "sign"]));
        let planted = plant_signing_key(&app, SigningPurpose::Receipts);
        let planted_heads = plant_signing_key(&app, SigningPurpose::TreeHeads);
        let planted_kid = assent::crypto::signing::identity(&planted.to_bytes()).0;

        let jwks = jwks_at(&app, &app.address).await;
        assert!(jwks.find(&planted_kid).is_none(), "a planted key is not published");
        assert!(verify_receipt(&jwks, &genuine).is_some());
        let status = ok(&app.cli(&["keys", "status"]));
        assert!(status.contains(&format!("{planted_kid} receipts active")) && status.contains("REFUSED"), "{status}");

        // A server started now does not sign with it (though it is the newest active key).
        let restarted = app.another_server().await;
        let receipt = receipt_at(&app, &restarted).await;
        assert_ne!(kid_of(&receipt), planted_kid);
        assert_eq!(kid_of(&receipt), kid_of(&genuine));

        use assent::db::schema::tree_heads;
        // The newest head re-signed with the planted key, in the database and (so that only the
        // signature can tell) in the witness too.
        let tree = assent::services::transparency::tree(&mut app.conn()).unwrap();
        let newest: Option<i64> = tree_heads::table.select(diesel::dsl::max(tree_heads::size)).first(&mut app.conn()).unwrap();
        let size = u64::try_from(newest.unwrap()).unwrap();
        let root = hex::encode(tree.prefix(size).unwrap().root());
        let signed_at = assent::domain::ledger::ledger_time(chrono::Utc::now().naive_utc());
        let message = assent::domain::tree_head::TreeHead::message(size, &root, signed_at);
        let signature = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, planted_heads.sign(&message).to_bytes());
        let key_id = assent::crypto::signing::identity(&planted_heads.to_bytes()).0;
        let forged = assent::domain::tree_head::TreeHead { size, root, signed_at, key_id, signature, access: None };
        diesel::delete(tree_heads::table.filter(tree_heads::size.eq(newest.unwrap()))).execute(&mut app.conn()).unwrap();
        assent::db::tree_heads::insert(&mut app.conn(), &forged).unwrap();
        let witness = app.db.dir.path().join("witness.jsonl");
        let lines: Vec<String> = std::fs::read_to_string(&witness)
            .unwrap()
            .lines()
            .map(|line| match serde_json::from_str::<assent::domain::tree_head::TreeHead>(line) {
                Ok(head) if head.size == size => serde_json::to_string(&forged).unwrap(),
                _ => line.to_owned(),
            })
            .collect();
        std::fs::write(&witness, lines.join("\n") + "\n").unwrap();
        let out = app.cli(&["ledger", "verify"]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("signature does not verify"), "{said}");
        assert!(!out.status.success(), "a head signed by a planted key is refused");
    }
}
