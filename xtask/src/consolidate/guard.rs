//! The first statements of a baseline: refuse, with a message saying what to do, to run on a
//! database that has part of the chain the baseline replaces. Our own runner never does that (it
//! runs the archived chain instead), but the plain diesel CLI would, and would then fail midway
//! with `relation ... already exists`. The guard creates nothing that stays.

use db_conn::Backend;
use migration_engine::Migration;

const MESSAGE: &str = "this database has part of the migration chain that this consolidated baseline replaces: upgrade it with `cargo xtask apply`, which runs the archived chain; the plain diesel CLI cannot";

/// The guard for a baseline replacing `chain`. A database holding the chain's last version is
/// at the baseline already (they share it) and never runs it, so only the others count.
pub fn partway_guard(backend: Backend, chain: &[&Migration]) -> String {
    let earlier: Vec<String> = chain
        .iter()
        .take(chain.len().saturating_sub(1))
        .map(|m| migration_engine::history::quote(&m.version))
        .collect();
    if earlier.is_empty() {
        return String::new();
    }
    let list = earlier.join(", ");
    match backend {
        Backend::Postgres => format!(
            "-- Refuses to run on a database partway through the replaced chain (see {MESSAGE:?}).\n\
             DO $pf_guard$\n\
             DECLARE partway bigint;\n\
             BEGIN\n  \
               IF to_regclass('__diesel_schema_migrations') IS NOT NULL THEN\n    \
                 EXECUTE 'SELECT count(*) FROM __diesel_schema_migrations WHERE version = ANY ($1)'\n      \
                   INTO partway USING ARRAY[{list}]::text[];\n    \
                 IF partway > 0 THEN\n      \
                   RAISE EXCEPTION '{MESSAGE}';\n    \
                 END IF;\n  \
               END IF;\n\
             END\n\
             $pf_guard$;\n"
        ),
        // SQLite has no procedural block: a CHECK constraint named after the message fails
        // the insert of the count. diesel creates its table before running any migration; the
        // CREATE only matters where the baseline runs without it.
        Backend::Sqlite => format!(
            "-- Refuses to run on a database partway through the replaced chain.\n\
             CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\n\
             CREATE TEMP TABLE pf_baseline_guard (partway INTEGER CONSTRAINT \"{MESSAGE}\" CHECK (partway = 0));\n\
             INSERT INTO pf_baseline_guard SELECT COUNT(*) FROM __diesel_schema_migrations WHERE version IN ({list});\n\
             DROP TABLE pf_baseline_guard;\n"
        ),
    }
}
