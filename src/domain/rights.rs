//! Data-subject rights: the kinds of request, the channels they arrive by, the states a request
//! moves through on the rights desk, and the legal deadline of each regime. All pure: the desk's
//! rules are functions of their inputs, tested here without a database.

use chrono::{DateTime, Days, Months, Utc};

use super::access::wire_enum;

wire_enum! {
    /// Which right a request exercises.
    RightKind {
        /// See what is held (GDPR art. 15, PIPA art. 35).
        Access = "access",
        /// Correct what is held (GDPR art. 16, PIPA art. 36).
        Rectification = "rectification",
        /// Delete what is held (GDPR art. 17, PIPA art. 36).
        Erasure = "erasure",
        /// Stop using it, but keep it (GDPR art. 18, PIPA art. 37).
        Restriction = "restriction",
        /// Object to a use (GDPR art. 21, PIPA art. 37).
        Objection = "objection",
        /// A copy to take elsewhere (GDPR art. 20, PIPA art. 35-2).
        Portability = "portability",
        /// Withdraw a consent (GDPR art. 7(3), PIPA art. 37).
        Withdrawal = "withdrawal",
        /// Giving (or giving again) a consent: self-service only.
        Consent = "consent",
    }
}

impl RightKind {
    /// The kinds a person may ask the rights desk for (every kind but giving consent, which
    /// is never a request: a person gives it themselves).
    pub const DESK: [RightKind; 7] = [
        Self::Access,
        Self::Rectification,
        Self::Erasure,
        Self::Restriction,
        Self::Objection,
        Self::Portability,
        Self::Withdrawal,
    ];

    /// What a person asks for from the preference center that it cannot do for them at once.
    pub const ASKED_AT_ME: [RightKind; 2] = [Self::Restriction, Self::Objection];

    /// A kind the desk takes (not `consent`).
    pub fn parse_desk(raw: &str) -> Option<Self> {
        Self::parse(raw).filter(|k| Self::DESK.contains(k))
    }
}

wire_enum! {
    /// How a request reached the desk.
    RequestChannel {
        /// A web page (the preference center).
        Web = "web",
        Email = "email",
        Phone = "phone",
        Letter = "letter",
        InPerson = "in_person",
        /// A ticketing system, through the API.
        Api = "api",
    }
}

wire_enum! {
    /// Where a request stands.
    RequestState {
        Received = "received",
        /// The requester was shown to be the person (or their representative).
        Verified = "verified",
        InProgress = "in_progress",
        /// More time was taken, with a reason the person was told.
        Extended = "extended",
        Completed = "completed",
        Refused = "refused",
    }
}

impl RequestState {
    /// Still to be answered.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Completed | Self::Refused)
    }

    /// The states a request can be in while open.
    pub const OPEN: [RequestState; 4] = [Self::Received, Self::Verified, Self::InProgress, Self::Extended];

    /// Where `step` takes a request in this state, or why it cannot.
    pub fn after(self, step: Step) -> Result<RequestState, StepRefusal> {
        use RequestState::*;
        if !self.is_open() {
            return Err(StepRefusal::Closed);
        }
        match (step, self) {
            (Step::Verify, Received) => Ok(Verified),
            (Step::Verify, _) => Err(StepRefusal::AlreadyVerified),
            (Step::Start, Verified) => Ok(InProgress),
            (Step::Start, Received) => Err(StepRefusal::NotVerified),
            (Step::Start, _) => Err(StepRefusal::AlreadyStarted),
            (Step::Extend, Verified | InProgress) => Ok(Extended),
            (Step::Extend, Received) => Err(StepRefusal::NotVerified),
            (Step::Extend, _) => Err(StepRefusal::AlreadyExtended),
            (Step::Complete, Received) => Err(StepRefusal::NotVerified),
            (Step::Complete, _) => Ok(Completed),
            // A request may be refused before identity is shown: failing to show it is a reason.
            (Step::Refuse, _) => Ok(Refused),
        }
    }
}

wire_enum! {
    /// What staff (or a ticketing system) do to a request.
    Step {
        Verify = "verify",
        Start = "start",
        Extend = "extend",
        Complete = "complete",
        Refuse = "refuse",
    }
}

impl Step {
    /// Steps the person must be given a reason for.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Extend | Self::Refuse)
    }

    /// Steps the person is written to about (the notice of an extension, the answer).
    pub fn tells_the_person(self) -> bool {
        matches!(self, Self::Extend | Self::Complete | Self::Refuse)
    }
}

