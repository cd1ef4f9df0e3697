//! The crate's single error type.
//!
//! Every variant renders as one line saying what is wrong, where (CSV line,
//! XML line and byte offset, or JSON path) and what the user can do about it,
//! so a backend can show the message unchanged to the person who uploaded the
//! file.

use thiserror::Error;

/// Why a statement, or a value handed to one of the helpers, was refused.
///
/// Parsers never return part of a file: the first problem ends the parse with
/// one of these.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatementError {
    /// A CSV export is malformed or is not the export the parser expects.
    #[error("{format} line {line}: {problem}; {hint}")]
    Csv {
        /// Which export, e.g. "wise CSV".
        format: &'static str,
        /// 1-based line of the offending record (1 is the header).
        line: u64,
        /// What is wrong, naming the column and quoting the value.
        problem: String,
        /// What the user should do.
        hint: &'static str,
    },
    /// An XML statement is malformed, truncated or of another kind.
    #[error("{format} line {line} (byte {byte}): {problem}; {hint}")]
    Xml {
        /// Which document, e.g. "IBKR Flex XML".
        format: &'static str,
        /// 1-based line where the offending markup ends (approximate).
        line: u64,
        /// Byte offset of the offending markup (approximate).
        byte: u64,
        /// What is wrong, naming the element and attribute.
        problem: String,
        /// What the user should do.
        hint: &'static str,
    },
    /// A JSON document is malformed or lacks what the parser needs.
    #[error("{format} at {path}: {problem}; {hint}")]
    Json {
        /// Which document, e.g. "OKX bills JSON".
        format: &'static str,
        /// JSON path of the offending value, e.g. `$.data[3].balChg`.
        path: String,
        /// What is wrong, quoting the value.
        problem: String,
        /// What the user should do.
        hint: &'static str,
    },
    /// The provider's API answered with an error instead of data.
    #[error("{format}: the provider answered code {code:?} with message {msg:?} instead of data; {hint}")]
    Provider {
        /// Which document, e.g. "OKX bills JSON".
        format: &'static str,
        /// The provider's error code, e.g. "50111".
        code: String,
        /// The provider's error message.
        msg: String,
        /// What the user should do.
        hint: &'static str,
    },
    /// A JSON-RPC hex quantity or ABI word could not be converted.
    #[error("hex quantity {input}: {problem}; pass the JSON-RPC result unchanged (0x and 1 to 64 hex digits)")]
    Hex {
        /// The value given, quoted and shortened.
        input: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A string that should be an EVM address is not one.
    #[error("address {input}: {problem}; pass the address as 0x followed by 40 hex digits")]
    Address {
        /// The value given, quoted and shortened.
        input: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A statement source name that this crate does not know.
    #[error("unknown statement source {given}; accepted names are: ibkr, wise, okx, evm")]
    UnknownSource {
        /// The name given, quoted and shortened.
        given: String,
    },
}

/// Quotes user-supplied text for an error message: shortened so one bad
/// megabyte-long field cannot flood a log line, and escaped (`{:?}`) so a
/// newline inside it cannot break the one-line promise.
pub(crate) fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    if text.chars().count() <= MAX_CHARS {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(MAX_CHARS).collect();
    format!("{head:?}...")
}

/// Flattens a library's error message to one line (they are almost always
/// one line already; this makes it a guarantee).
pub(crate) fn one_line(message: impl std::fmt::Display) -> String {
    message.to_string().replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_newlines_and_shortens() {
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("\"{}\"...", "x".repeat(40)));
    }

    #[test]
    fn every_variant_is_one_line() {
        let err = StatementError::Csv {
            format: "wise CSV",
            line: 7,
            problem: one_line("two\nlines"),
            hint: "export again",
        };
        let text = err.to_string();
        assert_eq!(text, "wise CSV line 7: two lines; export again");
        assert!(!text.contains('\n'));
    }
}
