//! Where a database stands against a migration tree: what is applied, pending, out of order,
//! unknown or edited. Read-only.

use serde::Serialize;

use crate::history::{self, AppliedRow};
use crate::{version_of, MigrateError, Migration, MigrationSet};
use db_conn::DbConnection;

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

/// Whether pending migrations older than the newest applied one may run (diesel runs them
/// silently; a database that skipped one usually means two branches were merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutOfOrder {
    /// Refuse to apply while any are pending.
    #[default]
    Refuse,
    /// Apply them as well.
    Allow,
}

impl Status {
    /// Problems that make applying unsafe, as the error that explains them.
    pub fn refusal(&self, out_of_order: OutOfOrder) -> Option<MigrateError> {
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
        if !self.out_of_order.is_empty() && out_of_order == OutOfOrder::Refuse {
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
        self.pending.is_empty() && self.refusal(OutOfOrder::Refuse).is_none()
    }
}

pub fn status(conn: &mut DbConnection, set: &MigrationSet) -> Result<Status, MigrateError> {
    let applied = history::applied(conn)?;
    Ok(compare(applied, set))
}

/// Pure comparison of recorded rows with the tree.
pub fn compare(applied: Vec<AppliedRow>, set: &MigrationSet) -> Status {
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
            None if replaced.iter().any(|v| is_applied(&applied, v)) => {
                behind_baseline(&mut status, &applied, set, m, &replaced, newest.as_deref());
            }
            None => {
                if newest.as_deref().is_some_and(|n| m.version.as_str() < n) {
                    status.out_of_order.push(m.folder.clone());
                }
                status.pending.push(m.folder.clone());
            }
            Some(row) => compare_checksum(&mut status, set, m, row),
        }
    }
    status.unknown = unknown(&applied, set);
    status.applied = applied;
    status
}

fn is_applied(applied: &[AppliedRow], version: &str) -> bool {
    applied.iter().any(|a| a.version == version)
}

/// A baseline not applied on a database that has part of the chain it replaced: never run its
/// DDL there; run the rest of the chain from the archive instead (or say why that is impossible).
fn behind_baseline(
    status: &mut Status,
    applied: &[AppliedRow],
    set: &MigrationSet,
    m: &Migration,
    replaced: &[String],
    newest: Option<&str>,
) {
    let mut missing = Vec::new();
    for (folder, version) in m
        .replaces
        .iter()
        .zip(replaced)
        .filter(|(_, v)| !is_applied(applied, v))
    {
        match set.archive.iter().find(|a| &a.version == version) {
            Some(a) => status.via_archive.push(a.folder.clone()),
            None => missing.push(folder.clone()),
        }
    }
    if !missing.is_empty() {
        status.unreachable = Some(format!(
            "the database is at {}, part of the chain that {} replaced, and the archived migrations {} needed to bring it up are not in this release; deploy the last release before the consolidation first (it brings the database to {}), then this one",
            newest.unwrap_or_default(),
            m.folder,
            missing.join(", "),
            m.version
        ));
    }
    status.pending.push(m.folder.clone());
}

/// An applied migration: unrecorded, edited since, or a baseline recorded with its chain's
/// checksum (consistent, re-stamped on the next apply).
fn compare_checksum(status: &mut Status, set: &MigrationSet, m: &Migration, row: &AppliedRow) {
    match &row.checksum {
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
    }
}

/// Applied versions that are neither in the tree nor part of a chain a baseline replaced.
fn unknown(applied: &[AppliedRow], set: &MigrationSet) -> Vec<String> {
    let replaced: Vec<String> = set
        .migrations
        .iter()
        .flat_map(|m| m.replaces.iter().map(|f| version_of(f)))
        .collect();
    applied
        .iter()
        .filter(|a| {
            !set.migrations.iter().any(|m| m.version == a.version) && !replaced.contains(&a.version)
        })
        .map(|a| a.version.clone())
        .collect()
}
