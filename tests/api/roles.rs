//! Every console route, walked as every role: the allowed set written out here, apart from the
//! table the server decides by (`domain::console_access`), so a route that opens to the wrong role,
//! or a new route nobody placed, fails here. Ids that name nothing are used where a route would
//! change something: an allowed request then answers 404 or 422, a refused one 403 before anything
//! is read.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;

const O: u8 = 1; // owner
const P: u8 = 2; // privacy officer
const E: u8 = 4; // editor
const A: u8 = 8; // analyst
const ALL: u8 = O | P | E | A;
const PEOPLE: u8 = O | P;

/// (method, path, who may).
const ROUTES: &[(&str, &str, u8)] = &[
    ("GET", "/admin", ALL),
    ("GET", "/admin/", ALL),
    ("GET", "/admin/purposes", ALL),
    ("POST", "/admin/purposes", O | E),
    ("GET", "/admin/purposes/new", O | E),
    ("GET", "/admin/purposes/service", ALL),
    ("POST", "/admin/purposes/nosuch", O | E),
    ("GET", "/admin/forms", ALL),
    ("POST", "/admin/forms", O | E),
    ("GET", "/admin/forms/newsletter", ALL),
    ("GET", "/admin/forms/newsletter/preview", ALL),
    ("GET", "/admin/forms/newsletter/embed", ALL),
    ("POST", "/admin/forms/nosuch/draft", O | E),
    ("POST", "/admin/forms/nosuch/preview", O | E),
    ("POST", "/admin/forms/nosuch/publish", O | E),
    ("GET", "/admin/languages", ALL),
    ("POST", "/admin/languages", O | E),
    ("GET", "/admin/submissions", PEOPLE),
    ("GET", "/admin/submissions/nosuch", PEOPLE),
    ("GET", "/admin/submissions.csv", PEOPLE),
    ("POST", "/admin/submissions", PEOPLE),
    ("POST", "/admin/submissions.csv", PEOPLE),
    ("GET", "/admin/consents.csv", PEOPLE),
    ("GET", "/admin/deidentified.csv", PEOPLE),
    ("GET", "/admin/rights", PEOPLE),
    ("GET", "/admin/rights/new", PEOPLE),
    ("POST", "/admin/rights/new", PEOPLE),
    ("GET", "/admin/rights/nosuch", PEOPLE),
    ("POST", "/admin/rights/nosuch/step", PEOPLE),
    ("POST", "/admin/rights/nosuch/assign", PEOPLE),
    ("GET", "/admin/rights/nosuch/letter", PEOPLE),
    ("GET", "/admin/rights/nosuch/export.json", PEOPLE),
    ("POST", "/admin/rights/nosuch/rectify", PEOPLE),
    ("POST", "/admin/rights/nosuch/withdraw", PEOPLE),
    ("POST", "/admin/rights/nosuch/erase", PEOPLE),
    ("GET", "/admin/audit", PEOPLE),
    ("GET", "/admin/access", PEOPLE),
    ("GET", "/admin/held", P),
    ("GET", "/admin/held/nosuch", P),
    ("GET", "/admin/imports", PEOPLE),
    ("POST", "/admin/imports", PEOPLE),
    ("GET", "/admin/imports/nosuch", PEOPLE),
    ("POST", "/admin/imports/nosuch/run", PEOPLE),
    ("GET", "/admin/imports/sheets/nosuch", PEOPLE),
    ("POST", "/admin/imports/sheets/nosuch", PEOPLE),
    ("GET", "/admin/imports/sheets/nosuch/mapping.toml", PEOPLE),
    ("GET", "/admin/webhooks", O),
    ("POST", "/admin/webhooks", O),
    ("POST", "/admin/webhooks/nosuch/change", O),
    ("POST", "/admin/webhooks/nosuch/rotate", O),
    ("POST", "/admin/webhooks/nosuch/remove", O),
    ("POST", "/admin/webhooks/nosuch/resume", O),
    ("POST", "/admin/webhooks/nosuch/deliveries/nosuch/resend", O),
    ("GET", "/admin/keys", O),
    ("POST", "/admin/keys", O),
    ("POST", "/admin/keys/nosuch/revoke", O),
    ("GET", "/admin/team", O),
    ("POST", "/admin/team", O),
    ("POST", "/admin/team/nosuch/role", O),
    ("POST", "/admin/team/nosuch/disable", O),
    ("POST", "/admin/team/nosuch/enable", O),
    ("POST", "/admin/team/nosuch/second-factor/remove", O),
    ("GET", "/admin/account", ALL),
    ("POST", "/admin/account/password", ALL),
    ("POST", "/admin/account/sessions/nosuch/end", ALL),
    ("POST", "/admin/account/sessions/others/end", ALL),
    ("GET", "/admin/account/two-factor", ALL),
    ("POST", "/admin/account/two-factor/start", ALL),
    ("POST", "/admin/account/two-factor/confirm", ALL),
    ("POST", "/admin/account/two-factor/recovery-codes", ALL),
    ("POST", "/admin/account/two-factor/off", ALL),
    ("GET", "/admin/login/code", ALL),
    ("POST", "/admin/login/code", ALL),
    ("POST", "/admin/logout", ALL),
];

fn bit(role: Role) -> u8 {
    match role {
        Role::Owner => O,
        Role::PrivacyOfficer => P,
        Role::Editor => E,
        Role::Analyst => A,
    }
}

on_both_backends! {
    async fn every_console_route_opens_to_exactly_the_roles_it_should(app: TestApp) {
        let mut wrong = Vec::new();
        for role in Role::ALL {
            let console = app.signed_in(role).await;
            // Signing out last, so the session serves the walk.
            for (method, path, who) in ROUTES.iter().filter(|r| r.1 != "/admin/logout").chain(ROUTES.iter().filter(|r| r.1 == "/admin/logout")) {
                let url = format!("{path}?lang=en");
                let status = match *method {
                    "GET" => console.get(&url).await.status().as_u16(),
                    _ => console.submit(&url, &[]).await.status().as_u16(),
                };
                let allowed = who & bit(role) != 0;
                if allowed == (status == 403) || status >= 500 {
                    wrong.push(format!("{} {method} {path}: {status}", role.as_str()));
                }
            }
        }
        assert!(wrong.is_empty(), "routes answering the wrong roles:\n{}", wrong.join("\n"));
    }

    async fn a_refused_role_sees_no_way_in_and_a_page_saying_why(app: TestApp) {
        let editor = app.signed_in(Role::Editor).await;
        let dashboard = editor.page("/admin?lang=ko").await;
        assert!(dashboard.contains("편집자") && dashboard.contains("/admin/forms?") && !dashboard.contains("/admin/submissions?"));
        let refused = editor.get("/admin/submissions?lang=ko").await;
        assert_eq!(refused.status(), 403);
        assert!(refused.text().await.unwrap().contains("현재 역할로는 열 수 없습니다"));
        let officer = app.signed_in(Role::PrivacyOfficer).await;
        let dashboard = officer.page("/admin?lang=en").await;
        assert!(dashboard.contains("/admin/held?") && dashboard.contains("/admin/rights?") && !dashboard.contains("/admin/keys?"));
    }
}
