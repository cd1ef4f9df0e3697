//! Per-table content hashes, backend-neutral: every row read through the table's model in id
//! order, written as one canonical line (`Resource::write_canonical`: a JSON array of the
//! columns, decimals as canonical text, timestamps at microsecond precision), hashed with
//! SHA-256. A SQLite database and its PostgreSQL copy hash the same.

use std::collections::BTreeMap;

use diesel::connection::Connection;
use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use sha2::{Digest, Sha256};

use crate::manifest::TableDigest;
use db_conn::DbConnection;
use pf_data::models::visit_all;
use pf_data::resource::{Resource, ResourceVisitor};

/// Rows per keyset page: memory is bounded by one page whatever the table's size.
pub const PAGE: i64 = 2000;

/// Accumulates one table's rows.
pub struct TableHasher {
    sha: Sha256,
    rows: u64,
    line: String,
}

impl Default for TableHasher {
    fn default() -> Self {
        Self {
            sha: Sha256::new(),
            rows: 0,
            line: String::with_capacity(512),
        }
    }
}

impl TableHasher {
    pub fn add<R: Resource>(&mut self, row: &R) {
        self.line.clear();
        row.write_canonical(&mut self.line);
        self.sha.update(self.line.as_bytes());
        self.rows += 1;
    }

