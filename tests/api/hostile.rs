//! Hostile input, generated: random urlencoded bodies for the public form and the preference
//! center, random JSON for the submission API. Whatever arrives, the answer is never a 5xx, and
//! nothing is written unless the answer is a success.
//!
//! The cases are drawn up front from a deterministic proptest runner (same cases every run) and
//! then sent one after another from the async test.

use crate::helpers::*;
use crate::on_both_backends;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Cases per endpoint and backend: enough variety, still fast.
const CASES: usize = 64;

fn draw<S: Strategy>(strategy: S) -> Vec<S::Value> {
    let mut runner = TestRunner::deterministic();
    (0..CASES).map(|_| strategy.new_tree(&mut runner).expect("a case").current()).collect()
}

/// Any text: printable, control characters, astral planes, sometimes very long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => prop::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect()),
        1 => (any::<char>(), 1_000usize..20_000).prop_map(|(c, n)| c.to_string().repeat(n)),
        2 => Just(String::new()),
        2 => "[a-z]{1,8}@example\\.com".prop_map(|s| s),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec!["email", "name", "phone", "message", "purpose", "redirect", "lang", "_csrf", "token"])
            .prop_map(str::to_owned),
        3 => text(),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["service", "marketing_sms", "marketing_email", "personalisation", "analytics", "ko", "en"])
            .prop_map(str::to_owned),
        5 => text(),
    ]
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// One `key=value` piece of a body: well encoded, raw, or with broken escapes.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (key(), value()).prop_map(|(k, v)| format!("{}={}", encode(&k), encode(&v)).into_bytes()),
        2 => (key(), value()).prop_map(|(k, v)| format!("{k}={v}").into_bytes()),
        1 => prop::sample::select(vec!["%", "%G1", "email=%ZZ", "name=%FF%FE", "=", "&&", "email", "purpose=%E2%82", "a=%00"])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// A whole urlencoded body: any number of pieces, keys repeated or missing; about half start as
/// a valid submission, so that the hostile rest is what decides.
fn urlencoded_body() -> impl Strategy<Value = Vec<u8>> {
    let valid_start =
        "[a-z]{1,8}@example\\.com".prop_map(|email| format!("email={}&purpose=service", encode(&email)).into_bytes());
    let start = prop_oneof![Just(Vec::new()), valid_start];
    (start, prop::collection::vec(piece(), 0..8)).prop_map(|(start, pieces)| {
        let mut all = vec![start];
        all.extend(pieces);
        all.retain(|p| !p.is_empty());
        all.join(&b'&')
    })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        value().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A submission-shaped object with wrong types, unknown members or missing ones, or any JSON.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let member = prop_oneof![3 => value().prop_map(serde_json::Value::from), 1 => json_value()];
    let email = prop_oneof![
        2 => "[a-z]{1,8}@example\\.com".prop_map(serde_json::Value::from),
        1 => json_value(),
    ];
    let fields = (email, prop::collection::btree_map(key(), member, 0..3)).prop_map(|(email, mut m)| {
        m.entry("email".to_owned()).or_insert(email);
        serde_json::Value::Object(m.into_iter().collect())
    });
    let purposes = prop_oneof![
        3 => prop::collection::vec(value().prop_map(serde_json::Value::from), 0..2).prop_map(|mut v| {
            v.insert(0, "service".into());
            serde_json::Value::from(v)
        }),
        1 => json_value(),
    ];
    let locale = prop_oneof![2 => Just(serde_json::Value::from("ko")), 1 => json_value()];
    let shaped = (
        prop::option::weighted(0.9, fields),
        prop::option::weighted(0.9, purposes),
        prop::option::weighted(0.3, locale),
        prop::option::weighted(0.15, (key(), json_value())),
    )
        .prop_map(|(fields, purposes, locale, extra)| {
            let mut object = serde_json::Map::new();
            if let Some(f) = fields {
                object.insert("fields".into(), f);
            }
            if let Some(p) = purposes {
                object.insert("purposes".into(), p);
            }
            if let Some(l) = locale {
                object.insert("locale".into(), l);
            }
            if let Some((k, v)) = extra {
                object.insert(k, v);
            }
            serde_json::to_vec(&serde_json::Value::Object(object)).unwrap()
        });
    prop_oneof![
        6 => shaped,
        1 => "[a-z]{1,8}@example\\.com".prop_map(|email| {
            serde_json::to_vec(&serde_json::json!({ "fields": { "email": email }, "purposes": ["service"] })).unwrap()
        }),
        2 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..128),
        1 => text().prop_map(String::into_bytes),
    ]
}

/// The rows that hold people, their submissions and their consents.
fn people_rows(app: &TestApp) -> [i64; 3] {
    let [subjects, submissions, _, events, _] = app.row_counts();
    [subjects, submissions, events]
}

async fn send_all(app: &TestApp, path: &str, content_type: &str, bodies: Vec<Vec<u8>>, success: &[u16]) {
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for body in bodies {
        let before = people_rows(app);
        let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let response = app.post_raw(path, content_type, body).await;
        let status = response.status().as_u16();
        assert!(status < 500, "POST {path} answered {status} to {shown:?}");
        *statuses.entry(status).or_default() += 1;
        if !success.contains(&status) {
            assert_eq!(people_rows(app), before, "POST {path} answered {status} yet wrote rows, for {shown:?}");
        }
    }
    eprintln!("POST {path}: answers {statuses:?}");
}

const FORM: &str = "application/x-www-form-urlencoded";

on_both_backends! {
    async fn random_form_bodies_never_fail_the_server_nor_write_when_refused(app: TestApp) {
        let bodies = draw(urlencoded_body());
        let (first, second) = bodies.split_at(CASES / 2);
        send_all(&app, "/f/newsletter", FORM, first.to_vec(), &[303]).await;
        send_all(&app, "/f/contact?lang=ko", FORM, second.to_vec(), &[303]).await;
    }

    async fn random_preference_center_bodies_never_fail_the_server_nor_write(app: TestApp) {
        // Asking for a sign-in link never creates a person, a submission or a consent.
        send_all(&app, "/me", FORM, draw(urlencoded_body()), &[]).await;
    }

    async fn random_json_never_fails_the_api_nor_writes_when_refused(app: TestApp) {
        send_all(&app, "/api/v1/forms/newsletter/submissions", "application/json", draw(json_body()), &[201]).await;
    }
}
