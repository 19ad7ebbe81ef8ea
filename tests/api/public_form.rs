//! A customer on a phone opens and fills in the demo forms.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends! {
    async fn the_newsletter_form_labels_every_field_and_leaves_every_purpose_unticked(app: TestApp) {
        let response = app.get("/f/newsletter?lang=en").await;
        assert_eq!(response.status(), 200);
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
        let html = response.text().await.unwrap();
        for (field, input_type) in [("email", "email"), ("name", "text"), ("phone", "tel")] {
            assert!(html.contains(&format!(r#"<label for="field-{field}">"#)), "label for {field}");
            assert!(html.contains(&format!(r#"id="field-{field}" name="{field}" type="{input_type}""#)), "{field}");
        }
        assert!(html.contains(r#"name="email" type="email" value="" maxlength="254" autocomplete="email" required aria-required="true""#));
        assert!(!html.contains(r#"name="phone" type="tel" value="" maxlength="32" autocomplete="tel" required"#));
        assert_eq!(html.matches("(optional)").count(), 2, "name and phone are marked optional");
        assert_eq!(html.matches("(required)").count(), 1, "email is marked required");
        for purpose in ["service", "marketing_email", "marketing_sms", "personalisation"] {
            assert!(html.contains(&format!(r#"<input type="checkbox" id="purpose-{purpose}" name="purpose" value="{purpose}""#)));
            assert!(html.contains(&format!(r#"href="/policies/{purpose}/v1?lang=en""#)), "policy link for {purpose}");
        }
        assert!(!html.contains(" checked"), "no purpose is ticked in advance");
        assert!(html.contains("[Required] Providing the service"));
        assert!(html.contains("[Optional] News and offers by email"));
        assert!(html.contains("Kept for: 3 years"));
        assert!(html.contains("Kept for: 1 year"));
    }

    async fn korean_is_chosen_from_accept_language_or_lang(app: TestApp) {
        let by_header = app
            .client
            .get(app.url("/f/newsletter"))
            .header("accept-language", "ko-KR,ko;q=0.9,en;q=0.5")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let by_query = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
        for html in [by_header, by_query] {
            assert!(html.contains(r#"<html lang="ko">"#));
            assert!(html.contains("[필수] 서비스 제공"));
            assert!(html.contains("[선택] 문자(SMS) 광고성 정보 수신"));
            assert!(html.contains("보유 기간: 3년"));
            assert!(html.contains("이메일 주소"));
        }
    }

    async fn a_complete_submission_redirects_to_a_thank_you_page(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[
            ("email", &email),
            ("name", "김민지"),
            ("phone", "010-1234-5678"),
            ("purpose", "service"),
            ("purpose", "marketing_sms"),
            ("purpose", "personalisation"),
        ]);
        let response = app.post_form("/f/newsletter?lang=ko", &body).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, "/f/newsletter/thanks?lang=ko&pending=1", "SMS consent awaits confirmation");
        let thanks = app.get(&location).await;
        assert_eq!(thanks.status(), 200);
        let html = thanks.text().await.unwrap();
        assert!(html.contains("감사합니다"));
        assert!(html.contains("확인 메일을 보내 드렸습니다"), "the person is told to confirm by mail");
        assert_eq!(app.row_counts(), [1, 1, 3, 3, 3]);
        assert_eq!(app.stored_values(&email, "phone"), ["010-1234-5678"]);
        assert_eq!(app.stored_values(&email, "name"), ["김민지"]);
    }

    async fn refusing_every_optional_purpose_does_not_block_the_form(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service")]);
        let response = app.post_form("/f/newsletter", &body).await;
        assert_eq!(response.status(), 303);
        assert_eq!(app.row_counts(), [1, 1, 1, 1, 1]);
    }

    async fn mistakes_show_the_form_again_with_what_was_typed_and_a_message_per_field(app: TestApp) {
        let body = form_body(&[("email", "kim@"), ("name", "<b>민지</b>"), ("phone", "call me"), ("purpose", "marketing_sms")]);
        let response = app.post_form("/f/newsletter?lang=en", &body).await;
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"value="kim@""#), "typed email kept");
        assert!(html.contains(r#"value="call me""#), "typed phone kept");
        assert!(html.contains("value=\"&#60;b&#62;민지&#60;/b&#62;\""), "markup is escaped, not rendered");
        assert!(html.contains(r#"<p class="error" id="email-error">Enter an email address like name@example.com.</p>"#));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="email-error field-email-purposes""#), "the error first, then the purposes");
        assert!(html.contains(r#"<p class="error" id="phone-error">"#));
        assert!(html.contains(r#"<p class="error" id="purpose-service-error">This consent is required to provide the service.</p>"#));
        assert!(html.contains(r#"id="purpose-marketing_sms" name="purpose" value="marketing_sms" checked"#), "ticked box kept");
        assert!(html.contains(r#"role="alert""#), "an error summary is announced");
        assert_eq!(app.row_counts(), [0, 0, 0, 0, 0], "nothing is written");
    }

    async fn an_unknown_form_is_404_for_reading_and_submitting(app: TestApp) {
        assert_eq!(app.get("/f/no_such_form").await.status(), 404);
        let response = app.post_form("/f/no_such_form", "email=a%40b.example&purpose=service").await;
        assert_eq!(response.status(), 404);
        assert!(response.text().await.unwrap().contains("This page does not exist."));
    }

    async fn the_policy_link_shows_the_exact_wording_and_its_fingerprint(app: TestApp) {
        let response = app.get("/policies/marketing_sms/v1?lang=ko").await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains("입력하신 휴대전화 번호로 혜택 문자를 보내 드립니다."));
        assert!(html.contains("v1"));
        assert_eq!(app.get("/policies/marketing_sms/v9").await.status(), 404);
        assert_eq!(app.get("/policies/marketing_sms/vx").await.status(), 404);
    }

    async fn the_contact_form_requires_name_and_message(app: TestApp) {
        let email = unique_email();
        let response = app.post_form("/f/contact", &form_body(&[("email", &email), ("purpose", "service")])).await;
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"id="name-error""#) && html.contains(r#"id="message-error""#));
        let body = form_body(&[("email", &email), ("name", "Lee"), ("message", "Where is my order?"), ("purpose", "service")]);
        assert_eq!(app.post_form("/f/contact", &body).await.status(), 303);
        assert_eq!(app.stored_values(&email, "message"), ["Where is my order?"]);
    }

    async fn static_assets_and_health_are_served(app: TestApp) {
        let health = app.get("/healthz").await;
        assert_eq!(health.status(), 200);
        assert_eq!(health.json::<serde_json::Value>().await.unwrap()["status"], "ok");
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status(), 200);
        let ready: serde_json::Value = ready.json().await.unwrap();
        assert_eq!(ready["status"], "ready", "{ready}");
        for check in ["database", "writer", "change_listener", "disk"] {
            assert_eq!(ready["checks"][check]["ok"], true, "{check}: {ready}");
        }
        assert_eq!(ready["checks"]["database"]["pending_migrations"], 0);
        let css = app.get("/static/assent.css").await;
        assert_eq!(css.status(), 200);
        assert_eq!(css.headers()["x-content-type-options"], "nosniff");
        assert_eq!(app.get("/embed.js").await.status(), 200);
        assert_eq!(app.get("/static/nope.js").await.status(), 404);
    }

    async fn each_field_names_the_purposes_it_serves_and_is_described_by_them(app: TestApp) {
        let html = app.get("/f/newsletter?lang=en").await.text().await.unwrap();
        for (field, used_for) in [
            ("email", "Used for: Providing the service, News and offers by email"),
            ("name", "Used for: Personalised greetings"),
            ("phone", "Used for: News and offers by text message"),
        ] {
            assert!(html.contains(&format!(r#"<p class="hint" id="field-{field}-purposes">{used_for}</p>"#)), "{field}: {html}");
            assert!(html.contains(&format!(r#"aria-describedby="field-{field}-purposes""#)), "{field} is tied to its purposes");
        }
        let mut ids = std::collections::HashSet::new();
        for part in html.split(" id=\"").skip(1) {
            assert!(ids.insert(part.split('"').next().unwrap().to_owned()), "ids are unique");
        }
        let html = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
        assert!(html.contains(r#"<p class="hint" id="field-phone-purposes">이용 목적: 문자(SMS) 광고성 정보 수신</p>"#), "{html}");
    }

    async fn the_thank_you_page_names_the_values_not_kept_because_their_purpose_was_not_ticked(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("name", "김민지"), ("phone", "010-1234-5678"), ("purpose", "service")]);
        let response = app.post_form("/f/newsletter?lang=en", &body).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, "/f/newsletter/thanks?lang=en&dropped=name&dropped=phone");
        assert!(!location.contains("010") && !location.contains("%EA"), "only field keys travel, never what was typed");
        let html = app.get(&location).await.text().await.unwrap();
        assert!(html.contains("did not agree to any purpose they are used for, so we did not keep them"), "{html}");
        assert!(html.contains("<li>Name</li>") && html.contains("<li>Mobile phone</li>"), "{html}");
        let html = app.get(&location.replace("lang=en", "lang=ko")).await.text().await.unwrap();
        assert!(html.contains("이용 목적에 동의하지 않으셔서 저장하지 않았습니다") && html.contains("<li>휴대전화 번호</li>") && html.contains("<li>이름</li>"), "{html}");
        assert!(app.stored_values(&email, "phone").is_empty() && app.stored_values(&email, "name").is_empty());

        // Nothing dropped, nothing said; and the query cannot name anything but the form's fields.
        let body = form_body(&[("email", &unique_email()), ("name", "Kim"), ("purpose", "service"), ("purpose", "personalisation")]);
        let location = app.post_form("/f/newsletter?lang=en", &body).await.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, "/f/newsletter/thanks?lang=en");
        assert!(!app.get(&location).await.text().await.unwrap().contains("dropped-fields"));
        let forged = app.get("/f/newsletter/thanks?lang=en&dropped=%3Cscript%3E&dropped=ssn&dropped=phone&dropped=phone").await.text().await.unwrap();
        assert_eq!(forged.matches("<li>").count(), 1, "{forged}");
        assert!(forged.contains("<li>Mobile phone</li>") && !forged.contains("&#60;script") && !forged.contains("ssn"));
    }
}

/// `/readyz` is not ready while the data folder has less free space than asked for, and says
/// which check failed; `/healthz` (liveness) answers all the same.
async fn readiness_story(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.min_free_space_mib = 1 << 40).await else { return };
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(
        (&ready["status"], &ready["checks"]["disk"]["ok"]),
        (&serde_json::json!("not_ready"), &serde_json::json!(false))
    );
    assert_eq!(ready["checks"]["writer"]["ok"], true, "only the disk fails: {ready}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn not_ready_while_the_disk_is_short_sqlite() {
    readiness_story(Backend::Sqlite).await;
}

#[tokio::test]
async fn not_ready_while_the_disk_is_short_postgres() {
    readiness_story(Backend::Postgres).await;
}

on_both_backends! {
    async fn each_purpose_names_what_it_collects_and_what_refusing_it_means(app: TestApp) {
        let en = app.get("/f/newsletter?lang=en").await.text().await.unwrap();
        let block = |html: &str, key: &str| {
            let start = html.find(&format!(r#"id="purpose-{key}-text""#)).unwrap();
            html[start..start + html[start..].find("</div>").unwrap()].to_owned()
        };
        let service = block(&en, "service");
        assert!(service.contains("Items collected: Email address"), "{service}");
        assert!(service.contains("Without your email address we cannot create your subscription"), "the business's own words: {service}");
        let sms = block(&en, "marketing_sms");
        assert!(sms.contains("Items collected: Mobile phone") && sms.contains("You may refuse"), "{sms}");
        assert!(block(&en, "marketing_email").contains("Items collected: Email address"));
        let ko = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
        assert!(block(&ko, "personalisation").contains("수집 항목: 이름"));
        assert!(block(&ko, "personalisation").contains("거부하셔도 서비스는 그대로"));
    }
}
