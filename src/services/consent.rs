//! The consent door: every consent change Assent makes comes through [`Door::apply`], whoever
//! asks for it (a form submission, the preference center, the subject API, a mail link, the
//! retention job, erasure). Callers differ only in how they got the transition.
//!
//! The door loads the previous state, asks the pure lifecycle (`domain::lifecycle::next`) what
//! the transition leads to, and hands events and state rows together to the one writer
//! (`db::consent::record`). Consequences follow in the same transaction (`erasure::settle`):
//! values that no consent in force needs are erased, and a person left with nothing is erased
//! whole (see `services::erasure`).

use chrono::NaiveDateTime;
use std::borrow::Cow;
use std::collections::HashMap;

use crate::db::DbConnection;
use crate::db::WriteTx;
use crate::db::catalog::{Catalog, PublishedPurpose};
use crate::db::consent::{self, ConsentState, StateWrite, Write};
use crate::db::ledger::{ConsentEvent, NewEvent};
use crate::domain::lifecycle::{self, Refusal, Standing, Terms, Transition};
use crate::domain::{Channel, Locale, Method, Retention, SubjectId};

/// What the door knows besides the catalogue.
#[derive(Clone, Copy)]
pub struct Door<'a> {
    pub catalog: &'a Catalog,
    /// How often consents that reach people are re-confirmed by notice (정보통신망법 art. 50(8)).
    pub notice_interval: Retention,
}

/// The `purpose_key` of an `erased` event that concerns the person as a whole: written for
/// someone erased while none of their consents was in force (e.g. after they all expired).
pub const WHOLE_PERSON: &str = "*";

/// The statutory default reminder interval: two years.
pub const DEFAULT_NOTICE_INTERVAL: Retention = Retention::months(24);

/// One consent change asked of the door.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub subject_id: &'a SubjectId,
    pub purpose_key: &'a str,
    pub transition: Transition,
    pub method: Method,
    /// What the change came from (a submission id, a link id, "retention", …).
    pub source: &'a str,
    /// Sealed evidence (`crypto::seal_evidence`), or `{}` for the system's own changes.
    pub evidence: &'a str,
    /// The language the person read the wording in (`None`: nobody was shown anything, as on
    /// expiry): the event's text hash is of the wording in that language.
    pub shown_in: Option<Locale>,
    /// When it happened, if before this piece of work (an imported consent): the lifecycle
    /// decides as of then and the event's `occurred_at` is then; its `recorded_at` is now.
    pub occurred_at: Option<NaiveDateTime>,
    /// The policy version agreed to, if not the purpose's current one (an import under the
    /// wording in force then).
    pub wording: Option<&'a str>,
}

/// Whose state rows [`Door::apply_forgetting`] removes after the changes.
#[derive(Debug, Clone, Copy)]
pub enum Forget<'a> {
    Nobody,
    /// These people's (they are being erased).
    These(&'a [SubjectId]),
    /// Whoever the changes leave with nothing in force: for callers that erase them in the same
    /// transaction (retention's expiry, then `erasure::settle`), so that their rows are removed
    /// at once instead of being rewritten first. The events are the same.
    LeftWithNothing,
}

/// A change the door made.
#[derive(Debug, Clone)]
pub struct Applied {
    pub event: ConsentEvent,
    /// The state it led to (`None`: the row went, on erasure).
    pub state: Option<ConsentState>,
    pub confirmation_needed: bool,
}

/// Why the door did not make a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no such purpose")]
    UnknownPurpose,
    #[error(transparent)]
    Lifecycle(#[from] Refusal),
}

/// The consent states of the people a piece of work touches, as they are inside its
/// transaction (the door keeps it current as it changes them).
#[derive(Debug, Default, Clone)]
pub struct States(HashMap<SubjectId, Vec<ConsentState>>);

impl States {
    pub fn load(conn: &mut DbConnection, subject_ids: &[impl AsRef<str>]) -> diesel::QueryResult<Self> {
        Ok(Self::from_rows(consent::for_subjects(conn, subject_ids)?))
    }

    pub fn from_rows(rows: impl IntoIterator<Item = ConsentState>) -> Self {
        let mut by_subject: HashMap<SubjectId, Vec<ConsentState>> = HashMap::new();
        for row in rows {
            by_subject.entry(row.subject_id.clone()).or_default().push(row);
        }
        Self(by_subject)
    }

