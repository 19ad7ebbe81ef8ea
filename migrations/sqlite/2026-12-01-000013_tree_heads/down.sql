DROP INDEX consent_events_by_source;
DROP TABLE tree_heads;
