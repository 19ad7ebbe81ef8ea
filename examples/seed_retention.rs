//! Seeds a database with N people for the retention benchmark (`bench/retention.sh`), fast and
//! valid: real data keys, encrypted values, and a correctly chained ledger, as the service itself
//! would have written them.
//!
//! Each person has an e-mail and a phone number, `service` (3 years) and `marketing_sms`
//! (2 years) granted at `--granted-at`; `--due-percent` of them are back-dated a further 3 years,
//! so that a run "now" finds exactly that share due.
//!
//!     cargo run --release --example seed_retention -- sqlite:///tmp/r.db 1000000 --due-percent 100

use assent::crypto::Bound;
use assent::crypto::Keyring;
use assent::db::DbUrl;
use assent::db::consent::{StateWrite, Write};
use assent::db::ledger::NewEvent;
use assent::db::schema::{field_values, ledger_head, subjects, submissions};
use assent::db::subjects::{NewFieldValue, NewSubject, NewSubmission};
use assent::domain::ledger::ledger_time;
use assent::domain::lifecycle::Standing;
use chrono::{Duration, Utc};
use diesel::prelude::*;

const CHUNK: usize = 2_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = DbUrl::parse(args.get(1).map(String::as_str).unwrap_or("sqlite://data/retention.db"))?;
    let count: usize = args.get(2).map(|n| n.parse()).transpose()?.unwrap_or(1_000_000);
    let due_percent: usize = args
        .iter()
        .position(|a| a == "--due-percent")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100);
    let master = std::env::var("ASSENT_MASTER_KEY").map_err(|_| anyhow::anyhow!("set ASSENT_MASTER_KEY"))?;
    let keyring = Keyring::load(Some(&master), std::path::Path::new("."))?;

    url.migrate()?;
    let mut conn = url.connect()?;
    // What the server and the CLI do first when they open a database (the migrations leave a
    // marker for ciphertexts older than the binding to their rows): done here while the database
    // is empty, or the timed run would re-seal every seeded person (all sealed as today) first.
    assent::services::reseal::legacy_ciphertexts(&mut conn, &keyring)?;
    if url.is_sqlite() {
        // A fixture, not user data: no need for durable commits while seeding.
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "PRAGMA synchronous = OFF;")?;
    }
    let workspace = assent::services::workspace::WorkspaceFile::read(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assent.toml"
    )))?;
    assent::services::workspace::apply(&mut conn, &workspace)?;
    let catalog = assent::db::catalog::Catalog::load(&mut conn)?;
    let contact = catalog.form("contact").ok_or_else(|| anyhow::anyhow!("no contact form"))?.clone();
    let service = catalog.purpose("service").ok_or_else(|| anyhow::anyhow!("no service purpose"))?.clone();
    let sms = catalog.purpose("marketing_sms").ok_or_else(|| anyhow::anyhow!("no sms purpose"))?.clone();

    let now = ledger_time(Utc::now().naive_utc());
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < count {
        let n = CHUNK.min(count - done);
        conn.transaction::<_, anyhow::Error, _>(|conn| {
            let (seq, hash) =
                ledger_head::table
                    .find(1i64)
                    .select((ledger_head::seq, ledger_head::hash))
                    .first::<(i64, String)>(conn)?;
            let mut head = assent::db::LedgerHead { seq, hash };
            let mut people = Vec::with_capacity(n);
            for i in 0..n {
                let k = done + i;
                let due = k * 100 / count.max(1) < due_percent;
                let granted = if due { now - Duration::days(365 * 3 + 30) } else { now - Duration::days(1) };
                let id = assent::db::new_row_id();
                let email = assent::domain::Email::parse(&format!("person{k}@bench.example"))?;
                let (key, wrapped) = keyring.new_data_key(&id)?;
                let index = keyring.email_index(&email);
                let (email_id, phone_id) = (assent::db::new_row_id(), assent::db::new_row_id());
                let address_ct = key.seal(email.as_str().as_bytes(), Bound::Email { subject: &id, index: &index })?;
                let bound = Bound::Value { subject: &id, value_id: &email_id, field: "email" };
                let email_ct = key.seal(email.as_str().as_bytes(), bound)?;
                let phone = format!("010-{:04}-{:04}", k / 10_000 % 10_000, k % 10_000);
                let phone_ct =
                    key.seal(phone.as_bytes(), Bound::Value { subject: &id, value_id: &phone_id, field: "phone" })?;
                people.push((
                    id,
                    index,
                    wrapped,
                    address_ct,
                    (email_id, email_ct),
                    (phone_id, phone_ct),
                    granted,
                    assent::db::new_row_id(),
                ));
            }
            let subject_rows: Vec<NewSubject> = people
                .iter()
                .map(|p| NewSubject {
                    id: &p.0,
                    email_index: &p.1,
                    wrapped_key: Some(&p.2),
                    email_ciphertext: Some(&p.3),
                    locale: "en",
                    created_at: p.6.into(),
                })
                .collect();
            let submission_rows: Vec<NewSubmission> = people
                .iter()
                .map(|p| NewSubmission {
                    id: &p.7,
                    subject_id: &p.0,
                    form_version_id: &contact.version_id,
                    locale: "en",
                    created_at: p.6.into(),
                })
                .collect();
            let mut value_rows = Vec::with_capacity(n * 2);
            let mut writes = Vec::with_capacity(n * 2);
            for p in &people {
                for (field, purposes, (value_id, ct)) in [("email", "service", &p.4), ("phone", "marketing_sms", &p.5)]
                {
                    value_rows.push(NewFieldValue {
                        id: value_id,
                        submission_id: &p.7,
                        subject_id: &p.0,
                        field_key: field,
                        purposes,
                        ciphertext: ct,
                        created_at: p.6.into(),
                    });
                }
                for purpose in [&service, &sms] {
                    let event = NewEvent {
                        subject_id: &p.0,
                        purpose_key: purpose.key.as_str(),
                        action: "granted",
                        policy_version_id: &purpose.policy.id,
                        policy_text_hash: &purpose.policy.text_hash,
                        method: "form",
                        source: &p.7,
                        evidence: "{}",
                        occurred_at: p.6,
                        recorded_at: None,
                    };
                    let state = StateWrite::Insert(Standing {
                        status: assent::domain::ConsentStatus::Granted,
                        policy_version_id: purpose.policy.id.clone(),
                        granted_at: Some(p.6),
                        expires_at: Some(purpose.retention.expires_at(p.6.and_utc()).naive_utc()),
                        notice_anchor_at: (purpose.channel != assent::domain::Channel::None).then_some(p.6),
                    });
                    writes.push(Write { event, state });
                }
            }
            assent::insert_rows!(&mut *conn, subjects::table, &subject_rows)?;
            assent::insert_rows!(&mut *conn, submissions::table, &submission_rows)?;
            assent::insert_rows!(&mut *conn, field_values::table, &value_rows)?;
            assent::db::consent::record(&mut *conn, &mut head, &writes, &[] as &[&str])?;
            diesel::update(ledger_head::table.find(1i64))
                .set((ledger_head::seq.eq(head.seq), ledger_head::hash.eq(&head.hash)))
                .execute(conn)?;
            Ok(())
        })?;
        done += n;
        eprint!("\rseeded {done}/{count} ({:.0}s)", started.elapsed().as_secs_f64());
    }
    eprintln!();
    Ok(())
}
