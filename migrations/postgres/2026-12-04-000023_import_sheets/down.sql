DROP TABLE import_sheets;
