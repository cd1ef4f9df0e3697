//! Row counts and content hashes of the tables no model describes: every user table the
//! database's catalog lists (any schema on PostgreSQL, any column type, composite or missing
//! primary keys), so a backup of another project's history proves as much as one of ours.
//!
//! Each row becomes one line of the database's own canonical text (PostgreSQL `row_to_json`;
//! SQLite `json_array` with blobs as hex). Without a key to order by, the table's hash is a
//! multiset hash: the sum, modulo 2^256, of every line's SHA-256, then hashed once more with the
//! row count. It is independent of row order, counts duplicate rows, and changes when a row is
//! lost, added or altered. Rows stream through a cursor (PostgreSQL) or a stepped statement
//! (SQLite): memory is flat in the table's size.

use diesel::connection::{Connection, SimpleConnection};
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use sha2::{Digest, Sha256};

use crate::manifest::TableDigest;
use db_conn::sql::{ident, literal};
use db_conn::DbConnection;

/// Rows fetched per round trip from a PostgreSQL cursor.
const FETCH: usize = 5000;

/// A user table as the catalog names it. `key` is how manifests name it: the bare table name
/// in the current schema, `schema.table` elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    pub key: String,
    schema: Option<String>,
    name: String,
}

impl CatalogTable {
    fn qualified(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", ident(s), ident(&self.name)),
            None => ident(&self.name),
        }
    }
}

#[derive(QueryableByName)]
struct Listed {
    #[diesel(sql_type = Text)]
    schema: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    current: String,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every user table: not the catalog's own, not an extension's, not a partition (its rows
/// are its parent's), not the migration bookkeeping (`__diesel_schema_migrations`, `__pf_*`),
/// not SQLite's internal, shadow or virtual tables (an FTS index is rebuilt from its content).
pub fn user_tables(conn: &mut DbConnection) -> diesel::QueryResult<Vec<CatalogTable>> {
    let sql = match conn {
        DbConnection::Pg(_) => {
            "SELECT n.nspname::text AS schema, c.relname::text AS name, current_schema()::text AS current \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
               AND c.relname <> '__diesel_schema_migrations' AND c.relname NOT LIKE '\\_\\_pf\\_%' \
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                               AND d.objid = c.oid AND d.deptype = 'e') \
             ORDER BY 1, 2"
        }
        DbConnection::Sqlite(_) => {
            "SELECT schema, name, 'main' AS current FROM pragma_table_list \
             WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               AND name <> '__diesel_schema_migrations' AND name NOT LIKE '\\_\\_pf\\_%' ESCAPE '\\' \
             ORDER BY name"
        }
    };
    let listed: Vec<Listed> = diesel::sql_query(sql).load(conn)?;
    Ok(listed
        .into_iter()
        .map(|t| {
            let here = t.schema == t.current;
            CatalogTable {
                key: if here {
                    t.name.clone()
                } else {
                    format!("{}.{}", t.schema, t.name)
                },
                schema: (!here).then_some(t.schema),
                name: t.name,
            }
        })
        .collect())
}

/// Accumulates an order-independent hash of lines.
#[derive(Default)]
struct MultisetHash {
    sum: [u8; 32],
    rows: u64,
}

impl MultisetHash {
    fn add(&mut self, line: &str) {
        let digest = Sha256::digest(line.as_bytes());
        let mut carry = 0u16;
        for i in (0..32).rev() {
            let total = u16::from(self.sum[i]) + u16::from(digest[i]) + carry;
            self.sum[i] = total as u8;
            carry = total >> 8;
        }
        self.rows += 1;
    }

    fn finish(self) -> TableDigest {
        let mut sha = Sha256::new();
        sha.update(b"multiset-v1\n");
        sha.update(self.rows.to_be_bytes());
        sha.update(self.sum);
        TableDigest {
            rows: self.rows,
            sha256: Some(format!("{:x}", sha.finalize())),
        }
    }
}

/// The digest of one table read through the catalog.
pub fn digest(conn: &mut DbConnection, table: &CatalogTable) -> diesel::QueryResult<TableDigest> {
    let mut hash = MultisetHash::default();
    match conn {
        DbConnection::Pg(_) => {
            let query = format!(
                "SELECT row_to_json(x)::text AS line FROM {} x",
                table.qualified()
            );
            // A cursor needs a transaction; inside one already, this is a savepoint.
            conn.transaction(|c| {
                c.batch_execute(&format!(
                    "DECLARE pf_catalog_rows NO SCROLL CURSOR FOR {query}"
                ))?;
                loop {
                    let page: Vec<Line> =
                        diesel::sql_query(format!("FETCH {FETCH} FROM pf_catalog_rows")).load(c)?;
                    page.iter().for_each(|l| hash.add(&l.line));
                    if page.len() < FETCH {
                        break;
                    }
                }
                c.batch_execute("CLOSE pf_catalog_rows")
            })?;
        }
        DbConnection::Sqlite(_) => {
            let columns = sqlite_columns(conn, &table.name)?;
            let query = format!(
                "SELECT json_array({}) AS line FROM {}",
                columns.join(", "),
                table.qualified()
            );
            for line in diesel::sql_query(query)
                .load_iter::<Line, diesel::connection::DefaultLoadingMode>(conn)?
            {
                hash.add(&line?.line);
            }
        }
    }
    Ok(hash.finish())
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The select list for a SQLite row: every column, blobs as hex (JSON holds no blobs).
fn sqlite_columns(conn: &mut DbConnection, table: &str) -> diesel::QueryResult<Vec<String>> {
    let cols: Vec<Column> = diesel::sql_query(format!(
        "SELECT name FROM pragma_table_xinfo({}) ORDER BY cid",
        literal(table)
    ))
    .load(conn)?;
    Ok(cols
        .into_iter()
        .map(|c| {
            let col = ident(&c.name);
            format!("CASE WHEN typeof({col}) = 'blob' THEN 'x' || hex({col}) ELSE {col} END")
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::MultisetHash;

    fn hash(lines: &[&str]) -> String {
        let mut h = MultisetHash::default();
        lines.iter().for_each(|l| h.add(l));
        h.finish().sha256.unwrap()
    }

    #[test]
    fn the_multiset_hash_ignores_order_and_sees_every_row() {
        let base = hash(&["[1,\"a\"]", "[2,\"b\"]", "[2,\"b\"]"]);
        assert_eq!(base, hash(&["[2,\"b\"]", "[1,\"a\"]", "[2,\"b\"]"]));
        assert_ne!(base, hash(&["[1,\"a\"]", "[2,\"b\"]"]), "a lost duplicate");
        assert_ne!(
            base,
            hash(&["[1,\"a\"]", "[2,\"b\"]", "[2,\"c\"]"]),
            "a changed value"
        );
        assert_ne!(hash(&[]), hash(&[""]), "an empty row is a row");
    }
}
