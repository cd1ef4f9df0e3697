//! The words every front door prints for a data-safety report: the `backend` binary prints
//! them as they are, `cargo xtask` indents them under its steps. Written once, so the two
//! never drift apart.

use std::fmt::{self, Display, Formatter};

use crate::export::{ExportManifest, ImportReport, TransferReport};
use crate::integrity::IntegrityReport;
use crate::migcheck::MigrationCheck;
use crate::prune::PruneReport;
use crate::restore::RestoreReport;
use crate::store::Listed;
use crate::verify::VerifyReport;
use crate::BackupInfo;

impl Display for BackupInfo {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backup {}: {} table(s), {} row(s), {} bytes in {}",
            self.id,
            self.manifest.tables.len(),
            self.manifest.total_rows(),
            self.manifest.snapshot.bytes,
            self.path.display()
        )
    }
}

impl Display for VerifyReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backup {} verified: {} row(s) in {} table(s), {} content hash(es) and {} applied migration(s) match",
            self.id, self.rows, self.tables, self.hashes_matched, self.applied_versions
        )?;
        for note in &self.notes {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

impl Display for Listed {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Some(m) = &self.manifest else {
            let problem = self.problem.as_deref().unwrap_or_default();
            return write!(f, "{:36} UNREADABLE: {problem}", self.id);
        };
        let verified = self
            .verified
            .as_ref()
            .map_or("not verified".to_owned(), |v| {
                format!("verified {}", v.verified_at)
            });
        let note = m
            .note
            .as_ref()
            .map_or(String::new(), |n| format!("  ({n})"));
        write!(
            f,
            "{:36} {}  {:8} {:>10} rows {:>12} bytes  {verified}{note}",
            self.id,
            m.created_at,
            m.backend.tree_name(),
            m.total_rows(),
            self.bytes
        )
    }
}

impl Display for PruneReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut lines = Vec::new();
        for d in &self.kept {
            lines.push(format!("keep    {} ({})", d.id, d.reasons.join(", ")));
        }
        let verb = if self.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        for d in &self.removed {
            lines.push(format!("{verb} {}", d.id));
        }
        for s in &self.skipped {
            lines.push(format!("skipped {s}: not a readable backup, left alone"));
        }
        if lines.is_empty() {
            lines.push("no backups to keep or delete".into());
        }
        f.write_str(&lines.join("\n"))
    }
}

impl Display for RestoreReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restored backup {} ({} row(s), taken {}) by {}; the previous state is in backup {}",
            self.restored,
            self.rows,
            self.created_at,
            self.method,
            self.safety_backup
                .as_deref()
                .unwrap_or("(none: there was no database)")
        )
    }
}

impl Display for ExportManifest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exported {} row(s) of {} table(s)",
            self.total_rows(),
            self.tables.len()
        )
    }
}

impl Display for ImportReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {} row(s) of {} table(s); counts and content hashes checked before COMMIT",
            self.rows, self.tables
        )
    }
}

impl Display for TransferReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "transferred {} row(s) of {} table(s) from {} to {}: every count and content hash equal",
            self.rows, self.tables, self.from, self.to
        )
    }
}

impl Display for IntegrityReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (table, rows) in &self.tables {
            writeln!(f, "{table:28} {rows:>10}")?;
        }
        let newest = self.newest_asset_snapshot.map_or("none".to_owned(), |d| {
            format!(
                "{d} ({} day(s) old)",
                self.newest_asset_snapshot_age_days.unwrap_or(0)
            )
        });
        write!(
            f,
            "{} foreign key(s) checked, {} orphaned row(s); newest asset snapshot: {newest}",
            self.foreign_keys_checked,
            self.orphans.iter().map(|o| o.rows).sum::<i64>(),
        )?;
        for p in &self.problems {
            write!(f, "\nPROBLEM: {p}")?;
        }
        if self.problems.is_empty() {
            write!(f, "\nintegrity: ok")?;
        }
        Ok(())
    }
}

impl IntegrityReport {
    /// The one-line failure a command ends with when the data has problems.
    pub fn failure(&self) -> Option<String> {
        (!self.problems.is_empty()).then(|| {
            format!(
                "{} integrity problem(s): {}",
                self.problems.len(),
                self.problems.join("; ")
            )
        })
    }
}

impl Display for MigrationCheck {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let pending = if self.pending.is_empty() {
            "nothing to apply".to_owned()
        } else {
            format!("the deploy applies {}", self.pending.join(", "))
        };
        write!(
            f,
            "{} applied (newest {}), {} pending: {pending}",
            self.applied,
            self.newest_applied.as_deref().unwrap_or("none"),
            self.pending.len(),
        )
    }
}

/// Each line of `text` indented by `by` spaces (xtask prints reports under its steps).
pub fn indented(text: &impl Display, by: usize) -> String {
    let pad = " ".repeat(by);
    text.to_string()
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
