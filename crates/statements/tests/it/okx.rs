use statements::{parse_okx_balance, parse_okx_bills_csv, parse_okx_bills_json, StatementError};

use super::{assert_refused, opt_plain, plain};

const BILLS_CSV: &str = include_str!("../fixtures/okx_bills.csv");
const BILLS_JSON: &str = include_str!("../fixtures/okx_bills.json");
const BALANCE_JSON: &str = include_str!("../fixtures/okx_balance.json");

#[test]
fn bills_json_parses_to_exact_values() {
    let bills = parse_okx_bills_json(BILLS_JSON.as_bytes()).unwrap();
    assert_eq!(bills.len(), 2);
    let trade = &bills[0];
    assert_eq!(trade.bill_id, "623950854533513219");
    assert_eq!(trade.natural_key(), "okx:bill:623950854533513219");
    assert_eq!(trade.ccy, "USDT");
    assert_eq!(plain(&trade.bal), "8694.2179403378290202");
    assert_eq!(
        opt_plain(&trade.bal_chg).as_deref(),
        Some("0.0219338232210000")
    );
    assert_eq!(opt_plain(&trade.sz).as_deref(), Some("0.021955779"));
    assert_eq!(opt_plain(&trade.px).as_deref(), Some("27105.9"));
    assert_eq!(opt_plain(&trade.fee).as_deref(), Some("-0.000021955779"));
    assert_eq!(trade.fee_ccy.as_deref(), Some("USDT"));
    assert_eq!(
        (trade.bill_type.as_str(), trade.sub_type.as_deref()),
        ("2", Some("1"))
    );
    assert_eq!(trade.inst_id.as_deref(), Some("BTC-USDT"));
    assert_eq!(trade.inst_type.as_deref(), Some("SPOT"));
    assert_eq!(trade.ord_id.as_deref(), Some("623950854525124608"));
    assert_eq!(trade.ts.to_string(), "2023-09-18 10:37:56.167");
    let transfer = &bills[1];
    assert_eq!(plain(&transfer.bal), "123456789012345678901234.567890");
    assert_eq!(
        opt_plain(&transfer.bal_chg).as_deref(),
        Some("-0.000000000000000001")
    );
    assert_eq!((transfer.px.as_ref(), transfer.pnl.as_ref()), (None, None));
    assert_eq!(transfer.inst_id, None);
}

#[test]
fn balance_json_parses_to_exact_values() {
    let account = parse_okx_balance(BALANCE_JSON.as_bytes()).unwrap();
    assert_eq!(plain(&account.total_eq), "55837.43556134779");
    assert_eq!(
        account.updated.unwrap().to_string(),
        "2024-01-17 06:49:24.160"
    );
    let usdt = &account.balances[0];
    assert_eq!(usdt.ccy, "USDT");
    assert_eq!(plain(&usdt.eq), "4992.890093622894");
    assert_eq!(plain(&usdt.cash_bal), "4850.435693622894");
    assert_eq!(
        opt_plain(&usdt.avail_bal).as_deref(),
        Some("4834.317093622894")
    );
    assert_eq!(opt_plain(&usdt.frozen_bal).as_deref(), Some("158.573"));
    assert_eq!(
        opt_plain(&usdt.eq_usd).as_deref(),
        Some("4991.542013297616")
    );
    assert_eq!(usdt.natural_key(), "okx:balance:USDT:1705449605015");
    let eth = &account.balances[1];
    assert_eq!(plain(&eth.eq), "0.500000000000000001");
    assert_eq!(
        opt_plain(&eth.avail_bal).as_deref(),
        Some("0.00000000000000000001")
    );
    assert_eq!(
        (eth.eq_usd.as_ref(), eth.frozen_bal.as_ref(), eth.updated),
        (None, None, None)
    );
    assert_eq!(eth.natural_key(), "okx:balance:ETH");
}

#[test]
fn bills_csv_parses_to_exact_values() {
    let bills = parse_okx_bills_csv(BILLS_CSV.as_bytes()).unwrap();
    assert_eq!(bills.len(), 3);
    let btc = &bills[0];
    assert_eq!(btc.bill_id, "668851234567890123");
    assert_eq!(btc.ord_id.as_deref(), Some("668851234500000001"));
    assert_eq!(btc.ts.to_string(), "2024-01-05 09:30:12");
    assert_eq!(
        (btc.bill_type.as_str(), btc.sub_type.as_deref()),
        ("Trade", Some("Buy"))
    );
    assert_eq!(btc.inst_id.as_deref(), Some("BTC-USDT"));
    assert_eq!(opt_plain(&btc.sz).as_deref(), Some("0.00123456"));
    assert_eq!(btc.sz_ccy.as_deref(), Some("BTC"));
    assert_eq!(opt_plain(&btc.px).as_deref(), Some("42123.5"));
    assert_eq!(opt_plain(&btc.fee).as_deref(), Some("-0.00000123456"));
    assert_eq!(btc.fee_ccy.as_deref(), Some("BTC"));
    assert_eq!(
        (plain(&btc.bal), btc.ccy.as_str()),
        ("0.00123332544".into(), "BTC")
    );
    assert_eq!(btc.bal_chg, None);
    let transfer = &bills[2];
    assert_eq!(
        (transfer.ord_id.as_ref(), transfer.inst_id.as_ref()),
        (None, None)
    );
    assert_eq!(
        (transfer.px.as_ref(), transfer.pnl.as_ref()),
        (None, None),
        "-- is no value"
    );
    assert_eq!(transfer.natural_key(), "okx:bill:668851234567890125");
}

