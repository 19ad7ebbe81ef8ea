//! One chunk of an import: what each row would do, decided against what Assent holds (reads
//! only, so a dry run is the same decision), then written in one transaction through the door.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::held::{Held, ReadSet};
use super::report::{Outcome, RowReport};
use crate::crypto::{Bound, Keyring, seal_evidence};
use crate::db::DbConnection;
use crate::db::catalog::{Catalog, PublishedForm};
use crate::db::consent::ConsentState;
use crate::domain::import::steps::{self, Plan};
use crate::domain::import::{ImportedConsent, ImportedRow, RowCode, RowProblem};
use crate::domain::lifecycle::{Transition, in_force};
use crate::domain::{Evidence, PurposeKey, SubjectId};
use crate::domain::{consent::ImportEvidence, consent::may_store};
use crate::services::ServiceError;
use crate::services::audit::Actor;
use crate::services::consent::States;
use crate::services::submitted_values::{held_values, seal_values};

/// What every chunk of one import shares.
pub(crate) struct Context {
    pub(super) keyring: Arc<Keyring>,
    pub(super) catalog: Arc<Catalog>,
    pub(super) form: PublishedForm,
    /// Purpose key → the policy version id consents are recorded under (`--wording-version`).
    pub(super) wording: HashMap<String, String>,
    pub(super) import_id: String,
    pub(super) file_sha256: String,
    pub(super) dry_run: bool,
    /// A file with the same SHA-256 was imported before (not a dry run).
    pub(super) reimport: bool,
    pub(super) now: NaiveDateTime,
    pub(super) actor: Actor,
    /// The header of the external-id column (for its problems).
    pub(super) header_of_external: String,
    /// The header of the address column (named when a row repeats an earlier person).
    pub(super) header_of_email: String,
}

/// A row read from the file: its line, the address's blind index, and what it says.
pub(super) struct Parsed {
    pub line: u64,
    pub index: Vec<u8>,
    pub row: Result<ImportedRow, Vec<RowProblem>>,
}

/// What one row does.
pub(super) struct Planned {
    pub report: RowReport,
    pub(super) write: Option<RowWrite>,
    /// Consents it grants that are already past their retention (expired at once).
    pub expiring: u64,
}

/// Everything a row writes, sealed before the write.
pub(super) struct RowWrite {
    pub(super) subject: SubjectId,
    /// For someone new: the blind index, wrapped key and sealed address.
    pub(super) new_subject: Option<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// (row id, field, purposes, ciphertext).
    pub(super) values: Vec<(String, String, String, Vec<u8>)>,
    pub(super) steps: Vec<(PurposeKey, Transition, NaiveDateTime)>,
    pub(super) external: Option<(Vec<u8>, Vec<u8>)>,
    pub(super) evidence: String,
}

/// What the chunk wrote.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Written {
    pub events: u64,
    pub expired: u64,
}

/// A chunk decided: what each row does, and what the decision read.
pub(super) struct ChunkPlan {
    pub planned: Vec<Planned>,
    pub read: ReadSet,
}

/// Decides every row of the chunk (reads only).
pub(super) fn plan_chunk(conn: &mut DbConnection, ctx: &Context, parsed: &[Parsed]) -> Result<ChunkPlan, ServiceError> {
    let held = read_held(conn, ctx, parsed)?;
    let mut planned = Vec::with_capacity(parsed.len());
    for p in parsed {
        let row = match &p.row {
            Ok(row) => row,
            Err(problems) => {
                planned.push(refused(p.line, problems.clone()));
                continue;
            }
        };
        let known = held.found.get(&p.index);
        planned.push(plan_row(conn, ctx, &held, p.line, &p.index, row, known)?);
    }
    Ok(ChunkPlan { planned, read: held.read_set() })
}

/// A chunk as it is to be written: decided outside the writer (`Some`), the same decision if
/// nothing it found has changed since (another process or request may have written meanwhile),
/// otherwise (or `None`) decided here.
///
/// What it found absent is not read again: a person or an external id someone else wrote
/// meanwhile makes the chunk's insert fail on its blind index's uniqueness, and the chunk is
/// decided again (`write::InFlight::wait`). An import of new people reads nothing here.
pub(super) fn still_holds(
    conn: &mut DbConnection,
    ctx: &Context,
    parsed: &[Parsed],
    decided: Option<ChunkPlan>,
) -> Result<Vec<Planned>, ServiceError> {
    if let Some(decided) = decided {
        let (indexes, external) = decided.read.found_keys();
        if Held::read(conn, &indexes, &external)?.read_set() == decided.read {
            return Ok(decided.planned);
        }
    }
    Ok(plan_chunk(conn, ctx, parsed)?.planned)
}

