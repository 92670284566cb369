-- Instants are INTEGER milliseconds since the Unix epoch, UTC.
-- The hot tables (sessions, pageviews, events) carry no foreign keys: the ingest code keeps them
-- consistent, and FK checks would cost a lookup per row.

CREATE TABLE accounts (
    pk          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    plan        TEXT NOT NULL,
    -- How long download links live when a request does not say; NULL: 7 days.
    link_expiry_secs  INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE websites (
    pk              INTEGER PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    account_pk      INTEGER NOT NULL REFERENCES accounts(pk),
    domain          TEXT NOT NULL UNIQUE,
    timezone        TEXT NOT NULL,
    retention_days  INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX websites_account ON websites(account_pk);

CREATE TABLE users (
    pk          INTEGER PRIMARY KEY,
    account_pk  INTEGER NOT NULL REFERENCES accounts(pk),
    user_id     TEXT NOT NULL,
    email       TEXT,
    name        TEXT,
    properties  TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (account_pk, user_id)
);
CREATE INDEX users_email ON users(account_pk, email COLLATE NOCASE);

CREATE TABLE visitors (
    pk          INTEGER PRIMARY KEY,
    website_pk  INTEGER NOT NULL REFERENCES websites(pk),
    visitor_id  TEXT NOT NULL,
    user_pk     INTEGER REFERENCES users(pk),
    -- As of the visitor's newest activity. First and last seen come from its sessions.
    device      TEXT,
    browser     TEXT,
    country     TEXT,
    UNIQUE (website_pk, visitor_id)
);
CREATE INDEX visitors_user ON visitors(user_pk) WHERE user_pk IS NOT NULL;

CREATE TABLE sessions (
    pk                INTEGER PRIMARY KEY,
    website_pk        INTEGER NOT NULL,
    visitor_pk        INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER NOT NULL,
    pages_viewed      INTEGER NOT NULL DEFAULT 0,
    events_triggered  INTEGER NOT NULL DEFAULT 0
);
-- One visitor's sessions (ingest, exports) and visitor lists in visitor order.
CREATE INDEX sessions_visitor ON sessions(website_pk, visitor_pk, started_at);
-- Covers every per-range aggregate so that totals never touch the table.
CREATE INDEX sessions_range ON sessions(
    website_pk, started_at, visitor_pk, ended_at, pages_viewed, events_triggered);

-- Each distinct URL of a website once: page views refer to it by number, which keeps the
-- covering index below small enough to aggregate a million page views in memory quickly.
CREATE TABLE urls (
    pk          INTEGER PRIMARY KEY,
    website_pk  INTEGER NOT NULL REFERENCES websites(pk),
    url         TEXT NOT NULL,
    UNIQUE (website_pk, url)
);

CREATE TABLE pageviews (
    pk          INTEGER PRIMARY KEY,
    website_pk  INTEGER NOT NULL,
    visitor_pk  INTEGER NOT NULL,
    session_pk  INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    url_pk      INTEGER NOT NULL,
    title       TEXT,
    referrer    TEXT,
    device      TEXT,
    browser     TEXT,
    country     TEXT
);
-- Covers the per-range counts and the pages list.
CREATE INDEX pageviews_range ON pageviews(website_pk, ts, url_pk, visitor_pk);
-- One person's rows are found through their sessions (sessions_visitor, then this). Keyed by
-- session rather than visitor because new rows mostly belong to recent sessions: inserts land
-- at the end of the index instead of all over it, which keeps ingest's page writes few.
CREATE INDEX pageviews_session ON pageviews(session_pk, ts);

CREATE TABLE events (
    pk          INTEGER PRIMARY KEY,
    website_pk  INTEGER NOT NULL,
    visitor_pk  INTEGER NOT NULL,
    session_pk  INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    name        TEXT NOT NULL,
    properties  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_range ON events(website_pk, ts);
CREATE INDEX events_session ON events(session_pk, ts);

CREATE TABLE api_keys (
    pk            INTEGER PRIMARY KEY,
    key_id        TEXT NOT NULL UNIQUE,
    account_pk    INTEGER NOT NULL REFERENCES accounts(pk),
    name          TEXT,
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_account ON api_keys(account_pk);
