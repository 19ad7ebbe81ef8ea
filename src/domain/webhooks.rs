//! Webhooks, as rules (no IO): what each ledger event is called, which endpoints want it, when a
//! failed delivery is tried again and when an endpoint is given up on, what is signed (the
//! Standard Webhooks specification), and which addresses an endpoint may not be on.

use std::net::IpAddr;

use chrono::Duration;

use super::form::FieldErrorCode;

/// The event type of a ledger event: `consent.<action>`, or `subject.erased` for the erasure of
/// a person as a whole.
pub fn event_type(action: &str, purpose_key: &str) -> String {
    if purpose_key == "*" { "subject.erased".to_owned() } else { format!("consent.{action}") }
}

/// Whether an endpoint subscribed with `patterns` wants `event_type`: a pattern is an exact type,
/// `<group>.*` (e.g. `consent.*`) or `*`.
pub fn wants(patterns: &[String], event_type: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == event_type
            || p.strip_suffix(".*").is_some_and(|group| event_type.split('.').next() == Some(group))
    })
}

/// The event types an endpoint may subscribe to (patterns are checked against them).
pub const EVENT_TYPES: &[&str] = &[
    "consent.granted",
    "consent.pending",
    "consent.confirmed",
    "consent.notified",
    "consent.withdrawn",
    "consent.renewed",
    "consent.expired",
    "consent.erased",
    "subject.erased",
    IMPORT_COMPLETED,
];

/// An import (not a dry run) finished: announced once everything it recorded has been.
pub const IMPORT_COMPLETED: &str = "import.completed";

/// Whether a pattern names at least one event type.
pub fn is_known_pattern(pattern: &str) -> bool {
    EVENT_TYPES.iter().any(|t| wants(&[pattern.to_owned()], t))
}

/// Waits between attempts, after the first one fails: the Standard Webhooks schedule, stretched
/// with daily tries so that an endpoint is tried for more than three days before it is given up.
const RETRY_AFTER_SECONDS: [i64; 10] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 86_400, 86_400, 86_400];

/// How long to wait after `attempts` failed attempts; `None`: give up (disable the endpoint).
pub fn retry_after(attempts: u32) -> Option<Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    RETRY_AFTER_SECONDS.get(index).map(|s| Duration::seconds(*s))
}

/// What is signed: `{id}.{timestamp}.{body}`.
pub fn signed_content(message_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    [message_id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body].concat()
}

/// A signing secret as the specification writes it: `whsec_` and base64 of 24 to 64 bytes.
pub fn parse_secret(raw: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let encoded = raw.strip_prefix("whsec_").ok_or("a webhook secret starts with whsec_")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "a webhook secret is whsec_ and base64")?;
    if !(24..=64).contains(&bytes.len()) {
        return Err("a webhook secret holds 24 to 64 bytes".into());
    }
    Ok(bytes)
}

/// Whether an endpoint may be reached at this address: not loopback, private, link-local,
/// unique-local, shared (CGNAT), documentation, unspecified or multicast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// The longest endpoint name.
pub const NAME_MAX: usize = 64;

/// What is wrong with an endpoint name given in the console or the API, if anything: a key
/// (1 to [`NAME_MAX`] characters of a-z, 0-9 and _, starting with a letter), since it is a path
/// segment and a label.
pub fn name_problem(name: &str) -> Option<FieldErrorCode> {
    if name.is_empty() {
        Some(FieldErrorCode::Required)
    } else if name.chars().count() > NAME_MAX {
        Some(FieldErrorCode::TooLong)
    } else {
        (!super::keys::is_valid_key(name)).then_some(FieldErrorCode::InvalidKey)
    }
}

/// What is wrong with the events an endpoint asks for, if anything: at least one, each a known
/// type or pattern.
pub fn events_problem(events: &[String]) -> Option<FieldErrorCode> {
    if events.is_empty() {
        return Some(FieldErrorCode::Required);
    }
    (!events.iter().all(|p| is_known_pattern(p))).then_some(FieldErrorCode::InvalidChoice)
}

/// Whether a URL's host may be an endpoint's, as far as can be told without resolving it: a
/// literal address must be public, and `localhost` is not (names are resolved and checked again
/// before every delivery).
pub fn host_allowed(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => is_public(ip),
        Err(_) => {
            let lower = bare.to_ascii_lowercase();
            lower != "localhost" && !lower.ends_with(".localhost")
        }
    }
}

/// A new secret as the specification writes it.
pub fn format_secret(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_named_and_matched_by_pattern() {
        assert_eq!(event_type("withdrawn", "marketing_sms"), "consent.withdrawn");
        assert_eq!(event_type("erased", "*"), "subject.erased");
        let crm = vec!["consent.*".to_owned(), "subject.erased".to_owned()];
        assert!(wants(&crm, "consent.granted") && wants(&crm, "subject.erased"));
        assert!(!wants(&["consent.withdrawn".to_owned()], "consent.granted"));
        assert!(wants(&["*".to_owned()], "subject.erased"));
        assert!(!wants(&["consent".to_owned()], "consent.granted"));
        assert!(
            is_known_pattern("consent.*") && is_known_pattern("subject.erased") && !is_known_pattern("consent.maybe")
        );
    }

    #[test]
    fn failed_deliveries_are_tried_for_more_than_three_days() {
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(1), Some(Duration::seconds(5)));
        let total: i64 = (1..).map_while(retry_after).map(|d| d.num_seconds()).sum();
        assert!(total > 3 * 86_400, "{total}");
        assert!((1..).map_while(retry_after).count() < 20, "then the endpoint is given up on");
    }

    #[test]
    fn secrets_are_whsec_base64() {
        assert_eq!(parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap().len(), 24);
        assert!(parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(parse_secret("whsec_c2hvcnQ=").is_err());
        assert_eq!(signed_content("msg_1", 1_700_000_000, b"{}"), b"msg_1.1700000000.{}");
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_managed_endpoint_is_named_like_a_key_and_asks_for_known_events() {
        assert_eq!(name_problem(""), Some(FieldErrorCode::Required));
        assert_eq!(name_problem(&"a".repeat(65)), Some(FieldErrorCode::TooLong));
        assert_eq!(name_problem("CRM sync"), Some(FieldErrorCode::InvalidKey));
        assert_eq!(name_problem("crm_sync2"), None);
        assert_eq!(events_problem(&[]), Some(FieldErrorCode::Required));
        assert_eq!(events_problem(&["consent.*".into(), "consent.maybe".into()]), Some(FieldErrorCode::InvalidChoice));
        assert_eq!(events_problem(&["consent.*".into(), "import.completed".into()]), None);
    }

    #[test]
    fn only_hosts_that_may_be_public_are_taken_before_resolving() {
        for host in ["127.0.0.1", "[::1]", "10.1.2.3", "localhost", "api.LOCALHOST", "169.254.169.254"] {
            assert!(!host_allowed(host), "{host}");
        }
        for host in ["crm.example", "93.184.216.34", "[2606:2800:220:1::]"] {
            assert!(host_allowed(host), "{host}");
        }
    }

    #[test]
    fn a_drawn_secret_reads_back() {
        let secret = format_secret(&[7u8; 32]);
        assert_eq!(parse_secret(&secret).unwrap(), vec![7u8; 32]);
    }
}
