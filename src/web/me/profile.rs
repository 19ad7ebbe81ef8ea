//! What `/me` shows a signed-in person: the profile page (values held, consents, history) and
//! the downloads of the same data (JSON, CSV, signed receipt). Every read of personal data for
//! a download is recorded as an access.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use std::sync::Arc;

use super::require_session;
use crate::db::catalog::Catalog;
use crate::db::sessions::Session;
use crate::domain::rights::RightKind;
use crate::domain::{ConsentStatus, Locale, Localized, Method, SubjectId};
use crate::services::profile::ReadUnder;
use crate::services::receipts::Issuer;
use crate::services::rights::{self, Actor, Profile};
use crate::web::error::{AppError, PageError};
use crate::web::i18n::Strings;
use crate::web::pages::{
    ConsentRow, EditRow, HistoryRow, ProfilePage, ValueRow, form_title, local_time, purpose_title, render,
};
use crate::web::{AppState, locale_of};

/// Reads the profile (personal data) under `catalog`.
async fn read_profile(state: &AppState, catalog: Arc<Catalog>, subject_id: &str) -> Result<Profile, AppError> {
    let (pool, keyring, id) = (state.db.pool.clone(), state.keyring.clone(), subject_id.to_owned());
    web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        Ok(rights::profile(&mut conn, &keyring, &catalog, &id)?)
    })
    .await?
}

/// The profile the page shows under `catalog`: kept from an earlier view while nothing about the
/// person (and not the catalogue) has changed since (`services::person_cache`), else read.
async fn page_profile(state: &AppState, catalog: &Arc<Catalog>, subject_id: &str) -> Result<Arc<ReadUnder>, AppError> {
    if let Some(kept) = state.me_pages.get(subject_id)
        && std::ptr::eq(kept.catalog.as_ptr(), Arc::as_ptr(catalog))
    {
        return Ok(kept);
    }
    let stamp = state.me_pages.stamp();
    let profile = read_profile(state, catalog.clone(), subject_id).await?;
    let read = Arc::new(ReadUnder { catalog: Arc::downgrade(catalog), profile });
    state.me_pages.put(subject_id.to_owned(), stamp, subject_id, read.clone());
    Ok(read)
}

/// Reads the profile (personal data) afresh and records the access, if it is one.
async fn load_profile(state: &AppState, subject_id: &str, kind: Option<RightKind>) -> Result<Profile, AppError> {
    let profile = read_profile(state, state.catalog.current(), subject_id).await?;
    if let Some(kind) = kind {
        let id = subject_id.to_owned();
        state
            .db
            .writer
            .write(move |tx| {
                let id = SubjectId::from(id);
                rights::record_access(
                    tx,
                    &id,
                    kind,
                    rights::By::new(&Actor::Subject(id.clone()), Method::PreferenceCenter),
                )
            })
            .await?;
    }
    Ok(profile)
}

