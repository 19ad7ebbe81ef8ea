//! Forms and purposes as code: applying the workspace file, and policy versions.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use serde_json::json;

/// The demo file with one purpose's Korean wording changed.
fn edited_workspace(dir: &std::path::Path) -> std::path::PathBuf {
    let original = std::fs::read_to_string(workspace_file()).unwrap();
    let edited = original.replace("혜택 문자를 보내 드립니다.", "혜택 문자를 월 4회 이내로 보내 드립니다.");
    assert_ne!(original, edited);
    let path = dir.join("edited.toml");
    std::fs::write(&path, edited).unwrap();
    path
}

async fn grant_sms(app: &TestApp, email: &str) -> serde_json::Value {
    let response = app
        .post_json(
            "/api/v1/forms/newsletter/submissions",
            &json!({ "fields": { "email": email, "phone": "010-1234-5678" }, "purposes": ["service", "marketing_sms"] }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap().clone()
}

on_both_backends! {
    async fn applying_the_same_file_again_changes_nothing(app: TestApp) {
        let out = app.cli(&["apply", workspace_file().to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    }

    async fn changed_wording_publishes_a_new_version_and_old_consents_keep_theirs(app: TestApp) {
        let before = unique_email();
        let old = grant_sms(&app, &before).await;
        assert_eq!(old["policy_version"], 1);

        let file = edited_workspace(app.db.dir.path());
        let out = app.cli(&["apply", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(said.contains("purpose marketing_sms: published policy version 2"), "{said}");
        assert!(!said.contains("purpose service"), "unchanged purposes get no new version: {said}");

        // The running server picks the new wording up from the database.
        eventually("the running server serves the new wording", || async {
            app.get("/f/newsletter?lang=ko").await.text().await.unwrap().contains("월 4회")
        })
        .await;
        let html = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
        assert!(html.contains(r#"href="/policies/marketing_sms/v2?lang=ko""#));

        let after = unique_email();
        assert_eq!(grant_sms(&app, &after).await["policy_version"], 2);
        let key = app.api_key();
        let lookup = format!("/api/v1/consents?email={}", before.replace('@', "%40"));
        let body: serde_json::Value = app.client.get(app.url(&lookup)).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        let sms = body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap().clone();
        assert_eq!(sms["policy_version"], 1, "earlier consent still points at the wording it was given under");
        assert_eq!(app.get("/policies/marketing_sms/v1?lang=ko").await.status(), 200, "old wording stays readable");

        // What each person holds shows the wording they agreed to: the old one (no longer the
        // catalogue's) for the earlier person, the new one for the later.
        let wording_of = |email: String| {
            let (client, key, lookup) = (app.client.clone(), key.clone(), app.url(&format!("/api/v1/consents?email={}", email.replace('@', "%40"))));
            let export = app.url("/api/v1/subjects/");
            async move {
                let body: serde_json::Value = client.get(lookup).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
                let id = body["subject_id"].as_str().unwrap().to_owned();
                let url = format!("{export}{id}/export");
                let held: serde_json::Value = client.get(url).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
                let sms = held["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap().clone();
                let values = held["values"].as_array().unwrap();
                assert!(!values.is_empty() && values.iter().all(|v| v["form"] == "newsletter" && v["label"].is_object()), "{held}");
                (sms["policy_version"].as_i64().unwrap(), sms["wording"]["ko"].as_str().unwrap().to_owned())
            }
        };
        let (version, wording) = wording_of(before.clone()).await;
        assert_eq!(version, 1);
        assert!(wording.contains("혜택 문자를 보내 드립니다.") && !wording.contains("월 4회"), "{wording}");
        let (version, wording) = wording_of(after.clone()).await;
        assert_eq!(version, 2);
        assert!(wording.contains("월 4회"), "{wording}");
    }

    async fn an_invalid_workspace_file_is_refused_with_a_reason(app: TestApp) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let broken = original.replace("purposes = [\"personalisation\"]\nmax_length = 100", "purposes = []\nmax_length = 100");
        assert_ne!(original, broken);
        let path = app.db.dir.path().join("broken.toml");
        std::fs::write(&path, broken).unwrap();
        let out = app.cli(&["apply", path.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("serves no purpose"));
    }

    async fn a_retention_too_long_to_count_is_refused_and_nothing_is_applied(app: TestApp) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        for huge in ["99999999999999999999y".to_owned(), format!("{}d", i64::MAX)] {
            // The SMS purpose gets an impossible period and new wording: neither may be written.
            let broken = original
                .replacen("channel = \"sms\"\nretention = \"2y\"", &format!("channel = \"sms\"\nretention = \"{huge}\""), 1)
                .replace("혜택 문자를 보내 드립니다.", "혜택 문자를 월 4회 이내로 보내 드립니다.");
            assert!(broken.contains(&huge));
            let path = app.db.dir.path().join("huge.toml");
            std::fs::write(&path, broken).unwrap();
            let out = app.cli(&["apply", path.to_str().unwrap()]);
            let said = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(!out.status.success(), "{said}");
            assert!(said.contains(&format!("retention \"{huge}\" is too long")), "{said}");
            assert!(!said.contains("panicked"), "{said}");
        }
        let out = app.cli(&["apply", workspace_file().to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"), "the refused files wrote nothing");
        let html = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
        assert!(!html.contains("월 4회") && html.contains(r#"href="/policies/marketing_sms/v1?lang=ko""#));
    }

    async fn a_required_purpose_resting_on_consent_is_refused_by_name(app: TestApp) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let bundled = original.replacen("legal_basis = \"consent\"\nchannel = \"sms\"", "legal_basis = \"consent\"\nrequired = true\nchannel = \"sms\"", 1);
        assert_ne!(original, bundled);
        let path = app.db.dir.path().join("bundled.toml");
        std::fs::write(&path, bundled).unwrap();
        let out = app.cli(&["apply", path.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{said}");
        assert!(said.contains("purpose `marketing_sms` is required, so it cannot rest on consent"), "{said}");
        assert!(said.contains("PIPA art. 22(5), GDPR art. 7(4)"), "{said}");
        let required: Vec<bool> = {
            use assent::db::schema::purposes;
            use diesel::prelude::*;
            purposes::table.filter(purposes::key.eq("marketing_sms")).select(purposes::required).load(&mut app.conn()).unwrap()
        };
        assert_eq!(required, [false], "nothing was written");
    }

    async fn a_change_through_the_console_or_apply_reaches_every_running_server_within_seconds(app: TestApp) {
        let other = app.another_server().await;
        let client = app.client.clone();
        let form_on = |server: String| {
            let client = client.clone();
            async move { client.get(format!("{server}/f/newsletter?lang=en")).send().await.unwrap().text().await.unwrap() }
        };
        let sms_version_on = |server: String| {
            let client = client.clone();
            async move {
                let body = json!({ "fields": { "email": unique_email(), "phone": "010-1234-5678" }, "purposes": ["service", "marketing_sms"] });
                let response = client.post(format!("{server}/api/v1/forms/newsletter/submissions")).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 201);
                let body: serde_json::Value = response.json().await.unwrap();
                body["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing_sms").unwrap()["policy_version"].as_i64().unwrap()
            }
        };
        assert!(form_on(other.clone()).await.contains("We send you offers by text message"));
        assert_eq!(sms_version_on(other.clone()).await, 1);
        let within = std::time::Duration::from_secs(5);

        // The console of the first server changes the wording: the other one serves it and records
        // against it, without a restart.
        let console = app.signed_in(Role::Owner).await;
        let pairs = [
            ("title_en", "News and offers by text message"), ("title_ko", "문자(SMS) 광고성 정보 수신"),
            ("text_en", "Offers by text message, at most once a week (console)."), ("text_ko", "주 1회 이내로 혜택 문자를 보내 드립니다 (콘솔)."),
            ("legal_basis", "consent"), ("channel", "sms"), ("retention", "2y"), ("renewal_window_days", "30"),
        ];
        assert_eq!(console.submit("/admin/purposes/marketing_sms?lang=en", &pairs).await.status(), 303);
        eventually_within("the other server serves the console's wording", within, || async {
            form_on(other.clone()).await.contains("at most once a week (console)")
        })
        .await;
        assert!(form_on(other.clone()).await.contains(r#"href="/policies/marketing_sms/v2?lang=en""#));
        assert_eq!(sms_version_on(other.clone()).await, 2, "recorded against the wording it now shows");

        // `assent apply` in a process of its own: both servers follow.
        let file = edited_workspace(app.db.dir.path());
        let out = app.cli(&["apply", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for server in [app.address.clone(), other.clone()] {
            eventually_within("every server serves the applied wording", within, || async {
                form_on(server.clone()).await.contains(r#"href="/policies/marketing_sms/v3?lang=en""#)
            })
            .await;
            assert!(form_on(server.clone()).await.contains("We send you offers by text message"));
            assert_eq!(sms_version_on(server.clone()).await, 3);
        }
    }
}
