//! The builder's one Save: the whole draft (settings, every field in the order shown, and a new
//! field if one was typed) comes in one POST, with the button pressed (`op`): save, save and
//! publish, add the field, or move or remove one. The move and remove buttons also keep whatever
//! else was typed; nothing is saved unless all of it is valid, and a refusal shows the page again
//! as typed, each message next to its input. The same POST to `/preview` renders the typed draft
//! unsaved, for the preview beside the editor.

use actix_web::{HttpRequest, HttpResponse, web};

use super::builder::{Refused, builder_page, publish_key, render_preview, typed_settings, with_settings};
use super::drafts::{builder_error, load};
use super::field_views::{FieldFormView, view_of};
use super::{AdminError, AdminStrings, Fields, Problems, SignedIn, see_other};
use crate::db::catalog::Catalog;
use crate::domain::{ErrorCode, FieldDefinition, Locale};
use crate::services::builder::{self, BuilderError, FieldInput};
use crate::web::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/forms/{key}/draft").route(web::post().to(save_draft))).service(
        web::resource("/admin/forms/{key}/preview")
            .route(web::get().to(super::builder::preview))
            .route(web::post().to(preview_typed)),
    );
}

/// The button pressed: its `op` value (positions count the fields in the order sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Save,
    Publish,
    Add,
    Up(usize),
    Down(usize),
    Remove(usize),
}

impl Op {
    /// `save`, `publish`, `add`, `up:N`, `down:N` or `remove:N`; anything else saves.
    pub fn parse(raw: &str) -> Op {
        let (verb, at) = raw.split_once(':').unwrap_or((raw, ""));
        match (verb, at.parse::<usize>()) {
            ("publish", _) => Op::Publish,
            ("add", _) => Op::Add,
            ("up", Ok(i)) => Op::Up(i),
            ("down", Ok(i)) => Op::Down(i),
            ("remove", Ok(i)) => Op::Remove(i),
            _ => Op::Save,
        }
    }
}

/// The fields as typed, in the order sent (`order` names each block), with the move or removal
/// the button asked for already made.
pub fn typed_fields(form: &Fields, locales: &crate::domain::Locales, op: Op) -> Vec<FieldInput> {
    let mut inputs: Vec<FieldInput> = form.all("order").into_iter().map(|s| typed(&form.scoped(s), locales)).collect();
    let n = inputs.len();
    match op {
        Op::Up(i) if i > 0 && i < n => inputs.swap(i, i - 1),
        Op::Down(i) if i + 1 < n => inputs.swap(i, i + 1),
        Op::Remove(i) if i < n => {
            inputs.remove(i);
        }
        _ => {}
    }
    inputs
}

fn typed(fields: &Fields, locales: &crate::domain::Locales) -> FieldInput {
    FieldInput {
        key: fields.get("key").trim().to_owned(),
        kind: fields.get("kind").to_owned(),
        label: fields.text("label", locales),
        required: fields.get("required") == "1",
        max_length: fields.get("max_length").to_owned(),
        choices: fields.get("choices").to_owned(),
        purposes: fields.all("purposes").into_iter().map(str::to_owned).collect(),
    }
}

/// Whether anything was typed into the new field's block (its type and purposes aside).
fn typed_anything(input: &FieldInput) -> bool {
    !input.key.is_empty()
        || input.label.0.values().any(|l| !l.trim().is_empty())
        || !input.choices.trim().is_empty()
        || !input.max_length.trim().is_empty()
}

/// A typed page turned into a draft, or shown back with what is wrong.
pub struct Checked {
    /// Every field that parsed, in order (the whole draft when nothing is wrong).
    pub fields: Vec<FieldDefinition>,
    pub views: Vec<FieldFormView>,
    pub new_field: Option<FieldFormView>,
    pub problems: Problems,
}

/// Parses every typed field (and the new one, when given), collecting each refusal next to its
/// input; a key used twice is refused on the later field.
pub fn check_fields(catalog: &Catalog, locale: Locale, inputs: &[FieldInput], new: Option<&FieldInput>) -> Checked {
    let t = AdminStrings::get(locale);
    let mut checked = Checked { fields: Vec::new(), views: Vec::new(), new_field: None, problems: Problems::default() };
    let all = inputs.iter().enumerate().map(|(i, input)| (Some(i), input)).chain(new.map(|input| (None, input)));
    for (at, input) in all {
        let mut view = view_of(catalog, locale, at, input);
        let refused = match builder::parse_field(input, &catalog.locales) {
            Ok(field) if checked.fields.iter().any(|f| f.key == field.key) => {
                Some(vec![("key".to_owned(), ErrorCode::KeyTaken)])
            }
            Ok(field) => {
                checked.fields.push(field);
                None
            }
            Err(codes) => Some(codes),
        };
        if let Some(codes) = refused {
            field_errors(&mut view, &mut checked.problems, codes, t);
        }
        match at {
            Some(_) => checked.views.push(view),
            None => checked.new_field = Some(view),
        }
    }
    checked
}

