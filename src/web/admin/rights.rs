//! `GET /admin/rights`: every rights request, with its deadline under the configured regime
//! (`ASSENT_RIGHTS_DEADLINE`: GDPR one month, PIPA ten days) and overdue ones marked in words.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::data_strings::DataStrings;
use super::submissions::{decode_cursor, encode_cursor};
use super::{AdminError, Chrome, SignedIn};
use crate::domain::rights::Deadline;
use crate::services::console::{self, RightsLine};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render;

#[derive(Template)]
#[template(path = "admin/rights.html")]
struct RightsPage {
    c: Chrome,
    d: &'static DataStrings,
    regime: &'static str,
    rows: Vec<RightsLine>,
    next: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct Page {
    #[serde(default)]
    before: String,
}

pub async fn page(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let before = web::Query::<Page>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    let before = decode_cursor(&before.before);
    let regime = state.settings.rights_deadline;
    let pool = state.db.pool.clone();
    let (rows, next) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(console::rights(&mut conn, regime, before.as_ref(), Utc::now().naive_utc())?)
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    let d = DataStrings::get(who.locale);
    let page = RightsPage {
        c: who.chrome(&req, "rights"),
        d,
        regime: if regime == Deadline::Pipa { d.rights_pipa } else { d.rights_gdpr },
        rows,
        next: next.as_ref().map(encode_cursor),
    };
    Ok(render(&page))
}
