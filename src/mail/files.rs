//! The development mailer: each delivered mail is an `.eml` file under `$ASSENT_DATA_DIR/outbox/`.
//! A file is named by whose it is without saying who: `{subject id}_{outbox id}.eml` (the
//! subject id is the pseudonymous id the ledger keeps anyway), or `{outbox id}.eml` for mail
//! that names no subject (an erasure confirmation). So erasing a person removes their files at
//! once (`forget`, from the erasure hook), and `serve` removes every file older than
//! `ASSENT_MAIL_FILE_RETENTION` (`expire`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The folder the file mailer delivers to.
#[derive(Debug, Clone)]
pub struct MailFiles {
    dir: PathBuf,
}

/// Ids go into file names only if they are plain ids (UUIDs): never a path.
fn plain(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl MailFiles {
    /// `data_dir/outbox` (created if missing).
    pub fn in_data_dir(data_dir: &Path) -> std::io::Result<Self> {
        let dir = data_dir.join("outbox");
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one delivered mail. It is written beside, synced, then renamed into place, so a
    /// reader of the folder never sees half a mail.
    pub fn deliver(&self, subject_id: Option<&str>, outbox_id: &str, raw: &[u8]) -> std::io::Result<PathBuf> {
        use std::io::Write;
        if !plain(outbox_id) {
            return Err(std::io::Error::other("outbox id is not a plain id"));
        }
        let name = match subject_id.filter(|s| plain(s)) {
            Some(subject) => format!("{subject}_{outbox_id}.eml"),
            None => format!("{outbox_id}.eml"),
        };
        let writing = self.dir.join(".writing");
        std::fs::create_dir_all(&writing)?;
        let temporary = writing.join(&name);
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(raw)?;
        file.sync_data()?;
        let path = self.dir.join(name);
        std::fs::rename(&temporary, &path)?;
        Ok(path)
    }

    /// Removes every delivered mail of these people; answers how many files went.
    pub fn forget(&self, subject_ids: &[&str]) -> std::io::Result<usize> {
        let prefixes: std::collections::HashSet<&str> = subject_ids.iter().copied().filter(|s| plain(s)).collect();
        self.remove_where(|name, _| name.split_once('_').is_some_and(|(subject, _)| prefixes.contains(subject)))
    }

    /// Removes every delivered mail last written more than `retention` before `now`.
    pub fn expire(&self, retention: Duration, now: SystemTime) -> std::io::Result<usize> {
        let Some(cutoff) = now.checked_sub(retention) else { return Ok(0) };
        self.remove_where(|_, modified| modified < cutoff)
    }

    fn remove_where(&self, doomed: impl Fn(&str, SystemTime) -> bool) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str().and_then(|n| n.strip_suffix(".eml")) else { continue };
            let meta = entry.metadata()?;
            if meta.is_file() && doomed(name, meta.modified()?) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    // Removed meanwhile by another process of this deployment.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_files_go_with_their_person_or_with_age_and_name_no_one() {
        let dir = tempfile::tempdir().unwrap();
        let files = MailFiles::in_data_dir(dir.path()).unwrap();
        let (minji, other) = ("0190a1b2-0000-7000-8000-000000000001", "0190a1b2-0000-7000-8000-000000000002");
        let hers =
            files.deliver(Some(minji), "0190a1b2-0000-7000-8000-0000000000a1", b"To: minji@example.com").unwrap();
        let theirs = files.deliver(Some(other), "0190a1b2-0000-7000-8000-0000000000a2", b"To: x@example.com").unwrap();
        let nobodys = files.deliver(None, "0190a1b2-0000-7000-8000-0000000000a3", b"To: y@example.com").unwrap();
        assert!(!hers.to_string_lossy().contains("example"), "no address in a file name");
        assert!(files.deliver(Some(minji), "../escape", b"").is_err(), "never a path");

        assert_eq!(files.forget(&[minji]).unwrap(), 1);
        assert!(!hers.exists() && theirs.exists() && nobodys.exists());

        let now = SystemTime::now();
        let old = now - Duration::from_secs(8 * 86_400);
        std::fs::File::options().write(true).open(&theirs).unwrap().set_modified(old).unwrap();
        assert_eq!(files.expire(Duration::from_secs(7 * 86_400), now).unwrap(), 1, "older than 7 days");
        assert!(!theirs.exists() && nobodys.exists(), "the newer file stays");
    }
}
