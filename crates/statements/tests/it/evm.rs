use statements::{balance_of_call_data, hex_quantity_to_decimal, parse_evm_balances};

use super::{assert_refused, plain};

const BALANCES: &str = include_str!("../fixtures/evm_balances.json");
const WALLET: &str = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045";

#[test]
fn balances_parse_exactly_to_the_last_wei() {
    let balances = parse_evm_balances(BALANCES.as_bytes()).unwrap();
    let got: Vec<(&str, String)> = balances
        .iter()
        .map(|b| (b.symbol.as_str(), plain(&b.balance)))
        .collect();
    let expected = [
        ("ETH", "1234.567890123456789012"),
        ("USDC", "1234.567890"),
        ("SHIB", "123456789012.345678901234567890"),
        ("WETH", "0.000000000000000001"),
    ];
    let expected: Vec<(&str, String)> = expected.iter().map(|(s, v)| (*s, v.to_string())).collect();
    assert_eq!(got, expected);
    let eth = &balances[0];
    assert_eq!(
        (eth.chain.as_str(), eth.wallet.as_str()),
        ("ethereum", WALLET)
    );
    assert_eq!(
        (eth.contract.as_ref(), eth.decimals, eth.block),
        (None, 18, Some(19_000_000))
    );
    assert_eq!(eth.natural_key(), format!("evm:ethereum:{WALLET}:native"));
    let usdc = &balances[1];
    let contract = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
    assert_eq!(usdc.contract.as_deref(), Some(contract));
    assert_eq!(
        usdc.natural_key(),
        format!("evm:ethereum:{WALLET}:{contract}")
    );
}

#[test]
fn hex_quantities_convert_exactly() {
    let one_wei = hex_quantity_to_decimal("0x1", 18).unwrap();
    assert_eq!(plain(&one_wei), "0.000000000000000001");
    let max = format!("0x{}", "f".repeat(64));
    let max = hex_quantity_to_decimal(&max, 0).unwrap();
    let expected = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    assert_eq!(plain(&max), expected);
    assert_eq!(
        plain(&hex_quantity_to_decimal("0x0", 6).unwrap()),
        "0.000000"
    );
    assert_eq!(
        plain(&hex_quantity_to_decimal("0xDE0B6B3A7640000", 18).unwrap()),
        "1.000000000000000000"
    );
}

#[test]
fn bad_hex_is_refused() {
    let cases = [
        ("0x", "holds no digits"),
        ("1234", "does not start with 0x"),
        ("0x12g4", "'g'"),
        ("0x-1", "not a hex digit"),
    ];
    for (hex, part) in cases {
        let err = hex_quantity_to_decimal(hex, 18).unwrap_err();
        assert_refused(err, &["hex quantity", part, "0x and 1 to 64 hex digits"]);
    }
    let too_long = format!("0x1{}", "0".repeat(64));
    assert_refused(
        hex_quantity_to_decimal(&too_long, 0).unwrap_err(),
        &["65 hex digits", "256 bits"],
    );
}

#[test]
fn balance_of_call_data_pads_the_owner() {
    let data = balance_of_call_data("0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045").unwrap();
    assert_eq!(
        data,
        format!("0x70a08231000000000000000000000000{}", &WALLET[2..])
    );
    assert_eq!(data.len(), 2 + 8 + 64);
    for (bad, part) in [
        ("0xd8dA6BF26964aF9D7eEd9e03E53415D37aA9604", "39 characters"),
        (
            "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA960450",
            "41 characters",
        ),
        (
            "d8dA6BF26964aF9D7eEd9e03E53415D37aA96045",
            "does not start with 0x",
        ),
        (
            "0xz8dA6BF26964aF9D7eEd9e03E53415D37aA96045",
            "'z', which is not a hex digit",
        ),
    ] {
        let err = balance_of_call_data(bad).unwrap_err();
        assert_refused(err, &["address", part, "0x followed by 40 hex digits"]);
    }
}

fn doc_error(json: &str) -> statements::StatementError {
    parse_evm_balances(json.as_bytes()).unwrap_err()
}

#[test]
fn malformed_documents_are_refused_with_their_path() {
    let bad_hex = BALANCES.replace("0x42ed123b0bd8203a14", "0x42ed12zz");
    assert_refused(
        doc_error(&bad_hex),
        &[
            "EVM balances JSON at $.native.result",
            "\"0x42ed12zz\"",
            "'z'",
        ],
    );
    let short = BALANCES.replace("0x95aD61b0a150d79219dCF64E1E6Cc01f0B64C4cE", "0x95aD61");
    assert_refused(
        doc_error(&short),
        &[
            "at $.tokens[1].contract",
            "has 6 characters after 0x, not 40",
        ],
    );
    let wallet = BALANCES.replace("0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045", "vitalik.eth");
    assert_refused(
        doc_error(&wallet),
        &["at $.wallet", "\"vitalik.eth\"", "not an address"],
    );
    let empty_call = BALANCES.replace(
        "0x0000000000000000000000000000000000000000000000000000000000000001",
        "0x",
    );
    assert_refused(
        doc_error(&empty_call),
        &["at $.tokens[2].result", "without code"],
    );
    let rpc_error = BALANCES.replace(
        "\"result\": \"0x42ed123b0bd8203a14\"",
        "\"error\": {\"code\": -32000, \"message\": \"header not found\"}",
    );
    assert_refused(
        doc_error(&rpc_error),
        &[
            "at $.native.error",
            "JSON-RPC error -32000",
            "header not found",
        ],
    );
    let no_contract = BALANCES.replace(
        "\"contract\": \"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48\", ",
        "",
    );
    assert_refused(
        doc_error(&no_contract),
        &["at $.tokens[0].contract", "is missing"],
    );
    let decimals = BALANCES.replace("\"decimals\": 6", "\"decimals\": 6.5");
    assert_refused(doc_error(&decimals), &["at $.tokens[0].decimals"]);
    let huge = BALANCES.replace("\"decimals\": 6", "\"decimals\": 256");
    assert_refused(doc_error(&huge), &["at $.tokens[0].decimals", "uint8"]);
    let okx = include_str!("../fixtures/okx_balance.json");
    assert_refused(doc_error(okx), &["at $", "missing field `chain`"]);
    assert_refused(
        doc_error(&BALANCES[..100]),
        &["EVM balances JSON at $", "truncated", "EOF"],
    );
}
