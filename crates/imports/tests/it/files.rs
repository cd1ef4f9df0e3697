//! Each provider's sample imported: exact rows, idempotent re-import, changed values updated.

use diesel::prelude::*;
use pf_data::models::{
    IbkrAccount, IbkrBalance, IbkrPosition, IbkrSyncLog, ImportRun, OkxBalance, OkxTransaction,
    UserOperation, Web3Token, WiseTransaction,
};
use pf_data::resource::{ListFilter, Resource};
use test_kit::TestDb;

use crate::{counts, fixture, import, table};
use imports::Source;

fn all<R: Resource>(conn: &mut db_conn::DbConnection) -> Vec<R> {
    let filter = ListFilter {
        limit: 500,
        ..ListFilter::default()
    };
    R::list(conn, &filter).unwrap()
}

fn d(row: &Option<pf_data::decimal::Decimal>) -> Option<String> {
    row.as_ref().map(ToString::to_string)
}

#[test]
fn ibkr_statement_rows_and_reimport() {
    for db in TestDb::each("ibkr_statement_rows_and_reimport") {
        let mut conn = db.migrated();
        let b = db.name();
        let first = import(&mut conn, Source::Ibkr, &fixture("ibkr_flex.xml"));
        assert_eq!(
            (first.added, first.updated, first.skipped),
            (8, 0, 0),
            "{b}: {first:?}"
        );
        assert_eq!(table(&first, "ibkr_accounts"), (1, 0, 0), "{b}");
        assert_eq!(table(&first, "ibkr_positions"), (3, 0, 0), "{b}");
        assert_eq!(table(&first, "ibkr_balances"), (2, 0, 0), "{b}");
        assert_eq!(table(&first, "user_operations"), (2, 0, 0), "{b}");
        assert_eq!(first.file_sha256.len(), 64, "{b}");

        let accounts: Vec<IbkrAccount> = all(&mut conn);
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].account_id, "U1234567");
        let positions: Vec<IbkrPosition> = all(&mut conn);
        let shown: Vec<_> = positions
            .iter()
            .map(|p| {
                (
                    p.symbol.as_str(),
                    p.sec_type.as_str(),
                    p.currency.as_str(),
                    p.quantity.to_string(),
                    d(&p.avg_cost),
                    d(&p.market_price),
                    d(&p.market_value),
                    p.snapshot_date.to_string(),
                )
            })
            .collect();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            shown,
            [
                (
                    "AAPL",
                    "STK",
                    "USD",
                    "10".into(),
                    s("150.123456"),
                    s("181.18"),
                    s("1811.8"),
                    "2024-01-05".into()
                ),
                (
                    "SAP",
                    "STK",
                    "EUR",
                    "-3".into(),
                    None,
                    s("139.86"),
                    s("-419.58"),
                    "2024-01-05".into()
                ),
                (
                    "BTC",
                    "CRYPTO",
                    "USD",
                    "0.00012345".into(),
                    s("42000"),
                    s("44123.25"),
                    s("5.44701521"),
                    "2024-01-05".into()
                ),
            ],
            "{b}"
        );
        let cash: Vec<IbkrBalance> = all(&mut conn);
        let shown: Vec<_> = cash
            .iter()
            .map(|c| {
                (
                    c.currency.as_str(),
                    c.cash_balance.to_string(),
                    c.snapshot_date.to_string(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("EUR", "1234.56".into(), "2024-01-05".into()),
                ("USD", "8513.197".into(), "2024-01-05".into())
            ],
            "{b}"
        );
        let ops: Vec<UserOperation> = all(&mut conn);
        let shown: Vec<_> = ops
            .iter()
            .map(|o| {
                (
                    o.operation_date.to_string(),
                    o.platform.as_str(),
                    o.asset_code.as_str(),
                    o.operation_type.as_str(),
                    d(&o.quantity),
                    d(&o.price),
                    o.amount.to_string(),
                    o.currency.as_str(),
                    d(&o.fee),
                    o.external_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "2024-01-03".into(),
                    "IBKR",
                    "AAPL",
                    "buy",
                    s("10"),
                    s("184.25"),
                    "1842.5".into(),
                    "USD",
                    s("1"),
                    Some("ibkr:trade:U1234567:681234567:2345678901")
                ),
                (
                    "2024-01-04".into(),
                    "IBKR",
                    "EUR.USD",
                    "sell",
                    s("1000.5"),
                    s("1.09451"),
                    "1095.057255".into(),
                    "USD",
                    s("2"),
                    Some("ibkr:trade:U1234567:681234999:2345679999")
                ),
            ],
            "{b}"
        );

        let before = counts(&mut conn);
        let again = import(&mut conn, Source::Ibkr, &fixture("ibkr_flex.xml"));
        assert_eq!(
            (again.added, again.updated, again.skipped),
            (0, 0, 8),
            "{b}: {again:?}"
        );
        assert_eq!(again.file_sha256, first.file_sha256);
        let after = counts(&mut conn);
        for (name, n) in &before {
            let grew = i64::from(matches!(*name, "import_runs" | "ibkr_sync_logs"));
            assert_eq!(after[name], n + grew, "{b}: {name}");
        }
        let logs: Vec<IbkrSyncLog> = all(&mut conn);
        assert_eq!(logs.len(), 2, "{b}");
        assert!(logs
            .iter()
            .all(|l| l.status == "ok" && l.ibkr_account_id == Some(accounts[0].id)));
        assert_eq!(logs[1].records_synced, 8);
        let runs = imports::latest_runs(&mut conn, 10).unwrap();
        assert_eq!(runs.len(), 2, "{b}");
        assert_eq!(runs[0].id, again.run_id, "{b}: newest first");
        assert_eq!(
            (runs[0].added, runs[0].skipped, runs[0].status.as_str()),
            (0, 8, "ok")
        );
    }
}