fn bills_json_error(json: &str) -> StatementError {
    parse_okx_bills_json(json.as_bytes()).unwrap_err()
}

#[test]
fn error_answers_name_code_and_message() {
    let answer = r#"{"code":"50111","msg":"Invalid OK-ACCESS-KEY","data":[]}"#;
    let err = bills_json_error(answer);
    assert_refused(
        err,
        &[
            "OKX bills JSON",
            "code \"50111\"",
            "\"Invalid OK-ACCESS-KEY\"",
        ],
    );
    let answer = r#"{"code":"51000","msg":"Parameter ccy error","data":[{"odd":1}]}"#;
    let err = parse_okx_balance(answer.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &["OKX balance JSON", "\"51000\"", "Parameter ccy error"],
    );
}

#[test]
fn malformed_json_is_refused_with_its_path() {
    let bad_decimal = BILLS_JSON.replace("\"0.021955779\"", "\"0.02x\"");
    let err = bills_json_error(&bad_decimal);
    assert_refused(
        err,
        &[
            "OKX bills JSON at $.data[0].sz",
            "\"0.02x\"",
            "not a decimal",
        ],
    );
    let number = BILLS_JSON.replace("\"8694.2179403378290202\"", "8694.21");
    assert_refused(
        bills_json_error(&number),
        &["at $.data[0].bal", "expected a string"],
    );
    let missing = BILLS_JSON.replace("\"billId\": \"623950854533513220\",", "");
    assert_refused(
        bills_json_error(&missing),
        &["at $.data[1]", "missing field `billId`"],
    );
    let bad_ts = BILLS_JSON.replace("\"1695033500000\"", "\"2023-09-18\"");
    assert_refused(
        bills_json_error(&bad_ts),
        &["at $.data[1].ts", "Unix milliseconds"],
    );
    let eth = BALANCE_JSON.replace(
        "\"0.500000000000000001\",\n                    \"eqUsd\"",
        "\"\",\n\"eqUsd\"",
    );
    let err = parse_okx_balance(eth.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &["OKX balance JSON at $.data[0].details[1].eq", "\"\""],
    );
    let empty = r#"{"code":"0","msg":"","data":[]}"#;
    let err = parse_okx_balance(empty.as_bytes()).unwrap_err();
    assert_refused(err, &["at $.data", "holds 0 accounts"]);
}

#[test]
fn foreign_and_truncated_json_is_refused() {
    assert_refused(
        bills_json_error(&BILLS_JSON[..200]),
        &["at $", "truncated", "EOF"],
    );
    assert_refused(bills_json_error(BILLS_CSV), &["at $:", "line 1 column"]);
    let evm = include_str!("../fixtures/evm_balances.json");
    assert_refused(
        bills_json_error(evm),
        &["at $.code", "not an OKX API v5 answer"],
    );
    assert_refused(bills_json_error("{\"code\":\"0\"} {}"), &["trailing"]);
}

#[test]
fn malformed_csv_is_refused_with_its_line() {
    let bad = BILLS_CSV.replace("0.00123332544", "0.0012,3");
    let err = parse_okx_bills_csv(bad.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &["OKX bills CSV line 3", "has 15 fields, the header has 14"],
    );
    let bad = BILLS_CSV.replace("0.00123332544", "1.2.3");
    let err = parse_okx_bills_csv(bad.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &["line 3", "column \"Balance\" is \"1.2.3\", not a decimal"],
    );
    let bad = BILLS_CSV.replace("2024-01-04 18:00:00", "04/01/2024 18:00");
    let err = parse_okx_bills_csv(bad.as_bytes()).unwrap_err();
    assert_refused(err, &["line 5", "column \"Time\"", "yyyy-MM-dd HH:mm:ss"]);
    let bad = BILLS_CSV.replace(",Balance Unit", ",Unit");
    let err = parse_okx_bills_csv(bad.as_bytes()).unwrap_err();
    assert_refused(err, &["line 2", "no column \"Balance Unit\""]);
    let wise = include_str!("../fixtures/wise_statement.csv");
    let err = parse_okx_bills_csv(wise.as_bytes()).unwrap_err();
    assert_refused(
        err,
        &[
            "none of the first 6 lines is a header with column \"id\"",
            "OKX bills CSV export",
        ],
    );
}
