//! Importing through the console: the example sheet uploaded with its mapping and checked
//! (nothing written, every mistake by line), imported from its report with one click (once),
//! mistakes in the upload form shown next to their fields, viewers kept out.

use crate::admin_helpers::PASSWORD;
use crate::helpers::*;
use crate::on_both_backends;
use assent::db::schema::import_uploads;
use assent::domain::owner::Role;
use diesel::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

fn example(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)).unwrap()
}

/// Where a 303 points, without its query.
fn location(response: &reqwest::Response) -> String {
    let to = response.headers()["location"].to_str().unwrap();
    to.split('?').next().unwrap().to_owned()
}

on_both_backends! {
    async fn an_owner_checks_the_sheet_then_imports_it_from_its_report(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let page = console.page("/admin/imports?lang=en").await;
        assert!(page.contains(r#"enctype="multipart/form-data""#) && page.contains(r#"<label for="field-file">"#), "{page}");
        let mapping = String::from_utf8(example("customers-mapping.toml")).unwrap();
        let sheet = example("customers-cp949.csv");
        let before = app.row_counts();

        // Mistakes come back next to their fields, with what was typed.
        let refused = console.upload("/admin/imports?lang=en", &[("form", "newsletter"), ("mapping", "[columns\n"), ("time_zone", "Mars/Olympus")], &[]).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        for field in ["file", "mapping", "time_zone"] {
            assert!(html.contains(&format!(r#"id="field-{field}-error""#)), "{field}: {html}");
        }
        assert!(html.contains("Mars/Olympus"), "nothing typed is lost");

        // The check: nothing written, every outcome and mistake by line.
        let fields = [("form", "newsletter"), ("mapping", mapping.as_str()), ("time_zone", "Asia/Seoul")];
        let checked = console.upload("/admin/imports?lang=en", &fields, &[("file", "customers.csv", &sheet)]).await;
        assert_eq!(checked.status(), 303);
        let report_path = location(&checked);
        let report = console.page(&format!("{report_path}?lang=en")).await;
        assert!(report.contains("<dt>People created</dt><dd>192</dd>") && report.contains("<dt>Rows refused</dt><dd>8</dd>"), "{report}");
        assert!(report.contains("<th scope=\"row\">12</th>") && report.contains("<code>invalid_email</code>"), "line 12's address");
        assert!(report.contains("<code>duplicate_person</code>") && report.contains("The same person as an earlier row"), "said, and coded");
        assert!(report.contains("Import this sheet"));
        assert_eq!(app.row_counts(), before, "a check writes nothing");
        let kept: i64 = import_uploads::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 1, "the checked sheet is kept (sealed) for its import");
        let sealed: Vec<u8> = import_uploads::table.select(import_uploads::sealed).first(&mut app.conn()).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"@examp"), "never in the clear");

        // One click imports it, with the mapping it was checked with; a second click does nothing.
        let run = format!("{report_path}/run?lang=en");
        let imported = console.submit(&run, &[]).await;
        assert_eq!(imported.status(), 303);
        let done_path = location(&imported);
        assert_ne!(done_path, report_path);
        // It runs on its own; its page shows how far it got, then the report.
        let first = console.page(&format!("{done_path}?lang=en")).await;
        assert!(first.contains("Importing, rows done so far") || first.contains("<dt>People created</dt><dd>192</dd>"), "{first}");
        eventually("the import ends", || async {
            !console.page(&format!("{done_path}?lang=en")).await.contains("Importing, rows done so far")
        })
        .await;
        let done = console.page(&format!("{done_path}?lang=en")).await;
        assert!(done.contains("<dt>People created</dt><dd>192</dd>") && done.contains("written"), "{done}");
        let counts = app.row_counts();
        assert!(counts[0] > before[0] + 150, "the people are in: {counts:?}");
        let again = console.submit(&run, &[]).await;
        assert_eq!((again.status().as_u16(), location(&again)), (303, report_path.clone()));
        assert_eq!(app.row_counts(), counts, "imported once");
        let after = console.page(&format!("{report_path}?lang=en")).await;
        assert!(after.contains("no longer kept") && !after.contains("Import this sheet"));
        let kept: i64 = import_uploads::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 0, "the sheet is forgotten once imported");

        // Listed, and the people are there with their ids.
        let list = console.page("/admin/imports?lang=en").await;
        assert_eq!(list.matches("customers.csv").count(), 2, "the check and the import");
        let listed: Value = app.client.get(app.url("/api/v1/imports")).bearer_auth(app.integrator_key()).send().await.unwrap().json().await.unwrap();
        assert!(listed["imports"].as_array().unwrap().iter().all(|i| i["actor"].as_str().unwrap().starts_with("owner:")));
    }

    async fn a_checked_sheet_nobody_imports_is_forgotten_after_a_day(app: TestApp) {
        let console = app.signed_in(Role::Owner).await;
        let sheet = format!("email,service,consented_at\n{},Y,2026-03-05\n", unique_email());
        let checked = console.upload("/admin/imports?lang=en", &[("form", "newsletter"), ("time_zone", "UTC")], &[("file", "one.csv", sheet.as_bytes())]).await;
        assert_eq!(checked.status(), 303);
        let report_path = location(&checked);
        let writer = app.state.db.writer.clone();
        let forget = || {
            let writer = writer.clone();
            async move { tokio::task::spawn_blocking(move || assent::services::import::staged::forget_expired(&writer).unwrap()).await.unwrap() }
        };
        assert_eq!(forget().await, (0, 0), "kept within its day");
        let two_days_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(2);
        diesel::update(import_uploads::table).set(import_uploads::created_at.eq(two_days_ago)).execute(&mut app.conn()).unwrap();
        assert_eq!(forget().await, (1, 0));
        let kept: i64 = import_uploads::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 0);
        let page = console.page(&format!("{report_path}?lang=en")).await;
        assert!(page.contains("no longer kept") && !page.contains("Import this sheet"), "{page}");

        // A run whose process stopped mid-run (silent for more than ten minutes) is recorded as
        // failed, not left "running" for ever; one that shows life is left alone.
        use assent::db::schema::imports;
        let id = report_path.rsplit('/').next().unwrap().to_owned();
        let silent = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(11);
        let running = (imports::status.eq("running"), imports::finished_at.eq(None::<chrono::NaiveDateTime>));
        diesel::update(imports::table.find(&id)).set((running, imports::heartbeat_at.eq(Some(chrono::Utc::now().naive_utc())))).execute(&mut app.conn()).unwrap();
        assert_eq!(forget().await, (0, 0), "a run showing life goes on");
        diesel::update(imports::table.find(&id)).set(imports::heartbeat_at.eq(Some(silent))).execute(&mut app.conn()).unwrap();
        assert_eq!(forget().await, (0, 1));
        let status: String = imports::table.find(&id).select(imports::status).first(&mut app.conn()).unwrap();
        assert_eq!(status, "failed");
    }

    async fn editors_and_analysts_neither_see_the_imports_nor_upload(app: TestApp) {
        let viewer = app.console();
        let email = app.owner(Role::Editor);
        assert_eq!(viewer.sign_in(&email, PASSWORD).await.status(), 303);
        assert_eq!(viewer.get("/admin/imports?lang=en").await.status(), 403, "imports bring people in");
        let refused = viewer.upload("/admin/imports?lang=en", &[("form", "newsletter")], &[("file", "a.csv", b"email\na@b.example\n")]).await;
        assert_eq!(refused.status(), 403);
        let kept: i64 = import_uploads::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(kept, 0);
    }
}

