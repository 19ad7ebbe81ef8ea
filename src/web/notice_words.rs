//! A purpose's notice beyond its wording, in words (PIPA arts. 15(2), 17(2), 22, 28-8): what
//! refusing it means and, for provision to third parties, each recipient. The form, the policy
//! version's page and `/me` say it the same way.

use fluent_bundle::FluentValue;

use crate::domain::provision::NoticeDetails;
use crate::domain::{Locale, Localized};
use crate::i18n::catalogue;

/// What refusing means: the business's own text, else the statutory sentence for a required or
/// an optional purpose.
pub fn refusal(details: &NoticeDetails, required: bool, locale: Locale, default: Locale) -> String {
    match details.refusal.as_ref().map(|r| r.get(locale, default)).filter(|r| !r.is_empty()) {
        Some(own) => own.to_owned(),
        None => {
            let id = if required { "page-refuse-required" } else { "page-refuse-optional" };
            catalogue(locale).text(id)
        }
    }
}

/// Each recipient in a line (`page-recipient-line`, with `page-recipient-abroad` for a transfer
/// abroad).
pub fn recipients(details: &NoticeDetails, locale: Locale, default: Locale) -> Vec<String> {
    let c = catalogue(locale);
    let text = |t: &Localized| t.get(locale, default).to_owned();
    details
        .recipients
        .iter()
        .map(|r| {
            let line = c.format(
                "page-recipient-line",
                &[
                    ("name", FluentValue::from(r.name.as_str())),
                    ("purpose", FluentValue::from(text(&r.purpose))),
                    ("items", FluentValue::from(r.items.join(", "))),
                    ("retention", FluentValue::from(text(&r.retention))),
                ],
            );
            match (&r.country, &r.transfer) {
                (Some(country), Some(transfer)) => {
                    let abroad = c.format(
                        "page-recipient-abroad",
                        &[
                            ("country", FluentValue::from(country.as_str())),
                            ("transfer", FluentValue::from(text(transfer))),
                        ],
                    );
                    format!("{line} {abroad}")
                }
                _ => line,
            }
        })
        .collect()
}

/// The heading of the recipients' list.
pub fn recipients_label(locale: Locale) -> String {
    catalogue(locale).text("page-recipients-label")
}
