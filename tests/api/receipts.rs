//! Receipts an auditor recognises: one shape (`assent-receipt/2`) for submissions and for a
//! person's whole state, with the ISO/IEC TS 27560 / Kantara claims, verifiable with the JWKS,
//! and each of their events provable in the ledger's signed tree.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::merkle::{Hash, verify_inclusion};
use assent::domain::owner::Role;
use serde_json::{Value, json};

/// The claims of a receipt, checked against the published JWKS (the key its `kid` names).
async fn verified_claims(app: &TestApp, receipt: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    let header = jsonwebtoken::decode_header(receipt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("consent-receipt+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("the receipt's key is published");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    jsonwebtoken::decode::<Value>(receipt, &key, &validation).unwrap().claims
}

/// The claims meet `docs/receipt.schema.json`, as a standard validator (Python's `jsonschema`,
/// Draft 2020-12, formats checked) reads it.
fn assert_meets_the_schema(claims: &Value) {
    let check = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
errors = [e.message for e in validator.iter_errors(json.loads(sys.stdin.read()))]
print("\n".join(errors)); sys.exit(1 if errors else 0)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", check, concat!(env!("CARGO_MANIFEST_DIR"), "/docs/receipt.schema.json")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (with the jsonschema package)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(claims.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn purpose<'a>(claims: &'a Value, key: &str) -> &'a Value {
    claims["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == key)
        .unwrap_or_else(|| panic!("{key} in {claims}"))
}

fn hash(hex_digits: &str) -> Hash {
    hex::decode(hex_digits).unwrap().try_into().unwrap()
}

/// Every event of the receipt is in the signed tree, by its hash alone.
async fn each_event_is_proven_by_its_hash(app: &TestApp, claims: &Value) {
    for event in claims["events"].as_array().unwrap() {
        let digest = event["hash"].as_str().unwrap();
        let proof: Value =
            app.get(&format!("/.well-known/assent/proof-by-hash?hash={digest}")).await.json().await.unwrap();
        let head = &proof["tree_head"];
        let (root, size) = (hash(head["root"].as_str().unwrap()), head["size"].as_u64().unwrap());
        let proven = &proof["events"][0];
        assert_eq!(proven["leaf_index"], event["leaf_index"]);
        let path: Vec<Hash> = proven["proof"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
        let index = event["leaf_index"].as_u64().unwrap();
        assert!(verify_inclusion(&root, size, index, &hash(digest), &path), "event {index} is in the signed tree");
    }
}

on_both_backends! {
    async fn a_submission_receipt_carries_the_claims_an_auditor_expects(app: TestApp) {
        let body = json!({
            "fields": { "email": unique_email(), "name": "Minji" },
            "purposes": ["service", "marketing_email", "personalisation"],
            "locale": "ko"
        });
        let response: Value = app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await.json().await.unwrap();
        let claims = verified_claims(&app, response["receipt"].as_str().unwrap()).await;
        assert_meets_the_schema(&claims);
        assert_eq!(claims["version"], "assent-receipt/2");
        assert_eq!(claims["kind"], "submission");
        assert_eq!(claims["sub"], response["subject_id"], "a pseudonymous principal id");
        assert_eq!(claims["jti"], response["submission_id"]);
        assert_eq!(claims["language"], "ko");
        assert_eq!(claims["collection_method"], "api");
        assert_eq!(claims["jurisdiction"], "KR");
        assert_eq!(claims["policy_url"], "https://shop.example/privacy");
        assert_eq!(claims["controller"]["name"], "Assent Demo Shop Co., Ltd.");
        assert_eq!(claims["controller"]["email"], "privacy@shop.example");
        assert_eq!(claims["form"], json!({ "key": "newsletter", "version": 1 }));
        assert!(claims.get("exp").is_none(), "receipts do not expire");

        let service = purpose(&claims, "service");
        assert_eq!(service["purpose_category"], "core_function");
        assert_eq!(service["legal_basis"], "contract");
        assert_eq!(service["consent_type"], "not_applicable");
        assert_eq!(service["status"], "granted");
        assert_eq!(service["pii_categories"], json!(["email"]));
        assert_eq!((service["retention"].as_str(), service["retention_period"].as_str()), (Some("3y"), Some("P3Y")));
        assert_eq!(service["termination"], "end_of_retention");
        assert_eq!(service["third_party_disclosure"], false);
        assert_eq!(service["sensitive"], false);
        assert_eq!(service["policy_version"], 1);
        let email = purpose(&claims, "marketing_email");
        assert_eq!((email["purpose_category"].as_str(), email["consent_type"].as_str()), (Some("marketing"), Some("explicit")));
        assert_eq!(email["status"], "pending", "double opt-in: waiting for the confirmation mail");
        assert_eq!(email["termination"], "withdrawal_or_expiry");
        let named = purpose(&claims, "personalisation");
        assert_eq!(named["purpose_category"], "personalised_experience");
        assert_eq!(named["pii_categories"], json!(["name"]));
        assert_eq!(claims["purposes"].as_array().unwrap().len(), 3, "only the purposes the submission recorded");

        let events = claims["events"].as_array().unwrap();
        assert_eq!(events.len(), 3);
        for e in events {
            assert_eq!(e["leaf_index"].as_i64().unwrap(), e["seq"].as_i64().unwrap() - 1);
            assert_eq!(e["method"], "api");
            assert_eq!(e["hash"].as_str().unwrap().len(), 64);
        }
        each_event_is_proven_by_its_hash(&app, &claims).await;
    }

    async fn a_state_receipt_has_the_same_shape_and_its_events_are_provable(app: TestApp) {
        let body = json!({ "fields": { "email": unique_email(), "phone": "010-3333-4444", "name": "Lee", "message": "Hi" }, "purposes": ["service", "marketing_sms"] });
        let response: Value = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await.json().await.unwrap();
        let subject = response["subject_id"].as_str().unwrap();
        let changed: Value = app
            .client
            .post(app.url(&format!("/api/v1/subjects/{subject}/consents")))
            .bearer_auth(app.api_key())
            .json(&json!({ "purpose": "marketing_sms", "action": "withdraw" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let claims = verified_claims(&app, changed["receipt"].as_str().unwrap()).await;
        assert_meets_the_schema(&claims);
        assert_eq!(claims["version"], "assent-receipt/2");
        assert_eq!(claims["kind"], "state");
        assert_eq!(claims["sub"], subject);
        assert!(claims.get("form").is_none());
        let sms = purpose(&claims, "marketing_sms");
        assert_eq!(sms["status"], "withdrawn");
        assert_eq!(sms["pii_categories"], json!(["phone"]), "every form's fields bound to it");
        assert_eq!(sms["purpose_category"], "marketing");
        assert_eq!(purpose(&claims, "service")["status"], "granted");
        let actions: Vec<&str> = claims["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["granted", "withdrawn"], "each purpose's latest event, in ledger order");
        each_event_is_proven_by_its_hash(&app, &claims).await;

        let bad = app.get("/.well-known/assent/proof-by-hash?hash=not-hex").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(problem(bad).await["code"], "invalid_query");
        let unknown = app.get(&format!("/.well-known/assent/proof-by-hash?hash={}", "0".repeat(64))).await;
        assert_eq!(unknown.status(), 404);
    }

    async fn the_receipt_schema_is_published_and_names_the_version(app: TestApp) {
        let response = app.get("/.well-known/assent/receipt.schema.json").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/schema+json");
        let schema: Value = response.json().await.unwrap();
        assert_eq!(schema["properties"]["version"]["const"], "assent-receipt/2");
    }

    async fn disclosure_and_sensitivity_are_part_of_the_notice_and_the_receipt(app: TestApp) {
        // The console sets them; a new third party is a new notice, so a new policy version.
        let console = app.signed_in(Role::Owner).await;
        let edit = console.page("/admin/purposes/marketing_sms?lang=ko").await;
        assert!(edit.contains(r#"<label for="field-third_parties">제3자 제공</label>"#), "labelled, in Korean");
        assert!(edit.contains(r#"<option value="marketing">마케팅</option>"#));
        let pairs = [
            ("title_en", "News and offers by text message"), ("title_ko", "문자(SMS) 광고성 정보 수신"), ("title_ja", "SMSでのお知らせ・特典の受け取り"),
            ("text_en", "We send you offers by text message to the phone number you give. You can withdraw at any time."),
            ("text_ko", "입력하신 휴대전화 번호로 혜택 문자를 보내 드립니다. 언제든지 철회할 수 있습니다."),
            ("text_ja", "ご入力いただいた携帯電話番号に特典をSMSでお送りします。いつでも撤回できます。"),
            ("legal_basis", "consent"), ("channel", "sms"), ("retention", "2y"), ("renewal_window_days", "30"),
            ("category", "sharing_for_marketing"), ("third_parties", "SMS Gateway Co.\n\n  Partner Shop  \n"), ("sensitive", "1"),
        ];
        let bad = console.submit("/admin/purposes/marketing_sms?lang=en", &[&pairs[..10], &[("category", "whim")]].concat()).await;
        assert_eq!(bad.status(), 422, "an unknown category is refused next to its field");
        assert!(bad.text().await.unwrap().contains(r#"id="field-category-error""#));
        let saved = console.submit("/admin/purposes/marketing_sms?lang=en", &pairs).await;
        assert_eq!(saved.status(), 303);
        let versions: Vec<i64> = {
            use assent::db::schema::policy_versions::dsl::*;
            use diesel::prelude::*;
            policy_versions.filter(purpose_key.eq("marketing_sms")).order(version.asc()).select(version).load(&mut app.conn()).unwrap()
        };
        assert_eq!(versions, [1, 2], "the same wording with a new recipient is a new notice");
        let edit = console.page("/admin/purposes/marketing_sms?lang=en").await;
        let area = &edit[edit.find("name=\"third_parties\"").unwrap()..];
        assert!(area[..area.find("</textarea>").unwrap()].ends_with(">SMS Gateway Co.\nPartner Shop"), "{area}");
        assert!(edit.contains(r#"id="field-sensitive" name="sensitive" value="1" checked"#));

        let body = json!({ "fields": { "email": unique_email(), "phone": "010-1111-2222", "name": "Lee", "message": "Hi" }, "purposes": ["service", "marketing_sms"] });
        let response: Value = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await.json().await.unwrap();
        let claims = verified_claims(&app, response["receipt"].as_str().unwrap()).await;
        assert_meets_the_schema(&claims);
        let sms = purpose(&claims, "marketing_sms");
        assert_eq!(sms["purpose_category"], "sharing_for_marketing");
        assert_eq!(sms["third_party_disclosure"], true);
        assert_eq!(sms["third_parties"], json!(["SMS Gateway Co.", "Partner Shop"]));
        assert_eq!(sms["sensitive"], true);
        assert_eq!(sms["policy_version"], 2);

        // The workspace file says the same, and applies back unchanged.
        let exported = app.cli(&["export"]);
        let text = String::from_utf8_lossy(&exported.stdout);
        assert!(text.contains("third_parties = [\"SMS Gateway Co.\", \"Partner Shop\"]") && text.contains("sensitive = true"), "{text}");
        assert!(text.contains("[workspace.controller]") && text.contains("jurisdiction = \"KR\""), "{text}");
    }

    async fn a_controller_the_law_would_not_recognise_is_refused_by_apply(app: TestApp) {
        let file = app.db.dir.path().join("bad-controller.toml");
        let base = std::fs::read_to_string(workspace_file()).unwrap();
        std::fs::write(&file, base.replace("jurisdiction = \"KR\"", "jurisdiction = \"Korea\"")).unwrap();
        let out = app.cli(&["apply", file.to_str().unwrap()]);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("jurisdiction `Korea` must be an ISO 3166-1 alpha-2 code"), "{said}");
    }
}
