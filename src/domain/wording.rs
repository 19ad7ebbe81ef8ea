//! The wording a person was shown: the form version and the policy version of each purpose a
//! form displayed. It travels with the form (signed, see `crypto::Keyring::sign_shown`) or is
//! named by an integrator (`policy_versions`), so that a consent is never recorded against text
//! the person did not see.

use std::collections::BTreeMap;

use super::form::{FieldError, FieldErrorCode};

/// What a form displayed: its version, and each purpose's policy version id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub form_version_id: String,
    pub policies: BTreeMap<String, String>,
}

impl Shown {
    /// `form_version_id;purpose=policy_id,purpose=policy_id` (ids and keys hold none of `;,=`).
    pub fn encode(&self) -> String {
        let policies: Vec<String> = self.policies.iter().map(|(p, v)| format!("{p}={v}")).collect();
        format!("{};{}", self.form_version_id, policies.join(","))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (form_version_id, rest) = raw.split_once(';')?;
        let mut policies = BTreeMap::new();
        for pair in rest.split(',').filter(|p| !p.is_empty()) {
            let (purpose, version) = pair.split_once('=')?;
            policies.insert(purpose.to_owned(), version.to_owned());
        }
        Some(Self { form_version_id: form_version_id.to_owned(), policies })
    }

    /// Where what was shown is not what is in force now: one error per purpose whose wording
    /// changed, or one for the purposes as a whole when only the form changed. Empty: it holds.
    pub fn stale_against(&self, now: &Shown) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = now
            .policies
            .iter()
            .filter(|(purpose, version)| self.policies.get(*purpose) != Some(*version))
            .map(|(purpose, _)| FieldError::new(format!("purpose.{purpose}"), FieldErrorCode::WordingChanged))
            .collect();
        if errors.is_empty() && self.form_version_id != now.form_version_id {
            errors.push(FieldError::new("purpose".to_owned(), FieldErrorCode::WordingChanged));
        }
        errors
    }
}

/// The policy versions (numbers) an integrator says it displayed, against those in force for
/// the purposes ticked: one error per purpose displayed under another version, or not named.
pub fn displayed_versions_hold(
    displayed: &BTreeMap<String, i64>,
    in_force: impl IntoIterator<Item = (String, i64)>,
) -> Vec<FieldError> {
    in_force
        .into_iter()
        .filter(|(purpose, version)| displayed.get(purpose) != Some(version))
        .map(|(purpose, _)| FieldError::new(format!("purpose.{purpose}"), FieldErrorCode::WordingChanged))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(form: &str, pairs: &[(&str, &str)]) -> Shown {
        Shown {
            form_version_id: form.into(),
            policies: pairs.iter().map(|(p, v)| ((*p).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn what_was_shown_round_trips() {
        let s = shown("fv1", &[("service", "pv1"), ("marketing_sms", "pv7")]);
        assert_eq!(Shown::decode(&s.encode()), Some(s));
        assert_eq!(Shown::decode("no separator"), None);
    }

    #[test]
    fn a_changed_wording_is_named_per_purpose_and_a_changed_form_as_a_whole() {
        let then = shown("fv1", &[("service", "pv1"), ("marketing_sms", "pv7")]);
        assert!(then.stale_against(&then).is_empty());
        let reworded = shown("fv1", &[("service", "pv1"), ("marketing_sms", "pv8")]);
        let errors = then.stale_against(&reworded);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "purpose.marketing_sms");
        let new_form = shown("fv2", &[("service", "pv1"), ("marketing_sms", "pv7")]);
        assert_eq!(then.stale_against(&new_form)[0].field, "purpose");
    }

    #[test]
    fn an_integrator_must_name_the_version_it_displayed_for_each_ticked_purpose() {
        let displayed: BTreeMap<String, i64> = [("service".to_owned(), 1)].into();
        assert!(displayed_versions_hold(&displayed, [("service".to_owned(), 1)]).is_empty());
        assert_eq!(displayed_versions_hold(&displayed, [("service".to_owned(), 2)]).len(), 1);
        assert_eq!(displayed_versions_hold(&displayed, [("marketing_sms".to_owned(), 1)]).len(), 1);
    }
}
