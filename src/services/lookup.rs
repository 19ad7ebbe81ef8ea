//! Reading consent state: per subject, by e-mail through the blind index.

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use diesel::QueryResult;
use serde::Serialize;

use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use super::ServiceError;
use crate::crypto::Keyring;
use crate::db::DbConnection;
use crate::db::catalog::{Catalog, policy_versions_by_id};
use crate::db::change_log::PersonStamp;
use crate::db::changes::Changes;
use crate::db::consent::{self, ConsentState};
use crate::domain::purpose::may_send_now;
use crate::domain::{ConsentStatus, PurposeKey};

/// The state of one purpose for one person, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub purpose: String,
    pub status: ConsentStatus,
    pub granted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub policy_version: Option<i64>,
    pub policy_version_id: Option<String>,
    /// Whether a message for this purpose may go out now (or at `?at=`): granted and, for
    /// advertising between 21:00 and 08:00 in the workspace's time zone (`ASSENT_TIME_ZONE`),
    /// only if its consent covers the night (정보통신망법 art. 50(3)).
    pub may_send_now: bool,
}

/// Views for `purposes` (in that order); a purpose never answered is `never`. Policy version
/// numbers come from the catalogue, or from the database for a version published since it was
/// loaded.
pub fn consent_views(
    conn: &mut DbConnection,
    catalog: &Catalog,
    purposes: &[PurposeKey],
    states: &[ConsentState],
    local: NaiveTime,
) -> QueryResult<Vec<ConsentView>> {
    let unknown: Vec<String> = states
        .iter()
        .filter(|s| !catalog.policy_version_numbers.contains_key(&s.policy_version_id))
        .map(|s| s.policy_version_id.clone())
        .collect();
    let fetched: HashMap<String, i64> = if unknown.is_empty() {
        HashMap::new()
    } else {
        policy_versions_by_id(conn, &unknown)?.into_iter().map(|v| (v.id, v.version)).collect()
    };
    Ok(views(catalog, &fetched, purposes, states, local))
}

/// Views from state rows alone, when the catalogue knows every policy version they name.
pub fn consent_views_known(
    catalog: &Catalog,
    purposes: &[PurposeKey],
    states: &[ConsentState],
    local: NaiveTime,
) -> Option<Vec<ConsentView>> {
    let known = states.iter().all(|s| catalog.policy_version_numbers.contains_key(&s.policy_version_id));
    known.then(|| views(catalog, &HashMap::new(), purposes, states, local))
}

fn views(
    catalog: &Catalog,
    fetched: &HashMap<String, i64>,
    purposes: &[PurposeKey],
    states: &[ConsentState],
    local: NaiveTime,
) -> Vec<ConsentView> {
    let number = |id: &str| catalog.policy_version_numbers.get(id).or_else(|| fetched.get(id)).copied();
    // At night only a consent given under wording that covered the night counts (a version
    // published since the catalogue was loaded is taken not to: the safe answer).
    let may_send = |p: &PurposeKey, s: &ConsentState| {
        let night = catalog.night_time_versions.contains(&s.policy_version_id);
        catalog.purposes.get(p.as_str()).is_some_and(|d| may_send_now(s.status, d.channel, night, local))
    };
    let utc = |t: Option<NaiveDateTime>| t.map(|t| t.and_utc());
    purposes
        .iter()
        .map(|p| match states.iter().find(|s| s.purpose_key == p.as_str()) {
            Some(s) => ConsentView {
                purpose: p.to_string(),
                status: s.status,
                granted_at: utc(s.granted_at),
                expires_at: utc(s.expires_at),
                policy_version: number(&s.policy_version_id),
                policy_version_id: Some(s.policy_version_id.clone()),
                may_send_now: may_send(p, s),
            },
            None => ConsentView {
                purpose: p.to_string(),
                status: ConsentStatus::Never,
                granted_at: None,
                expires_at: None,
                policy_version: None,
                policy_version_id: None,
                may_send_now: false,
            },
        })
        .collect()
}

/// The subject id and consent states of the person with this e-mail blind index (none, and no
/// states, for an address Assent holds nothing for or has erased).
/// (subject id, states, external id) of the person an address names; `None` and nothing when
/// it names nobody.
pub type StatesByEmail = (Option<String>, Arc<[ConsentState]>, Option<String>);

