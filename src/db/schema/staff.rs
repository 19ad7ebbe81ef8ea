//! The console's staff: accounts, their sessions, and the single-use links that set a password
//! (migrations 4, 33 and 34).

diesel::table! {
    owners (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        failed_logins -> BigInt,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        invited -> Bool,
        totp_sealed -> Nullable<Binary>,
        totp_confirmed_at -> Nullable<Timestamp>,
        totp_last_step -> BigInt,
    }
}

diesel::table! {
    owner_tokens (id_hash) {
        id_hash -> Text,
        owner_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    owner_sessions (id_hash) {
        id_hash -> Text,
        owner_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        device -> Text,
        ip_pseudonym -> Text,
        stage -> Text,
    }
}

diesel::table! {
    owner_recovery_codes (code_hash) {
        code_hash -> Text,
        owner_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_delays (key_hash) {
        key_hash -> Text,
        failures -> BigInt,
        not_before -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rate_windows (key_hash) {
        key_hash -> Text,
        window_start -> BigInt,
        hits -> BigInt,
    }
}
