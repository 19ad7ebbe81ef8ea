use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

use super::*;
use crate::domain::consent::erasable;
use crate::domain::{PurposeKey, Retention};

fn t(day: u32, hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, day).and_then(|d| d.and_hms_opt(hour, 0, 0)).unwrap_or_default()
}

fn terms(required: bool, reaches: bool) -> Terms<'static> {
    Terms {
        required,
        reaches_person: reaches,
        retention: Retention::months(24),
        notice_interval: Retention::months(24),
        policy_version_id: "v2",
    }
}

fn standing(status: ConsentStatus, version: &str) -> Standing {
    Standing {
        status,
        policy_version_id: version.into(),
        granted_at: (status == ConsentStatus::Granted).then(|| t(1, 0)),
        expires_at: in_force(status).then(|| t(20, 0)),
        notice_anchor_at: None,
    }
}

#[test]
fn a_grant_expires_one_retention_period_later_and_starts_the_reminder_clock() {
    let out = next(None, Transition::Grant, &terms(false, true), t(1, 9)).unwrap();
    assert_eq!(out.action, ConsentAction::Granted);
    let s = out.next.unwrap();
    assert_eq!(s.status, ConsentStatus::Granted);
    assert_eq!(s.expires_at, t(1, 9).checked_add_months(chrono::Months::new(24)));
    assert_eq!(s.notice_anchor_at, Some(t(1, 9)));
    assert_eq!(s.policy_version_id, "v2");
    let quiet = next(None, Transition::Grant, &terms(false, false), t(1, 9)).unwrap();
    assert_eq!(quiet.next.unwrap().notice_anchor_at, None);
}

#[test]
fn a_request_waits_seven_days_and_asks_for_a_confirmation_mail() {
    let out = next(None, Transition::Request, &terms(false, true), t(1, 9)).unwrap();
    assert!(out.confirmation_needed);
    assert_eq!(out.action, ConsentAction::Pending);
    assert_eq!(out.next.unwrap().expires_at, Some(t(8, 9)));
}

#[test]
fn confirming_grants_under_the_wording_requested_not_todays() {
    let pending = Standing { expires_at: Some(t(8, 9)), ..standing(ConsentStatus::Pending, "v1") };
    let out = next(Some(&pending), Transition::Confirm, &terms(false, true), t(2, 9)).unwrap();
    assert_eq!(out.action, ConsentAction::Confirmed);
    assert_eq!(out.policy_version_id, "v1");
    assert_eq!(out.next.unwrap().granted_at, Some(t(2, 9)));
    assert_eq!(next(Some(&pending), Transition::Confirm, &terms(false, true), t(8, 9)), Err(Refusal::Ended));
    let granted = standing(ConsentStatus::Granted, "v1");
    assert_eq!(next(Some(&granted), Transition::Confirm, &terms(false, true), t(2, 9)), Err(Refusal::NotPending));
}

#[test]
fn withdrawing_needs_a_consent_in_force_and_never_a_required_purpose() {
    let granted = standing(ConsentStatus::Granted, "v1");
    let out = next(Some(&granted), Transition::Withdraw, &terms(false, false), t(2, 0)).unwrap();
    assert_eq!(out.action, ConsentAction::Withdrawn);
    assert_eq!(out.policy_version_id, "v1");
    assert_eq!(out.next.unwrap().expires_at, None);
    assert_eq!(next(Some(&granted), Transition::Withdraw, &terms(true, false), t(2, 0)), Err(Refusal::RequiredPurpose));
    let withdrawn = standing(ConsentStatus::Withdrawn, "v1");
    assert_eq!(next(Some(&withdrawn), Transition::Withdraw, &terms(false, false), t(2, 0)), Err(Refusal::NotGranted));
    assert_eq!(next(None, Transition::Withdraw, &terms(false, false), t(2, 0)), Err(Refusal::NotGranted));
}

#[test]
fn granting_again_under_the_same_wording_is_refused_but_a_new_wording_is_consent_again() {
    let granted = standing(ConsentStatus::Granted, "v2");
    assert_eq!(next(Some(&granted), Transition::Grant, &terms(false, false), t(2, 0)), Err(Refusal::AlreadyGranted));
    let older = standing(ConsentStatus::Granted, "v1");
    assert!(next(Some(&older), Transition::Grant, &terms(false, false), t(2, 0)).is_ok());
    assert_eq!(next(Some(&older), Transition::Request, &terms(false, true), t(2, 0)), Err(Refusal::AlreadyGranted));
}

