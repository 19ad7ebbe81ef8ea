//! Owners build forms and edit purposes in the console; what they publish is what the public
//! form serves, versioned like `assent apply`, and it survives a restart.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::Locale;
use assent::domain::owner::Role;
use diesel::prelude::*;

fn form_versions(app: &TestApp, form: &str) -> Vec<(i64, String)> {
    use assent::db::schema::form_versions;
    form_versions::table
        .filter(form_versions::form_key.eq(form))
        .order(form_versions::version.asc())
        .select((form_versions::version, form_versions::id))
        .load(&mut app.conn())
        .unwrap()
}

fn submission_versions(app: &TestApp) -> Vec<String> {
    use assent::db::schema::submissions;
    submissions::table.select(submissions::form_version_id).load(&mut app.conn()).unwrap()
}

fn policy_versions(app: &TestApp, purpose: &str) -> Vec<i64> {
    use assent::db::schema::policy_versions;
    policy_versions::table
        .filter(policy_versions::purpose_key.eq(purpose))
        .order(policy_versions::version.asc())
        .select(policy_versions::version)
        .load(&mut app.conn())
        .unwrap()
}

/// Every `id` on a page is unique (labels and error messages point at them).
fn assert_unique_ids(html: &str) {
    let mut seen = std::collections::HashSet::new();
    for part in html.split(" id=\"").skip(1) {
        let id = part.split('"').next().unwrap();
        assert!(seen.insert(id.to_owned()), "id {id} appears twice");
    }
}

/// The audit log's (actor kind, detail) rows for `action`.
fn audited(app: &TestApp, action: &str) -> Vec<(String, String)> {
    use assent::db::schema::audit_log;
    audit_log::table
        .filter(audit_log::action.eq(action))
        .select((audit_log::actor_kind, audit_log::detail))
        .load(&mut app.conn())
        .unwrap()
}

fn field<'a>(key: &'a str, kind: &'a str, en: &'a str, ko: &'a str, purposes: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![("key", key), ("kind", kind), ("label_en", en), ("label_ko", ko)];
    pairs.extend(purposes.iter().map(|p| ("purposes", *p)));
    pairs
}

/// The builder's one form as a browser sends it: the settings, each field's inputs under its
/// block's prefix in the order shown, the "add field" block, and the button pressed (`op`).
fn draft_page(
    settings: &[(&str, &str)],
    fields: &[Vec<(&str, &str)>],
    new: &[(&str, &str)],
    op: &str,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    for (i, f) in fields.iter().enumerate() {
        pairs.push(("order".into(), format!("f{i}")));
        pairs.extend(f.iter().map(|(k, v)| (format!("f{i}-{k}"), (*v).to_owned())));
    }
    pairs.extend(new.iter().map(|(k, v)| (format!("new-{k}"), (*v).to_owned())));
    pairs.push(("op".into(), op.into()));
    pairs
}

async fn save_draft(
    console: &crate::admin_helpers::Console,
    form: &str,
    page: &[(String, String)],
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = page.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    console.submit(&format!("/admin/forms/{form}/draft?lang=en"), &pairs).await
}

