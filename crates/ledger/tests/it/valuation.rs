use diesel::prelude::*;

use ledger::valuation;
use ledger::LedgerError;
use pf_data::models::*;
use pf_data::resource::Resource;
use pf_data::schema::asset_snapshots::dsl as snap;
use portfolio::ValuationError;

use crate::support::*;

/// CNY, USD (a stock and cash at IBKR), EUR at Wise and ETH priced in USD, valued in CNY.
pub fn seed_holdings(conn: &mut db_conn::DbConnection) {
    position(
        conn,
        ("Alipay", "110011", "CNY"),
        "1000.5",
        Some("1.2345"),
        "2026-01-01T00:00:00",
    );
    // Created after the day valued: not a holding yet.
    position(
        conn,
        ("Alipay", "000002", "CNY"),
        "5",
        Some("1"),
        "2026-04-02T00:00:00",
    );
    let account = NewIbkrAccount {
        account_id: "U1234567".into(),
        account_name: None,
        account_type: None,
        base_currency: "USD".into(),
        is_active: true,
    };
    let account = IbkrAccount::create(conn, &account).unwrap().id;
    let ibkr = |symbol: &str, value: &str, day: &str| NewIbkrPosition {
        ibkr_account_id: account,
        symbol: symbol.into(),
        sec_type: "STK".into(),
        currency: "USD".into(),
        quantity: dec("10"),
        avg_cost: None,
        market_price: Some(dec("190.5")),
        market_value: Some(dec(value)),
        unrealized_pnl: None,
        snapshot_date: d(day),
    };
    // MSFT was sold before the latest snapshot: only AAPL is held.
    IbkrPosition::create(conn, &ibkr("MSFT", "4000", "2026-03-29")).unwrap();
    IbkrPosition::create(conn, &ibkr("AAPL", "1800", "2026-03-29")).unwrap();
    IbkrPosition::create(conn, &ibkr("AAPL", "1905.00", "2026-03-30")).unwrap();
    IbkrPosition::create(conn, &ibkr("AAPL", "9999", "2026-03-31")).unwrap();
    let cash = NewIbkrBalance {
        ibkr_account_id: account,
        currency: "USD".into(),
        cash_balance: dec("250.25"),
        net_liquidation: None,
        buying_power: None,
        snapshot_date: d("2026-03-30"),
    };
    IbkrBalance::create(conn, &cash).unwrap();
    let wise = |available: &str, at: &str| NewWiseBalance {
        profile_id: "p1".into(),
        account_id: "a1".into(),
        currency: "EUR".into(),
        available: dec(available),
        reserved: dec("20"),
        update_time: t(at),
        sync_cursor: None,
        last_synced_at: None,
    };
    WiseBalance::create(conn, &wise("90", "2026-03-20T10:00:00")).unwrap();
    WiseBalance::create(conn, &wise("100.10", "2026-03-30T10:00:00")).unwrap();
    let token = |symbol: &str, price: Option<&str>| NewWeb3Token {
        wallet_address: "0xabc".into(),
        chain: "ethereum".into(),
        token_symbol: symbol.into(),
        token_name: None,
        contract_address: None,
        balance: dec("1.5"),
        price_usd: price.map(dec),
        value_usd: None,
        update_time: t("2026-03-30T12:00:00"),
    };
    Web3Token::create(conn, &token("ETH", Some("3000.123"))).unwrap();
    Web3Token::create(conn, &token("SPAM", None)).unwrap();
    rate(conn, "2026-03-30", "USD", "CNY", "7.1234");
    rate(conn, "2026-03-28", "EUR", "CNY", "7.8");
    // Later than the day valued: never used for it.
    rate(conn, "2026-04-01", "USD", "CNY", "9");
}

type Line = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

pub fn snapshot_lines(conn: &mut db_conn::DbConnection, date: &str) -> Vec<Line> {
    let rows: Vec<AssetSnapshot> = snap::asset_snapshots
        .filter(snap::snapshot_date.eq(d(date)))
        .order((snap::platform, snap::asset_code))
        .select(AssetSnapshot::as_select())
        .load(conn)
        .unwrap();
    rows.into_iter()
        .map(|r| {
            (
                r.snapshot_time.to_string(),
                r.platform,
                r.asset_code,
                r.asset_name,
                r.currency,
                r.quantity.to_string(),
                r.price.map(|p| p.to_string()),
                r.value.to_string(),
                r.base_value.map(|b| b.to_string()),
            )
        })
        .collect()
}

