-- A request made from the privacy page by a browser's visitor id alone (evidence
-- `visitor_id_possession`): no email on file (`subject_email` is ''), the visitor id in
-- `visitor_id`, and the website whose tracker holds it here. Its answer covers only that
-- visitor's own rows on that website.
ALTER TABLE requests ADD COLUMN subject_website_id TEXT;
