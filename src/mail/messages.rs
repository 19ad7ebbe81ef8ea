//! The words of every mail Assent sends, read from the catalogues (`mail-…` ids); dates read as
//! the recipient's language writes them (`Catalogue::date`).

use super::MailContent;
use crate::domain::Locale;
use crate::i18n::{Catalogue, catalogue};
use chrono::NaiveDate;
use fluent_bundle::FluentValue;

fn content(c: &Catalogue, subject: String, paragraphs: Vec<String>, action: Option<(String, String)>) -> MailContent {
    MailContent { lang: c.locale().as_str(), subject, paragraphs, action, links: Vec::new() }
}

fn arg<'a>(name: &'static str, value: &'a str) -> (&'static str, FluentValue<'a>) {
    (name, FluentValue::from(value))
}

/// The magic sign-in link for the preference center.
pub fn sign_in(locale: Locale, link: &str) -> MailContent {
    let c = catalogue(locale);
    let action = Some((c.text("mail-sign-in-action"), link.to_owned()));
    content(c, c.text("mail-sign-in-subject"), vec![c.text("mail-sign-in-body")], action)
}

/// Under a form's minimum age: the parent or guardian is asked to agree for the child
/// (PIPA art. 22-2, GDPR art. 8), naming the child's address and what they asked for.
pub fn confirm_as_guardian(locale: Locale, child: &str, purposes: &[String], link: &str) -> MailContent {
    let c = catalogue(locale);
    let body = c.format("mail-guardian-body", &[arg("child", child), arg("list", &purposes.join(", "))]);
    let action = Some((c.text("mail-guardian-action"), link.to_owned()));
    content(c, c.text("mail-guardian-subject"), vec![body, c.text("mail-guardian-ignore")], action)
}

/// Double opt-in: confirm the purposes just ticked.
/// `changes` are the labels of fields whose held value a form would replace: the new values wait
/// for this confirmation too.
pub fn confirm_consent(
    locale: Locale,
    purposes: &[String],
    changes: &[String],
    link: &str,
    unsubscribe: &str,
) -> MailContent {
    let c = catalogue(locale);
    let mut paragraphs = Vec::with_capacity(3);
    if !purposes.is_empty() {
        paragraphs.push(c.format("mail-confirm-body", &[arg("list", &purposes.join(", "))]));
    }
    if !changes.is_empty() {
        paragraphs.push(c.format("mail-confirm-changes", &[arg("list", &changes.join(", "))]));
    }
    paragraphs.push(c.text("mail-confirm-note"));
    let action = Some((c.text("mail-confirm-action"), link.to_owned()));
    let mut mail = content(c, c.text("mail-confirm-subject"), paragraphs, action);
    mail.links.push((c.text("mail-confirm-cancel"), unsubscribe.to_owned()));
    mail
}

/// Sent to the address just before it is forgotten.
/// `kept`: what another law obliges the business to keep, a line each (`holds::lines`).
pub fn erased(locale: Locale, kept: &[String]) -> MailContent {
    let c = catalogue(locale);
    if kept.is_empty() {
        return content(c, c.text("mail-erased-subject"), vec![c.text("mail-erased-body")], None);
    }
    let mut paragraphs = vec![c.text("mail-erased-body-kept")];
    paragraphs.extend(kept.iter().cloned());
    content(c, c.text("mail-erased-subject"), paragraphs, None)
}

/// To the console's owners: a webhook endpoint kept failing and was given up on.
pub fn webhook_disabled(locale: Locale, endpoint: &str, reason: &str, link: &str) -> MailContent {
    let c = catalogue(locale);
    let subject = c.format("mail-webhook-disabled-subject", &[arg("endpoint", endpoint)]);
    let body = c.format("mail-webhook-disabled-body", &[arg("endpoint", endpoint), arg("reason", reason)]);
    let action = Some((c.text("mail-webhook-disabled-action"), link.to_owned()));
    content(c, subject, vec![body], action)
}

/// What a rights-desk letter says: the business, the request and its outcome.
pub struct RightsLetter<'a> {
    /// The business (the workspace's `controller`), or empty when none is declared.
    pub controller: &'a str,
    /// Where to ask questions (the controller's e-mail or contact).
    pub contact: Option<&'a str>,
    pub kind: crate::domain::rights::RightKind,
    /// `Extend`, `Complete` or `Refuse`.
    pub outcome: crate::domain::rights::Step,
    pub received: NaiveDate,
    pub due: NaiveDate,
    pub reason: &'a str,
    pub preference_center: &'a str,
}

