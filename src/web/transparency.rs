//! The ledger's transparency endpoints: the latest signed tree head, and consistency proofs
//! between two sizes, so a witness that keeps old heads can check that history was only
//! appended to.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::AppError;
use crate::db::tree_heads;
use crate::domain::ErrorCode;
use crate::domain::tree_head::TreeHead;
use crate::services::transparency;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/assent/tree-head", web::get().to(tree_head))
        .route("/.well-known/assent/consistency", web::get().to(consistency));
}

/// The latest signed head, with the key that signed it.
#[derive(Serialize)]
struct SignedHead {
    #[serde(flatten)]
    head: TreeHead,
    /// The signed bytes ([`TreeHead::message`]), for a verifier that does not rebuild them.
    message: String,
    /// Ed25519 public key, base64 (raw 32 bytes).
    public_key: String,
}

async fn tree_head(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pool = state.db.pool.clone();
    let head = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(tree_heads::latest(&mut conn)?)
    })
    .await??
    .ok_or(AppError::NotFound(ErrorCode::NotFound))?;
    let message = String::from_utf8_lossy(&head.signed_message()).into_owned();
    let public_key = state.keyring.tree_heads().public_key();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-cache")).json(SignedHead { head, message, public_key }))
}

#[derive(Deserialize)]
struct Sizes {
    from: u64,
    to: u64,
}

#[derive(Serialize)]
struct Proof {
    from: u64,
    to: u64,
    from_root: String,
    to_root: String,
    /// RFC 9162 §2.1.4 consistency proof, hex hashes.
    proof: Vec<String>,
}

async fn consistency(state: web::Data<AppState>, query: web::Query<Sizes>) -> Result<HttpResponse, AppError> {
    let Sizes { from, to } = query.into_inner();
    let pool = state.db.pool.clone();
    let found = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(transparency::consistency(&mut conn, from, to)?)
    })
    .await??
    .ok_or_else(|| AppError::BadRequest {
        code: ErrorCode::InvalidQuery,
        detail: "Use ?from=N&to=M with 1 <= N <= M <= the number of events in the ledger.".into(),
    })?;
    Ok(HttpResponse::Ok().json(Proof {
        from,
        to,
        from_root: hex::encode(found.from_root),
        to_root: hex::encode(found.to_root),
        proof: found.proof.iter().map(hex::encode).collect(),
    }))
}
