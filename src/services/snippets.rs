//! Ready-to-paste snippets that put a form on the owner's own site: an iframe resized by
//! `/embed.js`, a plain HTML `<form>` that posts to Assent and comes back, a `fetch` call to the
//! JSON API, and the same call with curl. Pure text from the published form and the base URL;
//! the console page escapes it again when it shows it.

use serde_json::{Map, Value, json};

use crate::db::catalog::{Catalog, PublishedForm};
use crate::domain::{FieldDefinition, FieldType, Locale};
use crate::html::escape as esc;

/// The words the HTML snippet shows, in the owner's language (from the web catalogue).
#[derive(Debug, Clone, Copy)]
pub struct SnippetWords<'a> {
    pub required: &'a str,
    pub optional: &'a str,
    pub legend: &'a str,
    pub submit: &'a str,
    pub full_text: &'a str,
}

/// The four ways to put one form on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippets {
    pub iframe: String,
    pub html_form: String,
    pub fetch: String,
    pub curl: String,
}

/// The snippets for `form`, served from `base_url` (no trailing slash), worded in `locale`.
pub fn for_form(
    catalog: &Catalog,
    form: &PublishedForm,
    base_url: &str,
    locale: Locale,
    words: SnippetWords<'_>,
    shown: &str,
) -> Snippets {
    let base = base_url.trim_end_matches('/');
    let title = form.definition.title.get(locale, catalog.default_locale());
    let form_url = format!("{base}/f/{}", form.key);
    let iframe = format!(
        "<iframe src=\"{}?lang={}\" data-assent-form title=\"{}\" style=\"width:100%;border:0\"></iframe>\n\
         <script src=\"{}/embed.js\" async></script>\n",
        esc(&form_url),
        locale.as_str(),
        esc(title),
        esc(base)
    );
    Snippets {
        iframe,
        html_form: html_form(catalog, form, base, locale, words, shown),
        fetch: fetch(form, base, locale),
        curl: curl(form, base, locale),
    }
}

/// `shown` is the signed wording this snippet displays (`Keyring::sign_shown`): once the wording
/// changes, a post from the snippet is answered with the new wording instead of being recorded.
fn html_form(
    catalog: &Catalog,
    form: &PublishedForm,
    base: &str,
    locale: Locale,
    words: SnippetWords<'_>,
    shown: &str,
) -> String {
    let def = &form.definition;
    let back = def.allowed_origins.first().map_or("https://your-site.example", |o| o.trim_end_matches('/'));
    let mut out = format!(
        "<!-- After a successful post Assent shows its own thank-you page (with a link to the\n     \
         person's preference center). To send people back to your site instead, add\n     \
         <input type=\"hidden\" name=\"redirect\" value=\"{}/thanks\">\n     \
         (a page on one of the form's allowed origins). -->\n\
         <form method=\"post\" action=\"{}/f/{}?lang={}\" accept-charset=\"utf-8\">\n  \
         <input type=\"hidden\" name=\"_shown\" value=\"{}\">\n",
        esc(back),
        esc(base),
        form.key,
        locale.as_str(),
        esc(shown)
    );
    for f in &def.fields {
        out.push_str(&field_html(f, locale, catalog.default_locale(), words));
    }
    out.push_str(&purposes_html(catalog, form, base, locale, words));
    out.push_str(&format!("  <button type=\"submit\">{}</button>\n</form>\n", esc(words.submit)));
    out
}

/// One field of the HTML snippet: its label and input.
fn field_html(f: &FieldDefinition, locale: Locale, default: Locale, words: SnippetWords<'_>) -> String {
    let mut out = String::new();
    let id = format!("assent-{}", f.key);
    let marker = if f.required { words.required } else { words.optional };
    let required = if f.required { " required" } else { "" };
    out.push_str(&format!(
        "  <p>\n    <label for=\"{id}\">{} {}</label><br>\n",
        esc(f.label.get(locale, default)),
        esc(marker)
    ));
    match f.kind {
        FieldType::Textarea => out.push_str(&format!(
            "    <textarea id=\"{id}\" name=\"{}\" rows=\"5\" maxlength=\"{}\"{required}></textarea>\n",
            f.key,
            f.max_length()
        )),
        FieldType::Select => {
            out.push_str(&format!(
                "    <select id=\"{id}\" name=\"{}\"{required}>\n      <option value=\"\"></option>\n",
                f.key
            ));
            for c in &f.choices {
                out.push_str(&format!(
                    "      <option value=\"{}\">{}</option>\n",
                    esc(&c.value),
                    esc(c.label.get(locale, default))
                ));
            }
            out.push_str("    </select>\n");
        }
        kind => out.push_str(&format!(
            "    <input id=\"{id}\" name=\"{}\" type=\"{}\" maxlength=\"{}\" autocomplete=\"{}\"{required}>\n",
            f.key,
            kind.input_type(),
            f.max_length(),
            kind.autocomplete(f.key.as_str())
        )),
    }
    out.push_str("  </p>\n");
    out
}

