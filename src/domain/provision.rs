//! What a purpose's notice says beyond its wording (PIPA arts. 15(2), 17(2), 22, 28-8): what
//! refusing it means, in the business's own words, and, for provision to third parties (its own
//! kind of purpose), each recipient: who, for what, which items, how long they keep them, and for
//! a transfer abroad the country and when and how it happens.

use serde::{Deserialize, Serialize};

use super::Localized;
use super::locale::Locales;
use super::texts::TextProblem;

/// What a purpose is: the business's own use, or provision to third parties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PurposeKind {
    #[default]
    Standard,
    /// 제3자 제공 (PIPA art. 17): the data bound to it is provided to the recipients named.
    ThirdParty,
}

impl PurposeKind {
    pub fn is_standard(&self) -> bool {
        *self == Self::Standard
    }
}

/// One recipient of a third-party purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    /// Who receives the data.
    pub name: String,
    /// What the recipient uses it for.
    pub purpose: Localized,
    /// The items provided (as the person knows them: "name", "phone number").
    pub items: Vec<String>,
    /// How long the recipient keeps them.
    pub retention: Localized,
    /// For a transfer abroad (PIPA art. 28-8): the country it goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// For a transfer abroad: when and how it is transferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Localized>,
}

/// The parts of a notice beside the wording, as the policy version's terms keep them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDetails {
    #[serde(default, skip_serializing_if = "PurposeKind::is_standard")]
    pub kind: PurposeKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<Recipient>,
    /// What refusing the purpose means, in the business's words (else the statutory sentence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Localized>,
}

impl NoticeDetails {
    /// From a policy version's terms (JSON); a version from before these had none.
    pub fn of_terms(terms: &str) -> Self {
        serde_json::from_str(terms).unwrap_or_default()
    }
}

/// Why a purpose's notice details were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetailsProblem {
    #[error("a third_party purpose names at least one recipient ([[purposes.recipients]])")]
    NoRecipients,
    #[error("recipients belong to a purpose of kind = \"third_party\"")]
    RecipientsOnStandard,
    #[error("each recipient needs a name of 1 to 200 characters and at least one item")]
    Recipient,
    #[error("a recipient abroad (country) needs `transfer`: when and how the data is transferred (PIPA art. 28-8)")]
    TransferMissing,
    #[error("recipient `{0}`: {1}")]
    Text(String, TextProblem),
    #[error("refusal: {0}")]
    Refusal(TextProblem),
    #[error("at most 50 recipients")]
    TooMany,
}

const NAME_MAX: usize = 200;

impl NoticeDetails {
    /// The rules the details obey, every text fitting `locales`.
    pub fn check(&self, locales: &Locales) -> Result<(), DetailsProblem> {
        match (self.kind, self.recipients.is_empty()) {
            (PurposeKind::ThirdParty, true) => return Err(DetailsProblem::NoRecipients),
            (PurposeKind::Standard, false) => return Err(DetailsProblem::RecipientsOnStandard),
            _ => {}
        }
        if self.recipients.len() > 50 {
            return Err(DetailsProblem::TooMany);
        }
        for r in &self.recipients {
            let name = r.name.trim();
            if name.is_empty() || name.chars().count() > NAME_MAX || r.items.iter().all(|i| i.trim().is_empty()) {
                return Err(DetailsProblem::Recipient);
            }
            if r.country.as_deref().is_some_and(|c| !c.trim().is_empty()) && r.transfer.is_none() {
                return Err(DetailsProblem::TransferMissing);
            }
            for text in [Some(&r.purpose), Some(&r.retention), r.transfer.as_ref()].into_iter().flatten() {
                text.check(locales).map_err(|e| DetailsProblem::Text(name.to_owned(), e))?;
            }
        }
        if let Some(refusal) = &self.refusal {
            refusal.check(locales).map_err(DetailsProblem::Refusal)?;
        }
        Ok(())
    }

    /// The recipients' names (the receipt's `third_parties`).
    pub fn recipient_names(&self) -> Vec<String> {
        self.recipients.iter().map(|r| r.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;

    fn text(s: &str) -> Localized {
        Localized::new([(Locale::EN, s)])
    }

    fn courier() -> Recipient {
        Recipient {
            name: "Fast Courier Co.".into(),
            purpose: text("delivering orders"),
            items: vec!["name".into(), "phone".into()],
            retention: text("until delivery"),
            country: None,
            transfer: None,
        }
    }

    #[test]
    fn third_party_purposes_name_their_recipients_and_transfers_abroad_say_when_and_how() {
        let locales = Locales::default();
        let mut d = NoticeDetails { kind: PurposeKind::ThirdParty, recipients: vec![courier()], refusal: None };
        assert_eq!(d.check(&locales), Ok(()));
        d.recipients[0].country = Some("US".into());
        assert_eq!(d.check(&locales), Err(DetailsProblem::TransferMissing));
        d.recipients[0].transfer = Some(text("daily, over TLS"));
        assert_eq!(d.check(&locales), Ok(()));
        d.recipients[0].items.clear();
        assert_eq!(d.check(&locales), Err(DetailsProblem::Recipient));
        let none = NoticeDetails { kind: PurposeKind::ThirdParty, ..NoticeDetails::default() };
        assert_eq!(none.check(&locales), Err(DetailsProblem::NoRecipients));
        let stray = NoticeDetails { recipients: vec![courier()], ..NoticeDetails::default() };
        assert_eq!(stray.check(&locales), Err(DetailsProblem::RecipientsOnStandard));
    }

    #[test]
    fn details_round_trip_through_the_terms_and_old_terms_have_none() {
        let d = NoticeDetails {
            kind: PurposeKind::ThirdParty,
            recipients: vec![courier()],
            refusal: Some(text("no delivery")),
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(NoticeDetails::of_terms(&json), d);
        assert_eq!(NoticeDetails::of_terms(r#"{"required":true,"legal_basis":"contract"}"#), NoticeDetails::default());
        assert_eq!(serde_json::to_string(&NoticeDetails::default()).unwrap(), "{}");
    }
}
