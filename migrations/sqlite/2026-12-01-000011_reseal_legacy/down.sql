DROP TABLE reseal_pending;
