//! Configuration, from the environment (or the matching command-line flags), with defaults that
//! make a fresh checkout work with no set-up at all.

use std::path::PathBuf;

mod redacted;
pub use redacted::redact_url;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The settings as given; see [`Settings`] for the resolved values.
#[derive(Clone, clap::Args)]
pub struct SettingsArgs {
    /// Database: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://$ASSENT_DATA_DIR/assent.db]
    #[arg(long, env = "ASSENT_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "ASSENT_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// The public URL of this server, used in links and receipts [default: http://$ASSENT_BIND]
    #[arg(long, env = "ASSENT_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Folder for the SQLite database, the development master key and the outbox.
    #[arg(long, env = "ASSENT_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// The workspace file applied at start (forms and purposes as code).
    #[arg(long, env = "ASSENT_CONFIG", default_value = "assent.toml", global = true)]
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
    /// How often `serve` runs retention: seconds, or with a unit (`90s`, `30m`, `1h`).
    #[arg(long, env = "ASSENT_RETENTION_INTERVAL", default_value = "1h", value_parser = parse_interval, global = true)]
    pub retention_interval: std::time::Duration,
    /// Consents handled per retention transaction.
    #[arg(long, env = "ASSENT_RETENTION_BATCH", default_value_t = 5000, global = true)]
    pub retention_batch: i64,
    /// How often marketing consents are re-confirmed by notice (정보통신망법: every 2 years).
    #[arg(long, env = "ASSENT_MARKETING_NOTICE_INTERVAL", default_value = "2y", value_parser = parse_retention, global = true)]
    pub marketing_notice_interval: crate::domain::Retention,
    /// How long access records (개인정보의 안전성 확보조치 기준 art. 8) are kept before retention
    /// prunes them: at least two years (`2y`, `3y`, `30m`, …).
    #[arg(long, env = "ASSENT_ACCESS_RETENTION", default_value = "2y", value_parser = parse_access_retention, global = true)]
    pub access_retention: crate::domain::Retention,
    /// The workspace's time zone (`Asia/Seoul`, `Asia/Tokyo`, `UTC` or an offset such as
    /// `+09:00`): when night-time advertising rules apply (the consent check's `may_send_now`).
    #[arg(long, env = "ASSENT_TIME_ZONE", default_value = "Asia/Seoul", value_parser = crate::domain::import::Zone::parse, global = true)]
    pub time_zone: crate::domain::import::Zone,
    /// The default deadline regime of rights requests (each records its own): `gdpr` (one month,
    /// extendable by two), `pipa` (ten days) or `ccpa` (45 days, extendable by 45).
    #[arg(long, env = "ASSENT_RIGHTS_DEADLINE", default_value = "gdpr", value_parser = parse_deadline, global = true)]
    pub rights_deadline: crate::domain::rights::Deadline,
    /// How long `serve` waits, on SIGTERM or Ctrl-C, for requests in flight to finish (`30s`, `2m`).
    #[arg(long, env = "ASSENT_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = parse_interval, global = true)]
    pub shutdown_timeout: std::time::Duration,

    /// How long a client may take to send a request body; past it the answer is 408 and the
    /// connection is closed (a slow body does not hold its connection as long as it likes).
    #[arg(long, env = "ASSENT_BODY_TIMEOUT", default_value = "30s", value_parser = parse_interval, global = true)]
    pub body_timeout: std::time::Duration,

