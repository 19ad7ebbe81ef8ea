//! The server's tree head job: a head signed every minute while events arrive, from a tree edge
//! kept between heads (`services::transparency::HeadSigner`), and handed to the remote witness.

use std::sync::Arc;

use crate::domain::tree_head::TreeHead;
use crate::services::remote_witness::RemoteWitness;
use crate::services::transparency::HeadSigner;
use crate::web::AppState;

/// Signs a tree head every minute while events arrive (see `services::transparency`).
pub(super) async fn sign_tree_heads(state: AppState, witness: Option<Arc<RemoteWitness>>) {
    let mut interval = tokio::time::interval(crate::services::transparency::INTERVAL);
    // The tree's edge, kept between heads: each reads only the events appended since the last.
    let mut signer = Some(HeadSigner::default());
    loop {
        interval.tick().await;
        signer = sign_tree_head(&state, witness.as_deref(), signer.take().unwrap_or_default()).await;
    }
}

/// Signs a head over the ledger if it grew, stores it and appends it to the witness file; then
/// hands the newest head to the remote witness, if there is one and it does not have it yet.
/// Answers the signer to use next time (`None` when the task failed: the next starts afresh).
pub(super) async fn sign_tree_head(
    state: &AppState,
    witness: Option<&RemoteWitness>,
    mut signer: HeadSigner,
) -> Option<HeadSigner> {
    let (pool, keyring, dir) = (state.db.pool.clone(), state.keyring.clone(), state.settings.data_dir.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        let signed = (|| -> anyhow::Result<(Option<u64>, Option<TreeHead>)> {
            let mut conn = pool.get()?;
            let signed = signer.sign_and_witness(&mut conn, &keyring, &dir)?.map(|h| h.size);
            Ok((signed, crate::db::tree_heads::latest(&mut conn)?))
        })();
        (signed, signer)
    })
    .await;
    let (latest, signer) = match outcome {
        Ok((Ok((signed, latest)), signer)) => {
            if let Some(size) = signed {
                tracing::info!(size, "signed tree head");
            }
            (latest, Some(signer))
        }
        Ok((Err(e), signer)) => {
            tracing::warn!(error = %e, "could not sign a tree head");
            (None, Some(signer))
        }
        Err(e) => {
            tracing::warn!(error = %e, "tree head task failed");
            (None, None)
        }
    };
    if let (Some(witness), Some(head)) = (witness, latest) {
        deliver_to_witness(state, witness, &head).await;
    }
    signer
}

/// Hands `head` to the remote witness, unless it has it already.
async fn deliver_to_witness(state: &AppState, witness: &RemoteWitness, head: &TreeHead) {
    let public_key = state.keyring.tree_head_key(&head.key_id).unwrap_or_default().to_owned();
    match witness.deliver(head, &public_key).await {
        Ok(true) => tracing::info!(size = head.size, "tree head delivered to the remote witness"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(error = %e, size = head.size, "tree head not delivered to the remote witness (retried next minute)")
        }
    }
}
