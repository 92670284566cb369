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
