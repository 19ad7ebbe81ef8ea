//! Many people at once, including the same person many times at once.

use crate::on_both_backends;

on_both_backends! {
    async fn sixty_four_concurrent_first_submissions_of_one_address_make_one_subject(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "marketing_email")]);
        let requests = (0..64).map(|_| app.post_form("/f/newsletter", &body));
        let statuses: Vec<u16> = futures_util::future::join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
        let [subjects, submissions, values, events, states] = app.row_counts();
        assert_eq!(subjects, 1);
        assert_eq!(submissions, 64);
        assert_eq!(values, 64);
        assert_eq!(events, 128);
        assert_eq!(states, 2);
        let out = app.cli(&["ledger", "verify"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    async fn many_different_people_at_once_are_all_recorded(app: TestApp) {
        let bodies: Vec<String> = (0..100).map(|_| form_body(&[("email", &unique_email()), ("purpose", "service")])).collect();
        let requests = bodies.iter().map(|b| app.post_form("/f/newsletter", b));
        let responses = futures_util::future::join_all(requests).await;
        assert!(responses.iter().all(|r| r.status() == 303));
        assert_eq!(app.row_counts(), [100, 100, 100, 100, 100]);
    }
}
