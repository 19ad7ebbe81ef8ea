//! Languages as data: a workspace offers any shipped languages, texts fall back to its default,
//! consent events fingerprint the wording in the language shown, and what an older release
//! stored (two fixed languages) upgrades in place.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::DbUrl;
use assent::db::catalog::shown_wording_hash;
use assent::domain::{Locale, Localized};
use assent::services::workspace::wording_hash;
use diesel::prelude::*;
use serde_json::json;

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

fn texts(app: &TestApp, sql: &str) -> Vec<String> {
    diesel::sql_query(sql).load::<Text>(&mut app.conn()).unwrap().into_iter().map(|t| t.value).collect()
}

fn previous_demo_file() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/assent-0.1-two-languages.toml"))
}

/// A database as the release before this change left it (migrations 1–11), holding a purpose
/// whose wording sits in the old `title_en`/`title_ko`/`text_en`/`text_ko` columns.
fn database_from_before(backend: Backend) -> Option<TestDb> {
    let db = TestDb::create(backend)?;
    let url = DbUrl::parse(&db.url).unwrap();
    url.migrate_through("2026-12-01-000011").unwrap();
    let old = wording_hash(
        &Localized::new([(Locale::EN, "Old news"), (Locale::KO, "옛 소식")]),
        &Localized::new([(Locale::EN, "We wrote this before."), (Locale::KO, "전에 쓴 글입니다.")]),
    );
    let mut conn = url.connect().unwrap();
    diesel::sql_query(
        "INSERT INTO purposes (key, legal_basis, required, channel, retention, renewal_window_days, current_version_id, created_at, updated_at) \
         VALUES ('legacy_news', 'consent', FALSE, 'email', '2y', 30, 'pv-legacy', '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO policy_versions (id, purpose_key, version, title_en, title_ko, text_en, text_ko, text_hash, created_at) \
         VALUES ('pv-legacy', 'legacy_news', 1, 'Old news', '옛 소식', 'We wrote this before.', '전에 쓴 글입니다.', '{old}', '2026-11-01 00:00:00')"
    ))
    .execute(&mut conn)
    .unwrap();
    Some(db)
}

