DROP TABLE audit_log;
DROP TABLE rights_requests;
DROP TABLE sessions;
DROP TABLE link_tokens;
DROP TABLE outbox;