#[test]
fn renewing_extends_from_the_current_expiry_and_only_before_it() {
    let granted = standing(ConsentStatus::Granted, "v1");
    let out = next(Some(&granted), Transition::Renew, &terms(false, false), t(10, 0)).unwrap();
    let expected = t(20, 0).checked_add_months(chrono::Months::new(24));
    assert_eq!(out.next.unwrap().expires_at, expected);
    assert_eq!(next(Some(&granted), Transition::Renew, &terms(false, false), t(20, 0)), Err(Refusal::Ended));
    let declined = next(Some(&granted), Transition::DeclineRenewal, &terms(false, false), t(10, 0)).unwrap();
    assert_eq!((declined.action, declined.next.unwrap().status), (ConsentAction::Expired, ConsentStatus::Expired));
}

#[test]
fn retention_ends_only_what_is_due_and_lapses_only_what_is_pending() {
    let granted = standing(ConsentStatus::Granted, "v1");
    assert_eq!(next(Some(&granted), Transition::Expire, &terms(false, false), t(19, 0)), Err(Refusal::NotDue));
    assert!(next(Some(&granted), Transition::Expire, &terms(false, false), t(20, 0)).is_ok());
    assert_eq!(next(Some(&granted), Transition::Lapse, &terms(false, false), t(20, 0)), Err(Refusal::NotGranted));
    let pending = standing(ConsentStatus::Pending, "v1");
    assert_eq!(ending_transition(pending.status), Transition::Lapse);
    assert!(next(Some(&pending), Transition::Lapse, &terms(false, false), t(21, 0)).is_ok());
    assert!(due_to_end(&pending, t(20, 0)));
    assert!(!due_to_end(&standing(ConsentStatus::Withdrawn, "v1"), t(25, 0)));
}

#[test]
fn the_reminder_is_due_one_interval_after_its_anchor_for_reaching_purposes_only() {
    let yearly = Terms { notice_interval: Retention::months(12), ..terms(false, true) };
    let mut granted = standing(ConsentStatus::Granted, "v1");
    granted.notice_anchor_at = Some(t(1, 0));
    granted.expires_at = t(1, 0).checked_add_months(chrono::Months::new(24));
    let a_year_on = t(1, 0).checked_add_months(chrono::Months::new(12)).unwrap_or_default();
    assert!(!notice_due(&granted, &yearly, a_year_on - chrono::Duration::seconds(1)));
    let out = next(Some(&granted), Transition::Notify, &yearly, a_year_on).unwrap();
    assert_eq!(out.next.unwrap().notice_anchor_at, Some(a_year_on));
    let quiet = Terms { reaches_person: false, ..yearly };
    assert_eq!(next(Some(&granted), Transition::Notify, &quiet, a_year_on), Err(Refusal::NotDue));
}

#[test]
fn erasure_ends_a_consent_in_force_and_leaves_no_state() {
    let out = next(Some(&standing(ConsentStatus::Pending, "v1")), Transition::Erase, &terms(true, false), t(2, 0));
    assert_eq!(out.map(|o| (o.action, o.next)), Ok((ConsentAction::Erased, None)));
    let ended = standing(ConsentStatus::Expired, "v1");
    assert_eq!(next(Some(&ended), Transition::Erase, &terms(false, false), t(2, 0)), Err(Refusal::NotGranted));
}

#[test]
fn an_unauthenticated_submission_cannot_overturn_what_the_person_established() {
    let stranger = Submitter { known_person: true, verified: false, double_opt_in: false, guardian: false };
    let quiet = terms(false, false);
    let reaching = terms(false, true);
    // Never asked, does not reach them: granted.
    assert_eq!(on_submission(None, &quiet, stranger), Some(Transition::Grant));
    // Reaches them, or they withdrew or let it expire: waits for their confirmation.
    assert_eq!(on_submission(None, &reaching, stranger), Some(Transition::Request));
    let withdrawn = standing(ConsentStatus::Withdrawn, "v1");
    assert_eq!(on_submission(Some(&withdrawn), &quiet, stranger), Some(Transition::Request));
    let expired = standing(ConsentStatus::Expired, "v1");
    assert_eq!(on_submission(Some(&expired), &quiet, stranger), Some(Transition::Request));
    // Granted already: left alone, its expiry not pushed out.
    let granted = standing(ConsentStatus::Granted, "v1");
    assert_eq!(on_submission(Some(&granted), &reaching, stranger), None);
}

