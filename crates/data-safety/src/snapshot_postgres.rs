//! PostgreSQL: `pg_dump -Fc` from a client at least as new as the server, run against a
//! snapshot exported by our own read transaction (so the dump and the manifest's hashes are one
//! point in time); scratch databases for verification; the atomic restore.
//!
//! External programs run through xshell (never a shell); the password travels in
//! `PGPASSWORD`, never on a command line, so no error message can show it.

use std::path::Path;

use diesel::sql_types::Text;
use diesel::{PgConnection, RunQueryDsl};
use xshell::{cmd, Shell};

use crate::BackupError;
use db_conn::scratch::ScratchDatabase;
use db_conn::{redact_secrets_in, DatabaseTarget};

/// A libpq URL split into what may be shown on a command line and the password.
pub struct PgUrl {
    pub without_password: String,
    pub password: Option<String>,
    pub database: String,
}

pub fn split_url(url: &str) -> PgUrl {
    let (without_password, password) = db_conn::split_password(url);
    let database = url::Url::parse(&without_password)
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .unwrap_or_default();
    PgUrl {
        without_password,
        password,
        database: if database.is_empty() {
            "postgres".into()
        } else {
            database
        },
    }
}

/// The same server, another database.
pub use db_conn::scratch::with_database;

pub(crate) fn url_of(target: &DatabaseTarget) -> Result<&str, BackupError> {
    match target {
        DatabaseTarget::Postgres { url } => Ok(url),
        DatabaseTarget::Sqlite { .. } => {
            Err(BackupError::Refused("not a PostgreSQL database".into()))
        }
    }
}

#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

/// The server's major version and full version text.
pub fn server_version(conn: &mut PgConnection) -> Result<(u32, String), BackupError> {
    let num: One = diesel::sql_query("SELECT current_setting('server_version_num') AS v")
        .get_result(conn)
        .map_err(BackupError::query("reading the server version"))?;
    let text: One = diesel::sql_query("SELECT current_setting('server_version') AS v")
        .get_result(conn)
        .map_err(BackupError::query("reading the server version"))?;
    let num: u32 = num.v.trim().parse().unwrap_or(0);
    let major = if num >= 100_000 {
        num / 10_000
    } else {
        num / 100
    };
    Ok((major, text.v))
}

/// `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)` -> (15, "15.20"); 9.6 -> (9, ..).
pub fn parse_tool_version(output: &str) -> Option<(u32, String)> {
    let rest = output.split("(PostgreSQL)").nth(1)?.trim();
    let version = rest.split_whitespace().next()?.to_owned();
    let major = version
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((major, version))
}

