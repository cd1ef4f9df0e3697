//! The generic resource layer: every table is a [`Resource`], declared once with
//! [`resource!`], and served by the same handlers, OpenAPI generator and health counts.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;
use serde::{de::DeserializeOwned, Serialize};

use crate::decimal::Decimal;
use db_conn::DbConnection;

/// Page size when the client names none, and the most one request may ask for.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Which rows a list request wants: a date window on the table's time column, and a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListFilter {
    /// First day included.
    pub from: Option<NaiveDate>,
    /// Last day included.
    pub to: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

impl Default for ListFilter {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// A table served over the API. Implemented by [`resource!`]; see `models`.
pub trait Resource: Serialize + DeserializeOwned + Send + Sized + 'static {
    /// What clients send to create or replace a row: every column but the server-set ones.
    type Input: DeserializeOwned + Serialize + Send + 'static;
    const TABLE: &'static str;
    /// The column that `from`/`to` filter on.
    const TIME_COLUMN: &'static str;

    fn fields() -> Vec<FieldSpec>;
    /// Rules the column types cannot express; the message says what to send instead.
    fn validate(input: &Self::Input) -> Result<(), String>;
    fn list(conn: &mut DbConnection, filter: &ListFilter) -> QueryResult<Vec<Self>>;
    fn count(conn: &mut DbConnection, filter: &ListFilter) -> QueryResult<i64>;
    fn get(conn: &mut DbConnection, id: i64) -> QueryResult<Self>;
    fn create(conn: &mut DbConnection, input: &Self::Input) -> QueryResult<Self>;
    fn update(conn: &mut DbConnection, id: i64, input: &Self::Input) -> QueryResult<Self>;
    /// Number of rows deleted (0 or 1).
    fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize>;

    /// Up to `limit` rows with an id above `after_id`, in id order: a keyset page, so reading a
    /// whole table costs memory for one page only (backups, export, content hashes).
    fn page_after(conn: &mut DbConnection, after_id: i64, limit: i64) -> QueryResult<Vec<Self>>;
    /// Inserts whole rows as they are (ids and timestamps kept, `None` stored as NULL, never
    /// as a column default): how an export is imported.
    fn insert_rows(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<usize>;
    /// The row's id.
    fn id(&self) -> i64;
    /// Appends the row as one canonical line (a JSON array of its columns in declaration order,
    /// timestamps at microsecond precision) that is the same on both backends; the content hash
    /// of a table is the SHA-256 of its lines in id order.
    fn write_canonical(&self, out: &mut String);
}

/// A column value written the same way whichever backend it was read from.
pub trait Canonical {
    fn write_canonical(&self, out: &mut String);
}

impl Canonical for i32 {
    fn write_canonical(&self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(*self));
    }
}

impl Canonical for i64 {
    fn write_canonical(&self, out: &mut String) {
        out.push_str(itoa::Buffer::new().format(*self));
    }
}

