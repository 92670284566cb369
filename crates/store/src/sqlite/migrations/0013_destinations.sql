-- Destinations an account delivers exports to. `settings` is the public half (type, bucket,
-- path…) as JSON; `sealed` the credentials, encrypted by Ferry before they reach the store.
CREATE TABLE destinations (
    destination_id  TEXT PRIMARY KEY,
    account_pk      INTEGER NOT NULL REFERENCES accounts(pk),
    name            TEXT,
    kind            TEXT NOT NULL,
    settings        TEXT NOT NULL,
    sealed          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX destinations_account ON destinations(account_pk, created_at);

-- One delivery per export that asked for one: a copy of its destination as it was when the
-- export was requested (changing or deleting the destination later does not redirect it).
CREATE TABLE deliveries (
    export_id       TEXT PRIMARY KEY,
    account_pk      INTEGER NOT NULL REFERENCES accounts(pk),
    destination_id  TEXT,
    kind            TEXT NOT NULL,
    settings        TEXT NOT NULL,
    sealed          TEXT NOT NULL,
    -- pending, delivered, failed
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    location        TEXT,
    delivered_at    INTEGER,
    updated_at      INTEGER NOT NULL
);

-- Where an account's alerts go: a URL Ferry POSTs to, signed with a secret of the account's.
CREATE TABLE alert_webhooks (
    account_pk  INTEGER PRIMARY KEY REFERENCES accounts(pk),
    url         TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
