-- Signed identify: each website's secret for `user_hash` (HMAC-SHA256 of the user id), whether
-- it also takes unsigned identify calls, and who vouched for each link and profile.
-- A table of its own rather than columns of `websites`, which other changes rebuild.
CREATE TABLE website_identify (
    website_pk      INTEGER PRIMARY KEY,
    secret          TEXT NOT NULL,
    allow_unsigned  INTEGER NOT NULL DEFAULT 0,
    rotated_at      INTEGER NOT NULL
);
-- Websites made before this get a secret nobody has seen: rotating it shows a new one.
INSERT INTO website_identify (website_pk, secret, rotated_at)
    SELECT pk, 'fis_' || lower(hex(randomblob(32))), created_at FROM websites;

-- 'keyed_ingest' | 'signed_identify' | 'unsigned_identify'; NULL while the visitor is anonymous.
-- Links made before this are marked unsigned: nothing recorded who made them.
ALTER TABLE visitors ADD COLUMN link_trust TEXT;
UPDATE visitors SET link_trust = 'unsigned_identify' WHERE user_pk IS NOT NULL;

-- Who last set the user's email and name.
ALTER TABLE users ADD COLUMN profile_trust TEXT NOT NULL DEFAULT 'unsigned_identify';
