//! SQLite rows turned into their lines by raw column access, without the model round trip:
//! each value read as its column type reads it (`read_long`, `read_integer`, `read_text`,
//! then decimals, dates and timestamps in the spellings diesel writes) and written as the
//! model writes it: the canonical line (the content hash's) and, for an export, the JSON
//! object serde writes. A value read otherwise than the model would (another spelling, a day
//! that does not exist) stops the read: the caller goes through the model, which decides.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;

use diesel::deserialize::{self, QueryableByName};
use diesel::row::{Field, NamedRow, Row};
use diesel::sqlite::{Sqlite, SqliteValue};

use pf_data::decimal::Decimal;
use pf_data::resource::{put_digits, Canonical, FieldKind, Resource};

use crate::hash_sql::columns;

/// Why a row stops: the model decides what the value is.
const UNREADABLE: &str = "a value only the model can read";

/// One row's canonical line and (when `EXPORT`) export line, both without newline.
pub(crate) struct RawLines<R, const EXPORT: bool> {
    pub line: String,
    pub export: String,
    resource: PhantomData<R>,
}

type Columns = Rc<[(&'static str, FieldKind)]>;

thread_local! {
    static COLUMNS: RefCell<HashMap<TypeId, Columns>> = RefCell::new(HashMap::new());
}

/// [`columns`] of `R`, built once per thread rather than once per row.
fn cached_columns<R: Resource>() -> Columns {
    COLUMNS.with(|all| {
        all.borrow_mut()
            .entry(TypeId::of::<R>())
            .or_insert_with(|| columns::<R>().into())
            .clone()
    })
}

impl<R: Resource, const EXPORT: bool> QueryableByName<Sqlite> for RawLines<R, EXPORT> {
    fn build<'a>(row: &impl NamedRow<'a, Sqlite>) -> deserialize::Result<Self> {
        let mut line = String::with_capacity(256);
        let mut export = String::with_capacity(if EXPORT { 384 } else { 0 });
        line.push('[');
        for (i, &(name, kind)) in cached_columns::<R>().iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if EXPORT {
                export.push_str(if i == 0 { "{\"" } else { ",\"" });
                export.push_str(name);
                export.push_str("\":");
            }
            let field = Row::get(row, i).ok_or(UNREADABLE)?;
            let value = field.value();
            match value {
                None => {
                    line.push_str("null");
                    if EXPORT {
                        export.push_str("null");
                    }
                }
                Some(mut value) => {
                    write_value(kind, &mut value, &mut line, EXPORT.then_some(&mut export))?
                }
            }
        }
        line.push(']');
        if EXPORT {
            export.push('}');
        }
        Ok(Self {
            line,
            export,
            resource: PhantomData,
        })
    }
}

/// Appends the value's canonical text to `line` and its serde JSON to `export`.
fn write_value(
    kind: FieldKind,
    value: &mut SqliteValue<'_, '_, '_>,
    line: &mut String,
    export: Option<&mut String>,
) -> Result<(), &'static str> {
    let start = line.len();
    match kind {
        FieldKind::Integer => value.read_long().write_canonical(line),
        FieldKind::Bool => line.push_str(if value.read_integer() != 0 {
            "true"
        } else {
            "false"
        }),
        FieldKind::Text => value.read_text().write_canonical(line),
        FieldKind::Decimal => {
            let text = value.read_text();
            if Decimal::is_canonical_text(text) {
                line.push('"');
                line.push_str(text);
                line.push('"');
            } else {
                Decimal::from_stored_text(text)
                    .map_err(|_| UNREADABLE)?
                    .write_canonical(line);
            }
        }
        // Dates and timestamps: serde's text (every digit) need not be the canonical one.
        FieldKind::Date => {
            let date = read_date(value.read_text()).ok_or(UNREADABLE)?;
            date.write_canonical(line);
            if let Some(export) = export {
                push_serde_date(export, &date);
            }
            return Ok(());
        }
        FieldKind::DateTime => {
            let stamp = read_timestamp(value.read_text()).ok_or(UNREADABLE)?;
            stamp.write_canonical(line);
            if let Some(export) = export {
                push_serde_stamp(export, &stamp);
            }
            return Ok(());
        }
    }
    if let Some(export) = export {
        export.push_str(&line[start..]);
    }
    Ok(())
}

/// `"date"` as serde writes it (chrono's `Debug`), digit by digit for years 0 to 9999.
fn push_serde_date(out: &mut String, date: &chrono::NaiveDate) {
    use chrono::Datelike;
    if (0..=9999).contains(&date.year()) {
        date.write_canonical(out);
    } else {
        out.push_str(&format!("\"{date:?}\""));
    }
}

