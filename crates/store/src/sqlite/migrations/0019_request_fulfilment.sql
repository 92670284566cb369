-- Fulfilment of access and portability requests: how it was asked for and the exports made
-- (JSON, `Fulfilment` in the domain crate), and the account's approval and link settings.
ALTER TABLE requests ADD COLUMN fulfilment TEXT NOT NULL DEFAULT '{}';
ALTER TABLE request_settings ADD COLUMN require_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_settings ADD COLUMN delivery_link_days INTEGER NOT NULL DEFAULT 7;
