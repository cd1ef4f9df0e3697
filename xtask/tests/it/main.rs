//! `cargo xtask` as users run it: the built binary against fresh SQLite files and, with
//! TEST_DATABASE_URL, fresh PostgreSQL databases.

mod backup_cmds;
mod consolidate;
mod corpus;
mod corpus_consolidate;
mod migrate_cmds;
mod migrate_lock;
mod migrate_refusals;
mod single_tree;
mod squash_objects;
mod support;