#[test]
fn double_opt_in_asks_new_people_to_confirm_purposes_that_reach_them() {
    let new = Submitter { known_person: false, verified: false, double_opt_in: true, guardian: false };
    assert_eq!(on_submission(None, &terms(false, true), new), Some(Transition::Request));
    assert_eq!(on_submission(None, &terms(false, false), new), Some(Transition::Grant));
    let no_doi = Submitter { double_opt_in: false, ..new };
    assert_eq!(on_submission(None, &terms(false, true), no_doi), Some(Transition::Grant));
    // An integrator's key vouches for the person: a confirmed purpose is not asked again.
    let vouched = Submitter { known_person: true, verified: true, double_opt_in: true, guardian: false };
    let granted = standing(ConsentStatus::Granted, "v1");
    assert_eq!(on_submission(Some(&granted), &terms(false, true), vouched), Some(Transition::Grant));
    let current = standing(ConsentStatus::Granted, "v2");
    assert_eq!(on_submission(Some(&current), &terms(false, true), vouched), Some(Transition::Reaffirm));
    let out = next(Some(&current), Transition::Reaffirm, &terms(false, true), t(9, 0)).unwrap();
    assert_eq!(out.next.unwrap().granted_at, Some(t(9, 0)));
    assert_eq!(next(None, Transition::Reaffirm, &terms(false, true), t(9, 0)), Err(Refusal::NotGranted));
}

#[test]
fn under_the_minimum_age_every_purpose_waits_for_the_guardian() {
    let child = Submitter { known_person: false, verified: true, double_opt_in: false, guardian: true };
    assert_eq!(on_submission(None, &terms(true, false), child), Some(Transition::Request));
    assert_eq!(on_submission(None, &terms(false, false), child), Some(Transition::Request));
    let granted = standing(ConsentStatus::Granted, "v1");
    assert_eq!(on_submission(Some(&granted), &terms(false, true), child), None, "what stands is left alone");
}

#[test]
fn small_rules() {
    assert!(left_with_nothing(&[ConsentStatus::Withdrawn, ConsentStatus::Expired]));
    assert!(!left_with_nothing(&[ConsentStatus::Withdrawn, ConsentStatus::Pending]));
    assert_eq!(renewal_window_days(14), 14);
    assert_eq!(renewal_window_days(-1), DEFAULT_RENEWAL_WINDOW_DAYS);
    assert_eq!(confirmation_slot(t(3, 17)), confirmation_slot(t(3, 17) + chrono::Duration::minutes(59)));
    assert_ne!(confirmation_slot(t(3, 17)), confirmation_slot(t(3, 18)));
    assert!(session_alive(t(1, 0), t(1, 0), false, t(1, 0) + chrono::Duration::minutes(29)));
    assert!(!session_alive(t(1, 0), t(1, 0), false, t(1, 0) + SESSION_IDLE));
    assert!(!session_alive(t(1, 0), t(1, 0), true, t(1, 0)));
    // Used every few minutes, a session still ends eight hours after it was opened.
    let opened = t(1, 0);
    assert!(session_alive(opened, opened + chrono::Duration::hours(7), false, opened + chrono::Duration::hours(7)));
    assert!(!session_alive(opened, opened + chrono::Duration::hours(8), false, opened + SESSION_ABSOLUTE));
}

fn any_transition() -> impl Strategy<Value = Transition> {
    prop_oneof![
        Just(Transition::Grant),
        Just(Transition::Reaffirm),
        Just(Transition::Request),
        Just(Transition::Confirm),
        Just(Transition::Withdraw),
        Just(Transition::Renew),
        Just(Transition::DeclineRenewal),
        Just(Transition::Expire),
        Just(Transition::Lapse),
        Just(Transition::Notify),
        Just(Transition::Erase),
    ]
}

const PURPOSES: [&str; 3] = ["service", "marketing_email", "analytics"];
const VALUE_IDS: [&str; 4] = ["v0", "v1", "v2", "v3"];

