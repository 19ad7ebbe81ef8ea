//! The one diesel schema shared by SQLite and PostgreSQL: only column types both support.

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
    }
}

diesel::table! {
    policy_versions (id) {
        id -> Text,
        purpose_key -> Text,
        version -> BigInt,
        title_en -> Text,
        title_ko -> Text,
        text_en -> Text,
        text_ko -> Text,
        text_hash -> Text,
        created_at -> Timestamp,
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
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    purposes,
    policy_versions,
    forms,
    form_versions,
    subjects,
    submissions,
    field_values,
    consent_events,
    ledger_head,
    consent_state,
    api_keys,
);