#[test]
fn ibkr_changed_trade_is_updated_and_dashed_dates_import() {
    for db in TestDb::each("ibkr_changed_trade_is_updated") {
        let mut conn = db.migrated();
        let b = db.name();
        import(&mut conn, Source::Ibkr, &fixture("ibkr_flex.xml"));
        let text = String::from_utf8(fixture("ibkr_flex.xml")).unwrap();
        let changed = text.replacen("tradePrice=\"184.25\"", "tradePrice=\"184.26\"", 1);
        let report = import(&mut conn, Source::Ibkr, changed.as_bytes());
        assert_eq!(table(&report, "user_operations"), (0, 1, 1), "{b}");
        let ops: Vec<UserOperation> = all(&mut conn);
        assert_eq!(d(&ops[0].price).as_deref(), Some("184.26"), "{b}");

        let dashed = import(
            &mut conn,
            Source::Ibkr,
            &fixture("ibkr_flex_dashed_dates.xml"),
        );
        assert_eq!(table(&dashed, "ibkr_accounts"), (2, 0, 0), "{b}");
        assert_eq!(table(&dashed, "ibkr_balances"), (1, 0, 0), "{b}");
        let cash: Vec<IbkrBalance> = all(&mut conn);
        assert_eq!(
            cash.last().unwrap().cash_balance.to_string(),
            "0.000000000000000001",
            "{b}"
        );
    }
}

#[test]
fn wise_statement_rows_and_reimport() {
    for db in TestDb::each("wise_statement_rows_and_reimport") {
        let mut conn = db.migrated();
        let b = db.name();
        let first = import(&mut conn, Source::Wise, &fixture("wise_statement.csv"));
        assert_eq!(table(&first, "wise_transactions"), (4, 0, 0), "{b}");
        let rows: Vec<WiseTransaction> = all(&mut conn);
        let shown: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.transaction_id.as_str(),
                    r.transaction_type.as_str(),
                    r.transaction_date.to_string(),
                    r.amount.to_string(),
                    r.currency.as_str(),
                    r.reference_number.as_deref(),
                    d(&r.secondary_amount),
                    r.secondary_currency.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "TRANSFER-812345678",
                    "TRANSFER",
                    "2024-01-05 00:00:00".into(),
                    "-250".into(),
                    "EUR",
                    Some("Rent January"),
                    None,
                    None
                ),
                (
                    "CARD-1234567890",
                    "CARD",
                    "2024-01-04 00:00:00".into(),
                    "-12.34".into(),
                    "EUR",
                    None,
                    None,
                    None
                ),
                (
                    "BALANCE-987654321",
                    "BALANCE",
                    "2024-01-03 00:00:00".into(),
                    "-500".into(),
                    "EUR",
                    None,
                    Some("542.68".into()),
                    Some("USD")
                ),
                (
                    "TRANSFER-812000001",
                    "TRANSFER",
                    "2024-01-02 00:00:00".into(),
                    "2282.69".into(),
                    "EUR",
                    Some("SALARY DEC"),
                    None,
                    None
                ),
            ],
            "{b}"
        );
        let again = import(&mut conn, Source::Wise, &fixture("wise_statement.csv"));
        assert_eq!(
            (again.added, again.updated, again.skipped),
            (0, 0, 4),
            "{b}"
        );
    }
}

