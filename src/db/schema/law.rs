//! The tables of migrations 28 and 29: the result notices' cursor (정보통신망법 art. 50(7)) and
//! address changes waiting for their link.

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
