//! De-identification for analysis (PIPA art. 28-2, pseudonymised information): which values may
//! leave at all, how coarse they must be, and k-anonymity over the quasi-identifiers that remain.
//! Pure: the service decides who is in the export and writes it.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::FieldType;

/// The default k: every combination of quasi-identifiers is shared by at least this many people.
pub const DEFAULT_K: usize = 5;

/// What a suppressed quasi-identifier reads as.
pub const SUPPRESSED: &str = "*";

/// Whether a field's values may be exported at all: a choice from a list or a date. Addresses,
/// phone numbers, names and free text never leave.
pub fn exportable(kind: FieldType) -> bool {
    matches!(kind, FieldType::Select | FieldType::Date)
}

/// A field value as exported: a choice as it is, a date cut to its month (`2024-03`).
pub fn coarsen(kind: FieldType, value: &str) -> Option<String> {
    match kind {
        FieldType::Select => Some(value.to_owned()),
        FieldType::Date => {
            let month = value.get(..7)?;
            let ok = month.len() == 7
                && month.as_bytes()[4] == b'-'
                && month.chars().filter(char::is_ascii_digit).count() == 6;
            ok.then(|| month.to_owned())
        }
        _ => None,
    }
}

/// A time cut to its month, in UTC.
pub fn month(t: NaiveDateTime) -> String {
    t.format("%Y-%m").to_string()
}

/// One person in an export: the quasi-identifiers (which k-anonymity is over) and the attributes
/// analysed (consent states), in column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub quasi: Vec<String>,
    pub attributes: Vec<String>,
}

/// Suppresses (replaces with [`SUPPRESSED`]) every quasi-identifier of the records whose
/// combination fewer than `k` records share; answers how many records were suppressed.
pub fn suppress(records: &mut [Record], k: usize) -> usize {
    let mut sizes: HashMap<Vec<String>, usize> = HashMap::new();
    for r in records.iter() {
        *sizes.entry(r.quasi.clone()).or_default() += 1;
    }
    let mut suppressed = 0;
    for r in records.iter_mut() {
        if sizes.get(&r.quasi).copied().unwrap_or_default() < k {
            r.quasi.iter_mut().for_each(|q| SUPPRESSED.clone_into(q));
            suppressed += 1;
        }
    }
    suppressed
}

/// Whether every combination of quasi-identifiers, other than the fully suppressed one, is
/// shared by at least `k` records (what [`suppress`] guarantees).
pub fn is_k_anonymous(records: &[Record], k: usize) -> bool {
    let mut sizes: HashMap<&[String], usize> = HashMap::new();
    for r in records {
        *sizes.entry(r.quasi.as_slice()).or_default() += 1;
    }
    sizes.iter().all(|(q, n)| *n >= k || q.iter().all(|v| v == SUPPRESSED))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(quasi: &[&str]) -> Record {
        Record { quasi: quasi.iter().map(|s| (*s).to_owned()).collect(), attributes: vec!["granted".into()] }
    }

    #[test]
    fn combinations_fewer_than_k_share_are_suppressed() {
        let mut records: Vec<Record> = (0..5).map(|_| record(&["2024-03", "gold"])).collect();
        records.extend((0..2).map(|_| record(&["2024-04", "gold"])));
        records.push(record(&["2019-01", "silver"]));
        assert!(!is_k_anonymous(&records, 5));
        assert_eq!(suppress(&mut records, 5), 3);
        assert!(is_k_anonymous(&records, 5));
        assert_eq!(records[0].quasi, ["2024-03", "gold"]);
        assert_eq!(records[7].quasi, ["*", "*"]);
        assert_eq!(records[7].attributes, ["granted"], "what is analysed stays");
    }

    #[test]
    fn only_choices_and_dates_leave_and_dates_by_the_month() {
        assert!(exportable(FieldType::Select) && exportable(FieldType::Date));
        for kind in [FieldType::Email, FieldType::Text, FieldType::Textarea, FieldType::Tel] {
            assert!(!exportable(kind));
            assert_eq!(coarsen(kind, "anything"), None);
        }
        assert_eq!(coarsen(FieldType::Date, "1990-07-21").as_deref(), Some("1990-07"));
        assert_eq!(coarsen(FieldType::Date, "07/21/1990"), None);
        assert_eq!(coarsen(FieldType::Select, "gold").as_deref(), Some("gold"));
    }
}
