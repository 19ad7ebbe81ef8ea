//! The rights desk in the console: staff enter a request that came by letter, work it through
//! its states, act for the person through the consent door (the request's id in the ledger's
//! evidence and the audit log), and print the answer in the person's language.

use crate::helpers::*;
use crate::on_both_backends;
use assent::domain::owner::Role;
use diesel::prelude::*;
use serde_json::{Value, json};

/// A person who asked for texts (marketing_sms) in Korean; their subject id.
async fn texted_person(app: &TestApp, email: &str) -> String {
    let body = json!({ "fields": { "email": email, "name": "Kim", "message": "Hi", "phone": "010-5555-6666" },
        "purposes": ["service", "marketing_sms"], "locale": "ko" });
    let response = app.post_json_as_integrator("/api/v1/forms/contact/submissions", &body).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["subject_id"].as_str().unwrap().to_owned()
}

/// The request id a 303 after entering or acting on a request points at.
fn request_id(response: &reqwest::Response) -> String {
    let location = response.headers()["location"].to_str().unwrap();
    location.trim_start_matches("/admin/rights/").split('?').next().unwrap().to_owned()
}

fn audit_details(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    use assent::db::schema::audit_log::dsl as a;
    a::audit_log
        .filter(a::subject_id.eq(subject))
        .order(a::occurred_at.asc())
        .select((a::action, a::detail))
        .load(&mut app.conn())
        .unwrap()
}

