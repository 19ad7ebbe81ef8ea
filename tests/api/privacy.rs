//! What is stored, and how: only what a granted purpose allows, always encrypted, one subject per
//! person.

use crate::helpers::*;
use crate::on_both_backends;
use diesel::prelude::*;

on_both_backends! {
    async fn a_phone_number_sent_without_sms_consent_is_not_stored(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("phone", "010-9999-8888"), ("name", "Minji"), ("purpose", "service")]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        assert!(app.stored_values(&email, "phone").is_empty());
        assert!(app.stored_values(&email, "name").is_empty());
        assert_eq!(app.stored_values(&email, "email"), [email.as_str()]);

        let body = form_body(&[("email", &email), ("phone", "010-9999-8888"), ("purpose", "service"), ("purpose", "marketing_sms")]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        assert_eq!(app.stored_values(&email, "phone"), ["010-9999-8888"]);

        use assent::db::schema::field_values;
        let purposes: Vec<String> = field_values::table
            .filter(field_values::field_key.eq("phone"))
            .select(field_values::purposes)
            .load(&mut app.conn())
            .unwrap();
        assert_eq!(purposes, ["marketing_sms"], "each value records the purposes that justify it");
    }

    async fn the_same_address_in_any_case_is_one_subject(app: TestApp) {
        let email = unique_email();
        for variant in [email.clone(), email.to_uppercase(), format!("  {email} ")] {
            let body = form_body(&[("email", &variant), ("purpose", "service")]);
            assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        }
        let [subjects, submissions, ..] = app.row_counts();
        assert_eq!((subjects, submissions), (1, 3));
    }

    async fn no_plaintext_personal_data_is_anywhere_in_the_database(app: TestApp) {
        let email = unique_email();
        let phone = "010-4321-8765";
        let name = "Plaintextname Canary";
        let body = form_body(&[
            ("email", &email), ("name", name), ("phone", phone),
            ("purpose", "service"), ("purpose", "marketing_sms"), ("purpose", "personalisation"),
        ]);
        assert_eq!(app.post_form("/f/newsletter", &body).await.status(), 303);
        assert_eq!(app.stored_values(&email, "phone"), [phone], "the value is there, encrypted");
        let haystack = match app.db.backend {
            Backend::Sqlite => app.db.sqlite_bytes(),
            Backend::Postgres => postgres_dump(&mut app.conn()),
        };
        assert!(haystack.len() > 1000, "the dump holds the database");
        for secret in [email.as_str(), email.split('@').next().unwrap(), phone, name] {
            for needle in [secret.to_owned(), hex::encode(secret)] {
                assert!(
                    !haystack.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{secret} must not appear in plaintext"
                );
            }
        }
    }
}

/// A checkpoint that copies every frame of the WAL into the database file and truncates the
/// WAL; retried until no reader or writer of the server holds it back (`busy` = 0).
fn checkpoint(app: &TestApp) {
    #[derive(QueryableByName)]
    struct Checkpointed {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    for _ in 0..100 {
        let done: Checkpointed =
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(&mut app.conn()).unwrap();
        if done.busy == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the checkpoint never completed");
}

/// SQLite: after an erasure and a checkpoint, no byte of the person's wrapped key is left in
/// the database file or its write-ahead log (`PRAGMA secure_delete`, and the writer truncating
/// the WAL after an erasure): the real files, each searched for every 8-byte piece of the key.
#[tokio::test]
async fn an_erased_persons_key_leaves_no_bytes_behind_in_sqlite() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let email = unique_email();
    let body = serde_json::json!({ "fields": { "email": email, "name": "Erasable" }, "purposes": ["service", "personalisation"] });
    let response: serde_json::Value =
        app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await.json().await.unwrap();
    let subject = response["subject_id"].as_str().unwrap().to_owned();
    use assent::db::schema::subjects;
    let wrapped: Vec<u8> = subjects::table
        .find(&subject)
        .select(subjects::wrapped_key)
        .first::<Option<Vec<u8>>>(&mut app.conn())
        .unwrap()
        .unwrap();
    assert!(wrapped.len() >= 72);
    // The sealed part (nonce and ciphertext, random); the header before it names the master key,
    // which every wrapped key shares.
    let wrapped = wrapped[wrapped.len() - 72..].to_vec();
    let (database, wal) = (app.db.dir.path().join("assent.db"), app.db.dir.path().join("assent.db-wal"));
    let pieces_in = |path: &std::path::Path| {
        let bytes = std::fs::read(path).unwrap_or_default();
        wrapped.windows(8).filter(|piece| bytes.windows(8).any(|w| w == *piece)).count()
    };
    let pieces_anywhere = || {
        let mut bytes = std::fs::read(&database).unwrap();
        bytes.extend(std::fs::read(&wal).unwrap_or_default());
        wrapped.windows(8).filter(|piece| bytes.windows(8).any(|w| w == *piece)).count()
    };
    assert_eq!(pieces_anywhere(), wrapped.len() - 7, "the whole key is in the files before");

    let erased = app
        .client
        .delete(app.url(&format!("/api/v1/subjects/{subject}")))
        .bearer_auth(app.integrator_key())
        .send()
        .await
        .unwrap();
    assert!(erased.status().is_success(), "{}", erased.status());
    // The server truncates the WAL itself once no reader holds it: no checkpoint from here.
    eventually("no piece of the key is left in the database file or the WAL", || async {
        pieces_in(&database) == 0 && pieces_in(&wal) == 0
    })
    .await;
    checkpoint(&app);
    assert_eq!(pieces_in(&database), 0, "no piece of the wrapped key survives in the database file");
    assert_eq!(pieces_in(&wal), 0, "nor in the write-ahead log");
}
