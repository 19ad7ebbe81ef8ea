ALTER TABLE policy_versions DROP COLUMN notice_hash;
ALTER TABLE policy_versions DROP COLUMN terms;
