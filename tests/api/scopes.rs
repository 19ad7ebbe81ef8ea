//! Scoped API keys: a key does only what its scopes allow (403 `insufficient_scope`, audited,
//! with RFC 6750's `WWW-Authenticate`), made and listed and revoked from the CLI and the console
//! alike; a look-up during which anything was committed is never cached as valid.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use serde_json::{Value, json};

/// A key with only these scopes, made with the CLI.
fn key_with(app: &TestApp, scopes: &[&str]) -> String {
    let mut args = vec!["key", "create", "--name", "scoped"];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    let out = app.cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `assent key list`'s rows, as (id, name, scopes, state).
fn listed(app: &TestApp) -> Vec<(String, String, String, String)> {
    let out = app.cli(&["key", "list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols[0].to_owned(), cols[1].to_owned(), cols[3].to_owned(), cols[7].to_owned())
        })
        .collect()
}

fn refusals(app: &TestApp) -> Vec<(String, String)> {
    use assent::db::schema::audit_log;
    use diesel::prelude::*;
    audit_log::table
        .filter(audit_log::action.eq("api_key.scope_refused"))
        .select((audit_log::actor_id, audit_log::detail))
        .load(&mut app.conn())
        .unwrap()
}

async fn refused(response: reqwest::Response, scope: &str) {
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(challenge, format!(r#"Bearer error="insufficient_scope", scope="{scope}""#));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "insufficient_scope");
    assert!(problem["detail"].as_str().unwrap().contains(scope), "{problem}");
}

on_both_backends! {
    async fn a_key_does_only_what_its_scopes_allow_and_a_refusal_is_audited(app: TestApp) {
        let email = unique_email();
        let body = json!({ "fields": { "email": email, "name": "Kim", "message": "Hi" }, "purposes": ["service"] });
        let created = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
        assert_eq!(created.status(), 201);
        let subject: Value = created.json().await.unwrap();
        let subject = subject["subject_id"].as_str().unwrap().to_owned();

        let crm = key_with(&app, &["consents:read"]);
        let check = app.client.get(app.url(&format!("/api/v1/consents?email={}", urlencoding(&email)))).bearer_auth(&crm);
        assert_eq!(check.send().await.unwrap().status(), 200);
        let bulk = app.client.post(app.url("/api/v1/consents/query")).bearer_auth(&crm)
            .json(&json!({ "identifiers": [{ "email": email }] })).send().await.unwrap();
        assert_eq!(bulk.status(), 200);
        assert_eq!(app.client.get(app.url("/api/v1/events")).bearer_auth(&crm).send().await.unwrap().status(), 200);

        let path = format!("/api/v1/subjects/{subject}");
        refused(app.client.get(app.url(&path)).bearer_auth(&crm).send().await.unwrap(), "subjects:read").await;
        refused(app.client.delete(app.url(&path)).bearer_auth(&crm).send().await.unwrap(), "subjects:erase").await;
        refused(app.client.get(app.url("/api/v1/webhooks")).bearer_auth(&crm).send().await.unwrap(), "webhooks").await;
        refused(app.client.get(app.url("/api/v1/imports")).bearer_auth(&crm).send().await.unwrap(), "imports").await;
        let vouched = app.client.post(app.url("/api/v1/forms/contact/submissions")).bearer_auth(&crm).json(&body);
        refused(vouched.send().await.unwrap(), "submissions:write").await;
        // Nothing was erased: a key that may read finds the person whole.
        let reader = key_with(&app, &["subjects:read"]);
        assert_eq!(app.client.get(app.url(&path)).bearer_auth(&reader).send().await.unwrap().status(), 200);

        // Each refusal is audited under the key, naming the scope and the route, never a value.
        let crm_id = listed(&app).into_iter().find(|k| k.2 == "consents:read").unwrap().0;
        eventually("the refusals were not audited", || async { refusals(&app).len() >= 5 }).await;
        let audited = refusals(&app);
        assert!(audited.iter().all(|(actor, _)| actor == &crm_id));
        assert!(audited.iter().any(|(_, d)| d == "subjects:erase needed for DELETE /api/v1/subjects/{id}"), "{audited:?}");
        assert!(audited.iter().all(|(_, d)| !d.contains(&subject) && !d.contains(&email)));

        // Without a key at all: 401 with the scheme to use.
        let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    }

    async fn keys_are_listed_and_revoked_from_the_cli(app: TestApp) {
        let refused = app.cli(&["key", "create", "--name", "x", "--scope", "consents:write"]);
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("unknown scope `consents:write`") && said.contains("subjects:erase"), "{said}");
        assert!(listed(&app).is_empty(), "nothing was made");

        let full = app.api_key();
        let narrow = key_with(&app, &["subjects:read,subjects:write"]);
        let keys = listed(&app);
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().any(|k| k.2 == "all" && k.3 == "live"), "{keys:?}");
        let narrow_id = keys.iter().find(|k| k.2 == "subjects:read,subjects:write").unwrap().0.clone();

        let events = |key: &str| app.client.get(app.url("/api/v1/events")).bearer_auth(key.to_owned()).send();
        assert_eq!(events(&full).await.unwrap().status(), 200);
        assert_eq!(events(&narrow).await.unwrap().status(), 403);
        let out = app.cli(&["key", "revoke", &narrow_id]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(listed(&app).iter().any(|k| k.0 == narrow_id && k.3 == "revoked"));
        eventually("a revoked key kept working", || async { events(&narrow).await.unwrap().status() == 401 }).await;
        let again = app.cli(&["key", "revoke", &narrow_id]);
        assert_eq!(again.status.code(), Some(1), "already revoked: said, not done twice");
    }

    async fn an_owner_makes_a_scoped_key_in_the_console(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        // No scope ticked: the form again, the message at the scopes, nothing made.
        let empty = console.submit("/admin/keys?lang=en", &[("name", "crm"), ("expiry", "90d")]).await;
        assert_eq!(empty.status(), 422);
        let page = empty.text().await.unwrap();
        assert!(page.contains(r#"id="field-scopes-error""#), "{page}");
        assert!(page.contains(r#"value="crm""#), "what was typed is kept");
        assert!(listed(&app).is_empty());

        let made = console
            .submit("/admin/keys?lang=en", &[("name", "crm"), ("scope", "consents:read"), ("expiry", "90d")])
            .await;
        assert_eq!(made.status(), 201);
        let page = made.text().await.unwrap();
        let secret = page.split(r#"id="new-key" class="secret" type="text" readonly value=""#).nth(1).unwrap();
        let secret = secret.split('"').next().unwrap().to_owned();
        assert!(page.contains("<code>consents:read</code>") && page.contains("never"), "scopes and last use listed");
        let keys = listed(&app);
        assert_eq!((keys[0].1.as_str(), keys[0].2.as_str(), keys[0].3.as_str()), ("crm", "consents:read", "live"));
        let email = unique_email();
        let check = app.client.get(app.url(&format!("/api/v1/consents?email={}", urlencoding(&email))));
        assert_eq!(check.bearer_auth(&secret).send().await.unwrap().status(), 200);
        let import = app.client.get(app.url("/api/v1/imports")).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(import.status(), 403);
        // An editor neither sees the keys nor makes one.
        let viewer = app.signed_in(Role::Editor).await;
        assert_eq!(viewer.get("/admin/keys?lang=en").await.status(), 403);
        let denied = viewer.submit("/admin/keys?lang=en", &[("name", "x"), ("scope", "imports")]).await;
        assert_eq!(denied.status(), 403);
    }

    async fn a_key_found_while_something_was_committed_is_not_cached(app: TestApp) {
        let key = app.api_key();
        let changes = app.state.consents.changes().clone();
        eventually("the change listener never connected", || async { changes.stamp().is_some() }).await;
        let before = changes.stamp();
        // Something is committed while the key is being looked up (here: before the look-up
        // ends, as a revocation racing it would be).
        let written: Result<_, assent::web::error::AppError> = app
            .state
            .db
            .writer
            .write(|tx| Ok(assent::services::keys::create(tx.conn, "other", None, assent::domain::scopes::Scopes::all(), None)?))
            .await;
        written.unwrap();
        let found = app.state.api_keys.authenticate(&mut app.conn(), &key, before, &changes).unwrap();
        assert!(found.is_some(), "the key is live");
        assert!(app.state.api_keys.cached(&key, changes.stamp()).is_none(), "but its answer was not kept");
        // Asked again with nothing committed meanwhile, it is kept (once the watcher has also
        // seen the write above, which it reports a few milliseconds later).
        eventually("a look-up in a quiet moment was not kept", || async {
            let now = changes.stamp();
            app.state.api_keys.authenticate(&mut app.conn(), &key, now, &changes).unwrap();
            app.state.api_keys.cached(&key, now).is_some()
        })
        .await;
    }
}

fn urlencoding(s: &str) -> String {
    s.replace('@', "%40").replace('+', "%2B")
}
