//! Applying and reverting. The statements are built once by [`Plan`] and either executed under
//! the lock or printed by `sql`, so what `sql` shows is exactly what runs.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::history;
use crate::lock;
use crate::status::{status, OutOfOrder, Status};
use crate::{MigrateError, Migration, MigrationSet};
use db_conn::Backend;
use db_conn::DbConnection;

/// How far to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Everything pending (apply) — not valid for downgrade.
    Head,
    /// Up to and including this version (apply), or down to and keeping it (downgrade).
    To(String),
    /// This many migrations.
    Steps(usize),
    /// Downgrade only: revert every applied migration.
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// One migration's statements, in execution order.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub folder: String,
    pub direction: Direction,
    pub statements: Vec<String>,
    /// Whether the step runs the migration's own SQL; false for bookkeeping only (stamping,
    /// adopting a database another tool migrated, forgetting a version).
    pub runs_migration: bool,
}

/// What an apply did, migration by migration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    /// Migrations whose SQL ran.
    pub ran: Vec<String>,
    /// Migrations already applied by another tool (or re-stamped): only their checksums were
    /// recorded, no SQL of theirs ran.
    pub recorded: Vec<String>,
}

/// Everything a run would execute, computed from a status.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub backend: Backend,
    pub prologue: Vec<String>,
    pub steps: Vec<Step>,
    pub epilogue: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as a SQL script, with the lock statements as they would be issued.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        let lock_note = match self.backend {
            Backend::Postgres => format!(
                "-- the migration lock (the tool polls pg_try_advisory_lock with a deadline)\n{};\n",
                lock::statements::pg_acquire_waiting()
            ),
            Backend::Sqlite => "-- the migration lock: the lock row and BEGIN IMMEDIATE below, held to the end\n".to_owned(),
        };
        out.push_str(&lock_note);
        for s in &self.prologue {
            out.push_str(&format!("{s};\n"));
        }
        for step in &self.steps {
            out.push_str(&format!(
                "\n-- {} ({})\n",
                step.folder,
                if step.direction == Direction::Up {
                    "apply"
                } else {
                    "revert"
                }
            ));
            for s in &step.statements {
                out.push_str(&terminated(s));
                out.push('\n');
            }
        }
        if !self.epilogue.is_empty() {
            out.push('\n');
        }
        for s in &self.epilogue {
            out.push_str(&format!("{s};\n"));
        }
        if self.backend == Backend::Postgres {
            out.push_str(&format!("{};\n", lock::statements::pg_release()));
        }
        out
    }
}

/// How far [`Migrator::stamp`] may go to make the history line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StampOptions {
    /// Drop the records of applied versions whose migration is gone.
    pub prune: bool,
    /// Stamp even when it leaves the history inconsistent: drop records above the version,
    /// re-record checksums of edited (or unrecorded) migrations, keep unknown records.
    pub force: bool,
}

/// Applies, reverts and stamps one tree on one database.
pub struct Migrator<'a> {
    pub set: &'a MigrationSet,
    pub owner: String,
    pub wait: Duration,
    pub out_of_order: OutOfOrder,
}

impl<'a> Migrator<'a> {
    pub fn new(set: &'a MigrationSet, tool: &str) -> Self {
        Self {
            set,
            owner: lock::owner_id(tool),
            wait: lock::DEFAULT_WAIT,
            out_of_order: OutOfOrder::Refuse,
        }
    }

    fn wrap(
        &self,
        backend: Backend,
        m: &Migration,
        body: &str,
        record: Vec<String>,
        direction: Direction,
    ) -> Step {
        let mut statements = Vec::new();
        let transactional = m.run_in_transaction;
        match (backend, transactional) {
            (Backend::Postgres, true) => statements.push("BEGIN".to_owned()),
            (Backend::Sqlite, _) => statements.push("SAVEPOINT pf_migration".to_owned()),
            (Backend::Postgres, false) => {}
        }
        statements.push(body.to_owned());
        statements.extend(record);
        match (backend, transactional) {
            (Backend::Postgres, true) => statements.push("COMMIT".to_owned()),
            (Backend::Sqlite, _) => statements.push("RELEASE pf_migration".to_owned()),
            (Backend::Postgres, false) => {}
        }
        Step {
            folder: m.folder.clone(),
            direction,
            statements,
            runs_migration: true,
        }
    }

    fn frame(&self, backend: Backend, steps: Vec<Step>) -> Plan {
        let (prologue, epilogue) = match backend {
            Backend::Postgres => (history::create_tables_sql(backend), Vec::new()),
            Backend::Sqlite => {
                let mut pro = history::create_tables_sql(backend);
                pro.extend(lock::statements::sqlite_acquire(&self.owner));
                (pro, lock::statements::sqlite_release().to_vec())
            }
        };
        Plan {
            backend,
            prologue,
            steps,
            epilogue,
        }
    }

