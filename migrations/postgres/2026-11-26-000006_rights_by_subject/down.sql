DROP INDEX rights_requests_subject;
