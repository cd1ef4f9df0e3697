//! A normalized picture of a live schema, comparable across runs and (by type class) across
//! backends: used to prove that every down.sql reverses its up.sql, that both trees agree,
//! and later to detect drift and prove consolidation equivalent.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use serde::Serialize;

use crate::DbConnection;

/// diesel's own bookkeeping table, which belongs to no migration.
pub const DIESEL_TABLE: &str = "__diesel_schema_migrations";
/// Tables of this project's migration bookkeeping (checksums, lock).
pub const BOOKKEEPING_PREFIX: &str = "__pf_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SchemaSnapshot {
    pub tables: BTreeMap<String, TableSchema>,
    /// name -> whitespace-normalized definition
    pub views: BTreeMap<String, String>,
    pub triggers: BTreeMap<String, String>,
    /// Every other object, one line each ([`crate::objects`]).
    pub objects: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TableSchema {
    pub columns: Vec<ColumnSchema>,
    pub primary_key: Vec<String>,
    /// "UNIQUE(a,b)" and "INDEX name(a)" style descriptors
    pub indexes: BTreeSet<String>,
    /// "(col) -> table(col) ON DELETE action"
    pub foreign_keys: BTreeSet<String>,
    pub checks: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnSchema {
    pub name: String,
    /// The backend's own type text, e.g. `numeric(38,18)` or `TEXT`
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
}

/// What a column holds, independent of backend spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TypeClass {
    Integer,
    Decimal,
    Text,
    Date,
    Timestamp,
    Bool,
    Float,
    Other,
}

impl TypeClass {
    /// Classifies a PostgreSQL type; SQLite decimals are TEXT, so `decimal_columns` (known
    /// from the PostgreSQL side or schema.rs) decides for them.
    pub fn of(data_type: &str) -> Self {
        let t = data_type.to_ascii_lowercase();
        if t.contains("int") {
            Self::Integer
        } else if t.starts_with("numeric") || t.starts_with("decimal") {
            Self::Decimal
        } else if t.contains("char") || t.contains("text") || t.contains("clob") {
            Self::Text
        } else if t.starts_with("timestamp") || t == "datetime" {
            Self::Timestamp
        } else if t == "date" {
            Self::Date
        } else if t.starts_with("bool") {
            Self::Bool
        } else if t.contains("real") || t.contains("double") || t.contains("float") {
            Self::Float
        } else {
            Self::Other
        }
    }
}

impl SchemaSnapshot {
    /// Reads the schema of the connected database (the current schema on PostgreSQL),
    /// leaving out diesel's own table.
    pub fn capture(conn: &mut DbConnection) -> QueryResult<Self> {
        let mut snap = match conn {
            DbConnection::Sqlite(c) => sqlite::capture(c)?,
            DbConnection::Pg(c) => postgres::capture(c)?,
        };
        snap.objects = crate::objects::capture(conn)?;
        // The migration tool's own bookkeeping is not part of the application schema.
        snap.tables
            .retain(|name, _| !name.starts_with(BOOKKEEPING_PREFIX));
        Ok(snap)
    }

    /// Human-readable differences, empty when equal.
    pub fn diff(&self, other: &Self) -> Vec<String> {
        self.diff_labeled(other, "the left", "the right")
    }

    /// Differences, naming the two sides (e.g. "the live database", "the migration history").
    pub fn diff_labeled(&self, other: &Self, left: &str, right: &str) -> Vec<String> {
        let labels = (left, right);
        let mut out = Vec::new();
        diff_maps(
            "table",
            &self.tables,
            &other.tables,
            labels,
            &mut out,
            |name, a, b, out| {
                if a.columns != b.columns {
                    out.push(format!(
                        "table {name}: columns differ:\n    {:?}\n    {:?}",
                        a.columns, b.columns
                    ));
                }
                for (what, x, y) in [
                    ("indexes", &a.indexes, &b.indexes),
                    ("foreign keys", &a.foreign_keys, &b.foreign_keys),
                    ("checks", &a.checks, &b.checks),
                ] {
                    if x != y {
                        out.push(format!("table {name}: {what} differ: {x:?} vs {y:?}"));
                    }
                }
                if a.primary_key != b.primary_key {
                    out.push(format!(
                        "table {name}: primary key {:?} vs {:?}",
                        a.primary_key, b.primary_key
                    ));
                }
            },
        );
        diff_maps(
            "view",
            &self.views,
            &other.views,
            labels,
            &mut out,
            |n, a, b, out| {
                if a != b {
                    out.push(format!("view {n}: definition differs: `{a}` vs `{b}`"));
                }
            },
        );
        diff_maps(
            "trigger",
            &self.triggers,
            &other.triggers,
            labels,
            &mut out,
            |n, a, b, out| {
                if a != b {
                    out.push(format!("trigger {n}: definition differs: `{a}` vs `{b}`"));
                }
            },
        );
        for only in self.objects.difference(&other.objects) {
            out.push(format!("only {left} has {only}"));
        }
        for only in other.objects.difference(&self.objects) {
            out.push(format!("only {right} has {only}"));
        }
        out
    }
}

