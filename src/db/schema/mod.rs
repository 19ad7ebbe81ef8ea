//! The one diesel schema shared by SQLite and PostgreSQL: only column types both support.

mod integrations;
mod law;
pub use integrations::{
    deidentified_exports, import_sheets, import_uploads, imports, operations, webhook_deliveries, webhook_endpoints,
};
pub use law::{email_changes, held_values, hold_keys, result_notice_cursor};
mod staff;
pub use staff::{owner_recovery_codes, owner_sessions, owner_tokens, owners, rate_windows, sign_in_delays};

diesel::table! {
    purposes (key) {
        key -> Text,
        legal_basis -> Text,
        required -> Bool,
        channel -> Text,
        retention -> Text,
        renewal_window_days -> BigInt,
        current_version_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        category -> Text,
        third_parties -> Text,
        sensitive -> Bool,
        night_time -> Bool,
        sale_or_share -> Bool,
        obligation -> Text,
    }
}

diesel::table! {
    policy_versions (id) {
        id -> Text,
        purpose_key -> Text,
        version -> BigInt,
        text_hash -> Text,
        created_at -> Timestamp,
        terms -> Text,
        notice_hash -> Text,
    }
}

diesel::table! {
    policy_texts (policy_version_id, locale) {
        policy_version_id -> Text,
        locale -> Text,
        title -> Text,
        text -> Text,
    }
}

diesel::table! {
    workspace_locales (locale) {
        locale -> Text,
        position -> BigInt,
        is_default -> Bool,
    }
}

diesel::table! {
    tree_heads (size, access_size) {
        size -> BigInt,
        root -> Text,
        signed_at -> Timestamp,
        key_id -> Text,
        signature -> Text,
        access_size -> BigInt,
        access_hash -> Nullable<Text>,
    }
}

diesel::table! {
    access_records (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Text,
        ip_pseudonym -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        action -> Text,
        path -> Text,
        prev_hash -> Text,
        hash -> Text,
        times -> BigInt,
        last_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    external_ids (subject_id) {
        subject_id -> Text,
        external_index -> Binary,
        ciphertext -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    access_head (id) {
        id -> BigInt,
        seq -> BigInt,
        hash -> Text,
        pruned_seq -> BigInt,
        pruned_hash -> Text,
        pruned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    forms (key) {
        key -> Text,
        current_version_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    form_versions (id) {
        id -> Text,
        form_key -> Text,
        version -> BigInt,
        definition -> Text,
        definition_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    subjects (id) {
        id -> Text,
        email_index -> Binary,
        wrapped_key -> Nullable<Binary>,
        email_ciphertext -> Nullable<Binary>,
        locale -> Text,
        created_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    submissions (id) {
        id -> Text,
        subject_id -> Text,
        form_version_id -> Text,
        locale -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    field_values (id) {
        id -> Text,
        submission_id -> Text,
        subject_id -> Text,
        field_key -> Text,
        purposes -> Text,
        ciphertext -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pending_values (id) {
        id -> Text,
        submission_id -> Text,
        subject_id -> Text,
        field_key -> Text,
        purposes -> Text,
        ciphertext -> Binary,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    reseal_pending (id) {
        id -> BigInt,
    }
}

diesel::table! {
    consent_events (seq) {
        seq -> BigInt,
        id -> Text,
        subject_id -> Text,
        purpose_key -> Text,
        action -> Text,
        policy_version_id -> Text,
        policy_text_hash -> Text,
        method -> Text,
        source -> Text,
        evidence -> Text,
        occurred_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
        recorded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ledger_head (id) {
        id -> BigInt,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    consent_state (subject_id, purpose_key) {
        subject_id -> Text,
        purpose_key -> Text,
        status -> Text,
        policy_version_id -> Text,
        granted_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        last_event_seq -> BigInt,
        notice_anchor_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        scopes -> Text,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_messages (outbox_id) {
        outbox_id -> Text,
        message -> Binary,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        dedupe_key -> Text,
        subject_id -> Nullable<Text>,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    link_tokens (id) {
        id -> Text,
        subject_id -> Text,
        kind -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        subject_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rights_requests (id) {
        id -> Text,
        subject_id -> Text,
        kind -> Text,
        channel -> Text,
        detail -> Text,
        received_at -> Timestamp,
        due_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        state -> Text,
        self_service -> Bool,
        regime -> Text,
        assignee -> Nullable<Text>,
        note -> Nullable<Binary>,
        reason -> Nullable<Binary>,
        updated_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_kind -> Text,
        actor_id -> Text,
        action -> Text,
        subject_id -> Nullable<Text>,
        detail -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    form_drafts (form_key) {
        form_key -> Text,
        definition -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
    }
}

diesel::table! {
    workspace_applied (id) {
        id -> BigInt,
        file_hash -> Text,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    workspace_profile (id) {
        id -> BigInt,
        document -> Text,
    }
}

diesel::table! {
    catalog_version (id) {
        id -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    key_secrets (name) {
        name -> Text,
        wrapped -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (key_id) {
        key_id -> Text,
        purpose -> Text,
        public_key -> Text,
        wrapped_seed -> Binary,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    purposes,
    held_values,
    hold_keys,
    policy_versions,
    forms,
    form_versions,
    subjects,
    submissions,
    field_values,
    pending_values,
    reseal_pending,
    consent_events,
    ledger_head,
    access_records,
    access_head,
    external_ids,
    imports,
    import_uploads,
    import_sheets,
    deidentified_exports,
    webhook_endpoints,
    webhook_deliveries,
    consent_state,
    api_keys,
    outbox,
    outbox_messages,
    link_tokens,
    sessions,
    rights_requests,
    audit_log,
    owners,
    owner_sessions,
    owner_tokens,
    form_drafts,
    workspace_applied,
    catalog_version,
    workspace_profile,
);
