DROP TABLE import_runs;
DROP INDEX uq_user_operations_platform_external_id;
ALTER TABLE user_operations DROP COLUMN external_id;