/// Puts each refusal next to its input and into the page's summary.
fn field_errors(view: &mut FieldFormView, problems: &mut Problems, codes: Vec<(String, ErrorCode)>, t: &AdminStrings) {
    for (name, code) in codes {
        let message = t.says(code).to_owned();
        problems.add(format!("{}-{name}", view.prefix), message.clone());
        let slot = match name.as_str() {
            "key" => &mut view.errors.key,
            "kind" => &mut view.errors.kind,
            "max_length" => &mut view.errors.max_length,
            "choices" => &mut view.errors.choices,
            _ => {
                view.errors.labels.push((name, message));
                continue;
            }
        };
        *slot = Some(message);
    }
}

/// The page as posted (its CSRF token checked), the form's working copy, and the catalogue.
async fn posted(
    req: &HttpRequest,
    who: &SignedIn,
    state: &AppState,
    key: &str,
    payload: web::Payload,
) -> Result<(Fields, crate::services::builder::Working, std::sync::Arc<Catalog>), AdminError> {
    let form = who.owner_form(req, payload).await?;
    let work = load(state, who, key).await?;
    Ok((form, work, state.catalog.current()))
}

/// `POST /admin/forms/{key}/draft`: everything on the page, saved at once (or shown back).
async fn save_draft(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let (form, work, catalog) = posted(&req, &who, &state, &path, payload).await?;
    let op = Op::parse(form.get("op"));
    let (settings, mut problems) = typed_settings(&form, AdminStrings::get(who.locale), &catalog, who.locale);
    let inputs = typed_fields(&form, &catalog.locales, op);
    let new = typed(&form.scoped("new"), &catalog.locales);
    let with_new = op == Op::Add || typed_anything(&new);
    let checked = check_fields(&catalog, who.locale, &inputs, with_new.then_some(&new));
    problems.0.extend(checked.problems.0);
    if !problems.is_empty() {
        let refused = Refused {
            problems,
            settings: Some(settings),
            fields: Some((checked.views, checked.new_field)),
            ..Refused::default()
        };
        return Ok(builder_page(&req, &who, &state, &work, refused));
    }
    let mut draft = with_settings(work.draft.clone(), settings, &catalog);
    draft.fields = checked.fields;
    let (actor, key) = (who.actor(), work.key.clone());
    state
        .db
        .writer
        .write(move |tx| builder::save(tx.conn, &key, &draft, &actor))
        .await
        .map_err(|e: BuilderError| builder_error(e, who.locale))?;
    if op == Op::Publish {
        return publish_key(&req, &who, &state, work.key.to_string()).await;
    }
    let anchor = match op {
        Op::Add => "#fields-title".to_owned(),
        // Back to the field that moved, at its new place.
        Op::Up(i) => format!("#f{}-title", i.saturating_sub(1)),
        Op::Down(i) => format!("#f{}-title", i + 1),
        _ => String::new(),
    };
    Ok(see_other(&format!("/admin/forms/{}?lang={}&done=saved{anchor}", work.key, who.locale.as_str())))
}

/// `POST /admin/forms/{key}/preview`: the draft as typed, unsaved, through the public form's
/// template (what parses of it: a field still refused is left out until it is right).
async fn preview_typed(
    req: HttpRequest,
    who: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AdminError> {
    let (form, work, catalog) = posted(&req, &who, &state, &path, payload).await?;
    let (settings, problems) = typed_settings(&form, AdminStrings::get(who.locale), &catalog, who.locale);
    let mut draft =
        if problems.is_empty() { with_settings(work.draft.clone(), settings, &catalog) } else { work.draft.clone() };
    let inputs = typed_fields(&form, &catalog.locales, Op::Save);
    draft.fields = check_fields(&catalog, who.locale, &inputs, None).fields;
    render_preview(&who, &catalog, &work.key, &draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn the_button_names_what_to_do() {
        assert_eq!(Op::parse("publish"), Op::Publish);
        assert_eq!(Op::parse("up:2"), Op::Up(2));
        assert_eq!(Op::parse("remove:0"), Op::Remove(0));
        assert_eq!(Op::parse("down:x"), Op::Save, "a broken position only saves");
        assert_eq!(Op::parse(""), Op::Save);
    }

    #[test]
    fn fields_come_in_the_order_shown_and_moves_stay_in_bounds() {
        let locales = crate::domain::Locales::default();
        let typed = page(&[("order", "f1"), ("f1-key", "b"), ("order", "f0"), ("f0-key", "a"), ("f0-purposes", "p")]);
        let keys = |op| typed_fields(&typed, &locales, op).into_iter().map(|f| f.key).collect::<Vec<_>>();
        assert_eq!(keys(Op::Save), ["b", "a"]);
        assert_eq!(keys(Op::Up(1)), ["a", "b"]);
        assert_eq!(keys(Op::Up(0)), ["b", "a"], "the first cannot go up");
        assert_eq!(keys(Op::Down(1)), ["b", "a"], "the last cannot go down");
        assert_eq!(keys(Op::Remove(0)), ["a"]);
        assert_eq!(typed_fields(&typed, &locales, Op::Save)[1].purposes, ["p"]);
    }
}
