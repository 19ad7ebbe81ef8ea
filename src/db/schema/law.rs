//! The tables of migrations 28 to 30: the result notices' cursor (정보통신망법 art. 50(7)),
//! address changes waiting for their link, and data held under a statutory obligation.

diesel::table! {
    email_changes (token_id) {
        token_id -> Text,
        subject_id -> Text,
        field_key -> Text,
        email_index -> Binary,
        email_ciphertext -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    result_notice_cursor (id) {
        id -> BigInt,
        seq -> BigInt,
    }
}

diesel::table! {
    held_values (id) {
        id -> Text,
        subject_id -> Text,
        field_key -> Text,
        purpose_key -> Text,
        law -> Text,
        ciphertext -> Binary,
        recorded_at -> Timestamp,
        held_since -> Timestamp,
        held_until -> Timestamp,
    }
}

diesel::table! {
    hold_keys (subject_id) {
        subject_id -> Text,
        wrapped_key -> Binary,
        email_index -> Binary,
    }
}