fn diff_maps<V>(
    kind: &str,
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
    (left, right): (&str, &str),
    out: &mut Vec<String>,
    both: impl Fn(&str, &V, &V, &mut Vec<String>),
) {
    for (name, value) in a {
        match b.get(name) {
            Some(other) => both(name, value, other, out),
            None => out.push(format!("{kind} {name} exists only in {left}")),
        }
    }
    for name in b.keys().filter(|n| !a.contains_key(*n)) {
        out.push(format!("{kind} {name} exists only in {right}"));
    }
}

/// Collapses whitespace and identifier quoting, which SQLite rewrites on renames.
pub fn normalize_sql(sql: &str) -> String {
    sql.replace(['"', '`'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(QueryableByName)]
struct NameRow {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct NameSqlRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

mod sqlite {
    use super::*;
    use diesel::SqliteConnection;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        type_: String,
        #[diesel(sql_type = Bool)]
        not_null: bool,
        #[diesel(sql_type = Nullable<Text>)]
        dflt_value: Option<String>,
        #[diesel(sql_type = BigInt)]
        pk: i64,
    }

    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        unique: bool,
        #[diesel(sql_type = Text)]
        origin: String,
        #[diesel(sql_type = Text)]
        columns: String,
        /// The CREATE INDEX text of an index written by hand.
        #[diesel(sql_type = Nullable<Text>)]
        sql: Option<String>,
        #[diesel(sql_type = Bool)]
        partial: bool,
    }

    #[derive(QueryableByName)]
    struct ForeignKey {
        #[diesel(sql_type = Text)]
        from_col: String,
        #[diesel(sql_type = Text)]
        to_table: String,
        #[diesel(sql_type = Nullable<Text>)]
        to_col: Option<String>,
        #[diesel(sql_type = Text)]
        on_delete: String,
    }

    pub fn capture(conn: &mut SqliteConnection) -> QueryResult<SchemaSnapshot> {
        let mut snap = SchemaSnapshot::default();
        let tables: Vec<NameRow> = diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name <> ? AND name NOT LIKE '\\_\\_pf\\_%' ESCAPE '\\' ORDER BY name",
        )
        .bind::<Text, _>(DIESEL_TABLE)
        .load(conn)?;
        for NameRow { name } in tables {
            let columns: Vec<Column> = diesel::sql_query(
                "SELECT name, type AS type_, \"notnull\" AS not_null, dflt_value, pk FROM pragma_table_xinfo(?) WHERE hidden <> 1 ORDER BY cid",
            )
            .bind::<Text, _>(&name)
            .load(conn)?;
            let mut table = TableSchema::default();
            let mut pk: Vec<(i64, String)> = Vec::new();
            for c in columns {
                if c.pk > 0 {
                    pk.push((c.pk, c.name.clone()));
                }
                table.columns.push(ColumnSchema {
                    name: c.name,
                    data_type: c.type_,
                    nullable: !c.not_null,
                    default: c.dflt_value,
                });
            }
            pk.sort();
            table.primary_key = pk.into_iter().map(|(_, n)| n).collect();
            // The stored CREATE TABLE text holds what no pragma shows: CHECK constraints,
            // generated columns' expressions, STRICT, WITHOUT ROWID, AUTOINCREMENT.
            let definition: Vec<NameRow> = diesel::sql_query(
                "SELECT sql AS name FROM sqlite_master WHERE type = 'table' AND name = ? AND sql IS NOT NULL",
            )
            .bind::<Text, _>(&name)
            .load(conn)?;
            table.checks.extend(
                definition
                    .into_iter()
                    .map(|d| format!("definition: {}", normalize_sql(&d.name))),
            );
            let indexes: Vec<Index> = diesel::sql_query(
                "SELECT il.name AS name, il.\"unique\" AS \"unique\", il.origin AS origin, il.partial AS partial, \
                 coalesce((SELECT group_concat(coalesce(ii.name, '<expression>'), ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno) ii), '') AS columns, \
                 (SELECT m.sql FROM sqlite_master m WHERE m.type = 'index' AND m.name = il.name) AS sql \
                 FROM pragma_index_list(?) il",
            )
            .bind::<Text, _>(&name)
            .load(conn)?;
            for i in indexes {
                // Indexes SQLite made for UNIQUE/PRIMARY KEY constraints have generated names.
                let descriptor = match (i.origin.as_str(), i.unique) {
                    ("pk", _) => continue,
                    ("u", _) => format!("UNIQUE({})", i.columns),
                    // Expressions and WHERE clauses are only in the index's own text.
                    _ if i.partial || i.columns.contains("<expression>") => {
                        normalize_sql(i.sql.as_deref().unwrap_or_default())
                    }
                    (_, true) => format!("UNIQUE INDEX {}({})", i.name, i.columns),
                    (_, false) => format!("INDEX {}({})", i.name, i.columns),
                };
                table.indexes.insert(descriptor);
            }
            let fks: Vec<ForeignKey> = diesel::sql_query(
                "SELECT \"from\" AS from_col, \"table\" AS to_table, \"to\" AS to_col, on_delete FROM pragma_foreign_key_list(?)",
            )
            .bind::<Text, _>(&name)
            .load(conn)?;
            for fk in fks {
                table.foreign_keys.insert(format!(
                    "({}) -> {}({}) ON DELETE {}",
                    fk.from_col,
                    fk.to_table,
                    fk.to_col.unwrap_or_else(|| "id".into()),
                    fk.on_delete
                ));
            }
            snap.tables.insert(name, table);
        }
        // Triggers are keyed `name on table`, as on PostgreSQL, where names are per table.
        for (kind, map) in [("view", &mut snap.views), ("trigger", &mut snap.triggers)] {
            let rows: Vec<NameSqlRow> = diesel::sql_query(
                "SELECT CASE type WHEN 'trigger' THEN name || ' on ' || tbl_name ELSE name END AS name, sql \
                 FROM sqlite_master WHERE type = ? AND sql IS NOT NULL ORDER BY name",
            )
            .bind::<Text, _>(kind)
            .load(conn)?;
            for r in rows {
                map.insert(r.name, normalize_sql(&r.sql));
            }
        }
        Ok(snap)
    }
}

