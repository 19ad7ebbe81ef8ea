//! The de-identified export for analysis: consent states under pseudonyms that no two exports
//! share, nothing that names anyone, small groups suppressed, every export recorded.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::schema::{audit_log, deidentified_exports};
use assent::domain::owner::Role;
use diesel::prelude::*;
use serde_json::{Value, json};
use std::collections::HashSet;

fn export(app: &TestApp, extra: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["export", "--deidentified"];
    args.extend_from_slice(extra);
    let out = app.cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    std::iter::once(header).chain(reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect())).collect()
}

on_both_backends! {
    async fn two_exports_cannot_be_joined_and_name_no_one(app: TestApp) {
        let mut people = Vec::new();
        for i in 0..7 {
            let email = unique_email();
            let purposes = if i % 2 == 0 { json!(["service", "marketing_sms"]) } else { json!(["service"]) };
            let body = json!({ "fields": { "email": email, "name": "Choi", "message": "Hi", "phone": "010-7777-8888" }, "purposes": purposes });
            let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
            assert_eq!(response.status(), 201);
            people.push((email, response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()));
        }
        let first = export(&app, &[]);
        let second = export(&app, &[]);
        let header = &first[0];
        assert_eq!(&header[..2], ["pseudonym", "first_seen"]);
        assert!(header.contains(&"marketing_sms".to_owned()) && !header.iter().any(|h| h == "email" || h == "name" || h == "phone"));
        assert_eq!(first.len(), 8, "one row per person");
        let sms = header.iter().position(|h| h == "marketing_sms").unwrap();
        let granted = first[1..].iter().filter(|r| r[sms] == "granted").count();
        assert_eq!(granted, 4);
        // Seven people seen in the same month: a group of seven, kept at k = 5.
        assert!(first[1..].iter().all(|r| r[1] != "*" && r[1].len() == 7), "{first:?}");

        // Joining the two exports by pseudonym finds nobody; neither names anyone.
        let a: HashSet<&String> = first[1..].iter().map(|r| &r[0]).collect();
        let b: HashSet<&String> = second[1..].iter().map(|r| &r[0]).collect();
        assert_eq!((a.len(), b.len()), (7, 7));
        assert!(a.is_disjoint(&b), "pseudonyms are per export");
        let text = format!("{first:?}{second:?}");
        for (email, id) in &people {
            assert!(!text.contains(email.as_str()) && !text.contains(id.as_str()), "{text}");
            let index = hex::encode(app.keyring.email_index(&assent::domain::Email::parse(email).unwrap()));
            assert!(!text.contains(&index[..16]));
        }
        assert!(!text.contains("010-") && !text.contains("Choi") && !text.contains('@'));

        // Groups smaller than k are suppressed.
        let strict = export(&app, &["--k", "8"]);
        assert!(strict[1..].iter().all(|r| r[1] == "*"), "{strict:?}");
        assert_eq!(strict[1..].iter().filter(|r| r[sms] == "granted").count(), 4, "what is analysed stays");

        // Each export is recorded with its parameters, never its rows.
        let recorded: Vec<(i64, i64, i64, String)> = deidentified_exports::table.order(deidentified_exports::created_at.asc())
            .select((deidentified_exports::k, deidentified_exports::rows_exported, deidentified_exports::suppressed, deidentified_exports::parameters))
            .load(&mut app.conn()).unwrap();
        assert_eq!(recorded.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(), [(5, 7, 0), (5, 7, 0), (8, 7, 7)]);
        assert!(recorded[0].3.contains("first_seen") && !recorded[0].3.contains('@'));
        let refused = app.cli(&["export", "--k", "5"]);
        assert!(!refused.status.success(), "--k only with --deidentified");

        // The console's download: the same export, recorded and audited as the owner's; viewers
        // and a k below 2 are refused.
        let console = app.signed_in(Role::Owner).await;
        assert!(console.page("/admin/submissions?lang=en").await.contains(r#"href="/admin/deidentified.csv?k=5""#));
        let download = console.get("/admin/deidentified.csv?k=5").await;
        assert_eq!(download.status(), 200);
        assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"deidentified-"));
        let body = download.text().await.unwrap();
        assert!(body.starts_with("pseudonym,first_seen") && body.lines().count() == 8 && !body.contains('@'), "{body}");
        let actors: Vec<String> = deidentified_exports::table.order(deidentified_exports::created_at.asc())
            .select(deidentified_exports::actor).load(&mut app.conn()).unwrap();
        assert!(actors[0] == "cli" && actors[3].starts_with("owner:"), "{actors:?}");
        let audited: i64 = audit_log::table.filter(audit_log::action.eq("export_deidentified")).count().get_result(&mut app.conn()).unwrap();
        assert_eq!(audited, 4);
        assert_eq!(console.get("/admin/deidentified.csv?k=1").await.status(), 400);
        let viewer = app.signed_in(Role::Analyst).await;
        assert_eq!(viewer.get("/admin/deidentified.csv?k=5").await.status(), 403);
    }
}
