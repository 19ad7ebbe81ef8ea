//! The workspace's languages in the console: which shipped languages its forms are offered in,
//! in what order, which one every text falls back to, and which texts are not translated yet.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use fluent_bundle::FluentValue;

use super::{AdminError, Chrome, Problems, SignedIn, refresh_catalog, see_other};
use crate::db::catalog::{self, Catalog};
use crate::domain::{ErrorCode, Locale, Locales, Localized};
use crate::i18n::{Catalogue, catalogue, message_struct};
use crate::services::rights::audit_action;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render_with_status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/languages").route(web::get().to(show)).route(web::post().to(change)));
}

/// One offered language.
struct Offered {
    tag: &'static str,
    name: String,
    default: bool,
}

/// A text missing in some offered languages.
struct Untranslated {
    what: String,
    missing: String,
}

#[derive(Template)]
#[template(path = "admin/languages.html")]
struct LanguagesPage {
    c: Chrome,
    w: &'static LanguageWords,
    offered: Vec<Offered>,
    /// Shipped languages the workspace does not offer yet: tag, name.
    addable: Vec<(&'static str, String)>,
    untranslated: Vec<Untranslated>,
    notice: Option<&'static str>,
    problems: Problems,
}

message_struct! {
    /// The page's words in one language (ids `languages-<field>`).
    pub struct LanguageWords("languages-") {
        title,
        intro,
        col_language,
        col_tag,
        col_default,
        make_default,
        remove,
        add,
        add_label,
        untranslated_title,
        untranslated_none,
        col_text,
        col_missing,
        saved,
    }
}

/// Every text of the workspace in force (purposes' wording, published forms) missing in an
/// offered language: readers of that language get the default's text.
fn untranslated(catalog: &Catalog, words: &Catalogue) -> Vec<Untranslated> {
    let locales = &catalog.locales;
    let mut texts: Vec<(String, &Localized)> = Vec::new();
    for p in catalog.purposes.values() {
        let purpose = FluentValue::from(p.key.to_string());
        texts.push((words.format("languages-purpose-title", &[("purpose", purpose.clone())]), p.policy.title()));
        texts.push((words.format("languages-purpose-wording", &[("purpose", purpose)]), p.policy.text()));
    }
    for f in catalog.forms.values() {
        for (place, text) in f.definition.texts() {
            let args = [("form", FluentValue::from(f.key.to_string())), ("place", FluentValue::from(place))];
            texts.push((words.format("languages-form-text", &args), text));
        }
    }
    texts
        .into_iter()
        .filter_map(|(what, text)| {
            let missing = text.untranslated(locales);
            let names: Vec<String> = missing.iter().map(|l| catalogue(*l).text("lang-name")).collect();
            (!missing.is_empty()).then(|| Untranslated { what, missing: names.join(", ") })
        })
        .collect()
}

fn page(req: &HttpRequest, who: &SignedIn, state: &AppState, problems: Problems, status: StatusCode) -> HttpResponse {
    let catalog = state.catalog.current();
    let words = catalogue(who.locale);
    let locales = &catalog.locales;
    let offered = locales
        .offered()
        .iter()
        .map(|l| Offered {
            tag: l.as_str(),
            name: catalogue(*l).text("lang-name"),
            default: *l == locales.default_locale(),
        })
        .collect();
    let addable = Locale::shipped()
        .filter(|l| !locales.offers(*l))
        .map(|l| (l.as_str(), catalogue(l).text("lang-name")))
        .collect();
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string()).ok();
    let w = LanguageWords::get(who.locale);
    let notice = query.filter(|q| q.contains_key("saved")).map(|_| w.saved);
    let page = LanguagesPage {
        c: who.chrome(req, "languages"),
        w,
        offered,
        addable,
        untranslated: untranslated(&catalog, words),
        notice,
        problems,
    };
    render_with_status(&page, status)
}

async fn show(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> HttpResponse {
    page(&req, &who, &state, Problems::default(), StatusCode::OK)
}

/// The languages after one change (`add`, `remove`, `default`), or the code of why not.
fn changed(current: &Locales, action: &str, locale: Option<Locale>) -> Result<Locales, ErrorCode> {
    let locale = locale.ok_or(ErrorCode::InvalidChoice)?;
    let mut offered = current.offered().to_vec();
    let mut default = current.default_locale();
    match action {
        "add" if !current.offers(locale) => offered.push(locale),
        "remove" if locale != default => offered.retain(|l| *l != locale),
        "default" if current.offers(locale) => default = locale,
        _ => return Err(ErrorCode::InvalidChoice),
    }
    Locales::new(offered, default).map_err(|_| ErrorCode::InvalidChoice)
}

async fn change(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let fields = who.owner_form(&req, payload).await?;
    let (action, asked) = (fields.get("action").to_owned(), Locale::from_tag(fields.get("locale")));
    let actor = who.actor();
    // Decided against the languages as stored, inside the write: a change made meanwhile by
    // another request or process is built on, never undone.
    let refused = state
        .db
        .writer
        .write(move |tx| -> Result<Option<ErrorCode>, AppError> {
            catalog::lock_for_publishing(tx.conn)?;
            let current = catalog::workspace_locales(tx.conn)?;
            let next = match changed(&current, &action, asked) {
                Ok(next) => next,
                Err(code) => return Ok(Some(code)),
            };
            let detail: Vec<String> = next
                .offered()
                .iter()
                .map(|l| if *l == next.default_locale() { format!("{l}*") } else { l.to_string() })
                .collect();
            catalog::set_workspace_locales(tx.conn, &next)?;
            audit_action(tx.conn, &actor, "workspace_locales_changed", None, &detail.join(","))?;
            Ok(None)
        })
        .await
        .map_err(|e| AdminError::new(e, who.locale))?;
    if let Some(code) = refused {
        let mut problems = Problems::default();
        problems.add("locale", super::AdminStrings::get(who.locale).says(code));
        return Ok(page(&req, &who, &state, problems, StatusCode::UNPROCESSABLE_ENTITY));
    }
    refresh_catalog(&state).await.map_err(|e| AdminError::new(e, who.locale))?;
    Ok(see_other(&format!("/admin/languages?lang={}&saved=1", who.locale)))
}

impl Chrome {
    /// The navigation entry of this page, in the console's language.
    pub fn nav_languages(&self) -> String {
        catalogue(self.t.lang).text("nav-languages")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_of_the_page_is_in_english() {
        for id in LanguageWords::ids() {
            assert!(catalogue(Locale::EN).has(&id), "{id}");
        }
    }

    #[test]
    fn the_default_stays_offered_and_a_language_is_offered_once() {
        let now = Locales::default();
        let added = changed(&now, "add", Some(Locale::JA)).expect("adds");
        assert_eq!(added.offered(), [Locale::EN, Locale::KO, Locale::JA]);
        assert_eq!(changed(&added, "add", Some(Locale::JA)), Err(ErrorCode::InvalidChoice));
        assert_eq!(changed(&added, "remove", Some(Locale::EN)), Err(ErrorCode::InvalidChoice), "the default");
        let korean = changed(&added, "default", Some(Locale::KO)).expect("any offered one");
        assert_eq!(
            changed(&korean, "remove", Some(Locale::EN)).expect("now it may go").offered(),
            [Locale::KO, Locale::JA]
        );
        assert_eq!(changed(&now, "default", None), Err(ErrorCode::InvalidChoice));
    }
}
