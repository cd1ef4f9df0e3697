//! `cargo xtask check [--fix]`: lint the migration trees and the files generated from them.

use std::path::Path;

use anyhow::Context;
use backend::config::DatabaseTarget;
use backend::db;
use backend::migrate::{naming, scratch, sumfile, Migration, MigrationSet, Migrator, Target};
use xshell::{cmd, Shell};

use super::pgscratch::{self, ScratchDb};
use crate::{project_root, Ctx};

/// Statements in an up.sql that can lose data; flagged so a reviewer looks twice.
const DESTRUCTIVE: &[(&str, &str)] = &[
    ("drop table", "drops a table"),
    ("drop column", "drops a column"),
    ("truncate", "empties a table"),
    ("delete from", "deletes rows"),
];

/// `ALTER COLUMN x TYPE ...` / `ALTER COLUMN x SET DATA TYPE ...` in normalized lower case.
fn changes_a_type(code: &str) -> bool {
    code.split("alter column ").skip(1).any(|rest| {
        let words: Vec<&str> = rest.split_whitespace().take(4).collect();
        words.get(1) == Some(&"type") || words.get(1..4) == Some(&["set", "data", "type"][..])
    })
}

#[derive(clap::Args)]
pub struct CheckCmd {
    /// Rewrite what is generated (checksum files, schema.rs) instead of failing
    #[arg(long)]
    pub fix: bool,
    /// PostgreSQL server for the scratch databases [default: the target if PostgreSQL, else TEST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// The schema.rs that must equal `diesel print-schema` for head [default: backend/src/schema.rs
    /// when checking the repository's own trees; skipped for other --migrations-root]
    #[arg(long, value_name = "FILE")]
    pub schema_rs: Option<std::path::PathBuf>,
}

impl CheckCmd {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let root = ctx.migrations_root().to_path_buf();
        let sqlite = MigrationSet::from_dir(&root.join("sqlite"))?;
        let postgres = MigrationSet::from_dir(&root.join("postgres"))?;
        let mut problems: Vec<String> = Vec::new();
        let mut advice: Vec<String> = Vec::new();
        let trees = [("sqlite", &sqlite), ("postgres", &postgres)];

        ctx.report.step("naming and up/down pairs", |_| {
            for (tree, set) in trees {
                for m in &set.migrations {
                    problems
                        .extend(naming::folder_problem(&m.folder).map(|p| format!("{tree}/{p}")));
                    advice.extend(naming::folder_advice(&m.folder).map(|p| format!("{tree}/{p}")));
                    if m.down.is_none() {
                        problems.push(format!("{tree}/{}: no down.sql", m.folder));
                    }
                }
            }
            Ok(())
        })?;
        ctx.report.step("both trees hold the same versions", |_| {
            let names = |s: &MigrationSet| {
                s.migrations
                    .iter()
                    .map(|m| m.folder.clone())
                    .collect::<Vec<_>>()
            };
            let (a, b) = (names(&sqlite), names(&postgres));
            for f in a.iter().filter(|f| !b.contains(f)) {
                problems.push(format!("{f} exists in sqlite/ but not in postgres/"));
            }
            for f in b.iter().filter(|f| !a.contains(f)) {
                problems.push(format!("{f} exists in postgres/ but not in sqlite/"));
            }
            Ok(())
        })?;
        let fix = self.fix;
        ctx.report.step("checksum files current", |r| {
            for (tree, set) in trees {
                let dir = root.join(tree);
                let found = sumfile::verify(&dir, set);
                if found.is_empty() {
                    continue;
                }
                if fix {
                    sumfile::write(&dir, set).with_context(|| {
                        format!("cannot write {}", sumfile::path(&dir).display())
                    })?;
                    r.say(&format!("    rewrote {}", sumfile::path(&dir).display()));
                } else {
                    problems.extend(found);
                }
            }
            Ok(())
        })?;
        let flagged = destructive(&trees);
        for f in &flagged {
            ctx.report.say(&format!("    warning: {f}"));
        }
        ctx.report.set("destructive", &flagged);