    /// How many password hashes (argon2: slow and memory-hungry on purpose) run at once; a
    /// sign-in past it is answered 503 at once rather than queued. Default: the number of cores.
    #[arg(long, env = "ASSENT_PASSWORD_HASHES", global = true)]
    pub password_hashes: Option<usize>,
    /// Form submissions (HTML and JSON) accepted per client IP per minute; 0 turns the limit off.
    #[arg(long, env = "ASSENT_SUBMISSIONS_PER_MINUTE", default_value_t = 120, global = true)]
    pub submissions_per_minute: u32,
    /// Reverse proxies (comma-separated IP addresses) whose `X-Forwarded-For` names the client;
    /// requests from anyone else are attributed to their own address.
    #[arg(long, env = "ASSENT_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A witness that receives every signed tree head by POST (JSON, as
    /// `/.well-known/assent/tree-head` answers), besides the witness file in the data folder.
    #[arg(long, env = "ASSENT_WITNESS_URL", global = true)]
    pub witness_url: Option<String>,
    /// The sender of Assent's mails.
    #[arg(long, env = "ASSENT_MAIL_FROM", default_value = "Assent <no-reply@assent.invalid>", global = true)]
    pub mail_from: String,
    /// Without SMTP: how long delivered `.eml` files are kept under the data folder (`7d`, `12h`).
    #[arg(long, env = "ASSENT_MAIL_FILE_RETENTION", default_value = "7d", value_parser = parse_interval, global = true)]
    pub mail_file_retention: std::time::Duration,
    /// The erasure journal, kept outside the database [default: $ASSENT_DATA_DIR/erasures.jsonl]
    #[arg(long, env = "ASSENT_ERASURE_JOURNAL", global = true)]
    pub erasure_journal: Option<PathBuf>,
    /// Every console account must use a second factor (`1`): one without sets it up at sign-in.
    #[arg(long, env = "ASSENT_REQUIRE_2FA", default_value_t = false, action = clap::ArgAction::Set, value_parser = parse_flag, global = true)]
    pub require_2fa: bool,
    /// Deliver webhooks to private, loopback and link-local addresses too (`1`; tests, intranets).
    #[arg(long, env = "ASSENT_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, value_parser = parse_flag, global = true)]
    pub webhook_allow_private: bool,
    /// Divides every wait between webhook attempts (tests only).
    #[arg(long, env = "ASSENT_WEBHOOK_RETRY_SPEEDUP", default_value_t = 1, hide = true, global = true)]
    pub webhook_retry_speedup: u32,
    /// The free space (MiB) the data folder must have for `/readyz` to answer ready.
    #[arg(long, env = "ASSENT_MIN_FREE_SPACE", default_value_t = 256, global = true)]
    pub min_free_space_mib: u64,
    /// The mail relay signs Assent's mail with DKIM (`1`): `assent doctor` stops warning of it.
    #[arg(long, env = "ASSENT_MAIL_DKIM_AT_RELAY", default_value_t = false, action = clap::ArgAction::Set, value_parser = parse_flag, global = true)]
    pub mail_dkim_at_relay: bool,
    /// A private key Assent signs its mail with (DKIM): RSA in PKCS#1 PEM or an Ed25519 seed in
    /// base64. Read and checked at start-up.
    #[arg(long, env = "ASSENT_DKIM_KEY_FILE", value_parser = crate::mail::dkim::DkimKey::from_file, global = true)]
    pub dkim_key_file: Option<crate::mail::dkim::DkimKey>,
    /// The DKIM selector: the key is published at `<selector>._domainkey.<domain>`.
    #[arg(long, env = "ASSENT_DKIM_SELECTOR", default_value = "assent", global = true)]
    pub dkim_selector: String,
    /// The domain mail is signed for (the From address's by default).
    #[arg(long, env = "ASSENT_DKIM_DOMAIN", global = true)]
    pub dkim_domain: Option<String>,
    /// The oldest the last `assent backup` may be before `assent doctor` reports it (`26h`, `7d`…).
    #[arg(long, env = "ASSENT_BACKUP_MAX_AGE", default_value = "26h", value_parser = parse_interval, global = true)]
    pub backup_max_age: std::time::Duration,
    /// Whether this process delivers webhooks (`0`: another process does, or none should be sent).
    #[arg(long, env = "ASSENT_WEBHOOK_DELIVERY", default_value_t = true, action = clap::ArgAction::Set, value_parser = parse_flag, global = true)]
    pub webhook_delivery: bool,
}

fn parse_flag(raw: &str) -> Result<bool, String> {
    match raw.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        other => Err(format!("expected 1 or 0, not {other:?}")),
    }
}

/// Resolved settings. The master key is read from `ASSENT_MASTER_KEY` only (never a flag, which
/// would show in `ps`).
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub base_url: String,
    pub data_dir: PathBuf,
    pub config: PathBuf,
    pub master_key: Option<String>,
    /// `ASSENT_MASTER_KEY_PREVIOUS`: during a master key rotation, the key being replaced.
    pub master_key_previous: Option<String>,
    pub log_format: LogFormat,
    pub pool_size: u32,
    pub workers: Option<usize>,
    /// SMTP server (`smtp://…`, `smtps://…`); `None` writes `.eml` files under the data folder.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub retention_interval: std::time::Duration,
    pub retention_batch: i64,
    pub marketing_notice_interval: crate::domain::Retention,
    /// How long access records are kept (two years at least).
    pub access_retention: crate::domain::Retention,
    /// How long a controller has to answer a rights request (shown in the console).
    pub rights_deadline: crate::domain::rights::Deadline,
    /// The workspace's time zone (night-time advertising).
    pub time_zone: crate::domain::import::Zone,
    /// How long a stopping server lets requests in flight finish.
    pub shutdown_timeout: std::time::Duration,
    /// `ASSENT_BODY_TIMEOUT`: how long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// `ASSENT_PASSWORD_HASHES`: password hashes running at once, at most.
    pub password_hashes: usize,
    /// Submissions per client IP per minute (0: no limit).
    pub submissions_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A remote witness for signed tree heads (`services::remote_witness`).
    pub witness_url: Option<String>,
    /// How long the file mailer keeps delivered `.eml` files.
    pub mail_file_retention: std::time::Duration,
    /// Where every erasure is journaled, outside the database.
    pub erasure_journal: PathBuf,
    /// `ASSENT_REQUIRE_2FA`: a second factor for every console account.
    pub require_2fa: bool,
    /// `ASSENT_WEBHOOK_ALLOW_PRIVATE`.
    pub webhook_allow_private: bool,
    pub webhook_retry_speedup: u32,
    /// `ASSENT_WEBHOOK_DELIVERY`.
    pub webhook_delivery: bool,
    /// `ASSENT_MIN_FREE_SPACE`, in MiB.
    pub min_free_space_mib: u64,
    /// `ASSENT_MAIL_DKIM_AT_RELAY`.
    pub mail_dkim_at_relay: bool,
    /// `ASSENT_DKIM_KEY_FILE` (with its selector and domain): Assent signs its mail itself.
    pub dkim: Option<crate::mail::dkim::Dkim>,
    /// `ASSENT_BACKUP_MAX_AGE`.
    pub backup_max_age: std::time::Duration,
}

