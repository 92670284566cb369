-- Exports the operator runs at the command line do not use up the account's daily API
-- allowance (plan limits do not apply to them).
ALTER TABLE export_jobs ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
UPDATE export_jobs SET counted = 0 WHERE requested_by = 'cli';