/// Checks that `tool` runs and is not older than the server; returns its version.
pub fn check_tool(
    sh: &Shell,
    tool: &'static str,
    server_major: u32,
) -> Result<String, BackupError> {
    let missing = |reason: String| BackupError::ToolMissing {
        tool,
        reason,
        server_major,
    };
    let out = cmd!(sh, "{tool} --version")
        .quiet()
        .ignore_status()
        .output()
        .map_err(|e| missing(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (major, version) = parse_tool_version(&text)
        .ok_or_else(|| missing(format!("`{tool} --version` said {:?}", text.trim())))?;
    if major < server_major {
        return Err(BackupError::ToolTooOld {
            tool,
            tool_major: major,
            server_major,
        });
    }
    Ok(version)
}

fn run_tool(
    sh: &Shell,
    tool: &'static str,
    args: &[String],
    url: &PgUrl,
    target: &DatabaseTarget,
) -> Result<(), BackupError> {
    let mut command = cmd!(sh, "{tool} {args...}").quiet().ignore_status();
    if let Some(p) = &url.password {
        command = command.env("PGPASSWORD", p);
    }
    let out = command.output().map_err(|e| BackupError::Tool {
        tool,
        message: format!("cannot run it: {e}"),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(BackupError::Tool {
            tool,
            message: redact_secrets_in(stderr.trim(), target),
        });
    }
    Ok(())
}

/// Starts the backup's read transaction's snapshot export: returns its id for `pg_dump --snapshot`.
pub fn export_snapshot(conn: &mut PgConnection) -> Result<String, BackupError> {
    diesel::sql_query("SELECT pg_export_snapshot() AS v")
        .get_result::<One>(conn)
        .map(|r| r.v)
        .map_err(BackupError::query("exporting the snapshot for pg_dump"))
}

/// `pg_dump -Fc` of `target` into `dest`, at the exported snapshot when given.
pub fn dump(
    sh: &Shell,
    target: &DatabaseTarget,
    snapshot: Option<&str>,
    dest: &Path,
) -> Result<(), BackupError> {
    let url = split_url(url_of(target)?);
    let mut args = vec![
        "--format=custom".to_owned(),
        "--no-password".to_owned(),
        format!("--file={}", dest.display()),
    ];
    if let Some(id) = snapshot {
        args.push(format!("--snapshot={id}"));
    }
    args.push(format!("--dbname={}", url.without_password));
    run_tool(sh, "pg_dump", &args, &url, target)
}

/// A scratch database on the server of `server` (verification restores into one).
pub fn scratch_db(server: &DatabaseTarget, purpose: &str) -> Result<ScratchDatabase, BackupError> {
    ScratchDatabase::create(url_of(server)?, purpose).map_err(|e| {
        BackupError::Refused(format!(
            "{e}; verifying a PostgreSQL backup restores it into a scratch database"
        ))
    })
}

/// Drops every object of the `public` schema (relations, routines and aggregates, types,
/// collations, text search objects, operators) and every other user schema (not extensions' own),
/// the first statement of the restore transaction, so objects the backup does not have do not
/// survive it. Extensions stay: the dump re-creates them with IF NOT EXISTS.
pub(crate) const CLEAR_PUBLIC: &str = r#"
DO $pf_clear$
DECLARE stmt text;
BEGIN
  -- Every statement is written before the first runs: a CASCADE may drop later objects.
  FOR stmt IN SELECT unnest(ARRAY(
    SELECT s FROM (
      SELECT -1 AS ord, format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname) AS s
      FROM pg_namespace n
      WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = n.oid AND d.deptype = 'e')
      UNION ALL
      SELECT CASE c.relkind WHEN 'v' THEN 0 WHEN 'm' THEN 1 WHEN 'S' THEN 3 ELSE 2 END AS ord,
             format('DROP %s IF EXISTS public.%I CASCADE',
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                 WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
               c.relname) AS s
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm', 'r', 'p', 'f', 'S')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 4, format('DROP %s IF EXISTS %s CASCADE',
               CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END, p.oid::regprocedure::text)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 5, format('DROP TYPE IF EXISTS public.%I CASCADE', t.typname)
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd', 'r', 'm')
        OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 6, format('DROP COLLATION IF EXISTS public.%I CASCADE', c.collname)
      FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
      WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 7, format('DROP TEXT SEARCH CONFIGURATION IF EXISTS public.%I CASCADE', c.cfgname)
      FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
      WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 8, format('DROP TEXT SEARCH DICTIONARY IF EXISTS public.%I CASCADE', t.dictname)
      FROM pg_ts_dict t JOIN pg_namespace n ON n.oid = t.dictnamespace
      WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
      UNION ALL
      SELECT 9, format('DROP OPERATOR IF EXISTS %s CASCADE', o.oid::regoperator::text)
      FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
      WHERE n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e')
    ) todo ORDER BY ord, s))
  LOOP
    EXECUTE stmt;
  END LOOP;
END
$pf_clear$;
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_versions() {
        assert_eq!(
            parse_tool_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"),
            Some((15, "15.20".into()))
        );
        assert_eq!(
            parse_tool_version("pg_dump (PostgreSQL) 9.6.24"),
            Some((9, "9.6.24".into()))
        );
        assert_eq!(
            parse_tool_version("pg_restore (PostgreSQL) 17beta1"),
            Some((17, "17beta1".into()))
        );
        assert_eq!(parse_tool_version("command not found"), None);
    }

    #[test]
    fn passwords_leave_the_url() {
        let u = split_url("postgres://me:p%40ss@db.example:5432/pf?sslmode=require");
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!(u.database, "pf");
        assert!(
            !u.without_password.contains("p%40ss"),
            "{}",
            u.without_password
        );
        let q = split_url("postgresql://me@h/db?password=s3cret&sslmode=disable");
        assert_eq!(q.password.as_deref(), Some("s3cret"));
        assert!(
            !q.without_password.contains("s3cret"),
            "{}",
            q.without_password
        );
        assert_eq!(
            with_database("postgres://a:b@h:1/x?s=1", "y"),
            "postgres://a:b@h:1/y?s=1"
        );
    }
}
