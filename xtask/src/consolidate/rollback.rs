//! `cargo xtask rollback <backup>`: undo a consolidation from its files backup.

use std::path::PathBuf;

use data_safety::hash;
use db_conn as db;
use migration_engine::MigrationSet;
use xshell::Shell;

use super::{files, rerecord, Digests};
use crate::Ctx;

/// `cargo xtask rollback <backup>`: puts back the migration files of a consolidation backup
/// and re-records their checksums in the database (whose schema and data consolidation never
/// changes).
#[derive(clap::Args)]
pub struct RollbackCmd {
    /// A `backups/migrations_<stamp>` folder, or just its `<stamp>`
    pub backup: String,
    #[arg(long, default_value = "backups")]
    pub backups_dir: PathBuf,
}

impl RollbackCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let root = ctx.layout.unit().to_path_buf();
        let live_tree = ctx.tree(&target)?;
        let mut backup = PathBuf::from(&self.backup);
        if !backup.is_dir() {
            backup = self.backups_dir.join(format!(
                "migrations_{}",
                self.backup.trim_start_matches("migrations_")
            ));
        }
        anyhow::ensure!(
            backup.is_dir(),
            "no migrations backup at {}: list them with `ls {}`",
            backup.display(),
            self.backups_dir.display()
        );
        ctx.report.step("verify the files backup", |_| {
            files::verify_backup(&backup).map(|_| ())
        })?;
        ctx.report
            .step("restore the migration files (atomic swap)", |_| {
                files::restore(&root, &backup)
            })?;
        ctx.report.step("re-record the restored migrations' checksums", |_| {
            let mut conn = db::establish(&target)?;
            rerecord(&mut conn, &MigrationSet::from_dir(&live_tree.dir)?)?;
            let digests_file = backup.join("data_digests.json");
            if digests_file.is_file() {
                let before: Digests = serde_json::from_str(&std::fs::read_to_string(&digests_file)?)?;
                let (differences, _) = hash::compare(&before, &hash::digests(&mut conn)?);
                anyhow::ensure!(
                    differences.is_empty(),
                    "the data differs from when the backup was taken ({}): restore the data backup too (`cargo xtask restore`)",
                    differences.join("; ")
                );
            }
            Ok(())
        })?;
        Ok(())
    }
}