    pub fn get(&self, subject_id: &str, purpose_key: &str) -> Option<&ConsentState> {
        self.of(subject_id).iter().find(|s| s.purpose_key == purpose_key)
    }

    /// Every state row of one person.
    pub fn of(&self, subject_id: &str) -> &[ConsentState] {
        self.0.get(subject_id).map_or(&[], Vec::as_slice)
    }

    /// Whether none of this person's consents is in force (they are to be erased whole).
    pub fn left_with_nothing(&self, subject_id: &str) -> bool {
        lifecycle::left_with_nothing(self.of(subject_id).iter().map(|s| &s.status))
    }

    fn put(&mut self, state: ConsentState) {
        let rows = self.0.entry(state.subject_id.clone()).or_default();
        match rows.iter_mut().find(|s| s.purpose_key == state.purpose_key) {
            Some(row) => *row = state,
            None => rows.push(state),
        }
    }

    fn remove(&mut self, subject_id: &str, purpose_key: &str) {
        if let Some(rows) = self.0.get_mut(subject_id) {
            rows.retain(|s| s.purpose_key != purpose_key);
        }
    }

    pub(super) fn forget(&mut self, subject_id: &str) {
        self.0.remove(subject_id);
    }
}

impl<'a> Door<'a> {
    pub fn new(catalog: &'a Catalog) -> Self {
        Self { catalog, notice_interval: DEFAULT_NOTICE_INTERVAL }
    }

