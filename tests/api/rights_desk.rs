//! The rights desk: requests that need work, entered from any channel (here through the API, as
//! a ticketing system would), moved through their states under their regime's deadline, and
//! answered in the person's language, naming the business.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

/// A person who signed up in `locale` through the JSON API; their subject id.
pub async fn person(app: &TestApp, email: &str, locale: &str) -> String {
    let response = app
        .post_json_as_integrator(
            "/api/v1/forms/contact/submissions",
            &json!({ "fields": { "email": email, "name": "Kim", "message": "Hi" }, "purposes": ["service"], "locale": locale }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

pub async fn api(app: &TestApp, key: &str, method: &str, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app.client.request(method.parse().unwrap(), app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().to_utc()
}

on_both_backends! {
    async fn a_ticketing_system_opens_works_and_answers_a_request_and_the_person_is_told_in_their_language(app: TestApp) {
        let key = app.api_key();
        let email = unique_email();
        let subject = person(&app, &email, "ko").await;

        // A phone request for erasure, entered by address, under the GDPR (the server's default).
        let body = json!({ "kind": "erasure", "channel": "phone", "email": email, "detail": "전화로 삭제를 요청함" });
        let created = api(&app, &key, "POST", "/api/v1/rights-requests", Some(body)).await;
        assert_eq!(created.status(), 201);
        let location = created.headers()["location"].to_str().unwrap().to_owned();
        let request: Value = created.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/rights-requests/{}", request["id"].as_str().unwrap()));
        assert_eq!(request["state"], "received");
        assert_eq!(request["channel"], "phone");
        assert_eq!(request["subject_id"], subject.as_str());
        assert_eq!(request["detail"], "전화로 삭제를 요청함");
        let received = time(&request["received_at"]);
        assert_eq!(time(&request["due_at"]), received.checked_add_months(chrono::Months::new(1)).unwrap());

        // It is in the open list; self-service reads of the person are not.
        let open: Value = api(&app, &key, "GET", "/api/v1/rights-requests?state=open", None).await.json().await.unwrap();
        let ids: Vec<&str> = open["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![request["id"].as_str().unwrap()]);
        let read = api(&app, &key, "GET", &format!("/api/v1/subjects/{subject}"), None).await;
        assert_eq!(read.status(), 200);
        let open: Value = api(&app, &key, "GET", "/api/v1/rights-requests", None).await.json().await.unwrap();
        assert_eq!(open["requests"].as_array().unwrap().len(), 1, "{open}");

        // Not before identity is verified; extending needs a reason; then it is extended by two months.
        let steps = format!("{location}/steps");
        let early = api(&app, &key, "POST", &steps, Some(json!({ "step": "complete" }))).await;
        assert_eq!(early.status(), 409);
        assert_eq!(problem(early).await["code"], "identity_not_verified");
        assert_eq!(api(&app, &key, "POST", &steps, Some(json!({ "step": "verify" }))).await.status(), 200);
        let bare = api(&app, &key, "POST", &steps, Some(json!({ "step": "extend" }))).await;
        assert_eq!(bare.status(), 422);
        assert_eq!(problem(bare).await["errors"][0]["field"], "reason");
        let why = "백업 매체에서도 삭제해야 해서 시간이 더 필요합니다.";
        let extended = api(&app, &key, "POST", &steps, Some(json!({ "step": "extend", "reason": why }))).await;
        assert_eq!(extended.status(), 200);
        let extended: Value = extended.json().await.unwrap();
        assert_eq!(extended["state"], "extended");
        assert_eq!(time(&extended["due_at"]), received.checked_add_months(chrono::Months::new(3)).unwrap());
        let again = api(&app, &key, "POST", &steps, Some(json!({ "step": "extend", "reason": "again" }))).await;
        assert_eq!(problem(again).await["code"], "already_extended");

        // The person is told, in Korean, by the business, with the reason and the new date.
        let notice = app.wait_for_mail(&email, "시간이 더 필요합니다").await;
        assert!(notice.subject.starts_with("Assent Demo Shop Co., Ltd."), "{}", notice.subject);
        assert!(notice.text.contains(why), "{}", notice.text);
        assert!(notice.text.contains("개인정보 삭제"), "{}", notice.text);
        assert!(notice.text.contains("privacy@shop.example"), "{}", notice.text);

        // Completed: answered, out of the open list, and the person gets the answer.
        let done = api(&app, &key, "POST", &steps, Some(json!({ "step": "complete" }))).await;
        assert_eq!(done.status(), 200);
        let done: Value = done.json().await.unwrap();
        assert_eq!(done["state"], "completed");
        assert!(done["completed_at"].is_string());
        assert_eq!(done["overdue"], false);
        let answer = app.wait_for_mail(&email, "처리를 완료했습니다").await;
        assert!(answer.text.contains("/me?lang=ko"), "{}", answer.text);
        let open: Value = api(&app, &key, "GET", "/api/v1/rights-requests", None).await.json().await.unwrap();
        assert!(open["requests"].as_array().unwrap().is_empty(), "{open}");
        let closed: Value =
            api(&app, &key, "GET", "/api/v1/rights-requests?state=closed", None).await.json().await.unwrap();
        assert_eq!(closed["requests"][0]["id"], request["id"]);
        let late = api(&app, &key, "POST", &steps, Some(json!({ "step": "refuse", "reason": "x" }))).await;
        assert_eq!(problem(late).await["code"], "request_closed");
    }

    async fn a_request_names_a_person_the_desk_knows_and_its_own_regime(app: TestApp) {
        let key = app.api_key();
        let unknown = api(&app, &key, "POST", "/api/v1/rights-requests", Some(json!({ "kind": "access", "email": unique_email() }))).await;
        assert_eq!(unknown.status(), 404);
        assert_eq!(problem(unknown).await["code"], "subject_not_found");
        let nobody = api(&app, &key, "POST", "/api/v1/rights-requests", Some(json!({ "kind": "access" }))).await;
        assert_eq!(nobody.status(), 422);
        let email = unique_email();
        let subject = person(&app, &email, "en").await;
        let consent = api(&app, &key, "POST", "/api/v1/rights-requests", Some(json!({ "kind": "consent", "subject_id": subject }))).await;
        assert_eq!(consent.status(), 422);
        assert_eq!(problem(consent).await["errors"][0]["field"], "kind");
        let bad_channel = json!({ "kind": "access", "subject_id": subject, "channel": "fax" });
        assert_eq!(problem(api(&app, &key, "POST", "/api/v1/rights-requests", Some(bad_channel)).await).await["errors"][0]["field"], "channel");

        // PIPA: ten days, and no extension by a fixed period.
        let body = json!({ "kind": "access", "subject_id": subject, "regime": "pipa", "verified": true });
        let request: Value = api(&app, &key, "POST", "/api/v1/rights-requests", Some(body)).await.json().await.unwrap();
        assert_eq!(request["state"], "verified");
        assert_eq!(time(&request["due_at"]) - time(&request["received_at"]), chrono::Duration::days(10));
        let steps = format!("/api/v1/rights-requests/{}/steps", request["id"].as_str().unwrap());
        let extend = api(&app, &key, "POST", &steps, Some(json!({ "step": "extend", "reason": "busy" }))).await;
        assert_eq!(extend.status(), 409);
        assert_eq!(problem(extend).await["code"], "extension_not_allowed");
        // CCPA: 45 days, extended to 90.
        let body = json!({ "kind": "portability", "subject_id": subject, "regime": "ccpa", "verified": true });
        let request: Value = api(&app, &key, "POST", "/api/v1/rights-requests", Some(body)).await.json().await.unwrap();
        assert_eq!(time(&request["due_at"]) - time(&request["received_at"]), chrono::Duration::days(45));
        let steps = format!("/api/v1/rights-requests/{}/steps", request["id"].as_str().unwrap());
        let extended: Value = api(&app, &key, "POST", &steps, Some(json!({ "step": "extend", "reason": "many systems" }))).await.json().await.unwrap();
        assert_eq!(time(&extended["due_at"]) - time(&extended["received_at"]), chrono::Duration::days(90));
        // Refusing says why, in the person's language (English here).
        let refused = api(&app, &key, "POST", &steps, Some(json!({ "step": "refuse", "reason": "We could not confirm it was you." }))).await;
        assert_eq!(refused.status(), 200);
        let letter = app.wait_for_mail(&email, "we cannot do what you asked").await;
        assert!(letter.text.contains("We could not confirm it was you."), "{}", letter.text);
        assert_eq!(api(&app, &key, "GET", "/api/v1/rights-requests/nope", None).await.status(), 404);
        assert_eq!(api(&app, &key, "GET", "/api/v1/rights-requests?state=later", None).await.status(), 422);
    }
}

on_both_backends! {
    async fn a_person_asks_for_a_restriction_at_me_and_it_reaches_the_desk_verified(app: TestApp) {
        let key = app.api_key();
        let email = unique_email();
        let subject = person(&app, &email, "en").await;
        let browser = app.sign_in(&email).await;
        let page = browser.get("/me?lang=en").await.text().await.unwrap();
        assert!(page.contains("Ask us for something else") && page.contains(r#"for="ask-restriction""#), "{page}");
        let csrf = browser.csrf().await;
        let wrong = browser.post("/me/requests?lang=en", &form_body(&[("_csrf", &csrf), ("kind", "erasure")])).await;
        assert_eq!(wrong.status(), 400, "erasure has its own button: this form asks for what needs work");
        let asked = browser
            .post("/me/requests?lang=en", &form_body(&[("_csrf", &csrf), ("kind", "restriction"), ("detail", "Please pause the newsletter analysis")]))
            .await;
        assert_eq!(asked.status(), 303);
        assert_eq!(asked.headers()["location"], "/me?lang=en&done=asked");
        let page = browser.get("/me?lang=en&done=asked").await.text().await.unwrap();
        assert!(page.contains("We received your request"));

        let open: Value = api(&app, &key, "GET", "/api/v1/rights-requests", None).await.json().await.unwrap();
        let request = &open["requests"][0];
        assert_eq!((request["kind"].as_str(), request["channel"].as_str(), request["state"].as_str()), (Some("restriction"), Some("web"), Some("verified")));
        assert_eq!(request["subject_id"], subject.as_str());
        let one: Value = api(&app, &key, "GET", &format!("/api/v1/rights-requests/{}", request["id"].as_str().unwrap()), None).await.json().await.unwrap();
        assert_eq!(one["detail"], "Please pause the newsletter analysis");
    }
}