/// The HTML snippet's consent checkboxes (a fieldset), each with its wording and a link to the full text.
fn purposes_html(
    catalog: &Catalog,
    form: &PublishedForm,
    base: &str,
    locale: Locale,
    words: SnippetWords<'_>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!("  <fieldset>\n    <legend>{}</legend>\n", esc(words.legend)));
    for p in form.definition.purposes.iter().filter_map(|k| catalog.purpose(k.as_str())) {
        let id = format!("assent-purpose-{}", p.key);
        let marker = if p.required { words.required } else { words.optional };
        let policy = format!("{base}/policies/{}/v{}?lang={}", p.key, p.policy.version, locale.as_str());
        out.push_str(&format!(
            "    <p>\n      <input type=\"checkbox\" id=\"{id}\" name=\"purpose\" value=\"{}\"{}>\n      \
             <label for=\"{id}\">{} {}</label><br>\n      {} <a href=\"{}\">{}</a>\n    </p>\n",
            p.key,
            if p.required { " required" } else { "" },
            esc(marker),
            esc(p.policy.title().get(locale, catalog.default_locale())),
            esc(p.policy.text().get(locale, catalog.default_locale())),
            esc(&policy),
            esc(words.full_text)
        ));
    }
    out.push_str("  </fieldset>\n");
    out
}

/// An example body: a plausible value per field, and the form's required purposes.
fn example_body(form: &PublishedForm, locale: Locale) -> Value {
    let mut fields = Map::new();
    for f in &form.definition.fields {
        let value = match f.kind {
            FieldType::Email => "minji@example.com".to_owned(),
            FieldType::Tel => "010-1234-5678".to_owned(),
            FieldType::Date => "2000-01-31".to_owned(),
            FieldType::Select => f.choices.first().map(|c| c.value.clone()).unwrap_or_default(),
            FieldType::Text | FieldType::Textarea => f.label.get(locale, locale).to_owned(),
        };
        fields.insert(f.key.to_string(), Value::String(value));
    }
    let purposes: Vec<&str> = form.definition.purposes.iter().map(|p| p.as_str()).collect();
    json!({ "fields": fields, "purposes": purposes, "locale": locale.as_str() })
}

fn api_url(form: &PublishedForm, base: &str) -> String {
    format!("{base}/api/v1/forms/{}/submissions", form.key)
}

fn fetch(form: &PublishedForm, base: &str, locale: Locale) -> String {
    let body = serde_json::to_string_pretty(&example_body(form, locale)).unwrap_or_default().replace('\n', "\n  ");
    format!(
        "// From a page on one of the form's allowed origins (CORS); send only the purposes the person ticked.\n\
         const response = await fetch(\"{}\", {{\n  \
         method: \"POST\",\n  \
         headers: {{ \"content-type\": \"application/json\" }},\n  \
         body: JSON.stringify({body}),\n}});\n\
         const result = await response.json();\n\
         if (!response.ok) {{\n  \
         // result.code is stable (e.g. \"validation_failed\"); result.errors lists each field.\n  \
         console.error(result.code, result.errors);\n}}\n",
        api_url(form, base)
    )
}

