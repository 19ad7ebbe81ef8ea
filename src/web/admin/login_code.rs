//! `/admin/login/code`: the second step of signing in, for an account with a second factor. The
//! password opened a session that leads only here (for 10 minutes); a code from the app, or one
//! of the recovery codes, opens the console. Wrong codes count as failed sign-ins (the same
//! growing delays as wrong passwords).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::two_factor::TwoFactorStrings;
use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::domain::ErrorCode;
use crate::domain::second_factor::Stage;
use crate::services::owners;
use crate::services::second_factor::Checked;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/login/code").route(web::get().to(show)).route(web::post().to(submit)));
}

#[derive(Template)]
#[template(path = "admin/login_code.html")]
struct CodePage {
    c: Chrome,
    s: &'static TwoFactorStrings,
    problems: Problems,
}

fn page(req: &HttpRequest, who: &SignedIn, problems: Problems, status: StatusCode) -> HttpResponse {
    let mut c = Chrome::anonymous(req, who.locale);
    c.csrf = who.csrf.clone();
    render_with_status(&CodePage { c, s: TwoFactorStrings::get(who.locale), problems }, status)
}

fn onwards(who: &SignedIn) -> HttpResponse {
    see_other(&format!("{}?lang={}", who.stage.page(), who.locale.as_str()))
}

async fn show(req: HttpRequest, who: SignedIn) -> HttpResponse {
    if who.stage != Stage::SecondFactor {
        return onwards(&who);
    }
    page(&req, &who, Problems::default(), StatusCode::OK)
}

async fn submit(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    if who.stage != Stage::SecondFactor {
        return Ok(onwards(&who));
    }
    let fields = who.form(&req, payload).await?;
    let (s, locale) = (TwoFactorStrings::get(who.locale), who.locale);
    let ip = crate::web::client_ip(&req, &state.settings);
    if !state.limits.console_attempt(ip, &who.owner.email).await.map_err(|e| AdminError::new(e, locale))? {
        return Err(AdminError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: ErrorCode::RateLimited,
            locale,
        });
    }
    let attempt = super::auth::attempt_of(&req, &state, &who.owner.email, ip);
    let now = Utc::now().naive_utc();
    let (pool, waiting) = (state.db.pool.clone(), attempt.clone());
    let wait = web::block(move || -> Result<_, AppError> { Ok(owners::must_wait(&mut *pool.get()?, &waiting, now)?) })
        .await
        .map_err(|e| AdminError::new(e, locale))?
        .map_err(|e| AdminError::new(e, locale))?;
    let mut problems = Problems::default();
    if let Some(seconds) = wait {
        problems.add("code", s.wait);
        let mut response = page(&req, &who, problems, StatusCode::TOO_MANY_REQUESTS);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds.max(1)));
        return Ok(response);
    }
    let (keyring, typed) = (state.keyring.clone(), fields.get("code").to_owned());
    let (session, owner_id) = (who.session_hash().to_owned(), who.owner.id.clone());
    let checked = state
        .db
        .writer
        .write(move |tx| owners::pass_second_factor(tx.conn, &keyring, &session, &owner_id, &typed, &attempt, now))
        .await
        .map_err(|e| AdminError::new(AppError::from(e), locale))?;
    match checked {
        Checked::Wrong => {
            problems.add("code", s.wrong_code);
            Ok(page(&req, &who, problems, StatusCode::UNAUTHORIZED))
        }
        Checked::Code => Ok(see_other(&format!("/admin?lang={}", locale.as_str()))),
        // A recovery code used: the account page says how many are left and offers new ones.
        Checked::RecoveryCode { .. } => Ok(see_other(&format!("/admin/account/two-factor?lang={}", locale.as_str()))),
    }
}