    /// What `apply` to `target` would run from `status`.
    pub fn plan_apply(
        &self,
        backend: Backend,
        status: &Status,
        target: &Target,
    ) -> Result<Plan, MigrateError> {
        if let Some(refusal) = status.refusal(self.out_of_order) {
            return Err(refusal);
        }
        let mut steps: Vec<Step> = Vec::new();
        for m in self.pending_up_to(status, target)? {
            let catch_up: Vec<&Migration> = self
                .set
                .archive
                .iter()
                .filter(|a| {
                    status.via_archive.contains(&a.folder) && m.replaces.contains(&a.folder)
                })
                .collect();
            // A baseline behind which the database stands runs the rest of its replaced chain
            // instead; the chain's last migration records the baseline's version.
            let runs = if catch_up.is_empty() {
                vec![m]
            } else {
                catch_up
            };
            for r in runs {
                let record = history::record_sql(r, &self.owner);
                steps.push(self.wrap(backend, r, &r.up, record, Direction::Up));
            }
        }
        // Baselines applied as their chain, then versions applied by another tool: their
        // checksums are recorded now, none of their SQL runs.
        for folder in status.restamp.iter().chain(&status.unrecorded) {
            if let Some(m) = self.set.find(folder) {
                steps.push(Step {
                    folder: m.folder.clone(),
                    direction: Direction::Up,
                    statements: history::adopt_sql(m, &self.owner),
                    runs_migration: false,
                });
            }
        }
        Ok(self.frame(backend, steps))
    }

