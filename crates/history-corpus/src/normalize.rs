//! Schemas as comparable text: a `pg_dump --schema-only` reduced to its statements, and a
//! SQLite file's `sqlite_master` plus `user_version`. The dump is split by a small lexer that
//! knows quotes, dollar quotes and comments, so `SET`, `--`, `\` and `public.` inside a
//! function body or a string survive: only whole top-level statements are dropped.

use std::path::Path;

/// The bookkeeping tables of diesel and of this engine: not part of a history's schema.
pub const BOOKKEEPING_TABLES: [&str; 3] = [
    "__diesel_schema_migrations",
    migration_engine::history::CHECKSUM_TABLE,
    migration_engine::history::LOCK_TABLE,
];

/// `pg_dump --schema-only` of `url` without owners, privileges or bookkeeping tables,
/// normalized by [`normalize_pg_dump`].
pub fn pg_schema_dump(url: &str) -> Result<String, xshell::Error> {
    let sh = xshell::Shell::new()?;
    let excluded: Vec<String> = BOOKKEEPING_TABLES
        .iter()
        .map(|t| format!("--exclude-table=public.{t}"))
        .collect();
    let dump = xshell::cmd!(
        sh,
        "pg_dump --schema-only --no-owner --no-privileges {excluded...} {url}"
    )
    .quiet()
    .read()?;
    Ok(normalize_pg_dump(&dump))
}

/// The dump's statements, sorted, one per line block: without comments, without the
/// session `SET`s and `set_config` calls pg_dump opens with, without psql's `\restrict`
/// lines (which carry a random key), so two dumps of equal schemas are equal text.
pub fn normalize_pg_dump(dump: &str) -> String {
    let mut statements: Vec<String> = split_statements(dump)
        .into_iter()
        .filter(|s| {
            !(s.starts_with("SET ")
                || s.starts_with("SELECT pg_catalog.set_config(")
                || s.starts_with('\\'))
        })
        .collect();
    statements.sort();
    statements.join("\n")
}

/// Top-level statements (ending in `;`, or psql meta-command lines), comments removed,
/// trimmed. Quoted text of every kind is copied untouched.
fn split_statements(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(j, c)| chars.get(i + j) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        if current.trim().is_empty() && c == '\\' {
            // A psql meta-command runs to the end of its line.
            let end = (i..chars.len())
                .find(|&j| chars[j] == '\n')
                .unwrap_or(chars.len());
            out.push(chars[i..end].iter().collect::<String>().trim().to_owned());
            current.clear();
            i = end;
        } else if at(i, "--") {
            i = (i..chars.len())
                .find(|&j| chars[j] == '\n')
                .unwrap_or(chars.len());
        } else if at(i, "/*") {
            i = (i + 2..chars.len())
                .find(|&j| at(j, "*/"))
                .map_or(chars.len(), |j| j + 2);
        } else if c == '\'' || c == '"' {
            let end = quoted_end(&chars, i, c);
            current.extend(&chars[i..end]);
            i = end;
        } else if c == '$' {
            match dollar_tag(&chars, i) {
                Some(tag) => {
                    let body_start = i + tag.len();
                    let end = (body_start..chars.len())
                        .find(|&j| at(j, &tag))
                        .map_or(chars.len(), |j| j + tag.len());
                    current.extend(&chars[i..end]);
                    i = end;
                }
                None => {
                    current.push(c);
                    i += 1;
                }
            }
        } else if c == ';' {
            current.push(';');
            out.push(current.trim().to_owned());
            current.clear();
            i += 1;
        } else {
            current.push(c);
            i += 1;
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// The index just past a quoted run starting at `start` (doubled quotes stay inside).
fn quoted_end(chars: &[char], start: usize, quote: char) -> usize {
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == quote {
            if chars.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

/// `$tag$` starting at `start`, if that is a dollar-quote opener.
fn dollar_tag(chars: &[char], start: usize) -> Option<String> {
    let mut j = start + 1;
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    (chars.get(j) == Some(&'$')
        && !chars[start + 1..j]
            .first()
            .is_some_and(char::is_ascii_digit))
    .then(|| chars[start..=j].iter().collect())
}

/// Every object of a SQLite file as `type name tbl_name: sql`, sorted, plus `user_version`;
/// SQLite's own tables and the bookkeeping tables left out.
pub fn sqlite_schema_text(path: &Path) -> diesel::QueryResult<String> {
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct Object {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        user_version: i32,
    }
    let mut conn = SqliteConnection::establish(&path.display().to_string())
        .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
    let excluded = BOOKKEEPING_TABLES.map(|t| format!("'{t}'")).join(", ");
    let objects: Vec<Object> = diesel::sql_query(format!(
        "SELECT type || ' ' || name || ' ' || tbl_name || ': ' || coalesce(sql, '') AS line \
         FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND tbl_name NOT IN ({excluded}) ORDER BY type, name"
    ))
    .load(&mut conn)?;
    let version: Version =
        diesel::sql_query("SELECT user_version FROM pragma_user_version").get_result(&mut conn)?;
    let mut lines: Vec<String> = objects.into_iter().map(|o| o.line).collect();
    lines.push(format!("user_version {}", version.user_version));
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_what_looks_like_session_settings() {
        let dump = "--\n-- PostgreSQL database dump\n--\n\\restrict abc123\nSET statement_timeout = 0;\n\
                    SELECT pg_catalog.set_config('search_path', '', false);\n\
                    CREATE FUNCTION f() RETURNS void\n    LANGUAGE plpgsql\n    SET search_path TO '$user', 'public'\n    AS $_$\nBEGIN\n\
                    SET LOCAL work_mem = '1MB';\n-- kept\nRAISE NOTICE 'public.x \\ y; z';\nEND;\n$_$;\n\
                    -- Name: t; Type: TABLE\nCREATE TABLE public.t (a text DEFAULT 'it''s -- no');\n\\unrestrict abc123\n";
        let normalized = normalize_pg_dump(dump);
        assert!(
            normalized.contains("SET search_path TO '$user', 'public'"),
            "{normalized}"
        );
        assert!(
            normalized
                .contains("SET LOCAL work_mem = '1MB';\n-- kept\nRAISE NOTICE 'public.x \\ y; z';"),
            "{normalized}"
        );
        assert!(
            normalized.contains("DEFAULT 'it''s -- no')"),
            "{normalized}"
        );
        assert!(!normalized.contains("restrict"), "{normalized}");
        assert!(!normalized.contains("statement_timeout"), "{normalized}");
        assert!(
            !normalized.contains("PostgreSQL database dump"),
            "{normalized}"
        );
        assert_eq!(normalized.matches("CREATE ").count(), 2, "{normalized}");
    }
}
