//! `/admin/rights/new`: entering a request that arrived by e-mail, phone, letter or in person,
//! for the person Assent holds under an address; its deadline starts when it is entered.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::request::{back_to, problem_of};
use super::{DeskStrings, Words, regimes};
use crate::domain::rights::{Deadline, RequestChannel, RightKind};
use crate::domain::{ErrorCode, Locale};
use crate::services::rights_desk::{self, NewRequest, Requester};
use crate::web::AppState;
use crate::web::admin::{AdminError, AdminStrings, Chrome, Fields, Problems, SignedIn};
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

#[derive(Template)]
#[template(path = "admin/rights_new.html")]
struct NewPage {
    c: Chrome,
    k: &'static DeskStrings,
    kinds: Vec<(&'static str, String)>,
    channels: Vec<(&'static str, String)>,
    regimes: Vec<(&'static str, String)>,
    owners: Vec<(String, String)>,
    input: Input,
    problems: Problems,
}

/// The form as typed.
#[derive(Debug, Default, Clone)]
struct Input {
    kind: String,
    channel: String,
    email: String,
    detail: String,
    regime: String,
    assignee: String,
    verified: bool,
}

impl Input {
    fn read(fields: &Fields) -> Self {
        Self {
            kind: fields.get("kind").to_owned(),
            channel: fields.get("channel").to_owned(),
            email: fields.get("email").trim().to_owned(),
            detail: fields.get("detail").to_owned(),
            regime: fields.get("regime").to_owned(),
            assignee: fields.get("assignee").to_owned(),
            verified: fields.get("verified") == "yes",
        }
    }

    /// The request, or the fields refused and why.
    fn request(&self, locale: Locale, configured: Deadline) -> Result<NewRequest, Problems> {
        let t = AdminStrings::get(locale);
        let mut problems = Problems::default();
        let kind = RightKind::parse_desk(&self.kind);
        let channel = RequestChannel::parse(&self.channel);
        let regime = if self.regime.is_empty() { Some(configured) } else { Deadline::parse(&self.regime) };
        for (field, ok) in [("kind", kind.is_some()), ("channel", channel.is_some()), ("regime", regime.is_some())] {
            if !ok {
                problems.add(field, t.says(ErrorCode::InvalidChoice));
            }
        }
        if self.email.is_empty() {
            problems.add("email", t.says(ErrorCode::EmailRequired));
        }
        if self.detail.chars().count() > rights_desk::MAX_TEXT {
            problems.add("detail", t.says(ErrorCode::TooLong));
        }
        match (kind, channel, regime) {
            (Some(kind), Some(channel), Some(regime)) if problems.is_empty() => Ok(NewRequest {
                kind,
                channel,
                who: Requester::Email(self.email.clone()),
                note: self.detail.clone(),
                regime,
                assignee: Some(self.assignee.clone()).filter(|a| !a.is_empty()),
                verified: self.verified,
            }),
            _ => Err(problems),
        }
    }
}

async fn render(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    input: Input,
    problems: Problems,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let pool = state.db.pool.clone();
    let owners = web::block(move || -> Result<_, AppError> { Ok(crate::db::owners::active(&mut *pool.get()?)?) })
        .await
        .map_err(|e| AdminError::new(e, locale))?
        .map_err(|e| AdminError::new(e, locale))?;
    let w = Words::new(locale);
    let page = NewPage {
        c: who.chrome(req, "rights"),
        k: DeskStrings::get(locale),
        kinds: RightKind::DESK.iter().map(|k| (k.as_str(), w.kind(k.as_str()))).collect(),
        channels: RequestChannel::ALL.iter().map(|c| (c.as_str(), w.channel(c.as_str()))).collect(),
        regimes: regimes(&w, state.settings.rights_deadline),
        owners,
        input,
        problems,
    };
    Ok(render_with_status(&page, status))
}

pub async fn form(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let input = Input { assignee: who.owner.id.clone(), channel: "email".into(), ..Input::default() };
    render(&req, &who, &state, input, Problems::default(), StatusCode::OK).await
}

pub async fn create(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let locale = who.locale;
    let input = Input::read(&fields);
    let new = match input.request(locale, state.settings.rights_deadline) {
        Ok(new) => new,
        Err(problems) => return render(&req, &who, &state, input, problems, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let (keyring, actor) = (state.keyring.clone(), who.actor());
    let now = rights_desk::now();
    let result = state.db.writer.write(move |tx| rights_desk::open(tx, &keyring, &new, &actor, now)).await;
    match result {
        Ok(request) => Ok(back_to(&request.id, locale, "saved")),
        Err(e) => {
            let Some((field, message)) = problem_of(&e, locale) else {
                return Err(AdminError::new(AppError::from(e), locale));
            };
            let mut problems = Problems::default();
            problems.add(field, message);
            render(&req, &who, &state, input, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
