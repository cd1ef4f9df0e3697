//! `cargo xtask history` and `cargo xtask show <version>`.

use migration_engine as migrate;
use xshell::Shell;

use crate::Ctx;

#[derive(clap::Args)]
pub struct HistoryCmd {
    /// Also show checksums and when each migration was applied
    #[arg(long, short)]
    pub verbose: bool,
}

impl HistoryCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let applied = match super::connect_read_only(ctx, &target)? {
            Some(mut conn) => migrate::history::applied(&mut conn)?,
            None => Vec::new(),
        };
        let mut rows = Vec::new();
        for m in &set.migrations {
            let row = applied.iter().find(|a| a.version == m.version);
            let mark = match row {
                Some(a) if a.checksum.as_deref().is_some_and(|c| c != m.checksum()) => "edited ",
                Some(_) => "applied",
                None => "pending",
            };
            let mut line = format!("    [{mark}] {}", m.folder);
            if self.verbose {
                line.push_str(&format!("  sha256:{}", &m.checksum()[..16]));
                if let Some(on) = row.and_then(|a| a.run_on.as_deref()) {
                    line.push_str(&format!("  applied {on}"));
                }
                if let Some(first) = m.up.lines().next() {
                    line.push_str(&format!("\n              {first}"));
                }
            }
            ctx.report.say(&line);
            rows.push(serde_json::json!({
                "folder": m.folder, "version": m.version, "state": mark.trim(), "checksum": m.checksum(),
                "run_on": row.and_then(|a| a.run_on.clone()),
            }));
        }
        for a in applied
            .iter()
            .filter(|a| set.migrations.iter().all(|m| m.version != a.version))
        {
            ctx.report
                .say(&format!("    [unknown] {} (applied, no file)", a.version));
        }
        ctx.report.set("migrations", rows);
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct ShowCmd {
    /// Version, dashed version, folder or name; or `head`
    pub version: String,
}

impl ShowCmd {
    pub fn run(&self, _sh: &Shell, ctx: &mut Ctx) -> anyhow::Result<()> {
        let target = ctx.target()?;
        let set = super::tree(ctx, &target)?;
        let m = set.resolve(&self.version)?;
        let r = &ctx.report;
        r.say(&format!(
            "{}\nversion:  {}\nchecksum: {}\ntransaction: {}\n",
            m.folder,
            m.version,
            m.checksum(),
            m.run_in_transaction
        ));
        r.say(&format!("-- up.sql\n{}", m.up));
        r.say(&format!(
            "-- down.sql\n{}",
            m.down.as_deref().unwrap_or("(none)")
        ));
        ctx.report.set("folder", &m.folder);
        ctx.report.set("version", &m.version);
        ctx.report.set("checksum", m.checksum());
        ctx.report.set("up", &m.up);
        ctx.report.set("down", &m.down);
        Ok(())
    }
}
