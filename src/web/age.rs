//! The age check on a public form with a minimum age (PIPA art. 22-2, GDPR art. 8): the inputs it
//! reads beside the form's fields (never stored as values), and how the page shows them again
//! after a mistake. The rules are `domain::minors`.

use crate::db::catalog::{Catalog, PublishedForm};
use crate::domain::form::FieldError;
use crate::domain::minors::{AGE_INPUTS, AgeAnswer, AgeCheck};
use crate::domain::{LegalBasis, Locale};
use crate::i18n::catalogue;
use crate::web::i18n::Strings;

/// The minimum age this form applies, if any.
pub fn min_age_of(catalog: &Catalog, form: &PublishedForm) -> Option<u8> {
    let def = &form.definition;
    let korean = catalog.default_locale() == Locale::KO;
    let asks_consent =
        def.purposes.iter().filter_map(|p| catalog.purpose(p.as_str())).any(|p| p.legal_basis == LegalBasis::Consent);
    crate::domain::minors::effective_min_age(def.min_age, korean, asks_consent)
}

/// Takes the age inputs out of a post (they are not the form's fields).
pub fn take(pairs: &mut Vec<(String, String)>) -> AgeAnswer {
    let get =
        |pairs: &[(String, String)], key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let answer = AgeAnswer {
        birth_date: get(pairs, "birth_date"),
        affirmed: get(pairs, "age_affirmed").is_some_and(|v| !v.is_empty()),
        guardian_email: get(pairs, "guardian_email").filter(|v| !v.trim().is_empty()),
    };
    pairs.retain(|(k, _)| !AGE_INPUTS.contains(&k.as_str()));
    answer
}

/// The age inputs as the page shows them.
pub struct AgeView {
    pub min_age: u8,
    pub birth_date: bool,
    pub legend: String,
    pub hint: String,
    pub affirm_label: String,
    pub birth_label: String,
    pub guardian_label: String,
    pub affirmed: bool,
    pub birth_value: String,
    pub guardian_value: String,
    /// The message next to each input, if it was refused.
    pub affirm_error: Option<String>,
    pub birth_error: Option<String>,
    pub guardian_error: Option<String>,
}

/// The view for a form with a minimum age, with what was typed and any refusal.
pub fn view(min_age: u8, check: AgeCheck, answer: &AgeAnswer, errors: &[FieldError], locale: Locale) -> AgeView {
    use fluent_bundle::FluentValue;
    let c = catalogue(locale);
    let age = [("age", FluentValue::from(i64::from(min_age)))];
    let error = |field: &str| errors.iter().find(|e| e.field == field).map(|e| Strings::get(locale).field_error(e));
    AgeView {
        min_age,
        birth_date: check == AgeCheck::BirthDate,
        legend: c.text("age-legend"),
        hint: c.format("age-hint", &age),
        affirm_label: c.format("age-affirm", &age),
        birth_label: c.text("age-birth-date"),
        guardian_label: c.format("age-guardian", &age),
        affirmed: answer.affirmed,
        birth_value: answer.birth_date.clone().unwrap_or_default(),
        guardian_value: answer.guardian_email.clone().unwrap_or_default(),
        affirm_error: error("age_affirmed"),
        birth_error: error("birth_date"),
        guardian_error: error("guardian_email"),
    }
}

/// How an age input is named in the error summary.
pub fn label(field: &str, locale: Locale) -> Option<String> {
    let c = catalogue(locale);
    match field {
        "age_affirmed" => Some(c.text("age-legend")),
        "birth_date" => Some(c.text("age-birth-date")),
        "guardian_email" => Some(c.text("age-guardian-short")),
        _ => None,
    }
}

/// What the age answer of a post decided.
#[derive(Default)]
pub struct Judged {
    /// Refusals, by input.
    pub errors: Vec<FieldError>,
    /// Under the minimum age: the guardian to ask.
    pub guardian: Option<crate::domain::Email>,
    /// For the evidence: how the age was established (`affirmed`, `birth_date`, `guardian`).
    pub how: Option<&'static str>,
}

/// Judges the answer (none sent counts as an empty one) when the form has a minimum age.
pub fn judged(
    catalog: &Catalog,
    form: &PublishedForm,
    answer: Option<&AgeAnswer>,
    own: Option<&crate::domain::Email>,
    today: chrono::NaiveDate,
) -> Judged {
    use crate::domain::minors::{AgeOutcome, judge};
    let Some(min_age) = min_age_of(catalog, form) else { return Judged::default() };
    let check = form.definition.age_check;
    match judge(min_age, check, answer.unwrap_or(&AgeAnswer::default()), own, today) {
        Ok(AgeOutcome::OldEnough) => {
            let how = if check == AgeCheck::BirthDate { "birth_date" } else { "affirmed" };
            Judged { how: Some(how), ..Judged::default() }
        }
        Ok(AgeOutcome::Guardian(email)) => Judged { guardian: Some(email), how: Some("guardian"), ..Judged::default() },
        Err(errors) => Judged { errors, ..Judged::default() },
    }
}
