//! A team in the console: an owner invites a colleague as analyst by e-mail; the colleague sets a
//! password through the single-use link, sees the dashboard and is refused every page and export
//! of people's data; the owner disables them and their session ends at once; enabling, role
//! changes, the refusals (oneself, the last owner) and the CLI's `owner list|disable|enable`.

use crate::admin_helpers::PASSWORD;
use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;

const NEW_PASSWORD: &str = "a long new password for the analyst";

fn id_of(app: &TestApp, email: &str) -> String {
    use assent::db::schema::owners;
    use diesel::prelude::*;
    owners::table.filter(owners::email.eq(email)).select(owners::id).first(&mut app.conn()).unwrap()
}

on_both_backends! {
    async fn an_invited_analyst_sees_the_dashboard_only_and_is_signed_out_when_disabled(app: TestApp) {
        let owner = app.signed_in(Role::Owner).await;
        let colleague = unique_email();
        let bad = owner.submit("/admin/team?lang=en", &[("email", "not an address"), ("role", "analyst")]).await;
        assert_eq!(bad.status(), 422);
        assert!(bad.text().await.unwrap().contains(r#"aria-describedby="field-email-error""#));
        let invited = owner.submit("/admin/team?lang=en", &[("email", &colleague), ("role", "analyst")]).await;
        assert_eq!(invited.status(), 201);
        let page = invited.text().await.unwrap();
        assert!(page.contains("Invitation sent.") && page.contains(&colleague) && page.contains("invited (password not set yet)"));
        let again = owner.submit("/admin/team?lang=en", &[("email", &colleague), ("role", "editor")]).await;
        assert_eq!(again.status(), 422, "one account per address");

        // The mail names the role and carries the single-use link.
        let mail = app.wait_for_mail(&colleague, "invited").await;
        assert!(mail.text.contains("analyst (dashboard only)"), "{}", mail.text);
        let link = mail.link("/admin/password");
        let guest = app.console();
        // Invited, not yet able to sign in: the same answer as a wrong password.
        assert_eq!(guest.sign_in(&colleague, PASSWORD).await.status(), 401);
        assert!(guest.page(&link).await.contains(r#"autocomplete="new-password""#));
        let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let mismatch = guest.post("/admin/password?lang=en", &[("token", &token), ("password", NEW_PASSWORD), ("again", "something else entirely")]).await;
        assert_eq!(mismatch.status(), 422);
        assert!(mismatch.text().await.unwrap().contains("The two passwords differ."));
        let set = guest.post("/admin/password?lang=en", &[("token", &token), ("password", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(set.status(), 200);
        assert!(set.text().await.unwrap().contains("Your password is set."));
        assert_eq!(guest.get(&link).await.status(), 410, "the link works once");

        // Signed in: the dashboard, and nothing of anyone's data.
        assert_eq!(guest.sign_in(&colleague, NEW_PASSWORD).await.status(), 303);
        assert_eq!(guest.get("/admin?lang=en").await.status(), 200);
        for path in ["/admin/submissions", "/admin/submissions.csv", "/admin/consents.csv", "/admin/rights", "/admin/audit", "/admin/held", "/admin/team"] {
            assert_eq!(guest.get(&format!("{path}?lang=en")).await.status(), 403, "{path}");
        }

        // Disabled: the next request finds no session; the password no longer opens one.
        let id = id_of(&app, &colleague);
        assert_eq!(owner.submit(&format!("/admin/team/{id}/disable?lang=en"), &[]).await.status(), 303);
        let after = guest.get("/admin?lang=en").await;
        assert_eq!(after.status(), 303, "signed out at once");
        assert!(after.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
        assert_eq!(app.console().sign_in(&colleague, NEW_PASSWORD).await.status(), 401, "refused as unknown");
        // Enabled again, and made an editor: the builder opens.
        assert_eq!(owner.submit(&format!("/admin/team/{id}/enable?lang=en"), &[]).await.status(), 303);
        assert_eq!(owner.submit(&format!("/admin/team/{id}/role?lang=en"), &[("role", "editor")]).await.status(), 303);
        let back = app.console();
        assert_eq!(back.sign_in(&colleague, NEW_PASSWORD).await.status(), 303);
        assert_eq!(back.get("/admin/purposes/new?lang=en").await.status(), 200);
        assert!(owner.page("/admin/team?lang=en").await.contains("editor (purposes and forms)"));
    }

    async fn nobody_changes_their_own_account_and_the_last_owner_stays(app: TestApp) {
        let owner_email = app.owner(Role::Owner);
        let owner = app.console();
        assert_eq!(owner.sign_in(&owner_email, PASSWORD).await.status(), 303);
        let me = id_of(&app, &owner_email);
        for action in ["disable", "role"] {
            let refused = owner.submit(&format!("/admin/team/{me}/{action}?lang=en"), &[("role", "analyst")]).await;
            assert_eq!(refused.status(), 409, "{action}");
            assert!(refused.text().await.unwrap().contains("cannot change or disable your own account"));
        }
        // From the command line nobody is "oneself": the last enabled owner is what holds.
        let out = app.cli(&["owner", "disable", &owner_email]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("the last owner"));
        let second = app.owner(Role::Owner);
        let out = app.cli(&["owner", "disable", &owner_email]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(owner.get("/admin?lang=en").await.status(), 303, "their session ended");
        let listed = String::from_utf8(app.cli(&["owner", "list"]).stdout).unwrap();
        assert!(listed.lines().any(|l| l.contains(&owner_email) && l.contains("\tdisabled\t")), "{listed}");
        assert!(listed.lines().any(|l| l.contains(&second) && l.contains("\towner\tactive\toff\t")), "{listed}");
        assert!(app.cli(&["owner", "enable", &me]).status.success());
        assert_eq!(app.console().sign_in(&owner_email, PASSWORD).await.status(), 303);
        assert_eq!(app.cli(&["owner", "disable", "nobody@example.com"]).status.code(), Some(1));
    }
}
