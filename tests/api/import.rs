//! Importing the spreadsheets Assent replaces, through the real binary: the example customer
//! sheet (CP949, Korean headers, mistakes, long-expired consents) dry-run, imported with its
//! real dates, imported again to no effect, and never overriding a later choice; a workbook;
//! all or nothing; headers that cannot be imported.

use crate::helpers::*;
use crate::on_both_backends;
use assent::db::schema::{consent_events, imports, subjects};
use assent::domain::import::{Zone, dates};
use diesel::prelude::*;
use serde_json::{Value, json};
use std::path::PathBuf;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Runs `assent import --json …` and returns its exit code and report.
fn import(app: &TestApp, file: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["import", "--form", "newsletter", "--json", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = app.cli(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn sheet_args() -> Vec<String> {
    vec!["--mapping".into(), example("customers-mapping.toml").to_str().unwrap().to_owned()]
}

/// The example sheet's rows as text: (line, cells).
fn sheet_rows() -> Vec<(u64, Vec<String>)> {
    let bytes = std::fs::read(example("customers-cp949.csv")).unwrap();
    let (text, _, bad) = encoding_rs::EUC_KR.decode(&bytes);
    assert!(!bad, "the example is CP949");
    text.lines().enumerate().skip(1).map(|(i, l)| (i as u64 + 1, l.split(',').map(str::to_owned).collect())).collect()
}

fn seoul(raw: &str) -> chrono::NaiveDateTime {
    dates::parse(raw, Zone::default(), false).unwrap()
}

async fn consents_of(app: &TestApp, email: &str) -> Value {
    let url = app.url(&format!("/api/v1/consents?email={email}"));
    app.client.get(url).bearer_auth(app.integrator_key()).send().await.unwrap().json().await.unwrap()
}

fn status_of<'a>(answer: &'a Value, purpose: &str) -> &'a Value {
    answer["consents"].as_array().unwrap().iter().find(|c| c["purpose"] == purpose).unwrap()
}

on_both_backends! {
    async fn the_example_sheet_is_dry_run_then_imported_with_its_real_dates(app: TestApp) {
        let args = sheet_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = app.row_counts();

        let (code, dry) = import(&app, &example("customers-cp949.csv"), &[&args[..], &["--dry-run"]].concat());
        assert_eq!(code, 1, "some rows are refused: {dry}");
        assert_eq!((&dry["read_as"], &dry["dry_run"], &dry["written"]), (&json!("cp949"), &json!(true), &json!(false)));
        assert_eq!(dry["ignored_columns"], json!(["비고"]));
        assert_eq!((&dry["totals"]["rows"], &dry["totals"]["created"], &dry["totals"]["refused"]), (&json!(200), &json!(192), &json!(8)));
        let refused: Vec<(u64, Vec<(String, String)>)> = dry["rows"].as_array().unwrap().iter()
            .map(|r| (r["line"].as_u64().unwrap(), r["problems"].as_array().unwrap().iter()
                .map(|p| (p["column"].as_str().unwrap().to_owned(), p["code"].as_str().unwrap().to_owned())).collect()))
            .collect();
        let named = |line: u64| refused.iter().find(|(l, _)| *l == line).map(|(_, p)| p.clone()).unwrap_or_default();
        assert_eq!(named(12), [("이메일".to_owned(), "invalid_email".to_owned())]);
        assert_eq!(named(27), [("가입일".to_owned(), "invalid_date".to_owned())]);
        assert_eq!(named(42), [("이메일 수신 동의".to_owned(), "invalid_consent".to_owned())]);
        assert_eq!(named(57), [("이메일".to_owned(), "duplicate_person".to_owned())]);
        assert_eq!(named(72), [("가입일".to_owned(), "future_date".to_owned())]);
        assert_eq!(named(87), [("서비스 이용 동의".to_owned(), "purpose_required".to_owned())]);
        assert_eq!(named(102), [("휴대폰".to_owned(), "invalid_phone".to_owned())]);
        assert_eq!(named(122), [("회원번호".to_owned(), "external_id_taken".to_owned())]);
        assert_eq!(app.row_counts(), before, "a dry run writes nothing");

        let (code, done) = import(&app, &example("customers-cp949.csv"), &args);
        assert_eq!(code, 1);
        assert_eq!((&done["written"], &done["totals"]["created"], &done["totals"]["refused"]), (&json!(true), &json!(192), &json!(8)));
        assert_eq!(done["totals"]["expired"], dry["totals"]["expired"], "the dry run foresaw the expiries");
        assert!(done["totals"]["expired"].as_u64().unwrap() > 0 && done["totals"]["events"].as_u64().unwrap() > 192);
        let sha = done["file_sha256"].as_str().unwrap().to_owned();
        assert_eq!(sha.len(), 64);

        // Someone who joined recently: their consents hold, dated as the sheet says.
        let rows = sheet_rows();
        let (line, recent) = rows.iter().find(|(l, r)| r[8].starts_with("2026") && r[5] == "동의" && r[6] == "N"
            && r[10].is_empty() && ![12, 27, 42, 57, 72, 87, 102, 122].contains(l)).unwrap();
        let answer = consents_of(&app, &recent[1]).await;
        let subject = answer["subject_id"].as_str().expect("imported").to_owned();
        assert_eq!(answer["external_id"], json!(recent[0]));
        let email = status_of(&answer, "marketing_email");
        assert_eq!(email["status"], "granted");
        let granted_at = chrono::DateTime::parse_from_rfc3339(email["granted_at"].as_str().unwrap()).unwrap().naive_utc();
        assert_eq!(granted_at, seoul(&recent[8]), "the date in the sheet, read in Seoul time");
        assert_eq!(status_of(&answer, "marketing_sms")["status"], "never", "refused and never agreed: nothing recorded");
        let events: Vec<(String, String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>, String)> = consent_events::table
            .filter(consent_events::subject_id.eq(&subject))
            .select((consent_events::action, consent_events::method, consent_events::occurred_at, consent_events::recorded_at, consent_events::evidence))
            .load(&mut app.conn()).unwrap();
        assert!(events.iter().all(|e| e.1 == "import" && e.3.is_some_and(|r| r > e.2)), "{events:?}");
        let wrapped: Option<Vec<u8>> = subjects::table.find(&subject).select(subjects::wrapped_key).first(&mut app.conn()).unwrap();
        let key = app.keyring.unwrap_data_key(&wrapped.unwrap(), &subject).unwrap();
        let evidence = assent::crypto::open_evidence(Some(&key), &subject, &events[0].4).expect("sealed evidence opens");
        let provenance = evidence.import.expect("names the import");
        assert_eq!((provenance.import_id.as_str(), provenance.file_sha256.as_str(), provenance.line),
            (done["id"].as_str().unwrap(), sha.as_str(), *line));
        assert_eq!(app.stored_values(&recent[1], "phone"), Vec::<String>::new(), "no SMS consent: the phone is not kept");
        assert!(events[0].4.starts_with("sealed:"), "a row's own source text may name someone: sealed");
        // A row without a source: its evidence names nobody, so the ledger keeps it as plain JSON.
        {
            let (line, plain) = rows.iter().find(|(l, r)| r[8].starts_with("2026") && r[11].is_empty()
                && ![12, 27, 42, 57, 72, 87, 102, 122].contains(l)).unwrap();
            let subject = consents_of(&app, &plain[1]).await["subject_id"].as_str().expect("imported").to_owned();
            let stored: Vec<String> = consent_events::table.filter(consent_events::subject_id.eq(&subject))
                .select(consent_events::evidence).load(&mut app.conn()).unwrap();
            assert!(!stored.is_empty() && stored.iter().all(|e| !e.starts_with("sealed:") && !e.contains(&plain[1]) && !e.contains(&plain[2])), "{stored:?}");
            let evidence = assent::crypto::open_evidence(None, &subject, &stored[0]).expect("plain evidence reads without a key");
            assert_eq!((evidence.import.map(|i| i.line), evidence.ip_hash, evidence.gpc), (Some(*line), None, false));
        }

        // Someone whose consents all ended years ago: recorded, expired and erased in the same run.
        let (_, old) = rows.iter().find(|(_, r)| r[8].starts_with("2019")).unwrap();
        assert_eq!(consents_of(&app, &old[1]).await["subject_id"], Value::Null);
        let ended: i64 = consent_events::table.filter(consent_events::method.eq("import"))
            .filter(consent_events::action.eq_any(["expired", "erased"])).count().get_result(&mut app.conn()).unwrap();
        assert!(ended > 0);
        let verify = app.cli(&["ledger", "verify"]);
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

        // The same file again changes nothing.
        let counts = app.row_counts();
        let (_, again) = import(&app, &example("customers-cp949.csv"), &args);
        assert_eq!((&again["totals"]["created"], &again["totals"]["updated"], &again["totals"]["events"]), (&json!(0), &json!(0), &json!(0)), "{again}");
        assert_eq!(app.row_counts(), counts);

        // A choice made in Assent after the imported date stands.
        let withdraw = app.client.post(app.url(&format!("/api/v1/subjects/{subject}/consents"))).bearer_auth(app.integrator_key())
            .json(&json!({ "purpose": "marketing_email", "action": "withdraw" })).send().await.unwrap();
        assert_eq!(withdraw.status(), 200);
        let (_, third) = import(&app, &example("customers-cp949.csv"), &args);
        let row = third["rows"].as_array().unwrap().iter().find(|r| r["line"] == *line).expect("reported");
        assert_eq!((&row["outcome"], &row["kept"]), (&json!("unchanged"), &json!(["marketing_email"])));
        assert_eq!(status_of(&consents_of(&app, &recent[1]).await, "marketing_email")["status"], "withdrawn");

        // Every run is kept, without personal data.
        let reports: Vec<(bool, String, String)> = imports::table.order(imports::started_at.asc())
            .select((imports::dry_run, imports::status, imports::report)).load(&mut app.conn()).unwrap();
        assert_eq!(reports.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(),
            [(true, "done"), (false, "done"), (false, "done"), (false, "done")]);
        assert!(reports.iter().all(|r| !r.2.contains("@example.com") && !r.2.contains("010-")), "no personal data in reports");
    }

    async fn a_workbook_is_imported_and_all_or_nothing_writes_nothing_when_a_row_is_refused(app: TestApp) {
        let mapping = app.db.dir.path().join("xlsx.toml");
        std::fs::write(&mapping, "[columns]\n\"이메일\" = \"email\"\n\"이름\" = \"name\"\n\"서비스 이용 동의\" = \"service\"\n\"이메일 수신 동의\" = \"marketing_email\"\n\"가입일\" = \"consented_at\"\n").unwrap();
        let mapping = mapping.to_str().unwrap();
        let before = app.row_counts();
        let (code, whole) = import(&app, &fixture("customers.xlsx"), &["--mapping", mapping, "--all-or-nothing"]);
        assert_eq!(code, 1);
        assert_eq!((&whole["read_as"], &whole["written"], &whole["totals"]["refused"]), (&json!("xlsx"), &json!(false), &json!(1)));
        assert_eq!(app.row_counts(), before, "one refused row: nothing written");

        let (code, done) = import(&app, &fixture("customers.xlsx"), &["--mapping", mapping]);
        assert_eq!((code, &done["totals"]["created"]), (1, &json!(2)));
        let answer = consents_of(&app, "xlsx1@example.com").await;
        assert_eq!(status_of(&answer, "service")["granted_at"], "2024-03-04T15:00:00Z", "Excel's serial date 45356, in Seoul");

        let out = app.cli(&["import", "--form", "newsletter", "--sheet", "Nope", fixture("customers.xlsx").to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no sheet named \"Nope\""));
    }

    async fn headers_that_cannot_be_imported_change_nothing(app: TestApp) {
        let file = app.db.dir.path().join("no-service.csv");
        std::fs::write(&file, "email,marketing_email,consented_at\nnew@example.com,Y,2024-01-01\n").unwrap();
        let before = app.row_counts();
        let (code, report) = import(&app, &file, &[]);
        assert_eq!(code, 2);
        assert_eq!(report["header_problems"], json!([{ "column": "service", "code": "missing_column" }]));
        assert_eq!((&report["totals"]["rows"], &report["written"]), (&json!(0), &json!(false)));
        assert_eq!(app.row_counts(), before);
        let out = app.cli(&["import", "--form", "nope", file.to_str().unwrap()]);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("there is no form"));
    }
}

