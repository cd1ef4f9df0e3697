//! `cargo xtask check [--fix]`: lint the migration trees and the files generated from them.

use std::path::Path;

use anyhow::Context;
use db_conn::{self as db, Backend};
use migration_engine::{naming, scratch, sumfile, Migration, MigrationSet, Migrator, Target};
use xshell::{cmd, Shell};

use super::pgscratch::{self, ScratchDb};
use crate::layout::Tree;
use crate::report::Reporter;
use crate::{project_root, Ctx};

#[derive(clap::Args)]
pub struct CheckCmd {
    /// Rewrite what is generated (checksum files, schema.rs) instead of failing
    #[arg(long)]
    pub fix: bool,
    /// PostgreSQL server for the scratch databases [default: the target if PostgreSQL, else TEST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// The schema.rs that must equal `diesel print-schema` for head [default: crates/pf-data/src/schema.rs
    /// when checking the repository's own trees; skipped for other --migrations-root]
    #[arg(long, value_name = "FILE")]
    pub schema_rs: Option<std::path::PathBuf>,
}

/// What `check` does with a generated file (checksum file, schema.rs) that is out of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnStale {
    /// Report it as a problem (the default: CI must not rewrite files).
    Report,
    /// Rewrite it (`--fix`).
    Rewrite,
}

/// What the checks found: problems fail the check, advice is only printed.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    advice: Vec<String>,
}

/// A tree and what it holds.
type Checked = (Tree, MigrationSet);