fn curl(form: &PublishedForm, base: &str, locale: Locale) -> String {
    let body = serde_json::to_string(&example_body(form, locale)).unwrap_or_default().replace('\'', "'\\''");
    format!("curl -sS '{}' \\\n  -H 'content-type: application/json' \\\n  -d '{body}'\n", api_url(form, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::catalog::{PolicyVersion, PublishedPurpose};
    use crate::domain::{Channel, FormDefinition, FormKey, LegalBasis, Retention};

    fn catalog_and_form() -> (Catalog, PublishedForm) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assent.toml")).unwrap();
        let file: crate::services::workspace::WorkspaceFile = toml::from_str(&text).unwrap();
        let mut catalog = Catalog::default();
        for p in &file.purposes {
            let policy = PolicyVersion {
                id: "v".into(),
                purpose_key: p.key.to_string(),
                version: 3,
                title: p.title.clone(),
                text: p.text.clone(),
                text_hash: String::new(),
                terms: String::new(),
                notice_hash: String::new(),
                created_at: chrono::NaiveDateTime::default(),
            };
            let purpose = PublishedPurpose {
                key: p.key.clone(),
                legal_basis: LegalBasis::Consent,
                required: p.required,
                channel: Channel::None,
                retention: Retention::months(12),
                renewal_window_days: 30,
                declared_category: None,
                third_parties: Vec::new(),
                sensitive: false,
                night_time: false,
                sale_or_share: false,
                obligation: None,
                details: Default::default(),
                policy,
            };
            catalog.purposes.insert(p.key.to_string(), purpose);
        }
        let mut definition: FormDefinition = file.forms[0].definition();
        definition.title.set(Locale::EN, "News & \"offers\" <now>");
        definition.allowed_origins = vec!["https://shop.example".into()];
        let form = PublishedForm {
            key: FormKey::parse("newsletter").unwrap(),
            version_id: "f".into(),
            version: 2,
            definition,
        };
        (catalog, form)
    }

    fn words() -> SnippetWords<'static> {
        SnippetWords {
            required: "[Required]",
            optional: "[Optional]",
            legend: "Purposes",
            submit: "Send",
            full_text: "Full text",
        }
    }

    fn snippets() -> Snippets {
        let (catalog, form) = catalog_and_form();
        for_form(&catalog, &form, "https://assent.example/", Locale::EN, words(), "shown-token")
    }

    #[test]
    fn the_iframe_snippet_points_at_the_form_and_embed_js_with_an_escaped_title() {
        let s = snippets();
        assert!(s.iframe.contains(r#"src="https://assent.example/f/newsletter?lang=en""#), "{}", s.iframe);
        assert!(s.iframe.contains("data-assent-form"));
        assert!(s.iframe.contains(r#"title="News &amp; &quot;offers&quot; &lt;now&gt;""#), "{}", s.iframe);
        assert!(s.iframe.contains(r#"<script src="https://assent.example/embed.js" async></script>"#));
    }

    #[test]
    fn the_html_form_posts_to_assent_and_says_how_to_be_sent_back() {
        let s = snippets();
        assert!(s.html_form.contains(r#"action="https://assent.example/f/newsletter?lang=en""#), "{}", s.html_form);
        let (comment, form) = s.html_form.split_once("-->").unwrap();
        assert!(comment.contains(r#"name="redirect" value="https://shop.example/thanks""#), "how, in a comment");
        assert!(!form.contains(r#"name="redirect""#), "Assent's own thank-you page by default");
        assert!(s.html_form.contains(r#"name="email" type="email""#));
        assert!(s.html_form.contains(r#"name="purpose" value="service" required"#));
        assert!(s.html_form.contains(r#"name="purpose" value="marketing_sms">"#), "optional purposes start unticked");
        assert!(s.html_form.contains("https://assent.example/policies/marketing_sms/v3?lang=en"));
        assert!(s.html_form.contains("[Required] Providing the service"));
    }

    #[test]
    fn the_api_examples_name_the_submission_url_and_a_valid_body() {
        let s = snippets();
        let url = "https://assent.example/api/v1/forms/newsletter/submissions";
        assert!(s.fetch.contains(&format!("fetch(\"{url}\"")), "{}", s.fetch);
        assert!(s.fetch.contains("\"email\": \"minji@example.com\""));
        assert!(s.curl.starts_with(&format!("curl -sS '{url}'")), "{}", s.curl);
        let body = s.curl.split("-d '").nth(1).unwrap().trim_end().trim_end_matches('\'');
        let parsed: Value = serde_json::from_str(body).unwrap();
        assert_eq!(parsed["fields"]["phone"], "010-1234-5678");
        assert_eq!(parsed["purposes"][0], "service");
    }
}
