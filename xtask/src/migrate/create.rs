//! `cargo xtask create <description> [--autogenerate]`: a new migration in every tree.

use std::path::{Path, PathBuf};

use anyhow::Context;
use db_conn as db;
use db_conn::{Backend, DatabaseTarget};
use migration_engine::{naming, sumfile, MigrationSet, Migrator, Target};
use xshell::{cmd, Shell};

use super::pgscratch::{self, ScratchDb};
use crate::{project_root, Ctx};

#[derive(clap::Args)]
pub struct CreateCmd {
    /// What the migration changes, e.g. "add fee currency to user_operations"
    pub description: String,
    /// Fill up.sql/down.sql from the difference between schema.rs and the trees' head (diesel's diff)
    #[arg(long)]
    pub autogenerate: bool,
    /// PostgreSQL server for the scratch database --autogenerate needs [default: target, else TEST_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// The schema to generate towards [default: crates/pf-data/src/schema.rs]
    #[arg(long, value_name = "FILE")]
    pub schema_rs: Option<PathBuf>,
}

struct Files {
    up: String,
    down: String,
}

impl CreateCmd {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let name = naming::migration_name(&self.description).map_err(anyhow::Error::msg)?;
        let trees = ctx.trees()?;
        let sets: Vec<MigrationSet> = trees
            .iter()
            .map(|t| MigrationSet::from_dir(&t.dir))
            .collect::<Result<_, _>>()?;
        let folder = format!("{}_{name}", next_version(&sets));
        let contents: Vec<Files> = if self.autogenerate {
            let schema_rs = self
                .schema_rs
                .clone()
                .unwrap_or_else(|| project_root().join("crates/pf-data/src/schema.rs"));
            let schema = std::fs::read_to_string(&schema_rs)
                .with_context(|| format!("cannot read {}", schema_rs.display()))?;
            let mut out = Vec::new();
            for (tree, set) in trees.iter().zip(&sets) {
                let step = format!("diff schema.rs against {} at head", tree.label);
                out.push(match tree.backend {
                    Backend::Sqlite => ctx.report.step(&step, |_| {
                        autogenerate_sqlite(sh, set, &name, &schema)
                    })?,
                    Backend::Postgres => {
                        let server = pgscratch::server_url(ctx, self.pg_url.as_deref()).ok_or_else(|| {
                            anyhow::anyhow!("--autogenerate needs a PostgreSQL server for the postgres tree: pass --pg-url postgres://... or set TEST_DATABASE_URL")
                        })?;
                        ctx.report.step(&step, |_| {
                            autogenerate_postgres(sh, set, &name, &server, &schema)
                        })?
                    }
                });
            }
            out
        } else {
            let blank = || Files {
                up: format!("-- {name}: write the change here\n"),
                down: format!("-- Reverts {name}: undo exactly what up.sql does\n"),
            };
            trees.iter().map(|_| blank()).collect()
        };
        ctx.report
            .step(&format!("write {folder} in every tree"), |r| {
                let mut written: Vec<PathBuf> = Vec::new();
                let result = (|| -> anyhow::Result<()> {
                    for (tree, files) in trees.iter().zip(&contents) {
                        let dir = &tree.dir;
                        written.push(write_folder(dir, &folder, files)?);
                        let set = MigrationSet::from_dir(dir)?;
                        sumfile::write(dir, &set).with_context(|| {
                            format!("cannot update {}", sumfile::path(dir).display())
                        })?;
                    }
                    Ok(())
                })();
                if let Err(e) = result {
                    // All or nothing: a half-created migration would put the trees out of step.
                    for dir in &written {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                    for (tree, set) in trees.iter().zip(&sets) {
                        let _ = sumfile::write(&tree.dir, set);
                    }
                    return Err(e);
                }
                for dir in &written {
                    r.say(&format!("    created {}", dir.display()));
                }
                Ok(())
            })?;
        ctx.report.set("folder", &folder);
        Ok(())
    }
}

/// Now (UTC), or one second after the newest existing version, whichever is later.
fn next_version(sets: &[MigrationSet]) -> String {
    let format = "%Y-%m-%d-%H%M%S";
    let now = chrono::Utc::now().naive_utc();
    let newest = sets
        .iter()
        .filter_map(|s| s.head())
        .filter_map(|m| {
            chrono::NaiveDateTime::parse_from_str(m.folder.split('_').next().unwrap_or(""), format)
                .ok()
        })
        .max();
    let at = match newest {
        Some(n) if n >= now => n + chrono::Duration::seconds(1),
        _ => now,
    };
    at.format(format).to_string()
}

