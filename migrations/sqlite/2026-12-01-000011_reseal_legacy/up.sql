-- Ciphertexts written before each was bound to what it is (its row id, its blind index: see
-- crypto::sealing) are re-sealed once, by the first server or `assent retention run` that starts
-- with the master key after this migration; this row says that has not happened yet.
CREATE TABLE reseal_pending (id BIGINT PRIMARY KEY NOT NULL);
INSERT INTO reseal_pending (id) VALUES (1);
