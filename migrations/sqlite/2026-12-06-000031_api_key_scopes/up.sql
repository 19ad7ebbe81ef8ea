-- What each API key may do (space-separated scope names; see domain::scopes). Keys made before
-- scopes keep every scope, so no integration stops working on upgrade; new keys name theirs.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'consents:read subjects:read subjects:write subjects:erase submissions:write imports webhooks';
