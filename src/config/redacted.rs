//! How settings print (in `{:?}`, panics, logs): never a secret. The master keys are replaced
//! whole; URLs keep their scheme, user, host and path, but not a password or a query. Every field
//! is destructured, so a new one does not compile until someone decides how it prints.

use std::fmt;

use super::{Settings, SettingsArgs};

const HIDDEN: &str = "[redacted]";

/// A URL without its password or query (`postgres://assent:[redacted]@db/assent`).
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, _)) => (head, format!("?{HIDDEN}")),
        None => (url, String::new()),
    };
    let Some((scheme, rest)) = head.split_once("://") else {
        // Not a URL with an authority (a file path, `sqlite:data/assent.db`): nothing to hide.
        return format!("{head}{query}");
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{HIDDEN}@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

fn key(key: &Option<String>) -> Option<&'static str> {
    key.as_ref().map(|_| HIDDEN)
}

/// `impl Debug` printing every field of the struct (each destructured, so none is forgotten),
/// through the expression given after `=>` where one is.
macro_rules! debug_every_field {
    ($ty:ident { $($field:ident $(=> $shown:expr)?),* $(,)? }) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $ty { $($field),* } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &debug_every_field!(@shown $field $(, $shown)?)))*
                    .finish()
            }
        }
    };
    (@shown $field:ident) => { $field };
    (@shown $field:ident, $shown:expr) => { $shown };
}

debug_every_field!(Settings {
    database_url => redact_url(database_url),
    bind,
    base_url,
    data_dir,
    config,
    master_key => key(master_key),
    master_key_previous => key(master_key_previous),
    log_format,
    pool_size,
    workers,
    smtp_url => smtp_url.as_deref().map(redact_url),
    mail_from,
    retention_interval,
    retention_batch,
    marketing_notice_interval,
    access_retention,
    rights_deadline,
    time_zone,
    shutdown_timeout,
    body_timeout,
    password_hashes,
    submissions_per_minute,
    trusted_proxies,
    witness_url => witness_url.as_deref().map(redact_url),
    mail_file_retention,
    erasure_journal,
    require_2fa,
    webhook_allow_private,
    webhook_retry_speedup,
    webhook_delivery,
    min_free_space_mib,
    mail_dkim_at_relay,
    dkim,
    backup_max_age,
});

/// The command line as parsed: what it holds is printed as [`Settings`] once resolved.
impl fmt::Debug for SettingsArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettingsArgs")
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_where_they_point_but_not_their_secrets() {
        assert_eq!(
            redact_url("postgres://assent:s3cret@db:5432/assent"),
            "postgres://assent:[redacted]@db:5432/assent"
        );
        assert_eq!(redact_url("smtps://user:p@ss:word@mail.example:465"), "smtps://user:[redacted]@mail.example:465");
        assert_eq!(redact_url("https://witness.example/v1?token=abc"), "https://witness.example/v1?[redacted]");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact_url("sqlite://data/assent.db"), "sqlite://data/assent.db");
    }

    #[test]
    fn settings_print_no_secret() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            settings: SettingsArgs,
        }
        let args = Args::parse_from([
            "assent",
            "--database-url",
            "postgres://a:hunter2@db/x",
            "--witness-url",
            "https://w.example/?k=tok3n",
        ]);
        let printed = format!("{:?}", args.settings);
        assert!(!printed.contains("hunter2"), "{printed}");
        let mut settings = Settings::resolve(args.settings);
        settings.master_key = Some("00ff".repeat(16));
        settings.smtp_url = Some("smtp://mailer:pa55@relay.example".into());
        let printed = format!("{settings:?}");
        for secret in ["hunter2", "00ff00ff", "pa55", "tok3n"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("postgres://a:[redacted]@db/x") && printed.contains("relay.example"));
    }
}
