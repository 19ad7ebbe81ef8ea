//! Global Privacy Control (CCPA regulations § 7025): what a submission carrying the signal keeps.

use super::PurposeKey;
use super::consent::may_store;
use super::form::{AcceptedSubmission, AcceptedValue};

/// The submission without `refused` purposes: they are not granted, and values only they would
/// justify are dropped (named with the other dropped fields).
pub fn without(mut accepted: AcceptedSubmission, refused: &[PurposeKey]) -> AcceptedSubmission {
    accepted.granted.retain(|p| !refused.contains(p));
    let granted = accepted.granted.clone();
    let (kept, dropped): (Vec<AcceptedValue>, Vec<AcceptedValue>) =
        accepted.values.into_iter().partition(|v| may_store(&v.purposes, &granted));
    accepted.values = kept;
    accepted.dropped.extend(dropped.into_iter().map(|v| v.key));
    accepted
}
