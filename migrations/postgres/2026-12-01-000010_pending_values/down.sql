DROP TABLE pending_values;
