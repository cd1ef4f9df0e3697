//! The repeated core of the PostgreSQL history: for unit `k`, an enum and two tables
//! (`t{k}_items`, `t{k}_events`) taken through what a schema lives through: columns added,
//! renamed, dropped and retyped, indexes created, dropped and recreated, seed rows, an enum
//! value renamed. Primary keys vary by unit: composite, identity, or none at all.

use super::Step;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    /// `PRIMARY KEY (tenant_id, id)`, events referencing both columns.
    Composite,
    /// No primary key anywhere: a plain log table.
    None,
    /// `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`.
    Identity,
}

/// A name in one of the styles real histories mix: snake_case mostly, some kebab-case, some
/// a single word.
fn styled(k: usize, snake: &str, one_word: &str) -> String {
    match k % 5 {
        1 => snake.replace('_', "-"),
        3 => one_word.to_owned(),
        _ => snake.to_owned(),
    }
}

pub fn unit(k: usize) -> Vec<Step> {
    let key = match k % 3 {
        0 => Key::Composite,
        1 => Key::None,
        _ => Key::Identity,
    };
    let t = format!("t{k}_items");
    let e = format!("t{k}_events");
    let id_column = match key {
        Key::Identity => "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        _ => "id integer NOT NULL",
    };
    let pk = if key == Key::Composite {
        ",\n    PRIMARY KEY (tenant_id, id)"
    } else {
        ""
    };
    let item_ref = match key {
        Key::Composite => format!(
            "item_id integer NOT NULL,\n    FOREIGN KEY (tenant_id, item_id) REFERENCES {t} (tenant_id, id) ON DELETE CASCADE"
        ),
        Key::None => "item_id integer NOT NULL".to_owned(),
        Key::Identity => format!("item_id bigint NOT NULL REFERENCES {t} (id)"),
    };
    // Identity ids come from the sequence; the others are given.
    let (id_col, fill_id, seed_ids) = match key {
        Key::Identity => ("", "", ["", ""]),
        _ => ("id, ", "1000, ", ["1, ", "2, "]),
    };
    vec![
        Step::new(
            styled(k, &format!("create_{t}"), &format!("items{k}")),
            format!(
                "CREATE TYPE t{k}_state AS ENUM ('new', 'open', 'closed');\n\
                 CREATE TABLE {t} (\n    tenant_id integer NOT NULL,\n    {id_column},\n    \
                 state t{k}_state NOT NULL DEFAULT 'new',\n    tags text[] NOT NULL DEFAULT '{{}}',\n    \
                 scores integer[],\n    payload jsonb NOT NULL DEFAULT '{{}}'::jsonb,\n    meta json,\n    \
                 path ltree,\n    blob bytea,\n    created_at timestamptz NOT NULL DEFAULT now(){pk}\n);\n"
            ),
            format!("DROP TABLE {t};\nDROP TYPE t{k}_state;\n"),
        )
        .fill(format!(
            "INSERT INTO {t} (tenant_id, {id_col}path) VALUES (9, {fill_id}'fill.u{k}');\n"
        )),
        Step::new(
            styled(k, &format!("create_{e}"), &format!("events{k}")),
            format!(
                "CREATE TABLE {e} (\n    tenant_id integer NOT NULL,\n    {item_ref},\n    \
                 amount numeric(12,2) NOT NULL DEFAULT 0,\n    happened_at timestamptz NOT NULL DEFAULT now()\n);\n\
                 CREATE INDEX {e}_item ON {e} (tenant_id, item_id);\n"
            ),
            format!("DROP TABLE {e};\n"),
        )
        .fill(format!(
            "INSERT INTO {e} (tenant_id, item_id) SELECT tenant_id, id FROM {t} WHERE tenant_id = 9;\n"
        )),
        Step::new(
            styled(k, &format!("add_note_to_{t}"), &format!("note{k}")),
            format!("ALTER TABLE {t} ADD COLUMN note text;\n"),
            format!("ALTER TABLE {t} DROP COLUMN note;\n"),
        ),
        Step::new(
            format!("rename_note_to_remark_in_{t}"),
            format!("ALTER TABLE {t} RENAME COLUMN note TO remark;\n"),
            format!("ALTER TABLE {t} RENAME COLUMN remark TO note;\n"),
        ),
        Step::new(
            format!("widen_amount_of_{e}"),
            format!("ALTER TABLE {e} ALTER COLUMN amount TYPE numeric(20,6);\n"),
            format!("ALTER TABLE {e} ALTER COLUMN amount TYPE numeric(12,2);\n"),
        ),
        Step::new(
            styled(k, &format!("index_{t}"), &format!("indexes{k}")),
            format!(
                "CREATE INDEX {t}_state ON {t} (state);\n\
                 CREATE INDEX {t}_open ON {t} (created_at) WHERE state <> 'closed';\n\
                 CREATE INDEX {t}_lower_remark ON {t} (lower(remark));\n\
                 CREATE INDEX {t}_tags ON {t} USING gin (tags);\n\
                 CREATE INDEX {t}_path ON {t} USING gist (path);\n"
            ),
            format!(
                "DROP INDEX {t}_path;\nDROP INDEX {t}_tags;\nDROP INDEX {t}_lower_remark;\n\
                 DROP INDEX {t}_open;\nDROP INDEX {t}_state;\n"
            ),
        ),
        Step::new(
            format!("recreate_state_index_of_{t}"),
            format!("DROP INDEX {t}_state;\nCREATE INDEX {t}_state ON {t} (state, created_at);\n"),
            format!("DROP INDEX {t}_state;\nCREATE INDEX {t}_state ON {t} (state);\n"),
        ),
        Step::new(
            styled(k, &format!("seed_{t}"), &format!("seed{k}")),
            format!(
                "-- seed rows; created_at keeps its now() default\n\
                 INSERT INTO {t} (tenant_id, {id_col}state, tags, scores, payload, meta, path, blob, remark) VALUES\n    \
                 (0, {}'open', ARRAY['a', 'b'], '{{1,2}}', '{{\"k\": {k}}}', '[1, 2]', 'root.a', '\\xdeadbeef', 'first; -- not a comment'),\n    \
                 (0, {}'closed', '{{}}', NULL, '{{}}', NULL, 'root.b', NULL, NULL);\n\
                 INSERT INTO {e} (tenant_id, item_id, amount) SELECT tenant_id, id, 12.5 FROM {t} WHERE tenant_id = 0;\n",
                seed_ids[0], seed_ids[1]
            ),
            format!("DELETE FROM {e} WHERE tenant_id = 0;\nDELETE FROM {t} WHERE tenant_id = 0;\n"),
        ),
        Step::new(
            format!("add_flag_to_{t}"),
            format!("ALTER TABLE {t} ADD COLUMN flag boolean NOT NULL DEFAULT false;\n"),
            format!("ALTER TABLE {t} DROP COLUMN flag;\n"),
        ),
        Step::new(
            format!("drop_flag_from_{t}"),
            format!("ALTER TABLE {t} DROP COLUMN flag;\n"),
            format!("ALTER TABLE {t} ADD COLUMN flag boolean NOT NULL DEFAULT false;\n"),
        ),
        Step::new(
            format!("rename_closed_state_of_{t}"),
            format!("ALTER TYPE t{k}_state RENAME VALUE 'closed' TO 'done';\n"),
            format!("ALTER TYPE t{k}_state RENAME VALUE 'done' TO 'closed';\n"),
        ),
    ]
}
