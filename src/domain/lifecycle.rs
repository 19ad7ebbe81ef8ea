//! The consent lifecycle as a pure state machine: every consent change Assent makes is
//! [`next`]`(previous, transition, terms, now)`, which decides the new state, its expiry and
//! anchors, the ledger action, and whether a confirmation mail is needed. The consent door
//! (`services::consent`) loads the previous state, calls this, and hands the outcome to the one
//! writer (`db::consent::record`); nothing else decides what a consent becomes.
//!
//! Each rule that used to be written inline where a change happened is a named function here
//! (double opt-in, the 7-day lapse, the expiry on grant, confirm and renew, the reminder anchor,
//! "in force", who expires, "left with nothing is erased whole", the renewal window default, one
//! confirmation per hour, the session's idle limit), so a reader finds every consent rule in one
//! file with its tests.

use chrono::{Duration, NaiveDateTime};

use super::consent::{ConsentAction, ConsentStatus};
use super::purpose::Retention;

/// How long a consent given through a door that cannot tell who is asking waits for its
/// confirmation by mail before it lapses.
pub const CONFIRM_TTL: Duration = Duration::days(7);
/// A preference-center session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
/// ... and after this long in any case (a link signs in again).
pub const SESSION_ABSOLUTE: Duration = Duration::hours(8);
/// The renewal question goes out this many days before expiry unless the purpose says otherwise.
pub const DEFAULT_RENEWAL_WINDOW_DAYS: u32 = 30;

/// What the lifecycle needs to know about a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms<'a> {
    /// Needed for the service: withdrawing it means erasure.
    pub required: bool,
    /// It reaches the person (e-mail, SMS, push): double opt-in and the periodic reminder apply.
    pub reaches_person: bool,
    pub retention: Retention,
    /// How often a consent that reaches people is re-confirmed by notice (정보통신망법 art. 50(8)).
    pub notice_interval: Retention,
    /// The policy version in force now: what a new grant or request is recorded under.
    pub policy_version_id: &'a str,
}

/// The state of one purpose for one person. No row at all means "never asked".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub status: ConsentStatus,
    /// The wording this state rests on.
    pub policy_version_id: String,
    /// When the consent in force was given (or confirmed); `None` while not granted.
    pub granted_at: Option<NaiveDateTime>,
    /// Granted: when its data must be gone. Pending: when it lapses unconfirmed. Else `None`.
    pub expires_at: Option<NaiveDateTime>,
    /// Granted and reaching the person: when the periodic reminder was last due. Else `None`.
    pub notice_anchor_at: Option<NaiveDateTime>,
}

/// Every change a consent can go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// The person agreed, through a door that knows who they are (or under the rules of
    /// [`on_submission`]).
    Grant,
    /// A caller that vouches for the person (an integrator's API key) says they agreed again to
    /// the wording already in force: a fresh consent, with a new expiry.
    Reaffirm,
    /// The person agreed through a door that cannot tell who is asking: it waits for their
    /// confirmation by mail (double opt-in).
    Request,
    /// The person followed the confirmation link.
    Confirm,
    Withdraw,
    /// "Extend" in the renewal mail.
    Renew,
    /// "Don't extend" in the renewal mail: the consent ends now.
    DeclineRenewal,
    /// Retention: the period has run out.
    Expire,
    /// Retention: a request was not confirmed in time.
    Lapse,
    /// Retention: the periodic reminder was sent.
    Notify,
    /// The person's data is erased; a consent in force ends with it.
    Erase,
    /// A request carrying the Global Privacy Control signal (`Sec-GPC: 1`) named a purpose that
    /// sells or shares data: recorded as the person's opt-out (CCPA regulations § 7025),
    /// whatever the purpose's state was (never asked included).
    OptOut,
}

/// What a transition leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The ledger event's action.
    pub action: ConsentAction,
    /// The policy version the event is recorded under.
    pub policy_version_id: String,
    /// The state afterwards; `None` when the state row goes (erasure).
    pub next: Option<Standing>,
    /// A confirmation mail must go out (the consent waits for it).
    pub confirmation_needed: bool,
}

