//! Serializing concurrent runs of one job, taken first thing inside its transaction.
//!
//! Without it two runs at once (the cron and a click) could both see "nothing recorded yet"
//! and both write: SQLite's deferred transactions and PostgreSQL's READ COMMITTED both
//! allow that interleaving.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use db_conn::DbConnection;

/// Which job holds the lock; each has its own, so DCA never waits for a valuation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Job {
    Dca,
    Valuation,
}

impl Job {
    /// Advisory-lock keys: arbitrary constants, spelled "pf" + job so they are recognizable
    /// in `pg_locks`.
    fn key(self) -> i64 {
        match self {
            Self::Dca => 0x7066_0000_0000_0001,
            Self::Valuation => 0x7066_0000_0000_0002,
        }
    }
}

/// Holds until the surrounding transaction ends. PostgreSQL: a transaction-scoped advisory
/// lock. SQLite: a write that changes nothing, which takes the database's write lock (waiting
/// through `busy_timeout`) before anything is read, so the run's reads are not stale.
pub(crate) fn take(conn: &mut DbConnection, job: Job) -> QueryResult<()> {
    match conn {
        DbConnection::Pg(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(job.key())
                .execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            diesel::sql_query("UPDATE system_config SET config_key = config_key WHERE 0 = 1")
                .execute(c)?;
        }
    }
    Ok(())
}
