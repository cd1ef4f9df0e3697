use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use portfolio::{net_worth_series, SnapshotRow};

fn row(date: &str, platform: &str, currency: &str, base_value: &str) -> SnapshotRow {
    SnapshotRow {
        date: date.parse::<NaiveDate>().unwrap(),
        platform: platform.into(),
        currency: currency.into(),
        base_value: base_value.parse::<BigDecimal>().unwrap(),
    }
}

#[test]
fn sums_each_day_exactly_with_breakdowns() {
    let rows = [
        row("2025-05-07", "okx", "USD", "3087.42"),
        row("2025-05-06", "alipay", "CNY", "1524.06"),
        row("2025-05-06", "ibkr", "USD", "14379.65"),
        row("2025-05-06", "okx", "USD", "3087.42"),
        row("2025-05-06", "okx", "USDT", "7233.05"),
        row("2025-05-06", "wise", "EUR", "20318.09"),
        // 0.1 + 0.2 is 0.3 here, unlike in binary floating point.
        row("2025-05-08", "bank", "CNY", "0.1"),
        row("2025-05-08", "bank", "CNY", "0.2"),
        row(
            "2025-05-08",
            "ibkr",
            "USD",
            "123456789012345678901234567890.12",
        ),
    ];
    let series = net_worth_series(&rows);
    let dates: Vec<_> = series.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(dates, ["2025-05-06", "2025-05-07", "2025-05-08"]);

    let first = &series[0];
    assert_eq!(first.total.to_string(), "46542.27");
    let platforms: Vec<_> = first
        .by_platform
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        platforms,
        [
            "alipay=1524.06",
            "ibkr=14379.65",
            "okx=10320.47",
            "wise=20318.09"
        ]
    );
    let currencies: Vec<_> = first
        .by_currency
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        currencies,
        [
            "CNY=1524.06",
            "EUR=20318.09",
            "USD=17467.07",
            "USDT=7233.05"
        ]
    );

    assert_eq!(series[1].total.to_string(), "3087.42");
    let last = &series[2];
    assert_eq!(last.total.to_string(), "123456789012345678901234567890.42");
    assert_eq!(last.by_platform["bank"].to_string(), "0.3");
    assert_eq!(last.by_currency["CNY"].to_string(), "0.3");
}

#[test]
fn no_rows_no_days() {
    assert!(net_worth_series(&[]).is_empty());
}