/// What Assent holds of the people a chunk's valid rows name.
fn read_held(conn: &mut DbConnection, ctx: &Context, parsed: &[Parsed]) -> Result<Held, ServiceError> {
    let valid = || parsed.iter().filter_map(|p| p.row.as_ref().ok().map(|row| (p, row)));
    let indexes: Vec<&[u8]> = valid().map(|(p, _)| p.index.as_slice()).collect();
    let external: Vec<Vec<u8>> =
        valid().filter_map(|(_, row)| row.external_id.as_deref().map(|id| ctx.keyring.external_index(id))).collect();
    let external: Vec<&[u8]> = external.iter().map(Vec::as_slice).collect();
    Held::read(conn, &indexes, &external)
}

fn refused(line: u64, problems: Vec<RowProblem>) -> Planned {
    Planned {
        report: RowReport { line, outcome: Outcome::Refused, problems, kept: Vec::new() },
        write: None,
        expiring: 0,
    }
}

fn plan_row(
    conn: &mut DbConnection,
    ctx: &Context,
    held: &Held,
    line: u64,
    index: &[u8],
    row: &ImportedRow,
    known: Option<&(String, Vec<u8>)>,
) -> Result<Planned, ServiceError> {
    let (states, holders) = (&held.states, &held.holders);
    let (subject, key, held, wrapped) = person(conn, ctx, known)?;
    // The external id: refused when someone else has it, nothing to do when this person does.
    let external_index = row.external_id.as_deref().map(|id| ctx.keyring.external_index(id));
    let holder = external_index.as_ref().and_then(|i| holders.get(i));
    if holder.is_some_and(|h| h != subject.as_str()) {
        let column = ctx.header_of_external.clone();
        return Ok(refused(line, vec![RowProblem { column, code: RowCode::ExternalIdTaken }]));
    }
    // Someone new all of whose imported consents ended before today is recorded (and erased at
    // once); when this same file was imported before, that has been done.
    if known.is_none()
        && ctx.reimport
        && row.consents.iter().all(|c| c.withdrawn_at.is_some() || ends_at(ctx, c) <= ctx.now)
    {
        return Ok(Planned {
            report: RowReport { line, outcome: Outcome::Unchanged, problems: vec![], kept: vec![] },
            write: None,
            expiring: 0,
        });
    }
    let Decided { steps: steps_taken, kept, in_force_after, expiring } = decide(ctx, states, &subject, &row.consents);
    let mut accepted = row.accepted.clone();
    accepted.values.retain(|v| {
        may_store(&v.purposes, &in_force_after)
            && !held.as_ref().is_some_and(|h| h.iter().any(|(f, value)| f == v.key.as_str() && *value == v.value))
    });
    let external = match (external_index, holder) {
        (Some(index), None) => {
            let id = row.external_id.as_deref().unwrap_or_default();
            Some((index, key.seal(id.as_bytes(), Bound::External { subject: &subject })?))
        }
        _ => None,
    };
    let changes_anything = !steps_taken.is_empty() || !accepted.values.is_empty() || external.is_some();
    let outcome = match (known, changes_anything) {
        (_, false) => Outcome::Unchanged,
        (None, true) => Outcome::Created,
        (Some(_), true) => Outcome::Updated,
    };
    let report = RowReport { line, outcome, problems: Vec::new(), kept };
    if !changes_anything || ctx.dry_run {
        return Ok(Planned { report, write: None, expiring });
    }
    let sealed = Sealing { ctx, subject: &subject, key: &key, line };
    let write =
        sealed.write(wrapped.map(|w| (index.to_vec(), w)), &accepted, row.source.clone(), steps_taken, external)?;
    Ok(Planned { report, write: Some(write), expiring })
}

/// The person a row is for: their id and key, what is held about them, and (someone new) their
/// wrapped key.
#[allow(clippy::type_complexity)]
fn person(
    conn: &mut DbConnection,
    ctx: &Context,
    known: Option<&(String, Vec<u8>)>,
) -> Result<(SubjectId, crate::crypto::DataKey, Option<Vec<(String, String)>>, Option<Vec<u8>>), ServiceError> {
    Ok(match known {
        Some((id, wrapped)) => {
            let key = ctx.keyring.unwrap_data_key(wrapped, id)?;
            let held = held_values(conn, &key, id)?;
            (SubjectId::from(id.clone()), key, Some(held), None)
        }
        None => {
            let id = SubjectId::from(crate::db::new_row_id());
            let (key, wrapped) = ctx.keyring.new_data_key(&id)?;
            (id, key, None, Some(wrapped))
        }
    })
}

/// What a row's consents do.
struct Decided {
    steps: Vec<(PurposeKey, Transition, NaiveDateTime)>,
    /// Purposes where the person's later choice stands.
    kept: Vec<String>,
    /// The form's purposes in force once the steps are taken (what values may be kept for).
    in_force_after: Vec<PurposeKey>,
    /// Grants among the steps already past their retention.
    expiring: u64,
}