/// Why a step cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StepRefusal {
    #[error("the request is already answered")]
    Closed,
    #[error("the requester's identity is already verified")]
    AlreadyVerified,
    #[error("verify the requester's identity first")]
    NotVerified,
    #[error("work on the request has already started")]
    AlreadyStarted,
    #[error("the deadline has already been extended once")]
    AlreadyExtended,
    #[error("this regime does not allow extending the deadline")]
    NoExtension,
    #[error("give a reason: the person is told it")]
    ReasonRequired,
}

/// How long a controller may take to answer: one regime per law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Deadline {
    /// GDPR art. 12(3): one month, extendable by two further months.
    #[default]
    Gdpr,
    /// PIPA (Korea) enforcement decree art. 41(4): ten days.
    Pipa,
    /// CCPA (Cal. Civ. Code § 1798.130(a)(2)): 45 days, extendable once by 45 more.
    Ccpa,
}

impl Deadline {
    pub const ALL: [Deadline; 3] = [Self::Gdpr, Self::Pipa, Self::Ccpa];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gdpr => "gdpr",
            Self::Pipa => "pipa",
            Self::Ccpa => "ccpa",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw.trim().to_ascii_lowercase())
    }

    /// When a request received at `received` must be answered.
    pub fn due(self, received: DateTime<Utc>) -> DateTime<Utc> {
        let due = match self {
            Self::Gdpr => received.checked_add_months(Months::new(1)),
            Self::Pipa => received.checked_add_days(Days::new(10)),
            Self::Ccpa => received.checked_add_days(Days::new(45)),
        };
        due.unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The deadline once extended (counted from receipt), or `None` where the law allows no
    /// extension by a fixed period (PIPA: a delay needs its own reason, told to the person, and
    /// ends as soon as the reason does; Assent does not model that as a new date).
    pub fn extended(self, received: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Gdpr => received.checked_add_months(Months::new(3)),
            Self::Pipa => None,
            Self::Ccpa => received.checked_add_days(Days::new(90)),
        }
    }
}

/// A request is "due soon" this many days before its deadline (the dashboard's count and the
/// assignee's reminder).
pub const DUE_SOON_DAYS: u64 = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn deadlines_follow_the_calendar() {
        let jan31 = Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap();
        assert_eq!(Deadline::Gdpr.due(jan31), Utc.with_ymd_and_hms(2026, 2, 28, 9, 0, 0).unwrap());
        assert_eq!(Deadline::Pipa.due(jan31), Utc.with_ymd_and_hms(2026, 2, 10, 9, 0, 0).unwrap());
        assert_eq!(Deadline::Ccpa.due(jan31), Utc.with_ymd_and_hms(2026, 3, 17, 9, 0, 0).unwrap());
    }

    #[test]
    fn extensions_are_counted_from_receipt() {
        let jan31 = Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap();
        assert_eq!(Deadline::Gdpr.extended(jan31), Some(Utc.with_ymd_and_hms(2026, 4, 30, 9, 0, 0).unwrap()));
        assert_eq!(Deadline::Ccpa.extended(jan31), Some(Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap()));
        assert_eq!(Deadline::Pipa.extended(jan31), None);
    }

    #[test]
    fn a_request_moves_only_forward() {
        use RequestState::*;
        assert_eq!(Received.after(Step::Verify), Ok(Verified));
        assert_eq!(Verified.after(Step::Start), Ok(InProgress));
        assert_eq!(InProgress.after(Step::Extend), Ok(Extended));
        assert_eq!(Extended.after(Step::Complete), Ok(Completed));
        assert_eq!(Extended.after(Step::Extend), Err(StepRefusal::AlreadyExtended));
        assert_eq!(Received.after(Step::Complete), Err(StepRefusal::NotVerified));
        assert_eq!(Received.after(Step::Refuse), Ok(Refused));
        assert_eq!(Completed.after(Step::Refuse), Err(StepRefusal::Closed));
        assert_eq!(Refused.after(Step::Verify), Err(StepRefusal::Closed));
        assert_eq!(Verified.after(Step::Verify), Err(StepRefusal::AlreadyVerified));
    }

    #[test]
    fn every_kind_but_consent_is_a_desk_kind() {
        assert_eq!(RightKind::parse_desk("restriction"), Some(RightKind::Restriction));
        assert_eq!(RightKind::parse_desk("consent"), None);
        assert_eq!(RightKind::DESK.len(), RightKind::ALL.len() - 1);
    }
}
