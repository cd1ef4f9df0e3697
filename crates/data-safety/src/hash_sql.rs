//! The content hash of one of our tables without the model round trip: the database writes
//! each row's canonical line itself (the very text `Resource::write_canonical` writes:
//! `[id,columns...,created_at,updated_at]`), and only that one text column crosses to us to be
//! hashed. PostgreSQL builds it from `to_json` (text), `trim_scale` (decimals) and `to_char`
//! (dates, timestamps at microseconds); SQLite from `json_quote` and three functions of ours
//! that read decimals, dates and timestamps exactly as the column types do. A value either
//! way cannot read (a schema of another release) makes [`digest`] answer None: the caller
//! falls back to the model, which reports it.

use diesel::connection::{Connection, SimpleConnection};
use diesel::sql_types::{Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use sha2::{Digest, Sha256};

use crate::manifest::TableDigest;
use db_conn::sql::ident;
use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::resource::{Canonical, FieldKind, Resource};

/// Rows fetched per round trip from a PostgreSQL cursor.
const FETCH: usize = 5000;
/// What our SQLite functions answer for a value the column type cannot read.
const UNREADABLE: &str = "\u{1}unreadable";

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

diesel::define_sql_function! {
    fn pf_canonical_decimal(x: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    fn pf_canonical_date(x: Nullable<Text>) -> Nullable<Text>;
}
diesel::define_sql_function! {
    fn pf_canonical_timestamp(x: Nullable<Text>) -> Nullable<Text>;
}

fn quoted<T: Canonical>(value: &T) -> String {
    let mut out = String::with_capacity(40);
    value.write_canonical(&mut out);
    out
}

fn decimal(text: Option<String>) -> Option<String> {
    let text = text?;
    if Decimal::is_canonical_text(&text) {
        return Some(format!("\"{text}\""));
    }
    Some(Decimal::from_stored_text(&text).map_or_else(|_| UNREADABLE.into(), |d| quoted(&d)))
}

fn date(text: Option<String>) -> Option<String> {
    let text = text?;
    let parsed = spelled_date(text.as_bytes())
        .or_else(|| chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
    Some(parsed.map_or_else(|| UNREADABLE.into(), |d| quoted(&d)))
}

/// diesel's SQLite timestamp text (`%F %T%.f`, or with `T`), at microseconds like the model.
fn timestamp(text: Option<String>) -> Option<String> {
    let text = text?;
    let parsed = spelled_timestamp(text.as_bytes()).or_else(|| {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(&text, f).ok())
    });
    Some(parsed.map_or_else(|| UNREADABLE.into(), |t| quoted(&t)))
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

fn register(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
    pf_canonical_decimal_utils::register_impl(conn, decimal)?;
    pf_canonical_date_utils::register_impl(conn, date)?;
    pf_canonical_timestamp_utils::register_impl(conn, timestamp)
}

/// The SQL of one column's canonical text (NULL as `null`).
fn column(conn: &DbConnection, name: &str, kind: FieldKind) -> String {
    let c = ident(name);
    let pg = matches!(conn, DbConnection::Pg(_));
    let text = match (kind, pg) {
        (FieldKind::Integer, true) => format!("{c}::text"),
        (FieldKind::Integer, false) => format!("CAST({c} AS TEXT)"),
        (FieldKind::Bool, _) => {
            format!("CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 'true' ELSE 'false' END")
        }
        (FieldKind::Text, true) => format!("to_json({c})::text"),
        (FieldKind::Text, false) => format!("json_quote({c})"),
        (FieldKind::Decimal, true) => format!("'\"' || trim_scale({c})::text || '\"'"),
        (FieldKind::Decimal, false) => format!("pf_canonical_decimal({c})"),
        (FieldKind::Date, true) => format!("'\"' || to_char({c}, 'YYYY-MM-DD') || '\"'"),
        (FieldKind::Date, false) => format!("pf_canonical_date({c})"),
        (FieldKind::DateTime, true) => {
            format!("'\"' || to_char({c}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '\"'")
        }
        (FieldKind::DateTime, false) => format!("pf_canonical_timestamp({c})"),
    };
    format!("COALESCE({text}, 'null')")
}

fn select<R: Resource>(conn: &DbConnection) -> String {
    let mut parts = vec![column(conn, "id", FieldKind::Integer)];
    parts.extend(R::fields().iter().map(|f| column(conn, f.name, f.kind)));
    parts.push(column(conn, "created_at", FieldKind::DateTime));
    parts.push(column(conn, "updated_at", FieldKind::DateTime));
    format!(
        "SELECT '[' || {} || ']' AS line FROM {} ORDER BY id",
        parts.join(" || ',' || "),
        ident(R::TABLE)
    )
}

/// The digest of `R`'s table from lines the database wrote; None when a value cannot be read
/// as its column type (or the query fails), so the caller reads the table through the model.
pub fn digest<R: Resource>(conn: &mut DbConnection) -> Option<TableDigest> {
    let query = select::<R>(conn);
    let mut sha = Sha256::new();
    let mut rows = 0u64;
    let mut add = |line: &str| -> bool {
        sha.update(line.as_bytes());
        sha.update(b"\n");
        rows += 1;
        !line.contains('\u{1}')
    };
    // A savepoint (inside a transaction) or a transaction: a failure leaves the caller's intact.
    let read = conn.transaction::<bool, diesel::result::Error, _>(|c| match c {
        DbConnection::Pg(_) => {
            c.batch_execute(&format!(
                "DECLARE pf_canonical_rows NO SCROLL CURSOR FOR {query}"
            ))?;
            let mut readable = true;
            loop {
                let page: Vec<Line> =
                    diesel::sql_query(format!("FETCH {FETCH} FROM pf_canonical_rows")).load(c)?;
                page.iter().for_each(|l| readable &= add(&l.line));
                if page.len() < FETCH {
                    break;
                }
            }
            c.batch_execute("CLOSE pf_canonical_rows")?;
            Ok(readable)
        }
        DbConnection::Sqlite(s) => {
            register(s)?;
            let mut readable = true;
            for line in diesel::sql_query(query)
                .load_iter::<Line, diesel::connection::DefaultLoadingMode>(c)?
            {
                readable &= add(&line?.line);
            }
            Ok(readable)
        }
    });
    match read {
        Ok(true) => Some(TableDigest {
            rows,
            sha256: Some(format!("{:x}", sha.finalize())),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{date, timestamp};

    /// The quick readings agree with chrono's `parse_from_str` (what they replace) on every
    /// spelling, and leave it what they do not read.
    #[test]
    fn the_quick_readings_agree_with_parse_from_str() {
        let slow_timestamp = |t: &str| {
            ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
                .map(|t| super::quoted(&t))
        };
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
            let expected = slow_timestamp(t).unwrap_or_else(|| super::UNREADABLE.into());
            assert_eq!(timestamp(Some(t.into())).unwrap(), expected, "{t}");
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
            let expected = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_or_else(|_| super::UNREADABLE.into(), |d| super::quoted(&d));
            assert_eq!(date(Some(d.into())).unwrap(), expected, "{d}");
        }
    }
}
