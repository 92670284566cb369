-- The dashboard's people: who may sign in to an account's dashboard, and their sessions.
-- An email signs in to one account only, so it is unique across accounts (in any case).
CREATE TABLE dashboard_users (
    pk             INTEGER PRIMARY KEY,
    user_id        TEXT NOT NULL UNIQUE,
    account_pk     INTEGER NOT NULL REFERENCES accounts(pk) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- An argon2id PHC string; never the password.
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at     INTEGER NOT NULL
);

-- A signed-in browser. Only the SHA-256 of the cookie's token is kept, so a copy of the
-- database signs nobody in.
CREATE TABLE dashboard_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_pk      INTEGER NOT NULL REFERENCES dashboard_users(pk) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_pk);
