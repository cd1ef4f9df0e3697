//! Where a database stands against a migration tree: what is applied, pending, out of order,
//! unknown or edited. Read-only.

use serde::Serialize;

use super::history::{self, AppliedRow};
use super::{version_of, MigrateError, MigrationSet};
use crate::db::DbConnection;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Edited {
    pub folder: String,
    pub path: String,
    pub recorded: String,
    pub current: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Status {
    /// Applied versions, in order, as recorded.
    pub applied: Vec<AppliedRow>,
    /// Folders not applied yet, in order.
    pub pending: Vec<String>,
    /// Pending folders older than the newest applied version: diesel would run them silently.
    pub out_of_order: Vec<String>,
    /// Applied versions with no migration in the tree.
    pub unknown: Vec<String>,
    /// Applied migrations whose files changed since.
    pub edited: Vec<Edited>,
    /// Applied migrations with no recorded checksum (applied by another tool).
    pub unrecorded: Vec<String>,
    /// Archived migrations that bring a database behind a consolidated baseline up to it.
    pub via_archive: Vec<String>,
    /// Baselines applied as their replaced chain: recorded checksum is the chain's, which is
    /// consistent; the baseline's own checksum is recorded on the next apply.
    pub restamp: Vec<String>,
    /// Why the database cannot reach the tree's head (a needed archived migration is missing).
    pub unreachable: Option<String>,
    pub head: Option<String>,
}

impl Status {
    /// Problems that make applying unsafe, as the error that explains them.
    pub fn refusal(&self, allow_out_of_order: bool) -> Option<MigrateError> {
        if let Some(why) = &self.unreachable {
            return Some(MigrateError::BehindBaseline(why.clone()));
        }
        if let Some(e) = self.edited.first() {
            return Some(MigrateError::Edited {
                folder: e.folder.clone(),
                path: e.path.clone(),
                recorded: e.recorded.clone(),
                current: e.current.clone(),
            });
        }
        if !self.unknown.is_empty() {
            return Some(MigrateError::Unknown {
                versions: self.unknown.join(", "),
            });
        }
        if !self.out_of_order.is_empty() && !allow_out_of_order {
            return Some(MigrateError::OutOfOrder {
                folders: self.out_of_order.join(", "),
                newest: self
                    .applied
                    .last()
                    .map(|a| a.version.clone())
                    .unwrap_or_default(),
            });
        }
        None
    }

    pub fn is_clean(&self) -> bool {
        self.pending.is_empty() && self.refusal(false).is_none()
    }
}

pub fn status(conn: &mut DbConnection, set: &MigrationSet) -> Result<Status, MigrateError> {
    let applied = history::applied(conn)?;
    Ok(compare(applied, set))
}

/// Pure comparison of recorded rows with the tree.
pub fn compare(applied: Vec<AppliedRow>, set: &MigrationSet) -> Status {
    let is_applied = |v: &str| applied.iter().any(|a| a.version == v);
    let newest = applied
        .iter()
        .map(|a| a.version.as_str())
        .max()
        .map(str::to_owned);
    let mut status = Status {
        head: set.head().map(|m| m.folder.clone()),
        ..Status::default()
    };
    for m in &set.migrations {
        let replaced: Vec<String> = m.replaces.iter().map(|f| version_of(f)).collect();
        match applied.iter().find(|a| a.version == m.version) {
            None if replaced.iter().any(|v| is_applied(v)) => {
                // Behind a consolidated baseline: never run its DDL on a database that has part
                // of the chain; run the rest of the chain from the archive instead.
                let mut missing = Vec::new();
                for (folder, version) in m
                    .replaces
                    .iter()
                    .zip(&replaced)
                    .filter(|(_, v)| !is_applied(v))
                {
                    match set.archive.iter().find(|a| &a.version == version) {
                        Some(a) => status.via_archive.push(a.folder.clone()),
                        None => missing.push(folder.clone()),
                    }
                }
                if !missing.is_empty() {
                    status.unreachable = Some(format!(
                        "the database is at {}, part of the chain that {} replaced, and the archived migrations {} needed to bring it up are not in this release; deploy the last release before the consolidation first (it brings the database to {}), then this one",
                        newest.clone().unwrap_or_default(),
                        m.folder,
                        missing.join(", "),
                        m.version
                    ));
                }
                status.pending.push(m.folder.clone());
            }
            None => {
                if newest.as_deref().is_some_and(|n| m.version.as_str() < n) {
                    status.out_of_order.push(m.folder.clone());
                }
                status.pending.push(m.folder.clone());
            }
            Some(row) => match &row.checksum {
                None => status.unrecorded.push(m.folder.clone()),
                Some(recorded) if *recorded != m.checksum() => {
                    let chain_checksum = set
                        .archive
                        .iter()
                        .any(|a| a.version == m.version && a.checksum() == *recorded);
                    if !m.replaces.is_empty() && chain_checksum {
                        status.restamp.push(m.folder.clone());
                    } else {
                        status.edited.push(Edited {
                            folder: m.folder.clone(),
                            path: m.up_path(),
                            recorded: recorded.clone(),
                            current: m.checksum(),
                        });
                    }
                }
                Some(_) => {}
            },
        }
    }
    let replaced: Vec<String> = set
        .migrations
        .iter()
        .flat_map(|m| m.replaces.iter().map(|f| version_of(f)))
        .collect();
    status.unknown = applied
        .iter()
        .filter(|a| {
            !set.migrations.iter().any(|m| m.version == a.version) && !replaced.contains(&a.version)
        })
        .map(|a| a.version.clone())
        .collect();
    status.applied = applied;
    status
}