/// The profile page; `edit_error` is a refused correction: the field and its message.
pub(super) async fn profile_page(
    req: &HttpRequest,
    state: &AppState,
    s: &Session,
    locale: Locale,
    edit_error: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let t = Strings::get(locale);
    // One catalogue for the whole page: the one the profile was read (or kept) under.
    let catalog = state.catalog.current();
    let read = page_profile(state, &catalog, &s.subject_id).await.map_err(|e| PageError::new(e, locale))?;
    let profile = &read.profile;
    let done =
        web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok().and_then(|q| q.get("done").cloned());
    // A request sent or an address waiting for its link: no new receipt to offer.
    let asked = matches!(done.as_deref(), Some("asked" | "email"));
    let notice = done.map(|d| match d.as_str() {
        "asked" => t.me.ask_sent,
        "email" => t.me.email_sent,
        _ => t.me.done,
    });
    let page = ProfilePage {
        t,
        lang: locale.as_str(),
        languages: crate::web::i18n::languages(locale, catalog.locales.offered()),
        csrf: s.csrf_token.clone(),
        notice,
        asked,
        problem: None,
        values: value_rows(profile, &catalog, locale, state.settings.time_zone),
        edits: edit_rows(profile, locale, catalog.default_locale(), edit_error.as_ref()),
        consents: consent_rows(profile, &catalog, locale),
        history: history_rows(profile, &catalog, locale, state.settings.time_zone),
        kept: kept_by_law(profile, &catalog, locale),
        email: profile.email.clone(),
        external_id: profile.external_id.clone(),
    };
    let mut response = render(&page);
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// What is kept under a statutory obligation, in words.
fn kept_by_law(profile: &Profile, catalog: &Catalog, locale: Locale) -> (String, String, Vec<String>) {
    let c = crate::i18n::catalogue(locale);
    let lines = crate::services::holds::lines(catalog, &profile.kept_by_law, locale);
    (c.text("kept-by-law-title"), c.text("kept-by-law-intro"), lines)
}

/// A field's label in `locale`, or its key when the form no longer names it.
fn label(field: &str, l: &Option<Localized>, locale: Locale, default: Locale) -> String {
    l.as_ref().map(|l| l.get(locale, default).to_owned()).unwrap_or_else(|| field.to_owned())
}

/// Every value held, with where it came from and what it is kept for.
fn value_rows(
    profile: &Profile,
    catalog: &Catalog,
    locale: Locale,
    zone: crate::domain::import::Zone,
) -> Vec<ValueRow> {
    let default = catalog.default_locale();
    profile
        .values
        .iter()
        .map(|v| ValueRow {
            label: label(&v.field, &v.label, locale, default),
            value: v.value.clone(),
            // The form by its title, as the person saw it (its key only if the form is gone).
            source: format!(
                "{} · {}",
                form_title(catalog, &v.form, locale),
                local_time(v.submitted_at, zone, locale).0
            ),
            purposes: v.purposes.iter().map(|p| purpose_title(catalog, p, locale)).collect::<Vec<_>>().join(", "),
        })
        .collect()
}

/// One correction input per field, holding its latest value.
fn edit_rows(
    profile: &Profile,
    locale: Locale,
    default: Locale,
    edit_error: Option<&(String, String)>,
) -> Vec<EditRow> {
    let mut edits: Vec<EditRow> = Vec::new();
    for v in profile.values.iter().rev() {
        if edits.iter().any(|e| e.field == v.field) {
            continue;
        }
        let error = edit_error.filter(|(f, _)| *f == v.field).map(|(_, m)| m.clone());
        edits.push(EditRow {
            field: v.field.clone(),
            label: label(&v.field, &v.label, locale, default),
            value: v.value.clone(),
            input_type: match v.field.as_str() {
                "email" => "email",
                "phone" => "tel",
                _ => "text",
            },
            error,
        });
    }
    edits.reverse();
    edits
}

/// Every purpose of the catalogue, with the person's consent to it (or none).
fn consent_rows(profile: &Profile, catalog: &Catalog, locale: Locale) -> Vec<ConsentRow> {
    let t = Strings::get(locale);
    catalog
        .purposes
        .values()
        .map(|p| {
            let held = profile.consents.iter().find(|c| c.purpose == p.key.as_str());
            let status = held.map_or(ConsentStatus::Never, |c| c.status);
            let policy_version = held.map_or(p.policy.version, |c| c.policy_version);
            ConsentRow {
                purpose: p.key.to_string(),
                title: held.map_or_else(
                    || p.policy.title().get(locale, catalog.default_locale()).to_owned(),
                    |c| c.title.get(locale, catalog.default_locale()).to_owned(),
                ),
                status: t.status(status),
                status_key: status.as_str(),
                since: held.map(|c| t.since(c.since.date_naive())),
                expires: held.and_then(|c| c.expires_at).map(|at| t.until(at.date_naive())),
                wording: held.map_or_else(
                    || p.policy.text().get(locale, catalog.default_locale()).to_owned(),
                    |c| c.wording.get(locale, catalog.default_locale()).to_owned(),
                ),
                policy_version,
                policy_url: format!("/policies/{}/v{}?lang={}", p.key, policy_version, locale.as_str()),
                required: p.required,
                can_withdraw: matches!(status, ConsentStatus::Granted | ConsentStatus::Pending),
                recipients: (
                    crate::web::notice_words::recipients_label(locale),
                    crate::web::notice_words::recipients(&p.details, locale, catalog.default_locale()),
                ),
            }
        })
        .collect()
}

/// The ledger's events for the person, newest first.
fn history_rows(
    profile: &Profile,
    catalog: &Catalog,
    locale: Locale,
    zone: crate::domain::import::Zone,
) -> Vec<HistoryRow> {
    profile
        .history
        .iter()
        .rev()
        .map(|h| {
            let (at, at_iso) = local_time(h.at, zone, locale);
            HistoryRow {
                at,
                at_iso,
                purpose: purpose_title(catalog, &h.purpose, locale),
                action: in_words(locale, "me-action", &h.action),
                method: in_words(locale, "me-method", &h.method),
            }
        })
        .collect()
}

/// A ledger action or method in the page's words (`<prefix>-<wire string>`); one the catalogue
/// does not know (none ships so: a test walks them all) as written.
fn in_words(locale: Locale, prefix: &str, wire: &str) -> String {
    let id = format!("{prefix}-{}", crate::i18n::kebab(wire));
    let words = crate::i18n::catalogue(locale);
    if words.has(&id) || crate::i18n::catalogue(Locale::EN).has(&id) { words.text(&id) } else { wire.to_owned() }
}

pub(super) async fn export_json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let profile = load_profile(&state, &s.subject_id, Some(RightKind::Portability))
        .await
        .map_err(|e| PageError::new(e, locale))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"my-data.json\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(profile))
}

pub(super) async fn export_csv(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let profile = load_profile(&state, &s.subject_id, Some(RightKind::Portability))
        .await
        .map_err(|e| PageError::new(e, locale))?;
    let csv = crate::services::export::to_csv(&profile).map_err(|e| PageError::new(AppError::Internal(e), locale))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"my-data.csv\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(csv))
}

pub(super) async fn receipt(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let locale = locale_of(&req);
    let s = require_session(&req, &state, locale).await?;
    let profile = load_profile(&state, &s.subject_id, None).await.map_err(|e| PageError::new(e, locale))?;
    let catalog = state.catalog.current();
    let issuer = Issuer { keyring: &state.keyring, catalog: &catalog, base_url: &state.settings.base_url };
    let token = issuer
        .state(&profile, Method::PreferenceCenter, locale)
        .map_err(|e| PageError::new(AppError::Internal(e.into()), locale))?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwt")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"consent-receipt.jwt\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConsentAction, Method};

    #[test]
    fn every_action_and_method_is_in_words_in_every_language() {
        for locale in Locale::shipped() {
            let words = crate::i18n::catalogue(locale);
            for action in ConsentAction::ALL {
                assert!(
                    words.has(&format!("me-action-{}", crate::i18n::kebab(action.as_str()))),
                    "{locale} {action:?}"
                );
            }
            for method in Method::ALL {
                assert!(
                    words.has(&format!("me-method-{}", crate::i18n::kebab(method.as_str()))),
                    "{locale} {method:?}"
                );
            }
        }
        assert_eq!(in_words(Locale::JA, "me-action", "withdrawn"), "撤回");
        assert_eq!(in_words(Locale::EN, "me-method", "email_link"), "Link in an email");
    }
}