impl Canonical for bool {
    fn write_canonical(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl Canonical for str {
    fn write_canonical(&self, out: &mut String) {
        // JSON string syntax, as serde writes it: unambiguous whatever the text holds (fast
        // path: nothing to escape).
        if self.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            out.push_str(&serde_json::Value::from(self).to_string());
        } else {
            out.push('"');
            out.push_str(self);
            out.push('"');
        }
    }
}

impl Canonical for String {
    fn write_canonical(&self, out: &mut String) {
        self.as_str().write_canonical(out);
    }
}

impl Canonical for Decimal {
    fn write_canonical(&self, out: &mut String) {
        out.push('"');
        out.push_str(&self.to_canonical());
        out.push('"');
    }
}

/// `n` as exactly `digits.len()` decimal digits, zero-padded (the caller knows it fits).
pub fn put_digits(digits: &mut [u8], mut n: u32) {
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

fn push_ascii(out: &mut String, text: &[u8]) {
    out.push_str(std::str::from_utf8(text).expect("ASCII digits and punctuation"));
}

/// Writes `"YYYY-MM-DD` (the opening quote, no closing one) into the first 11 bytes of `b`.
fn put_date(b: &mut [u8], date: &NaiveDate) {
    use chrono::Datelike;
    b[..11].copy_from_slice(b"\"0000-00-00");
    put_digits(&mut b[1..5], date.year() as u32);
    put_digits(&mut b[6..8], date.month());
    put_digits(&mut b[9..11], date.day());
}

// Dates and timestamps are written digit by digit: `write!` with padded formats was the
// largest single cost of hashing a table (every row has two timestamps).
impl Canonical for NaiveDate {
    fn write_canonical(&self, out: &mut String) {
        use chrono::Datelike;
        if (0..=9999).contains(&self.year()) {
            let mut b = [b'"'; 12];
            put_date(&mut b, self);
            push_ascii(out, &b);
        } else {
            use std::fmt::Write;
            let _ = write!(out, "\"{}\"", self.format("%Y-%m-%d"));
        }
    }
}

impl Canonical for NaiveDateTime {
    /// Microseconds, PostgreSQL's precision (digits beyond it are dropped, as diesel drops them
    /// when it writes to PostgreSQL), so a SQLite value and its PostgreSQL copy agree. The text
    /// of the format `%Y-%m-%dT%H:%M:%S%.6f`.
    fn write_canonical(&self, out: &mut String) {
        use chrono::{Datelike, Timelike};
        if (0..=9999).contains(&self.year()) && self.nanosecond() < 1_000_000_000 {
            let mut b = *b"\"0000-00-00T00:00:00.000000\"";
            put_date(&mut b, &self.date());
            put_digits(&mut b[12..14], self.hour());
            put_digits(&mut b[15..17], self.minute());
            put_digits(&mut b[18..20], self.second());
            put_digits(&mut b[21..27], self.nanosecond() / 1000);
            push_ascii(out, &b);
        } else {
            use std::fmt::Write;
            let _ = write!(out, "\"{}\"", self.format("%Y-%m-%dT%H:%M:%S%.6f"));
        }
    }
}

impl<T: Canonical> Canonical for Option<T> {
    fn write_canonical(&self, out: &mut String) {
        match self {
            Some(v) => v.write_canonical(out),
            None => out.push_str("null"),
        }
    }
}

/// Walks every resource; how the router, the OpenAPI document and `/health/data` see them all.
pub trait ResourceVisitor {
    fn visit<R: Resource>(&mut self);
}

/// One column as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub nullable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Integer,
    Decimal,
    Text,
    Date,
    DateTime,
    Bool,
}

impl FieldSpec {
    pub fn of<T: ApiField>(name: &'static str) -> Self {
        Self {
            name,
            kind: T::KIND,
            nullable: T::NULLABLE,
        }
    }
}

/// The API shape of a Rust column type.
pub trait ApiField {
    const KIND: FieldKind;
    const NULLABLE: bool = false;
}

macro_rules! api_field {
    ($($ty:ty => $kind:ident),* $(,)?) => {
        $(impl ApiField for $ty { const KIND: FieldKind = FieldKind::$kind; })*
    };
}
api_field!(
    i32 => Integer,
    i64 => Integer,
    Decimal => Decimal,
    String => Text,
    NaiveDate => Date,
    NaiveDateTime => DateTime,
    bool => Bool,
);

impl<T: ApiField> ApiField for Option<T> {
    const KIND: FieldKind = T::KIND;
    const NULLABLE: bool = true;
}

/// Turns a filter day into a bound of the time column's type.
pub trait TimeBound {
    fn start_of(day: NaiveDate) -> Self;
}

impl TimeBound for NaiveDate {
    fn start_of(day: NaiveDate) -> Self {
        day
    }
}

impl TimeBound for NaiveDateTime {
    fn start_of(day: NaiveDate) -> Self {
        day.and_time(chrono::NaiveTime::MIN)
    }
}

/// Declares a table's row and input types and implements [`Resource`] for it.
///
/// `id`, `created_at` and `updated_at` are added by the macro and set by the server.
macro_rules! resource {
    (
        $(#[$meta:meta])*
        $Row:ident, $Input:ident => $table:ident,
        time: $time:ident: $TimeTy:ty,
        $(validate: $validate:path,)?
        fields { $($field:ident: $ty:ty),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, diesel::Queryable, diesel::Selectable, diesel::Insertable, serde::Serialize, serde::Deserialize)]
        #[diesel(table_name = crate::schema::$table, treat_none_as_default_value = false)]
        #[serde(deny_unknown_fields)]
        pub struct $Row {
            pub id: i64,
            $(pub $field: $ty,)+
            pub created_at: chrono::NaiveDateTime,
            pub updated_at: chrono::NaiveDateTime,
        }

        #[doc = concat!("A `", stringify!($table), "` row as clients send it.")]
        #[derive(Debug, Clone, PartialEq, diesel::Insertable, diesel::AsChangeset, serde::Deserialize, serde::Serialize)]
        #[diesel(table_name = crate::schema::$table, treat_none_as_null = true)]
        #[serde(deny_unknown_fields)]
        pub struct $Input {
            $(pub $field: $ty,)+
        }

        impl crate::resource::Resource for $Row {
            type Input = $Input;
            const TABLE: &'static str = stringify!($table);
            const TIME_COLUMN: &'static str = stringify!($time);

            fn fields() -> Vec<crate::resource::FieldSpec> {
                vec![$(crate::resource::FieldSpec::of::<$ty>(stringify!($field))),+]
            }

            fn validate(input: &$Input) -> Result<(), String> {
                let rules: &[fn(&$Input) -> Result<(), String>] = &[$($validate)?];
                rules.iter().try_for_each(|rule| rule(input))
            }

            fn list(
                conn: &mut db_conn::DbConnection,
                filter: &crate::resource::ListFilter,
            ) -> diesel::QueryResult<Vec<Self>> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                let mut query = t::$table.select(Self::as_select()).into_boxed();
                if let Some(from) = filter.from {
                    query = query.filter(t::$time.ge(<$TimeTy as crate::resource::TimeBound>::start_of(from)));
                }
                if let Some(after) = filter.to.and_then(|d| d.succ_opt()) {
                    query = query.filter(t::$time.lt(<$TimeTy as crate::resource::TimeBound>::start_of(after)));
                }
                query.order(t::id.asc()).limit(filter.limit).offset(filter.offset).load(conn)
            }

            fn count(
                conn: &mut db_conn::DbConnection,
                filter: &crate::resource::ListFilter,
            ) -> diesel::QueryResult<i64> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                let mut query = t::$table.select(diesel::dsl::count_star()).into_boxed();
                if let Some(from) = filter.from {
                    query = query.filter(t::$time.ge(<$TimeTy as crate::resource::TimeBound>::start_of(from)));
                }
                if let Some(after) = filter.to.and_then(|d| d.succ_opt()) {
                    query = query.filter(t::$time.lt(<$TimeTy as crate::resource::TimeBound>::start_of(after)));
                }
                query.first(conn)
            }

            fn get(conn: &mut db_conn::DbConnection, id: i64) -> diesel::QueryResult<Self> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                t::$table.find(id).select(Self::as_select()).first(conn)
            }