/// The answer to a rights request (or the notice that it takes longer), for mail and for post.
pub fn rights_letter(locale: Locale, l: &RightsLetter<'_>) -> MailContent {
    use crate::domain::rights::Step;
    let c = catalogue(locale);
    let kind = crate::i18n::in_words(c, "rights-kind", l.kind.as_str());
    let controller = if l.controller.is_empty() { c.text("mail-rights-we") } else { l.controller.to_owned() };
    let (received, due) = (c.date(l.received), c.date(l.due));
    let outcome = match l.outcome {
        Step::Extend => "extended",
        Step::Refuse => "refused",
        _ => "completed",
    };
    let args = [
        arg("controller", &controller),
        arg("kind", &kind),
        arg("received", &received),
        arg("due", &due),
        arg("reason", l.reason),
    ];
    let mut paragraphs =
        vec![c.format("mail-rights-received", &args), c.format(&format!("mail-rights-{outcome}-body"), &args)];
    if let Some(contact) = l.contact.filter(|c| !c.is_empty()) {
        paragraphs.push(c.format("mail-rights-contact", &[arg("contact", contact)]));
    }
    let action = (l.outcome == Step::Complete).then(|| (c.text("mail-rights-action"), l.preference_center.to_owned()));
    content(c, c.format(&format!("mail-rights-{outcome}-subject"), &args), paragraphs, action)
}

/// To a staff member: a rights request assigned to them falls due soon (or is overdue).
pub fn rights_reminder(
    locale: Locale,
    kind: crate::domain::rights::RightKind,
    due: chrono::NaiveDateTime,
    overdue: bool,
    link: &str,
) -> MailContent {
    let c = catalogue(locale);
    let kind = crate::i18n::in_words(c, "rights-kind", kind.as_str());
    let due = format!("{} {} UTC", c.date(due.date()), due.format("%H:%M"));
    let args = [arg("kind", &kind), arg("due", &due)];
    let which = if overdue { "mail-rights-reminder-overdue" } else { "mail-rights-reminder-body" };
    let action = Some((c.text("mail-rights-reminder-action"), link.to_owned()));
    content(c, c.format("mail-rights-reminder-subject", &args), vec![c.format(which, &args)], action)
}

/// A colleague invited to the console: who invites them, in which role, and the single-use link
/// (valid `hours`) to set their password.
pub fn staff_invite(locale: Locale, business: &str, role: &str, hours: i64, link: &str) -> MailContent {
    let c = catalogue(locale);
    let hours = hours.to_string();
    let args = [arg("business", business), arg("role", role), arg("hours", &hours)];
    let paragraphs = vec![c.format("mail-invite-body", &args), c.format("mail-invite-expiry", &args)];
    let action = Some((c.text("mail-invite-action"), link.to_owned()));
    content(c, c.format("mail-invite-subject", &args), paragraphs, action)
}

/// A link to set a new console password, asked for from the sign-in page.
pub fn password_reset(locale: Locale, business: &str, minutes: i64, link: &str) -> MailContent {
    let c = catalogue(locale);
    let minutes = minutes.to_string();
    let args = [arg("business", business), arg("minutes", &minutes)];
    let action = Some((c.text("mail-password-reset-action"), link.to_owned()));
    content(
        c,
        c.format("mail-password-reset-subject", &args),
        vec![c.format("mail-password-reset-body", &args)],
        action,
    )
}

/// The account's console password was changed (if it was not them, the link leads to act).
pub fn password_changed(locale: Locale, business: &str, link: &str) -> MailContent {
    let c = catalogue(locale);
    let args = [arg("business", business)];
    let action = Some((c.text("mail-password-changed-action"), link.to_owned()));
    content(
        c,
        c.format("mail-password-changed-subject", &args),
        vec![c.format("mail-password-changed-body", &args)],
        action,
    )
}

/// 정보통신망법 art. 50(7): the result of giving (`given`) or withdrawing a consent to advertising.
pub fn result_notice(locale: Locale, sender: &str, purpose: &str, at: &str, given: bool, manage: &str) -> MailContent {
    let c = catalogue(locale);
    let args = [arg("sender", sender), arg("purpose", purpose), arg("at", at)];
    let which = if given { "granted" } else { "withdrawn" };
    let paragraphs = vec![
        c.format("mail-notice-sender", &args),
        c.format(&format!("mail-result-{which}-body"), &args),
        c.text("mail-result-manage"),
    ];
    let action = Some((c.text("mail-result-action"), format!("{manage}?lang={}", locale.as_str())));
    content(c, c.format(&format!("mail-result-{which}-subject"), &args), paragraphs, action)
}

