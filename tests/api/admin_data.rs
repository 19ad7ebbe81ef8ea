//! The console's data pages: submissions (filters, exact e-mail search, an audited detail view),
//! streamed CSV exports (owners only), rights requests with deadlines, the dashboard's charts,
//! the audit log and the embedding snippets.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

/// A signed-in console session.
struct Console {
    email: String,
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Console {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.unwrap()
    }

    async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }
}

fn cookie_named(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

/// Creates an account with `role` (through the service layer) and signs it in at /admin/login.
async fn console(app: &TestApp, role: Role) -> Console {
    let email = unique_email();
    assent::services::owners::create(&mut app.conn(), &email, PASSWORD, role).expect("owner created");
    let page = app.get("/admin/login?lang=en").await;
    let login_cookie = cookie_named(&page, "assent_admin_login");
    let html = page.text().await.unwrap();
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_owned();
    let response = app
        .client
        .post(app.url("/admin/login?lang=en"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", login_cookie)
        .body(form_body(&[("email", &email), ("password", PASSWORD), ("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signed in");
    Console {
        email,
        client: app.client.clone(),
        base: app.address.clone(),
        cookie: cookie_named(&response, "assent_admin"),
    }
}

async fn submit(app: &TestApp, form: &str, fields: serde_json::Value, purposes: &[&str]) -> serde_json::Value {
    let response = app
        .post_json_as_integrator(
            &format!("/api/v1/forms/{form}/submissions"),
            &json!({ "fields": fields, "purposes": purposes }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, Option<String>, String)> {
    use assent::db::schema::audit_log;
    use diesel::prelude::*;
    audit_log::table
        .filter(audit_log::action.eq(action))
        .select((audit_log::actor_kind, audit_log::subject_id, audit_log::detail))
        .load(&mut app.conn())
        .unwrap()
}

on_both_backends! {
    async fn the_submissions_list_filters_and_finds_an_exact_address(app: TestApp) {
        let (sms, contact, plain) = (unique_email(), unique_email(), unique_email());
        let a = submit(&app, "newsletter", json!({ "email": sms, "phone": "010-1234-5678" }), &["service", "marketing_sms"]).await;
        let b = submit(&app, "contact", json!({ "email": contact, "name": "Lee", "message": "Hello" }), &["service"]).await;
        let c = submit(&app, "newsletter", json!({ "email": plain }), &["service"]).await;
        let id = |v: &serde_json::Value| v["subject_id"].as_str().unwrap().to_owned();
        let owner = console(&app, Role::Owner).await;

        let all = owner.page("/admin/submissions?lang=en").await;
        assert!([&a, &b, &c].iter().all(|s| all.contains(&id(s))));
        assert!(!all.contains(&sms), "the list shows no personal data");

        let html = owner.page("/admin/submissions?lang=en&form=contact").await;
        assert!(html.contains(&id(&b)) && !html.contains(&id(&a)) && !html.contains(&id(&c)));

        // The newsletter uses double opt-in: SMS consent waits for the confirmation mail.
        let html = owner.page("/admin/submissions?lang=en&purpose=marketing_sms&state=pending").await;
        assert!(html.contains(&id(&a)) && !html.contains(&id(&b)) && !html.contains(&id(&c)), "{html}");

        let query = form_body(&[("email", &plain.to_uppercase())]);
        let html = owner.page(&format!("/admin/submissions?lang=en&{query}")).await;
        assert!(html.contains(&id(&c)) && !html.contains(&id(&a)), "exact address, normalised");

        let query = form_body(&[("email", &unique_email())]);
        assert!(owner.page(&format!("/admin/submissions?lang=en&{query}")).await.contains("No submissions match."));

        let html = owner.page("/admin/submissions?lang=en&from=yesterday").await;
        assert!(html.contains("were not understood"), "a bad date is said, not a 500");
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let html = owner.page(&format!("/admin/submissions?lang=en&from={today}&until={today}")).await;
        assert!(html.contains(&id(&a)));
    }

    async fn opening_a_submission_shows_its_values_and_is_audited(app: TestApp) {
        let email = unique_email();
        let sent = submit(&app, "newsletter", json!({ "email": email, "phone": "010-9876-5432" }), &["service", "marketing_sms"]).await;
        let viewer = console(&app, Role::PrivacyOfficer).await;
        let html = viewer.page(&format!("/admin/submissions/{}?lang=en", sent["submission_id"].as_str().unwrap())).await;
        assert!(html.contains("010-9876-5432") && html.contains(&email), "decrypted for staff");
        assert!(html.contains("recorded in the audit log"));
        let rows = audit_rows(&app, "view_submission");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "owner");
        assert_eq!(rows[0].1.as_deref(), sent["subject_id"].as_str(), "the read names the person");
        assert!(!rows[0].2.contains(&email), "no address in the audit detail");

        let audit = viewer.page(&format!("/admin/audit?lang=en&subject={}", sent["subject_id"].as_str().unwrap())).await;
        assert!(audit.contains("<td>Submission viewed</td>"), "the action in words");
        assert!(audit.contains(&format!("<td>Staff {}</td>", viewer.email)), "staff are named by their address");
        let korean = viewer.page(&format!("/admin/audit?lang=ko&action=view_submission&subject={}", sent["subject_id"].as_str().unwrap())).await;
        assert!(korean.contains("<td>제출 내용 열람</td>") && korean.contains(r#"<option value="view_submission" selected>제출 내용 열람</option>"#));
        let audit = viewer.page("/admin/audit?lang=en&actor=job").await;
        assert!(!audit.contains("<td>Submission viewed</td>"));

        assert_eq!(viewer.get("/admin/submissions/no-such-id?lang=en").await.status(), 404);
    }

    async fn the_csv_exports_hold_decrypted_values_and_defuse_formulas(app: TestApp) {
        let email = unique_email();
        submit(&app, "newsletter", json!({ "email": email, "name": "=HYPERLINK(\"http://x\")", "phone": "+82 10 1234 5678" }),
            &["service", "marketing_sms", "personalisation"]).await;
        let owner = console(&app, Role::Owner).await;
        let response = owner.get("/admin/submissions.csv?form=newsletter").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(response.headers()["content-disposition"].to_str().unwrap().contains("submissions.csv"));
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(&header[..6], ["submitted_at", "submission_id", "form", "form_version", "subject_id", "email"]);
        assert!(header.contains(&"field:phone".to_owned()) && header.contains(&"consent:marketing_sms".to_owned()));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        let col = |name: &str| rows[0].get(header.iter().position(|h| h == name).unwrap()).unwrap().to_owned();
        assert_eq!(col("email"), email);
        assert_eq!(col("field:name"), "'=HYPERLINK(\"http://x\")", "formula defused");
        assert_eq!(col("field:phone"), "'+82 10 1234 5678");
        assert_eq!(col("consent:personalisation"), "granted");
        assert_eq!(col("consent:marketing_sms"), "pending", "double opt-in: awaiting confirmation");
        assert_eq!(col("consent:marketing_email"), "never");
        let rows = audit_rows(&app, "export_submissions");
        assert_eq!(rows.len(), 1);
        assert!(rows[0].2.contains("form=newsletter"), "{}", rows[0].2);

        let text = owner.get("/admin/consents.csv").await.text().await.unwrap();
        assert!(text.starts_with("subject_id,email,purpose,status,policy_version,granted_at,expires_at,since"));
        assert!(text.contains(&format!("{email},personalisation,granted,1,")), "{text}");
        assert_eq!(audit_rows(&app, "export_consents").len(), 1);
    }

    async fn an_analyst_reads_no_personal_data_and_exports_none(app: TestApp) {
        let viewer = console(&app, Role::Analyst).await;
        for path in ["/admin/submissions", "/admin/submissions.csv", "/admin/consents.csv", "/admin/deidentified.csv"] {
            let response = viewer.get(&format!("{path}?lang=en")).await;
            assert_eq!(response.status(), 403, "{path}");
            assert!(response.text().await.unwrap().contains("Your role does not open this"));
        }
        assert!(audit_rows(&app, "export_submissions").is_empty());
        let anonymous = app.get("/admin/submissions.csv").await;
        assert_eq!(anonymous.status(), 303, "signed out: to the sign-in page");
    }

    async fn the_rights_page_shows_deadlines_and_marks_overdue_requests(app: TestApp) {
        use assent::db::rights::{RightsRequest, insert_requests};
        let now = chrono::Utc::now().naive_utc();
        let request = |kind: &str, days_ago: i64, done: bool| RightsRequest {
            id: uuid::Uuid::new_v4().to_string(),
            subject_id: uuid::Uuid::new_v4().to_string(),
            kind: kind.into(),
            channel: "preference_center".into(),
            detail: String::new(),
            received_at: now - chrono::Duration::days(days_ago),
            due_at: (now - chrono::Duration::days(days_ago)).checked_add_months(chrono::Months::new(1)).unwrap(),
            completed_at: done.then_some(now),
            state: if done { "completed" } else { "in_progress" }.into(),
            self_service: false,
            regime: "gdpr".into(),
            assignee: None,
            note: None,
            reason: None,
            updated_at: None,
            reminded_at: None,
        };
        let late = request("erasure", 40, false);
        let fresh = request("access", 1, true);
        insert_requests(&mut app.conn(), &[late.clone(), fresh.clone()]).unwrap();
        let owner = console(&app, Role::Owner).await;
        let html = owner.page("/admin/rights?lang=en&state=all").await;
        assert!(html.contains("GDPR: one month, extendable by two"), "the regime is named");
        let deadline = late.due_at.format("%Y-%m-%d %H:%M").to_string();
        assert!(html.contains(&deadline), "GDPR deadline {deadline}");
        assert_eq!(html.matches("⚠ Overdue").count(), 1, "overdue in words, not colour alone");
        assert!(html.contains("deletion of your data") && html.contains("access to your data") && html.contains("In progress"));
        let open = owner.page("/admin/rights?lang=en").await;
        let link = |id: &str| format!("/admin/rights/{id}?lang=en");
        assert!(open.contains(&link(&late.id)) && !open.contains(&link(&fresh.id)), "open requests by default");
        let overdue = owner.page("/admin/rights?lang=en&due=overdue").await;
        assert_eq!(overdue.matches("⚠ Overdue").count(), 1);
    }

    async fn the_dashboard_draws_its_numbers_as_svg(app: TestApp) {
        submit(&app, "newsletter", json!({ "email": unique_email() }), &["service"]).await;
        let owner = console(&app, Role::Owner).await;
        let html = owner.page("/admin?lang=en").await;
        assert_eq!(html.matches("<svg xmlns").count(), 3);
        assert!(html.contains(r#"role="img""#) && html.contains(r#"aria-label="Submissions per day, last 30 days""#));
        // 30 days + (given, withdrawn) for 4 purposes + 12 weeks.
        assert_eq!(html.matches(r#"<rect class="bar""#).count(), 30 + 8 + 12);
        assert!(html.contains(r#"<div class="visually-hidden"><table>"#));
        assert!(html.contains(r#"<tr><th scope="row">Providing the service</th><td>1</td><td>0</td></tr>"#), "one consent given today, by the purpose's title");
        let ko = owner.page("/admin?lang=ko").await;
        assert!(ko.contains("최근 30일 일별 제출 수"));
        assert!(ko.contains(r#"<th scope="row">서비스 제공</th>"#), "in the console's language");
        let listed = owner.page("/admin/submissions?lang=en").await;
        assert!(listed.contains("Providing the service: ") && !listed.contains("<li>service: "), "the list names purposes by title");
    }

    async fn the_embed_page_shows_the_four_snippets(app: TestApp) {
        let owner = console(&app, Role::Editor).await;
        let html = owner.page("/admin/forms/newsletter/embed?lang=en").await;
        assert!(!html.contains("<iframe src="), "snippets are shown as text, escaped");
        let shown = html.replace("&#60;", "<").replace("&#62;", ">").replace("&#34;", "\"").replace("&#39;", "'").replace("&#38;", "&");
        assert!(shown.contains(r#"<iframe src="http://127.0.0.1/f/newsletter?lang=en" data-assent-form"#), "{shown}");
        assert!(shown.contains(r#"<script src="http://127.0.0.1/embed.js" async></script>"#));
        assert!(shown.contains(r#"<form method="post" action="http://127.0.0.1/f/newsletter?lang=en""#));
        assert!(shown.contains(r#"fetch("http://127.0.0.1/api/v1/forms/newsletter/submissions""#));
        assert!(shown.contains("curl -sS 'http://127.0.0.1/api/v1/forms/newsletter/submissions'"));
        assert_eq!(html.matches("<pre class=\"snippet\"").count(), 4);
        assert!(html.contains("No origin is allowed yet"), "the demo form allows no origin: said plainly");
        assert_eq!(owner.get("/admin/forms/nope/embed?lang=en").await.status(), 404);
    }

    async fn a_large_export_streams_complete(app: TestApp) {
        // 2 500 submissions come out whole: the export pages through them 1 000 at a time.
        use futures_util::StreamExt;
        let bodies: Vec<serde_json::Value> =
            (0..2500).map(|_| json!({ "fields": { "email": unique_email() }, "purposes": ["service"] })).collect();
        futures_util::stream::iter(bodies)
            .for_each_concurrent(32, |body| {
                let app = &app;
                async move {
                    let response = app.post_json("/api/v1/forms/newsletter/submissions", &body).await;
                    assert_eq!(response.status(), 201);
                }
            })
            .await;
        let owner = console(&app, Role::Owner).await;
        let text = owner.page("/admin/submissions.csv").await;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let ids: std::collections::HashSet<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
        assert_eq!(ids.len(), 2500, "every submission once");
    }
}

/// `ASSENT_RIGHTS_DEADLINE=pipa`: ten days, so a request answered on day 12 was late.
mod under_pipa_the_deadline_is_ten_days {
    use super::*;

    async fn story(app: TestApp) {
        use assent::db::rights::{RightsRequest, insert_requests};
        let now = chrono::Utc::now().naive_utc();
        let received = now - chrono::Duration::days(12);
        let request = RightsRequest {
            id: uuid::Uuid::new_v4().to_string(),
            subject_id: uuid::Uuid::new_v4().to_string(),
            kind: "rectification".into(),
            channel: "api".into(),
            detail: String::new(),
            received_at: received,
            due_at: received + chrono::Duration::days(10),
            completed_at: Some(now),
            state: "completed".into(),
            self_service: false,
            regime: "pipa".into(),
            assignee: None,
            note: None,
            reason: None,
            updated_at: None,
            reminded_at: None,
        };
        insert_requests(&mut app.conn(), &[request]).unwrap();
        let owner = console(&app, Role::Owner).await;
        let html = owner.page("/admin/rights?lang=ko&state=all").await;
        assert!(html.contains("개인정보 보호법: 10일"), "the regime is named");
        let deadline = (received + chrono::Duration::days(10)).format("%Y-%m-%d %H:%M").to_string();
        assert!(html.contains(&deadline), "PIPA deadline {deadline}");
        assert!(html.contains("⚠ 기한 초과"), "answered after the deadline");
    }

    fn pipa(settings: &mut assent::config::Settings) {
        settings.rights_deadline = assent::domain::rights::Deadline::Pipa;
    }

    #[tokio::test]
    async fn sqlite() {
        story(TestApp::spawn_with(Backend::Sqlite, pipa).await.unwrap()).await
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(app) = TestApp::spawn_with(Backend::Postgres, pipa).await {
            story(app).await
        }
    }
}