            // RETURNING the whole row is not available through diesel's MultiBackend, so the
            // write returns the id and the row is read back in the same transaction.
            fn create(conn: &mut db_conn::DbConnection, input: &$Input) -> diesel::QueryResult<Self> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                conn.transaction(|conn| {
                    let id: i64 = diesel::insert_into(t::$table)
                        .values(input)
                        .returning(t::id)
                        .get_result(conn)?;
                    Self::get(conn, id)
                })
            }

            fn update(
                conn: &mut db_conn::DbConnection,
                id: i64,
                input: &$Input,
            ) -> diesel::QueryResult<Self> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                let now = chrono::Utc::now().naive_utc();
                conn.transaction(|conn| {
                    let id: i64 = diesel::update(t::$table.find(id))
                        .set((input, t::updated_at.eq(now)))
                        .returning(t::id)
                        .get_result(conn)?;
                    Self::get(conn, id)
                })
            }

            fn delete(conn: &mut db_conn::DbConnection, id: i64) -> diesel::QueryResult<usize> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                diesel::delete(t::$table.find(id)).execute(conn)
            }

            fn page_after(
                conn: &mut db_conn::DbConnection,
                after_id: i64,
                limit: i64,
            ) -> diesel::QueryResult<Vec<Self>> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                t::$table
                    .filter(t::id.gt(after_id))
                    .select(Self::as_select())
                    .order(t::id.asc())
                    .limit(limit)
                    .load(conn)
            }

            fn insert_rows(conn: &mut db_conn::DbConnection, rows: &[Self]) -> diesel::QueryResult<usize> {
                use crate::schema::$table::dsl as t;
                use diesel::prelude::*;
                // PostgreSQL: binary COPY (several times a multi-row INSERT's speed). SQLite:
                // multi-row VALUES. diesel's MultiBackend has neither, each backend has its own.
                match conn {
                    db_conn::DbConnection::Pg(c) => diesel::copy_from(t::$table).from_insertable(rows).execute(c),
                    db_conn::DbConnection::Sqlite(c) => diesel::insert_into(t::$table).values(rows).execute(c),
                }
            }

            fn id(&self) -> i64 {
                self.id
            }

            fn write_canonical(&self, out: &mut String) {
                use crate::resource::Canonical;
                out.push('[');
                self.id.write_canonical(out);
                $(out.push(','); self.$field.write_canonical(out);)+
                out.push(',');
                self.created_at.write_canonical(out);
                out.push(',');
                self.updated_at.write_canonical(out);
                out.push_str("]\n");
            }
        }
    };
}
pub(crate) use resource;

