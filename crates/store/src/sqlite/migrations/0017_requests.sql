-- Data-subject requests. `due_on` is the due day as last computed (YYYY-MM-DD); the rule and
-- clock setting are the account's at receipt, kept so later setting changes move no date.
-- Verification secrets are kept only as keyed hashes (HMAC with the server's secret).
CREATE TABLE requests (
    pk                          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id                  TEXT NOT NULL UNIQUE,
    account_pk                  INTEGER NOT NULL REFERENCES accounts(pk) ON DELETE CASCADE,
    -- access | portability | erasure
    kind                        TEXT NOT NULL,
    subject_email               TEXT NOT NULL,
    user_id                     TEXT,
    visitor_id                  TEXT,
    received_at                 INTEGER NOT NULL,
    received_on                 TEXT NOT NULL,
    due_rule                    TEXT NOT NULL,
    clock_runs_while_unverified INTEGER NOT NULL,
    paused_days                 INTEGER NOT NULL DEFAULT 0,
    extension_months            INTEGER NOT NULL DEFAULT 0,
    due_on                      TEXT NOT NULL,
    status                      TEXT NOT NULL,
    assignee                    TEXT,
    notes                       TEXT,
    linked_to                   TEXT,
    external_ref                TEXT,
    code_hash                   TEXT,
    token_hash                  TEXT,
    verification_expires_at     INTEGER,
    verification_attempts       INTEGER NOT NULL DEFAULT 0,
    verification_locked         INTEGER NOT NULL DEFAULT 0,
    verification_method         TEXT,
    verified_at                 INTEGER,
    version                     INTEGER NOT NULL,
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL
);
CREATE INDEX requests_account ON requests(account_pk, status, pk);
CREATE INDEX requests_email ON requests(account_pk, subject_email);
CREATE UNIQUE INDEX requests_token ON requests(token_hash) WHERE token_hash IS NOT NULL;
CREATE UNIQUE INDEX requests_external_ref ON requests(account_pk, external_ref)
    WHERE external_ref IS NOT NULL;

-- Every step of a request, in order: who did what when. `details` is JSON and never holds a
-- code or token.
CREATE TABLE request_steps (
    pk          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_pk  INTEGER NOT NULL REFERENCES requests(pk) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    step        TEXT NOT NULL,
    details     TEXT NOT NULL
);
CREATE INDEX request_steps_request ON request_steps(request_pk, pk);

-- An account's request settings; no row means the defaults.
CREATE TABLE request_settings (
    account_pk                  INTEGER PRIMARY KEY REFERENCES accounts(pk) ON DELETE CASCADE,
    due_rule                    TEXT NOT NULL,
    -- JSON array of YYYY-MM-DD
    holidays                    TEXT NOT NULL,
    clock_runs_while_unverified INTEGER NOT NULL,
    escalate_days               INTEGER NOT NULL,
    privacy_contact             TEXT,
    updated_at                  INTEGER NOT NULL
);
