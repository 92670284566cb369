-- Where an account's alerts are mailed: one address per account. It is personal data (a
-- person's mailbox, as a rule): shown to the account's admins, used to send alerts, never
-- written to the audit trail or the log. Deleting it removes the row.
CREATE TABLE alert_emails (
    account_pk  INTEGER PRIMARY KEY REFERENCES accounts(pk),
    address     TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
