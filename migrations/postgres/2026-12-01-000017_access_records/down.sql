DELETE FROM tree_heads WHERE access_hash IS NOT NULL;
ALTER TABLE tree_heads DROP CONSTRAINT tree_heads_pkey;
ALTER TABLE tree_heads DROP COLUMN access_hash;
ALTER TABLE tree_heads DROP COLUMN access_size;
ALTER TABLE tree_heads ADD PRIMARY KEY (size);
DROP TABLE access_head;
DROP FUNCTION access_head_forward();
DROP TABLE access_records;
DROP FUNCTION access_records_append_only();
