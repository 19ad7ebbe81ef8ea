//! The development mailer: each delivered mail is an `.eml` file under `$ASSENT_DATA_DIR/outbox/`.
//! A file is named by whose it is without saying who: `{subject id}_{outbox id}.eml` (the
//! subject id is the pseudonymous id the ledger keeps anyway), or `{outbox id}.eml` for mail
//! that names no subject (an erasure confirmation). So erasing a person removes their files at
//! once (`forget`, from the erasure hook), and `serve` removes every file older than
//! `ASSENT_MAIL_FILE_RETENTION` (`expire`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One mail for [`MailFiles::deliver_all`].
pub struct Delivery<'a> {
    /// Whose it is (`None` for mail that names no one).
    pub subject_id: Option<&'a str>,
    pub outbox_id: &'a str,
    pub raw: &'a [u8],
}

/// The same failure, for each of `n` mails.
fn every(n: usize, e: &std::io::Error) -> Vec<std::io::Result<PathBuf>> {
    (0..n).map(|_| Err(std::io::Error::new(e.kind(), e.to_string()))).collect()
}

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

    /// Writes a batch of delivered mails, answering for each where it went. Each is written
    /// beside, then renamed into place: a reader of the folder never sees half a mail.
    ///
    /// Nothing is flushed to disk. These are development files (production sends through SMTP,
    /// where the relay's acceptance is the durable hand-off), and every way to flush them was a
    /// cost on the database beside them: a sync per mail is a disk flush per mail, and one
    /// `syncfs` per batch wrote out every dirty page of the file system (PostgreSQL's included) at
    /// each batch: JSON signups on PostgreSQL ran 15-20 % slower with the folder on the same disk
    /// than on tmpfs. A power loss (not a crash of Assent: the kernel still holds the files) can
    /// lose the last seconds of files that the outbox already counts as delivered.
    pub fn deliver_all(&self, mails: &[Delivery<'_>]) -> Vec<std::io::Result<PathBuf>> {
        let writing = self.dir.join(".writing");
        if let Err(e) = std::fs::create_dir_all(&writing) {
            return every(mails.len(), &e);
        }
        mails
            .iter()
            .map(|mail| {
                let (temporary, path) = self.write_beside(&writing, mail)?;
                std::fs::rename(&temporary, &path).map(|()| path)
            })
            .collect()
    }

    /// One mail, written under `writing`: (where it is, where it goes).
    fn write_beside(&self, writing: &Path, mail: &Delivery<'_>) -> std::io::Result<(PathBuf, PathBuf)> {
        use std::io::Write;
        if !plain(mail.outbox_id) {
            return Err(std::io::Error::other("outbox id is not a plain id"));
        }
        let name = match mail.subject_id.filter(|s| plain(s)) {
            Some(subject) => format!("{subject}_{}.eml", mail.outbox_id),
            None => format!("{}.eml", mail.outbox_id),
        };
        let temporary = writing.join(&name);
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(mail.raw)?;
        Ok((temporary, self.dir.join(name)))
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
        let one = |subject_id, outbox_id, raw: &[u8]| {
            files.deliver_all(&[Delivery { subject_id, outbox_id, raw }]).pop().expect("one answer per mail")
        };
        let hers = one(Some(minji), "0190a1b2-0000-7000-8000-0000000000a1", b"To: minji@example.com").unwrap();
        let theirs = one(Some(other), "0190a1b2-0000-7000-8000-0000000000a2", b"To: x@example.com").unwrap();
        let nobodys = one(None, "0190a1b2-0000-7000-8000-0000000000a3", b"To: y@example.com").unwrap();
        assert!(!hers.to_string_lossy().contains("example"), "no address in a file name");
        assert!(one(Some(minji), "../escape", b"").is_err(), "never a path");

        assert_eq!(files.forget(&[minji]).unwrap(), 1);
        assert!(!hers.exists() && theirs.exists() && nobodys.exists());

        let now = SystemTime::now();
        let old = now - Duration::from_secs(8 * 86_400);
        std::fs::File::options().write(true).open(&theirs).unwrap().set_modified(old).unwrap();
        assert_eq!(files.expire(Duration::from_secs(7 * 86_400), now).unwrap(), 1, "older than 7 days");
        assert!(!theirs.exists() && nobodys.exists(), "the newer file stays");
    }

    #[test]
    fn a_batch_lands_whole_each_mail_in_place_and_a_bad_one_alone_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = MailFiles::in_data_dir(dir.path()).unwrap();
        let subject = "0190a1b2-0000-7000-8000-000000000001";
        let ids = ["0190a1b2-0000-7000-8000-0000000000b1", "not/plain", "0190a1b2-0000-7000-8000-0000000000b2"];
        let mails: Vec<Delivery<'_>> = ids
            .iter()
            .map(|id| Delivery { subject_id: Some(subject), outbox_id: id, raw: b"To: a@example.com\r\n" })
            .collect();
        let answers = files.deliver_all(&mails);
        assert_eq!(answers.len(), 3, "one answer per mail, in order");
        assert!(answers[1].is_err(), "the id that is not plain is refused");
        for answer in [&answers[0], &answers[2]] {
            let path = answer.as_ref().unwrap();
            assert_eq!(std::fs::read(path).unwrap(), b"To: a@example.com\r\n");
            assert_eq!(path.parent().unwrap(), files.dir(), "renamed into the folder");
        }
        let left: Vec<_> = std::fs::read_dir(files.dir().join(".writing")).unwrap().collect();
        assert!(left.is_empty(), "nothing left half-way: {left:?}");
    }
}
