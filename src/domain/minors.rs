//! Children (PIPA art. 22-2, GDPR art. 8): a form may set a minimum age. It then asks for a birth
//! date or an affirmation of age; below the minimum, the submission becomes a request to a legal
//! guardian, whose confirmation alone grants the consents.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::Email;
use super::form_errors::{FieldError, FieldErrorCode};

/// How a form with a minimum age asks for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeCheck {
    /// A box: "I am {min} or older".
    #[default]
    Affirmation,
    /// A birth date (used to judge the age, never stored).
    BirthDate,
}

impl AgeCheck {
    pub fn is_affirmation(&self) -> bool {
        *self == Self::Affirmation
    }
}

/// The inputs a form with a minimum age reads beside its fields (never stored as values).
pub const AGE_INPUTS: [&str; 3] = ["age_affirmed", "birth_date", "guardian_email"];

/// What the person answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct AgeAnswer {
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub birth_date: Option<String>,
    /// They affirm they are of the minimum age or older.
    #[serde(default)]
    pub affirmed: bool,
    /// A parent's or legal guardian's address, for someone under the minimum age.
    #[serde(default)]
    pub guardian_email: Option<String>,
}

/// What the answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgeOutcome {
    OldEnough,
    /// Under the minimum age: the guardian at this address is asked.
    Guardian(Email),
}

/// The allowed minimum ages: GDPR art. 8 lets each state choose 13 to 16; PIPA's is 14. Zero
/// turns the default off.
pub fn valid_min_age(min_age: u8) -> bool {
    min_age == 0 || (13..=16).contains(&min_age)
}

/// The minimum age a form applies: the one it declares (0: none), or 14 for a form of a
/// Korean-language workspace that asks for consent (PIPA art. 22-2).
pub fn effective_min_age(declared: Option<u8>, korean: bool, asks_consent: bool) -> Option<u8> {
    match declared {
        Some(0) => None,
        Some(n) => Some(n),
        None => (korean && asks_consent).then_some(14),
    }
}

/// Whole years from `born` to `today`.
pub fn age_on(born: NaiveDate, today: NaiveDate) -> i32 {
    let had_birthday = (today.month(), today.day()) >= (born.month(), born.day());
    today.year() - born.year() - i32::from(!had_birthday)
}

