//! What an imported consent does to what Assent holds: the steps to take, so that importing the
//! same file again changes nothing and a newer export applies only what differs, and so that no
//! import ever overrides a choice the person made in Assent after the imported date.

use chrono::NaiveDateTime;

use super::ImportedConsent;
use crate::domain::ConsentStatus;
use crate::domain::lifecycle::{Transition, in_force};

/// What one imported consent leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Take these transitions, each at its time, in order.
    Steps(Vec<(Transition, NaiveDateTime)>),
    /// Assent already holds exactly this (the same file imported again).
    Unchanged,
    /// Assent holds a choice made after the imported one: it stands.
    KeptNewer,
}

/// `previous`: the consent's status and the time of its last change, if Assent holds one;
/// `ends_at`: when the imported grant's retention period ends.
pub fn plan(
    previous: Option<(ConsentStatus, NaiveDateTime)>,
    imported: &ImportedConsent,
    ends_at: NaiveDateTime,
) -> Plan {
    let withdraw = imported.withdrawn_at.map(|at| (Transition::Withdraw, at));
    let latest = imported.withdrawn_at.unwrap_or(imported.granted_at);
    let Some((status, changed_at)) = previous else {
        return Plan::Steps([(Transition::Grant, imported.granted_at)].into_iter().chain(withdraw).collect());
    };
    if changed_at > latest {
        // Expired since, when this very grant's period ran out: what the import itself led to.
        let its_own_end = status == ConsentStatus::Expired && imported.withdrawn_at.is_none() && changed_at >= ends_at;
        return if its_own_end { Plan::Unchanged } else { Plan::KeptNewer };
    }
    if changed_at == latest {
        return Plan::Unchanged;
    }
    if imported.granted_at > changed_at {
        let grant = if status == ConsentStatus::Granted { Transition::Reaffirm } else { Transition::Grant };
        return Plan::Steps([(grant, imported.granted_at)].into_iter().chain(withdraw).collect());
    }
    // Granted before Assent's last change, withdrawn after it.
    match withdraw {
        Some(step) if in_force(status) => Plan::Steps(vec![step]),
        _ => Plan::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, d).unwrap().and_hms_opt(0, 0, 0).unwrap()
    }

    const FAR: NaiveDateTime = NaiveDateTime::MAX;

    fn consent(granted: u32, withdrawn: Option<u32>) -> ImportedConsent {
        ImportedConsent {
            purpose: "marketing_sms".to_owned().try_into().unwrap(),
            granted_at: day(granted),
            withdrawn_at: withdrawn.map(day),
        }
    }

    #[test]
    fn someone_new_is_granted_then_withdrawn_as_the_sheet_says() {
        assert_eq!(plan(None, &consent(2, None), FAR), Plan::Steps(vec![(Transition::Grant, day(2))]));
        assert_eq!(
            plan(None, &consent(2, Some(5)), FAR),
            Plan::Steps(vec![(Transition::Grant, day(2)), (Transition::Withdraw, day(5))])
        );
    }

    #[test]
    fn the_same_file_again_changes_nothing() {
        assert_eq!(plan(Some((ConsentStatus::Granted, day(2))), &consent(2, None), FAR), Plan::Unchanged);
        assert_eq!(plan(Some((ConsentStatus::Withdrawn, day(5))), &consent(2, Some(5)), FAR), Plan::Unchanged);
    }

    #[test]
    fn a_choice_made_in_assent_after_the_imported_date_stands() {
        assert_eq!(plan(Some((ConsentStatus::Withdrawn, day(9))), &consent(2, None), FAR), Plan::KeptNewer);
        assert_eq!(plan(Some((ConsentStatus::Granted, day(9))), &consent(2, Some(5)), FAR), Plan::KeptNewer);
    }

    #[test]
    fn an_expiry_the_import_itself_led_to_is_not_a_later_choice() {
        let ended = day(20);
        assert_eq!(plan(Some((ConsentStatus::Expired, day(25))), &consent(2, None), ended), Plan::Unchanged);
        assert_eq!(
            plan(Some((ConsentStatus::Expired, day(9))), &consent(2, None), ended),
            Plan::KeptNewer,
            "renewal declined"
        );
    }

    #[test]
    fn a_newer_export_applies_only_what_differs() {
        assert_eq!(
            plan(Some((ConsentStatus::Granted, day(2))), &consent(7, None), FAR),
            Plan::Steps(vec![(Transition::Reaffirm, day(7))]),
            "agreed again later: a fresh period"
        );
        assert_eq!(
            plan(Some((ConsentStatus::Expired, day(2))), &consent(7, None), FAR),
            Plan::Steps(vec![(Transition::Grant, day(7))])
        );
        assert_eq!(
            plan(Some((ConsentStatus::Granted, day(2))), &consent(2, Some(6)), FAR),
            Plan::Steps(vec![(Transition::Withdraw, day(6))]),
            "withdrawn since the last export"
        );
        assert_eq!(plan(Some((ConsentStatus::Withdrawn, day(4))), &consent(2, Some(6)), FAR), Plan::Unchanged);
    }
}