impl CheckCmd {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let trees: Vec<Checked> = ctx
            .trees()?
            .into_iter()
            .map(|t| {
                let set = MigrationSet::from_dir(&t.dir)?;
                Ok((t, set))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut found = Findings::default();
        let on_stale = if self.fix {
            OnStale::Rewrite
        } else {
            OnStale::Report
        };

        ctx.report.step("naming and up/down pairs", |_| {
            naming_and_pairs(&trees, &mut found);
            Ok(())
        })?;
        if trees.len() > 1 {
            ctx.report.step("every tree holds the same versions", |_| {
                found.problems.extend(tree_differences(&trees));
                Ok(())
            })?;
        }
        ctx.report.step("checksum files current", |r| {
            found.problems.extend(checksum_files(r, &trees, on_stale)?);
            Ok(())
        })?;
        let flagged = destructive(&trees);
        for f in &flagged {
            ctx.report.say(&format!("    warning: {f}"));
        }
        ctx.report.set("destructive", &flagged);

        for (tree, set) in trees.iter().filter(|(t, _)| t.backend == Backend::Sqlite) {
            ctx.report.step(
                &format!(
                    "every down.sql reverses its up.sql ({}, SQLite)",
                    tree.label
                ),
                |_| {
                    found.problems.extend(
                        scratch::check_reversible(&scratch::ScratchPlace::Sqlite, &all(set))?
                            .into_iter()
                            .map(|p| format!("{}/{p}", tree.label)),
                    );
                    Ok(())
                },
            )?;
        }
        for (tree, set) in trees.iter().filter(|(t, _)| t.backend == Backend::Postgres) {
            self.postgres_checks(sh, ctx, tree, set, on_stale, &mut found.problems)?;
        }
        conclude(ctx, &found)
    }

    /// The checks that need a PostgreSQL server: down reverses up, and schema.rs is what
    /// diesel prints for head. Skipped with a notice when no server is known (refused when
    /// REQUIRE_POSTGRES=1, so CI cannot pass without them).
    fn postgres_checks(
        &self,
        sh: &Shell,
        ctx: &mut Ctx,
        tree: &Tree,
        postgres: &MigrationSet,
        on_stale: OnStale,
        problems: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let Some(server) = pgscratch::server_url(ctx, self.pg_url.as_deref()) else {
            anyhow::ensure!(
                std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "REQUIRE_POSTGRES=1 but no PostgreSQL server is known: pass --pg-url or set TEST_DATABASE_URL"
            );
            ctx.report.say("    NOTICE: PostgreSQL checks skipped (down reverses up, schema.rs): pass --pg-url or set TEST_DATABASE_URL");
            return Ok(());
        };
        ctx.report.step(
            &format!(
                "every down.sql reverses its up.sql ({}, PostgreSQL)",
                tree.label
            ),
            |_| {
                let place = scratch::ScratchPlace::Postgres {
                    server: server.clone(),
                };
                problems.extend(
                    scratch::check_reversible(&place, &all(postgres))?
                        .into_iter()
                        .map(|p| format!("{}/{p}", tree.label)),
                );
                Ok(())
            },
        )?;
        let schema_file = self.schema_rs.clone().or_else(|| {
            ctx.uses_repo_trees()
                .then(|| project_root().join("crates/pf-data/src/schema.rs"))
        });
        match schema_file {
            Some(file) => ctx.report.step("schema.rs equals diesel print-schema at head", |r| {
                if let Some(diff) = schema_rs(sh, &server, postgres, &file, on_stale)? {
                    problems.push(diff);
                } else if on_stale == OnStale::Rewrite {
                    r.say("    schema.rs is current");
                }
                Ok(())
            })?,
            None => ctx.report.say(
                "    schema.rs not compared: these are not the repository's trees (pass --schema-rs FILE)",
            ),
        }
        Ok(())
    }
}

/// Folder names that break the naming rules (problems) or could be better (advice), and
/// migrations without a down.sql.
fn naming_and_pairs(trees: &[Checked], found: &mut Findings) {
    for (tree, set) in trees {
        let tree = &tree.label;
        for m in &set.migrations {
            found
                .problems
                .extend(naming::folder_problem(&m.folder).map(|p| format!("{tree}/{p}")));
            found
                .advice
                .extend(naming::folder_advice(&m.folder).map(|p| format!("{tree}/{p}")));
            if m.down.is_none() {
                found
                    .problems
                    .push(format!("{tree}/{}: no down.sql", m.folder));
            }
        }
    }
}

/// Folders present in one tree but not in another.
fn tree_differences(trees: &[Checked]) -> Vec<String> {
    let mut problems = Vec::new();
    for (tree, set) in trees {
        for (other, other_set) in trees.iter().filter(|(o, _)| o.label != tree.label) {
            let in_other = |folder: &str| other_set.migrations.iter().any(|o| o.folder == folder);
            for m in set.migrations.iter().filter(|m| !in_other(&m.folder)) {
                problems.push(format!(
                    "{} exists in {}/ but not in {}/",
                    m.folder, tree.label, other.label
                ));
            }
        }
    }
    problems
}

/// Each tree's checksum file against its migrations: stale ones are rewritten or reported.
fn checksum_files(
    r: &mut Reporter,
    trees: &[Checked],
    on_stale: OnStale,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (tree, set) in trees {
        let dir = &tree.dir;
        let found = sumfile::verify(dir, set);
        if found.is_empty() {
            continue;
        }
        match on_stale {
            OnStale::Rewrite => {
                sumfile::write(dir, set)
                    .with_context(|| format!("cannot write {}", sumfile::path(dir).display()))?;
                r.say(&format!("    rewrote {}", sumfile::path(dir).display()));
            }
            OnStale::Report => problems.extend(found),
        }
    }
    Ok(problems)
}

/// Prints and records the advice and problems; fails when there are problems.
fn conclude(ctx: &mut Ctx, found: &Findings) -> anyhow::Result<()> {
    let Findings { problems, advice } = found;
    ctx.report.set("advice", advice);
    for a in advice {
        ctx.report.say(&format!("    advice: {a}"));
    }
    ctx.report.set("problems", problems);
    for p in problems {
        ctx.report.say(&format!("    problem: {p}"));
    }
    anyhow::ensure!(problems.is_empty(), "{} problem(s) in the migration trees (listed above); `cargo xtask check --fix` rewrites the generated files", problems.len());
    Ok(())
}

fn all(set: &MigrationSet) -> Vec<&Migration> {
    set.migrations.iter().collect()
}

fn destructive(trees: &[Checked]) -> Vec<String> {
    let mut out = Vec::new();
    for (tree, set) in trees {
        for m in &set.migrations {
            for what in super::destructive::findings(&m.up) {
                out.push(format!("{}/{}: up.sql {what}", tree.label, m.folder));
            }
        }
    }
    out
}

/// None when crates/pf-data/src/schema.rs equals `diesel print-schema` for head; else the problem.
fn schema_rs(
    sh: &Shell,
    server: &str,
    postgres: &MigrationSet,
    file: &Path,
    on_stale: OnStale,
) -> anyhow::Result<Option<String>> {
    let diesel = pgscratch::diesel_cli()?;
    let scratch_db = ScratchDb::create(server, "schema")?;
    let mut conn = db::establish(&scratch_db.target())?;
    Migrator::new(postgres, "xtask check").apply(&mut conn, &Target::Head)?;
    let url = scratch_db.url.clone();
    let generated = cmd!(sh, "{diesel} print-schema --database-url {url}")
        .quiet()
        .read()
        .context("diesel print-schema failed")?;
    let current = std::fs::read_to_string(file).unwrap_or_default();
    if current.trim_end() == generated.trim_end() {
        return Ok(None);
    }
    if on_stale == OnStale::Rewrite {
        write_atomic(file, &format!("{}\n", generated.trim_end()))?;
        return Ok(None);
    }
    Ok(Some(format!(
        "{} is not what `diesel print-schema` gives for head: run `cargo xtask check --fix`",
        file.display()
    )))
}

fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    Ok(safe_fs::write_atomic(
        path,
        text.as_bytes(),
        safe_fs::Access::Shared,
    )?)
}
