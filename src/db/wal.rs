//! The SQLite write-ahead log around the writer thread: the checkpointer beside it, when the WAL
//! starts over, and the scrub after an erasure.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::DbConnection;

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// WAL frames (about 4 KiB each) past which the checkpointer makes SQLite start the WAL over,
/// while commits are small.
const WAL_RESTART_FRAMES: i64 = 8192;

/// The most frames the WAL is let grow to before it is started over (256 MiB), whatever the
/// commits; also the size a WAL grown past it is cut back to.
pub(super) const WAL_MAX_FRAMES: i64 = WAL_RESTART_FRAMES * 8;

/// Copies the WAL into the database every [`CHECKPOINT_INTERVAL`], until the last writer handle
/// is gone.
///
/// The copy is PASSIVE: it never blocks the writer, which keeps appending meanwhile. But SQLite
/// starts the WAL over from its beginning only once every frame in it has been copied, which
/// under steady load never happens by itself: the WAL grew without bound (1.4 GB in 20 s of
/// submissions), every append landing in new file space that the kernel must zero first. A
/// blocking checkpoint from here (RESTART) does not help: it waits for a moment without a
/// writer, and the writer, starting each batch as the last one commits, leaves none. So when
/// the WAL has grown past [`restart_after`] frames, this asks the writer to copy the rest
/// itself between two batches, when nothing is being appended.
pub(super) fn checkpoint_loop(mut conn: DbConnection, alive: std::sync::Weak<()>, catch_up: &AtomicBool) {
    let (mut last, mut growth) = (0, 0);
    while alive.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_INTERVAL);
        match checkpoint(&mut conn, "PASSIVE") {
            Ok(frames) => {
                // What was appended since the last look (all of it if the WAL started over),
                // remembered with a slow decay.
                let grown = if frames >= last { frames - last } else { frames };
                growth = grown.max(growth - growth / 16);
                last = frames;
                if frames > restart_after(growth) {
                    catch_up.store(true, Ordering::Release);
                }
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

/// The WAL size (frames) past which the writer is asked to copy what is left and let the WAL
/// start over, given the most it has lately grown between two checkpoints: four times that, so
/// that the writer copies only the last of several commits (the checkpointer copied the ones
/// before while the writer wrote), and no less than [`WAL_RESTART_FRAMES`] nor more than
/// [`WAL_MAX_FRAMES`]. With small commits (form submissions) that is the floor; an import's
/// chunk writes some 16 000 frames at once, which the writer copied itself after every chunk
/// under a fixed 8 192 (a million-row import 142 s -> 135 s).
fn restart_after(growth: i64) -> i64 {
    growth.saturating_mul(4).clamp(WAL_RESTART_FRAMES, WAL_MAX_FRAMES)
}

#[derive(QueryableByName)]
struct Checkpointed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
}

/// Runs a checkpoint; answers the frames the WAL held.
pub(super) fn checkpoint(conn: &mut DbConnection, mode: &str) -> QueryResult<i64> {
    let row: Checkpointed = diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(conn)?;
    Ok(row.log)
}

/// After an erasure the database's pages are zeroed (`secure_delete`), but frames the WAL wrote
/// before still hold what was erased until SQLite happens to reuse that part of the file. Once the
/// writer has had nothing to do for [`SCRUB_RETRY`], this copies every frame into the database
/// and truncates the WAL to nothing, without waiting (`busy_timeout = 0`): if a reader still
/// holds an old snapshot it answers false and is tried again at the next idle moment.
pub(super) fn scrub_wal(conn: &mut DbConnection) -> bool {
    #[derive(QueryableByName)]
    struct Truncated {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    let done = conn
        .batch_execute("PRAGMA busy_timeout = 0")
        .and_then(|()| diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result::<Truncated>(conn));
    if let Err(e) = conn.batch_execute("PRAGMA busy_timeout = 10000") {
        tracing::warn!(error = %e, "could not restore the writer's busy timeout");
    }
    done.is_ok_and(|t| t.busy == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_starts_over_later_only_when_commits_are_large() {
        assert_eq!(restart_after(0), WAL_RESTART_FRAMES);
        assert_eq!(restart_after(600), WAL_RESTART_FRAMES, "form submissions: the floor");
        assert_eq!(restart_after(16_000), 64_000, "an import's chunks: four of them");
        assert_eq!(restart_after(1 << 40), WAL_MAX_FRAMES, "never past the bound");
    }
}
