-- When each API key was last used (written at most daily per key) and when it stops working
-- (none: it works until revoked); for assent doctor and the console.
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
