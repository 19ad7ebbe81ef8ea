//! `/admin/rights/{id}`: one request — its facts, its history, the steps it can take next
//! (a reason asked for where the person is told one), its assignee, what staff can do for the
//! person from it ([`super::acts`]), and its letter for post.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;

use super::{DeskStrings, Words};
use crate::db::rights as stored;
use crate::domain::rights::{Deadline, RequestState, Step, StepRefusal};
use crate::domain::{ConsentStatus, ErrorCode, Locale};
use crate::services::rights::{self, Profile};
use crate::services::rights_desk::{self, DeskError, RequestView, StepTaken, view};
use crate::web::AppState;
use crate::web::admin::data_strings::DataStrings;
use crate::web::admin::{AdminError, AdminStrings, Chrome, Problems, SignedIn, see_other};
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

#[derive(Template)]
#[template(path = "admin/rights_request.html")]
struct RequestPage {
    c: Chrome,
    d: &'static DataStrings,
    k: &'static DeskStrings,
    w: Words,
    r: RequestView,
    /// (when, who, what) in words.
    history: Vec<(NaiveDateTime, String, String)>,
    /// (step, label) that can be taken now.
    steps: Vec<(&'static str, String)>,
    owners: Vec<(String, String)>,
    assignee: String,
    /// What is held, while the request is open and the person's data exists.
    person: Option<Held>,
    problems: Problems,
    /// `saved` or `done`, after a POST.
    notice: String,
    letter: bool,
}

/// What staff may act on: the person's values (field, label) and consents in force
/// (purpose, title) that may be withdrawn.
pub struct Held {
    pub fields: Vec<(String, String)>,
    pub purposes: Vec<(String, String)>,
}

impl Held {
    fn of(profile: &Profile, locale: Locale) -> Self {
        let mut fields: Vec<(String, String)> = profile
            .values
            .iter()
            .map(|v| {
                (
                    v.field.clone(),
                    v.label.as_ref().map_or_else(|| v.field.clone(), |l| l.get(locale, Locale::EN).to_owned()),
                )
            })
            .collect();
        fields.dedup_by(|a, b| a.0 == b.0);
        let purposes = profile
            .consents
            .iter()
            .filter(|c| !c.required && matches!(c.status, ConsentStatus::Granted | ConsentStatus::Pending))
            .map(|c| (c.purpose.clone(), c.title.get(locale, Locale::EN).to_owned()))
            .collect();
        Self { fields, purposes }
    }
}

#[derive(serde::Deserialize, Default)]
struct Notice {
    #[serde(default)]
    done: String,
}

/// The steps open to a request in `state` under `regime`, in words.
fn next_steps(state: &str, regime: &str, w: &Words) -> Vec<(&'static str, String)> {
    let Some(state) = RequestState::parse(state) else { return Vec::new() };
    let extendable = Deadline::parse(regime).is_some_and(|d| d.extended(chrono::Utc::now()).is_some());
    Step::ALL
        .iter()
        .filter(|s| state.after(**s).is_ok() && (**s != Step::Extend || extendable))
        .map(|s| (s.as_str(), w.step(s.as_str())))
        .collect()
}

/// The request's page, with `problems` next to the fields they are about.
pub async fn show(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    id: String,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let (keyring, catalog, pool) = (state.keyring.clone(), state.catalog.current(), state.db.pool.clone());
    let loaded = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let Some(r) = view::one(&mut conn, &keyring, &id, rights_desk::now())? else { return Ok(None) };
        let history = stored::history_of(&mut conn, &id)?;
        let owners = crate::db::owners::active(&mut conn)?;
        let profile = if r.open { rights::profile(&mut conn, &keyring, &catalog, &r.subject_id).ok() } else { None };
        Ok(Some((r, history, owners, profile)))
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?;
    let Some((r, history, owners, profile)) = loaded else {
        return Err(AdminError::new(AppError::NotFound(ErrorCode::RightsRequestNotFound), locale));
    };
    if profile.is_some() || !r.detail.is_empty() {
        // The requester's words and what is held about them were opened: an access (art. 8).
        let action = crate::domain::access::AccessAction::ViewPerson;
        crate::web::access::by_owner(req, state, &who.owner.id, action, Some(&r.subject_id));
    }
    let w = Words::new(locale);
    let name = |kind: &str, id: &str| {
        owners.iter().find(|(o, _)| o == id).map_or_else(|| format!("{kind} {id}"), |o| o.1.clone())
    };
    let history = history
        .into_iter()
        .map(|(at, kind, actor, action)| {
            let what = action.strip_prefix("rights_request.").map_or_else(|| w.kind(&action), |s| w.step_or_state(s));
            (at, name(&kind, &actor), what)
        })
        .collect();
    let notice = web::Query::<Notice>::from_query(req.query_string()).map(|q| q.into_inner().done).unwrap_or_default();
    let page = RequestPage {
        c: who.chrome(req, "rights"),
        d: DataStrings::get(locale),
        k: DeskStrings::get(locale),
        // Whoever opens a request may act on it (`console_access`: both need the people's data).
        steps: next_steps(&r.state, &r.regime, &w),
        assignee: r.assignee.clone().unwrap_or_default(),
        person: profile.map(|p| Held::of(&p, locale)),
        letter: matches!(r.state.as_str(), "extended" | "completed" | "refused"),
        w,
        r,
        history,
        owners,
        problems,
        notice,
    };
    Ok(render_with_status(&page, status))
}

impl Words {
    /// A history line's action: a step taken, or the request received / assigned.
    fn step_or_state(&self, action: &str) -> String {
        match action {
            "received" => self.state("received"),
            "assigned" => DeskStrings::get(self.locale).assignee.to_owned(),
            step => self.step(step),
        }
    }
}

pub async fn page(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    show(&req, &who, &state, path.into_inner(), Problems::default(), StatusCode::OK).await
}

/// Where a request's page is, with a notice.
pub fn back_to(id: &str, locale: Locale, done: &str) -> HttpResponse {
    see_other(&format!("/admin/rights/{id}?lang={}&done={done}", locale.as_str()))
}

/// A desk refusal as the message next to the field it is about (`None`: not the user's doing).
pub fn problem_of(e: &DeskError, locale: Locale) -> Option<(&'static str, &'static str)> {
    let t = AdminStrings::get(locale);
    let code = match e {
        DeskError::Step(StepRefusal::ReasonRequired) => return Some(("reason", t.says(ErrorCode::Required))),
        DeskError::TooLong => return Some(("reason", t.says(ErrorCode::TooLong))),
        DeskError::UnknownAssignee => return Some(("assignee", t.says(ErrorCode::InvalidChoice))),
        DeskError::UnknownPerson => return Some(("email", t.says(ErrorCode::SubjectNotFound))),
        DeskError::Step(refusal) => crate::web::rights_api::step_code(*refusal),
        DeskError::Conflict => ErrorCode::RequestChanged,
        _ => return None,
    };
    Some(("step", t.says(code)))
}

pub async fn step(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let locale = who.locale;
    let id = path.into_inner();
    let Some(step) = Step::parse(fields.get("step")) else {
        let detail = "step must be verify, start, extend, complete or refuse".to_owned();
        return Err(AdminError::new(AppError::BadRequest { code: ErrorCode::InvalidAction, detail }, locale));
    };
    let reason = fields.get("reason").to_owned();
    let (keyring, mail, actor, request_id) = (state.keyring.clone(), state.mail.clone(), who.actor(), id.clone());
    let now = rights_desk::now();
    let result = state
        .db
        .writer
        .write(move |tx| {
            let taken = StepTaken { id: &request_id, step, reason: &reason, actor: &actor };
            rights_desk::step(tx, &keyring, &mail, &taken, now)
        })
        .await;
    match result {
        Ok(_) => {
            state.mail_queued.notify_one();
            Ok(back_to(&id, locale, "saved"))
        }
        Err(e) => refused(&req, &who, &state, id, e).await,
    }
}

/// The request's page again, the refusal next to its field (422), or the error page.
pub async fn refused(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    id: String,
    e: DeskError,
) -> Result<HttpResponse, AdminError> {
    let Some((field, message)) = problem_of(&e, who.locale) else {
        return Err(AdminError::new(AppError::from(e), who.locale));
    };
    let mut problems = Problems::default();
    problems.add(field, message);
    let status = if field == "step" { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    show(req, who, state, id, problems, status).await
}

pub async fn assign(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let id = path.into_inner();
    let assignee = Some(fields.get("assignee").to_owned()).filter(|a| !a.is_empty());
    let (actor, request_id) = (who.actor(), id.clone());
    let now = rights_desk::now();
    let result =
        state.db.writer.write(move |tx| rights_desk::assign(tx, &request_id, assignee.as_deref(), &actor, now)).await;
    match result {
        Ok(()) => Ok(back_to(&id, who.locale, "saved")),
        Err(e) => refused(&req, &who, &state, id, e).await,
    }
}

#[derive(Template)]
#[template(path = "admin/rights_letter.html")]
struct LetterPage {
    lang: &'static str,
    letter: crate::mail::MailContent,
}

/// The answer (or the extension notice) as a page to print and post, in the person's language.
pub async fn letter(
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let (keyring, mail, pool, id) =
        (state.keyring.clone(), state.mail.clone(), state.db.pool.clone(), path.into_inner());
    let letter = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let Some(request) = stored::request(&mut conn, &id)?.filter(|r| !r.self_service) else { return Ok(None) };
        let outcome = match request.state.as_str() {
            "extended" => Step::Extend,
            "completed" => Step::Complete,
            "refused" => Step::Refuse,
            _ => return Ok(None),
        };
        let person = crate::db::subjects::find(&mut conn, &request.subject_id)?;
        let language = person.and_then(|s| Locale::from_tag(&s.locale)).unwrap_or_default();
        let reason = rights_desk::texts(&mut conn, &keyring, &request).reason;
        let letter = rights_desk::letter(&mut conn, &mail, &request, outcome, &reason, language)
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(Some(letter))
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?
    .ok_or_else(|| AdminError::new(AppError::NotFound(ErrorCode::RightsRequestNotFound), locale))?;
    Ok(render_with_status(&LetterPage { lang: letter.lang, letter }, StatusCode::OK))
}
