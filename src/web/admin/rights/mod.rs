//! The rights desk at `/admin/rights`: requests that need work (by deadline, filtered by state,
//! kind, assignee and due date), kept apart from self-service actions that were done at once;
//! a request's own page ([`request`]), what staff do for the person from it ([`acts`]), and
//! entering a request that arrived by mail, phone, letter or in person ([`new`]).

mod acts;
mod new;
mod request;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::data_strings::DataStrings;
use super::submissions::{decode_cursor, encode_cursor};
use super::{AdminError, Chrome, SignedIn};
use crate::domain::Locale;
use crate::domain::rights::{Deadline, RequestChannel, RequestState, RightKind};
use crate::i18n::{catalogue, in_words, message_struct};
use crate::services::rights_desk::{self, RequestView, view};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render;

message_struct! {
    /// The rights desk's words (ids `desk-<field>`).
    pub struct DeskStrings("desk-") {
        title, intro, tab_work, tab_self, self_intro, new_request, filter, state, open, closed, all, kind,
        assignee, anyone, me, nobody, due, due_any, due_overdue, due_soon, apply, none,
        col_state, col_assignee, open_request, new_title,
        new_intro, channel, email, email_hint, detail, detail_hint, regime, verified, create,
        request_title, person, received, deadline, completed, not_yet, reason, history, steps_title,
        reason_label, reason_hint, assign, act_title, act_intro, export, rectify_title, field, new_value,
        rectify, withdraw_title, purpose, withdraw, erase_title, erase_confirm, erase, erased, letter,
        saved, done, nothing_held,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/rights").route(web::get().to(page)))
        .service(web::resource("/admin/rights/new").route(web::get().to(new::form)).route(web::post().to(new::create)))
        .service(web::resource("/admin/rights/{id}").route(web::get().to(request::page)))
        .service(web::resource("/admin/rights/{id}/step").route(web::post().to(request::step)))
        .service(web::resource("/admin/rights/{id}/assign").route(web::post().to(request::assign)))
        .service(web::resource("/admin/rights/{id}/letter").route(web::get().to(request::letter)))
        .service(web::resource("/admin/rights/{id}/export.json").route(web::get().to(acts::export)))
        .service(web::resource("/admin/rights/{id}/rectify").route(web::post().to(acts::rectify)))
        .service(web::resource("/admin/rights/{id}/withdraw").route(web::post().to(acts::withdraw)))
        .service(web::resource("/admin/rights/{id}/erase").route(web::post().to(acts::erase)));
}

/// Typed values in the reader's words.
pub struct Words {
    locale: Locale,
}

impl Words {
    pub fn new(locale: Locale) -> Self {
        Self { locale }
    }

    pub fn kind(&self, kind: &str) -> String {
        in_words(catalogue(self.locale), "rights-kind", kind)
    }

    /// A desk channel, or (self-service) the door it came through.
    pub fn channel(&self, channel: &str) -> String {
        if RequestChannel::parse(channel).is_some() {
            in_words(catalogue(self.locale), "rights-channel", channel)
        } else {
            in_words(catalogue(self.locale), "me-method", channel)
        }
    }

    pub fn state(&self, state: &str) -> String {
        in_words(catalogue(self.locale), "rights-state", state)
    }

    pub fn regime(&self, regime: &str) -> String {
        in_words(catalogue(self.locale), "rights-regime", regime)
    }

    pub fn step(&self, step: &str) -> String {
        in_words(catalogue(self.locale), "rights-step", step)
    }
}

#[derive(serde::Deserialize, Default)]
struct Query {
    #[serde(default)]
    view: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "admin/rights.html")]
struct DeskPage {
    c: Chrome,
    d: &'static DataStrings,
    k: &'static DeskStrings,
    w: Words,
    q: Query,
    self_service: bool,
    regime: String,
    kinds: Vec<(&'static str, String)>,
    states: Vec<(&'static str, String)>,
    owners: Vec<(String, String)>,
    rows: Vec<RequestView>,
    /// The next page's link (the filter kept).
    next: Option<String>,
    me: String,
}

impl DeskPage {
    fn owner_email(&self, id: &Option<String>) -> String {
        let found = id.as_ref().and_then(|id| self.owners.iter().find(|(o, _)| o == id));
        found.map_or_else(|| self.k.nobody.to_owned(), |(_, email)| email.clone())
    }
}

pub async fn page(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let locale = who.locale;
    let q = web::Query::<Query>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    let self_service = q.view == "self_service";
    let now = rights_desk::now();
    let mut filter = crate::web::rights_api::desk_filter(Some(&q.state), Some(&q.kind), Some(&q.due), now)
        .map_err(|e| AdminError::new(e, locale))?;
    filter.self_service = self_service;
    if self_service {
        filter.states.clear();
    }
    filter.assignee = match q.assignee.as_str() {
        "" => None,
        "me" => Some(who.owner.id.clone()),
        other => Some(other.to_owned()),
    };
    let after = decode_cursor(&q.after);
    let pool = state.db.pool.clone();
    let (rows, next, owners) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let (rows, next) = view::page(&mut conn, &filter, after.as_ref(), now)?;
        Ok((rows, next, crate::db::owners::active(&mut conn)?))
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?;
    let next = next.map(|n| {
        let keep = format!("view={}&state={}&kind={}&assignee={}&due={}", q.view, q.state, q.kind, q.assignee, q.due);
        format!("/admin/rights?lang={}&{keep}&after={}", locale.as_str(), encode_cursor(&n))
    });
    let w = Words::new(locale);
    let page = DeskPage {
        c: who.chrome(&req, "rights"),
        d: DataStrings::get(locale),
        k: DeskStrings::get(locale),
        regime: w.regime(state.settings.rights_deadline.as_str()),
        kinds: RightKind::DESK.iter().map(|k| (k.as_str(), w.kind(k.as_str()))).collect(),
        states: RequestState::ALL.iter().map(|s| (s.as_str(), w.state(s.as_str()))).collect(),
        w,
        q,
        self_service,
        owners,
        rows,
        next,
        me: who.owner.id.clone(),
    };
    Ok(render(&page))
}

/// The regimes a request may be entered under, in words, the configured one first.
pub fn regimes(w: &Words, configured: Deadline) -> Vec<(&'static str, String)> {
    let mut all: Vec<Deadline> = Deadline::ALL.to_vec();
    all.sort_by_key(|d| *d != configured);
    all.into_iter().map(|d| (d.as_str(), w.regime(d.as_str()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_the_desk_words() {
        for locale in Locale::shipped() {
            for id in DeskStrings::ids() {
                assert!(catalogue(locale).has(&id), "{locale:?} lacks {id}");
            }
        }
    }
}