/// What a renewal or notice mail says about one consent.
pub struct ConsentFacts<'a> {
    pub purpose: &'a str,
    pub wording: &'a str,
    pub held: &'a [String],
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl ConsentFacts<'_> {
    /// The arguments every consent sentence may use: `$purpose`, `$wording`, `$held`, and the
    /// dates `$since` and `$until` as `c`'s language writes them.
    fn args(&self, c: &Catalogue) -> Vec<(&'static str, FluentValue<'_>)> {
        let held = if self.held.is_empty() { "-".to_owned() } else { self.held.join(", ") };
        let day = |d: Option<NaiveDate>| d.map(|d| c.date(d)).unwrap_or_default();
        vec![
            arg("purpose", self.purpose),
            arg("wording", self.wording),
            ("held", FluentValue::from(held)),
            ("since", FluentValue::from(day(self.since))),
            ("until", FluentValue::from(day(self.until))),
        ]
    }
}

/// Before a consent expires: keep it or let it go (and the data with it).
pub fn renewal(locale: Locale, facts: &ConsentFacts<'_>, extend: &str, decline: &str) -> MailContent {
    let c = catalogue(locale);
    let args = facts.args(c);
    let mut decline_args = args.clone();
    decline_args.push(arg("decline", decline));
    let paragraphs = vec![
        c.format("mail-renewal-agreed", &args),
        c.format("mail-renewal-held", &args),
        c.text("mail-renewal-lapse"),
        c.format("mail-renewal-decline", &decline_args),
    ];
    let action = Some((c.text("mail-renewal-action"), extend.to_owned()));
    content(c, c.format("mail-renewal-subject", &args), paragraphs, action)
}

/// The periodic reminder of a marketing consent (정보통신망법 art. 50(8)): sender, date, what was
/// agreed, and how to withdraw.
pub fn marketing_notice(locale: Locale, sender: &str, facts: &ConsentFacts<'_>, withdraw: &str) -> MailContent {
    let c = catalogue(locale);
    let mut args = facts.args(c);
    args.push(arg("sender", sender));
    let paragraphs = vec![
        c.format("mail-notice-sender", &args),
        c.format("mail-notice-agreed", &args),
        c.text("mail-notice-withdraw"),
    ];
    let action = Some((c.text("mail-notice-action"), withdraw.to_owned()));
    content(c, c.format("mail-notice-subject", &args), paragraphs, action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(held: &[String]) -> ConsentFacts<'_> {
        ConsentFacts {
            purpose: "News",
            wording: "We send news.",
            held,
            since: NaiveDate::from_ymd_opt(2025, 12, 1),
            until: NaiveDate::from_ymd_opt(2027, 12, 1),
        }
    }

    #[test]
    fn every_mail_is_written_in_every_shipped_language() {
        let held = vec!["Email".to_owned()];
        for locale in Locale::shipped() {
            let mails = [
                sign_in(locale, "L"),
                confirm_consent(locale, &["News".into()], &["Name".into()], "L", "U"),
                erased(locale, &[]),
                erased(locale, &["kept".to_owned()]),
                renewal(locale, &facts(&held), "E", "D"),
                marketing_notice(locale, "Shop", &facts(&held), "W"),
            ];
            for mail in mails {
                assert_eq!(mail.lang, locale.as_str());
                for text in mail.paragraphs.iter().chain([&mail.subject]) {
                    assert!(!text.is_empty() && !text.contains("mail-") && !text.contains('{'), "{locale}: {text}");
                }
            }
        }
    }

    #[test]
    fn dates_in_mails_read_as_the_language_writes_them() {
        let held = vec![];
        let en = renewal(Locale::EN, &facts(&held), "E", "D");
        assert_eq!(en.subject, "Keep \"News\"? Your consent ends on 1 December 2027");
        assert_eq!(en.paragraphs[1], "For this we hold: -. This consent ends on 1 December 2027.");
        let ko = marketing_notice(Locale::KO, "Shop", &facts(&held), "W");
        assert_eq!(ko.paragraphs[1], "수신 동의 일자: 2025년 12월 1일 · 동의 내용: News (We send news.)");
        let ja = renewal(Locale::JA, &facts(&held), "E", "D");
        assert!(ja.subject.contains("2027年12月1日"), "{}", ja.subject);
    }
}
