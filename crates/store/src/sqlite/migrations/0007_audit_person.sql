-- Whom an export's subject resolved to (`user_id:…`, or `visitor_id:…` for an anonymous
-- visitor), so that the trail finds every export about one person whichever identifier each
-- request used. NULL for entries about no person and for every entry written before this.
ALTER TABLE audit_log ADD COLUMN person TEXT;
