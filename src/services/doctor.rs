//! `assent doctor`, the security check: gathers the [`Facts`] about this instance (settings, the
//! database, the data folder), lets `domain::doctor` judge them, says the findings in words (in
//! every shipped language) and records the latest result for the console and `/metrics`.

use std::path::Path;

use chrono::{Duration, NaiveDateTime};

use crate::config::Settings;
use crate::db::operations::{self, Operation};
use crate::db::{DbConnection, DbUrl};
use crate::domain::Locale;
use crate::domain::doctor::{self, Facts, Finding, KEY_UNUSED_DAYS, MailRoute};
use crate::i18n::catalogue;

/// Mails due this long and still unsent are a backlog.
const BACKLOG_AFTER: Duration = Duration::hours(1);

/// Examines the instance `settings` describe through `conn` (not migrated first: a pending
/// migration is one of the findings).
pub fn examine(settings: &Settings, conn: &mut DbConnection, now: NaiveDateTime) -> anyhow::Result<Vec<Finding>> {
    Ok(doctor::examine(&facts(settings, conn, now)?))
}

/// Examines and records the result (its findings as JSON, no personal data) as the latest run.
pub fn examine_and_record(
    settings: &Settings,
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> anyhow::Result<Vec<Finding>> {
    let findings = examine(settings, conn, now)?;
    operations::record(conn, Operation::Doctor, true, &serde_json::to_string(&findings)?, now)?;
    Ok(findings)
}

/// The latest recorded run: when, and its findings (`None` if it never ran).
pub fn latest(conn: &mut DbConnection) -> anyhow::Result<Option<(NaiveDateTime, Vec<Finding>)>> {
    let (ran, detail) = operations::read(conn, Operation::Doctor)?;
    Ok(ran.ok_at.map(|at| (at, serde_json::from_str(&detail).unwrap_or_default())))
}

fn facts(settings: &Settings, conn: &mut DbConnection, now: NaiveDateTime) -> anyhow::Result<Facts> {
    let url = DbUrl::parse(&settings.database_url)?;
    let pending_migrations = crate::db::pending_migrations(conn)? as i64;
    // Before the migration that records operations has run, nothing is recorded.
    let ran = |conn: &mut DbConnection, op| operations::read(conn, op).map(|(ran, _)| ran).unwrap_or_default();
    let (backup, retention, ledger) =
        (ran(conn, Operation::Backup), ran(conn, Operation::Retention), ran(conn, Operation::LedgerVerify));
    let signing = crate::db::key_store::signing_keys(conn)?;
    let oldest_signing_key = signing.iter().filter(|k| k.retired_at.is_none()).map(|k| k.created_at).min();
    let unused_since = now - Duration::days(KEY_UNUSED_DAYS);
    let live: Vec<_> = crate::db::api_keys::list(conn)?
        .into_iter()
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now))
        .collect();
    let api_keys_unused = live.iter().filter(|k| k.last_used_at.unwrap_or(k.created_at) < unused_since).count() as i64;
    let api_keys_without_expiry = live.iter().filter(|k| k.expires_at.is_none()).count() as i64;
    let (mail_parked, mail_backlog) =
        crate::db::outbox::stuck(conn, crate::mail::delivery::MAX_ATTEMPTS, now - BACKLOG_AFTER)?;
    let database = match &url {
        DbUrl::Sqlite(path) => Some(Path::new(path).to_path_buf()),
        DbUrl::Postgres(_) => None,
    };
    let mut files = vec![settings.data_dir.clone()];
    files.extend(database.clone());
    Ok(Facts {
        now,
        master_key_in_file: settings.master_key.is_none(),
        base_url_https: settings.base_url.starts_with("https://"),
        mail: mail_route(settings.smtp_url.as_deref()),
        dkim_at_relay: settings.mail_dkim_at_relay || settings.dkim.is_some(),
        sqlite: url.is_sqlite(),
        backup,
        backup_max_age: Duration::from_std(settings.backup_max_age).unwrap_or(Duration::days(1)),
        oldest_signing_key,
        api_keys_unused,
        api_keys_without_expiry,
        retention,
        retention_interval: Duration::from_std(settings.retention_interval).unwrap_or(Duration::hours(1)),
        mail_parked,
        mail_backlog,
        ledger,
        readable_by_others: files.iter().filter(|f| readable_by_others(f)).count() as i64,
        pending_migrations,
        network_fs: database.as_deref().is_some_and(on_network_fs),
    })
}

