DROP TABLE workspace_applied;
DROP TABLE form_drafts;
DROP TABLE owner_sessions;
DROP TABLE owners;
