//! The bulk consent check: many people in one call, named by address, subject id or external
//! id, answered in the order asked exactly as the single check answers each.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::schema::access_records;
use diesel::prelude::*;
use serde_json::{Value, json};

async fn person(app: &TestApp, purposes: &[&str]) -> (String, String) {
    let email = unique_email();
    let body = json!({ "fields": { "email": email, "name": "Kim", "message": "Hi", "phone": "010-5555-6666" },
        "purposes": purposes });
    let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
    (email, id)
}

async fn query(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/consents/query"))
        .bearer_auth(app.integrator_key())
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn single(app: &TestApp, email: &str) -> Value {
    let url = app.url(&format!("/api/v1/consents?email={}", email.replace('+', "%2B")));
    app.client.get(url).bearer_auth(app.integrator_key()).send().await.unwrap().json().await.unwrap()
}

on_both_backends! {
    async fn many_people_are_answered_in_order_as_the_single_check_answers_each(app: TestApp) {
        let (a_email, a) = person(&app, &["service", "marketing_sms"]).await;
        let (b_email, b) = person(&app, &["service"]).await;
        let (_, gone) = person(&app, &["service"]).await;
        let url = app.url(&format!("/api/v1/subjects/{b}/external-id"));
        let put = app.client.put(url).bearer_auth(app.integrator_key()).json(&json!({ "external_id": "CRM-42" }));
        assert_eq!(put.send().await.unwrap().status(), 200);
        let erase = app.client.delete(app.url(&format!("/api/v1/subjects/{gone}"))).bearer_auth(app.integrator_key());
        assert!(erase.send().await.unwrap().status().is_success());

        let asked = json!({ "identifiers": [
            { "email": a_email }, { "external_id": "CRM-42" }, { "email": "nobody@example.com" },
            { "subject_id": gone }, { "subject_id": b }, { "email": a_email.to_uppercase() }, { "external_id": "CRM-0" },
        ] });
        let response = query(&app, &asked).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let results = response.json::<Value>().await.unwrap()["results"].as_array().unwrap().clone();
        assert_eq!(results.len(), 7);
        let ids: Vec<Value> = results.iter().map(|r| r["subject_id"].clone()).collect();
        assert_eq!(ids, [json!(a), json!(b), Value::Null, Value::Null, json!(b), json!(a), Value::Null]);
        for (result, asked) in results.iter().zip(asked["identifiers"].as_array().unwrap()) {
            assert_eq!(&result["identifier"], asked, "each answer names what was asked");
        }
        assert_eq!((&results[1]["external_id"], &results[4]["external_id"]), (&json!("CRM-42"), &json!("CRM-42")));
        assert_eq!(results[0]["external_id"], Value::Null);

        // Exactly the single check's answer for each person.
        let one_a = single(&app, &a_email).await;
        assert_eq!(results[0]["consents"], one_a["consents"]);
        assert_eq!(results[4]["consents"], single(&app, &b_email).await["consents"]);
        let sms = one_a["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap();
        assert_eq!(sms["status"], "granted");
        for nobody in [&results[2], &results[3], &results[6]] {
            assert!(nobody["consents"].as_array().unwrap().iter().all(|c| c["status"] == "never"), "{nobody}");
        }

        // Each person found is an access record of the key.
        app.state.access.flush().await;
        let checked: Vec<Option<String>> = access_records::table
            .filter(access_records::action.eq("consent_check"))
            .filter(access_records::path.eq("/api/v1/consents/query"))
            .select(access_records::subject_id).distinct().load(&mut app.conn()).unwrap();
        assert!(checked.contains(&Some(a.clone())) && checked.contains(&Some(b.clone())), "{checked:?}");
        assert!(!checked.contains(&Some(gone.clone())), "nobody is recorded for an erased person");
    }

    async fn a_thousand_at_once_is_allowed_and_every_mistake_is_named(app: TestApp) {
        let (email, id) = person(&app, &["service"]).await;
        let many: Vec<Value> = (0..1000).map(|i| if i % 2 == 0 { json!({ "email": email }) }
            else { json!({ "email": format!("nobody{i}@example.com") }) }).collect();
        let response = query(&app, &json!({ "identifiers": many })).await;
        assert_eq!(response.status(), 200);
        let results = response.json::<Value>().await.unwrap()["results"].as_array().unwrap().clone();
        assert_eq!(results.len(), 1000);
        assert!(results.iter().enumerate().all(|(i, r)| (r["subject_id"] == id.as_str()) == (i % 2 == 0)));

        let too_many: Vec<Value> = (0..1001).map(|_| json!({ "email": email })).collect();
        let over = problem(query(&app, &json!({ "identifiers": too_many })).await).await;
        assert_eq!((&over["code"], &over["errors"][0]["field"], &over["errors"][0]["code"]),
            (&json!("validation_failed"), &json!("identifiers"), &json!("too_long")));
        let empty = problem(query(&app, &json!({ "identifiers": [] })).await).await;
        assert_eq!((&empty["errors"][0]["field"], &empty["errors"][0]["code"]), (&json!("identifiers"), &json!("required")));

        let mistakes = query(&app, &json!({ "identifiers": [
            { "email": "not an address" }, { "email": email }, {}, { "email": email, "subject_id": id },
            { "external_id": " " }, { "subject_id": "a\u{0}b" }, { "external_id": "a\u{0}b" },
        ] })).await;
        assert_eq!(mistakes.status(), 422);
        let errors: Vec<(String, String)> = problem(mistakes).await["errors"].as_array().unwrap().iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned())).collect();
        assert_eq!(errors, [
            ("identifiers[0].email".to_owned(), "invalid_email".to_owned()),
            ("identifiers[2]".to_owned(), "required".to_owned()),
            ("identifiers[3]".to_owned(), "invalid_type".to_owned()),
            ("identifiers[4].external_id".to_owned(), "required".to_owned()),
            ("identifiers[5].subject_id".to_owned(), "invalid_characters".to_owned()),
            ("identifiers[6].external_id".to_owned(), "invalid_characters".to_owned()),
        ]);

        for (body, code) in [(json!({ "people": [] }), "invalid_request"), (json!({ "identifiers": [{ "phone": "1" }] }), "invalid_request")] {
            let response = query(&app, &body).await;
            assert_eq!((response.status().as_u16(), problem(response).await["code"].clone()), (400, json!(code)));
        }
        let anonymous = app.client.post(app.url("/api/v1/consents/query")).json(&json!({ "identifiers": [] }));
        assert_eq!(anonymous.send().await.unwrap().status(), 401);
        let text = app.client.post(app.url("/api/v1/consents/query")).bearer_auth(app.integrator_key())
            .header("content-type", "text/plain").body("{}").send().await.unwrap();
        assert_eq!(text.status(), 415);
    }
}
