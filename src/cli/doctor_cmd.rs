//! `assent doctor`: the security check on demand, for people and for cron and monitoring.

use crate::config::Settings;
use crate::db::DbUrl;
use crate::domain::Locale;
use crate::domain::doctor;
use crate::services::doctor::{examine_and_record, say};

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The language of the findings (en, ko, ja).
    #[arg(long, default_value = "en", value_parser = parse_locale)]
    lang: Locale,
    /// One JSON object per finding (code, severity, problem, fix) instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_locale(raw: &str) -> Result<Locale, String> {
    Locale::from_tag(raw).ok_or_else(|| format!("not a shipped language: {raw} (en, ko, ja)"))
}

/// Runs every check, prints the findings and records them as the latest run; exit status 1 when
/// any finding is a failure. The database is not migrated first: pending migrations are a
/// finding.
pub(super) fn run(settings: &Settings, args: &DoctorArgs) -> anyhow::Result<i32> {
    let mut conn = DbUrl::parse(&settings.database_url)?.connect()?;
    let findings = examine_and_record(settings, &mut conn, chrono::Utc::now().naive_utc())?;
    for said in say(&findings, args.lang) {
        if args.json {
            let line = serde_json::json!({
                "code": said.code, "severity": said.severity, "problem": said.problem, "fix": said.fix,
            });
            println!("{line}");
        } else {
            println!("[{}] {} ({})\n    {}", said.severity_said, said.problem, said.code, said.fix);
        }
    }
    if findings.is_empty() && !args.json {
        println!("{}", crate::i18n::catalogue(args.lang).text("doctor-none"));
    }
    Ok(if doctor::fails(&findings) { 1 } else { 0 })
}
