//! Exact decimals from JSON without ever going through `f64`.
//!
//! serde_json (without `arbitrary_precision`, which would change number
//! handling for the whole workspace) stores non-integers as `f64`. These
//! helpers instead capture the number's original text as a `RawValue` and
//! parse that text into a `BigDecimal`. They accept JSON numbers (Wise) and
//! numeric strings (OKX); `""` and `null` become `None` in the `Option` form.
//! They only work with `serde_json` deserializers (which is all this crate uses).

use std::str::FromStr;

use bigdecimal::BigDecimal;
use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::value::RawValue;

/// Parses a JSON number literal or a numeric string's text.
pub(crate) fn parse(text: &str) -> Result<Option<BigDecimal>, String> {
    let text = text.trim();
    if text.is_empty() || text == "null" {
        return Ok(None);
    }
    let digits = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|e| e.to_string())?
    } else {
        text.to_owned()
    };
    let digits = digits.trim();
    if digits.is_empty() {
        return Ok(None);
    }
    BigDecimal::from_str(digits).map(Some).map_err(|_| {
        format!(
            "not a decimal number: {}",
            crate::redact::one_line(digits, 40)
        )
    })
}

/// `deserialize_with` for a required exact decimal.
pub(crate) fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<BigDecimal, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    parse(raw.get())
        .map_err(D::Error::custom)?
        .ok_or_else(|| D::Error::custom("missing decimal value"))
}

/// `deserialize_with` for an optional exact decimal (`""`/`null` → `None`).
/// Pair with `#[serde(default)]` so an absent field is also `None`.
pub(crate) fn exact_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BigDecimal>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    parse(raw.get()).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Row {
        #[serde(deserialize_with = "exact")]
        v: BigDecimal,
        #[serde(default, deserialize_with = "exact_opt")]
        o: Option<BigDecimal>,
    }

    fn row(json: &str) -> Row {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn keeps_digits_f64_would_lose() {
        let r = row(r#"{"v": 12345678901234567.891, "o": "0.1000000000000000000001"}"#);
        assert_eq!(r.v.to_string(), "12345678901234567.891");
        assert_eq!(r.o.unwrap().to_string(), "0.1000000000000000000001");
    }

    #[test]
    fn empty_and_null_are_none_and_exponents_parse() {
        assert!(row(r#"{"v": 1e3, "o": ""}"#).o.is_none());
        assert!(row(r#"{"v": 1, "o": null}"#).o.is_none());
        assert!(row(r#"{"v": 1}"#).o.is_none());
        assert_eq!(row(r#"{"v": 1.5e3}"#).v, BigDecimal::from(1500));
    }

    #[test]
    fn rejects_garbage() {
        assert!(serde_json::from_str::<Row>(r#"{"v": "abc"}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"v": ""}"#).is_err());
    }
}
