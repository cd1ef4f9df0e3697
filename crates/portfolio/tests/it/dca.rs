//! DCA schedule and purchase rules, with expected values computed independently (Python's
//! `decimal` at 200 digits).

use std::collections::BTreeSet;

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use portfolio::dca::DEFAULT_CURRENCY_SCALE;
use portfolio::{
    due_dates, execution, next_due_date, next_last_executed, parse_exclude_dates, DcaError,
    Frequency, Plan, PlanStatus,
};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn dec(text: &str) -> BigDecimal {
    text.parse().unwrap()
}

fn days(texts: &[&str]) -> Vec<NaiveDate> {
    texts.iter().map(|t| day(t)).collect()
}

fn plan(frequency: Frequency, start: &str) -> Plan {
    Plan {
        id: 7,
        frequency,
        frequency_value: None,
        start_date: Some(day(start)),
        end_date: None,
        last_executed_date: None,
        exclude_dates: BTreeSet::new(),
        amount: dec("1230.00"),
        fee_rate: Some(dec("0.0015")),
        status: PlanStatus::Active,
        created: day("2024-12-20"),
    }
}

/// A weekly plan on Mondays, 2025-01-06 to 2025-04-02, skipping 2025-02-03 and 2025-03-31.
fn weekly() -> Plan {
    let mut plan = plan(Frequency::Weekly, "2025-01-06");
    plan.exclude_dates = parse_exclude_dates(Some(r#"["2025-02-03", "2025-03-31"]"#)).unwrap();
    plan
}

#[test]
fn weekly_plan_over_three_months() {
    let plan = weekly();
    let as_of = day("2025-04-02");
    let due = due_dates(&plan, as_of).unwrap();
    let want = days(&[
        "2025-01-06",
        "2025-01-13",
        "2025-01-20",
        "2025-01-27",
        "2025-02-10",
        "2025-02-17",
        "2025-02-24",
        "2025-03-03",
        "2025-03-10",
        "2025-03-17",
        "2025-03-24",
    ]);
    assert_eq!(due, want);

    // NAV per due date; none published on 2025-03-17.
    let navs = [
        Some("1.2345"),
        Some("1.2401"),
        Some("1.2290"),
        Some("1.2512"),
        Some("1.2633"),
        Some("1.2588"),
        Some("1.2701"),
        Some("1.2666"),
        Some("1.2800"),
        None,
        Some("1.2755"),
    ];
    let quantities = [
        Some("994.85621709"),
        Some("990.36368034"),
        Some("999.30838079"),
        Some("981.57768542"),
        Some("972.17604686"),
        Some("975.65141404"),
        Some("966.97110463"),
        Some("969.64313911"),
        Some("959.49218750"),
        None,
        Some("962.87730301"),
    ];
    for ((date, nav), quantity) in due.iter().zip(navs).zip(quantities) {
        let nav = nav.map(dec);
        let e = execution(&plan, *date, nav.as_ref(), None, DEFAULT_CURRENCY_SCALE).unwrap();
        assert_eq!(e.date, *date);
        assert_eq!(e.amount.to_string(), "1230.00");
        // 1230.00 × 0.0015 = 1.845 exactly: half-up gives 1.85 (half-even would give 1.84).
        assert_eq!(e.fee.to_string(), "1.85");
        assert_eq!(e.net.to_string(), "1228.15");
        assert_eq!(e.price, nav);
        assert_eq!(e.quantity.map(|q| q.to_string()).as_deref(), quantity);
    }

    // The excluded last Monday still moves last_executed_date, so it is never revisited.
    let last = next_last_executed(&plan, as_of).unwrap();
    assert_eq!(last, Some(day("2025-03-31")));
    let rerun = Plan {
        last_executed_date: last,
        ..plan.clone()
    };
    assert_eq!(due_dates(&rerun, as_of).unwrap(), vec![]);
    assert_eq!(next_last_executed(&rerun, as_of).unwrap(), last);
    assert_eq!(
        due_dates(&rerun, day("2025-04-07")).unwrap(),
        days(&["2025-04-07"])
    );
    assert_eq!(
        next_due_date(&rerun, as_of).unwrap(),
        Some(day("2025-04-07"))
    );
}

#[test]
fn missed_runs_are_caught_up_once() {
    let mut plan = weekly();
    plan.last_executed_date = Some(day("2025-01-13"));
    // The job did not run between 2025-01-14 and 2025-01-30.
    let due = due_dates(&plan, day("2025-01-30")).unwrap();
    assert_eq!(due, days(&["2025-01-20", "2025-01-27"]));
}

#[test]
fn paused_and_finished_plans_are_never_due() {
    for status in [PlanStatus::Paused, PlanStatus::Finished] {
        let plan = Plan { status, ..weekly() };
        assert_eq!(due_dates(&plan, day("2025-04-02")).unwrap(), vec![]);
        assert_eq!(next_due_date(&plan, day("2025-04-02")).unwrap(), None);
        // Status-independent, so a job can skip the paused dates for good.
        assert_eq!(
            next_last_executed(&plan, day("2025-04-02")).unwrap(),
            Some(day("2025-03-31"))
        );
    }
}

#[test]
fn monthly_keeps_the_anchor_day() {
    let plan = plan(Frequency::Monthly, "2024-01-31");
    let due = due_dates(&plan, day("2024-06-30")).unwrap();
    let want = [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
        "2024-05-31",
        "2024-06-30",
    ];
    assert_eq!(due, days(&want));

    let plan = Plan {
        last_executed_date: Some(day("2025-01-31")),
        ..plan
    };
    let due = due_dates(&plan, day("2025-03-31")).unwrap();
    assert_eq!(due, days(&["2025-02-28", "2025-03-31"]));
}

#[test]
fn frequency_value_multiplies_the_step() {
    let mut plan = plan(Frequency::Weekly, "2025-01-06");
    plan.frequency_value = Some(2);
    let due = due_dates(&plan, day("2025-02-17")).unwrap();
    assert_eq!(
        due,
        days(&["2025-01-06", "2025-01-20", "2025-02-03", "2025-02-17"])
    );

    let mut plan = self::plan(Frequency::Monthly, "2024-11-30");
    plan.frequency_value = Some(3);
    let due = due_dates(&plan, day("2025-08-31")).unwrap();
    assert_eq!(
        due,
        days(&["2024-11-30", "2025-02-28", "2025-05-30", "2025-08-30"])
    );

    let mut plan = self::plan(Frequency::Daily, "2025-01-30");
    plan.frequency_value = Some(2);
    let due = due_dates(&plan, day("2025-02-04")).unwrap();
    assert_eq!(due, days(&["2025-01-30", "2025-02-01", "2025-02-03"]));

    let plan = self::plan(Frequency::Biweekly, "2025-01-06");
    let due = due_dates(&plan, day("2025-02-03")).unwrap();
    assert_eq!(due, days(&["2025-01-06", "2025-01-20", "2025-02-03"]));
}

#[test]
fn end_date_is_the_last_possible_day() {
    let mut plan = weekly();
    plan.end_date = Some(day("2025-01-20"));
    let as_of = day("2025-04-02");
    assert_eq!(
        due_dates(&plan, as_of).unwrap(),
        days(&["2025-01-06", "2025-01-13", "2025-01-20"])
    );
    assert_eq!(
        next_last_executed(&plan, as_of).unwrap(),
        Some(day("2025-01-20"))
    );
    plan.last_executed_date = Some(day("2025-01-20"));
    assert_eq!(next_due_date(&plan, as_of).unwrap(), None);
}

#[test]
fn start_after_as_of_is_not_due_yet() {
    let plan = plan(Frequency::Daily, "2025-05-01");
    assert_eq!(due_dates(&plan, day("2025-04-30")).unwrap(), vec![]);
    assert_eq!(next_last_executed(&plan, day("2025-04-30")).unwrap(), None);
    assert_eq!(
        next_due_date(&plan, day("2025-04-01")).unwrap(),
        Some(day("2025-05-01"))
    );
}

#[test]
fn created_date_anchors_a_plan_without_start_date() {
    let mut plan = plan(Frequency::Monthly, "2000-01-01");
    plan.start_date = None;
    let due = due_dates(&plan, day("2025-02-19")).unwrap();
    assert_eq!(due, days(&["2024-12-20", "2025-01-20"]));
}

#[test]
fn years_old_daily_plan_catches_up_only_new_dates() {
    let mut plan = plan(Frequency::Daily, "1990-01-01");
    plan.last_executed_date = Some(day("2025-03-30"));
    let due = due_dates(&plan, day("2025-04-01")).unwrap();
    assert_eq!(due, days(&["2025-03-31", "2025-04-01"]));
}

#[test]
fn fee_uses_the_default_rate_and_rounds_half_up() {
    let mut plan = plan(Frequency::Daily, "2025-01-01");
    plan.fee_rate = None;
    plan.amount = dec("30.00");
    let date = day("2025-01-01");
    let default = dec("0.0015");
    // 30.00 × 0.0015 = 0.045: half-up 0.05, not half-even 0.04.
    let e = execution(&plan, date, Some(&dec("3")), Some(&default), 2).unwrap();
    assert_eq!(
        (e.fee.to_string(), e.net.to_string()),
        ("0.05".into(), "29.95".into())
    );
    assert_eq!(e.fee_rate, default);
    assert_eq!(e.quantity.unwrap().to_string(), "9.98333333");

    // No rate anywhere: no fee. Scale 0 for a currency without minor units.
    let e = execution(&plan, date, None, None, 0).unwrap();
    assert_eq!((e.fee.to_string(), e.quantity), ("0".into(), None));
    plan.amount = dec("1500");
    let e = execution(&plan, date, None, Some(&dec("0.0015")), 0).unwrap();
    assert_eq!(e.fee.to_string(), "2"); // 2.25 → 2
}

#[test]
fn thirty_digit_amounts_are_exact() {
    let mut plan = plan(Frequency::Daily, "2025-01-01");
    plan.amount = dec("123456789012345678901234567890.12");
    let price = dec("1.2345");
    let e = execution(&plan, day("2025-01-01"), Some(&price), None, 2).unwrap();
    // × 0.0015 = 185185183518518518351851851.83518 exactly → .84
    assert_eq!(e.fee.to_string(), "185185183518518518351851851.84");
    assert_eq!(e.net.to_string(), "123271603828827160382882716038.28");
    assert_eq!(
        e.quantity.unwrap().to_string(),
        "99855491153363434899054447985.64601053"
    );
}

#[test]
fn bad_inputs_are_named() {
    let plan = plan(Frequency::Daily, "2025-01-01");
    let date = day("2025-01-01");
    let err = execution(&plan, date, Some(&dec("0")), None, 2).unwrap_err();
    assert!(matches!(err, DcaError::NonPositivePrice { .. }), "{err}");
    let bad_rate = Plan {
        fee_rate: Some(dec("1.5")),
        ..plan.clone()
    };
    let err = execution(&bad_rate, date, None, None, 2).unwrap_err();
    assert!(err.to_string().contains("fee rate 1.5"), "{err}");
    let zero = Plan {
        frequency_value: Some(0),
        ..plan
    };
    let err = due_dates(&zero, date).unwrap_err();
    assert_eq!(
        err,
        DcaError::BadFrequencyValue {
            plan_id: 7,
            value: 0
        }
    );
}

#[test]
fn stored_text_parses_or_is_named() {
    assert_eq!("Monthly".parse::<Frequency>().unwrap(), Frequency::Monthly);
    assert_eq!("WEEKLY".parse::<Frequency>().unwrap(), Frequency::Weekly);
    assert_eq!(
        "biweekly".parse::<Frequency>().unwrap(),
        Frequency::Biweekly
    );
    let err = "yearly".parse::<Frequency>().unwrap_err().to_string();
    assert_eq!(
        err,
        "frequency `yearly` is not one of daily, weekly, biweekly, monthly"
    );
    assert_eq!("paused".parse::<PlanStatus>().unwrap(), PlanStatus::Paused);
    assert_eq!(
        "finished".parse::<PlanStatus>().unwrap(),
        PlanStatus::Finished
    );
    let err = "stopped".parse::<PlanStatus>().unwrap_err().to_string();
    assert_eq!(
        err,
        "status `stopped` is not one of active, paused, finished"
    );
}

#[test]
fn exclude_dates_accepts_json_and_comma_lists() {
    let want: BTreeSet<_> = days(&["2024-12-25", "2025-01-01"]).into_iter().collect();
    for text in [
        r#"["2024-12-25","2025-01-01"]"#,
        r#" [ "2025-01-01" , "2024-12-25" ] "#,
        "2024-12-25,2025-01-01",
        "2024-12-25, 2025-01-01,",
    ] {
        assert_eq!(parse_exclude_dates(Some(text)).unwrap(), want, "{text}");
    }
    for empty in [None, Some(""), Some("  "), Some("[]"), Some("null")] {
        assert_eq!(parse_exclude_dates(empty).unwrap(), BTreeSet::new());
    }
}

#[test]
fn exclude_dates_names_the_bad_element() {
    let cases = [
        (r#"["2024-12-25","2025-13-01"]"#, "\"2025-13-01\""),
        ("2024-12-25,Christmas", "Christmas"),
        (r#"["2024-12-25",20250101]"#, "20250101"),
        (r#"["2024-12-25""#, r#"["2024-12-25""#),
    ];
    for (text, element) in cases {
        match parse_exclude_dates(Some(text)) {
            Err(DcaError::BadExcludeDate { element: got, .. }) => assert_eq!(got, element),
            other => panic!("{text}: {other:?}"),
        }
    }
    let err = parse_exclude_dates(Some("2025-02-30"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("exclude_dates element `2025-02-30` is not a date"),
        "{err}"
    );
}