/// Consent states by e-mail blind index, for the consent check: the hot read path of
/// integrations that ask before every message they send. An entry is trusted only while nothing
/// committed since it was read could have changed it ([`Changes::unchanged`]: no write about
/// this address or this person by this process, and nothing at all by another), so an answer
/// from here is never older than the last committed write this process can know of: any commit
/// by this process at once, and another process's within milliseconds (once it has been seen).
/// People signing up meanwhile leave the others' entries standing (the commits say whom they
/// touched: `db::touched`, `db::touched_pg`). Asking costs an atomic load and a read lock.
/// It holds blind indexes, states and rendered answers, never an address.
pub struct ConsentCache {
    changes: Changes,
    entries: RwLock<HashMap<Vec<u8>, Entry>>,
}

/// A cached read, and the stamp it was read under.
type Entry = (PersonStamp, Arc<Found>);

/// An answer rendered under a catalogue (held weakly: see [`Found::body`]).
type Rendered = Option<(Weak<Catalog>, Bytes)>;

/// A cached read: whom an address names and their states, with the consent check's answer for
/// them rendered at most once per catalogue and time of day (the answer depends on nothing else:
/// [`consent_views_known`]).
pub struct Found {
    pub states: StatesByEmail,
    /// By [`crate::domain::purpose::is_daytime`]: the night's answer, the day's.
    bodies: [RwLock<Rendered>; 2],
}

impl Found {
    fn new(states: StatesByEmail) -> Self {
        Self { states, bodies: Default::default() }
    }

    /// The answer under `catalog` in the `daytime` or not, `render`ed the first time it is
    /// asked (and again under another catalogue); `None` when `render` cannot answer.
    pub fn body(&self, catalog: &Arc<Catalog>, daytime: bool, render: impl FnOnce() -> Option<Bytes>) -> Option<Bytes> {
        let cell = &self.bodies[usize::from(daytime)];
        // The weak pointer keeps its allocation, so another catalogue can never share its address.
        if let Some((rendered_under, body)) = &*cell.read().unwrap_or_else(|e| e.into_inner())
            && std::ptr::eq(rendered_under.as_ptr(), Arc::as_ptr(catalog))
        {
            return Some(body.clone());
        }
        let body = render()?;
        *cell.write().unwrap_or_else(|e| e.into_inner()) = Some((Arc::downgrade(catalog), body.clone()));
        Some(body)
    }
}

/// Entries held at most; past it the cache starts again.
const CONSENT_CACHE_MAX: usize = 100_000;

/// What [`ConsentCache::get`] found.
pub enum Cached {
    Hit(Arc<Found>),
    /// Not cached, or changed since: read with [`ConsentCache::read`].
    Miss,
}

impl ConsentCache {
    pub fn new(changes: Changes) -> Self {
        Self { changes, entries: RwLock::default() }
    }

    /// What this cache's entries are stamped with.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// The entry for `index`, if nothing that could change it was committed since it was read.
    pub fn get(&self, index: &[u8]) -> Cached {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        match entries.get(index) {
            Some((at, found)) if self.changes.unchanged(*at, index, found.states.0.as_deref()) => {
                Cached::Hit(found.clone())
            }
            _ => Cached::Miss,
        }
    }

    /// Reads from the database and remembers the answer under `stamp`, which must have been
    /// taken ([`Changes::person_stamp`]) before this read.
    pub fn read(
        &self,
        conn: &mut DbConnection,
        keyring: &Keyring,
        index: &[u8],
        stamp: Option<PersonStamp>,
        holds_possible: bool,
    ) -> Result<Arc<Found>, ServiceError> {
        let (subject_id, states) = consent::by_email_index(conn, index)?;
        let states = super::holds::checked_states(conn, subject_id.as_deref(), index, states, holds_possible)?;
        let external_id = match &subject_id {
            Some(id) => super::external_ids::of(conn, keyring, &[id.as_str()])?.remove(id),
            None => None,
        };
        let found = Arc::new(Found::new((subject_id, states.into(), external_id)));
        if let Some(stamp) = stamp {
            let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
            if entries.len() >= CONSENT_CACHE_MAX {
                entries.clear();
            }
            entries.insert(index.to_vec(), (stamp, found.clone()));
        }
        Ok(found)
    }
}
