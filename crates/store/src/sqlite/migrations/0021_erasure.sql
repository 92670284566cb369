-- Erasure (GDPR Art. 17).
--
-- `erasures`: one row per erasure request, written in the transaction that deletes the
-- person's rows, so a run killed at any point resumes to the same counts. `identifiers` (the
-- person's email, user ids and visitor ids, JSON) is kept only until the erasure ends, for the
-- after-the-fact check; `counts` and `report` hold numbers and the report, never the data.
CREATE TABLE erasures (
    request_pk    INTEGER PRIMARY KEY REFERENCES requests(pk) ON DELETE CASCADE,
    phase         TEXT NOT NULL,
    identifiers   TEXT,
    exports       TEXT NOT NULL DEFAULT '[]',
    counts        TEXT NOT NULL DEFAULT '{}',
    report        TEXT,
    report_sha256 TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Keyed hashes (HMAC-SHA256 with the `erasure_suppression` secret below) of the identifiers
-- of erased people; ingest drops their lines while the account's `suppress_erased` is on.
CREATE TABLE erasure_suppressions (
    account_pk  INTEGER NOT NULL REFERENCES accounts(pk) ON DELETE CASCADE,
    hash        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_pk, hash)
) WITHOUT ROWID;
INSERT OR IGNORE INTO secrets (name, value) VALUES ('erasure_suppression', randomblob(32));
ALTER TABLE request_settings ADD COLUMN suppress_erased INTEGER NOT NULL DEFAULT 0;

-- Audit entries of hash version 3 hash the SHA-256 of `subject` and `person`, not the text;
-- an erasure replaces the text with that digest and sets `pseudonymised`, and the entry
-- still verifies.
ALTER TABLE audit_log ADD COLUMN pseudonymised INTEGER NOT NULL DEFAULT 0;

-- An export whose files an erasure deleted: downloads answer 410 `export_erased`.
ALTER TABLE export_jobs ADD COLUMN erased_at INTEGER;