on_both_backends! {
    async fn a_new_form_publishes_as_created(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let list = console.page("/admin/forms?lang=ko").await;
        assert!(list.contains(r#"<select id="field-kind" name="kind""#) && list.contains("뉴스레터"), "the kind is a choice, in words");
        let odd = console.submit("/admin/forms?lang=en", &[("key", "odd"), ("kind", "whatever"), ("title_en", "Odd"), ("title_ko", "이상")]).await;
        assert_eq!(odd.status(), 422, "only a kind offered");
        let created = console.submit("/admin/forms?lang=en", &[("key", "first"), ("kind", "newsletter"), ("title_en", "First"), ("title_ko", "첫 양식")]).await;
        assert_eq!(created.status(), 303);
        let published = console.submit("/admin/forms/first/publish?lang=en", &[]).await;
        assert_eq!(published.status(), 303, "the starter e-mail field asks for, and serves, the required purpose");
        let form = app.get("/f/first?lang=en").await;
        assert_eq!(form.status(), 200);
        assert!(form.text().await.unwrap().contains(r#"type="email""#));
        assert!(console.page("/admin/forms?lang=en").await.contains("<td>Newsletter</td>"), "the list says the kind in words");
        let builder = console.page("/admin/forms/first?lang=en&done=published").await;
        assert!(builder.contains(r#"<a href="/admin/forms/first/embed?lang=en">Put it on your site (snippets)</a>"#), "the snippets one click away");
    }

    async fn an_owner_builds_previews_and_publishes_a_form(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let bad = console.submit("/admin/forms?lang=en", &[("key", "Survey!"), ("kind", ""), ("title_en", "Survey"), ("title_ko", "설문")]).await;
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains(r#"id="field-key-error""#) && html.contains(r#"id="field-kind-error""#), "messages next to the fields");
        let created = console.submit("/admin/forms?lang=en", &[("key", "survey"), ("kind", "signup"), ("title_en", "Survey"), ("title_ko", "설문")]).await;
        assert_eq!(created.status(), 303);
        assert_eq!(created.headers()["location"], "/admin/forms/survey?lang=en");
        assert_eq!(app.get("/f/survey").await.status(), 404, "a draft is not public");

        // The whole page is one form. A refused new field: nothing saved, everything typed shown again.
        let starter = [("required", "1")].into_iter().chain(field("email", "email", "Email address", "이메일 주소", &["service"])).collect::<Vec<_>>();
        let settings = [("kind", "signup"), ("title_en", "Survey"), ("title_ko", "설문"), ("purposes", "service"), ("purposes", "personalisation"), ("allowed_origins", "https://shop.example")];
        let renamed = [("kind", "signup"), ("title_en", "Survey (typed)"), ("title_ko", "설문"), ("purposes", "service")];
        let bad = save_draft(&console, "survey", &draft_page(&renamed, std::slice::from_ref(&starter), &field("Bad Key", "text", "", "이름", &[]), "add")).await;
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains(r#"aria-describedby="field-new-key-error""#) && html.contains(r#"id="field-new-label_en-error""#));
        assert!(html.contains(r#"value="Survey (typed)""#) && html.contains(r#"value="Bad Key""#), "what was typed is kept");
        assert!(html.contains(r#"data-unsaved="1""#) && html.contains("Unsaved changes"));
        assert!(!console.page("/admin/forms/survey?lang=en").await.contains("Survey (typed)"), "and nothing was saved");
        // A name that serves no purpose yet is added, with the settings typed beside it.
        let name = field("name", "text", "Your name", "이름", &[]);
        let added = save_draft(&console, "survey", &draft_page(&renamed, std::slice::from_ref(&starter), &name, "add")).await;
        assert_eq!(added.status(), 303);
        assert!(added.headers()["location"].to_str().unwrap().ends_with("done=saved#fields-title"));
        let builder = console.page("/admin/forms/survey?lang=en").await;
        assert!(builder.contains("<h1>Survey (typed)</h1>") && builder.contains(r#"name="f1-key" type="text" value="name""#), "both saved at once");
        let bad_origin = [("kind", "signup"), ("title_en", "Survey"), ("title_ko", "설문"), ("allowed_origins", "https://shop.example/page")];
        let refused = save_draft(&console, "survey", &draft_page(&bad_origin, &[starter.clone(), name.clone()], &[], "save")).await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains(r#"id="field-allowed_origins-error""#));
        assert_eq!(save_draft(&console, "survey", &draft_page(&settings, &[starter.clone(), name.clone()], &[], "save")).await.status(), 303);
        // A key used twice is refused on the later field.
        let twice = save_draft(&console, "survey", &draft_page(&settings, &[starter.clone(), field("email", "text", "Again", "다시", &["service"])], &[], "save")).await;
        assert_eq!(twice.status(), 422);
        assert!(twice.text().await.unwrap().contains(r#"id="field-f1-key-error""#));

        // Publishing a field without a purpose is refused with the reason, and nothing is published.
        let refused = save_draft(&console, "survey", &draft_page(&settings, &[starter.clone(), name.clone()], &[], "publish")).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("serves no purpose") && html.contains("name"), "the builder says why");
        assert!(form_versions(&app, "survey").is_empty());
        let korean = console.submit("/admin/forms/survey/publish?lang=ko", &[]).await;
        assert_eq!(korean.status(), 422);
        assert!(korean.text().await.unwrap().contains("‘name’ 항목에 이용 목적이 없습니다"), "and says it in Korean");

        // The preview beside the editor shows what is typed, unsaved.
        let name = field("name", "text", "Your name", "이름", &["personalisation"]);
        let typed = draft_page(&settings, &[starter.clone(), field("name", "text", "Your full name", "이름", &["personalisation"])], &[], "preview");
        let pairs: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let live = console.submit("/admin/forms/survey/preview?lang=en", &pairs).await;
        assert_eq!(live.status(), 200);
        assert!(live.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'self'"));
        assert!(live.text().await.unwrap().contains("Your full name"));
        assert!(!console.page("/admin/forms/survey?lang=en").await.contains("Your full name"), "a preview saves nothing");
        assert_eq!(save_draft(&console, "survey", &draft_page(&settings, &[starter.clone(), name.clone()], &[], "save")).await.status(), 303);
        let preview = console.get("/admin/forms/survey/preview?lang=en").await;
        assert_eq!(preview.status(), 200);
        assert!(preview.headers()["content-security-policy"].to_str().unwrap().contains("form-action 'none'"));
        let html = preview.text().await.unwrap();
        assert!(html.contains("It cannot be submitted") && html.contains("Your name") && html.contains("disabled"));

        let published = console.submit("/admin/forms/survey/publish?lang=en", &[]).await;
        assert_eq!(published.status(), 303);
        let location = published.headers()["location"].to_str().unwrap().to_owned();
        assert!(console.page(&location).await.contains("Published."));
        let v1 = form_versions(&app, "survey");
        assert_eq!(v1.len(), 1);
        let drafts: i64 = {
            use assent::db::schema::form_drafts;
            form_drafts::table.count().get_result(&mut app.conn()).unwrap()
        };
        assert_eq!(drafts, 0, "once published, the working copy is the published version");
        let public = app.get("/f/survey?lang=en").await;
        assert_eq!(public.status(), 200, "published at once, without waiting for a refresh");
        assert!(public.text().await.unwrap().contains("Your name"));
        let body = form_body(&[("email", &unique_email()), ("name", "Minji"), ("purpose", "service"), ("purpose", "personalisation")]);
        assert_eq!(app.post_form("/f/survey?lang=en", &body).await.status(), 303);
        assert_eq!(submission_versions(&app), [v1[0].1.clone()]);

        // A change: a new field, moved to the top, makes version 2; the submission keeps version 1.
        let company = field("company", "text", "Company", "회사", &["service"]);
        assert_eq!(save_draft(&console, "survey", &draft_page(&settings, &[starter.clone(), name.clone()], &company, "add")).await.status(), 303);
        let moved = save_draft(&console, "survey", &draft_page(&settings, &[starter.clone(), name.clone(), company.clone()], &[], "up:2")).await;
        assert_eq!(moved.status(), 303);
        assert!(moved.headers()["location"].to_str().unwrap().ends_with("#f1-title"), "back to the field that moved");
        let builder = console.page("/admin/forms/survey?lang=en").await;
        assert!(builder.find("Company").unwrap() < builder.find("Your name").unwrap(), "moved up");
        assert_unique_ids(&builder);
        assert_unique_ids(&console.page("/admin/forms/survey?lang=ko").await);
        assert!(builder.contains("Draft has unpublished changes"));
        assert_eq!(console.submit("/admin/forms/survey/publish?lang=en", &[]).await.status(), 303);
        let versions = form_versions(&app, "survey");
        assert_eq!(versions.iter().map(|v| v.0).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(submission_versions(&app), [v1[0].1.clone()], "the submission still points at version 1");
        assert!(app.get("/f/survey?lang=en").await.text().await.unwrap().contains("Company"));
        let again = console.submit("/admin/forms/survey/publish?lang=en", &[]).await;
        assert_eq!(again.status(), 303);
        assert_eq!(form_versions(&app, "survey").len(), 2, "publishing an unchanged draft publishes nothing");
        let published = audited(&app, "form_published");
        assert_eq!(published, [("owner".to_owned(), "survey v1".to_owned()), ("owner".to_owned(), "survey v2".to_owned())]);

        // Removing a field, and a viewer who may look but not publish.
        let order = [starter.clone(), company.clone(), name.clone()];
        assert_eq!(save_draft(&console, "survey", &draft_page(&settings, &order, &[], "remove:1")).await.status(), 303);
        assert!(!console.page("/admin/forms/survey?lang=en").await.contains("Company"));
        let viewer = app.signed_in(Role::Analyst).await;
        assert!(viewer.page("/admin/forms?lang=en").await.contains("survey"));
        assert_eq!(viewer.submit("/admin/forms/survey/publish?lang=en", &[]).await.status(), 403);
        assert_eq!(save_draft(&viewer, "survey", &draft_page(&settings, &order, &[], "publish")).await.status(), 403);
        assert_eq!(form_versions(&app, "survey").len(), 2);
    }

    async fn editing_a_purposes_wording_publishes_a_new_policy_version(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service")]);
        assert_eq!(app.post_form("/f/newsletter?lang=en", &body).await.status(), 303);
        let console = app.signed_in(Role::Owner).await;
        let html = console.page("/admin/purposes?lang=en").await;
        assert!(html.contains(r#"<span class="agreed" data-version="1">1</span>"#), "one person agreed to v1 of service");

        let edit = console.page("/admin/purposes/service?lang=en").await;
        assert!(edit.contains("field-text_en"));
        assert_unique_ids(&edit);
        let mut pairs = vec![
            ("title_en", "Providing the service"), ("title_ko", "서비스 제공"),
            ("text_en", "We use your address to run your account (new wording)."), ("text_ko", "계정 운영을 위해 주소를 이용합니다 (새 문구)."),
            ("legal_basis", "contract"), ("required", "1"), ("channel", "none"), ("retention", "forever"), ("renewal_window_days", "30"),
            ("refusal_en", "Without it we cannot run your account."),
        ];
        let bad = console.submit("/admin/purposes/service?lang=en", &pairs).await;
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains(r#"aria-describedby="field-retention-hint field-retention-error""#) && html.contains("Enter a period such as 2y"));
        assert_eq!(policy_versions(&app, "service"), [1], "a refused edit publishes nothing");
        pairs.retain(|(k, _)| *k != "retention");
        pairs.push(("retention", "3y"));
        let saved = console.submit("/admin/purposes/service?lang=en", &pairs).await;
        assert_eq!(saved.status(), 303);
        assert_eq!(policy_versions(&app, "service"), [1, 2]);
        assert_eq!(audited(&app, "purpose_changed"), [("owner".to_owned(), "service v2".to_owned())]);
        let html = console.page("/admin/purposes?lang=en&saved=new").await;
        assert!(html.contains("A new policy version was published"));
        assert!(html.contains(r#"<span class="agreed" data-version="1">1</span>"#) && html.contains(r#"<span class="agreed" data-version="2">0</span>"#));
        assert!(app.get("/f/newsletter?lang=en").await.text().await.unwrap().contains("(new wording)"), "the public form shows it at once");

        // A new purpose with a statutory preset.
        let created = console
            .submit("/admin/purposes?lang=en", &[("key", "orders"), ("title_en", "Orders"), ("title_ko", "주문"), ("text_en", "We keep order records."), ("text_ko", "주문 기록을 보관합니다."), ("legal_basis", "legal_obligation"), ("channel", "none"), ("retention", ""), ("retention_preset", "payment_records"), ("renewal_window_days", "0")])
            .await;
        assert_eq!(created.status(), 303);
        let html = console.page("/admin/purposes?lang=en").await;
        assert!(html.contains("orders") && html.contains("5 years"), "{html}");
        let taken = console
            .submit("/admin/purposes?lang=en", &[("key", "orders"), ("title_en", "O"), ("title_ko", "O"), ("text_en", "O"), ("text_ko", "O"), ("legal_basis", "consent"), ("channel", "none"), ("retention", "1y"), ("renewal_window_days", "30")])
            .await;
        assert_eq!(taken.status(), 422);
        assert!(taken.text().await.unwrap().contains("This key is already used."));
    }

    async fn console_edits_survive_a_restart_until_the_file_changes(app: TestApp) {
        use clap::Parser;
        let console = app.signed_in(Role::Owner).await;
        let pairs = [
            ("title_en", "News by email"), ("title_ko", "이메일 소식"), ("text_en", "Edited in the console."), ("text_ko", "콘솔에서 고쳤습니다."),
            ("legal_basis", "consent"), ("channel", "email"), ("retention", "2y"), ("renewal_window_days", "30"),
        ];
        assert_eq!(console.submit("/admin/purposes/marketing_email?lang=en", &pairs).await.status(), 303);
        let restart = |config: std::path::PathBuf| {
            let data = tempfile::tempdir().unwrap();
            let args = ["assent", "--database-url", &app.db.url, "--bind", "127.0.0.1:0", "--data-dir", data.path().to_str().unwrap(), "--config", config.to_str().unwrap(), "serve"];
            let mut settings = assent::config::Settings::resolve(assent::cli::Cli::try_parse_from(args).unwrap().settings);
            // The same master key: a server refuses a database whose stored keys it cannot open.
            settings.master_key = Some(app.master_key.clone());
            (settings, data)
        };
        let (settings, _data) = restart(workspace_file());
        let restarted = assent::startup::Application::build(settings).await.unwrap();
        let current = restarted.state().catalog.current();
        assert_eq!(current.purpose("marketing_email").unwrap().policy.text.get(Locale::EN, Locale::EN), "Edited in the console.", "the same file is not re-applied");
        assert_eq!(policy_versions(&app, "marketing_email"), [1, 2]);

        // A changed file is applied at the next start.
        let dir = tempfile::tempdir().unwrap();
        let changed = dir.path().join("assent.toml");
        let text = std::fs::read_to_string(workspace_file()).unwrap().replace("at most twice a month", "at most once a month");
        std::fs::write(&changed, text).unwrap();
        let (settings, _data) = restart(changed);
        let restarted = assent::startup::Application::build(settings).await.unwrap();
        assert!(restarted.state().catalog.current().purpose("marketing_email").unwrap().policy.text.get(Locale::EN, Locale::EN).contains("once a month"));
        assert_eq!(policy_versions(&app, "marketing_email"), [1, 2, 3]);
    }

    async fn the_console_refuses_a_required_purpose_resting_on_consent(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let mut pairs = vec![
            ("title_en", "News by email"), ("title_ko", "이메일 소식"), ("text_en", "Offers by email."), ("text_ko", "이메일 혜택."),
            ("legal_basis", "consent"), ("required", "1"), ("channel", "email"), ("retention", "2y"), ("renewal_window_days", "30"),
            ("refusal_en", "Without it we send you no news."),
        ];
        for (lang, says) in [("en", "Purpose \u{201c}marketing_email\u{201d} is required, so it cannot rest on consent"), ("ko", "‘marketing_email’ 목적은 필수이므로 동의를 근거로 할 수 없습니다")] {
            let bad = console.submit(&format!("/admin/purposes/marketing_email?lang={lang}"), &pairs).await;
            assert_eq!(bad.status(), 422);
            let html = bad.text().await.unwrap();
            assert!(html.contains(r#"<p class="error" id="field-legal_basis-error">"#) && html.contains(says), "{html}");
            assert!(html.contains(r#"aria-invalid="true" aria-describedby="field-legal_basis-error""#));
            assert_unique_ids(&html);
        }
        assert_eq!(policy_versions(&app, "marketing_email"), [1], "a refused edit publishes nothing");
        let created = console
            .submit("/admin/purposes?lang=en", &[("key", "terms"), ("title_en", "T"), ("title_ko", "T"), ("text_en", "T"), ("text_ko", "T"), ("legal_basis", "consent"), ("required", "1"), ("channel", "none"), ("retention", "1y"), ("renewal_window_days", "30")])
            .await;
        assert_eq!(created.status(), 422);
        assert!(created.text().await.unwrap().contains("Purpose \u{201c}terms\u{201d} is required"));
        assert!(policy_versions(&app, "terms").is_empty());

        // The same purpose on another basis is saved.
        pairs.retain(|(k, _)| *k != "legal_basis");
        pairs.push(("legal_basis", "contract"));
        assert_eq!(console.submit("/admin/purposes/marketing_email?lang=en", &pairs).await.status(), 303);
        assert_eq!(policy_versions(&app, "marketing_email"), [1, 2]);
    }
}
