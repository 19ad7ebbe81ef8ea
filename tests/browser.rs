#![allow(clippy::unwrap_used)]
//! The browser tests (`tests/browser/`, Debian `chromium` driven by `playwright-core`, axe-core
//! scans) as one test of `cargo nextest run`: starts the real `assent` binary on a fresh SQLite
//! folder and a free port, creates a site owner, and runs `node tests/browser/run.mjs` against it
//! with two more free ports for the customer's shop (an allowed origin) and a stranger's site.
//!
//! Needs `/usr/bin/chromium` (`apt-get install -y chromium chromium-driver`) and
//! `tests/browser/node_modules` (`npm ci --prefix tests/browser`); `.ci/run` installs both.
//! `ASSENT_SKIP_BROWSER=1` skips it (saying so); otherwise missing pieces fail it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OWNER_EMAIL: &str = "owner@shop.example";
const OWNER_PASSWORD: &str = "correct horse battery staple";
/// How long the whole browser suite may take before it is killed.
const NODE_TIMEOUT: Duration = Duration::from_secs(300);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("ASSENT_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What is missing to run the browser tests, with how to install it.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !chromium().exists() {
        missing.push(format!(
            "{} is missing: install Debian's Chromium with `apt-get install -y chromium chromium-driver` \
             (nothing downloads a browser of its own; .ci/run does this)",
            chromium().display()
        ));
    }
    if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        missing.push("`node` (20 or newer) is not on PATH: `apt-get install -y nodejs npm`".into());
    }
    if Command::new("java").arg("-version").output().map(|o| !o.status.success()).unwrap_or(true) {
        missing.push(
            "`java` is not on PATH (the W3C Nu HTML checker runs on it): `apt-get install -y default-jre-headless`"
                .into(),
        );
    }
    for package in ["playwright-core", "axe-core", "vnu-jar"] {
        if !browser_dir().join("node_modules").join(package).join("package.json").exists() {
            missing.push(format!(
                "tests/browser/node_modules/{package} is missing: run `npm ci --prefix tests/browser` \
                 (installs the exact versions in tests/browser/package-lock.json; .ci/run does this)"
            ));
        }
    }
    missing
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `assent` binary with this test's database, key and workspace file.
struct Assent {
    dir: tempfile::TempDir,
    /// `None`: SQLite in `dir`.
    database_url: Option<String>,
    master_key: String,
    workspace: PathBuf,
    base_url: String,
    port: u16,
}

impl Assent {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_assent"));
        command
            .args(args)
            .env("ASSENT_DATA_DIR", self.dir.path())
            .env(
                "ASSENT_DATABASE_URL",
                self.database_url
                    .clone()
                    .unwrap_or_else(|| format!("sqlite://{}", self.dir.path().join("assent.db").display())),
            )
            .env("ASSENT_MASTER_KEY", &self.master_key)
            .env("ASSENT_CONFIG", &self.workspace)
            .env("ASSENT_BIND", format!("127.0.0.1:{}", self.port))
            .env("ASSENT_BASE_URL", &self.base_url)
            .env("ASSENT_WORKERS", "2")
            .env_remove("ASSENT_SMTP_URL");
        command
    }

    fn run(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run assent");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "assent {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn browser_suite() {
    run_suite(None, None);
}

/// The team's story (invited, second factor, disabled) again on PostgreSQL, when it is configured
/// (CI always configures it): the rest of the suite is about pages, which do not depend on it.
#[test]
fn browser_team_story_on_postgres() {
    let Ok(admin) = std::env::var("ASSENT_TEST_DATABASE_URL") else {
        assert!(std::env::var("CI").is_err(), "CI must set ASSENT_TEST_DATABASE_URL");
        println!("SKIPPED: ASSENT_TEST_DATABASE_URL is not set");
        return;
    };
    use diesel::{Connection, RunQueryDsl};
    assent::db::postgres_client_init();
    let name = format!("assent_browser_{}", uuid::Uuid::new_v4().simple());
    let mut conn = diesel::PgConnection::establish(&admin).expect("connect to ASSENT_TEST_DATABASE_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create a database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).expect("a database URL with a database name");
    let outcome = std::panic::catch_unwind(|| run_suite(Some(format!("{base}/{name}")), Some("invites an analyst")));
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `run.mjs` (only the tests whose names match `only`, if given) against a new server on
/// `database_url` (a new SQLite file if `None`).
fn run_suite(database_url: Option<String>, only: Option<&str>) {
    if std::env::var("ASSENT_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        println!("SKIPPED: the browser tests (ASSENT_SKIP_BROWSER=1)");
        return;
    }
    let missing = missing_prerequisites();
    assert!(
        missing.is_empty(),
        "the browser tests cannot run (set ASSENT_SKIP_BROWSER=1 to skip them on purpose):\n  - {}",
        missing.join("\n  - ")
    );

    let port = free_port();
    let assent = Assent {
        master_key: hex::encode(uuid::Uuid::new_v4().as_bytes().repeat(2)),
        dir: tempfile::tempdir().unwrap(),
        database_url,
        workspace: Path::new(env!("CARGO_MANIFEST_DIR")).join("assent.toml"),
        base_url: format!("http://127.0.0.1:{port}"),
        port,
    };

    // The first owner, as the README says: the password on standard input. The owner then builds,
    // in the browser, the form that the shop (a server of run.mjs's own) embeds.
    assent.run(&["owner", "create", "--email", OWNER_EMAIL], &format!("{OWNER_PASSWORD}\n"));

    let log_path = assent.dir.path().join("serve.log");
    let mut child = assent
        .command(&["serve"])
        .env("ASSENT_LOG", "info,actix_server=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start assent serve");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Open the demo form: ") {
                let _ = ready_tx.send(());
            }
        }
    });
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(ready_rx.recv_timeout(Duration::from_secs(60)).is_ok(), "assent serve did not start:\n{}", server_log());

    let started = Instant::now();
    // node's output goes straight to this test's output (nextest shows it with the result).
    let mut args = vec!["--test-reporter=spec".to_owned(), "--test-force-exit".to_owned()];
    args.extend(only.map(|pattern| format!("--test-name-pattern={pattern}")));
    args.push("run.mjs".to_owned());
    let mut node = Command::new("node")
        .args(&args)
        .current_dir(browser_dir())
        .env("ASSENT_URL", &assent.base_url)
        .env("ASSENT_DATA_DIR", assent.dir.path())
        .env("ASSENT_OWNER_EMAIL", OWNER_EMAIL)
        .env("ASSENT_OWNER_PASSWORD", OWNER_PASSWORD)
        .env("ASSENT_CHROMIUM", chromium())
        .stdin(Stdio::null())
        .spawn()
        .expect("run node");
    // A hung browser must not hang the run: the suite takes well under a minute on two cores.
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > NODE_TIMEOUT {
            let _ = node.kill();
            let _ = node.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("browser suite took {:.1}s", started.elapsed().as_secs_f64());
    drop(server);
    let Some(status) = status else {
        panic!("the browser tests did not finish within {NODE_TIMEOUT:?}: killed; server log:\n{}", server_log());
    };
    assert!(status.success(), "the browser tests failed ({status}); server log:\n{}", server_log());
}
