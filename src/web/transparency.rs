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

/// The well-known endpoints (the receipt proof is an API route, under `/api/v1`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::web::only("/.well-known/assent/tree-head", "GET", web::get().to(tree_head)))
        .service(crate::web::only("/.well-known/assent/consistency", "GET", web::get().to(consistency)))
        .service(crate::web::only("/.well-known/assent/proof-by-hash", "GET", web::get().to(proof_by_hash)))
        .service(crate::web::only("/.well-known/assent/receipt.schema.json", "GET", web::get().to(receipt_schema)));
}

/// The JSON Schema of a receipt's claims (`docs/receipt.schema.json`).
async fn receipt_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/receipt.schema.json")))
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
    let (pool, keyring) = (state.db.pool.clone(), state.keyring.clone());
    let (head, public_key) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let Some(head) = tree_heads::latest(&mut conn)? else { return Ok(None) };
        let key = crate::services::keyring::tree_head_key(&mut conn, &keyring, &head.key_id)?;
        Ok(Some((head, key.unwrap_or_default())))
    })
    .await??
    .ok_or(AppError::NotFound(ErrorCode::NotFound))?;
    let message = String::from_utf8_lossy(&head.signed_message()).into_owned();
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

/// A receipt's events proven to be in the ledger.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptProofResponse {
    /// The signed tree head the proofs are against.
    #[schema(value_type = Object)]
    pub tree_head: serde_json::Value,
    pub events: Vec<EventProof>,
}

/// One event: its leaf (its chain hash) at `leaf_index` (= seq − 1) and the audit path to the
/// head's root (RFC 9162 §2.1.3), nearest sibling first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventProof {
    pub seq: i64,
    pub leaf_index: u64,
    pub hash: String,
    pub proof: Vec<String>,
}

/// `GET /api/v1/receipts/{receipt_id}/proof`: inclusion proofs of a submission receipt's events
/// (its `jti`) against the latest signed tree head (signed now if it does not cover them yet).
/// Only hashes: no one else's events, no personal data.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/{receipt_id}/proof",
    tag = "submissions",
    params(("receipt_id" = String, Path, description = "The receipt's `jti` (the submission id)")),
    responses(
        (status = 200, description = "Each event's inclusion proof against the signed head", body = ReceiptProofResponse),
        (status = 404, description = "`receipt_not_found`: no event was recorded under this receipt", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = super::error::Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn receipt_proof(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let receipt_id = path.into_inner();
    let keyring = state.keyring.clone();
    let found = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> { Ok(transparency::receipt_proof(tx.conn, &keyring, &receipt_id)?) })
        .await?
        .ok_or(AppError::NotFound(ErrorCode::ReceiptNotFound))?;
    proof_response(&state, found).await
}

#[derive(Deserialize)]
struct ByHash {
    hash: String,
}

/// `GET /.well-known/assent/proof-by-hash?hash=H`: the inclusion proof of the event whose chain
/// hash is `H` (any receipt's event, state receipts included), as RFC 9162's get-proof-by-hash.
async fn proof_by_hash(state: web::Data<AppState>, query: web::Query<ByHash>) -> Result<HttpResponse, AppError> {
    let hash: crate::domain::merkle::Hash =
        hex::decode(&query.hash).ok().and_then(|h| h.try_into().ok()).ok_or_else(|| AppError::BadRequest {
            code: ErrorCode::InvalidQuery,
            detail: "Use ?hash= with an event's chain hash: 64 hexadecimal digits.".into(),
        })?;
    let keyring = state.keyring.clone();
    let found = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> { Ok(transparency::proof_by_hash(tx.conn, &keyring, &hash)?) })
        .await?
        .ok_or(AppError::NotFound(ErrorCode::ReceiptNotFound))?;
    proof_response(&state, found).await
}

/// The proofs with their head (witnessed first, when the head was signed for them).
async fn proof_response(state: &AppState, found: transparency::ReceiptProof) -> Result<HttpResponse, AppError> {
    if found.signed_now
        && let Err(e) = transparency::witness(&transparency::witness_path(&state.settings.data_dir), &found.head)
    {
        tracing::warn!(error = %e, "could not append the tree head to the witness");
    }
    let message = String::from_utf8_lossy(&found.head.signed_message()).into_owned();
    // Signed now by this process, or earlier by a key this process loaded or another created.
    let public_key = match state.keyring.tree_head_key(&found.head.key_id) {
        Some(key) => key.to_owned(),
        None => {
            let (pool, keyring, key_id) = (state.db.pool.clone(), state.keyring.clone(), found.head.key_id.clone());
            web::block(move || -> Result<_, AppError> {
                let mut conn = pool.get()?;
                Ok(crate::services::keyring::tree_head_key(&mut conn, &keyring, &key_id)?)
            })
            .await??
            .unwrap_or_default()
        }
    };
    let tree_head = serde_json::to_value(SignedHead { head: found.head, message, public_key })
        .map_err(|e| AppError::Internal(e.into()))?;
    let events = found
        .events
        .into_iter()
        .map(|e| EventProof {
            seq: e.seq,
            leaf_index: e.leaf_index,
            hash: hex::encode(e.hash),
            proof: e.proof.iter().map(hex::encode).collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(ReceiptProofResponse { tree_head, events }))
}
