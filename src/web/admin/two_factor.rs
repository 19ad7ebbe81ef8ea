//! `/admin/account/two-factor`: one's own second factor. Set up from a QR code (or the secret
//! typed in) and confirmed with a code from the app; ten recovery codes shown once; new codes;
//! turned off with the password (not while `ASSENT_REQUIRE_2FA` asks for it). A session that must
//! set one up before anything else (`Stage::Enrol`) opens these pages only.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::{AdminError, Chrome, Problems, SignedIn, see_other};
use crate::db::second_factor as stored;
use crate::domain::second_factor::Stage;
use crate::i18n::message_struct;
use crate::services::rights::Actor;
use crate::services::second_factor::{self, Account, Enrolment};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

message_struct! {
    /// The second factor's words (ids `two-factor-<field>`).
    pub struct TwoFactorStrings("two-factor-") {
        title, intro, required, is_on, is_off, set_up, scan, qr_alt, manual, code, code_hint, confirm,
        wrong_code, codes_title, codes_intro, codes_left, new_codes, new_codes_intro, carry_on, turn_off,
        turn_off_intro, password, wrong_password, still_required, turned_off, login_title, login_intro,
        login_code, login_code_hint, verify, wait,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/account/two-factor").route(web::get().to(show)))
        .service(web::resource("/admin/account/two-factor/start").route(web::post().to(start)))
        .service(web::resource("/admin/account/two-factor/confirm").route(web::post().to(confirm)))
        .service(web::resource("/admin/account/two-factor/recovery-codes").route(web::post().to(new_codes)))
        .service(web::resource("/admin/account/two-factor/off").route(web::post().to(turn_off)));
}

#[derive(Template)]
#[template(path = "admin/two_factor.html")]
struct TwoFactorPage {
    c: Chrome,
    s: &'static TwoFactorStrings,
    /// Set up and confirmed: the recovery codes left.
    on: Option<i64>,
    /// Being set up: the QR code and the secret.
    pending: Option<Enrolment>,
    /// Just made: shown once.
    codes: Vec<String>,
    /// Whether this server asks every account for a second factor.
    required: bool,
    /// Whether the session can do nothing else until one is set up.
    enrolling: bool,
    notice: Option<&'static str>,
    problems: Problems,
}

/// The layout for this session: the console's (signed in), or the bare one (still enrolling).
fn chrome(req: &HttpRequest, who: &SignedIn) -> Chrome {
    if who.stage == Stage::SignedIn {
        return who.chrome(req, "account");
    }
    let mut c = Chrome::anonymous(req, who.locale);
    c.csrf = who.csrf.clone();
    c
}

struct Shown {
    codes: Vec<String>,
    notice: Option<&'static str>,
    problems: Problems,
    status: StatusCode,
}

impl Shown {
    fn ok() -> Self {
        Self { codes: Vec::new(), notice: None, problems: Problems::default(), status: StatusCode::OK }
    }
}

async fn page(req: &HttpRequest, state: &AppState, who: &SignedIn, shown: Shown) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let (pool, keyring) = (state.db.pool.clone(), state.keyring.clone());
    let (owner_id, email, issuer) = (who.owner.id.clone(), who.owner.email.clone(), state.mail.business.clone());
    let (on, pending) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let account = Account { owner_id: &owner_id, email: &email, issuer: issuer.as_str() };
        if second_factor::enrolled(&mut conn, &owner_id)? {
            return Ok((Some(stored::codes_left(&mut conn, &owner_id)?), None));
        }
        Ok((None, second_factor::pending(&mut conn, &keyring, &account)?))
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?;
    let page = TwoFactorPage {
        c: chrome(req, who),
        s: TwoFactorStrings::get(locale),
        on,
        pending,
        codes: shown.codes,
        required: state.settings.require_2fa,
        enrolling: who.stage == Stage::Enrol,
        notice: shown.notice,
        problems: shown.problems,
    };
    let mut response = render_with_status(&page, shown.status);
    // The secret and the recovery codes stay out of every cache.
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn show(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    page(&req, &state, &who, Shown::ok()).await
}

async fn start(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.form(&req, payload).await?;
    let (keyring, locale) = (state.keyring.clone(), who.locale);
    let (owner_id, email, issuer) = (who.owner.id.clone(), who.owner.email.clone(), state.mail.business.clone());
    state
        .db
        .writer
        .write(move |tx| -> Result<(), AppError> {
            // Setting up again replaces a factor in use only once the new one is confirmed.
            if second_factor::enrolled(tx.conn, &owner_id)? {
                return Ok(());
            }
            let account = Account { owner_id: &owner_id, email: &email, issuer: issuer.as_str() };
            second_factor::start(tx.conn, &keyring, &account)?;
            Ok(())
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    Ok(see_other(&format!("/admin/account/two-factor?lang={}", locale.as_str())))
}

async fn confirm(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    let (keyring, locale, typed) = (state.keyring.clone(), who.locale, fields.get("code").to_owned());
    let (owner_id, session) = (who.owner.id.clone(), who.session_hash().to_owned());
    let codes = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> {
            let codes = second_factor::confirm(tx.conn, &keyring, &owner_id, &typed, Utc::now().naive_utc())?;
            if codes.is_some() {
                stored::set_stage(tx.conn, &session, Stage::SignedIn.as_str())?;
            }
            Ok(codes)
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    let s = TwoFactorStrings::get(locale);
    let Some(codes) = codes else {
        let mut problems = Problems::default();
        problems.add("code", s.wrong_code);
        let shown = Shown { problems, status: StatusCode::UNPROCESSABLE_ENTITY, ..Shown::ok() };
        return page(&req, &state, &who, shown).await;
    };
    let mut who = who;
    who.stage = Stage::SignedIn;
    page(&req, &state, &who, Shown { codes, notice: Some(s.is_on), ..Shown::ok() }).await
}

async fn new_codes(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    who.form(&req, payload).await?;
    let (owner_id, locale, actor) = (who.owner.id.clone(), who.locale, who.actor());
    let codes = state
        .db
        .writer
        .write(move |tx| -> Result<_, AppError> {
            if !second_factor::enrolled(tx.conn, &owner_id)? {
                return Ok(Vec::new());
            }
            let codes = second_factor::new_recovery_codes(tx.conn, &owner_id, Utc::now().naive_utc())?;
            crate::services::rights::audit_action(tx.conn, &actor, "staff.recovery_codes_replaced", None, "")?;
            Ok(codes)
        })
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    page(&req, &state, &who, Shown { codes, ..Shown::ok() }).await
}

async fn turn_off(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.form(&req, payload).await?;
    let (s, locale) = (TwoFactorStrings::get(who.locale), who.locale);
    let mut problems = Problems::default();
    if state.settings.require_2fa {
        problems.add("password", s.still_required);
        return page(&req, &state, &who, Shown { problems, status: StatusCode::CONFLICT, ..Shown::ok() }).await;
    }
    let (pool, owner_id, password) = (state.db.pool.clone(), who.owner.id.clone(), fields.get("password").to_owned());
    let right = state
        .limits
        .hashing(move || -> Result<bool, AppError> {
            Ok(crate::services::owners::is_current_password(&mut *pool.get()?, &owner_id, &password)?)
        })
        .await
        .and_then(|right| right)
        .map_err(|e| AdminError::new(e, locale))?;
    if !right {
        problems.add("password", s.wrong_password);
        return page(&req, &state, &who, Shown { problems, status: StatusCode::UNPROCESSABLE_ENTITY, ..Shown::ok() })
            .await;
    }
    let (owner_id, actor) = (who.owner.id.clone(), Actor::Owner(who.owner.id.clone()));
    state
        .db
        .writer
        .write(move |tx| Ok::<_, AppError>(second_factor::remove(tx.conn, &actor, &owner_id)?))
        .await
        .map_err(|e| AdminError::new(e, locale))?;
    page(&req, &state, &who, Shown { notice: Some(s.turned_off), ..Shown::ok() }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;

    #[test]
    fn every_second_factor_word_is_in_every_language() {
        for locale in Locale::shipped() {
            for id in TwoFactorStrings::ids() {
                assert!(crate::i18n::catalogue(locale).has(&id), "{id} missing in {locale}");
            }
        }
    }
}
