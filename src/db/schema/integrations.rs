//! The tables of migrations 21 to 23: imports (and the sheets being mapped), de-identified
//! exports, webhook endpoints and deliveries.

diesel::table! {
    import_sheets (id) {
        id -> Text,
        form_key -> Text,
        file_name -> Text,
        sealed -> Binary,
        choices -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    import_uploads (import_id) {
        import_id -> Text,
        sealed -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    imports (id) {
        id -> Text,
        form_key -> Text,
        file_name -> Text,
        file_sha256 -> Text,
        dry_run -> Bool,
        written -> Bool,
        status -> Text,
        actor -> Text,
        parameters -> Text,
        totals -> Text,
        report -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        ledger_seq -> Nullable<BigInt>,
        heartbeat_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deidentified_exports (id) {
        id -> Text,
        actor -> Text,
        k -> BigInt,
        rows_exported -> BigInt,
        suppressed -> BigInt,
        parameters -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (endpoint, id) {
        id -> Text,
        endpoint -> Text,
        seq -> BigInt,
        event_type -> Text,
        status -> Text,
        attempts -> BigInt,
        response_status -> Nullable<BigInt>,
        latency_ms -> Nullable<BigInt>,
        next_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (name) {
        name -> Text,
        url -> Text,
        events -> Text,
        include_email -> Bool,
        cursor -> BigInt,
        imports_cursor -> Timestamp,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret_fingerprint -> Text,
        previous_fingerprint -> Nullable<Text>,
        rotated_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        managed -> Bool,
        secret_sealed -> Nullable<Binary>,
        previous_sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    operations (name) {
        name -> Text,
        last_ok_at -> Nullable<Timestamp>,
        last_failed_at -> Nullable<Timestamp>,
        detail -> Text,
    }
}