/// Why a transition cannot happen from the state it was asked of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the purpose is not in force")]
    NotGranted,
    #[error("the purpose is already granted")]
    AlreadyGranted,
    #[error("the purpose is required: withdrawing it means erasure")]
    RequiredPurpose,
    #[error("the purpose is not awaiting confirmation")]
    NotPending,
    #[error("the consent is not due for this")]
    NotDue,
    #[error("the consent has already ended")]
    Ended,
}

/// A consent "in force": granted, or awaiting confirmation. Values serving it are kept.
pub fn in_force(status: ConsentStatus) -> bool {
    matches!(status, ConsentStatus::Granted | ConsentStatus::Pending)
}

/// When a consent granted (or confirmed) at `now` expires.
pub fn expiry_on_grant(terms: &Terms<'_>, now: NaiveDateTime) -> NaiveDateTime {
    terms.retention.expires_at(now.and_utc()).naive_utc()
}

/// "Extend" adds one retention period to the current expiry (not to today: answering early
/// loses nothing).
pub fn expiry_on_renew(terms: &Terms<'_>, current: NaiveDateTime) -> NaiveDateTime {
    terms.retention.expires_at(current.and_utc()).naive_utc()
}

/// When a request made at `now` lapses unconfirmed.
pub fn lapses_at(now: NaiveDateTime) -> NaiveDateTime {
    now + CONFIRM_TTL
}

/// The periodic reminder's clock starts at the consent date, for purposes that reach people.
pub fn notice_anchor(terms: &Terms<'_>, now: NaiveDateTime) -> Option<NaiveDateTime> {
    terms.reaches_person.then_some(now)
}

/// Whether the periodic reminder is due for this consent at `now`.
pub fn notice_due(standing: &Standing, terms: &Terms<'_>, now: NaiveDateTime) -> bool {
    standing.status == ConsentStatus::Granted
        && terms.reaches_person
        && standing.expires_at.is_some_and(|e| e > now)
        && standing
            .notice_anchor_at
            .is_some_and(|anchor| anchor <= terms.notice_interval.before(now.and_utc()).naive_utc())
}

/// Whether retention ends this consent at `now` (granted past its period, or pending past its
/// lapse): "who expires".
pub fn due_to_end(standing: &Standing, now: NaiveDateTime) -> bool {
    in_force(standing.status) && standing.expires_at.is_some_and(|e| e <= now)
}

/// The transition retention applies to a consent that is [`due_to_end`].
pub fn ending_transition(status: ConsentStatus) -> Transition {
    if status == ConsentStatus::Pending { Transition::Lapse } else { Transition::Expire }
}

/// A person none of whose consents is in force is erased whole: nobody is kept without a purpose.
pub fn left_with_nothing<'a>(statuses: impl IntoIterator<Item = &'a ConsentStatus>) -> bool {
    !statuses.into_iter().any(|s| in_force(*s))
}

/// The renewal window of a purpose, in days (a stored value out of range means the default).
pub fn renewal_window_days(stored: i64) -> u32 {
    u32::try_from(stored).unwrap_or(DEFAULT_RENEWAL_WINDOW_DAYS)
}

/// At most one confirmation mail per person per hour, however often a form is sent: mails
/// queued in the same slot are one.
pub fn confirmation_slot(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%dT%H").to_string()
}

/// Whether a preference-center session last seen at `last_seen` is still alive at `now`.
pub fn session_alive(created: NaiveDateTime, last_seen: NaiveDateTime, ended: bool, now: NaiveDateTime) -> bool {
    !ended && now - last_seen < SESSION_IDLE && now - created < SESSION_ABSOLUTE
}

/// Who is submitting a form, as far as the door can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitter {
    /// The address is already on record (a returning person, or someone typing their address).
    pub known_person: bool,
    /// The caller is authenticated (an integrator's API key): it vouches for who the person is.
    pub verified: bool,
    /// The form asks for confirmation by mail of purposes that reach people.
    pub double_opt_in: bool,
    /// Under the form's minimum age: every purpose waits for a parent's or guardian's
    /// confirmation (PIPA art. 22-2, GDPR art. 8).
    pub guardian: bool,
}