        ctx.report
            .step("every down.sql reverses its up.sql (SQLite)", |_| {
                let dir = tempfile::tempdir()?;
                let mut conn = db::establish(&DatabaseTarget::sqlite(dir.path().join("probe.db")))?;
                problems.extend(
                    scratch::check_reversible(&mut conn, &all(&sqlite))?
                        .into_iter()
                        .map(|p| format!("sqlite/{p}")),
                );
                Ok(())
            })?;
        match pgscratch::server_url(ctx, self.pg_url.as_deref()) {
            Some(server) => {
                ctx.report
                    .step("every down.sql reverses its up.sql (PostgreSQL)", |_| {
                        let scratch_db = ScratchDb::create(&server, "check")?;
                        let mut conn = db::establish(&scratch_db.target())?;
                        problems.extend(
                            scratch::check_reversible(&mut conn, &all(&postgres))?
                                .into_iter()
                                .map(|p| format!("postgres/{p}")),
                        );
                        Ok(())
                    })?;
                let schema_file = self.schema_rs.clone().or_else(|| {
                    ctx.uses_repo_trees()
                        .then(|| project_root().join("backend/src/schema.rs"))
                });
                match schema_file {
                    Some(file) => ctx.report.step("schema.rs equals diesel print-schema at head", |r| {
                        if let Some(diff) = schema_rs(sh, &server, &postgres, &file, fix)? {
                            problems.push(diff);
                        } else if fix {
                            r.say("    schema.rs is current");
                        }
                        Ok(())
                    })?,
                    None => ctx.report.say(
                        "    schema.rs not compared: these are not the repository's trees (pass --schema-rs FILE)",
                    ),
                }
            }
            None => {
                anyhow::ensure!(
                    std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "REQUIRE_POSTGRES=1 but no PostgreSQL server is known: pass --pg-url or set TEST_DATABASE_URL"
                );
                ctx.report.say("    NOTICE: PostgreSQL checks skipped (down reverses up, schema.rs): pass --pg-url or set TEST_DATABASE_URL");
            }
        }
        ctx.report.set("advice", &advice);
        for a in &advice {
            ctx.report.say(&format!("    advice: {a}"));
        }
        ctx.report.set("problems", &problems);
        for p in &problems {
            ctx.report.say(&format!("    problem: {p}"));
        }
        anyhow::ensure!(problems.is_empty(), "{} problem(s) in the migration trees (listed above); `cargo xtask check --fix` rewrites the generated files", problems.len());
        Ok(())
    }
}

fn all(set: &MigrationSet) -> Vec<&Migration> {
    set.migrations.iter().collect()
}

fn destructive(trees: &[(&str, &MigrationSet); 2]) -> Vec<String> {
    let mut out = Vec::new();
    for (tree, set) in trees {
        for m in &set.migrations {
            let code: String =
                m.up.lines()
                    .map(|l| l.split("--").next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
            for (pattern, what) in DESTRUCTIVE {
                if code.contains(pattern) {
                    out.push(format!("{tree}/{}: up.sql {what}", m.folder));
                }
            }
            if changes_a_type(&code) {
                out.push(format!(
                    "{tree}/{}: up.sql changes a column type (check it does not narrow)",
                    m.folder
                ));
            }
        }
    }
    out
}

/// None when backend/src/schema.rs equals `diesel print-schema` for head; else the problem.
fn schema_rs(
    sh: &Shell,
    server: &str,
    postgres: &MigrationSet,
    file: &Path,
    fix: bool,
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
    if fix {
        write_atomic(file, &format!("{}\n", generated.trim_end()))?;
        return Ok(None);
    }
    Ok(Some(format!(
        "{} is not what `diesel print-schema` gives for head: run `cargo xtask check --fix`",
        file.display()
    )))
}

fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("rs.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
