-- UP
SET lock_timeout = '5s';

-- NOT VALID: checked at once for new and updated rows, while existing rows wait for 013,
-- which scans them without blocking writes.
ALTER TABLE users
    ADD CONSTRAINT users_display_name_is_set CHECK (display_name IS NOT NULL) NOT VALID;

-- DOWN
SET lock_timeout = '5s';

ALTER TABLE users DROP CONSTRAINT users_display_name_is_set;
