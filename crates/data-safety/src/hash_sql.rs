//! One of our tables read without the model round trip: each row's canonical line (the very
//! text `Resource::write_canonical` writes: `[id,columns...,created_at,updated_at]`) and, for
//! an export, the row's JSON object as serde writes the model. PostgreSQL writes them itself
//! from `to_json` (text), `trim_scale` (decimals) and `to_char` (dates, timestamps at
//! microseconds), in its own process; SQLite hands over the stored values and
//! [`crate::sqlite_lines`] writes them. A value either way cannot read (a schema of another
//! release, a date PostgreSQL spells differently) makes the read answer "unreadable": the
//! caller falls back to the model, which reads or reports it.

use diesel::connection::{Connection, SimpleConnection};
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};

use crate::hash::TableHasher;
use crate::manifest::TableDigest;
use crate::sqlite_lines::RawLines;
use db_conn::sql::{ident, literal};
use db_conn::DbConnection;
use pf_data::resource::{FieldKind, Resource};

/// Rows fetched per round trip from a PostgreSQL cursor.
const FETCH: usize = 5000;

#[derive(QueryableByName)]
struct Lines {
    #[diesel(sql_type = Text)]
    line: String,
}

/// A PostgreSQL date or timestamp spelled by `to_char`, when `to_char` spells it as chrono
/// does (years 1 to 9999; `to_char` drops the era of a BC date and has no text for infinity);
/// anything else is the unreadable mark, for the model to decide.
fn pg_calendar(c: &str, format: &str, below: &str) -> String {
    format!(
        "CASE WHEN {c} IS NULL THEN NULL WHEN {c} >= '0001-01-01' AND {c} < {below} \
         THEN '\"' || to_char({c}, {format}) || '\"' ELSE chr(1) END",
        format = literal(format),
        below = literal(below),
    )
}

/// The SQL of one column's text on PostgreSQL (NULL as `null`).
fn column(name: &str, kind: FieldKind) -> String {
    let c = ident(name);
    let text = match kind {
        FieldKind::Integer => format!("{c}::text"),
        FieldKind::Bool => {
            format!("CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 'true' ELSE 'false' END")
        }
        FieldKind::Text => format!("to_json({c})::text"),
        FieldKind::Decimal => format!("'\"' || trim_scale({c})::text || '\"'"),
        FieldKind::Date => pg_calendar(&c, "YYYY-MM-DD", "10000-01-01"),
        // Microseconds are all PostgreSQL keeps: the canonical text is also serde's.
        FieldKind::DateTime => {
            pg_calendar(&c, "YYYY-MM-DD\"T\"HH24:MI:SS.US", "10000-01-01 00:00:00")
        }
    };
    format!("COALESCE({text}, 'null')")
}

/// Every column of `R` in declaration order, as the model holds them.
pub(crate) fn columns<R: Resource>() -> Vec<(&'static str, FieldKind)> {
    let mut all = vec![("id", FieldKind::Integer)];
    all.extend(R::fields().iter().map(|f| (f.name, f.kind)));
    all.push(("created_at", FieldKind::DateTime));
    all.push(("updated_at", FieldKind::DateTime));
    all
}

/// PostgreSQL writes the canonical lines itself (in its own process, beside us).
fn select_lines<R: Resource>() -> String {
    let canonical: Vec<String> = columns::<R>()
        .iter()
        .map(|(name, kind)| column(name, *kind))
        .collect();
    format!(
        "SELECT '[' || {} || ']' AS line FROM {} ORDER BY id",
        canonical.join(" || ',' || "),
        ident(R::TABLE)
    )
}

/// The export object of a canonical line PostgreSQL wrote: the same JSON values under the
/// column names (its dates and timestamps are also serde's text). None when the line does not
/// hold one value per column.
fn export_of_line(line: &str, names: &[&str], out: &mut String) -> Option<()> {
    out.clear();
    let mut rest = line.strip_prefix('[')?.strip_suffix(']')?;
    for (i, name) in names.iter().enumerate() {
        let end = value_end(rest)?;
        out.push_str(if i == 0 { "{\"" } else { ",\"" });
        out.push_str(name);
        out.push_str("\":");
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        rest = match rest.strip_prefix(',') {
            Some(next) if i + 1 < names.len() => next,
            None if i + 1 == names.len() && rest.is_empty() => rest,
            _ => return None,
        };
    }
    out.push('}');
    Some(())
}

