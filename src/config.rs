//! Configuration, from the environment (or the matching command-line flags), with defaults that
//! make a fresh checkout work with no set-up at all.

use std::path::PathBuf;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The settings as given; see [`Settings`] for the resolved values.
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    /// Database: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://$ASSENT_DATA_DIR/assent.db]
    #[arg(long, env = "ASSENT_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(
        long,
        env = "ASSENT_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// The public URL of this server, used in links and receipts [default: http://$ASSENT_BIND]
    #[arg(long, env = "ASSENT_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Folder for the SQLite database, the development master key and the outbox.
    #[arg(long, env = "ASSENT_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// The workspace file applied at start (forms and purposes as code).
    #[arg(
        long,
        env = "ASSENT_CONFIG",
        default_value = "assent.toml",
        global = true
    )]
    pub config: PathBuf,
    /// Log format.
    #[arg(long, env = "ASSENT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Database connections in the read pool.
    #[arg(long, env = "ASSENT_DB_POOL", default_value_t = 8, global = true)]
    pub pool_size: u32,
    /// HTTP worker threads [default: one per core].
    #[arg(long, env = "ASSENT_WORKERS", global = true)]
    pub workers: Option<usize>,
}

/// Resolved settings. The master key is read from `ASSENT_MASTER_KEY` only (never a flag, which
/// would show in `ps`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub base_url: String,
    pub data_dir: PathBuf,
    pub config: PathBuf,
    pub master_key: Option<String>,
    pub log_format: LogFormat,
    pub pool_size: u32,
    pub workers: Option<usize>,
}

impl Settings {
    pub fn resolve(args: SettingsArgs) -> Self {
        let database_url = args
            .database_url
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("assent.db").display()));
        let base_url = args
            .base_url
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| format!("http://{}", args.bind))
            .trim_end_matches('/')
            .to_owned();
        Self {
            database_url,
            bind: args.bind,
            base_url,
            data_dir: args.data_dir,
            config: args.config,
            master_key: std::env::var("ASSENT_MASTER_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty()),
            log_format: args.log_format,
            pool_size: args.pool_size.max(1),
            workers: args.workers,
        }
    }

    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}
