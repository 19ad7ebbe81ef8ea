//! The notice beyond the wording (PIPA arts. 15(2), 17(2), 22, 28-8): what refusing a purpose
//! means, in the business's words, and provision to third parties as its own kind of purpose,
//! naming each recipient on the form, in the policy version, in receipts and at `/me`.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

const COURIER: &str = r#"
[[purposes]]
key = "delivery_partners"
kind = "third_party"
legal_basis = "consent"
channel = "none"
retention = "1y"
title = { en = "Sharing with delivery partners", ko = "배송업체에 대한 개인정보 제공" }
text = { en = "We give your phone number to the couriers who deliver your orders.", ko = "주문 배송을 위해 휴대전화 번호를 배송업체에 제공합니다." }

[[purposes.recipients]]
name = "Hanbit Express Co."
purpose = { en = "delivering parcels", ko = "택배 배송" }
items = ["phone number"]
retention = { en = "until delivery is complete", ko = "배송 완료 시까지" }

[[purposes.recipients]]
name = "Global Parcel Inc."
purpose = { en = "delivering overseas orders", ko = "해외 주문 배송" }
items = ["phone number"]
retention = { en = "90 days after delivery", ko = "배송 후 90일" }
country = "United States"
transfer = { en = "when you order, over an encrypted connection", ko = "주문 시 암호화된 통신으로 전송" }
"#;

/// The demo workspace with a third-party purpose on the contact form (bound to the phone).
fn with_partners() -> String {
    let original = std::fs::read_to_string(workspace_file()).unwrap();
    let first_form = original.find("[[forms]]").unwrap();
    let mut edited = format!("{}{COURIER}\n{}", &original[..first_form], &original[first_form..]);
    edited = edited.replacen(
        "purposes = [\"service\", \"marketing_sms\"]\nallowed_origins",
        "purposes = [\"service\", \"marketing_sms\", \"delivery_partners\"]\nallowed_origins",
        1,
    );
    let phone = edited.rfind("purposes = [\"marketing_sms\"]").unwrap();
    edited.replace_range(
        phone..phone + "purposes = [\"marketing_sms\"]".len(),
        "purposes = [\"marketing_sms\", \"delivery_partners\"]",
    );
    edited
}

fn apply(app: &TestApp, name: &str, text: &str) -> std::process::Output {
    let path = app.db.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    app.cli(&["apply", path.to_str().unwrap()])
}

on_both_backends! {
    async fn a_third_party_purpose_names_its_recipients_wherever_it_is_shown(app: TestApp) {
        let out = apply(&app, "partners.toml", &with_partners());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        eventually("the form offers the new purpose", || async {
            app.get("/f/contact?lang=en").await.text().await.unwrap().contains("delivery_partners")
        })
        .await;

        // The form: each recipient, what for, the items, how long, and the transfer abroad.
        let form = app.get("/f/contact?lang=en").await.text().await.unwrap();
        assert!(form.contains("Provided to"));
        assert!(form.contains("Hanbit Express Co.: for delivering parcels; items: phone number; kept by them: until delivery is complete."), "{form}");
        assert!(form.contains("Transferred abroad to United States: when you order, over an encrypted connection."));
        let korean = app.get("/f/contact?lang=ko").await.text().await.unwrap();
        assert!(korean.contains("제공받는 자") && korean.contains("국외 이전(United States)"));

        // The policy version says the same.
        let policy = app.get("/policies/delivery_partners/v1?lang=en").await.text().await.unwrap();
        assert!(policy.contains("Global Parcel Inc.") && policy.contains("If you refuse"), "{policy}");

        // A receipt names them, and the person sees them at /me.
        let email = unique_email();
        let body = json!({ "fields": { "email": email, "name": "Lee", "message": "Hi", "phone": "010-1234-5678" }, "purposes": ["service", "delivery_partners"] });
        let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
        assert_eq!(response.status(), 201);
        let response: Value = response.json().await.unwrap();
        let claims = receipt_claims(response["receipt"].as_str().unwrap());
        let shared = claims["purposes"].as_array().unwrap().iter().find(|p| p["purpose"] == "delivery_partners").unwrap();
        assert_eq!(shared["third_party_disclosure"], true);
        assert_eq!(shared["third_parties"], json!(["Hanbit Express Co.", "Global Parcel Inc."]));
        assert_eq!(shared["recipients"][1]["country"], "United States");
        let browser = app.sign_in(&email).await;
        let me = browser.get("/me?lang=en").await.text().await.unwrap();
        assert!(me.contains("Global Parcel Inc.: for delivering overseas orders"), "{me}");

        // Exported as it was declared, so the file applies unchanged.
        let exported = app.cli(&["export"]);
        let exported = String::from_utf8_lossy(&exported.stdout).to_string();
        assert!(exported.contains("kind = \"third_party\"") && exported.contains("Global Parcel Inc."));
    }

    async fn a_recipient_is_declared_in_full_or_refused_and_a_required_purpose_says_what_refusing_means(app: TestApp) {
        let no_recipients = with_partners().replace("[[purposes.recipients]]", "[[ignored]]");
        let out = apply(&app, "bad1.toml", &no_recipients);
        assert!(!out.status.success());
        let refused = apply(&app, "bad2.toml", &with_partners().replace("transfer = { en = \"when you order, over an encrypted connection\", ko = \"주문 시 암호화된 통신으로 전송\" }", ""));
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("needs `transfer`"), "{}", String::from_utf8_lossy(&refused.stderr));

        // The demo's required purpose says, in the business's words, what refusing means.
        let form = app.get("/f/newsletter?lang=en").await.text().await.unwrap();
        assert!(form.contains("Without your email address we cannot create your subscription"));
        assert!(form.contains("You may refuse: you still get the service"), "optional purposes keep the statutory sentence");
        let korean = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
        assert!(korean.contains("이메일 주소가 없으면 구독을 만들거나"));

        // A file whose required purpose says nothing of it applies, with a warning.
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let start = original.find("refusal = {").unwrap();
        let end = start + original[start..].find('\n').unwrap();
        let silent = format!("{}{}", &original[..start], &original[end..]);
        let out = apply(&app, "silent.toml", &silent);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("purpose `service` is required but says nothing of what refusing it means"));
    }
}

/// A receipt's claims (its signature is checked in `receipts.rs`).
fn receipt_claims(receipt: &str) -> Value {
    use base64::Engine as _;
    let payload = receipt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
