//! The migration manager shared by the backend's startup and `cargo xtask`: reads a tree,
//! compares it with what a database recorded (checksums included), and applies or reverts
//! under a lock. diesel's own version table is kept, so the plain diesel CLI still works.

pub mod diesel_cli;
pub mod dump;
mod error;
pub mod history;
pub mod lock;
pub mod naming;
mod run;
pub mod scratch;
mod set;
mod status;
pub mod sumfile;
pub mod wipe;

pub use error::MigrateError;
pub use run::{Applied, Direction, Migrator, Plan, StampOptions, Step, Target};
pub use set::{version_of, EmbeddedFile, Migration, MigrationSet, ARCHIVE_DIR, REPLACES_FILE};
pub use status::{compare, status, Edited, OutOfOrder, Status};
