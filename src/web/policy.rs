//! A policy version's page, `/policies/{purpose}/v{n}`: its wording in the page's language (or
//! the workspace's default where it was not published in it), with the fingerprints of the whole
//! version and of the wording shown, and links to every language it was published in.

use actix_web::{HttpRequest, HttpResponse, web};

use super::error::{AppError, PageError};
use super::i18n::Strings;
use super::notice_words;
use super::pages::{PolicyPage, render};
use super::{AppState, locale_of};
use crate::db::catalog;
use crate::domain::provision::NoticeDetails;
use crate::domain::{ErrorCode, Locale};

pub(super) async fn policy(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let not_found = || PageError::new(AppError::NotFound(ErrorCode::PolicyNotFound), locale);
    let (purpose, version) = path.into_inner();
    let version: i64 = version.trim_start_matches('v').parse().map_err(|_| not_found())?;
    let pool = state.db.pool.clone();
    let found = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(catalog::policy_version(&mut conn, &purpose, version)?)
    })
    .await
    .map_err(|e| PageError::new(e, locale))?
    .map_err(|e| PageError::new(e, locale))?
    .ok_or_else(not_found)?;
    let default = state.catalog.current().default_locale();
    let published_in = found
        .title()
        .tags()
        .filter_map(Locale::from_tag)
        .map(|l| {
            let link = format!("/policies/{}/v{}?lang={l}", found.purpose_key, found.version);
            (l.as_str().to_owned(), crate::i18n::catalogue(l).text("lang-name"), link)
        })
        .collect();
    let details = NoticeDetails::of_terms(&found.terms);
    let required = serde_json::from_str::<serde_json::Value>(&found.terms)
        .ok()
        .and_then(|t| t["required"].as_bool())
        .unwrap_or(false);
    let c = crate::i18n::catalogue(locale);
    let refusal = (c.text("page-refusal-label"), notice_words::refusal(&details, required, locale, default));
    let recipients = (notice_words::recipients_label(locale), notice_words::recipients(&details, locale, default));
    Ok(render(&PolicyPage {
        refusal,
        recipients,
        t: Strings::get(locale),
        lang: locale.as_str(),
        title: found.title().get(locale, default).to_owned(),
        text: found.text().get(locale, default).to_owned(),
        version: found.version,
        published: crate::web::pages::local_time(found.created_at.and_utc(), state.settings.time_zone, locale),
        shown_lang: found.title().resolve(locale, default).map_or("", |(tag, _)| tag).to_owned(),
        shown_hash: found.shown_hash(locale, default),
        published_in,
        policy_shown_hash_label: crate::i18n::catalogue(locale).text("policy-shown-hash"),
        policy_published_in_label: crate::i18n::catalogue(locale).text("policy-published-in"),
        hash: found.text_hash,
    }))
}