impl Settings {
    pub fn resolve(args: SettingsArgs) -> Self {
        let dkim = dkim_of(&args);
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
        let erasure_journal = args
            .erasure_journal
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| args.data_dir.join("erasures.jsonl"));
        Self {
            database_url,
            bind: args.bind,
            base_url,
            data_dir: args.data_dir,
            config: args.config,
            master_key: std::env::var("ASSENT_MASTER_KEY").ok().filter(|k| !k.trim().is_empty()),
            master_key_previous: std::env::var("ASSENT_MASTER_KEY_PREVIOUS").ok().filter(|k| !k.trim().is_empty()),
            log_format: args.log_format,
            pool_size: args.pool_size.max(1),
            workers: args.workers,
            // Env only, like the master key: the URL may carry a password.
            smtp_url: std::env::var("ASSENT_SMTP_URL").ok().filter(|u| !u.trim().is_empty()),
            mail_from: args.mail_from,
            retention_interval: args.retention_interval,
            retention_batch: args.retention_batch.clamp(1, 100_000),
            marketing_notice_interval: args.marketing_notice_interval,
            access_retention: args.access_retention,
            rights_deadline: args.rights_deadline,
            time_zone: args.time_zone,
            shutdown_timeout: args.shutdown_timeout,
            body_timeout: args.body_timeout,
            password_hashes: args
                .password_hashes
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
                .clamp(1, 64),
            submissions_per_minute: args.submissions_per_minute,
            trusted_proxies: args.trusted_proxies,
            witness_url: args.witness_url.filter(|u| !u.trim().is_empty()),
            require_2fa: args.require_2fa,
            webhook_allow_private: args.webhook_allow_private,
            webhook_delivery: args.webhook_delivery,
            mail_dkim_at_relay: args.mail_dkim_at_relay,
            dkim,
            backup_max_age: args.backup_max_age,
            min_free_space_mib: args.min_free_space_mib,
            webhook_retry_speedup: args.webhook_retry_speedup.max(1),
            mail_file_retention: args.mail_file_retention,
            erasure_journal,
        }
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy, in which case the
    /// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: Option<std::net::IpAddr>, forwarded_for: Option<&str>) -> Option<std::net::IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = forwarded_for.unwrap_or_default().split(',').rev();
        let client = forwarded
            .filter_map(|hop| hop.trim().parse::<std::net::IpAddr>().ok())
            .find(|ip| !self.trusted_proxies.contains(ip));
        Some(client.unwrap_or(peer))
    }

    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The retention job as configured, over an open database.
    pub fn retention_job(
        &self,
        db: crate::db::Db,
        keyring: std::sync::Arc<crate::crypto::Keyring>,
        catalog: std::sync::Arc<crate::db::catalog::Catalog>,
    ) -> crate::jobs::retention::RetentionJob {
        crate::jobs::retention::RetentionJob {
            db,
            keyring,
            mail: self.mail_context().for_business(catalog.controller.as_ref()),
            catalog,
            notice_interval: self.marketing_notice_interval,
            batch: self.retention_batch,
        }
    }

    /// The master keys (current, and previous during a rotation): `crypto::MasterKeys::load`.
    pub fn master_keys(&self) -> Result<crate::crypto::MasterKeys, crate::crypto::MasterKeyError> {
        crate::crypto::MasterKeys::load(self.master_key.as_deref(), self.master_key_previous.as_deref(), &self.data_dir)
    }

    /// The erasure journal (`ASSENT_ERASURE_JOURNAL`).
    pub fn erasure_journal(&self) -> crate::services::erasure_journal::ErasureJournal {
        crate::services::erasure_journal::ErasureJournal::at(&self.erasure_journal)
    }

    /// What the writer does after a commit that erased people: journal them, and without SMTP
    /// remove the mail files delivered to them.
    pub fn erasure_hook(&self) -> crate::db::ErasureHook {
        let files = if self.smtp_url.is_none() {
            crate::mail::files::MailFiles::in_data_dir(&self.data_dir).ok()
        } else {
            None
        };
        crate::services::erasure_journal::hook(self.erasure_journal(), files)
    }

    /// Opens the database with the erasure hook (every process that may erase people).
    pub fn open_db(&self, pool_size: u32) -> Result<crate::db::Db, crate::db::DbError> {
        let url = crate::db::DbUrl::parse(&self.database_url)?;
        crate::db::Db::open_with(url, pool_size, self.rights_deadline, Some(self.erasure_hook()))
    }

    pub fn mail_context(&self) -> crate::mail::MailContext {
        let business = crate::mail::MailContext::business_of(&self.mail_from);
        crate::mail::MailContext {
            base_url: self.base_url.clone(),
            from: self.mail_from.clone(),
            business,
            dkim: self.dkim.clone(),
        }
    }
}

