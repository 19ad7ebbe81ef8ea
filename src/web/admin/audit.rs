//! `GET /admin/audit`: who (owner, API key, subject, job) did what to whose data and when,
//! filterable by actor kind, action, person and date; newest first, in keyset pages.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::data_strings::DataStrings;
use super::submissions::{decode_cursor, encode_cursor};
use super::{AdminError, Chrome, SignedIn};
use crate::db::console::{self, AuditFilter, AuditRow};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render;

const PAGE: i64 = 100;
const ACTOR_KINDS: [&str; 4] = ["owner", "api_key", "subject", "job"];

#[derive(serde::Deserialize, Default)]
struct Query {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    c: Chrome,
    d: &'static DataStrings,
    q: Query,
    kinds: [&'static str; 4],
    rows: Vec<AuditRow>,
    /// Console accounts by id, to name staff by address.
    owners: std::collections::HashMap<String, String>,
    next: Option<String>,
    link: String,
    ignored: bool,
}

fn filter_of(q: &Query) -> (AuditFilter, bool) {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut ignored = false;
    let mut date = |s: &str, days: i64| super::day_filter(s, days, &mut ignored);
    let filter = AuditFilter {
        actor_kind: text(&q.actor).filter(|k| ACTOR_KINDS.contains(&k.as_str())),
        action: text(&q.action),
        subject_id: text(&q.subject),
        from: date(&q.from, 0),
        until: date(&q.until, 1),
    };
    (filter, ignored)
}

pub async fn page(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let q = web::Query::<Query>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    let (filter, ignored) = filter_of(&q);
    let before = decode_cursor(&q.before);
    let pool = state.db.pool.clone();
    let (mut rows, owners) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let rows = console::audit_page(&mut conn, &filter, before.as_ref(), PAGE + 1)?;
        let ids: Vec<String> = rows.iter().filter(|r| r.actor_kind == "owner").map(|r| r.actor_id.clone()).collect();
        let owners = console::owner_emails(&mut conn, &ids)?.into_iter().collect();
        Ok((rows, owners))
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| encode_cursor(&(r.occurred_at, r.id.clone())))
    } else {
        None
    };
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s.trim(), percent_encoding::NON_ALPHANUMERIC).to_string();
    let link = format!(
        "actor={}&action={}&subject={}&from={}&until={}",
        enc(&q.actor),
        enc(&q.action),
        enc(&q.subject),
        enc(&q.from),
        enc(&q.until)
    );
    let page = AuditPage {
        c: who.chrome(&req, "audit"),
        d: DataStrings::get(who.locale),
        q,
        kinds: ACTOR_KINDS,
        rows,
        owners,
        next,
        link,
        ignored,
    };
    Ok(render(&page))
}
