-- 정보통신망법 art. 50(3): advertising sent between 21:00 and 08:00 needs its own consent. A
-- purpose marked night_time was agreed to with night-time sending in its wording; for the others
-- the consent check says may_send_now = false at night in the workspace's time zone.
ALTER TABLE purposes ADD COLUMN night_time BOOLEAN NOT NULL DEFAULT FALSE;
-- CCPA regulations § 7025: a purpose that sells or shares personal data cannot be granted by a
-- request carrying the Global Privacy Control signal (Sec-GPC: 1); it is recorded as an opt-out.
ALTER TABLE purposes ADD COLUMN sale_or_share BOOLEAN NOT NULL DEFAULT FALSE;
