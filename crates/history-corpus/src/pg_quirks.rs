//! The opening of the PostgreSQL history: what real diesel projects start with and the quirks
//! that broke tools before (diesel's own setup migration, extensions in public, a schema of
//! its own, a function with `SET search_path`, `DELETE FROM` and `SET`/`--`/`\` inside a
//! dollar-quoted body, `public.` inside a string literal, a last statement without `;`
//! followed by comments, an index built outside a transaction).

use super::Step;

/// diesel's generated `00000000000000_diesel_initial_setup`, byte for byte.
pub const DIESEL_SETUP_UP: &str = r#"-- This file was automatically created by Diesel to setup helper functions
-- and other internal bookkeeping. This file is safe to edit, any future
-- changes will be added to existing projects as new migrations.




-- Sets up a trigger for the given table to automatically set a column called
-- `updated_at` whenever the row is modified (unless `updated_at` was included
-- in the modified columns)
--
-- # Example
--
-- ```sql
-- CREATE TABLE users (id SERIAL PRIMARY KEY, updated_at TIMESTAMP NOT NULL DEFAULT NOW());
--
-- SELECT diesel_manage_updated_at('users');
-- ```
CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$
BEGIN
    IF (
        NEW IS DISTINCT FROM OLD AND
        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
    ) THEN
        NEW.updated_at := current_timestamp;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"#;

const DIESEL_SETUP_DOWN: &str = r#"-- This file was automatically created by Diesel to setup helper functions
-- and other internal bookkeeping. This file is safe to edit, any future
-- changes will be added to existing projects as new migrations.

DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);
DROP FUNCTION IF EXISTS diesel_set_updated_at();
"#;

pub fn opening() -> Vec<Step> {
    vec![
        Step::new("diesel_initial_setup", DIESEL_SETUP_UP, DIESEL_SETUP_DOWN),
        Step::new(
            "enable-extensions",
            "CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA public;\n\
             CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;\n\
             CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;\n\
             CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;\n",
            "DROP EXTENSION btree_gist;\nDROP EXTENSION pg_trgm;\nDROP EXTENSION citext;\nDROP EXTENSION ltree;\n",
        ),
        Step::new(
            "utils",
            UTILS_UP,
            "DROP FUNCTION utils.purge_audit(integer);\nDROP TABLE utils.audit_log;\nDROP SCHEMA utils;\n",
        )
        .fill("INSERT INTO utils.audit_log (note) VALUES ('filled');\n"),
        Step::new(
            "create_accounts",
            "CREATE TABLE public.accounts (\n    id BIGSERIAL PRIMARY KEY,\n    email public.citext NOT NULL UNIQUE,\n    \
             display_name TEXT NOT NULL DEFAULT 'public.nobody',\n    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n    \
             updated_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n\
             SELECT diesel_manage_updated_at('public.accounts');\n\
             CREATE INDEX accounts_display_name_trgm ON public.accounts USING gin (display_name public.gin_trgm_ops)\n\
             -- the last statement above has no semicolon;\n\
             -- these comments follow it, and one ends in a semicolon;\n",
            "DROP TABLE public.accounts;\n",
        )
        .fill("INSERT INTO accounts (email) VALUES ('fill@example.com');\n"),
        Step::new(
            "seed-accounts",
            "-- seed rows: created_at and updated_at come from now() defaults\n\
             INSERT INTO public.accounts (email, display_name) VALUES\n    ('root@example.com', 'root'),\n    \
             ('ops@example.com', 'it''s ops; -- not a comment');\n",
            "DELETE FROM public.accounts WHERE email IN ('root@example.com', 'ops@example.com');\n",
        ),
        {
            let mut s = Step::new(
                "index_accounts_created_concurrently",
                "CREATE INDEX CONCURRENTLY accounts_created_at ON accounts (created_at);\n",
                "DROP INDEX CONCURRENTLY accounts_created_at;\n",
            );
            s.outside_transaction = true;
            s
        },
    ]
}

/// A schema of its own holding a table and a function whose body has every text that naive
/// dump cleaning mangles: `SET` and `--` at line starts, a backslash, `public.` in a literal.
const UTILS_UP: &str = r#"CREATE SCHEMA utils;

CREATE TABLE utils.audit_log (
    id BIGSERIAL PRIMARY KEY,
    note TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION utils.purge_audit(keep_days integer) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO '$user', 'public'
AS $body$
DECLARE
    removed integer;
BEGIN
-- a comment at the start of a line inside the body
SET LOCAL statement_timeout = '5s';
    DELETE FROM utils.audit_log WHERE at < now() - make_interval(days => keep_days);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RAISE NOTICE 'purged % rows from public.audit_log \ done', removed;
    RETURN removed;
END;
$body$;
"#;