    /// A canonical line the database wrote (without its newline): the same as [`Self::add`]
    /// of the row it was written from.
    pub fn add_line(&mut self, line: &str) {
        self.sha.update(line.as_bytes());
        self.sha.update(b"\n");
        self.rows += 1;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> TableDigest {
        TableDigest {
            rows: self.rows,
            sha256: Some(format!("{:x}", self.sha.finalize())),
        }
    }
}

/// Calls `each` with every row of `R` in id order, one page in memory at a time.
pub fn for_each_page<R: Resource, E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    mut each: impl FnMut(&[R]) -> Result<(), E>,
) -> Result<(), E> {
    let mut after = i64::MIN;
    loop {
        let page = R::page_after(conn, after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.id();
        each(&page)?;
        if (page.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

/// The digest of one table read through its model.
pub fn digest_of<R: Resource>(conn: &mut DbConnection) -> diesel::QueryResult<TableDigest> {
    let mut hasher = TableHasher::default();
    for_each_page::<R, diesel::result::Error>(conn, |page| {
        page.iter().for_each(|row| hasher.add(row));
        Ok(())
    })?;
    Ok(hasher.finish())
}

/// [`digest_of`]'s result, from the lines the database writes itself when it can
/// ([`crate::hash_sql`]), else through the model.
pub fn digest_fast<R: Resource>(conn: &mut DbConnection) -> diesel::QueryResult<TableDigest> {
    match crate::hash_sql::digest::<R>(conn) {
        Some(digest) => Ok(digest),
        None => digest_of::<R>(conn),
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether `table` exists (in PostgreSQL's current schema search path).
pub fn table_exists(conn: &mut DbConnection, table: &str) -> diesel::QueryResult<bool> {
    let sql = match conn {
        DbConnection::Pg(_) => format!(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = {}",
            db_conn::sql::literal(table)
        ),
        DbConnection::Sqlite(_) => format!(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = {}",
            db_conn::sql::literal(table)
        ),
    };
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n > 0)
}

/// `SELECT COUNT(*)` of a table by name.
pub fn raw_count(conn: &mut DbConnection, table: &str) -> diesel::QueryResult<i64> {
    let sql = format!("SELECT COUNT(*) AS n FROM {}", db_conn::sql::ident(table));
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// Digest of every user table in the database: this project's tables through their models
/// (the exact canonical form, equal on SQLite and PostgreSQL), every other table, and any of
/// ours this code cannot read through its model (a schema from another release), through the
/// catalog ([`crate::catalog`]). Run it inside a read transaction to get one consistent point
/// in time.
pub fn digests(conn: &mut DbConnection) -> diesel::QueryResult<BTreeMap<String, TableDigest>> {
    digests_detailed(conn).map(|(digests, _)| digests)
}

/// [`digests`], plus a note for each of our tables that had to be read through the catalog.
pub fn digests_detailed(
    conn: &mut DbConnection,
) -> diesel::QueryResult<(BTreeMap<String, TableDigest>, Vec<String>)> {
    let (mut out, notes) = model_digests(conn)?;
    for table in crate::catalog::user_tables(conn)? {
        let unreadable = out.get(&table.key).is_some_and(|d| d.sha256.is_none());
        if unreadable || !out.contains_key(&table.key) {
            out.insert(table.key.clone(), crate::catalog::digest(conn, &table)?);
        }
    }
    Ok((out, notes))
}

/// Digests of this project's tables only, read through their models: what an export holds.
/// A table this code cannot read through its model gets its row count only.
pub fn model_digests(
    conn: &mut DbConnection,
) -> diesel::QueryResult<(BTreeMap<String, TableDigest>, Vec<String>)> {
    struct Visit<'a> {
        conn: &'a mut DbConnection,
        out: diesel::QueryResult<BTreeMap<String, TableDigest>>,
        unreadable: Vec<String>,
    }
    impl ResourceVisitor for Visit<'_> {
        fn visit<R: Resource>(&mut self) {
            let Ok(out) = &mut self.out else { return };
            let result = (|| {
                if !table_exists(self.conn, R::TABLE)? {
                    return Ok(None);
                }
                // A savepoint, so a failed read does not abort an enclosing PostgreSQL transaction.
                match self.conn.transaction(|c| digest_fast::<R>(c)) {
                    Ok(d) => Ok(Some(d)),
                    Err(e) => {
                        self.unreadable.push(format!(
                            "table {}: a row cannot be read through the model: {e}",
                            R::TABLE
                        ));
                        Ok(Some(TableDigest {
                            rows: raw_count(self.conn, R::TABLE)? as u64,
                            sha256: None,
                        }))
                    }
                }
            })();
            match result {
                Ok(Some(d)) => {
                    out.insert(R::TABLE.to_owned(), d);
                }
                Ok(None) => {}
                Err(e) => self.out = Err(e),
            }
        }
    }
    let mut visit = Visit {
        conn,
        out: Ok(BTreeMap::new()),
        unreadable: Vec::new(),
    };
    visit_all(&mut visit);
    visit.out.map(|out| (out, visit.unreadable))
}

/// What differs between the digests a manifest recorded and those of a restored copy.
pub fn compare(
    expected: &BTreeMap<String, TableDigest>,
    actual: &BTreeMap<String, TableDigest>,
) -> (Vec<String>, Vec<String>) {
    let (mut differences, mut notes) = (Vec::new(), Vec::new());
    for (table, want) in expected {
        match actual.get(table) {
            None => differences.push(format!("table {table} is missing")),
            Some(got) if got.rows != want.rows => differences.push(format!(
                "table {table} has {} row(s), the manifest says {}",
                got.rows, want.rows
            )),
            Some(got) => match (&want.sha256, &got.sha256) {
                (Some(w), Some(g)) if w != g => differences.push(format!(
                    "table {table}: content hash {} differs from the manifest's {}",
                    short(g),
                    short(w)
                )),
                (Some(_), None) | (None, Some(_)) => notes.push(format!(
                    "table {table}: rows counted, content not comparable (its schema differs from this code's)"
                )),
                _ => {}
            },
        }
    }
    for table in actual.keys().filter(|t| !expected.contains_key(*t)) {
        differences.push(format!("table {table} is not in the manifest"));
    }
    (differences, notes)
}

pub fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// SHA-256 and size of a file, streamed.
pub fn file_sha256(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    match file_sha256_into(path, |_| Ok::<(), std::convert::Infallible>(())) {
        Ok(read) => read,
        Err(never) => match never {},
    }
}

/// [`file_sha256`], handing every chunk read to `each` too (a copy checked on its way). The
/// outer error is `each`'s, the inner one reading the file's: a failed copy is not a bad file.
pub fn file_sha256_into<E>(
    path: &std::path::Path,
    mut each: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<std::io::Result<(u64, String)>, E> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => return Ok(Err(e)),
    };
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        sha.update(&buf[..n]);
        each(&buf[..n])?;
        total += n as u64;
    }
    Ok(Ok((total, format!("{:x}", sha.finalize()))))
}
