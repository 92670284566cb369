-- The generic job queue: every kind of background work (exports now; deliveries,
-- notifications, sweeps later) waits here. A claimed job carries a lease (a random token and
-- an expiry its worker's heartbeat extends); calls about the job must present the token.
CREATE TABLE jobs (
    pk                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT NOT NULL,
    -- 'bulk' jobs never take a worker's last free slot.
    lane              TEXT NOT NULL,
    -- The job as JSON (a serde enum tagged by kind).
    payload           TEXT NOT NULL,
    -- queued | running | done | failed | cancelled
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    -- Not claimed before this instant (back-off after a failure).
    run_after         INTEGER NOT NULL,
    -- At most one job with a given key (schedule windows).
    unique_key        TEXT UNIQUE,
    lease_token       TEXT,
    lease_expires_at  INTEGER,
    error_code        TEXT,
    error_message     TEXT,
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX jobs_ready ON jobs(status, lane, run_after, pk);
CREATE INDEX jobs_leases ON jobs(status, lease_expires_at);

-- An export's record points at the queue job that generates it; the job's state is mirrored
-- onto the record in the same transaction as every change.
ALTER TABLE export_jobs ADD COLUMN job_pk INTEGER REFERENCES jobs(pk);

-- Exports still waiting from before the queue existed are queued again.
INSERT INTO jobs (kind, lane, payload, status, attempts, max_attempts, run_after, created_at)
SELECT 'export',
       CASE WHEN json_extract(spec, '$.subject') IS NULL THEN 'bulk' ELSE 'default' END,
       json_object('kind', 'export', 'export_id', export_id),
       'queued', min(attempts, 2), 3, coalesce(run_after, 0), created_at
  FROM export_jobs WHERE status IN ('queued', 'running') ORDER BY pk;
UPDATE export_jobs SET status = 'queued',
       job_pk = (SELECT pk FROM jobs WHERE json_extract(payload, '$.export_id') = export_jobs.export_id)
 WHERE status IN ('queued', 'running');
