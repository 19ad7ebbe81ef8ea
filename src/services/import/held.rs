//! What a chunk's decision reads of what Assent holds, and the fingerprint of it that lets a
//! chunk decided outside the writer be written only if none of it changed meanwhile.

use std::collections::HashMap;

use crate::db::{DbConnection, external_ids, subjects};
use crate::services::ServiceError;
use crate::services::consent::States;

/// The people a chunk names, as held: found by address, their consents, and who holds the
/// external ids it names.
pub(super) struct Held {
    /// Blind index → (subject id, wrapped key), for the live people the chunk's addresses name.
    pub found: HashMap<Vec<u8>, (String, Vec<u8>)>,
    pub states: States,
    /// External-id blind index → the subject holding it.
    pub holders: HashMap<Vec<u8>, String>,
    /// The ids of every value held about the people found.
    value_ids: Vec<String>,
}

/// Everything a decision depended on, in a comparable form (ids and sequence numbers only).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ReadSet {
    found: Vec<(Vec<u8>, String)>,
    states: Vec<(String, String, i64)>,
    holders: Vec<(Vec<u8>, String)>,
    value_ids: Vec<String>,
}

impl ReadSet {
    /// The blind indexes that named someone: the people found, and the external ids held.
    pub fn found_keys(&self) -> (Vec<&[u8]>, Vec<&[u8]>) {
        let people = self.found.iter().map(|(index, _)| index.as_slice()).collect();
        (people, self.holders.iter().map(|(index, _)| index.as_slice()).collect())
    }
}

impl Held {
    /// Reads what a chunk's valid rows name: their addresses' and external ids' blind indexes.
    pub fn read(conn: &mut DbConnection, indexes: &[&[u8]], external_indexes: &[&[u8]]) -> Result<Self, ServiceError> {
        let found: HashMap<Vec<u8>, (String, Vec<u8>)> = if indexes.is_empty() {
            HashMap::new()
        } else {
            subjects::find_by_indexes(conn, indexes)?
                .into_iter()
                .filter_map(|s| s.wrapped_key.map(|key| (s.email_index, (s.id, key))))
                .collect()
        };
        let existing: Vec<&str> = found.values().map(|(id, _)| id.as_str()).collect();
        let states = States::load(conn, &existing)?;
        let value_ids = if existing.is_empty() { Vec::new() } else { subjects::value_ids_of(conn, &existing)? };
        let holders: HashMap<Vec<u8>, String> = if external_indexes.is_empty() {
            HashMap::new()
        } else {
            external_ids::subjects_of(conn, external_indexes)?.into_iter().collect()
        };
        Ok(Self { found, states, holders, value_ids })
    }

    /// The fingerprint of what was read.
    pub fn read_set(&self) -> ReadSet {
        let mut found: Vec<(Vec<u8>, String)> =
            self.found.iter().map(|(index, (id, _))| (index.clone(), id.clone())).collect();
        found.sort();
        let mut states: Vec<(String, String, i64)> = found
            .iter()
            .flat_map(|(_, id)| self.states.of(id))
            .map(|s| (s.subject_id.to_string(), s.purpose_key.clone(), s.last_event_seq))
            .collect();
        states.sort();
        let mut holders: Vec<(Vec<u8>, String)> = self.holders.iter().map(|(i, s)| (i.clone(), s.clone())).collect();
        holders.sort();
        let mut value_ids = self.value_ids.clone();
        value_ids.sort();
        ReadSet { found, states, holders, value_ids }
    }
}
