//! Nothing acknowledged is lost: the real binary is killed with SIGKILL, or stopped with
//! SIGTERM, while 64 clients keep submitting; every submission that got a 2xx is then found
//! whole, and nothing is found in part.

use crate::helpers::*;
use crate::server_process::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const CLIENTS: usize = 64;

/// One submission the server acknowledged.
#[derive(Debug, Clone)]
struct Acknowledged {
    email: String,
    subject_id: String,
    purposes: i64,
    values: i64,
}

/// The `i`th submission of a run: everyone gives `service`; every third person also gives their
/// name for `personalisation`; every fiftieth also asks for e-mail marketing (double opt-in, so
/// a confirmation mail is queued in the same transaction).
fn submission(run: &str, i: usize) -> (String, serde_json::Value, i64, i64) {
    let email = format!("durable.{run}.{i}@example.com");
    let mut purposes = vec!["service"];
    let mut fields = json!({ "email": email });
    if i.is_multiple_of(3) {
        purposes.push("personalisation");
        fields["name"] = json!(format!("Person {i}"));
    }
    if i.is_multiple_of(50) {
        purposes.push("marketing_email");
    }
    let values = 1 + i64::from(i.is_multiple_of(3));
    let count = purposes.len() as i64;
    (email.clone(), json!({ "fields": fields, "purposes": purposes, "locale": "en" }), count, values)
}

/// What a burst of clients saw.
#[derive(Default)]
struct Outcome {
    acknowledged: Vec<Acknowledged>,
    /// Statuses other than 2xx that came back (a dead server sends none).
    refused: Vec<u16>,
}

/// Sends `total` submissions from [`CLIENTS`] concurrent clients; `acks` counts 2xx answers as
/// they arrive. Connection errors (the server is gone) are neither acknowledged nor refused.
fn burst(address: &str, total: usize, acks: Arc<AtomicUsize>) -> Vec<tokio::task::JoinHandle<Outcome>> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let client = http_client().timeout(Duration::from_secs(120)).build().unwrap();
    let url = format!("{address}/api/v1/forms/newsletter/submissions");
    (0..CLIENTS)
        .map(|c| {
            let (client, url, run, acks) = (client.clone(), url.clone(), run.clone(), acks.clone());
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                for i in (c..total).step_by(CLIENTS) {
                    let (email, body, purposes, values) = submission(&run, i);
                    let Ok(response) = client.post(&url).json(&body).send().await else { continue };
                    let status = response.status();
                    if !status.is_success() {
                        outcome.refused.push(status.as_u16());
                        continue;
                    }
                    // Acknowledged once the status line is in; a body cut short still counts.
                    acks.fetch_add(1, Ordering::SeqCst);
                    let subject_id = match response.json::<serde_json::Value>().await {
                        Ok(b) => b["subject_id"].as_str().unwrap_or_default().to_owned(),
                        Err(_) => String::new(),
                    };
                    outcome.acknowledged.push(Acknowledged { email, subject_id, purposes, values });
                }
                outcome
            })
        })
        .collect()
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<Outcome>>) -> Outcome {
    let mut all = Outcome::default();
    for task in tasks {
        let outcome = task.await.unwrap();
        all.acknowledged.extend(outcome.acknowledged);
        all.refused.extend(outcome.refused);
    }
    all
}

