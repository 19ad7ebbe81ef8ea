//! Recording accesses from handlers: who (the console account or API key), from where (the
//! client's IP pseudonym, as in the ledger's evidence) and through which route (its template,
//! never the path itself or its query, which may hold an address).

use actix_web::HttpRequest;

use super::{AppState, client_ip};
use crate::domain::access::{AccessAction, ActorKind};
use crate::services::access::Accessor;

/// The accessor behind a request.
pub fn accessor(req: &HttpRequest, state: &AppState, kind: ActorKind, id: &str) -> Accessor {
    Accessor {
        kind,
        id: id.to_owned(),
        ip_pseudonym: client_ip(req, &state.settings).map(|ip| state.keyring.ip_pseudonym(&ip.to_string())),
    }
}

/// The route template the request matched (`/api/v1/subjects/{id}`).
pub fn path_of(req: &HttpRequest) -> String {
    req.match_pattern().unwrap_or_else(|| "-".to_owned())
}

/// Queues the record of an API key's access to `subject_id`'s data.
pub fn by_api_key(req: &HttpRequest, state: &AppState, key_id: &str, action: AccessAction, subject_id: Option<&str>) {
    let who = accessor(req, state, ActorKind::ApiKey, key_id);
    state.access.record(&who, action, subject_id, &path_of(req));
}

/// Queues the record of a console account's access to `subject_id`'s data.
pub fn by_owner(req: &HttpRequest, state: &AppState, owner_id: &str, action: AccessAction, subject_id: Option<&str>) {
    let who = accessor(req, state, ActorKind::Owner, owner_id);
    state.access.record(&who, action, subject_id, &path_of(req));
}
