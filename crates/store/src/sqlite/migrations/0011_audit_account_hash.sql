-- Which hash an audit entry carries: 1 leaves out the account (every entry written before
-- this migration, kept as it was so that it still verifies), 2 covers the account's name.
-- Ferry writes every new entry with 2; the trail may not go back to 1 after a 2.
ALTER TABLE audit_log ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