async fn an_old_database_and_an_old_file_upgrade_in_place(backend: Backend) {
    let Some(db) = database_from_before(backend) else { return };
    let app = TestApp::spawn_on(db, |s| s.config = previous_demo_file()).await;

    // The old wording moved into one row per language, under its old hash.
    let policy = app.get("/policies/legacy_news/v1?lang=ko").await.text().await.unwrap();
    assert!(policy.contains("옛 소식") && policy.contains("전에 쓴 글입니다."), "{policy}");
    let stored = texts(&app, "SELECT text_hash AS value FROM policy_versions WHERE id = 'pv-legacy'");
    assert!(policy.contains(&stored[0]), "the page shows the version's own fingerprint");
    let locales =
        texts(&app, "SELECT locale AS value FROM policy_texts WHERE policy_version_id = 'pv-legacy' ORDER BY locale");
    assert_eq!(locales, ["en", "ko"]);

    // The file of the previous release (texts in en and ko, no [workspace] locales) applies as
    // it did: nothing republished, the workspace still speaks English (default) and Korean.
    let versions =
        texts(&app, "SELECT CAST(version AS TEXT) AS value FROM policy_versions WHERE purpose_key = 'service'");
    assert_eq!(versions, ["1"]);
    let korean = app.get("/f/newsletter?lang=ko").await.text().await.unwrap();
    assert!(korean.contains(r#"<html lang="ko">"#) && korean.contains("뉴스레터 구독"));
    let japanese = app.get("/f/newsletter?lang=ja").await.text().await.unwrap();
    assert!(japanese.contains(r#"<html lang="en">"#), "Japanese is not offered yet: the default stands in");

    // A version from before notices were snapshotted is not republished for the same terms, and
    // is for new ones (the notice now includes them).
    let legacy = |retention: &str| {
        format!(
            "[[purposes]]\nkey = \"legacy_news\"\nlegal_basis = \"consent\"\nchannel = \"email\"\nretention = \"{retention}\"\n\
             title = {{ en = \"Old news\", ko = \"옛 소식\" }}\ntext = {{ en = \"We wrote this before.\", ko = \"전에 쓴 글입니다.\" }}\n"
        )
    };
    let file = app.db.dir.path().join("legacy.toml");
    std::fs::write(&file, legacy("2y")).unwrap();
    assert!(app.cli(&["apply", file.to_str().unwrap()]).status.success());
    let versions =
        texts(&app, "SELECT CAST(version AS TEXT) AS value FROM policy_versions WHERE purpose_key = 'legacy_news'");
    assert_eq!(versions, ["1"], "same wording, same terms: nothing new");
    std::fs::write(&file, legacy("1y")).unwrap();
    assert!(app.cli(&["apply", file.to_str().unwrap()]).status.success());
    let terms =
        texts(&app, "SELECT terms AS value FROM policy_versions WHERE purpose_key = 'legacy_news' ORDER BY version");
    assert_eq!(terms.len(), 2, "a shorter retention is a new notice");
    assert!(terms[1].contains(r#""retention":"1y""#) && terms[1].contains(r#""legal_basis":"consent""#), "{terms:?}");

    // Applying today's demo file adds Japanese: each purpose's wording gets a new version.
    let out = app.cli(&["apply", workspace_file().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let versions = texts(
        &app,
        "SELECT CAST(version AS TEXT) AS value FROM policy_versions WHERE purpose_key = 'service' ORDER BY version",
    );
    assert_eq!(versions, ["1", "2"]);
    eventually("the server serves the file's Japanese", || async {
        app.get("/f/newsletter?lang=ja").await.text().await.unwrap().contains(r#"<html lang="ja">"#)
    })
    .await;
    let japanese = app.get("/f/newsletter?lang=ja").await.text().await.unwrap();
    assert!(japanese.contains(r#"<html lang="ja">"#) && japanese.contains("ニュースレターの購読"), "{japanese}");
}

#[tokio::test]
async fn an_old_database_and_an_old_file_upgrade_in_place_sqlite() {
    an_old_database_and_an_old_file_upgrade_in_place(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_old_database_and_an_old_file_upgrade_in_place_postgres() {
    an_old_database_and_an_old_file_upgrade_in_place(Backend::Postgres).await;
}

on_both_backends! {
    async fn a_consent_fingerprints_the_wording_in_the_language_it_was_given_in(app: TestApp) {
        let response = app
            .post_json_as_integrator(
                "/api/v1/forms/newsletter/submissions",
                &json!({ "fields": { "email": unique_email() }, "purposes": ["service"], "locale": "ja" }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        let subject = body["subject_id"].as_str().unwrap();
        let recorded = texts(&app, &format!("SELECT policy_text_hash AS value FROM consent_events WHERE subject_id = '{subject}'"));
        let catalog = app.state.catalog.current();
        let policy = &catalog.purpose("service").unwrap().policy;
        let ja = shown_wording_hash("ja", policy.title.get(Locale::JA, Locale::EN), policy.text.get(Locale::JA, Locale::EN));
        assert_eq!(recorded, std::slice::from_ref(&ja), "the hash is of the Japanese wording the person read");
        assert_ne!(ja, policy.text_hash, "not of the version in all its languages");
        assert!(policy.title.get(Locale::JA, Locale::EN).contains("サービス"));

        // The policy page shows the Japanese wording with that fingerprint, and names every
        // language the version was published in.
        let page = app.get("/policies/service/v1?lang=ja").await.text().await.unwrap();
        assert!(page.contains(&ja) && page.contains(&policy.text_hash));
        assert!(page.contains(r#"hreflang="ko""#) && page.contains(r#"hreflang="ja""#) && page.contains(r#"hreflang="en""#));

        let refused = app
            .post_json("/api/v1/forms/newsletter/submissions", &json!({ "fields": { "email": unique_email() }, "purposes": ["service"], "locale": "fr" }))
            .await;
        assert_eq!(refused.status(), 400);
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "unsupported_locale");
        assert!(problem["detail"].as_str().unwrap().contains("\"ja\""));
    }

    async fn a_workspace_chooses_its_languages_and_untranslated_texts_fall_back(app: TestApp) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assent.toml");
        let text = std::fs::read_to_string(workspace_file()).unwrap()
            .replace(r#"locales = ["en", "ko", "ja"]"#, r#"locales = ["ko", "ja"]"#)
            .replace(r#"default_locale = "en""#, r#"default_locale = "ko""#)
            .replace(r#"title = { en = "Subscribe to our newsletter", ko = "뉴스레터 구독", ja = "ニュースレターの購読" }"#, r#"title = { ko = "뉴스레터 구독" }"#);
        // Texts in a language the workspace no longer offers are refused, by name.
        std::fs::write(&file, &text).unwrap();
        let out = app.cli(&["apply", file.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("`en`, which the workspace does not offer"), "{}", String::from_utf8_lossy(&out.stderr));
        let text = strip_language(&text, "en");
        std::fs::write(&file, &text).unwrap();
        let out = app.cli(&["apply", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        eventually("the server offers Korean first", || async {
            app.get("/f/newsletter").await.text().await.unwrap().contains(r#"<html lang="ko">"#)
        })
        .await;

        let page = app.client.get(app.url("/f/newsletter")).header("accept-language", "en-US,en;q=0.9").send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"<html lang="ko">"#), "English is not offered: Korean, the default");
        let page = app.get("/f/newsletter?lang=ja").await.text().await.unwrap();
        assert!(page.contains(r#"<html lang="ja">"#));
        assert!(page.contains("뉴스레터 구독"), "the title has no Japanese: the default's");
        assert!(page.contains("メールアドレス"), "the label has");
    }
}

/// The file without one language's texts: each `tag = "…"` entry of its inline tables goes
/// (the demo file's strings hold no quotes).
fn strip_language(text: &str, tag: &str) -> String {
    let key = format!("{{ {tag} = \"");
    text.lines()
        .map(|line| {
            let mut out = line.to_owned();
            while let Some(start) = out.find(&key) {
                let value = start + key.len();
                let Some(len) = out[value..].find('"') else { break };
                // `{ en = "…", ko = …` becomes `{ ko = …`.
                out.replace_range(start + 2..(value + len + 3).min(out.len()), "");
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

on_both_backends! {
    async fn the_console_edits_a_text_per_language_and_manages_the_languages(app: TestApp) {
        use assent::domain::owner::Role;
        let console = app.signed_in(Role::Owner).await;

        // The purpose form has a row per offered language; only the default is required.
        let form = console.page("/admin/purposes/service?lang=en").await;
        for tag in ["en", "ko", "ja"] {
            assert!(form.contains(&format!(r#"name="title_{tag}" lang="{tag}""#)), "a title row for {tag}");
        }
        assert!(form.contains(r#"id="field-title_en" name="title_en" lang="en" type="text""#));
        let pairs = |title_en: &'static str, title_ja: &'static str| {
            vec![("title_en", title_en), ("title_ko", ""), ("title_ja", title_ja), ("text_en", "We provide the service."), ("text_ko", ""), ("text_ja", ""),
                 ("legal_basis", "contract"), ("required", "1"), ("channel", "none"), ("retention", "3y"), ("renewal_window_days", "30"),
                 ("refusal_en", "Without it there is no service.")]
        };
        let refused = console.submit("/admin/purposes/service?lang=en", &pairs("", "サービス")).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains(r#"id="field-title_en-error""#) && html.contains("サービス"), "the default is required, and nothing typed is lost");
        let saved = console.submit("/admin/purposes/service?lang=en", &pairs("Service", "サービス")).await;
        assert_eq!(saved.status(), 303);

        // Korean is left untranslated: its readers get the English text, and the console says so.
        let page = app.get("/policies/service/v2?lang=ko").await.text().await.unwrap();
        assert!(page.contains("We provide the service.") && page.contains(r#"lang="en""#), "{page}");
        let languages = console.page("/admin/languages?lang=en").await;
        assert!(languages.contains("Purpose service: wording") && languages.contains("한국어, 日本語"), "{languages}");

        // Languages: the default cannot go; another may become the default; one may be added back.
        let refused = console.submit("/admin/languages?lang=en", &[("action", "remove"), ("locale", "en")]).await;
        assert_eq!(refused.status(), 422);
        assert_eq!(console.submit("/admin/languages?lang=en", &[("action", "remove"), ("locale", "ja")]).await.status(), 303);
        let public = app.get("/f/newsletter?lang=ja").await.text().await.unwrap();
        assert!(public.contains(r#"<html lang="en">"#), "Japanese is no longer offered");
        assert!(!public.contains(r#"hreflang="ja""#), "nor in the switcher");
        assert_eq!(console.submit("/admin/languages?lang=en", &[("action", "add"), ("locale", "ja")]).await.status(), 303);
        assert_eq!(console.submit("/admin/languages?lang=en", &[("action", "default"), ("locale", "ko")]).await.status(), 303);
        let public = app.get("/f/newsletter").await.text().await.unwrap();
        assert!(public.contains(r#"<html lang="ko">"#), "Korean is now the default");
        let audit = texts(&app, "SELECT detail AS value FROM audit_log WHERE action = 'workspace_locales_changed' ORDER BY occurred_at");
        assert_eq!(audit.last().map(String::as_str), Some("en,ko*,ja"));
    }
}
