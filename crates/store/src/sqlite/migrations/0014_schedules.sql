-- Schedules: a bulk export of a website repeated at a frequency. `next_from` is the cursor:
-- the first day of the next window; every day before it has been enqueued.
CREATE TABLE schedules (
    pk              INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id     TEXT NOT NULL UNIQUE,
    account_pk      INTEGER NOT NULL REFERENCES accounts(pk) ON DELETE CASCADE,
    website_id      TEXT NOT NULL,
    -- daily | weekly | monthly | a cron expression
    frequency       TEXT NOT NULL,
    data_types      TEXT NOT NULL,
    format          TEXT NOT NULL,
    destination_id  TEXT,
    -- {"pgp_public_key", "fingerprint"} as JSON
    encryption      TEXT,
    enabled         INTEGER NOT NULL,
    starts_on       TEXT NOT NULL,
    next_from       TEXT NOT NULL,
    -- Event-property columns of the series, in first-seen order (JSON array).
    event_columns   TEXT NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER
);
CREATE INDEX schedules_account ON schedules(account_pk, pk);

-- One row per run: the window, what started it, and the export asked for (or why none was).
-- `job_pk` is the queue job that asked; a retried job finds its run here and asks no more.
CREATE TABLE schedule_runs (
    pk              INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_pk     INTEGER NOT NULL REFERENCES schedules(pk) ON DELETE CASCADE,
    job_pk          INTEGER NOT NULL UNIQUE,
    window_from     TEXT NOT NULL,
    window_to       TEXT NOT NULL,
    trigger         TEXT NOT NULL,
    export_id       TEXT,
    error_code      TEXT,
    error_message   TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX schedule_runs_schedule ON schedule_runs(schedule_pk, pk);