/// How mail leaves: files without SMTP; SMTP with TLS when the URL asks for it from the start
/// (`smtps://`) or requires STARTTLS (`tls=required`); `tls=opportunistic` may fall back to
/// plain text.
pub fn mail_route(smtp_url: Option<&str>) -> MailRoute {
    match smtp_url {
        None => MailRoute::Files,
        Some(url) => MailRoute::Smtp { tls: url.starts_with("smtps://") || url.contains("tls=required") },
    }
}

/// Whether a file or folder grants other users any access (group or world bits).
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

/// Whether the file's folder is on NFS, SMB/CIFS, AFS, Ceph, Coda or 9P, where SQLite's locks do
/// not hold (statfs's file-system type).
fn on_network_fs(database: &Path) -> bool {
    const NETWORK: [i64; 8] =
        [0x6969, 0x517B, 0xFF53_4D42, 0xFE53_4D42, 0x5346_414F, 0x00C3_6400, 0x7375_7245, 0x0102_1997];
    let folder = database.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    rustix::fs::statfs(folder).is_ok_and(|s| NETWORK.contains(&{ s.f_type }))
}

/// One finding in words: its severity, what is wrong, and how to fix it.
pub struct Said {
    pub code: &'static str,
    pub severity: &'static str,
    /// The severity in the reader's words.
    pub severity_said: String,
    pub problem: String,
    pub fix: String,
}

/// The findings in `locale`'s words.
pub fn say(findings: &[Finding], locale: Locale) -> Vec<Said> {
    let c = catalogue(locale);
    findings
        .iter()
        .map(|f| {
            let id = format!("doctor-{}", crate::i18n::kebab(f.code.as_str()));
            let count = [("count", fluent_bundle::FluentValue::from(f.count))];
            Said {
                code: f.code.as_str(),
                severity: f.severity().as_str(),
                severity_said: c.text(&format!("doctor-severity-{}", f.severity().as_str())),
                problem: c.format(&id, &count),
                fix: c.format(&format!("{id}-fix"), &count),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::doctor::Code;

    #[test]
    fn every_finding_and_its_fix_is_said_in_every_shipped_language() {
        for locale in Locale::shipped() {
            let c = catalogue(locale);
            for code in Code::ALL {
                let id = format!("doctor-{}", crate::i18n::kebab(code.as_str()));
                assert!(c.has(&id), "{locale}: {id}");
                assert!(c.has(&format!("{id}-fix")), "{locale}: {id}-fix");
            }
            for severity in doctor::Severity::ALL {
                assert!(c.has(&format!("doctor-severity-{}", severity.as_str())), "{locale}: {severity:?}");
            }
        }
    }

    #[test]
    fn mail_is_encrypted_only_when_the_url_insists() {
        assert_eq!(mail_route(None), MailRoute::Files);
        assert_eq!(mail_route(Some("smtps://mail.example")), MailRoute::Smtp { tls: true });
        assert_eq!(mail_route(Some("smtp://mail.example:587?tls=required")), MailRoute::Smtp { tls: true });
        assert_eq!(mail_route(Some("smtp://mail.example:587?tls=opportunistic")), MailRoute::Smtp { tls: false });
        assert_eq!(mail_route(Some("smtp://mail.example:25")), MailRoute::Smtp { tls: false });
    }
}
