-- The public key an account's exports are encrypted to when neither the request nor its
-- destination names one. A public key, so kept in clear (a destination's key lives in its
-- public settings for the same reason).
CREATE TABLE account_encryption_keys (
    account_pk      INTEGER PRIMARY KEY REFERENCES accounts(pk),
    pgp_public_key  TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    set_by          TEXT NOT NULL,
    set_at          INTEGER NOT NULL
);
