-- Rollups: what the analytics summary and the pages list read instead of the raw rows
-- (see `rollups.rs`). `bucket` is a 15-minute slot of UTC time, ts div 900000 (floored), fine
-- enough to make up the local days of any time zone. The migration's Rust step fills both
-- tables from the rows already stored.
CREATE TABLE rollup_buckets (
    website_pk   INTEGER NOT NULL,
    bucket       INTEGER NOT NULL,
    -- Page views and events that happened in the bucket.
    pageviews    INTEGER NOT NULL DEFAULT 0,
    events       INTEGER NOT NULL DEFAULT 0,
    -- Sessions that started in the bucket: how many, how many bounced (one page view, no
    -- event), the sum of their durations (ms), and a HyperLogLog sketch of their visitors.
    sessions     INTEGER NOT NULL DEFAULT 0,
    bounces      INTEGER NOT NULL DEFAULT 0,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    visitors     BLOB,
    PRIMARY KEY (website_pk, bucket)
) WITHOUT ROWID;

-- Page views per URL per bucket, with a sketch of the visitors who viewed it.
CREATE TABLE rollup_pages (
    website_pk  INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    url_pk      INTEGER NOT NULL,
    views       INTEGER NOT NULL DEFAULT 0,
    visitors    BLOB,
    PRIMARY KEY (website_pk, bucket, url_pk)
) WITHOUT ROWID;
