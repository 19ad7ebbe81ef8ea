//! The console's words: the typed view of the `console-` part of the catalogues. Labels are
//! fields (checked by the compiler in the templates); messages looked up by a stable code are in
//! `messages.rs` ([`AdminStrings::says`]).

use crate::domain::Locale;
use crate::i18n::{catalogue, message_struct};
use fluent_bundle::FluentValue;

message_struct! {
    /// The console's words in one language (ids `console-<field>`).
    pub struct AdminStrings("console-") {
        console,
        skip_link,
        nav_label,
        nav_dashboard,
        nav_purposes,
        nav_forms,
        nav_submissions,
        nav_rights,
        nav_audit,
        nav_keys,
        nav_team,
        nav_account,
        signed_in_as,
        role_owner,
        role_editor,
        role_analyst,
        role_privacy_officer,
        sign_out,
        sign_in_title,
        sign_in_intro,
        email,
        password,
        sign_in,
        error_summary,
        dashboard_intro,
        read_only,
        save,
        create,
        cancel,
        edit,
        yes,
        no,
        none,
        saved,
        keys_intro,
        key_name,
        key_prefix,
        created,
        key_state,
        key_live,
        key_revoked,
        revoke,
        new_key,
        create_key,
        key_created,
        key_scopes,
        key_scopes_hint,
        key_scope_all,
        key_last_used,
        key_never_used,
        key_expiry,
        key_expiry_never,
        key_expiry_90d,
        key_expiry_1y,
        key_expired,
        scope_consents_read,
        scope_subjects_read,
        scope_subjects_write,
        scope_subjects_erase,
        scope_submissions_write,
        scope_imports,
        scope_webhooks,
        actions,
        purposes_intro,
        new_purpose,
        edit_purpose,
        key_label,
        key_hint,
        legal_basis,
        basis_consent,
        basis_contract,
        basis_legal_obligation,
        basis_legitimate_interest,
        required_label,
        channel,
        channel_none,
        channel_email,
        channel_sms,
        channel_push,
        retention,
        retention_hint,
        retention_preset,
        preset_none,
        preset_payment,
        preset_disputes,
        preset_advertising,
        preset_marketing,
        renewal_window,
        category,
        category_implied,
        third_parties,
        third_parties_hint,
        sensitive,
        night_time,
        night_time_hint,
        sale_or_share,
        sale_or_share_hint,
        obligation,
        obligation_hint,
        obligation_period,
        obligation_law,
        current_version,
        agreed_per_version,
        published_version,
        forms_intro,
        new_form,
        form_kind,
        embed_link,
        published,
        not_published,
        draft_changes,
        fields_title,
        field_key,
        field_type,
        max_length,
        choices,
        serves,
        add_field,
        move_up,
        move_down,
        remove,
        settings_title,
        asked_purposes,
        allowed_origins,
        double_opt_in,
        form_key,
        edit_field,
        save_draft,
        save_and_publish,
        unsaved,
        order_hint,
        preview_frame_hint,
        update_preview,
        preview_full,
        preview,
        preview_note,
        publish,
        publish_hint,
        published_now,
        nothing_to_publish,
        back_to_forms,
        open_public,
        type_email,
        type_text,
        type_textarea,
        type_tel,
        type_date,
        type_select,
    }
    extra(locale) {
        lang: Locale = locale,
        /// The label of the language switcher.
        languages_label: &'static str = catalogue(locale).text("languages-label").leak(),
    }
}

impl AdminStrings {
    pub fn field_type(&self, name: &str) -> &'static str {
        match name {
            "email" => self.type_email,
            "textarea" => self.type_textarea,
            "tel" => self.type_tel,
            "date" => self.type_date,
            "select" => self.type_select,
            _ => self.type_text,
        }
    }

    pub fn role(&self, role: crate::domain::owner::Role) -> &'static str {
        match role {
            crate::domain::owner::Role::Owner => self.role_owner,
            crate::domain::owner::Role::Editor => self.role_editor,
            crate::domain::owner::Role::Analyst => self.role_analyst,
            crate::domain::owner::Role::PrivacyOfficer => self.role_privacy_officer,
        }
    }

    /// The word after a number of people ("1 person", "2 people"), chosen by the count.
    pub fn people(&self, count: &i64) -> String {
        catalogue(self.lang).format("console-people", &[("count", FluentValue::from(*count))])
    }
}

impl AdminStrings {
    /// What a scope lets a key do, in words.
    pub fn scope(&self, scope: crate::domain::scopes::Scope) -> &'static str {
        use crate::domain::scopes::Scope as S;
        match scope {
            S::ConsentsRead => self.scope_consents_read,
            S::SubjectsRead => self.scope_subjects_read,
            S::SubjectsWrite => self.scope_subjects_write,
            S::SubjectsErase => self.scope_subjects_erase,
            S::SubmissionsWrite => self.scope_submissions_write,
            S::Imports => self.scope_imports,
            S::Webhooks => self.scope_webhooks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_the_console_asks_for_is_in_english() {
        let english = catalogue(Locale::EN);
        for id in AdminStrings::ids().iter().chain(&super::super::data_strings::DataStrings::ids()) {
            assert!(english.has(id), "locales/en.ftl lacks {id}");
        }
    }

    #[test]
    fn every_legal_basis_and_channel_is_said_in_every_catalogue() {
        use crate::domain::purpose::{Channel, LegalBasis};
        // Exhaustive: a new variant fails to compile here until it is listed.
        let bases =
            [LegalBasis::Consent, LegalBasis::Contract, LegalBasis::LegalObligation, LegalBasis::LegitimateInterest];
        for b in bases {
            match b {
                LegalBasis::Consent
                | LegalBasis::Contract
                | LegalBasis::LegalObligation
                | LegalBasis::LegitimateInterest => {}
            }
        }
        let channels = [Channel::None, Channel::Email, Channel::Sms, Channel::Push];
        for c in channels {
            match c {
                Channel::None | Channel::Email | Channel::Sms | Channel::Push => {}
            }
        }
        let ids = bases
            .iter()
            .map(|b| format!("console-basis-{}", crate::i18n::kebab(b.as_str())))
            .chain(channels.iter().map(|c| format!("console-channel-{}", c.as_str())));
        for id in ids {
            for locale in Locale::shipped() {
                assert!(catalogue(locale).has(&id), "{locale} lacks {id}");
            }
        }
        let en = AdminStrings::get(Locale::EN);
        assert_eq!(super::super::purposes::basis_label(en, "legal_obligation"), "Legal obligation");
        assert_eq!(super::super::purposes::channel_label(en, "sms"), "Text message");
    }

    #[test]
    fn people_are_counted_in_the_plural_the_language_uses() {
        let en = AdminStrings::get(Locale::EN);
        assert_eq!((en.people(&1), en.people(&2), en.people(&0)), ("person".into(), "people".into(), "people".into()));
        assert_eq!(AdminStrings::get(Locale::KO).people(&3), "명");
        assert_eq!(AdminStrings::get(Locale::KO).nav_forms, "양식");
    }
}
