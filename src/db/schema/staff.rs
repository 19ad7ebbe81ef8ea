//! The console's staff: accounts, their sessions, and the single-use links that set a password
//! (migrations 4 and 33).

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
    }
}
