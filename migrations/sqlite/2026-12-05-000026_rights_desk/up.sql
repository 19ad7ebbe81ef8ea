-- The rights desk: a request is worked through states (received, verified, in progress,
-- extended, completed, refused) by an assignee, under one deadline regime. Self-service
-- actions that were done at once stay apart (self_service) from requests that need work.
-- note and reason are what the requester and staff wrote: sealed under the person's data key.
ALTER TABLE rights_requests ADD COLUMN state TEXT NOT NULL DEFAULT 'completed'
    CHECK (state IN ('received', 'verified', 'in_progress', 'extended', 'completed', 'refused'));
ALTER TABLE rights_requests ADD COLUMN self_service BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE rights_requests ADD COLUMN regime TEXT NOT NULL DEFAULT 'gdpr'
    CHECK (regime IN ('gdpr', 'pipa', 'ccpa'));
ALTER TABLE rights_requests ADD COLUMN assignee TEXT;
ALTER TABLE rights_requests ADD COLUMN note BLOB;
ALTER TABLE rights_requests ADD COLUMN reason BLOB;
ALTER TABLE rights_requests ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE rights_requests ADD COLUMN reminded_at TIMESTAMP;
CREATE INDEX rights_requests_desk ON rights_requests(self_service, state, due_at);
