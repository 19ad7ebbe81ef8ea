//! Site owners sign in to the console: passwords, growing delays, CSRF, roles, and the CLI.

use crate::admin_helpers::*;
use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;

fn count_where(app: &TestApp, table: &str, filter: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}"))
        .get_result::<N>(&mut app.conn())
        .unwrap()
        .n
}

fn count(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<N>(&mut app.conn()).unwrap().n
}

on_both_backends! {
    async fn an_owner_signs_in_and_out(app: TestApp) {
        let console = app.console();
        let response = console.get("/admin?lang=en").await;
        assert_eq!(response.status(), 303, "no session: to the sign-in page");
        assert_eq!(response.headers()["location"], "/admin/login?lang=en");

        let email = app.owner(Role::Owner);
        let response = console.sign_in(&email.to_uppercase(), PASSWORD).await;
        assert_eq!(response.status(), 303);
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("assent_admin="))
            .unwrap();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");

        let html = console.page("/admin?lang=en").await;
        for expected in ["Dashboard", "Purposes", "Forms", "Submissions", "Rights requests", "Audit log", "API keys", "Skip to content", &email] {
            assert!(html.contains(expected), "the console shows {expected}");
        }
        let korean = console.page("/admin?lang=ko").await;
        assert!(korean.contains("이용 목적") && korean.contains(r#"<html lang="ko">"#));

        let response = console.submit("/admin/logout?lang=en", &[]).await;
        assert_eq!(response.status(), 303);
        assert!(!console.has_session(), "the cookie is cleared");
        assert_eq!(console.get("/admin?lang=en").await.status(), 303, "signed out");
    }

    async fn a_wrong_password_and_an_unknown_address_get_the_same_answer(app: TestApp) {
        let email = app.owner(Role::Owner);
        let console = app.console();
        let wrong = console.sign_in(&email, "not the password at all").await;
        assert_eq!(wrong.status(), 401);
        let wrong = wrong.text().await.unwrap();
        let unknown = console.sign_in(&unique_email(), "not the password at all").await;
        assert_eq!(unknown.status(), 401);
        let unknown = unknown.text().await.unwrap();
        let message = "The email address or password is not right.";
        assert!(wrong.contains(message) && unknown.contains(message));
        assert!(wrong.contains(r#"aria-describedby="sign-in-error""#), "the fields point at the message");
        assert!(!console.has_session());
        let empty = console.sign_in("", "").await;
        assert_eq!(empty.status(), 422);
        let empty = empty.text().await.unwrap();
        assert!(empty.contains("Enter your email address.") && empty.contains(r##"href="#field-password""##));
    }

    async fn failures_in_a_row_make_the_next_attempt_wait_alike_for_known_and_unknown_addresses(app: TestApp) {
        let known = app.owner(Role::Owner);
        let unknown = unique_email();
        let mut answers = Vec::new();
        for email in [&known, &unknown] {
            let console = app.console();
            let mut statuses = Vec::new();
            for _ in 0..5 {
                statuses.push(console.sign_in(email, "wrong password number x").await);
            }
            let last = statuses.pop().unwrap();
            let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
            assert_eq!(codes, [401, 401, 401, 401], "three free failures, the fourth sets a wait");
            assert_eq!(last.status(), 429, "the fifth comes too soon");
            let wait: u64 = last.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=2).contains(&wait), "a second or two after the fourth failure: {wait}");
            assert!(last.text().await.unwrap().contains("Wait a minute, then try again."));
            let right = console.sign_in(email, PASSWORD).await.status().as_u16();
            assert_eq!(right, 429, "even the right password waits its turn");
            answers.push((codes, wait));
        }
        assert_eq!(answers[0], answers[1], "an unknown address is answered exactly as a known one");
        let failed = count_where(&app, "audit_log", "action = 'staff.sign_in_failed'");
        assert_eq!(failed, 8, "every failed attempt is audited, for unknown addresses too");

        // After the wait, the right password works and clears the run.
        let console = app.console();
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(console.sign_in(&known, PASSWORD).await.status(), 303);
        assert!(console.has_session());
        let again = app.console();
        assert_eq!(again.sign_in(&known, "wrong password number x").await.status(), 401, "the run starts afresh");
    }

    async fn a_post_without_the_right_csrf_token_changes_nothing(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let keys = count(&app, "api_keys");
        for pairs in [vec![("name", "crm")], vec![("name", "crm"), ("csrf", "forged")]] {
            let response = console.post("/admin/keys?lang=en", &pairs).await;
            assert_eq!(response.status(), 403);
            assert!(response.text().await.unwrap().contains("Reload it and try again"));
        }
        assert_eq!(count(&app, "api_keys"), keys, "no key was created");
        let response = console.post("/admin/logout?lang=en", &[("csrf", "forged")]).await;
        assert_eq!(response.status(), 403);
        assert_eq!(console.get("/admin?lang=en").await.status(), 200, "still signed in");

        // The sign-in form has its own token: a cross-site POST without it is refused.
        let email = app.owner(Role::Owner);
        let response = app.post_form("/admin/login", &form_body(&[("email", &email), ("password", PASSWORD)])).await;
        assert_eq!(response.status(), 403);
    }

    async fn an_analyst_sees_the_dashboard_and_changes_nothing(app: TestApp) {
        let viewer = app.signed_in(Role::Analyst).await;
        let dashboard = viewer.page("/admin?lang=en").await;
        assert!(dashboard.contains("analyst (dashboard only)"));
        assert!(!dashboard.contains("/admin/submissions?") && !dashboard.contains("/admin/keys?"), "no way in shown");
        let page = viewer.get("/admin/keys?lang=en").await;
        assert_eq!(page.status(), 403);
        assert!(page.text().await.unwrap().contains("Your role does not open this"));
        let keys = count(&app, "api_keys");
        let response = viewer.submit("/admin/keys?lang=en", &[("name", "crm")]).await;
        assert_eq!(response.status(), 403);
        assert_eq!(count(&app, "api_keys"), keys);

        let versions = count(&app, "policy_versions");
        let response = viewer
            .submit("/admin/purposes?lang=en", &[("key", "analytics"), ("title_en", "A"), ("title_ko", "가"), ("text_en", "B"), ("text_ko", "나"), ("legal_basis", "consent"), ("channel", "none"), ("retention", "1y"), ("renewal_window_days", "30")])
            .await;
        assert_eq!(response.status(), 403);
        assert_eq!(count(&app, "policy_versions"), versions);
        assert_eq!(viewer.get("/admin/purposes/new?lang=en").await.status(), 403);
        assert!(viewer.page("/admin/purposes?lang=en").await.contains("marketing_sms"), "a viewer reads the purposes");
    }

    async fn an_owner_creates_and_revokes_an_api_key(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let bad = console.submit("/admin/keys?lang=en", &[("name", "  ")]).await;
        assert_eq!(bad.status(), 422);
        assert!(bad.text().await.unwrap().contains(r#"aria-describedby="field-name-error""#));
        let created = console.submit("/admin/keys?lang=en", &[("name", "crm"), ("scope", "consents:read")]).await;
        assert_eq!(created.status(), 201);
        assert_eq!(created.headers()["cache-control"], "no-store");
        let html = created.text().await.unwrap();
        let start = html.find("value=\"assent_").expect("the key is shown once") + "value=\"".len();
        let secret = html[start..].split('"').next().unwrap().to_owned();
        let lookup = format!("/api/v1/consents?email={}", unique_email());
        let ok = app.client.get(app.url(&lookup)).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(ok.status(), 200, "the key works");
        let list = console.page("/admin/keys?lang=en").await;
        assert!(!list.contains(&secret), "the list never shows the secret again");
        let id: String = {
            use assent::db::schema::api_keys;
            use diesel::prelude::*;
            api_keys::table.select(api_keys::id).first(&mut app.conn()).unwrap()
        };
        let revoked = console.submit(&format!("/admin/keys/{id}/revoke?lang=en"), &[]).await;
        assert_eq!(revoked.status(), 303);
        assert!(console.page("/admin/keys?lang=en").await.contains("revoked"));
        let refused = app.client.get(app.url(&lookup)).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(refused.status(), 401, "a revoked key stops working");
    }

    async fn owner_create_reads_the_password_from_stdin(app: TestApp) {
        use std::io::Write;
        let run = |email: &str, password: &str, role: &str| {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_assent"))
                .args(["owner", "create", "--email", email, "--role", role])
                .env("ASSENT_DATABASE_URL", &app.db.url)
                .env("ASSENT_DATA_DIR", app.db.dir.path())
                .env("ASSENT_MASTER_KEY", &app.master_key)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        };
        let email = unique_email();
        let short = run(&email, "too short", "owner");
        assert!(!short.status.success());
        assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
        let made = run(&email, PASSWORD, "analyst");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        assert!(!String::from_utf8_lossy(&made.stdout).contains(&email), "the address is not echoed");
        let again = run(&email, PASSWORD, "owner");
        assert!(!again.status.success(), "one account per address");
        let console = app.console();
        assert_eq!(console.sign_in(&email, PASSWORD).await.status(), 303);
        assert!(console.page("/admin?lang=en").await.contains("analyst (dashboard only)"));
    }

    async fn sign_in_attempts_are_rate_limited_per_address(app: TestApp) {
        let console = app.console();
        let email = unique_email();
        for attempt in 1..=10 {
            // As if each guess waited out the delay the one before set: the per-server limit still counts.
            diesel::RunQueryDsl::execute(diesel::delete(assent::db::schema::sign_in_delays::table), &mut app.conn()).unwrap();
            assert_eq!(console.sign_in(&email, "guessing the password").await.status(), 401, "attempt {attempt}");
        }
        let limited = console.sign_in(&email, "guessing the password").await;
        assert_eq!(limited.status(), 429);
        assert!(limited.text().await.unwrap().contains("Too many sign-in attempts"));
        let korean = console.page("/admin/login?lang=ko").await;
        let csrf = csrf_in(&korean);
        let limited = console.post("/admin/login?lang=ko", &[("email", &email), ("password", "x"), ("csrf", &csrf)]).await;
        assert_eq!(limited.status(), 429);
        assert!(limited.text().await.unwrap().contains("로그인 시도가 너무 많습니다"));
    }

    async fn a_session_ends_after_thirty_idle_minutes_or_eight_hours(app: TestApp) {
        use assent::db::schema::owner_sessions;
        use diesel::prelude::*;
        let age = |minutes_idle: i64, minutes_old: i64| {
            let now = chrono::Utc::now().naive_utc();
            diesel::update(owner_sessions::table)
                .set((
                    owner_sessions::last_seen_at.eq(now - chrono::Duration::minutes(minutes_idle)),
                    owner_sessions::created_at.eq(now - chrono::Duration::minutes(minutes_old)),
                ))
                .execute(&mut app.conn())
                .unwrap();
        };
        let console = app.signed_in(Role::Owner).await;
        age(29, 60);
        assert_eq!(console.get("/admin?lang=en").await.status(), 200, "29 idle minutes: still signed in");
        age(31, 60);
        assert_eq!(console.get("/admin?lang=en").await.status(), 303, "31 idle minutes: signed out");

        let console = app.signed_in(Role::Owner).await;
        age(1, 8 * 60 + 1);
        assert_eq!(console.get("/admin?lang=en").await.status(), 303, "8 hours after sign-in: signed out");
        assert_eq!(console.post("/admin/logout?lang=en", &[("csrf", "x")]).await.status(), 403, "a POST without a session is refused");
    }
}

/// Behind https, the console's cookies are `Secure` too.
#[tokio::test]
async fn the_session_cookie_is_secure_behind_https() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.base_url = "https://assent.example".into()).await.unwrap();
    let email = app.owner(Role::Owner);
    let console = app.console();
    let response = console.sign_in(&email, PASSWORD).await;
    assert_eq!(response.status(), 303);
    let cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = cookies.iter().find(|c| c.starts_with("assent_admin=")).unwrap();
    assert!(session.contains("Secure") && session.contains("HttpOnly"), "{session}");
}