async fn wait_for_acks(acks: &AtomicUsize, at_least: usize) {
    // No time limit of its own: the clients' request timeouts bound it.
    while acks.load(Ordering::SeqCst) < at_least {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Every acknowledged submission is stored whole; no subject is stored in part; the ledger
/// verifies.
fn assert_all_acknowledged_present_and_nothing_partial(db: &TestDb, deployment: &Deployment, acked: &[Acknowledged]) {
    let keyring = assent::crypto::Keyring::load(Some(&deployment.master_key), &deployment.data_dir).unwrap();
    let mut conn = db.connect();
    let rows: std::collections::HashMap<String, SubjectRows> =
        rows_per_subject(&mut conn).into_iter().map(|r| (r.subject_id.clone(), r)).collect();
    for a in acked {
        let email = assent::domain::Email::parse(&a.email).unwrap();
        let subject = assent::db::subjects::find_by_index(&mut conn, &keyring.email_index(&email))
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged {} is missing", a.email));
        if !a.subject_id.is_empty() {
            assert_eq!(subject.id, a.subject_id, "{} is the subject the response named", a.email);
        }
        let r = &rows[&subject.id];
        assert_eq!(
            (r.submissions, r.field_values, r.events, r.states),
            (1, a.values, a.purposes, a.purposes),
            "acknowledged {} is stored whole",
            a.email
        );
    }
    for r in rows.values() {
        let has = [r.submissions > 0, r.events > 0, r.states > 0];
        assert!(has == [true; 3] || has == [false; 3], "a subject stored in part: {r:?}");
        assert_eq!(r.events, r.states, "one event per state row for a first submission: {r:?}");
    }
    assert_eq!(orphan_rows(&mut conn), 0, "no rows without their subject");
    deployment.assert_ledger_intact();
}

async fn killed_mid_burst_loses_nothing_acknowledged(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let deployment = Deployment::on(&db);
    let mut server = deployment.serve().await;

    let acks = Arc::new(AtomicUsize::new(0));
    let tasks = burst(&server.address, 10_000, acks.clone());
    wait_for_acks(&acks, 2_500).await;
    server.kill9();
    let outcome = collect(tasks).await;
    assert!(outcome.refused.is_empty(), "no submission was refused before the kill: {:?}", outcome.refused);
    assert!(outcome.acknowledged.len() >= 2_500);
    assert!(outcome.acknowledged.len() < 10_000, "the kill came mid-burst");
    eprintln!("{} of 10 000 submissions acknowledged before SIGKILL", outcome.acknowledged.len());

    let server = deployment.serve().await;
    assert_all_acknowledged_present_and_nothing_partial(&db, &deployment, &outcome.acknowledged);
    // The restarted server goes on writing on the same ledger.
    let after = reqwest::Client::new()
        .post(server.url("/api/v1/forms/newsletter/submissions"))
        .json(&json!({ "fields": { "email": unique_email() }, "purposes": ["service"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 201);
    deployment.assert_ledger_intact();
}

async fn sigterm_mid_burst_finishes_what_it_acknowledged_and_exits_0(backend: Backend) {
    let Some(db) = TestDb::create(backend) else { return };
    let deployment = Deployment::on(&db);
    let mut server = deployment.serve().await;

    let acks = Arc::new(AtomicUsize::new(0));
    let tasks = burst(&server.address, 2_000, acks.clone());
    wait_for_acks(&acks, 300).await;
    let status = server.terminate().await;
    let outcome = collect(tasks).await;
    assert!(status.success(), "assent serve exits 0 on SIGTERM: {status:?}\n{}", server.log_text());
    assert!(outcome.refused.is_empty(), "no submission was refused while stopping: {:?}", outcome.refused);
    assert!(outcome.acknowledged.len() >= 300);
    eprintln!("{} of 2 000 submissions acknowledged around SIGTERM", outcome.acknowledged.len());
    assert_all_acknowledged_present_and_nothing_partial(&db, &deployment, &outcome.acknowledged);
}

mod killed_with_sigkill_mid_burst_loses_no_acknowledged_submission {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        killed_mid_burst_loses_nothing_acknowledged(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() {
        killed_mid_burst_loses_nothing_acknowledged(Backend::Postgres).await
    }
}

mod stopped_with_sigterm_mid_burst_exits_0_and_keeps_every_acknowledged_submission {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        sigterm_mid_burst_finishes_what_it_acknowledged_and_exits_0(Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() {
        sigterm_mid_burst_finishes_what_it_acknowledged_and_exits_0(Backend::Postgres).await
    }
}