/// The DKIM signer, when a key is configured: for `ASSENT_DKIM_DOMAIN`, else the From domain.
fn dkim_of(args: &SettingsArgs) -> Option<crate::mail::dkim::Dkim> {
    let key = args.dkim_key_file.as_ref()?;
    let from = args.mail_from.parse::<lettre::message::Mailbox>().ok();
    let domain = args.dkim_domain.clone().or_else(|| from.map(|m| m.email.domain().to_owned()))?;
    crate::mail::dkim::Dkim::new(&args.dkim_selector, &domain, key)
}

fn parse_access_retention(raw: &str) -> Result<crate::domain::Retention, String> {
    let period = parse_retention(raw)?;
    let now = chrono::Utc::now();
    if period.before(now) > crate::services::access::MIN_RETENTION.before(now) {
        return Err(format!("access records are kept at least two years (2y); {raw} is shorter"));
    }
    Ok(period)
}

fn parse_deadline(raw: &str) -> Result<crate::domain::rights::Deadline, String> {
    crate::domain::rights::Deadline::parse(raw)
        .ok_or_else(|| format!("unknown deadline regime {raw}: use gdpr, pipa or ccpa"))
}

fn parse_retention(raw: &str) -> Result<crate::domain::Retention, String> {
    crate::domain::Retention::parse(raw).map_err(|e| e.to_string())
}

/// `3600`, `90s`, `30m`, `1h`, `1d`.
pub fn parse_interval(raw: &str) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: u64 = digits.parse().map_err(|_| format!("not an interval: {raw}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit in {raw}: use s, m, h or d")),
    };
    if secs == 0 {
        return Err("the interval must be positive".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::{Settings, SettingsArgs, parse_access_retention, parse_interval};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: SettingsArgs,
    }

    fn settings(args: &[&str]) -> Settings {
        Settings::resolve(Cli::parse_from(std::iter::once("assent").chain(args.iter().copied())).settings)
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let ip = |s: &str| Some(s.parse().unwrap());
        let direct = settings(&[]);
        assert_eq!(
            direct.client_ip(ip("203.0.113.9"), Some("198.51.100.7")),
            ip("203.0.113.9"),
            "forged header ignored"
        );
        let proxied = settings(&["--trusted-proxies", "10.0.0.1,10.0.0.2"]);
        assert_eq!(proxied.client_ip(ip("10.0.0.1"), Some("198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(
            proxied.client_ip(ip("10.0.0.1"), Some("6.6.6.6, 198.51.100.7, 10.0.0.2")),
            ip("198.51.100.7"),
            "the right-most hop not a proxy; what the client itself wrote to the left is not believed"
        );
        assert_eq!(proxied.client_ip(ip("10.0.0.1"), Some("garbage")), ip("10.0.0.1"));
        assert_eq!(proxied.client_ip(ip("10.0.0.1"), None), ip("10.0.0.1"));
        assert_eq!(proxied.client_ip(None, Some("198.51.100.7")), None);
    }

    #[test]
    fn intervals_take_units() {
        assert_eq!(parse_interval("90").unwrap().as_secs(), 90);
        assert_eq!(parse_interval("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_interval("1h").unwrap().as_secs(), 3600);
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("1w").is_err());
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn access_records_are_kept_at_least_two_years() {
        assert_eq!(parse_access_retention("2y"), Ok(crate::domain::Retention::months(24)));
        assert_eq!(parse_access_retention("30m"), Ok(crate::domain::Retention::months(30)));
        assert!(parse_access_retention("1y").unwrap_err().contains("at least two years"));
        assert!(parse_access_retention("700d").is_err());
        assert_eq!(settings(&[]).access_retention, crate::domain::Retention::months(24));
    }
}
