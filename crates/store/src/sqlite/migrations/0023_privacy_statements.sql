-- What the controller tells a data subject beside their data (Art. 13-15): one row for the
-- account (website_pk NULL) and one per website that overrides any field. The statement is a
-- JSON object of the fields that are set; free text shown to people, never interpreted.
CREATE TABLE privacy_statements (
    account_pk  INTEGER NOT NULL REFERENCES accounts(pk),
    website_pk  INTEGER REFERENCES websites(pk),
    statement   TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE UNIQUE INDEX privacy_statements_scope
    ON privacy_statements (account_pk, coalesce(website_pk, 0));