    /// The pending migrations, in order, that `apply` to `target` covers.
    fn pending_up_to(
        &self,
        status: &Status,
        target: &Target,
    ) -> Result<Vec<&'a Migration>, MigrateError> {
        let pending = self
            .set
            .migrations
            .iter()
            .filter(|m| status.pending.contains(&m.folder));
        Ok(match target {
            Target::Head => pending.collect(),
            Target::Steps(n) => pending.take(*n).collect(),
            Target::To(v) => {
                let to = self.set.resolve(v)?;
                pending.filter(|m| m.version <= to.version).collect()
            }
            Target::Zero => {
                return Err(MigrateError::Refused(
                    "apply needs --to V or --steps N, not zero".into(),
                ))
            }
        })
    }

    /// What `downgrade` to `target` would run from `status`.
    pub fn plan_downgrade(
        &self,
        backend: Backend,
        status: &Status,
        target: &Target,
    ) -> Result<Plan, MigrateError> {
        let applied: Vec<&str> = status
            .applied
            .iter()
            .rev()
            .map(|a| a.version.as_str())
            .collect();
        let chosen: Vec<&str> = match target {
            Target::Steps(n) => applied.into_iter().take(*n).collect(),
            Target::To(v) => {
                let keep = self.set.resolve(v)?.version.clone();
                applied.into_iter().filter(|a| *a > keep.as_str()).collect()
            }
            Target::Zero => applied,
            Target::Head => {
                return Err(MigrateError::Refused(
                    "downgrade needs --to V, --steps N or --all".into(),
                ))
            }
        };
        let mut steps = Vec::new();
        for version in chosen {
            let m = self
                .set
                .migrations
                .iter()
                .find(|m| m.version == version)
                .ok_or_else(|| MigrateError::Unknown {
                    versions: version.to_owned(),
                })?;
            if let Some(e) = status.edited.iter().find(|e| e.folder == m.folder) {
                return Err(MigrateError::Edited {
                    folder: e.folder.clone(),
                    path: e.path.clone(),
                    recorded: e.recorded.clone(),
                    current: e.current.clone(),
                });
            }
            let down = m.down.as_deref().ok_or_else(|| MigrateError::NoDown {
                folder: m.folder.clone(),
            })?;
            let mut forget = history::forget_sql(&m.version);
            // Reverting a baseline reverts the chain it stands for: drop those records too.
            for replaced in m
                .replaces
                .iter()
                .map(|f| crate::version_of(f))
                .filter(|v| *v != m.version)
            {
                if status.applied.iter().any(|a| a.version == replaced) {
                    forget.extend(history::forget_sql(&replaced));
                }
            }
            steps.push(self.wrap(backend, m, down, forget, Direction::Down));
        }
        Ok(self.frame(backend, steps))
    }

    /// Applies under the lock; the plan is computed only once the lock is held. Returns every
    /// migration it ran or recorded.
    pub fn apply(
        &self,
        conn: &mut DbConnection,
        target: &Target,
    ) -> Result<Vec<String>, MigrateError> {
        let applied = self.apply_detailed(conn, target)?;
        Ok(applied.ran.into_iter().chain(applied.recorded).collect())
    }

    /// [`Self::apply`], telling the migrations that ran from those only recorded.
    pub fn apply_detailed(
        &self,
        conn: &mut DbConnection,
        target: &Target,
    ) -> Result<Applied, MigrateError> {
        let done = self.locked_steps(conn, |this, conn, status| {
            this.plan_apply(conn.backend(), status, target)
        })?;
        let mut applied = Applied::default();
        for (folder, ran) in done {
            if ran {
                applied.ran.push(folder);
            } else {
                applied.recorded.push(folder);
            }
        }
        Ok(applied)
    }

    /// Records the checksums of migrations another tool (the plain diesel CLI) applied, running
    /// none of their SQL and nothing pending. Returns the folders recorded.
    pub fn adopt(&self, conn: &mut DbConnection) -> Result<Vec<String>, MigrateError> {
        let done = self.locked_steps(conn, |this, conn, status| {
            let steps = status
                .unrecorded
                .iter()
                .filter_map(|folder| this.set.find(folder))
                .map(|m| Step {
                    folder: m.folder.clone(),
                    direction: Direction::Up,
                    statements: history::adopt_sql(m, &this.owner),
                    runs_migration: false,
                })
                .collect();
            Ok(this.frame(conn.backend(), steps))
        })?;
        Ok(done.into_iter().map(|(folder, _)| folder).collect())
    }

    pub fn downgrade(
        &self,
        conn: &mut DbConnection,
        target: &Target,
    ) -> Result<Vec<String>, MigrateError> {
        self.locked(conn, |this, conn, status| {
            this.plan_downgrade(conn.backend(), status, target)
        })
    }

    /// Records versions up to `key` as applied without running them. Refuses (unless
    /// `options.force`) when rows above it exist; `options.prune` drops rows whose migration is
    /// gone; `options.force` also re-records checksums of edited migrations.
    pub fn stamp(
        &self,
        conn: &mut DbConnection,
        key: &str,
        options: StampOptions,
    ) -> Result<Vec<String>, MigrateError> {
        let StampOptions { prune, force } = options;
        let to = self.set.resolve(key)?.clone();
        self.locked(conn, |this, conn, status| {
            let mut steps = Vec::new();
            let above: Vec<&str> = status
                .applied
                .iter()
                .map(|a| a.version.as_str())
                .filter(|v| *v > to.version.as_str() && this.set.migrations.iter().any(|m| m.version == *v))
                .collect();
            if !above.is_empty() && !force {
                return Err(MigrateError::Refused(format!(
                    "stamping {} would leave later applied versions {} recorded above it: use `cargo xtask downgrade --to {}` to revert them, or --force to drop their records without running anything",
                    to.folder,
                    above.join(", "),
                    to.version
                )));
            }
            for v in above {
                steps.push(Step { folder: v.to_owned(), direction: Direction::Down, statements: history::forget_sql(v), runs_migration: false });
            }
            for m in this.set.migrations.iter().filter(|m| m.version <= to.version) {
                if status.pending.contains(&m.folder) {
                    steps.push(Step { folder: m.folder.clone(), direction: Direction::Up, statements: history::record_sql(m, &this.owner), runs_migration: false });
                } else if force && (status.edited.iter().any(|e| e.folder == m.folder) || status.unrecorded.contains(&m.folder)) {
                    steps.push(Step { folder: m.folder.clone(), direction: Direction::Up, statements: history::adopt_sql(m, &this.owner), runs_migration: false });
                }
            }
            if prune {
                for v in &status.unknown {
                    steps.push(Step { folder: v.clone(), direction: Direction::Down, statements: history::forget_sql(v), runs_migration: false });
                }
            } else if !status.unknown.is_empty() && !force {
                return Err(MigrateError::Unknown { versions: status.unknown.join(", ") });
            }
            Ok(this.frame(conn.backend(), steps))
        })
    }

    fn locked(
        &self,
        conn: &mut DbConnection,
        plan: impl FnOnce(&Self, &mut DbConnection, &Status) -> Result<Plan, MigrateError>,
    ) -> Result<Vec<String>, MigrateError> {
        let done = self.locked_steps(conn, plan)?;
        Ok(done.into_iter().map(|(folder, _)| folder).collect())
    }

    /// Runs the plan under the lock; each executed step with whether it ran migration SQL.
    fn locked_steps(
        &self,
        conn: &mut DbConnection,
        plan: impl FnOnce(&Self, &mut DbConnection, &Status) -> Result<Plan, MigrateError>,
    ) -> Result<Vec<(String, bool)>, MigrateError> {
        let backend = conn.backend();
        lock::with_lock(conn, &self.owner, self.wait, |conn| {
            if backend == Backend::Postgres {
                for ddl in history::create_tables_sql(backend) {
                    conn.batch_execute(&ddl)?;
                }
            }
            let status = status(conn, self.set)?;
            let plan = plan(self, conn, &status)?;
            execute(conn, &plan)
        })
    }
}

