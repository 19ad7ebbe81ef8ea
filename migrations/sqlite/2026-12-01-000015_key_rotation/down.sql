DROP TABLE signing_keys;
DROP TABLE key_secrets;
