-- Export segments: a closed day of one website's page views or events, formatted ahead of time
-- (the files live in the data directory's segments/). A row is `building` from before its rows
-- are read until its file is complete; any change to a row of its day deletes it, so a segment
-- that is `ready` always holds exactly its day's rows. Inserts are checked by the ingest
-- transaction, once per batch (a trigger per row cost a third of ingest's speed); deletes and
-- updates, which are rare, by the triggers below.
CREATE TABLE export_segments (
    -- Never reused: a file name stays one segment's for good.
    pk            INTEGER PRIMARY KEY AUTOINCREMENT,
    website_pk    INTEGER NOT NULL REFERENCES websites(pk) ON DELETE CASCADE,
    data_type     TEXT NOT NULL,
    format        TEXT NOT NULL,
    layout        TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    window_end    INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'building',
    rows          INTEGER NOT NULL DEFAULT 0,
    raw_bytes     INTEGER NOT NULL DEFAULT 0,
    stored_bytes  INTEGER NOT NULL DEFAULT 0,
    -- The events CSV's property columns of this day (JSON array).
    event_keys    TEXT NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL
);
-- Looked up by end (windows are days, at most 25 hours): rows of today find nothing at once,
-- late ones only their own days.
CREATE INDEX export_segments_end ON export_segments(website_pk, data_type, window_end);
CREATE UNIQUE INDEX export_segments_day
    ON export_segments(website_pk, data_type, format, layout, window_start);

CREATE TRIGGER pageviews_segments_delete AFTER DELETE ON pageviews BEGIN
    DELETE FROM export_segments WHERE website_pk = OLD.website_pk AND data_type = 'pageviews'
        AND window_end > OLD.ts AND window_end <= OLD.ts + 90000000 AND window_start <= OLD.ts;
END;
CREATE TRIGGER pageviews_segments_update AFTER UPDATE ON pageviews BEGIN
    DELETE FROM export_segments WHERE website_pk IN (OLD.website_pk, NEW.website_pk)
        AND data_type = 'pageviews'
        AND ((window_end > OLD.ts AND window_start <= OLD.ts)
          OR (window_end > NEW.ts AND window_start <= NEW.ts));
END;
CREATE TRIGGER events_segments_delete AFTER DELETE ON events BEGIN
    DELETE FROM export_segments WHERE website_pk = OLD.website_pk AND data_type = 'events'
        AND window_end > OLD.ts AND window_end <= OLD.ts + 90000000 AND window_start <= OLD.ts;
END;
CREATE TRIGGER events_segments_update AFTER UPDATE ON events BEGIN
    DELETE FROM export_segments WHERE website_pk IN (OLD.website_pk, NEW.website_pk)
        AND data_type = 'events'
        AND ((window_end > OLD.ts AND window_start <= OLD.ts)
          OR (window_end > NEW.ts AND window_start <= NEW.ts));
END;
