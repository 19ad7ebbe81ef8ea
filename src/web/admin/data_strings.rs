//! The words of the console's data pages (dashboard, submissions, rights, audit, embedding): the
//! typed view of the `data-` part of the catalogues. Kept beside `strings.rs` (the console's
//! shell) so each part owns its words.

use crate::domain::ConsentStatus;
use crate::i18n::message_struct;

message_struct! {
    /// The data pages' words in one language (ids `data-<field>`).
    pub struct DataStrings("data-") {
        dash_per_day,
        dash_per_purpose,
        dash_expiring,
        series_submissions,
        series_granted,
        series_withdrawn,
        series_expiring,
        col_day,
        col_week,
        col_purpose,
        sub_title,
        filter_legend,
        filter_form,
        filter_purpose,
        filter_state,
        filter_from,
        filter_until,
        filter_email,
        filter_email_hint,
        any,
        apply_filter,
        col_submitted,
        col_form,
        col_subject,
        col_consents,
        open,
        no_results,
        next_page,
        next_rows,
        exports,
        export_submissions,
        export_consents,
        export_deidentified,
        export_owner_only,
        detail_title,
        detail_audited,
        col_field,
        col_value,
        erased,
        no_values,
        back_to_list,
        col_status,
        col_expires,
        rights_title,
        col_kind,
        col_channel,
        col_received,
        col_deadline,
        overdue,
        no_rights,
        audit_title,
        col_when,
        col_actor,
        col_action,
        col_detail,
        filter_actor,
        filter_action,
        filter_subject,
        no_audit,
        embed_title,
        embed_intro,
        embed_origins,
        embed_no_origins,
        snip_iframe,
        snip_iframe_help,
        snip_html,
        snip_html_help,
        snip_fetch,
        snip_fetch_help,
        snip_curl,
        snip_curl_help,
        embed_link,
        invalid_filter,
        state_granted,
        state_pending,
        state_withdrawn,
        state_expired,
        state_never,
        state_restricted,
    }
}

impl DataStrings {
    /// A consent state in words (`data-state-<state>`).
    pub fn status(&self, status: ConsentStatus) -> &'static str {
        match status {
            ConsentStatus::Granted => self.state_granted,
            ConsentStatus::Pending => self.state_pending,
            ConsentStatus::Withdrawn => self.state_withdrawn,
            ConsentStatus::Expired => self.state_expired,
            ConsentStatus::Never => self.state_never,
            ConsentStatus::Restricted => self.state_restricted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Locale;
    use crate::i18n::catalogue;

    #[test]
    fn every_consent_state_is_said_in_every_catalogue() {
        let all = [
            ConsentStatus::Granted,
            ConsentStatus::Pending,
            ConsentStatus::Withdrawn,
            ConsentStatus::Expired,
            ConsentStatus::Never,
        ];
        for locale in Locale::shipped() {
            for status in all {
                assert!(catalogue(locale).has(&format!("data-state-{}", status.as_str())), "{locale} {status:?}");
            }
        }
        assert_eq!(DataStrings::get(Locale::KO).status(ConsentStatus::Pending), "대기(확인 전)");
        assert_eq!(DataStrings::get(Locale::EN).status(ConsentStatus::Never), "never given");
    }
}
