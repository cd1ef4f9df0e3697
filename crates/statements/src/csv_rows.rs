//! CSV reading shared by the Wise and OKX parsers: find and check the
//! header, deserialize each row with serde, and turn every problem into a
//! [`StatementError::Csv`] naming the line.

use std::io::Read;

use bigdecimal::BigDecimal;
use csv::{ReaderBuilder, StringRecord, Trim};
use serde::de::DeserializeOwned;

use crate::error::{one_line, quote, StatementError};
use crate::text;

/// What a parser expects of one provider's CSV export.
pub(crate) struct CsvSpec {
    /// Names the export in messages, e.g. "wise CSV".
    pub format: &'static str,
    /// What to do when the file is wrong.
    pub hint: &'static str,
    /// Columns the parser cannot do without; the first one also marks the
    /// header row.
    pub required: &'static [&'static str],
    /// How many lines (an export's title or account line) may come before
    /// the header.
    pub preamble_lines: usize,
    /// Cell values that mean "no value" besides the empty string.
    pub blanks: &'static [&'static str],
}

/// Reads every row of `reader` as `Row` and converts it with `convert`,
/// refusing the whole file at the first problem.
pub(crate) fn read_rows<R, Row, T>(
    reader: R,
    spec: &CsvSpec,
    mut convert: impl FnMut(Row, &CsvLine<'_>) -> Result<T, StatementError>,
) -> Result<Vec<T>, StatementError>
where
    R: Read,
    Row: DeserializeOwned,
{
    // Headerless and flexible so that a preamble line of another width is
    // not an error; the width of data rows is checked below instead.
    let mut csv = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .from_reader(reader);
    let mut record = StringRecord::new();
    let headers = find_header(&mut csv, &mut record, spec)?;
    let mut rows = Vec::new();
    while csv
        .read_record(&mut record)
        .map_err(|e| csv_error(spec, e))?
    {
        let line = CsvLine {
            spec,
            line: record.position().map_or(0, |p| p.line()),
        };
        if record.len() != headers.len() {
            let problem = format!(
                "has {} fields, the header has {}",
                record.len(),
                headers.len()
            );
            return Err(line.error(problem));
        }
        let row: Row = record
            .deserialize(Some(&headers))
            .map_err(|e| line.error(one_line(e)))?;
        rows.push(convert(row, &line)?);
    }
    Ok(rows)
}

fn find_header<R: Read>(
    csv: &mut csv::Reader<R>,
    record: &mut StringRecord,
    spec: &CsvSpec,
) -> Result<StringRecord, StatementError> {
    let marker = spec.required[0];
    for _ in 0..=spec.preamble_lines {
        if !csv.read_record(record).map_err(|e| csv_error(spec, e))? {
            break;
        }
        // Excel and Wise may start the file with a byte-order mark, which
        // would otherwise stick to the first column's name.
        let headers: StringRecord = record
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == 0 {
                    cell.trim_start_matches('\u{feff}')
                } else {
                    cell
                }
            })
            .collect();
        if !headers.iter().any(|cell| cell == marker) {
            continue;
        }
        let line = CsvLine {
            spec,
            line: record.position().map_or(1, |p| p.line()),
        };
        if let Some(missing) = spec
            .required
            .iter()
            .find(|c| !headers.iter().any(|h| h == **c))
        {
            return Err(line.error(format!("the header has no column {missing:?}")));
        }
        return Ok(headers);
    }
    let line = CsvLine { spec, line: 1 };
    let problem = match spec.preamble_lines {
        0 => format!("the first line is not a header with column {marker:?}"),
        n => format!(
            "none of the first {} lines is a header with column {marker:?}",
            n + 1
        ),
    };
    let problem = format!("{problem}: this is not the expected {} export", spec.format);
    Err(line.error(problem))
}

fn csv_error(spec: &CsvSpec, err: csv::Error) -> StatementError {
    let line = err.position().map_or(0, |p| p.line());
    let problem = match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
        _ => one_line(&err),
    };
    CsvLine { spec, line }.error(problem)
}

/// One data line, for conversions whose errors name the line and column.
pub(crate) struct CsvLine<'s> {
    spec: &'s CsvSpec,
    line: u64,
}

impl CsvLine<'_> {
    pub(crate) fn error(&self, problem: String) -> StatementError {
        StatementError::Csv {
            format: self.spec.format,
            line: self.line,
            problem,
            hint: self.spec.hint,
        }
    }

    /// The cell, or `None` when it is empty or one of the spec's blanks.
    pub(crate) fn opt(&self, cell: Option<String>) -> Option<String> {
        cell.filter(|v| !v.is_empty() && !self.spec.blanks.contains(&v.as_str()))
    }

    /// The cell of a column that must hold a value.
    pub(crate) fn required(&self, column: &str, cell: String) -> Result<String, StatementError> {
        self.opt(Some(cell))
            .ok_or_else(|| self.error(format!("column {column:?} is empty")))
    }

    /// Converts a required cell with `parse`; `expected` says what it
    /// should have been.
    pub(crate) fn parse<T>(
        &self,
        column: &str,
        cell: String,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, StatementError> {
        let cell = self.required(column, cell)?;
        parse(&cell).ok_or_else(|| {
            self.error(format!(
                "column {column:?} is {}, not {expected}",
                quote(&cell)
            ))
        })
    }

    pub(crate) fn decimal(&self, column: &str, cell: String) -> Result<BigDecimal, StatementError> {
        self.parse(column, cell, text::decimal, "a decimal")
    }

    pub(crate) fn opt_decimal(
        &self,
        column: &str,
        cell: Option<String>,
    ) -> Result<Option<BigDecimal>, StatementError> {
        self.opt(cell)
            .map(|cell| self.decimal(column, cell))
            .transpose()
    }
}
