//! Process metrics in the Prometheus text format, served at `/metrics` (see `web::ops`):
//! requests by route pattern and status class, request latency, submissions, consent events by
//! action, retention runs, consent checks answered from memory or not; the outbox backlog is read
//! from the database at each scrape.
//!
//! Labels are route patterns (`/f/{form}`), classes and actions only: never a path, a query or
//! anything a person typed. The registry is per process and lives for the process.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use std::sync::LazyLock;

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    submissions: IntCounter,
    consent_events: IntCounterVec,
    retention_runs: IntCounterVec,
    outbox_backlog: IntGauge,
    consent_cache_hits: IntCounter,
    consent_cache_misses: IntCounter,
    doctor_findings: IntGaugeVec,
}

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("assent_http_requests_total", "HTTP requests by method, route pattern and status class"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("assent_http_request_duration_seconds", "Time to answer an HTTP request")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )?;
        let submissions = IntCounter::new("assent_submissions_total", "Submissions recorded (form and API)")?;
        let consent_events = IntCounterVec::new(
            Opts::new("assent_consent_events_total", "Ledger events appended, by action"),
            &["action"],
        )?;
        let retention_runs =
            IntCounterVec::new(Opts::new("assent_retention_runs_total", "Retention runs by outcome"), &["outcome"])?;
        let outbox_backlog = IntGauge::new("assent_outbox_backlog", "Mails queued and not yet sent")?;
        let consent_cache = IntCounterVec::new(
            Opts::new(
                "assent_consent_checks_total",
                "Consent checks by source: `cache` (memory, exact) or `database` (nothing trustworthy cached)",
            ),
            &["source"],
        )?;
        let doctor_findings = IntGaugeVec::new(
            Opts::new(
                "assent_doctor_findings",
                "The security check's latest findings: 1 where found, by code and severity",
            ),
            &["code", "severity"],
        )?;
        registry.register(Box::new(doctor_findings.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(submissions.clone()))?;
        registry.register(Box::new(consent_events.clone()))?;
        registry.register(Box::new(retention_runs.clone()))?;
        registry.register(Box::new(outbox_backlog.clone()))?;
        registry.register(Box::new(consent_cache.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            submissions,
            consent_events,
            retention_runs,
            outbox_backlog,
            consent_cache_hits: consent_cache.with_label_values(&["cache"]),
            consent_cache_misses: consent_cache.with_label_values(&["database"]),
            doctor_findings,
        })
    }
}

/// `None` only if the metrics could not be registered (they are fixed, so never in practice):
/// then nothing is counted and nothing fails.
static METRICS: LazyLock<Option<Metrics>> =
    LazyLock::new(|| Metrics::new().map_err(|e| tracing::warn!(error = %e, "metrics unavailable")).ok());

/// One answered request. `route` is the matched pattern, or `None` when nothing matched.
pub fn observe_request(method: &str, route: Option<&str>, status: u16, seconds: f64) {
    if let Some(m) = METRICS.as_ref() {
        let route = route.unwrap_or("unmatched");
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        m.requests.with_label_values(&[method, route, class]).inc();
        m.latency.with_label_values(&[method, route]).observe(seconds);
    }
}

/// A submission was committed.
pub fn submission_recorded() {
    if let Some(m) = METRICS.as_ref() {
        m.submissions.inc();
    }
}

/// Ledger events appended (counted as written; a transaction that then rolls back is rare
/// enough not to matter for a rate).
pub fn consent_events<'a>(actions: impl IntoIterator<Item = &'a str>) {
    if let Some(m) = METRICS.as_ref() {
        for action in actions {
            m.consent_events.with_label_values(&[action]).inc();
        }
    }
}

/// A retention run ended: `ok`, `failed`, or `skipped` (another process held the lock).
pub fn retention_run(outcome: &str) {
    if let Some(m) = METRICS.as_ref() {
        m.retention_runs.with_label_values(&[outcome]).inc();
    }
}

/// The security check ran: every code is exported, 1 where found and 0 elsewhere.
pub fn doctor_ran(findings: &[crate::domain::doctor::Finding]) {
    if let Some(m) = METRICS.as_ref() {
        for code in crate::domain::doctor::Code::ALL {
            let found = findings.iter().any(|f| f.code == *code);
            m.doctor_findings.with_label_values(&[code.as_str(), code.severity().as_str()]).set(i64::from(found));
        }
    }
}

/// A consent check was answered from the cache (`true`) or from the database.
pub fn consent_check(from_cache: bool) {
    if let Some(m) = METRICS.as_ref() {
        if from_cache { &m.consent_cache_hits } else { &m.consent_cache_misses }.inc();
    }
}

/// The text exposition, with the outbox backlog as just read (if it could be).
pub fn render(outbox_backlog: Option<i64>) -> String {
    let Some(m) = METRICS.as_ref() else { return String::new() };
    if let Some(n) = outbox_backlog {
        m.outbox_backlog.set(n);
    }
    let mut out = Vec::new();
    if let Err(e) = prometheus::TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::warn!(error = %e, "could not encode metrics");
    }
    String::from_utf8(out).unwrap_or_default()
}
