//! Inside `serve`: tells people the result of giving or withdrawing consent to advertising
//! (정보통신망법 art. 50(7)) as soon as the ledger has it (`services::result_notices`): a pass
//! whenever events wait past the notices' cursor, checked four times a second by a read.

use std::sync::Arc;
use std::time::Duration;

use crate::crypto::Keyring;
use crate::db::Db;
use crate::db::catalog::Catalog;
use crate::mail::MailContext;
use crate::services::ServiceError;
use crate::services::result_notices;

/// What the loop needs from the running server.
pub struct Follower {
    pub db: Db,
    pub keyring: Arc<Keyring>,
    /// The catalogue in force now (it may change while the server runs).
    pub catalog: Box<dyn Fn() -> Arc<Catalog> + Send>,
    pub mail: MailContext,
    /// Wakes the mail delivery loop.
    pub mail_queued: Arc<tokio::sync::Notify>,
}

/// Runs until the task is aborted.
pub async fn follow(f: Follower) {
    loop {
        let pool = f.db.pool.clone();
        let waiting = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            Ok(result_notices::pending(&mut *pool.get()?)?)
        })
        .await;
        if matches!(waiting, Ok(Ok(true))) {
            let (keyring, catalog, mail) = (f.keyring.clone(), (f.catalog)(), f.mail.clone());
            let told = f
                .db
                .writer
                .write(move |tx| -> Result<usize, ServiceError> { result_notices::pass(tx, &keyring, &catalog, &mail) })
                .await;
            match told {
                Ok(n) if n > 0 => {
                    f.mail_queued.notify_one();
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "result notices failed"),
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
