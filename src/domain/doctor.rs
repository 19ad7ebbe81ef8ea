//! The security check's rules (`assent doctor`): what was found about an instance goes in, the
//! findings come out, each with a stable code and a severity. Pure: `services::doctor` gathers
//! the [`Facts`] (settings, the database, the data folder) and says the findings in words.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// How much a finding matters. A failure makes `assent doctor` exit with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Failure,
}

impl Severity {
    pub const ALL: [Severity; 2] = [Self::Warning, Self::Failure];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Failure => "failure",
        }
    }
}

/// Declares [`Code`] with each finding's wire string and severity written once.
macro_rules! finding_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident;)*) => {
        /// A stable, snake_case finding code; serialises to exactly its string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Code {
            $($(#[$doc])* #[serde(rename = $code)] $variant,)*
        }

        impl Code {
            /// Every code, in the order they are reported.
            pub const ALL: &'static [Code] = &[$(Self::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            pub const fn severity(self) -> Severity {
                match self {
                    $(Self::$variant => Severity::$severity,)*
                }
            }
        }
    };
}

finding_codes! {
    /// The master key comes from the development file in the data folder, beside the data it
    /// protects, instead of the environment.
    MasterKeyInFile = "master_key_in_file", Failure;
    /// Links in mails and receipts point at plain http.
    BaseUrlNotHttps = "base_url_not_https", Failure;
    /// Mail goes to the SMTP server unencrypted.
    SmtpWithoutTls = "smtp_without_tls", Failure;
    /// Mail is not delivered at all: it is written to files in the data folder.
    MailToFiles = "mail_to_files", Warning;
    /// Nothing says the mail is DKIM-signed (Assent does not sign; the relay must).
    MailNotDkimSigned = "mail_not_dkim_signed", Warning;
    /// `assent backup` has never been recorded (SQLite).
    BackupMissing = "backup_missing", Failure;
    /// The last recorded backup is older than the allowed age.
    BackupOld = "backup_old", Failure;
    /// A signing key in use is older than a year.
    SigningKeyOld = "signing_key_old", Warning;
    /// An API key that works has not been used for 90 days.
    ApiKeyUnused = "api_key_unused", Warning;
    /// An API key works until revoked: it has no expiry.
    ApiKeyWithoutExpiry = "api_key_without_expiry", Warning;
    /// The last retention run failed.
    RetentionFailed = "retention_failed", Failure;
    /// No retention run succeeded within two of its intervals.
    RetentionOverdue = "retention_overdue", Failure;
    /// Mails given up after every retry, waiting for an operator.
    MailParked = "mail_parked", Failure;
    /// Mails due for more than an hour and not yet sent.
    MailBacklog = "mail_backlog", Warning;
    /// The ledger has not been verified in the last day.
    LedgerNotVerified = "ledger_not_verified", Warning;
    /// The last ledger verification found it broken.
    LedgerBroken = "ledger_broken", Failure;
    /// The database or the data folder can be read by other users of the machine.
    FilesReadableByOthers = "files_readable_by_others", Failure;
    /// The database schema is older than this binary.
    MigrationsPending = "migrations_pending", Failure;
    /// The SQLite database is on a network file system (its locking is not reliable there).
    SqliteOnNetworkFs = "sqlite_on_network_fs", Failure;
}

/// One finding: its code and the number its message names (days, mails, keys, files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub count: i64,
}

impl Finding {
    pub const fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// When a routine operation last succeeded and last failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ran {
    pub ok_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
}

impl Ran {
    /// The last run failed (no success since).
    pub fn failed_last(&self) -> bool {
        match (self.ok_at, self.failed_at) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(ok), Some(failed)) => failed > ok,
        }
    }
}

/// How mail leaves the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailRoute {
    /// `.eml` files in the data folder (no SMTP configured).
    Files,
    Smtp {
        tls: bool,
    },
}

/// What was found about an instance.
#[derive(Debug, Clone)]
pub struct Facts {
    pub now: NaiveDateTime,
    pub master_key_in_file: bool,
    pub base_url_https: bool,
    pub mail: MailRoute,
    /// The operator says the relay signs with DKIM (`ASSENT_MAIL_DKIM=relay`).
    pub dkim_at_relay: bool,
    /// SQLite (backups are `assent backup`'s); PostgreSQL's are pg_dump's, not seen from here.
    pub sqlite: bool,
    pub backup: Ran,
    pub backup_max_age: Duration,
    pub oldest_signing_key: Option<NaiveDateTime>,
    /// Live API keys unused (or, never used, made) for [`KEY_UNUSED_DAYS`].
    pub api_keys_unused: i64,
    /// Live API keys without an expiry.
    pub api_keys_without_expiry: i64,
    pub retention: Ran,
    pub retention_interval: Duration,
    pub mail_parked: i64,
    pub mail_backlog: i64,
    pub ledger: Ran,
    pub readable_by_others: i64,
    pub pending_migrations: i64,
    pub network_fs: bool,
}

/// Signing keys older than this should be rotated.
pub const KEY_MAX_AGE_DAYS: i64 = 365;

/// API keys unused this long should be revoked.
pub const KEY_UNUSED_DAYS: i64 = 90;