/// `column.<header>=<name>` for every column of the example's mapping file.
fn mapping_query() -> String {
    let text = std::fs::read_to_string(example("customers-mapping.toml")).unwrap();
    let mapping = assent::domain::import::Mapping::parse(&text).unwrap();
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    mapping.columns.iter().map(|(header, name)| format!("&column.{}={}", encode(header), encode(name))).collect()
}

async fn upload(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    let request = app.client.post(app.url(&format!("/api/v1/imports?{query}"))).bearer_auth(app.integrator_key());
    request.header("content-type", content_type).body(body).send().await.unwrap()
}

on_both_backends! {
    async fn the_api_dry_runs_by_default_imports_when_asked_and_keeps_the_report(app: TestApp) {
        let sheet = std::fs::read(example("customers-cp949.csv")).unwrap();
        let query = format!("form=newsletter&name=customers.csv{}", mapping_query());
        let before = app.row_counts();

        let dry = upload(&app, &query, "text/csv; charset=cp949", sheet.clone()).await;
        assert_eq!(dry.status(), 200);
        let dry: Value = dry.json().await.unwrap();
        assert_eq!((&dry["dry_run"], &dry["read_as"], &dry["totals"]["created"], &dry["totals"]["refused"]),
            (&json!(true), &json!("cp949"), &json!(192), &json!(8)), "{dry}");
        assert_eq!(app.row_counts(), before, "a dry run unless asked otherwise");

        let done = upload(&app, &format!("{query}&dry_run=false"), "text/csv", sheet).await;
        assert_eq!(done.status(), 200);
        let done: Value = done.json().await.unwrap();
        assert_eq!((&done["written"], &done["totals"]["created"]), (&json!(true), &json!(192)));
        let (_, recent) = sheet_rows().into_iter().find(|(l, r)| r[8].starts_with("2026") && r[5] == "동의"
            && ![12, 27, 42, 57, 72, 87, 102, 122].contains(l)).unwrap();
        assert_eq!(status_of(&consents_of(&app, &recent[1]).await, "marketing_email")["status"], "granted");

        // The record: listed, and read back with its report (no personal data).
        let key = app.integrator_key();
        let listed: Value = app.client.get(app.url("/api/v1/imports")).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        let listed = listed["imports"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|i| i["file_name"] == "customers.csv" && i["actor"].as_str().unwrap().starts_with("api_key")), "{listed:?}");
        let id = done["id"].as_str().unwrap();
        let one: Value = app.client.get(app.url(&format!("/api/v1/imports/{id}"))).bearer_auth(key).send().await.unwrap().json().await.unwrap();
        assert_eq!((&one["status"], &one["report"]["totals"]["created"]), (&json!("done"), &json!(192)));
        assert!(!one.to_string().contains("@example.com"), "no personal data in the record");

        // Mistakes: each a stable code, nothing written.
        let counts = app.row_counts();
        let bad = upload(&app, "dry_run=maybe&wording_version=x&colour=blue", "text/csv", b"email\n".to_vec()).await;
        assert_eq!(bad.status(), 422);
        let fields: Vec<(String, String)> = problem(bad).await["errors"].as_array().unwrap().iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned())).collect();
        for expected in [("dry_run", "invalid_type"), ("wording_version", "invalid_type"), ("colour", "unknown_field"), ("form", "required")] {
            assert!(fields.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{fields:?}");
        }
        let unknown = upload(&app, "form=nope", "text/csv", b"email\n".to_vec()).await;
        assert_eq!((unknown.status().as_u16(), problem(unknown).await["code"].clone()), (404, json!("form_not_found")));
        let pdf = upload(&app, "form=newsletter", "application/pdf", b"%PDF".to_vec()).await;
        assert_eq!(pdf.status(), 415);
        let broken = upload(&app, "form=newsletter", XLSX_TYPE, b"PK\x03\x04 not a workbook".to_vec()).await;
        assert_eq!((broken.status().as_u16(), problem(broken).await["code"].clone()), (400, json!("invalid_body")));
        let missing = app.client.get(app.url("/api/v1/imports/nothing")).bearer_auth(key).send().await.unwrap();
        assert_eq!((missing.status().as_u16(), problem(missing).await["code"].clone()), (404, json!("import_not_found")));
        let anonymous = app.client.post(app.url("/api/v1/imports?form=newsletter")).header("content-type", "text/csv").body("email\n").send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        assert_eq!(app.row_counts(), counts);
    }
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Runs an import of `csv` on its own thread; after its first chunk is written (and the next one
/// already decided), `between` runs before the import goes on.
async fn import_with_a_pause<F, Fut>(app: &TestApp, csv: String, between: F) -> assent::services::import::Report
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use assent::services::import::{Options, Source, run};
    let options = Options {
        id: None,
        form: "newsletter".into(),
        source: Source::Upload { name: "late.csv".into(), bytes: std::sync::Arc::from(csv.into_bytes()), xlsx: false },
        dry_run: false,
        mapping: Default::default(),
        encoding: None,
        sheet: None,
        wording_version: None,
        zone: Zone::default(),
        all_or_nothing: false,
    };
    let (db, keyring, catalog) = (app.state.db.clone(), app.state.keyring.clone(), app.state.catalog.current());
    let (paused, resume) = (tokio::sync::oneshot::channel::<()>(), std::sync::mpsc::channel::<()>());
    let (mut paused_tx, paused_rx) = (Some(paused.0), paused.1);
    let (resume_tx, resume_rx) = resume;
    let running = std::thread::spawn(move || {
        let actor = assent::services::audit::Actor::Job("test");
        run(&db, keyring, catalog, &options, actor, |_, rows| {
            if let Some(tx) = paused_tx.take_if(|_| !rows.is_empty()) {
                tx.send(()).unwrap();
                resume_rx.recv().unwrap();
            }
        })
        .unwrap()
    });
    paused_rx.await.expect("the first chunk is written");
    between().await;
    resume_tx.send(()).unwrap();
    tokio::task::spawn_blocking(move || running.join().unwrap()).await.unwrap()
}

