-- UP
SET lock_timeout = '5s';

BEGIN;

-- The valid CHECK from 013 proves there is no NULL, so PostgreSQL 12+ skips the table scan
-- and holds its ACCESS EXCLUSIVE lock only for a moment.
ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_display_name_is_set;

COMMIT;

-- DOWN
SET lock_timeout = '5s';

ALTER TABLE users ALTER COLUMN display_name DROP NOT NULL;
-- migration-lint: ignore[constraint-missing-not-valid] restores 013's validated CHECK; the column is NOT NULL, so every row passes
ALTER TABLE users
    ADD CONSTRAINT users_display_name_is_set CHECK (display_name IS NOT NULL);
