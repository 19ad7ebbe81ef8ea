CREATE TABLE tree_heads_v1 (
    size BIGINT PRIMARY KEY NOT NULL,
    root TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
INSERT INTO tree_heads_v1 SELECT size, root, signed_at, key_id, signature FROM tree_heads WHERE access_hash IS NULL;
DROP TABLE tree_heads;
ALTER TABLE tree_heads_v1 RENAME TO tree_heads;
DROP TABLE access_head;
DROP TABLE access_records;
