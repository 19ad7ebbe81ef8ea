//! A purpose's notice: everything a person is shown about it (its wording and its terms), and
//! the hash of it all; a change to any of it publishes a new policy version.

use serde::Serialize;

use crate::crypto::sha256_hex;
use crate::db::catalog::{self, PolicyVersion};
use crate::domain::provision::NoticeDetails;
use crate::domain::{Localized, Obligation};

/// At most this many third parties per purpose, each named in at most [`PARTY_MAX`] characters.
const PARTIES_MAX: usize = 50;
const PARTY_MAX: usize = 200;

/// Refuses a list of third parties with an empty, overlong or repeated name.
pub fn check_third_parties(parties: &[String]) -> Result<(), &'static str> {
    if parties.len() > PARTIES_MAX {
        return Err("at most 50 third parties");
    }
    let mut seen = std::collections::HashSet::new();
    for party in parties {
        let name = party.trim();
        if name.is_empty() || name.chars().count() > PARTY_MAX {
            return Err("each third party needs a name of 1 to 200 characters");
        }
        if !seen.insert(name) {
            return Err("a third party is named twice");
        }
    }
    Ok(())
}

/// The terms a purpose is shown with, beside its wording: part of its notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Terms<'a> {
    pub required: bool,
    pub legal_basis: &'a str,
    pub channel: &'a str,
    pub retention: String,
    pub renewal_window_days: i64,
    /// Absent from the JSON when empty (and `sensitive` when false), so the notices of purposes
    /// published before these were part of it keep their hashes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub third_parties: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// Night-time advertising (21:00–08:00) is part of what is agreed to (absent when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub night_time: bool,
    /// The purpose sells or shares personal data (CCPA; absent when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sale_or_share: bool,
    /// What another law obliges the company to keep, and for how long (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obligation: Option<Obligation>,
    /// Kind, recipients and refusal text (each absent when it says nothing).
    #[serde(flatten)]
    pub details: NoticeDetails,
}

impl Terms<'_> {
    /// Canonical JSON (field order fixed).
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Hash of a whole notice: the wording's hash and the terms' canonical JSON.
pub fn notice_hash(wording_hash: &str, terms: &str) -> String {
    sha256_hex(serde_json::json!({ "terms": terms, "wording": wording_hash }).to_string().as_bytes())
}

/// Whether the published version `v` is the notice the spec describes: the same wording and the
/// same terms (a version from before notices were snapshotted was shown with the purpose's).
pub(super) fn shows_the_same(
    v: &PolicyVersion,
    purpose: Option<&catalog::PurposeRow>,
    wording: &str,
    terms: &str,
    notice: &str,
) -> bool {
    let same_terms = if v.notice_hash.is_empty() {
        purpose.is_some_and(|p| terms == terms_of(p).canonical())
    } else {
        v.notice_hash == notice
    };
    v.text_hash == wording && same_terms
}

fn terms_of(p: &catalog::PurposeRow) -> Terms<'_> {
    Terms {
        required: p.required,
        legal_basis: &p.legal_basis,
        channel: &p.channel,
        retention: p.retention.clone(),
        renewal_window_days: p.renewal_window_days,
        third_parties: p.third_parties(),
        sensitive: p.sensitive,
        night_time: p.night_time,
        sale_or_share: p.sale_or_share,
        obligation: Obligation::from_stored(&p.obligation),
        details: NoticeDetails::default(),
    }
}

/// Hash of a purpose's wording: what a consent under this version agreed to.
pub fn wording_hash(title: &Localized, text: &Localized) -> String {
    let canonical = serde_json::json!({ "title": title, "text": text }).to_string();
    sha256_hex(canonical.as_bytes())
}
