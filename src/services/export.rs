//! Export formats for a person's data: CSV beside the JSON [`Profile`] (the signed receipt of
//! their consent state is `receipts::Issuer::state`).

use super::rights::Profile;

/// Cells that a spreadsheet would run as a formula are prefixed with `'` (CSV injection).
fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() }
}

/// One row per fact: `section,key,value,detail,at`.
pub fn to_csv(profile: &Profile) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "key", "value", "detail", "at"])?;
    w.write_record(["subject", "email", &cell(&profile.email), &profile.subject_id, &profile.created_at.to_rfc3339()])?;
    if let Some(external_id) = &profile.external_id {
        w.write_record(["subject", "external_id", &cell(external_id), &profile.subject_id, ""])?;
    }
    for v in &profile.values {
        let detail = format!("form {} v{}; purposes: {}", v.form, v.form_version, v.purposes.join(" "));
        w.write_record(["value", &v.field, &cell(&v.value), &detail, &v.submitted_at.to_rfc3339()])?;
    }
    for c in &profile.consents {
        let detail = format!(
            "policy v{}; expires {}",
            c.policy_version,
            c.expires_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into())
        );
        w.write_record(["consent", &c.purpose, c.status.as_str(), &detail, &c.since.to_rfc3339()])?;
    }
    for h in &profile.history {
        let detail = format!("#{} via {}", h.seq, h.method);
        w.write_record(["history", &h.purpose, &h.action, &detail, &h.at.to_rfc3339()])?;
    }
    for r in &profile.rights_requests {
        let completed = r.completed_at.map(|t| t.and_utc().to_rfc3339()).unwrap_or_default();
        w.write_record(["rights_request", &r.kind, &r.channel, &completed, &r.received_at.and_utc().to_rfc3339()])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+82 10"), "'+82 10");
        assert_eq!(cell("Kim"), "Kim");
    }
}
