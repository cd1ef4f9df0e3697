//! `cargo xtask bench <which>`: benchmarks measured against the peer tool in the same run.
//! Figures are medians of repeated runs; nothing here is a timed assertion.

pub mod backup;
pub mod consolidate;
pub mod migrate;

use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args)]
pub struct Bench {
    #[command(subcommand)]
    pub which: BenchWhich,
}

#[derive(clap::Subcommand)]
pub enum BenchWhich {
    /// Backup, verify, restore vs sqlite3/pg_dump/pg_restore; export/import rows/s and peak memory; the old HTTP way
    Backup(backup::BenchBackup),
    /// Fresh install of the migration chain: xtask apply vs the diesel CLI
    Migrate(migrate::BenchMigrate),
    /// Consolidation time by chain length; fresh install from the baseline vs the chain
    Consolidate(consolidate::BenchConsolidate),
}

impl Bench {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        match &self.which {
            BenchWhich::Backup(b) => b.run(sh, ctx),
            BenchWhich::Migrate(b) => b.run(sh, ctx),
            BenchWhich::Consolidate(b) => b.run(sh, ctx),
        }
    }
}