on_both_backends! {
    async fn staff_enter_a_letter_work_it_and_withdraw_for_the_person_through_the_door(app: TestApp) {
        let email = unique_email();
        let subject = texted_person(&app, &email).await;
        let staff = app.signed_in(Role::Owner).await;

        // Every refusal comes back on the form, next to its field, with what was typed kept.
        let refused = staff.submit("/admin/rights/new?lang=en", &[("kind", "withdrawal"), ("channel", "letter"), ("email", ""), ("detail", "Stop the texts")]).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains(r#"id="field-email-error""#) && html.contains("Stop the texts"), "{html}");
        let unknown = staff.submit("/admin/rights/new?lang=en", &[("kind", "withdrawal"), ("channel", "letter"), ("email", &unique_email())]).await;
        assert_eq!(unknown.status(), 422);
        assert!(unknown.text().await.unwrap().contains("No one with this address"));

        let entered = staff
            .submit("/admin/rights/new?lang=en", &[("kind", "withdrawal"), ("channel", "letter"), ("email", &email), ("detail", "문자 광고를 그만 보내 주세요"), ("regime", "pipa")])
            .await;
        assert_eq!(entered.status(), 303);
        let id = request_id(&entered);
        let page = staff.page(&format!("/admin/rights/{id}?lang=en")).await;
        assert!(page.contains("문자 광고를 그만 보내 주세요") && page.contains("Letter") && page.contains("Received"), "{page}");
        assert!(page.contains("PIPA: ten days"));
        app.state.access.flush().await;
        let viewed: i64 = assent::db::schema::access_records::table
            .filter(assent::db::schema::access_records::subject_id.eq(&subject))
            .filter(assent::db::schema::access_records::action.eq("view_person"))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(viewed, 1, "opening the request read the person's words: an access record");

        // The work list shows it; the self-service list (the API's read of the person, say) does not.
        let list = staff.page("/admin/rights?lang=en").await;
        assert!(list.contains(&format!("/admin/rights/{id}?lang=en")), "{list}");
        let own = staff.page("/admin/rights?lang=en&view=self_service").await;
        assert!(!own.contains(&format!("/admin/rights/{id}")));
        let none = staff.page("/admin/rights?lang=en&kind=erasure").await;
        assert!(!none.contains(&format!("/admin/rights/{id}?")), "filtered by kind");

        // Identity first; then staff withdraw the texts for the person.
        assert_eq!(staff.submit(&format!("/admin/rights/{id}/step?lang=en"), &[("step", "complete")]).await.status(), 409);
        assert_eq!(staff.submit(&format!("/admin/rights/{id}/step?lang=en"), &[("step", "verify")]).await.status(), 303);
        let withdrawn = staff.submit(&format!("/admin/rights/{id}/withdraw?lang=en"), &[("purpose", "marketing_sms")]).await;
        assert_eq!(withdrawn.status(), 303);
        let events = assent::db::ledger::for_subject(&mut app.conn(), &subject).unwrap();
        let last = events.last().unwrap();
        assert_eq!((last.purpose_key.as_str(), last.action.as_str(), last.method.as_str()), ("marketing_sms", "withdrawn", "admin"));
        assert_eq!(app.open_evidence(last).rights_request.as_deref(), Some(id.as_str()));
        let audited = audit_details(&app, &subject);
        assert!(audited.iter().any(|(action, detail)| action == "withdrawal" && detail.ends_with(&format!("(request {id})"))), "{audited:?}");
        // Staff acting for a request do not file a second request.
        let rows: i64 = assent::db::schema::rights_requests::table
            .filter(assent::db::schema::rights_requests::subject_id.eq(&subject))
            .filter(assent::db::schema::rights_requests::kind.eq("withdrawal"))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(rows, 1);

        // Refusing needs a reason, said next to it; completing answers the person in Korean.
        let bare = staff.submit(&format!("/admin/rights/{id}/step?lang=en"), &[("step", "refuse"), ("reason", " ")]).await;
        assert_eq!(bare.status(), 422);
        assert!(bare.text().await.unwrap().contains(r#"id="field-reason-error""#));
        assert_eq!(staff.submit(&format!("/admin/rights/{id}/step?lang=en"), &[("step", "complete")]).await.status(), 303);
        let answer = app.wait_for_mail(&email, "처리를 완료했습니다").await;
        assert!(answer.text.contains("동의 철회"), "{}", answer.text);
        let letter = staff.page(&format!("/admin/rights/{id}/letter?lang=en")).await;
        assert!(letter.contains(r#"<html lang="ko">"#) && letter.contains("처리를 완료했습니다"), "{letter}");
        let page = staff.page(&format!("/admin/rights/{id}?lang=en")).await;
        assert!(page.contains("Mark identity verified") && page.contains("Mark completed"), "the history names each step: {page}");
        assert!(!page.contains("/withdraw?"), "nothing more to do once answered");
    }

    async fn staff_erase_for_a_request_and_viewers_only_look(app: TestApp) {
        let email = unique_email();
        let subject = texted_person(&app, &email).await;
        let staff = app.signed_in(Role::Owner).await;
        let entered = staff.submit("/admin/rights/new?lang=ko", &[("kind", "erasure"), ("channel", "phone"), ("email", &email), ("verified", "yes")]).await;
        assert_eq!(entered.status(), 303);
        let id = request_id(&entered);
        let page = staff.page(&format!("/admin/rights/{id}?lang=ko")).await;
        assert!(page.contains("본인 확인 완료") && page.contains("전화"), "in words, in Korean: {page}");

        let viewer = app.signed_in(Role::Analyst).await;
        assert_eq!(viewer.get(&format!("/admin/rights/{id}?lang=en")).await.status(), 403, "no one's data for an analyst");
        assert_eq!(viewer.submit(&format!("/admin/rights/{id}/erase?lang=en"), &[("confirm", "yes")]).await.status(), 403);
        assert_eq!(viewer.get(&format!("/admin/rights/{id}/export.json")).await.status(), 403);

        let export = staff.get(&format!("/admin/rights/{id}/export.json")).await;
        assert_eq!(export.status(), 200);
        let held: Value = export.json().await.unwrap();
        assert_eq!(held["email"], email.as_str());

        let unconfirmed = staff.submit(&format!("/admin/rights/{id}/erase?lang=en"), &[]).await;
        assert_eq!(unconfirmed.status(), 422, "erasing needs its box ticked");
        let erased = staff.submit(&format!("/admin/rights/{id}/erase?lang=en"), &[("confirm", "yes")]).await;
        assert_eq!(erased.status(), 303);
        app.wait_for_mail(&email, "삭제되었습니다").await;
        let events = assent::db::ledger::for_subject(&mut app.conn(), &subject).unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.action, "erased");
        assert!(last.evidence.contains(&id), "the request names the erasure: {}", last.evidence);
        let page = staff.page(&format!("/admin/rights/{id}?lang=en")).await;
        assert!(page.contains("has been erased"), "{page}");
        assert_eq!(staff.submit(&format!("/admin/rights/{id}/step?lang=en"), &[("step", "complete")]).await.status(), 303);
        assert_eq!(staff.get("/admin/rights/nope?lang=en").await.status(), 404);
    }
}

on_both_backends! {
    async fn the_dashboard_counts_deadlines_and_the_assignee_is_reminded_once(app: TestApp) {
        use assent::db::schema::rights_requests::dsl as r;
        let email = unique_email();
        texted_person(&app, &email).await;
        let staff = app.signed_in(Role::Owner).await;
        let colleague = app.owner(Role::Owner);
        let enter = |kind: &'static str| {
            let (staff, email) = (&staff, email.clone());
            async move {
                let entered = staff.submit("/admin/rights/new?lang=en", &[("kind", kind), ("channel", "email"), ("email", &email), ("assignee", "")]).await;
                assert_eq!(entered.status(), 303);
                request_id(&entered)
            }
        };
        let (late, soon) = (enter("access").await, enter("objection").await);
        let now = chrono::Utc::now().naive_utc();
        let set_due = |id: &str, due: chrono::NaiveDateTime| {
            diesel::update(r::rights_requests.find(id)).set(r::due_at.eq(due)).execute(&mut app.conn()).unwrap();
        };
        set_due(&late, now - chrono::Duration::days(1));
        set_due(&soon, now + chrono::Duration::days(1));

        let dashboard = staff.page("/admin?lang=en").await;
        assert!(dashboard.contains("⚠ <a href=\"/admin/rights?lang=en&#38;due=overdue\">1 request overdue</a>"), "{dashboard}");
        assert!(dashboard.contains("1 request due within 3 days"));
        let overdue = staff.page("/admin/rights?lang=en&due=overdue").await;
        assert!(overdue.contains(&format!("/admin/rights/{late}?")) && !overdue.contains(&format!("/admin/rights/{soon}?")));

        // Handed to a colleague: they are reminded at the next hourly pass, once.
        let colleague_id: String = assent::db::schema::owners::table
            .filter(assent::db::schema::owners::email.eq(&colleague))
            .select(assent::db::schema::owners::id)
            .first(&mut app.conn())
            .unwrap();
        let assigned = staff.submit(&format!("/admin/rights/{soon}/assign?lang=en"), &[("assignee", &colleague_id)]).await;
        assert_eq!(assigned.status(), 303);
        let bad = staff.submit(&format!("/admin/rights/{soon}/assign?lang=en"), &[("assignee", "nobody-here")]).await;
        assert_eq!(bad.status(), 422);
        assert!(app.cli(&["retention", "run"]).status.success());
        let reminder = app.wait_for_mail(&colleague, "A rights request is due").await;
        assert!(reminder.text.contains("objection to a use of your data"), "{}", reminder.text);
        assert!(reminder.text.contains(&format!("/admin/rights/{soon}")), "{}", reminder.text);
        assert!(app.cli(&["retention", "run"]).status.success());
        assert_eq!(app.mails_to(&colleague), 1, "reminded once");
        let mine = staff.page(&format!("/admin/rights?lang=en&assignee={colleague_id}")).await;
        assert!(mine.contains(&format!("/admin/rights/{soon}?")) && !mine.contains(&format!("/admin/rights/{late}?")));
    }
}
