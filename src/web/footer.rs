//! Who runs this site. Every public page ends with the business's name (the workspace's
//! `controller`), how to reach its privacy officer and a link to the preference center; `/`
//! says the same at more length.
//!
//! Kept here rather than passed to each page because error pages are rendered where no request
//! state is at hand. It follows the catalogue: `CatalogHandle` sets it whenever a catalogue is
//! loaded or replaced, so a change of controller in the console shows on the next page.

use std::sync::{Arc, RwLock};

use crate::domain::Controller;

/// What the footer says.
#[derive(Debug, Default)]
pub struct Footer {
    /// The business's legal name ("" when the workspace declares none: the footer then only
    /// links to the preference center).
    pub name: String,
    /// Its privacy contact's address, if given.
    pub email: String,
    /// Its privacy policy, if given.
    pub policy_url: String,
}

static FOOTER: RwLock<Option<Arc<Footer>>> = RwLock::new(None);

/// Names `controller` in every footer from now on.
pub fn set(controller: Option<&Controller>) {
    let footer = controller.map_or_else(Footer::default, |c| Footer {
        name: c.name.trim().to_owned(),
        email: c.email.trim().to_owned(),
        policy_url: c.policy_url.trim().to_owned(),
    });
    if let Ok(mut current) = FOOTER.write() {
        *current = Some(Arc::new(footer));
    }
}

/// The footer as last set.
pub fn current() -> Arc<Footer> {
    FOOTER.read().ok().and_then(|f| f.clone()).unwrap_or_default()
}

/// The footer's words in the page's language (`lang`: the page's tag).
pub fn words(lang: &str) -> FooterWords {
    let c = crate::i18n::catalogue(crate::domain::Locale::from_tag(lang).unwrap_or(crate::domain::Locale::EN));
    FooterWords {
        me: c.text("footer-me"),
        contact: c.text("footer-contact"),
        policy: c.text("footer-policy"),
        home: c.text("footer-home"),
    }
}

pub struct FooterWords {
    pub me: String,
    pub contact: String,
    pub policy: String,
    /// The way back to `/` (on error pages).
    pub home: String,
}

/// `/`: who runs this site, what it is for, and the ways to the preference center, the privacy
/// policy and the privacy officer.
#[derive(askama::Template)]
#[template(path = "public/home.html")]
struct HomePage {
    lang: &'static str,
    title: String,
    intro: String,
    me: String,
}

pub async fn home(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    let locale = super::locale_of(&req);
    let c = crate::i18n::catalogue(locale);
    let site = current();
    let name = if site.name.is_empty() { c.text("home-unnamed") } else { site.name.clone() };
    let args = [("name", fluent_bundle::FluentValue::from(name.as_str()))];
    let page = HomePage {
        lang: locale.as_str(),
        title: c.format("home-title", &args),
        intro: c.format("home-intro", &args),
        me: c.text("home-me"),
    };
    super::pages::render(&page)
}