fn decide(ctx: &Context, states: &States, subject: &SubjectId, consents: &[ImportedConsent]) -> Decided {
    let mut decided = Decided {
        steps: Vec::new(),
        kept: Vec::new(),
        in_force_after: states
            .of(subject)
            .iter()
            .filter(|s| in_force(s.status))
            .filter_map(|s| ctx.form.definition.purposes.iter().find(|p| p.as_str() == s.purpose_key).cloned())
            .collect(),
        expiring: 0,
    };
    for consent in consents {
        let previous = states.get(subject, consent.purpose.as_str()).map(|s: &ConsentState| (s.status, s.updated_at));
        match steps::plan(previous, consent, ends_at(ctx, consent)) {
            Plan::Steps(steps) => {
                let ends_in_force = steps.last().is_some_and(|(t, _)| *t != Transition::Withdraw);
                decided.in_force_after.retain(|p| *p != consent.purpose);
                if ends_in_force {
                    decided.in_force_after.push(consent.purpose.clone());
                    decided.expiring += u64::from(ends_at(ctx, consent) <= ctx.now);
                }
                decided.steps.extend(steps.into_iter().map(|(t, at)| (consent.purpose.clone(), t, at)));
            }
            Plan::Unchanged => {}
            Plan::KeptNewer => decided.kept.push(consent.purpose.to_string()),
        }
    }
    decided
}

/// Sealing what a row writes under the person's key.
struct Sealing<'a> {
    ctx: &'a Context,
    subject: &'a SubjectId,
    key: &'a crate::crypto::DataKey,
    line: u64,
}

impl Sealing<'_> {
    fn write(
        &self,
        new: Option<(Vec<u8>, Vec<u8>)>,
        accepted: &crate::domain::AcceptedSubmission,
        source: Option<String>,
        steps: Vec<(PurposeKey, Transition, NaiveDateTime)>,
        external: Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<RowWrite, ServiceError> {
        let (ctx, subject, key) = (self.ctx, self.subject, self.key);
        let new_subject = match new {
            Some((index, wrapped)) => {
                let sealed = key.seal(accepted.email.as_str().as_bytes(), Bound::Email { subject, index: &index })?;
                Some((index, wrapped, sealed))
            }
            None => None,
        };
        let values = seal_values(key, subject, accepted)?
            .into_iter()
            .zip(&accepted.values)
            .map(|((id, purposes, ciphertext), v)| (id, v.key.to_string(), purposes, ciphertext))
            .collect();
        let import =
            ImportEvidence { import_id: ctx.import_id.clone(), file_sha256: ctx.file_sha256.clone(), line: self.line };
        let evidence = Evidence {
            locale: ctx.catalog.default_locale().as_str().to_owned(),
            form_version_id: Some(ctx.form.version_id.clone()),
            source,
            import: Some(import),
            ..Evidence::default()
        };
        let evidence = import_evidence(key, subject, &evidence)?;
        Ok(RowWrite { subject: subject.clone(), new_subject, values, steps, external, evidence })
    }
}

/// An imported row's evidence as the ledger keeps it: sealed under the person's key when it
/// carries the file's own `source` text (free text may name someone), else as plain JSON, since
/// the import, the file's digest, the line, the form version and the locale say nothing about
/// anyone (as the evidence of an erasure). Plain, it is less than half the size (a third of an
/// imported person's ledger bytes) and stays readable after the person's key is shredded.
fn import_evidence(key: &crate::crypto::DataKey, subject: &str, evidence: &Evidence) -> Result<String, ServiceError> {
    if evidence.source.is_some() {
        return Ok(seal_evidence(key, subject, evidence)?);
    }
    // As `seal_evidence`: a struct of strings always serialises.
    serde_json::to_string(evidence).map_err(|_| ServiceError::Crypto(crate::crypto::CryptoError::Encrypt))
}

/// When an imported grant's retention period ends.
fn ends_at(ctx: &Context, consent: &ImportedConsent) -> NaiveDateTime {
    ctx.catalog
        .purpose(consent.purpose.as_str())
        .map_or(NaiveDateTime::MAX, |p| p.retention.expires_at(consent.granted_at.and_utc()).naive_utc())
}

/// Blind indexes seen earlier in the file: a person is imported from one row only. Each is kept
/// by its first 12 bytes (96 bits of an HMAC: two addresses in a file of a million rows share them
/// with a chance of about 10⁻¹⁷), in a table sized for the file at the start, so that it never
/// grows (a table growing holds its old and new copies at once: half again its size, for a million
/// rows some 20 MiB).
#[derive(Default)]
pub(super) struct Seen {
    people: HashSet<[u8; 12]>,
    external: HashSet<[u8; 12]>,
}

impl Seen {
    /// A record for a file of about `rows` rows.
    pub fn for_rows(rows: u64) -> Self {
        let rows = usize::try_from(rows).unwrap_or(usize::MAX).min(20_000_000);
        Self { people: HashSet::with_capacity(rows), external: HashSet::new() }
    }

    /// Whether this address (or external id) came before; remembers it.
    pub fn again(&mut self, index: &[u8], external: Option<&[u8]>) -> (bool, bool) {
        let short = |i: &[u8]| {
            let mut s = [0u8; 12];
            s.iter_mut().zip(i).for_each(|(d, b)| *d = *b);
            s
        };
        let person = !self.people.insert(short(index));
        let id = external.is_some_and(|e| !self.external.insert(short(e)));
        (person, id)
    }
}
