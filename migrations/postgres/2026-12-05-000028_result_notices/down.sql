DROP TABLE result_notice_cursor;
