//! Taking the snapshot of a backup into its staging folder, with the applied migrations and
//! table digests of exactly what it holds. Plaintext: SQLite `VACUUM INTO`, `pg_dump -Fc
//! --file`. Encrypted: the bytes go through age on their way to the file and never exist in
//! plaintext on disk: SQLite serializes the database inside the read transaction that
//! computes the digests (memory: one copy of the database), `pg_dump` writes to a pipe.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diesel::connection::{Connection, SimpleConnection};

use crate::encryption::{self, Recipients};
use crate::hash_parallel::{self, Second};
use crate::manifest::{Encryption, TableDigest, PG_SNAPSHOT, SQLITE_SNAPSHOT};
use crate::{postgres_stream, snapshot_postgres, snapshot_sqlite, store, BackupError};
use db_conn::{self as db, DatabaseTarget, DbConnection};
use pf_data::migrations;

/// A snapshot file in the staging folder and what it holds.
pub(crate) struct Snapshot {
    pub file: PathBuf,
    pub applied_versions: Vec<String>,
    pub tables: BTreeMap<String, TableDigest>,
    pub engine: String,
    pub encryption: Option<Encryption>,
}

fn file_name(base: &str, sealed: Option<&Recipients>) -> String {
    match sealed {
        Some(_) => format!("{base}{}", encryption::SUFFIX),
        None => base.to_owned(),
    }
}

type Contents = (Vec<String>, BTreeMap<String, TableDigest>);

fn contents(c: &mut DbConnection, second: Option<&Second>) -> Result<Contents, BackupError> {
    Ok((
        migrations::status(c)?.applied,
        hash_parallel::digests(c, second)?,
    ))
}

pub(crate) fn of_sqlite(
    target: &DatabaseTarget,
    path: &Path,
    staging: &store::Staging,
    sealed: Option<&Recipients>,
) -> Result<Snapshot, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Refused(format!(
            "there is no database at {}: nothing to back up (check DATABASE_URL / DATABASE_PATH)",
            path.display()
        )));
    }
    let file = staging.file(&file_name(SQLITE_SNAPSHOT, sealed));
    let mut conn = db::establish(target)?;
    let DbConnection::Sqlite(live) = &mut conn else {
        unreachable!("a SQLite target opens a SQLite connection")
    };
    let engine = snapshot_sqlite::version(live);
    let (applied_versions, tables) = match sealed {
        None => {
            snapshot_sqlite::vacuum_into(live, &file)?;
            drop(conn);
            store::make_private_file(&file)?;
            // Counts and hashes come from the snapshot itself: exactly what the backup holds
            // (read by two connections at once: nobody else writes it).
            let open = || Ok(DbConnection::Sqlite(snapshot_sqlite::open_existing(&file)?));
            let second = Second::reopening(&open);
            let mut snap = open()?;
            snap.transaction::<_, BackupError, _>(|c| contents(c, Some(&second)))?
        }
        // One read transaction: the digests and the serialized pages are the same commit.
        Some(recipients) => conn.transaction::<_, BackupError, _>(|c| {
            let found = contents(c, None)?;
            let DbConnection::Sqlite(live) = c else {
                unreachable!()
            };
            let image = live.serialize_database_to_buffer();
            let bytes = image.try_as_slice().map_err(BackupError::query(
                "serializing the database (is there enough memory for one copy of it?)",
            ))?;
            encryption::write_file(&file, recipients, |out| {
                bytes
                    .chunks(1 << 16)
                    .try_for_each(|chunk| std::io::Write::write_all(out, chunk))
                    .map_err(BackupError::io("write", &file))
            })?;
            Ok(found)
        })?,
    };
    Ok(Snapshot {
        file,
        applied_versions,
        tables,
        engine,
        encryption: sealed.map(encryption::description),
    })
}

pub(crate) fn of_postgres(
    target: &DatabaseTarget,
    staging: &store::Staging,
    sealed: Option<&Recipients>,
) -> Result<Snapshot, BackupError> {
    let sh = xshell::Shell::new().map_err(|e| BackupError::Refused(e.to_string()))?;
    let mut conn = db::establish(target)?;
    let DbConnection::Pg(pg) = &mut conn else {
        unreachable!("a PostgreSQL target opens a PostgreSQL connection")
    };
    let (server_major, server_version) = snapshot_postgres::server_version(pg)?;
    let tool_version = snapshot_postgres::check_tool(&sh, "pg_dump", server_major)?;
    let file = staging.file(&file_name(PG_SNAPSHOT, sealed));
    // One REPEATABLE READ transaction exports its snapshot to pg_dump and computes the
    // hashes: the dump and the manifest describe the same commit point.
    let (applied_versions, tables) = conn.transaction::<_, BackupError, _>(|c| {
        c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        let DbConnection::Pg(pg) = c else {
            unreachable!()
        };
        let exported = snapshot_postgres::export_snapshot(pg)?;
        // pg_dump and the hashing read the same snapshot at the same time: the dump on its own
        // thread, the hashes here and on a second connection that imports the snapshot.
        let open = || Ok(db::establish(target)?);
        let second = Second {
            open: &open,
            prologue: Some(format!(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT {}",
                db_conn::sql::literal(&exported)
            )),
        };
        std::thread::scope(|s| {
            let dumping = s.spawn(|| match sealed {
                None => {
                    let sh = xshell::Shell::new().map_err(|e| BackupError::Refused(e.to_string()))?;
                    snapshot_postgres::dump(&sh, target, Some(&exported), &file)
                }
                Some(recipients) => encryption::write_file(&file, recipients, |out| {
                    postgres_stream::dump_to(target, Some(&exported), out)
                }),
            });
            let found = contents(c, Some(&second));
            let dumped = dumping.join().expect("the dump thread does not panic");
            dumped.and(found)
        })
    })?;
    store::make_private_file(&file)?;
    Ok(Snapshot {
        file,
        applied_versions,
        tables,
        engine: format!("pg_dump {tool_version} (server PostgreSQL {server_version})"),
        encryption: sealed.map(encryption::description),
    })
}
