//! One's own account: the password changed with the current one (every other session ends, a mail
//! tells the account), and the list of one's sessions, any other one or all of them signed out.

use crate::admin_helpers::PASSWORD;
use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;

const NEW_PASSWORD: &str = "another long and new password";

on_both_backends! {
    async fn a_password_is_changed_with_the_current_one_and_other_sessions_end(app: TestApp) {
        let email = app.owner(Role::Analyst);
        let (here, elsewhere) = (app.console(), app.console());
        assert_eq!(here.sign_in(&email, PASSWORD).await.status(), 303);
        assert_eq!(elsewhere.sign_in(&email, PASSWORD).await.status(), 303);

        let wrong = here.submit("/admin/account/password?lang=en", &[("current", "not it at all, sorry"), ("new", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(wrong.status(), 422);
        let page = wrong.text().await.unwrap();
        assert!(page.contains("This is not your current password.") && page.contains(r#"aria-describedby="field-current-error""#));
        let short = here.submit("/admin/account/password?lang=en", &[("current", PASSWORD), ("new", "short"), ("again", "short")]).await;
        assert_eq!(short.status(), 422);
        assert!(short.text().await.unwrap().contains(r#"id="field-new-error""#));
        assert_eq!(app.console().sign_in(&email, PASSWORD).await.status(), 303, "nothing changed yet");

        let changed = here.submit("/admin/account/password?lang=en", &[("current", PASSWORD), ("new", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(changed.status(), 200);
        assert!(changed.text().await.unwrap().contains("Your password is changed"));
        assert_eq!(here.get("/admin?lang=en").await.status(), 200, "this session stays");
        assert_eq!(elsewhere.get("/admin?lang=en").await.status(), 303, "every other one ended");
        let mail = app.wait_for_mail(&email, "was changed").await;
        assert!(mail.text.contains("If this was not you"), "{}", mail.text);
        assert_eq!(app.console().sign_in(&email, PASSWORD).await.status(), 401);
        assert_eq!(app.console().sign_in(&email, NEW_PASSWORD).await.status(), 303);
    }

    async fn ones_sessions_are_listed_and_others_signed_out(app: TestApp) {
        let email = app.owner(Role::Editor);
        let (here, phone, laptop) = (app.console(), app.console(), app.console());
        for console in [&here, &phone, &laptop] {
            assert_eq!(console.sign_in(&email, PASSWORD).await.status(), 303);
        }
        let page = here.page("/admin/account?lang=en").await;
        assert_eq!(page.matches("/admin/account/sessions/").count(), 3, "two others to end, and all of them: {page}");
        assert!(page.contains("this session"));
        let handle = page.split("/admin/account/sessions/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        assert_eq!(handle.len(), 16);
        assert_eq!(here.submit(&format!("/admin/account/sessions/{handle}/end?lang=en"), &[]).await.status(), 303);
        let alive = [phone.get("/admin?lang=en").await.status(), laptop.get("/admin?lang=en").await.status()];
        assert_eq!(alive.iter().filter(|s| s.as_u16() == 303).count(), 1, "exactly one ended: {alive:?}");
        assert_eq!(here.submit("/admin/account/sessions/others/end?lang=en", &[]).await.status(), 303);
        assert_eq!(phone.get("/admin?lang=en").await.status(), 303);
        assert_eq!(laptop.get("/admin?lang=en").await.status(), 303);
        assert_eq!(here.get("/admin/account?lang=en").await.status(), 200, "never one's own");
        // Another account's session cannot be named from here.
        let other = app.signed_in(Role::Owner).await;
        let theirs = other.page("/admin/account?lang=en").await;
        let their_handle = theirs.split("this session").count();
        assert_eq!(their_handle, 2);
        assert_eq!(here.submit("/admin/account/sessions/others/end?lang=en", &[]).await.status(), 303);
        assert_eq!(other.get("/admin?lang=en").await.status(), 200, "only one's own sessions end");
    }

    async fn a_forgotten_password_is_reset_by_a_mailed_link_and_nobody_learns_which_addresses_exist(app: TestApp) {
        let email = app.owner(Role::Editor);
        let before = app.console();
        assert_eq!(before.sign_in(&email, PASSWORD).await.status(), 303);
        let guest = app.console();
        assert!(guest.page("/admin/login?lang=en").await.contains("/admin/password/reset?lang=en"));
        let bad = guest.post("/admin/password/reset?lang=en", &[("email", "nobody")]).await;
        assert_eq!(bad.status(), 422);
        assert!(bad.text().await.unwrap().contains(r#"aria-describedby="field-email-error""#));

        let unknown = guest.post("/admin/password/reset?lang=en", &[("email", &unique_email())]).await;
        let known = guest.post("/admin/password/reset?lang=en", &[("email", &email)]).await;
        assert_eq!((unknown.status(), known.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
        let (unknown, known) = (unknown.text().await.unwrap(), known.text().await.unwrap());
        assert_eq!(unknown, known, "the same page for an address with and without an account");
        assert!(known.contains("If an account has this address"));

        let mail = app.wait_for_mail(&email, "new password").await;
        assert!(mail.text.contains("15 minutes"), "{}", mail.text);
        let link = mail.link("/admin/password");
        let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let set = guest.post("/admin/password?lang=en", &[("token", &token), ("password", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(set.status(), 200);
        assert_eq!(before.get("/admin?lang=en").await.status(), 303, "every session of the account ended");
        assert_eq!(app.console().sign_in(&email, NEW_PASSWORD).await.status(), 303);
        assert_eq!(guest.get(&link).await.status(), 410, "used once");
    }

    async fn past_the_hashing_slots_a_sign_in_is_refused_at_once_not_queued(app: TestApp) {
        let email = app.owner(Role::Analyst);
        // Every slot taken, as a flood of sign-ins would take them.
        let slots = app.state.limits.password_hashing.clone();
        let taken = slots.clone().acquire_many_owned(slots.available_permits() as u32).await.unwrap();
        let busy = app.console().sign_in(&email, PASSWORD).await;
        assert_eq!(busy.status(), 503);
        drop(taken);
        assert_eq!(app.console().sign_in(&email, PASSWORD).await.status(), 303, "a free slot signs in");
    }
}
