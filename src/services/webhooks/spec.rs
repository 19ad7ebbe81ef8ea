//! Endpoints as the workspace file declares them, checked, and recorded at start.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::db::webhooks::{self as stored, EndpointState};
use crate::domain::form::FieldErrorCode;
use crate::domain::ledger::ledger_time;
use crate::domain::webhooks as rules;

/// An endpoint as the workspace file declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// A name of your choosing, unique in the file (the endpoint's identity across restarts).
    pub name: String,
    pub url: String,
    /// Event types or patterns: `consent.*`, `consent.withdrawn`, `subject.erased`, `*`.
    pub events: Vec<String>,
    /// `whsec_…`, or `env:NAME` for the environment variable that holds it (keep secrets out of
    /// the file).
    pub secret: String,
    /// The secret being rotated out: both sign for 24 hours after the server first sees a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    /// Put the person's address in each event (off: subject id and external id only).
    #[serde(default)]
    pub include_email: bool,
}

/// An endpoint ready to deliver to.
#[derive(Clone)]
pub struct Endpoint {
    pub name: String,
    pub url: reqwest::Url,
    pub events: Vec<String>,
    pub(super) secret: Vec<u8>,
    pub(super) previous: Option<Vec<u8>>,
    pub include_email: bool,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("name", &self.name).field("url", &self.url.as_str()).finish_non_exhaustive()
    }
}

impl WebhookSpec {
    /// Checks the declaration and resolves its secrets.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        // The file is the operator's: a private address there is refused at delivery (unless
        // allowed), not here.
        let url = url_problem(&self.url, true)
            .map_err(|_| format!("webhook {}: the url must be http(s)://host/…", self.name))?;
        if self.events.is_empty() || !self.events.iter().all(|p| rules::is_known_pattern(p)) {
            return Err(format!(
                "webhook {}: events must name known types ({})",
                self.name,
                rules::EVENT_TYPES.join(", ")
            ));
        }
        let secret = |raw: &str| -> Result<Vec<u8>, String> {
            let value = match raw.strip_prefix("env:") {
                Some(var) => std::env::var(var).map_err(|_| format!("webhook {}: {var} is not set", self.name))?,
                None => raw.to_owned(),
            };
            rules::parse_secret(&value).map_err(|e| format!("webhook {}: {e}", self.name))
        };
        Ok(Endpoint {
            name: self.name.clone(),
            url,
            events: self.events.clone(),
            secret: secret(&self.secret)?,
            previous: self.previous_secret.as_deref().map(secret).transpose()?,
            include_email: self.include_email,
        })
    }
}

/// Records the declared endpoints before anything is served: a new one starts at the ledger's
/// end as it is now (it is sent what happens from now on), and a changed secret is a rotation.
pub fn declare(writer: &crate::db::Writer, endpoints: &[Endpoint]) -> anyhow::Result<()> {
    let now = ledger_time(Utc::now().naive_utc());
    let declared: Vec<EndpointState> = endpoints
        .iter()
        .map(|e| EndpointState {
            name: e.name.clone(),
            url: e.url.to_string(),
            events: e.events.join(","),
            include_email: e.include_email,
            cursor: 0,
            imports_cursor: now,
            enabled: true,
            disabled_reason: None,
            secret_fingerprint: fingerprint(&e.secret),
            previous_fingerprint: None,
            rotated_at: None,
            created_at: now,
            updated_at: now,
            managed: false,
            secret_sealed: None,
            previous_sealed: None,
        })
        .collect();
    writer.write_blocking(move |tx| {
        let head = crate::db::ledger::head_seq(tx.conn)?;
        for endpoint in declared {
            match stored::endpoint(tx.conn, &endpoint.name)? {
                None => stored::insert_endpoint(tx.conn, &EndpointState { cursor: head, ..endpoint })?,
                Some(state) if state.managed => anyhow::bail!(
                    "webhook {}: declared in the workspace file and in the console (or the API): rename one",
                    endpoint.name
                ),
                Some(state) => {
                    let rotated = (state.secret_fingerprint != endpoint.secret_fingerprint)
                        .then_some((state.secret_fingerprint.as_str(), now));
                    stored::redeclare(tx.conn, &endpoint, rotated)?;
                }
            }
        }
        Ok::<_, anyhow::Error>(())
    })
}

/// The longest endpoint URL.
pub(super) const URL_MAX: usize = 2000;

/// An endpoint's URL, or why it cannot be one: http(s) with a host, no credentials in it, and
/// (unless `allow_private`) not a literal private address or `localhost`.
pub(super) fn url_problem(raw: &str, allow_private: bool) -> Result<reqwest::Url, FieldErrorCode> {
    if raw.is_empty() {
        return Err(FieldErrorCode::Required);
    }
    if raw.len() > URL_MAX {
        return Err(FieldErrorCode::TooLong);
    }
    let url = reqwest::Url::parse(raw).map_err(|_| FieldErrorCode::InvalidUrl)?;
    let host = url.host_str().unwrap_or_default();
    let fits = matches!(url.scheme(), "https" | "http") && !host.is_empty() && url.username().is_empty();
    if !fits || url.password().is_some() || !(allow_private || rules::host_allowed(host)) {
        return Err(FieldErrorCode::InvalidUrl);
    }
    Ok(url)
}

/// A secret's fingerprint (to notice a rotation without storing the secret).
pub(super) fn fingerprint(secret: &[u8]) -> String {
    crate::crypto::sha256_hex(secret)[..16].to_owned()
}

/// The endpoints the workspace file at `path` declares, checked (none if there is no file).
pub fn declared(path: &std::path::Path) -> anyhow::Result<Vec<Endpoint>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file = crate::services::workspace::WorkspaceFile::read(path)?;
    let mut names = std::collections::HashSet::new();
    file.webhooks
        .iter()
        .map(|spec| {
            anyhow::ensure!(names.insert(spec.name.clone()), "webhook {}: declared twice", spec.name);
            spec.endpoint().map_err(anyhow::Error::msg)
        })
        .collect()
}
