//! `GET /admin/audit`: who (owner, API key, subject, job) did what to whose data and when,
//! filterable by actor kind, action, person and date; newest first, in keyset pages.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::data_strings::DataStrings;
use super::submissions::{decode_cursor, encode_cursor};
use super::{AdminError, Chrome, SignedIn};
use crate::db::console::{self, AuditFilter, AuditRow};
use crate::domain::Locale;
use crate::domain::rights::{RightKind, Step};
use crate::i18n::{Catalogue, catalogue, in_words};
use crate::services::audit::ACTIONS;
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
    /// Actor kinds and actions that can be filtered on: value, words.
    kinds: Vec<(&'static str, String)>,
    actions: Vec<(String, String)>,
    rows: Vec<Line>,
    /// Console accounts by id, to name staff by address.
    owners: std::collections::HashMap<String, String>,
    next: Option<String>,
    link: String,
    ignored: bool,
}

/// One row of the log with its actor and action in words.
struct Line {
    row: AuditRow,
    actor: String,
    action: String,
}

/// An action in words: a right carried out, a rights-desk step, or `audit-action-<action>`; an
/// action this version does not know (an older one's) is shown as written.
fn action_words(c: &Catalogue, action: &str) -> String {
    if RightKind::parse(action).is_some() {
        return c.format("audit-action-right", &[("kind", in_words(c, "rights-kind", action).into())]);
    }
    if let Some(step) = action.strip_prefix("rights_request.").filter(|s| Step::parse(s).is_some()) {
        return c.format("audit-action-step", &[("step", in_words(c, "rights-step", step).into())]);
    }
    let id = format!("audit-action-{}", crate::i18n::kebab(&action.replace('.', "-")));
    if catalogue(Locale::EN).has(&id) { c.text(&id) } else { action.to_owned() }
}

/// Every action that can be filtered on, in words, alphabetically by them.
fn action_choices(c: &Catalogue) -> Vec<(String, String)> {
    let rights = RightKind::ALL.iter().map(|k| k.as_str().to_owned());
    let steps = Step::ALL.iter().map(|s| format!("rights_request.{}", s.as_str()));
    let mut all: Vec<(String, String)> = ACTIONS
        .iter()
        .map(|a| (*a).to_owned())
        .chain(rights)
        .chain(steps)
        .map(|a| {
            let words = action_words(c, &a);
            (a, words)
        })
        .collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    all
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
    let c = catalogue(who.locale);
    let rows = rows
        .into_iter()
        .map(|row| Line {
            actor: in_words(c, "audit-actor", &row.actor_kind),
            action: action_words(c, &row.action),
            row,
        })
        .collect();
    let page = AuditPage {
        c: who.chrome(&req, "audit"),
        d: DataStrings::get(who.locale),
        q,
        kinds: ACTOR_KINDS.iter().map(|k| (*k, in_words(c, "audit-actor", k))).collect(),
        actions: action_choices(c),
        rows,
        owners,
        next,
        link,
        ignored,
    };
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_and_actor_is_in_words_in_every_language() {
        for locale in Locale::shipped() {
            let c = catalogue(locale);
            for (action, words) in action_choices(c) {
                assert_ne!(words, action, "{action} in {locale:?}");
                let id = format!("audit-action-{}", crate::i18n::kebab(&action.replace('.', "-")));
                assert!(c.has(&id) || words.contains(':'), "{id} missing from {locale:?}");
            }
            for kind in ACTOR_KINDS {
                assert!(c.has(&format!("audit-actor-{}", crate::i18n::kebab(kind))), "{kind} in {locale:?}");
            }
        }
        assert_eq!(action_words(catalogue(Locale::EN), "from_an_older_version"), "from_an_older_version");
    }
}
