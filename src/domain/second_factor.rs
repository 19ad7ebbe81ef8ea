//! The console's second factor and the way into a session, as pure rules: how far a session has
//! come, what recovery codes look like, and how long a run of failed sign-ins makes the next
//! attempt wait.

use chrono::Duration;

/// How far a console session has come. Only [`Stage::SignedIn`] opens the console; the other two
/// open one page each (the code, or setting up a second factor) and signing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    SignedIn,
    /// The password was right; a code from the authenticator (or a recovery code) is next.
    SecondFactor,
    /// `ASSENT_REQUIRE_2FA` and the account has no second factor: it sets one up first.
    Enrol,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed_in",
            Self::SecondFactor => "second_factor",
            Self::Enrol => "enrol",
        }
    }

    /// A stored stage; anything unknown opens nothing (it asks for the code).
    pub fn parse(raw: &str) -> Self {
        match raw {
            "signed_in" => Self::SignedIn,
            "enrol" => Self::Enrol,
            _ => Self::SecondFactor,
        }
    }

    /// Whether a session at this stage may use the console route `pattern`.
    pub fn opens(self, pattern: &str) -> bool {
        match self {
            Self::SignedIn => true,
            Self::SecondFactor => matches!(pattern, "/admin/login/code" | "/admin/logout"),
            Self::Enrol => {
                matches!(pattern, "/admin/logout" | "/admin/account/two-factor")
                    || pattern.starts_with("/admin/account/two-factor/")
            }
        }
    }

    /// Where a session at this stage is sent when it asks for any other console page.
    pub fn page(self) -> &'static str {
        match self {
            Self::SignedIn => "/admin",
            Self::SecondFactor => "/admin/login/code",
            Self::Enrol => "/admin/account/two-factor",
        }
    }
}

/// The stage a session opens at once the password was right.
pub fn after_password(enrolled: bool, required: bool) -> Stage {
    match (enrolled, required) {
        (true, _) => Stage::SecondFactor,
        (false, true) => Stage::Enrol,
        (false, false) => Stage::SignedIn,
    }
}

/// Recovery codes made at a time (each good once).
pub const RECOVERY_CODES: usize = 10;

/// A recovery code as shown: 12 hexadecimal digits in three groups (48 random bits).
pub fn recovery_code(bytes: [u8; 6]) -> String {
    let digits = hex::encode(bytes);
    format!("{}-{}-{}", &digits[..4], &digits[4..8], &digits[8..])
}

/// A typed recovery code as stored (lower case, no spaces or dashes), if it can be one.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    (code.len() == 12 && code.chars().all(|c| c.is_ascii_hexdigit())).then_some(code)
}

/// A typed authenticator code (spaces allowed, as apps show `123 456`), if it can be one.
pub fn normalise_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == 6 && code.chars().all(|c| c.is_ascii_digit())).then_some(code)
}

/// Failures in a row for one address that cost nothing (typos).
pub const FREE_FAILURES: i64 = 3;
/// Failures in a row from one network that cost nothing: higher, since an office shares one.
pub const FREE_NETWORK_FAILURES: i64 = 10;
/// The longest wait a run of failures can impose: short enough that nobody can keep an account
/// out for long, long enough to make guessing hopeless (with the per-client limits on top).
pub const LONGEST_DELAY_SECONDS: i64 = 60;

/// How long the next attempt must wait after `failures` failures in a row: nothing for the first
/// `free`, then 1, 2, 4 … seconds up to a minute.
pub fn delay_after(failures: i64, free: i64) -> Duration {
    let past_free = failures.saturating_sub(free);
    if past_free <= 0 {
        return Duration::zero();
    }
    let exponent = u32::try_from(past_free - 1).unwrap_or(u32::MAX).min(16);
    Duration::seconds((1i64 << exponent).min(LONGEST_DELAY_SECONDS))
}

/// A run of failures is forgotten this long after its last one.
pub fn failures_forgotten_after() -> Duration {
    Duration::hours(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop_at_a_minute() {
        let seconds: Vec<i64> = (1..=12).map(|n| delay_after(n, FREE_FAILURES).num_seconds()).collect();
        assert_eq!(seconds, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay_after(i64::MAX, FREE_FAILURES).num_seconds(), 60);
        assert_eq!(delay_after(0, FREE_FAILURES), Duration::zero());
        assert_eq!(delay_after(10, FREE_NETWORK_FAILURES), Duration::zero());
        assert_eq!(delay_after(11, FREE_NETWORK_FAILURES).num_seconds(), 1);
    }

    #[test]
    fn codes_are_read_as_people_type_them() {
        assert_eq!(normalise_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalise_code("12345"), None);
        assert_eq!(normalise_code("12345a"), None);
        let shown = recovery_code([0xab, 0xcd, 0xef, 0x01, 0x23, 0x45]);
        assert_eq!(shown, "abcd-ef01-2345");
        assert_eq!(normalise_recovery_code("ABCD EF01 2345").as_deref(), Some("abcdef012345"));
        assert_eq!(normalise_recovery_code(&shown).as_deref(), Some("abcdef012345"));
        assert_eq!(normalise_recovery_code("abcd-ef01-234g"), None);
    }

    #[test]
    fn stages() {
        assert_eq!(after_password(true, false), Stage::SecondFactor);
        assert_eq!(after_password(false, true), Stage::Enrol);
        assert_eq!(after_password(false, false), Stage::SignedIn);
        for stage in [Stage::SignedIn, Stage::SecondFactor, Stage::Enrol] {
            assert_eq!(Stage::parse(stage.as_str()), stage);
        }
        assert_eq!(Stage::parse("anything"), Stage::SecondFactor, "fails closed");
        assert!(Stage::SecondFactor.opens("/admin/login/code") && !Stage::SecondFactor.opens("/admin"));
        assert!(!Stage::SecondFactor.opens("/admin/account/two-factor/confirm"));
        assert!(Stage::Enrol.opens("/admin/account/two-factor/confirm") && !Stage::Enrol.opens("/admin/account"));
        assert!(Stage::Enrol.opens("/admin/logout") && Stage::SignedIn.opens("/admin/team"));
    }
}
