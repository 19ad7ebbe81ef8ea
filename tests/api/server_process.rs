//! The real `assent serve` binary as a child process, for the stories that kill it, stop it or
//! start it on a restored database.

use crate::helpers::*;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// Where a server process keeps its data: a database URL, a data folder (outbox, log) and the
/// master key.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub master_key: String,
}

impl Deployment {
    /// A deployment over a fresh test database, with a random master key.
    pub fn on(db: &TestDb) -> Self {
        Self {
            database_url: db.url.clone(),
            data_dir: db.dir.path().to_path_buf(),
            master_key: hex::encode(uuid::Uuid::new_v4().as_bytes().repeat(2)),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_assent"));
        command
            .env("ASSENT_DATABASE_URL", &self.database_url)
            .env("ASSENT_DATA_DIR", &self.data_dir)
            .env("ASSENT_MASTER_KEY", &self.master_key)
            .env("ASSENT_CONFIG", workspace_file())
            .env("ASSENT_BASE_URL", "http://127.0.0.1")
            .env("ASSENT_LOG", "warn")
            .env("ASSENT_SUBMISSIONS_PER_MINUTE", "0");
        command
    }

    /// Runs an `assent` command against this deployment.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_env(args, &[])
    }

    /// Asserts that `assent ledger verify` passes.
    pub fn assert_ledger_intact(&self) {
        let out = self.cli(&["ledger", "verify"]);
        assert!(
            out.status.success(),
            "ledger verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Runs an `assent` command with extra environment (e.g. `ASSENT_MASTER_KEY_PREVIOUS`).
    pub fn cli_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command().args(args).envs(env.iter().copied()).output().expect("run assent")
    }

    /// Starts `assent serve` on a free port and waits until `/healthz` answers.
    pub async fn serve(&self) -> ServerProcess {
        self.serve_with_env(&[]).await
    }

    /// [`Deployment::serve`] with extra environment.
    pub async fn serve_with_env(&self, env: &[(&str, &str)]) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = self.data_dir.join(format!("serve-{port}.log"));
        let child = self
            .command()
            .arg("serve")
            .env("ASSENT_BIND", format!("127.0.0.1:{port}"))
            .env("ASSENT_WORKERS", "2")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start assent serve");
        let server = ServerProcess { child: Some(child), address: format!("http://127.0.0.1:{port}"), log };
        server.wait_until_healthy().await;
        server
    }
}

/// A running `assent serve`; killed when dropped.
pub struct ServerProcess {
    child: Option<Child>,
    pub address: String,
    log: PathBuf,
}

impl ServerProcess {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        // Generous: a loaded machine may take a while to start and migrate.
        for _ in 0..600 {
            if let Ok(r) = client.get(self.url("/healthz")).timeout(Duration::from_secs(5)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("assent serve did not become healthy; log:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// SIGTERM, then waits (up to two minutes) for the process to exit by itself.
    pub async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        for _ in 0..1200 {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        panic!("assent serve did not exit after SIGTERM; log:\n{}", self.log_text());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A subject's rows, counted table by table.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct SubjectRows {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub subject_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub submissions: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub field_values: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub events: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub states: i64,
}

/// Every subject with the number of its rows in each table (one SQL query, both backends).
pub fn rows_per_subject(conn: &mut assent::db::DbConnection) -> Vec<SubjectRows> {
    use diesel::RunQueryDsl;
    diesel::sql_query(
        "SELECT s.id AS subject_id, \
           (SELECT COUNT(*) FROM submissions x WHERE x.subject_id = s.id) AS submissions, \
           (SELECT COUNT(*) FROM field_values f WHERE f.subject_id = s.id) AS field_values, \
           (SELECT COUNT(*) FROM consent_events e WHERE e.subject_id = s.id) AS events, \
           (SELECT COUNT(*) FROM consent_state c WHERE c.subject_id = s.id) AS states \
         FROM subjects s",
    )
    .load(conn)
    .unwrap()
}

/// Rows whose subject does not exist, across the tables that point at subjects.
pub fn orphan_rows(conn: &mut assent::db::DbConnection) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count: Count = diesel::sql_query(
        "SELECT \
           (SELECT COUNT(*) FROM submissions x WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = x.subject_id)) + \
           (SELECT COUNT(*) FROM field_values f WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = f.subject_id)) + \
           (SELECT COUNT(*) FROM consent_events e WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = e.subject_id)) + \
           (SELECT COUNT(*) FROM consent_state c WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = c.subject_id)) AS n",
    )
    .get_result(conn)
    .unwrap();
    count.n
}
