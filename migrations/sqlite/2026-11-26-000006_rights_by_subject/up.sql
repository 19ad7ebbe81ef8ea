-- A person's own rights requests (the preference center and the subject API list them).
CREATE INDEX rights_requests_subject ON rights_requests(subject_id, received_at);
