//! `GET /admin/access`: the access records (art. 8), newest first, filterable by person (subject
//! id), by actor (console account or API key id), by action and by date, so that a privacy
//! officer can answer "who looked at this person's data?". Listing them is not itself recorded:
//! the page shows ids, never a person's data.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminError, Chrome, SignedIn};
use crate::db::access::{AccessFilter, AccessRecord, page as records_page};
use crate::db::console;
use crate::domain::access::AccessAction;
use crate::i18n::{catalogue, message_struct};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render;

const PAGE: i64 = 100;

message_struct! {
    /// The access records page's words (ids `access-<field>`).
    pub struct AccessStrings("access-") {
        title,
        intro,
        filter_legend,
        filter_subject,
        filter_actor,
        filter_action,
        filter_from,
        filter_until,
        any,
        apply_filter,
        invalid_filter,
        col_seq,
        col_when,
        col_actor,
        col_action,
        col_subject,
        col_ip,
        col_path,
        col_times,
        last,
        nobody,
        none,
        next_rows,
    }
}

#[derive(serde::Deserialize, Default)]
struct Query {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "admin/access.html")]
struct AccessPage {
    c: Chrome,
    a: &'static AccessStrings,
    q: Query,
    actions: Vec<&'static str>,
    rows: Vec<AccessRecord>,
    /// Console accounts by id, to name staff by address.
    owners: std::collections::HashMap<String, String>,
    next: Option<i64>,
    link: String,
    ignored: bool,
}

fn filter_of(q: &Query) -> (AccessFilter, bool) {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut ignored = false;
    let mut date = |s: &str, days: i64| super::day_filter(s, days, &mut ignored);
    let (from, until) = (date(&q.from, 0), date(&q.until, 1));
    let action = text(&q.action);
    ignored |= action.as_deref().is_some_and(|a| AccessAction::parse(a).is_none());
    let before = text(&q.before).and_then(|b| b.parse().ok());
    let filter = AccessFilter {
        subject_id: text(&q.subject),
        actor_id: text(&q.actor),
        action: action.filter(|a| AccessAction::parse(a).is_some()),
        from,
        until,
        before,
    };
    (filter, ignored)
}

pub async fn page(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let q = web::Query::<Query>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    let (filter, ignored) = filter_of(&q);
    let pool = state.db.pool.clone();
    let (mut rows, owners) = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let rows = records_page(&mut conn, &filter, PAGE + 1)?;
        let ids: Vec<String> = rows.iter().filter(|r| r.actor_kind == "owner").map(|r| r.actor_id.clone()).collect();
        let owners = console::owner_emails(&mut conn, &ids)?.into_iter().collect();
        Ok((rows, owners))
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    let next = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s.trim(), percent_encoding::NON_ALPHANUMERIC).to_string();
    let link = format!(
        "subject={}&actor={}&action={}&from={}&until={}",
        enc(&q.subject),
        enc(&q.actor),
        enc(&q.action),
        enc(&q.from),
        enc(&q.until)
    );
    let page = AccessPage {
        c: who.chrome(&req, "access"),
        a: AccessStrings::get(who.locale),
        q,
        actions: AccessAction::ALL.iter().map(|a| a.as_str()).collect(),
        rows,
        owners,
        next,
        link,
        ignored,
    };
    Ok(render(&page))
}

impl Chrome {
    /// The navigation entry of this page, in the console's language.
    pub fn nav_access(&self) -> String {
        catalogue(self.t.lang).text("nav-access")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_the_page_words() {
        for locale in crate::domain::Locale::shipped() {
            let c = catalogue(locale);
            for id in AccessStrings::ids().iter().map(String::as_str).chain(["nav-access"]) {
                assert!(c.has(id), "{locale:?} lacks {id}");
            }
        }
    }
}
