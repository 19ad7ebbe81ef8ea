//! The words of every mail Assent sends, in Korean and English.

use super::MailContent;
use crate::domain::Locale;

fn footer(locale: Locale) -> String {
    match locale.legacy() {
        crate::domain::locale::Legacy::En => "You receive this because this address was entered in a form that uses Assent. If that was not you, ignore this mail: nothing happens without your click.".into(),
        crate::domain::locale::Legacy::Ko => "이 주소가 Assent를 사용하는 양식에 입력되어 발송된 메일입니다. 본인이 아니라면 이 메일을 무시하세요. 클릭하지 않으면 아무 일도 일어나지 않습니다.".into(),
    }
}

/// The magic sign-in link for the preference center.
pub fn sign_in(locale: Locale, link: &str) -> MailContent {
    let (subject, body, action) = match locale.legacy() {
        crate::domain::locale::Legacy::En => (
            "Your link to manage your data",
            "Use this link to see, change, export or delete the data we hold about you and your consents. It works once and for 15 minutes.",
            "Open my privacy settings",
        ),
        crate::domain::locale::Legacy::Ko => (
            "내 정보 관리 링크",
            "아래 링크에서 보관 중인 내 정보와 동의 내역을 확인, 수정, 내려받기, 삭제할 수 있습니다. 링크는 15분 동안 한 번만 사용할 수 있습니다.",
            "내 개인정보 설정 열기",
        ),
    };
    MailContent {
        lang: locale.as_str(),
        subject: subject.into(),
        paragraphs: vec![body.into()],
        action: Some((action.into(), link.into())),
        footer: footer(locale),
    }
}

/// Double opt-in: confirm the purposes just ticked.
/// `changes` are the labels of fields whose held value a form would replace: the new values wait
/// for this confirmation too.
pub fn confirm_consent(
    locale: Locale,
    purposes: &[String],
    changes: &[String],
    link: &str,
    unsubscribe: &str,
) -> MailContent {
    let list = purposes.join(", ");
    let changed = changes.join(", ");
    let (subject, body, action, note) = match locale.legacy() {
        crate::domain::locale::Legacy::En => (
            "Please confirm your subscription".to_owned(),
            format!("Please confirm that you want to receive: {list}."),
            "Yes, I confirm",
            format!(
                "If you do nothing, nothing is sent and the details you entered for this are deleted after 7 days. Not you? Cancel here: {unsubscribe}"
            ),
        ),
        crate::domain::locale::Legacy::Ko => (
            "수신 동의를 확인해 주세요".to_owned(),
            format!("다음 항목의 수신에 동의하시는지 확인해 주세요: {list}."),
            "네, 동의합니다",
            format!(
                "확인하지 않으면 아무것도 발송되지 않으며, 이를 위해 입력하신 정보는 7일 후 삭제됩니다. 본인이 아니라면 여기에서 취소하세요: {unsubscribe}"
            ),
        ),
    };
    let mut paragraphs = Vec::with_capacity(3);
    if !purposes.is_empty() {
        paragraphs.push(body);
    }
    if !changes.is_empty() {
        paragraphs.push(match locale.legacy() {
            crate::domain::locale::Legacy::En => format!("New details were entered for you: {changed}. Confirming replaces what we hold."),
            crate::domain::locale::Legacy::Ko => {
                format!("회원님의 정보가 새로 입력되었습니다: {changed}. 확인하시면 보관 중인 정보가 바뀝니다.")
            }
        });
    }
    paragraphs.push(note);
    MailContent {
        lang: locale.as_str(),
        subject,
        paragraphs,
        action: Some((action.into(), link.into())),
        footer: footer(locale),
    }
}

