use super::*;
use crate::domain::form::FieldErrorCode;
use crate::domain::form::fixtures::newsletter;
use chrono::NaiveDateTime;

fn required(p: &PurposeKey) -> bool {
    p.as_str() == "service"
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn latest() -> NaiveDateTime {
    dates::parse("2026-12-01", Zone::default(), false).unwrap()
}

fn rules(form: &FormDefinition) -> RowRules<'_> {
    RowRules { form, required: &required, zone: Zone::default(), serial_dates: false, latest: latest() }
}

fn korean_mapping() -> Mapping {
    Mapping::parse(
        r#"
        [columns]
        "이메일" = "email"
        "이름" = "name"
        "휴대폰" = "phone"
        "서비스 동의" = "service"
        "마케팅(문자)" = "marketing_sms"
        "가입일" = "consented_at"
        "철회일" = "withdrawn_at"
        [constants]
        source = "2019 paper form"
        "#,
    )
    .unwrap()
}

fn korean_headers() -> Vec<String> {
    strings(&["\u{feff}이메일", "이름", "휴대폰", "서비스 동의", "마케팅(문자)", "가입일", "철회일", "메모"])
}

fn at(s: &str) -> NaiveDateTime {
    dates::parse(s, Zone::default(), false).unwrap()
}

#[test]
fn headers_equal_to_keys_need_no_mapping() {
    let form = newsletter();
    let headers =
        strings(&["email", "name", "service", "marketing_email", "marketing_email_at", "consented_at", "note"]);
    let layout = Layout::resolve(&headers, &Mapping::default(), &form, required).unwrap();
    assert_eq!(layout.ignored, ["note"]);
    let cells = strings(&["a@example.com", "Kim", "Y", "동의", "2024. 3. 5.", "2023-01-02", "ignored text"]);
    let row = layout.row(&cells, &rules(&form)).unwrap();
    assert_eq!(row.accepted.email.as_str(), "a@example.com");
    assert_eq!(
        row.consents,
        [
            ImportedConsent {
                purpose: "service".to_owned().try_into().unwrap(),
                granted_at: at("2023-01-02"),
                withdrawn_at: None
            },
            ImportedConsent {
                purpose: "marketing_email".to_owned().try_into().unwrap(),
                granted_at: at("2024-03-05"),
                withdrawn_at: None
            },
        ]
    );
    // The name serves personalisation, which the row does not grant: it is not kept.
    assert!(row.accepted.values.iter().all(|v| v.key.as_str() != "name"));
    assert_eq!(row.accepted.dropped.iter().map(|k| k.as_str()).collect::<Vec<_>>(), ["name"]);
}

#[test]
fn a_mapping_names_korean_headers_and_supplies_constants() {
    let form = newsletter();
    let layout = Layout::resolve(&korean_headers(), &korean_mapping(), &form, required).unwrap();
    assert_eq!(layout.ignored, ["메모"]);
    assert_eq!(layout.headers()[0], "이메일", "the byte-order mark is not part of the header");
    let cells = strings(&["b@example.com", "", "010-1234-5678", "동의", "미동의", "2019.05.01", "2020/1/2", ""]);
    let row = layout.row(&cells, &rules(&form)).unwrap();
    assert_eq!(row.source.as_deref(), Some("2019 paper form"));
    let sms = row.consents.iter().find(|c| c.purpose.as_str() == "marketing_sms").unwrap();
    assert_eq!((sms.granted_at, sms.withdrawn_at), (at("2019-05-01"), Some(at("2020-01-02"))));
    assert!(row.accepted.values.iter().all(|v| v.key.as_str() != "phone"), "withdrawn: the phone is not kept");
}

#[test]
fn refused_without_a_withdrawal_date_records_nothing() {
    let form = newsletter();
    let headers = strings(&["email", "service", "marketing_sms", "phone", "consented_at"]);
    let layout = Layout::resolve(&headers, &Mapping::default(), &form, required).unwrap();
    let row = layout.row(&strings(&["c@example.com", "Y", "N", "010-1111-2222", "2024-01-01"]), &rules(&form)).unwrap();
    assert_eq!(row.consents.len(), 1);
    assert!(row.accepted.values.iter().all(|v| v.key.as_str() != "phone"));
}

