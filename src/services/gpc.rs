//! Global Privacy Control (CCPA regulations § 7025): a request carrying `Sec-GPC: 1` is a valid
//! request to opt out of the sale and sharing of personal data. What a form submission with it
//! may grant, and what it records instead (see `domain::lifecycle::Transition::OptOut`).

use crate::db::catalog::{Catalog, PublishedForm};
use crate::domain::PurposeKey;

/// Global Privacy Control (CCPA regulations § 7025): with the signal (`Sec-GPC: 1`), the form's
/// purposes that sell or share data are opted out of, never granted, whatever was ticked.
pub fn opt_outs(catalog: &Catalog, form: &PublishedForm, gpc: bool) -> Vec<PurposeKey> {
    if !gpc {
        return Vec::new();
    }
    let sells = |p: &&PurposeKey| catalog.purpose(p.as_str()).is_some_and(|d| d.sale_or_share);
    form.definition.purposes.iter().filter(sells).cloned().collect()
}
