-- The audit trail. AUTOINCREMENT: a removed entry's number is never reused, and
-- sqlite_sequence remembers the highest one, so removing the newest entries shows too.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_pk  INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT,
    data_types  TEXT NOT NULL,
    status      TEXT NOT NULL,
    export_id   TEXT,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_account ON audit_log(account_pk, seq);

-- Receipts, one per completed export.
CREATE TABLE receipts (
    receipt_id    TEXT PRIMARY KEY,
    export_id     TEXT NOT NULL UNIQUE,
    body          TEXT NOT NULL,
    delivered_at  INTEGER
);
