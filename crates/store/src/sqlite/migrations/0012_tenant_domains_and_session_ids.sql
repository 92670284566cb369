-- A website's domain is unique within its account only: one account can no longer squat
-- another's domain, nor learn that it exists from a conflict. SQLite cannot drop a column's
-- UNIQUE, so the table is rebuilt (its rows, pks and public ids unchanged; the runner turns
-- foreign keys off around migrations so the tables that refer to it are left alone).
CREATE TABLE websites_new (
    pk              INTEGER PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    account_pk      INTEGER NOT NULL REFERENCES accounts(pk),
    domain          TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    retention_days  INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (account_pk, domain)
);
INSERT INTO websites_new (pk, public_id, account_pk, domain, timezone, retention_days, created_at)
SELECT pk, public_id, account_pk, domain, timezone, retention_days, created_at FROM websites;
DROP TABLE websites;
ALTER TABLE websites_new RENAME TO websites;
-- The account's websites are found through the unique index; the tracker finds a domain here.
CREATE INDEX websites_domain ON websites(domain);

-- Secrets the install keeps in its database. `session_ids` keys the permutation that turns a
-- session's row number into the opaque id exports show (`ferry_domain::session::SessionIds`):
-- ids are computed when rows are read, so every session, old or new, shows its opaque id
-- from now on (ids in files exported before this change do not match them).
CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
INSERT INTO secrets (name, value) VALUES ('session_ids', randomblob(16));
-- Export segments hold formatted rows with the old ids: they are built again.
DELETE FROM export_segments;
