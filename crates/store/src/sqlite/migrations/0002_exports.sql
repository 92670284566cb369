-- Export jobs: a queue in the database, claimed by workers; the row is the job's whole state.
CREATE TABLE export_jobs (
    pk             INTEGER PRIMARY KEY,
    export_id      TEXT NOT NULL UNIQUE,
    account_pk     INTEGER NOT NULL REFERENCES accounts(pk),
    spec           TEXT NOT NULL,
    -- e.g. `user_id:user_123`, for filtering.
    subject        TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    -- A retried job waits until then (backoff after a transient failure).
    run_after      INTEGER,
    rows_written   INTEGER NOT NULL DEFAULT 0,
    bytes_written  INTEGER NOT NULL DEFAULT 0,
    error_code     TEXT,
    error_message  TEXT,
    file           TEXT,
    artifact       TEXT,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    heartbeat_at   INTEGER,
    finished_at    INTEGER,
    expires_at     INTEGER,
    consumed_at    INTEGER
);
CREATE INDEX export_jobs_queue ON export_jobs(status, created_at);
CREATE INDEX export_jobs_account ON export_jobs(account_pk, pk);

CREATE TABLE downloads (
    pk          INTEGER PRIMARY KEY,
    export_pk   INTEGER NOT NULL REFERENCES export_jobs(pk),
    at          INTEGER NOT NULL,
    client      TEXT,
    bytes       INTEGER NOT NULL,
    complete    INTEGER NOT NULL
);
CREATE INDEX downloads_export ON downloads(export_pk, at);
