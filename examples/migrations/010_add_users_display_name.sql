-- UP
SET lock_timeout = '5s';

-- Nullable for now: 011 backfills it, 012 to 014 make it NOT NULL without a long lock.
ALTER TABLE users ADD COLUMN display_name text;

-- DOWN
SET lock_timeout = '5s';

ALTER TABLE users DROP COLUMN display_name;
