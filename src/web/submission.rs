//! What the two doors of a submission — the public HTML form and the JSON API — check beside
//! the form's own rules, and the submission they hand to the recorder: the age check on a form
//! with a minimum age, the evidence, and the Global Privacy Control's opt-outs.

use actix_web::HttpRequest;

use super::age::{Judged, judged};
use super::{AppState, evidence_of};
use crate::db::catalog::{Catalog, PublishedForm};
use crate::domain::form::{FieldError, RawSubmission};
use crate::domain::minors::AgeAnswer;
use crate::domain::{AcceptedSubmission, Locale, Method};
use crate::services::submit::SubmissionInput;

/// The submission accepted by the form's rules and the age check, or every refusal of both.
pub fn checked(
    state: &AppState,
    catalog: &Catalog,
    form: &PublishedForm,
    raw: &RawSubmission,
    age: Option<&AgeAnswer>,
) -> Result<(AcceptedSubmission, Judged), Vec<FieldError>> {
    let outcome = form.definition.accept(raw, |p| catalog.is_required(p));
    let today = state.settings.time_zone.local_date(chrono::Utc::now());
    let mut judged = judged(catalog, form, age, outcome.as_ref().ok().map(|a| &a.email), today);
    match outcome {
        Ok(accepted) if judged.errors.is_empty() => Ok((accepted, judged)),
        outcome => {
            let mut errors = outcome.err().unwrap_or_default();
            errors.append(&mut judged.errors);
            Err(errors)
        }
    }
}

/// How a submission came.
pub struct Door {
    pub locale: Locale,
    pub method: Method,
    /// The caller is authenticated (an integrator's API key) and vouches for the person.
    pub verified: bool,
}

/// The submission to record: its evidence (with how the age was established), what the Global
/// Privacy Control signal opts out of taken out, and the guardian to ask, if any.
pub fn input(
    req: &HttpRequest,
    state: &AppState,
    catalog: &Catalog,
    form: &PublishedForm,
    (accepted, judged): (AcceptedSubmission, Judged),
    door: Door,
) -> SubmissionInput {
    let mut evidence = evidence_of(req, state, door.locale, &form.version_id);
    evidence.age = judged.how.map(str::to_owned);
    let opted_out = crate::services::gpc::opt_outs(catalog, form, evidence.gpc);
    let mut accepted = crate::domain::gpc::without(accepted, &opted_out);
    if judged.guardian.is_some() {
        accepted = accepted.only_identity(&form.definition);
    }
    SubmissionInput {
        form: form.clone(),
        accepted,
        evidence,
        locale: door.locale,
        method: door.method,
        mail: state.mail.clone(),
        verified: door.verified,
        opted_out,
        guardian: judged.guardian,
    }
}
