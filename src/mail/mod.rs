//! Mail: composing messages (in the person's language, text and HTML parts), sealing them into the
//! outbox in the same transaction as the change that causes them, and delivering them later.
//!
//! Delivery uses lettre: SMTP when `ASSENT_SMTP_URL` is set, otherwise a file transport that
//! writes `.eml` files under `$ASSENT_DATA_DIR/outbox/` (the development default).

pub mod delivery;
pub mod dkim;
pub mod files;
pub mod messages;

use askama::Template;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};

use crate::crypto::Keyring;
use crate::db::DbConnection;
use crate::db::outbox::{self, NewMail, NewOutboxRow};

/// What composing needs to know about this installation.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub base_url: String,
    pub from: String,
    /// Who the mail is from, as every footer names them (정보통신망법 art. 50): the workspace's
    /// `controller`, else the display name of `from`, else its domain. Never the software.
    pub business: String,
    /// Signs every message with DKIM when a key is configured.
    pub dkim: Option<dkim::Dkim>,
}

impl MailContext {
    /// The context for a workspace whose controller is `controller` (if it declares one).
    pub fn for_business(mut self, controller: Option<&crate::domain::Controller>) -> Self {
        if let Some(c) = controller.filter(|c| !c.name.trim().is_empty()) {
            // Mail comes from the business, by name, whatever the configured address calls itself.
            if let Ok(configured) = self.from.parse::<Mailbox>() {
                self.from = Mailbox::new(Some(c.name.trim().to_owned()), configured.email).to_string();
            }
            // The name, and where to reach them (their e-mail, else their phone).
            let reach = [c.email.trim(), c.phone.trim()].into_iter().find(|r| !r.is_empty());
            self.business = match reach {
                Some(reach) => format!("{} ({reach})", c.name.trim()),
                None => c.name.trim().to_owned(),
            };
        }
        self
    }

    /// The business a `From` address names: its display name, else its domain.
    pub fn business_of(from: &str) -> String {
        let name = from.split('<').next().unwrap_or("").trim().trim_matches('"').trim();
        if !name.is_empty() && from.contains('<') {
            return name.to_owned();
        }
        let address = from.rsplit('<').next().unwrap_or(from).trim_end_matches('>');
        address.rsplit('@').next().unwrap_or(address).to_owned()
    }
}

/// The words of one mail; rendered into a text and an HTML part by the same two templates.
#[derive(Debug, Clone)]
pub struct MailContent {
    pub lang: &'static str,
    pub subject: String,
    pub paragraphs: Vec<String>,
    pub action: Option<(String, String)>,
    /// Further links (label, URL) after the paragraphs: link text in the HTML part, the label and
    /// the URL in the text part. A URL is never printed in the HTML part.
    pub links: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "mail/message.txt", escape = "none")]
struct TextPart<'a> {
    c: &'a MailContent,
    footer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    c: &'a MailContent,
    footer: &'a str,
}

impl HtmlPart<'_> {
    /// `text`, HTML-escaped, with every e-mail address in it a `mailto:` link.
    fn linked(&self, text: &str) -> String {
        with_address_links(text)
    }
}

/// `text`, HTML-escaped, with every e-mail address in it a `mailto:` link (an address is a word
/// holding one `@` with a dot after it, trimmed of the punctuation around it).
pub fn with_address_links(text: &str) -> String {
    use crate::html::escape;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let start = rest[..at].rfind(|c: char| c.is_whitespace() || "()<>,;:\"'".contains(c)).map_or(0, |i| i + 1);
        let end =
            rest[at..].find(|c: char| c.is_whitespace() || "()<>,;:\"'".contains(c)).map_or(rest.len(), |i| at + i);
        let candidate = rest[start..end].trim_end_matches('.');
        let end = start + candidate.len();
        let dotted = candidate.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.'));
        if dotted && crate::domain::Email::parse(candidate).is_ok() {
            out.push_str(&escape(&rest[..start]));
            out.push_str(&format!(r#"<a href="mailto:{0}" style="color:#0b57d0">{0}</a>"#, escape(candidate)));
        } else {
            out.push_str(&escape(&rest[..end.max(at + 1)]));
        }
        rest = &rest[end.max(at + 1)..];
    }
    out.push_str(&escape(rest));
    out
}

/// RFC 2369 `List-Unsubscribe`.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// RFC 8058 `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// RFC 3282 `Content-Language`: the language the mail is written in (the person's).
#[derive(Clone)]
struct ContentLanguage(&'static str);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self("en"))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address")]
    Address,
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("could not render the message: {0}")]
    Render(#[from] askama::Error),
}

/// A composed message as queued: envelope and the exact bytes to send.
#[derive(Debug, Serialize, Deserialize)]
pub struct QueuedMail {
    pub from: String,
    pub to: String,
    #[serde(with = "raw_bytes")]
    pub raw: Vec<u8>,
}

/// The message bytes as one base64 string. (Serde's default, a JSON array of numbers, made
/// sealing and opening queued mail a third of the blocking pool's work under a signup load.)
/// Mail queued before this change, as an array, still reads.
mod raw_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Base64(String),
        Array(Vec<u8>),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Stored::deserialize(d)? {
            Stored::Base64(text) => {
                base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)
            }
            Stored::Array(bytes) => Ok(bytes),
        }
    }
}