/// Sent to the address just before it is forgotten.
pub fn erased(locale: Locale) -> MailContent {
    let (subject, body) = match locale.legacy() {
        crate::domain::locale::Legacy::En => (
            "Your data has been deleted",
            "As you asked, we have deleted all the personal data we held about you and destroyed the key that protected it. We keep only a record, naming no one, that a deletion took place. This is the last mail you receive from us at this address.",
        ),
        crate::domain::locale::Legacy::Ko => (
            "개인정보가 삭제되었습니다",
            "요청하신 대로 보관 중이던 개인정보를 모두 삭제하고 이를 보호하던 암호화 키를 파기했습니다. 누구인지 알 수 없는 삭제 기록만 남습니다. 이 주소로 보내는 마지막 메일입니다.",
        ),
    };
    MailContent {
        lang: locale.as_str(),
        subject: subject.into(),
        paragraphs: vec![body.into()],
        action: None,
        footer: footer(locale),
    }
}

/// What a renewal or notice mail says about one consent.
pub struct ConsentFacts<'a> {
    pub purpose: &'a str,
    pub wording: &'a str,
    pub held: &'a [String],
    pub since: &'a str,
    pub until: &'a str,
}

/// Before a consent expires: keep it or let it go (and the data with it).
pub fn renewal(locale: Locale, facts: &ConsentFacts<'_>, extend: &str, decline: &str) -> MailContent {
    let held = if facts.held.is_empty() { "-".to_owned() } else { facts.held.join(", ") };
    let (subject, lines, action) = match locale.legacy() {
        crate::domain::locale::Legacy::En => (
            format!("Keep \"{}\"? Your consent ends on {}", facts.purpose, facts.until),
            vec![
                format!("On {} you agreed to: {} ({})", facts.since, facts.purpose, facts.wording),
                format!("For this we hold: {held}. This consent ends on {}.", facts.until),
                "If you do nothing, it ends on that date and the data kept only for it is deleted automatically."
                    .to_owned(),
                format!("Don't extend (end it now and delete that data): {decline}"),
            ],
            "Extend for another period",
        ),
        crate::domain::locale::Legacy::Ko => (
            format!("\"{}\" 동의를 연장하시겠어요? {}에 만료됩니다", facts.purpose, facts.until),
            vec![
                format!("{}에 다음에 동의하셨습니다: {} ({})", facts.since, facts.purpose, facts.wording),
                format!("이를 위해 보관 중인 정보: {held}. 동의는 {}에 만료됩니다.", facts.until),
                "아무것도 하지 않으면 그날 동의가 끝나고 이 목적으로만 보관하던 정보는 자동으로 삭제됩니다.".to_owned(),
                format!("연장하지 않기 (지금 종료하고 정보 삭제): {decline}"),
            ],
            "한 번 더 연장하기",
        ),
    };
    MailContent {
        lang: locale.as_str(),
        subject,
        paragraphs: lines,
        action: Some((action.into(), extend.into())),
        footer: footer(locale),
    }
}

/// The periodic reminder of a marketing consent (정보통신망법 art. 50(8)): sender, date, what was
/// agreed, and how to withdraw.
pub fn marketing_notice(locale: Locale, sender: &str, facts: &ConsentFacts<'_>, withdraw: &str) -> MailContent {
    let (subject, lines, action) = match locale.legacy() {
        crate::domain::locale::Legacy::En => (
            format!("Reminder: you agree to receive \"{}\"", facts.purpose),
            vec![
                format!("Sender: {sender}"),
                format!("On {} you agreed to: {} ({}).", facts.since, facts.purpose, facts.wording),
                "You can withdraw at any time, with one click:".to_owned(),
            ],
            "Withdraw this consent",
        ),
        crate::domain::locale::Legacy::Ko => (
            format!("[안내] 광고성 정보 수신 동의 내역: {}", facts.purpose),
            vec![
                format!("전송자: {sender}"),
                format!("수신 동의 일자: {} · 동의 내용: {} ({})", facts.since, facts.purpose, facts.wording),
                "수신을 원하지 않으시면 언제든지 한 번의 클릭으로 철회할 수 있습니다:".to_owned(),
            ],
            "수신 동의 철회하기",
        ),
    };
    MailContent {
        lang: locale.as_str(),
        subject,
        paragraphs: lines,
        action: Some((action.into(), withdraw.into())),
        footer: footer(locale),
    }
}