fn write_folder(tree_dir: &Path, folder: &str, files: &Files) -> anyhow::Result<PathBuf> {
    let final_dir = tree_dir.join(folder);
    anyhow::ensure!(
        !final_dir.exists(),
        "{} already exists",
        final_dir.display()
    );
    // Built under a dot-name (diesel ignores dot-folders) and renamed into place.
    let tmp = tree_dir.join(format!(".{folder}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    std::fs::write(tmp.join("up.sql"), &files.up)?;
    std::fs::write(tmp.join("down.sql"), &files.down)?;
    std::fs::rename(&tmp, &final_dir)?;
    Ok(final_dir)
}

/// diesel's `migration generate --diff-schema` against the `backend` database at `url`, at head.
fn diesel_diff(
    sh: &Shell,
    url: &str,
    schema_rs: &Path,
    name: &str,
    backend: Backend,
) -> anyhow::Result<Files> {
    let diesel = pgscratch::diesel_cli()?;
    let out = tempfile::tempdir()?;
    let config = out.path().join("diesel.toml");
    // diesel wants a print_schema section to diff against; the file it names is never written.
    let mut settings = format!(
        "[print_schema]\nfile = {:?}\n",
        out.path().join("unused_schema.rs").display().to_string()
    );
    if backend == Backend::Sqlite {
        settings.push_str("sqlite_integer_primary_key_is_bigint = true\n");
    }
    std::fs::write(&config, settings)?;
    let dir = out.path().join("m");
    std::fs::create_dir_all(&dir)?;
    cmd!(sh, "{diesel} migration generate {name} --diff-schema={schema_rs} --migration-dir {dir} --database-url {url} --config-file {config}")
        .quiet()
        .ignore_stdout()
        .run()
        .context("diesel migration generate --diff-schema failed")?;
    let generated = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .context("diesel generated no migration")?
        .path();
    // Keep the statements; replace diesel's placeholder comments with a header of our own.
    let read = |f: &str, header: String| {
        let text = std::fs::read_to_string(generated.join(f)).unwrap_or_default();
        let body: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
            .collect();
        format!("{header}\n{}\n", body.join("\n"))
    };
    let files = Files {
        up: read("up.sql", format!("-- {name}: generated from schema.rs by `cargo xtask create --autogenerate`; review before applying")),
        down: read("down.sql", format!("-- Reverts {name}")),
    };
    let meaningful = |s: &str| {
        s.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    };
    anyhow::ensure!(
        meaningful(&files.up),
        "schema.rs already matches the migrations' head: edit crates/pf-data/src/schema.rs first, or create without --autogenerate"
    );
    Ok(files)
}

fn autogenerate_sqlite(
    sh: &Shell,
    set: &MigrationSet,
    name: &str,
    schema: &str,
) -> anyhow::Result<Files> {
    let scratch = tempfile::tempdir()?;
    let path = scratch.path().join("head.db");
    let mut conn = db::establish(&DatabaseTarget::sqlite(&path))?;
    Migrator::new(set, "xtask create").apply(&mut conn, &Target::Head)?;
    drop(conn);
    // SQLite keeps decimals as TEXT: diff against schema.rs with that spelling.
    let schema = schema
        .replace("    use crate::decimal::Numeric;\n", "")
        .replace("Numeric", "Text");
    let schema_rs = scratch.path().join("schema.rs");
    std::fs::write(&schema_rs, schema)?;
    diesel_diff(
        sh,
        &path.display().to_string(),
        &schema_rs,
        name,
        Backend::Sqlite,
    )
}

fn autogenerate_postgres(
    sh: &Shell,
    set: &MigrationSet,
    name: &str,
    server: &str,
    schema: &str,
) -> anyhow::Result<Files> {
    let scratch_db = ScratchDb::create(server, "autogen")?;
    let mut conn = db::establish(&scratch_db.target())?;
    Migrator::new(set, "xtask create").apply(&mut conn, &Target::Head)?;
    drop(conn);
    let dir = tempfile::tempdir()?;
    let schema = schema.replace("    use crate::decimal::Numeric;\n", "");
    let schema_rs = dir.path().join("schema.rs");
    std::fs::write(&schema_rs, schema)?;
    diesel_diff(sh, &scratch_db.url, &schema_rs, name, Backend::Postgres)
}
