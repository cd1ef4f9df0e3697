-- Statement imports and provider syncs (crates/imports). An imported operation keeps the
-- provider's natural key, so importing the same statement again finds its rows instead of adding
-- them twice; NULL for operations entered by hand (NULLs never collide in a unique index).
ALTER TABLE user_operations ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX uq_user_operations_platform_external_id ON user_operations (platform, external_id);

-- One row per import or sync run, successful or refused.
CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    source TEXT NOT NULL,
    file_sha256 TEXT,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status TEXT NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_import_runs_started_at ON import_runs (started_at);
