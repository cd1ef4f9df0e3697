use serde_json::json;

use ledger::{networth, valuation, LedgerError};
use pf_data::models::*;
use pf_data::resource::Resource;

use crate::support::*;

fn snapshot(
    conn: &mut db_conn::DbConnection,
    at: &str,
    (platform, code, currency): (&str, &str, &str),
    value: &str,
    base_value: Option<&str>,
) {
    let time = t(at);
    let input = NewAssetSnapshot {
        snapshot_date: time.date(),
        snapshot_time: time,
        platform: platform.into(),
        asset_type: "test".into(),
        asset_code: code.into(),
        asset_name: None,
        currency: currency.into(),
        quantity: dec("1"),
        price: None,
        value: dec(value),
        base_value: base_value.map(dec),
    };
    AssetSnapshot::create(conn, &input).unwrap();
}

#[test]
fn net_worth_sums_the_latest_snapshot_of_each_holding_exactly() {
    for db in TestDb::each("net_worth_sums_the_latest_snapshot_of_each_holding_exactly") {
        let conn = &mut db.migrated();
        let aapl = ("IBKR", "AAPL", "USD");
        snapshot(conn, "2026-01-01T10:00:00", aapl, "14", Some("100.00"));
        // Snapshotted again later that day: this one counts, not both.
        snapshot(conn, "2026-01-01T15:00:00", aapl, "15.5", Some("110.5"));
        snapshot(
            conn,
            "2026-01-01T15:00:00",
            ("Alipay", "110011", "CNY"),
            "23.45",
            Some("23.45"),
        );
        // No base_value: valued with the EUR→CNY rate of the day before.
        snapshot(
            conn,
            "2026-01-01T15:00:00",
            ("Wise", "EUR", "EUR"),
            "10",
            None,
        );
        rate(conn, "2025-12-31", "EUR", "CNY", "7.8");
        snapshot(conn, "2026-01-02T15:00:00", aapl, "28", Some("200"));
        snapshot(
            conn,
            "2026-01-02T15:00:00",
            ("Alipay", "110011", "CNY"),
            "23.45",
            Some("23.45"),
        );
        snapshot(conn, "2026-01-05T15:00:00", aapl, "1", Some("1"));

        let worth = networth::series(conn, d("2026-01-01"), d("2026-01-03")).unwrap();
        let want = json!({"base_currency": "CNY", "from": "2026-01-01", "to": "2026-01-03", "days": [
            {"date": "2026-01-01", "total": "211.95",
             "by_platform": {"Alipay": "23.45", "IBKR": "110.50", "Wise": "78.00"},
             "by_currency": {"CNY": "23.45", "EUR": "78.00", "USD": "110.50"}},
            {"date": "2026-01-02", "total": "223.45",
             "by_platform": {"Alipay": "23.45", "IBKR": "200.00"},
             "by_currency": {"CNY": "23.45", "USD": "200.00"}},
        ]});
        assert_eq!(serde_json::to_value(&worth).unwrap(), want, "{}", db.name());
        let back: networth::NetWorth = serde_json::from_value(want).unwrap();
        assert_eq!(back, worth);

        let err = networth::series(conn, d("2026-01-03"), d("2026-01-01")).unwrap_err();
        assert!(matches!(err, LedgerError::BadRange { .. }), "{err}");
    }
}

#[test]
fn net_worth_of_a_valued_day_is_the_valuation_total() {
    for db in TestDb::each("net_worth_of_a_valued_day_is_the_valuation_total") {
        let conn = &mut db.migrated();
        crate::valuation::seed_holdings(conn);
        valuation::run(conn, d("2026-03-30")).unwrap();
        let worth = networth::series(conn, d("2026-03-01"), d("2026-03-31")).unwrap();
        let totals: Vec<(String, String)> = worth
            .days
            .iter()
            .map(|day| (day.date.to_string(), day.total.text()))
            .collect();
        assert_eq!(
            totals,
            [("2026-03-30".to_owned(), "49581.22".to_owned())],
            "{}",
            db.name()
        );
        let platforms = &worth.days[0].by_platform;
        assert_eq!(platforms["IBKR"].text(), "15352.71");
        // The default window ends today and spans 365 days.
        let (from, to) = networth::window(conn, None, None).unwrap();
        assert_eq!((to - from).num_days(), 364);
    }
}
