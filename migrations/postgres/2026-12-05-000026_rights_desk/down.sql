DROP INDEX rights_requests_desk;
ALTER TABLE rights_requests DROP COLUMN reminded_at;
ALTER TABLE rights_requests DROP COLUMN updated_at;
ALTER TABLE rights_requests DROP COLUMN reason;
ALTER TABLE rights_requests DROP COLUMN note;
ALTER TABLE rights_requests DROP COLUMN assignee;
ALTER TABLE rights_requests DROP COLUMN regime;
ALTER TABLE rights_requests DROP COLUMN self_service;
ALTER TABLE rights_requests DROP COLUMN state;
