-- What the console lists, exports and charts: submissions newest first and by day (keyset on
-- created_at, id), ledger events by time (grant and withdrawal counts), the audit log by actor.
CREATE INDEX submissions_created ON submissions(created_at, id);
CREATE INDEX submissions_form_version ON submissions(form_version_id);
CREATE INDEX consent_events_time ON consent_events(occurred_at);
CREATE INDEX audit_log_actor ON audit_log(actor_kind, occurred_at);