/// Where the JSON value at the start of `text` ends: after a string's closing quote (escapes
/// skipped), else at the next comma or the end.
fn value_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'"') {
        let end = bytes.iter().position(|&b| b == b',').unwrap_or(bytes.len());
        return (end > 0).then_some(end);
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// SQLite hands us the columns as stored ([`RawLines`] writes the lines).
fn select_columns<R: Resource>() -> String {
    let names: Vec<String> = columns::<R>().iter().map(|(n, _)| ident(n)).collect();
    format!(
        "SELECT {} FROM {} ORDER BY id",
        names.join(", "),
        ident(R::TABLE)
    )
}

/// Why a read through the database's own lines stopped.
#[derive(Debug)]
pub enum Stop<E> {
    /// A value cannot be read as its column type, or the query failed: read through the model.
    Unreadable,
    /// The caller's `each` failed.
    Failed(E),
}

enum Inner<E> {
    Db,
    Each(E),
}

impl<E> From<diesel::result::Error> for Inner<E> {
    fn from(_: diesel::result::Error) -> Self {
        Inner::Db
    }
}

/// Calls `each(canonical line, export line)` for every row of `R` in id order (the export line
/// only when `export`), one page in memory at a time. Inside a savepoint (or a transaction):
/// whatever stops it leaves the caller's transaction intact.
pub fn for_each_row<R: Resource, E>(
    conn: &mut DbConnection,
    export: bool,
    mut each: impl FnMut(&str, Option<&str>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let mut each = |line: &str, export: Option<&str>| each(line, export).map_err(Inner::Each);
    let read = conn.transaction::<(), Inner<E>, _>(|c| match c {
        DbConnection::Pg(_) => {
            let query = select_lines::<R>();
            let names: Vec<&str> = columns::<R>().iter().map(|(name, _)| *name).collect();
            let mut object = String::new();
            c.batch_execute(&format!("DECLARE pf_rows NO SCROLL CURSOR FOR {query}"))?;
            loop {
                let page: Vec<Lines> =
                    diesel::sql_query(format!("FETCH {FETCH} FROM pf_rows")).load(c)?;
                for l in &page {
                    // The mark of a value only the model spells (see `pg_calendar`).
                    if l.line.contains('\u{1}') {
                        return Err(Inner::Db);
                    }
                    if export {
                        export_of_line(&l.line, &names, &mut object).ok_or(Inner::Db)?;
                    }
                    each(&l.line, export.then_some(object.as_str()))?;
                }
                if page.len() < FETCH {
                    break;
                }
            }
            Ok(c.batch_execute("CLOSE pf_rows")?)
        }
        DbConnection::Sqlite(s) if export => {
            read_sqlite::<R, true, _>(s, |l| each(&l.line, Some(&l.export)))
        }
        DbConnection::Sqlite(s) => read_sqlite::<R, false, _>(s, |l| each(&l.line, None)),
    });
    read.map_err(|e| match e {
        Inner::Db => Stop::Unreadable,
        Inner::Each(e) => Stop::Failed(e),
    })
}

fn read_sqlite<R: Resource, const EXPORT: bool, E>(
    conn: &mut diesel::SqliteConnection,
    mut each: impl FnMut(&RawLines<R, EXPORT>) -> Result<(), Inner<E>>,
) -> Result<(), Inner<E>> {
    let rows = diesel::sql_query(select_columns::<R>())
        .load_iter::<RawLines<R, EXPORT>, diesel::connection::DefaultLoadingMode>(conn)?;
    for row in rows {
        each(&row?)?;
    }
    Ok(())
}

/// The digest of `R`'s table from lines the database wrote; None when a value cannot be read
/// as its column type (or the query fails), so the caller reads the table through the model.
pub fn digest<R: Resource>(conn: &mut DbConnection) -> Option<TableDigest> {
    let mut hasher = TableHasher::default();
    let read = for_each_row::<R, ()>(conn, false, |line, _| {
        hasher.add_line(line);
        Ok(())
    });
    read.ok().map(|()| hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::export_of_line;

    /// The export object holds each value of the line as it is, strings with commas, quotes
    /// and brackets included; a line of another shape is refused.
    #[test]
    fn export_objects_take_the_lines_values_as_they_are() {
        let names = ["id", "note", "amount", "at", "flag"];
        let mut out = String::new();
        let line = r#"[7,"a, \"b\" [c]\\",null,"2024-01-02T03:04:05.000006",true]"#;
        export_of_line(line, &names, &mut out).unwrap();
        assert_eq!(
            out,
            r#"{"id":7,"note":"a, \"b\" [c]\\","amount":null,"at":"2024-01-02T03:04:05.000006","flag":true}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["note"], "a, \"b\" [c]\\");
        for wrong in [
            "[7,,null,\"t\",true]",
            "[7,\"x\",null,\"t\"]",
            "[7,\"x\",null,\"t\",true,1]",
            "7,\"x\"",
            "[7,\"x]",
        ] {
            assert!(export_of_line(wrong, &names, &mut out).is_none(), "{wrong}");
        }
    }
}
