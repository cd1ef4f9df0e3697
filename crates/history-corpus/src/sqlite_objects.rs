//! The other SQLite object kinds, two per unit in turn: triggers (whose bodies hold `;`),
//! views with INSTEAD OF triggers, WITHOUT ROWID and STRICT tables, stored and virtual
//! generated columns, AUTOINCREMENT counters, FTS5 tables, partial and expression indexes.

use super::Step;

type Kind = fn(usize) -> Step;

const KINDS: &[Kind] = &[
    audit_trigger,
    views_with_instead_of_trigger,
    without_rowid,
    strict_any,
    generated_columns,
    autoincrement_counter,
    fts5,
    partial_and_expression_indexes,
];

pub fn unit(k: usize) -> Vec<Step> {
    vec![
        KINDS[(2 * k) % KINDS.len()](k),
        KINDS[(2 * k + 1) % KINDS.len()](k),
    ]
}

fn audit_trigger(k: usize) -> Step {
    Step::new(
        format!("audit_deleted_s{k}_events"),
        format!(
            "CREATE TABLE q{k}_audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL, at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);\n\
             CREATE TRIGGER q{k}_audit_delete AFTER DELETE ON s{k}_events FOR EACH ROW\nBEGIN\n    \
             INSERT INTO q{k}_audit (what) VALUES ('deleted; -- not a comment ' || old.item_id);\n    \
             DELETE FROM q{k}_audit WHERE id < 0;\nEND;\n"
        ),
        format!("DROP TRIGGER q{k}_audit_delete;\nDROP TABLE q{k}_audit;\n"),
    )
    .fill(format!("INSERT INTO q{k}_audit (what) VALUES ('filled');\n"))
}

fn views_with_instead_of_trigger(k: usize) -> Step {
    Step::new(
        format!("create_q{k}_views"),
        format!(
            "CREATE VIEW q{k}_open_items AS SELECT tenant_id, id, state FROM s{k}_items WHERE state <> 'closed';\n\
             CREATE VIEW q{k}_open_count AS SELECT count(*) AS n FROM q{k}_open_items;\n\
             CREATE TRIGGER q{k}_close INSTEAD OF DELETE ON q{k}_open_items\nBEGIN\n    \
             UPDATE s{k}_items SET state = 'closed' WHERE tenant_id = old.tenant_id AND id = old.id;\nEND;\n"
        ),
        format!("DROP TRIGGER q{k}_close;\nDROP VIEW q{k}_open_count;\nDROP VIEW q{k}_open_items;\n"),
    )
}

fn without_rowid(k: usize) -> Step {
    Step::new(
        format!("create_q{k}_settings"),
        format!(
            "CREATE TABLE q{k}_settings (key TEXT PRIMARY KEY COLLATE NOCASE, value BLOB, \
             updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) WITHOUT ROWID;\n"
        ),
        format!("DROP TABLE q{k}_settings;\n"),
    )
    .fill(format!("INSERT INTO q{k}_settings (key, value) VALUES ('filled', x'00');\n"))
}

fn strict_any(k: usize) -> Step {
    Step::new(
        format!("create_q{k}_values_strict"),
        format!(
            "CREATE TABLE q{k}_values (id INTEGER PRIMARY KEY, v ANY, n REAL NOT NULL DEFAULT 0.0, \
             label TEXT NOT NULL DEFAULT '') STRICT;\n"
        ),
        format!("DROP TABLE q{k}_values;\n"),
    )
    .fill(format!("INSERT INTO q{k}_values (v) VALUES (x'01');\n"))
}

fn generated_columns(k: usize) -> Step {
    Step::new(
        format!("create_q{k}_lines"),
        format!(
            "CREATE TABLE q{k}_lines (\n    qty INTEGER NOT NULL,\n    price REAL NOT NULL,\n    \
             total REAL GENERATED ALWAYS AS (qty * price) STORED,\n    label TEXT AS (upper('line ' || qty)) VIRTUAL\n);\n\
             CREATE INDEX q{k}_lines_total ON q{k}_lines (total);\n"
        ),
        format!("DROP TABLE q{k}_lines;\n"),
    )
    .fill(format!("INSERT INTO q{k}_lines (qty, price) VALUES (2, 3.5);\n"))
}

fn autoincrement_counter(k: usize) -> Step {
    Step::new(
        format!("create_q{k}_tickets"),
        format!(
            "CREATE TABLE q{k}_tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL);\n\
             INSERT INTO q{k}_tickets (id, label) VALUES (100, 'first ticket');\n"
        ),
        format!("DROP TABLE q{k}_tickets;\n"),
    )
    .fill(format!("INSERT INTO q{k}_tickets (label) VALUES ('filled');\n"))
}

fn fts5(k: usize) -> Step {
    Step::new(
        format!("create_q{k}_search"),
        format!(
            "CREATE VIRTUAL TABLE q{k}_search USING fts5(title, body, tokenize = 'porter');\n\
             INSERT INTO q{k}_search (title, body) VALUES ('seed', 'searchable; -- text');\n"
        ),
        format!("DROP TABLE q{k}_search;\n"),
    )
    .fill(format!(
        "INSERT INTO q{k}_search (title, body) VALUES ('filled', 'rows');\n"
    ))
}

fn partial_and_expression_indexes(k: usize) -> Step {
    Step::new(
        format!("index_s{k}_events"),
        format!(
            "CREATE INDEX q{k}_events_big ON s{k}_events (amount) WHERE CAST(amount AS REAL) > 100;\n\
             CREATE INDEX q{k}_events_day ON s{k}_events (date(happened_at), tenant_id);\n"
        ),
        format!("DROP INDEX q{k}_events_day;\nDROP INDEX q{k}_events_big;\n"),
    )
}