/// The findings, in [`Code::ALL`]'s order.
pub fn examine(f: &Facts) -> Vec<Finding> {
    let days = |at: NaiveDateTime| (f.now - at).num_days();
    let mut found = Vec::new();
    let mut flag = |code: Code, count: i64, when: bool| {
        if when {
            found.push(Finding { code, count });
        }
    };
    flag(Code::MasterKeyInFile, 0, f.master_key_in_file);
    flag(Code::BaseUrlNotHttps, 0, !f.base_url_https);
    flag(Code::SmtpWithoutTls, 0, f.mail == MailRoute::Smtp { tls: false });
    flag(Code::MailToFiles, 0, f.mail == MailRoute::Files);
    flag(Code::MailNotDkimSigned, 0, matches!(f.mail, MailRoute::Smtp { .. }) && !f.dkim_at_relay);
    flag(Code::BackupMissing, 0, f.sqlite && f.backup.ok_at.is_none());
    let backup_age = f.backup.ok_at.map(days).unwrap_or_default();
    flag(Code::BackupOld, backup_age, f.sqlite && f.backup.ok_at.is_some_and(|at| f.now - at > f.backup_max_age));
    let signing_age = f.oldest_signing_key.map(days).unwrap_or_default();
    flag(Code::SigningKeyOld, signing_age, signing_age > KEY_MAX_AGE_DAYS);
    flag(Code::ApiKeyUnused, f.api_keys_unused, f.api_keys_unused > 0);
    flag(Code::ApiKeyWithoutExpiry, f.api_keys_without_expiry, f.api_keys_without_expiry > 0);
    flag(Code::RetentionFailed, 0, f.retention.failed_last());
    let overdue = f.retention.ok_at.is_some_and(|at| f.now - at > f.retention_interval * 2);
    flag(Code::RetentionOverdue, f.retention.ok_at.map(days).unwrap_or_default(), overdue);
    flag(Code::MailParked, f.mail_parked, f.mail_parked > 0);
    flag(Code::MailBacklog, f.mail_backlog, f.mail_backlog > 0);
    let verified_lately = f.ledger.ok_at.is_some_and(|at| f.now - at <= Duration::days(1));
    flag(Code::LedgerNotVerified, 0, !verified_lately && !f.ledger.failed_last());
    flag(Code::LedgerBroken, 0, f.ledger.failed_last());
    flag(Code::FilesReadableByOthers, f.readable_by_others, f.readable_by_others > 0);
    flag(Code::MigrationsPending, f.pending_migrations, f.pending_migrations > 0);
    flag(Code::SqliteOnNetworkFs, 0, f.sqlite && f.network_fs);
    found
}

/// Whether any finding is a failure (`assent doctor` exits with 1).
pub fn fails(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity() == Severity::Failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, day).and_then(|d| d.and_hms_opt(12, 0, 0)).expect("date")
    }

    fn sound() -> Facts {
        let ok = Ran { ok_at: Some(at(10)), failed_at: None };
        Facts {
            now: at(10),
            master_key_in_file: false,
            base_url_https: true,
            mail: MailRoute::Smtp { tls: true },
            dkim_at_relay: true,
            sqlite: true,
            backup: ok,
            backup_max_age: Duration::days(1),
            oldest_signing_key: Some(at(1)),
            api_keys_unused: 0,
            api_keys_without_expiry: 0,
            retention: ok,
            retention_interval: Duration::hours(1),
            mail_parked: 0,
            mail_backlog: 0,
            ledger: ok,
            readable_by_others: 0,
            pending_migrations: 0,
            network_fs: false,
        }
    }

    fn codes(f: &Facts) -> Vec<Code> {
        examine(f).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_sound_instance_has_no_finding() {
        assert_eq!(codes(&sound()), Vec::<Code>::new());
    }

    #[test]
    fn each_fact_gives_its_finding() {
        let mut f = sound();
        f.now = at(20);
        f.master_key_in_file = true;
        f.base_url_https = false;
        f.mail = MailRoute::Smtp { tls: false };
        f.dkim_at_relay = false;
        f.retention.failed_at = Some(at(19));
        f.mail_parked = 2;
        f.api_keys_without_expiry = 1;
        f.readable_by_others = 1;
        f.pending_migrations = 3;
        f.network_fs = true;
        let found = examine(&f);
        let expected = [
            Code::MasterKeyInFile,
            Code::BaseUrlNotHttps,
            Code::SmtpWithoutTls,
            Code::MailNotDkimSigned,
            Code::BackupOld,
            Code::ApiKeyWithoutExpiry,
            Code::RetentionFailed,
            Code::RetentionOverdue,
            Code::MailParked,
            Code::LedgerNotVerified,
            Code::FilesReadableByOthers,
            Code::MigrationsPending,
            Code::SqliteOnNetworkFs,
        ];
        assert_eq!(found.iter().map(|f| f.code).collect::<Vec<_>>(), expected);
        assert_eq!(found.iter().find(|f| f.code == Code::BackupOld).map(|f| f.count), Some(10));
        assert!(fails(&found));
    }

    #[test]
    fn a_failed_run_followed_by_a_good_one_is_no_finding() {
        let mut f = sound();
        f.retention = Ran { ok_at: Some(at(10)), failed_at: Some(at(9)) };
        f.ledger = Ran { ok_at: None, failed_at: Some(at(9)) };
        assert_eq!(codes(&f), [Code::LedgerBroken]);
    }

    #[test]
    fn postgresql_backups_are_not_judged_and_warnings_alone_do_not_fail() {
        let mut f = sound();
        f.sqlite = false;
        f.backup = Ran::default();
        f.mail = MailRoute::Files;
        let found = examine(&f);
        assert_eq!(found.iter().map(|f| f.code).collect::<Vec<_>>(), [Code::MailToFiles]);
        assert!(!fails(&found));
    }
}
