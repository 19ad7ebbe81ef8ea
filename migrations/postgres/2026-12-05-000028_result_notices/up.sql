-- 정보통신망법 art. 50(7): the result notice after a consent to advertising is given or withdrawn.
-- The ledger is the queue; this is how far the notices have looked. It starts at the ledger's head,
-- so the consents recorded before this version are not told again.
CREATE TABLE result_notice_cursor (
    id BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO result_notice_cursor (id, seq) SELECT 1, seq FROM ledger_head WHERE id = 1;
