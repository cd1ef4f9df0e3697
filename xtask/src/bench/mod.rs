//! `cargo xtask bench <which>`: benchmarks measured against the peer tool in the same run.
//! Figures are medians of repeated runs; nothing here is a timed assertion.

pub mod backup;
pub mod consolidate;
mod corpus;
pub mod import;
pub mod migrate;
pub mod valuation;

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
    /// Consolidation time by chain length and on the hard 320-migration corpus; installs vs the chain and the diesel CLI
    Consolidate(consolidate::BenchConsolidate),
    /// IBKR Flex statement import: rows/s and peak memory, 10x the trades vs the base size
    Import(import::BenchImport),
    /// A year of daily valuation of 1,000 holdings on SQLite: seconds per year, ms per day
    Valuation(valuation::BenchValuation),
}

impl Bench {
    pub fn run(&self, sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        match &self.which {
            BenchWhich::Backup(b) => b.run(sh, ctx),
            BenchWhich::Migrate(b) => b.run(sh, ctx),
            BenchWhich::Consolidate(b) => b.run(sh, ctx),
            BenchWhich::Import(b) => b.run(sh, ctx),
            BenchWhich::Valuation(b) => b.run(sh, ctx),
        }
    }
}

/// VmHWM (peak resident memory) of this process, in KiB.
pub fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