/// A statement (or a migration's whole SQL) ending in `;`, for the printed script. The `;` goes
/// on a line of its own unless the text plainly ends in one outside a comment: a trailing
/// `-- ...;` line or an open `/* */` would otherwise swallow it (an extra `;` is harmless).
fn terminated(sql: &str) -> String {
    let sql = sql.trim_end();
    let last = sql.lines().last().unwrap_or_default();
    let plain_end = !last.contains("--") && !sql.contains("/*");
    match (plain_end, sql.ends_with(';')) {
        (true, true) => sql.to_owned(),
        (true, false) => format!("{sql};"),
        (false, _) => format!("{sql}\n;"),
    }
}

/// The batches a step is sent as. A migration's SQL is sent exactly as its author wrote it, as
/// diesel does (one batch per file); the only thing before it is the transaction opener on its
/// own complete line, and the version bookkeeping follows in a batch of its own, so no text of
/// the file can ever merge with a statement of ours. Steps without a migration body (stamps,
/// adoption) are our own statements, sent one by one.
fn batches(step: &Step) -> (bool, Vec<String>) {
    let wrapped = step
        .statements
        .first()
        .is_some_and(|s| s == "BEGIN" || s.starts_with("SAVEPOINT"));
    if !wrapped || step.statements.len() < 3 {
        return (false, step.statements.clone());
    }
    let (open, body, ours) = (
        &step.statements[0],
        &step.statements[1],
        &step.statements[2..],
    );
    let tail: Vec<String> = ours.iter().map(|s| format!("{s};")).collect();
    (true, vec![format!("{open};\n{body}"), tail.join("\n")])
}

/// Runs the plan's steps (the lock and prologue are already in place). Each step is atomic.
fn execute(conn: &mut DbConnection, plan: &Plan) -> Result<Vec<(String, bool)>, MigrateError> {
    let mut done = Vec::new();
    for step in &plan.steps {
        // PostgreSQL runs a multi-statement batch as one transaction block, so a migration that
        // opted out of transactions has its statements sent one by one (diesel does the same).
        let (wrapped, batches) = batches(step);
        for sql in &batches {
            if let Err(e) = conn.batch_execute(sql) {
                if wrapped {
                    let undo = match plan.backend {
                        Backend::Postgres => "ROLLBACK",
                        Backend::Sqlite => "ROLLBACK TO pf_migration; RELEASE pf_migration",
                    };
                    let _ = conn.batch_execute(undo);
                }
                return Err(MigrateError::Failed {
                    folder: step.folder.clone(),
                    message: e.to_string(),
                });
            }
        }
        done.push((step.folder.clone(), step.runs_migration));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::terminated;

    #[test]
    fn a_trailing_comment_never_swallows_the_terminator() {
        assert_eq!(terminated("SELECT 1"), "SELECT 1;");
        assert_eq!(terminated("SELECT 1;\n"), "SELECT 1;");
        assert_eq!(
            terminated("CREATE TABLE t (id INT)\n-- done"),
            "CREATE TABLE t (id INT)\n-- done\n;"
        );
        assert_eq!(terminated("SELECT 1 -- why"), "SELECT 1 -- why\n;");
        assert_eq!(
            terminated("SELECT 1\n-- see the issue;"),
            "SELECT 1\n-- see the issue;\n;"
        );
    }

    #[test]
    fn a_migration_body_is_sent_unchanged_and_apart_from_the_bookkeeping() {
        let body = "CREATE TABLE t (id INT)\n-- trailing comment without a terminator;";
        let step = super::Step {
            folder: "2020-01-01-000000_t".into(),
            direction: super::Direction::Up,
            statements: vec![
                "BEGIN".into(),
                body.into(),
                "INSERT INTO v VALUES (1)".into(),
                "COMMIT".into(),
            ],
            runs_migration: true,
        };
        let (wrapped, batches) = super::batches(&step);
        assert!(wrapped);
        assert_eq!(
            batches,
            [
                format!("BEGIN;\n{body}"),
                "INSERT INTO v VALUES (1);\nCOMMIT;".into()
            ]
        );
    }
}