/// Why the person receives the mail, naming the business (in the mail's language).
fn footer(ctx: &MailContext, lang: &str) -> String {
    let locale = crate::domain::Locale::from_tag(lang).unwrap_or(crate::domain::Locale::EN);
    let business = [("business", fluent_bundle::FluentValue::from(ctx.business.as_str()))];
    crate::i18n::catalogue(locale).format("mail-footer", &business)
}

/// Builds the message. `unsubscribe` adds one-click unsubscribe headers (marketing mail).
pub fn compose(
    ctx: &MailContext,
    to: &str,
    content: &MailContent,
    unsubscribe: Option<&str>,
) -> Result<QueuedMail, MailError> {
    let from: Mailbox = ctx.from.parse().map_err(|_| MailError::Address)?;
    let to_box: Mailbox = to.parse().map_err(|_| MailError::Address)?;
    let footer = footer(ctx, content.lang);
    let text = TextPart { c: content, footer: &footer }.render()?;
    let html = HtmlPart { c: content, footer: &footer }.render()?;
    // RFC 5322 §3.6.4: one id per message, fixed when it is queued (a retry sends the same one),
    // in the sender's domain.
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), from.email.domain());
    let mut builder = lettre::Message::builder()
        .message_id(Some(message_id))
        .from(from.clone())
        .to(to_box.clone())
        .subject(content.subject.clone())
        .header(ContentLanguage(content.lang));
    if let Some(url) = unsubscribe {
        builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    let mut message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| MailError::Build(e.to_string()))?;
    if let Some(dkim) = &ctx.dkim {
        dkim.sign(&mut message);
    }
    Ok(QueuedMail { from: from.email.to_string(), to: to_box.email.to_string(), raw: message.formatted() })
}

/// What can go wrong queueing or delivering mail (none of it the user's fault).
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("database error")]
    Storage(#[from] diesel::result::Error),
    #[error(transparent)]
    Commit(#[from] crate::db::CommitFailed),
    #[error("cryptography error")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// No connection could be had.
    #[error("the database is unavailable")]
    Unavailable,
}

/// A mail sealed for the outbox (under the outbox key, bound to its row id).
#[derive(Clone)]
pub struct SealedMail {
    pub id: String,
    pub sealed: Vec<u8>,
}

pub fn seal(keyring: &Keyring, mail: &QueuedMail) -> Result<SealedMail, OutboxError> {
    let id = crate::db::new_row_id();
    let plain = serde_json::to_vec(mail).unwrap_or_default();
    let sealed = keyring.seal_outbox(&plain, &id)?;
    Ok(SealedMail { id, sealed })
}

/// Seals and queues a composed mail; idempotent per `dedupe_key`.
pub fn enqueue(
    conn: &mut DbConnection,
    keyring: &Keyring,
    kind: &str,
    dedupe_key: &str,
    subject_id: Option<&str>,
    mail: &QueuedMail,
) -> Result<bool, OutboxError> {
    enqueue_sealed(conn, kind, dedupe_key, subject_id, &seal(keyring, mail)?)
}

/// Queues an already sealed mail (sealing can happen before the write transaction). Scheduled by
/// the wall clock, even in a run rehearsing another date (`retention run --now`).
pub fn enqueue_sealed(
    conn: &mut DbConnection,
    kind: &str,
    dedupe_key: &str,
    subject_id: Option<&str>,
    mail: &SealedMail,
) -> Result<bool, OutboxError> {
    Ok(outbox::enqueue(conn, &new_sealed(kind, dedupe_key, subject_id, mail))?)
}

/// The outbox row for a sealed mail, due now.
pub fn new_sealed<'a>(
    kind: &'a str,
    dedupe_key: &'a str,
    subject_id: Option<&'a str>,
    mail: &'a SealedMail,
) -> NewMail<'a> {
    let now = chrono::Utc::now().naive_utc();
    NewMail {
        row: NewOutboxRow {
            id: &mail.id,
            kind,
            dedupe_key,
            subject_id,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        },
        message: &mail.sealed,
    }
}

