//! `assent owner create|list|disable|enable`: console accounts from the command line (the
//! console's Team page does the same for owners, with invitations by e-mail).

use anyhow::Context;
use clap::Subcommand;

use super::connect;
use crate::config::Settings;
use crate::services::rights::Actor;
use crate::services::team;

#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Create a console account. The password is asked for twice on a terminal, or read as one
    /// line from standard input otherwise; at least 12 characters.
    Create {
        #[arg(long)]
        email: String,
        /// owner: everything; privacy_officer: people's data and the rights desk; editor: purposes and
        /// forms; analyst: the dashboard.
        #[arg(long, default_value = "owner", value_parser = ["owner", "privacy_officer", "editor", "analyst"])]
        role: String,
    },
    /// List the accounts: id, address, role, state (active, invited, disabled), created.
    List,
    /// Disable an account (by id or address): it cannot sign in, its sessions end and
    /// the API keys it made are revoked at once.
    Disable { account: String },
    /// Enable a disabled account again.
    Enable { account: String },
}

pub(super) fn run(settings: &Settings, command: OwnerCommand) -> anyhow::Result<i32> {
    match command {
        OwnerCommand::Create { email, role } => create(settings, &email, &role),
        OwnerCommand::List => list(settings),
        OwnerCommand::Disable { account } => change(settings, &account, true),
        OwnerCommand::Enable { account } => change(settings, &account, false),
    }
}

fn create(settings: &Settings, email: &str, role: &str) -> anyhow::Result<i32> {
    use crate::domain::owner::{Role, check_new_password};
    use std::io::IsTerminal;
    let role = Role::parse(role).context("--role must be owner, privacy_officer, editor or analyst")?;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        check_new_password(&first)?;
        let again = rpassword::prompt_password("Password again: ")?;
        if again != first {
            anyhow::bail!("the passwords do not match; nothing was created");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let id = crate::services::owners::create(&mut connect(settings)?, email, &password, role)?;
    // The address is not printed back: it would end up in shell logs for no reason.
    println!("created {} {id}; sign in at {}/admin/login", role.as_str(), settings.base_url);
    Ok(0)
}

fn list(settings: &Settings) -> anyhow::Result<i32> {
    println!("id\temail\trole\tstate\tsecond factor\tcreated");
    for row in crate::db::team::all(&mut connect(settings)?)? {
        let (state, factor) = (row.state().as_str(), if row.totp_confirmed_at.is_some() { "on" } else { "off" });
        let created = row.created_at.format("%Y-%m-%d %H:%M");
        println!("{}\t{}\t{}\t{state}\t{factor}\t{created}", row.id, row.email, row.role);
    }
    Ok(0)
}

fn change(settings: &Settings, account: &str, disable: bool) -> anyhow::Result<i32> {
    use diesel::Connection as _;
    let mut conn = connect(settings)?;
    let found = if account.contains('@') {
        let email = crate::domain::Email::parse(account).map_err(|_| anyhow::anyhow!("not an e-mail address"))?;
        crate::db::owners::find_by_email(&mut conn, email.as_str())?
    } else {
        crate::db::owners::find(&mut conn, account)?
    };
    let Some(row) = found else {
        eprintln!("No account {account} (see assent owner list).");
        return Ok(1);
    };
    let actor = Actor::Job("cli");
    let now = chrono::Utc::now().naive_utc();
    let done = conn.transaction(|conn| -> Result<Result<(), team::TeamError>, diesel::result::Error> {
        let outcome =
            if disable { team::disable(conn, &actor, &row.id, now) } else { team::enable(conn, &actor, &row.id) };
        match outcome {
            Err(team::TeamError::Service(_)) => Err(diesel::result::Error::RollbackTransaction),
            other => Ok(other),
        }
    })?;
    match done {
        Ok(()) => {
            eprintln!("{} {}.", if disable { "Disabled" } else { "Enabled" }, row.id);
            Ok(0)
        }
        Err(e) => {
            eprintln!("Not changed: {e}.");
            Ok(1)
        }
    }
}
