//! `assent key create|list|revoke`: API keys from the command line, as the console shows them.

use clap::Subcommand;

use super::{connect, parse_within};
use crate::config::Settings;
use crate::db::api_keys;
use crate::domain::scopes::Scopes;
use crate::services::audit::{Actor, audit_action};
use crate::services::keys;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; it is printed once and only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// The key stops working after this long (e.g. 90d, 12m, 1y); without it, when revoked.
        #[arg(long, value_parser = parse_within)]
        expires_in: Option<crate::domain::Retention>,
        /// What the key may do (repeat, or separate with commas): consents:read, subjects:read,
        /// subjects:write, subjects:erase, submissions:write, imports, webhooks. Without it, all
        /// of them.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// List the keys: id, name, prefix, scopes, created, last used, expiry and state.
    List,
    /// Revoke a key by its id (it stops working at once on this server, within seconds on others).
    Revoke { id: String },
}

pub(super) fn run(settings: &Settings, command: KeyCommand) -> anyhow::Result<i32> {
    match command {
        KeyCommand::Create { name, expires_in, scopes } => create(settings, &name, expires_in, &scopes),
        KeyCommand::List => list(settings),
        KeyCommand::Revoke { id } => revoke(settings, &id),
    }
}

fn create(
    settings: &Settings,
    name: &str,
    expires_in: Option<crate::domain::Retention>,
    scopes: &[String],
) -> anyhow::Result<i32> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        anyhow::bail!("--name must be 1 to 100 characters");
    }
    let scopes = if scopes.is_empty() { Scopes::all() } else { Scopes::parse(&scopes.join(" "))? };
    let expires_at = expires_in.map(|p| p.expires_at(chrono::Utc::now()).naive_utc());
    let created = keys::create(&mut connect(settings)?, name, expires_at, scopes, None)?;
    let may = if scopes.is_all() { "every scope".to_owned() } else { scopes.to_text() };
    eprintln!("Created API key {} ({name}; {may}). It is shown once; store it now:", created.id);
    println!("{}", created.secret);
    Ok(0)
}

fn list(settings: &Settings) -> anyhow::Result<i32> {
    let rows = api_keys::list(&mut connect(settings)?)?;
    let now = chrono::Utc::now().naive_utc();
    let when = |t: Option<chrono::NaiveDateTime>| t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string());
    println!("id\tname\tprefix\tscopes\tcreated\tlast used\texpires\tstate");
    for key in rows {
        let state = match (key.revoked_at, key.expires_at) {
            (Some(_), _) => "revoked",
            (None, Some(at)) if at <= now => "expired",
            _ => "live",
        };
        let scopes = Scopes::from_stored(&key.scopes);
        let scopes = if scopes.is_all() { "all".to_owned() } else { scopes.to_text().replace(' ', ",") };
        println!(
            "{}\t{}\t{}…\t{scopes}\t{}\t{}\t{}\t{state}",
            key.id,
            key.name,
            key.prefix,
            when(Some(key.created_at)),
            when(key.last_used_at),
            when(key.expires_at)
        );
    }
    Ok(0)
}

fn revoke(settings: &Settings, id: &str) -> anyhow::Result<i32> {
    use diesel::Connection as _;
    let revoked = connect(settings)?.transaction(|conn| -> diesel::QueryResult<bool> {
        let revoked = api_keys::revoke(conn, id, chrono::Utc::now().naive_utc())?;
        if revoked {
            audit_action(conn, &Actor::Job("cli"), "api_key_revoked", None, id)?;
        }
        Ok(revoked)
    })?;
    if !revoked {
        eprintln!("No live key has the id {id} (see assent key list).");
        return Ok(1);
    }
    eprintln!("Revoked API key {id}.");
    Ok(0)
}
