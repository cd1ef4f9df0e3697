//! Every schema object the table-shaped snapshot does not describe, one line each, so that a
//! comparison sees it: on PostgreSQL schemas, extensions, functions and procedures (their full
//! definition, `SET` clauses included), types, domains, collations, statistics objects,
//! comments, row-level-security policies and flags, rules, materialized views, and relations
//! and triggers in every user schema; on SQLite `PRAGMA user_version`. Read in one query.

use std::collections::BTreeSet;

use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use crate::DbConnection;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Objects of user schemas: not the catalog's, not an extension's own members.
const PG_OBJECTS: &str = r#"
WITH user_ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
    AND nspname NOT LIKE 'pg\_temp%'
), ext_members AS (
  SELECT objid FROM pg_depend WHERE deptype = 'e'
)
-- Objects initdb made (public, plpgsql) have OIDs below 16384: the server's, not the history's.
SELECT 'schema ' || nspname AS line FROM user_ns WHERE oid >= 16384 AND oid NOT IN (SELECT objid FROM ext_members)
UNION ALL SELECT 'extension ' || extname || ' ' || extversion || ' in ' || extnamespace::regnamespace::text FROM pg_extension WHERE oid >= 16384
UNION ALL SELECT 'routine ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
  WHERE p.prokind IN ('f', 'p') AND p.oid NOT IN (SELECT objid FROM ext_members)
UNION ALL SELECT 'aggregate ' || p.oid::regprocedure::text FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
  WHERE p.prokind = 'a' AND p.oid NOT IN (SELECT objid FROM ext_members)
UNION ALL SELECT 'type ' || n.nspname || '.' || t.typname || ' ' || t.typtype::text || coalesce(' ' || format_type(t.typbasetype, t.typtypmod), '')
    || coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    || coalesce(' ' || (SELECT string_agg(pg_get_constraintdef(c.oid), ' ' ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid), '')
    || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || t.typdefault, '')
  FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd', 'r', 'm', 'c') AND t.oid NOT IN (SELECT objid FROM ext_members)
    AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL SELECT 'collation ' || n.nspname || '.' || c.collname || ' ' || c.collprovider::text || ' ' || coalesce(c.colliculocale, c.collcollate, '')
  FROM pg_collation c JOIN user_ns n ON n.oid = c.collnamespace WHERE c.oid NOT IN (SELECT objid FROM ext_members)
UNION ALL SELECT 'statistics ' || n.nspname || '.' || s.stxname || ' on ' || s.stxrelid::regclass::text || ' ' || s.stxkind::text
  FROM pg_statistic_ext s JOIN user_ns n ON n.oid = s.stxnamespace
UNION ALL SELECT 'relation ' || c.relkind::text || ' ' || n.nspname || '.' || c.relname
    || CASE WHEN c.relrowsecurity THEN ' row-level-security' ELSE '' END
    || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END
    || CASE WHEN c.relkind = 'm' THEN ' ' || pg_get_viewdef(c.oid) ELSE '' END
  FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I') AND c.oid NOT IN (SELECT objid FROM ext_members)
    -- The table snapshot already describes the current schema's tables, views and indexes.
    AND (n.nspname <> current_schema() OR c.relkind IN ('S', 'm', 'f') OR c.relrowsecurity)
UNION ALL SELECT 'policy ' || pol.polname || ' on ' || pol.polrelid::regclass::text || ' ' || pol.polcmd::text
    || coalesce(' using ' || pg_get_expr(pol.polqual, pol.polrelid), '') || coalesce(' check ' || pg_get_expr(pol.polwithcheck, pol.polrelid), '')
  FROM pg_policy pol
UNION ALL SELECT 'rule ' || pg_get_ruledef(r.oid) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
  JOIN user_ns n ON n.oid = c.relnamespace WHERE r.rulename <> '_RETURN'
UNION ALL SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN user_ns n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal
UNION ALL SELECT 'comment on ' || i.type || ' ' || i.identity || ': ' || d.description
  FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) i
  -- Objects initdb made have OIDs below 16384: their comments are the server's, not the history's.
  WHERE d.objoid >= 16384 AND d.objoid NOT IN (SELECT objid FROM ext_members)
    AND (i.schema IN (SELECT nspname FROM user_ns) OR i.type IN ('schema', 'extension'))
"#;

/// The lines of every object the table snapshot leaves out.
pub fn capture(conn: &mut DbConnection) -> QueryResult<BTreeSet<String>> {
    let sql = match conn {
        DbConnection::Pg(_) => format!(
            "SELECT line FROM ({PG_OBJECTS}) o WHERE line NOT LIKE 'relation % %.\\_\\_pf\\_%' AND line NOT LIKE 'relation % %.__diesel_schema_migrations%'"
        ),
        DbConnection::Sqlite(_) => {
            "SELECT 'pragma user_version ' || user_version AS line FROM pragma_user_version WHERE user_version <> 0".into()
        }
    };
    let lines: Vec<Line> = diesel::sql_query(sql).load(conn)?;
    Ok(lines.into_iter().map(|l| l.line).collect())
}
