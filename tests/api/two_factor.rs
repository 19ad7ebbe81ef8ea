//! The console's second factor, as a colleague meets it: with `ASSENT_REQUIRE_2FA` an invited
//! analyst sets up TOTP before anything else, then sees the dashboard and no one's data, and is
//! signed out at once when disabled; a code is good once; recovery codes work once each; an owner
//! removes a lost phone's factor; turning it off asks for the password; `keys rotate` re-wraps
//! the secret; disabling an account revokes the keys it made. The authenticator app is played
//! by `totp-rs` from the secret the page shows.

use crate::admin_helpers::{Console, PASSWORD, csrf_in};
use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;

const NEW_PASSWORD: &str = "a long new password for the analyst";
const SETUP: &str = "/admin/account/two-factor?lang=en";

fn secret_in(html: &str) -> String {
    let marker = r#"id="totp-secret">"#;
    let start = html.find(marker).expect("the secret is written out") + marker.len();
    html[start..].split('<').next().unwrap().replace(' ', "")
}

/// What the authenticator app shows at `at` (Unix seconds).
fn code_at(secret: &str, at: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "test".into()).unwrap();
    totp.generate(u64::try_from(at).unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn codes_in(html: &str) -> Vec<String> {
    html.split("<li><code>").skip(1).map(|rest| rest.split('<').next().unwrap().to_owned()).collect()
}

/// POSTs `pairs` to `action` with the CSRF token of the page at `from` (pages short of signed in
/// are not the dashboard, where `Console::submit` reads it).
async fn post_from(console: &Console, from: &str, action: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    let csrf = csrf_in(&console.page(from).await);
    let mut all = pairs.to_vec();
    all.push(("csrf", &csrf));
    console.post(action, &all).await
}

/// Sets up a second factor from the account page: a wrong code first, then the right one.
/// Returns the secret and the recovery codes shown.
async fn enrol(console: &Console) -> (String, Vec<String>) {
    let started = post_from(console, SETUP, "/admin/account/two-factor/start?lang=en", &[]).await;
    assert_eq!(started.status(), 303);
    let page = console.page(SETUP).await;
    assert!(page.contains(r#"src="data:image/svg+xml;base64,"#), "a QR code to scan");
    assert!(page.contains(r#"autocomplete="one-time-code""#));
    let secret = secret_in(&page);
    let stale = code_at(&secret, now() - 3600);
    let wrong = post_from(console, SETUP, "/admin/account/two-factor/confirm?lang=en", &[("code", &stale)]).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains(r#"aria-invalid="true""#), "the field says what is wrong");
    let right = code_at(&secret, now());
    let confirmed = post_from(console, SETUP, "/admin/account/two-factor/confirm?lang=en", &[("code", &right)]).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(confirmed.headers()["cache-control"], "no-store");
    let html = confirmed.text().await.unwrap();
    assert!(html.contains("Your recovery codes"), "{html}");
    let codes = codes_in(&html);
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// Waits for the next 30-second step, so that a code for it has not been used.
async fn next_step() -> i64 {
    let wait = 30 - now() % 30;
    tokio::time::sleep(std::time::Duration::from_secs(u64::try_from(wait).unwrap() + 1)).await;
    now()
}

fn id_of(app: &TestApp, email: &str) -> String {
    use assent::db::schema::owners;
    use diesel::prelude::*;
    owners::table.filter(owners::email.eq(email)).select(owners::id).first(&mut app.conn()).unwrap()
}

on_both_backends! {
    async fn an_invited_analyst_sets_up_a_second_factor_sees_counts_only_and_is_cut_off_when_disabled(app: TestApp) {
        let strict = app.another_server_with(|s| s.require_2fa = true).await;
        // The owner has no second factor yet: the password leads to setting one up, and nowhere else.
        let owner_email = app.owner(Role::Owner);
        let owner = app.console_at(&strict);
        let signed = owner.sign_in(&owner_email, PASSWORD).await;
        assert_eq!(signed.status(), 303);
        assert_eq!(location(&signed), SETUP);
        let elsewhere = owner.get("/admin/team?lang=en").await;
        assert_eq!(elsewhere.status(), 303, "every page leads back to setting up");
        assert_eq!(location(&elsewhere), SETUP);
        let page = owner.page(SETUP).await;
        assert!(page.contains("This workspace asks every account for a second factor"));
        let refused = owner.post("/admin/team?lang=en", &[("email", "x@example.com"), ("role", "analyst"), ("csrf", &csrf_in(&page))]).await;
        assert_eq!(refused.status(), 403, "nothing changes before the second factor");
        enrol(&owner).await;

        // The owner invites a colleague as analyst; the colleague sets a password from the mail.
        let colleague = unique_email();
        let invited = owner.submit("/admin/team?lang=en", &[("email", &colleague), ("role", "analyst")]).await;
        assert_eq!(invited.status(), 201);
        let link = app.wait_for_mail(&colleague, "invited").await.link("/admin/password");
        let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let analyst = app.console_at(&strict);
        let set = analyst.post("/admin/password?lang=en", &[("token", &token), ("password", NEW_PASSWORD), ("again", NEW_PASSWORD)]).await;
        assert_eq!(set.status(), 200);

        // First sign-in: set up the second factor, then the dashboard.
        let signed = analyst.sign_in(&colleague, NEW_PASSWORD).await;
        assert_eq!(location(&signed), SETUP);
        assert_eq!(analyst.get("/admin?lang=en").await.status(), 303);
        let (secret, _) = enrol(&analyst).await;
        assert!(analyst.page("/admin?lang=en").await.contains("analyst (dashboard only)"));
        for path in ["/admin/submissions", "/admin/submissions.csv", "/admin/consents.csv", "/admin/deidentified.csv", "/admin/rights", "/admin/audit", "/admin/held", "/admin/team", "/admin/keys", "/admin/imports"] {
            assert_eq!(analyst.get(&format!("{path}?lang=en")).await.status(), 403, "{path}");
        }
        assert!(owner.page("/admin/team?lang=en").await.contains("Remove (lost phone)"), "the team shows whose factor is on");

        // Signing in again asks for a code; each code opens one session.
        assert_eq!(analyst.submit("/admin/logout?lang=en", &[]).await.status(), 303);
        let signed = analyst.sign_in(&colleague, NEW_PASSWORD).await;
        assert_eq!(location(&signed), "/admin/login/code?lang=en");
        assert_eq!(location(&analyst.get("/admin?lang=en").await), "/admin/login/code?lang=en");
        let at = next_step().await;
        let code = code_at(&secret, at);
        let wrong = post_from(&analyst, "/admin/login/code?lang=en", "/admin/login/code?lang=en", &[("code", &code_at(&secret, at - 3600))]).await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.text().await.unwrap().contains("This code is not right."));
        let right = post_from(&analyst, "/admin/login/code?lang=en", "/admin/login/code?lang=en", &[("code", &code)]).await;
        assert_eq!(right.status(), 303);
        assert_eq!(location(&right), "/admin?lang=en");
        assert_eq!(analyst.get("/admin?lang=en").await.status(), 200);
        let thief = app.console_at(&strict);
        assert_eq!(location(&thief.sign_in(&colleague, NEW_PASSWORD).await), "/admin/login/code?lang=en");
        let replayed = post_from(&thief, "/admin/login/code?lang=en", "/admin/login/code?lang=en", &[("code", &code)]).await;
        assert_eq!(replayed.status(), 401, "a code is good once");

        // Disabled by the owner: the analyst's session ends at once.
        let id = id_of(&app, &colleague);
        assert_eq!(owner.submit(&format!("/admin/team/{id}/disable?lang=en"), &[]).await.status(), 303);
        let after = analyst.get("/admin?lang=en").await;
        assert_eq!(after.status(), 303);
        assert!(location(&after).starts_with("/admin/login?"), "signed out at once");
    }

    async fn recovery_codes_work_once_and_turning_the_factor_off_asks_for_the_password(app: TestApp) {
        let email = app.owner(Role::Owner);
        let console = app.console();
        assert_eq!(location(&console.sign_in(&email, PASSWORD).await), "/admin?lang=en", "no factor: straight in");
        assert!(console.page(SETUP).await.contains("No second factor is set up."));
        let (_, codes) = enrol(&console).await;
        assert_eq!(console.submit("/admin/logout?lang=en", &[]).await.status(), 303);

        let again = app.console();
        assert_eq!(location(&again.sign_in(&email, PASSWORD).await), "/admin/login/code?lang=en");
        let refused = again.post("/admin/keys?lang=en", &[("name", "crm")]).await;
        assert_eq!(refused.status(), 403, "the password alone changes nothing");
        let typed = codes[3].to_uppercase().replace('-', " ");
        let used = post_from(&again, "/admin/login/code?lang=en", "/admin/login/code?lang=en", &[("code", &typed)]).await;
        assert_eq!(used.status(), 303, "a recovery code, typed loosely, signs in");
        assert_eq!(location(&used), SETUP);
        let page = again.page(SETUP).await;
        assert!(page.contains("Unused recovery codes: <strong>9</strong>"), "{page}");

        let third = app.console();
        third.sign_in(&email, PASSWORD).await;
        let reused = post_from(&third, "/admin/login/code?lang=en", "/admin/login/code?lang=en", &[("code", &codes[3])]).await;
        assert_eq!(reused.status(), 401, "each recovery code works once");

        // New codes replace the old ones.
        let fresh = again.submit("/admin/account/two-factor/recovery-codes?lang=en", &[]).await;
        let fresh = codes_in(&fresh.text().await.unwrap());
        assert_eq!(fresh.len(), 10);
        let old = post_from(&third, "/admin/login/code?lang=en", "/admin/login/code?lang=en", &[("code", &codes[5])]).await;
        assert_eq!(old.status(), 401, "the old codes stopped working");

        // Off, with the password.
        let wrong = again.submit("/admin/account/two-factor/off?lang=en", &[("password", "not my password at all")]).await;
        assert_eq!(wrong.status(), 422);
        assert!(wrong.text().await.unwrap().contains("This is not your password."));
        let off = again.submit("/admin/account/two-factor/off?lang=en", &[("password", PASSWORD)]).await;
        assert_eq!(off.status(), 200);
        assert!(off.text().await.unwrap().contains("The second factor is off"));
        assert_eq!(location(&app.console().sign_in(&email, PASSWORD).await), "/admin?lang=en");
    }

    async fn an_owner_removes_a_lost_phones_factor_and_disabling_revokes_the_keys_an_account_made(app: TestApp) {
        let owner = app.signed_in(Role::Owner).await;
        let colleague_email = app.owner(Role::Owner);
        let colleague = app.console();
        colleague.sign_in(&colleague_email, PASSWORD).await;
        enrol(&colleague).await;
        let created = colleague.submit("/admin/keys?lang=en", &[("name", "crm"), ("scope", "consents:read")]).await;
        assert_eq!(created.status(), 201);
        let html = created.text().await.unwrap();
        let start = html.find("value=\"assent_").expect("the key is shown once") + "value=\"".len();
        let secret = html[start..].split('"').next().unwrap().to_owned();
        let lookup = format!("/api/v1/consents?email={}", unique_email());
        assert_eq!(app.client.get(app.url(&lookup)).bearer_auth(&secret).send().await.unwrap().status(), 200);

        let id = id_of(&app, &colleague_email);
        let removed = owner.submit(&format!("/admin/team/{id}/second-factor/remove?lang=en"), &[]).await;
        assert_eq!(removed.status(), 303);
        assert_eq!(colleague.get("/admin?lang=en").await.status(), 303, "their sessions ended");
        let back = app.console();
        assert_eq!(location(&back.sign_in(&colleague_email, PASSWORD).await), "/admin?lang=en", "the password alone, until they set one up again");

        assert_eq!(owner.submit(&format!("/admin/team/{id}/disable?lang=en"), &[]).await.status(), 303);
        let refused = app.client.get(app.url(&lookup)).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(refused.status(), 401, "the keys a disabled account made stop at once");
        let audit = owner.page("/admin/audit?lang=en").await;
        assert!(audit.contains("staff.second_factor_removed") && audit.contains("1 keys revoked"), "{audit}");
    }

    async fn a_rotated_master_key_still_opens_the_second_factor(app: TestApp) {
        use assent::crypto::MasterKeys;
        use assent::services::{keyring, rotation, second_factor};
        let email = app.owner(Role::Owner);
        let console = app.console();
        console.sign_in(&email, PASSWORD).await;
        let (secret, _) = enrol(&console).await;
        let id = id_of(&app, &email);
        let old: [u8; 32] = hex::decode(&app.master_key).unwrap().try_into().unwrap();
        let new: [u8; 32] = *uuid::Uuid::new_v4().as_bytes().repeat(2).first_chunk().unwrap();
        let mut conn = app.conn();
        let both = keyring::load(&mut conn, MasterKeys::new(new, Some(old))).unwrap();
        let pace = rotation::Pace { batch: 100, limit: None };
        let done = rotation::rotate(&mut conn, &both, pace, |_| {}).unwrap();
        assert!(done.finished && done.secrets >= 1, "{done:?}");
        let only_new = keyring::load(&mut conn, MasterKeys::new(new, None)).unwrap();
        let later = chrono::Utc::now() + chrono::Duration::minutes(5);
        let code = code_at(&secret, later.timestamp());
        let checked = second_factor::verify(&mut conn, &only_new, &id, &code, later.naive_utc()).unwrap();
        assert_eq!(checked, second_factor::Checked::Code, "the secret opens under the new key alone");
    }
}
