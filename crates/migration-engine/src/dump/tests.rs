//! The lexer on what real dumps and histories contain.

use super::*;

fn statements(sql: &str) -> Vec<String> {
    split(sql)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Statement(s) => Some(s.text()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_dollar_body_keeps_its_set_lines_semicolons_and_comment_markers() {
    let sql = "SET statement_timeout = 0;\n\
        CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql\n    SET search_path TO '$user', 'public'\n    AS $_$\n\
        BEGIN\nSET LOCAL work_mem = '1MB';\n-- not a comment of the script\n\\not_a_meta_line\nDELETE FROM public.t;\nEND\n$_$;\n";
    let cleaned = clean_for_baseline(sql);
    assert!(!cleaned.contains("statement_timeout"), "{cleaned}");
    for kept in [
        "SET search_path TO '$user', 'public'",
        "SET LOCAL work_mem = '1MB';",
        "-- not a comment of the script",
        "\\not_a_meta_line",
        "DELETE FROM public.t;",
    ] {
        assert!(cleaned.contains(kept), "lost {kept:?}:\n{cleaned}");
    }
    assert_eq!(statements(sql).len(), 2);
}

#[test]
fn public_goes_only_where_it_qualifies_an_identifier() {
    let sql = "CREATE TABLE public.t (a text DEFAULT 'public.x', b \"public\".d, c mypublic.e);\n\
        COMMENT ON TABLE \"public\".t IS 'see public.t';\nCREATE EXTENSION ltree WITH SCHEMA public;\n\
        SELECT other.public.f(), public .g();";
    let cleaned = clean_for_baseline(sql);
    assert_eq!(
        baseline_statements(sql),
        [
            "CREATE TABLE t (a text DEFAULT 'public.x', b d, c mypublic.e);",
            "COMMENT ON TABLE t IS 'see public.t';",
            "CREATE EXTENSION ltree WITH SCHEMA public;",
            "SELECT other.public.f(), public .g();",
        ],
        "{cleaned}"
    );
}

#[test]
fn strings_comments_and_escapes_do_not_split_or_hide_statements() {
    let sql = "INSERT INTO t VALUES ('a -- b; c', E'it\\'s; \\\\', 'x''; y');\n\
        /* outer /* nested; */ still comment; */\n\
        SELECT \"we\"\"ird;\" FROM t; -- trailing; comment\n\
        SELECT $$ $1 ; $$, $1";
    assert_eq!(
        statements(sql),
        [
            "INSERT INTO t VALUES ('a -- b; c', E'it\\'s; \\\\', 'x''; y');",
            "SELECT \"we\"\"ird;\" FROM t;",
            "SELECT $$ $1 ; $$, $1",
        ]
    );
    let pieces = split(sql);
    assert!(pieces
        .iter()
        .any(|p| matches!(p, Piece::Comment(c) if c.contains("nested"))));
}

#[test]
fn a_last_statement_without_semicolon_is_kept_apart_from_the_comments_after_it() {
    let sql = "CREATE TABLE a (id int);\nCREATE TABLE b (id int)\n-- a comment\n-- another\n";
    let pieces = split(sql);
    assert_eq!(pieces.len(), 4, "{pieces:?}");
    assert_eq!(
        baseline_statements(sql),
        ["CREATE TABLE a (id int);", "CREATE TABLE b (id int);"]
    );
}

#[test]
fn meta_lines_count_only_at_a_statement_start() {
    let sql = "\\restrict abc123\nSET x = 1;\nSELECT pg_catalog.set_config('search_path', '', false);\n\
        SELECT pg_catalog.setval('public.s', 3, true);\nSELECT '\\restrict no';\n\\unrestrict abc123\n";
    assert_eq!(
        baseline_statements(sql),
        [
            "SELECT pg_catalog.setval('public.s', 3, true);",
            "SELECT '\\restrict no';"
        ]
    );
    assert!(split(sql)
        .iter()
        .any(|p| matches!(p, Piece::Meta(m) if *m == "\\restrict abc123")));
}

#[test]
fn a_standard_sql_body_keeps_its_semicolons() {
    let sql = "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT CASE WHEN true THEN 1 END;\n SELECT 2;\nEND;\nCREATE TABLE x (id int);";
    let s = statements(sql);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s[0].ends_with("END;"));
}

#[test]
fn comparison_ignores_layout_but_not_literals() {
    let a = "CREATE VIEW public.v AS\n SELECT 'a  b'::text AS x;\n";
    let b = "CREATE   VIEW v AS SELECT /* c */ 'a  b'::text AS x ;";
    assert_eq!(normalize_for_compare(a), normalize_for_compare(b));
    let c = "CREATE VIEW v AS SELECT 'a b'::text AS x;";
    assert_ne!(normalize_for_compare(a), normalize_for_compare(c));
}

#[test]
fn the_diff_names_the_object_and_the_difference() {
    let chain = normalize_for_compare(
        "CREATE FUNCTION f() RETURNS void LANGUAGE sql SET search_path TO 'public' AS $$ SELECT 1 $$;\n\
         COMMENT ON TABLE t IS 'kept';\nCREATE TABLE t (id int);",
    );
    let baseline = normalize_for_compare(
        "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;\nCREATE TABLE t (id int);",
    );
    let lines = diff(&chain, &baseline, "the chain", "the baseline");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("CREATE FUNCTION f differs: the chain has `")
            && lines[0].contains("SET search_path"),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        "only the chain has `COMMENT ON TABLE t IS 'kept'`"
    );
    let reordered: Vec<String> = chain.iter().rev().cloned().collect();
    assert!(diff(&chain, &reordered, "a", "b").is_empty());
}

#[test]
fn drops_undo_a_dump_in_reverse_dependents_first() {
    let dump = "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;\n\
        CREATE SCHEMA utils;\n\
        CREATE TYPE public.mood AS ENUM ('a', 'b');\n\
        CREATE FUNCTION utils.f(a integer DEFAULT 1, b text DEFAULT 'x, y'::text, OUT c character varying(3)) RETURNS void AS $$ SELECT 1 $$;\n\
        CREATE TABLE public.parent (id integer);\n\
        CREATE SEQUENCE public.parent_id_seq START WITH 1;\n\
        ALTER SEQUENCE public.parent_id_seq OWNED BY public.parent.id;\n\
        CREATE SEQUENCE public.standalone;\n\
        CREATE VIEW public.v AS SELECT 1;\n\
        CREATE MATERIALIZED VIEW public.\"Mat\" AS SELECT 1 WITH NO DATA;\n\
        CREATE INDEX i ON public.parent (id);\n\
        ALTER TABLE ONLY public.child\n    ADD CONSTRAINT child_fk FOREIGN KEY (p) REFERENCES public.parent(id) DEFERRABLE;\n\
        ALTER TABLE ONLY public.child ADD CONSTRAINT child_pk PRIMARY KEY (id);\n";
    assert_eq!(
        drop_statements(&baseline_statements(dump)),
        [
            "ALTER TABLE child DROP CONSTRAINT child_fk;",
            "DROP MATERIALIZED VIEW \"Mat\";",
            "DROP VIEW v;",
            "DROP SEQUENCE standalone;",
            "DROP TABLE parent;",
            "DROP FUNCTION utils.f(a integer, b text, OUT c character varying(3));",
            "DROP TYPE mood;",
            "DROP SCHEMA utils;",
            "DROP EXTENSION btree_gist;",
        ]
    );
}
