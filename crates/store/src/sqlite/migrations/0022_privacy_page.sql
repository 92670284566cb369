-- Whether the account's self-service privacy page (`/privacy/{account}`) takes requests:
-- on unless the account turns it off.
ALTER TABLE request_settings ADD COLUMN privacy_page INTEGER NOT NULL DEFAULT 1;
