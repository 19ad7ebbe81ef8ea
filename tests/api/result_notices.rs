//! 정보통신망법 art. 50(7): whoever gives or withdraws consent to advertising is told the result
//! at once — who sends, when, what, and that it took effect — in their language, in the business's
//! name, whichever way the change came.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends! {
    async fn giving_and_withdrawing_advertising_consent_are_each_told_at_once(app: TestApp) {
        let email = unique_email();
        let body = json!({ "fields": { "email": email, "name": "Kim", "message": "Hi", "phone": "010-5555-6666" },
            "purposes": ["service", "marketing_sms"], "locale": "ko" });
        let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
        assert_eq!(response.status(), 201);
        let subject = response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();

        let given = app.wait_for_mail(&email, "수신에 동의하셨습니다").await;
        assert!(given.subject.contains("문자(SMS) 광고성 정보 수신"), "{}", given.subject);
        assert!(given.text.contains("Assent Demo Shop Co., Ltd."), "the business, not the software: {}", given.text);
        assert!(given.text.contains("처리 결과"), "{}", given.text);
        assert!(given.text.contains("/me?lang=ko"), "{}", given.text);

        let withdrawn = app
            .client
            .post(app.url(&format!("/api/v1/subjects/{subject}/consents")))
            .bearer_auth(app.integrator_key())
            .json(&json!({ "purpose": "marketing_sms", "action": "withdraw" }))
            .send()
            .await
            .unwrap();
        assert_eq!(withdrawn.status(), 200);
        let told = app.wait_for_mail(&email, "수신 동의를 철회하셨습니다").await;
        assert!(told.text.contains("문자(SMS) 광고성 정보 수신") && told.text.contains("보내 드리지 않습니다"), "{}", told.text);

        // The service purpose sends nothing: no result notice is owed for it.
        assert!(!std::fs::read_dir(app.outbox_dir()).unwrap().filter_map(Result::ok).any(|e| {
            std::fs::read_to_string(e.path()).is_ok_and(|raw| raw.contains(&email) && Mail::parse(raw.as_bytes()).subject.contains("서비스 제공"))
        }));
    }
}