/// Judges an answer; every problem is named by its input, at once.
pub fn judge(
    min_age: u8,
    check: AgeCheck,
    answer: &AgeAnswer,
    own_email: Option<&Email>,
    today: NaiveDate,
) -> Result<AgeOutcome, Vec<FieldError>> {
    let old_enough = match check {
        AgeCheck::Affirmation => answer.affirmed,
        AgeCheck::BirthDate => {
            let raw = answer.birth_date.as_deref().map(str::trim).unwrap_or("");
            let born = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().filter(|b| *b <= today);
            match born {
                Some(born) => age_on(born, today) >= i32::from(min_age),
                None if raw.is_empty() => return Err(vec![FieldError::new("birth_date", FieldErrorCode::Required)]),
                None => return Err(vec![FieldError::new("birth_date", FieldErrorCode::InvalidDate)]),
            }
        }
    };
    if old_enough {
        return Ok(AgeOutcome::OldEnough);
    }
    let guardian = answer.guardian_email.as_deref().map(str::trim).unwrap_or("");
    if guardian.is_empty() {
        let field = if check.is_affirmation() { "age_affirmed" } else { "guardian_email" };
        return Err(vec![FieldError::new(field, FieldErrorCode::GuardianNeeded)]);
    }
    match Email::parse(guardian) {
        Ok(email) if Some(&email) != own_email => Ok(AgeOutcome::Guardian(email)),
        Ok(_) => Err(vec![FieldError::new("guardian_email", FieldErrorCode::GuardianNeeded)]),
        Err(_) => Err(vec![FieldError::new("guardian_email", FieldErrorCode::InvalidEmail)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn codes(r: Result<AgeOutcome, Vec<FieldError>>) -> Vec<(String, FieldErrorCode)> {
        r.unwrap_err().into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_childs_request_keeps_only_their_address_until_the_guardian_agrees() {
        use crate::domain::form::RawSubmission;
        let form = crate::domain::form::fixtures::newsletter();
        let raw = RawSubmission {
            fields: vec![("email".into(), "kid@example.com".into()), ("name".into(), "Jiwoo".into())],
            purposes: vec!["service".into(), "personalisation".into()],
        };
        let accepted = form.accept(&raw, |p| p.as_str() == "service").unwrap();
        assert_eq!(accepted.values.len(), 2);
        let kept = accepted.only_identity(&form);
        assert_eq!(kept.values.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(), ["email"]);
        assert_eq!(kept.dropped.iter().map(|k| k.as_str()).collect::<Vec<_>>(), ["name"]);
    }

    #[test]
    fn the_age_turns_on_the_birthday() {
        assert_eq!(age_on(day(2012, 12, 5), day(2026, 12, 4)), 13);
        assert_eq!(age_on(day(2012, 12, 5), day(2026, 12, 5)), 14);
        assert_eq!(age_on(day(2012, 2, 29), day(2026, 2, 28)), 13);
        assert_eq!(age_on(day(2012, 2, 29), day(2026, 3, 1)), 14);
    }

    #[test]
    fn korean_forms_asking_for_consent_default_to_fourteen_and_zero_turns_it_off() {
        assert_eq!(effective_min_age(None, true, true), Some(14));
        assert_eq!(effective_min_age(None, true, false), None);
        assert_eq!(effective_min_age(None, false, true), None);
        assert_eq!(effective_min_age(Some(16), false, true), Some(16));
        assert_eq!(effective_min_age(Some(0), true, true), None);
        assert!(valid_min_age(13) && valid_min_age(16) && valid_min_age(0));
        assert!(!valid_min_age(12) && !valid_min_age(18));
    }

    #[test]
    fn under_the_minimum_a_guardian_is_asked_and_a_missing_answer_is_named() {
        let today = day(2026, 12, 5);
        let me = Email::parse("kid@example.com").unwrap();
        let adult = AgeAnswer { affirmed: true, ..AgeAnswer::default() };
        assert_eq!(judge(14, AgeCheck::Affirmation, &adult, Some(&me), today), Ok(AgeOutcome::OldEnough));
        let nothing = AgeAnswer::default();
        assert_eq!(
            codes(judge(14, AgeCheck::Affirmation, &nothing, Some(&me), today)),
            [("age_affirmed".to_owned(), FieldErrorCode::GuardianNeeded)]
        );
        let with_parent = AgeAnswer { guardian_email: Some("mum@example.com".into()), ..AgeAnswer::default() };
        let parent = Email::parse("mum@example.com").unwrap();
        assert_eq!(judge(14, AgeCheck::Affirmation, &with_parent, Some(&me), today), Ok(AgeOutcome::Guardian(parent)));
        let self_as_parent = AgeAnswer { guardian_email: Some("kid@example.com".into()), ..AgeAnswer::default() };
        assert_eq!(
            codes(judge(14, AgeCheck::Affirmation, &self_as_parent, Some(&me), today)),
            [("guardian_email".to_owned(), FieldErrorCode::GuardianNeeded)]
        );

        let born = |d: &str| AgeAnswer { birth_date: Some(d.into()), ..AgeAnswer::default() };
        assert_eq!(judge(14, AgeCheck::BirthDate, &born("2012-12-05"), None, today), Ok(AgeOutcome::OldEnough));
        assert_eq!(
            codes(judge(14, AgeCheck::BirthDate, &born("2012-12-06"), None, today)),
            [("guardian_email".to_owned(), FieldErrorCode::GuardianNeeded)]
        );
        assert_eq!(
            codes(judge(14, AgeCheck::BirthDate, &born(""), None, today)),
            [("birth_date".to_owned(), FieldErrorCode::Required)]
        );
        assert_eq!(
            codes(judge(14, AgeCheck::BirthDate, &born("2030-01-01"), None, today)),
            [("birth_date".to_owned(), FieldErrorCode::InvalidDate)]
        );
    }
}
