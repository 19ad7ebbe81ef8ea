//! Double opt-in, one-click unsubscribe, and unconfirmed consent lapsing.

use crate::helpers::*;
use crate::on_both_backends;

/// Someone asks for SMS marketing on the newsletter form (in Korean): the confirmation mail.
pub(crate) async fn pending_sms(app: &TestApp) -> (String, Mail) {
    let email = unique_email();
    let body = form_body(&[
        ("email", &email),
        ("phone", "010-7777-8888"),
        ("purpose", "service"),
        ("purpose", "marketing_sms"),
    ]);
    assert_eq!(app.post_form("/f/newsletter?lang=ko", &body).await.status(), 303);
    let mail = app.wait_for_mail(&email, "수신 동의를 확인해 주세요").await;
    (email, mail)
}

async fn sms_status(app: &TestApp, email: &str) -> String {
    let key = app.api_key();
    let url = format!("/api/v1/consents?email={}", email.replace('@', "%40"));
    let body: serde_json::Value =
        app.client.get(app.url(&url)).bearer_auth(key).send().await.unwrap().json().await.unwrap();
    body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both_backends! {
    async fn marketing_consent_waits_for_the_mailed_confirmation(app: TestApp) {
        let (email, mail) = pending_sms(&app).await;
        assert_eq!(sms_status(&app, &email).await, "pending");
        assert!(mail.text.contains("문자(SMS) 광고성 정보 수신"), "the mail names what is confirmed, in Korean");
        let token = mail.link("/confirm").split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        assert_eq!(app.post_form("/confirm?lang=ko", &form_body(&[("token", &token)])).await.status(), 200);
        assert_eq!(sms_status(&app, &email).await, "granted");
        let again = app.post_form("/confirm?lang=en", &form_body(&[("token", &token)])).await;
        assert_eq!(again.status(), 410, "a confirmation link works once");
    }

    async fn many_submissions_in_a_row_send_one_confirmation(app: TestApp) {
        let (email, _) = pending_sms(&app).await;
        for _ in 0..3 {
            let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "marketing_sms")]);
            assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(app.mails_to(&email), 1);
    }

    async fn one_click_unsubscribe_withdraws_at_once(app: TestApp) {
        let (email, mail) = pending_sms(&app).await;
        assert_eq!(mail.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
        let header = mail.header("List-Unsubscribe").unwrap();
        let url = header.trim_start_matches('<').trim_end_matches('>');
        let path = url.trim_start_matches("http://127.0.0.1");
        let page = app.get(path).await;
        assert_eq!(page.status(), 200);
        let asked = page.text().await.unwrap();
        assert!(asked.contains("수신 거부"), "a GET only asks");
        assert!(asked.contains("문자(SMS) 광고성 정보 수신"), "and names which messages stop: {asked}");
        assert_eq!(sms_status(&app, &email).await, "pending");
        // RFC 8058: the mail client POSTs this exact body to the URL.
        let response = app.post_form(path, "List-Unsubscribe=One-Click").await;
        assert_eq!(response.status(), 200);
        assert_eq!(sms_status(&app, &email).await, "withdrawn");
        assert!(app.stored_values(&email, "phone").is_empty());
        assert_eq!(app.post_form(path, "List-Unsubscribe=One-Click").await.status(), 200, "twice is harmless");
        let forged = app.post_form("/u?token=nope", "List-Unsubscribe=One-Click").await;
        assert_eq!(forged.status(), 400);

        // RFC 8058 §3.1 allows the same body as multipart/form-data.
        let (other, mail) = pending_sms(&app).await;
        let header = mail.header("List-Unsubscribe").unwrap();
        let url = app.url(header.trim_start_matches('<').trim_end_matches('>').trim_start_matches("http://127.0.0.1"));
        let body = "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
        let response = app
            .client
            .post(&url)
            .header("content-type", "multipart/form-data; boundary=b0undary")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(sms_status(&app, &other).await, "withdrawn");
    }

    async fn unconfirmed_consent_lapses_after_seven_days_and_its_data_is_erased(app: TestApp) {
        let (email, _) = pending_sms(&app).await;
        let in_six_days = (chrono::Utc::now() + chrono::Duration::days(6)).to_rfc3339();
        let out = app.cli(&["retention", "run", "--now", &in_six_days]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(app.stored_values(&email, "phone"), ["010-7777-8888"], "not yet");
        let in_eight_days = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
        let out = app.cli(&["retention", "run", "--now", &in_eight_days]);
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(said.contains("1 unconfirmed lapsed"), "{said}");
        assert!(app.stored_values(&email, "phone").is_empty(), "the phone number is erased");
        assert_eq!(sms_status(&app, &email).await, "expired");
        let out = app.cli(&["retention", "run", "--now", &in_eight_days]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("0 expired, 0 unconfirmed lapsed"), "idempotent");
        assert!(app.cli(&["ledger", "verify"]).status.success());
    }
}
