//! What the builder's pages share: reading a form's working copy off the executor, turning a
//! builder refusal into a console error, and checking a required text input.

use actix_web::http::StatusCode;
use actix_web::web;

use super::{AdminError, AdminStrings, Fields, Problems, SignedIn};
use crate::domain::{ErrorCode, Locale};
use crate::services::builder::{self, BuilderError, Working};
use crate::web::AppState;
use crate::web::error::AppError;

/// Runs `f` on a pooled connection off the executor.
pub async fn read<T: Send + 'static>(
    state: &AppState,
    locale: Locale,
    f: impl FnOnce(&mut crate::db::DbConnection) -> Result<T, BuilderError> + Send + 'static,
) -> Result<T, AdminError> {
    let pool = state.db.pool.clone();
    web::block(move || -> Result<Result<T, BuilderError>, AppError> {
        let mut conn = pool.get()?;
        Ok(f(&mut conn))
    })
    .await
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| AdminError::new(e, locale))?
    .map_err(|e| builder_error(e, locale))
}

/// A form that does not exist is the console's 404; anything else is internal.
pub fn builder_error(e: BuilderError, locale: Locale) -> AdminError {
    match e {
        BuilderError::NotFound => {
            AdminError::Refused { status: StatusCode::NOT_FOUND, code: ErrorCode::NotFound, locale }
        }
        other => AdminError::new(AppError::Internal(other.into()), locale),
    }
}

/// The working copy (draft and published version) of the form `key`.
pub async fn load(state: &AppState, who: &SignedIn, key: &str) -> Result<Working, AdminError> {
    let (catalog, key) = (state.catalog.current(), key.to_owned());
    read(state, who.locale, move |conn| builder::working(conn, &catalog, &key)).await
}

/// The trimmed value of a required text input of at most `max` characters; a problem if not.
/// A text typed in one input per offered language (`<prefix>_<tag>`), checked as
/// [`crate::domain::texts::typed`] does, each problem added next to its input.
pub fn localized(
    problems: &mut Problems,
    t: &AdminStrings,
    fields: &Fields,
    prefix: &str,
    locales: &crate::domain::Locales,
    max: usize,
) -> crate::domain::Localized {
    let mut refused = Vec::new();
    let text = crate::domain::texts::typed(prefix, &fields.text(prefix, locales), locales, max, &mut refused);
    for (name, code) in refused {
        problems.add(name, t.says(code));
    }
    text
}

pub fn text(problems: &mut Problems, t: &AdminStrings, fields: &Fields, name: &str, max: usize) -> String {
    let value = fields.get(name).trim().to_owned();
    if value.is_empty() {
        problems.add(name, t.says(ErrorCode::Required));
    } else if value.chars().count() > max {
        problems.add(name, t.says(ErrorCode::TooLong));
    }
    value
}
