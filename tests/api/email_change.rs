//! Changing one's address at `/me`: it takes effect only once a link sent to the new address is
//! followed, the old address is told, and whether the new address is someone else's is never
//! revealed to the person asking.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

async fn person(app: &TestApp, email: &str) -> String {
    let body = json!({ "fields": { "email": email, "name": "Kim", "message": "Hi" }, "purposes": ["service"] });
    let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

async fn holder(app: &TestApp, key: &str, email: &str) -> Value {
    let url = app.url(&format!("/api/v1/consents?email={}", email.replace('+', "%2B")));
    app.client.get(url).bearer_auth(key).send().await.unwrap().json::<Value>().await.unwrap()["subject_id"].clone()
}

on_both_backends! {
    async fn a_new_address_takes_effect_only_from_its_own_mailbox_and_the_old_one_is_told(app: TestApp) {
        let key = app.api_key();
        let (old, new) = (unique_email(), unique_email());
        let subject = person(&app, &old).await;
        let browser = app.sign_in(&old).await;
        let csrf = browser.csrf().await;

        let bad = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "email"), ("value", "not an address")])).await;
        assert_eq!(bad.status(), 422, "said next to the field");
        let asked = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "email"), ("value", &new)])).await;
        assert_eq!(asked.status(), 303);
        assert_eq!(asked.headers()["location"], "/me?lang=en&done=email");
        assert!(browser.get("/me?lang=en&done=email").await.text().await.unwrap().contains("We sent a link to the new address"));
        assert_eq!(holder(&app, &key, &old).await, subject.as_str(), "nothing changes before the link is followed");
        assert!(holder(&app, &key, &new).await.is_null());

        let mail = app.wait_for_mail(&new, "Confirm your new address").await;
        let link = mail.link("/me/email");
        let page = app.get(&link).await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Use this address"));
        let token = link.split("token=").nth(1).unwrap();
        let confirmed = app.post_form("/me/email?lang=en", &form_body(&[("token", token)])).await;
        assert_eq!(confirmed.status(), 200);
        assert!(confirmed.text().await.unwrap().contains("Your address has changed"));
        assert_eq!(holder(&app, &key, &new).await, subject.as_str());
        assert!(holder(&app, &key, &old).await.is_null());
        assert_eq!(app.stored_values(&new, "email"), std::slice::from_ref(&new));
        app.wait_for_mail(&old, "Your address has been changed").await;
        let again = app.post_form("/me/email?lang=en", &form_body(&[("token", token)])).await;
        assert_ne!(again.status(), 200, "the link works once");
    }

    async fn asking_for_someone_elses_address_is_answered_the_same_and_changes_nothing(app: TestApp) {
        let key = app.api_key();
        let (mine, theirs) = (unique_email(), unique_email());
        let me = person(&app, &mine).await;
        let them = person(&app, &theirs).await;
        let browser = app.sign_in(&mine).await;
        let csrf = browser.csrf().await;
        let asked = browser.post("/me/values?lang=en", &form_body(&[("_csrf", &csrf), ("field", "email"), ("value", &theirs)])).await;
        assert_eq!(asked.status(), 303);
        assert_eq!(asked.headers()["location"], "/me?lang=en&done=email", "the same answer as for a free address");
        app.wait_for_mail(&theirs, "Someone asked to use this address").await;
        assert!(app.mail_after_a_moment(&theirs, "Confirm your new address").await.is_none(), "no link to take it over");
        assert_eq!(holder(&app, &key, &mine).await, me.as_str());
        assert_eq!(holder(&app, &key, &theirs).await, them.as_str());
    }
}