on_both_backends! {
    async fn an_owner_maps_the_columns_with_a_preview_then_checks_the_sheet(app: TestApp) {
        use assent::db::schema::import_sheets;
        let console = app.signed_in(Role::Owner).await;
        let sheet = example("customers-cp949.csv");
        let before = app.row_counts();
        let fields = [("form", "newsletter"), ("time_zone", "Asia/Seoul"), ("step", "map")];
        let kept = console.upload("/admin/imports?lang=en", &fields, &[("file", "customers.csv", &sheet)]).await;
        assert_eq!(kept.status(), 303);
        let path = location(&kept);
        assert!(path.starts_with("/admin/imports/sheets/"), "{path}");
        let sealed: Vec<u8> = import_sheets::table.select(import_sheets::sealed).first(&mut app.conn()).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"@examp"), "kept sealed, never in the clear");

        // Korean headers that are no names of the form: each is a choice, the sheet cannot be
        // imported yet, and the page says why.
        let page = console.page(&format!("{path}?lang=en")).await;
        assert_eq!(page.matches("<select id=\"col-").count(), 13, "a choice per header");
        assert!(page.contains(">이메일</th>") && page.contains("customer001@example.com"), "headers with their first values");
        assert!(page.contains("cannot be imported with these choices"), "{page}");
        assert!(page.contains("<option value=\"marketing_sms_at\">Date of consent: News and offers by text message</option>"));

        // The example mapping, chosen column by column: the preview reads the first rows.
        let names = ["external_id", "email", "name", "phone", "service", "marketing_email", "marketing_sms", "personalisation",
            "consented_at", "marketing_sms_at", "withdrawn_at", "source", ""];
        let columns: Vec<(String, &str)> = names.iter().enumerate().map(|(i, n)| (format!("col.{i}"), *n)).collect();
        let mut pairs: Vec<(&str, &str)> = columns.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        pairs.extend([("time_zone", "Asia/Seoul"), ("wording_version", ""), ("step", "preview")]);
        let previewed = console.submit(&format!("{path}?lang=en"), &pairs).await;
        assert_eq!(previewed.status(), 200);
        let page = previewed.text().await.unwrap();
        assert!(!page.contains("cannot be imported with these choices"), "{page}");
        assert!(page.contains("<td>customer001@example.com</td>"), "{page}");
        assert!(page.contains("<td>강서윤 — not kept: no consent it serves</td>"), "no consent to its purpose: {page}");
        assert!(page.contains("Agreed 2026-05-14 00:00"), "the date read in Seoul time: {page}");
        assert!(page.contains("<td>2019 종이 신청서</td>"), "{page}");
        let file = console.get(&format!("{path}/mapping.toml?lang=en")).await;
        assert_eq!(file.headers()["content-disposition"], "attachment; filename=\"mapping.toml\"");
        let mapping = assent::domain::import::Mapping::parse(&file.text().await.unwrap()).unwrap();
        assert_eq!((mapping.columns["이메일"].as_str(), mapping.columns["비고"].as_str()), ("email", "ignore"));

        // A mistake in the options comes back next to its field; nothing is checked.
        let mut wrong = pairs.clone();
        wrong.retain(|(k, _)| *k != "time_zone" && *k != "step");
        wrong.extend([("time_zone", "Mars/Olympus"), ("step", "check")]);
        let refused = console.submit(&format!("{path}?lang=en"), &wrong).await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("id=\"field-time_zone-error\""));

        // Checked as mapped: the report, and the sheet kept with its check (no longer here).
        pairs.retain(|(k, _)| *k != "step");
        pairs.push(("step", "check"));
        let checked = console.submit(&format!("{path}?lang=en"), &pairs).await;
        assert_eq!(checked.status(), 303);
        let report = console.page(&format!("{}?lang=en", location(&checked))).await;
        assert!(report.contains("<dt>People created</dt><dd>192</dd>") && report.contains("Import this sheet"), "{report}");
        assert_eq!(console.get(&format!("{path}?lang=en")).await.status(), 404);
        let left: i64 = import_sheets::table.count().get_result(&mut app.conn()).unwrap();
        assert_eq!(left, 0);
        assert_eq!(app.row_counts(), before, "nothing written before the import");

        let viewer = app.signed_in(Role::Analyst).await;
        assert_eq!(viewer.get(&format!("{path}?lang=en")).await.status(), 403);
    }
}
