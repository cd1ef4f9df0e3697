//! Step 5: the baseline is proven equivalent to the chain, not assumed. A scratch database
//! built from each holds the same: the same whole-schema dump (PostgreSQL: `pg_dump
//! --schema-only`, normalized, so every object, attribute and comment counts; SQLite: every
//! catalog entry and `user_version`), the same rows in every table and the same sequence
//! positions. And after the baseline's down.sql the database dumps as an empty one does.

use anyhow::Context;
use db_conn::scratch::ScratchDatabase;
use db_conn::{self as db, DatabaseTarget, DbConnection};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use migration_engine::dump;
use migration_engine::scratch::{self, ScratchPlace};
use migration_engine::Migration;
use xshell::Shell;

use super::contents::{self, Contents, TimeColumn};

/// Runs `work` on a new, empty database at `place` (with its URL when PostgreSQL, for
/// pg_dump), removed afterwards.
fn in_scratch<T>(
    place: &ScratchPlace,
    work: impl FnOnce(&mut DbConnection, Option<&str>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match place {
        ScratchPlace::Sqlite => {
            let dir = tempfile::tempdir()?;
            let mut conn = db::establish(&DatabaseTarget::sqlite(dir.path().join("prove.db")))?;
            work(&mut conn, None)
        }
        ScratchPlace::Postgres { server } => {
            let database = ScratchDatabase::create(server, "prove")?;
            let mut conn = db::establish(&database.target)?;
            let out = work(&mut conn, Some(&database.url));
            // The connection must close before the database can be dropped.
            drop(conn);
            out
        }
    }
}

/// What a proof compares of one database.
struct Held {
    schema: Vec<String>,
    contents: Contents,
}

fn held(
    sh: &Shell,
    conn: &mut DbConnection,
    url: Option<&str>,
    time: &[TimeColumn],
    since: &str,
) -> anyhow::Result<Held> {
    Ok(Held {
        schema: dump::whole_schema(sh, conn, url)?,
        contents: contents::capture(conn, time, since)?,
    })
}

/// Differences between chain and baseline, empty when equivalent, each built in a scratch
/// database at `place`.
pub fn equivalence(
    place: &ScratchPlace,
    chain: &[&Migration],
    baseline_up: &str,
    baseline_down: &str,
) -> anyhow::Result<Vec<String>> {
    let sh = Shell::new()?;
    let (from_chain, time) = in_scratch(place, |conn, url| {
        let since = contents::now(conn)?;
        scratch::run_ups(conn, chain)?;
        let time = contents::time_columns(conn)?;
        Ok((held(&sh, conn, url, &time, &since)?, time))
    })
    .context("building the chain in a scratch database")?;
    let (empty, from_baseline, after_down) = in_scratch(place, |conn, url| {
        let empty = dump::whole_schema(&sh, conn, url)?;
        let since = contents::now(conn)?;
        // As diesel runs it: one batch in one transaction.
        conn.transaction(|c| c.batch_execute(baseline_up))
            .context("the baseline's up.sql fails")?;
        let built = held(&sh, conn, url, &time, &since)?;
        conn.transaction(|c| c.batch_execute(baseline_down))
            .context("the baseline's down.sql fails")?;
        Ok((empty, built, dump::whole_schema(&sh, conn, url)?))
    })
    .context("building the baseline in a scratch database")?;

    let mut problems = dump::diff(
        &from_chain.schema,
        &from_baseline.schema,
        "the chain",
        "the baseline",
    );
    let (chain_rows, baseline_rows) = (&from_chain.contents.rows, &from_baseline.contents.rows);
    for (table, rows) in chain_rows {
        match baseline_rows.get(table) {
            Some(b) if b == rows => {}
            Some(b) => problems.push(format!(
                "table {table}: the rows differ: {}",
                shown(rows, b)
            )),
            None => problems.push(format!("table {table}: the baseline has no such table")),
        }
    }
    for table in baseline_rows
        .keys()
        .filter(|t| !chain_rows.contains_key(*t))
    {
        problems.push(format!("table {table}: only the baseline has it"));
    }
    if from_chain.contents.sequences != from_baseline.contents.sequences {
        problems.push(format!(
            "sequence positions differ: chain {:?}, baseline {:?}",
            from_chain.contents.sequences, from_baseline.contents.sequences
        ));
    }
    problems.extend(
        dump::diff(
            &after_down,
            &empty,
            "the database after the baseline's down.sql",
            "an empty database",
        )
        .into_iter()
        .map(|d| format!("the baseline's down.sql leaves something behind: {d}")),
    );
    Ok(problems)
}

/// The rows one side has and the other lacks, a few of each.
fn shown(chain: &[String], baseline: &[String]) -> String {
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        let mut rest = b.to_vec();
        let mut out = Vec::new();
        for row in a {
            match rest.iter().position(|r| r == row) {
                Some(i) => {
                    rest.remove(i);
                }
                None => out.push(row.clone()),
            }
        }
        out
    };
    let few = |rows: Vec<String>| {
        let more = rows.len().saturating_sub(3);
        let tail = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        format!(
            "[{}]{tail}",
            rows.into_iter().take(3).collect::<Vec<_>>().join("; ")
        )
    };
    format!(
        "only the chain has {}, only the baseline has {}",
        few(only(chain, baseline)),
        few(only(baseline, chain))
    )
}

#[cfg(test)]
mod tests;
