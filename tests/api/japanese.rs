//! A person who reads Japanese: the interface speaks it on the public form, `/me`, the console
//! and in mail, and so do the demo workspace's own texts.

use crate::helpers::*;
use crate::on_both_backends;

/// The switcher of a page shown in `current`: every shipped language, the current one marked.
fn assert_switcher(html: &str, path: &str) {
    assert!(html.contains(r#"<nav class="lang" aria-label="言語">"#), "{html}");
    assert!(html.contains(r#"<span lang="ja" aria-current="true">日本語</span>"#), "{html}");
    assert!(html.contains(&format!(r#"<a href="{path}?lang=en" hreflang="en" lang="en">English</a>"#)), "{html}");
    assert!(html.contains(&format!(r#"<a href="{path}?lang=ko" hreflang="ko" lang="ko">한국어</a>"#)), "{html}");
}

on_both_backends! {
    async fn japanese_pages_speak_japanese(app: TestApp) {
        let form = app.get("/f/newsletter?lang=ja").await.text().await.unwrap();
        assert!(form.contains(r#"<html lang="ja">"#));
        assert!(form.contains("個人情報の利用目的への同意"), "{form}");
        assert!(form.contains("[必須]") && form.contains("(任意)"), "{form}");
        assert!(form.contains(">送信</button>"), "{form}");
        assert!(form.contains("ニュースレターの購読") && form.contains("お名前"), "the workspace's texts too: {form}");
        assert_switcher(&form, "/f/newsletter");

        let me = app.get("/me?lang=ja").await.text().await.unwrap();
        assert!(me.contains("あなたの情報と同意") && me.contains("ログイン用リンクを受け取る"), "{me}");
        assert_switcher(&me, "/me");

        let login = app.get("/admin/login?lang=ja").await.text().await.unwrap();
        assert!(login.contains("コンソールにログイン") && login.contains("パスワード"), "{login}");
        assert_switcher(&login, "/admin/login");
    }

    async fn a_person_who_chose_japanese_gets_japanese_mail(app: TestApp) {
        let email = unique_email();
        let body = form_body(&[("email", &email), ("purpose", "service"), ("purpose", "marketing_email")]);
        assert_eq!(app.post_form("/f/newsletter?lang=ja", &body).await.status(), 303);
        let mail = app.wait_for_mail(&email, "配信登録のご確認").await;
        assert!(mail.text.contains("次の内容の受け取りに同意されるかご確認ください"), "{}", mail.text);
        assert!(mail.text.contains("7日後に削除されます"), "{}", mail.text);
        assert!(mail.html.contains(r#"lang="ja""#), "{}", mail.html);
        assert!(mail.raw.contains("Content-Language: ja"), "RFC 3282: {}", mail.raw);
        assert!(mail.text.contains("メールでのお知らせ・特典の受け取り"), "the purpose's Japanese title: {}", mail.text);
    }
}
