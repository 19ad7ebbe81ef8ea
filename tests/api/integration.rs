//! Keeping a CRM in step: a person's external id (attached, found by, returned, erased with them)
//! and the event feed (every consent event in ledger order, paged by a stable cursor, nothing
//! personal beyond ids), each read an access record.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::schema::{access_records, consent_events, external_ids};
use diesel::prelude::*;
use serde_json::{Value, json};

async fn person(app: &TestApp) -> (String, String) {
    let email = unique_email();
    let body = json!({ "fields": { "email": email, "name": "Lee", "message": "Hi", "phone": "010-3333-4444" },
        "purposes": ["service", "marketing_sms"] });
    let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    (email, id)
}

async fn put_external(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/subjects/{id}/external-id"));
    app.client.put(url).bearer_auth(app.integrator_key()).json(body).send().await.unwrap()
}

async fn check(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/consents?{query}")))
        .bearer_auth(app.integrator_key())
        .send()
        .await
        .unwrap()
}

async fn field_problem(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body = problem(response).await;
    let field = &body["errors"][0];
    (
        status,
        field["field"].as_str().unwrap_or_default().to_owned(),
        field["code"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn feed(app: &TestApp, query: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("/api/v1/events?{query}"))).bearer_auth(app.integrator_key()).send().await.unwrap()
}

on_both_backends! {
    async fn an_external_id_is_attached_found_by_returned_and_erased_with_the_person(app: TestApp) {
        let (email, id) = person(&app).await;
        let (_, other) = person(&app).await;
        let url = app.url(&format!("/api/v1/subjects/{id}/external-id"));
        assert_eq!(app.client.put(&url).json(&json!({ "external_id": "CUST-0001" })).send().await.unwrap().status(), 401);
        let attached = put_external(&app, &id, &json!({ "external_id": "CUST-0001" })).await;
        assert_eq!(attached.status(), 200);
        assert_eq!(attached.json::<Value>().await.unwrap(), json!({ "subject_id": id, "external_id": "CUST-0001" }));
        assert_eq!(put_external(&app, &id, &json!({ "external_id": "CUST-0001" })).await.status(), 200, "idempotent");

        // Every mistake is named, and changes nothing.
        let long = "x".repeat(201);
        for (body, code) in [(json!({ "external_id": " " }), "required"), (json!({ "external_id": long }), "too_long"),
            (json!({ "external_id": "a\u{7}b" }), "invalid_characters")] {
            assert_eq!(field_problem(put_external(&app, &id, &body).await).await, (422, "external_id".into(), code.into()));
        }
        let extra = put_external(&app, &id, &json!({ "external_id": "A", "name": "B" })).await;
        assert_eq!((extra.status().as_u16(), problem(extra).await["code"].clone()), (400, json!("invalid_request")));
        let taken = put_external(&app, &other, &json!({ "external_id": "CUST-0001" })).await;
        assert_eq!((taken.status().as_u16(), problem(taken).await["code"].clone()), (409, json!("external_id_taken")));
        let nobody = put_external(&app, "no-such-id", &json!({ "external_id": "CUST-9" })).await;
        assert_eq!(problem(nobody).await["code"], "subject_not_found");
        let malformed = app.client.put(&url).bearer_auth(app.integrator_key()).header("content-type", "application/json")
            .body("{").send().await.unwrap();
        assert_eq!(problem(malformed).await["code"], "malformed_json");

        // Found by it, and returned with the person's states however they are asked for.
        let by_external: Value = check(&app, "external_id=CUST-0001").await.json().await.unwrap();
        assert_eq!((&by_external["subject_id"], &by_external["external_id"]), (&json!(id), &json!("CUST-0001")));
        let service = by_external["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "service").unwrap();
        assert_eq!(service["status"], "granted");
        let by_email: Value = check(&app, &format!("email={}", email.replace('@', "%40"))).await.json().await.unwrap();
        assert_eq!((&by_email["subject_id"], &by_email["external_id"]), (&json!(id), &json!("CUST-0001")));
        let unknown: Value = check(&app, "external_id=CUST-404").await.json().await.unwrap();
        assert!(unknown["subject_id"].is_null() && unknown["external_id"].is_null(), "{unknown}");
        let both = check(&app, "external_id=CUST-0001&email=a%40b.example").await;
        assert_eq!((both.status().as_u16(), problem(both).await["code"].clone()), (400, json!("invalid_query")));
        let shown: Value = app.client.get(app.url(&format!("/api/v1/subjects/{id}"))).bearer_auth(app.integrator_key())
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(shown["external_id"], "CUST-0001");

        // The person sees it in the preference center, with everything else held about them.
        let me = app.sign_in(&email).await;
        let page = me.get("/me?lang=ko").await.text().await.unwrap();
        assert!(page.contains("고객 관리 시스템의 내 ID:") && page.contains("<code>CUST-0001</code>"), "{page}");
        let export = me.get("/me/export.csv").await.text().await.unwrap();
        assert!(export.contains("subject,external_id,CUST-0001"), "{export}");

        // Kept as an HMAC index and a ciphertext, never as sent.
        let stored: Vec<(Vec<u8>, Vec<u8>)> = external_ids::table.select((external_ids::external_index, external_ids::ciphertext))
            .load(&mut app.conn()).unwrap();
        assert_eq!(stored.len(), 1);
        assert!(stored.iter().all(|(i, c)| !i.windows(9).any(|w| w == b"CUST-0001") && !c.windows(9).any(|w| w == b"CUST-0001")));

        // Replaced, removed, attached again.
        assert_eq!(put_external(&app, &id, &json!({ "external_id": "CUST-0002" })).await.status(), 200);
        assert!(check(&app, "external_id=CUST-0001").await.json::<Value>().await.unwrap()["subject_id"].is_null());
        let removed = app.client.delete(&url).bearer_auth(app.integrator_key()).send().await.unwrap();
        assert_eq!(removed.json::<Value>().await.unwrap(), json!({ "subject_id": id, "external_id": null }));
        assert!(check(&app, "external_id=CUST-0002").await.json::<Value>().await.unwrap()["subject_id"].is_null());
        assert_eq!(put_external(&app, &id, &json!({ "external_id": "CUST-0001" })).await.status(), 200);

        // Erased with the person: the id no longer finds anyone, and is free again.
        let erased = app.client.delete(app.url(&format!("/api/v1/subjects/{id}"))).bearer_auth(app.integrator_key()).send().await.unwrap();
        assert_eq!(erased.status(), 200);
        assert_eq!(external_ids::table.count().get_result::<i64>(&mut app.conn()).unwrap(), 0);
        assert!(check(&app, "external_id=CUST-0001").await.json::<Value>().await.unwrap()["subject_id"].is_null());
        assert_eq!(put_external(&app, &id, &json!({ "external_id": "CUST-0003" })).await.status(), 410);
        assert_eq!(put_external(&app, &other, &json!({ "external_id": "CUST-0001" })).await.status(), 200);

        app.state.access.flush().await;
        let set: i64 = access_records::table.filter(access_records::action.eq("set_external_id"))
            .select(access_records::times).load::<i64>(&mut app.conn()).unwrap().iter().sum();
        assert_eq!(set, 6, "each attach and removal that succeeded is an access record");
    }

    async fn the_event_feed_pages_every_consent_event_in_ledger_order(app: TestApp) {
        let (_, a) = person(&app).await;
        let (_, b) = person(&app).await;
        assert_eq!(put_external(&app, &b, &json!({ "external_id": "CRM-7" })).await.status(), 200);
        let withdraw = json!({ "purpose": "marketing_sms", "action": "withdraw" });
        let changed = app.client.post(app.url(&format!("/api/v1/subjects/{a}/consents"))).bearer_auth(app.integrator_key())
            .json(&withdraw).send().await.unwrap();
        assert_eq!(changed.status(), 200);
        assert_eq!(app.get("/api/v1/events").await.status(), 401);

        // Page by page, two at a time, to the end.
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor = "0".to_owned();
        let last = loop {
            let response = feed(&app, &format!("after={cursor}&limit=2")).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["cache-control"], "no-store");
            let page: Value = response.json().await.unwrap();
            let events = page["events"].as_array().unwrap().clone();
            assert!(events.len() <= 2);
            seen.extend(events);
            cursor = page["next_cursor"].as_str().unwrap().to_owned();
            if !page["has_more"].as_bool().unwrap() {
                break page;
            }
        };
        let held: Vec<(i64, String, String, String)> = consent_events::table.order(consent_events::seq.asc())
            .select((consent_events::seq, consent_events::subject_id, consent_events::purpose_key, consent_events::action))
            .load(&mut app.conn()).unwrap();
        let fed: Vec<(i64, String, String, String)> = seen.iter().map(|e| (e["seq"].as_i64().unwrap(),
            e["subject_id"].as_str().unwrap().to_owned(), e["purpose"].as_str().unwrap().to_owned(),
            e["action"].as_str().unwrap().to_owned())).collect();
        assert_eq!(fed, held, "every event once, in ledger order");
        assert!(fed.iter().any(|e| e.1 == a && e.2 == "marketing_sms" && e.3 == "withdrawn"));
        assert!(seen.iter().all(|e| e["leaf_index"].as_i64() == e["seq"].as_i64().map(|s| s - 1)));
        assert!(seen.iter().all(|e| (e["subject_id"] == b.as_str()) == (e["external_id"] == "CRM-7")), "{seen:?}");
        let text = serde_json::to_string(&seen).unwrap();
        assert!(!text.contains('@') && !text.contains("010-3333-4444") && !text.contains("evidence"), "{text}");
        assert_eq!(cursor, held.last().unwrap().0.to_string());
        assert_eq!(last["has_more"], false);

        // A page reads the same every time; past the end is empty and keeps the cursor.
        let again: Value = feed(&app, "after=0&limit=2").await.json().await.unwrap();
        assert_eq!(again["events"], json!(seen[..2]));
        let end: Value = feed(&app, &format!("after={cursor}")).await.json().await.unwrap();
        assert_eq!(end, json!({ "events": [], "next_cursor": cursor, "has_more": false }));
        let all: Value = feed(&app, "").await.json().await.unwrap();
        assert_eq!(all["events"].as_array().unwrap().len(), held.len(), "from the start, 100 by default");
        for bad in ["after=-1", "after=x", "limit=0", "limit=1001", "limit=ten"] {
            let response = feed(&app, bad).await;
            assert_eq!((response.status().as_u16(), problem(response).await["code"].clone()), (400, json!("invalid_query")), "{bad}");
        }

        // Each person a page names is an access record of the key.
        app.state.access.flush().await;
        let named: Vec<Option<String>> = access_records::table.filter(access_records::action.eq("read_events"))
            .select(access_records::subject_id).distinct().load(&mut app.conn()).unwrap();
        assert!(named.contains(&Some(a.clone())) && named.contains(&Some(b.clone())), "{named:?}");
    }

    async fn a_submission_with_an_api_key_attaches_its_external_id_and_refuses_anothers(app: TestApp) {
        let email = unique_email();
        let body = json!({ "fields": { "email": email, "name": "Yoon", "message": "Hi" }, "purposes": ["service"],
            "external_id": "CRM-100" });
        let made = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
        assert_eq!(made.status(), 201);
        let id = made.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
        let found: Value = check(&app, "external_id=CRM-100").await.json().await.unwrap();
        assert_eq!(found["subject_id"], json!(id));
        // The same person again with the same id is fine.
        let again = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
        assert_eq!(again.status(), 201);

        // Another person with it: refused, nothing recorded.
        let before = app.row_counts();
        let other = json!({ "fields": { "email": unique_email(), "name": "Jang", "message": "Hi" }, "purposes": ["service"],
            "external_id": "CRM-100" });
        let taken = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &other).await;
        assert_eq!((taken.status().as_u16(), problem(taken).await["code"].clone()), (409, json!("external_id_taken")));
        assert_eq!(app.row_counts(), before);
        // Without a key nobody may attach one.
        let anonymous = app.client.post(app.url("/api/v1/forms/contact/submissions")).json(&other).send().await.unwrap();
        assert_eq!(field_problem(anonymous).await, (422, "external_id".into(), "unknown_field".into()));
        assert_eq!(app.row_counts(), before);
        let bad = json!({ "fields": { "email": unique_email(), "name": "Jang", "message": "Hi" }, "purposes": ["service"],
            "external_id": "a\u{7}b" });
        let refused = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &bad).await;
        assert_eq!(field_problem(refused).await, (422, "external_id".into(), "invalid_characters".into()));
    }
}