#[cfg(test)]
mod canonical_tests {
    use super::Canonical;
    use chrono::{NaiveDate, NaiveDateTime};

    fn text<T: Canonical>(v: &T) -> String {
        let mut out = String::new();
        v.write_canonical(&mut out);
        out
    }

    #[test]
    fn fast_paths_write_what_the_formats_write() {
        for s in [
            "plain",
            "with \"quote\"",
            "back\\slash",
            "tab\there",
            "ünïcødé 中文 🚀",
            "",
        ] {
            assert_eq!(text(&s.to_owned()), serde_json::Value::from(s).to_string());
        }
        let t: NaiveDateTime = "2025-01-31T16:30:05.123456789".parse().unwrap();
        assert_eq!(
            text(&t),
            format!("\"{}\"", t.format("%Y-%m-%dT%H:%M:%S%.6f"))
        );
        assert_eq!(text(&t), "\"2025-01-31T16:30:05.123456\"");
        let whole: NaiveDateTime = "0999-03-04T05:06:07".parse().unwrap();
        assert_eq!(
            text(&whole),
            format!("\"{}\"", whole.format("%Y-%m-%dT%H:%M:%S%.6f"))
        );
        let d = NaiveDate::from_ymd_opt(33, 2, 3).unwrap();
        assert_eq!(text(&d), format!("\"{}\"", d.format("%Y-%m-%d")));
        // Every digit position, the ends of the fast path's range and both sides of it.
        for (y, mo, d, h, mi, se, nano) in [
            (0, 1, 1, 0, 0, 0, 0),
            (9999, 12, 31, 23, 59, 59, 999_999_999),
            (2024, 2, 29, 9, 8, 7, 1_000),
            (1, 10, 20, 10, 20, 30, 999),
            (-1, 1, 1, 0, 0, 0, 0),
            (10000, 1, 1, 0, 0, 0, 0),
            (2016, 12, 31, 23, 59, 59, 1_500_000_000),
        ] {
            let date = NaiveDate::from_ymd_opt(y, mo, d).unwrap();
            assert_eq!(text(&date), format!("\"{}\"", date.format("%Y-%m-%d")));
            let stamp = date.and_hms_nano_opt(h, mi, se, nano).unwrap();
            assert_eq!(
                text(&stamp),
                format!("\"{}\"", stamp.format("%Y-%m-%dT%H:%M:%S%.6f")),
                "{stamp:?}"
            );
        }
        for n in [0, -1, 7, i64::MIN, i64::MAX] {
            assert_eq!(text(&n), n.to_string());
        }
        assert_eq!(text(&i32::MIN), i32::MIN.to_string());
        assert_eq!(text(&Some(5i64)), "5");
        assert_eq!(text(&None::<String>), "null");
    }
}
