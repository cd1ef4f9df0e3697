use statements::{detect, Source};

use super::assert_refused;

#[test]
fn source_names_round_trip() {
    for source in Source::ALL {
        assert_eq!(source.to_string().parse::<Source>().unwrap(), source);
    }
    assert_eq!(" IBKR ".parse::<Source>().unwrap(), Source::Ibkr);
    let err = "revolut".parse::<Source>().unwrap_err();
    assert_refused(
        err,
        &[
            "unknown statement source \"revolut\"",
            "ibkr, wise, okx, evm",
        ],
    );
}

#[test]
fn detect_sniffs_each_fixture() {
    let cases: [(&[u8], Option<Source>); 7] = [
        (
            include_bytes!("../fixtures/ibkr_flex.xml"),
            Some(Source::Ibkr),
        ),
        (
            include_bytes!("../fixtures/wise_statement.csv"),
            Some(Source::Wise),
        ),
        (
            include_bytes!("../fixtures/okx_bills.csv"),
            Some(Source::Okx),
        ),
        (
            include_bytes!("../fixtures/okx_bills.json"),
            Some(Source::Okx),
        ),
        (
            include_bytes!("../fixtures/okx_balance.json"),
            Some(Source::Okx),
        ),
        (
            include_bytes!("../fixtures/evm_balances.json"),
            Some(Source::Evm),
        ),
        (b"<html></html>", None),
    ];
    for (bytes, expected) in cases {
        assert_eq!(detect(bytes), expected);
    }
    assert_eq!(detect(b""), None);
}
