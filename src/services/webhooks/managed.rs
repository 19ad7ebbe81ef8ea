//! Endpoints declared in the console or through the API, beside the workspace file's: their
//! secret is drawn here, shown once and kept sealed under the master key (never in the clear);
//! they are changed, rotated (the old secret signs beside the new one for 24 hours) and removed
//! there, each audited. An endpoint the file declares is changed in the file.

use chrono::Utc;

use super::spec::{Endpoint, URL_MAX, fingerprint, url_problem};
use crate::crypto::{self, Keyring};
use crate::db::webhooks::{self as stored, EndpointState, Rotation};
use crate::db::{DbConnection, Writer};
use crate::domain::form::FieldError;
use crate::domain::ledger::ledger_time;
use crate::domain::webhooks::{self as rules, events_problem, name_problem};
use crate::services::ServiceError;
use crate::services::audit::{Actor, audit_action};

/// Where an endpoint sends and what, as asked for.
#[derive(Debug, Clone)]
pub struct EndpointRequest {
    pub url: String,
    pub events: Vec<String>,
    pub include_email: bool,
}

impl EndpointRequest {
    /// Every problem, by field (`url`, `events`).
    pub fn problems(&self, allow_private: bool) -> Vec<FieldError> {
        let url = url_problem(self.url.trim(), allow_private).err().map(|code| FieldError {
            field: "url".into(),
            code,
            max_length: Some(URL_MAX),
        });
        let events =
            events_problem(&self.events).map(|code| FieldError { field: "events".into(), code, max_length: None });
        url.into_iter().chain(events).collect()
    }
}

/// Why an endpoint could not be declared, changed, rotated or removed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("invalid endpoint")]
    Invalid(Vec<FieldError>),
    #[error("an endpoint with that name exists")]
    NameTaken,
    #[error("the workspace file declares this endpoint")]
    DeclaredInFile,
    #[error("no such endpoint")]
    NotFound,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for ManageError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::db::CommitFailed> for ManageError {
    fn from(e: crate::db::CommitFailed) -> Self {
        Self::Service(e.into())
    }
}

/// The label a sealed secret is bound to (so it can be neither moved nor taken for another).
fn label(name: &str) -> String {
    format!("webhook:{name}")
}

/// A secret drawn for `name`: as the receiver is given it, sealed, and its fingerprint.
fn draw(keyring: &Keyring, name: &str) -> Result<(String, Vec<u8>, String), ManageError> {
    let bytes: [u8; 32] = crypto::random_bytes();
    let sealed = crypto::wrap_secret(keyring.masters(), &label(name), &bytes).map_err(ServiceError::from)?;
    Ok((rules::format_secret(&bytes), sealed, fingerprint(&bytes)))
}

/// Declares an endpoint; it is sent what happens from now on. Answers its secret (`whsec_…`),
/// which is shown this once.
pub fn create(
    writer: &Writer,
    keyring: &Keyring,
    name: &str,
    request: &EndpointRequest,
    actor: &Actor,
    allow_private: bool,
) -> Result<String, ManageError> {
    let mut problems: Vec<FieldError> = name_problem(name)
        .map(|code| FieldError { field: "name".into(), code, max_length: Some(rules::NAME_MAX) })
        .into_iter()
        .collect();
    problems.extend(request.problems(allow_private));
    if !problems.is_empty() {
        return Err(ManageError::Invalid(problems));
    }
    let (secret, sealed, fingerprint) = draw(keyring, name)?;
    let now = ledger_time(Utc::now().naive_utc());
    let state = EndpointState {
        name: name.to_owned(),
        url: request.url.trim().to_owned(),
        events: request.events.join(","),
        include_email: request.include_email,
        cursor: 0,
        imports_cursor: now,
        enabled: true,
        disabled_reason: None,
        secret_fingerprint: fingerprint,
        previous_fingerprint: None,
        rotated_at: None,
        created_at: now,
        updated_at: now,
        managed: true,
        secret_sealed: Some(sealed),
        previous_sealed: None,
    };
    let actor = actor.clone();
    writer.write_blocking(move |tx| {
        if stored::endpoint(tx.conn, &state.name)?.is_some() {
            return Err(ManageError::NameTaken);
        }
        let head = crate::db::ledger::head_seq(tx.conn)?;
        stored::insert_endpoint(tx.conn, &EndpointState { cursor: head, ..state.clone() })?;
        audit_action(tx.conn, &actor, "webhook_created", None, &format!("{} {}", state.name, state.url))?;
        Ok(())
    })?;
    Ok(secret)
}

