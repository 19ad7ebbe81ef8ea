DROP INDEX pending_values_submission;
