//! The SQLite history: an opening (AUTOINCREMENT accounts seeded with CURRENT_TIMESTAMP
//! defaults) and, per unit `k`, two tables taken through column adds, renames and drops, a
//! table rebuild (SQLite's only way to change a column), index drops and recreations, seed
//! rows, a virtual generated column and `PRAGMA user_version`. The tables are alternately
//! WITHOUT ROWID, STRICT, and rowid tables with AUTOINCREMENT.

use super::Step;

pub fn opening() -> Vec<Step> {
    vec![
        Step::new(
            "create_accounts",
            "CREATE TABLE accounts (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    email TEXT NOT NULL UNIQUE COLLATE NOCASE,\n    \
             created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n\
             CREATE INDEX accounts_created_at ON accounts (created_at)\n\
             -- the last statement above has no semicolon;\n-- and comments follow it\n",
            "DROP TABLE accounts;\n",
        )
        .fill("INSERT INTO accounts (email) VALUES ('fill@example.com');\n"),
        Step::new(
            "seed-accounts",
            "INSERT INTO accounts (email) VALUES ('root@example.com'), ('it''s; -- ops@example.com');\n",
            "DELETE FROM accounts WHERE email IN ('root@example.com', 'it''s; -- ops@example.com');\n",
        ),
    ]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    WithoutRowid,
    Strict,
    Autoincrement,
}

