//! Who may open what in the console: each route's permission, each role's permissions, decided
//! here and nowhere else. The console's sign-in extractor asks [`needed`] for every request and
//! refuses (403) what the role may not, before a handler reads anything; a route missing from the
//! table is refused to everyone (fail closed).

use super::owner::Role;

/// One thing a console route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Signed in at all (signing out).
    SignedIn,
    /// The dashboard: counts and charts, no one's data.
    SeeDashboard,
    /// Purposes, forms, languages, embedding, as they are.
    ReadWorkspace,
    /// Changing purposes, forms, fields, languages.
    EditWorkspace,
    /// Submissions, the rights desk, the audit log and access records: people's data.
    ReadPeople,
    /// Downloads of people's data (CSV, JSON exports, de-identified data).
    ExportPeople,
    /// Acting on people's data: rights-desk steps and acts, imports.
    ActForPeople,
    /// Data held under a statutory retention obligation (PIPA art. 21(3)).
    OpenHeld,
    /// API keys and webhooks (each opens people's data to another system).
    ManageIntegrations,
    /// The team: inviting, roles, disabling.
    ManageTeam,
}

impl Role {
    /// Whether this role may do `permission`.
    pub fn may(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            // Everything but the restricted store, which the law keeps apart for the officer.
            Role::Owner => permission != P::OpenHeld,
            Role::PrivacyOfficer => !matches!(permission, P::EditWorkspace | P::ManageIntegrations | P::ManageTeam),
            Role::Editor => matches!(permission, P::SignedIn | P::SeeDashboard | P::ReadWorkspace | P::EditWorkspace),
            Role::Analyst => matches!(permission, P::SignedIn | P::SeeDashboard | P::ReadWorkspace),
        }
    }
}

/// The permission a console route needs (`method`, actix's route pattern), or `None` for a route
/// this table does not know (refused) or that needs no sign-in (the sign-in page).
pub fn needed(method: &str, pattern: &str) -> Option<Permission> {
    use Permission as P;
    let read = matches!(method, "GET" | "HEAD");
    let section = pattern.trim_start_matches("/admin").trim_start_matches('/');
    let first = section.split(['/', '.']).next().unwrap_or_default();
    Some(match (first, read) {
        ("logout", false) | ("account", _) => P::SignedIn,
        ("login", _) if section == "login/code" => P::SignedIn,
        ("", true) => P::SeeDashboard,
        ("purposes", true) if section == "purposes/new" => P::EditWorkspace,
        ("purposes" | "forms" | "languages", true) => P::ReadWorkspace,
        ("purposes" | "forms" | "languages", false) => P::EditWorkspace,
        ("submissions" | "consents" | "deidentified", true) if section.contains(".csv") => P::ExportPeople,
        // A search by address, POSTed so that the address stays out of the URL.
        ("submissions", false) if section == "submissions.csv" => P::ExportPeople,
        ("submissions", false) if section == "submissions" => P::ReadPeople,
        ("rights", true) if section.ends_with("export.json") => P::ExportPeople,
        ("rights", true) if section == "rights/new" => P::ActForPeople,
        ("submissions" | "rights" | "audit" | "access" | "imports", true) => P::ReadPeople,
        ("rights" | "imports", false) => P::ActForPeople,
        ("held", true) => P::OpenHeld,
        ("keys" | "webhooks", _) => P::ManageIntegrations,
        ("team", _) => P::ManageTeam,
        _ => return None,
    })
}

/// What a console section's page needs to be opened (its navigation entry is shown only then).
pub fn to_open(section: &str) -> Permission {
    needed("GET", &format!("/admin/{section}")).unwrap_or(Permission::SeeDashboard)
}

/// What the changes offered on a section's page need (their buttons are shown only then); the
/// submissions page offers downloads.
pub fn to_change(section: &str) -> Option<Permission> {
    match section {
        "submissions" => Some(Permission::ExportPeople),
        _ => needed("POST", &format!("/admin/{section}/x")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    #[test]
    fn routes_need_what_they_touch() {
        assert_eq!(needed("GET", "/admin"), Some(P::SeeDashboard));
        assert_eq!(needed("GET", "/admin/"), Some(P::SeeDashboard));
        assert_eq!(needed("GET", "/admin/forms/{key}/embed"), Some(P::ReadWorkspace));
        assert_eq!(needed("POST", "/admin/forms/{key}/fields/{index}/move"), Some(P::EditWorkspace));
        assert_eq!(needed("GET", "/admin/purposes/new"), Some(P::EditWorkspace));
        assert_eq!(needed("GET", "/admin/submissions/{id}"), Some(P::ReadPeople));
        assert_eq!(needed("GET", "/admin/submissions.csv"), Some(P::ExportPeople));
        assert_eq!(needed("GET", "/admin/deidentified.csv"), Some(P::ExportPeople));
        assert_eq!(needed("GET", "/admin/rights/{id}/export.json"), Some(P::ExportPeople));
        assert_eq!(needed("POST", "/admin/rights/{id}/erase"), Some(P::ActForPeople));
        assert_eq!(needed("GET", "/admin/held/{subject}"), Some(P::OpenHeld));
        assert_eq!(needed("POST", "/admin/keys/{id}/revoke"), Some(P::ManageIntegrations));
        assert_eq!(needed("POST", "/admin/logout"), Some(P::SignedIn));
        assert_eq!(needed("GET", "/admin/unknown"), None, "fail closed");
        assert_eq!(needed("POST", "/admin/held/{subject}"), None, "nothing changes held data here");
    }

    #[test]
    fn roles_hold_what_their_work_needs() {
        assert!(Role::Analyst.may(P::SeeDashboard) && !Role::Analyst.may(P::ReadPeople));
        assert!(!Role::Analyst.may(P::ExportPeople) && !Role::Analyst.may(P::EditWorkspace));
        assert!(Role::Editor.may(P::EditWorkspace) && !Role::Editor.may(P::ReadPeople));
        assert!(!Role::Editor.may(P::ManageIntegrations));
        assert!(Role::PrivacyOfficer.may(P::OpenHeld) && Role::PrivacyOfficer.may(P::ExportPeople));
        assert!(!Role::PrivacyOfficer.may(P::EditWorkspace));
        assert!(Role::Owner.may(P::ManageIntegrations) && !Role::Owner.may(P::OpenHeld));
        assert!(Role::Owner.may(P::ManageTeam) && !Role::PrivacyOfficer.may(P::ManageTeam));
    }

    #[test]
    fn sections_open_and_change_with_their_routes() {
        assert_eq!(to_open("submissions"), P::ReadPeople);
        assert_eq!(to_open("keys"), P::ManageIntegrations);
        assert_eq!(to_change("purposes"), Some(P::EditWorkspace));
        assert_eq!(to_change("rights"), Some(P::ActForPeople));
        assert_eq!(to_change("audit"), None);
    }
}
