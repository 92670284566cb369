-- A one-time link's use, per file: claimed atomically by its first request; afterwards only a
-- resume (a Range request) within a byte budget may continue it, for a day at most.
CREATE TABLE one_time_claims (
    export_pk   INTEGER NOT NULL REFERENCES export_jobs(pk),
    file        TEXT NOT NULL,
    claimed_at  INTEGER NOT NULL,
    -- Bytes granted so far, over every request of the link.
    granted     INTEGER NOT NULL,
    PRIMARY KEY (export_pk, file)
);