/// What a ticked purpose on a submitted form does, if anything.
///
/// An unauthenticated submission cannot overturn what the person established: for an address
/// on record, anything they have a state for (withdrawn, expired, pending) and anything that
/// reaches them waits for their confirmation by mail whatever the form's `double_opt_in` says,
/// and a consent already granted is left alone (its expiry is never pushed out by someone who
/// only knows the address).
pub fn on_submission(previous: Option<&Standing>, terms: &Terms<'_>, who: Submitter) -> Option<Transition> {
    let granted = previous.is_some_and(|p| p.status == ConsentStatus::Granted);
    if who.guardian {
        return (!granted).then_some(Transition::Request);
    }
    if who.verified || !who.known_person {
        if granted && previous.is_some_and(|p| p.policy_version_id == terms.policy_version_id) {
            return who.verified.then_some(Transition::Reaffirm);
        }
        // Under double opt-in, a purpose this person has confirmed before is granted at once.
        return Some(if who.double_opt_in && terms.reaches_person && !granted {
            Transition::Request
        } else {
            Transition::Grant
        });
    }
    if granted {
        return None;
    }
    Some(if previous.is_some() || terms.reaches_person { Transition::Request } else { Transition::Grant })
}

/// The one transition function. See the module doc.
pub fn next(
    previous: Option<&Standing>,
    transition: Transition,
    terms: &Terms<'_>,
    now: NaiveDateTime,
) -> Result<Outcome, Refusal> {
    let status = previous.map_or(ConsentStatus::Never, |p| p.status);
    match transition {
        Transition::Grant => {
            if status == ConsentStatus::Granted
                && previous.is_some_and(|p| p.policy_version_id == terms.policy_version_id)
            {
                return Err(Refusal::AlreadyGranted);
            }
            Ok(granted(ConsentAction::Granted, terms.policy_version_id, terms, now))
        }
        Transition::Reaffirm => {
            previous.filter(|p| p.status == ConsentStatus::Granted).ok_or(Refusal::NotGranted)?;
            Ok(granted(ConsentAction::Granted, terms.policy_version_id, terms, now))
        }
        Transition::Request => request(status, terms, now),
        Transition::Confirm => confirm(previous, terms, now),
        Transition::Withdraw => {
            if terms.required {
                return Err(Refusal::RequiredPurpose);
            }
            if !in_force(status) {
                return Err(Refusal::NotGranted);
            }
            Ok(ended(previous, ConsentAction::Withdrawn))
        }
        Transition::Renew => {
            let p = open_for_renewal(previous, now)?;
            let expires = p.expires_at.map(|e| expiry_on_renew(terms, e));
            Ok(same(p, ConsentAction::Renewed, Standing { expires_at: expires, ..p.clone() }))
        }
        Transition::DeclineRenewal => {
            open_for_renewal(previous, now)?;
            Ok(ended(previous, ConsentAction::Expired))
        }
        Transition::Expire | Transition::Lapse => end_by_retention(previous, transition, now),
        Transition::Notify => notify(previous, terms, now),
        Transition::OptOut => opt_out(previous, terms),
        Transition::Erase => {
            if !in_force(status) {
                return Err(Refusal::NotGranted);
            }
            Ok(Outcome {
                action: ConsentAction::Erased,
                policy_version_id: held_version(previous),
                next: None,
                confirmation_needed: false,
            })
        }
    }
}

/// A Global Privacy Control opt-out: withdrawn from any state but withdrawn, dated by the
/// wording held (or, never asked, the wording shown).
fn opt_out(previous: Option<&Standing>, terms: &Terms<'_>) -> Result<Outcome, Refusal> {
    if previous.is_some_and(|p| p.status == ConsentStatus::Withdrawn) {
        return Err(Refusal::NotGranted);
    }
    let mut out = ended(previous, ConsentAction::Withdrawn);
    if previous.is_none() {
        out.policy_version_id = terms.policy_version_id.to_owned();
        out.next.iter_mut().for_each(|n| n.policy_version_id = terms.policy_version_id.to_owned());
    }
    Ok(out)
}

