//! The test harness: a real server on a random port over a real database (a fresh SQLite file,
//! or a fresh PostgreSQL database when `ASSENT_TEST_DATABASE_URL` is set), driven through HTTP.

use assent::config::{LogFormat, Settings};
use assent::crypto::Keyring;
use assent::db::{DbConnection, DbUrl};
use assent::startup::Application;
use diesel::prelude::*;
use std::path::PathBuf;
use std::process::Output;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed story once per backend: `story::sqlite` and `story::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[allow(unused_imports)]
                use $crate::helpers::*;

                async fn story($app: TestApp) $body

                #[tokio::test]
                async fn sqlite() {
                    story(TestApp::spawn(Backend::Sqlite).await).await
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(app) = TestApp::spawn_if_available(Backend::Postgres).await {
                        story(app).await
                    }
                }
            }
        )*
    };
}

/// A database of its own for one test, dropped afterwards.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// `None` (with a note) when PostgreSQL is not configured; CI always configures it, so there
    /// a missing URL is a failure, not a skip.
    pub fn create(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("assent.db").display());
                Some(Self { backend, url, dir, pg: None })
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var("ASSENT_TEST_DATABASE_URL") else {
                    assert!(std::env::var("CI").is_err(), "CI must set ASSENT_TEST_DATABASE_URL");
                    eprintln!("ASSENT_TEST_DATABASE_URL is not set: PostgreSQL variant not run");
                    return None;
                };
                let name = format!("assent_test_{}", uuid::Uuid::new_v4().simple());
                assent::db::postgres_client_init();
                let mut conn = diesel::PgConnection::establish(&admin).expect("connect to ASSENT_TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).expect("database URL with a database name");
                let url = format!("{base}/{name}");
                Some(Self { backend, url, dir, pg: Some((admin, name)) })
            }
        }
    }

    pub fn connect(&self) -> DbConnection {
        DbUrl::parse(&self.url).unwrap().connect().expect("connect to test database")
    }

    /// The SQLite file (and its write-ahead log) as raw bytes.
    pub fn sqlite_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in ["assent.db", "assent.db-wal"] {
            if let Ok(b) = std::fs::read(self.dir.path().join(name)) {
                bytes.extend(b);
            }
        }
        bytes
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = diesel::PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
        }
    }
}

pub fn workspace_file() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assent.toml"))
}

/// The settings every test server runs with (each story adjusts what it needs).
fn test_settings(db: &TestDb, master_key: &str) -> Settings {
    Settings {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        base_url: "http://127.0.0.1".into(),
        data_dir: db.dir.path().to_path_buf(),
        config: workspace_file(),
        master_key: Some(master_key.to_owned()),
        master_key_previous: None,
        log_format: LogFormat::Text,
        pool_size: 4,
        workers: Some(2),
        smtp_url: None,
        mail_from: "Assent <no-reply@assent.test>".into(),
        retention_interval: std::time::Duration::from_secs(3600),
        retention_batch: 500,
        marketing_notice_interval: assent::domain::Retention::months(24),
        access_retention: assent::domain::Retention::months(24),
        rights_deadline: assent::domain::rights::Deadline::Gdpr,
        time_zone: assent::domain::import::Zone::default(),
        shutdown_timeout: std::time::Duration::from_secs(30),
        body_timeout: std::time::Duration::from_secs(30),
        password_hashes: 2,
        // Stories send many submissions from one address; the limit has its own story.
        submissions_per_minute: 0,
        trusted_proxies: Vec::new(),
        witness_url: None,
        mail_file_retention: std::time::Duration::from_secs(7 * 86_400),
        erasure_journal: db.dir.path().join("erasures.jsonl"),
        require_2fa: false,
        webhook_allow_private: false,
        webhook_retry_speedup: 1,
        webhook_delivery: true,
        min_free_space_mib: 1,
        mail_dkim_at_relay: false,
        dkim: None,
        backup_max_age: std::time::Duration::from_secs(26 * 3600),
    }
}

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub client: reqwest::Client,
    pub master_key: String,
    pub keyring: Keyring,
    /// The running application's state, for stories that call its services directly.
    pub state: assent::web::AppState,
    /// An API key made on first use by [`TestApp::post_json_as_integrator`].
    integrator_key: std::sync::OnceLock<String>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_if_available(backend).await.expect("backend available")
    }

    pub async fn spawn_if_available(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with adjusted settings (e.g. an SMTP server).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        Some(Self::spawn_on(TestDb::create(backend)?, adjust).await)
    }

    /// Spawns on a database made beforehand (e.g. one an older release left).
    pub async fn spawn_on(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> Self {
        let master_key = hex::encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
        Self::spawn_with_key(db, &master_key, adjust).await
    }

    /// A server on `db` whose master key is `master_key` (a database made elsewhere).
    pub async fn spawn_with_key(db: TestDb, master_key: &str, adjust: impl FnOnce(&mut Settings)) -> Self {
        // Server logs go to the test's captured output (shown when a story fails).
        assent::telemetry::init(LogFormat::Text);
        let master_key = master_key.to_owned();
        let mut settings = test_settings(&db, &master_key);
        adjust(&mut settings);
        let app = Application::build(settings).await.expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let client = http_client().build().unwrap();
        let keyring = Keyring::load(Some(&master_key), db.dir.path()).unwrap();
        Self { address, db, client, master_key, keyring, state, integrator_key: std::sync::OnceLock::new() }
    }

    /// Starts a second server on this one's database and master key (as a second process of
    /// a deployment would be) and returns its address.
    pub async fn another_server(&self) -> String {
        self.another_server_with(|_| {}).await
    }

    /// [`Self::another_server`] with adjusted settings.
    pub async fn another_server_with(&self, adjust: impl FnOnce(&mut Settings)) -> String {
        let mut settings = test_settings(&self.db, &self.master_key);
        adjust(&mut settings);
        let app = Application::build(settings).await.expect("second server builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.expect("POST")
    }

    /// POSTs JSON as an integrator would: with an API key, which vouches for the person and gets
    /// their subject id back.
    pub async fn post_json_as_integrator(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let key = self.integrator_key();
        self.client.post(self.url(path)).bearer_auth(key).json(body).send().await.expect("POST")
    }

    /// The integrator's API key, made on first use.
    pub fn integrator_key(&self) -> &str {
        self.integrator_key.get_or_init(|| self.api_key())
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.client.post(self.url(path)).header("content-type", content_type).body(body).send().await.expect("POST")
    }

    pub fn conn(&self) -> DbConnection {
        self.db.connect()
    }

    /// Rows in every table that holds personal data or consent.
    pub fn row_counts(&self) -> [i64; 5] {
        use assent::db::schema::*;
        let mut c = self.conn();
        [
            subjects::table.count().get_result(&mut c).unwrap(),
            submissions::table.count().get_result(&mut c).unwrap(),
            field_values::table.count().get_result(&mut c).unwrap(),
            consent_events::table.count().get_result(&mut c).unwrap(),
            consent_state::table.count().get_result(&mut c).unwrap(),
        ]
    }

    /// Runs the `assent` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with(args, &[])
    }

    /// [`TestApp::cli`] with more environment variables.
    pub fn cli_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_assent"))
            .args(args)
            .envs(env.iter().copied())
            .env("ASSENT_DATABASE_URL", &self.db.url)
            .env("ASSENT_DATA_DIR", self.db.dir.path())
            .env("ASSENT_MASTER_KEY", &self.master_key)
            .env("ASSENT_CONFIG", workspace_file())
            .env("ASSENT_BASE_URL", "http://127.0.0.1")
            .output()
            .expect("run assent")
    }

    /// Creates an API key through the CLI and returns it.
    /// Lets `origin` embed and post the newsletter form (`assent apply` of the demo file so
    /// edited), and waits until this server serves it.
    pub async fn allow_origin(&self, origin: &str) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let edited = original.replacen("allowed_origins = []", &format!("allowed_origins = [\"{origin}\"]"), 1);
        let path = self.db.dir.path().join("allowed.toml");
        std::fs::write(&path, edited).unwrap();
        let out = self.cli(&["apply", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        eventually("the server picks up the allowed origin", || async {
            let response = self.get("/f/newsletter").await;
            response.headers()["content-security-policy"].to_str().unwrap().contains(origin)
        })
        .await;
    }

    /// Applies the demo workspace file as `edit` changes it (which must change it), through the
    /// CLI, and waits until the server serves what `served` looks for on `page`.
    pub async fn apply_demo_edited(&self, edit: impl FnOnce(&str) -> String, page: &str, served: &str) {
        let original = std::fs::read_to_string(workspace_file()).unwrap();
        let edited = edit(&original);
        assert_ne!(edited, original, "the edit changes the file");
        let path = self.db.dir.path().join(format!("edited-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&path, edited).unwrap();
        let out = self.cli(&["apply", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        eventually("the server serves the edited workspace", || async {
            self.get(page).await.text().await.unwrap().contains(served)
        })
        .await;
    }

    /// The consent check's answer for an address, with an API key.
    pub async fn consents_of(&self, key: &str, email: &str) -> serde_json::Value {
        let url = self.url(&format!("/api/v1/consents?email={}", email.replace('+', "%2B")));
        self.client.get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
    }

    pub fn api_key(&self) -> String {
        let out = self.cli(&["key", "create", "--name", "crm"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Decrypts every stored value of `field` for the subject with this address.
    pub fn stored_values(&self, email: &str, field: &str) -> Vec<String> {
        use assent::db::schema::field_values;
        let mut c = self.conn();
        let email = assent::domain::Email::parse(email).unwrap();
        let Some(subject) = assent::db::subjects::find_by_index(&mut c, &self.keyring.email_index(&email)).unwrap()
        else {
            return Vec::new();
        };
        let key = self.keyring.unwrap_data_key(subject.wrapped_key.as_ref().unwrap(), &subject.id).unwrap();
        let sealed: Vec<(String, Vec<u8>)> = field_values::table
            .filter(field_values::subject_id.eq(&subject.id))
            .filter(field_values::field_key.eq(field))
            .order(field_values::created_at.asc())
            .select((field_values::id, field_values::ciphertext))
            .load(&mut c)
            .unwrap();
        sealed
            .iter()
            .map(|(value_id, s)| {
                let bound = assent::crypto::Bound::Value { subject: &subject.id, value_id, field };
                key.open_text(s, bound).unwrap()
            })
            .collect()
    }
}

impl TestApp {
    /// Reads a ledger event's sealed evidence with its subject's key.
    pub fn open_evidence(&self, event: &assent::db::ledger::ConsentEvent) -> assent::domain::Evidence {
        let mut c = self.conn();
        let subject = assent::db::subjects::find(&mut c, &event.subject_id).unwrap().unwrap();
        let key = self.keyring.unwrap_data_key(subject.wrapped_key.as_ref().unwrap(), &subject.id).unwrap();
        assent::crypto::open_evidence(Some(&key), &subject.id, &event.evidence).expect("evidence opens")
    }
}

/// Percent-encodes a form body from pairs.
/// Waits until `condition` holds, asking again every 5 ms for up to 10 s; fails with `what`
/// if it never does. For what another thread or server does in its own time (a notification
/// arriving, a connection coming back), never for how fast something is.
pub async fn eventually<F, Fut>(what: &str, condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(what, std::time::Duration::from_secs(10), condition).await
}

/// [`eventually`] with a deadline of its own, for what the system promises to do within a bound
/// ("within seconds"): a deadline, not a measurement.
pub async fn eventually_within<F, Fut>(what: &str, within: std::time::Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The tests' HTTP client: no redirects followed, and an idle connection dropped before the
/// server's keep-alive (actix's 5 s) can close it under a request (hyper's IncompleteMessage).
/// One purpose's entry in a consent check's answer.
pub fn consent_in<'a>(answer: &'a serde_json::Value, purpose: &str) -> &'a serde_json::Value {
    answer["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == purpose).unwrap()
}

/// One purpose's status in a consent check's answer.
pub fn status_in(answer: &serde_json::Value, purpose: &str) -> String {
    consent_in(answer, purpose)["status"].as_str().unwrap().to_owned()
}

pub fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(2))
}

pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A unique address per test, so stories never collide.
pub fn unique_email() -> String {
    format!("kim.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

pub async fn problem(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "errors are RFC 9457 problems"
    );
    response.json().await.unwrap()
}

/// A mail as a test reads it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Mail {
    pub fn parse(raw: &[u8]) -> Self {
        let message = mail_parser::MessageParser::default().parse(raw).expect("a parsable mail");
        Self {
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            raw: String::from_utf8_lossy(raw).into_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        message.header_raw(name).map(|v| v.trim().to_owned())
    }

    /// The paths and queries of every link to `path` in the text part.
    pub fn links(&self, path: &str) -> Vec<String> {
        let prefix = format!("http://127.0.0.1{path}");
        self.text
            .match_indices(&prefix)
            .map(|(i, _)| self.text[i..].chars().take_while(|c| !c.is_whitespace()).collect::<String>())
            .map(|url| url.trim_start_matches("http://127.0.0.1").to_owned())
            .collect()
    }

    /// The path and query of the first link to `path` in the text part.
    pub fn link(&self, path: &str) -> String {
        let start = self
            .text
            .find(&format!("http://127.0.0.1{path}"))
            .unwrap_or_else(|| panic!("no {path} link in {}", self.text));
        let url: String = self.text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
        url.trim_start_matches("http://127.0.0.1").to_owned()
    }
}

/// Waits (up to 15 s) for the `n`th mail to `to` whose subject contains `subject`, in `dir`.
pub async fn wait_for_mail_in(dir: &std::path::Path, to: &str, subject: &str) -> Mail {
    for _ in 0..150 {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut mails: Vec<(std::time::SystemTime, Mail)> = entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .filter_map(|e| {
                    let raw = std::fs::read(e.path()).ok()?;
                    let modified = e.metadata().ok()?.modified().ok()?;
                    Some((modified, Mail::parse(&raw)))
                })
                .filter(|(_, m)| m.raw.contains(to) && m.subject.contains(subject))
                .collect();
            mails.sort_by_key(|(t, _)| *t);
            if let Some((_, mail)) = mails.pop() {
                return mail;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail to {to} about {subject:?} in {}", dir.display());
}

impl TestApp {
    pub fn outbox_dir(&self) -> std::path::PathBuf {
        self.db.dir.path().join("outbox")
    }

    pub async fn wait_for_mail(&self, to: &str, subject: &str) -> Mail {
        wait_for_mail_in(&self.outbox_dir(), to, subject).await
    }

    /// Whether a mail to `to` about `subject` is in the outbox now (after the mail loop had a
    /// moment to deliver what was queued before this call).
    pub async fn mail_after_a_moment(&self, to: &str, subject: &str) -> Option<Mail> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let entries = std::fs::read_dir(self.outbox_dir()).ok()?;
        entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read(e.path()).ok())
            .map(|raw| Mail::parse(&raw))
            .find(|m| m.raw.contains(to) && m.subject.contains(subject))
    }

    /// Mails (files) to `to` so far.
    pub fn mails_to(&self, to: &str) -> usize {
        std::fs::read_dir(self.outbox_dir())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|raw| raw.contains(to)))
                    .count()
            })
            .unwrap_or(0)
    }

    /// A client that keeps cookies, like a browser.
    pub fn browser(&self) -> Browser {
        Browser { app_url: self.address.clone(), cookie: std::sync::Mutex::new(None), client: self.client.clone() }
    }

    /// Signs `email` in through the mailed link; returns the browser holding the session.
    pub async fn sign_in(&self, email: &str) -> Browser {
        let browser = self.browser();
        let response = browser.post("/me?lang=en", &form_body(&[("email", email)])).await;
        assert_eq!(response.status(), 200);
        let mail = self.wait_for_mail(email, "Your link to manage your data").await;
        let link = mail.link("/me/login");
        let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let response = browser.post("/me/login?lang=en", &form_body(&[("token", &token)])).await;
        assert_eq!(response.status(), 303, "the link signs in");
        browser
    }
}

/// A minimal cookie-keeping client for the preference center.
pub struct Browser {
    app_url: String,
    cookie: std::sync::Mutex<Option<String>>,
    client: reqwest::Client,
}

impl Browser {
    fn remember(&self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            if let Some(pair) = value.split(';').next() {
                let expired = value.contains("Max-Age=0");
                *self.cookie.lock().unwrap() = (!expired).then(|| pair.to_owned());
            }
        }
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.session_cookie() {
            Some(c) => request.header("cookie", c),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let response = self.with_cookie(self.client.get(format!("{}{path}", self.app_url))).send().await.unwrap();
        self.remember(&response);
        response
    }

    pub async fn post(&self, path: &str, body: &str) -> reqwest::Response {
        let request = self
            .client
            .post(format!("{}{path}", self.app_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        let response = self.with_cookie(request).send().await.unwrap();
        self.remember(&response);
        response
    }

    /// The CSRF token of the signed-in page.
    pub async fn csrf(&self) -> String {
        let html = self.get("/me?lang=en").await.text().await.unwrap();
        let marker = r#"name="_csrf" value=""#;
        let start = html.find(marker).expect("a CSRF field") + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    }
}

/// Every row of every table, as text.
pub fn postgres_dump(conn: &mut assent::db::DbConnection) -> Vec<u8> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut out = Vec::new();
    for table in [
        "purposes",
        "policy_versions",
        "forms",
        "form_versions",
        "subjects",
        "submissions",
        "field_values",
        "consent_events",
        "ledger_head",
        "consent_state",
        "api_keys",
    ] {
        // bytea columns come out as hex (`\x…`): the caller searches for hex too.
        let lines: Vec<Line> = diesel::sql_query(format!("SELECT t::text AS line FROM {table} t")).load(conn).unwrap();
        for l in lines {
            out.extend(l.line.into_bytes());
            out.push(b'\n');
        }
    }
    out
}