on_both_backends! {
    async fn a_chunk_decided_before_someone_else_wrote_is_decided_again(app: TestApp) {
        // The import decides its next chunk while the writer writes the one before. Someone who
        // signs up and withdraws between that decision and its write is met as they are then:
        // their later choice stands (the stale decision would have made them anew).
        let late = unique_email();
        let mut csv = String::from("email,name,service,marketing_sms,consented_at\n");
        for i in 0..5000 {
            csv.push_str(&format!("chunk-{i}@example.com,P {i},Y,Y,2026-01-01\n"));
        }
        csv.push_str(&format!("{late},Late,Y,Y,2026-01-01\n"));
        let report = import_with_a_pause(&app, csv, || async {
            let body = json!({ "fields": { "email": late, "phone": "010-1234-5678" }, "purposes": ["service", "marketing_sms"] });
            let signed_up = app.post_json_as_integrator("/api/v1/forms/newsletter/submissions", &body).await;
            assert_eq!(signed_up.status(), 201);
            let id = signed_up.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned();
            let url = app.url(&format!("/api/v1/subjects/{id}/consents"));
            let body = json!({ "purpose": "marketing_sms", "action": "withdraw" });
            let withdrawn = app.client.post(url).bearer_auth(app.integrator_key()).json(&body).send().await.unwrap();
            assert_eq!(withdrawn.status(), 200);
        })
        .await;
        assert!(report.header_problems.is_empty(), "{:?}", report.header_problems);
        assert_eq!((report.totals.created, report.totals.refused), (5000, 0));
        let row = report.rows.iter().find(|r| r.line == 5002).expect("the late row is reported");
        assert_eq!(row.kept, vec!["service".to_owned(), "marketing_sms".to_owned()], "{row:?}");
        assert_eq!(status_of(&consents_of(&app, &late).await, "marketing_sms")["status"], "withdrawn");
    }
}