pub fn unit(k: usize) -> Vec<Step> {
    let shape = match k % 3 {
        0 => Shape::WithoutRowid,
        1 => Shape::Strict,
        _ => Shape::Autoincrement,
    };
    let t = format!("s{k}_items");
    let e = format!("s{k}_events");
    let (key_columns, options, item_ref) = match shape {
        Shape::WithoutRowid => (
            "tenant_id INTEGER NOT NULL,\n    id INTEGER NOT NULL",
            ",\n    PRIMARY KEY (tenant_id, id)\n) WITHOUT ROWID",
            format!(
                "FOREIGN KEY (tenant_id, item_id) REFERENCES {t} (tenant_id, id) ON DELETE CASCADE"
            ),
        ),
        Shape::Strict => (
            "tenant_id INTEGER NOT NULL,\n    id INTEGER NOT NULL",
            ",\n    PRIMARY KEY (tenant_id, id)\n) STRICT",
            format!("FOREIGN KEY (tenant_id, item_id) REFERENCES {t} (tenant_id, id)"),
        ),
        Shape::Autoincrement => (
            "id INTEGER PRIMARY KEY AUTOINCREMENT,\n    tenant_id INTEGER NOT NULL",
            "\n)",
            format!("FOREIGN KEY (item_id) REFERENCES {t} (id) ON DELETE CASCADE"),
        ),
    };
    // The events table as first created and as rebuilt; the rebuild adds a CHECK and makes
    // happened_at NOT NULL. The name is quoted because ALTER TABLE ... RENAME writes it so.
    let events = |name: &str, rebuilt: bool| {
        let (amount, happened) = if rebuilt {
            (
                "amount TEXT NOT NULL DEFAULT '0' CHECK (length(amount) <= 40)",
                "happened_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP",
            )
        } else {
            (
                "amount TEXT NOT NULL DEFAULT '0'",
                "happened_at TEXT DEFAULT CURRENT_TIMESTAMP",
            )
        };
        format!(
            "CREATE TABLE \"{name}\" (\n    tenant_id INTEGER NOT NULL,\n    item_id INTEGER NOT NULL,\n    \
             {amount},\n    {happened},\n    {item_ref}\n);\n"
        )
    };
    let rebuild = |rebuilt: bool| {
        format!(
            "{}INSERT INTO \"{e}_new\" (tenant_id, item_id, amount, happened_at)\n    \
             SELECT tenant_id, item_id, amount, coalesce(happened_at, CURRENT_TIMESTAMP) FROM {e};\n\
             DROP TABLE {e};\nALTER TABLE \"{e}_new\" RENAME TO \"{e}\";\n\
             CREATE INDEX {e}_item ON {e} (tenant_id, item_id);\n",
            events(&format!("{e}_new"), rebuilt)
        )
    };
    let (id_col, fill_id, seed_ids) = match shape {
        Shape::Autoincrement => ("", "", ["", ""]),
        _ => ("id, ", "1000, ", ["1, ", "2, "]),
    };
    let last_without_semicolon = if k.is_multiple_of(4) {
        "\n-- the statement above ends the file without a semicolon\n"
    } else {
        ";\n"
    };
    vec![
        Step::new(
            format!("create_{t}"),
            format!(
                "CREATE TABLE {t} (\n    {key_columns},\n    \
                 state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'open', 'closed')),\n    \
                 payload TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(payload)),\n    \
                 blob BLOB,\n    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP{options};\n"
            ),
            format!("DROP TABLE {t};\n"),
        )
        .fill(format!(
            "INSERT INTO {t} (tenant_id, {id_col}state) VALUES (9, {fill_id}'new');\n"
        )),
        Step::new(
            if k % 5 == 1 { format!("create-{e}") } else { format!("create_{e}") },
            format!("{}CREATE INDEX {e}_item ON {e} (tenant_id, item_id);\n", events(&e, false)),
            format!("DROP TABLE {e};\n"),
        )
        .fill(format!(
            "INSERT INTO {e} (tenant_id, item_id) SELECT tenant_id, id FROM {t} WHERE tenant_id = 9;\n"
        )),
        Step::new(
            format!("add_note_to_{t}"),
            format!("ALTER TABLE {t} ADD COLUMN note TEXT;\n"),
            format!("ALTER TABLE {t} DROP COLUMN note;\n"),
        ),
        Step::new(
            format!("rename_note_to_remark_in_{t}"),
            format!("ALTER TABLE {t} RENAME COLUMN note TO remark;\n"),
            format!("ALTER TABLE {t} RENAME COLUMN remark TO note;\n"),
        ),
        Step::new(
            format!("rebuild_{e}_with_checked_amount"),
            rebuild(true),
            rebuild(false),
        ),
        Step::new(
            if k % 5 == 3 { format!("indexes{k}") } else { format!("index_{t}") },
            format!(
                "CREATE INDEX {t}_state ON {t} (state);\n\
                 CREATE INDEX {t}_open ON {t} (created_at) WHERE state <> 'closed';\n\
                 CREATE INDEX {t}_lower_remark ON {t} (lower(remark))\n\
                 ;CREATE UNIQUE INDEX {t}_code ON {t} (json_extract(payload, '$.code')) WHERE json_extract(payload, '$.code') IS NOT NULL{last_without_semicolon}"
            ),
            format!(
                "DROP INDEX {t}_code;\nDROP INDEX {t}_lower_remark;\nDROP INDEX {t}_open;\nDROP INDEX {t}_state;\n"
            ),
        ),
        Step::new(
            format!("recreate_state_index_of_{t}"),
            format!("DROP INDEX {t}_state;\nCREATE INDEX {t}_state ON {t} (state, created_at);\n"),
            format!("DROP INDEX {t}_state;\nCREATE INDEX {t}_state ON {t} (state);\n"),
        ),
        Step::new(
            format!("seed_{t}"),
            format!(
                "-- seed rows; created_at keeps its CURRENT_TIMESTAMP default\n\
                 INSERT INTO {t} (tenant_id, {id_col}state, payload, blob, remark) VALUES\n    \
                 (0, {}'open', '{{\"code\": \"a{k}\"}}', x'deadbeef', 'first; -- not a comment'),\n    \
                 (0, {}'closed', '{{}}', NULL, NULL);\n\
                 INSERT INTO {e} (tenant_id, item_id, amount) SELECT tenant_id, id, '12.50' FROM {t} WHERE tenant_id = 0;\n",
                seed_ids[0], seed_ids[1]
            ),
            format!("DELETE FROM {e} WHERE tenant_id = 0;\nDELETE FROM {t} WHERE tenant_id = 0;\n"),
        ),
        Step::new(
            format!("add_tenant_key_to_{t}"),
            format!(
                "ALTER TABLE {t} ADD COLUMN tenant_key TEXT GENERATED ALWAYS AS (tenant_id || ':' || id) VIRTUAL;\n"
            ),
            format!("ALTER TABLE {t} DROP COLUMN tenant_key;\n"),
        ),
        Step::new(
            format!("add_flag_to_{t}"),
            format!("ALTER TABLE {t} ADD COLUMN flag INTEGER NOT NULL DEFAULT 0;\n"),
            format!("ALTER TABLE {t} DROP COLUMN flag;\n"),
        ),
        Step::new(
            format!("drop_flag_from_{t}"),
            format!("ALTER TABLE {t} DROP COLUMN flag;\n"),
            format!("ALTER TABLE {t} ADD COLUMN flag INTEGER NOT NULL DEFAULT 0;\n"),
        ),
        Step::new(
            format!("bump_user_version_to_{}", k + 1),
            format!("PRAGMA user_version = {};\n", k + 1),
            format!("PRAGMA user_version = {k};\n"),
        ),
    ]
}
