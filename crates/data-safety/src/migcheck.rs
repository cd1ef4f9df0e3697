//! The migration check `pre-deploy` runs: against this code's embedded migrations, what is
//! pending (the deploy will apply it: reported), applied out of order, applied but unknown to
//! this code, or applied and since edited (each of those three is a problem).

use serde::{Deserialize, Serialize};

use crate::BackupError;
use db_conn::DbConnection;
use pf_data::migrations;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationCheck {
    pub applied: usize,
    pub newest_applied: Option<String>,
    pub pending: Vec<String>,
    pub out_of_order: Vec<String>,
    pub unknown: Vec<String>,
    pub edited: Vec<String>,
    /// Behind a consolidated baseline whose archived chain this code lacks.
    pub unreachable: Option<String>,
}

impl MigrationCheck {
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self.unreachable.iter().cloned().collect();
        if !self.out_of_order.is_empty() {
            out.push(format!(
                "pending migration(s) {} are older than the newest applied {}: diesel would run them out of order; give them newer versions",
                self.out_of_order.join(", "),
                self.newest_applied.as_deref().unwrap_or_default()
            ));
        }
        if !self.unknown.is_empty() {
            out.push(format!(
                "the database has migration(s) {} applied that this code does not have: it was migrated by a newer release; deploy that release or restore an older backup",
                self.unknown.join(", ")
            ));
        }
        if !self.edited.is_empty() {
            out.push(format!(
                "applied migration(s) were edited since they ran: {}; revert the edit and add a new migration instead",
                self.edited.join(", ")
            ));
        }
        out
    }
}

pub fn check(conn: &mut DbConnection) -> Result<MigrationCheck, BackupError> {
    let set = migrations::embedded_for(conn);
    let status = migration_engine::status(conn, set)?;
    Ok(MigrationCheck {
        applied: status.applied.len(),
        newest_applied: status.applied.iter().map(|a| a.version.clone()).max(),
        pending: status.pending,
        out_of_order: status.out_of_order,
        unknown: status.unknown,
        edited: status
            .edited
            .into_iter()
            .map(|e| format!("{} (recorded {}, now {})", e.folder, e.recorded, e.current))
            .collect(),
        unreachable: status.unreachable,
    })
}