#[test]
fn okx_bills_csv_and_balance_rows_and_reimport() {
    for db in TestDb::each("okx_bills_csv_and_balance") {
        let mut conn = db.migrated();
        let b = db.name();
        let bills = import(&mut conn, Source::Okx, &fixture("okx_bills.csv"));
        assert_eq!(table(&bills, "okx_transactions"), (3, 0, 0), "{b}");
        let rows: Vec<OkxTransaction> = all(&mut conn);
        let shown: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.bill_id.as_str(),
                    r.tx_type.as_str(),
                    r.amount.to_string(),
                    r.currency.as_str(),
                    d(&r.fee),
                    d(&r.balance),
                    r.tx_time.to_string(),
                )
            })
            .collect();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            shown,
            [
                (
                    "668851234567890123",
                    "Trade",
                    "0.00123456".into(),
                    "BTC",
                    s("-0.00000123456"),
                    s("0.00123332544"),
                    "2024-01-05 09:30:12".into()
                ),
                (
                    "668851234567890124",
                    "Trade",
                    "-52.003988".into(),
                    "USDT",
                    s("0"),
                    s("947.996012"),
                    "2024-01-05 09:30:12".into()
                ),
                (
                    "668851234567890125",
                    "Transfer in",
                    "1000".into(),
                    "USDT",
                    s("0"),
                    s("1000"),
                    "2024-01-04 18:00:00".into()
                ),
            ],
            "{b}"
        );
        let again = import(&mut conn, Source::Okx, &fixture("okx_bills.csv"));
        assert_eq!(
            (again.added, again.updated, again.skipped),
            (0, 0, 3),
            "{b}"
        );

        // The fixture's ETH availBal has 20 decimals, beyond the columns: a balance within them.
        let text = String::from_utf8(fixture("okx_balance.json")).unwrap();
        let balance = text.replace("\"0.00000000000000000001\"", "\"0.000000000000000001\"");
        let first = import(&mut conn, Source::Okx, balance.as_bytes());
        assert_eq!(table(&first, "okx_balances"), (2, 0, 0), "{b}");
        let rows: Vec<OkxBalance> = all(&mut conn);
        let shown: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.currency.as_str(),
                    r.available.to_string(),
                    r.frozen.to_string(),
                    r.total.to_string(),
                    d(&r.usd_value),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "USDT",
                    "4834.317093622894".into(),
                    "158.573".into(),
                    "4992.890093622894".into(),
                    s("4991.542013297616")
                ),
                (
                    "ETH",
                    "0.000000000000000001".into(),
                    "0".into(),
                    "0.500000000000000001".into(),
                    None
                ),
            ],
            "{b}"
        );
        let again = import(&mut conn, Source::Okx, balance.as_bytes());
        assert_eq!(
            (again.added, again.updated, again.skipped),
            (0, 0, 2),
            "{b}"
        );
    }
}

#[test]
fn evm_balances_rows_and_reimport() {
    for db in TestDb::each("evm_balances_rows_and_reimport") {
        let mut conn = db.migrated();
        let b = db.name();
        let first = import(&mut conn, Source::Evm, &fixture("evm_balances.json"));
        assert_eq!(table(&first, "web3_tokens"), (4, 0, 0), "{b}");
        let rows: Vec<Web3Token> = all(&mut conn);
        let shown: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.chain.as_str(),
                    r.token_symbol.as_str(),
                    r.contract_address.as_deref(),
                    r.balance.to_string(),
                )
            })
            .collect();
        assert_eq!(
            shown[0],
            ("ethereum", "ETH", None, "1234.567890123456789012".into()),
            "{b}"
        );
        assert_eq!(
            shown[1],
            (
                "ethereum",
                "USDC",
                Some("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"),
                "1234.56789".into()
            ),
            "{b}"
        );
        assert_eq!(shown[3].3, "0.000000000000000001", "{b}");
        assert!(rows
            .iter()
            .all(|r| r.wallet_address == "0xd8da6bf26964af9d7eed9e03e53415d37aa96045"));
        let again = import(&mut conn, Source::Evm, &fixture("evm_balances.json"));
        assert_eq!(
            (again.added, again.updated, again.skipped),
            (0, 0, 4),
            "{b}"
        );
        let runs: Vec<ImportRun> = all(&mut conn);
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r.source == "evm" && r.status == "ok"));
        let _ = pf_data::schema::import_runs::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap();
    }
}