    /// The lifecycle's view of a purpose.
    pub fn terms(&self, purpose: &'a PublishedPurpose) -> Terms<'a> {
        Terms {
            required: purpose.required,
            reaches_person: purpose.channel != Channel::None,
            retention: purpose.retention,
            notice_interval: self.notice_interval,
            policy_version_id: &purpose.policy.id,
        }
    }

    /// Makes `changes` in order, each from the state the ones before it left, and writes them
    /// all at once. A change the lifecycle refuses is not made; its refusal stands in its place.
    pub fn apply(
        &self,
        tx: &mut WriteTx<'_>,
        states: &mut States,
        changes: &[Change<'_>],
        now: NaiveDateTime,
    ) -> diesel::QueryResult<Vec<Result<Applied, Refused>>> {
        self.apply_forgetting(tx, states, changes, Forget::Nobody, now)
    }

    /// [`Door::apply`], then removes every state row of the people `forget` names in the same
    /// write (a row removed is not written first); they are no longer in `states` afterwards.
    pub fn apply_forgetting(
        &self,
        tx: &mut WriteTx<'_>,
        states: &mut States,
        changes: &[Change<'_>],
        forget: Forget<'_>,
        now: NaiveDateTime,
    ) -> diesel::QueryResult<Vec<Result<Applied, Refused>>> {
        let decided = self.decide_all(states, changes, now);
        let forget: Cow<'_, [SubjectId]> = match forget {
            Forget::Nobody => Cow::Borrowed(&[]),
            Forget::These(ids) => Cow::Borrowed(ids),
            Forget::LeftWithNothing => {
                let mut ids: Vec<SubjectId> =
                    changes.iter().map(|c| c.subject_id).filter(|id| states.left_with_nothing(id)).cloned().collect();
                ids.sort_unstable();
                ids.dedup();
                Cow::Owned(ids)
            }
        };
        self.write_decided(tx, states, changes, decided, &forget, now)
    }

    /// Decides each change in order, against the state the ones before it left (in `states`).
    fn decide_all(&self, states: &mut States, changes: &[Change<'_>], now: NaiveDateTime) -> Vec<Decided> {
        changes.iter().map(|change| self.decide(states, change, now)).collect()
    }

    /// Writes what was decided (events, state rows), then removes every state row of `forget`.
    fn write_decided(
        &self,
        tx: &mut WriteTx<'_>,
        states: &mut States,
        changes: &[Change<'_>],
        decided: Vec<Decided>,
        forget: &[SubjectId],
        now: NaiveDateTime,
    ) -> diesel::QueryResult<Vec<Result<Applied, Refused>>> {
        let writes: Vec<Write<'_>> = changes
            .iter()
            .zip(&decided)
            .filter_map(|(change, decision)| decision.as_ref().ok().map(|d| self.write(change, d, now)))
            .collect();
        let mut appended = consent::record(tx.conn, tx.head, &writes, forget)?.into_iter();
        let mut results = Vec::with_capacity(changes.len());
        for (change, decision) in changes.iter().zip(decided) {
            let decision = match decision {
                Ok(d) => d,
                Err(refused) => {
                    results.push(Err(refused));
                    continue;
                }
            };
            let event = appended.next().ok_or(diesel::result::Error::NotFound)?;
            let state = decision.outcome.next.as_ref().map(|s| row(change, s, event.seq, event.occurred_at));
            results.push(Ok(Applied { event, state, confirmation_needed: decision.outcome.confirmation_needed }));
        }
        for result in results.iter().flatten() {
            match &result.state {
                Some(s) => states.put(s.clone()),
                None => states.remove(&result.event.subject_id, &result.event.purpose_key),
            }
        }
        for subject in forget {
            states.forget(subject);
        }
        Ok(results)
    }

    /// Asks the lifecycle, against the state as the changes before this one left it.
    fn decide(&self, states: &mut States, change: &Change<'_>, now: NaiveDateTime) -> Result<Decision, Refused> {
        if change.purpose_key == WHOLE_PERSON && change.transition == Transition::Erase {
            let outcome = lifecycle::Outcome {
                action: crate::domain::ConsentAction::Erased,
                policy_version_id: String::new(),
                next: None,
                confirmation_needed: false,
            };
            return Ok(Decision { outcome, existed: false, text_hash: String::new() });
        }
        let purpose = self.catalog.purpose(change.purpose_key).ok_or(Refused::UnknownPurpose)?;
        let previous = states.get(change.subject_id, change.purpose_key);
        let existed = previous.is_some();
        let at = change.occurred_at.unwrap_or(now);
        let terms = Terms { policy_version_id: change.wording.unwrap_or(&purpose.policy.id), ..self.terms(purpose) };
        let outcome = lifecycle::next(previous.map(ConsentState::standing).as_ref(), change.transition, &terms, at)?;
        // Later changes in the same call see this one (the seq is filled in after writing).
        match &outcome.next {
            Some(s) => states.put(row(change, s, 0, crate::domain::ledger::ledger_time(at))),
            None => states.remove(change.subject_id, change.purpose_key),
        }
        let text_hash = self.catalog.policy_text_hash(&outcome.policy_version_id, change.shown_in).to_owned();
        Ok(Decision { outcome, existed, text_hash })
    }

    fn write<'c>(&self, change: &Change<'c>, decision: &'c Decision, now: NaiveDateTime) -> Write<'c> {
        let state = match (&decision.outcome.next, decision.existed) {
            (Some(s), true) => StateWrite::Update(s.clone()),
            (Some(s), false) => StateWrite::Insert(s.clone()),
            (None, true) => StateWrite::Remove,
            (None, false) => StateWrite::Keep,
        };
        Write {
            event: NewEvent {
                subject_id: change.subject_id,
                purpose_key: change.purpose_key,
                action: decision.outcome.action.as_str(),
                policy_version_id: &decision.outcome.policy_version_id,
                policy_text_hash: &decision.text_hash,
                method: change.method.as_str(),
                source: change.source,
                evidence: change.evidence,
                occurred_at: change.occurred_at.unwrap_or(now),
                recorded_at: change.occurred_at.map(|_| now),
            },
            state,
        }
    }
}

struct Decision {
    outcome: lifecycle::Outcome,
    existed: bool,
    text_hash: String,
}

type Decided = Result<Decision, Refused>;

fn row(change: &Change<'_>, s: &Standing, seq: i64, at: NaiveDateTime) -> ConsentState {
    ConsentState {
        subject_id: change.subject_id.clone(),
        purpose_key: change.purpose_key.to_owned(),
        status: s.status,
        policy_version_id: s.policy_version_id.clone(),
        granted_at: s.granted_at,
        expires_at: s.expires_at,
        updated_at: at,
        last_event_seq: seq,
        notice_anchor_at: s.notice_anchor_at,
    }
}