mod postgres {
    use super::*;
    use diesel::PgConnection;

    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        data_type: String,
        #[diesel(sql_type = Bool)]
        not_null: bool,
        #[diesel(sql_type = Nullable<Text>)]
        default_expr: Option<String>,
        #[diesel(sql_type = Text)]
        identity: String,
    }

    #[derive(QueryableByName)]
    struct Definition {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        definition: String,
    }

    #[derive(QueryableByName)]
    struct Schema {
        #[diesel(sql_type = Text)]
        name: String,
    }

    pub fn capture(conn: &mut PgConnection) -> QueryResult<SchemaSnapshot> {
        let mut snap = SchemaSnapshot::default();
        let schema: Schema =
            diesel::sql_query("SELECT current_schema()::text AS name").get_result(conn)?;
        columns(conn, &mut snap)?;
        constraints_and_indexes(conn, &mut snap, &schema.name)?;
        views_and_triggers(conn, &mut snap, &schema.name)?;
        Ok(snap)
    }

    /// Every table of the current schema with its columns, in column order.
    fn columns(conn: &mut PgConnection, snap: &mut SchemaSnapshot) -> QueryResult<()> {
        let columns: Vec<Column> = diesel::sql_query(
            "SELECT c.relname::text AS table_name, a.attname::text AS name, \
                    format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
                    pg_get_expr(d.adbin, d.adrelid) AS default_expr, a.attidentity::text AS identity \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 \
               AND NOT a.attisdropped AND c.relname <> $1 \
             ORDER BY c.relname, a.attnum",
        )
        .bind::<Text, _>(DIESEL_TABLE)
        .load(conn)?;
        for c in columns {
            let default = match c.identity.as_str() {
                "d" => Some("GENERATED BY DEFAULT AS IDENTITY".to_owned()),
                "a" => Some("GENERATED ALWAYS AS IDENTITY".to_owned()),
                _ => c.default_expr,
            };
            snap.tables
                .entry(c.table_name)
                .or_default()
                .columns
                .push(ColumnSchema {
                    name: c.name,
                    data_type: c.data_type,
                    nullable: !c.not_null,
                    default,
                });
        }
        Ok(())
    }

    /// Constraints and indexes; index definitions name the schema, which is dropped so that
    /// snapshots of different schemas compare equal.
    fn constraints_and_indexes(
        conn: &mut PgConnection,
        snap: &mut SchemaSnapshot,
        schema: &str,
    ) -> QueryResult<()> {
        let defs: Vec<Definition> = diesel::sql_query(
            "SELECT cl.relname::text AS table_name, con.conname::text AS name, con.contype::text AS kind, \
                    pg_get_constraintdef(con.oid) AS definition \
             FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = cl.relnamespace \
             WHERE n.nspname = current_schema() AND cl.relname <> $1 \
             UNION ALL \
             SELECT t.relname::text, i.relname::text, 'i', pg_get_indexdef(i.oid) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname <> $1 \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
             ORDER BY 1, 2",
        )
        .bind::<Text, _>(DIESEL_TABLE)
        .load(conn)?;
        for d in defs {
            let Some(table) = snap.tables.get_mut(&d.table_name) else {
                continue;
            };
            let def = d.definition.replace(&format!("ON {schema}."), "ON ");
            match d.kind.as_str() {
                "p" => {
                    table.primary_key = def
                        .trim_start_matches("PRIMARY KEY (")
                        .trim_end_matches(')')
                        .split(", ")
                        .map(str::to_owned)
                        .collect()
                }
                "u" => {
                    table
                        .indexes
                        .insert(def.replace("UNIQUE (", "UNIQUE(").replace(", ", ","));
                }
                "f" => {
                    table.foreign_keys.insert(fk_descriptor(&def));
                }
                "c" => {
                    table.checks.insert(normalize_sql(&def));
                }
                "i" => {
                    table.indexes.insert(index_descriptor(&d.name, &def));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Views and (user) triggers, whitespace-normalized; trigger definitions lose the schema
    /// name for the same reason index definitions do.
    fn views_and_triggers(
        conn: &mut PgConnection,
        snap: &mut SchemaSnapshot,
        schema: &str,
    ) -> QueryResult<()> {
        let views: Vec<NameSqlRow> = diesel::sql_query(
            "SELECT viewname::text AS name, definition AS sql FROM pg_views WHERE schemaname = current_schema() ORDER BY 1",
        )
        .load(conn)?;
        for v in views {
            snap.views.insert(v.name, normalize_sql(&v.sql));
        }
        let triggers: Vec<NameSqlRow> = diesel::sql_query(
            // A trigger's name is unique only per table (diesel names every one `set_updated_at`).
            "SELECT t.tgname::text || ' on ' || c.relname::text AS name, pg_get_triggerdef(t.oid) AS sql FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND NOT t.tgisinternal ORDER BY 1",
        )
        .load(conn)?;
        for t in triggers {
            let def = t.sql.replace(&format!("ON {schema}."), "ON ");
            snap.triggers.insert(t.name, normalize_sql(&def));
        }
        Ok(())
    }

    /// `FOREIGN KEY (a) REFERENCES t(id) ON DELETE SET NULL` -> `(a) -> t(id) ON DELETE SET NULL`,
    /// the same shape the SQLite side produces (which spells the default as NO ACTION).
    fn fk_descriptor(def: &str) -> String {
        let rest = def.trim_start_matches("FOREIGN KEY ");
        let (cols, rest) = rest.split_once(" REFERENCES ").unwrap_or((rest, ""));
        let (target, action) = match rest.split_once(" ON DELETE ") {
            Some((t, a)) => (t, a.split(" ON UPDATE").next().unwrap_or(a)),
            None => (rest.split(" ON UPDATE").next().unwrap_or(rest), "NO ACTION"),
        };
        format!("{cols} -> {target} ON DELETE {action}")
    }

    /// `CREATE [UNIQUE] INDEX name ON t USING btree (a, b)` -> `[UNIQUE ]INDEX name(a,b)`.
    fn index_descriptor(name: &str, def: &str) -> String {
        let unique = if def.starts_with("CREATE UNIQUE") {
            "UNIQUE "
        } else {
            ""
        };
        let cols = def
            .split_once(" (")
            .map(|(_, c)| c.trim_end_matches(')').replace(", ", ","))
            .unwrap_or_default();
        format!("{unique}INDEX {name}({cols})")
    }
}
