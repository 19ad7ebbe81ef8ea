//! The submission recorder: submissions that arrive while the writer is busy are recorded
//! together, as one piece of writer work (see `submit::record_group`).

use chrono::Utc;
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

use super::ServiceError;
use super::confirmations::confirmation_wanted;
use super::confirmations::{Asking, prepare_confirmation};
use super::consent::{Door, States};
use super::submit::{Item, Prepared, SubmissionInput, SubmissionOutcome, record_group};
use crate::crypto::Keyring;
use crate::db::catalog::Catalog;
use crate::db::consent;
use crate::db::{CommitFailed, Db, Pool, WriteTx, Writer};
use crate::domain::lifecycle::Submitter;

/// Records submissions. Submissions that arrive while the writer is busy are recorded together,
/// as one piece of writer work with one statement per table (see [`record_batch_in`]): on
/// PostgreSQL that turns some ten round trips per submission into some ten per batch.
#[derive(Clone)]
pub struct Recorder {
    pool: Pool,
    keyring: Arc<Keyring>,
    queue: mpsc::Sender<Queued>,
}

/// A submission waiting for the next batch.
struct Queued {
    item: Item,
    reply: oneshot::Sender<Result<SubmissionOutcome, ServiceError>>,
}

/// The most submissions recorded in one batch.
const MAX_BATCH: usize = 256;

impl Recorder {
    /// Starts the thread that hands batches to the writer.
    pub fn start(db: &Db, keyring: Arc<Keyring>) -> std::io::Result<Self> {
        let (queue, batches) = mpsc::channel();
        let (writer, batch_keyring) = (db.writer.clone(), keyring.clone());
        std::thread::Builder::new()
            .name("assent-submissions".into())
            .spawn(move || batch_loop(&writer, &batch_keyring, &batches))?;
        Ok(Self { pool: db.pool.clone(), keyring, queue })
    }

    /// Records one submission and waits until it is durable.
    ///
    /// Work that needs no lock (composing, signing and sealing a double opt-in mail) is done
    /// first, on the blocking pool, so that the single writer only writes rows.
    pub async fn record(
        &self,
        catalog: Arc<Catalog>,
        input: SubmissionInput,
    ) -> Result<SubmissionOutcome, ServiceError> {
        let prepared = prepare(&self.pool, &self.keyring, &catalog, &input).await?;
        let (reply, answer) = oneshot::channel();
        self.queue.send(Queued { item: Item { catalog, input, prepared }, reply }).map_err(|_| CommitFailed)?;
        // A dropped reply means the batch's commit failed: nothing of it was saved.
        let outcome = answer.await.map_err(|_| CommitFailed)??;
        crate::metrics::submission_recorded();
        Ok(outcome)
    }
}

/// Takes whatever submissions are queued, records them as one piece of writer work, and answers
/// each once the commit is durable. One batch is in the writer at a time, so submissions that
/// arrive meanwhile make up the next one.
fn batch_loop(writer: &Writer, keyring: &Arc<Keyring>, queue: &mpsc::Receiver<Queued>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(queued) => batch.push(queued),
                Err(_) => break,
            }
        }
        let (items, replies): (Vec<Item>, Vec<_>) = batch.into_iter().map(|q| (q.item, q.reply)).unzip();
        let keyring = keyring.clone();
        let results = writer.write_blocking(move |tx| Ok::<_, ServiceError>(record_batch_in(tx, &keyring, &items)));
        // On a failed commit the replies are dropped unanswered, which callers read as CommitFailed.
        if let Ok(results) = results {
            for (reply, result) in replies.into_iter().zip(results) {
                // The caller may have gone away (client disconnected); the work is done either way.
                let _ = reply.send(result);
            }
        }
    }
}

/// Prepares the confirmation mail for the subject this address is (or will be), deciding as the
/// writer will from what is on record now. The writer checks the guess and composes again itself
/// in the rare case it no longer holds.
async fn prepare(
    pool: &Pool,
    keyring: &Arc<Keyring>,
    catalog: &Arc<Catalog>,
    input: &SubmissionInput,
) -> Result<Option<Prepared>, ServiceError> {
    let (pool, keyring, catalog, ctx) = (pool.clone(), keyring.clone(), catalog.clone(), input.mail.clone());
    let (email, locale) = (input.accepted.email.clone(), input.locale);
    let (granted, submitter) = (input.accepted.granted.clone(), input.submitter(false));
    let guardian = input.guardian.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|_| CommitFailed)?;
        let (existing, rows) = consent::by_email_index(&mut conn, &keyring.email_index(&email))?;
        let submitter = Submitter { known_person: existing.is_some(), ..submitter };
        let states = States::from_rows(rows);
        let subject_id = existing.clone().unwrap_or_else(crate::db::new_row_id);
        let door = Door::new(&catalog);
        let wanted = confirmation_wanted(&door, &states, &subject_id, &granted, submitter, locale);
        if wanted.is_empty() {
            return Ok(None);
        }
        let now = Utc::now().naive_utc();
        let confirmation = prepare_confirmation(
            &keyring,
            &ctx,
            Asking {
                subject_id: &subject_id,
                email: &email,
                locale,
                purposes: wanted,
                changes: &[],
                guardian: guardian.as_ref(),
            },
            now,
        )?;
        Ok(Some(Prepared { confirmation, for_new_subject: existing.is_none() }))
    })
    .await
    .map_err(|_| CommitFailed)?
}

/// Records a batch: the first submission of each address all together in one savepoint; if that
/// fails, each on its own, so that one bad submission fails alone. A repeat of an address already
/// in the batch goes after it, on its own (it then finds the subject the first one created).
fn record_batch_in(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    items: &[Item],
) -> Vec<Result<SubmissionOutcome, ServiceError>> {
    let indexes: Vec<Vec<u8>> = items.iter().map(|i| keyring.email_index(&i.input.accepted.email)).collect();
    let mut seen = std::collections::HashSet::new();
    let (first, again): (Vec<usize>, Vec<usize>) = (0..items.len()).partition(|&i| seen.insert(&indexes[i]));
    let mut results: Vec<Option<Result<SubmissionOutcome, ServiceError>>> = items.iter().map(|_| None).collect();
    let group: Vec<(&Item, &[u8])> = first.iter().map(|&i| (&items[i], indexes[i].as_slice())).collect();
    match tx.savepoint(|tx| record_group(tx, keyring, &group)) {
        Ok(outcomes) => {
            for (&i, outcome) in first.iter().zip(outcomes) {
                results[i] = Some(Ok(outcome));
            }
        }
        Err(e) if first.len() == 1 => results[first[0]] = Some(Err(e)),
        Err(_) => {
            for &i in &first {
                results[i] = Some(record_one_in(tx, keyring, &items[i], &indexes[i]));
            }
        }
    }
    for &i in &again {
        results[i] = Some(record_one_in(tx, keyring, &items[i], &indexes[i]));
    }
    results.into_iter().map(|r| r.unwrap_or(Err(ServiceError::Unavailable))).collect()
}

fn record_one_in(
    tx: &mut WriteTx<'_>,
    keyring: &Keyring,
    item: &Item,
    index: &[u8],
) -> Result<SubmissionOutcome, ServiceError> {
    let mut outcomes = tx.savepoint(|tx| record_group(tx, keyring, &[(item, index)]))?;
    outcomes.pop().ok_or(ServiceError::Unavailable)
}
