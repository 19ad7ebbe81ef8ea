-- What a consent receipt tells an auditor (ISO/IEC TS 27560, Kantara Consent Receipt): each
-- purpose's category, who it is disclosed to and whether it touches sensitive data; and the
-- workspace's controller (name, contact, jurisdiction, policy URL), one JSON document.
ALTER TABLE purposes ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE purposes ADD COLUMN third_parties TEXT NOT NULL DEFAULT '[]';
ALTER TABLE purposes ADD COLUMN sensitive BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE workspace_profile (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    document TEXT NOT NULL
);

CREATE TRIGGER workspace_profile_insert_advances_catalog AFTER INSERT ON workspace_profile
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER workspace_profile_update_advances_catalog AFTER UPDATE ON workspace_profile
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
