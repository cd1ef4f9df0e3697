//! Step 5: the baseline is proven equivalent to the chain, not assumed: a scratch database
//! built from each has the same normalized schema (tables, columns, types, defaults, keys,
//! indexes, constraints, views, triggers), the same rows and the same sequence positions; and
//! the baseline's down.sql leaves nothing behind.

use std::collections::BTreeMap;

use db_conn::introspect::SchemaSnapshot;
use diesel::connection::SimpleConnection;
use migration_engine::scratch::{self, ScratchPlace};
use migration_engine::Migration;

use super::contents;

/// Columns whose default is the current time: a chain run now and the rows it ran then differ
/// there by nature, so those values are compared as present, not equal.
fn insert_time_columns(schema: &SchemaSnapshot) -> BTreeMap<String, Vec<String>> {
    schema
        .tables
        .iter()
        .map(|(table, t)| {
            let cols = t
                .columns
                .iter()
                .filter(|c| {
                    c.default.as_deref().is_some_and(|d| {
                        let d = d.to_ascii_lowercase();
                        d.contains("current_timestamp")
                            || d.contains("now()")
                            || d.contains("current_date")
                    })
                })
                .map(|c| c.name.clone())
                .collect();
            (table.clone(), cols)
        })
        .collect()
}

/// Differences between chain and baseline, empty when equivalent, each built in a scratch
/// database at `place`.
pub fn equivalence(
    place: &ScratchPlace,
    chain: &[&Migration],
    baseline_up: &str,
    baseline_down: &str,
) -> anyhow::Result<Vec<String>> {
    let from_chain = scratch::with_scratch(place, |s| {
        scratch::run_ups(s, chain)?;
        let schema = SchemaSnapshot::capture(s)?;
        let masked = insert_time_columns(&schema);
        let rows = contents::capture(s, &masked)?;
        Ok((schema, rows, masked))
    })?;
    let masked = &from_chain.2;
    let (from_baseline, after_down) = scratch::with_scratch(place, |s| {
        s.batch_execute(baseline_up)?;
        let built = (SchemaSnapshot::capture(s)?, contents::capture(s, masked)?);
        s.batch_execute(baseline_down)?;
        Ok((built, SchemaSnapshot::capture(s)?))
    })?;
    let mut problems = from_chain
        .0
        .diff_labeled(&from_baseline.0, "the chain", "the baseline");
    for (table, rows) in &from_chain.1.rows {
        if from_baseline.1.rows.get(table) != Some(rows) {
            problems.push(format!(
                "table {table}: the rows the chain inserts differ from the baseline's"
            ));
        }
    }
    if from_chain.1.sequences != from_baseline.1.sequences {
        problems.push(format!(
            "sequence positions differ: chain {:?}, baseline {:?}",
            from_chain.1.sequences, from_baseline.1.sequences
        ));
    }
    if after_down != SchemaSnapshot::default() {
        problems.push(format!(
            "the baseline's down.sql leaves {:?} behind",
            after_down.tables.keys().collect::<Vec<_>>()
        ));
    }
    Ok(problems)
}
