//! Integration tests: each provider's real format parsed to exact values,
//! and malformed or foreign files refused with a one-line error.

mod evm;
mod ibkr;
mod okx;
mod source;
mod wise;

use bigdecimal::BigDecimal;
use statements::StatementError;

/// A decimal as plain text, so tests compare digits and scale, not just value.
fn plain(value: &BigDecimal) -> String {
    value.to_plain_string()
}

fn opt_plain(value: &Option<BigDecimal>) -> Option<String> {
    value.as_ref().map(plain)
}

/// Asserts the error renders as one line holding every one of `parts`.
#[track_caller]
fn assert_refused(err: StatementError, parts: &[&str]) {
    let text = err.to_string();
    assert!(!text.contains('\n'), "not one line: {text}");
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}
