-- Bulk exports: several files per export (parts, one link each), rows to expect for progress.
ALTER TABLE export_jobs ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
UPDATE export_jobs SET files = '[' || file || ']' WHERE file IS NOT NULL;
ALTER TABLE export_jobs DROP COLUMN file;
-- The artifact is now the export's directory, whatever it holds.
UPDATE export_jobs SET artifact = export_id WHERE artifact IS NOT NULL;
ALTER TABLE export_jobs ADD COLUMN rows_total INTEGER;
CREATE INDEX export_jobs_created ON export_jobs(account_pk, created_at);
-- Which file a download fetched (NULL: the export's only file).
ALTER TABLE downloads ADD COLUMN file TEXT;

-- Plan limits, editable (`ferry plans set`); NULL means no limit.
CREATE TABLE plan_limits (
    plan              TEXT PRIMARY KEY,
    exports_per_day   INTEGER,
    max_export_bytes  INTEGER
);
INSERT INTO plan_limits VALUES
    ('pro', 50, 1000000000),
    ('scale', 200, 10000000000),
    ('enterprise', NULL, NULL);
-- Per-account overrides (`ferry accounts limits`): NULL follows the plan, -1 is no limit.
ALTER TABLE accounts ADD COLUMN exports_per_day INTEGER;
ALTER TABLE accounts ADD COLUMN max_export_bytes INTEGER;
