-- The console's roles are now owner, privacy_officer, editor and analyst. A viewer read people's
-- data; an analyst does not: the narrower role is the safe one to keep (an owner can widen it).
UPDATE owners SET role = 'analyst' WHERE role = 'viewer';
