//! Every malformed or foreign file is refused with a one-line error naming where, and nothing
//! is written but the run's record.

use db_conn::DbConnection;
use imports::{ImportError, Source};
use test_kit::TestDb;

use crate::{counts, fixture, import};

/// Imports `bytes`, expecting a refusal that mentions every part; checks no table changed but
/// the run records.
fn refused(conn: &mut DbConnection, source: Source, bytes: &[u8], parts: &[&str]) {
    let before = counts(conn);
    let err = imports::import_bytes(conn, source, bytes).expect_err("a refusal");
    let text = err.to_string();
    assert!(!text.contains('\n'), "not one line: {text}");
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
    assert!(err.is_input_error(), "{text}");
    let after = counts(conn);
    for (table, n) in &before {
        let grew = match *table {
            "import_runs" => 1,
            "ibkr_sync_logs" if source == Source::Ibkr => 1,
            _ => 0,
        };
        assert_eq!(after[table], n + grew, "{table} after {text}");
    }
    let run = &imports::latest_runs(conn, 1).unwrap()[0];
    assert_eq!(run.status, "failed");
    assert_eq!(run.error.as_deref(), Some(text.as_str()));
    assert_eq!((run.added, run.updated, run.skipped), (0, 0, 0));
}

fn ibkr_variants() -> Vec<(String, Vec<&'static str>)> {
    let good = String::from_utf8(fixture("ibkr_flex.xml")).unwrap();
    // Cut inside <Trades>: the reader has yielded the account, positions and cash by then.
    let cut = good.find("<Order ").unwrap();
    vec![
        (good[..cut].to_owned(), vec!["IBKR Flex XML line", "truncated"]),
        (
            good.replacen("quantity=\"10\" tradePrice", "quantity=\"ten\" tradePrice", 1),
            vec!["IBKR Flex XML line", "quantity"],
        ),
        ("<html><body>login</body></html>".into(), vec!["not a Flex statement"]),
        (String::new(), vec!["empty"]),
        (
            good.replacen("markPrice=\"181.18\"", "markPrice=\"181.1800000000000000001\"", 1),
            vec!["ibkr:position:U1234567:265598:2024-01-05", "markPrice", "18 digits"],
        ),
        (
            good.replacen("currency=\"USD\" fxRateToBase=\"1\" assetCategory=\"STK\" symbol=\"AAPL\" description=\"APPLE INC\" conid=\"265598\" securityID=\"US0378331005\" securityIDType=\"ISIN\" listingExchange=\"NASDAQ\" tradeID", "currency=\"usd\" fxRateToBase=\"1\" assetCategory=\"STK\" symbol=\"AAPL\" description=\"APPLE INC\" conid=\"265598\" securityID=\"US0378331005\" securityIDType=\"ISIN\" listingExchange=\"NASDAQ\" tradeID", 1),
            vec!["ibkr:trade:U1234567:681234567", "currency `usd`"],
        ),
    ]
}

#[test]
fn malformed_files_write_nothing() {
    for db in TestDb::each("malformed_files_write_nothing") {
        let mut conn = db.migrated();
        // Something to protect: a successful import of every source first.
        import(&mut conn, Source::Wise, &fixture("wise_statement.csv"));
        for (text, parts) in ibkr_variants() {
            refused(&mut conn, Source::Ibkr, text.as_bytes(), &parts);
        }
        let wise = String::from_utf8(fixture("wise_statement.csv")).unwrap();
        refused(
            &mut conn,
            Source::Wise,
            wise.replacen("\"-12.34\"", "\"12,34\"", 1).as_bytes(),
            &["wise CSV line 3", "Amount"],
        );
        refused(
            &mut conn,
            Source::Wise,
            &fixture("okx_bills.csv"),
            &["wise CSV line 1"],
        );
        refused(
            &mut conn,
            Source::Okx,
            &fixture("okx_bills.json"),
            &["okx:bill:623950854533513220", "bal", "20 digits"],
        );
        refused(
            &mut conn,
            Source::Okx,
            &fixture("okx_balance.json"),
            &["okx:balance:ETH", "availBal", "18 digits"],
        );
        refused(
            &mut conn,
            Source::Okx,
            br#"{"code":"50111","msg":"Invalid OK-ACCESS-KEY","data":[]}"#,
            &["50111"],
        );
        let bills = String::from_utf8(fixture("okx_bills.csv")).unwrap();
        refused(
            &mut conn,
            Source::Okx,
            bills.replacen("947.996012", "lots", 1).as_bytes(),
            &["OKX bills CSV line", "Balance"],
        );
        let evm = String::from_utf8(fixture("evm_balances.json")).unwrap();
        refused(
            &mut conn,
            Source::Evm,
            evm.replacen("0xd8dA6BF2", "0xZZdA6BF2", 1).as_bytes(),
            &["$.wallet"],
        );
        refused(
            &mut conn,
            Source::Evm,
            &fixture("wise_statement.csv"),
            &["EVM balances JSON"],
        );
        // Nothing of the refused files arrived; the first import is intact.
        assert_eq!(counts(&mut conn)["wise_transactions"], 4);
        assert_eq!(counts(&mut conn)["user_operations"], 0);
    }
}

#[test]
fn refused_error_is_a_statement_error_for_parse_failures() {
    let mut conn = TestDb::sqlite().migrated();
    let err = imports::import_bytes(&mut conn, Source::Ibkr, b"not xml").unwrap_err();
    assert!(matches!(err, ImportError::Statement(_)), "{err}");
}
