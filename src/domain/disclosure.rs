//! What a consent receipt tells an auditor beyond the consent itself (ISO/IEC TS 27560, Kantara
//! Consent Receipt v1.1): who the controller is, and for each purpose its category, who its data
//! is disclosed to and whether it is sensitive.

use serde::{Deserialize, Serialize};

use super::{Channel, Email, LegalBasis};

/// The purpose categories of the Kantara Consent Receipt specification (v1.1, appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PurposeCategory {
    CoreFunction,
    ContractedService,
    Delivery,
    ContactRequested,
    PersonalisedExperience,
    Marketing,
    MarketingThirdParties,
    SharingForDelivery,
    SharingForMarketing,
    ThirdPartySharingForCoreFunction,
    LegallyRequiredRetention,
    RequiredByLawEnforcement,
    ProtectingYourHealth,
    ProtectingOurInterests,
    ImprovePerformance,
}

impl PurposeCategory {
    pub const ALL: [Self; 15] = [
        Self::CoreFunction,
        Self::ContractedService,
        Self::Delivery,
        Self::ContactRequested,
        Self::PersonalisedExperience,
        Self::Marketing,
        Self::MarketingThirdParties,
        Self::SharingForDelivery,
        Self::SharingForMarketing,
        Self::ThirdPartySharingForCoreFunction,
        Self::LegallyRequiredRetention,
        Self::RequiredByLawEnforcement,
        Self::ProtectingYourHealth,
        Self::ProtectingOurInterests,
        Self::ImprovePerformance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CoreFunction => "core_function",
            Self::ContractedService => "contracted_service",
            Self::Delivery => "delivery",
            Self::ContactRequested => "contact_requested",
            Self::PersonalisedExperience => "personalised_experience",
            Self::Marketing => "marketing",
            Self::MarketingThirdParties => "marketing_third_parties",
            Self::SharingForDelivery => "sharing_for_delivery",
            Self::SharingForMarketing => "sharing_for_marketing",
            Self::ThirdPartySharingForCoreFunction => "third_party_sharing_for_core_function",
            Self::LegallyRequiredRetention => "legally_required_retention",
            Self::RequiredByLawEnforcement => "required_by_law_enforcement",
            Self::ProtectingYourHealth => "protecting_your_health",
            Self::ProtectingOurInterests => "protecting_our_interests",
            Self::ImprovePerformance => "improve_performance",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The category a purpose has when its definition names none: what its legal basis and
    /// channel say it is.
    pub fn implied(legal_basis: LegalBasis, channel: Channel, discloses: bool) -> Self {
        match (legal_basis, channel, discloses) {
            (LegalBasis::LegalObligation, ..) => Self::LegallyRequiredRetention,
            (_, Channel::None, true) => Self::ThirdPartySharingForCoreFunction,
            (_, _, true) => Self::SharingForMarketing,
            (_, Channel::Email | Channel::Sms | Channel::Push, false) => Self::Marketing,
            (LegalBasis::Contract, Channel::None, false) => Self::CoreFunction,
            (LegalBasis::LegitimateInterest, Channel::None, false) => Self::ProtectingOurInterests,
            (LegalBasis::Consent, Channel::None, false) => Self::PersonalisedExperience,
        }
    }
}

/// The controller of the personal data the forms collect, as receipts name it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    /// The legal name of the organisation.
    pub name: String,
    /// Who answers about personal data (e.g. the privacy officer, 개인정보 보호책임자).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Where the controller is established: an ISO 3166-1 alpha-2 code (`KR`, `DE`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jurisdiction: String,
    /// The privacy policy, an absolute http(s) URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_url: String,
}

/// What is wrong with a controller's definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControllerError {
    #[error("[workspace.controller] needs a name")]
    NoName,
    #[error("[workspace.controller] email `{0}` is not an e-mail address")]
    Email(String),
    #[error("[workspace.controller] jurisdiction `{0}` must be an ISO 3166-1 alpha-2 code such as KR or DE")]
    Jurisdiction(String),
    #[error("[workspace.controller] policy_url `{0}` must be an absolute http(s) URL")]
    PolicyUrl(String),
    #[error("[workspace.controller] {0} is longer than 500 characters")]
    TooLong(&'static str),
}

impl Controller {
    /// Checks every field; returns the controller with its texts trimmed.
    pub fn checked(mut self) -> Result<Self, ControllerError> {
        for (name, value) in [
            ("name", &mut self.name),
            ("contact", &mut self.contact),
            ("email", &mut self.email),
            ("phone", &mut self.phone),
            ("address", &mut self.address),
            ("jurisdiction", &mut self.jurisdiction),
            ("policy_url", &mut self.policy_url),
        ] {
            *value = value.trim().to_owned();
            if value.chars().count() > 500 {
                return Err(ControllerError::TooLong(name));
            }
        }
        if self.name.is_empty() {
            return Err(ControllerError::NoName);
        }
        if !self.email.is_empty() && Email::parse(&self.email).is_err() {
            return Err(ControllerError::Email(self.email));
        }
        let code = &self.jurisdiction;
        let alpha2 = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
        if !code.is_empty() && !alpha2 {
            return Err(ControllerError::Jurisdiction(self.jurisdiction));
        }
        let url = &self.policy_url;
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        if !url.is_empty() && (!scheme_ok || url.contains(char::is_whitespace) || url.split("://").nth(1) == Some("")) {
            return Err(ControllerError::PolicyUrl(self.policy_url));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_a_wire_name_that_parses_back() {
        for c in PurposeCategory::ALL {
            assert_eq!(PurposeCategory::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(PurposeCategory::parse("Marketing"), None);
    }

    #[test]
    fn a_purpose_without_a_category_gets_the_one_its_terms_imply() {
        use PurposeCategory as C;
        assert_eq!(C::implied(LegalBasis::Contract, Channel::None, false), C::CoreFunction);
        assert_eq!(C::implied(LegalBasis::Consent, Channel::Email, false), C::Marketing);
        assert_eq!(C::implied(LegalBasis::Consent, Channel::Sms, true), C::SharingForMarketing);
        assert_eq!(C::implied(LegalBasis::LegalObligation, Channel::None, false), C::LegallyRequiredRetention);
        assert_eq!(C::implied(LegalBasis::Consent, Channel::None, false), C::PersonalisedExperience);
    }

    #[test]
    fn a_controller_is_checked_field_by_field() {
        let good = Controller {
            name: " Shop Co. ".into(),
            email: "privacy@shop.example".into(),
            jurisdiction: "KR".into(),
            policy_url: "https://shop.example/privacy".into(),
            ..Controller::default()
        };
        assert_eq!(good.clone().checked().unwrap().name, "Shop Co.");
        let with = |f: fn(&mut Controller)| {
            let mut c = good.clone();
            f(&mut c);
            c.checked()
        };
        assert_eq!(with(|c| c.name.clear()), Err(ControllerError::NoName));
        assert!(matches!(with(|c| c.email = "nope".into()), Err(ControllerError::Email(_))));
        assert!(matches!(with(|c| c.jurisdiction = "Korea".into()), Err(ControllerError::Jurisdiction(_))));
        assert!(matches!(with(|c| c.policy_url = "shop.example".into()), Err(ControllerError::PolicyUrl(_))));
        assert!(matches!(with(|c| c.policy_url = "https://".into()), Err(ControllerError::PolicyUrl(_))));
        assert!(matches!(with(|c| c.address = "x".repeat(501)), Err(ControllerError::TooLong("address"))));
    }
}