#[test]
fn holdings_in_four_currencies_are_valued_to_the_last_digit() {
    for db in TestDb::each("holdings_in_four_currencies_are_valued_to_the_last_digit") {
        let conn = &mut db.migrated();
        seed_holdings(conn);
        let report = valuation::run(conn, d("2026-03-30")).unwrap();
        assert_eq!(report.base_currency, "CNY");
        assert_eq!(report.rows_written, 5, "{}", db.name());
        assert_eq!(report.total.text(), "49581.22", "{}", db.name());
        assert_eq!(report.unpriced_tokens, ["ethereum 0xabc SPAM"]);
        let s = |v: &str| v.to_owned();
        let o = |v: &str| Some(v.to_owned());
        // The last second of Mar 30 in Asia/Shanghai, as UTC.
        let time = s("2026-03-30 15:59:59");
        let want = vec![
            (
                time.clone(),
                s("Alipay"),
                s("110011"),
                o("110011 name"),
                s("CNY"),
                s("1000.5"),
                o("1.2345"),
                s("1235.11725"),
                o("1235.12"),
            ),
            (
                time.clone(),
                s("IBKR"),
                s("AAPL"),
                o("U1234567"),
                s("USD"),
                s("10"),
                o("190.5"),
                s("1905"),
                o("13570.08"),
            ),
            (
                time.clone(),
                s("IBKR"),
                s("USD"),
                o("U1234567"),
                s("USD"),
                s("250.25"),
                o("1"),
                s("250.25"),
                o("1782.63"),
            ),
            (
                time.clone(),
                s("Web3"),
                s("ETH"),
                o("ethereum 0xabc"),
                s("USD"),
                s("1.5"),
                o("3000.123"),
                s("4500.1845"),
                o("32056.61"),
            ),
            (
                time,
                s("Wise"),
                s("EUR"),
                o("a1"),
                s("EUR"),
                s("120.1"),
                o("1"),
                s("120.1"),
                o("936.78"),
            ),
        ];
        assert_eq!(snapshot_lines(conn, "2026-03-30"), want, "{}", db.name());

        // Re-running the day replaces its rows with identical ones.
        let again = valuation::run(conn, d("2026-03-30")).unwrap();
        assert_eq!(again.rows_replaced, 5);
        assert_eq!(snapshot_lines(conn, "2026-03-30"), want, "{}", db.name());
        assert_eq!(count::<AssetSnapshot>(conn), 5, "{}", db.name());
    }
}

#[test]
fn a_missing_rate_is_named_and_nothing_is_written() {
    for db in TestDb::each("a_missing_rate_is_named_and_nothing_is_written") {
        let conn = &mut db.migrated();
        seed_holdings(conn);
        valuation::run(conn, d("2026-03-30")).unwrap();
        let before = snapshot_lines(conn, "2026-03-30");
        position(
            conn,
            ("Bank", "GBP", "GBP"),
            "10",
            Some("1"),
            "2026-03-01T00:00:00",
        );
        position(
            conn,
            ("Bank", "JPY", "JPY"),
            "1000",
            Some("1"),
            "2026-03-01T00:00:00",
        );
        let err = valuation::run(conn, d("2026-03-30")).unwrap_err();
        let LedgerError::Valuation(ValuationError::Incomplete { missing_rates, .. }) = &err else {
            panic!("{}: {err}", db.name());
        };
        let pairs: Vec<String> = missing_rates
            .iter()
            .map(|m| format!("{}->{} {}", m.from, m.to, m.on))
            .collect();
        assert_eq!(
            pairs,
            ["GBP->CNY 2026-03-30", "JPY->CNY 2026-03-30"],
            "{}",
            db.name()
        );
        let message = err.to_string();
        assert!(
            message.contains("GBP→CNY") && message.contains("JPY→CNY"),
            "{message}"
        );
        assert_eq!(err.kind(), ledger::error::ErrorKind::MissingData);
        assert_eq!(snapshot_lines(conn, "2026-03-30"), before, "{}", db.name());
    }
}

#[test]
fn a_zone_with_daylight_saving_is_refused_by_name() {
    for db in TestDb::each("a_zone_with_daylight_saving_is_refused_by_name") {
        let conn = &mut db.migrated();
        set_setting(conn, "snapshot_timezone", "Europe/London");
        let err = valuation::run(conn, d("2026-03-30")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("Europe/London") && message.contains("+08:00"),
            "{message}"
        );
        // A fixed offset works and moves snapshot_time to that zone's end of day.
        set_setting(conn, "snapshot_timezone", "+00:00");
        seed_holdings(conn);
        valuation::run(conn, d("2026-03-30")).unwrap();
        let lines = snapshot_lines(conn, "2026-03-30");
        assert_eq!(lines[0].0, "2026-03-30 23:59:59", "{}", db.name());
    }
}
