//! JSON reading shared by the OKX and EVM parsers: deserialize with serde
//! while tracking the JSON path, so every error can name the value.
//!
//! Values the parsers need exactly (amounts, hex quantities) are declared as
//! strings in the raw structs, so they never pass through `f64`.

use serde::de::DeserializeOwned;

use crate::error::{one_line, quote, StatementError};

/// Names a JSON document kind in messages and says what to do about it.
#[derive(Clone, Copy)]
pub(crate) struct JsonSpec {
    pub format: &'static str,
    pub hint: &'static str,
}

impl JsonSpec {
    pub(crate) fn error(&self, path: impl Into<String>, problem: String) -> StatementError {
        StatementError::Json {
            format: self.format,
            path: path.into(),
            problem,
            hint: self.hint,
        }
    }

    /// Deserializes `bytes` as `T`, naming the failing path on error.
    pub(crate) fn parse<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, StatementError> {
        let mut json = serde_json::Deserializer::from_slice(bytes);
        let value: T = serde_path_to_error::deserialize(&mut json).map_err(|err| {
            let path = json_path(&err.path().to_string());
            let inner = err.inner();
            let problem = if inner.is_eof() {
                format!(
                    "the document ends early, it is truncated ({})",
                    one_line(inner)
                )
            } else {
                one_line(inner)
            };
            self.error(path, problem)
        })?;
        // Trailing bytes after the document mean it is not one JSON value.
        json.end().map_err(|err| self.error("$", one_line(err)))?;
        Ok(value)
    }

    /// Converts the string at `path` with `parse`, saying what was
    /// `expected` if it fails.
    pub(crate) fn convert<T>(
        &self,
        path: &str,
        value: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, StatementError> {
        parse(value).ok_or_else(|| self.error(path, format!("is {}, not {expected}", quote(value))))
    }
}

/// Renders serde_path_to_error's `data[3].billId` as `$.data[3].billId`.
fn json_path(path: &str) -> String {
    match path {
        "." => "$".to_owned(),
        p if p.starts_with('[') => format!("${p}"),
        p => format!("$.{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_rooted() {
        assert_eq!(json_path("."), "$");
        assert_eq!(json_path("data[3].billId"), "$.data[3].billId");
        assert_eq!(json_path("[0]"), "$[0]");
    }
}