proptest! {
    /// Random histories on random terms: replaying the ledger events reproduces the state row,
    /// no grant is left expiring at or before the moment it was written, and after each change
    /// no stored value is kept that no consent in force needs.
    #[test]
    fn the_ledger_replays_to_the_state_and_nothing_is_kept_without_a_purpose(
        steps in proptest::collection::vec((0usize..3, any_transition(), 0i64..400, 0usize..2), 1..40),
        required in proptest::collection::vec(any::<bool>(), 3),
        reaches in proptest::collection::vec(any::<bool>(), 3),
        months in proptest::collection::vec(1u32..30, 3),
    ) {
        let versions = ["v1", "v2"];
        let mut now = t(1, 0);
        let mut states: [Option<Standing>; 3] = [None, None, None];
        let mut replayed: [Option<Standing>; 3] = [None, None, None];
        // One value per purpose combination: serving 0, 1, 2 and 0+1.
        let keys: Vec<PurposeKey> = PURPOSES.iter().filter_map(|k| PurposeKey::parse(k).ok()).collect();
        let serves: Vec<Vec<PurposeKey>> = vec![
            vec![keys[0].clone()], vec![keys[1].clone()], vec![keys[2].clone()], vec![keys[0].clone(), keys[1].clone()],
        ];
        let mut stored: Vec<usize> = (0..serves.len()).collect();
        for (purpose, transition, hours, version) in steps {
            now += chrono::Duration::hours(hours * 24);
            let terms = Terms {
                required: required[purpose],
                reaches_person: reaches[purpose],
                retention: Retention::months(months[purpose]),
                notice_interval: Retention::months(12),
                policy_version_id: versions[version],
            };
            let Ok(out) = next(states[purpose].as_ref(), transition, &terms, now) else { continue };
            if let Some(s) = &out.next {
                prop_assert!(!(s.status == ConsentStatus::Granted && s.expires_at.is_none_or(|e| e <= now)));
                prop_assert!(s.status != ConsentStatus::Pending || s.expires_at.is_some_and(|e| e > now));
            }
            replayed[purpose] = replay(replayed[purpose].as_ref(), out.action, &out.policy_version_id, &terms, now);
            states[purpose] = out.next;
            prop_assert_eq!(&replayed[purpose], &states[purpose]);
            let held: Vec<PurposeKey> = (0..3)
                .filter(|&i| states[i].as_ref().is_some_and(|s| in_force(s.status)))
                .map(|i| keys[i].clone())
                .collect();
            let doomed = erasable(stored.iter().map(|&v| (VALUE_IDS[v], serves[v].as_slice())), &held);
            stored.retain(|&v| !doomed.contains(&VALUE_IDS[v]));
            for &v in &stored {
                prop_assert!(serves[v].iter().any(|p| held.contains(p)), "value {v} kept without a purpose in force");
            }
        }
    }
}

#[test]
fn a_global_privacy_control_signal_opts_out_whatever_the_state_once() {
    let never = next(None, Transition::OptOut, &terms(false, false), t(2, 9)).unwrap();
    assert_eq!(never.action, ConsentAction::Withdrawn);
    assert_eq!(never.policy_version_id, "v2", "never asked: dated by the wording shown");
    assert_eq!(never.next.as_ref().map(|s| s.status), Some(ConsentStatus::Withdrawn));
    let granted = standing(ConsentStatus::Granted, "v1");
    let out = next(Some(&granted), Transition::OptOut, &terms(false, false), t(2, 9)).unwrap();
    assert_eq!((out.action, out.policy_version_id.as_str()), (ConsentAction::Withdrawn, "v1"));
    assert_eq!(out.next.unwrap().expires_at, None);
    let withdrawn = standing(ConsentStatus::Withdrawn, "v1");
    assert_eq!(next(Some(&withdrawn), Transition::OptOut, &terms(false, false), t(2, 9)), Err(Refusal::NotGranted));
}

/// The state a ledger event leaves behind, read from the event alone (its action, the policy
/// version it names and its time), independently of [`next`]: replaying a person's events
/// through this gives the state rows the door wrote (checked by the property test above).
fn replay(
    previous: Option<&Standing>,
    action: ConsentAction,
    version: &str,
    terms: &Terms<'_>,
    at: NaiveDateTime,
) -> Option<Standing> {
    let ended = |status| Standing {
        status,
        policy_version_id: version.to_owned(),
        granted_at: None,
        expires_at: None,
        notice_anchor_at: None,
    };
    match action {
        ConsentAction::Granted | ConsentAction::Confirmed => Some(Standing {
            status: ConsentStatus::Granted,
            policy_version_id: version.to_owned(),
            granted_at: Some(at),
            expires_at: Some(terms.retention.expires_at(at.and_utc()).naive_utc()),
            notice_anchor_at: terms.reaches_person.then_some(at),
        }),
        ConsentAction::Pending => Some(Standing {
            status: ConsentStatus::Pending,
            policy_version_id: version.to_owned(),
            granted_at: None,
            expires_at: Some(at + CONFIRM_TTL),
            notice_anchor_at: None,
        }),
        ConsentAction::Withdrawn => Some(ended(ConsentStatus::Withdrawn)),
        ConsentAction::Expired => Some(ended(ConsentStatus::Expired)),
        ConsentAction::Renewed => previous.map(|p| Standing {
            expires_at: p.expires_at.map(|e| terms.retention.expires_at(e.and_utc()).naive_utc()),
            ..p.clone()
        }),
        ConsentAction::Notified => previous.map(|p| Standing { notice_anchor_at: Some(at), ..p.clone() }),
        ConsentAction::Erased => None,
    }
}
