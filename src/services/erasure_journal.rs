//! The erasure journal: every person erased, kept outside the database so that restoring a
//! backup cannot bring them back. One JSON line per person (`{"subject":…,"erased_at":…}`: a
//! subject id and a time, nothing personal: the ledger keeps the same id in its `erased` events),
//! appended and synced to disk by the writer right after the commit that erased them
//! (`db::ErasureHook`), before anyone is told. `serve`, `assent restore` and `assent restore
//! --reconcile` replay it (`services::restore::replay_erasures`).

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::db::{Erasure, ErasureHook};
use crate::mail::files::MailFiles;

/// The journal file.
#[derive(Debug, Clone)]
pub struct ErasureJournal {
    path: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Line {
    subject: String,
    erased_at: NaiveDateTime,
}

/// What the journal holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Journaled {
    pub subjects: HashSet<String>,
    /// Lines (1-based) that are not a journal entry: a write torn by a crash, whose erasure the
    /// next start journals again from the database. Reported, never fatal.
    pub damaged: Vec<usize>,
}

impl ErasureJournal {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The default place: `erasures.jsonl` in the data folder.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::at(data_dir.join("erasures.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends these people in one write and syncs it to disk. A last line torn by a crash
    /// mid-write is closed first, so it stays the only damaged one (and is skipped on reading).
    pub fn append(&self, erased: &[Erasure]) -> std::io::Result<()> {
        if erased.is_empty() {
            return Ok(());
        }
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)?;
        }
        let created = !self.path.exists();
        let mut file = std::fs::OpenOptions::new().create(true).read(true).append(true).open(&self.path)?;
        let mut text = Vec::with_capacity(erased.len() * 80);
        if file.seek(SeekFrom::End(0))? > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                text.push(b'\n');
            }
        }
        for e in erased {
            let line = Line { subject: e.subject_id.clone(), erased_at: e.at };
            text.extend(serde_json::to_vec(&line).map_err(std::io::Error::other)?);
            text.push(b'\n');
        }
        file.write_all(&text)?;
        file.sync_data()?;
        // A new file's name must reach the disk too.
        match dir.filter(|_| created) {
            Some(dir) => std::fs::File::open(dir)?.sync_all(),
            None => Ok(()),
        }
    }

    /// Every subject id the journal holds (none when it has no file yet), and the lines that
    /// could not be read.
    pub fn read(&self) -> std::io::Result<Journaled> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Journaled::default()),
            Err(e) => return Err(e),
        };
        let mut journaled = Journaled::default();
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Line>(line) {
                Ok(l) => {
                    journaled.subjects.insert(l.subject);
                }
                Err(_) => journaled.damaged.push(i + 1),
            }
        }
        Ok(journaled)
    }
}

/// What the writer does after each commit that erased people: journal them, then remove the
/// mails the development file mailer delivered to them. A failure is logged (the commit stands;
/// the next `serve` start journals, from the database, every erasure the journal lacks).
pub fn hook(journal: ErasureJournal, mail_files: Option<MailFiles>) -> ErasureHook {
    Arc::new(move |erased: &[Erasure]| {
        if let Err(e) = journal.append(erased) {
            tracing::error!(error = %e, path = %journal.path.display(), people = erased.len(), "could not journal erasures");
        }
        if let Some(files) = &mail_files {
            let ids: Vec<&str> = erased.iter().map(|e| e.subject_id.as_str()).collect();
            match files.forget(&ids) {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed delivered mail files of erased people"),
                Err(e) => tracing::warn!(error = %e, "could not remove the mail files of erased people"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erasure(id: &str) -> Erasure {
        Erasure { subject_id: id.into(), at: NaiveDateTime::default() }
    }

    #[test]
    fn the_journal_keeps_every_erasure_and_survives_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ErasureJournal::in_data_dir(dir.path());
        assert_eq!(journal.read().unwrap(), Journaled::default(), "no file yet: nobody");
        journal.append(&[erasure("a"), erasure("b")]).unwrap();
        // A crash in the middle of the next append leaves half a line.
        let mut file = std::fs::OpenOptions::new().append(true).open(journal.path()).unwrap();
        file.write_all(br#"{"subject":"c","era"#).unwrap();
        let ids = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<HashSet<_>>();
        assert_eq!(journal.read().unwrap(), Journaled { subjects: ids(&["a", "b"]), damaged: vec![3] });
        journal.append(&[erasure("d")]).unwrap();
        let read = journal.read().unwrap();
        assert_eq!(read, Journaled { subjects: ids(&["a", "b", "d"]), damaged: vec![3] }, "the torn line stays alone");
        let text = std::fs::read_to_string(journal.path()).unwrap();
        assert!(text.ends_with("}\n") && text.lines().last().unwrap().contains(r#""subject":"d""#), "{text}");
    }
}