/// The endpoint `name` if the console or the API may change it.
fn managed_one(conn: &mut DbConnection, name: &str) -> Result<EndpointState, ManageError> {
    match stored::endpoint(conn, name)? {
        None => Err(ManageError::NotFound),
        Some(state) if !state.managed => Err(ManageError::DeclaredInFile),
        Some(state) => Ok(state),
    }
}

/// Changes where an endpoint sends and which events.
pub fn change(
    writer: &Writer,
    name: &str,
    request: &EndpointRequest,
    actor: &Actor,
    allow_private: bool,
) -> Result<(), ManageError> {
    let problems = request.problems(allow_private);
    if !problems.is_empty() {
        return Err(ManageError::Invalid(problems));
    }
    let (name, request, actor) = (name.to_owned(), request.clone(), actor.clone());
    writer.write_blocking(move |tx| {
        managed_one(tx.conn, &name)?;
        let (url, events) = (request.url.trim(), request.events.join(","));
        let now = ledger_time(Utc::now().naive_utc());
        stored::describe(tx.conn, &name, url, &events, request.include_email, now)?;
        audit_action(tx.conn, &actor, "webhook_changed", None, &format!("{name} {url}"))?;
        Ok(())
    })
}

/// Draws a new secret; the one it replaces keeps signing beside it for 24 hours, so receivers
/// can switch without losing a message. Answers the new secret (shown this once).
pub fn rotate(writer: &Writer, keyring: &Keyring, name: &str, actor: &Actor) -> Result<String, ManageError> {
    let (secret, sealed, fingerprint) = draw(keyring, name)?;
    let (name, actor) = (name.to_owned(), actor.clone());
    writer.write_blocking(move |tx| {
        let state = managed_one(tx.conn, &name)?;
        let previous = state.secret_sealed.unwrap_or_default();
        let rotation = Rotation {
            sealed: &sealed,
            fingerprint: &fingerprint,
            previous_sealed: &previous,
            previous_fingerprint: &state.secret_fingerprint,
            at: ledger_time(Utc::now().naive_utc()),
        };
        stored::rotate(tx.conn, &name, &rotation)?;
        audit_action(tx.conn, &actor, "webhook_rotated", None, &name)?;
        Ok::<_, ManageError>(())
    })?;
    Ok(secret)
}

/// Forgets an endpoint and its deliveries (nothing more is sent to it).
pub fn remove(writer: &Writer, name: &str, actor: &Actor) -> Result<(), ManageError> {
    let (name, actor) = (name.to_owned(), actor.clone());
    writer.write_blocking(move |tx| {
        managed_one(tx.conn, &name)?;
        stored::remove(tx.conn, &name)?;
        audit_action(tx.conn, &actor, "webhook_removed", None, &name)?;
        Ok(())
    })
}

/// The managed endpoints, ready to deliver to. One whose secret cannot be opened (a master key
/// no longer configured) is left out, with a warning.
pub fn endpoints(conn: &mut DbConnection, keyring: &Keyring) -> Result<Vec<Endpoint>, ServiceError> {
    let open = |name: &str, sealed: &[u8]| crypto::unwrap_secret(keyring.masters(), &label(name), sealed);
    let mut ready = Vec::new();
    for state in stored::managed(conn)? {
        let Ok(url) = reqwest::Url::parse(&state.url) else { continue };
        let secret = state.secret_sealed.as_deref().map(|s| open(&state.name, s));
        let previous = state.previous_sealed.as_deref().map(|s| open(&state.name, s)).transpose();
        match (secret, previous) {
            (Some(Ok(secret)), Ok(previous)) => ready.push(Endpoint {
                events: state.events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
                name: state.name,
                url,
                secret: secret.to_vec(),
                previous: previous.map(|p| p.to_vec()),
                include_email: state.include_email,
            }),
            _ => {
                tracing::warn!(endpoint = %state.name, "a webhook secret cannot be opened with the configured master keys")
            }
        }
    }
    Ok(ready)
}

/// The managed endpoints' sealed secrets: (name, whether it is the previous one, bytes), for a
/// master-key rotation.
pub fn sealed_secrets(conn: &mut DbConnection) -> Result<Vec<(String, bool, Vec<u8>)>, ServiceError> {
    Ok(stored::managed(conn)?
        .into_iter()
        .flat_map(|s| {
            let current = s.secret_sealed.map(|b| (s.name.clone(), false, b));
            let previous = s.previous_sealed.map(|b| (s.name.clone(), true, b));
            current.into_iter().chain(previous)
        })
        .collect())
}

/// Re-wraps a sealed secret under the current master key (`None`: it already is).
pub fn rewrap(keyring: &Keyring, name: &str, sealed: &[u8]) -> Result<Option<Vec<u8>>, ServiceError> {
    Ok(crypto::rewrap_secret(keyring.masters(), &label(name), sealed)?)
}
