-- Page views per URL per local day of the website's time zone, and per aligned block of 4, 16
-- and 64 such days: what the dashboard Overview's top pages read (see `page_days.rs`).
-- `level` k holds blocks of 4^k days, `block` = local day number (days from 0001-01-01, as
-- chrono's `num_days_from_ce`) div 4^k. Views only, no visitor sketch, so a row is a few
-- bytes and the primary key covers the top-pages read. The migration's Rust step fills it
-- from the rows already stored.
CREATE TABLE rollup_page_days (
    website_pk  INTEGER NOT NULL,
    level       INTEGER NOT NULL,
    block       INTEGER NOT NULL,
    url_pk      INTEGER NOT NULL,
    views       INTEGER NOT NULL,
    PRIMARY KEY (website_pk, level, block, url_pk)
) WITHOUT ROWID;