/// `"timestamp"` as serde writes it (chrono's `Debug`: no fraction when it is zero, else
/// 3, 6 or 9 digits, as few as hold it), digit by digit in the range the canonical text is.
fn push_serde_stamp(out: &mut String, stamp: &chrono::NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    let nanos = stamp.nanosecond();
    if !(0..=9999).contains(&stamp.year()) || nanos >= 1_000_000_000 {
        out.push_str(&format!("\"{stamp:?}\""));
        return;
    }
    let start = out.len();
    stamp.write_canonical(out);
    // `"YYYY-MM-DDTHH:MM:SS.ffffff"`: keep the seconds, then the fraction serde writes.
    out.truncate(start + 20);
    let (value, digits) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    if digits > 0 {
        let mut fraction = *b".000000000";
        put_digits(&mut fraction[1..=digits], value);
        out.push_str(std::str::from_utf8(&fraction[..=digits]).expect("ASCII digits"));
    }
    out.push('"');
}

/// A date as diesel's SQLite column type reads it.
fn read_date(text: &str) -> Option<chrono::NaiveDate> {
    spelled_date(text.as_bytes())
        .or_else(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

/// A timestamp as diesel's SQLite column type reads it (`%F %T%.f`, or with `T`); its other
/// spellings (julian days, ...) are left to the model.
fn read_timestamp(text: &str) -> Option<chrono::NaiveDateTime> {
    spelled_timestamp(text.as_bytes()).or_else(|| {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
    })
}

/// The decimal digits `b` spells, if it is all digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, the one spelling diesel writes, read without parsing a format per value
/// (chrono's `parse_from_str` does, and it was most of a SQLite hash's time); the day is
/// checked by chrono. Anything else: None, for `parse_from_str` to decide.
fn spelled_date(b: &[u8]) -> Option<chrono::NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[..4])?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), then optionally `.` and one to nine digits: what
/// diesel writes, read as [`spelled_date`] reads a date. Leap seconds and the rest: None.
fn spelled_timestamp(b: &[u8]) -> Option<chrono::NaiveDateTime> {
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let time = chrono::NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nanos,
    )?;
    Some(spelled_date(&b[..10])?.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::{read_date, read_timestamp};

    /// The quick readings agree with chrono's `parse_from_str` (what they replace) on every
    /// spelling, and leave it what they do not read.
    #[test]
    fn the_quick_readings_agree_with_parse_from_str() {
        for t in [
            "2025-01-10 16:30:05",
            "2025-01-10T16:30:05.123456789",
            "2025-01-10 16:30:05.1",
            "0000-01-01 00:00:00.000001",
            "2024-02-29 23:59:59.999999",
            "2024-02-30 10:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 23:59:60",
            "2024-01-01 10:00:00.",
            "2024-01-01 10:00",
            "2024-01-01 10:00:00.1234567890",
            "2024-01-01 10:00:00Z",
            "+2024-01-01 10:00:00",
            "2024-1-01 10:00:00",
            "2024-01-01 1a:00:00",
        ] {
            let slow = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok());
            assert_eq!(read_timestamp(t), slow, "{t}");
        }
        for d in [
            "2024-02-29",
            "2024-02-30",
            "0000-01-01",
            "9999-12-31",
            "2024-13-01",
            "20240101",
            "2024-01-1a",
        ] {
            let slow = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
            assert_eq!(read_date(d), slow, "{d}");
        }
    }

    /// The export spells dates and timestamps as serde does (every digit kept), so it reads
    /// back as the very value the column type reads.
    #[test]
    fn export_spellings_are_serdes() {
        for t in [
            "2025-01-10 16:30:05.123456789",
            "2025-01-10T16:30:05",
            "2025-01-10T16:30:05.120",
            "2025-01-10T16:30:05.000120",
            "2025-01-10T16:30:05.000000120",
            "2025-01-10T16:30:05.100000",
            "9999-12-31T23:59:59.999999999",
            "2016-12-31 23:59:60.5",
            "0001-01-01 00:00:00.5",
            "0000-01-01 00:00:00.000001",
        ] {
            let stamp = read_timestamp(t).unwrap();
            let mut ours = String::new();
            super::push_serde_stamp(&mut ours, &stamp);
            assert_eq!(ours, serde_json::to_string(&stamp).unwrap(), "{t}");
            let back: chrono::NaiveDateTime = serde_json::from_str(&ours).unwrap();
            assert_eq!(back, stamp, "{t}");
        }
        for d in ["2024-02-29", "0000-01-01", "9999-12-31"] {
            let date = read_date(d).unwrap();
            let mut ours = String::new();
            super::push_serde_date(&mut ours, &date);
            assert_eq!(ours, serde_json::to_string(&date).unwrap());
        }
        // Outside the digit-by-digit range: chrono's own text.
        for year in [-1, 10000] {
            let date = chrono::NaiveDate::from_ymd_opt(year, 1, 2).unwrap();
            let stamp = date.and_hms_micro_opt(3, 4, 5, 6).unwrap();
            let (mut d, mut t) = (String::new(), String::new());
            super::push_serde_date(&mut d, &date);
            super::push_serde_stamp(&mut t, &stamp);
            assert_eq!(d, serde_json::to_string(&date).unwrap());
            assert_eq!(t, serde_json::to_string(&stamp).unwrap());
        }
    }
}
