//! `GET /admin`: the dashboard. Submissions per day, consents given and withdrawn per purpose,
//! and consents expiring per week, as server-drawn SVG charts with their numbers in tables.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::charts::{self, Chart};
use super::data_strings::DataStrings;
use super::{AdminError, Chrome, SignedIn};
use crate::domain::Locale;
use crate::services::console;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::pages::render;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    /// Rendered `<figure>`s (escaped by the renderer).
    charts: Vec<String>,
    doctor: Doctor,
    rights: RightsDue,
}

/// The rights desk's deadlines at a glance: (sentence, link to the list) for overdue requests
/// and for those due within a few days.
struct RightsDue {
    title: String,
    overdue: (String, String),
    soon: (String, String),
    /// Whether any is overdue (said as a warning, not only in colour).
    late: bool,
}

impl RightsDue {
    fn new((overdue, soon): (i64, i64), locale: Locale) -> Self {
        let c = crate::i18n::catalogue(locale);
        let link = |due: &str| format!("/admin/rights?lang={}&due={due}", locale.as_str());
        Self {
            title: c.text("desk-title"),
            overdue: (c.format("desk-dash-overdue", &[("count", overdue.into())]), link("overdue")),
            soon: (c.format("desk-dash-soon", &[("count", soon.into())]), link("soon")),
            late: overdue > 0,
        }
    }
}

/// The latest security check, in the reader's words.
struct Doctor {
    title: String,
    /// "Last run …", or that it never ran.
    when: String,
    /// That nothing was found (shown when `findings` is empty and it ran).
    none: Option<String>,
    /// (severity in words, severity code, problem, fix).
    findings: Vec<(String, &'static str, String, String)>,
}

impl Doctor {
    fn new(latest: Option<(chrono::NaiveDateTime, Vec<crate::domain::doctor::Finding>)>, locale: Locale) -> Self {
        let c = crate::i18n::catalogue(locale);
        let title = c.text("doctor-title");
        let Some((at, findings)) = latest else {
            return Self { title, when: c.text("doctor-never"), none: None, findings: Vec::new() };
        };
        let at = at.format("%Y-%m-%d %H:%M").to_string();
        let when = c.format("doctor-last-run", &[("at", at.into())]);
        let none = findings.is_empty().then(|| c.text("doctor-none"));
        let findings = crate::services::doctor::say(&findings, locale)
            .into_iter()
            .map(|s| (s.severity_said, s.severity, s.problem, s.fix))
            .collect();
        Self { title, when, none, findings }
    }
}

/// The dashboard page.
pub async fn page(req: HttpRequest, who: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let catalog = state.catalog.current();
    let purposes: Vec<String> = catalog.purposes.keys().cloned().collect();
    let pool = state.db.pool.clone();
    let numbers = web::block(move || -> Result<_, AppError> {
        let mut conn = pool.get()?;
        let latest = crate::services::doctor::latest(&mut conn).map_err(AppError::Internal)?;
        let due = crate::services::rights_desk::deadline_counts(&mut conn, crate::services::rights_desk::now())?;
        Ok((console::dashboard(&mut conn, &purposes, Utc::now())?, latest, due))
    })
    .await
    .map_err(|e| AdminError::new(e, who.locale))?
    .map_err(|e| AdminError::new(e, who.locale))?;
    let (numbers, latest, due) = numbers;
    let doctor = Doctor::new(latest, who.locale);
    let rights = RightsDue::new(due, who.locale);
    let d = DataStrings::get(who.locale);
    let per_day = Chart {
        id: "chart-per-day",
        title: d.dash_per_day,
        series: vec![d.series_submissions],
        groups: numbers.per_day.iter().map(|(day, n)| (day.format("%m-%d").to_string(), vec![*n])).collect(),
        label_header: d.col_day,
        label_every: 7,
    };
    let per_purpose = Chart {
        id: "chart-per-purpose",
        title: d.dash_per_purpose,
        series: vec![d.series_granted, d.series_withdrawn],
        groups: numbers
            .per_purpose
            .iter()
            .map(|(p, g, w)| (crate::web::pages::purpose_title(&catalog, p, who.locale), vec![*g, *w]))
            .collect(),
        label_header: d.col_purpose,
        label_every: 1,
    };
    let expiring = Chart {
        id: "chart-expiring",
        title: d.dash_expiring,
        series: vec![d.series_expiring],
        groups: numbers.expiring.iter().map(|(week, n)| (week.format("%m-%d").to_string(), vec![*n])).collect(),
        label_header: d.col_week,
        label_every: 2,
    };
    let charts = [per_day, per_purpose, expiring].iter().map(charts::render).collect();
    Ok(render(&DashboardPage { c: who.chrome(&req, "dashboard"), charts, doctor, rights }))
}