#[cfg(test)]
mod footer_tests {
    use super::*;

    #[test]
    fn every_footer_names_the_business_never_the_software() {
        assert_eq!(MailContext::business_of("Shop privacy <privacy@shop.example>"), "Shop privacy");
        assert_eq!(MailContext::business_of("\"Shop, Inc.\" <a@shop.example>"), "Shop, Inc.");
        assert_eq!(MailContext::business_of("privacy@shop.example"), "shop.example");
        let ctx = MailContext {
            base_url: "http://x".into(),
            from: "A <a@b.example>".into(),
            business: "A".into(),
            dkim: None,
        };
        let controller = crate::domain::Controller {
            name: "Hanbit Shop".into(),
            email: "privacy@hanbit.example".into(),
            ..Default::default()
        };
        let ctx = ctx.for_business(Some(&controller));
        assert_eq!(ctx.business, "Hanbit Shop (privacy@hanbit.example)");
        assert_eq!(ctx.from, "Hanbit Shop <a@b.example>", "mail comes from the business by name");
        for lang in ["en", "ko", "ja"] {
            let footer = footer(&ctx, lang);
            assert!(footer.contains("Hanbit Shop") && !footer.contains("Assent"), "{footer}");
        }
    }

    use super::QueuedMail;

    #[test]
    fn addresses_in_a_mail_become_links_and_nothing_else_does() {
        assert_eq!(
            with_address_links("Hanbit Shop (privacy@hanbit.example). <b>"),
            r#"Hanbit Shop (<a href="mailto:privacy@hanbit.example" style="color:#0b57d0">privacy@hanbit.example</a>). &lt;b&gt;"#
        );
        assert_eq!(with_address_links("an @ sign, a@b and 5@"), "an @ sign, a@b and 5@");
        assert_eq!(with_address_links("no address"), "no address");
    }

    #[test]
    fn a_composed_mail_has_its_own_id_and_prints_no_url_in_its_html() {
        let ctx = MailContext {
            base_url: "http://x".into(),
            from: "Shop <a@shop.example>".into(),
            business: "Shop".into(),
            dkim: None,
        };
        let mut content = crate::mail::messages::sign_in(crate::domain::Locale::EN, "http://x/me/login?token=SECRET");
        content.links.push(("Cancel".into(), "http://x/u?token=OTHER".into()));
        let raw = String::from_utf8(compose(&ctx, "b@example.com", &content, None).unwrap().raw).unwrap();
        let id = raw.lines().find(|l| l.starts_with("Message-ID: ")).expect("a Message-ID");
        assert!(id.ends_with("@shop.example>"), "{id}");
        assert!(raw.lines().any(|l| l.starts_with("Date: ")));
        let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains(r#"href="http://x/u?token=OTHER""#) && !html.contains(">http://x/u?token=OTHER<"));
        assert_eq!(html.matches("token=SECRET").count(), 1, "the button's link, never its URL printed: {html}");
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains("http://x/u?token=OTHER") && text.contains("Cancel"), "the text part says the same");
    }

    #[test]
    fn queued_mail_keeps_its_bytes_as_base64_and_still_reads_the_old_array_form() {
        let mail = QueuedMail {
            from: "a@example.com".into(),
            to: "b@example.com".into(),
            raw: b"Subject: hi\r\n\r\n\xff".to_vec(),
        };
        let json = serde_json::to_string(&mail).unwrap();
        assert!(json.contains(r#""raw":"U3ViamVjdDogaGkNCg0K/w==""#), "{json}");
        let back: QueuedMail = serde_json::from_str(&json).unwrap();
        assert_eq!(back.raw, mail.raw);
        let old: QueuedMail = serde_json::from_str(r#"{"from":"a","to":"b","raw":[72,105]}"#).unwrap();
        assert_eq!(old.raw, b"Hi");
    }
}