fn confirm(previous: Option<&Standing>, terms: &Terms<'_>, now: NaiveDateTime) -> Result<Outcome, Refusal> {
    let p = previous.filter(|p| p.status == ConsentStatus::Pending).ok_or(Refusal::NotPending)?;
    if p.expires_at.is_some_and(|e| e <= now) {
        return Err(Refusal::Ended);
    }
    // The wording confirmed is the wording the request was made under.
    Ok(granted(ConsentAction::Confirmed, &p.policy_version_id, terms, now))
}

fn notify(previous: Option<&Standing>, terms: &Terms<'_>, now: NaiveDateTime) -> Result<Outcome, Refusal> {
    let p = previous.filter(|p| p.status == ConsentStatus::Granted).ok_or(Refusal::NotGranted)?;
    if !notice_due(p, terms, now) {
        return Err(Refusal::NotDue);
    }
    Ok(same(p, ConsentAction::Notified, Standing { notice_anchor_at: Some(now), ..p.clone() }))
}

fn held_version(previous: Option<&Standing>) -> String {
    previous.map(|p| p.policy_version_id.clone()).unwrap_or_default()
}

/// A consent that ends (withdrawn, expired, lapsed, declined): no expiry, no reminder.
fn ended(previous: Option<&Standing>, action: ConsentAction) -> Outcome {
    let status = if action == ConsentAction::Withdrawn { ConsentStatus::Withdrawn } else { ConsentStatus::Expired };
    Outcome {
        action,
        policy_version_id: held_version(previous),
        next: Some(Standing {
            status,
            policy_version_id: held_version(previous),
            granted_at: None,
            expires_at: None,
            notice_anchor_at: None,
        }),
        confirmation_needed: false,
    }
}

fn request(status: ConsentStatus, terms: &Terms<'_>, now: NaiveDateTime) -> Result<Outcome, Refusal> {
    if status == ConsentStatus::Granted {
        return Err(Refusal::AlreadyGranted);
    }
    Ok(Outcome {
        action: ConsentAction::Pending,
        policy_version_id: terms.policy_version_id.to_owned(),
        next: Some(Standing {
            status: ConsentStatus::Pending,
            policy_version_id: terms.policy_version_id.to_owned(),
            granted_at: None,
            expires_at: Some(lapses_at(now)),
            notice_anchor_at: None,
        }),
        confirmation_needed: true,
    })
}

fn end_by_retention(
    previous: Option<&Standing>,
    transition: Transition,
    now: NaiveDateTime,
) -> Result<Outcome, Refusal> {
    let wanted = if transition == Transition::Lapse { ConsentStatus::Pending } else { ConsentStatus::Granted };
    let p = previous.filter(|p| p.status == wanted).ok_or(Refusal::NotGranted)?;
    if !due_to_end(p, now) {
        return Err(Refusal::NotDue);
    }
    Ok(ended(previous, ConsentAction::Expired))
}

fn granted(action: ConsentAction, version: &str, terms: &Terms<'_>, now: NaiveDateTime) -> Outcome {
    Outcome {
        action,
        policy_version_id: version.to_owned(),
        next: Some(Standing {
            status: ConsentStatus::Granted,
            policy_version_id: version.to_owned(),
            granted_at: Some(now),
            expires_at: Some(expiry_on_grant(terms, now)),
            notice_anchor_at: notice_anchor(terms, now),
        }),
        confirmation_needed: false,
    }
}

fn same(previous: &Standing, action: ConsentAction, next: Standing) -> Outcome {
    Outcome {
        action,
        policy_version_id: previous.policy_version_id.clone(),
        next: Some(next),
        confirmation_needed: false,
    }
}

/// Renewal answers count only while the consent is granted and has not expired yet.
fn open_for_renewal(previous: Option<&Standing>, now: NaiveDateTime) -> Result<&Standing, Refusal> {
    let p = previous.filter(|p| p.status == ConsentStatus::Granted).ok_or(Refusal::NotGranted)?;
    if p.expires_at.is_none_or(|e| e <= now) {
        return Err(Refusal::Ended);
    }
    Ok(p)
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
