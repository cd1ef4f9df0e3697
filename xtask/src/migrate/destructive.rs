//! The advice `check` prints for an up.sql that can lose data (drops a table or a column,
//! empties a table, deletes rows, changes a column's type), read through the SQL lexer: what
//! strings, quoted identifiers and comments say is not code, and the body of a function,
//! procedure or trigger only defines code that runs later; a `DO` block's body runs now and
//! is read.

use migration_engine::dump::lex::{split, Piece, Statement, TokenKind};

/// Word sequences that can lose data, and what to say about them.
const PATTERNS: &[(&[&str], &str)] = &[
    (&["drop", "table"], "drops a table"),
    (&["drop", "column"], "drops a column"),
    (&["truncate"], "empties a table"),
    (&["delete", "from"], "deletes rows"),
];

/// What `sql` does that can lose data, each said once, in `PATTERNS` order (then a type change).
pub fn findings(sql: &str) -> Vec<&'static str> {
    let mut words = Vec::new();
    collect(sql, &mut words);
    let mut out: Vec<&'static str> = PATTERNS
        .iter()
        .filter(|(pattern, _)| {
            words.iter().any(|w| {
                w.windows(pattern.len())
                    .any(|win| win.iter().zip(pattern.iter()).all(|(a, b)| a == b))
            })
        })
        .map(|(_, what)| *what)
        .collect();
    if words
        .iter()
        .any(|w| (0..w.len()).any(|i| changes_a_type(&w[i..])))
    {
        out.push("changes a column type (check it does not narrow)");
    }
    out
}

/// Adds the words of each statement of `sql` that runs now.
fn collect(sql: &str, out: &mut Vec<Vec<String>>) {
    let mut in_trigger_body = false;
    for piece in split(sql) {
        let Piece::Statement(statement) = piece else {
            continue;
        };
        let words = words_of(&statement);
        if in_trigger_body {
            // A SQLite trigger's body statements split at their `;` until its END.
            in_trigger_body = words.last().map(String::as_str) != Some("end");
            continue;
        }
        if defines_code(&words) {
            in_trigger_body = is_trigger(&words)
                && words.iter().any(|w| w == "begin")
                && words.last().map(String::as_str) != Some("end");
            continue;
        }
        if statement.starts_with_words(&["do"]) {
            for body in statement
                .significant()
                .filter(|t| t.kind == TokenKind::Dollar)
            {
                collect(dollar_inner(body.text), out);
            }
        }
        out.push(words);
    }
}

/// The statement's code as lowercase words and punctuation; strings, quoted identifiers and
/// dollar-quoted text become placeholders, comments and whitespace vanish.
fn words_of(statement: &Statement) -> Vec<String> {
    statement
        .significant()
        .filter(|t| !t.is_punct(';'))
        .map(|t| match t.kind {
            TokenKind::Word | TokenKind::Punct => t.text.to_ascii_lowercase(),
            TokenKind::QuotedIdent => "\"ident\"".into(),
            TokenKind::Str => "'text'".into(),
            _ => "$body$".into(),
        })
        .collect()
}

fn is_trigger(words: &[String]) -> bool {
    let skip = ["create", "or", "replace", "temp", "temporary", "constraint"];
    words
        .iter()
        .find(|w| !skip.contains(&w.as_str()))
        .map(String::as_str)
        == Some("trigger")
}

/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE|TRIGGER|RULE`: its body runs later, not now.
fn defines_code(words: &[String]) -> bool {
    let skip = ["create", "or", "replace", "temp", "temporary", "constraint"];
    words.first().map(String::as_str) == Some("create")
        && words
            .iter()
            .find(|w| !skip.contains(&w.as_str()))
            .is_some_and(|w| ["function", "procedure", "trigger", "rule"].contains(&w.as_str()))
}

/// The text between a dollar quote's opening and closing tags.
fn dollar_inner(quoted: &str) -> &str {
    let open = quoted[1..].find('$').map_or(quoted.len(), |i| i + 2);
    let close = quoted.len().saturating_sub(open);
    quoted.get(open..close.max(open)).unwrap_or("")
}

/// `ALTER COLUMN x TYPE ...` or `ALTER COLUMN x SET DATA TYPE ...` at the start of `words`.
fn changes_a_type(words: &[String]) -> bool {
    let w = |i: usize| words.get(i).map(String::as_str);
    w(0) == Some("alter")
        && w(1) == Some("column")
        && (w(3) == Some("type") || (w(3), w(4), w(5)) == (Some("set"), Some("data"), Some("type")))
}

#[cfg(test)]
mod tests {
    use super::findings;

    #[test]
    fn finds_what_runs_and_only_that() {
        assert_eq!(
            findings("DROP TABLE a; ALTER TABLE b DROP COLUMN c; TRUNCATE d; DELETE FROM e;"),
            [
                "drops a table",
                "drops a column",
                "empties a table",
                "deletes rows"
            ]
        );
        assert_eq!(
            findings("ALTER TABLE t ALTER COLUMN x TYPE int;"),
            ["changes a column type (check it does not narrow)"]
        );
        assert_eq!(
            findings("ALTER TABLE t ALTER COLUMN x SET DATA TYPE text;"),
            ["changes a column type (check it does not narrow)"]
        );
        assert_eq!(
            findings("DO $$ BEGIN DELETE FROM a; END $$;"),
            ["deletes rows"]
        );
    }

    #[test]
    fn strings_comments_and_definitions_are_not_code() {
        let quiet = [
            "-- DROP TABLE a;\nCREATE TABLE b (id int);",
            "/* delete from x */ SELECT 1;",
            "INSERT INTO log VALUES ('drop table users; delete from x');",
            "CREATE TABLE \"delete from\" (id int);",
            "CREATE FUNCTION purge() RETURNS void AS $f$ DELETE FROM a; TRUNCATE b; $f$ LANGUAGE sql;",
            "CREATE OR REPLACE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN DROP TABLE t; END $$;",
            "CREATE TRIGGER t AFTER DELETE ON a BEGIN DELETE FROM b WHERE id = old.id; UPDATE c SET n = n - 1; END;\nCREATE INDEX i ON a (id);",
            "COMMENT ON TABLE a IS 'truncate me';",
        ];
        for sql in quiet {
            assert!(findings(sql).is_empty(), "{sql}: {:?}", findings(sql));
        }
        assert_eq!(
            findings("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nDELETE FROM b;"),
            ["deletes rows"],
            "after the trigger's END, statements run again"
        );
    }
}
