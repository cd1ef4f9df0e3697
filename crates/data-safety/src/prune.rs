//! `backup prune`: retention. A backup is kept when it is one of the newest `keep_last`, the
//! newest of one of the `keep_daily` most recent days that have backups, or the newest of one of
//! the `keep_weekly` most recent ISO weeks that have backups (the union of the three, as in
//! restic's `forget`). Folders whose manifest cannot be read are never deleted, only reported.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::{store, BackupError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub keep_last: usize,
    pub keep_daily: usize,
    pub keep_weekly: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    pub created_at: String,
    /// Why it is kept (`last`, `daily`, `weekly`); empty when it goes.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    pub kept: Vec<Decision>,
    pub removed: Vec<Decision>,
    /// Folders left alone because they are not readable backups.
    pub skipped: Vec<String>,
    pub dry_run: bool,
}

/// Decides, newest first, what the policy keeps. `backups` holds (id, creation time).
pub fn plan(backups: &[(String, DateTime<Utc>)], policy: Policy) -> Vec<Decision> {
    let mut sorted: Vec<&(String, DateTime<Utc>)> = backups.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let (mut days, mut weeks) = (BTreeSet::new(), BTreeSet::new());
    sorted
        .iter()
        .enumerate()
        .map(|(i, (id, at))| {
            let mut reasons = Vec::new();
            if i < policy.keep_last {
                reasons.push("last".to_owned());
            }
            let day = at.date_naive();
            if !days.contains(&day) && days.len() < policy.keep_daily {
                days.insert(day);
                reasons.push("daily".to_owned());
            }
            let week = (at.iso_week().year(), at.iso_week().week());
            if !weeks.contains(&week) && weeks.len() < policy.keep_weekly {
                weeks.insert(week);
                reasons.push("weekly".to_owned());
            }
            Decision {
                id: id.clone(),
                created_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                reasons,
            }
        })
        .collect()
}

/// Whether [`prune`] deletes what the policy does not keep, or only reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Delete,
    DryRun,
}

/// Applies `policy` to the backups in `root` (or only reports, with [`Mode::DryRun`]).
pub fn prune(root: &Path, policy: Policy, mode: Mode) -> Result<PruneReport, BackupError> {
    let dry_run = mode == Mode::DryRun;
    if policy == Policy::default() {
        return Err(BackupError::Refused(
            "this policy keeps no backup at all: give --keep-last N (N >= 1), --keep-daily D or --keep-weekly W".into(),
        ));
    }
    let mut backups = Vec::new();
    let mut skipped = Vec::new();
    for listed in store::list(root)? {
        let at = listed
            .manifest
            .as_ref()
            .and_then(|m| DateTime::parse_from_rfc3339(&m.created_at).ok());
        match at {
            Some(at) => backups.push((listed.id, at.with_timezone(&Utc))),
            None => skipped.push(listed.id),
        }
    }
    let decisions = plan(&backups, policy);
    let (kept, removed): (Vec<Decision>, Vec<Decision>) =
        decisions.into_iter().partition(|d| !d.reasons.is_empty());
    if !dry_run {
        for d in &removed {
            store::delete(&root.join(&d.id))?;
        }
    }
    Ok(PruneReport {
        kept,
        removed,
        skipped,
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn last_daily_weekly_union() {
        let backups: Vec<(String, DateTime<Utc>)> = [
            "2025-03-10T09:00:00Z", // Monday, week 11
            "2025-03-10T18:00:00Z",
            "2025-03-09T12:00:00Z", // Sunday, week 10
            "2025-03-08T12:00:00Z",
            "2025-03-01T12:00:00Z", // week 9
            "2025-02-20T12:00:00Z", // week 8
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("b{i}"), at(t)))
        .collect();
        let kept = |p: Policy| -> Vec<String> {
            let mut ids: Vec<String> = plan(&backups, p)
                .into_iter()
                .filter(|d| !d.reasons.is_empty())
                .map(|d| d.id)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(
            kept(Policy {
                keep_last: 2,
                ..Default::default()
            }),
            ["b0", "b1"]
        );
        // Newest of each of the 3 most recent days: 03-10 (18:00), 03-09, 03-08.
        assert_eq!(
            kept(Policy {
                keep_daily: 3,
                ..Default::default()
            }),
            ["b1", "b2", "b3"]
        );
        // Newest of each of the 3 most recent weeks: w11 (b1), w10 (b2), w9 (b4).
        assert_eq!(
            kept(Policy {
                keep_weekly: 3,
                ..Default::default()
            }),
            ["b1", "b2", "b4"]
        );
        assert_eq!(
            kept(Policy {
                keep_last: 1,
                keep_daily: 1,
                keep_weekly: 4
            }),
            ["b1", "b2", "b4", "b5"]
        );
    }
}