#[test]
fn every_mistake_of_a_row_is_named_by_its_header() {
    let form = newsletter();
    let layout = Layout::resolve(&korean_headers(), &korean_mapping(), &form, required).unwrap();
    let cells = strings(&["not-an-address", "", "12", "maybe", "미동의", "2019.13.01", "2018-01-01", ""]);
    let problems = layout.row(&cells, &rules(&form)).unwrap_err();
    let named: Vec<(&str, &str)> = problems.iter().map(|p| (p.column.as_str(), p.code.as_str())).collect();
    assert_eq!(
        named,
        [
            ("가입일", "invalid_date"),
            ("서비스 동의", "invalid_consent"),
            ("이메일", "invalid_email"),
            ("휴대폰", "invalid_phone"),
        ]
    );

    let dates = strings(&["d@example.com", "", "", "Y", "N", "2027-01-01", "", ""]);
    let problems = layout.row(&dates, &rules(&form)).unwrap_err();
    assert_eq!(problems[0], RowProblem { column: "가입일".into(), code: RowCode::FutureDate });
    let backwards = strings(&["d@example.com", "", "", "Y", "N", "2020-01-01", "2019-01-01", ""]);
    let problems = layout.row(&backwards, &rules(&form)).unwrap_err();
    assert_eq!(problems, [RowProblem { column: "마케팅(문자)".into(), code: RowCode::WithdrawnBeforeGranted }]);
    let no_service = strings(&["d@example.com", "", "", "", "Y", "2020-01-01", "", ""]);
    let problems = layout.row(&no_service, &rules(&form)).unwrap_err();
    assert_eq!(
        problems,
        [RowProblem { column: "서비스 동의".into(), code: RowCode::Field(FieldErrorCode::PurposeRequired) }]
    );
    let withdrawn_service = strings(&["d@example.com", "", "", "N", "", "2020-01-01", "2021-01-01", ""]);
    let problems = layout.row(&withdrawn_service, &rules(&form)).unwrap_err();
    assert_eq!(problems[0], RowProblem { column: "서비스 동의".into(), code: RowCode::RequiredWithdrawn });
}

#[test]
fn headers_that_cannot_be_imported_are_refused_before_any_row() {
    let form = newsletter();
    let wrong =
        Mapping::parse("[columns]\n\"이메일\" = \"e-mail\"\n[constants]\nservice = \"Y\"\nnothing = \"1\"").unwrap();
    let problems = Layout::resolve(&strings(&["이메일", "service"]), &wrong, &form, required).unwrap_err();
    let named: Vec<(&str, HeaderCode)> = problems.iter().map(|p| (p.column.as_str(), p.code)).collect();
    assert_eq!(
        named,
        [
            ("이메일", HeaderCode::UnknownTarget),
            ("nothing", HeaderCode::UnknownTarget),
            ("service", HeaderCode::DuplicateColumn),
            ("email", HeaderCode::MissingColumn),
        ]
    );
    let problems = Layout::resolve(&strings(&["email", "name"]), &Mapping::default(), &form, required).unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        [HeaderCode::MissingColumn, HeaderCode::NoConsentColumn]
    );
    assert!(Mapping::parse("[colums]\na = \"b\"").is_err(), "a misspelt table is an error, not an empty mapping");
}

#[test]
fn consent_cells_in_every_accepted_spelling() {
    for yes in ["Y", "y", "yes", "TRUE", "1", "동의", "granted", "O"] {
        assert_eq!(parse_choice(yes), Ok(Some(true)), "{yes}");
    }
    for no in ["N", "no", "false", "0", "미동의", "비동의", "withdrawn", "X"] {
        assert_eq!(parse_choice(no), Ok(Some(false)), "{no}");
    }
    assert_eq!(parse_choice("  "), Ok(None));
    assert_eq!(parse_choice("maybe"), Err(row::NotAChoice));
}
